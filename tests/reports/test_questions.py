"""Categories' extra questions (Open311 attributes): declared in the back-office, checked
on every channel (services, Open311 POST, the web form), shown to agents; and the
position of a report made without a map, approximate until an agent places it."""

import json

import pytest
from defusedxml import ElementTree

from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import Role
from metropole.core.services import create_api_token
from metropole.reports import services
from metropole.reports.models import Report, ReportAttribute
from tests.catalogue.fixtures import GRAND_PLACE_LILLE, ROUBAIX, ROUBAIX_CENTRE
from tests.conftest import row_locks


@pytest.fixture
def lighting(report_categories, metropole_admin):
    """The demo's "eclairage" category with two more questions, one required."""
    category = report_categories("eclairage")
    services.save_attribute(
        metropole_admin,
        category,
        label="Le lampadaire clignote-t-il ?",
        datatype="singlevaluelist",
        choices="oui: Oui\nnon: Non",
        required=True,
    )
    services.save_attribute(
        metropole_admin,
        category,
        label="Où sur la place ?",
        datatype="string",
        help_text="Côté, numéro du mât",
    )
    return category


def test_answers_are_typed_and_every_fault_names_its_question(lighting, report_categories):
    answers = services.clean_answers(
        lighting,
        {"nombre-lampadaires": "3", "le-lampadaire-clignote-t-il": "oui", "ou-sur-la-place": ""},
    )
    assert answers == {"nombre-lampadaires": 3, "le-lampadaire-clignote-t-il": "oui"}
    assert services.clean_answers(
        lighting, {"nombre-lampadaires": "2,5", "le-lampadaire-clignote-t-il": "non"}
    ) == {"nombre-lampadaires": 2.5, "le-lampadaire-clignote-t-il": "non"}
    with pytest.raises(BadRequest) as error:
        services.clean_answers(
            lighting, {"nombre-lampadaires": "trois", "couleur": "jaune", "ou-sur-la-place": "x"}
        )
    faults = {e["field"]: e["message"] for e in error.value.errors}
    assert set(faults) == {
        "attribute[nombre-lampadaires]",
        "attribute[couleur]",
        "attribute[le-lampadaire-clignote-t-il]",
    }
    assert "trois" in faults["attribute[nombre-lampadaires]"]
    assert "Le lampadaire clignote-t-il ?" in faults["attribute[le-lampadaire-clignote-t-il]"]
    with pytest.raises(BadRequest) as error:
        services.clean_answers(lighting, {"le-lampadaire-clignote-t-il": ["oui", "non"]})
    assert error.value.field == "attribute[le-lampadaire-clignote-t-il]"
    waste = report_categories("depot-sauvage")
    assert services.clean_answers(waste, {"nature-dechets": ["gravats", "sacs"]}) == {
        "nature-dechets": ["gravats", "sacs"]
    }
    with pytest.raises(BadRequest) as error:
        services.clean_answers(waste, {"nature-dechets": ["gravats", "pneus"]})
    assert "pneus" in error.value.detail and "gravats" in error.value.detail


def test_only_metropole_admins_declare_questions_and_lists_need_choices(
    lighting, commune_agent, metropole_admin
):
    with pytest.raises(PermissionDenied):
        services.save_attribute(
            commune_agent(ROUBAIX), lighting, label="Couleur ?", datatype="string"
        )
    with pytest.raises(BadRequest) as error:
        services.save_attribute(
            metropole_admin, lighting, label="Type ?", datatype="singlevaluelist", choices="A"
        )
    assert error.value.field == "choices"
    with pytest.raises(BadRequest) as error:
        services.save_attribute(
            metropole_admin, lighting, label="Type ?", datatype="multivaluelist", choices="A\na"
        )
    assert "Line 2" in error.value.detail
    with pytest.raises(Conflict):
        services.save_attribute(
            metropole_admin, lighting, label="Où sur la place ?", datatype="text"
        )
    codes = list(lighting.attributes.values_list("code", "order"))
    assert codes == [
        ("nombre-lampadaires", 1),
        ("le-lampadaire-clignote-t-il", 2),
        ("ou-sur-la-place", 3),
    ]


