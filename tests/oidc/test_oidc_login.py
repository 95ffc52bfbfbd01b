"""Log-in with FranceConnect / ProConnect, against a real OpenID Connect provider.

Every journey below goes through HTTP: our log-in page and button (live server), the
provider's authorize endpoint, log-in form and consent page (django-oauth-toolkit in its
own process), then our callback, which calls the provider's token, JWKS and userinfo
endpoints. Nothing of ours is mocked.
"""

import runpy
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from metropole.core import services
from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import AuditEvent, OidcIdentity, User
from tests.conftest import PASSWORD

from .conftest import PROVIDER_USER, REPO, _free_port, forms_of, provider_settings

EMAIL = PROVIDER_USER["email"]


def written() -> tuple[int, int, int]:
    """What a log-in can write: accounts, identity links, audit events."""
    return User.objects.count(), OidcIdentity.objects.count(), AuditEvent.objects.count()


def oidc_buttons(page) -> list[str]:
    return [f["action"] for f in forms_of(page) if f["action"].startswith("/compte/oidc/")]


# --- the journeys that work ---------------------------------------------------------------


def test_button_sends_to_the_provider_with_pkce_state_nonce_and_acr(oidc_settings, visitor):
    page = visitor.click_provider_button("franceconnect")

    ours = page.history[0]
    assert ours.status_code == 302
    authorize = urlsplit(ours.headers["Location"])
    assert (
        f"{authorize.scheme}://{authorize.netloc}"
        in oidc_settings.OIDC_PROVIDERS["franceconnect"]["discovery_url"]
    )
    query = {key: values[0] for key, values in parse_qs(authorize.query).items()}
    assert authorize.path == "/o/authorize/"
    assert query["client_id"] == "metropole-fc"
    assert query["response_type"] == "code"
    assert query["scope"] == "openid email given_name family_name"
    assert query["acr_values"] == "eidas1"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["redirect_uri"] == f"{visitor.base_url}/compte/oidc/franceconnect/retour/"
    # ... and the provider accepted all of it: it asks the person to log in.
    assert page.status_code == 200 and "/accounts/login/" in page.url


def test_first_log_in_creates_a_verified_account_linked_to_the_identity(oidc_settings, visitor):
    assert not User.objects.filter(email=EMAIL).exists()

    response = visitor.log_in_with("franceconnect")

    assert response.status_code == 200
    assert urlsplit(response.url).path == "/mon-compte/"
    account = visitor.get("/mon-compte/")
    assert account.status_code == 200 and urlsplit(account.url).path == "/mon-compte/"
    assert EMAIL in account.text
    user = User.objects.get(email=EMAIL)
    assert user.email_is_verified
    assert (user.first_name, user.last_name) == ("Camille", "Martin")
    assert not user.has_usable_password()
    identity = user.oidc_identities.get()
    assert identity.provider == "franceconnect" and identity.subject
    assert identity.last_login_at is not None
    event = AuditEvent.objects.get(action="account.oidc_login")
    assert event.actor == user
    assert event.details == {"provider": "franceconnect", "created": True, "linked": True}


def test_second_log_in_reuses_the_account_and_follows_next(oidc_settings, new_visitor):
    new_visitor().log_in_with("franceconnect")
    first = User.objects.get(email=EMAIL)

    response = new_visitor().log_in_with("franceconnect", next_url="/mon-compte/securite/")

    assert response.status_code == 200
    assert urlsplit(response.url).path == "/mon-compte/securite/"
    assert list(User.objects.values_list("pk", flat=True)) == [first.pk]
    assert OidcIdentity.objects.get().user == first
    events = AuditEvent.objects.filter(action="account.oidc_login").order_by("at", "pk")
    assert [(e.details["created"], e.details["linked"]) for e in events] == [
        (True, True),
        (False, False),
    ]


def test_next_leading_to_another_site_is_ignored(oidc_settings, visitor):
    response = visitor.log_in_with("franceconnect", next_url="https://evil.example/steal")

    assert response.status_code == 200
    assert response.url.startswith(visitor.base_url + "/mon-compte/")


