"""A small SHACL-like check of the DCAT-AP properties harvesters require.

It is not the full DCAT-AP SHACL shapes (they are not shipped offline); it checks, on a
graph, what DCAT-AP 2/3 declares mandatory for catalogues, datasets, distributions,
data services and agents, the ranges of the controlled vocabularies we use, and our own
rule that identifiers are never URLs. `check_graph` returns the violations (empty when
the graph conforms), so tests and the `dcat_check` command can name what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef

from .namespaces import (
    DCAT,
    DCTERMS,
    EU_FREQUENCY,
    EU_THEME,
    FOAF,
    IANA_MEDIA,
    PREFIXES,
    RDF,
    VCARD,
)


def qname(term) -> str:
    """dct:title for http://purl.org/dc/terms/title (whatever the graph's prefixes)."""
    for prefix, namespace in PREFIXES.items():
        if str(term).startswith(str(namespace)):
            return f"{prefix}:{str(term)[len(str(namespace)) :]}"
    return str(term)


@dataclass(frozen=True)
class Violation:
    focus: str
    path: str
    message: str

    def __str__(self):
        return f"{self.focus} {self.path}: {self.message}"


# (class, property, min count, kind: "literal" | "iri" | "any")
SHAPES = [
    (DCAT.Catalog, DCTERMS.title, 1, "literal"),
    (DCAT.Catalog, DCTERMS.description, 1, "literal"),
    (DCAT.Catalog, DCTERMS.publisher, 1, "iri"),
    (DCAT.Dataset, DCTERMS.title, 1, "literal"),
    (DCAT.Dataset, DCTERMS.description, 1, "literal"),
    (DCAT.Dataset, DCTERMS.identifier, 1, "literal"),
    (DCAT.Dataset, DCTERMS.publisher, 1, "iri"),
    (DCAT.Distribution, DCAT.accessURL, 1, "iri"),
    (DCAT.DataService, DCTERMS.title, 1, "literal"),
    (DCAT.DataService, DCAT.endpointURL, 1, "iri"),
    (FOAF.Agent, FOAF.name, 1, "literal"),
]

# Recommended by DCAT-AP; reported only when `strict` is asked.
RECOMMENDED = [
    (DCAT.Dataset, DCAT.contactPoint),
    (DCAT.Dataset, DCAT.distribution),
    (DCAT.Dataset, DCAT.keyword),
    (DCAT.Dataset, DCAT.theme),
    (DCAT.Dataset, DCTERMS.spatial),
    (DCAT.Dataset, DCTERMS.temporal),
    (DCAT.Distribution, DCTERMS.license),
    (DCAT.Distribution, DCAT.mediaType),
]


def _kind_ok(value, kind: str) -> bool:
    if kind == "literal":
        return isinstance(value, Literal) and bool(str(value).strip())
    if kind == "iri":
        return isinstance(value, URIRef)
    return True


def check_graph(graph: Graph, *, strict: bool = False) -> list[Violation]:
    violations: list[Violation] = []
    for cls, prop, min_count, kind in SHAPES:
        for focus in set(graph.subjects(RDF.type, cls)):
            values = [v for v in graph.objects(focus, prop) if _kind_ok(v, kind)]
            if len(values) < min_count:
                violations.append(
                    Violation(str(focus), qname(prop), f"needs at least {min_count} {kind}")
                )
    for dataset in set(graph.subjects(RDF.type, DCAT.Dataset)):
        for identifier in graph.objects(dataset, DCTERMS.identifier):
            if str(identifier).startswith(("http://", "https://")):
                violations.append(
                    Violation(str(dataset), "dct:identifier", "is a URL, not a stable identifier")
                )
        for theme in graph.objects(dataset, DCAT.theme):
            if not str(theme).startswith(str(EU_THEME)):
                violations.append(Violation(str(dataset), "dcat:theme", f"{theme} is no EU theme"))
        for frequency in graph.objects(dataset, DCTERMS.accrualPeriodicity):
            if not str(frequency).startswith(str(EU_FREQUENCY)):
                violations.append(
                    Violation(
                        str(dataset), "dct:accrualPeriodicity", f"{frequency} is no EU frequency"
                    )
                )
        for contact in graph.objects(dataset, DCAT.contactPoint):
            if not list(graph.objects(contact, VCARD.fn)) and not list(
                graph.objects(contact, VCARD.hasEmail)
            ):
                violations.append(
                    Violation(str(dataset), "dcat:contactPoint", "has neither vcard:fn nor email")
                )
    for dist in set(graph.subjects(RDF.type, DCAT.Distribution)):
        for media in graph.objects(dist, DCAT.mediaType):
            if not str(media).startswith(IANA_MEDIA):
                violations.append(
                    Violation(str(dist), "dcat:mediaType", f"{media} is no IANA media type")
                )
    if strict:
        for cls, prop in RECOMMENDED:
            for focus in set(graph.subjects(RDF.type, cls)):
                if not list(graph.objects(focus, prop)):
                    violations.append(
                        Violation(str(focus), qname(prop), "recommended property missing")
                    )
    return violations
