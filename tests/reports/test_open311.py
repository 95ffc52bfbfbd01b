"""Open311 GeoReport v2 against a live server, read by the `georeport` client from PyPI
(it has no POST method: reports are posted form-encoded with `requests`, as the
specification describes), JSON and XML (parsed with defusedxml)."""

import io

import pytest
import requests
from defusedxml import ElementTree
from georeport import GeoReport
from PIL import Image

from metropole.core.models import ApiToken
from metropole.core.services import create_api_token
from metropole.reports.demo import install_categories
from metropole.reports.models import Channel, Report
from tests.catalogue.fixtures import PARIS_NOTRE_DAME, ROUBAIX, ROUBAIX_CENTRE
from tests.conftest import lille_in_this_database


@pytest.fixture
def endpoint(live_server, transactional_db):
    install_categories(lille_in_this_database())
    return f"{live_server.url}/open311/v2"


@pytest.fixture
def api_key(make_user):
    _, key = create_api_token(make_user("app@example.org"), "Open311 app")
    return key


def test_a_georeport_client_lists_services_and_reads_definitions(endpoint):
    for fmt in ("json", "xml"):
        client = GeoReport(endpoint, output_format=fmt)
        services = client.get_service_list()
        codes = [s["service_code"] for s in services]
        assert "nid-de-poule" in codes and "eclairage" in codes
        pothole = next(s for s in services if s["service_code"] == "nid-de-poule")
        assert pothole["service_name"] == "Nid-de-poule, chaussée abîmée"
        assert str(pothole["metadata"]).lower() == "false"
        definition = client.get_service_definition("eclairage")
        assert definition["service_code"] == "eclairage"


def test_post_a_request_then_read_it_with_the_client(endpoint, api_key):
    response = requests.post(
        f"{endpoint}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "eclairage",
            "lat": ROUBAIX_CENTRE[0],
            "long": ROUBAIX_CENTRE[1],
            "address_string": "Grand-Place, Roubaix",
            "description": "Trois lampadaires éteints",
            "email": "someone@example.org",
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    request_id = response.json()[0]["service_request_id"]
    report = Report.objects.get(pk=request_id)
    assert report.channel == Channel.OPEN311 and report.territory.code == ROUBAIX
    assert report.reporter.email == "app@example.org"
    assert ApiToken.objects.get().last_used_at is not None  # the core's token check ran
    for fmt in ("json", "xml"):
        client = GeoReport(endpoint, output_format=fmt)
        one = client.get_service_request(request_id)
        assert one["service_request_id"] == request_id and one["status"] == "open"
        assert one["agency_responsible"] == "Roubaix"
        assert float(one["lat"]) == pytest.approx(ROUBAIX_CENTRE[0])
        listed = client.get_service_requests(service_code="eclairage", status="open")
        listed = [listed] if isinstance(listed, dict) else listed  # xmltodict: one item
        assert [r["service_request_id"] for r in listed] == [request_id]
    xml = requests.post(
        f"{endpoint}/requests.xml",
        data={
            "api_key": api_key,
            "service_code": "nid-de-poule",
            "lat": ROUBAIX_CENTRE[0],
            "long": ROUBAIX_CENTRE[1],
            "description": "Trou",
        },
        timeout=10,
    )
    assert xml.status_code == 201
    root = ElementTree.fromstring(xml.content)
    assert root.tag == "service_requests" and root.find("request/service_request_id").text


def test_refusals_follow_the_specification(endpoint, api_key, settings):
    anonymous = requests.post(
        f"{endpoint}/requests.json",
        data={
            "service_code": "eclairage",
            "lat": ROUBAIX_CENTRE[0],
            "long": ROUBAIX_CENTRE[1],
            "description": "x",
        },
        timeout=10,
    )
    assert anonymous.status_code == 403
    assert anonymous.json()[0]["code"] == 403 and "api_key" in anonymous.json()[0]["description"]
    outside = requests.post(
        f"{endpoint}/requests.xml",
        data={
            "api_key": api_key,
            "service_code": "eclairage",
            "lat": PARIS_NOTRE_DAME[0],
            "long": PARIS_NOTRE_DAME[1],
            "description": "Paris",
        },
        timeout=10,
    )
    assert outside.status_code == 400
    error = ElementTree.fromstring(outside.content).find("error")
    assert error.find("code").text == "400" and "Lille" in error.find("description").text
    unknown = requests.get(f"{endpoint}/services/nothing.json", timeout=10)
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404
    bad_key = requests.post(
        f"{endpoint}/requests.json",
        data={
            "api_key": "mtp_wrong",
            "service_code": "eclairage",
            "lat": 50.69,
            "long": 3.18,
            "description": "x",
        },
        timeout=10,
    )
    assert bad_key.status_code == 403
    assert requests.get(f"{endpoint}/requests.csv", timeout=10).status_code == 404
    assert (
        requests.get(
            f"{endpoint}/requests.json", params={"start_date": "yesterday"}, timeout=10
        ).status_code
        == 400
    )
    assert not Report.objects.exists()
    settings.METROPOLE_OPEN311_ALLOW_ANONYMOUS = True
    allowed = requests.post(
        f"{endpoint}/requests.json",
        data={
            "service_code": "eclairage",
            "lat": ROUBAIX_CENTRE[0],
            "long": ROUBAIX_CENTRE[1],
            "description": "x",
            "email": "anon@example.org",
            "first_name": "Ana",
        },
        timeout=10,
    )
    assert allowed.status_code == 201
    made = Report.objects.get()
    assert made.reporter is None and made.reporter_email == "anon@example.org"
    # The reporter's contact is never published.
    assert "anon@example.org" not in requests.get(f"{endpoint}/requests.json", timeout=10).text


def test_a_posted_media_file_is_sanitised_and_published_as_media_url(
    endpoint, api_key, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    photo = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make: must not survive the sanitising
    Image.new("RGB", (3000, 1000), (200, 30, 30)).save(photo, "JPEG", exif=exif)
    response = requests.post(
        f"{endpoint}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "nid-de-poule",
            "lat": ROUBAIX_CENTRE[0],
            "long": ROUBAIX_CENTRE[1],
            "description": "Trou, photo jointe",
        },
        files={"media": ("trou.jpg", photo.getvalue(), "image/jpeg")},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    request_id = response.json()[0]["service_request_id"]
    media_url = GeoReport(endpoint).get_service_request(request_id)["media_url"]
    stored = Image.open(io.BytesIO(requests.get(media_url, timeout=10).content))
    assert stored.format == "JPEG" and max(stored.size) == 2048 and not stored.getexif()
    not_a_photo = requests.post(
        f"{endpoint}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "nid-de-poule",
            "lat": ROUBAIX_CENTRE[0],
            "long": ROUBAIX_CENTRE[1],
            "description": "x",
        },
        files={"media": ("trou.jpg", b"%PDF-1.4", "image/jpeg")},
        timeout=10,
    )
    assert not_a_photo.status_code == 400 and Report.objects.count() == 1


# --- civicbot: an Open311 client from PyPI that posts -------------------------------------
#
# `open311` 1.1 (2011) and `three` 0.8.0 (2013) do not import on Python 3 (implicit relative
# imports, itertools.ifilter); civicbot 0.4.0's Open311Client lists services, reads
# definitions, checks a request against the definition's attributes and posts it
# (form-encoded, attribute[code] and attribute[code][]), then reads it back.


@pytest.fixture
def civic_client(endpoint):
    from civicbot import Endpoint, HttpTransport, Open311Client
    from civicbot.http import RateLimiter

    our = Endpoint(id="metropole", name="Métropole", base_url=endpoint, write=True)
    transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0))  # no politeness delay
    return Open311Client(our, transport, jurisdiction_id="200093201")


