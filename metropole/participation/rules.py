"""Who may do what in participation: the one permission path of pages and API.

Participant actions (`participation.propose`, `.comment`, `.support`, `.answer`, `.vote`,
`.register`) are checked on a *component*. `refusal()` says why an action is refused —
the component does not offer it, no phase open for it, not logged in, not eligible,
blocked — and the predicates are `refusal(...) is None`, so a page that hides a button,
an API endpoint that answers 403 and a service that refuses a write agree by construction.

Staff permissions (`participation.manage`, `.moderate`, `.view_dashboard`) are checked on a
territory with the core's role predicates: an agent of a commune runs that commune's
processes; the metropole's administrators inherit every commune.
`participation.view_budget_results` is checked on a budget component: its staff only while
the vote is open, everyone once it is over.

Arguments in a debate are comments: `argument_refusal()` adds the debate's own dates and
conclusion to the component's `comment` refusal. `edit_refusal()` says why a person may not
edit a comment (author only, within the component's edit window).
"""

from datetime import timedelta

import rules
from django.utils import timezone
from django.utils.translation import gettext as _

from metropole.core.rules import is_platform_admin, is_territory_staff

from .models import COMPONENT_ACTIONS, Action, Block, Component, Declaration


def open_phase(component: Component, action: str, now=None):
    """The phase that opens `action` on `component` now, or None."""
    now = now or timezone.now()
    if component.phase_id:
        phase = component.phase
        return phase if phase.is_active(now) and action in phase.actions else None
    for phase in component.process.phases.all():
        if phase.is_active(now) and action in phase.actions:
            return phase
    return None


def declaration_of(user):
    if not user.is_authenticated:
        return None
    if not hasattr(user, "_participation_declaration"):
        user._participation_declaration = Declaration.objects.filter(user=user).first()
    return user._participation_declaration


def resident_commune(user):
    """The commune a person lives in: from their participation profile (declared, or given
    by FranceConnect), else the account's commune."""
    declaration = declaration_of(user)
    if declaration is not None:
        return declaration.commune
    return user.home_commune if user.is_authenticated else None


def in_scope(process, commune) -> bool:
    """Whether `commune` is in the area a process concerns."""
    if commune is None:
        return False
    scope_ids = [t.pk for t in process.scope.all()]
    if scope_ids:
        return commune.pk in scope_ids
    territory = process.territory
    if territory.is_metropole:
        return commune.metropole_id == territory.pk
    if territory.is_commune:
        return commune.pk == territory.pk
    return commune.parent_id == territory.pk


def eligibility_refusal(user, component: Component) -> str | None:
    """Why `user` is not eligible for `component` (residence, age), or None."""
    settings = component.settings
    if settings.get("verified_residence"):
        declaration = declaration_of(user)
        if declaration is None or not declaration.is_verified:
            return _(
                "This is open to residents whose address is confirmed by FranceConnect: log "
                "in with FranceConnect once, your address will be reused."
            )
    if settings.get("residents_only") or settings.get("verified_residence"):
        commune = resident_commune(user)
        if commune is None:
            return _(
                "This is open to residents only: declare your commune in your participation "
                "profile first."
            )
        if not in_scope(component.process, commune):
            return _("This is open to residents of %(territory)s only.") % {
                "territory": component.process.territory.display_name
            }
    min_age = settings.get("min_age") or 0
    if min_age:
        declaration = declaration_of(user)
        if declaration is None or declaration.birth_year is None:
            return _(
                "This is open from the age of %(age)s: declare your year of birth in your "
                "participation profile first."
            ) % {"age": min_age}
        if timezone.localdate().year - declaration.birth_year < min_age:
            return _("This is open from the age of %(age)s only.") % {"age": min_age}
    return None


def is_blocked(user, process) -> bool:
    """Whether moderators blocked `user` in the process's territory or its metropole
    (memoised on the user object for the request, like the roles)."""
    if not user.is_authenticated:
        return False
    territory = process.territory
    key = (territory.pk, territory.metropole_id)
    cache = user.__dict__.setdefault("_participation_blocked", {})
    if key not in cache:
        cache[key] = Block.objects.filter(
            user=user, territory_id__in={territory.pk, territory.metropole_id or territory.pk}
        ).exists()
    return cache[key]


