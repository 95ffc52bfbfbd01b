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
from .forms import CategoryForm, MessageForm, ReportForm, RerouteForm, StatusForm
from .models import Status


def _map_context(request):
    return {"basemap": core_queries.basemap()}


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
            "query": request.GET.urlencode(),
            **_map_context(request),
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


@login_required
def new(request):
    metropole = request.metropole
    form = ReportForm(request.POST or None, request.FILES or None, metropole=metropole)
    nearby = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lat, lon = data.get("lat"), data.get("lon")
        if not (lat and lon):
            lat, lon = _point_of_commune(data["commune"])
        try:
            if not data.get("confirm_new"):
                from metropole.core.geo import parse_coordinates

                plat, plon = parse_coordinates(lat, lon)
                nearby = queries.nearby_open(metropole, plat, plon, data["category"])
            if not nearby:
                report = services.submit_report(
                    request.user,
                    metropole,
                    category=data["category"],
                    lat=lat,
                    lon=lon,
                    description=data["description"],
                    photo=data.get("photo"),
                    address=data.get("address", ""),
                )
                messages.success(
                    request,
                    _("Thank you. Your report no. %(pk)d is sent to %(name)s.")
                    % {"pk": report.pk, "name": report.territory.display_name},
                )
                return redirect(report)
            form.data = form.data.copy()
            form.data["confirm_new"] = "True"
        except PlatformError as error:
            field = {"location": None}.get(error.field, error.field)
            form.add_error(field if field in form.fields else None, error.detail)
    return render(
        request,
        "reports/new.html",
        {"territory": metropole, "form": form, "nearby": nearby, **_map_context(request)},
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
    qs = queries.filter_reports(
        queries.queue_for(request.user, territory), status=status, category=category
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
            statuses=Status.choices,
            categories=queries.categories_of(territory.root),
            count_rows=_count_rows(
                queries.counts_by_status(queries.queue_for(request.user, territory))
            ),
            **_map_context(request),
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
    if request.method == "POST":
        action = request.POST.get("action")
        form = {
            "status": status_form,
            "message": message_form,
            "category": category_form,
            "reroute": reroute_form,
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
        ),
        status=400 if form.errors else 200,
    )
