# ruff: noqa: F401, F811  (fixtures imported from tests/datahub, then used by name)
"""Fixtures of the portal's page tests: the data hub's own fixtures (a publisher of Lille,
datasets, loading a file through the real pipeline) and a published, geolocated dataset."""

import pytest

from metropole.datahub import services
from tests.datahub.conftest import (  # noqa: F401  (fixtures shared with the core's tests)
    _private_files,
    dataset,
    load,
    make_dataset,
    publisher,
    resource,
)

TREES = (
    "Espèce;Commune;Hauteur (m);Plantation;latitude;longitude\n"
    "Tilleul;Lille;12,5;12/03/1998;50.6366;3.0635\n"
    "Platane;Lille;20;01/10/1975;50.6310;3.0580\n"
    "Érable;Roubaix;8;15/11/2010;50.6942;3.1746\n"
    "Tilleul;Roubaix;10;20/02/2001;50.6900;3.1800\n"
    "Chêne;Tourcoing;15,2;05/04/1990;50.7239;3.1612\n"
    "Tilleul;Villeneuve-d'Ascq;9;10/10/2005;50.6233;3.1450\n"
)


@pytest.fixture
def trees_csv():
    return TREES.encode()


@pytest.fixture
def published(make_dataset, publisher, load, trees_csv):
    """A public, published dataset of trees with one loaded, geolocated resource."""
    dataset = make_dataset(
        "Arbres d'alignement",
        access="public",
        themes=["ENVI"],
        keywords="arbres, nature",
        frequency="ANNUAL",
        contact_email="data@lille.example.org",
    )
    resource = services.add_resource(publisher, dataset, title="Arbres 2025")
    version = load(resource, trees_csv, name="arbres.csv")
    assert version.status == "ready", version.error_detail
    services.publish(publisher, dataset)
    dataset.refresh_from_db()
    resource.refresh_from_db()
    return dataset, resource
