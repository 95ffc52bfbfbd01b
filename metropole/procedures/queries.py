"""Reads of the procedures module, scoped and without N+1."""

import statistics as stats
from datetime import UTC, datetime, timedelta

from django.db.models import Count, F, Q
from django.db.models.fields.tuple_lookups import Tuple, TupleLessThan
from django.shortcuts import get_object_or_404
from django.utils import timezone

from metropole.core.exceptions import BadRequest, NotFound
from metropole.core.queries import territories_administered_by

from .models import DRAFT, Form, Request


def published_forms(metropole, territory=None):
    """Procedures open to citizens; for a commune, its own and its metropole's/EPT's ones."""
    qs = Form.objects.filter(metropole=metropole, published=True).select_related(
        "territory", "service"
    )
    if territory is not None and not territory.is_metropole:
        qs = qs.filter(
            Q(territory=territory)
            | Q(territory_id__in=[territory.metropole_id, territory.parent_id])
        )
    return qs.order_by("title")


def published_form(metropole, slug: str) -> Form:
    form = (
        Form.objects.filter(metropole=metropole, slug=slug, published=True)
        .select_related("territory", "workflow", "service")
        .first()
    )
    if form is None:
        raise NotFound("Unknown procedure", f"No open procedure “{slug}”.")
    return form


def forms_managed(territory):
    return (
        Form.objects.filter(territory=territory)
        .select_related("workflow")
        .annotate(sent=Count("requests", filter=~Q(requests__status=DRAFT)))
    )


def request_by_code(code: str) -> Request:
    request = (
        Request.objects.select_related(
            "form__workflow", "territory", "commune", "team", "user", "assigned_to"
        )
        .filter(code=code.upper())
        .first()
    )
    if request is None:
        raise NotFound("Unknown request", f"No request has the tracking code “{code}”.")
    return request


def requests_of(user):
    """A person's requests (drafts included), newest first."""
    return (
        Request.objects.filter(user=user)
        .select_related("form__workflow", "territory")
        .order_by("-created_at", "-pk")
    )


def handled_territories(user):
    return territories_administered_by(user)


QUEUE_ORDER = ("-submitted_at", "-id")


def queue(
    territory,
    *,
    status="",
    form=None,
    commune=None,
    team=None,
    assigned=None,
    late=False,
    mine_user=None,
    search="",
):
    """The agent queue of a territory with its filters. Ordered by submission, newest first,
    on an index (territory, submitted_at, id): paging cost does not depend on the volume."""
    qs = Request.objects.filter(territory=territory).exclude(status=DRAFT)
    if status == "open":
        qs = qs.filter(closed_at__isnull=True)
    elif status == "closed":
        qs = qs.filter(closed_at__isnull=False)
    elif status and status != "all":
        qs = qs.filter(status=status)
    if form is not None:
        qs = qs.filter(form=form)
    if commune is not None:
        qs = qs.filter(commune=commune)
    if team is not None:
        qs = qs.filter(team=team)
    if assigned == "me" and mine_user is not None:
        qs = qs.filter(assigned_to=mine_user)
    elif assigned == "nobody":
        qs = qs.filter(assigned_to__isnull=True)
    if late:
        qs = qs.filter(closed_at__isnull=True, due_at__lt=timezone.now())
    if search:
        qs = (
            qs.filter(code__iexact=search.strip())
            if len(search.strip()) == 9
            else qs.filter(summary__icontains=search.strip())
        )
    # The answers (data) are not needed in a list: the summary is.
    return (
        qs.select_related("form__workflow", "commune", "team", "assigned_to")
        .defer("data")
        .order_by(*QUEUE_ORDER)
    )


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor(request) -> str:
    micros = (request.submitted_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{request.pk}"


def keyset_page(qs, after: str | None, size: int = 50):
    """One page of the queue after a cursor "<submitted_at in µs>_<id>" (keyset pagination:
    no OFFSET, no COUNT over the whole queue, so a page costs the same at any depth).
    Returns (rows, next_cursor)."""
    if after:
        try:
            micros, pk = (int(part) for part in after.split("_", 1))
        except ValueError:
            raise BadRequest(
                "Invalid cursor", "Use the `next` value of the previous page.", field="after"
            ) from None
        when = EPOCH + timedelta(microseconds=micros)
        # A row-value comparison, (submitted_at, id) < (when, pk): PostgreSQL and SQLite
        # start the index scan at the cursor (an OR of two conditions would scan from the top).
        qs = qs.filter(TupleLessThan(Tuple(F("submitted_at"), F("id")), (when, pk)))
    rows = list(qs[: size + 1])
    cursor = None
    if len(rows) > size:
        rows = rows[:size]
        cursor = _cursor(rows[-1])
    return rows, cursor


def form_statistics(territory, *, since=None) -> list[dict]:
    """Per form handled by the territory: volumes by channel, open, closed, late, and the
    median and 90th percentile of the delay from submission to closing (days)."""
    qs = Request.objects.filter(territory=territory).exclude(status=DRAFT)
    if since is not None:
        qs = qs.filter(submitted_at__gte=since)
    now = timezone.now()
    rows = {
        r["form_id"]: r
        for r in qs.values("form_id", "form__title").annotate(
            total=Count("id"),
            online=Count("id", filter=Q(channel="online")),
            other_channels=Count("id", filter=~Q(channel="online")),
            open=Count("id", filter=Q(closed_at__isnull=True)),
            late=Count("id", filter=Q(closed_at__isnull=True, due_at__lt=now)),
        )
    }
    delays: dict[int, list[float]] = {}
    for form_id, submitted, closed in qs.filter(closed_at__isnull=False).values_list(
        "form_id", "submitted_at", "closed_at"
    ):
        delays.setdefault(form_id, []).append((closed - submitted) / timedelta(days=1))
    result = []
    for form_id, row in rows.items():
        values = sorted(delays.get(form_id, []))
        result.append(
            {
                "form_id": form_id,
                "title": row["form__title"],
                "total": row["total"],
                "online": row["online"],
                "other_channels": row["other_channels"],
                "open": row["open"],
                "closed": len(values),
                "late": row["late"],
                "median_days": round(stats.median(values), 1) if values else None,
                "p90_days": round(_percentile(values, 0.9), 1) if values else None,
            }
        )
    return sorted(result, key=lambda r: -r["total"])


def _percentile(sorted_values: list[float], q: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    position = q * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def visible_events(request, *, for_agent: bool) -> list:
    """The history of a request (internal comments and actions for agents only), each event
    with the label of the status it led to."""
    events = request.events.select_related("actor")
    if not for_agent:
        events = events.filter(internal=False)
    workflow = request.form.workflow
    events = list(events)
    for event in events:
        label = workflow.status_label if for_agent else workflow.public_label
        event.to_label = label(event.to_status) if event.to_status else ""
    return events


def get_form_of(territory, form_id: int) -> Form:
    return get_object_or_404(
        Form.objects.select_related("workflow"), pk=form_id, territory=territory
    )
