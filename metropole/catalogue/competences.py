"""The default split of competences between a metropole and its communes, as data.

Sources: Code général des collectivités territoriales, art. L5217-2 (competences a
metropole exercises in place of its communes, loi MAPTAM 2014 / NOTRe 2015) and the
competences communes keep (civil status, schools, elections, local police, social
action). A metropole administrator adjusts the holder of each competence on the
"Competences" page; the table below is only the starting point.

`holder`: "metropole" (the metropole runs it on the whole territory), "ept" (Grand
Paris' territorial establishments where they exist, otherwise the metropole) or
"commune" (each commune runs it on its own territory).
"""

METROPOLE = "metropole"
EPT = "ept"
COMMUNE = "commune"

DEFAULT_COMPETENCES: list[dict] = [
    # Competences of the metropole (CGCT L5217-2).
    {
        "code": "voirie",
        "name": "Voirie et espace public",
        "holder": METROPOLE,
        "description": "Routes, trottoirs et pistes cyclables : entretien et signalisation.",
    },
    {
        "code": "dechets",
        "name": "Collecte et traitement des déchets",
        "holder": METROPOLE,
        "description": "Collecte des ordures ménagères et du tri, encombrants, déchèteries.",
    },
    {
        "code": "eau",
        "name": "Eau et assainissement",
        "holder": METROPOLE,
        "description": "Distribution de l'eau potable, assainissement, eaux pluviales.",
    },
    {
        "code": "transports",
        "name": "Transports publics et mobilité",
        "holder": METROPOLE,
        "description": "Réseau de bus, tramway et métro, stationnement, mobilité partagée.",
    },
    {
        "code": "urbanisme",
        "name": "Urbanisme et aménagement",
        "holder": METROPOLE,
        "description": "Plan local d'urbanisme intercommunal, aménagement.",
    },
    {
        "code": "habitat",
        "name": "Habitat et logement",
        "holder": METROPOLE,
        "description": "Programme local de l'habitat, aides à la rénovation.",
    },
    {
        "code": "economie",
        "name": "Développement économique",
        "holder": METROPOLE,
        "description": "Zones d'activité, aide aux entreprises, tourisme.",
    },
    {
        "code": "environnement",
        "name": "Environnement, air et énergie",
        "holder": METROPOLE,
        "description": "Qualité de l'air, transition énergétique, espaces naturels.",
    },
    {
        "code": "numerique",
        "name": "Services numériques métropolitains",
        "holder": METROPOLE,
        "description": "Applications et portails communs de la métropole et de ses communes.",
    },
    # Competences the communes keep.
    {
        "code": "etat-civil",
        "name": "État civil",
        "holder": COMMUNE,
        "description": "Actes de naissance, mariage, décès, pacs, livret de famille.",
    },
    {
        "code": "ecoles",
        "name": "Écoles et périscolaire",
        "holder": COMMUNE,
        "description": "Inscription scolaire, cantine, accueil périscolaire.",
    },
    {
        "code": "famille",
        "name": "Famille et petite enfance",
        "holder": COMMUNE,
        "description": "Crèches, centres de loisirs, portail famille.",
    },
    {
        "code": "elections",
        "name": "Élections et citoyenneté",
        "holder": COMMUNE,
        "description": "Inscription sur les listes électorales, recensement citoyen.",
    },
    {
        "code": "police-municipale",
        "name": "Police municipale et tranquillité",
        "holder": COMMUNE,
        "description": "Tranquillité publique, objets trouvés, stationnement gênant.",
    },
    {
        "code": "identite",
        "name": "Papiers d'identité",
        "holder": COMMUNE,
        "description": "Carte nationale d'identité et passeport (mairies équipées).",
    },
    {
        "code": "social",
        "name": "Action sociale (CCAS)",
        "holder": COMMUNE,
        "description": "Aides du centre communal d'action sociale, seniors.",
    },
    {
        "code": "eclairage",
        "name": "Éclairage public",
        "holder": COMMUNE,
        "description": "Entretien des lampadaires (compétence souvent restée communale).",
    },
    {
        "code": "cimetieres",
        "name": "Cimetières",
        "holder": COMMUNE,
        "description": "Concessions funéraires, entretien des cimetières.",
    },
    {
        "code": "sport-culture",
        "name": "Sport, culture et associations",
        "holder": COMMUNE,
        "description": "Équipements sportifs et culturels communaux, salles, vie associative.",
    },
]

DEFAULT_CATEGORIES: list[dict] = [
    {"slug": "papiers-citoyennete", "name": "Papiers et citoyenneté", "order": 10},
    {"slug": "famille-education", "name": "Famille, enfance et école", "order": 20},
    {"slug": "dechets-proprete", "name": "Déchets et propreté", "order": 30},
    {"slug": "voirie-deplacements", "name": "Voirie et déplacements", "order": 40},
    {"slug": "eau-environnement", "name": "Eau et environnement", "order": 50},
    {"slug": "logement-urbanisme", "name": "Logement et urbanisme", "order": 60},
    {"slug": "solidarite", "name": "Solidarité et santé", "order": 70},
    {"slug": "numerique", "name": "Services en ligne", "order": 80},
]
