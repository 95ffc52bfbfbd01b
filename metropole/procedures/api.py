"""The procedures API (/api/procedures/): forms and their definition, submission (JSON, or
multipart with files), my requests, a request with its messages and files, the agent queue
and transitions. Same services and rules as the pages."""

import json
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.responses import Status

from metropole.core.api_auth import SessionAuth, TokenAuth, person_auth
from metropole.core.exceptions import BadRequest, NotFound, PermissionDenied
from metropole.core.queries import current_metropole, territory_by_code
from metropole.core.rules import require_perm

from . import engine, queries, services
from .models import Attachment, FieldKind, Team

router = Router(tags=["procedures"])


def _anonymous(request):
    """Last resort of the submission endpoint: a person without an account (a session
    without a CSRF token does not count as logged in)."""
    request.user = AnonymousUser()
    return request.user


class FormOut(Schema):
    slug: str
    title: str
    description: str
    territory_code: str
    territory_name: str
    allow_anonymous: bool
    deadline_days: int
    url: str

    @staticmethod
    def resolve_territory_code(obj):
        return obj.territory.code

    @staticmethod
    def resolve_territory_name(obj):
        return obj.territory.display_name

    @staticmethod
    def resolve_url(obj, context):
        return context["request"].build_absolute_uri(
            reverse("procedures:form", kwargs={"slug": obj.slug})
        )


class FieldOut(Schema):
    key: str
    label: str
    kind: str
    required: bool
    help_text: str
    choices: list[str]
    condition_field: str = Field("", description="Shown only when this field…")
    condition_value: str = Field("", description="…has this value")
    number_whole: bool = Field(False, description="kind number: whole numbers only")
    number_min: float | None = Field(None, description="kind number: smallest value allowed")
    number_max: float | None = Field(None, description="kind number: largest value allowed")


class PageOut(Schema):
    number: int
    title: str
    fields: list[FieldOut]


class FormDefinitionOut(FormOut):
    pages: list[PageOut]


@router.get(
    "/forms", response=list[FormOut], url_name="procedures_forms", summary="Procedures open online"
)
def form_list(request, commune: str = Query("", description="INSEE code: only those open to it")):
    metropole = current_metropole()
    territory = territory_by_code(commune, metropole) if commune else None
    return list(queries.published_forms(metropole, territory))


@router.get(
    "/forms/{slug}",
    response=FormDefinitionOut,
    url_name="procedures_form",
    summary="A procedure's form: pages and fields (kinds, choices, conditions)",
)
def form_definition(request, slug: str):
    form = queries.published_form(current_metropole(), slug)
    form.pages = [
        {"number": p.number, "title": p.title, "fields": p.fields} for p in engine.pages_of(form)
    ]
    return form


class SubmitIn(Schema):
    answers: dict = Field(
        ...,
        description=(
            "Answers by field key: text, a list for several choices, an object "
            "{street, commune (INSEE), lat, lon} for an address. Files: use "
            "`POST /forms/{slug}/requests/multipart`."
        ),
    )
    email: str = Field("", description="Needed without an account: the tracking link goes there")
    phone: str = ""


class SubmittedOut(Schema):
    code: str
    status: str
    status_label: str
    territory_code: str
    status_url: str


class FieldErrorOut(Schema):
    field: str
    page: int
    message: str


def _submitted(request, obj) -> SubmittedOut:
    return SubmittedOut(
        code=obj.code,
        status=obj.status,
        status_label=obj.status_label,
        territory_code=obj.territory.code,
        status_url=services.status_url(obj, request.build_absolute_uri("/")[:-1]),
    )


@router.post(
    "/forms/{slug}/requests",
    response={201: SubmittedOut},
    auth=[TokenAuth(), SessionAuth(csrf=True), _anonymous],
    url_name="procedures_submit",
    summary="Send a request (with a token or session; without one if the form allows it)",
    description="Invalid answers give 400 with `errors`: [{field, page, message}].",
)
def submit(request, slug: str, payload: SubmitIn):
    form = queries.published_form(current_metropole(), slug)
    obj = services.submit_answers(
        request.user,
        form,
        payload.answers,
        email=payload.email,
        phone=payload.phone,
        base_url=request.build_absolute_uri("/")[:-1],
    )
    return Status(201, _submitted(request, obj))