def test_open311_definition_in_georeport_shape(client, lighting):
    services_list = json.loads(client.get("/open311/v2/services.json").content)
    by_code = {s["service_code"]: s for s in services_list}
    assert by_code["eclairage"]["metadata"] is True
    assert by_code["nid-de-poule"]["metadata"] is False
    definition = json.loads(client.get("/open311/v2/services/eclairage.json").content)
    assert definition["service_code"] == "eclairage"
    first, second, third = definition["attributes"]
    assert first == {
        "variable": True,
        "code": "nombre-lampadaires",
        "datatype": "number",
        "required": False,
        "datatype_description": None,
        "order": 1,
        "description": "Combien de lampadaires sont éteints ?",
    }
    assert second["required"] is True and second["values"] == [
        {"key": "oui", "name": "Oui"},
        {"key": "non", "name": "Non"},
    ]
    assert third["datatype_description"] == "Côté, numéro du mât"
    xml = ElementTree.fromstring(client.get("/open311/v2/services/eclairage.xml").content)
    attributes = xml.findall("attributes/attribute")
    assert [a.find("code").text for a in attributes] == [
        "nombre-lampadaires",
        "le-lampadaire-clignote-t-il",
        "ou-sur-la-place",
    ]
    assert [v.find("key").text for v in attributes[1].findall("values/value")] == ["oui", "non"]
    assert attributes[1].find("required").text == "true"


def test_open311_post_validates_and_stores_the_attributes(client, lighting, make_user):
    _, key = create_api_token(make_user("app@example.org"), "app")
    base = {
        "api_key": key,
        "service_code": "eclairage",
        "lat": ROUBAIX_CENTRE[0],
        "long": ROUBAIX_CENTRE[1],
        "description": "Lampadaire éteint",
    }
    refused = client.post(
        "/open311/v2/requests.json", {**base, "attribute[nombre-lampadaires]": "beaucoup"}
    )
    assert refused.status_code == 400
    descriptions = [e["description"] for e in refused.json()]
    assert any("attribute[nombre-lampadaires]" in d for d in descriptions)
    assert any("attribute[le-lampadaire-clignote-t-il]" in d for d in descriptions)
    xml = client.post("/open311/v2/requests.xml", base)
    assert xml.status_code == 400
    assert "attribute[le-lampadaire-clignote-t-il]" in (
        ElementTree.fromstring(xml.content).find("error/description").text
    )
    assert not Report.objects.exists()
    made = client.post(
        "/open311/v2/requests.json",
        {
            **base,
            "attribute[nombre-lampadaires]": "4",
            "attribute[le-lampadaire-clignote-t-il]": "oui",
            "media_url": "https://photos.example.org/lampadaire.jpg",
        },
    )
    assert made.status_code == 201, made.content
    report = Report.objects.get(pk=made.json()[0]["service_request_id"])
    assert report.answers == {"nombre-lampadaires": 4, "le-lampadaire-clignote-t-il": "oui"}
    # media_url is kept as a link, never fetched; the GET gives it back.
    assert report.media_url == "https://photos.example.org/lampadaire.jpg" and not report.photo
    got = client.get(f"/open311/v2/requests/{report.pk}.json").json()[0]
    assert got["media_url"] == "https://photos.example.org/lampadaire.jpg"
    waste = client.post(
        "/open311/v2/requests.json",
        {
            **base,
            "service_code": "depot-sauvage",
            "attribute[nature-dechets][]": ["gravats", "sacs"],
        },
    )
    assert waste.status_code == 201
    assert Report.objects.get(pk=waste.json()[0]["service_request_id"]).answers == {
        "nature-dechets": ["gravats", "sacs"]
    }
    bad_link = client.post(
        "/open311/v2/requests.json",
        {**base, "service_code": "nid-de-poule", "media_url": "file:///etc/passwd"},
    )
    assert bad_link.status_code == 400 and "media_url" in bad_link.json()[0]["description"]


