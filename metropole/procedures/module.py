"""The procedures module's manifest: navigation, permissions, statistics for the steering
module, anonymised open data, demo content, RGPD hooks, API and pages."""

from django.urls import reverse
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


def _handled(territory):
    from .models import DRAFT, Request

    qs = Request.objects.exclude(status=DRAFT)
    if territory.is_metropole:
        return qs.filter(metropole=territory)
    return qs.filter(territory=territory)


def _submitted(territory) -> int:
    return _handled(territory).count()


def _submitted_online(territory) -> int:
    return _handled(territory).filter(channel="online").count()


def _closed(territory) -> int:
    return _handled(territory).filter(closed_at__isnull=False).count()


def _median_delay(territory) -> float:
    from datetime import timedelta
    from statistics import median

    delays = [
        (closed - sent) / timedelta(days=1)
        for sent, closed in _handled(territory)
        .filter(closed_at__isnull=False)
        .values_list("submitted_at", "closed_at")
        .iterator()
    ]
    return round(median(delays), 1) if delays else 0


def _volume_rows(metropole):
    """Requests per procedure, handling territory, month and channel: counts and median
    delay only, never a person's data (groups under 5 requests are withheld)."""
    from collections import defaultdict
    from datetime import timedelta
    from statistics import median

    from django.utils import timezone

    groups = defaultdict(list)
    rows = (
        _handled(metropole)
        .values_list(
            "form__slug", "form__title", "territory__code", "submitted_at", "channel", "closed_at"
        )
        .order_by()
        .iterator()
    )
    for slug, title, code, sent, channel, closed in rows:
        month = timezone.localtime(sent).strftime("%Y-%m")
        delay = (closed - sent) / timedelta(days=1) if closed else None
        groups[(slug, title, code, month, channel)].append(delay)
    for (slug, title, code, month, channel), delays in sorted(groups.items()):
        if len(delays) < 5:
            continue
        closed = [d for d in delays if d is not None]
        yield {
            "procedure": slug,
            "title": title,
            "territory_code": code,
            "month": month,
            "channel": channel,
            "requests": len(delays),
            "closed": len(closed),
            "median_delay_days": round(median(closed), 1) if closed else None,
        }


def _service_links(service):
    from .models import Form

    return [
        {
            "label": _("Start the procedure: %(title)s") % {"title": f.title},
            "url": reverse("procedures:form", kwargs={"slug": f.slug}),
        }
        # A procedure shared by the metropole serves every commune's service of that kind.
        for f in Form.objects.filter(
            metropole_id=service.metropole_id, service__slug=service.slug, published=True
        ).only("slug", "title")
    ]


def _export(user):
    from .models import Request

    return [
        {
            "code": r.code,
            "procedure": r.form.title,
            "status": r.status_label,
            "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
            "answers": r.data,
            "messages": [
                {"at": e.at.isoformat(), "text": e.text, "by_citizen": e.by_citizen}
                for e in r.events.all()
                if e.kind == "message"
            ],
        }
        for r in Request.objects.filter(user=user)
        .select_related("form__workflow")
        .prefetch_related("events")
    ]


def _erase(user):
    from .services import erase_person

    erase_person(user)


def _demo(metropole):
    from .demo import load_demo

    load_demo(metropole)


def _tick():
    """Requests whose wait has timed out move on; requests past their retention are anonymised."""
    from . import tasks

    tasks.wake_due_requests.enqueue()
    tasks.anonymise_expired.enqueue()


manifest = registry.register(
    ModuleManifest(
        label="procedures",
        name=_("Online procedures"),
        order=40,
        navigation=[
            NavEntry(_("Online procedures"), "procedures:index", NAV_PUBLIC, order=40),
            NavEntry(_("My requests"), "procedures:mine", NAV_ACCOUNT, order=40),
            NavEntry(
                _("Requests to handle"),
                "procedures:queue",
                NAV_ADMIN,
                "procedures.view_queue",
                per_territory=True,
                order=50,
            ),
            NavEntry(
                _("Procedures and workflows"),
                "procedures:forms",
                NAV_ADMIN,
                "procedures.manage_forms",
                per_territory=True,
                order=51,
            ),
        ],
        permissions=[
            "procedures.manage_forms",
            "procedures.view_queue",
            "procedures.enter_request",
            "procedures.view_request",
            "procedures.handle_request",
        ],
        periodic_jobs=[PeriodicJob("tick", 5 * 60, _tick)],
        statistics=[
            Statistic("procedure_requests", _("requests received"), _submitted),
            Statistic(
                "procedure_requests_online", _("requests received online"), _submitted_online
            ),
            Statistic("procedure_requests_closed", _("requests handled"), _closed),
            Statistic(
                "procedure_median_delay",
                _("median time to handle a request"),
                _median_delay,
                unit=_("days"),
            ),
        ],
        exports=[
            OpenDataExport(
                key="request_volumes",
                title=_("Online procedures: requests per month"),
                description=_(
                    "Number of requests per procedure, handling territory (INSEE/SIREN), month "
                    "and channel, with how many were handled and the median delay in days. "
                    "Anonymous: groups of fewer than 5 requests are left out."
                ),
                fields=(
                    "procedure",
                    "title",
                    "territory_code",
                    "month",
                    "channel",
                    "requests",
                    "closed",
                    "median_delay_days",
                ),
                rows=_volume_rows,
            )
        ],
        demo_data=_demo,
        export_personal_data=_export,
        erase_personal_data=_erase,
        api_router="metropole.procedures.api.router",
        api_prefix="procedures",
        urls="metropole.procedures.urls",
        url_prefix="demarches",
    )
)

try:
    from metropole.catalogue.hooks import register_service_links
except ImportError:  # the catalogue is optional
    pass
else:
    register_service_links(_service_links)
