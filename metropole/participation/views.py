"""Pages of participation: public pages for citizens, administration pages for agents.

Every page works without JavaScript (forms POST and redirect). Rights come from rules.py
(`refusal` explains a refusal; services raise the same reason), so a button shown here is
an action the service accepts.
"""

import csv
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from metropole.core import queries as core_queries
from metropole.core.charts import bar_chart
from metropole.core.exceptions import PlatformError
from metropole.core.open_data import spreadsheet_safe
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import ical, queries, services, similarity
from .forms import (
    AnswerForm,
    AreaForm,
    ArgumentForm,
    CodesForm,
    CommentForm,
    ComponentEditForm,
    ComponentForm,
    ConclusionForm,
    DebateForm,
    DeclarationForm,
    EditCommentForm,
    EditProposalForm,
    MeetingForm,
    MergeForm,
    PaperVoteForm,
    PhaseForm,
    ProcessForm,
    ProjectForm,
    ProposalForm,
    QuestionForm,
    ReportForm,
    SettingsForm,
)
from .models import (
    Action,
    Block,
    BudgetArea,
    Comment,
    ComponentKind,
    Meeting,
    Proposal,
    QuestionKind,
    Registration,
    Result,
)
from .rules import (
    argument_refusal,
    declaration_of,
    edit_refusal,
    open_phase,
    refusal,
    resident_commune,
)


def _form_error(form, error: PlatformError):
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.detail or error.title)


# --- public pages -----------------------------------------------------------------------------


def index(request):
    metropole = core_queries.current_metropole()
    territory = None
    code = request.GET.get("territoire", "")
    if code:
        territory = core_queries.territory_by_code(code, metropole)
    now = timezone.now()
    items = []
    for process in queries.processes(metropole, territory):
        phase = process.active_phase(now)
        items.append({"process": process, "phase": phase})
    return render(
        request, "participation/index.html", {"items": items, "filter_territory": territory}
    )


def _process_context(request, process):
    now = timezone.now()
    components = []
    for component in process.components.all():
        component.process = process
        actions = [
            a
            for a in Action.values
            if a in {str(x) for x in _kind_actions(component)} and open_phase(component, a, now)
        ]
        components.append(
            {"component": component, "open": actions, "url": component_url(process, component)}
        )
    return {
        "process": process,
        "components": components,
        "now": now,
        "active_phase": process.active_phase(now),
    }


def _kind_actions(component):
    from .models import COMPONENT_ACTIONS

    return COMPONENT_ACTIONS[component.kind]


def component_url(process, component) -> str:
    names = {
        ComponentKind.PROPOSALS: "participation:proposals",
        ComponentKind.SURVEY: "participation:survey",
        ComponentKind.BUDGET: "participation:budget",
        ComponentKind.MEETINGS: "participation:meetings",
        ComponentKind.RESULTS: "participation:results",
        ComponentKind.DEBATES: "participation:debates",
    }
    return reverse(names[component.kind], kwargs={"slug": process.slug, "cid": component.pk})


def process_detail(request, slug):
    process = queries.process_by_slug(slug)
    if not process.is_published and not request.user.has_perm(
        "participation.manage", process.territory
    ):
        raise Http404
    return render(request, "participation/process.html", _process_context(request, process))


def _component(slug, cid, kind):
    process = queries.process_by_slug(slug)
    return process, queries.component_of(process, cid, kind)


def proposals(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.PROPOSALS)
    order = request.GET.get("ordre", "recent")
    page = Paginator(queries.proposals(component, order=order), 20).get_page(
        request.GET.get("page")
    )
    supported = queries.supported_ids(request.user, [p.pk for p in page])
    return render(
        request,
        "participation/proposals.html",
        {
            "process": process,
            "component": component,
            "page": page,
            "order": order,
            "supported": supported,
            "propose_refusal": refusal(request.user, component, Action.PROPOSE),
            "support_refusal": refusal(request.user, component, Action.SUPPORT),
            "supports_used": queries.supports_used(request.user, component),
            "support_limit": component.setting("support_limit", 0),
        },
    )


