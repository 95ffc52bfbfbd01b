"""Who may do what with procedures: one path for pages and API.

- Forms, workflows and teams of a territory are managed by its administrators.
- A territory's staff (agents, administrators; a metropole's administrators on its communes)
  sees and handles the requests the territory handles.
- A transition that names teams may be taken only by their members (or an administrator).
- A citizen sees their own requests; a request sent without an account is opened with the
  signed link e-mailed to its sender (views check the link, then these rules).
"""

import rules

from metropole.core.models import Role
from metropole.core.rules import (
    effective_roles,
    is_platform_admin,
    is_territory_admin,
    is_territory_staff,
)


@rules.predicate
def is_request_owner(user, request) -> bool:
    return user.is_authenticated and request is not None and request.user_id == user.pk


@rules.predicate
def is_request_handler(user, request) -> bool:
    return request is not None and is_territory_staff(user, request.territory)


PERMISSIONS = {
    "procedures.manage_forms": is_platform_admin | is_territory_admin,
    "procedures.view_queue": is_platform_admin | is_territory_staff,
    "procedures.enter_request": is_platform_admin | is_territory_staff,
    "procedures.view_request": is_platform_admin | is_request_owner | is_request_handler,
    # A draft with an account is filled and sent by that account only (a draft without one
    # is the browser session's: views check the session, there is no user to test).
    "procedures.fill_draft": is_request_owner,
    "procedures.handle_request": is_platform_admin | is_request_handler,
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)


def can_take(user, request, transition: dict) -> bool:
    """May `user` move `request` along `transition`? (pages show only these buttons; the
    service refuses the others)."""
    if not user.has_perm("procedures.handle_request", request):
        return False
    teams = transition.get("teams") or []
    if not teams or user.is_superuser:
        return True
    if Role.ADMIN in effective_roles(user, request.territory):
        return True
    mine = set(
        user.procedure_teams.filter(territory=request.territory).values_list("slug", flat=True)
    )
    return bool(mine & set(teams))
