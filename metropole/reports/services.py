"""Write paths of reports: submit, "me too", status changes, re-routing, reopening,
satisfaction. Transactional, permission-checked (rules.py) and audited."""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from metropole.catalogue.queries import holder_territory, service_for_competence
from metropole.core import queries as core_queries
from metropole.core.conf import setting
from metropole.core.exceptions import BadRequest, Conflict, NotFound, PermissionDenied
from metropole.core.geo import parse_coordinates
from metropole.core.rules import require_perm
from metropole.core.services import audit

from . import notify
from .models import (
    OPEN_STATUSES,
    AttributeType,
    Channel,
    CloseReason,
    Report,
    ReportAttribute,
    ReportCategory,
    Status,
    Supporter,
    Update,
)
from .photos import clean_photo

MAX_DESCRIPTION = 5000
MAX_ANSWER = 2000


def route(metropole, category: ReportCategory, lat, lon):
    """(commune containing the point, territory that handles it, its service) or
    BadRequest when the point is outside the metropole."""
    try:
        commune = core_queries.commune_at(metropole, lat, lon)
    except NotFound as error:
        raise BadRequest(
            _("Outside the metropole"),
            _(
                "This place is not in any commune of %(metropole)s, so no service of ours "
                "can act on it. Check the point on the map or the address."
            )
            % {"metropole": metropole.display_name},
            field="location",
        ) from error
    territory = holder_territory(category.competence, commune)
    return commune, territory, service_for_competence(territory, category.competence)


def clean_answers(category: ReportCategory, raw) -> dict:
    """Check the answers to a category's questions (`raw`: code -> str or list of str)
    and return them typed (number as int or float, lists as lists of keys).

    Every fault is reported at once, each naming its question (`attribute[code]`), as
    Open311 clients post it; a code the category does not ask is refused too."""
    raw = dict(raw or {})
    answers, errors = {}, []

    def fault(attribute_code: str, message: str):
        errors.append({"field": f"attribute[{attribute_code}]", "message": message})

    questions = list(category.attributes.all())
    known = {a.code for a in questions}
    for code in sorted(set(raw) - known):
        fault(
            code,
            _("“%(code)s” is not a question of the category “%(category)s”.")
            % {"code": code, "category": category.name},
        )
    for question in questions:
        value = raw.get(question.code)
        values = value if isinstance(value, (list, tuple)) else [value]
        values = [str(v).strip() for v in values if v is not None and str(v).strip()]
        named = {"question": question.label}
        if not values:
            if question.required:
                fault(question.code, _("Answer the question “%(question)s”.") % named)
            continue
        if question.datatype != AttributeType.MULTI and len(values) > 1:
            fault(question.code, _("Give one answer to “%(question)s”.") % named)
            continue
        if question.is_list:
            keys = {c["key"] for c in question.choices}
            wrong = [v for v in values if v not in keys]
            if wrong:
                fault(
                    question.code,
                    _("“%(value)s” is not one of the choices of “%(question)s” (%(keys)s).")
                    % {**named, "value": wrong[0], "keys": ", ".join(sorted(keys))},
                )
                continue
            answers[question.code] = (
                values if question.datatype == AttributeType.MULTI else values[0]
            )
        elif question.datatype == AttributeType.NUMBER:
            try:
                number = float(values[0].replace(",", ".").replace(" ", ""))
            except ValueError:
                number = None
            if number is None or number != number or number in (float("inf"), float("-inf")):
                fault(
                    question.code,
                    _("“%(question)s” is a number; got “%(value)s”.")
                    % {**named, "value": values[0][:40]},
                )
                continue
            answers[question.code] = int(number) if number.is_integer() else number
        else:
            if len(values[0]) > MAX_ANSWER:
                fault(
                    question.code,
                    _("Keep the answer to “%(question)s” under %(max)d characters.")
                    % {**named, "max": MAX_ANSWER},
                )
                continue
            answers[question.code] = values[0]
    if errors:
        raise BadRequest(
            _("Invalid answers"),
            " ".join(e["message"] for e in errors),
            field=errors[0]["field"],
            errors=errors,
        )
    return answers


def readable_answers(report: Report) -> list[tuple[str, str]]:
    """(question, answer) of a report, in the category's order, for agents."""
    rows = []
    for question in report.category.attributes.all():
        if question.code not in report.answers:
            continue
        value = report.answers[question.code]
        if question.is_list:
            keys = value if isinstance(value, list) else [value]
            value = ", ".join(question.choice_name(k) for k in keys)
        rows.append((question.label, str(value)))
    asked = {q.code for q in report.category.attributes.all()}
    # Answers to a question removed since (or asked by the previous category) stay visible.
    rows += [(code, str(v)) for code, v in report.answers.items() if code not in asked]
    return rows


