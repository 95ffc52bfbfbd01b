"""DCAT(-AP) catalogues in Turtle, RDF/XML or JSON-LD, paged with Hydra.

Safety: RDF/XML is first parsed by defusedxml with DTDs forbidden (no entity expansion,
no external entity), then by rdflib; JSON-LD with a remote @context is refused (rdflib
would fetch it); nothing else is fetched than the pages themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import defusedxml.ElementTree
from defusedxml import DefusedXmlException
from rdflib import Graph, Literal, URIRef

from metropole.datahub.dcat.namespaces import (
    DCAT,
    DCTERMS,
    EU_FREQUENCY,
    EU_THEME,
    FOAF,
    HYDRA,
    OWL,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    VCARD,
)
from metropole.datahub.vocabularies import Frequency, Theme

from .. import licences
from .base import (
    FetchError,
    Harvester,
    PageResult,
    RemoteDataset,
    RemoteDistribution,
    fetch,
    max_pages,
    parse_date,
    short_format,
)

ACCEPT = "text/turtle, application/rdf+xml;q=0.9, application/ld+json;q=0.8, */*;q=0.1"
SCHEMA_HTTPS = "https://schema.org/"

CONTENT_TYPES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
}
EXTENSIONS = {
    ".ttl": "turtle",
    ".rdf": "xml",
    ".xml": "xml",
    ".jsonld": "json-ld",
    ".json": "json-ld",
}


def detect_syntax(body: bytes, content_type: str, url: str) -> str:
    media = content_type.split(";")[0].strip().lower()
    if media in CONTENT_TYPES:
        return CONTENT_TYPES[media]
    path = urlsplit(url).path.lower()
    for ext, syntax in EXTENSIONS.items():
        if path.endswith(ext):
            return syntax
    start = body.lstrip()[:1]
    if start == b"<":
        return "xml"
    if start in (b"{", b"["):
        return "json-ld"
    return "turtle"


def _remote_contexts(value) -> bool:
    """Whether a JSON-LD document names a @context by address (rdflib would fetch it)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                contexts = item if isinstance(item, list) else [item]
                if any(isinstance(c, str) for c in contexts):
                    return True
            if _remote_contexts(item):
                return True
    elif isinstance(value, list):
        return any(_remote_contexts(item) for item in value)
    return False


