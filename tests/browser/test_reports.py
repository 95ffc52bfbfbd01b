"""Reports on the core map in Chromium: the questions of the chosen category, placing the
point, the public map's points and popups, an agent placing an approximate report, and
reporting with JavaScript off (commune and landmark) — axe-core on the pages (with
JavaScript: axe runs in the page)."""

import pytest

from metropole.core.models import Role
from metropole.reports.demo import install_categories
from metropole.reports.models import Report, ReportCategory
from metropole.reports.services import submit_report
from tests.conftest import PASSWORD

from .conftest import assert_accessible, log_in, screenshot


@pytest.fixture
def demo(territories):
    install_categories(territories)
    return territories


def click_map_centre(page, selector="#map"):
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_the_form_asks_the_chosen_category_questions_and_places_the_point(page, demo, make_user):
    citizen = make_user("camille@example.org")
    log_in(page, citizen.email, PASSWORD)
    page.goto("/signalements/nouveau/")
    page.wait_for_selector("[data-reports-map=pick][data-map-ready]", state="attached")
    lighting = ReportCategory.objects.get(slug="eclairage")
    waste = ReportCategory.objects.get(slug="depot-sauvage")
    questions = f"[data-questions-for='{lighting.pk}']"
    # Before a category is chosen no question block shows; choosing one shows its own.
    assert page.is_hidden(questions) and page.is_hidden(f"[data-questions-for='{waste.pk}']")
    page.select_option("#id_category", str(lighting.pk))
    assert page.is_visible(questions)
    assert page.is_hidden(f"[data-questions-for='{waste.pk}']")
    assert page.is_hidden(f"{questions} [data-questions-intro]")
    click_map_centre(page)
    page.wait_for_selector("#pick-status:not(:empty)")
    # The core's lookup also selects the commune of the point in the no-map list.
    page.wait_for_selector("#map-result a")
    assert page.input_value("#id_commune") != ""
    page.fill(f"#id_q-{lighting.pk}-nombre-lampadaires", "3")
    page.fill("#id_description", "Trois lampadaires éteints.")
    assert_accessible(page, "report form with questions")
    page.click("main form button[type=submit] >> text=Send the report")
    page.wait_for_url("**/signalements/*/")
    report = Report.objects.get()
    assert report.answers == {"nombre-lampadaires": 3} and not report.location_approximate
    assert 50.4 < report.lat < 50.9


def test_the_public_map_draws_the_reports_over_outlines_that_do_not_react(page, demo, make_user):
    citizen = make_user("camille@example.org")
    report = submit_report(
        citizen,
        demo,
        category=ReportCategory.objects.get(slug="nid-de-poule"),
        lat=50.6903,
        lon=3.1817,
        description="Trou",
    )
    page.goto("/signalements/")
    page.wait_for_selector("[data-reports-map=browse][data-map-ready]", state="attached")
    # One interactive shape: the report's point; the communes are drawn, inert.
    assert page.locator("#map path.leaflet-interactive").count() == 1
    assert page.locator("#map path").count() > 90
    page.locator("#map path.leaflet-interactive").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Nid-de-poule" in popup.inner_text()
    assert popup.locator("a").get_attribute("href") == report.get_absolute_url()
    page.keyboard.press("Escape")
    before = page.url
    click_map_centre(page)
    page.wait_for_timeout(300)
    assert page.url == before  # a click on a commune does not leave the page
    assert_accessible(page, "public map of reports")
    page.goto(report.get_absolute_url())
    page.wait_for_selector("[data-reports-map=show][data-map-ready]", state="attached")
    assert page.locator("#map path.leaflet-interactive").count() == 0  # display only
    assert_accessible(page, "report page")