def test_civicbot_lists_posts_with_attributes_and_reads_back(civic_client, api_key):
    from civicbot import ValidationError
    from civicbot.http import HttpError

    codes = {s["service_code"]: s for s in civic_client.list_services()}
    assert codes["eclairage"]["metadata"] is True and codes["nid-de-poule"]["metadata"] is False
    definition = civic_client.get_service_definition("depot-sauvage")
    question = definition["attributes"][0]
    assert question["code"] == "nature-dechets" and question["datatype"] == "multivaluelist"
    # The client checks the request against our definition before sending anything.
    with pytest.raises(ValidationError) as refused:
        civic_client.create_request(
            "depot-sauvage",
            dry_run=False,
            confirm="SEND",
            api_key=api_key,
            validate_remote=True,
            lat=ROUBAIX_CENTRE[0],
            lng=ROUBAIX_CENTRE[1],
            description="Dépôt",
            attributes={"nature-dechets": ["pneus"]},
        )
    assert "pneus" in str(refused.value)
    sent = civic_client.create_request(
        "depot-sauvage",
        dry_run=False,
        confirm="SEND",
        api_key=api_key,
        validate_remote=True,
        lat=ROUBAIX_CENTRE[0],
        lng=ROUBAIX_CENTRE[1],
        address_string="Rue de Lannoy",
        description="Gravats et sacs au pied du mur",
        attributes={"nature-dechets": ["gravats", "sacs"]},
        media_url="https://photos.example.org/depot.jpg",
        email="someone@example.org",
    )
    request_id = sent.response[0]["service_request_id"]
    report = Report.objects.get(pk=request_id)
    assert report.channel == Channel.OPEN311 and report.answers == {
        "nature-dechets": ["gravats", "sacs"]
    }
    back = civic_client.get_request(request_id)
    assert back["service_code"] == "depot-sauvage" and back["status"] == "open"
    assert back["media_url"] == "https://photos.example.org/depot.jpg"
    assert back["agency_responsible"] == "Métropole Européenne de Lille"
    listed = civic_client.list_requests(service_code="depot-sauvage", status="open")
    assert [r["service_request_id"] for r in listed] == [request_id]
    # Our own check when a client does not validate: a clear 400 naming the attribute.
    with pytest.raises(HttpError) as error:
        civic_client.create_request(
            "eclairage",
            dry_run=False,
            confirm="SEND",
            api_key=api_key,
            lat=ROUBAIX_CENTRE[0],
            lng=ROUBAIX_CENTRE[1],
            description="Lampadaires",
            attributes={"nombre-lampadaires": "beaucoup"},
        )
    assert error.value.status == 400 and "attribute[nombre-lampadaires]" in error.value.body
    assert Report.objects.count() == 1
