"""Pages of strategy steering. Every write goes through services.py, every permission
through rules.py (the same checks as the API); a refused write re-shows the form with
the reason next to the field, nothing stored."""

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from metropole.core.exceptions import (
    BadRequest,
    NotFound,
    PermissionDenied,
    PlatformError,
)
from metropole.core.models import Territory
from metropole.core.queries import territory_by_slug
from metropole.core.views.helpers import require_page_permission

from . import charts, collectors, forms, pdf, queries, services
from .models import Action, Document, Indicator, Meeting


def _get(model, pk, *select):
    obj = (
        model.objects.select_related(*select).filter(pk=pk).first()
        if queries.valid_id(pk)
        else None
    )
    if obj is None:
        raise NotFound(_("Page not found"), _("This item does not exist (any more)."))
    return obj


def _refused(form, error: PlatformError):
    """Show a service's refusal on the form, next to the field it names."""
    field = (error.field or "").split(".")[0].split("[")[0]
    message = f"{error.title} — {error.detail}" if error.detail else str(error.title)
    form.add_error(field if field in form.fields else None, message)


# --- lists and dashboards ------------------------------------------------------------------------


def index(request):
    mine = list(queries.plans_visible_to(request.user)) if request.user.is_authenticated else []
    public = [p for p in queries.public_plans() if p not in mine]
    territories = []
    if request.user.is_authenticated:
        from metropole.core.queries import territories_administered_by

        territories = [
            t
            for t in territories_administered_by(request.user)
            if request.user.has_perm("steering.add_plan", t)
        ][:20]
    return render(
        request,
        "steering/index.html",
        {"mine": mine, "public": public, "territories": territories},
    )


def plan_create(request, slug):
    territory = territory_by_slug(slug)
    require_page_permission(request, "steering.add_plan", territory)
    form = forms.PlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.create_plan(request.user, territory, **form.cleaned_data)
        except PlatformError as error:
            _refused(form, error)
        else:
            messages.success(request, _("The plan is created. Add its axes, then its actions."))
            return redirect("steering:structure", pk=plan.pk)
    return render(
        request,
        "steering/plan_form.html",
        {"form": form, "territory": territory},
        status=400 if form.errors else 200,
    )


def dashboard(request, pk):
    plan = queries.get_plan(pk)
    require_page_permission(request, "steering.view_plan", plan)
    filters = queries.Filters.from_query(request.GET)
    board = queries.dashboard(plan, filters)
    return render(
        request,
        "steering/dashboard.html",
        {
            "plan": plan,
            "board": board,
            "charts": charts.dashboard_charts(board),
            "action_url": reverse("steering:action", kwargs={"pk": 0})[:-2],
            "can_change": request.user.has_perm("steering.change_plan", plan),
            "commune_choices": _commune_choices(plan),
        },
    )


def territory(request, slug):
    """Hypervision of a territory: every plan of it (and, for the metropole, of its
    communes) that the visitor may open, each with its progress, delays, budget, indicators."""
    place = territory_by_slug(slug)
    overview = request.user.is_authenticated and queries.territory_overview(place, request.user)
    if not overview:
        require_page_permission(request, "steering.view_plan", place)
    return render(request, "steering/territory.html", {"place": place, "overview": overview})


def _commune_choices(plan):
    return list(
        Territory.objects.filter(steering_actions__plan=plan)
        .distinct()
        .order_by("name")
        .values_list("code", "name")
    )


def transparency(request, pk):
    """The public page of a plan: only what the territory published."""
    plan = queries.get_plan(pk)
    if not request.user.has_perm("steering.view_public_plan", plan):
        raise NotFound(_("Page not found"), _("This plan is not published."))
    board = queries.dashboard(plan, public=True)
    documents = Document.objects.filter(action__plan=plan, is_public=True).select_related("action")
    return render(
        request,
        "steering/transparency.html",
        {
            "plan": plan,
            "board": board,
            "charts": charts.dashboard_charts(board, public=True),
            "documents": documents,
        },
    )


# --- structure -----------------------------------------------------------------------------------


