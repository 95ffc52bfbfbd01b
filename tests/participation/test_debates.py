"""Debates: questions with dates, arguments for/against/neither in threads, moderation,
the territory's conclusion, statistics and open data."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone, translation

from metropole.core import services as core_services
from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.registry import registry
from metropole.participation import queries, services
from metropole.participation.models import Comment, ComponentKind, Debate, Meeting

from .conftest import component


@pytest.fixture(autouse=True)
def english():
    """Refusals are matched on their English text, whatever a page left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def meeting_process(make_process):
    return make_process("meeting", title="Séance ouverte")


@pytest.fixture
def debates(meeting_process):
    return component(meeting_process, ComponentKind.DEBATES)


@pytest.fixture
def debate(agent, debates, meeting_process):
    now = timezone.now()
    meeting = services.add_meeting(
        agent,
        component(meeting_process, ComponentKind.MEETINGS),
        title="Séance",
        start=now + timedelta(days=3),
        end=now + timedelta(days=3, hours=2),
        address="Hôtel de ville",
    )
    return services.add_debate(
        agent,
        debates,
        title="Faut-il piétonniser la Grand-Place ?",
        description="Avant la séance.",
        start=now - timedelta(hours=1),
        end=now + timedelta(days=3),
        meeting=meeting.pk,
    )


def test_the_public_meeting_blueprint_has_a_debates_tool(meeting_process):
    assert [c.kind for c in meeting_process.components.order_by("position")] == [
        "meetings",
        "debates",
    ]


def test_arguments_take_a_side_replies_thread_under_them(debate, citizen, make_citizen):
    pro = services.add_argument(citizen, debate, body="Moins de bruit.", stance="for")
    reply = services.add_argument(
        make_citizen(1), debate, body="Et les livraisons ?", stance="against", parent=pro
    )
    assert (reply.depth, reply.parent_id, reply.stance) == (1, pro.pk, "")  # replies take no side
    services.add_argument(make_citizen(2), debate, body="À voir.", stance="neutral")
    [listed] = queries.debates(debate.component)
    assert (listed.n_for, listed.n_against, listed.n_neutral, listed.n_all) == (1, 0, 1, 3)
    assert [c.pk for c in queries.comment_tree(debate)][:2] == [pro.pk, reply.pk]


def test_refusals_say_why_and_store_nothing(agent, debates, debate, citizen):
    with pytest.raises(BadRequest) as error:
        services.add_argument(citizen, debate, body="Sans avis", stance="")
    assert error.value.field == "stance"
    with pytest.raises(BadRequest) as error:
        services.add_argument(citizen, debate, body="  ", stance="for")
    assert error.value.field == "body"
    later = services.add_debate(
        agent,
        debates,
        title="Plus tard",
        start=timezone.now() + timedelta(days=1),
        end=timezone.now() + timedelta(days=2),
    )
    with pytest.raises(PermissionDenied, match="opens on"):
        services.add_argument(citizen, later, body="Trop tôt", stance="for")
    with pytest.raises(BadRequest) as error:
        services.add_debate(
            agent, debates, title="x", start=timezone.now(), end=timezone.now() - timedelta(1)
        )
    assert error.value.field == "end"
    with pytest.raises(PermissionDenied):
        services.add_debate(
            citizen,
            debates,
            title="x",
            start=timezone.now(),
            end=timezone.now() + timedelta(days=1),
        )
    assert not Comment.objects.exists()
    assert Debate.objects.count() == 2


def test_the_database_refuses_a_comment_on_nothing_or_on_two_things(debate):
    with pytest.raises(IntegrityError):
        Comment.objects.create(body="orphan")


def test_the_conclusion_closes_the_debate_and_tells_who_took_part(
    agent, debate, citizen, make_citizen, django_capture_on_commit_callbacks
):
    services.add_argument(citizen, debate, body="Oui", stance="for")
    with django_capture_on_commit_callbacks(execute=True):
        services.conclude_debate(agent, debate, "La place sera piétonne le dimanche.")
    assert [m.to for m in mail.outbox] == [[citizen.email]]
    assert "dimanche" in mail.outbox[0].body
    debate.refresh_from_db()
    assert debate.concluded_at is not None and not debate.is_open()
    with pytest.raises(PermissionDenied, match="closed"):
        services.add_argument(make_citizen(1), debate, body="Trop tard", stance="against")
    with pytest.raises(PermissionDenied):
        services.conclude_debate(citizen, debate, "Moi je conclus")


def test_arguments_are_reported_hidden_and_moderated_like_comments(
    agent, debate, citizen, make_citizen
):
    argument = services.add_argument(citizen, debate, body="Pub !", stance="for")
    for n in range(3):
        services.report(make_citizen(n), reason="spam", comment=argument)
    argument.refresh_from_db()
    assert argument.is_hidden
    queue = list(queries.moderation_queue(debate.component.process.territory))
    assert len(queue) == 3 and all(r.comment_id == argument.pk for r in queue)
    with pytest.raises(Conflict):
        services.report(make_citizen(0), reason="spam", comment=argument)
    services.moderate(agent, comment=argument, hide=False)
    argument.refresh_from_db()
    assert not argument.is_hidden
    assert not queries.moderation_queue(debate.component.process.territory).exists()


