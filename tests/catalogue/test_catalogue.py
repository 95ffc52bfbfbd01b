"""The catalogue: who runs what (competences), what a commune's people see, search,
pages, back-office and API."""

import pytest

from metropole.catalogue import queries, services
from metropole.catalogue.models import Holder, Service
from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import AuditEvent, Role
from tests.catalogue.fixtures import LILLE_COMMUNE, ROUBAIX, TOURCOING


@pytest.fixture
def services_in_place(catalogue, commune, category, competence, metropole_admin, make_member):
    """Waste collection run by the metropole, civil status run by Roubaix and Tourcoing."""
    waste = services.save_service(
        metropole_admin,
        catalogue,
        title="Collecte des déchets",
        category=category("dechets-proprete"),
        competence=competence("dechets"),
        channels=["online"],
    )
    roubaix = services.save_service(
        metropole_admin,
        commune(ROUBAIX),
        title="Demander un acte d'état civil",
        category=category(),
        competence=competence("etat-civil"),
    )
    tourcoing = services.save_service(
        metropole_admin,
        commune(TOURCOING),
        title="Inscription scolaire",
        category=category("famille-education"),
        competence=competence("ecoles"),
    )
    return waste, roubaix, tourcoing


def test_default_split_is_data_and_idempotent(catalogue, competence):
    from metropole.catalogue.competences import DEFAULT_COMPETENCES

    assert competence("dechets").holder == Holder.METROPOLE
    assert competence("etat-civil").holder == Holder.COMMUNE
    services.install_defaults(catalogue)  # a second run creates nothing more
    assert catalogue.competences.count() == len(DEFAULT_COMPETENCES)


def test_a_commune_sees_its_services_and_the_metropoles(services_in_place, commune):
    waste, roubaix, tourcoing = services_in_place
    seen = set(queries.services_for(commune(ROUBAIX)))
    assert seen == {waste, roubaix}
    assert tourcoing not in seen
    assert set(queries.services_for(commune(TOURCOING))) == {waste, tourcoing}


def test_moving_a_competence_changes_who_may_run_it(
    catalogue, commune, category, competence, metropole_admin
):
    lighting = competence("eclairage")
    # Street lighting is a commune competence by default: the metropole cannot run it...
    with pytest.raises(BadRequest) as refused:
        services.save_service(
            metropole_admin,
            catalogue,
            title="Éclairage",
            category=category("voirie-deplacements"),
            competence=lighting,
        )
    assert refused.value.field == "competence"
    # ... until its administrator moves it; then Roubaix's people see the metropole's service.
    services.set_competence_holder(metropole_admin, lighting, Holder.METROPOLE)
    service = services.save_service(
        metropole_admin,
        catalogue,
        title="Éclairage",
        category=category("voirie-deplacements"),
        competence=lighting,
    )
    assert service in queries.services_for(commune(ROUBAIX))
    assert AuditEvent.objects.filter(action="catalogue.competence_holder").exists()
    with pytest.raises(BadRequest):
        services.save_service(
            metropole_admin,
            commune(ROUBAIX),
            title="Éclairage de Roubaix",
            category=category("voirie-deplacements"),
            competence=lighting,
        )


def test_only_metropole_admins_move_competences(
    catalogue, competence, commune_agent, make_member, commune
):
    mayor_admin = make_member("admin-roubaix@example.org", commune(ROUBAIX), Role.ADMIN)
    for person in (commune_agent(ROUBAIX), mayor_admin):
        with pytest.raises(PermissionDenied):
            services.set_competence_holder(person, competence("eau"), Holder.COMMUNE)
    assert competence("eau").holder == Holder.METROPOLE


def test_agents_manage_only_their_territorys_services(
    catalogue, commune, category, competence, commune_agent
):
    agent = commune_agent(ROUBAIX)
    created = services.save_service(
        agent,
        commune(ROUBAIX),
        title="Listes électorales",
        category=category(),
        competence=competence("elections"),
    )
    assert created.territory.code == ROUBAIX and created.slug == "listes-electorales"
    with pytest.raises(PermissionDenied):
        services.save_service(
            agent,
            commune(TOURCOING),
            title="Listes électorales",
            category=category(),
            competence=competence("elections"),
        )
    with pytest.raises(Conflict):
        services.save_service(
            agent,
            commune(ROUBAIX),
            title="Listes électorales",
            category=category(),
            competence=competence("elections"),
        )
    assert Service.objects.filter(slug="listes-electorales").count() == 1


