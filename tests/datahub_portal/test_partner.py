"""A partner organisation publishes: its members' back-office (/data/partenaire/<id>/), the
same pages as a territory's publisher scoped to the organisation, with the same rules as the
API; restricted datasets naming organisations that may read them."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metropole.core.models import Organisation, OrganisationKind, Role
from metropole.datahub import services
from metropole.datahub.models import Dataset, DatasetStatus, ResourceVersion

TIMETABLE = (
    "ligne;arret;depart;latitude;longitude\n"
    "1;Gare Lille Flandres;06:12;50.6365;3.0707\n"
    "1;République Beaux-Arts;06:14;50.6302;3.0624\n"
    "2;Tourcoing Centre;06:30;50.7224;3.1606\n"
).encode()


@pytest.fixture
def operator(lille):
    return Organisation.objects.create(
        metropole=lille, name="Opérateur de transport", kind=OrganisationKind.OPERATOR
    )


@pytest.fixture
def university(lille):
    return Organisation.objects.create(
        metropole=lille, name="Université", kind=OrganisationKind.PUBLIC_BODY
    )


@pytest.fixture
def member_of(make_user, grant, lille):
    def make(email, organisation):
        user = make_user(email)
        grant(user, lille, Role.PARTNER, organisation)
        return user

    return make


@pytest.fixture
def partner(member_of, operator):
    return member_of("donnees@operateur.example.org", operator)


def purl(name, organisation, *args):
    return reverse(f"datahub:partner_{name}", args=[organisation.pk, *args])


def test_the_partner_space_is_for_the_organisations_members(
    client, operator, university, partner, member_of, make_user, publisher
):
    target = purl("manage", operator)
    response = client.get(target)
    assert response.status_code == 302 and "/compte/connexion/" in response["Location"]
    for outsider in (
        make_user("citoyen@example.org"),
        member_of("chercheuse@universite.example.org", university),
        publisher,  # an agent of Lille: the territory's space, not the organisation's
    ):
        client.force_login(outsider)
        refused = client.get(target)
        assert refused.status_code == 403
        assert "not allowed to open this page of Opérateur de transport" in refused.content.decode()
    client.force_login(partner)
    html = client.get(target).content.decode()
    assert "Datasets of Opérateur de transport" in html
    assert f'href="{purl("create", operator)}"' in html
    assert client.get(reverse("datahub:partner_manage", args=[999999])).status_code == 404
    # the portal shows members the way to their organisation's back-office
    assert f'href="{target}"' in client.get(reverse("datahub:index")).content.decode()
    client.force_login(publisher)
    assert f'href="{target}"' not in client.get(reverse("datahub:index")).content.decode()


def test_a_partner_publishes_a_dataset_end_to_end(
    client, lille, operator, partner, university, django_capture_on_commit_callbacks
):
    client.force_login(partner)
    response = client.post(
        purl("create", operator),
        {
            "title": "Horaires des premières lignes",
            "description": "Les premiers départs de chaque ligne, arrêt par arrêt, en semaine.",
            "licence": "odbl",
            "frequency": "MONTHLY",
            "access": "restricted",
            "allowed_organisations": [str(university.pk)],
            "invalid_rows": "reject",
        },
    )
    dataset = Dataset.objects.get(title="Horaires des premières lignes")
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == purl("add_resource", operator, dataset.slug)
    # owned by the organisation, within the metropole
    assert (dataset.organisation, dataset.territory, dataset.created_by) == (
        operator,
        lille,
        partner,
    )
    assert list(dataset.allowed_organisations.all()) == [university]
    # the organisation itself is not offered among the organisations allowed to read
    form = client.get(purl("edit", operator, dataset.slug)).content.decode()
    offered = re.findall(r'name="allowed_organisations" value="(\d+)"', form)
    assert offered == [str(university.pk)]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            purl("add_resource", operator, dataset.slug),
            {
                "title": "Premiers départs",
                "kind": "upload",
                "file": SimpleUploadedFile("horaires.csv", TIMETABLE, "text/csv"),
            },
        )
    version = ResourceVersion.objects.get(resource__dataset=dataset)
    assert response["Location"] == purl("version", operator, dataset.slug, version.resource.uid, 1)
    assert "Loaded: 3 rows." in client.get(response["Location"]).content.decode()
    page = client.get(purl("manage_dataset", operator, dataset.slug)).content.decode()
    assert purl("manage_resource", operator, dataset.slug, version.resource.uid) in page
    response = client.post(
        purl("change_status", operator, dataset.slug), {"action": "publish"}, follow=True
    )
    assert "The dataset is published." in response.content.decode()
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PUBLISHED
    # a new version, then back to the first one
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            purl("manage_resource", operator, dataset.slug, version.resource.uid),
            {
                "file": SimpleUploadedFile(
                    "horaires.csv", TIMETABLE + b"2;Mouvaux;06:40;50.70;3.13\n"
                )
            },
        )
    resource = version.resource
    resource.refresh_from_db()
    assert resource.current_version.number == 2
    client.post(purl("rollback", operator, dataset.slug, resource.uid, 1))
    resource.refresh_from_db()
    assert resource.current_version.number == 1


def test_restricted_partner_data_is_read_by_the_organisations_named(
    client, lille, operator, partner, university, member_of, make_user, make_member, load
):
    dataset = services.create_dataset(
        partner,
        lille,
        organisation=operator,
        title="Fréquentation par arrêt",
        description="Les montées par arrêt et par heure, comptées par les valideurs.",
        access="restricted",
        allowed_organisations=[university.pk],
    )
    resource = services.add_resource(partner, dataset, title="Montées")
    assert load(resource, TIMETABLE, actor=partner).status == "ready"
    services.publish(partner, dataset)
    page = reverse("datahub:dataset", kwargs={"slug": dataset.slug})
    readers = {
        "chercheuse@universite.example.org": member_of(
            "chercheuse@universite.example.org", university
        ),
        "agent@lille": make_member("agent.mel@lille.example.org", lille, Role.AGENT),
        "partner": partner,
    }
    for who, person in readers.items():
        client.force_login(person)
        assert client.get(page).status_code == 200, who
    third = Organisation.objects.create(
        metropole=lille, name="Autre entreprise", kind=OrganisationKind.COMPANY
    )
    for person in (member_of("quelquun@entreprise.example.org", third), make_user("x@example.org")):
        client.force_login(person)
        assert client.get(page).status_code == 404
    client.logout()
    assert client.get(page).status_code == 404
    # the university reads it, but does not manage it
    client.force_login(readers["chercheuse@universite.example.org"])
    assert client.get(purl("manage_dataset", university, dataset.slug)).status_code in (403, 404)
    assert client.get(purl("manage_dataset", operator, dataset.slug)).status_code == 403


def test_a_partner_cannot_reach_other_datasets_through_its_space(
    client, lille, operator, partner, university, member_of, make_dataset
):
    territory_dataset = make_dataset("Bancs publics")
    theirs = services.create_dataset(
        member_of("chercheuse@universite.example.org", university),
        lille,
        organisation=university,
        title="Mesures de bruit",
    )
    client.force_login(partner)
    for other in (territory_dataset, theirs):
        for name in ("manage_dataset", "edit"):
            assert client.get(purl(name, operator, other.slug)).status_code in (403, 404)
        response = client.post(purl("change_status", operator, other.slug), {"action": "publish"})
        assert response.status_code in (403, 404)
    # nor the metropole's space
    assert client.get(reverse("datahub:manage", kwargs={"slug": lille.slug})).status_code == 403
    assert client.get(purl("create", university)).status_code == 403


def test_the_metropoles_agents_see_and_review_partner_datasets(
    client, lille, operator, partner, make_member, load
):
    dataset = services.create_dataset(
        partner, lille, organisation=operator, title="Contacts des agences", access="public"
    )
    resource = services.add_resource(partner, dataset, title="Agences")
    load(resource, b"agence,courriel\nGare,jean.dupont@example.org\n", actor=partner)
    client.force_login(partner)
    page = client.get(purl("manage_dataset", operator, dataset.slug)).content.decode()
    # the partner cannot decide on personal data: an administrator of the metropole does
    assert "An administrator of" in page and 'name="decision"' not in page
    admin = make_member("admin@lille.example.org", lille, Role.ADMIN)
    client.force_login(admin)
    listing = client.get(reverse("datahub:manage", kwargs={"slug": lille.slug})).content.decode()
    assert "Contacts des agences" in listing and "published by Opérateur de transport" in listing
    client.post(
        reverse(
            "datahub:review_column",
            kwargs={"slug": lille.slug, "dataset": dataset.slug, "resource": resource.uid},
        ),
        {"column": "courriel", "decision": "removed"},
    )
    resource.refresh_from_db()
    assert resource.decision("courriel") == "removed"


def test_rules_of_the_partner_space(lille, operator, university, partner, member_of, publisher):
    mine = services.create_dataset(partner, lille, organisation=operator, title="Lignes")
    assert partner.has_perm("datahub.view_partner_space", operator)
    assert partner.has_perm("datahub.publish_as_organisation", operator)
    assert partner.has_perm("datahub.change_dataset", mine)
    assert not partner.has_perm("datahub.view_partner_space", university)
    assert not partner.has_perm("datahub.publish_as_organisation", university)
    assert not partner.has_perm("datahub.review_personal_data", mine)
    assert not partner.has_perm("datahub.add_dataset", lille)
    assert not publisher.has_perm("datahub.view_partner_space", operator)
    assert publisher.has_perm("datahub.change_dataset", mine)  # the metropole's agents
    researcher = member_of("chercheuse@universite.example.org", university)
    assert not researcher.has_perm("datahub.change_dataset", mine)


def test_the_api_follows_the_same_rules(client, lille, operator, university, partner, member_of):
    api = reverse("api:datahub_dataset_create")
    client.force_login(member_of("chercheuse@universite.example.org", university))
    refused = client.post(
        api,
        json.dumps({"title": "Au nom d'un autre", "organisation": operator.pk}),
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/problem+json")
    client.force_login(partner)
    created = client.post(
        api,
        json.dumps(
            {
                "title": "Parkings relais",
                "organisation": operator.pk,
                "access": "restricted",
                "allowed_organisations": [university.pk],
            }
        ),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["organisation"] == "Opérateur de transport"
    assert body["allowed_organisations"] == ["Université"]
    dataset = Dataset.objects.get(uid=body["id"])
    # the page shows what the API created, in the organisation's space
    html = client.get(purl("manage", operator)).content.decode()
    assert "Parkings relais" in html
    changed = client.patch(
        reverse("api:datahub_dataset_update", kwargs={"key": dataset.uid}),
        json.dumps({"description": "Les parkings relais et leurs places libres."}),
        content_type="application/json",
    )
    assert changed.status_code == 200
    client.force_login(member_of("quelquun@entreprise.example.org", university))
    other = client.patch(
        reverse("api:datahub_dataset_update", kwargs={"key": dataset.uid}),
        json.dumps({"title": "Pris"}),
        content_type="application/json",
    )
    assert other.status_code in (403, 404)
    dataset.refresh_from_db()
    assert dataset.title == "Parkings relais"


def test_the_edit_form_keeps_the_coverage_dates_in_french(client, lille, operator, partner):
    """A date field (type=date) must carry ISO dates whatever the language: a French
    "01/01/1990" is not read by the browser, and saving the form would erase the date."""
    dataset = services.create_dataset(
        partner,
        lille,
        organisation=operator,
        title="Lignes",
        temporal_start="1990-01-01",
        temporal_end="2020-12-31",
    )
    client.force_login(partner)
    html = client.get(
        purl("edit", operator, dataset.slug), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert 'value="1990-01-01"' in html and 'value="2020-12-31"' in html


def test_the_demo_partner_publishes_real_data(client, lille):
    """`load_demo`: Etalab's "Vacances scolaires par zones" (the file shipped by the
    vacances-scolaires-france package), published by the organisation, whose demo member
    works in its back-office. Loading twice changes nothing."""
    from metropole.datahub.demo import load_partner_demo

    dataset = load_partner_demo(lille)
    assert load_partner_demo(lille).pk == dataset.pk
    assert Dataset.objects.filter(organisation__name="Etalab (DINUM)").count() == 1
    (resource,) = dataset.resources.all()
    version = resource.current_version
    assert version.status == "ready" and version.row_count > 14000
    assert [c["name"] for c in version.columns][:2] == ["date", "vacances_zone_a"]
    assert (dataset.status, dataset.access, dataset.territory) == ("published", "public", lille)
    member = dataset.organisation.members.get().user
    client.force_login(member)
    html = client.get(purl("manage", dataset.organisation)).content.decode()
    assert "Vacances scolaires par zones" in html


def test_the_publisher_facet_names_the_organisation_not_the_metropole(
    client, lille, operator, partner, publisher, load, make_dataset
):
    """A partner's dataset is counted under the organisation (SIREN or not), not under the
    metropole it belongs to; the facet's link finds exactly its datasets."""
    ours = services.create_dataset(
        partner,
        lille,
        organisation=operator,
        title="Lignes de bus",
        description="Les lignes du réseau, avec leurs terminus.",
        access="public",
    )
    theirs = make_dataset("Bancs publics", access="public")
    for owner, dataset in ((partner, ours), (publisher, theirs)):
        resource = services.add_resource(owner, dataset, title="Fichier")
        assert load(resource, b"a,b\n1,2\n", actor=owner).status == "ready"
        services.publish(owner, dataset)
    html = client.get(reverse("datahub:index")).content.decode()
    facet = html[html.index('id="facet-publisher"') :]
    facet = facet[: facet.index("</section>")]
    assert f"?publisher=org{operator.pk}" in facet and "Opérateur de transport" in facet
    counts = dict(re.findall(r'publisher=([\w]+)"[^>]*>.*?badge--neutral">(\d+)<', facet, re.S))
    assert counts == {lille.code: "1", f"org{operator.pk}": "1"}, facet
    found = client.get(reverse("datahub:index"), {"publisher": f"org{operator.pk}"})
    assert "Lignes de bus" in found.content.decode()
    assert "Bancs publics" not in found.content.decode()
    found = client.get(reverse("datahub:index"), {"publisher": lille.code})
    assert "Bancs publics" in found.content.decode()
    assert "Lignes de bus" not in found.content.decode()
