"""Permissions of the catalogue (one path for pages and API, see core/rules.py).

- `catalogue.manage_services` (territory): staff (agents and administrators) of the
  territory that runs the service, administrators of the metropole by inheritance.
- `catalogue.manage_competences` (metropole): administrators of the metropole.
"""

import rules

from metropole.core.rules import (
    is_metropole,
    is_platform_admin,
    is_territory_admin,
    is_territory_staff,
)

PERMISSIONS = {
    "catalogue.manage_services": is_platform_admin | is_territory_staff,
    "catalogue.manage_competences": is_metropole & (is_platform_admin | is_territory_admin),
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)
