"""Citizen pages: procedures open, filling a form page by page (drafts), review and sending,
the status page with history and messages, answering a request for information, "my
requests", attachments served with permission."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metropole.core.exceptions import PermissionDenied, PlatformError
from metropole.core.queries import basemap, current_metropole, metropole_communes

from . import attachments, engine, queries, services
from .models import Attachment, FieldKind, Request

SESSION_DRAFTS = "procedures_drafts"
SESSION_TRACKED = "procedures_tracked"


def _base_url(request) -> str:
    return request.build_absolute_uri("/")[:-1]


def index(request):
    metropole = current_metropole()
    commune = None
    slug = request.GET.get("commune", "")
    communes = metropole_communes(metropole).only("name", "slug", "code")
    if slug:
        commune = next((c for c in communes if c.slug == slug), None)
    forms = queries.published_forms(metropole, commune)
    return render(
        request,
        "procedures/index.html",
        {"forms": forms, "communes": communes, "commune": commune},
    )


def form_start(request, slug):
    form = queries.published_form(current_metropole(), slug)
    if request.method == "POST":
        if not request.user.is_authenticated and not form.allow_anonymous:
            return redirect(f"{reverse('core:login')}?next={request.path}")
        draft = services.start_draft(request.user, form)
        if not request.user.is_authenticated:
            request.session[SESSION_DRAFTS] = [*request.session.get(SESSION_DRAFTS, []), draft.pk]
        return redirect("procedures:draft_page", pk=draft.pk, page=1)
    pages = engine.pages_of(form)
    return render(request, "procedures/form_start.html", {"form": form, "pages": pages})


def _draft(request, pk) -> Request:
    draft = get_object_or_404(Request.objects.select_related("form__workflow"), pk=pk)
    if draft.user_id is not None:
        allowed = request.user.has_perm("procedures.fill_draft", draft)
    else:
        allowed = pk in request.session.get(SESSION_DRAFTS, [])
    if not allowed:
        raise PermissionDenied(_("Not your draft"), _("This draft belongs to someone else."))
    if not draft.is_draft:
        raise PermissionDenied(
            _("Already sent"), _("This request was sent; follow it from its status page.")
        )
    return draft


def raw_answers(post, files, fields) -> dict:
    """The answers of an HTML form post, in the shape engine.clean_fields reads."""
    raw = {}
    for field in fields:
        key = field.key
        if field.kind == FieldKind.CHECKBOXES:
            raw[key] = post.getlist(key)
        elif field.kind == FieldKind.ADDRESS:
            raw[key] = {
                "street": post.get(key, ""),
                "commune": post.get(f"{key}__commune", ""),
                "lat": post.get(f"{key}__lat", ""),
                "lon": post.get(f"{key}__lon", ""),
            }
        elif field.kind == FieldKind.FILE:
            raw[key] = files.get(key)
        else:
            raw[key] = post.get(key, "")
    return raw


def bound_fields(fields, values: dict, errors: dict, data: dict, *, prefix="") -> list[dict]:
    """What templates need to draw each field: its value, error and whether it is shown."""
    page_keys = {f.key for f in fields}
    bound = []
    for field in fields:
        if field.kind == FieldKind.PAGE:
            continue
        depends_here = field.condition_field in page_keys
        if field.condition_field and not depends_here and not engine.is_shown(field, data):
            continue  # depends on an earlier page's answer: not for this person
        value = values.get(field.key, data.get(field.key))
        bound.append(
            {
                "field": field,
                "id": f"{prefix}f-{field.key}",
                "value": value,
                "values": value if isinstance(value, list) else [value],
                "address": value if isinstance(value, dict) else {},
                "error": (errors.get(field.key) or {}).get("message"),
                "conditional": depends_here,
            }
        )
    return bound


def _communes():
    return metropole_communes(current_metropole()).only("name", "code", "slug")


def draft_page(request, pk, page):
    draft = _draft(request, pk)
    fields = list(draft.form.fields.all())
    pages = engine.pages_of(draft.form, fields)
    if not 1 <= page <= len(pages):
        return redirect("procedures:draft_page", pk=pk, page=1)
    current = pages[page - 1]
    errors, values = {}, {}
    if request.method == "POST":
        raw = raw_answers(request.POST, request.FILES, current.fields)
        errors = services.save_page(request.user, draft, page, raw)
        draft.refresh_from_db()
        if not errors:
            if "later" in request.POST:
                messages.success(
                    request,
                    _("Your draft is saved. Find it in “My requests”.")
                    if request.user.is_authenticated
                    else _("Your draft is saved for this browser session."),
                )
                return redirect(
                    "procedures:mine" if request.user.is_authenticated else "procedures:index"
                )
            if "previous" in request.POST and page > 1:
                return redirect("procedures:draft_page", pk=pk, page=page - 1)
            if page < len(pages):
                return redirect("procedures:draft_page", pk=pk, page=page + 1)
            return redirect("procedures:draft_review", pk=pk)
        values = {k: v for k, v in raw.items() if not hasattr(v, "read")}
    return render(
        request,
        "procedures/draft_page.html",
        {
            "draft": draft,
            "form": draft.form,
            "page": current,
            "page_count": len(pages),
            "fields": bound_fields(current.fields, values, errors, draft.data),
            "errors": errors,
            "communes": _communes(),
            "basemap": basemap(),
        },
        status=400 if errors else 200,
    )


def answers_for_display(request_obj) -> list[dict]:
    fields = list(request_obj.form.fields.all())
    rows = []
    for page in engine.pages_of(request_obj.form, fields):
        items = [
            {
                "field": f,
                "text": engine.display_value(f, request_obj.data.get(f.key)),
                "value": request_obj.data.get(f.key),
            }
            for f in page.fields
            if engine.is_shown(f, request_obj.data)
        ]
        rows.append({"page": page, "items": items})
    return rows


def draft_review(request, pk):
    draft = _draft(request, pk)
    error = None
    errors = {}
    if request.method == "POST":
        try:
            sent = services.submit(
                request.user,
                draft,
                email=request.POST.get("email", ""),
                phone=request.POST.get("phone", ""),
                base_url=_base_url(request),
            )
        except services.InvalidAnswers as exc:
            errors = exc.by_field
            error = exc.detail
        except PlatformError as exc:
            error = exc.detail or exc.title
        except ValueError as exc:  # the e-mail address given for the tracking link
            error = str(exc)
        else:
            _remember(request, sent.code)
            return redirect("procedures:done", code=sent.code)
    pages_with_errors = sorted({e["page"] for e in errors.values()})
    return render(
        request,
        "procedures/draft_review.html",
        {
            "draft": draft,
            "form": draft.form,
            "answers": answers_for_display(draft),
            "error": error,
            "pages_with_errors": pages_with_errors,
            "needs_email": not request.user.is_authenticated,
        },
        status=400 if error else 200,
    )


@require_POST
def draft_discard(request, pk):
    draft = _draft(request, pk)
    services.discard_draft(request.user, draft)
    messages.success(request, _("The draft is deleted."))
    return redirect("procedures:mine" if request.user.is_authenticated else "procedures:index")


def _remember(request, code: str) -> None:
    """This browser may open the request again without the link (its session only)."""
    tracked = request.session.get(SESSION_TRACKED, [])
    if code not in tracked:
        request.session[SESSION_TRACKED] = [*tracked[-49:], code]


def _tracked_request(request, code) -> Request:
    """The request if this visitor may see it as its citizen (or staff)."""
    obj = queries.request_by_code(code)
    token = request.GET.get("cle")
    if token:
        services.check_tracking_token(obj, token)  # refuses expired or foreign links
        _remember(request, obj.code)
        return obj
    if request.user.has_perm("procedures.view_request", obj):
        return obj
    if obj.user_id is None and obj.code in request.session.get(SESSION_TRACKED, []):
        return obj
    if not request.user.is_authenticated:
        raise PermissionDenied(
            _("Log in or use your link"),
            _("Log in, or open the link sent to you by e-mail, to see this request."),
        )
    raise PermissionDenied(_("Not your request"), _("You cannot see this request."))


def done(request, code):
    obj = _tracked_request(request, code)
    return render(request, "procedures/done.html", {"req": obj})


def status(request, code):
    obj = _tracked_request(request, code)
    if obj.is_draft:
        return redirect("procedures:draft_page", pk=obj.pk, page=1)
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is not None:
                services.add_document(
                    request.user, obj, upload, text=request.POST.get("text", ""), as_citizen=True
                )
            else:
                services.post_message(
                    request.user,
                    obj,
                    request.POST.get("text", ""),
                    as_citizen=True,
                    base_url=_base_url(request),
                )
        except PlatformError as exc:
            messages.error(request, exc.detail or exc.title)
        else:
            messages.success(request, _("Your message was sent to the service."))
        return redirect(request.get_full_path())
    return render(
        request,
        "procedures/status.html",
        {
            "req": obj,
            "answers": answers_for_display(obj),
            "events": queries.visible_events(obj, for_agent=False),
            "max_mb": attachments.max_mb(),
            "pending_question": obj.events.filter(kind="info_requested", answered_at__isnull=True)
            .order_by("-at")
            .first(),
        },
    )


def answer(request, code, token):
    """A citizen answers a request for information (link sent by e-mail, works once)."""
    obj = queries.request_by_code(code)
    if request.method == "POST":
        try:
            services.answer_information_request(
                request.user,
                obj,
                token,
                request.POST.get("text", ""),
                base_url=_base_url(request),
                upload=request.FILES.get("file"),
            )
        except PlatformError as exc:
            return render(
                request,
                "procedures/answer.html",
                {
                    "req": obj,
                    "error": exc.detail or exc.title,
                    "text": request.POST.get("text", ""),
                    "max_mb": attachments.max_mb(),
                },
                status=exc.status,
            )
        _remember(request, obj.code)
        messages.success(request, _("Thank you, your answer was sent to the service."))
        return redirect("procedures:status", code=obj.code)
    question = obj.events.filter(kind="info_requested").order_by("-at").first()
    return render(
        request,
        "procedures/answer.html",
        {"req": obj, "question": question, "max_mb": attachments.max_mb()},
    )


@login_required
def mine(request):
    return render(request, "procedures/mine.html", {"requests": queries.requests_of(request.user)})


def attachment(request, code, attachment_id):
    """A file, only to the citizen of the request and the agents handling it."""
    obj = queries.request_by_code(code)
    if not request.user.has_perm("procedures.handle_request", obj):
        obj = _tracked_request(request, code)
    item = get_object_or_404(Attachment, pk=attachment_id, request=obj)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise DjangoPermissionDenied from None
    response = FileResponse(
        handle, content_type=item.content_type, as_attachment=True, filename=item.filename
    )
    response["Cache-Control"] = "private, no-store"
    return response
