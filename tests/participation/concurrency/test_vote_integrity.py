"""Vote integrity under concurrency, held by PostgreSQL: hundreds of supports and ballots
fired from threads (each with its own connection) never exceed a limit nor count twice."""

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from metropole.core.exceptions import PlatformError
from metropole.participation import services
from metropole.participation.models import (
    Ballot,
    BallotLine,
    ComponentKind,
    Proposal,
    Support,
    VotingCode,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks under real concurrency need PostgreSQL"
)

SUPPORT_LIMIT = 3


def run_all(jobs, workers=16):
    """Run callables on threads; each thread closes its own connection when done."""

    def run(job):
        try:
            job()
            return "ok"
        except PlatformError as error:
            return type(error).__name__
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def make_process(agent, commune, blueprint, open_phase):
    from metropole.participation.services import _blueprint

    phases, _components = _blueprint(blueprint, timezone.now())
    start = timezone.now() - (phases[open_phase][1] - phases[0][1]) - timedelta(hours=1)
    return services.create_process(
        agent, commune, title=blueprint, blueprint=blueprint, start=start
    )


def test_concurrent_supports_never_exceed_the_limit_nor_count_twice(setup):
    agent, roubaix, people = setup
    ideas = make_process(agent, roubaix, "idea_box", 0).components.get(kind=ComponentKind.PROPOSALS)
    ideas.settings["support_limit"] = SUPPORT_LIMIT
    ideas.save()
    proposals = [
        Proposal.objects.create(component=ideas, author=agent, title=f"P{i}", body="t")
        for i in range(12)
    ]
    rng = random.Random(4)
    jobs = []
    for person in people[:60]:
        targets = rng.sample(proposals, 5)
        targets += targets[:2]  # the same support twice, at once
        for proposal in targets:
            jobs.append(lambda u=person, p=proposal: services.support(u, p))
    # Not shuffled: one person's seven supports sit next to each other, so they run at
    # the same moment on different threads (the race the row lock must win).
    assert len(jobs) == 420
    outcomes = run_all(jobs)
    assert outcomes.count("ok") == 60 * SUPPORT_LIMIT
    assert set(outcomes) <= {"ok", "Conflict"}
    per_person = Support.objects.values("user").annotate(n=Count("id"))
    assert max(row["n"] for row in per_person) == SUPPORT_LIMIT
    assert (
        not Support.objects.values("user", "proposal")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    for proposal in Proposal.objects.all():
        assert proposal.support_count == proposal.supports.count()


def test_concurrent_ballots_are_cast_once_per_voter_and_per_code(setup):
    agent, roubaix, people = setup
    budget = make_process(agent, roubaix, "budget", 2).components.get(kind=ComponentKind.BUDGET)
    area = services.add_area(agent, budget, name="Roubaix", amount=100, max_projects=2)
    projects = [services.add_project(agent, area, title=f"Projet {i}", cost=30) for i in range(5)]
    codes = services.issue_voting_codes(agent, budget, 20)
    rng = random.Random(7)

    def vote(user, chosen):
        services.save_ballot(user, budget, area_id=area.pk, project_ids=[p.pk for p in chosen])
        services.cast_ballot(user, budget)

    jobs = []
    for person in people[:100]:
        chosen = rng.sample(projects, 2)
        jobs += [lambda u=person, c=chosen: vote(u, c)] * 2  # each voter twice, at once
    for code in codes:
        chosen = rng.sample(projects, 1)
        jobs += [
            lambda k=code, c=chosen: services.cast_with_code(
                k, budget, area_id=area.pk, project_ids=[p.pk for p in c]
            )
        ] * 3
    assert len(jobs) == 260  # a voter's (or a code's) attempts run at the same moment
    outcomes = run_all(jobs)
    assert outcomes.count("ok") == 100 + 20
    assert set(outcomes) <= {"ok", "Conflict"}
    cast = Ballot.objects.filter(component=budget, cast_at__isnull=False)
    assert cast.count() == 120 and Ballot.objects.count() == 120
    assert cast.filter(user__isnull=False).values("user").distinct().count() == 100
    assert VotingCode.objects.filter(used_at__isnull=False).count() == 20
    lines = BallotLine.objects.values("ballot").annotate(n=Count("id"))
    assert {row["n"] for row in lines if row["n"]} <= {1, 2}
    assert BallotLine.objects.count() == 100 * 2 + 20
