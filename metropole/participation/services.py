"""Every write of participation: one function per use case, transactional,
permission-checked (rules.py, the same path as pages and API) and audited when sensitive.

Vote integrity is held by the database, not by Python checks alone:
- supports: the supporter's own row is locked (`select_for_update`) before the per-person
  limit is counted, so two concurrent supports by one person are serialised; the unique
  constraint (proposal, user) refuses a second support; the proposal's counter moves with
  an `F()` expression, so concurrent supports by different people never lose an update;
- ballots: one ballot per (budget, person) by a unique constraint; casting locks the ballot
  row; a paper code is locked, checked unused and spent in the ballot's transaction.
On SQLite, transactions start IMMEDIATE (settings), which serialises writers the same way.
"""

import io
import re
import secrets
from datetime import timedelta

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from metropole.core import queries as core_queries
from metropole.core.exceptions import (
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)
from metropole.core.models import Territory, User
from metropole.core.ratelimit import RateLimit
from metropole.core.rules import require_perm
from metropole.core.services import audit
from metropole.core.text import normalize_name

from .models import (
    BOOLEAN_SETTINGS,
    COMPONENT_SETTINGS,
    Action,
    Answer,
    Ballot,
    BallotLine,
    Block,
    Blueprint,
    BudgetArea,
    BudgetRule,
    Comment,
    CommentVersion,
    Component,
    ComponentKind,
    Debate,
    Declaration,
    Follow,
    Meeting,
    Phase,
    Process,
    Project,
    Proposal,
    ProposalStatus,
    ProposalVersion,
    Question,
    QuestionKind,
    Registration,
    Report,
    Result,
    ResultUpdate,
    Stance,
    Support,
    SurveyResponse,
    VotingCode,
)
from .rules import argument_refusal, edit_refusal, require_action

POSTING_LIMIT = RateLimit("participation-post", limit=10, window=60)
VOTING_LIMIT = RateLimit("participation-vote", limit=120, window=60)
REPORTS_TO_HIDE = 3
MAX_COMMENT_DEPTH = 4
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
DEFAULT_MAX_IMAGE_KB = 2048

# --- texts ------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value, field: str, *, max_length: int, required=True) -> str:
    """Trim and check a text typed by a person. Texts are stored as typed (HTML included)
    and escaped wherever shown: nothing is ever rendered raw."""
    text = _CONTROL.sub("", str(value or "")).strip()
    if required and not text:
        raise BadRequest(_("Missing text"), _("Write something in this field."), field=field)
    if len(text) > max_length:
        raise BadRequest(
            _("Text too long"),
            _("This field takes at most %(max)s characters; it has %(n)s.")
            % {"max": max_length, "n": len(text)},
            field=field,
        )
    return text


def _rate_limit(limit: RateLimit, user) -> None:
    identity = f"user:{user.pk}"
    if limit.is_exceeded(identity):
        raise TooManyRequests(
            _("Too many actions"),
            _("You did this too often in a short time. Try again in %(s)s seconds.")
            % {"s": limit.retry_after()},
            retry_after=limit.retry_after(),
        )
    limit.hit(identity)


def check_image(image: UploadedFile | None, max_kb: int = DEFAULT_MAX_IMAGE_KB) -> None:
    """Refuse files that are too big or not a JPEG, PNG or WebP image (content checked,
    not the name)."""
    if image is None:
        return
    if image.size > max_kb * 1024:
        raise BadRequest(
            _("Image too big"),
            _("The image weighs %(size)s kB; the limit is %(max)s kB.")
            % {"size": image.size // 1024, "max": max_kb},
            field="image",
        )
    from PIL import Image, UnidentifiedImageError

    try:
        image.seek(0)
        with Image.open(io.BytesIO(image.read())) as picture:
            kind = picture.format
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise BadRequest(
            _("Not an image"),
            _("The file is not a readable image. Send a JPEG, PNG or WebP picture."),
            field="image",
        ) from None
    if kind not in IMAGE_TYPES:
        raise BadRequest(
            _("Image type not accepted"),
            _("%(kind)s images are not accepted. Send a JPEG, PNG or WebP picture.")
            % {"kind": kind},
            field="image",
        )
    image.seek(0)


# --- processes and phases ----------------------------------------------------------------


def _blueprint(kind: str, start):
    """Phases (title, days, actions) and components (kind, title, phase index, settings)."""
    d = timedelta(days=1)
    if kind == Blueprint.CONSULTATION:
        phases = [
            (_("Information"), 7, []),
            (_("Consultation"), 30, [Action.ANSWER, Action.COMMENT]),
            (_("Results"), 90, []),
        ]
        components = [
            (ComponentKind.SURVEY, _("Questionnaire"), 1, {}),
            (ComponentKind.RESULTS, _("What comes out of it"), None, {}),
        ]
    elif kind == Blueprint.IDEA_BOX:
        phases = [
            (_("Ideas"), 30, [Action.PROPOSE, Action.COMMENT, Action.SUPPORT]),
            (_("Study of the ideas"), 30, [Action.COMMENT]),
            (_("Results"), 90, []),
        ]
        components = [
            (
                ComponentKind.PROPOSALS,
                _("Ideas"),
                None,
                {"support_limit": 10, "support_threshold": 50, "edit_minutes": 60},
            ),
            (ComponentKind.RESULTS, _("What comes out of it"), None, {}),
        ]
    elif kind == Blueprint.BUDGET:
        phases = [
            (_("Project proposals"), 30, [Action.PROPOSE, Action.COMMENT, Action.SUPPORT]),
            (_("Study by the services"), 30, [Action.COMMENT]),
            (_("Vote"), 21, [Action.VOTE]),
            (_("Results"), 180, []),
        ]
        components = [
            (
                ComponentKind.PROPOSALS,
                _("Project proposals"),
                None,
                {"support_limit": 5, "support_threshold": 20, "edit_minutes": 60},
            ),
            (ComponentKind.BUDGET, _("Vote for projects"), 2, {"residents_only": True}),
            (ComponentKind.RESULTS, _("Projects carried out"), None, {}),
        ]
    elif kind == Blueprint.MEETING:
        phases = [
            (_("Registration"), 21, [Action.REGISTER, Action.COMMENT]),
            (_("Minutes and follow-up"), 60, []),
        ]
        components = [
            (ComponentKind.MEETINGS, _("Meetings"), None, {}),
            (ComponentKind.DEBATES, _("Debates"), None, {"edit_minutes": 60}),
        ]
    else:
        raise BadRequest(
            _("Unknown kind of process"),
            _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(Blueprint.values)},
            field="blueprint",
        )
    built, at = [], start
    for title, days, actions in phases:
        built.append((title, at, at + days * d, [str(a) for a in actions]))
        at = at + days * d
    return built, components


def _unique_slug(title: str) -> str:
    base = slugify(title)[:60] or "processus"
    slug, n = base, 1
    while Process.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_process(
    actor,
    territory: Territory,
    *,
    title: str,
    blueprint: str,
    description: str = "",
    start=None,
    scope=(),
    image=None,
    is_demo=False,
) -> Process:
    """Create a process from a blueprint: its phases (one after the other from `start`)
    and its components, ready to use."""
    require_perm(actor, "participation.manage", territory)
    process = build_process(
        territory,
        title=title,
        blueprint=blueprint,
        description=description,
        start=start,
        scope=scope,
        image=image,
        created_by=actor,
        is_demo=is_demo,
    )
    audit(actor, "participation.process_created", territory, process, blueprint=blueprint)
    return process


def build_process(
    territory,
    *,
    title,
    blueprint,
    description="",
    start=None,
    scope=(),
    image=None,
    created_by=None,
    is_demo=False,
    slug=None,
) -> Process:
    """The process, its phases and components (no permission check: callers check)."""
    title = clean_text(title, "title", max_length=200)
    description = clean_text(description, "description", max_length=10000, required=False)
    check_image(image)
    start = start or timezone.now().replace(second=0, microsecond=0)
    phases, components = _blueprint(blueprint, start)
    process = Process.objects.create(
        territory=territory,
        metropole=territory.root if not territory.is_metropole else territory,
        slug=slug or _unique_slug(title),
        title=title,
        description=description,
        blueprint=blueprint,
        image=image or "",
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
        is_demo=is_demo,
    )
    if scope:
        process.scope.set(scope)
    created = [
        Phase.objects.create(process=process, title=t, start=s, end=e, actions=a)
        for t, s, e, a in phases
    ]
    for position, (kind, ctitle, phase_index, csettings) in enumerate(components):
        Component.objects.create(
            process=process,
            kind=kind,
            title=ctitle,
            phase=created[phase_index] if phase_index is not None else None,
            settings=csettings,
            position=position,
        )
    return process


