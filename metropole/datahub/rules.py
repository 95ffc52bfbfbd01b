"""Who may see and change what in the data hub: the one permission path of pages and API.

- Manage a dataset (edit, upload, publish, archive, roll back): agents and administrators
  of its territory (a metropole administrator manages every territory of the metropole),
  members of its publishing organisation, platform administrators.
- Publish as a partner organisation (its back-office at /data/partenaire/<id>/): the
  organisation's partner members; its datasets belong to the metropole, whose agents
  manage them too and whose administrators review their personal-data columns.
- Review personal data (remove a flagged column or confirm it is not personal):
  administrators of the territory and platform administrators.
- See a dataset: anyone when published and public; when restricted, agents of the owning
  territory and members of the organisations named on it; a private draft, or a dataset
  not yet published, only those who manage it.

`queries.visible_datasets` derives the same rules as a queryset filter.
"""

import rules

from metropole.core.models import Role
from metropole.core.rules import (
    STAFF_ROLES,
    effective_roles,
    is_platform_admin,
    is_territory_admin,
    is_territory_staff,
    role_map,
)

from .models import Access, DatasetStatus


def organisation_ids(user) -> frozenset[int]:
    """Organisations `user` is a partner member of (memoised on the user object)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_datahub_organisations", None)
    if cached is None:
        cached = frozenset(
            user.memberships.filter(role=Role.PARTNER, organisation__isnull=False).values_list(
                "organisation_id", flat=True
            )
        )
        user._datahub_organisations = cached
    return cached


def staff_territory_ids(user) -> tuple[set[int], set[int]]:
    """(territories where `user` is agent or administrator, metropoles they administer)."""
    grants = role_map(user)
    staff = {tid for tid, roles in grants.items() if roles & STAFF_ROLES}
    admin_of_metropoles = {tid for tid, roles in grants.items() if Role.ADMIN in roles}
    return staff, admin_of_metropoles


@rules.predicate
def manages_dataset(user, dataset) -> bool:
    if dataset is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if effective_roles(user, dataset.territory) & STAFF_ROLES:
        return True
    return bool(dataset.organisation_id and dataset.organisation_id in organisation_ids(user))


@rules.predicate
def reviews_dataset(user, dataset) -> bool:
    if dataset is None or not user.is_authenticated:
        return False
    return user.is_superuser or Role.ADMIN in effective_roles(user, dataset.territory)


@rules.predicate
def may_read_dataset(user, dataset) -> bool:
    if dataset is None:
        return False
    if dataset.status == DatasetStatus.DRAFT or dataset.access == Access.PRIVATE:
        return False
    if dataset.access == Access.PUBLIC:
        return True
    # restricted
    if not user.is_authenticated:
        return False
    if effective_roles(user, dataset.territory) & STAFF_ROLES:
        return True
    allowed = {o.pk for o in dataset.allowed_organisations.all()}
    return bool(allowed & organisation_ids(user))


@rules.predicate
def may_publish_for(user, territory) -> bool:
    """May create datasets for `territory` (its agents and administrators)."""
    return territory is not None and bool(effective_roles(user, territory) & STAFF_ROLES)


@rules.predicate
def is_partner_member(user, organisation) -> bool:
    return organisation is not None and organisation.pk in organisation_ids(user)


PERMISSIONS = {
    "datahub.view_dataset": manages_dataset | may_read_dataset,
    "datahub.change_dataset": manages_dataset,
    "datahub.review_personal_data": reviews_dataset,
    "datahub.add_dataset": is_platform_admin | may_publish_for,
    "datahub.publish_as_organisation": is_platform_admin | is_partner_member,
    "datahub.allow_licence": is_platform_admin | is_territory_admin,
    "datahub.view_publisher_space": is_platform_admin | is_territory_staff,
    # the back-office of a partner organisation (object: the Organisation)
    "datahub.view_partner_space": is_platform_admin | is_partner_member,
}
for _name, _predicate in PERMISSIONS.items():
    rules.add_perm(_name, _predicate)