def test_an_agent_places_an_approximate_report(page, demo, make_user, grant, commune):
    hall = commune("59512").town_hall
    report = submit_report(
        make_user("camille@example.org"),
        demo,
        category=ReportCategory.objects.get(slug="depot-sauvage"),
        lat=hall["lat"],
        lon=hall["lon"],
        address="Rue de Lannoy, devant le n° 40",
        description="Sacs",
        location_approximate=True,
    )
    agent = make_user("proprete@example.org")
    grant(agent, demo, Role.AGENT)
    log_in(page, agent.email, PASSWORD)
    page.goto(f"/signalements/gestion/{demo.slug}/{report.pk}/")
    page.wait_for_selector("[data-reports-map=place][data-map-ready]", state="attached")
    assert "Approximate position" in page.inner_text("main")
    assert_accessible(page, "agent report page with the map to place it")
    start = page.input_value("#id_p-lat"), page.input_value("#id_p-lon")
    # The map is centred on the town hall: a click a little to the east stays in Roubaix.
    page.locator("#map").scroll_into_view_if_needed()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 20)
    page.wait_for_selector("#map-result:not(:empty)")
    moved = page.input_value("#id_p-lat"), page.input_value("#id_p-lon")
    assert moved != start
    page.click("main form button >> text=Save the position")
    page.wait_for_selector(".messages .alert--success")
    report.refresh_from_db()
    assert not report.location_approximate
    assert (f"{report.lat:.6f}", f"{report.lon:.6f}") == moved
    screenshot(page, "reports-agent-placed")


def test_without_javascript_a_report_is_placed_by_commune_and_landmark(
    new_context, demo, make_user
):
    citizen = make_user("camille@example.org")
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, citizen.email, PASSWORD)
    page.goto("/signalements/nouveau/")
    waste = ReportCategory.objects.get(slug="depot-sauvage")
    # Every category's questions show, each saying what it is for.
    assert page.is_visible(f"[data-questions-for='{waste.pk}'] [data-questions-intro]")
    page.click("summary >> text=No map? Choose the commune and say where")
    page.select_option("#id_commune", label="Roubaix")
    page.fill("#id_address", "Rue de Lannoy, devant le n° 40")
    page.select_option("#id_category", str(waste.pk))
    page.check(f"input[name='q-{waste.pk}-nature-dechets'][value='gravats']")
    page.fill("#id_description", "Gravats sur le trottoir.")
    page.click("main form button[type=submit] >> text=Send the report")
    page.wait_for_url("**/signalements/*/")
    report = Report.objects.get()
    assert report.commune.code == "59512" and report.location_approximate
    assert report.answers == {"nature-dechets": ["gravats"]}
    assert "Approximate position" in page.inner_text("main")


STYLE_SPY = """
document.addEventListener('metropole:map-ready', function (event) {
  window.__setFeatureStyle = event.detail.setFeatureStyle;
}, true);
"""


def test_the_core_map_keeps_a_module_style_after_a_hover(new_context):
    context = new_context()
    context.add_init_script(STYLE_SPY)
    page = context.new_page()
    page.goto("/")
    page.wait_for_selector("#map[data-map-ready]", state="attached")
    page.evaluate(
        "window.__setFeatureStyle(f => f.properties.code === '59512'"
        " ? {color: '#b3261e', weight: 5} : null)"
    )
    roubaix = page.locator("#map path[stroke='#b3261e']")
    assert roubaix.count() == 1 and roubaix.get_attribute("stroke-width") == "5"
    fire = (
        "name => window.__metropoleLayer.eachLayer(l => {"
        " if (l.feature.properties.code === '59512') { l.fire(name); } })"
    )
    page.evaluate(fire, "mouseover")
    assert roubaix.get_attribute("stroke-width") == "3"  # the core's hover style
    page.evaluate(fire, "mouseout")
    assert roubaix.get_attribute("stroke-width") == "5"  # back to the module's, not the base


def test_use_my_location_places_the_point_through_the_core_map(new_context, demo, make_user):
    citizen = make_user("camille@example.org")
    context = new_context(
        geolocation={"latitude": 50.6903, "longitude": 3.1817}, permissions=["geolocation"]
    )
    page = context.new_page()
    log_in(page, citizen.email, PASSWORD)
    page.goto("/signalements/nouveau/")
    page.wait_for_selector("[data-reports-map=pick][data-map-ready]", state="attached")
    page.click("#use-location")
    page.wait_for_selector("#map-result a")
    assert page.input_value("#id_lat") == "50.690300"
    assert page.input_value("#id_lon") == "3.181700"
    assert page.input_value("#id_commune") == "59512"  # Roubaix, found by the core's lookup
    assert "Roubaix" in page.inner_text("#map-result")
