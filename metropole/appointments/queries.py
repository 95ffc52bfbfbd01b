"""Read paths of appointments: agendas open to a commune, a day's appointments, the
no-show statistics per service and month."""

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from metropole.core.exceptions import NotFound

from .models import Agenda, Appointment, AppointmentType, Status


def agendas_for(territory) -> QuerySet:
    """Active agendas a citizen of `territory` may use: its own and the metropole's."""
    qs = Agenda.objects.filter(active=True).select_related("territory", "service")
    if territory.is_commune:
        return qs.filter(Q(territory=territory) | Q(territory_id=territory.root.pk))
    return qs.filter(Q(territory=territory) | Q(territory__metropole=territory))


def agenda_detail(pk) -> Agenda:
    try:
        return Agenda.objects.select_related("territory", "service").get(pk=int(pk), active=True)
    except (Agenda.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound(
            _("Unknown agenda"), _("No open agenda has the number %(pk)s.") % {"pk": pk}
        ) from None


def type_of(agenda: Agenda, type_id) -> AppointmentType:
    try:
        return agenda.types.get(pk=int(type_id), active=True)
    except (AppointmentType.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound(
            _("Unknown appointment type"),
            _("This agenda has no appointment type %(id)s.") % {"id": type_id},
        ) from None


def agendas_run_by(territory) -> QuerySet:
    return (
        Agenda.objects.filter(territory=territory)
        .select_related("service")
        .annotate(agent_count=Count("agents", filter=Q(agents__active=True), distinct=True))
    )


def appointments_between(agenda: Agenda, start, end) -> QuerySet:
    return (
        Appointment.objects.filter(agenda=agenda, start__gte=start, start__lt=end)
        .select_related("type", "agent")
        .order_by("start", "agent__name")
    )


def no_show_stats(territory) -> list[dict]:
    """Per service and month: appointments due, seen, no-shows, excused, and the no-show
    rate (no-shows among appointments that were due: seen + no-show)."""
    qs = Appointment.objects.filter(
        Q(agenda__territory=territory) | Q(agenda__territory__metropole=territory)
        if territory.is_metropole
        else Q(agenda__territory=territory)
    )
    rows = (
        qs.annotate(month=TruncMonth("start"))
        .values("month", "agenda__service__title", "agenda__name")
        .annotate(
            total=Count("pk"),
            seen=Count("pk", filter=Q(status=Status.SEEN)),
            no_show=Count("pk", filter=Q(status=Status.NO_SHOW)),
            excused=Count("pk", filter=Q(status=Status.EXCUSED)),
            cancelled=Count(
                "pk", filter=Q(status__in=[Status.CANCELLED, Status.CANCELLED_BY_SERVICE])
            ),
        )
        .order_by("agenda__service__title", "agenda__name", "month")
    )
    result = []
    for row in rows:
        due = row["seen"] + row["no_show"]
        result.append(
            {
                "service": row["agenda__service__title"] or row["agenda__name"],
                "month": row["month"],
                "total": row["total"],
                "seen": row["seen"],
                "no_show": row["no_show"],
                "excused": row["excused"],
                "cancelled": row["cancelled"],
                "rate": round(100 * row["no_show"] / due, 1) if due else None,
            }
        )
    return result


def appointments_of_person(user) -> QuerySet:
    return Appointment.objects.filter(user=user).select_related("agenda", "type").order_by("-start")
