"""RDF vocabularies of DCAT-AP and the EU authority tables used by the export and the
DCAT harvester."""

from rdflib import Namespace
from rdflib.namespace import RDF, RDFS, XSD

# Open namespaces (rdflib's closed ones would refuse a term they do not list).
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
SCHEMA = Namespace("http://schema.org/")
LOCN = Namespace("http://www.w3.org/ns/locn#")

EU_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
EU_LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
EU_ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")
IANA_MEDIA = "http://www.iana.org/assignments/media-types/"
PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")

PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "foaf": FOAF,
    "vcard": VCARD,
    "hydra": HYDRA,
    "adms": ADMS,
    "skos": SKOS,
    "xsd": XSD,
    "rdfs": RDFS,
    "owl": OWL,
    "locn": LOCN,
}

#: The JSON-LD context embedded in every JSON-LD answer (never a remote context).
JSONLD_CONTEXT = {prefix: str(ns) for prefix, ns in PREFIXES.items()}

__all__ = [
    "ADMS",
    "DCAT",
    "DCTERMS",
    "EU_ACCESS_RIGHT",
    "EU_FILE_TYPE",
    "EU_FREQUENCY",
    "EU_LANGUAGE",
    "EU_THEME",
    "FOAF",
    "HYDRA",
    "IANA_MEDIA",
    "JSONLD_CONTEXT",
    "LOCN",
    "OWL",
    "PREFIXES",
    "PUBLISHER_TYPE",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SKOS",
    "VCARD",
    "XSD",
]
