"""Indicators collected from a data hub query (an aggregate over a published resource).

Runs when the data hub is installed (METROPOLE_EXTRA_APPS=metropole.steering,metropole.datahub);
skipped otherwise, since the source is only offered when the hub's query engine is there."""

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile

from metropole.core.exceptions import BadRequest
from metropole.steering import collectors, services
from metropole.steering.models import IndicatorValue, Provenance

pytestmark = pytest.mark.skipif(
    not apps.is_installed("metropole.datahub"), reason="the data hub is not installed"
)

CSV = "commune,annee,places\nLille,2023,120\nRoubaix,2023,45\nLille,2024,150\nRoubaix,2024,60\n"


@pytest.fixture
def published_resource(agent, settings, tmp_path, django_capture_on_commit_callbacks):
    from metropole.datahub import services as hub

    settings.DATAHUB_FILES_DIR = tmp_path / "datahub-files"
    dataset = hub.create_dataset(
        agent,
        agent.memberships.get().territory,
        title="Places en tiers-lieux",
        description="Places de médiation numérique par commune et par année.",
        themes=["SOCI"],
        access="public",
    )
    resource = hub.add_resource(agent, dataset, title="Places")
    with django_capture_on_commit_callbacks(execute=True):
        hub.upload(agent, resource, SimpleUploadedFile("places.csv", CSV.encode()))
    hub.publish(agent, dataset)
    return resource


def test_the_data_hub_is_a_collection_source(published_resource):
    assert "datahub" in collectors.SOURCES
    assert f"datahub:{published_resource.uid}" in dict(collectors.all_choices())


def test_an_indicator_fills_itself_from_an_aggregate(plan, agent, published_resource):
    indicator = services.add_indicator(
        agent,
        plan,
        name="Places de médiation en 2024",
        kind="result",
        unit="places",
        collector=f"datahub:{published_resource.uid}",
        collector_params={"aggregate": "sum(places)", "query": "annee=2024"},
    )
    collectors.collect(indicator)
    value = IndicatorValue.objects.get(indicator=indicator)
    assert value.value == 210 and value.provenance == Provenance.AUTOMATIC


def test_a_bad_data_hub_query_is_refused(plan, agent, published_resource):
    for params in (
        {"aggregate": "sum(nope)"},
        {"aggregate": "median(places)"},
        {"query": "nope=1"},
    ):
        with pytest.raises(BadRequest):
            services.add_indicator(
                agent,
                plan,
                name="X",
                kind="result",
                unit="u",
                collector=f"datahub:{published_resource.uid}",
                collector_params=params,
            )
