"""The procedures API (/api/procedures/): forms and their definition, submission, my
requests, a request with its messages, the agent queue and transitions. Same services and
rules as the pages."""

from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from metropole.core.api_auth import SessionAuth, TokenAuth, person_auth
from metropole.core.exceptions import PermissionDenied
from metropole.core.queries import current_metropole, territory_by_code
from metropole.core.rules import require_perm

from . import engine, queries, services
from .models import Team

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
            "{street, commune (INSEE), lat, lon} for an address. Files are sent through the "
            "pages, not this endpoint."
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
        request.user, obj, payload.index, base_url=request.build_absolute_uri("/")[:-1]
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
