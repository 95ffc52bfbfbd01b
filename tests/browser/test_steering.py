"""Strategy steering in Chromium: dashboard, recording progress, the committee's decision with
its meeting pack, and the public transparency page — each checked with axe-core."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from metropole.core.models import Membership, Role, Territory, User
from metropole.steering import services
from metropole.steering.models import Action, Decision
from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_scroll,
    log_in,
    screenshot,
)
from tests.conftest import PASSWORD


def person(email, territory, role):
    from django.utils import timezone

    user = User.objects.create_user(
        email=email, password=PASSWORD, email_verified_at=timezone.now()
    )
    Membership.objects.create(user=user, territory=territory, role=role)
    return user


@pytest.fixture
def plan(territories):
    lille = territories
    agent = person("agent@example.org", lille, Role.AGENT)
    today = date.today()
    plan = services.create_plan(
        agent,
        lille,
        title="Stratégie numérique",
        start=date(today.year - 2, 1, 1),
        end=date(today.year + 3, 12, 31),
        is_public=True,
        publish_budget=True,
    )
    axis = services.add_node(agent, plan, kind="axis", code="A1", title="Une métropole connectée")
    orientation = services.add_node(
        agent,
        plan,
        parent=axis,
        kind="orientation",
        code="#4",
        title="Plateforme urbaine de services",
    )
    other = services.add_node(agent, plan, kind="axis", code="A2", title="Une métropole inclusive")
    roubaix = Territory.objects.get(code="59512")
    tiers = services.add_action(
        agent,
        plan,
        node=orientation,
        title="Réseau de tiers-lieux",
        status="in_progress",
        progress=40,
        start=date(today.year - 1, 1, 1),
        end=today + timedelta(days=200),
        communes=[roubaix],
        pilot_name="Direction du numérique",
    )
    services.set_budget(
        agent,
        tiers,
        [
            {
                "year": today.year,
                "source": "eu_feder",
                "planned": "600",
                "actual": "250",
                "rate": "60",
            },
            {"year": today.year, "source": "own", "planned": "400"},
        ],
        total="1000",
    )
    services.add_action(
        agent,
        plan,
        node=other,
        title="Pass numérique",
        status="in_progress",
        progress=10,
        start=date(today.year - 2, 3, 1),
        end=today - timedelta(days=30),
        pilot_name="CCAS",
    )
    indicator = services.add_indicator(
        agent,
        plan,
        name="Communes sur la plateforme",
        kind="result",
        unit="communes",
        collector="statistic:core.joined_communes",
        target_value=Decimal(95),
        target_date=date(today.year + 3, 12, 31),
    )
    from metropole.steering.collectors import collect

    collect(indicator)
    return plan


def test_dashboard_filters_and_progress(new_context, plan):
    page = new_context().new_page()
    log_in(page, "agent@example.org", PASSWORD)
    page.goto(f"/pilotage/plans/{plan.pk}/")
    # the core's map, shaded by steering/map.js: the communes with actions are outlined
    page.wait_for_selector("#steering-map.leaflet-container path[stroke-width='2']")
    assert page.locator("#steering-map[data-map-initialised]").count() == 1
    assert page.locator(".stat__value").first.inner_text().strip().endswith("%")
    assert page.get_by_role("cell", name="Roubaix").count() >= 1
    assert_accessible(page, "steering dashboard")
    screenshot(page, "steering-dashboard")
    # filter by axis (a plain GET form: works without JavaScript)
    page.select_option("#f-axe", label="A2 Une métropole inclusive")
    page.get_by_role("button", name="Show").click()
    assert "axe=" in page.url
    assert page.get_by_role("link", name="Pass numérique").count() >= 1
    assert page.get_by_role("link", name="Réseau de tiers-lieux").count() == 0
    # record progress on an action, with a note
    page.goto(f"/pilotage/plans/{plan.pk}/")
    page.get_by_role("link", name="Réseau de tiers-lieux").first.click()
    page.fill("#id_progress-progress", "70")
    page.fill("#id_progress-note", "Deux lieux ouverts")
    page.get_by_role("button", name="Save the progress").click()
    page.wait_for_selector(".alert--success")
    assert Action.objects.get(title="Réseau de tiers-lieux").progress == 70
    assert page.get_by_text("Deux lieux ouverts").count() == 1
    assert_accessible(page, "steering action")
    # the import page's example file scrolls in its own box on a phone
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"/pilotage/plans/{plan.pk}/import/")
    assert_no_horizontal_scroll(page, "import page at 375px")


def test_committee_decides_with_its_pack(new_context, plan, territories):
    agent_page = new_context().new_page()
    log_in(agent_page, "agent@example.org", PASSWORD)
    services.add_body(services.SYSTEM, plan, kind="steering", name="Comité de pilotage")
    agent_page.goto(f"/pilotage/plans/{plan.pk}/instances/")
    agent_page.fill("#id_meeting-date", date.today().isoformat())
    agent_page.get_by_role("button", name="Schedule").click()
    agent_page.wait_for_selector(".alert--success")
    meeting_url = agent_page.url
    assert_accessible(agent_page, "steering meeting")
    # the elected official records the decision
    person("elu@example.org", territories, Role.ELECTED)
    page = new_context().new_page()
    log_in(page, "elu@example.org", PASSWORD)
    page.goto(meeting_url)
    page.select_option("#id_action", label="Pass numérique")
    page.get_by_label("abandon").check()
    page.fill("#id_reasons", "Les objectifs ne sont pas remplis")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_selector(".alert--success")
    assert Decision.objects.get().kind == "abandon"
    assert Action.objects.get(title="Pass numérique").status == "abandoned"
    # the pack generated from the data
    page.get_by_role("link", name="Open the meeting pack").click()
    page.wait_for_selector("h1")
    assert page.get_by_role("heading", name="Schedule gaps").count() == 1
    assert page.get_by_role("heading", name="Budget gaps").count() == 1
    assert page.locator("svg").count() >= 2
    assert_accessible(page, "steering meeting pack")
    screenshot(page, "steering-pack")
    page.set_viewport_size({"width": 375, "height": 740})  # its tables scroll in their region
    assert_no_horizontal_scroll(page, "meeting pack at 375px")
    page.set_viewport_size({"width": 1280, "height": 900})
    response = page.request.get(page.url.replace("/dossier/", "/dossier.pdf"))
    assert response.status == 200 and response.body()[:4] == b"%PDF"


def test_the_public_transparency_page(new_context, plan):
    page = new_context(width=390, height=844).new_page()
    page.goto(f"/pilotage/transparence/{plan.pk}/")
    assert page.get_by_role("heading", name="Stratégie numérique", level=1).count() == 1
    assert page.get_by_role("heading", name="Budget").count() == 1
    assert page.get_by_role("link", name="Actions (CSV)").count() == 1
    assert_accessible(page, "steering transparency page")
    assert_no_horizontal_scroll(page, "steering transparency page")
    screenshot(page, "steering-transparency-mobile")
    # nothing to edit for the public
    assert page.get_by_role("button", name="Save the progress").count() == 0