def _check_phase(process: Process, start, end, actions, exclude=None) -> list[str]:
    if start is None or end is None or end <= start:
        raise BadRequest(_("Wrong dates"), _("A phase must end after it starts."), field="end")
    unknown = set(actions) - set(Action.values)
    if unknown:
        raise BadRequest(
            _("Unknown action"),
            _("Unknown actions: %(a)s.") % {"a": ", ".join(sorted(unknown))},
            field="actions",
        )
    others = process.phases.exclude(pk=exclude.pk if exclude else None)
    clash = others.filter(start__lt=end, end__gt=start).first()
    if clash is not None:
        raise Conflict(
            _("Phases overlap"),
            _("This phase overlaps the phase “%(title)s” (%(start)s – %(end)s).")
            % {
                "title": clash.title,
                "start": timezone.localtime(clash.start).strftime("%d/%m/%Y %H:%M"),
                "end": timezone.localtime(clash.end).strftime("%d/%m/%Y %H:%M"),
            },
            field="start",
        )
    return [str(a) for a in actions]


@transaction.atomic
def add_phase(actor, process: Process, *, title, start, end, actions=()) -> Phase:
    """Add a phase; refused when it overlaps another (checked with the process locked, so
    two agents adding phases at once cannot both slip in)."""
    require_perm(actor, "participation.manage", process.territory)
    Process.objects.select_for_update().get(pk=process.pk)
    title = clean_text(title, "title", max_length=200)
    actions = _check_phase(process, start, end, actions)
    phase = Phase.objects.create(
        process=process, title=title, start=start, end=end, actions=actions
    )
    audit(actor, "participation.phase_added", process.territory, phase)
    return phase


@transaction.atomic
def update_phase(actor, phase: Phase, *, title, start, end, actions) -> Phase:
    process = phase.process
    require_perm(actor, "participation.manage", process.territory)
    Process.objects.select_for_update().get(pk=process.pk)
    phase.title = clean_text(title, "title", max_length=200)
    phase.actions = _check_phase(process, start, end, actions, exclude=phase)
    phase.start, phase.end = start, end
    phase.save()
    audit(actor, "participation.phase_changed", process.territory, phase)
    return phase


def clean_settings(kind: str, values: dict) -> dict:
    """Check settings given to a component of `kind` (COMPONENT_SETTINGS): booleans for
    the yes/no ones, whole numbers of 0 or more for the others. Every fault is named."""
    allowed = COMPONENT_SETTINGS.get(kind, ())
    cleaned, errors = {}, []
    for key, value in values.items():
        if key not in allowed:
            errors.append(
                {
                    "field": key,
                    "detail": _("This setting does not exist for this kind of tool. Known: %(k)s.")
                    % {"k": ", ".join(allowed) or "—"},
                }
            )
            continue
        if key in BOOLEAN_SETTINGS:
            if not isinstance(value, bool | int) and str(value).lower() not in (
                "true",
                "false",
                "on",
                "1",
                "0",
                "",
            ):
                errors.append({"field": key, "detail": _("Give yes or no.")})
                continue
            cleaned[key] = (
                value
                if isinstance(value, bool)
                else str(value).lower()
                in (
                    "true",
                    "on",
                    "1",
                )
            )
            continue
        try:
            number = int(value)
            if isinstance(value, float) and value != number:
                raise ValueError
        except (TypeError, ValueError):
            errors.append({"field": key, "detail": _("Give a whole number.")})
            continue
        if number < 0:
            errors.append({"field": key, "detail": _("Give 0 or more.")})
            continue
        cleaned[key] = number
    if errors:
        raise BadRequest(
            _("Wrong settings"),
            " ".join(f"{e['field']}: {e['detail']}" for e in errors),
            field=errors[0]["field"],
            errors=errors,
        )
    return cleaned


@transaction.atomic
def update_component_settings(actor, component: Component, **values) -> Component:
    """Change some rules of a component (the others are kept)."""
    require_perm(actor, "participation.manage", component.process.territory)
    component.settings = {**component.settings, **clean_settings(component.kind, values)}
    component.save(update_fields=["settings"])
    audit(actor, "participation.settings_changed", component.process.territory, component)
    return component


# --- components added by hand ---------------------------------------------------------------


def _phase_of(process: Process, phase) -> Phase | None:
    """A phase of `process` given as a Phase, an id or None ("the process's phases")."""
    if phase in (None, ""):
        return None
    phase_id = phase.pk if isinstance(phase, Phase) else phase
    found = (
        Phase.objects.filter(process=process, pk=phase_id).first()
        if str(phase_id).isdigit()
        else None
    )
    if found is None:
        raise BadRequest(
            _("Unknown phase"), _("Choose one of the phases of this process."), field="phase"
        )
    return found


def _renumber(process: Process, ordered: list[Component]) -> None:
    for position, component in enumerate(ordered):
        if component.position != position:
            component.position = position
            component.save(update_fields=["position"])


@transaction.atomic
def add_component(
    actor, process: Process, *, kind: str, title: str, phase=None, settings=None
) -> Component:
    """Add a tool to a process by hand (after its blueprint's), at the end of the list;
    `phase` (optional) is the only phase that opens it."""
    require_perm(actor, "participation.manage", process.territory)
    Process.objects.select_for_update().get(pk=process.pk)
    if kind not in ComponentKind.values:
        raise BadRequest(
            _("Unknown kind of tool"),
            _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(ComponentKind.values)},
            field="kind",
        )
    title = clean_text(title, "title", max_length=200)
    phase = _phase_of(process, phase)
    cleaned = clean_settings(kind, settings or {})
    last = Component.objects.filter(process=process).order_by("-position").first()
    component = Component.objects.create(
        process=process,
        kind=kind,
        title=title,
        phase=phase,
        settings=cleaned,
        position=(last.position + 1) if last else 0,
    )
    audit(actor, "participation.component_added", process.territory, component, kind=kind)
    return component


_UNCHANGED = object()


@transaction.atomic
def update_component(
    actor, component: Component, *, title=None, phase=_UNCHANGED, settings=None
) -> Component:
    """Rename a tool, tie it to a phase (or to the process's phases: `phase=None`), change
    some of its rules."""
    process = component.process
    require_perm(actor, "participation.manage", process.territory)
    component = Component.objects.select_for_update().get(pk=component.pk)
    if title is not None:
        component.title = clean_text(title, "title", max_length=200)
    if phase is not _UNCHANGED:
        component.phase = _phase_of(process, phase)
    if settings:
        component.settings = {**component.settings, **clean_settings(component.kind, settings)}
    component.save(update_fields=["title", "phase", "settings"])
    audit(actor, "participation.component_changed", process.territory, component)
    return component


@transaction.atomic
def move_component(actor, component: Component, position: int) -> Component:
    """Put a tool at `position` (0 = first) in its process's list; the others follow."""
    process = component.process
    require_perm(actor, "participation.manage", process.territory)
    Process.objects.select_for_update().get(pk=process.pk)
    ordered = list(Component.objects.filter(process=process).order_by("position", "pk"))
    try:
        position = int(position)
    except (TypeError, ValueError):
        raise BadRequest(_("Wrong position"), _("Give a whole number."), field="position") from None
    if not 0 <= position < len(ordered):
        raise BadRequest(
            _("Wrong position"),
            _("Give a position from 0 to %(n)s.") % {"n": len(ordered) - 1},
            field="position",
        )
    moving = next(c for c in ordered if c.pk == component.pk)
    ordered.remove(moving)
    ordered.insert(position, moving)
    _renumber(process, ordered)
    audit(actor, "participation.component_moved", process.territory, moving, position=position)
    return moving


