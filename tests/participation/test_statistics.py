"""The one definition of a participant, the manifest's statistics and open-data exports,
RGPD hooks and demo data."""

from django.db.models import Q

from metropole.core.registry import registry
from metropole.participation import queries, services
from metropole.participation.models import (
    Ballot,
    ComponentKind,
    Declaration,
    Follow,
    QuestionKind,
    SurveyResponse,
)

from .conftest import component


def test_a_person_counts_once_whatever_they_did(
    make_process, agent, citizen, make_citizen, roubaix, lille
):
    ideas = component(make_process("idea_box", title="Idées"), ComponentKind.PROPOSALS)
    survey = component(
        make_process("consultation", open_phase=1, title="Avis"), ComponentKind.SURVEY
    )
    services.add_question(agent, survey, kind=QuestionKind.TEXT, text="?", required=False)
    budget = component(make_process("budget", open_phase=2, title="Budget"), ComponentKind.BUDGET)
    area = services.add_area(agent, budget, name="Tout", amount=100)
    project = services.add_project(agent, area, title="P", cost=10)

    proposal = services.create_proposal(citizen, ideas, title="Idée", body="t")
    services.add_comment(citizen, proposal, body="précision")
    services.submit_survey(citizen, survey, {})
    services.save_ballot(citizen, budget, area_id=area.pk, project_ids=[project.pk])
    services.cast_ballot(citizen, budget)
    services.support(make_citizen(1), proposal)
    services.save_ballot(
        make_citizen(2), budget, area_id=area.pk, project_ids=[project.pk]
    )  # draft only
    [code] = services.issue_voting_codes(agent, budget, 1)
    services.cast_with_code(code, budget, area_id=area.pk, project_ids=[project.pk])

    totals = queries.figures(queries.territory_filter(lille))
    # citizen (4 kinds of contribution) + supporter + one paper code; a draft is not a vote.
    assert totals["participants"] == 3
    assert totals["contributions"] == 3  # proposal, comment, survey response
    assert totals["votes"] == 3  # one support, two cast ballots
    assert queries.figures(Q(pk=ideas.process_id))["participants"] == 2
    stats = {
        s.key: s.compute(roubaix) for s in registry.statistics() if s.key.startswith("particip")
    }
    assert stats["participants"] == 3 and stats["participation_processes"] == 3
    from django.utils import translation

    with translation.override("en"):
        assert "paper voting code counts as one person" in str(queries.PARTICIPANT_DEFINITION)
    with translation.override("fr"):
        assert "code de vote papier compte pour une personne" in str(queries.PARTICIPANT_DEFINITION)


def test_open_data_is_anonymised(ideas, citizen, lille):
    services.create_proposal(
        citizen, ideas, title="Idée", body="t", latitude=50.6905, longitude=3.1817
    )
    exports = registry.exports()
    rows = list(exports["participation.proposals"].rows(lille))
    assert rows[0]["commune_insee"] == "59512"
    assert citizen.email not in str(rows) and "latitude" not in rows[0] and "author" not in rows[0]
    assert set(rows[0]) == set(exports["participation.proposals"].fields)
    stats = list(exports["participation.statistics"].rows(lille))
    assert stats[0]["participants"] == 1


def test_rgpd_export_and_erasure(make_process, agent, citizen):
    from metropole.core.services import delete_account, export_personal_data

    ideas = component(make_process("idea_box", title="Idées"), ComponentKind.PROPOSALS)
    budget = component(make_process("budget", open_phase=2, title="Budget"), ComponentKind.BUDGET)
    area = services.add_area(agent, budget, name="Tout", amount=100)
    project = services.add_project(agent, area, title="P", cost=10)
    services.declare(citizen, postal_code="59100", birth_year=1970)
    proposal = services.create_proposal(citizen, ideas, title="Mon idée", body="t")
    services.save_ballot(citizen, budget, area_id=area.pk, project_ids=[project.pk])
    services.cast_ballot(citizen, budget)
    data = export_personal_data(citizen)["participation"]
    assert data["proposals"][0]["title"] == "Mon idée"
    assert data["declaration"][0]["birth_year"] == 1970
    assert data["ballots"][0]["projects"] == [project.pk]
    delete_account(citizen)
    assert not Declaration.objects.filter(user=citizen).exists()
    assert not Follow.objects.filter(user=citizen).exists()
    proposal.refresh_from_db()
    assert proposal.title == "Mon idée"  # the text stays, its author is an anonymous account
    assert Ballot.objects.filter(cast_at__isnull=False).count() == 1  # the vote still counts


def test_demo_data_is_real_labelled_and_idempotent(lille, grand_paris):
    from metropole.participation.demo import load_demo
    from metropole.participation.models import Process, Proposal

    load_demo(lille)
    load_demo(lille)
    load_demo(grand_paris)
    processes = Process.objects.all()
    assert processes.count() == 5 and all(p.is_demo for p in processes)
    assert Process.objects.filter(description__contains="au plus tôt").exists()
    assert Process.objects.filter(
        description__contains="participation citoyenne à l'échelle du territoire"
    ).exists()
    assert all(p.is_demo and "(démo)" in p.title for p in Proposal.objects.all())
    assert SurveyResponse.objects.filter(is_demo=True).exists()
    assert queries.figures(queries.territory_filter(lille))["participants"] > 0
