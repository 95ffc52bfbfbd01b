"""Pages of appointments: choose an agenda, a type and a time; book; see or cancel an
appointment from the link in the confirmation; agents' day view, statuses and statistics."""

from datetime import UTC, date, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from metropole.core import charts
from metropole.core import queries as core_queries
from metropole.core.exceptions import PlatformError
from metropole.core.views.administration import admin_context
from metropole.core.views.helpers import territory_permission_required

from . import ics, queries, services, slots
from .forms import BookingForm, WaitingForm
from .models import (
    AGENT_STATUSES_CHOICES,
    Absence,
    Agenda,
    Appointment,
    AppointmentType,
    Status,
)

DAYS_SHOWN = 7


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


@require_safe
def index(request):
    metropole = request.metropole
    place = None
    slug = request.GET.get("commune", "")
    if slug:
        place = core_queries.territory_by_slug(slug)
    agendas = queries.agendas_for(place or metropole).prefetch_related("types")
    return render(
        request,
        "appointments/index.html",
        {
            "territory": place or metropole,
            "place": place,
            "agendas": agendas,
            "communes": core_queries.commune_links(metropole),
        },
    )


def _week_start(request, appointment_type) -> date:
    today = timezone.localdate()
    raw = request.GET.get("week", "")
    try:
        start = date.fromisoformat(raw) if raw else None
    except ValueError:
        start = None
    earliest = (timezone.now() + timedelta(hours=appointment_type.min_delay_hours)).astimezone(
        slots.LOCAL
    )
    return max(start or earliest.date(), today)


@require_safe
def agenda(request, pk):
    item = queries.agenda_detail(pk)
    types = list(item.types.filter(active=True))
    chosen = None
    days = []
    week = prev_week = next_week = None
    if request.GET.get("type"):
        chosen = queries.type_of(item, request.GET["type"])
    elif len(types) == 1:
        chosen = types[0]
    any_free = True
    if chosen is not None:
        week = _week_start(request, chosen)
        last = week + timedelta(days=DAYS_SHOWN - 1)
        found = slots.free_slots(item, chosen, week, last)
        by_day: dict[date, list] = {}
        for slot in found:
            by_day.setdefault(slot.start.astimezone(slots.LOCAL).date(), []).append(slot)
        closed = slots.closed_days(item, week, last)
        hours = slots.weekly_hours(item.hours_source)
        days = []
        for k in range(DAYS_SHOWN):
            day = week + timedelta(days=k)
            reason = closed.get(day) or (None if day.weekday() in hours else _("not open that day"))
            days.append({"day": day, "slots": by_day.get(day, []), "closed": reason})
        horizon = (timezone.now() + timedelta(days=chosen.max_delay_days)).date()
        next_week = last + timedelta(days=1) if last < horizon else None
        previous = week - timedelta(days=DAYS_SHOWN)
        prev_week = previous if week > timezone.localdate() else None
        if not found:
            any_free = bool(slots.free_slots(item, chosen, timezone.localdate(), horizon))
    return render(
        request,
        "appointments/agenda.html",
        {
            "territory": item.territory,
            "agenda": item,
            "types": types,
            "chosen": chosen,
            "days": days,
            "week": week,
            "prev_week": prev_week,
            "next_week": next_week,
            "any_free": any_free,
            "waiting_form": WaitingForm(initial={"email": getattr(request.user, "email", "")}),
        },
    )


