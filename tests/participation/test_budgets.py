"""Participatory budgets: rules, review then cast, one ballot, eligibility, paper codes."""

import pytest
from django.contrib.auth.models import AnonymousUser

from metropole.core.exceptions import BadRequest, Conflict, NotFound, PermissionDenied
from metropole.participation import queries, services
from metropole.participation.models import Ballot, BallotLine, BudgetRule, ComponentKind, VotingCode

from .conftest import component


@pytest.fixture
def budget(make_process):
    return component(make_process("budget", open_phase=2), ComponentKind.BUDGET)


@pytest.fixture
def area(budget, agent):
    area = services.add_area(
        agent,
        budget,
        name="Quartier Nord",
        amount=100_000,
        min_projects=1,
        max_projects=3,
        min_share=50,
    )
    for title, cost in [
        ("Jardin", 60_000),
        ("Bancs", 10_000),
        ("Fresque", 45_000),
        ("Aire", 30_000),
    ]:
        services.add_project(agent, area, title=title, cost=cost)
    return area


def ids(area, *titles):
    return [p.pk for p in area.projects.filter(title__in=titles)]


def test_a_ballot_is_reviewed_then_cast_once(budget, area, citizen):
    ballot = services.save_ballot(
        citizen, budget, area_id=area.pk, project_ids=ids(area, "Jardin", "Bancs")
    )
    assert ballot.cast_at is None
    services.save_ballot(citizen, budget, area_id=area.pk, project_ids=ids(area, "Jardin", "Aire"))
    cast = services.cast_ballot(citizen, budget)
    assert cast.cast_at is not None
    assert set(cast.lines.values_list("project__title", flat=True)) == {"Jardin", "Aire"}
    with pytest.raises(Conflict, match="already"):
        services.cast_ballot(citizen, budget)
    with pytest.raises(Conflict):
        services.save_ballot(citizen, budget, area_id=area.pk, project_ids=ids(area, "Bancs"))
    assert Ballot.objects.count() == 1 and BallotLine.objects.count() == 2


@pytest.mark.parametrize(
    ("titles", "message"),
    [
        (("Jardin", "Fresque"), "the budget is 100 000"),
        (("Bancs",), "at least 50"),
        ((), "at least one"),
    ],
)
def test_the_knapsack_rules_are_enforced(budget, area, citizen, titles, message):
    with pytest.raises(BadRequest, match=message) as error:
        services.save_ballot(citizen, budget, area_id=area.pk, project_ids=ids(area, *titles))
        services.cast_ballot(citizen, budget)
    assert error.value.field == "projects"
    assert not Ballot.objects.filter(cast_at__isnull=False).exists()


def test_maximum_number_of_projects_with_approval(budget, agent, citizen):
    area = services.add_area(
        agent, budget, name="Approbation", amount=10, rule=BudgetRule.APPROVAL, max_projects=2
    )
    projects = [services.add_project(agent, area, title=f"P{i}", cost=100) for i in range(3)]
    with pytest.raises(BadRequest, match="at most 2"):
        services.save_ballot(citizen, budget, area_id=area.pk, project_ids=[p.pk for p in projects])
    services.save_ballot(citizen, budget, area_id=area.pk, project_ids=[p.pk for p in projects[:2]])
    assert services.cast_ballot(citizen, budget).is_cast  # approval ignores the amount


def test_a_project_of_another_area_is_refused(budget, area, agent, citizen):
    other = services.add_area(agent, budget, name="Sud", amount=50_000)
    foreign = services.add_project(agent, other, title="Ailleurs", cost=1_000)
    with pytest.raises(BadRequest, match="not in"):
        services.save_ballot(citizen, budget, area_id=area.pk, project_ids=[foreign.pk])


def test_casting_without_a_ballot_or_outside_the_vote_is_refused(
    make_process, area, budget, citizen
):
    with pytest.raises(NotFound):
        services.cast_ballot(citizen, budget)
    early = component(make_process("budget", open_phase=0, title="Plus tôt"), ComponentKind.BUDGET)
    with pytest.raises(PermissionDenied, match="not open"):
        services.save_ballot(citizen, early, area_id=area.pk, project_ids=[])