@transaction.atomic
def submit_report(
    actor,
    metropole,
    *,
    category: ReportCategory,
    lat,
    lon,
    description: str,
    photo=None,
    address: str = "",
    channel: str = Channel.WEB,
    reporter_email: str = "",
    reporter_name: str = "",
    answers=None,
    location_approximate: bool = False,
    media_url: str = "",
) -> Report:
    """Record a report and route it to the territory and service responsible.

    `answers` (code -> value) are checked against the category's questions;
    `location_approximate` says the point stands for the commune, not the place."""
    if category is None or category.metropole_id != metropole.pk or not category.active:
        raise BadRequest(_("Missing category"), _("Choose what the problem is."), field="category")
    lat, lon = parse_coordinates(lat, lon)
    description = (description or "").strip()
    if not description:
        raise BadRequest(
            _("Missing description"),
            _("Describe the problem in a few words."),
            field="description",
        )
    if len(description) > MAX_DESCRIPTION:
        raise BadRequest(
            _("Description too long"),
            _("Keep the description under %(max)d characters.") % {"max": MAX_DESCRIPTION},
            field="description",
        )
    answers = clean_answers(category, answers)
    media_url = (media_url or "").strip()
    if media_url:
        from django.core.exceptions import ValidationError
        from django.core.validators import URLValidator

        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            raise BadRequest(
                _("Malformed media_url"),
                _("media_url must be an http or https address."),
                field="media_url",
            ) from None
        if len(media_url) > 500:
            raise BadRequest(
                _("media_url too long"),
                _("media_url must be under 500 characters."),
                field="media_url",
            )
    commune, territory, service = route(metropole, category, lat, lon)
    authenticated = actor is not None and actor.is_authenticated
    report = Report(
        metropole=metropole,
        territory=territory,
        commune=commune,
        service=service,
        category=category,
        lat=lat,
        lon=lon,
        address=(address or "").strip()[:300],
        location_approximate=bool(location_approximate),
        answers=answers,
        media_url=media_url,
        description=description,
        channel=channel,
        reporter=actor if authenticated else None,
        reporter_email=(reporter_email or "").strip() if not authenticated else "",
        reporter_name=(reporter_name or "").strip()[:200] if not authenticated else "",
    )
    if photo:
        report.photo = clean_photo(photo)
    report.save()
    Update.objects.create(report=report, author=report.reporter, status_after=Status.NEW)
    audit(
        actor,
        "reports.submitted",
        territory,
        report,
        category=category.slug,
        commune=commune.code,
        channel=channel,
        approximate=bool(location_approximate),
    )
    return report


@transaction.atomic
def correct_location(actor, report: Report, lat, lon, *, address: str | None = None) -> Report:
    """An agent puts the report's point where the problem really is (e.g. a report made
    without a map, placed at the town hall). The point must stay in the same commune:
    a point elsewhere is a re-routing, done on purpose with `reroute`."""
    # The report's row is locked, not its commune's (read for its name only, contour left out).
    report = (
        Report.objects.select_for_update(of=("self",))
        .select_related("commune")
        .defer("commune__geometry")
        .get(pk=report.pk)
    )
    require_perm(actor, "reports.handle_report", report.territory)
    lat, lon = parse_coordinates(lat, lon)
    try:
        commune = core_queries.commune_at(report.metropole, lat, lon)
    except NotFound:
        commune = None
    if commune is None or commune.pk != report.commune_id:
        raise BadRequest(
            _("Point outside the commune"),
            _(
                "The new point must be in %(commune)s, where the report was made. To send "
                "the report elsewhere, use “Send to another territory”."
            )
            % {"commune": report.commune.name},
            field="lat",
        )
    before = (report.lat, report.lon, report.location_approximate)
    report.lat, report.lon = lat, lon
    report.location_approximate = False
    if address is not None and address.strip():
        report.address = address.strip()[:300]
    report.save()
    Update.objects.create(
        report=report,
        author=actor,
        text=_("Position of the problem specified by the service."),
        public=True,
    )
    audit(
        actor,
        "reports.location_corrected",
        report.territory,
        report,
        before=[before[0], before[1]],
        after=[lat, lon],
        was_approximate=before[2],
    )
    return report