def structure(request, pk):
    plan = queries.get_plan(pk)
    require_page_permission(request, "steering.change_plan", plan)
    rows = queries.tree(list(plan.nodes.prefetch_related("actions")))
    node_form = forms.NodeForm(prefix="node", nodes=rows)
    move_form = forms.MoveNodeForm(prefix="move", nodes=rows)
    action_form = forms.ActionForm(prefix="action", nodes=rows, metropole=plan.territory.root)
    publication = forms.PublicationForm(
        prefix="pub",
        initial={
            "is_public": plan.is_public,
            "publish_budget": plan.publish_budget,
            "publish_indicators": plan.publish_indicators,
        },
    )
    status = 200
    if request.method == "POST":
        which = request.POST.get("form")
        try:
            if which == "node":
                node_form = forms.NodeForm(request.POST, prefix="node", nodes=rows)
                if node_form.is_valid():
                    data = node_form.cleaned_data
                    parent = (
                        plan.nodes.filter(pk=data.pop("parent")).first() if data["parent"] else None
                    )
                    data.pop("parent", None)
                    services.add_node(request.user, plan, parent=parent, **data)
                    messages.success(request, _("Branch added."))
                    return redirect("steering:structure", pk=plan.pk)
            elif which == "move":
                move_form = forms.MoveNodeForm(request.POST, prefix="move", nodes=rows)
                if move_form.is_valid():
                    node = plan.nodes.get(pk=move_form.cleaned_data["node"])
                    parent_id = move_form.cleaned_data["parent"]
                    parent = plan.nodes.get(pk=parent_id) if parent_id else None
                    services.update_node(request.user, node, parent=parent)
                    messages.success(request, _("Branch moved."))
                    return redirect("steering:structure", pk=plan.pk)
            elif which == "action":
                action_form = forms.ActionForm(
                    request.POST, prefix="action", nodes=rows, metropole=plan.territory.root
                )
                if action_form.is_valid():
                    data = action_form.cleaned_data
                    node = plan.nodes.get(pk=data.pop("node"))
                    communes, partners = data.pop("communes"), data.pop("partners")
                    action = services.add_action(
                        request.user, plan, node=node, communes=communes, partners=partners, **data
                    )
                    messages.success(request, _("Action added."))
                    return redirect("steering:action", pk=action.pk)
            elif which == "publication":
                publication = forms.PublicationForm(request.POST, prefix="pub")
                if publication.is_valid():
                    services.update_plan(request.user, plan, **publication.cleaned_data)
                    messages.success(request, _("Publication settings saved."))
                    return redirect("steering:structure", pk=plan.pk)
        except PlatformError as error:
            form = {"node": node_form, "move": move_form, "action": action_form}.get(
                which, publication
            )
            _refused(form, error)
        status = 400
    return render(
        request,
        "steering/structure.html",
        {
            "plan": plan,
            "rows": rows,
            "node_form": node_form,
            "move_form": move_form,
            "action_form": action_form,
            "publication": publication,
        },
        status=status,
    )


# --- actions -------------------------------------------------------------------------------------