def test_the_web_form_asks_the_same_questions_and_agents_see_the_answers(
    client, lighting, citizen, lille, make_member
):
    client.force_login(citizen)
    form = client.get("/signalements/nouveau/").content.decode()
    prefix = f"q-{lighting.pk}-"
    assert f'name="{prefix}le-lampadaire-clignote-t-il"' in form
    assert "Le lampadaire clignote-t-il ?" in form and "Côté, numéro du mât" in form
    data = {
        "category": lighting.pk,
        "lat": str(ROUBAIX_CENTRE[0]),
        "lon": str(ROUBAIX_CENTRE[1]),
        "description": "Plus de lumière",
        f"{prefix}nombre-lampadaires": "deux",
    }
    refused = client.post("/signalements/nouveau/", data)
    page = refused.content.decode()
    assert refused.status_code == 400 and not Report.objects.exists()
    assert "is a number" in page and "Answer the question" in page
    # Answers to another category's questions are not read.
    data[f"{prefix}nombre-lampadaires"] = "2"
    data[f"{prefix}le-lampadaire-clignote-t-il"] = "non"
    data[f"{prefix}ou-sur-la-place"] = "Mât n° 12, côté église"
    done = client.post("/signalements/nouveau/", data)
    assert done.status_code == 302, done.content.decode()[:2000]
    report = Report.objects.get()
    assert report.answers == {
        "nombre-lampadaires": 2,
        "le-lampadaire-clignote-t-il": "non",
        "ou-sur-la-place": "Mât n° 12, côté église",
    }
    assert not report.location_approximate
    client.force_login(make_member("eclairage@example.org", report.territory, Role.AGENT))
    agent_page = client.get(
        f"/signalements/gestion/{report.territory.slug}/{report.pk}/"
    ).content.decode()
    assert "Le lampadaire clignote-t-il ?" in agent_page and ">Non<" in agent_page
    assert "Mât n° 12, côté église" in agent_page


def test_back_office_pages_add_change_and_remove_a_question(
    client, report_categories, metropole_admin, commune_agent, lille
):
    waste = report_categories("depot-sauvage")
    base = f"/signalements/categories/{lille.slug}/{waste.pk}/"
    client.force_login(commune_agent(ROUBAIX))
    assert client.get(base + "questions/").status_code == 403
    client.force_login(metropole_admin)
    page = client.get(base).content.decode()
    # the questions are listed once, in the page, not pasted into its <title>
    assert page.count(">Quels déchets ?</a>") == 1
    assert "<" not in page.split("<title>")[1].split("</title>")[0]
    empty = client.post(base + "questions/", {"label": "Volume ?", "datatype": "singlevaluelist"})
    assert empty.status_code == 400 and "two choices" in empty.content.decode()
    made = client.post(
        base + "questions/",
        {
            "label": "Volume ?",
            "datatype": "singlevaluelist",
            "choices": "Moins d'un m³\nPlus d'un m³",
            "required": "on",
        },
    )
    assert made.status_code == 302
    question = ReportAttribute.objects.get(category=waste, code="volume")
    assert question.required and [c["key"] for c in question.choices] == [
        "moins-dun-m3",
        "plus-dun-m3",
    ]
    changed = client.post(
        base + f"questions/{question.pk}/",
        {"label": "Quel volume ?", "datatype": "singlevaluelist", "choices": "petit\ngros"},
    )
    assert changed.status_code == 302
    question.refresh_from_db()
    assert question.label == "Quel volume ?" and not question.required
    assert question.code == "volume"  # the code Open311 clients use does not change
    assert client.post(base + f"questions/{question.pk}/supprimer/").status_code == 302
    assert not ReportAttribute.objects.filter(pk=question.pk).exists()


