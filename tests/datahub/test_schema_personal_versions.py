"""Table Schema validation, the personal-data guard, versions, rollback and access."""

import frictionless
import pytest

from metropole.core.exceptions import Conflict, NotFound, PermissionDenied
from metropole.core.models import AuditEvent, Role
from metropole.datahub import queries, services, storage
from metropole.datahub.models import VersionStatus

SCHEMA = {
    "fields": [
        {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "espece", "type": "string", "constraints": {"enum": ["Tilleul", "Érable"]}},
        {"name": "hauteur", "type": "number", "constraints": {"minimum": 0, "maximum": 40}},
        {"name": "plante_le", "type": "date"},
    ]
}
CSV = (
    "id,espece,hauteur,plante_le\n"
    "1,Tilleul,12.5,2001-03-01\n"
    "2,Chêne,8,2003-04-02\n"
    "3,Érable,-1,2010-05-06\n"
    "3,Tilleul,7,2011-02-30\n"
    ",Tilleul,abc,2012-01-01\n"
)


def test_schema_violations_are_reported_by_row_and_column(dataset, publisher, resource, load):
    services.update_dataset(publisher, dataset, table_schema=SCHEMA)
    version = load(resource, CSV.encode())
    assert version.status == VersionStatus.FAILED
    found = {(e["row"], e["column"], e["code"]) for e in version.report["errors"]}
    assert found == {
        (3, "espece", "constraint-error"),
        (4, "hauteur", "constraint-error"),
        (5, "id", "unique-error"),
        (5, "plante_le", "type-error"),
        (6, "id", "constraint-error"),
        (6, "hauteur", "type-error"),
    }
    resource.refresh_from_db()
    assert resource.current_version_id is None


def test_frictionless_finds_the_same_invalid_rows(dataset, publisher, resource, load, tmp_path):
    services.update_dataset(publisher, dataset, table_schema=SCHEMA)
    ours = load(resource, CSV.encode())
    (tmp_path / "arbres.csv").write_text(CSV)
    theirs = frictionless.validate(
        frictionless.Resource(
            path="arbres.csv",
            basepath=str(tmp_path),
            schema=frictionless.Schema.from_descriptor(SCHEMA),
        )
    )
    their_rows = {row for row, *_ in theirs.flatten(["rowNumber", "type"]) if row}
    assert their_rows  # frictionless did validate the rows
    assert {e["row"] for e in ours.report["errors"]} == their_rows


def test_valid_rows_loaded_when_the_publisher_chooses_so(dataset, publisher, resource, load):
    services.update_dataset(publisher, dataset, table_schema=SCHEMA, invalid_rows="skip")
    version = load(resource, CSV.encode())
    assert version.status == VersionStatus.READY
    assert [r["id"] for r in storage.read_rows(version)] == [1]
    assert version.invalid_row_count == 4


def test_invalid_schema_descriptor_is_refused(dataset, publisher):
    from metropole.core.exceptions import BadRequest

    with pytest.raises(BadRequest):
        services.update_dataset(publisher, dataset, table_schema={"fields": [{"type": "nope"}]})


PEOPLE = (
    "Nom,Courriel,Téléphone,Ville\n"
    "Jean Dupont,jean.dupont@example.org,06 12 34 56 78,Lille\n"
    "Marie Martin,marie.martin@example.org,03 20 00 00 00,Roubaix\n"
)


def test_personal_columns_block_publication_until_reviewed(
    dataset, publisher, resource, load, make_member, lille
):
    version = load(resource, PEOPLE.encode())
    flagged = [c["name"] for c in version.columns if c["personal"]["flagged"]]
    assert flagged == ["Nom", "Courriel", "Téléphone"]
    services.update_dataset(publisher, dataset, access="public")
    with pytest.raises(Conflict) as error:
        services.publish(publisher, dataset)
    assert "Courriel" in error.value.detail
    with pytest.raises(PermissionDenied):  # an agent is not a reviewer
        services.review_column(publisher, resource, "Courriel", "removed")
    reviewer = make_member("dpo@lille.example.org", lille, Role.ADMIN)
    services.review_column(reviewer, resource, "Courriel", "removed")
    services.review_column(reviewer, resource, "Téléphone", "removed")
    services.review_column(reviewer, resource, "Nom", "confirmed")
    services.publish(publisher, dataset)
    version.refresh_from_db()
    spec = queries.table_spec_for(publisher, resource.uid)
    assert [c.name for c in spec.columns] == ["Nom", "Ville"]
    assert storage.read_rows(version)[0] == {"Nom": "Jean Dupont", "Ville": "Lille"}
    assert not version.file  # the source file held the removed column
    # A later load never stores a removed column.
    again = load(resource, PEOPLE.encode())
    assert [c["name"] for c in again.stored_columns] == ["Nom", "Ville"]
    assert "jean.dupont" not in str(storage.read_rows(again))
    assert AuditEvent.objects.filter(action="datahub.column_reviewed").count() == 3
    assert AuditEvent.objects.filter(action="datahub.dataset_published").exists()