def test_existing_verified_account_is_linked_not_duplicated(oidc_settings, visitor, make_user):
    existing = make_user("Camille.Martin@example.org", first_name="Cam")

    response = visitor.log_in_with("franceconnect")

    assert urlsplit(response.url).path == "/mon-compte/"
    assert list(User.objects.values_list("pk", flat=True)) == [existing.pk]
    existing.refresh_from_db()
    assert existing.oidc_identities.get().provider == "franceconnect"
    assert existing.first_name == "Cam"  # what the person set is kept
    assert existing.check_password(PASSWORD)  # a verified account keeps its password
    event = AuditEvent.objects.get(action="account.oidc_login")
    assert event.details == {"provider": "franceconnect", "created": False, "linked": True}


def test_proconnect_signed_userinfo_without_email_verified(oidc_settings, visitor):
    """Like the real ProConnect: the ID token carries only `sub`, the userinfo is a signed
    JWT and has no `email_verified`; the address still counts as verified (docs/oidc.md)."""
    response = visitor.log_in_with("proconnect")

    assert urlsplit(response.url).path == "/mon-compte/"
    user = User.objects.get(email=EMAIL)
    assert user.email_is_verified
    assert (user.first_name, user.last_name) == ("Camille", "Martin")  # usual_name
    assert user.oidc_identities.get().provider == "proconnect"


def test_one_account_for_both_services(oidc_settings, new_visitor):
    new_visitor().log_in_with("franceconnect")
    new_visitor().log_in_with("proconnect")

    user = User.objects.get()
    assert sorted(user.oidc_identities.values_list("provider", flat=True)) == [
        "franceconnect",
        "proconnect",
    ]


def test_unverified_local_account_is_taken_over_without_its_password(
    oidc_settings, visitor, new_visitor, make_user
):
    """Someone registered the address without proving it is theirs: when its owner comes
    through the provider, the account becomes theirs and the squatter's access goes."""
    squatter = make_user(EMAIL, verified=False)
    token, _key = services.create_api_token(squatter, "squatter's script")

    visitor.log_in_with("franceconnect")

    squatter.refresh_from_db()
    token.refresh_from_db()
    assert squatter.email_is_verified and not squatter.has_usable_password()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(action="account.oidc_login")
    assert event.details["took_over_unverified_account"] is True
    other = new_visitor()
    page = other.get("/compte/connexion/")
    form = next(f for f in forms_of(page) if f["action"] == "/compte/connexion/")
    refused = other.submit(page, form, {"username": EMAIL, "password": PASSWORD})
    assert refused.status_code == 200 and urlsplit(refused.url).path == "/compte/connexion/"


def test_account_with_an_authenticator_app_still_gives_its_code(oidc_settings, visitor, make_user):
    user = make_user(EMAIL)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    response = visitor.log_in_with("franceconnect", next_url="/mon-compte/securite/")

    assert urlsplit(response.url).path == "/compte/connexion/code/"
    assert urlsplit(visitor.get("/mon-compte/").url).path == "/compte/connexion/"
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    form = next(f for f in forms_of(response) if f["action"] in ("", "/compte/connexion/code/"))
    done = visitor.submit(response, form, {"token": f"{totp.token():0{device.digits}d}"})
    assert urlsplit(done.url).path == "/mon-compte/securite/"


# --- what goes wrong ----------------------------------------------------------------------


def test_refused_consent_shows_a_readable_error_and_creates_nothing(oidc_settings, visitor):
    consent = visitor.log_in_at_provider(visitor.click_provider_button("franceconnect"))
    before = written()

    response = visitor.answer_consent(consent, allow=False)

    assert response.status_code == 400
    callback = urlsplit(response.url)
    assert callback.path == "/compte/oidc/franceconnect/retour/"
    assert parse_qs(callback.query)["error"] == ["access_denied"]
    assert "Log-in cancelled" in response.text
    assert "You cancelled the log-in with FranceConnect" in response.text
    assert written() == before
    assert urlsplit(visitor.get("/mon-compte/").url).path == "/compte/connexion/"


