"""Building a small real catalogue through the data hub's services, shared by the
DCAT export tests and the harvest tests."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metropole.core.models import Role
from metropole.datahub import services

TREES_CSV = (
    b"espece;hauteur_m;commune;latitude;longitude\n"
    b"Platanus x acerifolia;18,5;Lille;50.6292;3.0573\n"
    b"Tilia cordata;12;Roubaix;50.6942;3.1746\n"
    b"Acer campestre;9,2;Tourcoing;50.7239;3.1612\n"
)
STOPS_CSV = b"arret,lignes\nGare Lille Flandres,1 2\nRepublique Beaux-Arts,1\n"


@pytest.fixture
def private_files(settings, tmp_path):
    settings.DATAHUB_FILES_DIR = tmp_path / "datahub-files"
    from metropole.datahub.models import private_storage

    for name in ("base_location", "location"):
        private_storage.__dict__.pop(name, None)
    yield
    for name in ("base_location", "location"):
        private_storage.__dict__.pop(name, None)


@pytest.fixture
def publisher(make_member, lille):
    return make_member("agent@lille.example.org", lille, Role.AGENT)


def publish_with_csv(actor, dataset, content: bytes, capture, name="data.csv"):
    resource = services.add_resource(actor, dataset, title=f"{dataset.title} (CSV)", format="csv")
    with capture(execute=True):
        services.upload(actor, resource, SimpleUploadedFile(name, content))
    return services.publish(actor, dataset)


@pytest.fixture
def catalogue(private_files, publisher, lille, commune, django_capture_on_commit_callbacks):
    """Three public published datasets (two loaded, one with a remote file too), one
    draft and one restricted dataset that must never be exported."""
    trees = services.create_dataset(
        publisher,
        lille,
        title="Arbres d'alignement",
        description="Les arbres plantés le long des rues de la métropole, par espèce.",
        keywords=["arbres", "nature en ville"],
        themes=["ENVI", "REGI"],
        frequency="ANNUAL",
        spatial=["59350", "59512"],
        temporal_start=date(2019, 1, 1),
        temporal_end=date(2023, 12, 31),
        contact_name="Service espaces verts",
        contact_email="espaces-verts@lille.example.org",
        schema_name="etalab/schema-arbres",
        schema_version="1.0.0",
        access="public",
    )
    publish_with_csv(publisher, trees, TREES_CSV, django_capture_on_commit_callbacks)
    services.add_resource(
        publisher,
        trees,
        title="Plan de gestion (PDF)",
        kind="remote",
        remote_url="https://www.lille.fr/plan-arbres.pdf",
    )
    stops = services.create_dataset(
        publisher,
        lille,
        title="Arrêts de transport",
        description="Les arrêts du réseau de transport en commun et leurs lignes.",
        themes=["TRAN"],
        frequency="MONTHLY",
        licence="odbl",
        access="public",
    )
    publish_with_csv(publisher, stops, STOPS_CSV, django_capture_on_commit_callbacks)
    budget = services.create_dataset(
        publisher,
        lille,
        title="Budget primitif",
        description="Le budget primitif voté par le conseil, par chapitre.",
        themes=["ECON", "GOVE"],
        access="public",
    )
    publish_with_csv(
        publisher,
        budget,
        b"chapitre,montant\n011,1200\n012,3400\n",
        django_capture_on_commit_callbacks,
    )
    draft = services.create_dataset(
        publisher,
        lille,
        title="Brouillon interne",
        description="Pas encore publié.",
        access="public",
    )
    restricted = services.create_dataset(
        publisher,
        lille,
        title="Données réservées aux agents",
        description="Réservé.",
        access="restricted",
    )
    publish_with_csv(publisher, restricted, STOPS_CSV, django_capture_on_commit_callbacks)
    return {
        "published": [trees, stops, budget],
        "trees": trees,
        "stops": stops,
        "hidden": [draft, restricted],
    }