def test_versions_swap_and_rollback(dataset, publisher, resource, load):
    first = load(resource, b"a\n1\n")
    second = load(resource, b"a\n2\n3\n")
    resource.refresh_from_db()
    assert resource.current_version_id == second.pk
    first.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED
    assert storage.read_rows(first) == [{"a": 1}]  # still queryable
    services.rollback(publisher, resource, 1)
    resource.refresh_from_db()
    assert resource.current_version_id == first.pk
    assert queries.table_spec_for(publisher, resource.uid).row_count == 1
    failed = load(resource, b"a,b\n1\n")
    with pytest.raises(Conflict):
        services.rollback(publisher, resource, failed.number)


def test_old_tables_dropped_after_retention(dataset, publisher, resource, load, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.DATAHUB_VERSION_RETENTION_DAYS = 1
    settings.DATAHUB_VERSIONS_KEPT = 1
    first = load(resource, b"a\n1\n")
    load(resource, b"a\n2\n")
    assert services.drop_expired_versions(now=timezone.now()) == 0
    assert services.drop_expired_versions(now=timezone.now() + timedelta(days=2)) == 1
    first.refresh_from_db()
    assert first.table_dropped_at and not storage.table_exists(first)
    with pytest.raises(Conflict):
        services.rollback(publisher, resource, 1)


def test_pushed_rows_append_to_an_api_table(dataset, publisher, django_capture_on_commit_callbacks):
    resource = services.add_resource(publisher, dataset, title="Compteurs", kind="api")
    with django_capture_on_commit_callbacks(execute=True):
        services.push_rows(publisher, resource, [{"site": "Vauban", "passages": 120}])
    with django_capture_on_commit_callbacks(execute=True):
        version = services.push_rows(publisher, resource, [{"site": "Gare", "passages": 80}])
    version.refresh_from_db()
    assert version.status == VersionStatus.READY, version.error_detail
    assert [r["site"] for r in storage.read_rows(version)] == ["Vauban", "Gare"]
    with django_capture_on_commit_callbacks(execute=True):
        bad = services.push_rows(publisher, resource, [{"site": "X", "passages": "beaucoup"}])
    bad.refresh_from_db()
    assert bad.status == VersionStatus.FAILED
    resource.refresh_from_db()
    assert resource.current_version_id == version.pk


def test_access_rules(dataset, publisher, resource, load, make_user, make_member, lille, commune):
    from django.contrib.auth.models import AnonymousUser

    load(resource, b"a\n1\n")
    anonymous = AnonymousUser()
    roubaix_agent = make_member("agent@roubaix.example.org", commune("59512"), Role.AGENT)
    citizen = make_user("habitant@example.org")
    # private draft: only its managers
    for person in (anonymous, citizen, roubaix_agent):
        with pytest.raises(NotFound):
            queries.table_spec_for(person, resource.uid)
    assert queries.table_spec_for(publisher, resource.uid).row_count == 1
    services.update_dataset(publisher, dataset, access="restricted")
    services.publish(publisher, dataset)
    lille_agent = make_member("autre.agent@lille.example.org", lille, Role.AGENT)
    assert queries.table_spec_for(lille_agent, resource.uid)
    for person in (anonymous, citizen, roubaix_agent):
        with pytest.raises(NotFound):
            queries.table_spec_for(person, resource.uid)
    assert dataset not in queries.visible_datasets(citizen)
    services.update_dataset(publisher, dataset, access="public")
    assert queries.table_spec_for(anonymous, resource.uid)
    assert dataset in queries.visible_datasets(anonymous)
    with pytest.raises(PermissionDenied):  # others may read, not change
        services.upload(roubaix_agent, resource, b"")
    with pytest.raises(PermissionDenied):
        queries.table_spec_for(citizen, resource.uid, version=1)


def test_rgpd_export_and_erasure_of_a_reviewer(resource, load, make_member, lille):
    from metropole.core import services as core_services

    load(resource, PEOPLE.encode())
    reviewer = make_member("relecteur@lille.example.org", lille, Role.ADMIN)
    services.review_column(reviewer, resource, "Courriel", "removed")
    exported = core_services.export_personal_data(reviewer)["datahub"]
    assert exported["columns_reviewed"][0]["column"] == "Courriel"
    core_services.delete_account(reviewer)
    resource.refresh_from_db()
    assert resource.column_decisions["Courriel"]["by"] == f"deleted-account-{reviewer.pk}"
    assert resource.column_decisions["Courriel"]["decision"] == "removed"


def test_type_errors_are_said_for_their_type_in_french(dataset, publisher, resource, load):
    from django.utils import translation

    services.update_dataset(publisher, dataset, table_schema=SCHEMA)
    with translation.override("fr"):
        version = load(resource, CSV.encode())
    messages = {
        (e["row"], e["column"]): e["message"]
        for e in version.report["errors"]
        if e["code"] == "type-error"
    }
    assert messages[(6, "hauteur")] == "« abc » n'est pas un nombre"
    assert messages[(5, "plante_le")] == "« 2011-02-30 » n'est pas une date"
