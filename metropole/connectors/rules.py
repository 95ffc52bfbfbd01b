"""Connectors are configured by a territory's administrators; its staff reads the call log."""

import rules

from metropole.core.rules import is_platform_admin, is_territory_admin, is_territory_staff

PERMISSIONS = {
    "connectors.manage": is_platform_admin | is_territory_admin,
    "connectors.view_log": is_platform_admin | is_territory_staff,
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)
