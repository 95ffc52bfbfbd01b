"""Residence from FranceConnect: the address (and birth date) it gives at log-in establish
residence, recorded once as verified and reused by every process."""

import json

import pytest
from django.db.models import Count
from django.utils import translation

from metropole.core import services as core_services
from metropole.core.models import AuditEvent, PostalCode
from metropole.participation import services
from metropole.participation.models import Declaration
from metropole.participation.rules import refusal

ROUBAIX_ADDRESS = {
    "formatted": "17 Grand Place\n59100 Roubaix\nFrance",
    "street_address": "17 Grand Place",
    "postal_code": "59100",
    "locality": "Roubaix",
    "country": "France",
}


@pytest.fixture(autouse=True)
def english():
    """Refusals are matched on their English text, whatever a page left active."""
    with translation.override("en"):
        yield


def fc_login(email, **claims):
    return core_services.sign_in_with_oidc(
        "franceconnect", {"sub": f"fc-{email}", "email": email, **claims}
    )


@pytest.fixture
def budget_vote(make_process):
    return make_process("budget", open_phase=2).components.get(kind="budget")


def test_franceconnect_address_makes_a_verified_residence_reused_everywhere(
    lille, roubaix, budget_vote
):
    person = fc_login("fc@example.org", address=ROUBAIX_ADDRESS, birthdate="1990-05-17")
    declaration = Declaration.objects.get(user=person)
    assert (declaration.commune, declaration.postal_code, declaration.birth_year) == (
        roubaix,
        "59100",
        1990,
    )
    assert declaration.source == "franceconnect" and declaration.is_verified
    assert AuditEvent.objects.filter(action="participation.residence_verified").count() == 1
    # The budget is for residents only: no form to fill, the verified address is used.
    assert refusal(person, budget_vote, "vote") is None
    # A second log-in refreshes the same declaration (one per person).
    fc_login("fc@example.org", address=ROUBAIX_ADDRESS)
    assert Declaration.objects.filter(user=person).count() == 1
    assert Declaration.objects.get(user=person).birth_year == 1990


def test_verified_residence_required_refuses_declared_ones(agent, make_user, roubaix, budget_vote):
    services.update_component_settings(agent, budget_vote, verified_residence=True)
    typed = make_user("declared@example.org", home_commune=roubaix)
    services.declare(typed, postal_code="59100", birth_year=1980)
    assert "FranceConnect" in refusal(typed, budget_vote, "vote")
    person = fc_login("fc2@example.org", address=ROUBAIX_ADDRESS)
    assert refusal(person, budget_vote, "vote") is None


def test_an_address_outside_the_metropole_removes_an_old_verified_residence(lille, budget_vote):
    person = fc_login("mover@example.org", address=ROUBAIX_ADDRESS)
    assert Declaration.objects.filter(user=person).exists()
    fc_login("mover@example.org", address={"postal_code": "75011", "locality": "Paris"})
    assert not Declaration.objects.filter(user=person).exists()
    assert "residents" in refusal(person, budget_vote, "vote")


def test_a_typed_residence_is_kept_when_franceconnect_says_nothing_usable(make_user, lille):
    person = fc_login("quiet@example.org")
    assert not Declaration.objects.filter(user=person).exists()
    services.declare(person, postal_code="59100", birth_year=1970)
    fc_login("quiet@example.org", address={"country": "France"}, birthdate="not a date")
    declaration = Declaration.objects.get(user=person)
    assert declaration.source == "declared" and declaration.birth_year == 1970


def test_other_providers_are_not_used_for_residence(lille):
    agent = core_services.sign_in_with_oidc(
        "proconnect", {"sub": "pc-1", "email": "agent.pc@example.org", "address": ROUBAIX_ADDRESS}
    )
    assert not Declaration.objects.filter(user=agent).exists()


def test_a_shared_postal_code_is_settled_by_the_locality(lille):
    shared = (
        PostalCode.objects.filter(territory__metropole=lille)
        .values("code")
        .annotate(n=Count("territory"))
        .filter(n__gt=1)
        .order_by("code")
        .first()
    )
    if shared is None:
        pytest.skip("no postal code shared by two communes in the reference data")
    communes = list(
        PostalCode.objects.filter(code=shared["code"], territory__metropole=lille)
        .select_related("territory")
        .order_by("territory__name")
    )
    wanted = communes[-1].territory
    person = fc_login(
        "shared@example.org",
        address=f"1 rue de la Gare {shared['code']} {wanted.name.upper()}",
    )
    assert Declaration.objects.get(user=person).commune == wanted
    vague = fc_login("vague@example.org", address={"postal_code": shared["code"]})
    assert not Declaration.objects.filter(user=vague).exists()  # ambiguous: the person says


def test_typing_the_same_values_keeps_it_verified_changing_them_does_not(lille):
    person = fc_login("same@example.org", address=ROUBAIX_ADDRESS, birthdate="1985-01-01")
    services.declare(person, postal_code="59100", birth_year=1985)
    assert Declaration.objects.get(user=person).is_verified
    services.declare(person, postal_code="59100", birth_year=1986)
    assert not Declaration.objects.get(user=person).is_verified


def test_the_api_tells_where_the_person_lives_and_how_it_is_known(client, lille, roubaix):
    person = fc_login("api@example.org", address=ROUBAIX_ADDRESS)
    _t, key = core_services.create_api_token(person, "t")
    body = client.get("/api/participation/me/residence", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert body == {
        "postal_code": "59100",
        "commune_code": roubaix.code,
        "commune_name": roubaix.name,
        "birth_year": None,
        "source": "franceconnect",
        "verified": True,
    }
    assert json.dumps(body)
