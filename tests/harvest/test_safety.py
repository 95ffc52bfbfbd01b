"""Hostile or broken catalogues: an XML entity bomb, an external entity, a remote
JSON-LD context, a document past the size limit, a server that never answers, a
redirect to a local file, a paging loop. Each run fails or stops with a clear message
and archives nothing."""

import time

import pytest

from metropole.core.exceptions import BadRequest
from metropole.harvest import services
from metropole.harvest.harvesters.base import FetchError, fetch
from metropole.harvest.harvesters.dcat import DcatHarvester, parse_rdf
from metropole.harvest.models import RunStatus

pytestmark = pytest.mark.django_db

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
<dcat:Dataset rdf:about="http://example.org/d"><dct:title>&lol3;</dct:title></dcat:Dataset>
</rdf:RDF>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
<dcat:Dataset rdf:about="http://example.org/d"><dct:title>&xxe;</dct:title></dcat:Dataset>
</rdf:RDF>"""
REMOTE_CONTEXT = b'{"@context": "https://schema.org/", "@type": "Dataset", "name": "x"}'


@pytest.mark.parametrize("document", [BOMB, EXTERNAL], ids=["entity-bomb", "external-entity"])
def test_xml_with_a_dtd_is_refused(document):
    with pytest.raises(FetchError, match="refused XML"):
        parse_rdf(document, "application/rdf+xml", "http://example.org/catalog.rdf")


def test_a_remote_json_ld_context_is_not_fetched():
    with pytest.raises(FetchError, match="remote JSON-LD @context"):
        parse_rdf(REMOTE_CONTEXT, "application/ld+json", "http://example.org/catalog.jsonld")


def test_a_document_past_the_size_limit_is_cut_short(settings, serve):
    settings.HARVEST_MAX_DOCUMENT_BYTES = 1000
    announced = serve(lambda path: (200, {"Content-Length": "5000"}, b"x" * 5000))
    with pytest.raises(FetchError, match="announces 5000 bytes"):
        fetch(announced, "text/turtle")
    # Without a length announced (chunked), the read stops at the limit too.
    unannounced = serve(lambda path: (200, {"Connection": "close"}, b"x" * 5000))
    with pytest.raises(FetchError, match="more than the limit of 1000 bytes"):
        fetch(unannounced, "text/turtle")


def test_a_server_that_does_not_answer_times_out(settings, serve):
    settings.HARVEST_TIMEOUT = 0.3

    def slow(path):
        time.sleep(1.5)
        return 200, {}, b""

    url = serve(slow)
    started = time.monotonic()
    with pytest.raises(FetchError):
        fetch(url, "text/turtle")
    assert time.monotonic() - started < 1.4


def test_only_http_addresses_are_fetched_even_after_a_redirect(serve):
    with pytest.raises(FetchError, match="Only http"):
        fetch("file:///etc/passwd", "text/turtle")
    url = serve(lambda path: (302, {"Location": "file:///etc/passwd"}, b""))
    with pytest.raises(FetchError, match="(Only http|not allowed).*|.*file:///etc/passwd"):
        fetch(url, "text/turtle")


def test_a_paging_loop_stops(settings, serve):
    settings.HARVEST_MAX_PAGES = 3
    counter = {"n": 0}

    def pages(path):
        counter["n"] += 1
        page = (
            f"@prefix hydra: <http://www.w3.org/ns/hydra/core#> .\n"
            f"<?page={counter['n']}> hydra:next <?page={counter['n'] + 1}> .\n"
        ).encode()
        return 200, {"Content-Type": "text/turtle"}, page

    url = serve(pages)
    with pytest.raises(FetchError, match="More than 3 pages"):
        list(DcatHarvester(url + "/catalog.ttl?page=1").pages())


def test_a_hostile_catalogue_fails_the_run_with_its_reason(serve, harvester_admin, grand_paris):
    url = serve(lambda path: (200, {"Content-Type": "application/rdf+xml"}, BOMB))
    source = services.create_source(
        harvester_admin, grand_paris, name="Hostile", kind="dcat", url=url + "/catalog.rdf"
    )
    run = services.run_source(source)
    assert run.status == RunStatus.FAILED
    assert "refused XML" in run.error
    assert (run.created, run.archived) == (0, 0)


def test_a_source_must_be_an_http_address(harvester_admin, grand_paris):
    with pytest.raises(BadRequest) as error:
        services.create_source(
            harvester_admin, grand_paris, name="Local", kind="dcat", url="file:///etc/passwd"
        )
    assert error.value.field == "url"
