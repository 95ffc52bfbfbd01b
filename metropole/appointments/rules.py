"""Who may run agendas: staff (agents, administrators) of the agenda's territory, and
metropole administrators by inheritance. One path for pages and API."""

import rules

from metropole.core.rules import is_platform_admin, is_territory_staff

PERMISSIONS = {
    "appointments.manage_agenda": is_platform_admin | is_territory_staff,
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)
