"""The DCAT-AP export: each serialisation is parsed back with rdflib and its triples
checked; the three serialisations hold the same graph; paging follows Hydra; only public
published datasets appear; the DCAT-AP check finds nothing missing."""

from urllib.parse import parse_qs, urlsplit

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from metropole.datahub.dcat.namespaces import (
    DCAT,
    DCTERMS,
    EU_FILE_TYPE,
    EU_FREQUENCY,
    EU_THEME,
    FOAF,
    HYDRA,
    IANA_MEDIA,
    RDF,
    VCARD,
)
from metropole.datahub.dcat.validate import check_graph

pytestmark = pytest.mark.django_db

SYNTAXES = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}
BASE = "http://testserver"


def fetch_graph(client, path, syntax, **extra) -> Graph:
    response = client.get(path, **extra)
    assert response.status_code == 200, response.content[:500]
    graph = Graph()
    graph.parse(data=response.content.decode(), format=syntax, publicID=BASE + path)
    return graph


def dataset_uri(dataset) -> URIRef:
    return URIRef(f"{BASE}/catalog/datasets/{dataset.uid}")


@pytest.mark.parametrize("ext", SYNTAXES)
def test_each_serialisation_parses_back_with_the_dcat_ap_triples(client, catalogue, ext):
    graph = fetch_graph(client, f"/catalog.{ext}", SYNTAXES[ext])
    trees = catalogue["trees"]
    node = dataset_uri(trees)

    catalog = URIRef(f"{BASE}/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    assert set(graph.objects(catalog, DCAT.dataset)) == {
        dataset_uri(d) for d in catalogue["published"]
    }
    # Stable identifier: the UUID itself, never a URL; the subject is built from it.
    assert list(graph.objects(node, DCTERMS.identifier)) == [Literal(str(trees.uid))]
    assert (node, DCTERMS.title, Literal("Arbres d'alignement", lang="fr")) in graph
    assert {str(k) for k in graph.objects(node, DCAT.keyword)} == {"arbres", "nature en ville"}
    assert set(graph.objects(node, DCAT.theme)) == {EU_THEME.ENVI, EU_THEME.REGI}
    assert (node, DCTERMS.accrualPeriodicity, EU_FREQUENCY.ANNUAL) in graph
    licence = URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")
    assert (node, DCTERMS.license, licence) in graph
    # Spatial coverage: the communes with their INSEE codes.
    codes = {
        str(graph.value(location, DCTERMS.identifier))
        for location in graph.objects(node, DCTERMS.spatial)
    }
    assert codes == {"59350", "59512"}
    period = graph.value(node, DCTERMS.temporal)
    assert str(graph.value(period, DCAT.startDate)) == "2019-01-01"
    assert str(graph.value(period, DCAT.endDate)) == "2023-12-31"
    contact = graph.value(node, DCAT.contactPoint)
    assert graph.value(contact, VCARD.hasEmail) == URIRef("mailto:espaces-verts@lille.example.org")
    publisher = graph.value(node, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert str(graph.value(publisher, DCTERMS.identifier)) == "200093201"
    standard = graph.value(node, DCTERMS.conformsTo)
    assert str(graph.value(standard, DCTERMS.title)) == "etalab/schema-arbres"

    # Distributions: CSV/JSON/GeoJSON/Parquet exports of the loaded table, and the PDF.
    resource = trees.resources.get(kind="upload")
    download_urls = {
        str(graph.value(d, DCAT.downloadURL)) for d in graph.objects(node, DCAT.distribution)
    }
    api = f"{BASE}/api/datahub/resources/{resource.uid}"
    assert {
        f"{api}/export.csv",
        f"{api}/export.geojson",
        "https://www.lille.fr/plan-arbres.pdf",
    } <= (download_urls)
    csv = URIRef(f"{node}/distributions/{resource.uid}/csv")
    assert (csv, DCAT.mediaType, URIRef(IANA_MEDIA + "text/csv")) in graph
    assert (csv, DCTERMS["format"], EU_FILE_TYPE.CSV) in graph
    service = graph.value(csv, DCAT.accessService)
    assert (service, RDF.type, DCAT.DataService) in graph
    assert node in set(graph.objects(service, DCAT.servesDataset))
    # Only public published datasets.
    for hidden in catalogue["hidden"]:
        assert (dataset_uri(hidden), None, None) not in graph
    assert check_graph(graph) == []


def test_the_three_serialisations_hold_the_same_graph(client, catalogue):
    graphs = [fetch_graph(client, f"/catalog.{ext}", syntax) for ext, syntax in SYNTAXES.items()]
    # Hydra links name the serialisation they page through: compare without them.
    for graph in graphs:
        graph.remove((None, HYDRA.view, None))
        for view in set(graph.subjects(RDF.type, HYDRA.PartialCollectionView)):
            graph.remove((view, None, None))
    assert len(graphs[0]) > 50
    assert isomorphic(graphs[0], graphs[1])
    assert isomorphic(graphs[0], graphs[2])


def test_paging_follows_hydra_to_the_last_page(client, catalogue):
    seen, path, pages = [], "/catalog.ttl?page_size=2", 0
    while path:
        pages += 1
        graph = fetch_graph(client, path, "turtle")
        seen += list(graph.objects(URIRef(f"{BASE}/catalog"), DCAT.dataset))
        view = graph.value(URIRef(f"{BASE}/catalog"), HYDRA.view)
        assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
        assert graph.value(view, HYDRA.totalItems).toPython() == 3
        following = graph.value(view, HYDRA.next)
        path = None
        if following is not None:
            parts = urlsplit(str(following))
            assert parse_qs(parts.query)["page_size"] == ["2"]
            path = f"{parts.path}?{parts.query}"
    assert pages == 2
    assert sorted(seen) == sorted(dataset_uri(d) for d in catalogue["published"])


def test_a_dataset_uri_can_be_dereferenced(client, catalogue):
    trees = catalogue["trees"]
    path = f"/catalog/datasets/{trees.uid}"
    graph = fetch_graph(client, path, "json-ld", HTTP_ACCEPT="application/ld+json")
    assert (dataset_uri(trees), RDF.type, DCAT.Dataset) in graph
    assert check_graph(graph) == []
    turtle = fetch_graph(client, path + ".ttl", "turtle")
    assert isomorphic(graph, turtle)
    # A person's browser is sent to the dataset's page.
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 302
    # Drafts and restricted datasets are not there.
    for hidden in catalogue["hidden"]:
        assert client.get(f"/catalog/datasets/{hidden.uid}.ttl").status_code == 404


def test_the_check_names_what_is_missing():
    graph = Graph()
    node = URIRef("https://example.org/dataset/1")
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal("https://example.org/dataset/1")))
    graph.add((node, DCAT.theme, URIRef("https://example.org/theme/trees")))
    problems = {(v.path, v.message.split()[0]) for v in check_graph(graph)}
    assert ("dct:title", "needs") in problems
    assert ("dct:description", "needs") in problems
    assert ("dct:publisher", "needs") in problems
    assert ("dct:identifier", "is") in problems
    assert ("dcat:theme", "https://example.org/theme/trees") in problems


def test_the_check_command(catalogue):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("dcat_check", stdout=out)
    assert "3 dataset(s) checked, 0 problem(s)." in out.getvalue()
    # Strict: the budget has no keywords, contact or coverage dates: said, and an error.
    from django.core.management.base import CommandError

    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("dcat_check", "--strict", stdout=out)
    assert "dcat:contactPoint: recommended property missing" in out.getvalue()


def test_cached_pages_follow_the_catalogue(client, catalogue, publisher):
    from metropole.datahub import services

    first = fetch_graph(client, "/catalog.ttl", "turtle")
    node = dataset_uri(catalogue["stops"])
    assert str(first.value(node, DCTERMS.title)) == "Arrêts de transport"
    services.update_dataset(publisher, catalogue["stops"], title="Arrêts du réseau")
    again = fetch_graph(client, "/catalog.ttl", "turtle")
    assert str(again.value(node, DCTERMS.title)) == "Arrêts du réseau"
    services.archive(publisher, catalogue["stops"])
    after = fetch_graph(client, "/catalog.ttl", "turtle")
    assert (node, RDF.type, DCAT.Dataset) not in after