def test_arguments_count_in_statistics_and_open_data(debate, citizen, make_citizen, roubaix):
    services.add_argument(citizen, debate, body="Oui", stance="for")
    services.add_argument(make_citizen(1), debate, body="Non", stance="against")
    hidden = services.add_argument(make_citizen(2), debate, body="Hors sujet", stance="neutral")
    Comment.objects.filter(pk=hidden.pk).update(is_hidden=True)
    figures = queries.figures(queries.territory_filter(roubaix))
    assert figures["debate_arguments"] == 3 and figures["contributions"] == 3
    assert figures["participants"] == 3
    rows = list(registry.exports()["participation.debates"].rows(roubaix))
    assert len(rows) == 1
    row = rows[0]
    assert (row["arguments_for"], row["arguments_against"], row["arguments_neutral"]) == (1, 1, 0)
    assert "author" not in row and citizen.email not in json.dumps(row)


def test_a_meeting_of_another_process_cannot_be_tied(agent, debates, make_process):
    other = component(make_process("meeting", title="Autre"), ComponentKind.MEETINGS)
    meeting = Meeting.objects.create(
        component=other,
        title="Ailleurs",
        start=timezone.now(),
        end=timezone.now() + timedelta(hours=1),
        address="x",
    )
    with pytest.raises(BadRequest) as error:
        services.add_debate(
            agent,
            debates,
            title="x",
            start=timezone.now(),
            end=timezone.now() + timedelta(days=1),
            meeting=meeting.pk,
        )
    assert error.value.field == "meeting"


def test_the_debate_pages_list_post_and_conclude(client, agent, debate, citizen):
    process = debate.component.process
    base = f"/participer/p/{process.slug}/{debate.component_id}/debats/"
    assert debate.title in client.get(base).content.decode()
    page = f"{base}{debate.pk}/"
    anonymous = client.get(page).content.decode()
    assert "Séance" in anonymous  # the meeting it is tied to
    client.force_login(citizen)
    missing = client.post(page, {"body": "Oui", "stance": ""})
    assert missing.status_code == 200 and not Comment.objects.exists()
    posted = client.post(page, {"body": "<script>alert(1)</script>", "stance": "for"})
    assert posted.status_code == 302
    html = client.get(page).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    argument = Comment.objects.get()
    client.post(page, {"body": "Réponse", "parent": argument.pk})
    assert Comment.objects.get(parent=argument).stance == ""
    assert client.post(f"{page}conclusion/", {"conclusion": "Non"}).status_code == 302
    assert Debate.objects.get().concluded_at is None  # a citizen cannot conclude
    client.force_login(agent)
    client.post(f"{page}conclusion/", {"conclusion": "Nous piétonnisons le dimanche."})
    assert "Nous piétonnisons le dimanche." in client.get(page).content.decode()


def test_a_reply_page_refuses_a_parent_of_another_discussion(
    client, agent, debates, debate, citizen, make_citizen
):
    """The page finds the answered comment as the API does: a parent from elsewhere or
    unknown is an error on the form, not a first-level argument."""
    other = services.add_debate(
        agent,
        debates,
        title="Autre question",
        start=timezone.now() - timedelta(hours=1),
        end=timezone.now() + timedelta(days=1),
    )
    elsewhere = services.add_argument(make_citizen(1), other, body="Ailleurs", stance="for")
    process = debate.component.process
    page = f"/participer/p/{process.slug}/{debate.component_id}/debats/{debate.pk}/"
    client.force_login(citizen)
    for parent in (elsewhere.pk, 999999):
        answer = client.post(page, {"body": "Réponse", "stance": "for", "parent": parent})
        assert answer.status_code == 200 and "alert--error" in answer.content.decode()
    assert not Comment.objects.filter(debate=debate).exists()


def test_the_debate_api(client, agent, debates, citizen):
    def call(method, url, data, user):
        _t, key = core_services.create_api_token(user, "t")
        return getattr(client, method)(
            url,
            json.dumps(data),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )

    now = timezone.now()
    created = call(
        "post",
        f"/api/participation/components/{debates.pk}/debates",
        {
            "title": "Question",
            "start": now.isoformat(),
            "end": (now + timedelta(days=2)).isoformat(),
        },
        agent,
    )
    assert created.status_code == 201, created.content
    debate_id = created.json()["id"]
    url = f"/api/participation/debates/{debate_id}/arguments"
    assert call("post", url, {"body": "Oui", "stance": "for"}, citizen).status_code == 201
    assert call("post", url, {"body": "Sans camp"}, citizen).status_code == 400
    listed = client.get(url).json()
    assert [(a["stance"], a["body"]) for a in listed] == [("for", "Oui")]
    detail = client.get(f"/api/participation/debates/{debate_id}").json()
    assert (detail["arguments_for"], detail["is_open"]) == (1, True)
    refused = call(
        "put", f"/api/participation/debates/{debate_id}/conclusion", {"conclusion": "x"}, citizen
    )
    assert refused.status_code == 403
    done = call(
        "put", f"/api/participation/debates/{debate_id}/conclusion", {"conclusion": "Fin"}, agent
    )
    assert done.json()["is_open"] is False
    assert call("post", url, {"body": "Après", "stance": "for"}, citizen).status_code == 403


def test_the_permissions_follow_the_refusals(agent, debate, citizen, make_citizen):
    argument = services.add_argument(citizen, debate, body="Oui", stance="for")
    assert citizen.has_perm("participation.argue", debate)
    assert citizen.has_perm("participation.edit_comment", argument)
    assert not make_citizen(1).has_perm("participation.edit_comment", argument)
    services.conclude_debate(agent, debate, "Fin.")
    debate.refresh_from_db()
    argument.refresh_from_db()
    assert not citizen.has_perm("participation.argue", debate)
    assert not citizen.has_perm("participation.edit_comment", argument)