def action_detail(request, pk):
    action = _get(Action, pk, "plan__territory", "node")
    plan = action.plan
    require_page_permission(request, "steering.view_plan", plan)
    can_change = request.user.has_perm("steering.change_plan", plan)
    progress_form = forms.ProgressForm(
        prefix="progress", initial={"status": action.status, "progress": action.progress}
    )
    step_form = forms.StepForm(prefix="step")
    document_form = forms.DocumentForm(prefix="doc")
    status = 200
    if request.method == "POST":
        if not can_change:
            raise PermissionDenied(
                _("Access refused"), _("You may read this plan but not change it.")
            )
        which = request.POST.get("form")
        try:
            if which == "progress":
                progress_form = forms.ProgressForm(request.POST, prefix="progress")
                if progress_form.is_valid():
                    data = progress_form.cleaned_data
                    note = data.pop("note")
                    with transaction.atomic():
                        services.update_action(request.user, action, **data)
                        if note.strip():
                            services.add_note(request.user, action, text=note)
                    messages.success(request, _("Progress recorded."))
                    return redirect("steering:action", pk=action.pk)
            elif which == "step":
                step_form = forms.StepForm(request.POST, prefix="step")
                if step_form.is_valid():
                    services.add_step(request.user, action, **step_form.cleaned_data)
                    messages.success(request, _("Step added."))
                    return redirect("steering:action", pk=action.pk)
            elif which == "step_done":
                step = action.steps.filter(pk=request.POST.get("step")).first()
                if step is None:
                    raise BadRequest(_("Unknown step"), _("This step does not exist."))
                services.complete_step(request.user, step)
                messages.success(request, _("Step marked as done."))
                return redirect("steering:action", pk=action.pk)
            elif which == "document":
                document_form = forms.DocumentForm(request.POST, request.FILES, prefix="doc")
                if document_form.is_valid():
                    services.attach_document(request.user, action, **document_form.cleaned_data)
                    messages.success(request, _("Document attached."))
                    return redirect("steering:action", pk=action.pk)
        except PlatformError as error:
            form = {"progress": progress_form, "step": step_form, "document": document_form}.get(
                which
            )
            if form is None:
                raise
            _refused(form, error)
        status = 400
    return render(
        request,
        "steering/action.html",
        {
            "plan": plan,
            "action": action,
            "can_change": can_change,
            "progress_form": progress_form,
            "step_form": step_form,
            "document_form": document_form,
            "steps": action.steps.all(),
            "notes": action.notes.select_related("author"),
            "documents": action.documents.all(),
            "budget": action.budget_lines.all(),
            "decisions": action.decisions.select_related("meeting__body"),
            "indicators": queries.indicator_rows(action.indicators.all()),
            "communes": action.communes.order_by("name"),
            "today": timezone.localdate(),
        },
        status=status,
    )


def action_budget(request, pk):
    action = _get(Action, pk, "plan__territory")
    require_page_permission(request, "steering.change_plan", action.plan)
    initial = [
        {
            "year": b.year,
            "source": b.source,
            "planned": b.planned,
            "actual": b.actual,
            "comment": b.comment,
        }
        for b in action.budget_lines.all()
    ]
    formset = forms.BudgetFormSet(request.POST or None, initial=initial, prefix="lines")
    total_form = forms.BudgetTotalForm(request.POST or None, initial={"total": action.budget_total})
    error = None
    if request.method == "POST" and formset.is_valid() and total_form.is_valid():
        lines = [
            f.cleaned_data
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            services.set_budget(request.user, action, lines, total=total_form.cleaned_data["total"])
        except PlatformError as refused:
            error = refused
        else:
            messages.success(request, _("Budget saved."))
            return redirect("steering:action", pk=action.pk)
    return render(
        request,
        "steering/budget_form.html",
        {
            "plan": action.plan,
            "action": action,
            "formset": formset,
            "total_form": total_form,
            "error": error,
        },
        status=400 if request.method == "POST" else 200,
    )


def document_download(request, pk):
    """Documents live outside the web root: served here after the permission check."""
    document = _get(Document, pk, "action__plan__territory")
    plan = document.action.plan
    if not (document.is_public and plan.is_public):
        require_page_permission(request, "steering.view_plan", plan)
    response = FileResponse(
        document.file.open("rb"), as_attachment=True, filename=document.file.name.rsplit("/", 1)[-1]
    )
    response["Content-Type"] = document.content_type or "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- indicators ----------------------------------------------------------------------------------


def indicators(request, pk):
    """Every indicator of a plan against its target, off-track first, 100 per page."""
    from django.core.paginator import Paginator

    plan = queries.get_plan(pk)
    require_page_permission(request, "steering.view_plan", plan)
    rows = queries.dashboard(plan).indicators_first(limit=None)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request, "steering/indicators.html", {"plan": plan, "page": page, "rows": page.object_list}
    )


