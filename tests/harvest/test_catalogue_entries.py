"""A harvested dataset is a catalogue entry: published with its files left at their remote
addresses. `update_dataset` accepts for it what `publish(catalogue_entry=True)` accepts, so
that a publisher may restrict it and open it again, and a later harvest (which sets access
to public) still updates it."""

import pytest

from metropole.core.exceptions import Conflict
from metropole.datahub import services as datahub
from metropole.datahub.models import Dataset, DatasetStatus
from metropole.harvest import services
from metropole.harvest.models import HarvestedRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def harvested(ods_portal, harvester_admin, grand_paris):
    portal, url, _licence = ods_portal
    source = services.create_source(
        harvester_admin, grand_paris, name="Opendatasoft", kind="ods", url=url
    )
    run = services.run_source(source)
    assert run.created == 1, run.log
    record = HarvestedRecord.objects.get(source=source)
    return portal, source, Dataset.objects.get(pk=record.dataset_id)


def test_a_catalogue_entry_may_be_restricted_and_opened_again(harvested, harvester_admin):
    _portal, _source, dataset = harvested
    assert dataset.status == DatasetStatus.PUBLISHED
    assert not any(r.current_version_id for r in dataset.resources.all())  # nothing loaded
    datahub.update_dataset(harvester_admin, dataset, access="restricted")
    datahub.update_dataset(harvester_admin, dataset, access="public")
    dataset.refresh_from_db()
    assert (dataset.status, dataset.access) == (DatasetStatus.PUBLISHED, "public")
    # what publish() refuses stays refused: a published dataset is never private
    with pytest.raises(Conflict) as error:
        datahub.update_dataset(harvester_admin, dataset, access="private")
    assert error.value.field == "access"
    dataset.refresh_from_db()
    assert dataset.access == "public"


def test_a_restricted_catalogue_entry_is_updated_by_the_next_harvest(harvested, harvester_admin):
    portal, source, dataset = harvested
    datahub.update_dataset(harvester_admin, dataset, access="restricted")
    item = next(i for i in portal.items() if i["dataset_uid"] == "da_6kvv9v")
    default = dict(item["metas"]["default"], title="World Administrative Boundaries")
    portal.edits[item["dataset_id"]] = {"metas": dict(item["metas"], default=default)}
    run = services.run_source(source)
    assert run.updated == 1, run.log
    dataset.refresh_from_db()
    assert dataset.title == "World Administrative Boundaries"
    assert (dataset.status, dataset.access) == (DatasetStatus.PUBLISHED, "public")
