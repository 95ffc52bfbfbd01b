"""The reports module's manifest."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from metropole.core.registry import (
    NAV_ACCOUNT,
    NAV_ADMIN,
    NAV_PUBLIC,
    ModuleManifest,
    NavEntry,
    OpenDataExport,
    Statistic,
    registry,
)


def _reports(territory):
    from .models import Report

    if territory.is_metropole:
        return Report.objects.filter(metropole=territory)
    if territory.is_commune:
        return Report.objects.filter(commune=territory)
    return Report.objects.filter(commune__parent=territory)


def _received(territory) -> int:
    return _reports(territory).count()


def _fixed(territory) -> int:
    from .models import Status

    return _reports(territory).filter(status=Status.FIXED).count()


def _open(territory) -> int:
    from .models import OPEN_STATUSES

    return _reports(territory).filter(status__in=OPEN_STATUSES).count()


def _satisfaction(territory) -> float:
    answered = _reports(territory).filter(satisfied__isnull=False)
    total = answered.count()
    return round(100 * answered.filter(satisfied=True).count() / total, 1) if total else 0.0


def _rows(territory):
    """Anonymised: no text (it may name people), no reporter, coordinates to ~10 m."""
    for r in _reports(territory).select_related("category", "commune", "territory").order_by("pk"):
        yield {
            "id": r.pk,
            "category": r.category.slug,
            "category_name": r.category.name,
            "commune_insee": r.commune.code,
            "handled_by": r.territory.code,
            "status": r.status,
            "close_reason": r.close_reason,
            "lat": round(r.lat, 4),
            "lon": round(r.lon, 4),
            "supporters": r.supporter_count,
            "created_at": r.created_at.isoformat(timespec="seconds"),
            "fixed_at": r.fixed_at.isoformat(timespec="seconds") if r.fixed_at else "",
            "closed_at": r.closed_at.isoformat(timespec="seconds") if r.closed_at else "",
        }


def _load_demo(metropole):
    from .demo import load_reports_demo

    load_reports_demo(metropole)


def _export(user):
    from .services import export_personal_data

    return export_personal_data(user)


def _erase(user):
    from .services import erase_personal_data

    erase_personal_data(user)


def _service_links(service):
    """ "Report a problem" on a catalogue page whose competence has report categories."""
    from django.urls import reverse

    if service.competence_id and service.competence.report_categories.filter(active=True).exists():
        return [{"label": _("Report a problem"), "url": reverse("reports:new")}]
    return []


manifest = registry.register(
    ModuleManifest(
        label="reports",
        name=_("Reports on public space"),
        order=41,
        navigation=[
            NavEntry(_("Report a problem"), "reports:index", NAV_PUBLIC, order=30),
            NavEntry(_("My reports"), "reports:mine", NAV_ACCOUNT, order=40),
            NavEntry(
                _("Reports"),
                "reports:queue",
                NAV_ADMIN,
                "reports.handle_report",
                per_territory=True,
                order=51,
            ),
            NavEntry(
                _("Report categories"),
                "reports:categories",
                NAV_ADMIN,
                "reports.manage_categories",
                per_territory=True,
                order=53,
            ),
        ],
        permissions=["reports.handle_report", "reports.manage_categories"],
        statistics=[
            Statistic("reports_received", _("reports received"), _received),
            Statistic("reports_open", _("reports open"), _open),
            Statistic.count(
                "reports_fixed",
                ngettext_lazy("report fixed", "reports fixed", "n"),
                _fixed,
                headline=True,
            ),
            Statistic("reports_satisfaction", _("reporters satisfied"), _satisfaction, unit="%"),
        ],
        exports=[
            OpenDataExport(
                key="reports",
                title=_("Reports on public space (anonymised)"),
                description=_(
                    "Category, commune, handling territory, status and dates of every report; "
                    "coordinates rounded to about 10 m; no text and no reporter."
                ),
                fields=(
                    "id",
                    "category",
                    "category_name",
                    "commune_insee",
                    "handled_by",
                    "status",
                    "close_reason",
                    "lat",
                    "lon",
                    "supporters",
                    "created_at",
                    "fixed_at",
                    "closed_at",
                ),
                rows=_rows,
            )
        ],
        demo_data=_load_demo,
        export_personal_data=_export,
        erase_personal_data=_erase,
        api_router="metropole.reports.api.router",
        api_prefix="reports",
        urls="metropole.reports.urls",
        url_prefix="",
    )
)

from metropole.catalogue.hooks import register_service_links  # noqa: E402

register_service_links(_service_links)
