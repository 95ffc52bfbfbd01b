"""Agent back-office: the queue of a territory with filters and bulk actions, one request
(history, transitions, assignment, comments, messages), entry of requests received at the
counter, by phone or by post, and statistics per form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metropole.core.charts import bar_chart
from metropole.core.exceptions import PermissionDenied, PlatformError
from metropole.core.models import User
from metropole.core.queries import metropole_communes, territory_by_code
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import attachments, engine, queries, services
from .models import Channel, Form, Request, Team
from .views_citizen import _base_url, answers_for_display, bound_fields, raw_answers

PAGE_SIZE = 50


def _filters(request, territory):
    get = request.GET
    # Procedures that can reach this territory (its own and its metropole's), without
    # scanning its requests: the cost does not grow with the queue.
    forms = list(
        Form.objects.filter(territory_id__in=[territory.pk, territory.metropole_id or 0])
        .only("title")
        .order_by("title")
    )
    teams = list(Team.objects.filter(territory=territory))
    form = next((f for f in forms if str(f.pk) == get.get("form")), None)
    team = next((t for t in teams if str(t.pk) == get.get("team")), None)
    commune = None
    if get.get("commune"):
        commune = territory_by_code(get["commune"], request.metropole)
    return (
        {
            "status": get.get("status", "open"),
            "form": form,
            "team": team,
            "commune": commune,
            "assigned": get.get("assigned", ""),
            "late": get.get("late") == "1",
            "search": get.get("q", "").strip(),
        },
        forms,
        teams,
    )


@territory_permission_required("procedures.view_queue")
def queue(request, territory):
    filters, forms, teams = _filters(request, territory)
    qs = queries.queue(territory, mine_user=request.user, **filters)
    rows, cursor = queries.keyset_page(qs, request.GET.get("apres"), PAGE_SIZE)
    params = request.GET.copy()
    params.pop("apres", None)
    next_url = None
    if cursor:
        params["apres"] = cursor
        next_url = f"?{params.urlencode()}"
    workflows = {r.form.workflow_id: r.form.workflow for r in rows}
    transitions = []
    seen = set()
    for workflow in workflows.values():
        for index, t in enumerate(workflow.definition.get("transitions", [])):
            if (workflow.pk, index) not in seen:
                seen.add((workflow.pk, index))
                transitions.append(
                    {
                        "value": f"{workflow.pk}:{index}:{t['to']}",
                        "label": f"{t['label']} ({workflow.name})",
                    }
                )
    return render(
        request,
        "procedures/agent/queue.html",
        admin_context(
            request,
            territory,
            rows=rows,
            next_url=next_url,
            filters=filters,
            forms=forms,
            teams=teams,
            communes=metropole_communes(territory.root).only("name", "code")
            if territory.is_metropole
            else [],
            transitions=transitions,
            first_page=not request.GET.get("apres"),
        ),
    )


@require_POST
@territory_permission_required("procedures.view_queue")
def bulk(request, territory):
    codes = request.POST.getlist("codes")
    chosen = list(
        Request.objects.filter(territory=territory, code__in=codes).select_related(
            "form__workflow", "territory"
        )
    )
    if not chosen:
        messages.error(request, _("Tick at least one request first."))
        return redirect(
            request.POST.get("next") or reverse("procedures:queue", kwargs={"slug": territory.slug})
        )
    action = request.POST.get("action", "")
    if action.startswith("team:"):
        team = get_object_or_404(Team, pk=action[5:], territory=territory)
        result = services.bulk_assign(request.user, chosen, team=team)
    elif action == "me":
        result = services.bulk_assign(request.user, chosen, agent=request.user)
    elif action.startswith("transition:"):
        workflow_id, index, expected_to = [*action[11:].split(":"), "", ""][:3]
        same = [r for r in chosen if str(r.form.workflow_id) == workflow_id]
        result = services.bulk_transition(
            request.user,
            same,
            int(index) if index.isdigit() else -1,
            base_url=_base_url(request),
            expected_to=expected_to,
        )
        for r in chosen:
            if r not in same:
                result.refused[r.code] = _("Another workflow.")
    else:
        messages.error(request, _("Choose an action."))
        return redirect(
            request.POST.get("next") or reverse("procedures:queue", kwargs={"slug": territory.slug})
        )
    if result.done:
        messages.success(
            request,
            _("Done for %(n)d request(s): %(codes)s.")
            % {"n": len(result.done), "codes": ", ".join(result.done)},
        )
    for code, reason in result.refused.items():
        messages.error(request, _("%(code)s: %(reason)s") % {"code": code, "reason": reason})
    return redirect(
        request.POST.get("next") or reverse("procedures:queue", kwargs={"slug": territory.slug})
    )


@login_required
def handle(request, code):
    obj = queries.request_by_code(code)
    if not request.user.has_perm("procedures.handle_request", obj):
        raise PermissionDenied(_("Not allowed"), _("You do not handle this request."))
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "transition":
                services.take_transition(
                    request.user,
                    obj,
                    int(request.POST.get("index", -1)),
                    base_url=_base_url(request),
                    expected_to=request.POST.get("to", ""),
                )
                messages.success(request, _("Status changed."))
            elif action == "assign":
                team = Team.objects.filter(
                    pk=request.POST.get("team") or 0, territory=obj.territory
                ).first()
                chosen = request.POST.get("agent", "")
                agent = None
                if chosen == "me":
                    agent = request.user
                elif chosen.isdigit():
                    agent = get_object_or_404(User, pk=chosen)
                services.assign(request.user, obj, team=team, agent=agent)
                messages.success(request, _("Assignment saved."))
            elif action == "comment":
                services.add_comment(request.user, obj, request.POST.get("text", ""))
                messages.success(request, _("Comment added."))
            elif action == "document":
                services.add_document(
                    request.user, obj, request.FILES.get("file"), as_citizen=False
                )
                messages.success(request, _("File added to the request."))
            elif action == "message":
                services.post_message(
                    request.user,
                    obj,
                    request.POST.get("text", ""),
                    as_citizen=False,
                    base_url=_base_url(request),
                )
                messages.success(request, _("Message sent to the citizen."))
        except (PlatformError, ValueError) as exc:
            messages.error(request, getattr(exc, "detail", "") or str(exc))
        return redirect("procedures:handle", code=obj.code)
    obj = queries.request_by_code(code)
    return render(
        request,
        "procedures/agent/request.html",
        admin_context(
            request,
            obj.territory,
            req=obj,
            answers=answers_for_display(obj),
            events=queries.visible_events(obj, for_agent=True),
            transitions=services.available_transitions(request.user, obj),
            max_mb=attachments.max_mb(),
            teams=Team.objects.filter(territory=obj.territory),
            team_members=[m for m in obj.team.members.all() if m.pk != request.user.pk]
            if obj.team_id
            else [],
        ),
    )


@territory_permission_required("procedures.enter_request")
def enter(request, territory):
    """Choose the procedure of a request received at the counter, by phone or by post."""
    forms = queries.published_forms(territory.root, territory)
    return render(
        request,
        "procedures/agent/enter_choose.html",
        admin_context(request, territory, forms=forms),
    )


@territory_permission_required("procedures.enter_request")
def enter_form(request, territory, form_slug):
    form = queries.published_form(territory.root, form_slug)
    fields = list(form.fields.all())
    pages = engine.pages_of(form, fields)
    errors, values, error = {}, {}, None
    if request.method == "POST":
        raw = raw_answers(request.POST, request.FILES, fields)
        try:
            created = services.submit_answers(
                request.user,
                form,
                raw,
                channel=request.POST.get("channel", ""),
                email=request.POST.get("email", ""),
                phone=request.POST.get("phone", ""),
                base_url=_base_url(request),
                counter=territory,
            )
        except services.InvalidAnswers as exc:
            errors, error = exc.by_field, exc.detail
        except PlatformError as exc:
            error = exc.detail or exc.title
        else:
            messages.success(request, _("Request %(code)s recorded.") % {"code": created.code})
            return redirect("procedures:handle", code=created.code)
        values = {k: v for k, v in raw.items() if not hasattr(v, "read")}
    every = {b["field"].key: b for b in bound_fields(fields, values, errors, values)}
    page_blocks = [
        {"page": p, "fields": [every[f.key] for f in p.fields if f.key in every]} for p in pages
    ]
    return render(
        request,
        "procedures/agent/enter_form.html",
        admin_context(
            request,
            territory,
            form=form,
            blocks=page_blocks,
            error=error,
            channels=[c for c in Channel.choices if c[0] != Channel.ONLINE],
            posted=request.POST,
            communes=metropole_communes(territory.root).only("name", "code"),
        ),
        status=400 if error else 200,
    )


@territory_permission_required("procedures.view_queue")
def statistics(request, territory):
    rows = queries.form_statistics(territory)
    chart = None
    if rows:
        chart = bar_chart(
            _("Requests per procedure"),
            [(r["title"][:40], r["total"]) for r in rows[:12]],
            unit=_("requests"),
        )
    return render(
        request,
        "procedures/agent/statistics.html",
        admin_context(request, territory, rows=rows, chart=chart),
    )
