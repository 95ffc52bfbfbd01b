"""The catalogue as DCAT-AP RDF (rdflib).

URIs (all under the site's base URL, stable because built from UUIDs and official codes):

- the catalogue: ``<base>/catalog``; a page of it: ``<base>/catalog.<ext>?page=N``
- a dataset: ``<base>/catalog/datasets/<dataset uuid>`` (dct:identifier is the UUID)
- a distribution: ``<dataset uri>/distributions/<resource uuid>`` for a remote file,
  ``<dataset uri>/distributions/<resource uuid>/<format>`` for each export of a loaded table
- the query API: ``<base>/catalog/services/query-api`` (dcat:DataService)
- a publisher: ``<base>/catalog/publishers/<SIREN or organisation number>``
- a territory: ``<base>/catalog/territories/<INSEE or SIREN code>`` (dct:Location)

Only public, published datasets are exported (`exportable_datasets`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlencode

from django.apps import apps
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from rdflib import BNode, Graph, Literal, URIRef

from ..models import Access, Dataset, DatasetStatus, Resource, ResourceKind
from ..vocabularies import LICENCE_URLS, Licence
from .namespaces import (
    ADMS,
    DCAT,
    DCTERMS,
    EU_ACCESS_RIGHT,
    EU_FILE_TYPE,
    EU_FREQUENCY,
    EU_LANGUAGE,
    EU_THEME,
    FOAF,
    HYDRA,
    IANA_MEDIA,
    OWL,
    PREFIXES,
    PUBLISHER_TYPE,
    RDF,
    RDFS,
    SKOS,
    VCARD,
    XSD,
)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

#: Serialisations: extension -> (rdflib format, media type).
SERIALISATIONS = {
    "ttl": ("turtle", "text/turtle"),
    "rdf": ("xml", "application/rdf+xml"),
    "jsonld": ("json-ld", "application/ld+json"),
}

#: Export formats of a loaded table -> (EU file type, IANA media type).
TABLE_EXPORTS = {
    "csv": ("CSV", "text/csv"),
    "json": ("JSON", "application/json"),
    "geojson": ("GEOJSON", "application/geo+json"),
    "parquet": ("PARQUET", "application/vnd.apache.parquet"),
}

#: Source formats of remote files -> (EU file type, IANA media type).
SOURCE_FORMATS = {
    "csv": ("CSV", "text/csv"),
    "xlsx": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "ods": ("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "json": ("JSON", "application/json"),
    "geojson": ("GEOJSON", "application/geo+json"),
}


def exportable_datasets(metropole):
    """Public published datasets of `metropole` and its territories, in a stable order.

    Datasets harvested from another catalogue are left out: their own publisher exports
    them, and a portal that harvests both (data.gouv.fr) would otherwise list them twice
    (and two hubs harvesting each other would copy each other's copies forever)."""
    qs = (
        Dataset.objects.filter(status=DatasetStatus.PUBLISHED, access=Access.PUBLIC)
        .filter(Q(territory=metropole) | Q(territory__metropole=metropole))
        .select_related("territory", "organisation")
        .prefetch_related("themes", "spatial", "resources__current_version")
        .order_by("pk")
    )
    if apps.is_installed("metropole.harvest"):
        qs = qs.filter(harvested_record__isnull=True)
    return qs


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, math.ceil(self.total / self.size))


