"""Permission predicates of the core: the one permission path of pages and API.

Views call `user.has_perm("core.<name>", territory)` (or the `require_perm` helper),
API endpoints call the same through `metropole.core.api_auth.require_perm`, and the
querysets that scope lists (`queries.territories_administered_by`) derive from the
same `effective_roles` function, so a page, its API and its lists cannot disagree.

Inheritance: an administrator of the metropole holds the administrator role on every
territory of that metropole (it onboards and supports communes); every other role
holds only on the territory it was granted on.
"""

import rules

from .models import Role, Territory

ADMIN_ROLES = frozenset({Role.ADMIN})
STAFF_ROLES = frozenset({Role.ADMIN, Role.AGENT})


def role_map(user) -> dict[int, frozenset[str]]:
    """Roles of `user` by territory id, as granted (memoised on the user object)."""
    if not user.is_authenticated:
        return {}
    cached = getattr(user, "_role_map", None)
    if cached is None:
        grants: dict[int, set[str]] = {}
        for territory_id, role in user.memberships.values_list("territory_id", "role"):
            grants.setdefault(territory_id, set()).add(role)
        cached = {tid: frozenset(roles) for tid, roles in grants.items()}
        user._role_map = cached
    return cached


def forget_roles(user) -> None:
    """Drop the memoised roles after a change, so the next check reads the database."""
    user.__dict__.pop("_role_map", None)


def effective_roles(user, territory: Territory) -> frozenset[str]:
    """Roles of `user` on `territory`, including those inherited from its metropole."""
    grants = role_map(user)
    roles = set(grants.get(territory.pk, ()))
    if territory.metropole_id and Role.ADMIN in grants.get(territory.metropole_id, ()):
        roles.add(Role.ADMIN)
    return frozenset(roles)


@rules.predicate
def is_platform_admin(user) -> bool:
    return user.is_authenticated and user.is_superuser


def has_any_role(roles: frozenset[str], name: str):
    @rules.predicate(name=name)
    def predicate(user, territory) -> bool:
        return territory is not None and bool(effective_roles(user, territory) & roles)

    return predicate


is_territory_admin = has_any_role(ADMIN_ROLES, "is_territory_admin")
is_territory_staff = has_any_role(STAFF_ROLES, "is_territory_staff")


@rules.predicate
def is_metropole(user, territory) -> bool:
    return territory is not None and territory.is_metropole


# The core's permissions. Modules add theirs in their own rules.py the same way.
PERMISSIONS = {
    "core.view_territory_admin": is_platform_admin | is_territory_staff,
    "core.change_territory": is_platform_admin | is_territory_admin,
    "core.manage_members": is_platform_admin | is_territory_admin,
    "core.view_audit_log": is_platform_admin | is_territory_admin,
    "core.manage_communes": is_metropole & (is_platform_admin | is_territory_admin),
    "core.manage_organisations": is_metropole & (is_platform_admin | is_territory_admin),
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)


def require_perm(user, permission: str, territory) -> None:
    """Raise PermissionDenied unless `user` holds `permission` on `territory`.

    Services call this before every write, so pages, API and commands share one check.
    """
    from .exceptions import PermissionDenied

    if user is None or not user.has_perm(permission, territory):
        raise PermissionDenied(
            "Permission denied",
            f"You do not have the permission {permission!r} on "
            f"{getattr(territory, 'display_name', territory)}.",
        )
