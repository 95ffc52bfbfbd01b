"""Merging under concurrency, held by PostgreSQL: supports, withdrawals and comments fired
at proposals while agents merge them are either moved by the merge or refused after it —
no support left on a merged proposal, no person counted twice, counters exact."""

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.db.models import Count

from metropole.core.exceptions import PlatformError
from metropole.participation import services
from metropole.participation.models import Comment, ComponentKind, Proposal, Support

from .test_vote_integrity import make_process

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks under real concurrency need PostgreSQL"
)


def run_all(jobs, workers=16):
    def run(job):
        try:
            return ("ok", job())
        except PlatformError as error:
            return (type(error).__name__, None)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, jobs))


def test_supports_fired_during_merges_are_moved_or_refused_never_doubled(setup):
    agent, roubaix, people = setup
    ideas = make_process(agent, roubaix, "idea_box", 0).components.get(kind=ComponentKind.PROPOSALS)
    ideas.settings["support_limit"] = 0
    ideas.save()
    proposals = [
        Proposal.objects.create(component=ideas, author=agent, title=f"P{i}", body="t")
        for i in range(8)
    ]
    groups = [(proposals[0], proposals[1:4]), (proposals[4], proposals[5:8])]
    rng = random.Random(11)
    jobs = []
    for person in people[:100]:
        for proposal in rng.sample(proposals, 3):
            jobs.append(
                lambda u=person, p=proposal: ("support", u.pk, p.pk, services.support(u, p))
            )
        if rng.random() < 0.3:
            p = rng.choice(proposals)
            jobs.append(
                lambda u=person, p=p: ("comment", u.pk, p.pk, services.add_comment(u, p, body="x"))
            )
    # The merges go in the middle of the stream of supports.
    for target, merged in groups:
        jobs.insert(
            len(jobs) // 2,
            lambda t=target, m=merged: ("merge", None, t.pk, services.merge_proposals(agent, t, m)),
        )
    outcomes = run_all(jobs)
    assert [o for o, _r in outcomes if o not in ("ok", "Conflict")] == []
    assert sum(1 for o, r in outcomes if o == "ok" and r[0] == "merge") == 2
    # Nothing stays on a merged proposal; counters are exact.
    merged_ids = [p.pk for _t, ms in groups for p in ms]
    assert not Support.objects.filter(proposal_id__in=merged_ids).exists()
    assert not Comment.objects.filter(proposal_id__in=merged_ids).exists()
    for proposal in Proposal.objects.all():
        assert proposal.support_count == proposal.supports.count()
        assert proposal.comment_count == proposal.comments.count()
    # One support per person and proposal, and every accepted support is counted once on
    # the proposal it ended on.
    doubled = Support.objects.values("user", "proposal").annotate(n=Count("id")).filter(n__gt=1)
    assert not doubled.exists()
    accepted = {(r[1], r[2]) for o, r in outcomes if o == "ok" and r[0] == "support"}
    ended_on = {p.pk: p.pk for p in proposals}
    for target, merged in groups:
        for p in merged:
            ended_on[p.pk] = target.pk
    expected = {(user, ended_on[pid]) for user, pid in accepted}
    assert set(Support.objects.values_list("user_id", "proposal_id")) == expected