def parse_rdf(body: bytes, content_type: str, url: str) -> Graph:
    syntax = detect_syntax(body, content_type, url)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FetchError(f"{url} is not UTF-8: {error}.") from None
    if syntax == "xml":
        try:
            defusedxml.ElementTree.fromstring(
                body, forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        except DefusedXmlException as error:
            raise FetchError(f"{url}: refused XML ({error.__class__.__name__}).") from None
        except defusedxml.ElementTree.ParseError as error:
            raise FetchError(f"{url} is not well-formed XML: {error}.") from None
    if syntax == "json-ld":
        try:
            document = json.loads(text)
        except ValueError as error:
            raise FetchError(f"{url} is not valid JSON-LD: {error}.") from None
        if _remote_contexts(document):
            raise FetchError(
                f"{url} uses a remote JSON-LD @context; only embedded contexts are read."
            )
    graph = Graph()
    try:
        graph.parse(data=text, format=syntax, publicID=url)
    except Exception as error:  # rdflib raises many kinds of syntax errors
        raise FetchError(f"{url} could not be read as {syntax}: {error}.") from None
    return graph


def _literal(graph, subject, predicate) -> str:
    """The French value of a literal property, else one without language, else any."""
    values = [v for v in graph.objects(subject, predicate) if isinstance(v, Literal)]
    for wanted in ("fr", None):
        for value in values:
            if value.language == wanted and str(value).strip():
                return str(value).strip()
    return str(values[0]).strip() if values else ""


def _uri(graph, subject, predicate) -> str:
    for value in graph.objects(subject, predicate):
        if isinstance(value, URIRef) and str(value).startswith(("http://", "https://")):
            return str(value)
    return ""


def _address(graph, subject, predicate) -> str:
    """A web address given as a resource (DCAT-AP) or as a literal (GeoNetwork writes
    `<dcat:accessURL>https://…</dcat:accessURL>`)."""
    found = _uri(graph, subject, predicate)
    if found:
        return found
    for value in graph.objects(subject, predicate):
        text = str(value).strip()
        if isinstance(value, Literal) and _is_web(text) and not any(c.isspace() for c in text):
            return text
    return ""


def _first(graph, subject, *predicates):
    for predicate in predicates:
        for value in graph.objects(subject, predicate):
            return value
    return None


def next_page(graph: Graph, current: str) -> str | None:
    for predicate in (HYDRA.next, HYDRA.nextPage):
        for value in graph.objects(None, predicate):
            target = urljoin(current, str(value))
            if target != current:
                return target
    return None


def _distribution(graph, node) -> RemoteDistribution | None:
    url = _address(graph, node, DCAT.downloadURL) or _address(graph, node, DCAT.accessURL)
    if not url:
        return None
    fmt = ""
    for predicate in (DCTERMS["format"], DCAT.mediaType):
        value = _first(graph, node, predicate)
        if value is not None:
            label = str(value)
            if not isinstance(value, Literal):
                label = _literal(graph, value, RDFS.label) or label
            fmt = short_format(label)
            if fmt:
                break
    return RemoteDistribution(
        url=url,
        title=_literal(graph, node, DCTERMS.title),
        description=_literal(graph, node, DCTERMS.description),
        format=fmt,
        media_type=_uri(graph, node, DCAT.mediaType),
    )


# INSPIRE's access-condition codes, which GeoNetwork also writes as dct:license: they say
# whether access is limited, not under which licence the data may be reused.
INSPIRE_CODES = "http://inspire.ec.europa.eu/metadata-codelist/"


def _licence(graph, node) -> tuple[str, str]:
    """(address, title) of the dataset's licence. Portals write dct:license as an address
    (DCAT-AP), as a literal ("Licence ouverte / Open Licence": GeoNetwork) or as several
    values; the first one the hub recognises wins, else the first one written as a licence
    (so that the log names it), the dataset's before its distributions'."""
    candidates = []
    for subject in (node, *graph.objects(node, DCAT.distribution)):
        values = list(graph.objects(subject, DCTERMS.license))
        uris = sorted(str(v) for v in values if isinstance(v, URIRef) and _is_web(str(v)))
        texts = sorted(str(v).strip() for v in values if isinstance(v, Literal) and str(v).strip())
        candidates += [
            (u, _literal(graph, URIRef(u), RDFS.label)) for u in uris if INSPIRE_CODES not in u
        ]
        candidates += [("", text) for text in texts]
        candidates += [
            (u, _literal(graph, URIRef(u), RDFS.label)) for u in uris if INSPIRE_CODES in u
        ]
    for address, title in candidates:
        if licences.recognised(address, title):
            return address, title
    return candidates[0] if candidates else ("", "")


def _is_web(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _dataset(graph, node) -> RemoteDataset:
    identifier = _literal(graph, node, DCTERMS.identifier) or str(node)
    themes = []
    for theme in graph.objects(node, DCAT.theme):
        code = str(theme).removeprefix(str(EU_THEME))
        if str(theme).startswith(str(EU_THEME)) and code in Theme.values:
            themes.append(code)
    frequency = ""
    value = _first(graph, node, DCTERMS.accrualPeriodicity)
    if value is not None and str(value).startswith(str(EU_FREQUENCY)):
        code = str(value).removeprefix(str(EU_FREQUENCY))
        frequency = code if code in Frequency.values else ""
    distributions = [
        d for n in graph.objects(node, DCAT.distribution) if (d := _distribution(graph, n))
    ]
    licence, licence_title = _licence(graph, node)
    start = end = None
    period = _first(graph, node, DCTERMS.temporal)
    if period is not None:
        start = parse_date(_first(graph, period, DCAT.startDate, SCHEMA.startDate))
        end = parse_date(_first(graph, period, DCAT.endDate, SCHEMA.endDate))
    contact_name = contact_email = ""
    contact = _first(graph, node, DCAT.contactPoint)
    if contact is not None:
        contact_name = _literal(graph, contact, VCARD.fn)
        email = _first(graph, contact, VCARD.hasEmail)
        contact_email = str(email or "").removeprefix("mailto:")
    publisher = ""
    agent = _first(graph, node, DCTERMS.publisher)
    if agent is not None:
        publisher = _literal(graph, agent, FOAF.name)
    spatial = []
    for location in graph.objects(node, DCTERMS.spatial):
        code = _literal(graph, location, DCTERMS.identifier) or _literal(
            graph, location, SKOS.notation
        )
        if code:
            spatial.append(code)
    schema_name = schema_version = ""
    standard = _first(graph, node, DCTERMS.conformsTo)
    if standard is not None:
        schema_name = _literal(graph, standard, DCTERMS.title)
        schema_version = _literal(graph, standard, OWL.versionInfo)
    keywords = sorted({str(k).strip() for k in graph.objects(node, DCAT.keyword) if str(k).strip()})
    landing = _uri(graph, node, FOAF.page) or _uri(graph, node, DCAT.landingPage)
    return RemoteDataset(
        remote_id=identifier[:500],
        title=_literal(graph, node, DCTERMS.title),
        description=_literal(graph, node, DCTERMS.description),
        keywords=keywords,
        themes=sorted(set(themes)),
        licence=licence,
        licence_title=licence_title,
        frequency=frequency,
        temporal_start=start,
        temporal_end=end,
        contact_name=contact_name,
        contact_email=contact_email,
        landing_page=landing,
        publisher=publisher,
        spatial=sorted(set(spatial)),
        schema_name=schema_name,
        schema_version=schema_version,
        modified=_literal(graph, node, DCTERMS.modified),
        distributions=sorted(distributions, key=lambda d: d.url),
    )


def datasets_of(graph: Graph) -> tuple[list[RemoteDataset], list[tuple[str, str]]]:
    found, problems = [], []
    for node in sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str):
        try:
            remote = _dataset(graph, node)
        except Exception as error:  # one odd record must not stop the page
            problems.append((str(node), f"unreadable dataset: {error}"))
            continue
        if not remote.title:
            problems.append((remote.remote_id, "the dataset has no dct:title"))
            continue
        found.append(remote)
    return found, problems


class DcatHarvester(Harvester):
    def pages(self) -> Iterator[PageResult]:
        url, visited = self.url, set()
        while url and url not in visited:
            if len(visited) >= max_pages():
                raise FetchError(f"More than {max_pages()} pages: stopped at {url}.")
            visited.add(url)
            body, content_type = fetch(url, ACCEPT)
            graph = parse_rdf(body, content_type, url)
            datasets, problems = datasets_of(graph)
            yield PageResult(url=url, datasets=datasets, problems=problems)
            url = next_page(graph, url)