def _start_from(request) -> datetime:
    try:
        return datetime.fromtimestamp(int(request.GET.get("t") or request.POST.get("t")), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise Http404 from None


def book(request, pk):
    item = queries.agenda_detail(pk)
    chosen = queries.type_of(item, request.GET.get("type") or request.POST.get("type"))
    start = _start_from(request)
    user = request.user
    for_someone = user.is_authenticated and user.has_perm(
        "appointments.manage_agenda", item.territory
    )
    initial = {}
    if user.is_authenticated and not for_someone:
        initial = {"name": user.get_full_name(), "email": user.email}
    form = BookingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.book(
                user,
                chosen,
                start,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                phone=form.cleaned_data["phone"],
                base_url=_base_url(request),
            )
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(
                request, _("Your appointment is booked. A confirmation is on its way.")
            )
            return redirect("appointments:mine_one", token=services.cancel_token(appointment))
    return render(
        request,
        "appointments/book.html",
        {
            "territory": item.territory,
            "agenda": item,
            "chosen": chosen,
            "start": start,
            "timestamp": int(start.timestamp()),
            "form": form,
            "for_someone": for_someone,
        },
        status=400 if request.method == "POST" else 200,
    )


def appointment_page(request, token):
    """The page the confirmation links to: details, calendar file, cancel button."""
    if request.method == "POST":
        try:
            services.cancel_with_token(token)
        except PlatformError as error:
            return render(
                request,
                "appointments/link_refused.html",
                {"error": error},
                status=error.status,
            )
        messages.success(request, _("Your appointment is cancelled. Thank you for telling us."))
        return redirect("appointments:index")
    try:
        appointment = services.appointment_from_token(token)
    except PlatformError as error:
        return render(
            request, "appointments/link_refused.html", {"error": error}, status=error.status
        )
    return render(
        request,
        "appointments/appointment.html",
        {"territory": appointment.agenda.territory, "appointment": appointment, "token": token},
    )


@require_safe
def appointment_ics(request, token):
    try:
        appointment = services.appointment_from_token(token)
    except PlatformError as error:
        return render(
            request, "appointments/link_refused.html", {"error": error}, status=error.status
        )
    body = ics.calendar([appointment], appointment.agenda.name)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rendez-vous.ics"'
    return response


@require_POST
def waiting(request, pk):
    item = queries.agenda_detail(pk)
    chosen = queries.type_of(item, request.POST.get("type"))
    form = WaitingForm(request.POST)
    if form.is_valid():
        try:
            services.join_waiting_list(request.user, chosen, form.cleaned_data["email"])
        except PlatformError as error:
            messages.error(request, error.detail)
        else:
            messages.success(
                request, _("You are on the waiting list: we will write when a time frees up.")
            )
    else:
        messages.error(request, _("Give a valid e-mail address."))
    return redirect(reverse("appointments:agenda", kwargs={"pk": item.pk}) + f"?type={chosen.pk}")


@login_required
def mine(request):
    return render(
        request,
        "appointments/mine.html",
        {"appointments": queries.appointments_of_person(request.user)[:100], "now": timezone.now()},
    )


@require_POST
@login_required
def cancel_own(request, appointment_id):
    appointment = get_object_or_404(Appointment, pk=appointment_id, user=request.user)
    try:
        services.cancel_own(request.user, appointment)
    except PlatformError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Your appointment is cancelled."))
    return redirect("appointments:mine")


# --- back-office --------------------------------------------------------------------------


@territory_permission_required("appointments.manage_agenda")
def manage(request, territory):
    stats = queries.no_show_stats(territory)
    months = sorted({row["month"] for row in stats})
    labels = [m.strftime("%Y-%m") for m in months]
    by_service: dict[str, dict] = {}
    for row in stats:
        by_service.setdefault(row["service"], {})[row["month"]] = row["rate"]
    chart = None
    if months:
        chart = charts.line_chart(
            _("No-show rate per month"),
            labels,
            [(name, [rates.get(m) for m in months]) for name, rates in by_service.items()],
            unit="%",
        )
    return render(
        request,
        "appointments/agent/manage.html",
        admin_context(
            request,
            territory,
            agendas=queries.agendas_run_by(territory),
            stats=stats,
            chart=chart,
        ),
    )


@territory_permission_required("appointments.manage_agenda")
def day(request, territory, pk):
    item = get_object_or_404(Agenda, pk=pk, territory=territory)
    try:
        chosen_day = (
            date.fromisoformat(request.GET.get("day", "")) if request.GET.get("day") else None
        )
    except ValueError:
        chosen_day = None
    chosen_day = chosen_day or timezone.localdate()
    start = datetime.combine(chosen_day, datetime.min.time(), tzinfo=slots.LOCAL)
    return render(
        request,
        "appointments/agent/day.html",
        admin_context(
            request,
            territory,
            agenda=item,
            day=chosen_day,
            previous=chosen_day - timedelta(days=1),
            next=chosen_day + timedelta(days=1),
            appointments=queries.appointments_between(item, start, start + timedelta(days=1)),
            statuses=AGENT_STATUSES_CHOICES,
            now=timezone.now(),
        ),
    )


@require_POST
@territory_permission_required("appointments.manage_agenda")
def set_status(request, territory, pk, appointment_id):
    appointment = get_object_or_404(
        Appointment, pk=appointment_id, agenda__pk=pk, agenda__territory=territory
    )
    try:
        services.set_status(request.user, appointment, request.POST.get("status", ""))
    except PlatformError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("The status is saved."))
    day_param = timezone.localtime(appointment.start, slots.LOCAL).date().isoformat()
    return redirect(
        reverse("appointments:day", kwargs={"slug": territory.slug, "pk": pk}) + f"?day={day_param}"
    )