@router.post(
    "/forms/{slug}/requests/multipart",
    response={201: SubmittedOut},
    auth=[TokenAuth(), SessionAuth(csrf=True), _anonymous],
    url_name="procedures_submit_multipart",
    summary="Send a request with its files (multipart/form-data)",
    description=(
        "The same as `POST /forms/{slug}/requests`, as `multipart/form-data`: the part "
        "`answers` holds the answers as JSON text, and each file field's file is a part named "
        "by the field's key (see `GET /forms/{slug}`, kind `file`). Files: PDF, JPEG or PNG, "
        "recognised by their content (the name's extension must agree), at most "
        "`PROCEDURES_MAX_UPLOAD_BYTES` (5 MB by default). Invalid answers or files give 400 "
        "with `errors`: [{field, page, message}]; nothing is kept."
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["answers"],
                        "properties": {
                            "answers": {"type": "string", "description": "JSON object"},
                            "email": {"type": "string"},
                            "phone": {"type": "string"},
                        },
                        "additionalProperties": {"type": "string", "format": "binary"},
                    }
                }
            },
            "required": True,
        }
    },
)
def submit_multipart(request, slug: str):
    form = queries.published_form(current_metropole(), slug)
    try:
        answers = json.loads(request.POST.get("answers", ""))
    except json.JSONDecodeError as error:
        raise BadRequest(
            "Invalid answers",
            f"The part “answers” is not JSON: {error.msg} (column {error.colno}).",
            field="answers",
        ) from None
    if not isinstance(answers, dict):
        raise BadRequest("Invalid answers", "“answers” must be a JSON object.", field="answers")
    file_keys = {f.key for f in form.fields.all() if f.kind == FieldKind.FILE}
    unknown = sorted(set(request.FILES) - file_keys)
    if unknown:
        raise BadRequest(
            "Unknown file field",
            f"No file field has the key {', '.join(unknown)}.",
            field=unknown[0],
        )
    answers.update({key: request.FILES[key] for key in request.FILES})
    obj = services.submit_answers(
        request.user,
        form,
        answers,
        email=request.POST.get("email", ""),
        phone=request.POST.get("phone", ""),
        base_url=request.build_absolute_uri("/")[:-1],
    )
    return Status(201, _submitted(request, obj))


class RequestOut(Schema):
    code: str
    form: str
    form_title: str
    status: str
    status_label: str
    channel: str
    territory_code: str
    commune_code: str | None
    submitted_at: datetime | None
    due_at: datetime | None
    closed_at: datetime | None
    awaiting_citizen: bool

    @staticmethod
    def resolve_form(obj):
        return obj.form.slug

    @staticmethod
    def resolve_form_title(obj):
        return obj.form.title

    @staticmethod
    def resolve_territory_code(obj):
        return obj.territory.code

    @staticmethod
    def resolve_commune_code(obj):
        return obj.commune.code if obj.commune_id else None


class EventOut(Schema):
    at: datetime
    kind: str
    by_citizen: bool
    text: str
    to_status: str
    internal: bool


class RequestDetailOut(RequestOut):
    answers: dict
    events: list[EventOut]

    @staticmethod
    def resolve_answers(obj):
        return obj.data

    @staticmethod
    def resolve_events(obj):
        return obj.history


class TransitionOut(Schema):
    index: int
    label: str
    to: str


@router.get(
    "/requests/mine",
    response=list[RequestOut],
    auth=person_auth,
    url_name="procedures_mine",
    summary="My requests (drafts excluded)",
)
def my_requests(request):
    return [
        r for r in queries.requests_of(request.user).select_related("commune") if not r.is_draft
    ]


@router.get(
    "/requests/{code}",
    response=RequestDetailOut,
    auth=person_auth,
    url_name="procedures_request",
    summary="A request with its history and messages",
)
def request_detail(request, code: str):
    obj = queries.request_by_code(code)
    if not request.user.has_perm("procedures.view_request", obj):
        raise PermissionDenied("Not allowed", "You cannot see this request.")
    for_agent = request.user.has_perm("procedures.handle_request", obj)
    obj.history = queries.visible_events(obj, for_agent=for_agent)
    return obj


class MessageIn(Schema):
    text: str


@router.post(
    "/requests/{code}/messages",
    response={201: EventOut},
    auth=person_auth,
    url_name="procedures_message",
    summary="Write about a request (the citizen to the service, or an agent to the citizen)",
)
def post_message(request, code: str, payload: MessageIn):
    obj = queries.request_by_code(code)
    if not request.user.has_perm("procedures.view_request", obj):
        raise PermissionDenied("Not allowed", "You cannot see this request.")
    as_citizen = obj.user_id == request.user.pk
    event = services.post_message(
        request.user,
        obj,
        payload.text,
        as_citizen=as_citizen,
        base_url=request.build_absolute_uri("/")[:-1],
    )
    return Status(201, event)


@router.get(
    "/requests/{code}/transitions",
    response=list[TransitionOut],
    auth=person_auth,
    url_name="procedures_transitions",
    summary="Steps the caller may take now",
)
def transitions(request, code: str):
    obj = queries.request_by_code(code)
    require_perm(request.user, "procedures.handle_request", obj)
    return [
        TransitionOut(index=i, label=t["label"], to=t["to"])
        for i, t in services.available_transitions(request.user, obj)
    ]