@transaction.atomic
def support(actor, report: Report) -> bool:
    """ "Me too": count `actor` as a supporter. False if they already were."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied(_("Log in first"), _("Log in to support a report."))
    if report.reporter_id == actor.pk:
        raise Conflict(_("Your own report"), _("You made this report: it already counts."))
    if not report.is_open:
        raise Conflict(_("Report closed"), _("This report is no longer open."))
    try:
        with transaction.atomic():
            Supporter.objects.create(report=report, user=actor)
    except IntegrityError:
        return False
    Report.objects.filter(pk=report.pk).update(supporter_count=F("supporter_count") + 1)
    report.refresh_from_db(fields=["supporter_count"])
    return True


ALLOWED = {
    Status.NEW: {
        Status.ACKNOWLEDGED,
        Status.IN_PROGRESS,
        Status.PLANNED,
        Status.FIXED,
        Status.CLOSED,
    },
    Status.ACKNOWLEDGED: {Status.IN_PROGRESS, Status.PLANNED, Status.FIXED, Status.CLOSED},
    Status.IN_PROGRESS: {Status.ACKNOWLEDGED, Status.PLANNED, Status.FIXED, Status.CLOSED},
    Status.PLANNED: {Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.FIXED, Status.CLOSED},
    Status.FIXED: {Status.CLOSED, Status.IN_PROGRESS},
    Status.CLOSED: {Status.ACKNOWLEDGED, Status.IN_PROGRESS},
}


@transaction.atomic
def change_status(
    actor,
    report: Report,
    status: str,
    *,
    text: str = "",
    public: bool = True,
    close_reason: str = "",
    duplicate_of: Report | None = None,
) -> Report:
    """Move a report through its lifecycle; only staff of the handling territory."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    require_perm(actor, "reports.handle_report", report.territory)
    if status not in Status.values:
        raise BadRequest(
            _("Unknown status"), _("%(s)r is not a status.") % {"s": status}, field="status"
        )
    if status != report.status and status not in ALLOWED[report.status]:
        raise Conflict(
            _("Status change not allowed"),
            _("A report “%(before)s” cannot become “%(after)s”.")
            % {"before": report.get_status_display(), "after": Status(status).label},
            field="status",
        )
    if status == Status.CLOSED:
        if close_reason not in CloseReason.values:
            raise BadRequest(
                _("Missing reason"),
                _(
                    "Say why the report is closed: not our responsibility, duplicate "
                    "or cannot be fixed."
                ),
                field="close_reason",
            )
        if close_reason == CloseReason.DUPLICATE:
            if duplicate_of is None or duplicate_of.pk == report.pk:
                raise BadRequest(
                    _("Missing original"),
                    _("Give the number of the report this one duplicates."),
                    field="duplicate_of",
                )
            report.duplicate_of = duplicate_of
    else:
        close_reason = ""
    before = report.status
    now = timezone.now()
    report.status = status
    report.close_reason = close_reason
    if status == Status.FIXED:
        report.fixed_at = now
    if status == Status.CLOSED:
        report.closed_at = now
    if status in OPEN_STATUSES:
        report.fixed_at = report.closed_at = None
    report.save()
    Update.objects.create(
        report=report,
        author=actor,
        status_before=before,
        status_after=status,
        text=(text or "").strip(),
        public=public,
    )
    audit(actor, "reports.status", report.territory, report, before=before, after=status)
    if public and status != before:
        notify.status_changed(report, (text or "").strip())
    return report


@transaction.atomic
def add_message(actor, report: Report, text: str, *, public: bool = True) -> Update:
    require_perm(actor, "reports.handle_report", report.territory)
    text = (text or "").strip()
    if not text:
        raise BadRequest(_("Empty message"), _("Write the message."), field="text")
    update = Update.objects.create(report=report, author=actor, text=text, public=public)
    audit(actor, "reports.message", report.territory, report, public=public)
    return update


@transaction.atomic
def recategorise(actor, report: Report, category: ReportCategory, *, text: str = "") -> Report:
    """Change the category; the report is routed again by the new category's competence."""
    require_perm(actor, "reports.handle_report", report.territory)
    if category.metropole_id != report.metropole_id:
        raise BadRequest(
            _("Unknown category"), _("Choose a category of this metropole."), field="category"
        )
    before_category, before_territory = report.category, report.territory
    report.category = category
    report.territory = holder_territory(category.competence, report.commune)
    report.service = service_for_competence(report.territory, category.competence)
    report.save()
    note = _("Category changed from “%(before)s” to “%(after)s”.") % {
        "before": before_category.name,
        "after": category.name,
    }
    if report.territory != before_territory:
        note += " " + _("Now handled by %(name)s.") % {"name": report.territory.display_name}
    Update.objects.create(report=report, author=actor, text=f"{note} {text}".strip(), public=True)
    audit(
        actor,
        "reports.recategorised",
        before_territory,
        report,
        before=before_category.slug,
        after=category.slug,
        now_handled_by=report.territory.code,
    )
    return report