def component_contributions(component: Component) -> int:
    """What participants put in a tool (proposals, survey responses, ballots, meeting
    registrations, debate arguments): a tool holding any cannot be removed."""
    return (
        Proposal.objects.filter(component=component).count()
        + SurveyResponse.objects.filter(component=component).count()
        + Ballot.objects.filter(component=component).count()
        + Registration.objects.filter(meeting__component=component).count()
        + Comment.objects.filter(debate__component=component).count()
    )


@transaction.atomic
def remove_component(actor, component: Component) -> None:
    """Remove a tool and its set-up (questions, areas and projects, meetings, debates,
    results). Refused when participants already put something in it: nothing they gave is
    ever deleted by a change of set-up."""
    process = component.process
    require_perm(actor, "participation.manage", process.territory)
    Process.objects.select_for_update().get(pk=process.pk)
    held = component_contributions(component)
    if held:
        raise Conflict(
            _("Tool in use"),
            _(
                "“%(title)s” already holds %(n)s contributions of participants: it cannot be "
                "removed. Close it instead by changing the dates of its phase."
            )
            % {"title": component.title, "n": held},
        )
    if VotingCode.objects.filter(component=component, used_at__isnull=False).exists():
        raise Conflict(_("Tool in use"), _("Paper voting codes of this budget were used."))
    audit(
        actor,
        "participation.component_removed",
        process.territory,
        component,
        kind=component.kind,
        title=component.title,
    )
    component.delete()
    _renumber(process, list(Component.objects.filter(process=process).order_by("position", "pk")))


# --- eligibility ---------------------------------------------------------------------------


@transaction.atomic
def declare(user, *, postal_code: str, birth_year, commune_code: str | None = None) -> Declaration:
    """Record a person's commune (from a postal code of the metropole) and year of birth,
    reused by every process (a person declares once)."""
    if not user.is_authenticated:
        raise PermissionDenied(_("Log in first"), _("Log in to declare your commune."))
    metropole = core_queries.current_metropole()
    communes = list(core_queries.communes_by_postal_code(metropole, postal_code))
    if commune_code:
        communes = [c for c in communes if c.code == commune_code]
        if not communes:
            raise BadRequest(
                _("Commune and postal code do not match"),
                _("This commune does not have the postal code %(code)s.") % {"code": postal_code},
                field="commune",
            )
    if len(communes) > 1:
        raise BadRequest(
            _("Several communes"),
            _("Several communes share the postal code %(code)s: choose yours.")
            % {"code": postal_code},
            field="commune",
        )
    try:
        year = int(birth_year)
    except (TypeError, ValueError):
        raise BadRequest(
            _("Wrong year"), _("Give your year of birth, e.g. 1980."), field="birth_year"
        ) from None
    this_year = timezone.localdate().year
    if not 1900 <= year <= this_year:
        raise BadRequest(
            _("Wrong year"),
            _("The year of birth must be between 1900 and %(y)s.") % {"y": this_year},
            field="birth_year",
        )
    current = Declaration.objects.select_for_update().filter(user=user).first()
    if (
        current is not None
        and current.is_verified
        and (current.postal_code, current.commune_id, current.birth_year)
        == (postal_code.strip(), communes[0].pk, year)
    ):
        return current  # the same as FranceConnect said: it stays verified
    declaration, _created = Declaration.objects.update_or_create(
        user=user,
        defaults={
            "postal_code": postal_code.strip(),
            "commune": communes[0],
            "birth_year": year,
            "source": Declaration.DECLARED,
            "verified_at": None,
            "declared_at": timezone.now(),
        },
    )
    user.__dict__.pop("_participation_declaration", None)
    return declaration


_POSTAL_CODE = re.compile(r"(?<!\d)(\d{5})(?!\d)")


def _claimed_postal_code(address) -> tuple[str, str]:
    """(postal code, locality) of an OpenID Connect `address` claim: a JSON object with
    `postal_code` / `locality` (the standard's shape), or a formatted string."""
    if isinstance(address, dict):
        code = str(address.get("postal_code") or "").strip()
        locality = str(address.get("locality") or "")
        if not code:
            found = _POSTAL_CODE.search(str(address.get("formatted") or ""))
            code = found.group(1) if found else ""
        return code, locality
    if isinstance(address, str):
        found = _POSTAL_CODE.search(address)
        return (found.group(1) if found else ""), address
    return "", ""


@transaction.atomic
def record_verified_residence(user, provider: str, claims: dict) -> Declaration | None:
    """Residence (and birth year) given by FranceConnect at log-in, recorded as a verified
    declaration that every process then reuses. The `address` claim's postal code gives the
    commune (its `locality` chooses when several communes share the code); `birthdate`
    (YYYY-MM-DD) gives the birth year. An address outside the metropole removes an earlier
    verified residence (it is out of date); a residence the person typed is kept. Claims
    that say nothing usable change nothing."""
    from metropole.core.conf import setting

    providers = setting("PARTICIPATION_RESIDENCE_PROVIDERS", "franceconnect")
    if isinstance(providers, str):
        providers = [p.strip() for p in providers.split(",")]
    if provider not in providers:
        return None
    code, locality = _claimed_postal_code(claims.get("address"))
    year = None
    birthdate = str(claims.get("birthdate") or "")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", birthdate):
        year = int(birthdate[:4])
        if not 1900 <= year <= timezone.localdate().year:
            year = None
    current = Declaration.objects.select_for_update().filter(user=user).first()
    user.__dict__.pop("_participation_declaration", None)
    if not code:
        if current is not None and current.is_verified and year is not None:
            current.birth_year = year
            current.verified_at = timezone.now()
            current.save(update_fields=["birth_year", "verified_at"])
        return current
    try:
        metropole = core_queries.current_metropole()
        communes = list(core_queries.communes_by_postal_code(metropole, code))
    except (BadRequest, NotFound):
        communes = []
    if len(communes) > 1:
        wanted = normalize_name(locality)
        communes = [c for c in communes if wanted and c.search_name in wanted] or communes
    if len(communes) != 1:
        if not communes and current is not None and current.is_verified:
            audit(user, "participation.residence_outside", None, current, provider=provider)
            current.delete()
            return None
        return current  # ambiguous: the person declares it themself
    now = timezone.now()
    declaration, _created = Declaration.objects.update_or_create(
        user=user,
        defaults={
            "postal_code": code,
            "commune": communes[0],
            "birth_year": year if year is not None else (current.birth_year if current else None),
            "source": Declaration.FRANCECONNECT,
            "verified_at": now,
            "declared_at": now,
        },
    )
    audit(
        user,
        "participation.residence_verified",
        communes[0],
        declaration,
        provider=provider,
        commune=communes[0].code,
    )
    return declaration


# --- proposals ---------------------------------------------------------------------------


@transaction.atomic
def create_proposal(
    user, component: Component, *, title, body, latitude=None, longitude=None, image=None
) -> Proposal:
    require_action(user, component, Action.PROPOSE)
    title = clean_text(title, "title", max_length=150)
    body = clean_text(body, "body", max_length=5000)
    check_image(image, component.setting("max_image_kb", DEFAULT_MAX_IMAGE_KB))
    commune = None
    if latitude not in (None, "") or longitude not in (None, ""):
        if latitude in (None, "") or longitude in (None, ""):
            raise BadRequest(
                _("Incomplete location"),
                _("Give both latitude and longitude, or neither."),
                field="latitude",
            )
        try:
            commune = core_queries.commune_at(component.process.metropole, latitude, longitude)
        except (BadRequest, NotFound) as error:
            raise BadRequest(error.title, error.detail, field="latitude") from None
        latitude, longitude = float(latitude), float(longitude)
    else:
        latitude = longitude = None
    _rate_limit(POSTING_LIMIT, user)
    proposal = Proposal.objects.create(
        component=component,
        author=user,
        title=title,
        body=body,
        latitude=latitude,
        longitude=longitude,
        commune=commune,
        image=image or "",
    )
    Follow.objects.create(proposal=proposal, user=user)
    _after_commit_embed(proposal)
    return proposal


def _after_commit_embed(proposal: Proposal) -> None:
    from . import tasks

    transaction.on_commit(lambda: tasks.enqueue_embedding(proposal.pk))