class TransitionIn(Schema):
    index: int = Field(..., description="Index of the transition (see GET …/transitions)")
    to: str = Field(
        "",
        description=(
            "The status it leads to, as GET …/transitions said: if the workflow was changed "
            "meanwhile and the index now means another step, 409 instead of taking it"
        ),
    )


@router.post(
    "/requests/{code}/transitions",
    response=RequestOut,
    auth=person_auth,
    url_name="procedures_transition",
    summary="Take a step of the workflow",
)
def take_transition(request, code: str, payload: TransitionIn):
    obj = queries.request_by_code(code)
    return services.take_transition(
        request.user,
        obj,
        payload.index,
        base_url=request.build_absolute_uri("/")[:-1],
        expected_to=payload.to,
    )


class QueueOut(Schema):
    items: list[RequestOut]
    next: str | None = Field(None, description="Cursor of the next page (`after`)")


@router.get(
    "/queue/{territory_code}",
    response=QueueOut,
    auth=person_auth,
    url_name="procedures_queue",
    summary="The agent queue of a territory (keyset pagination: `after`)",
)
def agent_queue(
    request,
    territory_code: str,
    status: str = Query("open", description="open, closed, all, or a status code"),
    form: str = Query("", description="Slug of a procedure"),
    team: str = Query("", description="Code of a team"),
    assigned: str = Query("", description="me or nobody"),
    late: bool = False,
    after: str = Query("", description="Cursor from the previous page"),
    limit: int = Query(50, ge=1, le=200),
):
    territory = territory_by_code(territory_code)
    require_perm(request.user, "procedures.view_queue", territory)
    form_obj = None
    if form:
        form_obj = queries.published_form(territory.root, form)
    team_obj = Team.objects.filter(territory=territory, slug=team).first() if team else None
    qs = queries.queue(
        territory,
        status="" if status == "all" else status,
        form=form_obj,
        team=team_obj,
        assigned=assigned,
        late=late,
        mine_user=request.user,
    )
    rows, cursor = queries.keyset_page(qs, after or None, limit)
    return QueueOut(items=rows, next=cursor)


# --- files ---------------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    field: str = Field(..., description="Key of the file field, empty for a file sent later")
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime
    url: str = Field(..., description="Where to download it (same authentication)")

    @staticmethod
    def resolve_id(obj):
        return obj.pk

    @staticmethod
    def resolve_field(obj):
        return obj.field_key

    @staticmethod
    def resolve_url(obj, context):
        return context["request"].build_absolute_uri(
            reverse(
                "api:procedures_attachment",
                kwargs={"code": obj.request.code, "attachment_id": obj.pk},
            )
        )


def _viewable(request, code: str):
    obj = queries.request_by_code(code)
    if not request.user.has_perm("procedures.view_request", obj):
        raise PermissionDenied("Not allowed", "You cannot see this request.")
    return obj


@router.get(
    "/requests/{code}/attachments",
    response=list[AttachmentOut],
    auth=person_auth,
    url_name="procedures_attachments",
    summary="The files of a request (the citizen's own request, or one the agent handles)",
)
def attachment_list(request, code: str):
    obj = _viewable(request, code)
    return list(obj.attachments.select_related("request"))


@router.get(
    "/requests/{code}/attachments/{attachment_id}",
    auth=person_auth,
    url_name="procedures_attachment",
    summary="Download a file of a request",
    description="The file itself, with its content type, as an attachment; never cached.",
    response={200: None},
    openapi_extra={
        "responses": {
            # The int key, as ninja's own (a "200" beside it would be written twice)
            200: {
                "description": "The file",
                "content": {
                    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "image/png": {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    },
)
def attachment_download(request, code: str, attachment_id: int):
    obj = _viewable(request, code)
    item = get_object_or_404(Attachment, pk=attachment_id, request=obj)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise NotFound("File gone", "This file is no longer stored.") from None
    response = FileResponse(
        handle, content_type=item.content_type, as_attachment=True, filename=item.filename
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post(
    "/requests/{code}/attachments",
    response={201: AttachmentOut},
    auth=person_auth,
    url_name="procedures_attachment_add",
    summary="Send a file about a request (multipart/form-data: `file`, optional `text`)",
    description=(
        "The citizen of an open request, or an agent handling it, adds a file (PDF, JPEG or "
        "PNG, recognised by its content, at most `PROCEDURES_MAX_UPLOAD_BYTES`); it is told in "
        "the history. 400 names the fault (`field`: file or text), 409 if the request is "
        "closed."
    ),
)
def attachment_add(request, code: str, file: File[UploadedFile], text: Form[str] = ""):
    obj = _viewable(request, code)
    as_citizen = obj.user_id == request.user.pk
    attachment = services.add_document(request.user, obj, file, text=text, as_citizen=as_citizen)
    return Status(201, attachment)