def refusal(user, component: Component, action: str, now=None) -> str | None:
    """Why `user` may not do `action` on `component` now; None when allowed."""
    process = component.process
    if not process.is_published:
        return _("This process is not published.")
    if action not in COMPONENT_ACTIONS[component.kind]:
        return _("This part of the process does not offer this.")
    if open_phase(component, action, now) is None:
        return _("This is not open now: look at the dates of the phases.")
    if not user.is_authenticated:
        return _("Log in to take part.")
    if is_blocked(user, process):
        return _("Your participation in this territory is suspended by its moderators.")
    return eligibility_refusal(user, component)


def argument_refusal(user, debate, now=None) -> str | None:
    """Why `user` may not post an argument (or reply) in `debate` now; None when allowed."""
    now = now or timezone.now()
    if debate.concluded_at is not None:
        return _("This debate is closed: read its conclusion.")
    if now < debate.start:
        return _("This debate opens on %(date)s.") % {
            "date": timezone.localtime(debate.start).strftime("%d/%m/%Y %H:%M")
        }
    if now >= debate.end:
        return _("This debate is closed since %(date)s.") % {
            "date": timezone.localtime(debate.end).strftime("%d/%m/%Y %H:%M")
        }
    return refusal(user, debate.component, Action.COMMENT, now)


def edit_window(component) -> timedelta:
    return timedelta(minutes=component.setting("edit_minutes", 60) or 0)


def edit_refusal(user, comment, now=None) -> str | None:
    """Why `user` may not edit `comment`; None when allowed (its author, within the edit
    window of the component, while it is visible and the author is not blocked)."""
    now = now or timezone.now()
    if not user.is_authenticated or comment.author_id != user.pk:
        return _("Only the author can edit a comment.")
    if comment.is_hidden:
        return _("This comment is hidden by moderation.")
    if comment.debate_id and comment.debate.concluded_at is not None:
        return _("This debate is closed: read its conclusion.")
    component = comment.component
    if is_blocked(user, component.process):
        return _("Your participation in this territory is suspended by its moderators.")
    window = edit_window(component)
    if now - comment.created_at > window:
        return _("A comment can be edited during %(m)s minutes after it is published.") % {
            "m": int(window.total_seconds() // 60)
        }
    return None


def _action_predicate(action: str):
    @rules.predicate(name=f"can_{action}")
    def predicate(user, component) -> bool:
        return component is not None and refusal(user, component, action) is None

    return predicate


@rules.predicate
def is_process_staff(user, obj) -> bool:
    """Staff of the territory that runs `obj` (a territory, a process or a component)."""
    territory = getattr(obj, "territory", None)
    if territory is None and hasattr(obj, "process"):
        territory = obj.process.territory
    if territory is None:
        territory = obj
    return is_territory_staff(user, territory)


@rules.predicate
def vote_not_open(user, component) -> bool:
    """Budget results are published once no phase opens the vote (shown while people
    vote, they would sway it)."""
    return open_phase(component, Action.VOTE) is None


@rules.predicate
def is_metropole_territory(user, territory) -> bool:
    return territory is not None and getattr(territory, "is_metropole", False)


PERMISSIONS = {
    **{f"participation.{a.value}": _action_predicate(a.value) for a in Action},
    "participation.manage": is_platform_admin | is_process_staff,
    "participation.moderate": is_platform_admin | is_process_staff,
    "participation.view_dashboard": is_platform_admin | is_process_staff,
    # On a budget component: its results.
    "participation.view_budget_results": vote_not_open | is_platform_admin | is_process_staff,
    # On a debate: post an argument or a reply; on a comment: edit it.
    "participation.argue": rules.predicate(
        lambda user, debate: debate is not None and argument_refusal(user, debate) is None,
        name="can_argue",
    ),
    "participation.edit_comment": rules.predicate(
        lambda user, comment: comment is not None and edit_refusal(user, comment) is None,
        name="can_edit_comment",
    ),
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)


def require_action(user, component: Component, action: str) -> None:
    """Raise PermissionDenied with the reason unless `user` may do `action` now."""
    from metropole.core.exceptions import PermissionDenied

    reason = refusal(user, component, action)
    if reason is not None:
        raise PermissionDenied(_("Not allowed"), reason)
