"""The gaps closed in participation, in a real browser with axe-core: an agent adds a tool by
hand and moves it, puts a question to debate; citizens argue for and against, one edits
their argument; the agent concludes; an agent merges two similar proposals."""

from datetime import timedelta

from django.utils import timezone

from metropole.core.models import Role, Territory
from metropole.participation import services
from metropole.participation.models import Comment, ComponentKind, Debate, Proposal
from tests.conftest import PASSWORD

from .conftest import assert_accessible, log_in, screenshot
from .test_participation import ROUBAIX, process_with_open_phase


def test_tools_by_hand_and_a_debate(new_context, make_member, make_user):
    roubaix = Territory.objects.get(code=ROUBAIX)
    agent = make_member("agent.roubaix@example.org", roubaix, Role.AGENT)
    alice = make_user("alice@example.org", first_name="Alice", home_commune=roubaix)
    process = process_with_open_phase(agent, roubaix, "consultation", 1, "Avenir du canal")

    # 1. The agent adds a debates tool by hand and puts it first.
    page = new_context().new_page()
    log_in(page, agent.email, PASSWORD)
    page.goto(f"/participer/administration/{roubaix.slug}/processus/{process.slug}/")
    page.select_option("#id_component_add-kind", "debates")
    page.fill("#id_component_add-title", "Débats sur le canal")
    page.click("main form button:has-text('Add the tool')")
    page.wait_for_selector(".messages .alert--success")
    debates = process.components.get(kind=ComponentKind.DEBATES)
    page.click("main form button:has-text('Move up Débats sur le canal')")
    page.wait_for_selector(".messages .alert--success")
    page.click("main form button:has-text('Move up Débats sur le canal')")
    page.wait_for_selector(".messages .alert--success")
    assert [c.kind for c in process.components.order_by("position")][0] == "debates"
    assert_accessible(
        page, "process management with tools", impacts=("moderate", "serious", "critical")
    )

    # 2. It puts a question to debate.
    now = timezone.localtime()
    prefix = f"#id_d{debates.pk}"
    page.fill(f"{prefix}-title", "Faut-il rouvrir le canal à la baignade ?")
    page.fill(f"{prefix}-start", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.fill(f"{prefix}-end", (now + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"))
    page.click("main form button:has-text('Add the debate')")
    page.wait_for_selector(".messages .alert--success")
    debate = Debate.objects.get()

    # 3. Alice argues for, then edits her argument.
    alice_page = new_context().new_page()
    log_in(alice_page, alice.email, PASSWORD)
    alice_page.goto(f"/participer/p/{process.slug}/")
    alice_page.click(f"a[href$='/{debates.pk}/debats/']")
    assert_accessible(alice_page, "debates list")
    alice_page.click(f"text={debate.title}")
    alice_page.check("input[name=stance][value=for]")
    alice_page.fill("#id_body", "L'eau est propre depuis 2020.")
    alice_page.click("#argument-form button[type=submit]")
    alice_page.wait_for_selector(".messages .alert--success")
    assert_accessible(alice_page, "debate page")
    alice_page.click("main a:has-text('Edit')")
    alice_page.fill("#id_body", "L'eau est propre en été, d'après les relevés.")
    assert_accessible(alice_page, "edit an argument")
    alice_page.click("main form button:has-text('Save')")
    alice_page.wait_for_selector(".messages .alert--success")
    argument = Comment.objects.get()
    assert argument.stance == "for" and argument.versions.count() == 1
    assert "(edited)" in alice_page.inner_text(f"#comment-{argument.pk}")

    # 4. The agent concludes; Alice can no longer argue.
    page.goto(f"/participer/p/{process.slug}/{debates.pk}/debats/{debate.pk}/")
    page.fill("#id_conclusion", "La baignade sera testée l'été prochain.")
    page.click("#conclusion button[type=submit]")
    page.wait_for_selector(".messages .alert--success")
    alice_page.reload()
    assert "This debate is closed" in alice_page.inner_text("main")
    screenshot(alice_page, "participation-debate")


def test_merging_similar_proposals(new_context, make_member, make_user):
    roubaix = Territory.objects.get(code=ROUBAIX)
    agent = make_member("agent.roubaix@example.org", roubaix, Role.AGENT)
    alice = make_user("alice@example.org", home_commune=roubaix)
    bob = make_user("bob@example.org", home_commune=roubaix)
    process = process_with_open_phase(agent, roubaix, "idea_box", 0, "Idées pour le parc")
    ideas = process.components.get(kind=ComponentKind.PROPOSALS)
    first = services.create_proposal(
        alice, ideas, title="Des bancs au parc Barbieux", body="Des bancs près du lac du parc"
    )
    second = services.create_proposal(
        bob, ideas, title="Des bancs dans le parc Barbieux", body="Des bancs près du lac"
    )
    services.support(bob, first)
    services.support(alice, second)
    services.support(bob, second)

    page = new_context().new_page()
    log_in(page, agent.email, PASSWORD)
    page.goto(f"/participer/administration/{roubaix.slug}/processus/{process.slug}/")
    page.click("main a:has-text('Merge them')")
    assert_accessible(page, "merge page")
    page.check(f"input[name=target][value='{second.pk}']")
    page.uncheck(f"input[name=merged][value='{second.pk}']")
    page.check(f"input[name=merged][value='{first.pk}']")
    page.click("main form button:has-text('Merge')")
    page.wait_for_selector(".messages .alert--success")
    second.refresh_from_db()
    assert second.support_count == 2  # Bob supported both: counted once
    assert Proposal.objects.get(pk=first.pk).merged_into_id == second.pk
    page.goto(f"/participer/propositions/{first.pk}/")
    assert "merged" in page.inner_text("main")
    assert_accessible(page, "merged proposal")