class UriBuilder:
    """Absolute URIs of the catalogue's things, from the site's base URL."""

    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")

    def absolute(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base + path

    def catalog(self) -> URIRef:
        return URIRef(f"{self.base}/catalog")

    def page(self, ext: str, number: int, size: int) -> URIRef:
        query = {"page": number}
        if size != DEFAULT_PAGE_SIZE:
            query["page_size"] = size
        return URIRef(f"{self.base}/catalog.{ext}?{urlencode(query)}")

    def dataset(self, dataset: Dataset) -> URIRef:
        return URIRef(f"{self.base}/catalog/datasets/{dataset.uid}")

    def distribution(self, dataset: Dataset, resource: Resource, fmt: str = "") -> URIRef:
        suffix = f"/{fmt}" if fmt else ""
        return URIRef(f"{self.dataset(dataset)}/distributions/{resource.uid}{suffix}")

    def query_service(self) -> URIRef:
        return URIRef(f"{self.base}/catalog/services/query-api")

    def publisher(self, dataset: Dataset) -> URIRef:
        if dataset.organisation_id:
            org = dataset.organisation
            key = org.siren or f"organisation-{org.pk}"
        else:
            key = dataset.territory.code
        return URIRef(f"{self.base}/catalog/publishers/{key}")

    def territory(self, territory) -> URIRef:
        return URIRef(f"{self.base}/catalog/territories/{territory.code}")

    def table_schema(self, dataset: Dataset) -> URIRef:
        return URIRef(f"{self.dataset(dataset)}/schema.json")


def new_graph() -> Graph:
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True)
    return graph


def _text(graph, subject, predicate, value, lang="fr"):
    value = (value or "").strip()
    if value:
        graph.add((subject, predicate, Literal(value, lang=lang)))


def _date(graph, subject, predicate, value):
    if value is None:
        return
    if hasattr(value, "hour"):
        graph.add((subject, predicate, Literal(value.isoformat(), datatype=XSD.dateTime)))
    else:
        graph.add((subject, predicate, Literal(value.isoformat(), datatype=XSD.date)))


def licence_uri(dataset: Dataset, allowed: dict[str, str]) -> URIRef | None:
    url = LICENCE_URLS.get(dataset.licence) or allowed.get(dataset.licence)
    return URIRef(url) if url else None


def _licence_title(dataset: Dataset) -> str:
    labels = {str(code): str(label) for code, label in Licence.choices}
    return labels.get(dataset.licence, dataset.licence)


def _add_territory(graph, uris, territory) -> URIRef:
    node = uris.territory(territory)
    graph.add((node, RDF.type, DCTERMS.Location))
    graph.add((node, DCTERMS.identifier, Literal(territory.code)))
    graph.add((node, SKOS.prefLabel, Literal(territory.name, lang="fr")))
    identifier = BNode(f"id-{territory.code}")
    graph.add((node, ADMS.identifier, identifier))
    graph.add((identifier, RDF.type, ADMS.Identifier))
    graph.add((identifier, SKOS.notation, Literal(territory.code)))
    agency = "INSEE" if territory.is_commune else "INSEE (SIREN)"
    graph.add((identifier, ADMS.schemeAgency, Literal(agency)))
    if territory.min_lon is not None and territory.max_lat is not None:
        wkt = (
            f"POLYGON(({territory.min_lon} {territory.min_lat}, {territory.max_lon} "
            f"{territory.min_lat}, {territory.max_lon} {territory.max_lat}, "
            f"{territory.min_lon} {territory.max_lat}, {territory.min_lon} {territory.min_lat}))"
        )
        graph.add(
            (
                node,
                DCAT.bbox,
                Literal(wkt, datatype=URIRef("http://www.opengis.net/ont/geosparql#wktLiteral")),
            )
        )
    return node


def _add_publisher(graph, uris, dataset) -> URIRef:
    node = uris.publisher(dataset)
    graph.add((node, RDF.type, FOAF.Agent))
    graph.add((node, RDF.type, FOAF.Organization))
    graph.add((node, FOAF.name, Literal(dataset.publisher_name, lang="fr")))
    if dataset.organisation_id:
        if dataset.organisation.siren:
            graph.add((node, DCTERMS.identifier, Literal(dataset.organisation.siren)))
        graph.add((node, DCTERMS.type, PUBLISHER_TYPE.NonProfitOrganisation))
    else:
        graph.add((node, DCTERMS.identifier, Literal(dataset.territory.code)))
        graph.add((node, DCTERMS.type, PUBLISHER_TYPE.LocalAuthority))
    return node


