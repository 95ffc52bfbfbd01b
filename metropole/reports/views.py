"""Pages of reports: the public map, reporting a problem (with or without JavaScript),
a report's page, and the agents' back-office."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from metropole.core import queries as core_queries
from metropole.core.exceptions import PlatformError
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import queries, services
from .forms import (
    AttributeForm,
    CategoryForm,
    LocationForm,
    MessageForm,
    ReportForm,
    RerouteForm,
    StatusForm,
)
from .models import AttributeType, Status


def _map_context(request, **overlay_filters):
    """The core map's context; with filters, the reports drawn over it (GeoJSON API)."""
    context = {"basemap": core_queries.basemap()}
    if overlay_filters:
        from urllib.parse import urlencode

        from django.urls import reverse

        query = urlencode({k: v for k, v in overlay_filters.items() if v})
        context["overlay_url"] = f"{reverse('api:reports_geojson')}?{query}"
    return context


@require_safe
def index(request):
    metropole = request.metropole
    status = request.GET.get("status", "open")
    category = request.GET.get("category", "")
    commune = request.GET.get("commune", "")
    qs = queries.filter_reports(
        queries.public_reports(metropole), status=status, category=category, commune=commune
    )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/index.html",
        {
            "territory": metropole,
            "page": page,
            "status": status,
            "category": category,
            "commune": commune,
            "categories": queries.categories_of(metropole),
            "communes": core_queries.commune_links(metropole),
            "statuses": Status.choices,
            **_map_context(request, status=status, category=category, commune=commune),
        },
    )


def _point_of_commune(commune) -> tuple[float, float]:
    """A point inside a commune when the reporter only named it: its town hall, else a
    point shapely guarantees to be inside the contour."""
    hall = commune.town_hall or {}
    if hall.get("lat") is not None and hall.get("lon") is not None:
        return float(hall["lat"]), float(hall["lon"])
    from shapely.geometry import shape

    point = shape(commune.geometry).representative_point()
    return point.y, point.x


def _question_name(category, question) -> str:
    return f"q-{category.pk}-{question.code}"


def _posted_answers(post, category) -> dict:
    """The report form's answers to `category`'s questions, as code -> value or list."""
    return {
        q.code: (
            post.getlist(_question_name(category, q))
            if q.datatype == AttributeType.MULTI
            else post.get(_question_name(category, q), "")
        )
        for q in category.attributes.all()
    }


def _question_blocks(categories, post, chosen=None, errors=None) -> list[dict]:
    """The questions of every category that has some. With JavaScript only the block of
    the chosen category shows; without it every block says which problem it is for, and
    only the chosen category's answers are read."""
    errors = errors or {}
    blocks = []
    for category in categories:
        questions = []
        for q in category.attributes.all():
            name = _question_name(category, q)
            values = post.getlist(name) if post else []
            questions.append(
                {
                    "q": q,
                    "name": name,
                    "id": f"id_{name}",
                    "values": values,
                    "value": values[0] if values else "",
                    "error": errors.get(q.code) if chosen == category else None,
                }
            )
        if questions:
            blocks.append({"category": category, "questions": questions})
    return blocks


