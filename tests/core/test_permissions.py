"""One permission path: pages, API and services agree; communes are isolated from each other."""

import pytest

from metropole.core import services
from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import AuditEvent, Membership, Role, Territory

ROUBAIX, TOURCOING = "59512", "59599"
ADMIN_PAGES = ["", "membres/", "identite/", "journal/"]


@pytest.fixture
def roubaix(commune):
    return commune(ROUBAIX)


@pytest.fixture
def tourcoing(commune):
    return commune(TOURCOING)


@pytest.fixture
def roubaix_admin(make_member, roubaix):
    return make_member("admin.roubaix@example.org", roubaix, Role.ADMIN)


@pytest.fixture
def roubaix_agent(make_member, roubaix):
    return make_member("agent.roubaix@example.org", roubaix, Role.AGENT)


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_agent_of_commune_a_cannot_open_commune_b_administration(
    client, roubaix_agent, tourcoing, page
):
    client.force_login(roubaix_agent)
    response = client.get(f"/administration/{tourcoing.slug}/{page}")
    assert response.status_code == 403
    assert tourcoing.name in response.content.decode()  # a readable page saying where


def test_admin_of_commune_a_cannot_change_commune_b(client, roubaix_admin, tourcoing, make_user):
    client.force_login(roubaix_admin)
    target = make_user("someone@example.org")
    response = client.post(
        f"/administration/{tourcoing.slug}/membres/", {"email": target.email, "role": Role.AGENT}
    )
    assert response.status_code == 403
    response = client.post(
        f"/administration/{tourcoing.slug}/identite/",
        {"brand_name": "Pirate", "primary_colour": "#000000"},
    )
    assert response.status_code == 403
    tourcoing.refresh_from_db()
    assert tourcoing.brand_name == "" and not Membership.objects.filter(user=target).exists()


def test_agent_of_commune_a_cannot_read_commune_b_members_through_the_api(
    client, roubaix_admin, roubaix_agent, tourcoing
):
    client.force_login(roubaix_admin)
    assert client.get(f"/api/territories/{ROUBAIX}/members").status_code == 200
    denied = client.get(f"/api/territories/{TOURCOING}/members")
    assert denied.status_code == 403
    assert denied["Content-Type"] == "application/problem+json"
    client.force_login(roubaix_agent)  # an agent is not a member manager, even at home
    assert client.get(f"/api/territories/{ROUBAIX}/members").status_code == 403


def test_agent_sees_own_overview_but_not_member_management(client, roubaix_agent, roubaix):
    client.force_login(roubaix_agent)
    assert client.get(f"/administration/{roubaix.slug}/").status_code == 200
    assert client.get(f"/administration/{roubaix.slug}/membres/").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, roubaix):
    response = client.get(f"/administration/{roubaix.slug}/membres/")
    assert response.status_code == 302 and "/compte/connexion/" in response["Location"]


def test_metropole_admin_administers_every_commune_of_its_metropole(
    client, metropole_admin, tourcoing, grand_paris
):
    client.force_login(metropole_admin)
    assert client.get(f"/administration/{tourcoing.slug}/membres/").status_code == 200
    paris = Territory.objects.get(code="75056")
    assert client.get(f"/administration/{paris.slug}/").status_code == 403  # another metropole