@transaction.atomic
def edit_proposal(user, proposal: Proposal, *, title, body) -> Proposal:
    """The author edits within the component's edit window; the previous text is kept."""
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if not user.is_authenticated or proposal.author_id != user.pk:
        raise PermissionDenied(_("Not allowed"), _("Only the author can edit a proposal."))
    minutes = proposal.component.setting("edit_minutes", 60)
    if timezone.now() - proposal.created_at > timedelta(minutes=minutes):
        raise PermissionDenied(
            _("Too late to edit"),
            _("A proposal can be edited during %(m)s minutes after it is published.")
            % {"m": minutes},
        )
    if proposal.support_count:
        raise Conflict(
            _("Already supported"), _("A proposal that people supported cannot be changed.")
        )
    ProposalVersion.objects.create(
        proposal=proposal, title=proposal.title, body=proposal.body, edited_by=user
    )
    proposal.title = clean_text(title, "title", max_length=150)
    proposal.body = clean_text(body, "body", max_length=5000)
    proposal.updated_at = timezone.now()
    proposal.embedding = None
    proposal.save()
    _after_commit_embed(proposal)
    return proposal


def _visible_proposal(proposal: Proposal) -> None:
    if proposal.is_hidden:
        raise NotFound(_("Hidden proposal"), _("This proposal is hidden by moderation."))
    if proposal.merged_into_id:
        raise Conflict(
            _("Merged proposal"),
            _("This proposal was merged into proposal no. %(id)s: take part there.")
            % {"id": proposal.merged_into_id},
        )


def _lock_proposal(proposal: Proposal, *, hidden_ok=False) -> Proposal:
    """Lock a proposal's row and check it still takes part (not hidden, not merged).
    Every write on a proposal's supports or comments takes this lock before touching
    them, and a merge takes it on every proposal it merges: so a support, a withdrawal or
    a comment is either done before the merge (and moved with it) or refused after it —
    never left behind on a merged proposal, never counted twice."""
    locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if hidden_ok:
        locked.is_hidden = False  # withdrawing a support from hidden content is allowed
    _visible_proposal(locked)
    return locked


def _reply_depth(parent: Comment | None, *, proposal=None, debate=None) -> int:
    if parent is None:
        return 0
    if (proposal is not None and parent.proposal_id != proposal.pk) or (
        debate is not None and parent.debate_id != debate.pk
    ):
        raise BadRequest(
            _("Wrong reply"), _("This comment belongs to another discussion."), field="parent"
        )
    return min(parent.depth + 1, MAX_COMMENT_DEPTH)


@transaction.atomic
def add_comment(user, proposal: Proposal, *, body, parent: Comment | None = None) -> Comment:
    require_action(user, proposal.component, Action.COMMENT)
    _visible_proposal(proposal)
    body = clean_text(body, "body", max_length=3000)
    depth = _reply_depth(parent, proposal=proposal)
    _lock_proposal(proposal)
    _rate_limit(POSTING_LIMIT, user)
    comment = Comment.objects.create(
        proposal=proposal, parent=parent, author=user, body=body, depth=depth
    )
    Proposal.objects.filter(pk=proposal.pk).update(comment_count=F("comment_count") + 1)
    _notify_followers(
        proposal,
        _("New comment on “%(title)s”") % {"title": proposal.title},
        body[:500],
        exclude=user,
    )
    return comment


@transaction.atomic
def edit_comment(user, comment: Comment, *, body) -> Comment:
    """The author changes a comment (or an argument) within the component's edit window;
    the previous text is kept in its history, as for proposals."""
    comment = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("proposal__component__process__territory", "debate__component__process")
        .get(pk=comment.pk)
    )
    reason = edit_refusal(user, comment)
    if reason is not None:
        raise PermissionDenied(_("Not allowed"), reason)
    body = clean_text(body, "body", max_length=3000)
    if body == comment.body:
        return comment
    _rate_limit(POSTING_LIMIT, user)
    CommentVersion.objects.create(comment=comment, body=comment.body, edited_by=user)
    comment.body = body
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    return comment


# --- debates ------------------------------------------------------------------------------------


def _debate_dates(start, end):
    if start is None or end is None or end <= start:
        raise BadRequest(_("Wrong dates"), _("A debate must close after it opens."), field="end")


def _debate_meeting(component: Component, meeting):
    if meeting in (None, ""):
        return None
    meeting_id = meeting.pk if isinstance(meeting, Meeting) else meeting
    found = (
        Meeting.objects.filter(component__process=component.process, pk=meeting_id).first()
        if str(meeting_id).isdigit()
        else None
    )
    if found is None:
        raise BadRequest(
            _("Unknown meeting"), _("Choose a meeting of this process."), field="meeting"
        )
    return found


@transaction.atomic
def add_debate(
    actor, component: Component, *, title, start, end, description="", meeting=None, is_demo=False
) -> Debate:
    """Put a question to debate between two dates, optionally tied to a meeting of the
    process."""
    require_perm(actor, "participation.manage", component.process.territory)
    if component.kind != ComponentKind.DEBATES:
        raise BadRequest(_("Not a debate list"), _("Debates belong to debate components."))
    _debate_dates(start, end)
    debate = Debate.objects.create(
        component=component,
        title=clean_text(title, "title", max_length=300),
        description=clean_text(description, "description", max_length=10000, required=False),
        start=start,
        end=end,
        meeting=_debate_meeting(component, meeting),
        is_demo=is_demo,
    )
    audit(actor, "participation.debate_added", component.process.territory, debate)
    return debate


@transaction.atomic
def add_argument(
    user, debate: Debate, *, body, stance: str = "", parent: Comment | None = None
) -> Comment:
    """An argument in a debate (for, against or neutral) or a reply to one (no stance)."""
    debate = Debate.objects.select_related("component__process").get(pk=debate.pk)
    reason = argument_refusal(user, debate)
    if reason is not None:
        raise PermissionDenied(_("Not allowed"), reason)
    body = clean_text(body, "body", max_length=3000)
    if parent is None and stance not in Stance.values:
        raise BadRequest(
            _("Choose a side"),
            _("Say whether your argument is for, against, or neither."),
            field="stance",
        )
    depth = _reply_depth(parent, debate=debate)
    _rate_limit(POSTING_LIMIT, user)
    return Comment.objects.create(
        debate=debate,
        parent=parent,
        author=user,
        body=body,
        depth=depth,
        stance=stance if parent is None else "",
    )


@transaction.atomic
def conclude_debate(actor, debate: Debate, conclusion: str) -> Debate:
    """The territory closes a debate with its conclusion (it can be rewritten later);
    arguments are closed from then on and the people who took part are e-mailed."""
    territory = debate.component.process.territory
    require_perm(actor, "participation.manage", territory)
    debate = Debate.objects.select_for_update().get(pk=debate.pk)
    first_time = debate.concluded_at is None
    debate.conclusion = clean_text(conclusion, "conclusion", max_length=10000)
    debate.concluded_at = debate.concluded_at or timezone.now()
    debate.concluded_by = actor
    debate.save(update_fields=["conclusion", "concluded_at", "concluded_by"])
    audit(actor, "participation.debate_concluded", territory, debate)
    if first_time:
        from metropole.core.tasks import send_email

        emails = list(
            User.objects.filter(
                pk__in=Comment.objects.filter(debate=debate).values("author"), is_active=True
            )
            .exclude(pk=actor.pk)
            .exclude(email_verified_at__isnull=True)
            .values_list("email", flat=True)
        )
        subject = _("Conclusion of the debate “%(title)s”") % {"title": debate.title[:100]}
        for email in emails:
            transaction.on_commit(
                lambda e=email: send_email.enqueue([e], subject, debate.conclusion)
            )
    return debate


