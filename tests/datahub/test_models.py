"""The catalogue's models and the data schema created by the migration."""

import pytest
from django.db import IntegrityError, connection, transaction

from metropole.datahub.models import (
    Dataset,
    Resource,
    ResourceKind,
    ResourceVersion,
    VersionStatus,
)


def test_data_schema_exists_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("the separate schema is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'datahub_data'")
        assert cursor.fetchone() == (1,)


def test_version_table_spec_follows_the_contract(lille):
    dataset = Dataset.objects.create(territory=lille, title="Arbres", slug="arbres")
    resource = Resource.objects.create(dataset=dataset, title="Arbres d'alignement")
    version = ResourceVersion.objects.create(
        resource=resource,
        number=1,
        status=VersionStatus.READY,
        row_count=2,
        geolocated=True,
        columns=[
            {"name": "Espèce", "sql_name": "c1", "type": "string"},
            {"name": "Hauteur", "sql_name": "c2", "type": "number"},
            {"name": "Courriel", "sql_name": "c3", "type": "string", "stored": False},
        ],
    )
    spec = version.table_spec()
    assert [c.name for c in spec.columns] == ["Espèce", "Hauteur"]
    assert [c.aggregatable for c in spec.columns] == [False, True]
    assert spec.table == (
        f"rv_{version.pk}" if connection.vendor == "postgresql" else f"datahub_rv_{version.pk}"
    )
    assert spec.schema == ("datahub_data" if connection.vendor == "postgresql" else None)
    assert spec.cache_key == f"rv{version.pk}" and spec.geolocated and spec.row_count == 2


def test_remote_resource_needs_an_address(lille):
    dataset = Dataset.objects.create(territory=lille, title="Bus", slug="bus")
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.create(dataset=dataset, title="GTFS", kind=ResourceKind.REMOTE)


def test_version_numbers_are_unique_per_resource(lille):
    dataset = Dataset.objects.create(territory=lille, title="Bus", slug="bus")
    resource = Resource.objects.create(dataset=dataset, title="Arrêts")
    ResourceVersion.objects.create(resource=resource, number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ResourceVersion.objects.create(resource=resource, number=1)