def _portal_url(uris, dataset) -> str:
    try:
        return uris.absolute(reverse("datahub:dataset", kwargs={"slug": dataset.slug}))
    except NoReverseMatch:
        return uris.absolute(reverse("api:datahub_dataset", kwargs={"key": dataset.uid}))


def _add_distributions(graph, uris, dataset, node, licence, service) -> None:
    for resource in dataset.resources.all():
        version = resource.current_version
        if version is not None and version.has_table:
            formats = ["csv", "json", "parquet"]
            if version.geolocated:
                formats.insert(2, "geojson")
            for fmt in formats:
                file_type, media = TABLE_EXPORTS[fmt]
                dist = uris.distribution(dataset, resource, fmt)
                graph.add((node, DCAT.distribution, dist))
                graph.add((dist, RDF.type, DCAT.Distribution))
                graph.add((dist, DCTERMS.identifier, Literal(f"{resource.uid}/{fmt}")))
                _text(graph, dist, DCTERMS.title, f"{resource.title} ({file_type})")
                _text(graph, dist, DCTERMS.description, resource.description)
                records = reverse("api:datahub_records", kwargs={"resource_id": resource.uid})
                graph.add((dist, DCAT.accessURL, URIRef(uris.absolute(records))))
                download = reverse(
                    "api:datahub_export", kwargs={"resource_id": resource.uid, "fmt": fmt}
                )
                graph.add((dist, DCAT.downloadURL, URIRef(uris.absolute(download))))
                graph.add((dist, DCAT.mediaType, URIRef(IANA_MEDIA + media)))
                graph.add((dist, DCTERMS["format"], EU_FILE_TYPE[file_type]))
                graph.add((dist, DCAT.accessService, service))
                _date(graph, dist, DCTERMS.modified, version.finished_at)
                if licence is not None:
                    graph.add((dist, DCTERMS.license, licence))
        elif resource.kind == ResourceKind.REMOTE and resource.remote_url:
            dist = uris.distribution(dataset, resource)
            graph.add((node, DCAT.distribution, dist))
            graph.add((dist, RDF.type, DCAT.Distribution))
            graph.add((dist, DCTERMS.identifier, Literal(str(resource.uid))))
            _text(graph, dist, DCTERMS.title, resource.title)
            _text(graph, dist, DCTERMS.description, resource.description)
            graph.add((dist, DCAT.accessURL, URIRef(resource.remote_url)))
            graph.add((dist, DCAT.downloadURL, URIRef(resource.remote_url)))
            if resource.format in SOURCE_FORMATS:
                file_type, media = SOURCE_FORMATS[resource.format]
                graph.add((dist, DCAT.mediaType, URIRef(IANA_MEDIA + media)))
                graph.add((dist, DCTERMS["format"], EU_FILE_TYPE[file_type]))
            if licence is not None:
                graph.add((dist, DCTERMS.license, licence))


