"""Who may read the notification log: a territory's staff (administrators and agents)."""

import rules

from metropole.core.rules import is_platform_admin, is_territory_staff

PERMISSIONS = {
    "notifications.view_log": is_platform_admin | is_territory_staff,
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)