def test_an_agent_places_an_approximate_report_on_the_map(
    client, report_categories, citizen, lille, commune, make_member, commune_agent
):
    hall = commune(ROUBAIX).town_hall
    report = services.submit_report(
        citizen,
        lille,
        category=report_categories("depot-sauvage"),
        lat=hall["lat"],
        lon=hall["lon"],
        address="Rue de Lannoy, devant le n° 40",
        description="Sacs",
        location_approximate=True,
    )
    agent = make_member("proprete@example.org", lille, Role.AGENT)
    with pytest.raises(PermissionDenied):
        services.correct_location(commune_agent(ROUBAIX), report, 50.688, 3.19)
    with pytest.raises(BadRequest) as error:  # Lille's Grand-Place is not in Roubaix
        services.correct_location(agent, report, *GRAND_PLACE_LILLE)
    assert "Roubaix" in error.value.detail
    client.force_login(agent)
    queue = f"/signalements/gestion/{lille.slug}/"
    other = services.submit_report(
        citizen,
        lille,
        category=report_categories("depot-sauvage"),
        lat=ROUBAIX_CENTRE[0],
        lon=ROUBAIX_CENTRE[1],
        description="Placé sur la carte",
    )
    to_place = client.get(queue, {"position": "approximate"}).content.decode()
    assert f"{queue}{report.pk}/" in to_place and f"{queue}{other.pk}/" not in to_place
    assert "approximate position" in to_place
    handle = f"/signalements/gestion/{lille.slug}/{report.pk}/"
    page = client.get(handle).content.decode()
    assert "Approximate position" in page and 'data-pick-lat="id_p-lat"' in page
    refused = client.post(handle, {"action": "location", "p-lat": "91", "p-lon": "3.19"})
    assert refused.status_code == 400
    moved = client.post(
        handle, {"action": "location", "p-lat": "50.688400", "p-lon": "3.190100", "p-address": ""}
    )
    assert moved.status_code == 302
    report.refresh_from_db()
    assert (report.lat, report.lon) == (50.6884, 3.1901) and not report.location_approximate
    assert report.address == "Rue de Lannoy, devant le n° 40"  # kept when left empty
    assert "Approximate position" not in client.get(report.get_absolute_url()).content.decode()
    assert report.updates.last().public


def test_placing_a_report_locks_the_report_not_its_commune(
    report_categories, citizen, lille, make_member
):
    """The commune is read for its name: locking its row would block every other change of
    that commune."""
    report = services.submit_report(
        citizen,
        lille,
        category=report_categories("depot-sauvage"),
        lat=ROUBAIX_CENTRE[0],
        lon=ROUBAIX_CENTRE[1],
        description="Sacs",
    )
    agent = make_member("proprete@example.org", lille, Role.AGENT)
    locks = row_locks(lambda: services.correct_location(agent, report, 50.6884, 3.1901))
    assert locks in (None, ['FOR UPDATE OF "reports_report"'])


def test_the_json_api_takes_the_same_answers(client, lighting, citizen):
    _, key = create_api_token(citizen, "app")
    body = {
        "category": "eclairage",
        "lat": ROUBAIX_CENTRE[0],
        "lon": ROUBAIX_CENTRE[1],
        "description": "Lampadaire",
    }

    def post(extra):
        return client.post(
            "/api/reports/",
            json.dumps({**body, **extra}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {key}"},
        )

    refused = post({"answers": {"nombre-lampadaires": "x"}})
    assert refused.status_code == 400
    assert refused["Content-Type"] == "application/problem+json"
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields == {"attribute[nombre-lampadaires]", "attribute[le-lampadaire-clignote-t-il]"}
    made = post({"answers": {"nombre-lampadaires": 2, "le-lampadaire-clignote-t-il": "oui"}})
    assert made.status_code == 201 and made.json()["location_approximate"] is False
    report = Report.objects.get(pk=made.json()["id"])
    assert report.answers == {"nombre-lampadaires": 2, "le-lampadaire-clignote-t-il": "oui"}
    assert services.export_personal_data(citizen)[0]["answers"] == report.answers
