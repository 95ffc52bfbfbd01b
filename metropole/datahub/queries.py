"""Read paths of the data hub, scoped by the same rules as rules.py."""

import re
import uuid

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from metropole.core.exceptions import NotFound, PermissionDenied
from metropole.core.models import Organisation, Territory
from metropole.core.text import normalize_name

from .models import Access, Dataset, DatasetStatus, Resource, ResourceVersion, VersionStatus
from .rules import organisation_ids, staff_territory_ids


def managed_datasets(user) -> QuerySet:
    """Datasets `user` may change (every status)."""
    if not user.is_authenticated:
        return Dataset.objects.none()
    if user.is_superuser:
        return Dataset.objects.all()
    staff, admin_of = staff_territory_ids(user)
    return Dataset.objects.filter(
        Q(territory_id__in=staff)
        | Q(territory__metropole_id__in=admin_of)
        | Q(organisation_id__in=organisation_ids(user))
    )


def visible_datasets(user) -> QuerySet:
    """Datasets `user` may see: published (or archived) public ones, restricted ones they
    are allowed to read, and those they manage."""
    readable = Q(status__in=[DatasetStatus.PUBLISHED, DatasetStatus.ARCHIVED])
    condition = readable & Q(access=Access.PUBLIC)
    if user.is_authenticated:
        if user.is_superuser:
            return Dataset.objects.all()
        staff, admin_of = staff_territory_ids(user)
        orgs = organisation_ids(user)
        condition |= (
            readable
            & Q(access=Access.RESTRICTED)
            & (
                Q(territory_id__in=staff)
                | Q(territory__metropole_id__in=admin_of)
                | Q(allowed_organisations__in=orgs)
            )
        )
        condition |= (
            Q(territory_id__in=staff)
            | Q(territory__metropole_id__in=admin_of)
            | Q(organisation_id__in=orgs)
        )
    return Dataset.objects.filter(condition).distinct()


def search_datasets(
    user,
    *,
    q: str = "",
    theme: str = "",
    territory: str = "",
    publisher: str = "",
    licence: str = "",
    format: str = "",
    include_archived: bool = False,
) -> QuerySet:
    """The catalogue as `user` sees it, searched and filtered (facets)."""
    qs = visible_datasets(user).select_related("territory", "organisation")
    if not include_archived:
        qs = qs.exclude(status=DatasetStatus.ARCHIVED)
    for word in normalize_name(q).split():
        qs = qs.filter(
            Q(title__icontains=word) | Q(description__icontains=word) | Q(slug__icontains=word)
        )
    if theme:
        qs = qs.filter(themes__theme=theme)
    if territory:
        qs = qs.filter(Q(spatial__code=territory) | Q(territory__code=territory))
    if publisher:
        qs = qs.filter(publisher_filter(publisher))
    if licence:
        qs = qs.filter(licence=licence)
    if format:
        qs = qs.filter(resources__format=format)
    return qs.distinct().prefetch_related("themes", "resources")


def organisation_key(organisation) -> str:
    """How the `publisher` facet names a partner organisation: its SIREN, else `org<id>`."""
    return organisation.siren or f"org{organisation.pk}"


def publisher_filter(publisher: str) -> Q:
    """Datasets published by a territory (its code; not its partners' datasets) or by a
    partner organisation (`organisation_key`)."""
    if re.fullmatch(r"org[0-9]{1,18}", publisher):
        return Q(organisation_id=int(publisher[3:]))
    return Q(territory__code=publisher, organisation__isnull=True) | Q(
        organisation__siren=publisher
    )


def facet_counts(qs: QuerySet) -> dict:
    """Counts by theme, licence, format, publishing territory (its own datasets, not its
    partners'), territory covered (`spatial`, by official code) and publishing partner
    organisation (`organisation`, by `organisation_key`) of a dataset queryset."""
    ids = qs.order_by().values("pk")
    return {
        "theme": dict(
            Dataset.themes.rel.related_model.objects.filter(dataset__in=ids)
            .values_list("theme")
            .annotate(n=Count("dataset", distinct=True))
        ),
        "licence": dict(
            Dataset.objects.filter(pk__in=ids).values_list("licence").annotate(n=Count("pk"))
        ),
        "format": dict(
            Resource.objects.filter(dataset__in=ids)
            .exclude(format="")
            .values_list("format")
            .annotate(n=Count("dataset", distinct=True))
        ),
        "territory": dict(
            Dataset.objects.filter(pk__in=ids, organisation__isnull=True)
            .values_list("territory__code")
            .annotate(n=Count("pk"))
        ),
        "spatial": dict(
            Dataset.spatial.through.objects.filter(dataset__in=ids)
            .values_list("territory__code")
            .annotate(n=Count("dataset", distinct=True))
        ),
        "organisation": {
            organisation_key(o): o.n
            for o in Organisation.objects.filter(datasets__in=ids).annotate(
                n=Count("datasets", distinct=True)
            )
        },
    }