def indicator_create(request, pk):
    plan = queries.get_plan(pk)
    require_page_permission(request, "steering.change_plan", plan)
    rows = queries.tree(list(plan.nodes.all()))
    actions = list(plan.actions.all())
    form = forms.IndicatorForm(
        request.POST or None, nodes=rows, actions=actions, territory=plan.territory
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        aggregate, query = data.pop("collector_aggregate"), data.pop("collector_query")
        if data["collector"].startswith("datahub:"):
            data["collector_params"] = {"aggregate": aggregate or "count", "query": query}
        data["node"] = plan.nodes.filter(pk=data["node"]).first() if data["node"] else None
        data["action"] = plan.actions.filter(pk=data["action"]).first() if data["action"] else None
        try:
            indicator = services.add_indicator(request.user, plan, **data)
        except PlatformError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Indicator created."))
            return redirect("steering:indicator", pk=indicator.pk)
    return render(
        request,
        "steering/indicator_form.html",
        {"plan": plan, "form": form},
        status=400 if form.errors else 200,
    )


def indicator_detail(request, pk):
    indicator = _get(Indicator, pk, "plan__territory", "node", "action")
    plan = indicator.plan
    require_page_permission(request, "steering.view_plan", plan)
    can_change = request.user.has_perm("steering.change_plan", plan)
    form = forms.ValueForm(
        request.POST or None, initial={"date": timezone.localdate(), "kind": "actual"}
    )
    status = 200
    if request.method == "POST":
        require_page_permission(request, "steering.change_plan", plan)
        try:
            if request.POST.get("form") == "collect":
                collectors.collect(indicator, actor=request.user)
                messages.success(
                    request, _("Value collected from %(source)s.") % {"source": indicator.collector}
                )
                return redirect("steering:indicator", pk=indicator.pk)
            if form.is_valid():
                services.record_value(request.user, indicator, **form.cleaned_data)
                messages.success(request, _("Value recorded."))
                return redirect("steering:indicator", pk=indicator.pk)
        except PlatformError as error:
            _refused(form, error)
        status = 400
    row = queries.indicator_rows(Indicator.objects.filter(pk=indicator.pk))[0]
    return render(
        request,
        "steering/indicator.html",
        {
            "plan": plan,
            "indicator": indicator,
            "row": row,
            "chart": charts.indicator_chart(indicator),
            "values": indicator.values.select_related("recorded_by").order_by("-date", "kind")[
                :200
            ],
            "form": form,
            "can_change": can_change,
        },
        status=status,
    )


def values_import(request, pk):
    plan = queries.get_plan(pk)
    require_page_permission(request, "steering.change_plan", plan)
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            count = services.import_values_csv(request.user, plan, form.cleaned_data["file"].read())
        except services.ImportReport as refused:
            report = refused.errors
        except PlatformError as error:
            _refused(form, error)
        else:
            messages.success(request, _("%(count)d values imported.") % {"count": count})
            return redirect("steering:dashboard", pk=plan.pk)
    return render(
        request,
        "steering/import.html",
        {"plan": plan, "form": form, "report": report, "indicators": plan.indicators.all()},
        status=400 if (report or form.errors) else 200,
    )


# --- governance ----------------------------------------------------------------------------------


def meetings(request, pk):
    plan = queries.get_plan(pk)
    require_page_permission(request, "steering.view_plan", plan)
    bodies = list(plan.bodies.all())
    open_actions = list(plan.actions.exclude(status="abandoned"))
    meeting_form = forms.MeetingForm(
        prefix="meeting",
        bodies=bodies,
        actions=open_actions,
        initial={"date": timezone.localdate()},
    )
    body_form = forms.BodyForm(prefix="body")
    status = 200
    if request.method == "POST":
        require_page_permission(request, "steering.change_plan", plan)
        which = request.POST.get("form")
        try:
            if which == "body":
                body_form = forms.BodyForm(request.POST, prefix="body")
                if body_form.is_valid():
                    services.add_body(request.user, plan, **body_form.cleaned_data)
                    messages.success(request, _("Body added."))
                    return redirect("steering:meetings", pk=plan.pk)
            else:
                meeting_form = forms.MeetingForm(
                    request.POST, prefix="meeting", bodies=bodies, actions=open_actions
                )
                if meeting_form.is_valid():
                    data = meeting_form.cleaned_data
                    body = plan.bodies.get(pk=data["body"])
                    chosen = (
                        list(plan.actions.filter(pk__in=data["actions"]))
                        if data["actions"]
                        else None
                    )
                    meeting = services.create_meeting(
                        request.user, body, date=data["date"], title=data["title"], actions=chosen
                    )
                    messages.success(request, _("Meeting scheduled; its pack is ready."))
                    return redirect("steering:meeting", pk=meeting.pk)
        except PlatformError as error:
            _refused(body_form if which == "body" else meeting_form, error)
        status = 400
    return render(
        request,
        "steering/meetings.html",
        {
            "plan": plan,
            "bodies": bodies,
            "meetings": Meeting.objects.filter(body__plan=plan).select_related("body"),
            "meeting_form": meeting_form,
            "body_form": body_form,
            "can_change": request.user.has_perm("steering.change_plan", plan),
        },
        status=status,
    )


def meeting_detail(request, pk):
    meeting = _get(Meeting, pk, "body__plan__territory")
    plan = meeting.body.plan
    require_page_permission(request, "steering.view_plan", plan)
    scope = list(meeting.scope.order_by("position", "pk"))
    decided = set(meeting.decisions.values_list("action_id", flat=True))
    pending = [a for a in scope if a.pk not in decided]
    form = forms.DecisionForm(
        request.POST or None, actions=pending or scope, metropole=plan.territory.root
    )
    minutes_form = forms.MinutesForm(initial={"minutes": meeting.minutes}, prefix="minutes")
    status = 200
    if request.method == "POST":
        require_page_permission(request, "steering.decide", plan)
        try:
            if request.POST.get("form") == "minutes":
                minutes_form = forms.MinutesForm(request.POST, prefix="minutes")
                if minutes_form.is_valid():
                    services.update_minutes(
                        request.user, meeting, minutes_form.cleaned_data["minutes"]
                    )
                    messages.success(request, _("Minutes saved."))
                    return redirect("steering:meeting", pk=meeting.pk)
            elif form.is_valid():
                data = form.cleaned_data
                action = Action.objects.get(pk=data["action"])
                services.record_decision(
                    request.user,
                    meeting,
                    action,
                    kind=data["kind"],
                    reasons=data["reasons"],
                    communes=data["communes"],
                )
                messages.success(request, _("Decision recorded."))
                return redirect("steering:meeting", pk=meeting.pk)
        except PlatformError as error:
            _refused(form, error)
        status = 400
    return render(
        request,
        "steering/meeting.html",
        {
            "plan": plan,
            "meeting": meeting,
            "scope": scope,
            "decisions": meeting.decisions.select_related("action").prefetch_related("communes"),
            "form": form if pending else None,
            "minutes_form": minutes_form,
            "can_decide": request.user.has_perm("steering.decide", plan),
        },
        status=status,
    )


def _printable(request, template, context, filename, as_pdf):
    html = render(request, template, context).content.decode()
    if not as_pdf:
        return HttpResponse(html)
    response = HttpResponse(pdf.html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def meeting_pack(request, pk, as_pdf=False):
    meeting = _get(Meeting, pk, "body__plan__territory")
    plan = meeting.body.plan
    require_page_permission(request, "steering.view_plan", plan)
    context = queries.meeting_pack(meeting)
    context["charts"] = charts.dashboard_charts(context["board"])
    context["pdf_url"] = reverse("steering:meeting_pack_pdf", kwargs={"pk": meeting.pk})
    return _printable(
        request, "steering/print/pack.html", context, f"dossier-{meeting.date}.pdf", as_pdf
    )


def annual_report(request, pk, year, half=None, as_pdf=False):
    plan = queries.get_plan(pk)
    require_page_permission(request, "steering.view_plan", plan)
    if not (1900 < year < 2200) or half not in (None, 1, 2):
        raise NotFound(_("Page not found"), _("No report for this year."))
    context = queries.annual_report(plan, year, half)
    context["charts"] = charts.dashboard_charts(context["board"])
    if half:
        context["pdf_url"] = reverse(
            "steering:half_report_pdf", kwargs={"pk": plan.pk, "year": year, "half": half}
        )
        name = f"evaluation-{year}-s{half}.pdf"
    else:
        context["pdf_url"] = reverse("steering:report_pdf", kwargs={"pk": plan.pk, "year": year})
        name = f"rapport-{year}.pdf"
    return _printable(request, "steering/print/report.html", context, name, as_pdf)
