"""Citizen participation in a real browser, with axe-core on every page of the main path:
a commune agent creates a process from a blueprint, citizens propose (placing it on the
map), comment, support, answer a survey and vote in a participatory budget after reviewing
their ballot; the metropole sees the territory-wide dashboard."""

from datetime import timedelta

from django.utils import timezone

from metropole.core.models import Role, Territory
from metropole.participation import services
from metropole.participation.models import (
    Ballot,
    Comment,
    ComponentKind,
    Process,
    Proposal,
    QuestionKind,
    Registration,
    Support,
    SurveyResponse,
)
from metropole.participation.services import _blueprint
from tests.conftest import PASSWORD

from .conftest import (
    assert_accessible,
    assert_no_horizontal_scroll,
    log_in,
    screenshot,
    wait_for_map,
)

ROUBAIX = "59512"


def process_with_open_phase(agent, commune, blueprint, index, title):
    phases, _components = _blueprint(blueprint, timezone.now())
    start = timezone.now() - (phases[index][1] - phases[0][1]) - timedelta(hours=1)
    return services.create_process(agent, commune, title=title, blueprint=blueprint, start=start)


def test_the_participation_path(new_context, make_member, make_user, metropole_admin):
    roubaix = Territory.objects.get(code=ROUBAIX)
    agent = make_member("agent.roubaix@example.org", roubaix, Role.AGENT)
    alice = make_user("alice@example.org", first_name="Alice", home_commune=roubaix)
    bob = make_user("bob@example.org", first_name="Bob", home_commune=roubaix)

    # 1. The agent starts an idea box from its blueprint.
    page = new_context().new_page()
    log_in(page, agent.email, PASSWORD)
    page.goto(f"/participer/administration/{roubaix.slug}/")
    assert_accessible(page, "participation administration")
    page.fill("#id_title", "Des idées pour le parc Barbieux")
    page.check("input[name=blueprint][value=idea_box]")
    page.click("main form button[type=submit]")
    page.wait_for_selector(".messages .alert--success")
    process = Process.objects.get(title="Des idées pour le parc Barbieux")
    assert process.phases.count() == 3
    # Moderate issues too: two regions named "Phases" once made axe report landmark-unique.
    assert_accessible(page, "process management", impacts=("moderate", "serious", "critical"))
    ideas = process.components.get(kind=ComponentKind.PROPOSALS)

    # 2. Alice proposes, placing her idea on the map.
    alice_page = new_context().new_page()
    log_in(alice_page, alice.email, PASSWORD)
    alice_page.goto(f"/participer/p/{process.slug}/")
    assert_accessible(alice_page, "process page")
    alice_page.click(f"a[href$='/{ideas.pk}/propositions/']")
    alice_page.click("text=Make a proposal")
    wait_for_map(alice_page)
    alice_page.fill("#id_title", "Des bancs à l'ombre")
    alice_page.fill("#id_body", "Installer des bancs sous les arbres, près du lac.")
    alice_page.locator("#map").scroll_into_view_if_needed()
    box = alice_page.locator("#map").bounding_box()
    alice_page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert alice_page.input_value("#id_latitude") != ""
    assert_accessible(alice_page, "proposal form")
    alice_page.click("main form button[type=submit]:has-text('Publish')")
    alice_page.wait_for_selector(".messages .alert--success")
    proposal = Proposal.objects.get()
    assert proposal.latitude is not None and proposal.commune is not None
    screenshot(alice_page, "participation-proposal")

    # 3. Bob comments and supports; Alice replies.
    bob_page = new_context().new_page()
    log_in(bob_page, bob.email, PASSWORD)
    bob_page.goto(f"/participer/propositions/{proposal.pk}/")
    bob_page.fill("#id_body", "Bonne idée, et une fontaine ?")
    bob_page.click("#comment-form button[type=submit]")
    bob_page.wait_for_selector(".comment")
    bob_page.click("main form button:has-text('Support')")
    bob_page.wait_for_selector("text=Withdraw my support")
    assert Support.objects.filter(proposal=proposal, user=bob).count() == 1
    assert_accessible(bob_page, "proposal page")
    alice_page.goto(f"/participer/propositions/{proposal.pk}/")
    alice_page.click(".comment a:has-text('Reply')")
    alice_page.fill("#id_body", "Oui, pourquoi pas.")
    alice_page.click("#comment-form button[type=submit]")
    alice_page.wait_for_selector(".comment--depth-1")
    assert Comment.objects.filter(parent__isnull=False).count() == 1

    # 4. Bob answers a survey, once.
    consultation = process_with_open_phase(agent, roubaix, "consultation", 1, "Le parc demain")
    survey = consultation.components.get(kind=ComponentKind.SURVEY)
    services.add_question(
        agent, survey, kind=QuestionKind.SINGLE, text="Venez-vous au parc ?", choices=["Oui", "Non"]
    )
    services.add_question(agent, survey, kind=QuestionKind.SCALE, text="Votre satisfaction")
    bob_page.goto(f"/participer/p/{consultation.slug}/{survey.pk}/questionnaire/")
    assert_accessible(bob_page, "survey")
    bob_page.click("button:has-text('Send my answers')")
    bob_page.wait_for_selector(".alert--error")
    bob_page.check("label:has-text('Oui')")
    bob_page.check("fieldset:has-text('Votre satisfaction') label:text-is('4')")
    bob_page.click("button:has-text('Send my answers')")
    bob_page.wait_for_selector("figure.chart")
    assert SurveyResponse.objects.filter(user=bob).count() == 1
    assert_accessible(bob_page, "survey results")

    # 5. Alice votes in a participatory budget: over budget is refused, then review, then cast.
    budget_process = process_with_open_phase(agent, roubaix, "budget", 2, "Budget du quartier")
    budget = budget_process.components.get(kind=ComponentKind.BUDGET)
    area = services.add_area(agent, budget, name="Barbieux", amount=50_000)
    services.add_project(agent, area, title="Aire de jeux", cost=40_000)
    services.add_project(agent, area, title="Bancs", cost=8_000)
    services.add_project(agent, area, title="Kiosque", cost=30_000)
    alice_page.goto(f"/participer/p/{budget_process.slug}/{budget.pk}/budget/")
    alice_page.check("label:has-text('Aire de jeux')")
    alice_page.check("label:has-text('Kiosque')")
    assert "70" in alice_page.inner_text("#budget-total")
    assert_accessible(alice_page, "ballot")
    alice_page.click("button:has-text('Review my ballot')")
    alice_page.wait_for_selector(".alert--error")
    alice_page.uncheck("label:has-text('Kiosque')")
    alice_page.check("label:has-text('Bancs')")
    alice_page.click("button:has-text('Review my ballot')")
    alice_page.wait_for_url("**/verifier/")
    assert_accessible(alice_page, "ballot review")
    assert Ballot.objects.get(user=alice).cast_at is None
    alice_page.click("button:has-text('Cast my vote')")
    alice_page.wait_for_selector("text=Your vote was cast")
    assert Ballot.objects.get(user=alice).cast_at is not None

    # 6. The metropole sees participation across the territory.
    metro_page = new_context().new_page()
    log_in(metro_page, metropole_admin.email, PASSWORD)
    lille = Territory.objects.get(code="200093201")
    metro_page.goto(f"/participer/administration/{lille.slug}/tableau-de-bord/")
    assert metro_page.locator(".stat__value").first.inner_text() == "2"  # Alice and Bob
    assert "Roubaix" in metro_page.inner_text(
        "h2:has-text('By organising territory') + .table-wrap table"
    )
    assert_accessible(metro_page, "participation dashboard")
    screenshot(metro_page, "participation-dashboard")
    metro_page.set_viewport_size({"width": 375, "height": 740})
    assert_no_horizontal_scroll(metro_page, "dashboard at 375px")