@require_safe
@territory_permission_required("appointments.manage_agenda")
def agenda_ics(request, territory, pk):
    item = get_object_or_404(Agenda, pk=pk, territory=territory)
    since = timezone.now() - timedelta(days=30)
    appointments = item.appointments.filter(start__gte=since).select_related("type", "agenda")
    body = ics.calendar(appointments, item.name, with_person=True)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="agenda-{item.pk}.ics"'
    return response


def _osm_text(hours) -> str:
    from metropole.core.opening_hours import to_osm

    return to_osm(hours)


@territory_permission_required("appointments.manage_agenda")
def agenda_settings(request, territory, pk=None):
    """Create an agenda (pk=None) or change one: its hours, types, agents, absences and
    closures, one small form each."""
    from .forms import AbsenceForm, AgendaForm, AgentForm, ClosureForm, TypeForm

    item = get_object_or_404(Agenda, pk=pk, territory=territory) if pk else None
    action = request.POST.get("action", "agenda") if request.method == "POST" else None
    if item is not None and action == "delete_closure":
        from .models import Closure

        closure = get_object_or_404(Closure, pk=request.POST.get("closure") or 0, agenda=item)
        services.delete_closure(request.user, closure)
        messages.success(request, _("Closure deleted."))
        return redirect(_settings_url(territory, item, "clo-title"))
    initial = None
    if item is not None:
        initial = {
            "name": item.name,
            "service": item.service_id,
            "place_name": item.place_name,
            "address": item.address,
            "opening_hours_text": _osm_text(item.opening_hours),
            "slot_minutes": item.slot_minutes,
            "closed_on_school_holidays": item.closed_on_school_holidays,
            "active": item.active,
        }
    forms = {
        "agenda": AgendaForm(
            request.POST if action == "agenda" else None, initial=initial, territory=territory
        )
    }
    if item is not None:
        forms.update(
            {
                "type": TypeForm(request.POST if action == "type" else None, prefix="t"),
                "agent": AgentForm(request.POST if action == "agent" else None, prefix="a"),
                "absence": AbsenceForm(
                    request.POST if action == "absence" else None, agenda=item, prefix="b"
                ),
                "closure": ClosureForm(request.POST if action == "closure" else None, prefix="c"),
            }
        )
    form = forms.get(action)
    if form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            if action == "agenda":
                item = services.save_agenda(request.user, territory, agenda=item, **data)
            elif action == "type":
                services.add_type(request.user, item, **data)
            elif action == "agent":
                services.add_agent(request.user, item, **data)
            elif action == "absence":
                services.add_absence(request.user, data.pop("agent"), **data)
            else:
                services.add_closure(request.user, item, **data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("Saved."))
            return redirect("appointments:settings", slug=territory.slug, pk=item.pk)
    return render(
        request,
        "appointments/agent/settings.html",
        admin_context(
            request,
            territory,
            agenda=item,
            forms=forms,
            absences=Absence.objects.filter(agent__agenda=item, end__gte=timezone.now())
            .select_related("agent")
            .order_by("start")
            if item is not None
            else [],
        ),
        status=400 if form is not None and form.errors else 200,
    )


# --- edit pages: an agent, an absence, an appointment type ---------------------------------------


def _settings_url(territory, agenda, anchor=""):
    url = reverse("appointments:settings", kwargs={"slug": territory.slug, "pk": agenda.pk})
    return f"{url}#{anchor}" if anchor else url


def _local_input(moment):
    return timezone.localtime(moment, slots.LOCAL).strftime("%Y-%m-%dT%H:%M")