def _dataset_lookup(key) -> Q:
    key = str(key)
    try:
        return Q(uid=uuid.UUID(key))
    except ValueError:
        if "\x00" in key or len(key) > 200:  # no such slug; PostgreSQL refuses NUL
            return Q(pk__in=[])
        return Q(slug=key)


def dataset_for(user, key, *, manage: bool = False) -> Dataset:
    """A dataset by UUID or slug; NotFound if `user` may not see it, PermissionDenied if
    they see it but `manage` is asked and they may not change it."""
    dataset = (
        Dataset.objects.select_related("territory", "organisation")
        .prefetch_related("themes", "spatial", "allowed_organisations")
        .filter(_dataset_lookup(key))
        .first()
    )
    if dataset is None or not user.has_perm("datahub.view_dataset", dataset):
        raise NotFound(_("Unknown dataset"), _("No dataset %(key)s here.") % {"key": key})
    if manage and not user.has_perm("datahub.change_dataset", dataset):
        raise PermissionDenied(
            _("Permission denied"),
            _("You may not change the dataset “%(title)s”.") % {"title": dataset.title},
        )
    return dataset


def _resource_lookup(key) -> Q:
    key = str(key)
    try:
        return Q(uid=uuid.UUID(key))
    except ValueError:
        if re.fullmatch(r"[0-9]{1,18}", key):
            return Q(pk=int(key))
        return Q(pk__in=[])


def resource_for(user, key, *, manage: bool = False) -> Resource:
    """A resource by UUID (its stable identifier) or number, checked like its dataset."""
    resource = (
        Resource.objects.select_related(
            "dataset__territory", "dataset__organisation", "current_version"
        )
        .filter(_resource_lookup(key))
        .first()
    )
    if resource is None or not user.has_perm("datahub.view_dataset", resource.dataset):
        raise NotFound(_("Unknown resource"), _("No resource %(key)s here.") % {"key": key})
    if manage and not user.has_perm("datahub.change_dataset", resource.dataset):
        raise PermissionDenied(
            _("Permission denied"),
            _("You may not change the dataset “%(title)s”.") % {"title": resource.dataset.title},
        )
    return resource


def table_spec_for(user, resource_id, version=None):
    """The TableSpec the query engine reads for `user`: the resource's current version
    (or version number `version`, for those who manage the dataset), with only the
    columns that are stored. Raises NotFound / PermissionDenied."""
    resource = resource_for(user, resource_id)
    if version is None:
        current = resource.current_version
        if current is None or not current.has_table:
            raise NotFound(
                _("No data yet"),
                _("The resource “%(title)s” has no loaded version yet.")
                % {"title": resource.title},
            )
        current.resource = resource
        return current.table_spec()
    if not user.has_perm("datahub.change_dataset", resource.dataset):
        raise PermissionDenied(
            _("Permission denied"),
            _("Only the publisher may query a version other than the current one."),
        )
    found = resource.versions.filter(number=version).first()
    if found is None or not found.has_table:
        raise NotFound(
            _("Unknown version"),
            _("The resource has no loaded version %(number)s.") % {"number": version},
        )
    found.resource = resource
    return found.table_spec()


def versions_of(resource: Resource) -> QuerySet:
    return resource.versions.select_related("created_by").order_by("-number")


def version_by_number(resource: Resource, number: int) -> ResourceVersion:
    found = resource.versions.filter(number=number).first()
    if found is None:
        raise NotFound(
            _("Unknown version"), _("This resource has no version %(n)s.") % {"n": number}
        )
    found.resource = resource
    return found


def loads_in_progress(user) -> QuerySet:
    return ResourceVersion.objects.filter(
        resource__dataset__in=managed_datasets(user).values("pk"),
        status__in=[VersionStatus.QUEUED, VersionStatus.LOADING],
    ).select_related("resource__dataset")


def territories_for_publisher(user) -> QuerySet:
    """Territories `user` may create datasets for."""
    if user.is_superuser:
        return Territory.objects.all()
    staff, admin_of = staff_territory_ids(user)
    return Territory.objects.filter(Q(pk__in=staff) | Q(metropole_id__in=admin_of))


def partner_organisations(user) -> list[Organisation]:
    """The partner organisations `user` publishes for (their back-office links)."""
    ids = organisation_ids(user)
    return list(Organisation.objects.filter(pk__in=ids).order_by("name")) if ids else []
