"""Accounts: sign-up with e-mail verification, log-in with rate limit and second factor,
password reset, my data export and account deletion."""

import json
import re

import pytest
from django.core import mail
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from metropole.core import services
from metropole.core.models import ApiToken, AuditEvent, Membership, Role, User

from ..conftest import PASSWORD

LINK = re.compile(r"https?://\S+")


@pytest.fixture
def sign_up(client, django_capture_on_commit_callbacks):
    """Posts the sign-up form; e-mails queued on commit are sent (tasks run inline)."""

    def post(email="marie@example.org", password=PASSWORD, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/compte/inscription/",
                {"email": email, "password": password, "first_name": "Marie", **extra},
            )

    return post


def test_sign_up_sends_a_link_that_verifies_the_address(client, sign_up, commune):
    response = sign_up(home_commune=commune("59512").pk)
    assert response.status_code == 200 and "marie@example.org" in response.content.decode()
    user = User.objects.get(email="marie@example.org")
    assert not user.email_is_verified and user.home_commune.code == "59512"
    assert len(mail.outbox) == 1
    link = LINK.search(mail.outbox[0].body).group()
    assert "marie" not in link  # the address never travels in URLs (logs, referrers)
    assert client.get(link).status_code == 302
    user.refresh_from_db()
    assert user.email_is_verified


def test_sign_up_leads_back_where_the_person_was_going(client, sign_up):
    """Sent to sign up from "Report a problem": after the sign-up, the log-in and the e-mail
    link lead back to the report form; an address of another site is not followed."""
    start = client.get("/compte/inscription/?next=/signalements/nouveau/").content.decode()
    assert 'name="next" value="/signalements/nouveau/"' in start
    done = sign_up(next="/signalements/nouveau/").content.decode()
    assert 'href="/compte/connexion/?next=/signalements/nouveau/"' in done
    link = LINK.search(mail.outbox[0].body).group()
    assert client.get(link)["Location"] == "/compte/connexion/?next=%2Fsignalements%2Fnouveau%2F"
    logged_in = client.post(
        "/compte/connexion/?next=/signalements/nouveau/",
        {"username": "marie@example.org", "password": PASSWORD, "next": "/signalements/nouveau/"},
    )
    assert logged_in["Location"] == "/signalements/nouveau/"

    client.logout()
    elsewhere = sign_up(email="paul@example.org", next="https://evil.example.com/").content
    assert b"evil.example.com" not in elsewhere


def test_sign_up_refuses_weak_passwords_and_used_addresses(sign_up, make_user):
    weak = sign_up(password="12345678")
    assert weak.status_code == 200 and 'aria-invalid="true"' in weak.content.decode()
    make_user("taken@example.org")
    taken = sign_up(email="Taken@Example.org")
    assert "already uses this e-mail" in taken.content.decode()
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    assert not mail.outbox


def test_expired_or_forged_verification_links_say_so(client, sign_up):
    sign_up()
    link = LINK.search(mail.outbox[0].body).group()
    with freeze_time("2030-01-01"):
        expired = client.get(link)
    assert expired.status_code == 400 and "expired" in expired.content.decode()
    forged = client.get(link[:-3] + "xyz/")
    assert forged.status_code == 400 and "not valid" in forged.content.decode()
    assert not User.objects.get(email="marie@example.org").email_is_verified