@transaction.atomic
def support(user, proposal: Proposal) -> Support:
    """Support a proposal, within the per-person limit of its component."""
    component = proposal.component
    require_action(user, component, Action.SUPPORT)
    _visible_proposal(proposal)
    _rate_limit(VOTING_LIMIT, user)
    # Serialise this person's supports: the limit is counted with their row locked. Then
    # the proposal's row (always in this order: person, then proposal). NO KEY UPDATE: rows
    # that merely point to the person (a comment, a follow written meanwhile) do not wait
    # for it, so they cannot close a cycle with a proposal's lock.
    User.objects.select_for_update(no_key=True).only("pk").get(pk=user.pk)
    _lock_proposal(proposal)
    if Support.objects.filter(proposal=proposal, user=user).exists():
        raise Conflict(_("Already supported"), _("You already support this proposal."))
    limit = component.setting("support_limit", 0)
    if limit and Support.objects.filter(component=component, user=user).count() >= limit:
        raise Conflict(
            _("No supports left"),
            _(
                "You can support at most %(n)s proposals here. Withdraw a support to give it to "
                "another proposal."
            )
            % {"n": limit},
        )
    try:
        with transaction.atomic():
            created = Support.objects.create(proposal=proposal, component=component, user=user)
    except IntegrityError:
        raise Conflict(_("Already supported"), _("You already support this proposal.")) from None
    Proposal.objects.filter(pk=proposal.pk).update(support_count=F("support_count") + 1)
    return created


@transaction.atomic
def withdraw_support(user, proposal: Proposal) -> None:
    require_action(user, proposal.component, Action.SUPPORT)
    _lock_proposal(proposal, hidden_ok=True)
    deleted, _detail = Support.objects.filter(proposal=proposal, user=user).delete()
    if not deleted:
        raise NotFound(_("No support"), _("You do not support this proposal."))
    Proposal.objects.filter(pk=proposal.pk).update(support_count=F("support_count") - 1)


@transaction.atomic
def follow(user, proposal: Proposal, on: bool = True) -> None:
    if not user.is_authenticated:
        raise PermissionDenied(_("Log in first"), _("Log in to follow a proposal."))
    if on:
        Follow.objects.get_or_create(proposal=proposal, user=user)
    else:
        Follow.objects.filter(proposal=proposal, user=user).delete()


@transaction.atomic
def answer_proposal(actor, proposal: Proposal, *, status: str, answer: str) -> Proposal:
    """The territory's official answer: a status and a text; followers are told."""
    require_perm(actor, "participation.manage", proposal.component.process.territory)
    if status not in ProposalStatus.values or status in (
        ProposalStatus.WITHDRAWN,
        ProposalStatus.MERGED,
    ):
        raise BadRequest(_("Unknown status"), status, field="status")
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    proposal.status = status
    proposal.answer = clean_text(answer, "answer", max_length=5000)
    proposal.answered_at = timezone.now()
    proposal.save(update_fields=["status", "answer", "answered_at"])
    audit(
        actor,
        "participation.proposal_answered",
        proposal.component.process.territory,
        proposal,
        status=status,
    )
    _notify_followers(
        proposal,
        _("Answer to “%(title)s”: %(status)s")
        % {"title": proposal.title, "status": proposal.get_status_display()},
        proposal.answer,
        exclude=actor,
    )
    return proposal


@transaction.atomic
def merge_proposals(actor, target: Proposal, others, *, note: str = "") -> Proposal:
    """Merge proposals of one component into `target` (an agent acting on a group of
    similar proposals). Supports move to the target, one per person: a person who supported
    several of them — or the target — keeps one support (the unique constraint (proposal,
    person) holds it). Followers and comments move too; each merged proposal is marked
    "merged into" the target and leaves the lists; their authors and followers are told.

    Every proposal concerned is locked first (in id order, so two merges cannot deadlock),
    and a support arriving on a merged proposal meanwhile is refused (see `support`)."""
    territory = target.component.process.territory
    require_perm(actor, "participation.manage", territory)
    try:
        ids = sorted({int(getattr(p, "pk", p)) for p in others} - {target.pk})
    except (TypeError, ValueError):
        raise BadRequest(
            _("Unknown proposal"), _("Give proposal numbers."), field="proposal_ids"
        ) from None
    if not ids:
        raise BadRequest(
            _("Nothing to merge"),
            _("Choose at least one other proposal to merge into this one."),
            field="proposal_ids",
        )
    note = clean_text(note, "note", max_length=2000, required=False)
    locked = {
        p.pk: p
        for p in Proposal.objects.select_for_update()
        .filter(pk__in=[target.pk, *ids])
        .order_by("pk")
    }
    target = locked.get(target.pk)
    missing = [i for i in ids if i not in locked]
    if target is None or missing:
        raise NotFound(
            _("Unknown proposal"),
            _("No proposal has the number %(id)s.") % {"id": (missing or [target])[0]},
        )
    merged = [locked[i] for i in ids]
    errors = []
    for proposal in [target, *merged]:
        if proposal.component_id != target.component_id:
            errors.append(
                {
                    "field": "proposal_ids",
                    "detail": _("Proposal no. %(id)s belongs to another list of proposals.")
                    % {"id": proposal.pk},
                }
            )
        elif proposal.merged_into_id:
            errors.append(
                {
                    "field": "proposal_ids",
                    "detail": _("Proposal no. %(id)s is already merged into no. %(into)s.")
                    % {"id": proposal.pk, "into": proposal.merged_into_id},
                }
            )
    if errors:
        raise BadRequest(_("Cannot merge"), " ".join(e["detail"] for e in errors), errors=errors)
    # Supports: for each person, the oldest of their supports on the merged proposals
    # moves to the target unless they already support it; the others are removed.
    already = set(Support.objects.filter(proposal=target).values_list("user_id", flat=True))
    moving, dropping = [], []
    for support_id, user_id in (
        Support.objects.filter(proposal__in=merged)
        .order_by("created_at", "pk")
        .values_list("pk", "user_id")
    ):
        if user_id in already:
            dropping.append(support_id)
        else:
            already.add(user_id)
            moving.append(support_id)
    Support.objects.filter(pk__in=dropping).delete()
    Support.objects.filter(pk__in=moving).update(proposal=target)
    # Followers: the same, one follow per person.
    following = set(Follow.objects.filter(proposal=target).values_list("user_id", flat=True))
    for follow_id, user_id in Follow.objects.filter(proposal__in=merged).values_list(
        "pk", "user_id"
    ):
        if user_id in following:
            Follow.objects.filter(pk=follow_id).delete()
        else:
            following.add(user_id)
            Follow.objects.filter(pk=follow_id).update(proposal=target)
    # Authors of merged proposals follow the result.
    for proposal in merged:
        if proposal.author_id and proposal.author_id not in following:
            Follow.objects.create(proposal=target, user_id=proposal.author_id)
            following.add(proposal.author_id)
    Comment.objects.filter(proposal__in=merged).update(proposal=target)
    now = timezone.now()
    Proposal.objects.filter(pk__in=ids).update(
        merged_into=target,
        merged_at=now,
        status=ProposalStatus.MERGED,
        support_count=0,
        comment_count=0,
    )
    target.support_count = Support.objects.filter(proposal=target).count()
    target.comment_count = Comment.objects.filter(proposal=target).count()
    target.updated_at = now
    target.save(update_fields=["support_count", "comment_count", "updated_at"])
    audit(
        actor,
        "participation.proposals_merged",
        territory,
        target,
        merged=ids,
        supports_moved=len(moving),
        supports_removed_as_duplicates=len(dropping),
    )
    subject = _("Proposals merged into “%(title)s”") % {"title": target.title[:100]}
    text = _(
        "Similar proposals were merged into one: “%(title)s”. Their supports (one per "
        "person), followers and comments are now there."
    ) % {"title": target.title}
    merged_titles = "\n".join(f"- {p.title}" for p in merged)
    heading = _("Merged proposals")
    body = f"{text}\n\n{heading}:\n{merged_titles}" + (f"\n\n{note}" if note else "")
    _notify_followers(target, subject, body, exclude=actor)
    return target


def _notify_followers(proposal: Proposal, subject: str, body: str, exclude=None) -> None:
    """E-mail the followers through the core's send_email task, after the commit."""
    from metropole.core.tasks import send_email

    emails = list(
        User.objects.filter(
            pk__in=Follow.objects.filter(proposal=proposal).values("user"), is_active=True
        )
        .exclude(pk=getattr(exclude, "pk", None))
        .exclude(email_verified_at__isnull=True)
        .values_list("email", flat=True)
    )
    if not emails:
        return
    text = f"{body}\n\n{_('Proposal')}: {proposal.title}"
    for email in emails:
        transaction.on_commit(lambda e=email: send_email.enqueue([e], subject, text))


