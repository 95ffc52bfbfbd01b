"""Pages of the data hub: `portal` (the public open-data portal) and `publisher` (the
back-office of a territory's publishers). `explore` turns the portal's plain HTML forms into
queries of the query engine (metropole.datahub.querying)."""
