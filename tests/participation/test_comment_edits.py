"""Comments (and debate arguments) edited by their author within the edit window, with
their history kept — the same record as proposals' edits."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from metropole.core import services as core_services
from metropole.core.exceptions import BadRequest, PermissionDenied
from metropole.participation import services
from metropole.participation.models import Comment, CommentVersion


@pytest.fixture
def proposal(ideas, citizen):
    return services.create_proposal(citizen, ideas, title="Un banc", body="Place")


@pytest.fixture
def comment(proposal, make_citizen):
    return services.add_comment(make_citizen(1), proposal, body="Bonne idée")


def test_the_author_edits_and_the_earlier_text_is_kept(comment, make_citizen):
    author = make_citizen(1)
    services.edit_comment(author, comment, body="Très bonne idée")
    services.edit_comment(author, comment, body="Très bonne idée, près de l'école")
    comment.refresh_from_db()
    assert comment.body == "Très bonne idée, près de l'école" and comment.edited_at
    assert [v.body for v in comment.versions.all()] == ["Très bonne idée", "Bonne idée"]


def test_others_late_edits_hidden_comments_and_empty_texts_are_refused(
    comment, make_citizen, citizen, ideas
):
    with translation.override("en"), pytest.raises(PermissionDenied, match="author"):
        services.edit_comment(citizen, comment, body="Piraté")
    with pytest.raises(BadRequest):
        services.edit_comment(make_citizen(1), comment, body="   ")
    Comment.objects.filter(pk=comment.pk).update(is_hidden=True)
    with translation.override("en"), pytest.raises(PermissionDenied, match="hidden"):
        services.edit_comment(make_citizen(1), comment, body="Autre")
    Comment.objects.filter(pk=comment.pk).update(
        is_hidden=False, created_at=timezone.now() - timedelta(minutes=61)
    )
    with translation.override("en"), pytest.raises(PermissionDenied, match="60 minutes"):
        services.edit_comment(make_citizen(1), comment, body="Trop tard")
    ideas.settings["edit_minutes"] = 120
    ideas.save()
    services.edit_comment(make_citizen(1), comment, body="Dans la nouvelle fenêtre")
    assert CommentVersion.objects.count() == 1
    assert Comment.objects.get().body == "Dans la nouvelle fenêtre"


def test_the_page_offers_edit_to_the_author_only_and_shows_history(
    client, comment, make_citizen, citizen, proposal
):
    page = f"/participer/propositions/{proposal.pk}/"
    edit = f"/participer/commentaires/{comment.pk}/modifier/"
    client.force_login(citizen)
    assert edit not in client.get(page).content.decode()
    assert client.post(edit, {"body": "Piraté"}).status_code == 200
    assert Comment.objects.get().body == "Bonne idée"
    client.force_login(make_citizen(1))
    assert edit in client.get(page).content.decode()
    assert client.post(edit, {"body": "Bonne idée, vraiment"}).status_code == 302
    html = client.get(page).content.decode()
    assert "Bonne idée, vraiment" in html and "Bonne idée</" not in html.split("<details>")[0]
    assert html.count("Bonne idée") >= 2  # the earlier version is listed


def test_the_api_edits_and_lists_versions(client, comment, make_citizen, citizen):
    def patch(user, body):
        _t, key = core_services.create_api_token(user, "t")
        return client.patch(
            f"/api/participation/comments/{comment.pk}",
            json.dumps({"body": body}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )

    assert patch(citizen, "Piraté").status_code == 403
    edited = patch(make_citizen(1), "Modifié")
    assert edited.status_code == 200 and edited.json()["edited_at"]
    versions = client.get(f"/api/participation/comments/{comment.pk}/versions").json()
    assert [v["body"] for v in versions] == ["Bonne idée"]


def test_a_comment_is_reported_from_its_proposal_page_through_the_comments_path(
    client, comment, citizen, proposal
):
    """Proposal comments and debate arguments are reported through one page."""
    from metropole.participation.models import Report

    report = f"/participer/commentaires/{comment.pk}/signaler/"
    client.force_login(citizen)
    assert report in client.get(f"/participer/propositions/{proposal.pk}/").content.decode()
    sent = client.post(report, {"reason": "spam"})
    assert sent.status_code == 302 and sent["Location"].endswith(f"#comment-{comment.pk}")
    [stored] = Report.objects.all()
    assert (stored.comment_id, stored.proposal_id) == (comment.pk, None)
