"""Procedures end to end through the services: drafts, submission and routing, workflow
actions, permissions on transitions, information requests, timeouts, counter entry, bulk
actions, RGPD retention."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.notifications.models import Notification
from metropole.procedures import services
from metropole.procedures.models import Request, RequestEvent
from metropole.procedures.workflow import validate_definition
from tests.conftest import row_locks

from .conftest import WORKFLOW, answers

pytestmark = pytest.mark.django_db


def submit(procedure, actor, **kw):
    return services.submit_answers(actor, procedure["form"], answers(), **kw)


def test_a_draft_is_filled_and_sent_only_by_its_account(procedure, people):
    from django.contrib.auth.models import AnonymousUser

    draft = services.start_draft(people["citizen"], procedure["form"])
    for intruder in (people["other"], people["agent"], AnonymousUser()):
        with pytest.raises(PermissionDenied):
            services.save_page(intruder, draft, 1, {"kind": "Extract", "name": "Intruder"})
        with pytest.raises(PermissionDenied):
            services.submit(intruder, draft)
    draft.refresh_from_db()
    assert draft.data == {} and draft.is_draft


def test_team_members_are_staff_of_its_territory(procedure, people):
    commune = procedure["lille_commune"]
    with pytest.raises(BadRequest) as error:
        services.save_team(people["admin"], commune, name="Schools", members=[people["other"]])
    assert error.value.field == "members" and "other@example.org" in error.value.detail
    team = services.save_team(people["admin"], commune, name="Schools", members=[people["clerk"]])
    assert list(team.members.all()) == [people["clerk"]]


def test_draft_keeps_valid_answers_then_is_sent_and_routed(procedure, people):
    citizen = people["citizen"]
    draft = services.start_draft(citizen, procedure["form"])
    errors = services.save_page(
        citizen, draft, 1, {"kind": "Extract", "name": "Martin", "date": "not a date"}
    )
    assert set(errors) == {"date"}
    draft.refresh_from_db()
    assert draft.data == {"kind": "Extract", "name": "Martin"}  # kept for next time
    with pytest.raises(services.InvalidAnswers) as error:
        services.submit(citizen, draft)
    assert error.value.by_field["date"]["page"] == 1 and error.value.by_field["place"]["page"] == 2
    assert Request.objects.get(pk=draft.pk).is_draft  # nothing half-sent
    services.save_page(citizen, draft, 1, {"kind": "Extract", "name": "Martin", "date": "1/2/2000"})
    services.save_page(
        citizen, draft, 2, {"place": {"street": "1 rue X", "lat": "50.690", "lon": "3.181"}}
    )  # Roubaix
    sent = services.submit(citizen, draft)
    assert sent.status == "new" and sent.submitted_at and len(sent.code) == 9
    assert sent.territory.code == "59512" == sent.commune.code  # routed to the commune
    assert sent.team.territory == sent.territory and sent.team.slug == "civil"  # assign action
    assert sent.due_at - sent.submitted_at == timedelta(days=10)
    receipt = Notification.objects.get(source="procedures.submitted")
    assert receipt.recipient == "citizen@example.org" and receipt.status == "sent"
    assert sent.code in receipt.body
    with pytest.raises(Conflict):
        services.submit(citizen, draft)


def test_transitions_follow_roles_and_teams(procedure, people):
    request = submit(procedure, people["citizen"])
    assert request.territory.code == "59350"
    take = services.take_transition
    with pytest.raises(PermissionDenied):
        take(people["roubaix"], request, 0)  # another commune's agent
    with pytest.raises(PermissionDenied):
        take(people["citizen"], request, 0)
    request.refresh_from_db()
    assert request.status == "new" and not request.events.filter(kind="status").exists()
    take(people["clerk"], request, 0)  # any agent of the commune may take it
    with pytest.raises(PermissionDenied) as error:
        take(people["clerk"], request, 2)  # "Deliver" is for the team "civil"
    assert "civil" in error.value.detail
    with pytest.raises(Conflict):
        take(people["agent"], request, 0)  # not from "open"
    request = take(people["agent"], request, 2)
    assert request.status == "done" and request.closed_at is not None
    statuses = list(request.events.filter(kind="status").values_list("to_status", flat=True))
    assert statuses == ["open", "done"]
    # the "open" status notified the citizen; the connector action left a line
    assert Notification.objects.filter(source="procedures.workflow").count() == 1
    assert "No connector “crm”" in request.events.filter(kind="action").last().text


def test_information_request_link_works_once(procedure, people):
    request = submit(procedure, people["citizen"])
    services.take_transition(people["agent"], request, 0)
    services.take_transition(people["agent"], request, 1)
    request.refresh_from_db()
    assert request.status == "missing" and request.awaiting_citizen and request.wake_at
    asked = request.events.get(kind="info_requested")
    mail = Notification.objects.get(subject__startswith="Information needed")
    assert asked.text in mail.body
    token = re.search(r"/repondre/([^/]+)/", mail.body).group(1)  # the link e-mailed
    services.answer_information_request(people["citizen"], request, token, "Born 1/2/2000")
    request.refresh_from_db()
    assert request.status == "open" and not request.awaiting_citizen and request.wake_at is None
    with pytest.raises(Conflict, match="works once"):
        services.answer_information_request(people["citizen"], request, token, "again")
    with pytest.raises(PermissionDenied):
        services.answer_information_request(people["citizen"], request, token + "x", "forged")
    assert request.events.filter(kind="message", by_citizen=True).count() == 1


def test_a_request_moving_locks_its_row_and_its_workflow_only(procedure, people):
    """The workflow's row guards against a status removed meanwhile (save_workflow locks
    it too); the form's and the territory's would make every agent of a service wait."""
    request = submit(procedure, people["citizen"])
    locks = row_locks(lambda: services.take_transition(people["agent"], request, 0))
    assert locks is None or set(locks) == {
        'FOR UPDATE OF "procedures_request", "procedures_workflow"'
    }


def test_expired_links_are_refused(procedure, people, settings):
    request = submit(procedure, people["citizen"])
    token = services.tracking_token(request)
    services.check_tracking_token(request, token)
    settings.PROCEDURES_LINK_MAX_AGE = -1
    with pytest.raises(PermissionDenied) as error:
        services.check_tracking_token(request, token)
    assert error.value.title == "This link has expired"
    other = submit(procedure, people["citizen"])
    settings.PROCEDURES_LINK_MAX_AGE = 3600
    with pytest.raises(PermissionDenied, match="another request"):
        services.check_tracking_token(other, token)


def test_timeout_moves_the_request_on(procedure, people):
    request = submit(procedure, people["citizen"])
    services.take_transition(people["agent"], request, 0)
    services.take_transition(people["agent"], request, 1)
    assert services.wake_due_requests() == 0  # not yet
    moved = services.wake_due_requests(now=timezone.now() + timedelta(days=11))
    request.refresh_from_db()
    assert moved == 1 and request.status == "dropped" and request.closed_at


def test_counter_entry_keeps_the_channel_and_needs_an_agent(procedure, people):
    counter = procedure["lille_commune"]
    with pytest.raises(PermissionDenied):
        submit(procedure, people["citizen"], channel="phone", counter=counter)
    with pytest.raises(PermissionDenied):
        submit(procedure, people["roubaix"], channel="phone", counter=counter)
    request = submit(
        procedure, people["clerk"], channel="phone", phone="06 11 22 33 44", counter=counter
    )
    assert request.channel == "phone" and request.entered_by == people["clerk"]
    assert request.user is None and request.phone == "+33611223344"
    assert request.events.get(kind="submitted").by_citizen is False


def test_anonymous_submission_needs_an_email(procedure, people):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(BadRequest) as error:
        submit(procedure, AnonymousUser())
    assert error.value.field == "email"
    request = submit(procedure, AnonymousUser(), email="anon@example.org")
    assert request.user is None and request.email == "anon@example.org"
    receipt = Notification.objects.get(object_id=str(request.pk), source="procedures.submitted")
    assert "?cle=" in receipt.body  # the tracking link carries the signed key


def test_bulk_transition_reports_refusals_and_does_the_rest(procedure, people):
    first, second = submit(procedure, people["citizen"]), submit(procedure, people["citizen"])
    services.take_transition(people["agent"], first, 0)
    result = services.bulk_transition(people["clerk"], [first, second], 0)
    assert result.done == [second.code] and first.code in result.refused
    result = services.bulk_assign(people["roubaix"], [first], agent=people["roubaix"])
    assert result.refused and Request.objects.get(pk=first.pk).assigned_to is None


def test_comments_are_internal_and_messages_reach_the_citizen(procedure, people):
    request = submit(procedure, people["citizen"])
    services.add_comment(people["agent"], request, "Check the register")
    with pytest.raises(PermissionDenied):
        services.add_comment(people["citizen"], request, "sneaky")
    services.post_message(people["agent"], request, "Which year?", as_citizen=False)
    services.post_message(people["citizen"], request, "1990", as_citizen=True)
    assert Notification.objects.filter(body__contains="Which year?").exists()
    events = list(request.events.values_list("kind", "internal"))
    assert ("comment", True) in events and ("message", False) in events
    with pytest.raises(BadRequest):
        services.post_message(people["citizen"], request, "   ", as_citizen=True)


def test_retention_period_anonymises_closed_requests(procedure, people):
    request = submit(procedure, people["citizen"])
    services.post_message(people["citizen"], request, "My secret", as_citizen=True)
    services.take_transition(people["agent"], request, 0)
    services.take_transition(people["agent"], request, 2)
    open_one = submit(procedure, people["citizen"])
    assert services.anonymise_expired() == 0  # retention: 30 days after closing
    later = timezone.now() + timedelta(days=31)
    assert services.anonymise_expired(now=later) == 1
    request.refresh_from_db()
    assert request.data == {} and request.user is None and request.email == ""
    assert request.anonymised_at and request.status == "done"  # statistics keep their figures
    assert not RequestEvent.objects.filter(request=request, text__contains="secret").exists()
    assert not Notification.objects.filter(object_id=str(request.pk)).exclude(body="").exists()
    open_one.refresh_from_db()
    assert open_one.data  # still open: kept


def test_workflow_definitions_are_checked_with_the_place_of_the_error(procedure, people, lille):
    bad = {**WORKFLOW, "transitions": [{"from": "new", "to": "nowhere", "label": "x"}]}
    with pytest.raises(BadRequest) as error:
        validate_definition(bad)
    assert error.value.field == "transitions[0].to"
    bad = {
        "statuses": [
            {"code": "a", "label": "A", "actions": [{"type": "timeout", "days": 0, "to": "a"}]}
        ]
    }
    with pytest.raises(BadRequest) as error:
        validate_definition(bad)
    assert error.value.field == "statuses[0].actions[0].days"
    request = submit(procedure, people["citizen"])
    assert request.status == "new"
    shrunk = {
        "statuses": [s for s in WORKFLOW["statuses"] if s["code"] != "new"],
        "transitions": [],
    }
    with pytest.raises(Conflict, match=r"“New” \(requests are in it\)"):
        services.save_workflow(
            people["admin"], lille, name="x", definition=shrunk, workflow=procedure["workflow"]
        )
    with pytest.raises(PermissionDenied):
        services.save_workflow(people["agent"], lille, name="y", definition=WORKFLOW)


def test_statistics_per_form(procedure, people):
    from metropole.procedures.queries import form_statistics

    requests = [submit(procedure, people["citizen"]) for _ in range(3)]
    for request, days in zip(requests[:2], (2, 4), strict=True):
        services.take_transition(people["agent"], request, 0)
        services.take_transition(people["agent"], request, 2)
        Request.objects.filter(pk=request.pk).update(
            closed_at=request.submitted_at + timedelta(days=days)
        )
    [row] = form_statistics(procedure["lille_commune"])
    assert (row["total"], row["open"], row["closed"]) == (3, 1, 2)
    assert row["median_days"] == 3.0 and row["p90_days"] == 3.8


def test_tracking_codes_are_unguessable():
    from metropole.procedures.models import new_tracking_code

    codes = {new_tracking_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(len(c) == 9 and c[4] == "-" for c in codes)
    assert not any(ch in "".join(codes) for ch in "01OI")


def test_signed_tokens_are_salted(procedure, people):
    request = submit(procedure, people["citizen"])
    foreign = signing.dumps(request.code, salt="another-purpose")
    with pytest.raises(PermissionDenied):
        services.check_tracking_token(request, foreign)


def test_tick_command_runs_timeouts_and_retention(procedure, people):
    from io import StringIO

    from django.core.management import call_command

    request = submit(procedure, people["citizen"])
    services.take_transition(people["agent"], request, 0)
    services.take_transition(people["agent"], request, 1)
    Request.objects.filter(pk=request.pk).update(wake_at=timezone.now() - timedelta(minutes=1))
    out = StringIO()
    call_command("procedures_tick", "--now", stdout=out)
    request.refresh_from_db()
    assert request.status == "dropped" and "1 request(s) moved" in out.getvalue()
    Request.objects.filter(pk=request.pk).update(closed_at=timezone.now() - timedelta(days=31))
    call_command("procedures_tick", stdout=out)  # queued: the immediate backend runs it
    request.refresh_from_db()
    assert request.anonymised_at is not None


def test_assign_to_a_member_of_the_team(procedure, people):
    request = submit(procedure, people["citizen"])
    services.assign(people["clerk"], request, agent=people["agent"])
    request.refresh_from_db()
    assert request.assigned_to == people["agent"]
    with pytest.raises(BadRequest):
        services.assign(people["clerk"], request, agent=people["roubaix"])
    with pytest.raises(BadRequest):
        services.assign(people["clerk"], request, team=procedure["team"])  # the metropole's


def test_manifest_statistics_open_data_and_personal_data(procedure, people, lille):
    from metropole.core.registry import registry
    from metropole.core.services import export_personal_data

    for _ in range(5):
        submit(procedure, people["citizen"])
    submit(procedure, people["clerk"], channel="counter", counter=procedure["lille_commune"])
    manifest = registry["procedures"]
    stats = {s.key: s.compute(lille) for s in manifest.statistics}
    assert stats["procedure_requests"] == 6 and stats["procedure_requests_online"] == 5
    rows = list(registry.exports()["procedures.request_volumes"].rows(lille))
    # five online requests make a group; the single counter request is withheld
    assert [(r["channel"], r["requests"]) for r in rows] == [("online", 5)]
    assert "Martin" not in str(rows) and "citizen@example.org" not in str(rows)
    exported = export_personal_data(people["citizen"])["procedures"]
    assert len(exported) == 5 and exported[0]["answers"]["name"] == "Martin"