def test_registering_for_a_meeting(new_context, make_member, make_user):
    roubaix = Territory.objects.get(code=ROUBAIX)
    agent = make_member("agent.roubaix@example.org", roubaix, Role.AGENT)
    first = make_user("first@example.org", home_commune=roubaix)
    alice = make_user("alice@example.org", first_name="Alice", home_commune=roubaix)
    process = process_with_open_phase(agent, roubaix, "meeting", 0, "Réunion du quartier")
    meetings = process.components.get(kind=ComponentKind.MEETINGS)
    start = timezone.now() + timedelta(days=7)
    meeting = services.add_meeting(
        agent,
        meetings,
        title="Atelier du parc",
        start=start,
        end=start + timedelta(hours=2),
        address="Hôtel de ville de Roubaix",
        capacity=1,
    )
    services.register(first, meeting)  # the only place is taken: Alice waits

    page = new_context().new_page()
    log_in(page, alice.email, PASSWORD)
    page.goto(f"/participer/p/{process.slug}/{meetings.pk}/reunions/{meeting.pk}/")
    assert "0 left of 1" in page.inner_text("main")
    assert_accessible(page, "meeting page")
    page.click("main form button:has-text('Register')")
    page.wait_for_selector("text=You are on the waiting list")
    assert Registration.objects.get(user=alice).status == Registration.WAITING
    assert_accessible(page, "meeting page, registered")
    page.click("main form button:has-text('Cancel my registration')")
    page.wait_for_selector("main form button:has-text('Register')")
    assert not Registration.objects.filter(user=alice).exists()