def test_tampered_or_replayed_state_is_refused_and_writes_nothing(
    oidc_settings, visitor, new_visitor
):
    consent = visitor.log_in_at_provider(visitor.click_provider_button("franceconnect"))
    answer = visitor.answer_consent(consent, allow=True, follow=False)
    assert answer.status_code == 302
    genuine = answer.headers["Location"]
    state = parse_qs(urlsplit(genuine).query)["state"][0]
    before = written()

    tampered = visitor.get(genuine.replace(state, state[:-4] + "AAAA"))
    # The same answer opened in someone else's browser (log-in CSRF) is refused too.
    elsewhere = new_visitor().get(genuine)

    for response in (tampered, elsewhere):
        assert response.status_code == 400
        assert "Log-in expired" in response.text
    assert written() == before
    assert urlsplit(visitor.get("/mon-compte/").url).path == "/compte/connexion/"

    # The genuine answer works once in the browser that started the log-in ...
    assert urlsplit(visitor.get(genuine).url).path == "/mon-compte/"
    after = written()
    # ... and never again.
    replayed = visitor.get(genuine)
    assert replayed.status_code == 400 and "Log-in expired" in replayed.text
    assert written() == after


def test_wrong_client_secret_is_a_readable_502_and_writes_nothing(oidc_settings, visitor):
    oidc_settings.OIDC_PROVIDERS = {
        name: {**conf, "client_secret": "not-the-secret"}
        for name, conf in oidc_settings.OIDC_PROVIDERS.items()
    }
    before = written()

    response = visitor.log_in_with("franceconnect")

    assert response.status_code == 502
    assert urlsplit(response.url).path == "/compte/oidc/franceconnect/retour/"
    assert "Log-in service unavailable" in response.text
    assert written() == before


def test_id_token_not_signed_by_the_provider_is_refused(oidc_settings, visitor):
    """Our client is made to believe the provider's key (same key id) is another one: the
    real ID token's signature then fails to verify, as would a forged token's."""
    from joserfc.jwk import RSAKey

    from metropole.core import oidc

    client = oidc.client("franceconnect")
    metadata = client.load_server_metadata()
    real_kid = requests.get(metadata["jwks_uri"], timeout=5).json()["keys"][0]["kid"]
    impostor = RSAKey.generate_key(2048).as_dict(private=False)
    client.server_metadata["jwks"] = {"keys": [{**impostor, "kid": real_kid}]}
    before = written()

    response = visitor.log_in_with("franceconnect")

    assert response.status_code == 502
    assert "Log-in service unavailable" in response.text
    assert written() == before


def test_unreachable_provider_is_a_readable_502(settings, oidc_provider, visitor):
    providers = provider_settings(oidc_provider)
    closed = f"http://127.0.0.1:{_free_port()}/o/.well-known/openid-configuration"
    providers["franceconnect"]["discovery_url"] = closed
    settings.OIDC_PROVIDERS = providers
    before = written()

    response = visitor.click_provider_button("franceconnect")

    assert response.status_code == 502
    assert "FranceConnect did not answer as expected" in response.text
    assert written() == before


def test_unknown_or_disabled_provider_is_404(oidc_settings, visitor):
    page = visitor.get("/compte/connexion/")
    csrf = {"csrfmiddlewaretoken": visitor.http.cookies["csrftoken"]}

    unknown = visitor.http.post(f"{visitor.base_url}/compte/oidc/nope/connexion/", data=csrf)
    assert unknown.status_code == 404 and "Unknown log-in service" in unknown.text
    assert visitor.get("/compte/oidc/nope/retour/?code=x&state=y").status_code == 404

    oidc_settings.OIDC_PROVIDERS = {
        **oidc_settings.OIDC_PROVIDERS,
        "proconnect": {**oidc_settings.OIDC_PROVIDERS["proconnect"], "client_id": ""},
    }
    disabled = visitor.http.post(f"{visitor.base_url}/compte/oidc/proconnect/connexion/", data=csrf)
    assert disabled.status_code == 404
    # The button is a form: a plain link to it does nothing.
    assert page.status_code == 200
    assert visitor.get("/compte/oidc/franceconnect/connexion/").status_code == 405