def test_the_administration_index_lists_the_metropole_first_and_finds_a_commune(
    client, metropole_admin, lille
):
    """A metropole's administrator may open 96 territories: the metropole comes first (it was
    last, after 95 communes in alphabetical order), and a search box finds a commune."""
    import re

    client.force_login(metropole_admin)
    html = client.get("/administration/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    cards = re.findall(r'<li class="card"><a href="/administration/([^/]+)/">', html)
    assert len(cards) == 96 and cards[0] == lille.slug
    assert 'name="q"' in html
    found = client.get("/administration/", {"q": "villeneuve d ascq"}).content.decode()
    assert re.findall(r'<li class="card"><a href="/administration/([^/]+)/">', found) == [
        "villeneuve-dascq-59009"
    ]
    nothing = client.get("/administration/", {"q": "Marseille"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "No territory you administer matches “Marseille”." in nothing.content.decode()


def test_commune_admin_grants_and_withdraws_roles_with_an_audit_trail(
    client, roubaix_admin, roubaix, make_user
):
    newcomer = make_user("new.agent@example.org")
    client.force_login(roubaix_admin)
    response = client.post(
        f"/administration/{roubaix.slug}/membres/",
        {"email": "NEW.AGENT@example.org", "role": Role.AGENT},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer, territory=roubaix)
    assert membership.role == Role.AGENT and membership.granted_by == roubaix_admin
    client.post(f"/administration/{roubaix.slug}/membres/{membership.pk}/retirer/")
    assert not Membership.objects.filter(user=newcomer).exists()
    actions = list(AuditEvent.objects.filter(territory=roubaix).values_list("action", flat=True))
    assert actions[:2] == ["role.revoked", "role.granted"]
    log = client.get(f"/administration/{roubaix.slug}/journal/").content.decode()
    assert "role.granted" in log and "new.agent@example.org" in log


def test_granting_to_an_unknown_email_explains_what_to_do(client, roubaix_admin, roubaix):
    client.force_login(roubaix_admin)
    response = client.post(
        f"/administration/{roubaix.slug}/membres/",
        {"email": "nobody@example.org", "role": Role.AGENT},
    )
    assert response.status_code == 200
    assert "nobody@example.org" in response.content.decode()
    assert not Membership.objects.filter(territory=roubaix, role=Role.AGENT).exists()


def test_roles_are_checked_against_the_kind_of_territory(roubaix_admin, roubaix, make_user):
    with pytest.raises(BadRequest) as error:
        services.grant_role(roubaix_admin, make_user("p@example.org"), roubaix, Role.PARTNER)
    assert "cannot be granted" in str(error.value.detail)


def test_last_administrator_cannot_remove_themself(roubaix_admin, roubaix):
    membership = Membership.objects.get(user=roubaix_admin, territory=roubaix)
    with pytest.raises(Conflict) as error:
        services.revoke_role(roubaix_admin, membership)
    assert "last administrator" in error.value.detail
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_only_metropole_admins_decide_which_communes_joined(
    client, roubaix_admin, metropole_admin, lille, tourcoing
):
    with pytest.raises(PermissionDenied):
        services.set_commune_joined(roubaix_admin, tourcoing, True)
    client.force_login(roubaix_admin)
    assert client.get(f"/administration/{lille.slug}/communes/").status_code == 403
    client.force_login(metropole_admin)
    client.post(f"/administration/{lille.slug}/communes/{TOURCOING}/adhesion/", {"joined": "1"})
    tourcoing.refresh_from_db()
    assert tourcoing.has_joined and tourcoing.joined_at is not None
    assert AuditEvent.objects.filter(action="commune.joined", object_id=str(tourcoing.pk)).exists()


def test_branding_refuses_unreadable_colours_and_keeps_the_old_ones(client, roubaix_admin, roubaix):
    client.force_login(roubaix_admin)
    url = f"/administration/{roubaix.slug}/identite/"
    ok = client.post(
        url,
        {"brand_name": "Ville de Roubaix", "primary_colour": "#7a1f2b", "accent_colour": "#1f3a93"},
    )
    assert ok.status_code == 302
    bad = client.post(url, {"brand_name": "Autre", "primary_colour": "#ffff66"})
    assert bad.status_code == 200 and "4.5:1" in bad.content.decode()
    roubaix.refresh_from_db()
    assert (roubaix.brand_name, roubaix.primary_colour) == ("Ville de Roubaix", "#7a1f2b")
    css = client.get(f"/branding/{roubaix.slug}.css").content.decode()
    assert "--brand: #7a1f2b" in css
    assert AuditEvent.objects.filter(action="territory.branding_changed").count() == 1


def test_metropole_admin_manages_partner_organisations(client, metropole_admin, lille, make_user):
    client.force_login(metropole_admin)
    url = f"/administration/{lille.slug}/organisations/"
    bad = client.post(url, {"name": "Ilévia", "kind": "operator", "siren": "12"})
    assert bad.status_code == 200 and "9 digits" in bad.content.decode()
    assert client.post(url, {"name": "Ilévia", "kind": "operator"}).status_code == 302
    from metropole.core.models import Organisation

    organisation = Organisation.objects.get(name="Ilévia")
    member = services.grant_role(
        metropole_admin, make_user("ops@example.org"), lille, Role.PARTNER, organisation
    )
    assert member.role_label == "partner member"


def test_branding_form_shows_the_colours_in_use_not_black(client, roubaix_admin, roubaix):
    client.force_login(roubaix_admin)
    html = client.get(f"/administration/{roubaix.slug}/identite/").content.decode()
    assert 'value="#1f3a93"' in html and "#000000" not in html


def test_a_page_refused_to_an_anonymous_visitor_sends_them_to_log_in(rf, make_user):
    """One rule for every module's pages: LoginRequired raised by a page becomes a log-in
    redirect for an anonymous visitor (a logged-in one gets PermissionDenied's 403 page); the
    API decides itself.
    A plain PermissionDenied (an expired link: an account would not help) stays a 403 page."""
    from django.contrib.auth.models import AnonymousUser

    from metropole.core.exceptions import LoginRequired, PermissionDenied
    from metropole.core.views.helpers import PlatformErrorMiddleware

    middleware = PlatformErrorMiddleware(lambda request: None)
    refusal = LoginRequired("Access refused", "Not yours.")

    anonymous = rf.get("/pilotage/plans/7/?axe=2")
    anonymous.user = AnonymousUser()
    redirect = middleware.process_exception(anonymous, refusal)
    assert redirect.status_code == 302
    assert redirect["Location"].endswith("?next=/pilotage/plans/7/%3Faxe%3D2")

    logged_in = rf.get("/pilotage/plans/7/")
    logged_in.user = make_user("someone@example.org")
    assert middleware.process_exception(logged_in, PermissionDenied("No", "No.")).status_code == 403

    api = rf.get("/api/steering/plans/7")
    api.user = AnonymousUser()
    assert middleware.process_exception(api, refusal) is None

    expired = middleware.process_exception(anonymous, PermissionDenied("Link expired", "Old."))
    assert expired.status_code == 403


def test_a_rate_limit_refusal_says_when_to_try_again_on_pages_and_in_the_api(rf, make_user):
    """TooManyRequests carries Retry-After: the error page and the API's problem answer send
    it (HTTP clients and proxies read the header, not the sentence)."""
    from metropole.api import platform_error
    from metropole.core.exceptions import TooManyRequests
    from metropole.core.views.helpers import PlatformErrorMiddleware

    refusal = TooManyRequests("Too many", "Try again in 42 seconds.", retry_after=42)
    page = rf.get("/participer/")
    page.user = make_user("someone@example.org")
    answer = PlatformErrorMiddleware(lambda request: None).process_exception(page, refusal)
    assert answer.status_code == 429 and answer["Retry-After"] == "42"

    api = platform_error(rf.get("/api/datahub/resources/x/records"), refusal)
    assert api.status_code == 429 and api["Retry-After"] == "42"
    assert api["Content-Type"] == "application/problem+json"


def test_a_server_error_answers_a_page_in_french_with_a_way_home(rf):
    """Django renders 500.html without a request context: ours needs none (no menus), speaks
    French first and leads home, instead of the bare "Server Error (500)"."""
    from django.views.defaults import server_error

    answer = server_error(rf.get("/demarches/"))
    html = answer.content.decode()
    assert answer.status_code == 500
    assert '<html lang="fr">' in html and 'href="/"' in html
    assert "Le service a rencontré une erreur" in html and "metropole.css" in html
