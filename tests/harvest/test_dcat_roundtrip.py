"""Harvesting a real DCAT-AP producer: our own export, served over HTTP by a live server.

Grand Paris harvests Lille's catalogue (Turtle paged by two, RDF/XML and JSON-LD): the
datasets are created with their metadata and their files as remote addresses; a second
harvest creates nothing; a change at the source updates the copy; a dataset the source
stops publishing is archived, not deleted."""

import pytest

from metropole.datahub import services as datahub
from metropole.datahub.models import Dataset, DatasetStatus, ResourceKind
from metropole.harvest import services
from metropole.harvest.models import HarvestedRecord, RunStatus


@pytest.mark.django_db(transaction=True)
def test_harvesting_our_own_catalogue_over_http(
    live_server, catalogue, publisher, harvester_admin, grand_paris
):
    published = {str(d.uid): d for d in catalogue["published"]}
    source = services.create_source(
        harvester_admin,
        grand_paris,
        name="Données ouvertes de la MEL",
        kind="dcat",
        url=f"{live_server.url}/catalog.ttl?page_size=2",
    )

    run = services.run_source(source)
    assert (run.status, run.pages, run.seen) == (RunStatus.DONE, 2, 3), run.log
    assert (run.created, run.updated, run.unchanged, run.failed) == (3, 0, 0, 0)
    records = {r.remote_id: r.dataset for r in HarvestedRecord.objects.filter(source=source)}
    # The remote identifier is the exported dct:identifier: the source dataset's UUID.
    assert set(records) == set(published)
    trees = records[str(catalogue["trees"].uid)]
    assert trees.territory == grand_paris
    assert trees.status == DatasetStatus.PUBLISHED and trees.access == "public"
    assert trees.title == "Arbres d'alignement"
    assert sorted(trees.keywords) == ["arbres", "nature en ville"]
    assert sorted(trees.theme_codes) == ["ENVI", "REGI"]
    assert trees.frequency == "ANNUAL" and trees.licence == "etalab-2.0"
    assert (str(trees.temporal_start), str(trees.temporal_end)) == ("2019-01-01", "2023-12-31")
    assert trees.contact_email == "espaces-verts@lille.example.org"
    assert (trees.schema_name, trees.schema_version) == ("etalab/schema-arbres", "1.0.0")
    assert str(catalogue["trees"].uid) in trees.provenance
    assert records[str(catalogue["stops"].uid)].licence == "odbl"
    # The files are remote addresses (the source's export URLs and the PDF): nothing pulled.
    resources = list(trees.resources.all())
    assert resources and all(r.kind == ResourceKind.REMOTE for r in resources)
    assert all(r.next_pull_at is None and not r.versions.exists() for r in resources)
    urls = {r.remote_url for r in resources}
    upload = catalogue["trees"].resources.get(kind="upload")
    assert f"{live_server.url}/api/datahub/resources/{upload.uid}/export.csv" in urls
    assert "https://www.lille.fr/plan-arbres.pdf" in urls

    # Idempotent: a second harvest writes nothing new.
    count = Dataset.objects.count()
    resource_ids = sorted(r.pk for r in trees.resources.all())
    again = services.run_source(source)
    assert (again.created, again.updated, again.unchanged, again.archived) == (0, 0, 3, 0)
    assert Dataset.objects.count() == count
    assert sorted(r.pk for r in trees.resources.all()) == resource_ids

    # A change at the source updates the copy, and only that one.
    datahub.update_dataset(publisher, catalogue["stops"], title="Arrêts du réseau Ilévia")
    changed = services.run_source(source)
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    stops_copy = Dataset.objects.get(pk=records[str(catalogue["stops"].uid)].pk)
    assert stops_copy.title == "Arrêts du réseau Ilévia"

    # A dataset the source archives disappears from its catalogue: the copy is archived.
    datahub.archive(publisher, catalogue["published"][2])
    removed = services.run_source(source)
    assert (removed.archived, removed.unchanged) == (1, 2)
    copy = Dataset.objects.get(pk=records[str(catalogue["published"][2].uid)].pk)
    assert copy.status == DatasetStatus.ARCHIVED
    assert HarvestedRecord.objects.get(dataset=copy).removed_at is not None

    # Republished at the source: the copy comes back.
    datahub.publish(publisher, catalogue["published"][2])
    back = services.run_source(source)
    assert back.updated == 1
    assert Dataset.objects.get(pk=copy.pk).status == DatasetStatus.PUBLISHED

    # Harvested copies are not exported again by the harvesting hub.
    assert Dataset.objects.count() == count


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("ext", ["rdf", "jsonld"])
def test_rdf_xml_and_json_ld_catalogues_harvest_the_same(
    live_server, catalogue, harvester_admin, grand_paris, ext
):
    source = services.create_source(
        harvester_admin,
        grand_paris,
        name=f"MEL ({ext})",
        kind="dcat",
        url=f"{live_server.url}/catalog.{ext}",
    )
    run = services.run_source(source)
    assert (run.status, run.created, run.failed) == (RunStatus.DONE, 3, 0), run.log
    titles = set(
        HarvestedRecord.objects.filter(source=source).values_list("dataset__title", flat=True)
    )
    assert titles == {d.title for d in catalogue["published"]}