@login_required
def new(request):
    metropole = request.metropole
    form = ReportForm(request.POST or None, request.FILES or None, metropole=metropole)
    categories = queries.categories_of(metropole).prefetch_related("attributes")
    nearby, answer_errors, chosen = [], {}, None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = data["category"]
        lat, lon = data.get("lat"), data.get("lon")
        approximate = not (lat and lon)
        if approximate:
            lat, lon = _point_of_commune(data["commune"])
        try:
            answers = services.clean_answers(chosen, _posted_answers(request.POST, chosen))
        except PlatformError as error:
            answer_errors = {
                e["field"].removeprefix("attribute[").removesuffix("]"): e["message"]
                for e in error.errors or []
            }
            form.add_error(None, _("Some answers are missing or wrong: see the questions."))
        try:
            if not answer_errors and not data.get("confirm_new"):
                from metropole.core.geo import parse_coordinates

                plat, plon = parse_coordinates(lat, lon)
                nearby = queries.nearby_open(metropole, plat, plon, data["category"])
            if not nearby and not answer_errors:
                report = services.submit_report(
                    request.user,
                    metropole,
                    category=data["category"],
                    lat=lat,
                    lon=lon,
                    description=data["description"],
                    photo=data.get("photo"),
                    address=data.get("address", ""),
                    answers=answers,
                    location_approximate=approximate,
                )
                messages.success(
                    request,
                    _("Thank you. Your report no. %(pk)d is sent to %(name)s.")
                    % {"pk": report.pk, "name": report.territory.display_name},
                )
                return redirect(report)
            if nearby:
                form.data = form.data.copy()
                form.data["confirm_new"] = "True"
        except PlatformError as error:
            field = {"location": None}.get(error.field, error.field)
            form.add_error(field if field in form.fields else None, error.detail)
    return render(
        request,
        "reports/new.html",
        {
            "territory": metropole,
            "form": form,
            "categories": categories,
            "question_blocks": _question_blocks(
                categories, request.POST, chosen=chosen, errors=answer_errors
            ),
            "nearby": nearby,
            **_map_context(request),
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


@require_safe
def detail(request, pk):
    report = queries.report_detail(pk)
    if report.metropole_id != request.metropole.pk:
        raise Http404
    can_handle = request.user.has_perm("reports.handle_report", report.territory)
    updates = report.updates.select_related("author")
    if not can_handle:
        updates = updates.filter(public=True)
    is_reporter = request.user.is_authenticated and report.reporter_id == request.user.pk
    return render(
        request,
        "reports/detail.html",
        {
            "territory": report.commune,
            "report": report,
            "updates": updates,
            "can_handle": can_handle,
            "is_reporter": is_reporter,
            "can_reopen": services.can_reopen(request.user, report),
            "supported": request.user.is_authenticated
            and report.supporters.filter(user=request.user).exists(),
            **_map_context(request),
        },
    )


@require_safe
def photo(request, pk):
    report = queries.report_detail(pk)
    if not report.photo:
        raise Http404
    response = FileResponse(report.photo.open("rb"))
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@login_required
def support(request, pk):
    report = queries.report_detail(pk)
    try:
        added = services.support(request.user, report)
    except PlatformError as error:
        messages.error(request, error.detail)
    else:
        messages.success(
            request,
            _("Thank you: your support is counted.") if added else _("You already support it."),
        )
    return redirect(report)


@require_POST
@login_required
def reopen(request, pk):
    report = queries.report_detail(pk)
    try:
        services.reopen(request.user, report, request.POST.get("text", ""))
    except PlatformError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("The report is open again."))
    return redirect(report)


@require_POST
@login_required
def satisfaction(request, pk):
    report = queries.report_detail(pk)
    answer = request.POST.get("satisfied")
    if answer not in ("yes", "no"):
        messages.error(request, _("Answer yes or no."))
        return redirect(report)
    try:
        services.answer_satisfaction(
            request.user, report, answer == "yes", request.POST.get("comment", "")
        )
    except PlatformError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Thank you for your answer."))
    return redirect(report)


@login_required
def mine(request):
    return render(
        request,
        "reports/mine.html",
        {"reports": queries.reports_of_person(request.user)[:200]},
    )


# --- back-office --------------------------------------------------------------------------


def _count_rows(counts: dict) -> list[tuple]:
    return [(label, counts.get(value, 0)) for value, label in Status.choices]


@territory_permission_required("reports.handle_report")
def queue(request, territory):
    status = request.GET.get("status", "open")
    category = request.GET.get("category", "")
    approximate = request.GET.get("position") == "approximate"
    qs = queries.filter_reports(
        queries.queue_for(request.user, territory),
        status=status,
        category=category,
        approximate=approximate,
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/agent/queue.html",
        admin_context(
            request,
            territory,
            page=page,
            status=status,
            category=category,
            approximate=approximate,
            statuses=Status.choices,
            categories=queries.categories_of(territory.root),
            count_rows=_count_rows(
                queries.counts_by_status(queries.queue_for(request.user, territory))
            ),
            **_map_context(request, territory=territory.code, status=status, category=category),
        ),
    )


@territory_permission_required("reports.handle_report")
def handle(request, territory, pk):
    report = queries.report_detail(pk)
    if report.territory_id != territory.pk:
        raise Http404
    metropole = territory.root
    status_form = StatusForm(
        request.POST if request.POST.get("action") == "status" else None,
        initial={"status": report.status},
        prefix="s",
    )
    message_form = MessageForm(
        request.POST if request.POST.get("action") == "message" else None, prefix="m"
    )
    category_form = CategoryForm(
        request.POST if request.POST.get("action") == "category" else None,
        metropole=metropole,
        initial={"category": report.category_id},
        prefix="c",
    )
    reroute_form = RerouteForm(
        request.POST if request.POST.get("action") == "reroute" else None,
        metropole=metropole,
        prefix="r",
    )
    location_form = LocationForm(
        request.POST if request.POST.get("action") == "location" else None,
        initial={
            "lat": f"{report.lat:.6f}",
            "lon": f"{report.lon:.6f}",
            "address": report.address,
        },
        prefix="p",
    )
    if request.method == "POST":
        action = request.POST.get("action")
        form = {
            "status": status_form,
            "message": message_form,
            "category": category_form,
            "reroute": reroute_form,
            "location": location_form,
        }.get(action)
        if form is not None and form.is_valid():
            data = form.cleaned_data
            try:
                if action == "status":
                    original = None
                    if data.get("duplicate_of"):
                        original = queries.report_detail(data["duplicate_of"])
                    services.change_status(
                        request.user,
                        report,
                        data["status"],
                        text=data["text"],
                        close_reason=data["close_reason"],
                        duplicate_of=original,
                    )
                elif action == "message":
                    services.add_message(request.user, report, data["text"], public=data["public"])
                elif action == "category":
                    services.recategorise(request.user, report, data["category"])
                elif action == "location":
                    services.correct_location(
                        request.user, report, data["lat"], data["lon"], address=data["address"]
                    )
                else:
                    services.reroute(request.user, report, data["territory"], text=data["text"])
            except PlatformError as error:
                form.add_error(error.field if error.field in form.fields else None, error.detail)
            else:
                messages.success(request, _("The report is updated."))
                report.refresh_from_db()
                if report.territory_id != territory.pk:
                    return redirect("reports:queue", slug=territory.slug)
                return redirect("reports:handle", slug=territory.slug, pk=report.pk)
    return render(
        request,
        "reports/agent/handle.html",
        admin_context(
            request,
            territory,
            report=report,
            updates=report.updates.select_related("author"),
            status_form=status_form,
            message_form=message_form,
            category_form=category_form,
            reroute_form=reroute_form,
            location_form=location_form,
            answers=services.readable_answers(report),
            **_map_context(request),
        ),
        status=400 if request.method == "POST" else 200,
    )


@territory_permission_required("reports.manage_categories")
def categories(request, territory, pk=None):
    from django.shortcuts import get_object_or_404

    from .forms import ReportCategoryForm
    from .models import ReportCategory

    item = get_object_or_404(ReportCategory, pk=pk, metropole=territory) if pk else None
    initial = None
    if item is not None:
        initial = {
            "name": item.name,
            "group": item.group,
            "description": item.description,
            "competence": item.competence_id,
            "active": item.active,
        }
    form = ReportCategoryForm(request.POST or None, initial=initial, metropole=territory)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_category(request.user, territory, category=item, **form.cleaned_data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("The category is saved."))
            return redirect("reports:categories", slug=territory.slug)
    return render(
        request,
        "reports/agent/categories.html",
        admin_context(
            request,
            territory,
            categories=queries.categories_of(territory, active_only=False),
            form=form,
            editing=item,
            questions=item.attributes.all() if item else [],
        ),
        status=400 if form.errors else 200,
    )


@territory_permission_required("reports.manage_categories")
def question(request, territory, pk, qpk=None):
    """Add or change one question of a category (an Open311 attribute)."""
    from django.shortcuts import get_object_or_404

    from .models import ReportAttribute, ReportCategory

    category = get_object_or_404(ReportCategory, pk=pk, metropole=territory)
    item = get_object_or_404(ReportAttribute, pk=qpk, category=category) if qpk else None
    initial = None
    if item is not None:
        initial = {
            "label": item.label,
            "datatype": item.datatype,
            "choices": "\n".join(f"{c['key']}: {c['name']}" for c in item.choices),
            "required": item.required,
            "help_text": item.help_text,
            "order": item.order,
        }
    form = AttributeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_attribute(request.user, category, attribute=item, **form.cleaned_data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("The question is saved."))
            return redirect("reports:category_edit", slug=territory.slug, pk=category.pk)
    return render(
        request,
        "reports/agent/question.html",
        admin_context(request, territory, category=category, form=form, editing=item),
        status=400 if form.errors else 200,
    )


@require_POST
@territory_permission_required("reports.manage_categories")
def question_delete(request, territory, pk, qpk):
    from django.shortcuts import get_object_or_404

    from .models import ReportAttribute

    item = get_object_or_404(
        ReportAttribute, pk=qpk, category__pk=pk, category__metropole=territory
    )
    services.delete_attribute(request.user, item)
    messages.success(request, _("The question is removed."))
    return redirect("reports:category_edit", slug=territory.slug, pk=pk)
