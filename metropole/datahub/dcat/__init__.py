"""DCAT-AP export of the data hub's catalogue (rdflib): Turtle, RDF/XML and JSON-LD.

`export.build_catalog_graph` builds one page of the catalogue; `export.build_dataset_graph`
one dataset; `validate.check_graph` checks the DCAT-AP mandatory and recommended
properties the harvesters (data.gouv.fr, data.europa.eu) rely on. Subjects are stable
URIs built from the datasets' and resources' UUIDs; `dct:identifier` is the UUID itself.
"""
