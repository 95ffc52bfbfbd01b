"""Every write of the procedures module: transactional, permission-checked, audited.

Citizen side: `save_page` (drafts), `submit`, `submit_answers` (one call, for the API and
agents at the counter), `post_message`, `answer_information_request`.
Agent side: `take_transition`, `assign`, `add_comment`, `bulk_assign`, `bulk_transition`.
Back-office: `save_workflow`, `save_form`, `save_field`, `delete_field`, `move_field`,
`save_team`. Background: `wake_due_requests` (timeouts), `anonymise_expired` (RGPD).
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from metropole.core.conf import setting
from metropole.core.exceptions import BadRequest, Conflict, NotFound, PermissionDenied
from metropole.core.rules import require_perm
from metropole.core.services import audit
from metropole.notifications.services import send_notification

from . import attachments, engine
from .models import (
    DRAFT,
    Attachment,
    Channel,
    EventKind,
    FieldKind,
    Form,
    FormField,
    Request,
    RequestEvent,
    Routing,
    Team,
    Workflow,
)
from .rules import can_take
from .workflow import problems, render_message, validate_definition

logger = logging.getLogger(__name__)
TRACKING_SALT = "procedures.tracking"
ANSWER_SALT = "procedures.answer"
# A request moving into a status locks its row and its workflow's: save_workflow locks the
# workflow too, so a status cannot be removed while a request enters it. The form and the
# territory read beside them stay unlocked (their rows would serialise a whole service).
WORKFLOW_GUARD = ("self", "form__workflow")


class InvalidAnswers(BadRequest):
    """The answers do not fit the form: `by_field` = {field key: {"message", "page"}} for the
    pages, `errors` the same as a list for the API."""

    def __init__(self, errors: dict, fields: dict | None = None):
        first_key = next(iter(errors))
        label = fields.get(first_key, first_key) if fields else first_key
        super().__init__(
            _("Some answers need a correction"),
            _("%(count)d answer(s) to correct, starting with “%(label)s”: %(message)s")
            % {"count": len(errors), "label": label, "message": errors[first_key]["message"]},
            field=first_key,
            errors=[{"field": key, **error} for key, error in errors.items()],
        )
        self.by_field = errors


# --- links -------------------------------------------------------------------------------


def _link_max_age() -> int:
    """How long links e-mailed to citizens work (seconds; 90 days)."""
    return int(setting("PROCEDURES_LINK_MAX_AGE", 90 * 24 * 3600))


def tracking_token(request: Request) -> str:
    return signing.dumps(request.code, salt=TRACKING_SALT)


def check_tracking_token(request: Request, token: str) -> None:
    """Raise PermissionDenied if the link is not this request's or has expired."""
    try:
        code = signing.loads(token, salt=TRACKING_SALT, max_age=_link_max_age())
    except signing.SignatureExpired:
        raise PermissionDenied(
            _("This link has expired"),
            _("Links sent by e-mail work for %(days)d days. Ask the service for a new one.")
            % {"days": _link_max_age() // 86400},
        ) from None
    except signing.BadSignature:
        raise PermissionDenied(_("Invalid link"), _("This link is not valid.")) from None
    if code != request.code:
        raise PermissionDenied(_("Invalid link"), _("This link is for another request."))


def status_url(request: Request, base_url: str = "") -> str:
    path = reverse("procedures:status", kwargs={"code": request.code})
    if request.user_id is None:
        path += f"?cle={tracking_token(request)}"
    return (base_url or settings.METROPOLE_BASE_URL).rstrip("/") + path


def answer_token(event: RequestEvent) -> str:
    return signing.dumps(event.pk, salt=ANSWER_SALT)


# --- drafts and submission ---------------------------------------------------------------


def _form_fields(form: Form) -> list[FormField]:
    return list(form.fields.all())


def _store_files(request: Request, fields, raw: dict, values: dict, errors: dict, pages) -> None:
    """Check and store uploaded files of shown file fields; update values and errors."""
    numbers = engine.page_of_field(pages)
    for field in fields:
        if field.kind != FieldKind.FILE or field.key in errors:
            continue
        upload = raw.get(field.key)
        if upload is None or not hasattr(upload, "read"):
            continue
        try:
            content_type = attachments.check(upload)
        except ValueError as error:
            errors[field.key] = {"message": str(error), "page": numbers[field.key]}
            values.pop(field.key, None)
            continue
        request.attachments.filter(field_key=field.key).delete()
        attachment = Attachment(
            request=request,
            field_key=field.key,
            filename=(upload.name or "file")[-200:],
            content_type=content_type,
            size=upload.size,
        )
        attachment.file.save("upload", upload, save=False)
        attachment.save()
        values[field.key] = {"attachment": attachment.pk, "name": attachment.filename}


def start_draft(actor, form: Form) -> Request:
    """A new draft of `form` (without an account only if the form allows it)."""
    if not form.published:
        raise NotFound(_("Unknown procedure"), _("This procedure is not open."))
    if not actor.is_authenticated and not form.allow_anonymous:
        raise PermissionDenied(
            _("Log in first"), _("This procedure needs an account: log in or create one.")
        )
    return Request.objects.create(
        form=form,
        metropole=form.metropole,
        territory=form.territory,
        user=actor if actor.is_authenticated else None,
        email=actor.email if actor.is_authenticated else "",
    )


def _check_draft(actor, draft: Request) -> None:
    if not draft.is_draft:
        raise Conflict(_("Already sent"), _("This request was already sent."))
    if draft.user_id is not None and not actor.has_perm("procedures.fill_draft", draft):
        raise PermissionDenied(_("Not your draft"), _("This draft belongs to someone else."))


@transaction.atomic
def save_page(actor, draft: Request, page_number: int, raw: dict) -> dict:
    """Store the answers of one page of a draft; returns the errors of that page (the valid
    answers are kept, so a person never types them twice)."""
    draft = Request.objects.select_for_update().get(pk=draft.pk)
    _check_draft(actor, draft)
    fields = _form_fields(draft.form)
    pages = engine.pages_of(draft.form, fields)
    if not 1 <= page_number <= len(pages):
        raise NotFound(_("Unknown page"), _("This form has no page %(n)d.") % {"n": page_number})
    page = pages[page_number - 1]
    values, errors = engine.clean_fields(
        page.fields,
        raw,
        draft.data,
        metropole=draft.metropole,
        page_numbers=engine.page_of_field(pages),
    )
    _store_files(draft, page.fields, raw, values, errors, pages)
    draft.data = engine.merge(draft.data, {k: v for k, v in values.items() if k not in errors})
    draft.save(update_fields=["data", "updated_at"])
    return errors


def _validate_all(request: Request) -> None:
    fields = _form_fields(request.form)
    pages = engine.pages_of(request.form, fields)
    values, errors = engine.clean_fields(
        fields,
        request.data,
        request.data,
        metropole=request.metropole,
        page_numbers=engine.page_of_field(pages),
    )
    if errors:
        raise InvalidAnswers(errors, {f.key: f.label for f in fields})
    request.data = {k: v for k, v in values.items() if v is not None}


def _route(request: Request) -> None:
    """Who handles the request: the form's territory, or the commune of its address."""
    address = next(
        (
            request.data.get(f.key)
            for f in request.form.fields.all()
            if f.kind == FieldKind.ADDRESS and isinstance(request.data.get(f.key), dict)
        ),
        None,
    )
    if address:
        from metropole.core.models import Territory

        request.commune = Territory.objects.filter(code=address["commune"]).first()
    if request.form.routing == Routing.COMMUNE and request.commune is not None:
        request.territory = request.commune
    else:
        request.territory = request.form.territory


def _summary(request: Request) -> str:
    """Short answers joined, for the queue's list and its word search."""
    parts = []
    for field in request.form.fields.all():
        if field.kind in (FieldKind.TEXT, FieldKind.SELECT, FieldKind.RADIO):
            value = request.data.get(field.key)
            if value:
                parts.append(str(value))
    return " · ".join(parts)[:300]


@transaction.atomic
def submit(actor, draft: Request, *, email: str = "", phone: str = "", base_url: str = ""):
    """Send a draft: validate every page, route it, enter the workflow's first status."""
    request = (
        Request.objects.select_for_update(of=WORKFLOW_GUARD)
        .select_related("form__workflow")
        .get(pk=draft.pk)
    )
    _check_draft(actor, request)
    _validate_all(request)
    _set_contact(request, email, phone)
    return _enter_workflow(actor, request, base_url)


def _set_contact(request: Request, email: str, phone: str) -> None:
    from metropole.notifications.sms import normalise_phone

    if email:
        try:
            request.email = engine.clean_value(FormField(kind=FieldKind.EMAIL), email)
        except ValueError as error:
            raise BadRequest(_("Invalid e-mail address"), str(error), field="email") from None
    if phone:
        normalised = normalise_phone(phone)
        if normalised is None:
            raise BadRequest(
                _("Invalid phone number"),
                _("Enter a phone number, e.g. 06 12 34 56 78."),
                field="phone",
            )
        request.phone = normalised
    if not request.email and request.user_id is None and request.channel == Channel.ONLINE:
        raise BadRequest(
            _("E-mail address needed"),
            _("Give an e-mail address to receive the tracking link of your request."),
            field="email",
        )


def _enter_workflow(actor, request: Request, base_url: str) -> Request:
    _route(request)
    now = timezone.now()
    request.status = request.form.workflow.initial_status
    request.submitted_at = now
    request.due_at = now + timedelta(days=request.form.deadline_days)
    request.summary = _summary(request)
    request.save()
    RequestEvent.objects.create(
        request=request,
        actor=actor if actor.is_authenticated else None,
        by_citizen=request.channel == Channel.ONLINE,
        kind=EventKind.SUBMITTED,
        to_status=request.status,
        text=request.get_channel_display(),
    )
    audit(actor, "procedures.request_submitted", request.territory, request, code=request.code)
    recipient = request.email or (request.user.email if request.user_id else "")
    if recipient:
        url = status_url(request, base_url)
        send_notification(
            channel="email",
            to=recipient,
            subject=_("Your request %(code)s was received") % {"code": request.code},
            body=_(
                "Hello,\n\nYour request “%(form)s” was received by %(territory)s.\n"
                "Tracking code: %(code)s\nFollow it here: %(url)s\n"
            )
            % {
                "form": request.form.title,
                "territory": request.territory.display_name,
                "code": request.code,
                "url": url,
            },
            source="procedures.submitted",
            territory=request.territory,
            user=request.user,
            obj=request,
        )
    _run_actions(actor, request, request.status, base_url)
    return request


@transaction.atomic
def submit_answers(
    actor,
    form: Form,
    raw: dict,
    *,
    channel: str = Channel.ONLINE,
    email: str = "",
    phone: str = "",
    base_url: str = "",
    counter=None,
) -> Request:
    """Create and send a request in one call (API; agents entering a request received at the
    counter, by phone or by post — the channel is kept)."""
    if channel not in Channel.values:
        raise BadRequest(_("Unknown channel"), _("Unknown channel."), field="channel")
    if channel != Channel.ONLINE:
        # The agent records it for the territory of their counter; routing still applies.
        require_perm(actor, "procedures.enter_request", counter or form.territory)
    if not form.published:
        raise NotFound(_("Unknown procedure"), _("This procedure is not open."))
    if channel == Channel.ONLINE and not actor.is_authenticated and not form.allow_anonymous:
        raise PermissionDenied(
            _("Log in first"), _("This procedure needs an account: log in or create one.")
        )
    request = Request(
        form=form,
        metropole=form.metropole,
        territory=form.territory,
        channel=channel,
        user=actor if channel == Channel.ONLINE and actor.is_authenticated else None,
        entered_by=actor if channel != Channel.ONLINE else None,
    )
    fields = _form_fields(form)
    pages = engine.pages_of(form, fields)
    # A file answer is an uploaded file, never a value naming a stored one.
    file_keys = {f.key for f in fields if f.kind == FieldKind.FILE}
    raw = {k: v for k, v in raw.items() if k not in file_keys or hasattr(v, "read")}
    values, errors = engine.clean_fields(
        fields,
        raw,
        raw,
        metropole=form.metropole,
        page_numbers=engine.page_of_field(pages),
    )
    if errors:
        raise InvalidAnswers(errors, {f.key: f.label for f in fields})
    # Uploaded files are stored once the request exists (below); their answer is then a
    # reference to the stored file.
    request.data = {k: v for k, v in values.items() if v is not None and not hasattr(v, "read")}
    _set_contact(request, email or (actor.email if request.user_id else ""), phone)
    request.save()
    _store_files(request, fields, raw, request.data, errors, pages)
    if errors:
        # The transaction is rolled back; files already written must not stay behind.
        for attachment in request.attachments.all():
            attachment.file.delete(save=False)
        raise InvalidAnswers(errors, {f.key: f.label for f in fields})
    return _enter_workflow(actor, request, base_url)


@transaction.atomic
def discard_draft(actor, draft: Request) -> None:
    if not draft.is_draft:
        raise Conflict(_("Already sent"), _("A request already sent cannot be deleted."))
    for attachment in draft.attachments.all():
        attachment.file.delete(save=False)
    draft.delete()


# --- workflow ----------------------------------------------------------------------------


def _notify_citizen(request: Request, channel: str, subject: str, body: str, base_url: str):
    to = (
        request.phone
        if channel == "sms"
        else (request.email or (request.user.email if request.user_id else ""))
    )
    if not to:
        RequestEvent.objects.create(
            request=request,
            kind=EventKind.ACTION,
            internal=True,
            text=_("No %(channel)s contact: the citizen could not be notified.")
            % {"channel": "SMS" if channel == "sms" else _("e-mail")},
        )
        return
    send_notification(
        channel=channel,
        to=to,
        subject=subject,
        body=body,
        source="procedures.workflow",
        territory=request.territory,
        user=request.user,
        obj=request,
    )


def _run_actions(actor, request: Request, status_code: str, base_url: str = "", before=()) -> None:
    """Run the actions of the transition taken (`before`), then those of the status
    entered."""
    status = request.form.workflow.statuses.get(status_code, {})
    request.wake_at, request.wake_to = None, ""
    if status.get("final"):
        request.closed_at = timezone.now()
    else:
        request.closed_at = None
    url = status_url(request, base_url)
    for action in [*before, *status.get("actions", [])]:
        kind = action["type"]
        if kind == "notify":
            channel = action.get("channel", "email")
            _notify_citizen(
                request,
                channel,
                render_message(action.get("subject") or request.form.title, request, url),
                render_message(action["message"], request, url),
                base_url,
            )
        elif kind == "assign":
            team = (
                Team.objects.filter(territory=request.territory, slug=action["team"]).first()
                or Team.objects.filter(
                    territory=request.form.territory, slug=action["team"]
                ).first()
            )
            if team is None:
                RequestEvent.objects.create(
                    request=request,
                    kind=EventKind.ACTION,
                    internal=True,
                    text=_("No team “%(team)s” in %(territory)s: not assigned.")
                    % {"team": action["team"], "territory": request.territory.display_name},
                )
            else:
                request.team = team
                request.assigned_to = None
                RequestEvent.objects.create(
                    request=request, kind=EventKind.ASSIGNED, internal=True, text=team.name
                )
        elif kind == "connector":
            from metropole.connectors.services import call_for

            log = call_for(
                request.territory,
                action["connector"],
                action["endpoint"],
                _connector_payload(request, status_code),
                source=f"procedures.request:{request.pk}",
            )
            RequestEvent.objects.create(
                request=request,
                kind=EventKind.ACTION,
                internal=True,
                text=log,
            )
        elif kind == "timeout":
            delay = (
                timedelta(days=action["days"])
                if action.get("days") is not None
                else timedelta(hours=action["hours"])
            )
            request.wake_at = timezone.now() + delay
            request.wake_to = action["to"]
        elif kind == "ask_citizen":
            request.awaiting_citizen = True
            event = RequestEvent.objects.create(
                request=request,
                kind=EventKind.INFO_REQUESTED,
                text=render_message(action["message"], request, url),
                to_status=action.get("then") or "",
            )
            answer = (base_url or settings.METROPOLE_BASE_URL).rstrip("/") + reverse(
                "procedures:answer", kwargs={"code": request.code, "token": answer_token(event)}
            )
            _notify_citizen(
                request,
                "email",
                _("Information needed for your request %(code)s") % {"code": request.code},
                _("%(message)s\n\nAnswer here: %(url)s\n") % {"message": event.text, "url": answer},
                base_url,
            )
        elif kind == "route":
            _hand_over(request, action["to"])
    request.save()


def _hand_over(request: Request, to: str) -> None:
    """A `route` action: the request goes to the commune of its address, the territory of
    its form or the metropole; the new territory's agents pick it up (team and agent
    cleared)."""
    target = {
        "commune": request.commune,
        "owner": request.form.territory,
        "metropole": request.metropole,
    }[to]
    if target is None:
        text = _("No commune known for this request: it stays with %(territory)s.") % {
            "territory": request.territory.display_name
        }
    elif target.pk == request.territory_id:
        return
    else:
        text = _("Handed over from %(from)s to %(to)s.") % {
            "from": request.territory.display_name,
            "to": target.display_name,
        }
        request.territory = target
        request.team = None
        request.assigned_to = None
    RequestEvent.objects.create(request=request, kind=EventKind.ACTION, internal=True, text=text)


def _connector_payload(request: Request, status_code: str) -> dict:
    return {
        "request": request.code,
        "form": request.form.slug,
        "status": status_code,
        "territory": request.territory.code,
        "commune": request.commune.code if request.commune_id else None,
        "submitted_at": request.submitted_at.isoformat() if request.submitted_at else None,
        "channel": request.channel,
        "data": {
            k: v
            for k, v in request.data.items()
            if not isinstance(v, dict) or "attachment" not in v
        },
    }


def _move(
    actor, request: Request, to_status: str, *, label: str, base_url: str = "", before=()
) -> Request:
    from_status = request.status
    request.status = to_status
    request.awaiting_citizen = False
    RequestEvent.objects.create(
        request=request,
        actor=actor if actor is not None and actor.is_authenticated else None,
        kind=EventKind.STATUS,
        from_status=from_status,
        to_status=to_status,
        text=label,
    )
    _run_actions(actor, request, to_status, base_url, before)
    return request


def available_transitions(user, request: Request) -> list[tuple[int, dict]]:
    """(index, transition) pairs `user` may take on `request` now."""
    if request.is_draft:
        return []
    workflow = request.form.workflow
    current = workflow.statuses.get(request.status, {})
    result = []
    for index, transition in enumerate(workflow.definition.get("transitions", [])):
        if transition["from"] == "*" and current.get("final"):
            continue
        if transition["from"] not in (request.status, "*") or transition["to"] == request.status:
            continue
        if can_take(user, request, transition):
            result.append((index, transition))
    return result


@transaction.atomic
def take_transition(
    actor, request: Request, index: int, *, base_url: str = "", expected_to: str = ""
) -> Request:
    """Move a request along transition number `index` of its workflow. `expected_to` (the
    status the caller's page showed this step leading to) guards against a workflow edited
    since that page was opened: the step is then refused rather than another one taken."""
    request = (
        Request.objects.select_for_update(of=WORKFLOW_GUARD)
        .select_related("form__workflow", "territory")
        .get(pk=request.pk)
    )
    require_perm(actor, "procedures.handle_request", request)
    transitions = request.form.workflow.definition.get("transitions", [])
    if not 0 <= index < len(transitions):
        raise NotFound(_("Unknown action"), _("This workflow has no such action."))
    transition = transitions[index]
    if expected_to and transition["to"] != expected_to:
        raise Conflict(
            _("The workflow changed"),
            _("The steps of this procedure were changed since the page was opened: reload it."),
        )
    if index not in dict(available_transitions(actor, request)):
        if not can_take(actor, request, transition):
            raise PermissionDenied(
                _("Not allowed"),
                _("Only the teams %(teams)s may do “%(label)s”.")
                % {"teams": ", ".join(transition.get("teams", [])), "label": transition["label"]},
            )
        raise Conflict(
            _("Not possible now"),
            _("“%(label)s” is not possible from the status “%(status)s”.")
            % {"label": transition["label"], "status": request.status_label},
        )
    _move(
        actor,
        request,
        transition["to"],
        label=transition["label"],
        base_url=base_url,
        before=transition.get("actions", []),
    )
    audit(
        actor,
        "procedures.status_changed",
        request.territory,
        request,
        code=request.code,
        to=transition["to"],
    )
    return request


@transaction.atomic
def assign(actor, request: Request, *, team: Team | None = None, agent=None) -> Request:
    require_perm(actor, "procedures.handle_request", request)
    if team is not None and team.territory_id != request.territory_id:
        raise BadRequest(_("Wrong team"), _("This team is not of the territory handling it."))
    if agent is not None and not agent.has_perm("procedures.handle_request", request):
        raise BadRequest(
            _("Wrong person"),
            _("%(who)s cannot handle this request.") % {"who": agent.email},
            field="agent",
        )
    request.team = team if team is not None else request.team
    request.assigned_to = agent
    request.save(update_fields=["team", "assigned_to", "updated_at"])
    who = agent.get_full_name() or agent.email if agent else "—"
    RequestEvent.objects.create(
        request=request,
        actor=actor,
        kind=EventKind.ASSIGNED,
        internal=True,
        text=f"{request.team.name if request.team else '—'} / {who}",
    )
    return request


def _text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise BadRequest(_("Empty message"), _("Write a message first."), field="text")
    if len(text) > engine.MAX_TEXTAREA:
        raise BadRequest(_("Message too long"), _("At most 10,000 characters."), field="text")
    return text


@transaction.atomic
def add_comment(actor, request: Request, text: str) -> RequestEvent:
    """An internal comment: agents only, never shown to the citizen."""
    require_perm(actor, "procedures.handle_request", request)
    return RequestEvent.objects.create(
        request=request, actor=actor, kind=EventKind.COMMENT, internal=True, text=_text(text)
    )


@transaction.atomic
def post_message(actor, request: Request, text: str, *, as_citizen: bool, base_url: str = ""):
    """A message between the citizen and the service, shown to both. The agent's message is
    e-mailed to the citizen."""
    if as_citizen:
        if request.is_closed or request.is_draft or request.anonymised_at:
            raise Conflict(_("Request closed"), _("This request is closed; messages are off."))
    else:
        require_perm(actor, "procedures.handle_request", request)
    event = RequestEvent.objects.create(
        request=request,
        actor=actor if actor.is_authenticated else None,
        by_citizen=as_citizen,
        kind=EventKind.MESSAGE,
        text=_text(text),
    )
    if not as_citizen:
        _notify_citizen(
            request,
            "email",
            _("New message about your request %(code)s") % {"code": request.code},
            _("%(text)s\n\nSee your request: %(url)s\n")
            % {"text": event.text, "url": status_url(request, base_url)},
            base_url,
        )
    return event


@transaction.atomic
def add_document(actor, request: Request, upload, *, text: str = "", as_citizen: bool):
    """A file sent after the request (a document the service asked for, a scan received by
    post): same checks as the form's files, kept with the request's attachments and told in
    its history. The citizen's way in (account, tracking link) is checked by the caller, as
    for messages; an agent needs to handle the request."""
    if as_citizen:
        if request.is_closed or request.is_draft or request.anonymised_at:
            raise Conflict(_("Request closed"), _("This request is closed; files are off."))
    else:
        require_perm(actor, "procedures.handle_request", request)
    if upload is None:
        raise BadRequest(_("No file"), _("Choose a file first."), field="file")
    try:
        content_type = attachments.check(upload)
    except ValueError as error:
        raise BadRequest(_("File refused"), str(error), field="file") from None
    text = (text or "").strip()
    if len(text) > engine.MAX_TEXTAREA:
        raise BadRequest(_("Message too long"), _("At most 10,000 characters."), field="text")
    attachment = Attachment(
        request=request,
        field_key="",
        filename=(upload.name or "file")[-200:],
        content_type=content_type,
        size=upload.size,
    )
    attachment.file.save("upload", upload, save=False)
    attachment.save()
    line = _("File sent: %(name)s") % {"name": attachment.filename}
    RequestEvent.objects.create(
        request=request,
        actor=actor if actor.is_authenticated else None,
        by_citizen=as_citizen,
        kind=EventKind.MESSAGE,
        text=f"{text}\n\n{line}" if text else line,
    )
    audit(
        actor if actor.is_authenticated else None,
        "procedures.document_added",
        request.territory,
        request,
        code=request.code,
        size=attachment.size,
    )
    return attachment


@transaction.atomic
def answer_information_request(
    actor, request: Request, token: str, text: str, *, base_url="", upload=None
):
    """The citizen answers a request for information; the link works once. A file may come
    with the answer (or be the answer): same checks as any file (`add_document`)."""
    try:
        event_id = signing.loads(token, salt=ANSWER_SALT, max_age=_link_max_age())
    except signing.SignatureExpired:
        raise PermissionDenied(
            _("This link has expired"), _("Contact the service to give your answer.")
        ) from None
    except signing.BadSignature:
        raise PermissionDenied(_("Invalid link"), _("This link is not valid.")) from None
    request = (
        Request.objects.select_for_update(of=WORKFLOW_GUARD)
        .select_related("form__workflow")
        .get(pk=request.pk)
    )
    event = (
        RequestEvent.objects.select_for_update()
        .filter(pk=event_id, request=request, kind=EventKind.INFO_REQUESTED)
        .first()
    )
    if event is None:
        raise PermissionDenied(_("Invalid link"), _("This link is for another request."))
    if event.answered_at is not None:
        raise Conflict(
            _("Already answered"),
            _("You already answered on %(date)s; this link works once. Send a message instead.")
            % {"date": timezone.localtime(event.answered_at).strftime("%d/%m/%Y %H:%M")},
        )
    text = "" if upload is not None and not (text or "").strip() else _text(text)
    event.answered_at = timezone.now()
    event.save(update_fields=["answered_at"])
    if upload is not None:
        # Refused file: BadRequest, and the whole answer is rolled back (the link still works).
        add_document(actor, request, upload, text=text, as_citizen=True)
    else:
        RequestEvent.objects.create(
            request=request,
            actor=actor if actor.is_authenticated else None,
            by_citizen=True,
            kind=EventKind.MESSAGE,
            text=text,
        )
    request.awaiting_citizen = False
    if event.to_status and event.to_status != request.status:
        _move(None, request, event.to_status, label=_("Answer received"), base_url=base_url)
    else:
        request.save(update_fields=["awaiting_citizen", "updated_at"])
    return request


# --- bulk actions ------------------------------------------------------------------------


@dataclass
class BulkResult:
    done: list[str]
    refused: dict[str, str]


def bulk_transition(
    actor, requests, index: int, *, base_url: str = "", expected_to: str = ""
) -> BulkResult:
    """Apply one transition to many requests; each is its own transaction, so a refusal on
    one (not allowed, not possible from its status) leaves the others done."""
    result = BulkResult([], {})
    for request in requests:
        try:
            take_transition(actor, request, index, base_url=base_url, expected_to=expected_to)
            result.done.append(request.code)
        except (PermissionDenied, Conflict, NotFound) as error:
            result.refused[request.code] = str(error.detail or error.title)
    return result


def bulk_assign(actor, requests, *, team=None, agent=None) -> BulkResult:
    result = BulkResult([], {})
    for request in requests:
        try:
            assign(actor, request, team=team, agent=agent)
            result.done.append(request.code)
        except (PermissionDenied, BadRequest) as error:
            result.refused[request.code] = str(error.detail or error.title)
    return result


# --- background --------------------------------------------------------------------------


def wake_due_requests(now=None) -> int:
    """Move requests whose timeout has passed to the status their workflow says."""
    now = now or timezone.now()
    moved = 0
    for pk in Request.objects.filter(wake_at__lte=now).values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            request = Request.objects.select_for_update().filter(pk=pk, wake_at__lte=now).first()
            if request is None:
                continue
            to = request.wake_to
            _move(None, request, to, label=_("Time limit reached"))
            audit(None, "procedures.timeout", request.territory, request, to=to)
            moved += 1
    return moved


def anonymise_expired(now=None) -> int:
    """RGPD: erase the personal data of closed requests older than their form's retention
    period (answers, contact, messages, attachments, notifications); volumes and delays stay
    for statistics."""
    from metropole.notifications.services import anonymise_about

    now = now or timezone.now()
    # One query per form (a handful): each has its own retention period.
    expired = Request.objects.none()
    for form_id, days in Form.objects.values_list("pk", "retention_days"):
        expired = expired | Request.objects.filter(
            form_id=form_id,
            anonymised_at__isnull=True,
            closed_at__lt=now - timedelta(days=days),
        )
    count = 0
    for request in expired.iterator():
        with transaction.atomic():
            for attachment in request.attachments.all():
                attachment.file.delete(save=False)
            request.attachments.all().delete()
            request.events.filter(
                kind__in=[EventKind.MESSAGE, EventKind.COMMENT, EventKind.INFO_REQUESTED]
            ).update(text="")
            anonymise_about("procedures.request", [request.pk])
            Request.objects.filter(pk=request.pk).update(
                data={}, email="", phone="", summary="", user=None, anonymised_at=now
            )
            count += 1
    if count:
        audit(None, "procedures.anonymised", None, None, requests=count)
    return count


def erase_person(user) -> None:
    """Account deletion: the person's drafts go; sent requests stay for the service but lose
    their link to the account (the retention period erases them later)."""
    for draft in Request.objects.filter(user=user, status=DRAFT):
        discard_draft(user, draft)
    Request.objects.filter(user=user).update(user=None)


# --- back-office -------------------------------------------------------------------------


@transaction.atomic
def save_team(actor, territory, *, name: str, slug: str = "", members=()) -> Team:
    require_perm(actor, "procedures.manage_forms", territory)
    slug = slugify(slug or name)[:50]
    if not slug:
        raise BadRequest(_("Name needed"), _("Give the team a name."), field="name")
    not_staff = [p.email for p in members if not p.has_perm("procedures.view_queue", territory)]
    if not_staff:
        raise BadRequest(
            _("Not agents"),
            _("Not agents of this territory: %(emails)s. Give them the agent role first.")
            % {"emails": ", ".join(not_staff)},
            field="members",
        )
    team, _created = Team.objects.update_or_create(
        territory=territory, slug=slug, defaults={"name": name}
    )
    if members:
        team.members.set(members)
    audit(actor, "procedures.team_saved", territory, team, slug=slug)
    return team


def statuses_in_use(workflow: Workflow, codes=None) -> dict[str, str]:
    """Status code -> why it cannot be removed: requests are in it, a pending time limit
    leads to it, or an unanswered request for information will move a request to it.

    One indexed EXISTS per status (index form, status), the few pending time limits (index
    wake_at) and the open questions (partial index): the cost does not grow with the number
    of requests (bench/procedures_workflow_editor.py)."""
    if codes is None:
        codes = [s["code"] for s in workflow.definition.get("statuses", [])]
    forms = list(Form.objects.filter(workflow=workflow).values_list("pk", flat=True))
    used: dict[str, str] = {}
    if not forms:
        return used
    requests = Request.objects.filter(form_id__in=forms)
    for code in codes:
        if requests.filter(status=code).exists():
            used[code] = _("requests are in it")
    for status in (
        requests.filter(wake_at__isnull=False)
        .order_by()
        .values_list("wake_to", flat=True)
        .distinct()
    ):
        used.setdefault(status, _("a pending time limit leads to it"))
    # Open questions are few (partial index): read them, then keep those of open requests of
    # these forms (starting from the requests would walk all the open ones).
    questions = dict(
        RequestEvent.objects.filter(kind=EventKind.INFO_REQUESTED, answered_at__isnull=True)
        .exclude(to_status="")
        .order_by()
        .values_list("request_id", "to_status")
    )
    if questions:
        for request_id in requests.filter(
            pk__in=list(questions), closed_at__isnull=True
        ).values_list("pk", flat=True):
            used.setdefault(questions[request_id], _("a citizen's awaited answer leads to it"))
    return used


@transaction.atomic
def save_workflow(
    actor,
    territory,
    *,
    name: str,
    definition,
    slug: str = "",
    workflow: Workflow | None = None,
    expected_version: str = "",
) -> Workflow:
    """Create or change a workflow. Every change goes through here (the form-based editor
    and the JSON import alike): the definition is validated, and a change that would strand
    requests already sent (a status they are in or will move to) is refused. Requests keep
    using the workflow as changed; transitions are referred to by position, so pages that
    take one also send where it leads (`take_transition(expected_to=…)`).
    `expected_version` (the `version` the editor's page was built from) refuses a change
    made over someone else's meanwhile."""
    require_perm(actor, "procedures.manage_forms", territory)
    validate_definition(definition)
    name = (name or "").strip()
    if not name:
        raise BadRequest(_("Name needed"), _("Give the workflow a name."), field="name")
    if workflow is None:
        slug = slugify(slug or name)[:50]
        if Workflow.objects.filter(territory=territory, slug=slug).exists():
            raise Conflict(_("Code in use"), _("A workflow already has this code."), field="slug")
        workflow = Workflow(territory=territory, slug=slug)
    elif workflow.territory_id != territory.pk:
        raise PermissionDenied(_("Not allowed"), _("This workflow belongs to another territory."))
    else:
        workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if expected_version and expected_version != workflow.version:
            raise Conflict(
                _("Changed meanwhile"),
                _("Someone changed this workflow since you opened the page: check it again."),
            )
        in_use = statuses_in_use(workflow)
        missing = sorted(set(in_use) - {s["code"] for s in definition["statuses"]})
        if missing:
            raise Conflict(
                _("Status in use"),
                _("These statuses cannot be removed: %(list)s.")
                % {
                    "list": "; ".join(
                        f"“{workflow.status_label(code)}” ({in_use[code]})" for code in missing
                    )
                },
                field="definition",
            )
    workflow.name = name
    workflow.definition = definition
    workflow.save()
    audit(actor, "procedures.workflow_saved", territory, workflow, slug=workflow.slug)
    return workflow


FORM_FIELDS = (
    "title",
    "description",
    "workflow",
    "routing",
    "allow_anonymous",
    "published",
    "deadline_days",
    "retention_days",
    "service",
    "source",
)


@transaction.atomic
def save_form(actor, territory, *, form: Form | None = None, slug: str = "", **values) -> Form:
    require_perm(actor, "procedures.manage_forms", territory)
    if form is None:
        form = Form(territory=territory, slug=slugify(slug or values.get("title", ""))[:100])
        if not form.slug:
            raise BadRequest(_("Title needed"), _("Give the procedure a title."), field="title")
        metropole = territory.metropole or territory
        if Form.objects.filter(metropole=metropole, slug=form.slug).exists():
            raise Conflict(_("Code in use"), _("A procedure already has this code."), field="slug")
    elif form.territory_id != territory.pk:
        raise PermissionDenied(_("Not allowed"), _("This form belongs to another territory."))
    for name, value in values.items():
        if name not in FORM_FIELDS:
            raise BadRequest(_("Unknown setting"), name, field=name)
        setattr(form, name, value)
    workflow = values.get("workflow") or form.workflow
    if workflow.territory_id not in (territory.pk, territory.metropole_id):
        raise BadRequest(
            _("Wrong workflow"),
            _("Use a workflow of this territory or its metropole."),
            field="workflow",
        )
    if form.published:
        blocking = [p for p in problems(workflow.definition, workflow.territory) if p["blocking"]]
        if blocking:
            raise BadRequest(
                _("Workflow to fix first"),
                _(
                    "The workflow “%(name)s” has %(n)d problem(s) to fix before publishing, "
                    "starting with: %(where)s — %(message)s."
                )
                % {
                    "name": workflow.name,
                    "n": len(blocking),
                    "where": blocking[0]["where"],
                    "message": blocking[0]["message"],
                },
                field="published",
                errors=[
                    {"field": "workflow", "where": p["where"], "message": p["message"]}
                    for p in blocking
                ],
            )
    form.save()
    audit(actor, "procedures.form_saved", territory, form, slug=form.slug)
    return form


@transaction.atomic
def save_field(actor, form: Form, *, field: FormField | None = None, **values) -> FormField:
    require_perm(actor, "procedures.manage_forms", form.territory)
    if field is None:
        last = form.fields.aggregate(m=Max("order"))["m"]
        field = FormField(form=form, order=(last or 0) + 10)
    for name, value in values.items():
        setattr(field, name, value)
    field.key = slugify(field.key or field.label)[:50].replace("-", "_") or "champ"
    if FormField.objects.filter(form=form, key=field.key).exclude(pk=field.pk).exists():
        raise Conflict(_("Code in use"), _("Another field has this code."), field="key")
    if field.kind in (FieldKind.RADIO, FieldKind.SELECT, FieldKind.CHECKBOXES):
        field.choices = [c.strip() for c in field.choices if str(c).strip()]
        if len(field.choices) < 2:
            raise BadRequest(
                _("Choices needed"),
                _("Give at least two choices, one per line."),
                field="choices",
            )
    else:
        field.choices = []
    if field.kind != FieldKind.NUMBER:
        field.number_whole, field.number_min, field.number_max = False, None, None
    elif (
        field.number_min is not None
        and field.number_max is not None
        and field.number_min > field.number_max
    ):
        raise BadRequest(
            _("Limits reversed"),
            _("The smallest number is larger than the largest."),
            field="number_max",
        )
    if (
        field.condition_field
        and not form.fields.filter(key=field.condition_field).exclude(pk=field.pk).exists()
    ):
        raise BadRequest(
            _("Unknown field"),
            _("No field has the code “%(key)s”.") % {"key": field.condition_field},
            field="condition_field",
        )
    if field.kind == FieldKind.PAGE:
        field.required = False
    field.save()
    audit(actor, "procedures.field_saved", form.territory, form, field=field.key)
    return field


@transaction.atomic
def delete_field(actor, field: FormField) -> None:
    require_perm(actor, "procedures.manage_forms", field.form.territory)
    if field.form.fields.filter(condition_field=field.key).exists():
        raise Conflict(
            _("Field in use"), _("Other fields are shown depending on this one; change them first.")
        )
    audit(actor, "procedures.field_deleted", field.form.territory, field.form, field=field.key)
    field.delete()


@transaction.atomic
def move_field(actor, field: FormField, direction: int) -> None:
    require_perm(actor, "procedures.manage_forms", field.form.territory)
    fields = list(field.form.fields.all())
    index = next(i for i, f in enumerate(fields) if f.pk == field.pk)
    other = index + (1 if direction > 0 else -1)
    if not 0 <= other < len(fields):
        return
    fields[index], fields[other] = fields[other], fields[index]
    for order, f in enumerate(fields):
        if f.order != (order + 1) * 10:
            f.order = (order + 1) * 10
            f.save(update_fields=["order"])
