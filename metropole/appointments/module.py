"""The appointments module's manifest."""

from django.utils.translation import gettext_lazy as _

from metropole.core.registry import (
    NAV_ACCOUNT,
    NAV_ADMIN,
    NAV_PUBLIC,
    ModuleManifest,
    NavEntry,
    OpenDataExport,
    PeriodicJob,
    Statistic,
    registry,
)


def _appointments(territory):
    from .models import Appointment

    if territory.is_metropole:
        return Appointment.objects.filter(agenda__territory__metropole=territory) | (
            Appointment.objects.filter(agenda__territory=territory)
        )
    return Appointment.objects.filter(agenda__territory=territory)


def _booked(territory) -> int:
    return _appointments(territory).count()


def _no_show_rate(territory) -> float:
    from .models import Status

    qs = _appointments(territory)
    due = qs.filter(status__in=[Status.SEEN, Status.NO_SHOW]).count()
    return round(100 * qs.filter(status=Status.NO_SHOW).count() / due, 1) if due else 0.0


def _stats_rows(territory):
    from .queries import no_show_stats

    for row in no_show_stats(territory):
        yield {
            "service": row["service"],
            "month": row["month"].strftime("%Y-%m"),
            "booked": row["total"],
            "seen": row["seen"],
            "no_show": row["no_show"],
            "excused": row["excused"],
            "cancelled": row["cancelled"],
            "no_show_rate": "" if row["rate"] is None else row["rate"],
        }


def _load_demo(metropole):
    from .demo import load_appointments_demo

    load_appointments_demo(metropole)


def _export(user):
    from .services import export_personal_data

    return export_personal_data(user)


def _erase(user):
    from .services import erase_personal_data

    erase_personal_data(user)


def _service_links(service):
    from django.urls import reverse

    agenda = service.agendas.filter(active=True).order_by("pk").first()
    if agenda is None:
        return []
    return [
        {
            "label": _("Book an appointment"),
            "url": reverse("appointments:agenda", kwargs={"pk": agenda.pk}),
        }
    ]


def _send_reminders():
    from django.conf import settings

    from .services import send_due_reminders

    send_due_reminders(base_url=settings.METROPOLE_BASE_URL)


manifest = registry.register(
    ModuleManifest(
        label="appointments",
        name=_("Appointments"),
        order=42,
        navigation=[
            NavEntry(_("Appointments"), "appointments:index", NAV_PUBLIC, order=40),
            NavEntry(_("My appointments"), "appointments:mine", NAV_ACCOUNT, order=41),
            NavEntry(
                _("Appointments"),
                "appointments:manage",
                NAV_ADMIN,
                "appointments.manage_agenda",
                per_territory=True,
                order=52,
            ),
        ],
        permissions=["appointments.manage_agenda"],
        statistics=[
            Statistic("appointments_booked", _("appointments booked"), _booked),
            Statistic("appointments_no_show_rate", _("no-show rate"), _no_show_rate, unit="%"),
        ],
        exports=[
            OpenDataExport(
                key="no_shows",
                title=_("Appointments and no-shows per service and month"),
                description=_("Counts only: no person is named."),
                fields=(
                    "service",
                    "month",
                    "booked",
                    "seen",
                    "no_show",
                    "excused",
                    "cancelled",
                    "no_show_rate",
                ),
                rows=_stats_rows,
            )
        ],
        periodic_jobs=[PeriodicJob("send_reminders", 5 * 60, _send_reminders)],
        demo_data=_load_demo,
        export_personal_data=_export,
        erase_personal_data=_erase,
        api_router="metropole.appointments.api.router",
        api_prefix="appointments",
        urls="metropole.appointments.urls",
        url_prefix="rendez-vous",
    )
)

from metropole.catalogue.hooks import register_service_links  # noqa: E402

register_service_links(_service_links)
