"""Proposals: location, images, supports, comments, answers, moderation, edits."""

import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from metropole.core.exceptions import (
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)
from metropole.participation import queries, services
from metropole.participation.models import Proposal, ProposalStatus, Support

ROUBAIX_TOWN_HALL = (50.6905, 3.1817)


def png(size=(20, 20), pad=0) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue() + b"\0" * pad, "image/png")


def test_a_citizen_proposes_with_a_place_and_a_picture(ideas, citizen, roubaix):
    proposal = services.create_proposal(
        citizen,
        ideas,
        title="Un banc",
        body="Devant la mairie.",
        latitude=ROUBAIX_TOWN_HALL[0],
        longitude=ROUBAIX_TOWN_HALL[1],
        image=png(),
    )
    assert proposal.commune == roubaix
    assert proposal.image.name.endswith(".png")
    assert proposal.followers.filter(user=citizen).exists()


def test_a_place_outside_the_metropole_is_refused(ideas, citizen):
    with pytest.raises(BadRequest) as error:
        services.create_proposal(
            citizen, ideas, title="x", body="y", latitude=48.85, longitude=2.35
        )
    assert error.value.field == "latitude"
    assert not Proposal.objects.exists()


def test_oversized_or_fake_images_are_refused(ideas, citizen):
    with pytest.raises(BadRequest, match="kB"):
        services.create_proposal(
            citizen, ideas, title="x", body="y", image=png(pad=3 * 1024 * 1024)
        )
    fake = SimpleUploadedFile("virus.png", b"MZ\x90\x00 not an image", "image/png")
    with pytest.raises(BadRequest) as error:
        services.create_proposal(citizen, ideas, title="x", body="y", image=fake)
    assert error.value.field == "image"
    gif = io.BytesIO()
    Image.new("RGB", (5, 5)).save(gif, "GIF")
    with pytest.raises(BadRequest, match="GIF"):
        services.create_proposal(
            citizen,
            ideas,
            title="x",
            body="y",
            image=SimpleUploadedFile("a.gif", gif.getvalue(), "image/gif"),
        )
    assert not Proposal.objects.exists()


def test_empty_or_too_long_texts_are_refused(ideas, citizen):
    with pytest.raises(BadRequest) as error:
        services.create_proposal(citizen, ideas, title="  ", body="y")
    assert error.value.field == "title"
    with pytest.raises(BadRequest) as error:
        services.create_proposal(citizen, ideas, title="t", body="y" * 5001)
    assert error.value.field == "body"


def test_anonymous_people_cannot_propose(ideas):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied, match="Log in"):
        services.create_proposal(AnonymousUser(), ideas, title="x", body="y")


def test_supports_respect_the_per_person_limit_and_are_counted_once(ideas, citizen, make_citizen):
    ideas.settings["support_limit"] = 2
    ideas.save()
    proposals = [
        services.create_proposal(make_citizen(i), ideas, title=f"Idée {i}", body="texte")
        for i in range(3)
    ]
    services.support(citizen, proposals[0])
    with pytest.raises(Conflict, match="already"):
        services.support(citizen, proposals[0])
    services.support(citizen, proposals[1])
    with pytest.raises(Conflict, match="at most 2"):
        services.support(citizen, proposals[2])
    assert Support.objects.filter(user=citizen).count() == 2
    proposals[0].refresh_from_db()
    assert proposals[0].support_count == 1
    services.withdraw_support(citizen, proposals[0])
    services.support(citizen, proposals[2])
    proposals[0].refresh_from_db()
    assert proposals[0].support_count == 0


def test_the_threshold_marks_a_proposal(ideas, make_citizen):
    ideas.settings["support_threshold"] = 2
    ideas.save()
    proposal = services.create_proposal(make_citizen(0), ideas, title="Idée", body="texte")
    services.support(make_citizen(1), proposal)
    assert not Proposal.objects.get(pk=proposal.pk).threshold_reached
    services.support(make_citizen(2), proposal)
    assert Proposal.objects.get(pk=proposal.pk).threshold_reached


def test_supporting_outside_the_phase_is_refused(ideas, citizen, make_citizen):
    proposal = services.create_proposal(make_citizen(0), ideas, title="Idée", body="texte")
    for phase in ideas.process.phases.all():
        phase.start -= timedelta(days=400)
        phase.end -= timedelta(days=400)
        phase.save()
    with pytest.raises(PermissionDenied, match="not open"):
        services.support(citizen, proposal)
    assert not Support.objects.exists()