# --- surveys ----------------------------------------------------------------------------


@transaction.atomic
def add_question(
    actor, component: Component, *, kind, text, choices=(), required=True, scale_min=1, scale_max=5
) -> Question:
    require_perm(actor, "participation.manage", component.process.territory)
    if component.kind != ComponentKind.SURVEY:
        raise BadRequest(_("Not a survey"), _("Questions belong to surveys."))
    if kind not in QuestionKind.values:
        raise BadRequest(_("Unknown kind of question"), kind, field="kind")
    text = clean_text(text, "text", max_length=300)
    choices = [clean_text(c, "choices", max_length=200) for c in choices if str(c).strip()]
    if (
        kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.RANKING)
        and len(choices) < 2
    ):
        raise BadRequest(_("Not enough choices"), _("Give at least two choices."), field="choices")
    if kind == QuestionKind.SCALE and not int(scale_min) < int(scale_max):
        raise BadRequest(
            _("Wrong scale"), _("The scale's end must be above its start."), field="scale_max"
        )
    return Question.objects.create(
        component=component,
        kind=kind,
        text=text,
        choices=choices,
        required=required,
        scale_min=int(scale_min),
        scale_max=int(scale_max),
        position=component.questions.count(),
    )


def _parse_answer(question: Question, raw) -> tuple[list, str] | None:
    """Check one answer; raw is a list of strings (form values) or a string."""
    field = f"q{question.pk}"
    values = [str(v).strip() for v in (raw if isinstance(raw, list | tuple) else [raw])]
    values = [v for v in values if v not in ("", "None")]
    if not values:
        if question.required:
            raise BadRequest(
                _("Answer missing"),
                _("Answer the question “%(q)s”.") % {"q": question.text},
                field=field,
            )
        return None
    if question.kind == QuestionKind.TEXT:
        return [], clean_text(values[0], field, max_length=3000)
    try:
        numbers = [int(v) for v in values]
    except ValueError:
        raise BadRequest(
            _("Wrong answer"), _("Choose among the proposed answers."), field=field
        ) from None
    if question.kind == QuestionKind.SCALE:
        if len(numbers) != 1 or not question.scale_min <= numbers[0] <= question.scale_max:
            raise BadRequest(
                _("Wrong answer"),
                _("Choose a value from %(a)s to %(b)s.")
                % {"a": question.scale_min, "b": question.scale_max},
                field=field,
            )
        return numbers, ""
    if any(not 0 <= n < len(question.choices) for n in numbers) or len(set(numbers)) != len(
        numbers
    ):
        raise BadRequest(_("Wrong answer"), _("Choose among the proposed answers."), field=field)
    if question.kind == QuestionKind.SINGLE and len(numbers) != 1:
        raise BadRequest(_("One answer only"), _("Choose one answer."), field=field)
    if question.kind == QuestionKind.RANKING and len(numbers) != len(question.choices):
        raise BadRequest(
            _("Incomplete ranking"), _("Give every choice a different rank."), field=field
        )
    return numbers, ""


def ranking_from_ranks(question: Question, ranks: dict[int, str]) -> list:
    """Form helper: {choice index: rank typed} -> choice indexes best first."""
    try:
        pairs = sorted((int(rank), index) for index, rank in ranks.items() if str(rank).strip())
    except ValueError:
        raise BadRequest(
            _("Wrong rank"), _("Ranks are numbers."), field=f"q{question.pk}"
        ) from None
    if [r for r, _i in pairs] != list(range(1, len(question.choices) + 1)):
        raise BadRequest(
            _("Incomplete ranking"),
            _("Give each choice a different rank from 1 to %(n)s.") % {"n": len(question.choices)},
            field=f"q{question.pk}",
        )
    return [index for _r, index in pairs]


@transaction.atomic
def submit_survey(user, component: Component, answers: dict) -> SurveyResponse:
    """Record a person's answers to every question at once (all checked first; one
    response per person, held by a unique constraint)."""
    require_action(user, component, Action.ANSWER)
    parsed = []
    for question in component.questions.all():
        checked = _parse_answer(question, answers.get(question.pk, answers.get(str(question.pk))))
        if checked is not None:
            parsed.append((question, *checked))
    _rate_limit(VOTING_LIMIT, user)
    from .rules import resident_commune

    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                component=component, user=user, commune=resident_commune(user)
            )
    except IntegrityError:
        raise Conflict(_("Already answered"), _("You already answered this survey.")) from None
    Answer.objects.bulk_create(
        [Answer(response=response, question=q, choices=c, text=t) for q, c, t in parsed]
    )
    return response


# --- participatory budget --------------------------------------------------------------------


def _area_values(rule, amount, min_projects, max_projects, min_share) -> dict:
    """Check a budget area's amount and voting rule; the field at fault is named."""
    if rule not in BudgetRule.values:
        raise BadRequest(_("Unknown voting rule"), rule, field="rule")
    try:
        amount, min_projects, max_projects, min_share = (
            int(amount),
            int(min_projects),
            int(max_projects),
            int(min_share),
        )
    except (TypeError, ValueError):
        raise BadRequest(_("Not a number"), _("Give a whole number."), field="amount") from None
    if amount <= 0:
        raise BadRequest(_("Wrong amount"), _("The budget must be above 0."), field="amount")
    if min_projects < 0 or max_projects < 0:
        raise BadRequest(_("Negative number"), _("Give 0 or more."), field="min_projects")
    if max_projects and min_projects > max_projects:
        raise BadRequest(
            _("Wrong limits"),
            _("The minimum number of projects is above the maximum."),
            field="min_projects",
        )
    if not 0 <= min_share <= 100:
        raise BadRequest(_("Wrong share"), _("Give a percentage from 0 to 100."), field="min_share")
    return {
        "rule": rule,
        "amount": amount,
        "min_projects": min_projects,
        "max_projects": max_projects,
        "min_share": min_share,
    }


@transaction.atomic
def add_area(
    actor,
    component,
    *,
    name,
    amount,
    rule=BudgetRule.KNAPSACK,
    min_projects=0,
    max_projects=0,
    min_share=0,
    commune=None,
) -> BudgetArea:
    require_perm(actor, "participation.manage", component.process.territory)
    if component.kind != ComponentKind.BUDGET:
        raise BadRequest(_("Not a budget"), _("Budget areas belong to budgets."))
    values = _area_values(rule, amount, min_projects, max_projects, min_share)
    return BudgetArea.objects.create(
        component=component,
        name=clean_text(name, "name", max_length=200),
        commune=commune,
        **values,
    )


@transaction.atomic
def update_area(
    actor, area: BudgetArea, *, name, amount, rule, min_projects=0, max_projects=0, min_share=0
) -> BudgetArea:
    """Change a budget area's name, amount or voting rule — until the first ballot is cast in
    it (the rules a voter was held to do not change under them); drafts are checked again
    when they are cast."""
    require_perm(actor, "participation.manage", area.component.process.territory)
    area = BudgetArea.objects.select_for_update().get(pk=area.pk)
    if Ballot.objects.filter(area=area, cast_at__isnull=False).exists():
        raise Conflict(
            _("Vote started"),
            _("Ballots were already cast in “%(area)s”: its budget and rules cannot change.")
            % {"area": area.name},
        )
    for key, value in _area_values(rule, amount, min_projects, max_projects, min_share).items():
        setattr(area, key, value)
    area.name = clean_text(name, "name", max_length=200)
    area.save()
    audit(actor, "participation.area_changed", area.component.process.territory, area)
    return area


@transaction.atomic
def add_project(
    actor, area: BudgetArea, *, title, cost, description="", proposal=None, is_demo=False
) -> Project:
    require_perm(actor, "participation.manage", area.component.process.territory)
    cost = int(cost)
    if cost <= 0:
        raise BadRequest(_("Wrong cost"), _("The cost must be above 0."), field="cost")
    return Project.objects.create(
        area=area,
        title=clean_text(title, "title", max_length=200),
        description=clean_text(description, "description", max_length=5000, required=False),
        cost=cost,
        proposal=proposal,
        is_demo=is_demo,
    )


