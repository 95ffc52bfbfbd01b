"""Merging similar proposals: supports moved once per person, followers and comments kept,
merged proposals pointing to the one that stays, authors told."""

import json

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import translation

from metropole.core import services as core_services
from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import AuditEvent
from metropole.participation import queries, services, similarity
from metropole.participation.models import Comment, Follow, Proposal, ProposalStatus, Support


@pytest.fixture(autouse=True)
def english():
    """Refusals are matched on their English text, whatever a page left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def three(ideas, make_citizen):
    a = services.create_proposal(make_citizen(1), ideas, title="Pistes cyclables", body="Rue A")
    b = services.create_proposal(make_citizen(2), ideas, title="Pistes cyclables !", body="Rue B")
    c = services.create_proposal(make_citizen(3), ideas, title="Vélos", body="Rue C")
    return a, b, c


def test_supports_move_once_per_person(agent, three, make_citizen):
    a, b, c = three
    both = make_citizen(10)  # supports a and b: one support after the merge
    for p in (a, b):
        services.support(both, p)
    services.support(make_citizen(11), b)
    services.support(make_citizen(12), c)
    services.support(make_citizen(12), a)  # already supports the target
    target = services.merge_proposals(agent, a, [b.pk, c.pk])
    assert target.support_count == 3 == Support.objects.filter(proposal=a).count()
    assert set(Support.objects.filter(proposal=a).values_list("user__email", flat=True)) == {
        "habitant10@example.org",
        "habitant11@example.org",
        "habitant12@example.org",
    }
    assert not Support.objects.filter(proposal__in=[b, c]).exists()
    for merged in (b, c):
        merged.refresh_from_db()
        assert merged.merged_into_id == a.pk and merged.status == ProposalStatus.MERGED
        assert merged.support_count == 0
    event = AuditEvent.objects.get(action="participation.proposals_merged")
    # b's support by `both` and c's by 12 duplicate supports of a; 11's moves.
    assert event.details["supports_moved"] == 1
    assert event.details["supports_removed_as_duplicates"] == 2


def test_the_database_refuses_two_supports_of_one_person(three, make_citizen):
    a, _b, _c = three
    services.support(make_citizen(10), a)
    with pytest.raises(IntegrityError):
        Support.objects.create(proposal=a, component=a.component, user=make_citizen(10))


def test_followers_and_comments_are_kept_and_authors_told(
    agent, three, make_citizen, django_capture_on_commit_callbacks
):
    a, b, c = three
    services.follow(make_citizen(20), b)
    services.follow(make_citizen(1), b)  # already follows a (its author)
    services.add_comment(make_citizen(21), b, body="D'accord")
    mail.outbox.clear()
    for person in (1, 2, 3, 20):
        core_services_verify(make_citizen(person))
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_proposals(agent, a, [b, c], note="Regroupées par le service vélo.")
    followers = set(Follow.objects.filter(proposal=a).values_list("user__email", flat=True))
    assert followers == {f"habitant{n}@example.org" for n in (1, 2, 3, 20)}
    assert not Follow.objects.filter(proposal__in=[b, c]).exists()
    assert Comment.objects.get().proposal_id == a.pk
    a.refresh_from_db()
    assert a.comment_count == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        f"habitant{n}@example.org" for n in (1, 2, 3, 20)
    )
    assert "Regroupées par le service vélo." in mail.outbox[0].body


def core_services_verify(user):
    from django.utils import timezone

    user.email_verified_at = timezone.now()
    user.save(update_fields=["email_verified_at"])


def test_merged_proposals_leave_lists_and_refuse_new_supports(agent, three, make_citizen):
    a, b, c = three
    services.merge_proposals(agent, a, [b])
    assert [p.pk for p in queries.proposals(a.component)] == [c.pk, a.pk]
    b.refresh_from_db()
    with pytest.raises(Conflict, match="merged"):
        services.support(make_citizen(30), b)
    with pytest.raises(Conflict, match="merged"):
        services.add_comment(make_citizen(30), b, body="Encore")
    assert all(b.pk not in [p.pk for p in g] for g in similarity.clusters(a.component))


def test_bad_merges_are_refused_and_change_nothing(agent, three, citizen, make_process):
    a, b, c = three
    with pytest.raises(PermissionDenied):
        services.merge_proposals(citizen, a, [b])
    with pytest.raises(BadRequest):
        services.merge_proposals(agent, a, [a])
    other = make_process("idea_box", title="Autre")
    foreign = services.create_proposal(
        citizen, other.components.get(kind="proposals"), title="Ailleurs", body="x"
    )
    with pytest.raises(BadRequest, match="another list"):
        services.merge_proposals(agent, a, [b, foreign])
    services.merge_proposals(agent, a, [b])
    with pytest.raises(BadRequest, match="already merged"):
        services.merge_proposals(agent, c, [b])
    assert Proposal.objects.get(pk=c.pk).merged_into_id is None
    assert Proposal.objects.get(pk=foreign.pk).merged_into_id is None


def test_merge_page_and_api(client, agent, three, roubaix, citizen):
    a, b, c = three
    process = a.component.process
    url = (
        f"/participer/administration/{roubaix.slug}/processus/{process.slug}/outils/"
        f"{a.component_id}/fusionner/?propositions={a.pk},{b.pk}"
    )
    client.force_login(citizen)
    assert client.get(url).status_code == 403
    client.force_login(agent)
    assert "Pistes cyclables !" in client.get(url).content.decode()
    response = client.post(url, {"target": b.pk, "merged": [a.pk]})
    assert response.status_code == 302
    assert Proposal.objects.get(pk=a.pk).merged_into_id == b.pk
    page = client.get(f"/participer/propositions/{a.pk}/").content.decode()
    assert f"/participer/propositions/{b.pk}/" in page
    _t, key = core_services.create_api_token(agent, "t")
    merged = client.post(
        f"/api/participation/proposals/{b.pk}/merge",
        json.dumps({"proposal_ids": [c.pk]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert merged.status_code == 200, merged.content
    assert client.get(f"/api/participation/proposals/{c.pk}").json()["merged_into_id"] == b.pk