@transaction.atomic
def reroute(actor, report: Report, territory, *, text: str = "") -> Report:
    """Send a report to another territory of the metropole (e.g. "not ours: the commune's")."""
    require_perm(actor, "reports.handle_report", report.territory)
    if territory.pk != report.metropole_id and territory.metropole_id != report.metropole_id:
        raise BadRequest(
            _("Outside the metropole"),
            _("A report can only be sent to the metropole or one of its communes."),
            field="territory",
        )
    before = report.territory
    report.territory = territory
    report.service = service_for_competence(territory, report.category.competence)
    report.save()
    note = _("Sent to %(name)s.") % {"name": territory.display_name}
    Update.objects.create(report=report, author=actor, text=f"{note} {text}".strip(), public=True)
    audit(actor, "reports.rerouted", before, report, to=territory.code)
    return report


def reopen_days() -> int:
    """How long after a fix or a closure the reporter may reopen the report."""
    return setting("METROPOLE_REPORTS_REOPEN_DAYS", 30)


def can_reopen(user, report: Report) -> bool:
    if user is None or not user.is_authenticated or report.reporter_id != user.pk:
        return False
    if report.status not in (Status.FIXED, Status.CLOSED):
        return False
    since = report.fixed_at if report.status == Status.FIXED else report.closed_at
    return since is not None and timezone.now() - since <= timedelta(days=reopen_days())


