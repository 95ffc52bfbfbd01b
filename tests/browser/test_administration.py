"""Role management by a metropole administrator, in a real browser."""

from django.utils import translation

from metropole.core.models import Membership, Role, Territory
from tests.conftest import PASSWORD

from .conftest import assert_accessible, assert_no_horizontal_scroll, log_in, screenshot

ROUBAIX = "59512"


def test_a_metropole_admin_grants_and_withdraws_a_commune_role(page, metropole_admin, make_user):
    agent = make_user("dominique.agent@example.org", first_name="Dominique", last_name="Agent")
    roubaix = Territory.objects.get(code=ROUBAIX)
    members_url = f"/administration/{roubaix.slug}/membres/"

    log_in(page, metropole_admin.email, PASSWORD)
    page.goto(members_url)
    assert page.locator("main h1").count() == 1
    rows = page.locator("main table tbody tr")
    assert rows.count() == 1 and rows.first.locator("td[colspan]").count() == 1  # nobody yet
    assert_accessible(page, "members of Roubaix (empty)")

    # Unknown address: the error is on the e-mail field.
    page.fill("#id_email", "nobody@example.org")
    page.select_option("#id_role", "agent")
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_selector(".field--error #id_email")
    assert page.get_attribute("#id_email", "aria-invalid") == "true"
    assert_accessible(page, "members with an error")

    page.fill("#id_email", agent.email)
    page.select_option("#id_role", "agent")
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_selector(".messages .alert--success")
    membership = Membership.objects.get(user=agent, territory=roubaix)
    assert membership.role == Role.AGENT
    row = page.locator("main table tbody tr", has_text=agent.email)
    assert row.count() == 1
    assert "Dominique Agent" in row.inner_text()
    with translation.override("en"):
        assert str(membership.role_label) in row.inner_text()
    assert_accessible(page, "members of Roubaix")
    screenshot(page, "members")

    # On a phone the table scrolls inside its frame, not the whole page; the pages of the
    # administration fold behind a button naming the current one, so the page starts at once.
    page.set_viewport_size({"width": 375, "height": 740})
    page.reload()
    assert_no_horizontal_scroll(page, "members at 375px")
    pages = page.locator("#admin-nav-links")
    toggle = page.locator(".side-nav .fold-toggle")
    assert toggle.is_visible() and not pages.is_visible()
    assert toggle.inner_text().startswith("Members")
    assert page.locator("main h1").bounding_box()["y"] < 740
    toggle.click()
    assert pages.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    assert_accessible(page, "members at 375px, pages of the administration open")
    screenshot(page, "members-375px")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not toggle.is_visible() and pages.is_visible()
    page.set_viewport_size({"width": 1280, "height": 900})

    # Withdraw asks first: saying no keeps the role...
    dialogs = []

    def answer(accept):
        def handler(dialog):
            dialogs.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handler

    page.once("dialog", answer(False))
    row.locator("button[type=submit]").click()
    page.wait_for_timeout(300)  # a submission would have started by now
    assert len(dialogs) == 1 and dialogs[0].strip()
    assert Membership.objects.filter(pk=membership.pk).exists()

    # ... saying yes withdraws it.
    page.once("dialog", answer(True))
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert len(dialogs) == 2
    page.wait_for_selector(".messages .alert--success")
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert page.locator("main table tbody tr", has_text=agent.email).count() == 0


def test_a_resident_cannot_open_the_members_page(page, make_user):
    make_user("resident@example.org")
    log_in(page, "resident@example.org", PASSWORD)
    response = page.goto(f"/administration/{Territory.objects.get(code=ROUBAIX).slug}/membres/")
    assert response.status == 403
    assert page.locator("main .alert--error[role=alert]").is_visible()
    assert_accessible(page, "403 page")


def test_every_page_of_the_admin_and_account_areas(new_context, metropole_admin, lille):
    """Beyond the flows above: each page of both areas, on a desktop and on a phone."""
    admin_pages = ["", "membres/", "identite/", "communes/", "organisations/", "journal/"]
    paths = ["/administration/", "/administration/?q=roubaix"]
    paths += [f"/administration/{lille.slug}/{p}" for p in admin_pages] + [
        "/mon-compte/",
        "/mon-compte/jetons/",
        "/mon-compte/supprimer/",
        "/mon-compte/securite/",
    ]
    for width in (1280, 375):
        page = new_context(width=width).new_page()
        log_in(page, metropole_admin.email, PASSWORD)
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, path
            assert_accessible(page, f"{path} at {width}px")
            assert_no_horizontal_scroll(page, f"{path} at {width}px")
    # The authenticator set-up shows a QR code (an inline SVG: the CSP watch checks it).
    page.click("main form button[type=submit]")
    page.wait_for_selector("main svg")
    assert_accessible(page, "security: scan the QR code")
    assert_no_horizontal_scroll(page, "security at 375px")
    screenshot(page, "security-qr-375px")
