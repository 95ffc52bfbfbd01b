"""Sign-up, e-mail verification, log-in and "my account" in a real browser."""

import re

from django.core import mail

from metropole.core.models import User
from tests.conftest import PASSWORD

from .conftest import assert_accessible, screenshot

EMAIL = "camille.martin@example.org"


def test_sign_up_verify_and_log_in(page, live_server):
    page.goto("/compte/inscription/")
    assert_accessible(page, "sign-up")

    # A weak password: the form comes back with the error on the password field.
    page.fill("#id_email", EMAIL)
    page.fill("#id_first_name", "Camille")
    page.select_option("#id_home_commune", label="Roubaix")
    page.fill("#id_password", "12345678")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".field--error")
    password = page.locator("#id_password")
    assert password.get_attribute("aria-invalid") == "true"
    assert page.locator(".field--error #id_password").count() == 1
    assert page.locator(".field--error").count() == 1
    error = page.locator("#id_password_error")  # one element, as aria-describedby says
    assert error.is_visible()
    assert error.locator("p").count() == 3  # too short, too common, entirely numeric
    assert "id_password_error" in (password.get_attribute("aria-describedby") or "")
    # The error summary gets the focus, so screen readers announce it.
    assert page.evaluate("document.activeElement.matches('.alert--error[role=alert]')")
    # What was typed is kept, except the password.
    assert page.input_value("#id_email") == EMAIL
    assert page.input_value("#id_first_name") == "Camille"
    assert page.locator("#id_home_commune option:checked").inner_text() == "Roubaix"
    assert page.input_value("#id_password") == ""
    assert not User.objects.filter(email=EMAIL).exists()
    assert_accessible(page, "sign-up with errors")
    screenshot(page, "signup-errors")

    # A good password: "check your e-mail", and the link is in the mail.
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector(".alert--success strong")
    assert page.inner_text(".alert--success strong") == EMAIL
    assert_accessible(page, "sign-up done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [EMAIL]
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0)
    assert link.startswith(live_server.url + "/compte/verifier/")
    user = User.objects.get(email=EMAIL)
    assert not user.email_is_verified

    # Following the link confirms the address and leads to log-in.
    page.goto(link)
    page.wait_for_url("**/compte/connexion/")
    assert EMAIL in page.inner_text(".messages .alert--success")
    user.refresh_from_db()
    assert user.email_is_verified
    assert_accessible(page, "log-in")

    page.fill("#id_username", EMAIL.upper())  # addresses are not case-sensitive
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/mon-compte/")
    assert page.inner_text("main .page-header .lead") == EMAIL
    assert page.input_value("#id_first_name") == "Camille"
    assert page.locator("#id_home_commune option:checked").inner_text() == "Roubaix"
    assert page.locator(".alert--warning").count() == 0  # the address is confirmed
    assert_accessible(page, "my account")
    screenshot(page, "my-account")


def test_log_in_with_a_wrong_password(page, make_user):
    make_user("lou@example.org")
    page.goto("/mon-compte/")
    page.wait_for_url("**/compte/connexion/?next=/mon-compte/")
    page.fill("#id_username", "lou@example.org")
    page.fill("#id_password", "not-the-password")
    page.click("main form button[type=submit]")
    alert = page.locator("main .alert--error[role=alert]")
    alert.wait_for()
    assert page.evaluate("document.activeElement.matches('.alert--error')")
    assert_accessible(page, "log-in with an error")
    screenshot(page, "login-error")

    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/mon-compte/")  # back where the person wanted to go
    assert page.inner_text("main .page-header .lead") == "lou@example.org"