@transaction.atomic
def reopen(actor, report: Report, text: str = "") -> Report:
    """The reporter says the problem is still there, within the reopening window."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if actor is None or not actor.is_authenticated or report.reporter_id != actor.pk:
        raise PermissionDenied(
            _("Not your report"), _("Only the person who made the report can reopen it.")
        )
    if not can_reopen(actor, report):
        raise Conflict(
            _("Cannot reopen"),
            _("A report can be reopened within %(days)d days after it was fixed or closed.")
            % {"days": reopen_days()},
        )
    before = report.status
    report.status, report.close_reason = Status.NEW, ""
    report.fixed_at = report.closed_at = None
    report.satisfied = None
    report.save()
    Update.objects.create(
        report=report,
        author=actor,
        status_before=before,
        status_after=Status.NEW,
        text=(_("Reopened by the reporter.") + " " + (text or "").strip()).strip(),
    )
    audit(actor, "reports.reopened", report.territory, report)
    return report


@transaction.atomic
def answer_satisfaction(actor, report: Report, satisfied: bool, comment: str = "") -> Report:
    """The short question after a fix: is the reporter satisfied?"""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if actor is None or not actor.is_authenticated or report.reporter_id != actor.pk:
        raise PermissionDenied(
            _("Not your report"), _("Only the person who made the report can answer.")
        )
    if report.status != Status.FIXED:
        raise Conflict(_("Not fixed yet"), _("The question is asked once the problem is fixed."))
    report.satisfied = bool(satisfied)
    report.satisfaction_comment = (comment or "").strip()[:500]
    report.save(update_fields=["satisfied", "satisfaction_comment", "updated_at"])
    return report


# --- RGPD ---------------------------------------------------------------------------------


def export_personal_data(user) -> list[dict]:
    return [
        {
            "number": r.pk,
            "category": r.category.name,
            "commune": r.commune.name,
            "lat": r.lat,
            "lon": r.lon,
            "description": r.description,
            "answers": r.answers,
            "status": r.status,
            "created_at": r.created_at.isoformat(),
        }
        for r in Report.objects.filter(reporter=user).select_related("category", "commune")
    ] + [{"supported_report": s.report_id} for s in Supporter.objects.filter(user=user)]


@transaction.atomic
def erase_personal_data(user) -> None:
    """The reports stay (the problem is real and public); the link to the person goes."""
    Report.objects.filter(reporter=user).update(reporter=None, reporter_email="", reporter_name="")
    for support_ in Supporter.objects.filter(user=user):
        Report.objects.filter(pk=support_.report_id).update(
            supporter_count=F("supporter_count") - 1
        )
    Supporter.objects.filter(user=user).delete()


# --- categories (metropole administrators) -----------------------------------------------


def parse_choices(text: str) -> list[dict]:
    """One choice per line, "key: name" or just the name (its key is then the name
    slugified): the back-office's way of writing a list's values."""
    from django.utils.text import slugify

    choices, seen = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        key, sep, name = line.partition(":")
        key, name = (key.strip(), name.strip()) if sep and name.strip() else ("", line)
        key = slugify(key or name)[:60]
        if not key:
            raise BadRequest(
                _("Invalid choice"),
                _("Line %(n)d of the choices has no letter or digit.") % {"n": number},
                field="choices",
            )
        if key in seen:
            raise BadRequest(
                _("Duplicate choice"),
                _("Line %(n)d repeats the choice “%(key)s”.") % {"n": number, "key": key},
                field="choices",
            )
        seen.add(key)
        choices.append({"key": key, "name": name[:200]})
    return choices


@transaction.atomic
def save_attribute(
    actor, category: ReportCategory, *, attribute: ReportAttribute | None = None, **values
) -> ReportAttribute:
    """Create or change a question of a category (an Open311 attribute)."""
    from django.utils.text import slugify

    require_perm(actor, "reports.manage_categories", category.metropole)
    label = (values.get("label") or "").strip()
    if not label:
        raise BadRequest(_("Missing question"), _("Write the question."), field="label")
    datatype = values.get("datatype") or ""
    if datatype not in AttributeType.values:
        raise BadRequest(_("Unknown type"), _("Choose the type of answer."), field="datatype")
    choices = values.get("choices") or []
    if isinstance(choices, str):
        choices = parse_choices(choices)
    if datatype in (AttributeType.SINGLE, AttributeType.MULTI):
        if len(choices) < 2:
            raise BadRequest(
                _("Missing choices"),
                _("A list needs at least two choices, one per line."),
                field="choices",
            )
    else:
        choices = []
    created = attribute is None
    if created:
        code = slugify(values.get("code") or label)[:60] or "question"
        attribute = ReportAttribute(category=category, code=code)
        last = category.attributes.order_by("-order").first()
        attribute.order = (last.order + 1) if last else 1
    attribute.label = label[:200]
    attribute.help_text = (values.get("help_text") or "").strip()[:300]
    attribute.datatype = datatype
    attribute.required = bool(values.get("required"))
    if values.get("order"):
        attribute.order = int(values["order"])
    attribute.choices = choices
    try:
        with transaction.atomic():
            attribute.save()
    except IntegrityError:
        raise Conflict(
            _("Question already asked"),
            _("This category already has a question with the code “%(code)s”.")
            % {"code": attribute.code},
            field="label",
        ) from None
    audit(
        actor,
        "reports.attribute_created" if created else "reports.attribute_updated",
        category.metropole,
        category,
        code=attribute.code,
        datatype=datatype,
    )
    return attribute


@transaction.atomic
def delete_attribute(actor, attribute: ReportAttribute) -> None:
    """Remove a question; answers already given stay on the reports that have them."""
    category = attribute.category
    require_perm(actor, "reports.manage_categories", category.metropole)
    code = attribute.code
    attribute.delete()
    audit(actor, "reports.attribute_deleted", category.metropole, category, code=code)


@transaction.atomic
def save_category(actor, metropole, *, category: ReportCategory | None = None, **values):
    """Create or change a report category (also an Open311 service)."""
    from django.utils.text import slugify

    require_perm(actor, "reports.manage_categories", metropole)
    name = (values.get("name") or "").strip()
    if not name:
        raise BadRequest(_("Missing name"), _("Give the category a name."), field="name")
    competence = values.get("competence")
    if competence is None or competence.metropole_id != metropole.pk:
        raise BadRequest(
            _("Missing competence"),
            _("Choose the competence that decides who receives these reports."),
            field="competence",
        )
    created = category is None
    category = category or ReportCategory(metropole=metropole, slug=slugify(name)[:60])
    category.name = name
    category.group = (values.get("group") or "").strip()
    category.description = (values.get("description") or "").strip()
    category.competence = competence
    category.active = bool(values.get("active", True))
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        raise Conflict(
            _("Name already used"),
            _("A category already has the code “%(code)s”.") % {"code": category.slug},
            field="name",
        ) from None
    audit(
        actor,
        "reports.category_created" if created else "reports.category_updated",
        metropole,
        category,
        code=category.slug,
        competence=competence.code,
    )
    return category
