"""Online procedures in a real browser: a citizen fills the demo civil-status procedure page
by page (errors, a conditional question, the address) and follows it; an agent of the commune
finds it in the queue and handles it. axe-core on every page on the way."""

from playwright.sync_api import expect

from metropole.core.models import Role, Territory
from metropole.procedures.demo import load_demo
from metropole.procedures.models import Request, Team
from tests.conftest import PASSWORD

from .conftest import assert_accessible, assert_no_horizontal_scroll, log_in, screenshot

LILLE_COMMUNE = "59350"


def test_a_citizen_sends_a_procedure_and_an_agent_handles_it(
    new_context, territories, make_user, grant
):
    commune = Territory.objects.get(code=LILLE_COMMUNE)
    commune.has_joined = True
    commune.save()
    load_demo(territories)
    citizen = make_user("camille.citoyenne@example.org")
    agent = make_user("dominique.agent@mairie-lille.fr")
    grant(agent, commune, Role.AGENT)
    Team.objects.get(territory=commune, slug="etat-civil").members.add(agent)

    page = new_context().new_page()
    log_in(page, citizen.email, PASSWORD)
    page.goto("/demarches/")
    assert_accessible(page, "procedures")
    page.click("text=Demander un acte d'état civil")
    assert_accessible(page, "procedure start")
    page.click("main form button[type=submit]")

    # Step 1, sent empty: errors listed at the top and next to each field.
    page.wait_for_selector('main h1:has-text("L\'acte demandé")')
    page.click("button[name=next]")
    page.wait_for_selector(".alert--error")
    assert page.locator(".field--error").count() >= 5
    assert_accessible(page, "step 1 with errors")
    page.check("text=Acte de naissance")
    page.select_option("#f-format", "Extrait avec filiation")
    page.fill("#f-nom", "Martin")
    page.fill("#f-prenoms", "Camille")
    page.fill("#f-date_evenement", "1990-07-14")
    page.fill("#f-lieu", "Place Augustin Laurent")
    # The core map in "pick a point" mode: a click on a commune fills the point and the
    # commune instead of opening the commune's page; choosing a commune by hand drops the point.
    page.locator("#map path.leaflet-interactive").first.click()
    expect(page.locator("#f-lieu-commune")).not_to_have_value("")
    assert page.input_value("#f-lieu-lat") and page.input_value("#f-lieu-lon")
    assert page.url.endswith("/page/1/")
    page.select_option("#f-lieu-commune", LILLE_COMMUNE)
    assert page.input_value("#f-lieu-lat") == "" == page.input_value("#f-lieu-lon")
    screenshot(page, "procedure-step1")
    page.click("button[name=next]")

    # Step 2: the question "Précisez…" appears only for "Autre".
    page.wait_for_selector("main h1:has-text('Vous')")
    other = page.locator("[data-show-when=qualite]")
    assert other.is_hidden()
    page.check("text=Autre")
    assert other.is_visible()
    page.fill("#f-qualite_autre", "Notaire")
    page.fill("#f-nom_demandeur", "Camille Martin")
    page.fill("#f-adresse_envoi", "1 rue de la Paix, 59000 Lille")
    page.fill("#f-exemplaires", "1")
    assert_accessible(page, "step 2")
    page.click("button[name=next]")

    page.wait_for_selector("text=Notaire")
    assert_accessible(page, "review")
    page.click("main form button[type=submit]:has-text('Send my request')")
    page.wait_for_selector(".tracking-code")
    code = page.inner_text(".tracking-code")
    request = Request.objects.get(code=code)
    assert request.territory == commune and request.data["qualite_autre"] == "Notaire"
    assert request.team.slug == "etat-civil"
    page.click("text=Follow my request")
    page.wait_for_selector(f"main h1:has-text('{code}')")
    assert "Nouvelle demande" in page.inner_text("main")
    assert_accessible(page, "status page")
    page.set_viewport_size({"width": 375, "height": 740})
    assert_no_horizontal_scroll(page, "status page at 375px")
    screenshot(page, "procedure-status-375px")

    # The agent of the commune handles it.
    office = new_context().new_page()
    log_in(office, agent.email, PASSWORD)
    office.goto(f"/demarches/gestion/{commune.slug}/")
    row = office.locator("main table tbody tr", has_text=code)
    assert row.count() == 1
    assert_accessible(office, "agent queue")
    screenshot(office, "procedure-queue")
    row.locator(f"text={code}").click()
    office.wait_for_selector(f"main h1:has-text('{code}')")
    assert_accessible(office, "request for the agent")
    office.click("button:has-text('Prendre en charge')")
    office.wait_for_selector(".alert--success")
    office.fill("#m-text", "Nous recherchons l'acte dans le registre.")
    office.click("button:has-text('Send to the citizen')")
    office.wait_for_selector(".alert--success")
    office.click("button:has-text('Acte envoyé')")
    office.wait_for_selector(".alert--success")
    screenshot(office, "procedure-handled")
    request.refresh_from_db()
    assert request.status == "acceptee" and request.closed_at is not None

    page.reload()
    text = page.inner_text("main")
    assert "Acte envoyé" in text and "registre" in text
