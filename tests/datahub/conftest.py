"""Fixtures of the data hub: a publisher of Lille, datasets, and loading a file through
the real pipeline (the task runs inline: ImmediateBackend)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metropole.core.models import Role
from metropole.datahub import services
from metropole.datahub.models import ResourceVersion


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
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


@pytest.fixture
def make_dataset(publisher, lille):
    def make(title="Arbres d'alignement", **values):
        values.setdefault(
            "description", "Les arbres plantés le long des rues de la métropole, par espèce."
        )
        return services.create_dataset(publisher, lille, title=title, **values)

    return make


@pytest.fixture
def dataset(make_dataset):
    return make_dataset()


@pytest.fixture
def load(publisher, django_capture_on_commit_callbacks):
    """Upload bytes as a new version of `resource` and run its load; the version back."""

    def do(resource, content: bytes, name="data.csv", actor=None, **options) -> ResourceVersion:
        with django_capture_on_commit_callbacks(execute=True):
            version = services.upload(
                actor or publisher, resource, SimpleUploadedFile(name, content), **options
            )
        version.refresh_from_db()
        return version

    return do


@pytest.fixture
def resource(dataset, publisher):
    return services.add_resource(publisher, dataset, title="Fichier")


def as_bytes(text: str, encoding="utf-8") -> bytes:
    return io.StringIO(text).getvalue().encode(encoding)
