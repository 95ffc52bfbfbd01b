"""The resource services the harvester shares with the data hub: change a resource's
metadata, remove one that never loaded data, record a remote address without pulling it,
and publish a catalogue entry (files left at their remote addresses)."""

import pytest

from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import AuditEvent
from metropole.datahub import services
from metropole.datahub.models import DatasetStatus, Resource, ResourceKind

URL = "https://data.lillemetropole.fr/explore/dataset/arbres/export.csv"


def test_update_resource_changes_only_what_differs_and_audits_it(publisher, resource):
    services.update_resource(publisher, resource, title=" Arbres 2024 ", format="csv")
    resource.refresh_from_db()
    assert (resource.title, resource.format) == ("Arbres 2024", "csv")
    event = AuditEvent.objects.get(action="datahub.resource_updated")
    assert event.details == {"title": "Arbres 2024", "format": "csv"}
    services.update_resource(publisher, resource, title="Arbres 2024")  # nothing changes
    assert AuditEvent.objects.filter(action="datahub.resource_updated").count() == 1


def test_update_resource_refuses_bad_values(publisher, resource, make_user):
    with pytest.raises(BadRequest) as error:
        services.update_resource(publisher, resource, format="pdf")
    assert error.value.field == "format"
    with pytest.raises(BadRequest):
        services.update_resource(publisher, resource, title="  ")
    with pytest.raises(BadRequest):
        services.update_resource(publisher, resource, kind=ResourceKind.REMOTE)
    with pytest.raises(PermissionDenied):
        services.update_resource(make_user("someone@example.org"), resource, title="X")


def test_remove_resource_only_without_loaded_data(publisher, dataset, resource, load):
    address = services.add_resource(
        publisher, dataset, title="Adresse", kind=ResourceKind.REMOTE, remote_url=URL
    )
    services.remove_resource(publisher, address)
    assert not Resource.objects.filter(pk=address.pk).exists()
    assert AuditEvent.objects.filter(action="datahub.resource_removed").count() == 1
    load(resource, b"espece,hauteur\nTilleul,12\n")
    with pytest.raises(Conflict):
        services.remove_resource(publisher, resource)
    assert Resource.objects.filter(pk=resource.pk).exists()


def test_a_remote_address_is_pulled_unless_told_not_to(publisher, dataset):
    pulled = services.add_resource(
        publisher, dataset, title="Tirée", kind=ResourceKind.REMOTE, remote_url=URL
    )
    listed = services.add_resource(
        publisher, dataset, title="Listée", kind=ResourceKind.REMOTE, remote_url=URL, pull=False
    )
    assert pulled.next_pull_at is not None
    assert listed.next_pull_at is None


def test_a_catalogue_entry_is_published_without_loaded_data(publisher, dataset):
    services.update_dataset(publisher, dataset, access="public")
    services.add_resource(
        publisher, dataset, title="Adresse", kind=ResourceKind.REMOTE, remote_url=URL, pull=False
    )
    with pytest.raises(Conflict):
        services.publish(publisher, dataset)  # a data hub dataset needs loaded data
    services.publish(publisher, dataset, catalogue_entry=True)
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PUBLISHED
    assert AuditEvent.objects.filter(action="datahub.dataset_published").exists()
