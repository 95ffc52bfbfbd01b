"""The data hub's manifest: what it contributes to the platform through the registry."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from metropole.core.registry import (
    NAV_ADMIN,
    NAV_PUBLIC,
    ModuleManifest,
    NavEntry,
    OpenDataExport,
    PeriodicJob,
    Statistic,
    registry,
)


def _published(territory):
    from .models import Dataset

    qs = Dataset.objects.published()
    if territory.is_metropole:
        return qs.filter(territory__in=[territory.pk, *territory_ids(territory)])
    return qs.filter(territory=territory)


def territory_ids(metropole):
    from metropole.core.models import Territory

    return Territory.objects.filter(metropole=metropole).values_list("pk", flat=True)


def _dataset_count(territory) -> int:
    return _published(territory).count()


def _row_count(territory) -> int:
    from django.db.models import Sum

    from .models import Resource

    return (
        Resource.objects.filter(dataset__in=_published(territory)).aggregate(
            n=Sum("current_version__row_count")
        )["n"]
        or 0
    )


def _catalogue_rows(territory):
    for dataset in (
        _published(territory)
        .public()
        .select_related("territory", "organisation")
        .prefetch_related("themes")
    ):
        yield {
            "identifier": str(dataset.uid),
            "title": dataset.title,
            "publisher": dataset.publisher_name,
            "themes": " ".join(dataset.theme_codes),
            "licence": dataset.licence,
            "frequency": dataset.frequency,
            "updated": dataset.data_updated_at.isoformat() if dataset.data_updated_at else None,
            "quality_score": dataset.quality_score,
        }


def _personal_data(user) -> dict:
    """RGPD export: what the data hub holds about a person (what they published and
    reviewed); the datasets' rows are not about the publisher."""
    from .models import Dataset, Resource, ResourceVersion

    return {
        "datasets_created": [
            {"identifier": str(d.uid), "title": d.title, "created_at": d.created_at.isoformat()}
            for d in Dataset.objects.filter(created_by=user)
        ],
        "files_uploaded": [
            {
                "resource": str(v.resource.uid),
                "version": v.number,
                "file": v.original_name,
                "at": v.created_at.isoformat(),
            }
            for v in ResourceVersion.objects.filter(created_by=user).select_related("resource")
        ],
        "columns_reviewed": [
            {"resource": str(r.uid), "column": name, **decision}
            for r in Resource.objects.exclude(column_decisions={})
            for name, decision in r.column_decisions.items()
            if decision.get("by") == user.email
        ],
    }


def _erase_personal_data(user) -> None:
    """Account deletion: reviewers' addresses in column decisions become anonymous (the
    decisions stay: they protect other people's data)."""
    from .models import Resource

    for resource in Resource.objects.exclude(column_decisions={}):
        decisions = {
            name: ({**d, "by": f"deleted-account-{user.pk}"} if d.get("by") == user.email else d)
            for name, d in resource.column_decisions.items()
        }
        if decisions != resource.column_decisions:
            Resource.objects.filter(pk=resource.pk).update(column_decisions=decisions)


def _load_demo(metropole):
    from .demo import load_datahub_demo

    load_datahub_demo(metropole)


def _enqueue(task_name: str):
    from . import tasks

    getattr(tasks, task_name).enqueue()


manifest = registry.register(
    ModuleManifest(
        label="datahub",
        name=_("Data hub"),
        order=20,
        navigation=[
            NavEntry(pgettext_lazy("menu", "Open data"), "datahub:index", NAV_PUBLIC, order=30),
            NavEntry(
                _("Data"),
                "datahub:manage",
                NAV_ADMIN,
                "datahub.view_publisher_space",
                per_territory=True,
                order=40,
            ),
        ],
        permissions=[
            "datahub.view_dataset",
            "datahub.change_dataset",
            "datahub.review_personal_data",
            "datahub.add_dataset",
            "datahub.publish_as_organisation",
            "datahub.allow_licence",
            "datahub.view_publisher_space",
            "datahub.view_partner_space",
        ],
        statistics=[
            Statistic.count(
                "datasets",
                ngettext_lazy("published dataset", "published datasets", "n"),
                _dataset_count,
                headline=True,
            ),
            Statistic("rows", _("rows of open data"), _row_count),
        ],
        exports=[
            OpenDataExport(
                key="catalogue",
                title=_("Catalogue of the data hub"),
                description=_(
                    "Public published datasets: identifier, title, publisher, EU themes, "
                    "licence, update frequency, last update and quality score."
                ),
                fields=(
                    "identifier",
                    "title",
                    "publisher",
                    "themes",
                    "licence",
                    "frequency",
                    "updated",
                    "quality_score",
                ),
                rows=_catalogue_rows,
            ),
        ],
        periodic_jobs=[
            PeriodicJob("pull_due", 5 * 60, lambda: _enqueue("pull_due_resources")),
            PeriodicJob("module_exports", 24 * 3600, lambda: _enqueue("publish_module_exports")),
            PeriodicJob("drop_expired", 24 * 3600, lambda: _enqueue("drop_expired_versions")),
            PeriodicJob("search_indexes", 3600, lambda: _enqueue("repair_search_indexes")),
        ],
        demo_data=_load_demo,
        export_personal_data=_personal_data,
        erase_personal_data=_erase_personal_data,
        api_router="metropole.datahub.api.router",
        api_prefix="datahub",
        urls="metropole.datahub.urls",
        url_prefix="data",
    )
)