def test_log_in_and_out(client, make_user):
    make_user("paul@example.org")
    response = client.post(
        "/compte/connexion/", {"username": "PAUL@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/mon-compte/"
    assert "paul@example.org" in client.get("/mon-compte/").content.decode()
    client.post("/compte/deconnexion/")
    assert client.get("/mon-compte/").status_code == 302


def test_log_in_never_redirects_to_another_site(client, make_user):
    make_user("paul@example.org")
    response = client.post(
        "/compte/connexion/?next=https://evil.example/",
        {"username": "paul@example.org", "password": PASSWORD},
    )
    assert response["Location"] == "/mon-compte/"


@override_settings(LOGIN_RATE_LIMIT=3)
def test_log_in_is_rate_limited_even_with_the_right_password(client, make_user):
    make_user("paul@example.org")
    for _ in range(3):
        wrong = client.post(
            "/compte/connexion/", {"username": "paul@example.org", "password": "wrong-password"}
        )
        assert wrong.status_code == 200
    blocked = client.post(
        "/compte/connexion/", {"username": "paul@example.org", "password": PASSWORD}
    )
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert client.get("/mon-compte/").status_code == 302  # still logged out


def test_two_factor_log_in(client, make_user):
    user = make_user("admin2fa@example.org")
    client.force_login(user)
    with freeze_time("2026-11-22 10:00:00") as clock:
        client.post("/mon-compte/securite/activer/")
        device = TOTPDevice.objects.get(user=user)
        page = client.get("/mon-compte/securite/").content.decode()
        assert "<svg" in page  # the QR code, inline SVG (no external image service)
        client.post("/mon-compte/securite/", {"token": str(totp(device.bin_key)).zfill(6)})
        device.refresh_from_db()
        assert device.confirmed
        client.logout()

        clock.tick(60)  # a code is valid once: move to the next time step
        step_one = client.post("/compte/connexion/", {"username": user.email, "password": PASSWORD})
        assert step_one["Location"] == "/compte/connexion/code/"
        assert client.get("/mon-compte/").status_code == 302  # not logged in yet
        assert client.post("/compte/connexion/code/", {"token": "000000"}).status_code == 200
        clock.tick(60)  # past django-otp's throttling delay after a wrong code
        code = str(totp(device.bin_key)).zfill(6)
        assert client.post("/compte/connexion/code/", {"token": code}).status_code == 302
        assert client.get("/mon-compte/").status_code == 200


def test_password_reset(client, make_user, django_capture_on_commit_callbacks):
    make_user("oubli@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/compte/mot-de-passe/oublie/", {"email": "oubli@example.org"})
    link = LINK.search(mail.outbox[0].body).group()
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new = "another-long-passphrase-42"
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}
    )
    assert done.status_code == 302
    assert client.login(email="oubli@example.org", password=new)


def test_my_data_export_contains_my_account_and_roles(client, make_user, grant, commune):
    user = make_user("export@example.org", first_name="Inès")
    grant(user, commune("59512"), Role.CITIZEN)
    client.force_login(user)
    response = client.get("/mon-compte/mes-donnees.json")
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["account"]["email"] == "export@example.org"
    assert data["account"]["first_name"] == "Inès"
    assert data["roles"][0]["territory"] == "59512"


def test_deleting_my_account_erases_personal_data_and_keeps_the_trail_anonymous(
    client, make_user, grant, commune
):
    user = make_user("bye@example.org", first_name="Jean", last_name="Dupont")
    grant(user, commune("59512"), Role.CITIZEN)
    services.create_api_token(user, "script")
    client.force_login(user)
    wrong = client.post("/mon-compte/supprimer/", {"password": "nope", "confirm": "on"})
    assert wrong.status_code == 200 and User.objects.get(pk=user.pk).is_active
    client.post("/mon-compte/supprimer/", {"password": PASSWORD, "confirm": "on"})
    user.refresh_from_db()
    assert (user.email, user.first_name, user.last_name) == (f"deleted-{user.pk}@invalid", "", "")
    assert not user.is_active and not user.has_usable_password()
    assert not Membership.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user).exists()
    labels = set(AuditEvent.objects.filter(actor=user).values_list("actor_label", flat=True))
    assert labels == {f"deleted-account-{user.pk}"}
    assert not AuditEvent.objects.filter(details__icontains="bye@example.org").exists()
    assert client.get("/mon-compte/").status_code == 302


def test_identity_provider_links_are_exported_and_erased(make_user):
    from metropole.core.models import OidcIdentity

    user = make_user("linked@example.org")
    OidcIdentity.objects.create(user=user, provider="franceconnect", subject="abc")
    exported = services.export_personal_data(user)
    assert [i["provider"] for i in exported["identity_providers"]] == ["franceconnect"]
    services.delete_account(user)
    assert not OidcIdentity.objects.filter(subject="abc").exists()