def test_eligibility_residents_and_age(budget, area, make_user, commune, citizen):
    budget.settings.update({"residents_only": True, "min_age": 16})
    budget.save()
    outsider = make_user("lillois@example.org", home_commune=commune("59350"))
    with pytest.raises(PermissionDenied, match="residents of Roubaix"):
        services.save_ballot(outsider, budget, area_id=area.pk, project_ids=ids(area, "Jardin"))
    with pytest.raises(PermissionDenied, match="year of birth"):
        services.save_ballot(citizen, budget, area_id=area.pk, project_ids=ids(area, "Jardin"))
    from django.utils import timezone

    services.declare(citizen, postal_code="59100", birth_year=timezone.localdate().year - 12)
    with pytest.raises(PermissionDenied, match="age of 16"):
        services.save_ballot(citizen, budget, area_id=area.pk, project_ids=ids(area, "Jardin"))
    services.declare(outsider, postal_code="59100", birth_year=1980)  # moved to Roubaix
    services.save_ballot(outsider, budget, area_id=area.pk, project_ids=ids(area, "Jardin"))
    assert services.cast_ballot(outsider, budget).is_cast


def test_a_declaration_needs_a_postal_code_of_the_metropole(citizen):
    from metropole.core.exceptions import NotFound as Missing

    with pytest.raises(Missing):
        services.declare(citizen, postal_code="75001", birth_year=1980)
    with pytest.raises(BadRequest) as error:
        services.declare(citizen, postal_code="59100", birth_year=1800)
    assert error.value.field == "birth_year"


def test_paper_codes_are_stored_hashed_and_single_use(budget, area, agent):
    codes = services.issue_voting_codes(agent, budget, 3)
    assert len(set(codes)) == 3
    stored = set(VotingCode.objects.values_list("code_hash", flat=True))
    assert not any(code.replace("-", "") in h or code in h for code in codes for h in stored)
    services.cast_with_code(
        codes[0].lower(), budget, area_id=area.pk, project_ids=ids(area, "Jardin")
    )
    with pytest.raises(Conflict, match="already been used"):
        services.cast_with_code(codes[0], budget, area_id=area.pk, project_ids=ids(area, "Jardin"))
    with pytest.raises(BadRequest, match="not valid"):
        services.cast_with_code(
            "AAAA-BBBB-CCCC", budget, area_id=area.pk, project_ids=ids(area, "Jardin")
        )
    with pytest.raises(BadRequest, match="the budget is"):
        services.cast_with_code(
            codes[1], budget, area_id=area.pk, project_ids=ids(area, "Jardin", "Fresque")
        )
    assert VotingCode.objects.filter(used_at__isnull=False).count() == 1
    assert Ballot.objects.filter(voting_code__isnull=False).count() == 1


def test_results_take_projects_by_votes_within_the_budget(budget, area, make_citizen):
    choices = [("Jardin", "Aire")] * 3 + [("Fresque", "Bancs", "Aire")]
    for n, titles in enumerate(choices):
        voter = make_citizen(n)
        services.save_ballot(voter, budget, area_id=area.pk, project_ids=ids(area, *titles))
        services.cast_ballot(voter, budget)
    services.save_ballot(make_citizen(9), budget, area_id=area.pk, project_ids=ids(area, "Fresque"))
    [result] = queries.budget_results(budget)
    rows = {r["project"].title: r for r in result["rows"]}
    # Drafts do not count.
    assert {t: r["votes"] for t, r in rows.items()} == {
        "Aire": 4,
        "Jardin": 3,
        "Bancs": 1,
        "Fresque": 1,
    }
    # Aire (30 000) then Jardin (60 000) fit; of the tied ones the cheaper, Bancs (10 000),
    # takes the last 10 000; Fresque (45 000) no longer fits.
    assert list(rows) == ["Aire", "Jardin", "Bancs", "Fresque"]
    assert [t for t, r in rows.items() if r["selected"]] == ["Aire", "Jardin", "Bancs"]
    assert result["ballots"] == 4 and result["spent"] == 100_000


def test_results_are_published_to_everyone_once_the_vote_is_over(
    budget, make_process, citizen, agent
):
    # Vote open: its staff only (results shown during the vote would sway it).
    assert not citizen.has_perm("participation.view_budget_results", budget)
    assert agent.has_perm("participation.view_budget_results", budget)
    # Vote over (the "Results" phase runs now): everyone, logged in or not.
    over = component(make_process("budget", open_phase=3, title="Over"), ComponentKind.BUDGET)
    assert citizen.has_perm("participation.view_budget_results", over)
    assert AnonymousUser().has_perm("participation.view_budget_results", over)