def check_ballot(area: BudgetArea, projects: list[Project], *, final: bool) -> None:
    """The area's voting rules; `final` adds the minimums (a draft may be incomplete)."""
    total = sum(p.cost for p in projects)
    if area.rule == BudgetRule.KNAPSACK and total > area.amount:
        raise BadRequest(
            _("Over budget"),
            _("Your choice costs %(total)s €; the budget is %(amount)s €. Remove a project.")
            % {
                "total": f"{total:,}".replace(",", " "),
                "amount": f"{area.amount:,}".replace(",", " "),
            },
            field="projects",
        )
    if area.max_projects and len(projects) > area.max_projects:
        raise BadRequest(
            _("Too many projects"),
            _("Choose at most %(n)s projects.") % {"n": area.max_projects},
            field="projects",
        )
    if not final:
        return
    if not projects:
        raise BadRequest(_("Empty ballot"), _("Choose at least one project."), field="projects")
    if area.min_projects and len(projects) < area.min_projects:
        raise BadRequest(
            _("Not enough projects"),
            _("Choose at least %(n)s projects.") % {"n": area.min_projects},
            field="projects",
        )
    if area.rule == BudgetRule.KNAPSACK and area.min_share:
        needed = area.amount * area.min_share / 100
        if total < needed:
            raise BadRequest(
                _("Budget not spent enough"),
                _("Your choice must use at least %(share)s %% of the budget (%(needed)s €).")
                % {"share": area.min_share, "needed": f"{int(needed):,}".replace(",", " ")},
                field="projects",
            )


def _projects_of(area: BudgetArea, project_ids) -> list[Project]:
    try:
        ids = {int(i) for i in project_ids}
    except (TypeError, ValueError):
        raise BadRequest(
            _("Unknown project"), _("Choose projects of the list."), field="projects"
        ) from None
    projects = list(Project.objects.filter(area=area, pk__in=ids))
    if len(projects) != len(ids):
        raise BadRequest(
            _("Unknown project"),
            _("Some chosen projects are not in “%(area)s”.") % {"area": area.name},
            field="projects",
        )
    return projects


def _area_of(component: Component, area_id) -> BudgetArea:
    area = (
        BudgetArea.objects.filter(component=component, pk=area_id).first()
        if str(area_id or "").isdigit()
        else None
    )
    if area is None:
        raise BadRequest(
            _("Unknown area"), _("Choose one of the areas of this budget."), field="area"
        )
    return area


@transaction.atomic
def save_ballot(user, component: Component, *, area_id, project_ids) -> Ballot:
    """Save (or replace) a person's draft ballot, to be reviewed before it is cast."""
    require_action(user, component, Action.VOTE)
    area = _area_of(component, area_id)
    projects = _projects_of(area, project_ids)
    check_ballot(area, projects, final=False)
    from .rules import resident_commune

    try:
        with transaction.atomic():
            ballot, _created = Ballot.objects.select_for_update().get_or_create(
                component=component,
                user=user,
                defaults={"area": area, "commune": resident_commune(user)},
            )
    except IntegrityError:
        ballot = Ballot.objects.select_for_update().get(component=component, user=user)
    if ballot.is_cast:
        raise Conflict(_("Already voted"), _("You already cast your ballot in this budget."))
    ballot.area = area
    ballot.save(update_fields=["area"])
    ballot.lines.all().delete()
    BallotLine.objects.bulk_create([BallotLine(ballot=ballot, project=p) for p in projects])
    return ballot


@transaction.atomic
def cast_ballot(user, component: Component) -> Ballot:
    """Cast the reviewed draft: final, counted once (row lock + cast_at set once)."""
    require_action(user, component, Action.VOTE)
    ballot = Ballot.objects.select_for_update().filter(component=component, user=user).first()
    if ballot is None:
        raise NotFound(_("No ballot"), _("Choose your projects first."))
    if ballot.is_cast:
        raise Conflict(_("Already voted"), _("You already cast your ballot in this budget."))
    projects = [line.project for line in ballot.lines.select_related("project")]
    check_ballot(ballot.area, projects, final=True)
    _rate_limit(VOTING_LIMIT, user)
    ballot.cast_at = timezone.now()
    ballot.save(update_fields=["cast_at"])
    audit(user, "participation.ballot_cast", component.process.territory, ballot)
    return ballot