def test_login_page_shows_provider_buttons_only_when_configured(settings, oidc_provider, visitor):
    configured = provider_settings(oidc_provider)
    settings.OIDC_PROVIDERS = {
        name: {**conf, "discovery_url": "", "client_id": "", "client_secret": ""}
        for name, conf in configured.items()
    }
    page = visitor.get("/compte/connexion/")
    assert page.status_code == 200
    assert oidc_buttons(page) == [] and "FranceConnect" not in page.text

    settings.OIDC_PROVIDERS = {
        **configured,
        "proconnect": {**configured["proconnect"], "client_id": ""},
    }
    page = visitor.get("/compte/connexion/?next=/mon-compte/securite/")
    assert oidc_buttons(page) == ["/compte/oidc/franceconnect/connexion/"]
    button = next(f for f in forms_of(page) if f["action"] in oidc_buttons(page))
    assert button["fields"]["next"] == "/mon-compte/securite/"

    settings.OIDC_PROVIDERS = configured
    page = visitor.get("/compte/connexion/")
    assert oidc_buttons(page) == [
        "/compte/oidc/franceconnect/connexion/",
        "/compte/oidc/proconnect/connexion/",
    ]
    assert "FranceConnect" in page.text and "ProConnect" in page.text


# --- rules without a provider -------------------------------------------------------------


def test_csp_form_action_allows_the_enabled_providers(monkeypatch):
    monkeypatch.setenv("FRANCECONNECT_DISCOVERY_URL", "https://fc.example/api/v2/.well-known/x")
    monkeypatch.setenv("FRANCECONNECT_CLIENT_ID", "fc")
    monkeypatch.setenv("PROCONNECT_DISCOVERY_URL", "https://pc.example:8443/.well-known/x")
    monkeypatch.setenv("PROCONNECT_CLIENT_ID", "")

    values = runpy.run_path(str(REPO / "metropole" / "settings.py"))

    form_action = values["SECURE_CSP"]["form-action"]
    assert "https://fc.example" in form_action
    assert not any("pc.example" in source for source in form_action)


@pytest.mark.parametrize(
    ("provider", "claims", "trusted"),
    [
        ("franceconnect", {}, True),
        ("proconnect", {}, True),
        ("franceconnect", {"email_verified": False}, False),
        ("other", {}, False),
        ("other", {"email_verified": True}, True),
        ("other", {"email_verified": "true"}, True),
        ("other", {"email_verified": "false"}, False),
    ],
)
def test_which_e_mail_addresses_are_trusted(provider, claims, trusted):
    assert services.oidc_email_verified(provider, claims) is trusted


def test_untrusted_address_of_an_existing_account_is_refused(make_user):
    make_user(EMAIL)
    before = written()

    with pytest.raises(Conflict):
        services.sign_in_with_oidc("other", {"sub": "42", "email": EMAIL})

    assert written() == before


def test_untrusted_address_makes_an_unverified_account(db):
    user = services.sign_in_with_oidc("other", {"sub": "42", "email": "new@example.org"})

    assert not user.email_is_verified
    assert user.oidc_identities.get().subject == "42"


def test_answer_without_subject_or_address_is_refused(db):
    before = written()

    with pytest.raises(BadRequest):
        services.sign_in_with_oidc("franceconnect", {"email": EMAIL})
    with pytest.raises(BadRequest):
        services.sign_in_with_oidc("franceconnect", {"sub": "42"})

    assert written() == before


def test_disabled_account_cannot_log_in(make_user):
    user = make_user(EMAIL, is_active=False)
    before = written()

    with pytest.raises(PermissionDenied):
        services.sign_in_with_oidc("franceconnect", {"sub": "42", "email": EMAIL})

    assert written() == before
    assert not user.oidc_identities.exists()


def test_deleted_account_is_not_brought_back(make_user):
    user = make_user(EMAIL)
    services.sign_in_with_oidc("franceconnect", {"sub": "42", "email": EMAIL})
    services.delete_account(user)

    again = services.sign_in_with_oidc("franceconnect", {"sub": "42", "email": EMAIL})

    assert again.pk != user.pk and again.email == EMAIL and again.is_active
    assert OidcIdentity.objects.get(provider="franceconnect", subject="42").user == again
