"""Reads the portal needs that queries.py does not give (yet): facet counts by territory
covered and by publishing organisation. Read-only; the scoping is the queryset's, which
comes from queries.search_datasets (the same visibility rules as everywhere)."""

from django.db.models import Count, QuerySet

from .models import Dataset


def spatial_counts(qs: QuerySet) -> dict[str, int]:
    """Datasets of `qs` per territory they cover (official code -> count)."""
    ids = qs.order_by().values("pk")
    return dict(
        Dataset.spatial.through.objects.filter(dataset__in=ids)
        .values_list("territory__code")
        .annotate(n=Count("dataset", distinct=True))
    )


def organisation_counts(qs: QuerySet) -> dict[str, int]:
    """Datasets of `qs` per publishing partner organisation (SIREN -> count)."""
    ids = qs.order_by().values("pk")
    return dict(
        Dataset.objects.filter(pk__in=ids, organisation__isnull=False)
        .exclude(organisation__siren="")
        .values_list("organisation__siren")
        .annotate(n=Count("pk"))
    )