@territory_permission_required("appointments.manage_agenda")
def agent_edit(request, territory, pk, agent_id):
    from .forms import AgentEditForm
    from .models import Agent

    item = get_object_or_404(Agenda, pk=pk, territory=territory)
    agent = get_object_or_404(Agent, pk=agent_id, agenda=item)
    if request.method == "POST" and request.POST.get("op") == "delete":
        try:
            services.delete_agent(request.user, agent)
        except PlatformError as error:
            messages.error(request, error.detail)
            return redirect(
                "appointments:agent_edit", slug=territory.slug, pk=pk, agent_id=agent.pk
            )
        messages.success(request, _("Agent deleted."))
        return redirect(_settings_url(territory, item, "agents-title"))
    form = AgentEditForm(
        request.POST if request.method == "POST" else None,
        initial={"name": agent.name, "active": agent.active},
    )
    if request.method == "POST" and form.is_valid():
        try:
            kept = services.update_agent(request.user, agent, **form.cleaned_data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            if kept:
                messages.warning(
                    request,
                    _(
                        "Saved. %(name)s is no longer offered, but still has %(n)d appointment(s) "
                        "to come: move or cancel them from the day view."
                    )
                    % {"name": agent.name, "n": kept},
                )
            else:
                messages.success(request, _("Saved."))
            return redirect(_settings_url(territory, item, "agents-title"))
    now = timezone.now()
    return render(
        request,
        "appointments/agent/agent_edit.html",
        admin_context(
            request,
            territory,
            agenda=item,
            agent=agent,
            form=form,
            future=agent.appointments.filter(status=Status.BOOKED, start__gte=now).count(),
            has_history=agent.appointments.exists(),
        ),
        status=400 if form.errors else 200,
    )


@territory_permission_required("appointments.manage_agenda")
def absence_edit(request, territory, pk, absence_id):
    from .forms import AbsenceEditForm
    from .models import Absence

    item = get_object_or_404(Agenda, pk=pk, territory=territory)
    absence = get_object_or_404(
        Absence.objects.select_related("agent"), pk=absence_id, agent__agenda=item
    )
    if request.method == "POST" and request.POST.get("op") == "delete":
        services.delete_absence(request.user, absence)
        messages.success(request, _("Absence deleted: the agent's times are offered again."))
        return redirect(_settings_url(territory, item, "abs-title"))
    form = AbsenceEditForm(
        request.POST if request.method == "POST" else None,
        agenda=item,
        initial={
            "agent": absence.agent_id,
            "start": _local_input(absence.start),
            "end": _local_input(absence.end),
            "reason": absence.reason,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            overlapping = services.update_absence(request.user, absence, **form.cleaned_data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            if overlapping:
                messages.warning(
                    request,
                    _(
                        "Saved. %(n)d appointment(s) already booked fall in this absence: move "
                        "or cancel them from the day view."
                    )
                    % {"n": overlapping},
                )
            else:
                messages.success(request, _("Saved."))
            return redirect(_settings_url(territory, item, "abs-title"))
    return render(
        request,
        "appointments/agent/absence_edit.html",
        admin_context(request, territory, agenda=item, absence=absence, form=form),
        status=400 if form.errors else 200,
    )


@territory_permission_required("appointments.manage_agenda")
def type_edit(request, territory, pk, type_id):
    from .forms import TypeEditForm

    item = get_object_or_404(Agenda, pk=pk, territory=territory)
    kind = get_object_or_404(AppointmentType, pk=type_id, agenda=item)
    if request.method == "POST" and request.POST.get("op") == "delete":
        try:
            services.delete_type(request.user, kind)
        except PlatformError as error:
            messages.error(request, error.detail)
            return redirect("appointments:type_edit", slug=territory.slug, pk=pk, type_id=kind.pk)
        messages.success(request, _("Appointment type deleted."))
        return redirect(_settings_url(territory, item, "types-title"))
    form = TypeEditForm(
        request.POST if request.method == "POST" else None,
        initial={
            "name": kind.name,
            "duration_minutes": kind.duration_minutes,
            "min_delay_hours": kind.min_delay_hours,
            "max_delay_days": kind.max_delay_days,
            "mode": kind.mode,
            "active": kind.active,
        },
        prefix="t",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_type(request.user, kind, **form.cleaned_data)
        except PlatformError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            messages.success(request, _("Saved."))
            return redirect(_settings_url(territory, item, "types-title"))
    now = timezone.now()
    return render(
        request,
        "appointments/agent/type_edit.html",
        admin_context(
            request,
            territory,
            agenda=item,
            kind=kind,
            form=form,
            future=Appointment.objects.filter(
                type=kind, status=Status.BOOKED, start__gte=now
            ).count(),
            has_history=Appointment.objects.filter(type=kind).exists(),
        ),
        status=400 if form.errors else 200,
    )