@transaction.atomic
def issue_voting_codes(actor, component: Component, count: int) -> list[str]:
    """Paper voting codes for people without an account; returned once, stored hashed."""
    require_perm(actor, "participation.manage", component.process.territory)
    if component.kind != ComponentKind.BUDGET:
        raise BadRequest(_("Not a budget"), _("Voting codes are for budgets."))
    if not 1 <= int(count) <= 5000:
        raise BadRequest(_("Wrong number"), _("Ask for 1 to 5000 codes."), field="count")
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    codes = []
    for _i in range(int(count)):
        raw = "".join(secrets.choice(alphabet) for _j in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    VotingCode.objects.bulk_create(
        [VotingCode(component=component, code_hash=VotingCode.hash(c)) for c in codes]
    )
    audit(
        actor,
        "participation.codes_issued",
        component.process.territory,
        component,
        count=len(codes),
    )
    return codes


@transaction.atomic
def cast_with_code(code: str, component: Component, *, area_id, project_ids) -> Ballot:
    """Cast a ballot with a paper voting code (single use): the code is locked, checked
    and spent in the ballot's transaction."""
    from .rules import open_phase

    if component.kind != ComponentKind.BUDGET or open_phase(component, Action.VOTE) is None:
        raise PermissionDenied(
            _("Not allowed"), _("This is not open now: look at the dates of the phases.")
        )
    voting_code = (
        VotingCode.objects.select_for_update()
        .filter(component=component, code_hash=VotingCode.hash(code or ""))
        .first()
    )
    if voting_code is None:
        raise BadRequest(_("Unknown code"), _("This voting code is not valid here."), field="code")
    if voting_code.used_at is not None:
        raise Conflict(_("Code already used"), _("This voting code has already been used."))
    area = _area_of(component, area_id)
    projects = _projects_of(area, project_ids)
    check_ballot(area, projects, final=True)
    now = timezone.now()
    ballot = Ballot.objects.create(
        component=component, area=area, voting_code=voting_code, cast_at=now
    )
    BallotLine.objects.bulk_create([BallotLine(ballot=ballot, project=p) for p in projects])
    voting_code.used_at = now
    voting_code.save(update_fields=["used_at"])
    return ballot


# --- meetings ----------------------------------------------------------------------------------


@transaction.atomic
def add_meeting(
    actor,
    component,
    *,
    title,
    start,
    end,
    address="",
    online_url="",
    capacity=0,
    description="",
    is_demo=False,
) -> Meeting:
    require_perm(actor, "participation.manage", component.process.territory)
    if component.kind != ComponentKind.MEETINGS:
        raise BadRequest(_("Not a meeting list"), _("Meetings belong to meeting components."))
    if not address and not online_url:
        raise BadRequest(_("Where?"), _("Give an address or an online link."), field="address")
    if end <= start:
        raise BadRequest(_("Wrong dates"), _("A meeting must end after it starts."), field="end")
    return Meeting.objects.create(
        component=component,
        title=clean_text(title, "title", max_length=200),
        description=clean_text(description, "description", max_length=5000, required=False),
        start=start,
        end=end,
        address=address,
        online_url=online_url,
        capacity=int(capacity or 0),
        is_demo=is_demo,
    )


@transaction.atomic
def register(user, meeting: Meeting) -> Registration:
    """Register; beyond capacity the person goes on the waiting list (meeting row locked
    while places are counted)."""
    require_action(user, meeting.component, Action.REGISTER)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if Registration.objects.filter(meeting=meeting, user=user).exists():
        raise Conflict(_("Already registered"), _("You are already registered."))
    confirmed = meeting.registrations.filter(status=Registration.CONFIRMED).count()
    status = (
        Registration.CONFIRMED
        if not meeting.capacity or confirmed < meeting.capacity
        else Registration.WAITING
    )
    return Registration.objects.create(meeting=meeting, user=user, status=status)


@transaction.atomic
def unregister(user, meeting: Meeting) -> None:
    """Cancel a registration; the first person waiting takes the freed place."""
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    registration = Registration.objects.filter(meeting=meeting, user=user).first()
    if registration is None:
        raise NotFound(_("Not registered"), _("You are not registered to this meeting."))
    was_confirmed = registration.status == Registration.CONFIRMED
    registration.delete()
    if was_confirmed:
        waiting = meeting.registrations.filter(status=Registration.WAITING).first()
        if waiting is not None:
            waiting.status = Registration.CONFIRMED
            waiting.save(update_fields=["status"])
            from metropole.core.tasks import send_email

            email = waiting.user.email
            subject = _("A place is free for “%(title)s”") % {"title": meeting.title}
            transaction.on_commit(
                lambda: send_email.enqueue([email], subject, _("Your registration is confirmed."))
            )


@transaction.atomic
def set_minutes(actor, meeting: Meeting, minutes: str) -> Meeting:
    require_perm(actor, "participation.manage", meeting.component.process.territory)
    meeting.minutes = clean_text(minutes, "minutes", max_length=50000, required=False)
    meeting.save(update_fields=["minutes"])
    return meeting


# --- results tracking ------------------------------------------------------------------------


@transaction.atomic
def add_result(
    actor,
    component,
    *,
    title,
    description="",
    parent=None,
    weight=1,
    progress=0,
    status="",
    proposals=(),
) -> Result:
    require_perm(actor, "participation.manage", component.process.territory)
    if component.kind != ComponentKind.RESULTS:
        raise BadRequest(_("Not a results component"), _("Results belong to results tracking."))
    progress = int(progress)
    if not 0 <= progress <= 100:
        raise BadRequest(
            _("Wrong progress"), _("Give a percentage from 0 to 100."), field="progress"
        )
    result = Result.objects.create(
        component=component,
        parent=parent,
        title=clean_text(title, "title", max_length=200),
        description=clean_text(description, "description", max_length=5000, required=False),
        weight=max(1, int(weight)),
        progress=progress,
        status=clean_text(status, "status", max_length=100, required=False),
    )
    if proposals:
        result.proposals.set(proposals)
    return result


@transaction.atomic
def update_result(actor, result: Result, *, progress, text) -> ResultUpdate:
    """A step on the timeline; the result's own progress follows."""
    require_perm(actor, "participation.manage", result.component.process.territory)
    progress = int(progress)
    if not 0 <= progress <= 100:
        raise BadRequest(
            _("Wrong progress"), _("Give a percentage from 0 to 100."), field="progress"
        )
    update = ResultUpdate.objects.create(
        result=result, progress=progress, text=clean_text(text, "text", max_length=500)
    )
    result.progress = progress
    result.save(update_fields=["progress"])
    return update


# --- moderation ----------------------------------------------------------------------------------


@transaction.atomic
def report(
    user,
    *,
    reason: str,
    proposal: Proposal | None = None,
    comment: Comment | None = None,
    details: str = "",
) -> Report:
    """Report content; after REPORTS_TO_HIDE reports by different people it is hidden until
    a moderator looks at it."""
    if not user.is_authenticated:
        raise PermissionDenied(_("Log in first"), _("Log in to report content."))
    from .models import ReportReason

    if reason not in ReportReason.values:
        raise BadRequest(_("Choose a reason"), _("Choose why you report this."), field="reason")
    target = proposal or comment
    model = Proposal if proposal is not None else Comment
    territory = (proposal or comment).component.process.territory
    _rate_limit(POSTING_LIMIT, user)
    try:
        with transaction.atomic():
            created = Report.objects.create(
                territory=territory,
                proposal=proposal,
                comment=comment,
                reporter=user,
                reason=reason,
                details=clean_text(details, "details", max_length=500, required=False),
            )
    except IntegrityError:
        raise Conflict(_("Already reported"), _("You already reported this.")) from None
    model.objects.filter(pk=target.pk).update(report_count=F("report_count") + 1)
    model.objects.filter(pk=target.pk, report_count__gte=REPORTS_TO_HIDE).update(is_hidden=True)
    return created


@transaction.atomic
def moderate(actor, *, proposal=None, comment=None, hide: bool) -> None:
    """A moderator hides or restores content; its open reports are closed."""
    target = proposal or comment
    territory = (proposal or comment).component.process.territory
    require_perm(actor, "participation.moderate", territory)
    type(target).objects.filter(pk=target.pk).update(is_hidden=hide)
    reports = (
        Report.objects.filter(proposal=proposal)
        if proposal
        else Report.objects.filter(comment=comment)
    )
    reports.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
    audit(actor, "participation.moderated", territory, target, hidden=hide)


@transaction.atomic
def block_user(actor, territory: Territory, user, reason: str) -> Block:
    require_perm(actor, "participation.moderate", territory)
    block, _created = Block.objects.update_or_create(
        territory=territory,
        user=user,
        defaults={
            "reason": clean_text(reason, "reason", max_length=300),
            "blocked_by": actor,
        },
    )
    user.__dict__.pop("_participation_blocked", None)
    audit(actor, "participation.user_blocked", territory, block, user=user.pk)
    return block


@transaction.atomic
def unblock_user(actor, block: Block) -> None:
    require_perm(actor, "participation.moderate", block.territory)
    audit(actor, "participation.user_unblocked", block.territory, block, user=block.user_id)
    block.delete()


# --- RGPD --------------------------------------------------------------------------------------


def export_personal_data(user) -> dict:
    return {
        "declaration": [
            {
                "postal_code": d.postal_code,
                "commune": d.commune.code,
                "birth_year": d.birth_year,
                "source": d.source,
                "verified_at": d.verified_at.isoformat() if d.verified_at else None,
            }
            for d in Declaration.objects.filter(user=user).select_related("commune")
        ],
        "proposals": [
            {"title": p.title, "body": p.body, "created_at": p.created_at.isoformat()}
            for p in Proposal.objects.filter(author=user)
        ],
        "comments": [
            {
                "proposal": c.proposal_id,
                "debate": c.debate_id,
                "stance": c.stance,
                "body": c.body,
                "created_at": c.created_at.isoformat(),
                "earlier_versions": [v.body for v in c.versions.all()],
            }
            for c in Comment.objects.filter(author=user).prefetch_related("versions")
        ],
        "supports": list(Support.objects.filter(user=user).values_list("proposal_id", flat=True)),
        "survey_responses": [
            {"survey": r.component_id, "created_at": r.created_at.isoformat()}
            for r in SurveyResponse.objects.filter(user=user)
        ],
        "ballots": [
            {
                "budget": b.component_id,
                "cast_at": b.cast_at.isoformat() if b.cast_at else None,
                "projects": [line.project_id for line in b.lines.all()],
            }
            for b in Ballot.objects.filter(user=user).prefetch_related("lines")
        ],
        "meeting_registrations": list(
            Registration.objects.filter(user=user).values_list("meeting_id", flat=True)
        ),
    }


@transaction.atomic
def erase_personal_data(user) -> None:
    """The account is being deleted (the core keeps its row as an anonymous "deleted
    account", so supports, responses and cast ballots keep counting): what identifies or
    locates the person goes — declaration, follows, meeting registrations, draft ballots."""
    Declaration.objects.filter(user=user).delete()
    Follow.objects.filter(user=user).delete()
    for registration in Registration.objects.filter(user=user).select_related("meeting"):
        unregister_any(registration)
    Ballot.objects.filter(user=user, cast_at__isnull=True).delete()


def unregister_any(registration: Registration) -> None:
    """Remove a registration and promote the first person waiting (no permission check:
    used by erasure)."""
    meeting = Meeting.objects.select_for_update().get(pk=registration.meeting_id)
    was_confirmed = registration.status == Registration.CONFIRMED
    registration.delete()
    if was_confirmed:
        meeting.registrations.filter(status=Registration.WAITING).filter(
            pk__in=meeting.registrations.filter(status=Registration.WAITING).values("pk")[:1]
        ).update(status=Registration.CONFIRMED)