def test_search_ignores_accents_case_and_punctuation(services_in_place, commune):
    base = queries.services_for(commune(ROUBAIX))
    assert [s.title for s in queries.search(base, "ETAT-CIVIL")] == [
        "Demander un acte d'état civil"
    ]
    assert [s.title for s in queries.search(base, "déchets collecte")] == ["Collecte des déchets"]
    assert list(queries.search(base, "piscine")) == []


def test_answers_need_question_and_answer(services_in_place, metropole_admin):
    _, roubaix, _ = services_in_place
    services.add_answer(metropole_admin, roubaix, "Est-ce payant ?", "Non, c'est gratuit.")
    with pytest.raises(BadRequest) as missing:
        services.add_answer(metropole_admin, roubaix, "Un délai ?", "  ")
    assert missing.value.field == "answer"
    assert [a.question for a in roubaix.answers.all()] == ["Est-ce payant ?"]


# --- pages ---------------------------------------------------------------------------------


def test_start_page_sends_a_citizen_to_their_communes_services(client, services_in_place):
    response = client.get("/services/", {"commune": "roubaix"})
    assert (
        response.status_code == 302 and response["Location"] == "/services/commune/roubaix-59512/"
    )
    page = client.get(response["Location"]).content.decode()
    assert "Collecte des déchets" in page and "acte d&#x27;état civil" in page
    assert "Inscription scolaire" not in page
    by_postal_code = client.get("/services/", {"commune": "59100"})
    assert by_postal_code.status_code == 302


def test_service_page_shows_answers_and_who_runs_it(client, services_in_place, metropole_admin):
    _, roubaix, _ = services_in_place
    services.add_answer(metropole_admin, roubaix, "Est-ce payant ?", "Non, c'est gratuit.")
    page = client.get(roubaix.get_absolute_url()).content.decode()
    assert "Est-ce payant ?" in page and "Roubaix" in page
    assert client.get("/services/roubaix-59512/nexiste-pas/").status_code == 404


def test_back_office_creates_a_service_and_refuses_others(
    client, catalogue, commune, category, competence, commune_agent
):
    agent = commune_agent(ROUBAIX)
    client.force_login(agent)
    response = client.post(
        "/services/gestion/roubaix-59512/nouveau/",
        {
            "title": "Recensement citoyen",
            "category": category().pk,
            "competence": competence("elections").pk,
            "channels": ["counter"],
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert Service.objects.get(territory__code=ROUBAIX, slug="recensement-citoyen").channels == [
        "counter"
    ]
    assert client.get("/services/gestion/tourcoing-59599/").status_code == 403
    # A metropole competence is not even offered to a commune's form.
    response = client.post(
        "/services/gestion/roubaix-59512/nouveau/",
        {"title": "Eau", "category": category().pk, "competence": competence("eau").pk},
    )
    assert response.status_code == 200 and not Service.objects.filter(slug="eau").exists()


def test_api_lists_services_open_to_a_commune(client, services_in_place):
    body = client.get("/api/services/", {"commune": ROUBAIX}).json()
    assert {s["title"] for s in body["items"]} == {
        "Collecte des déchets",
        "Demander un acte d'état civil",
    }
    detail = client.get(f"/api/services/{ROUBAIX}/demander-un-acte-detat-civil").json()
    assert detail["territory_code"] == ROUBAIX and detail["competence"] == "etat-civil"
    competences = client.get("/api/services/competences").json()
    assert {"code": "dechets", "holder": "metropole"}.items() <= next(
        c for c in competences if c["code"] == "dechets"
    ).items()
    assert client.get("/api/services/", {"commune": "99999"}).status_code == 404


def test_demo_services_are_real_named_and_idempotent(catalogue):
    from metropole.catalogue.demo import load_catalogue_demo

    load_catalogue_demo(catalogue)
    count = Service.objects.count()
    load_catalogue_demo(catalogue)
    assert Service.objects.count() == count
    family = Service.objects.filter(slug="kiosque-famille")
    assert {s.territory.code for s in family} == {"59599", "59378", ROUBAIX}
    assert all(s.is_demo and s.source for s in Service.objects.all())
    assert Service.objects.filter(territory__code=LILLE_COMMUNE, slug="acte-etat-civil").exists()