def add_dataset(graph: Graph, uris: UriBuilder, dataset: Dataset, *, allowed=None) -> URIRef:
    """The triples of one dataset, its distributions, publisher, contact and coverage."""
    allowed = allowed or {}
    node = uris.dataset(dataset)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(str(dataset.uid))))
    _text(graph, node, DCTERMS.title, dataset.title)
    _text(graph, node, DCTERMS.description, dataset.description or dataset.title)
    for keyword in dataset.keywords or []:
        _text(graph, node, DCAT.keyword, str(keyword))
    for theme in dataset.themes.all():
        graph.add((node, DCAT.theme, EU_THEME[theme.theme]))
    graph.add((node, DCTERMS.accrualPeriodicity, EU_FREQUENCY[dataset.frequency]))
    graph.add((node, DCTERMS.language, EU_LANGUAGE.FRA))
    graph.add((node, DCTERMS.accessRights, EU_ACCESS_RIGHT.PUBLIC))
    _date(graph, node, DCTERMS.issued, dataset.published_at)
    modified = max(d for d in (dataset.updated_at, dataset.data_updated_at) if d is not None)
    _date(graph, node, DCTERMS.modified, modified)
    graph.add((node, DCAT.landingPage, URIRef(_portal_url(uris, dataset))))
    if dataset.landing_page:
        graph.add((node, FOAF.page, URIRef(dataset.landing_page)))
    licence = licence_uri(dataset, allowed)
    if licence is not None:
        graph.add((node, DCTERMS.license, licence))
        graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
        _text(graph, licence, RDFS.label, _licence_title(dataset))
    graph.add((node, DCTERMS.publisher, _add_publisher(graph, uris, dataset)))
    for territory in dataset.spatial.all():
        graph.add((node, DCTERMS.spatial, _add_territory(graph, uris, territory)))
    if dataset.temporal_start or dataset.temporal_end:
        period = BNode(f"period-{dataset.uid}")
        graph.add((node, DCTERMS.temporal, period))
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        _date(graph, period, DCAT.startDate, dataset.temporal_start)
        _date(graph, period, DCAT.endDate, dataset.temporal_end)
    if dataset.contact_name or dataset.contact_email:
        contact = BNode(f"contact-{dataset.uid}")
        graph.add((node, DCAT.contactPoint, contact))
        graph.add((contact, RDF.type, VCARD.Organization))
        _text(graph, contact, VCARD.fn, dataset.contact_name or dataset.publisher_name, lang=None)
        if dataset.contact_email:
            graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.contact_email}")))
    if dataset.provenance.strip():
        statement = BNode(f"provenance-{dataset.uid}")
        graph.add((node, DCTERMS.provenance, statement))
        graph.add((statement, RDF.type, DCTERMS.ProvenanceStatement))
        _text(graph, statement, RDFS.label, dataset.provenance)
    if dataset.schema_name:
        version = f"{dataset.schema_version}/" if dataset.schema_version else ""
        standard = URIRef(f"https://schema.data.gouv.fr/{dataset.schema_name}/{version}")
        graph.add((node, DCTERMS.conformsTo, standard))
        graph.add((standard, RDF.type, DCTERMS.Standard))
        graph.add((standard, DCTERMS.title, Literal(dataset.schema_name)))
        graph.add((standard, DCTERMS.type, Literal("Table Schema")))
        if dataset.schema_version:
            graph.add((standard, OWL.versionInfo, Literal(dataset.schema_version)))
    elif dataset.table_schema:
        standard = uris.table_schema(dataset)
        graph.add((node, DCTERMS.conformsTo, standard))
        graph.add((standard, RDF.type, DCTERMS.Standard))
        graph.add((standard, DCTERMS.type, Literal("Table Schema")))
    _add_distributions(graph, uris, dataset, node, licence, uris.query_service())
    return node


def _add_query_service(graph, uris, dataset_nodes) -> URIRef:
    service = uris.query_service()
    graph.add((service, RDF.type, DCAT.DataService))
    _text(graph, service, DCTERMS.title, "API de requête du hub de données")
    _text(
        graph,
        service,
        DCTERMS.description,
        "Filtres, recherche, agrégats et exports (CSV, JSON, GeoJSON, Parquet) de chaque "
        "ressource tabulaire chargée.",
    )
    graph.add((service, DCAT.endpointURL, URIRef(uris.absolute("/api/datahub/"))))
    graph.add(
        (service, DCAT.endpointDescription, URIRef(uris.absolute(reverse("api:openapi-json"))))
    )
    graph.add((service, DCTERMS.conformsTo, URIRef("https://spec.openapis.org/oas/v3.1.0")))
    for node in dataset_nodes:
        graph.add((service, DCAT.servesDataset, node))
    return service


def _has_table(dataset) -> bool:
    return any(
        r.current_version is not None and r.current_version.has_table
        for r in dataset.resources.all()
    )