def test_comments_are_threaded(ideas, citizen, make_citizen):
    proposal = services.create_proposal(citizen, ideas, title="Idée", body="texte")
    first = services.add_comment(make_citizen(1), proposal, body="Premier")
    reply = services.add_comment(citizen, proposal, body="Réponse", parent=first)
    other = services.add_comment(make_citizen(2), proposal, body="Second")
    tree = queries.comment_tree(proposal)
    assert [c.pk for c in tree] == [first.pk, reply.pk, other.pk]
    assert reply.depth == 1
    assert Proposal.objects.get(pk=proposal.pk).comment_count == 3
    with pytest.raises(BadRequest):
        other_proposal = services.create_proposal(citizen, ideas, title="Autre", body="t")
        services.add_comment(citizen, other_proposal, body="x", parent=first)


def test_followers_are_told_of_comments_and_answers(
    ideas, citizen, make_citizen, agent, django_capture_on_commit_callbacks
):
    proposal = services.create_proposal(citizen, ideas, title="Idée", body="texte")
    with django_capture_on_commit_callbacks(execute=True):
        services.add_comment(make_citizen(1), proposal, body="Bonne idée")
    assert [m.to for m in mail.outbox] == [[citizen.email]]
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_proposal(
            agent, proposal, status=ProposalStatus.ACCEPTED, answer="Oui, en 2027."
        )
    assert len(mail.outbox) == 2 and "Oui, en 2027." in mail.outbox[1].body
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED and proposal.answered_at


def test_only_the_territory_answers(ideas, citizen):
    proposal = services.create_proposal(citizen, ideas, title="Idée", body="texte")
    with pytest.raises(PermissionDenied):
        services.answer_proposal(citizen, proposal, status="accepted", answer="Moi-même")


def test_edits_keep_the_history_within_the_window(ideas, citizen, make_citizen):
    proposal = services.create_proposal(citizen, ideas, title="Idée", body="v1")
    services.edit_proposal(citizen, proposal, title="Idée", body="v2")
    assert list(proposal.versions.values_list("body", flat=True)) == ["v1"]
    with pytest.raises(PermissionDenied):
        services.edit_proposal(make_citizen(1), proposal, title="x", body="y")
    Proposal.objects.filter(pk=proposal.pk).update(created_at=timezone.now() - timedelta(hours=2))
    with pytest.raises(PermissionDenied, match="60 minutes"):
        services.edit_proposal(citizen, proposal, title="Idée", body="v3")


def test_three_reports_hide_a_proposal_until_a_moderator_decides(
    ideas, citizen, make_citizen, agent
):
    proposal = services.create_proposal(citizen, ideas, title="Pub", body="Achetez !")
    for i in range(2):
        services.report(make_citizen(i), proposal=proposal, reason="spam")
    assert not Proposal.objects.get(pk=proposal.pk).is_hidden
    with pytest.raises(Conflict):
        services.report(make_citizen(0), proposal=proposal, reason="spam")
    services.report(make_citizen(2), proposal=proposal, reason="offensive")
    assert Proposal.objects.get(pk=proposal.pk).is_hidden
    assert queries.moderation_queue(ideas.process.territory).count() == 3
    assert queries.moderation_queue(ideas.process.territory.root).count() == 3
    with pytest.raises(NotFound):
        services.support(make_citizen(3), Proposal.objects.get(pk=proposal.pk))
    services.moderate(agent, proposal=proposal, hide=False)
    assert not Proposal.objects.get(pk=proposal.pk).is_hidden
    assert queries.moderation_queue(ideas.process.territory).count() == 0


def test_a_blocked_person_cannot_take_part(ideas, citizen, agent, roubaix):
    services.block_user(agent, roubaix, citizen, "Spam répété")
    with pytest.raises(PermissionDenied, match="suspended"):
        services.create_proposal(citizen, ideas, title="x", body="y")


def test_posting_is_rate_limited(ideas, citizen):
    for i in range(services.POSTING_LIMIT.limit):
        services.create_proposal(citizen, ideas, title=f"Idée {i}", body="t")
    with pytest.raises(TooManyRequests, match="too often") as refusal:
        services.create_proposal(citizen, ideas, title="Encore", body="t")
    assert 1 <= int(refusal.value.headers["Retry-After"]) <= 60