def new_proposal(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.PROPOSALS)
    reason = refusal(request.user, component, Action.PROPOSE)
    if reason and not request.user.is_authenticated:
        return redirect(f"{reverse('core:login')}?next={request.path}")
    form = ProposalForm(request.POST or None, request.FILES or None)
    similar = []
    if request.method == "POST" and not reason and form.is_valid():
        data = form.cleaned_data
        similar = similarity.similar_proposals(component, data["title"], data["body"])
        if similar and not request.POST.get("confirm_new"):
            messages.info(
                request,
                _(
                    "Similar proposals exist: support one of them, or confirm that yours "
                    "is different."
                ),
            )
        else:
            try:
                proposal = services.create_proposal(
                    request.user,
                    component,
                    title=data["title"],
                    body=data["body"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    image=data["image"],
                )
            except PlatformError as error:
                _form_error(form, error)
            else:
                messages.success(request, _("Your proposal is published."))
                return redirect("participation:proposal", pk=proposal.pk)
    return render(
        request,
        "participation/proposal_form.html",
        {
            "process": process,
            "component": component,
            "form": form,
            "refusal": reason,
            "similar": similar,
            "basemap": core_queries.basemap(),
            "highlight": process.territory.code if process.territory.is_commune else "",
        },
    )


def similar(request, slug, cid):
    """Fragment (htmx) listing proposals similar to the text being typed."""
    process, component = _component(slug, cid, ComponentKind.PROPOSALS)
    found = similarity.similar_proposals(
        component, request.GET.get("title", "")[:150], request.GET.get("body", "")[:2000]
    )
    return render(request, "participation/_similar.html", {"similar": found})


def proposal_detail(request, pk):
    proposal = queries.proposal(pk)
    component = proposal.component
    process = component.process
    staff = request.user.has_perm("participation.manage", process.territory)
    if proposal.is_hidden and not staff:
        return render(
            request,
            "core/error.html",
            {"title": _("Hidden proposal"), "detail": _("This proposal is hidden by moderation.")},
            status=404,
        )
    comment_form = CommentForm(request.POST or None)
    if request.method == "POST" and comment_form.is_valid():
        try:
            parent = queries.reply_parent(comment_form.cleaned_data.get("parent"))
            services.add_comment(
                request.user, proposal, body=comment_form.cleaned_data["body"], parent=parent
            )
        except PlatformError as error:
            _form_error(comment_form, error)
        else:
            messages.success(request, _("Your comment is published."))
            return redirect(
                f"{reverse('participation:proposal', kwargs={'pk': proposal.pk})}#comments"
            )
    user = request.user
    comments = queries.comment_tree(proposal)
    comment_refusal = refusal(user, component, Action.COMMENT)
    support_refusal = refusal(user, component, Action.SUPPORT)
    if proposal.merged_into_id:
        comment_refusal = support_refusal = _(
            "This proposal was merged into another one: take part there."
        )
    return render(
        request,
        "participation/proposal.html",
        {
            "proposal": proposal,
            "component": component,
            "process": process,
            "comments": comments,
            "comment_form": comment_form,
            "comment_refusal": comment_refusal,
            "support_refusal": support_refusal,
            "supported": proposal.pk in queries.supported_ids(user, [proposal.pk]),
            "following": user.is_authenticated and proposal.followers.filter(user=user).exists(),
            "is_staff": staff,
            "answer_form": AnswerForm(
                initial={"status": proposal.status, "answer": proposal.answer}
            )
            if staff
            else None,
            "can_edit": user.is_authenticated
            and proposal.author_id == user.pk
            and timezone.now() - proposal.created_at
            < timedelta(minutes=component.setting("edit_minutes", 60))
            and not proposal.support_count,
            "versions": proposal.versions.all()[:20],
            "editable": _editable(user, comments),
            "basemap": core_queries.basemap(),
        },
    )


def _editable(user, comments) -> set[int]:
    """Ids of the comments `user` may edit now (the rule of services.edit_comment)."""
    if not user.is_authenticated:
        return set()
    return {c.pk for c in comments if c.author_id == user.pk and edit_refusal(user, c) is None}


def _back(proposal):
    return redirect("participation:proposal", pk=proposal.pk)


def comment_url(comment) -> str:
    """Where a comment is read: on its proposal's page or its debate's page."""
    if comment.proposal_id:
        page = reverse("participation:proposal", kwargs={"pk": comment.proposal_id})
    else:
        debate = comment.debate
        page = reverse(
            "participation:debate",
            kwargs={
                "slug": debate.component.process.slug,
                "cid": debate.component_id,
                "pk": debate.pk,
            },
        )
    return f"{page}#comment-{comment.pk}"


@login_required
def edit_comment(request, pk):
    """The author edits a comment or an argument within the edit window; history kept."""
    comment = queries.comment(pk)
    form = EditCommentForm(request.POST or None, initial={"body": comment.body})
    reason = edit_refusal(request.user, comment)
    if request.method == "POST" and not reason and form.is_valid():
        try:
            services.edit_comment(request.user, comment, body=form.cleaned_data["body"])
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Your text is changed; the previous version is kept."))
            return redirect(comment_url(comment))
    return render(
        request,
        "participation/edit_comment.html",
        {
            "comment": comment,
            "form": form,
            "refusal": reason,
            "back": comment_url(comment),
            "versions": comment.versions.all()[:20],
        },
    )


def _report_page(request, back: str, **reported):
    """The report form of one proposal or comment (`reported`: proposal= or comment=)."""
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report(
                request.user,
                reason=form.cleaned_data["reason"],
                details=form.cleaned_data["details"],
                **reported,
            )
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Thank you: the moderators will look at it."))
            return redirect(back)
    return render(request, "participation/report.html", {**reported, "form": form, "back": back})


@login_required
def report_comment(request, pk):
    """Report a comment of a proposal or an argument of a debate."""
    comment = queries.comment(pk)
    return _report_page(request, comment_url(comment), comment=comment)


# --- debates ----------------------------------------------------------------------------------


def debates(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.DEBATES)
    return render(
        request,
        "participation/debates.html",
        {
            "process": process,
            "component": component,
            "debates": queries.debates(component),
            "now": timezone.now(),
        },
    )


def debate_detail(request, slug, cid, pk):
    process, component = _component(slug, cid, ComponentKind.DEBATES)
    debate = queries.debate(component, pk)
    reason = argument_refusal(request.user, debate)
    form = ArgumentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_argument(
                request.user,
                debate,
                body=form.cleaned_data["body"],
                stance=form.cleaned_data.get("stance") or "",
                parent=queries.reply_parent(form.cleaned_data.get("parent")),
            )
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Your argument is published."))
            return redirect(
                reverse("participation:debate", kwargs={"slug": slug, "cid": cid, "pk": pk})
                + "#arguments"
            )
    staff = request.user.has_perm("participation.manage", process.territory)
    arguments = queries.comment_tree(debate)
    for argument in arguments:
        argument.debate = debate
    visible = [a for a in arguments if not a.is_hidden and not a.parent_id]
    counts = {
        stance: sum(1 for a in visible if a.stance == stance)
        for stance in ("for", "against", "neutral")
    }
    replying_to = request.GET.get("reponse", "")
    return render(
        request,
        "participation/debate.html",
        {
            "process": process,
            "component": component,
            "debate": debate,
            "arguments": arguments,
            "counts": counts,
            "form": form,
            "refusal": reason,
            "is_staff": staff,
            "editable": _editable(request.user, arguments),
            "replying_to": replying_to if replying_to.isdigit() else "",
            "conclusion_form": ConclusionForm(initial={"conclusion": debate.conclusion})
            if staff
            else None,
        },
    )


@require_POST
@login_required
def conclude_debate(request, slug, cid, pk):
    process, component = _component(slug, cid, ComponentKind.DEBATES)
    debate = queries.debate(component, pk)
    form = ConclusionForm(request.POST)
    if form.is_valid():
        try:
            services.conclude_debate(request.user, debate, form.cleaned_data["conclusion"])
        except PlatformError as error:
            messages.error(request, f"{error.title}. {error.detail}")
        else:
            messages.success(request, _("The conclusion is published; the debate is closed."))
    else:
        messages.error(request, _("Write the conclusion."))
    return redirect("participation:debate", slug=slug, cid=cid, pk=pk)


@require_POST
def support(request, pk):
    proposal = queries.proposal(pk)
    try:
        if request.POST.get("withdraw"):
            services.withdraw_support(request.user, proposal)
            messages.success(request, _("Your support is withdrawn."))
        else:
            services.support(request.user, proposal)
            messages.success(request, _("Thank you: your support is counted."))
    except PlatformError as error:
        messages.error(request, f"{error.title}. {error.detail}")
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return _back(proposal)


@require_POST
@login_required
def follow(request, pk):
    proposal = queries.proposal(pk)
    services.follow(request.user, proposal, on=not request.POST.get("stop"))
    messages.success(request, _("Done."))
    return _back(proposal)


@login_required
def edit_proposal(request, pk):
    proposal = queries.proposal(pk)
    form = EditProposalForm(
        request.POST or None, initial={"title": proposal.title, "body": proposal.body}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_proposal(request.user, proposal, **form.cleaned_data)
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("Your proposal is changed; the previous version is kept."))
            return _back(proposal)
    return render(request, "participation/edit_proposal.html", {"proposal": proposal, "form": form})


@login_required
def report(request, pk):
    """Report a proposal (its comments are reported through report_comment, as arguments)."""
    proposal = queries.proposal(pk)
    return _report_page(
        request, reverse("participation:proposal", kwargs={"pk": proposal.pk}), proposal=proposal
    )


@require_POST
@login_required
def answer(request, pk):
    proposal = queries.proposal(pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.answer_proposal(request.user, proposal, **form.cleaned_data)
        except PlatformError as error:
            messages.error(request, f"{error.title}. {error.detail}")
        else:
            messages.success(request, _("The official answer is published."))
    else:
        messages.error(request, _("Choose a status and write the answer."))
    return _back(proposal)


# --- survey ---------------------------------------------------------------------------------


def _survey_answers(request, component):
    answers = {}
    for question in component.questions.all():
        name = f"q{question.pk}"
        if question.kind == QuestionKind.MULTIPLE:
            answers[question.pk] = request.POST.getlist(name)
        elif question.kind == QuestionKind.RANKING:
            ranks = {i: request.POST.get(f"{name}_{i}", "") for i in range(len(question.choices))}
            if any(str(r).strip() for r in ranks.values()):
                answers[question.pk] = services.ranking_from_ranks(question, ranks)
            else:
                answers[question.pk] = []
        else:
            answers[question.pk] = request.POST.get(name, "")
    return answers


def survey(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.SURVEY)
    reason = refusal(request.user, component, Action.ANSWER)
    answered = (
        request.user.is_authenticated and component.responses.filter(user=request.user).exists()
    )
    error = None
    if request.method == "POST":
        try:
            services.submit_survey(request.user, component, _survey_answers(request, component))
        except PlatformError as exc:
            error = exc
        else:
            messages.success(request, _("Thank you: your answers are recorded."))
            return redirect("participation:survey_results", slug=slug, cid=cid)
    questions = list(component.questions.all())
    for q in questions:
        q.field = f"q{q.pk}"
        q.scale = range(q.scale_min, q.scale_max + 1)
        q.given = request.POST.getlist(q.field) if request.method == "POST" else []
    return render(
        request,
        "participation/survey.html",
        {
            "process": process,
            "component": component,
            "questions": questions,
            "refusal": reason,
            "answered": answered,
            "error": error,
        },
    )


def survey_results(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.SURVEY)
    results = queries.survey_results(component)
    for entry in results:
        if entry["rows"]:
            entry["chart"] = bar_chart(entry["question"].text, entry["rows"])
    return render(
        request,
        "participation/survey_results.html",
        {
            "process": process,
            "component": component,
            "results": results,
            "total": results[0]["total"] if results else 0,
        },
    )


def survey_csv(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.SURVEY)

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    response = StreamingHttpResponse(
        (
            writer.writerow([spreadsheet_safe(v) for v in row])
            for row in queries.survey_csv_rows(component)
        ),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{process.slug}-{component.pk}.csv"'
    return response


# --- budget ---------------------------------------------------------------------------------


def budget(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.BUDGET)
    reason = refusal(request.user, component, Action.VOTE)
    ballot = queries.ballot_of(request.user, component)
    areas = list(component.areas.prefetch_related("projects"))
    area = None
    area_id = (
        request.POST.get("area") or request.GET.get("zone") or (ballot.area_id if ballot else None)
    )
    if area_id is None and len(areas) == 1:
        area = areas[0]
    else:
        area = next((a for a in areas if str(a.pk) == str(area_id)), None)
    if area is None and len(areas) > 1 and ballot is None:
        commune = resident_commune(request.user)
        area = next((a for a in areas if commune and a.commune_id == commune.pk), None)
    error = None
    chosen = {line.project_id for line in ballot.lines.all()} if ballot else set()
    if request.method == "POST":
        chosen = {int(i) for i in request.POST.getlist("projects") if i.isdigit()}
        try:
            services.save_ballot(
                request.user, component, area_id=request.POST.get("area"), project_ids=chosen
            )
        except PlatformError as exc:
            error = exc
        else:
            return redirect("participation:budget_review", slug=slug, cid=cid)
    return render(
        request,
        "participation/budget.html",
        {
            "process": process,
            "component": component,
            "areas": areas,
            "area": area,
            "ballot": ballot,
            "chosen": chosen,
            "refusal": reason,
            "error": error,
        },
    )


def budget_review(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.BUDGET)
    ballot = queries.ballot_of(request.user, component)
    if ballot is None:
        return redirect("participation:budget", slug=slug, cid=cid)
    error = None
    if request.method == "POST":
        try:
            services.cast_ballot(request.user, component)
        except PlatformError as exc:
            error = exc
        else:
            messages.success(request, _("Your vote is cast. Thank you!"))
            return redirect("participation:budget", slug=slug, cid=cid)
    lines = [line.project for line in ballot.lines.all()]
    total = sum(p.cost for p in lines)
    return render(
        request,
        "participation/budget_review.html",
        {
            "process": process,
            "component": component,
            "ballot": ballot,
            "projects": lines,
            "total": total,
            "error": error,
            "remaining": ballot.area.amount - total,
        },
    )


def budget_paper(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.BUDGET)
    areas = list(component.areas.prefetch_related("projects"))
    form = PaperVoteForm(request.POST or None)
    error = None
    chosen = set()
    if request.method == "POST" and form.is_valid():
        chosen = {int(i) for i in request.POST.getlist("projects") if i.isdigit()}
        try:
            services.cast_with_code(
                form.cleaned_data["code"],
                component,
                area_id=request.POST.get("area"),
                project_ids=chosen,
            )
        except PlatformError as exc:
            error = exc
        else:
            messages.success(request, _("The vote is cast. Thank you!"))
            return redirect("participation:budget", slug=slug, cid=cid)
    return render(
        request,
        "participation/budget_paper.html",
        {
            "process": process,
            "component": component,
            "areas": areas,
            "form": form,
            "error": error,
            "chosen": chosen,
        },
    )


def budget_results(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.BUDGET)
    if not request.user.has_perm("participation.view_budget_results", component):
        return render(
            request,
            "participation/budget_results.html",
            {"process": process, "component": component, "results": [], "voting": True},
        )
    results = queries.budget_results(component)
    for entry in results:
        entry["chart"] = bar_chart(
            entry["area"].name, [(r["project"].title, r["votes"]) for r in entry["rows"]], unit=""
        )
    return render(
        request,
        "participation/budget_results.html",
        {"process": process, "component": component, "results": results},
    )


# --- meetings and results --------------------------------------------------------------------


def meetings(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.MEETINGS)
    return render(
        request,
        "participation/meetings.html",
        {"process": process, "component": component, "meetings": component.meetings.all()},
    )


def meeting_detail(request, slug, cid, pk):
    process, component = _component(slug, cid, ComponentKind.MEETINGS)
    meeting = component.meetings.filter(pk=pk).first()
    if meeting is None:
        raise Http404
    meeting.component = component
    if request.method == "POST":
        try:
            if request.POST.get("cancel"):
                services.unregister(request.user, meeting)
                messages.success(request, _("Your registration is cancelled."))
            else:
                registration = services.register(request.user, meeting)
                messages.success(
                    request,
                    _("You are registered.")
                    if registration.status == Registration.CONFIRMED
                    else _("The meeting is full: you are on the waiting list."),
                )
        except PlatformError as error:
            messages.error(request, f"{error.title}. {error.detail}")
        return redirect("participation:meeting", slug=slug, cid=cid, pk=pk)
    mine = (
        meeting.registrations.filter(user=request.user).first()
        if request.user.is_authenticated
        else None
    )
    return render(
        request,
        "participation/meeting.html",
        {
            "process": process,
            "component": component,
            "meeting": meeting,
            "places": queries.meeting_places(meeting),
            "mine": mine,
            "refusal": refusal(request.user, component, Action.REGISTER),
        },
    )


def meeting_ics(request, slug, cid, pk):
    process, component = _component(slug, cid, ComponentKind.MEETINGS)
    meeting = component.meetings.filter(pk=pk).first()
    if meeting is None:
        raise Http404
    url = request.build_absolute_uri(
        reverse("participation:meeting", kwargs={"slug": slug, "cid": cid, "pk": pk})
    )
    response = HttpResponse(
        ical.calendar([meeting], url_of=lambda m: url, name=process.title),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="reunion-{meeting.pk}.ics"'
    return response


def results(request, slug, cid):
    process, component = _component(slug, cid, ComponentKind.RESULTS)
    return render(
        request,
        "participation/results.html",
        {"process": process, "component": component, "tree": queries.results_tree(component)},
    )


# --- eligibility ------------------------------------------------------------------------------


@login_required
def profile(request):
    declaration = declaration_of(request.user)
    initial = (
        {"postal_code": declaration.postal_code, "birth_year": declaration.birth_year}
        if declaration
        else {}
    )
    form = DeclarationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.declare(
                request.user,
                postal_code=form.cleaned_data["postal_code"],
                birth_year=form.cleaned_data["birth_year"],
                commune_code=form.cleaned_data["commune"] or None,
            )
        except PlatformError as error:
            field = {"commune": "commune", "birth_year": "birth_year"}.get(
                error.field or "", "postal_code"
            )
            form.add_error(field, error.detail or error.title)
        else:
            messages.success(request, _("Saved: it will be used for every process."))
            target = request.GET.get("next", "")
            if target.startswith("/") and not target.startswith("//"):
                return redirect(target)
            return redirect("participation:profile")
    return render(request, "participation/profile.html", {"form": form, "declaration": declaration})


# --- administration ---------------------------------------------------------------------------


@territory_permission_required("participation.manage")
def admin_processes(request, territory):
    form = ProcessForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            process = services.create_process(
                request.user,
                territory,
                **{k: v for k, v in form.cleaned_data.items() if k != "start" or v},
            )
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(request, _("The process is created with its phases and tools."))
            return redirect(
                "participation:admin_process", slug=territory.slug, process=process.slug
            )
    return render(
        request,
        "participation/admin/processes.html",
        admin_context(
            request,
            territory,
            form=form,
            processes=queries.processes(territory=territory, published_only=False),
        ),
    )


def _admin_process(territory, slug):
    process = queries.process_by_slug(slug)
    if process.territory_id != territory.pk:
        raise Http404
    return process


@territory_permission_required("participation.manage")
def admin_process(request, territory, process):
    process = _admin_process(territory, process)
    forms_by_name = {
        "phase": PhaseForm(prefix="phase"),
        "question": QuestionForm(prefix="question"),
        "area": AreaForm(prefix="area"),
        "project": ProjectForm(prefix="project"),
        "meeting": MeetingForm(prefix="meeting"),
        "codes": CodesForm(prefix="codes"),
        "component_add": ComponentForm(prefix="component_add", process=process),
    }
    codes = None
    action = request.POST.get("action") if request.method == "POST" else None
    component = None
    form = None
    edited_area = None
    if request.POST.get("component"):
        component = queries.component_of(process, request.POST["component"])
    if action:
        form_class = {
            "phase": PhaseForm,
            "question": QuestionForm,
            "area": AreaForm,
            "project": ProjectForm,
            "meeting": MeetingForm,
            "codes": CodesForm,
        }.get(action)
        form = form_class(request.POST, prefix=action) if form_class else None
        if action == "settings" and component is not None:
            form = SettingsForm(request.POST, prefix=f"s{component.pk}", kind=component.kind)
        elif action == "component_add":
            form = ComponentForm(request.POST, prefix=action, process=process)
        elif action == "component_edit" and component is not None:
            form = ComponentEditForm(request.POST, prefix=f"e{component.pk}", process=process)
        elif action == "area_edit" and component is not None:
            edited_area = _posted_object(
                request, BudgetArea.objects.filter(component=component), "area"
            )
            form = AreaForm(request.POST, prefix=f"a{edited_area.pk}")
        elif action == "debate" and component is not None:
            form = DebateForm(
                request.POST,
                prefix=f"d{component.pk}",
                meetings=Meeting.objects.filter(component__process=process),
            )
        if action == "component_move" and component is not None:
            try:
                services.move_component(
                    request.user,
                    component,
                    component_index(process, component) + (-1 if request.POST.get("up") else 1),
                )
            except PlatformError as error:
                messages.error(request, f"{error.title}. {error.detail}")
            else:
                messages.success(request, _("The order of the tools is changed."))
            return redirect(request.path)
        if action == "result":
            try:
                services.add_result(
                    request.user,
                    component,
                    title=request.POST.get("title", ""),
                    progress=request.POST.get("progress") or 0,
                    parent=Result.objects.filter(
                        component=component, pk=request.POST.get("parent") or 0
                    ).first(),
                )
                messages.success(request, _("Saved."))
                return redirect(request.path)
            except (PlatformError, ValueError) as error:
                messages.error(request, getattr(error, "detail", str(error)))
        elif action == "minutes":
            meeting = Meeting.objects.filter(
                component__process=process, pk=request.POST.get("meeting")
            ).first()
            if meeting:
                services.set_minutes(request.user, meeting, request.POST.get("minutes", ""))
                messages.success(request, _("Saved."))
                return redirect(request.path)
        elif form is not None and form.is_valid():
            data = form.cleaned_data
            try:
                if action == "phase":
                    services.add_phase(
                        request.user,
                        process,
                        title=data["title"],
                        start=data["start"],
                        end=data["end"],
                        actions=data["actions"],
                    )
                elif action == "question":
                    services.add_question(
                        request.user,
                        component,
                        kind=data["kind"],
                        text=data["text"],
                        choices=data["choices"].splitlines(),
                        required=data["required"],
                    )
                elif action == "area":
                    services.add_area(request.user, component, **data)
                elif action == "project":
                    area = BudgetArea.objects.filter(
                        component__process=process, pk=data.pop("area")
                    ).first()
                    if area is None:
                        raise Http404
                    services.add_project(request.user, area, **data)
                elif action == "meeting":
                    services.add_meeting(request.user, component, **data)
                elif action == "codes":
                    codes = services.issue_voting_codes(request.user, component, data["count"])
                elif action == "settings":
                    services.update_component_settings(
                        request.user, component, **{k: v for k, v in data.items() if v is not None}
                    )
                elif action == "component_add":
                    services.add_component(
                        request.user,
                        process,
                        kind=data["kind"],
                        title=data["title"],
                        phase=data["phase"] or None,
                    )
                elif action == "component_edit":
                    services.update_component(
                        request.user, component, title=data["title"], phase=data["phase"] or None
                    )
                elif action == "area_edit":
                    services.update_area(request.user, edited_area, **data)
                elif action == "debate":
                    services.add_debate(
                        request.user,
                        component,
                        title=data["title"],
                        description=data["description"],
                        start=data["start"],
                        end=data["end"],
                        meeting=data["meeting"] or None,
                    )
            except PlatformError as error:
                _form_error(form, error)
                messages.error(request, f"{error.title}. {error.detail}")
            else:
                if codes is None:
                    messages.success(request, _("Saved."))
                    return redirect(request.path)
        elif form is not None:
            messages.error(request, _("Correct the errors in the form."))
        if form is not None and action in forms_by_name:
            forms_by_name[action] = form
    process = _admin_process(territory, process.slug)  # read again: tools may have changed
    components = []
    listed = list(process.components.all())
    meetings_of_process = list(Meeting.objects.filter(component__process=process))
    for index, c in enumerate(listed):
        c.process = process
        posted_here = component is not None and component.pk == c.pk and form is not None
        components.append(
            {
                "component": c,
                "first": index == 0,
                "last": index == len(listed) - 1,
                "settings_form": form
                if posted_here and action == "settings"
                else SettingsForm(prefix=f"s{c.pk}", initial=c.settings, kind=c.kind),
                "edit_form": form
                if posted_here and action == "component_edit"
                else ComponentEditForm(
                    prefix=f"e{c.pk}",
                    process=process,
                    initial={"title": c.title, "phase": str(c.phase_id or "")},
                ),
                "debate_form": form
                if posted_here and action == "debate"
                else DebateForm(prefix=f"d{c.pk}", meetings=meetings_of_process),
                "debates": queries.debates(c) if c.kind == ComponentKind.DEBATES else [],
                "url": component_url(process, c),
                "areas": [
                    (
                        a,
                        form
                        if posted_here and action == "area_edit" and edited_area.pk == a.pk
                        else AreaForm(
                            prefix=f"a{a.pk}",
                            initial={
                                k: getattr(a, k)
                                for k in (
                                    "name",
                                    "amount",
                                    "rule",
                                    "min_projects",
                                    "max_projects",
                                    "min_share",
                                )
                            },
                        ),
                    )
                    for a in c.areas.prefetch_related("projects")
                ]
                if c.kind == ComponentKind.BUDGET
                else [],
                "questions": list(c.questions.all()) if c.kind == ComponentKind.SURVEY else [],
                "meetings": list(c.meetings.all()) if c.kind == ComponentKind.MEETINGS else [],
                "results": list(c.results.all()) if c.kind == ComponentKind.RESULTS else [],
                "clusters": similarity.clusters(c)[:10]
                if c.kind == ComponentKind.PROPOSALS
                else [],
                "codes_used": c.codes.filter(used_at__isnull=False).count()
                if c.kind == ComponentKind.BUDGET
                else 0,
                "codes_total": c.codes.count() if c.kind == ComponentKind.BUDGET else 0,
            }
        )
    return render(
        request,
        "participation/admin/process.html",
        admin_context(
            request,
            territory,
            process=process,
            components=components,
            forms=forms_by_name,
            codes=codes,
            now=timezone.now(),
        ),
    )


def component_index(process, component) -> int:
    ordered = [c.pk for c in process.components.all()]
    return ordered.index(component.pk)


@territory_permission_required("participation.manage")
def admin_component_remove(request, territory, process, cid):
    """Confirm, then remove a tool (refused with the reason when participants used it)."""
    process = _admin_process(territory, process)
    component = queries.component_of(process, cid)
    held = services.component_contributions(component)
    if request.method == "POST":
        try:
            services.remove_component(request.user, component)
        except PlatformError as error:
            messages.error(request, f"{error.title}. {error.detail}")
        else:
            messages.success(request, _("“%(title)s” is removed.") % {"title": component.title})
        return redirect("participation:admin_process", slug=territory.slug, process=process.slug)
    return render(
        request,
        "participation/admin/component_remove.html",
        admin_context(request, territory, process=process, component=component, held=held),
    )


@territory_permission_required("participation.manage")
def admin_merge(request, territory, process, cid):
    """Merge a group of similar proposals: choose the one that stays and those merged."""
    process = _admin_process(territory, process)
    component = queries.component_of(process, cid, ComponentKind.PROPOSALS)
    raw = request.POST.getlist("merged") + [request.POST.get("target", "")]
    raw += request.GET.get("propositions", "").split(",")
    ids = {int(i) for i in raw if str(i).strip().isdigit()}
    group = list(
        Proposal.objects.filter(component=component, pk__in=ids, merged_into__isnull=True).order_by(
            "-support_count", "pk"
        )
    )
    if not group:
        raise Http404
    initial = {"target": str(group[0].pk), "merged": [str(p.pk) for p in group[1:]]}
    form = MergeForm(request.POST or None, proposals=group, initial=initial)
    if request.method == "POST" and form.is_valid():
        target = next(p for p in group if str(p.pk) == form.cleaned_data["target"])
        try:
            services.merge_proposals(
                request.user,
                target,
                [int(i) for i in form.cleaned_data["merged"]],
                note=form.cleaned_data["note"],
            )
        except PlatformError as error:
            _form_error(form, error)
        else:
            messages.success(
                request,
                _("The proposals are merged into “%(title)s”.") % {"title": target.title},
            )
            return redirect("participation:proposal", pk=target.pk)
    return render(
        request,
        "participation/admin/merge.html",
        admin_context(
            request, territory, process=process, component=component, group=group, form=form
        ),
    )


def _posted_object(request, queryset, name):
    """The object a form posts the id of; a stale or malformed id is a 404, not a 500."""
    try:
        return queryset.get(pk=int(request.POST[name]))
    except (ValueError, queryset.model.DoesNotExist):
        raise Http404 from None


@territory_permission_required("participation.moderate")
def moderation(request, territory):
    if request.method == "POST":
        from .models import Proposal

        try:
            if request.POST.get("block"):
                from metropole.core.models import User

                person = _posted_object(request, User.objects.all(), "block")
                services.block_user(
                    request.user, territory, person, request.POST.get("reason") or _("Moderation")
                )
            elif request.POST.get("unblock"):
                block = _posted_object(
                    request, Block.objects.filter(territory=territory), "unblock"
                )
                services.unblock_user(request.user, block)
            else:
                hide = request.POST.get("decision") == "hide"
                if request.POST.get("proposal"):
                    services.moderate(
                        request.user,
                        proposal=_posted_object(request, Proposal.objects.all(), "proposal"),
                        hide=hide,
                    )
                elif request.POST.get("comment"):
                    services.moderate(
                        request.user,
                        comment=_posted_object(
                            request, Comment.objects.select_related("proposal"), "comment"
                        ),
                        hide=hide,
                    )
        except PlatformError as error:
            messages.error(request, f"{error.title}. {error.detail}")
        else:
            messages.success(request, _("Done."))
        return redirect(request.path)
    reports = list(queries.moderation_queue(territory).order_by("-created_at")[:200])
    for r in reports:
        r.link = (
            comment_url(r.comment)
            if r.comment_id
            else reverse("participation:proposal", kwargs={"pk": r.proposal_id})
        )
    blocks = Block.objects.filter(territory=territory).select_related("user")
    return render(
        request,
        "participation/admin/moderation.html",
        admin_context(request, territory, reports=reports, blocks=blocks),
    )


@territory_permission_required("participation.view_dashboard")
def dashboard(request, territory):
    data = queries.dashboard(territory)
    charts = []
    if data["by_territory"]:
        charts.append(
            bar_chart(
                _("Participants by organising territory"),
                [(r["territory"].name, r["participants"]) for r in data["by_territory"]],
            )
        )
        charts.append(
            bar_chart(
                _("Contributions by organising territory"),
                [(r["territory"].name, r["contributions"]) for r in data["by_territory"]],
            )
        )
    if data["by_residence"]:
        charts.append(
            bar_chart(_("Participants by commune of residence"), data["by_residence"][:30])
        )
    if data["by_process"]:
        charts.append(
            bar_chart(
                _("Votes by process"),
                [(r["process"].title, r["votes"]) for r in data["by_process"]],
            )
        )
    return render(
        request,
        "participation/admin/dashboard.html",
        admin_context(request, territory, data=data, charts=charts),
    )
