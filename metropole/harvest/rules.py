"""Who may manage harvest sources: administrators of the territory the datasets go to
(a metropole administrator for every territory of the metropole) and platform
administrators. Runs then act as the source's `run_as` person, whose data hub
permissions every dataset write checks again."""

import rules

from metropole.core.rules import is_platform_admin, is_territory_admin

PERMISSIONS = {
    "harvest.manage_sources": is_platform_admin | is_territory_admin,
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)