def build_catalog_graph(
    metropole, base_url: str, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE, ext="ttl"
) -> tuple[Graph, Page]:
    """One page of the catalogue of `metropole` as a graph, with its Hydra view."""
    uris = UriBuilder(base_url)
    page_size = max(1, min(MAX_PAGE_SIZE, page_size))
    qs = exportable_datasets(metropole)
    info = Page(number=max(1, page), size=page_size, total=qs.count())
    start = (info.number - 1) * page_size
    datasets = list(qs[start : start + page_size])
    allowed = _allowed_licence_urls(metropole)

    graph = new_graph()
    catalog = uris.catalog()
    graph.add((catalog, RDF.type, DCAT.Catalog))
    _text(graph, catalog, DCTERMS.title, f"Données ouvertes — {metropole.display_name}")
    _text(
        graph,
        catalog,
        DCTERMS.description,
        f"Catalogue des jeux de données publiés par {metropole.display_name} et ses "
        "communes sur leur hub de données.",
    )
    graph.add((catalog, DCTERMS.language, EU_LANGUAGE.FRA))
    graph.add((catalog, FOAF.homepage, URIRef(uris.absolute("/"))))
    publisher = URIRef(f"{uris.base}/catalog/publishers/{metropole.code}")
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, FOAF.name, Literal(metropole.display_name, lang="fr")))
    graph.add((publisher, DCTERMS.identifier, Literal(metropole.code)))
    graph.add((catalog, DCTERMS.publisher, publisher))
    latest = max((d.updated_at for d in datasets), default=None)
    _date(graph, catalog, DCTERMS.modified, latest)

    nodes = []
    for dataset in datasets:
        node = add_dataset(graph, uris, dataset, allowed=allowed)
        graph.add((catalog, DCAT.dataset, node))
        nodes.append(node)
    service = _add_query_service(
        graph, uris, [n for n, d in zip(nodes, datasets, strict=True) if _has_table(d)]
    )
    graph.add((catalog, DCAT.service, service))
    _add_hydra(graph, uris, catalog, info, ext)
    return graph, info


def _allowed_licence_urls(metropole) -> dict[str, str]:
    from ..models import AllowedLicence

    return dict(AllowedLicence.objects.filter(metropole=metropole).values_list("code", "url"))


def _add_hydra(graph, uris, catalog, info: Page, ext: str) -> None:
    """Hydra paging as data.gouv.fr writes it (hydra:PartialCollectionView with
    first/last/next/previous), plus the older hydra:nextPage... literals that
    ckanext-dcat's harvester reads."""
    view = uris.page(ext, info.number, info.size)
    graph.add((catalog, HYDRA.view, view))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.totalItems, Literal(info.total)))
    graph.add((view, HYDRA.itemsPerPage, Literal(info.size)))
    links = {
        "first": 1,
        "last": info.last,
        "next": info.number + 1 if info.number < info.last else None,
        "previous": info.number - 1 if 1 < info.number <= info.last + 1 else None,
    }
    for name, number in links.items():
        if number is None:
            continue
        target = uris.page(ext, number, info.size)
        graph.add((view, HYDRA[name], target))
        graph.add((view, HYDRA[f"{name}Page"], Literal(str(target))))


def build_dataset_graph(dataset: Dataset, base_url: str) -> Graph:
    uris = UriBuilder(base_url)
    graph = new_graph()
    metropole = dataset.territory.root
    add_dataset(graph, uris, dataset, allowed=_allowed_licence_urls(metropole))
    graph.add((uris.catalog(), DCAT.dataset, uris.dataset(dataset)))
    if _has_table(dataset):
        _add_query_service(graph, uris, [uris.dataset(dataset)])
    return graph


def serialise(graph: Graph, ext: str) -> str:
    from .namespaces import JSONLD_CONTEXT

    fmt, _media = SERIALISATIONS[ext]
    if fmt == "json-ld":
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True)
    return graph.serialize(format=fmt)
