"""Who may do what with reports: one path for pages, the agent API and Open311.

- `reports.handle_report` (territory): staff of the territory that handles the report
  (agents and administrators; metropole administrators by inheritance).
- `reports.manage_categories` (metropole): metropole administrators.
"""

import rules

from metropole.core.rules import (
    is_metropole,
    is_platform_admin,
    is_territory_admin,
    is_territory_staff,
)

PERMISSIONS = {
    "reports.handle_report": is_platform_admin | is_territory_staff,
    "reports.manage_categories": is_metropole & (is_platform_admin | is_territory_admin),
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)
