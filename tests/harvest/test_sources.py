"""Harvest sources: who may manage them (services, API, pages), their schedule
(`run_due`, the task, `manage.py harvest --due`), and the pages that show runs."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from metropole.core.exceptions import BadRequest, Conflict, PermissionDenied
from metropole.core.models import Role
from metropole.harvest import services, tasks
from metropole.harvest.models import HarvestRun, HarvestSource, RunStatus
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(ods_portal, harvester_admin, grand_paris):
    _portal, url, _licence = ods_portal
    return services.create_source(
        harvester_admin, grand_paris, name="Opendatasoft", kind="ods", url=url, schedule="daily"
    )


def test_only_administrators_of_the_territory_manage_sources(make_member, grand_paris, lille):
    agent = make_member("agent@grandparis.example.org", grand_paris, Role.AGENT)
    with pytest.raises(PermissionDenied):
        services.create_source(agent, grand_paris, name="X", kind="dcat", url="https://x.example/")
    lille_admin = make_member("admin@lille.example.org", lille, Role.ADMIN)
    with pytest.raises(PermissionDenied):
        services.create_source(
            lille_admin, grand_paris, name="X", kind="dcat", url="https://x.example/"
        )


def test_a_source_is_checked_and_unique(harvester_admin, grand_paris):
    with pytest.raises(BadRequest) as error:
        services.create_source(
            harvester_admin, grand_paris, name="X", kind="csw", url="https://x.example/"
        )
    assert error.value.field == "kind"
    services.create_source(
        harvester_admin, grand_paris, name="X", kind="dcat", url="https://x.example/"
    )
    with pytest.raises(Conflict):
        services.create_source(
            harvester_admin, grand_paris, name="Y", kind="ckan", url="https://x.example/"
        )


def test_due_sources_run_and_are_planned_again(source, harvester_admin, grand_paris):
    now = timezone.now()
    manual = services.create_source(
        harvester_admin,
        grand_paris,
        name="Manual",
        kind="dcat",
        url="https://m.example/",
        schedule="manual",
    )
    assert manual.next_run_at is None
    assert source.next_run_at <= timezone.now()

    ran = services.run_due(now=now)
    assert len(ran) == 1
    run = HarvestRun.objects.get(pk=ran[0])
    assert run.source == source and run.created == 1
    source.refresh_from_db()
    assert source.last_run_at == now
    assert source.next_run_at == now + timedelta(days=1)
    # Not due any more: nothing runs; a day later it runs again, and changes nothing.
    assert services.run_due(now=now + timedelta(hours=1)) == []
    (second,) = services.run_due(now=now + timedelta(days=1, minutes=1))
    assert HarvestRun.objects.get(pk=second).unchanged == 1
    assert not manual.runs.exists()


def test_a_paused_source_is_not_run(source, harvester_admin):
    services.update_source(harvester_admin, source, active=False)
    source.refresh_from_db()
    assert source.next_run_at is None
    assert services.run_due(now=timezone.now() + timedelta(days=2)) == []


def test_the_task_and_the_command(source):
    run_id = tasks.harvest_source.enqueue(source.pk).return_value
    assert HarvestRun.objects.get(pk=run_id).status == RunStatus.PARTIAL  # one licence missing
    HarvestSource.objects.filter(pk=source.pk).update(next_run_at=timezone.now())
    out = io.StringIO()
    call_command("harvest", "--due", stdout=out)
    assert "Opendatasoft [partial]: 1 page(s), 2 seen, 0 created" in out.getvalue()
    assert "da_5m8ykr" in out.getvalue()  # the dataset without a licence
    out = io.StringIO()
    call_command("harvest", str(source.pk), stdout=out)
    assert "1 failed" in out.getvalue()
    out = io.StringIO()
    call_command("harvest", "--list", stdout=out)
    assert source.url in out.getvalue()


def test_the_api(
    client, source, harvester_admin, make_member, grand_paris, django_capture_on_commit_callbacks
):
    assert client.get("/api/harvest/sources").status_code == 401
    client.login(email=harvester_admin.email, password=PASSWORD)
    listed = client.get("/api/harvest/sources").json()
    assert [s["id"] for s in listed] == [source.pk]
    created = client.post(
        "/api/harvest/sources",
        {
            "name": "MEL",
            "kind": "dcat",
            "url": "https://data.lillemetropole.fr/catalog.ttl",
            "territory": grand_paris.code,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["schedule"] == "daily"
    bad = client.post(
        "/api/harvest/sources",
        {"name": "MEL", "kind": "dcat", "url": "ftp://x", "territory": grand_paris.code},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "url"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/harvest/sources/{source.pk}/run").status_code == 202
    runs = client.get(f"/api/harvest/sources/{source.pk}/runs").json()
    assert runs[0]["seen"] == 2
    detail = client.get(f"/api/harvest/runs/{runs[0]['id']}").json()
    assert any(e["record"] == "da_5m8ykr" and e["level"] == "error" for e in detail["log"])
    patched = client.patch(
        f"/api/harvest/sources/{source.pk}", {"schedule": "weekly"}, content_type="application/json"
    )
    assert patched.json()["schedule"] == "weekly"
    # Someone else's source does not exist for an agent.
    agent = make_member("agent2@grandparis.example.org", grand_paris, Role.AGENT)
    client.logout()
    client.login(email=agent.email, password=PASSWORD)
    assert client.get(f"/api/harvest/sources/{source.pk}").status_code == 404
    assert client.get("/api/harvest/sources").json() == []


def test_the_pages(
    client, source, harvester_admin, grand_paris, make_member, django_capture_on_commit_callbacks
):
    slug = grand_paris.slug
    client.login(email=harvester_admin.email, password=PASSWORD)
    page = client.get(reverse("harvest:sources", kwargs={"slug": slug}))
    assert page.status_code == 200
    assert "Opendatasoft" in page.content.decode()
    added = client.post(
        reverse("harvest:sources", kwargs={"slug": slug}),
        {"name": "EnviDat", "kind": "ckan", "url": "https://www.envidat.ch", "schedule": "weekly"},
    )
    assert added.status_code == 302
    assert HarvestSource.objects.filter(name="EnviDat", schedule="weekly").exists()
    # A bad address is said next to its field.
    wrong = client.post(
        reverse("harvest:sources", kwargs={"slug": slug}),
        {"name": "Bad", "kind": "ckan", "url": "pas une adresse", "schedule": "weekly"},
    )
    assert wrong.status_code == 200 and "field--error" in wrong.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        ran = client.post(reverse("harvest:run_now", kwargs={"slug": slug, "pk": source.pk}))
    assert ran.status_code == 302
    run = source.runs.get()
    detail = client.get(reverse("harvest:source", kwargs={"slug": slug, "pk": source.pk}))
    assert reverse("harvest:run", kwargs={"slug": slug, "pk": source.pk, "run": run.pk}) in (
        detail.content.decode()
    )
    log = client.get(reverse("harvest:run", kwargs={"slug": slug, "pk": source.pk, "run": run.pk}))
    assert log.status_code == 200
    assert "da_5m8ykr" in log.content.decode()
    # Agents may not open these pages.
    agent = make_member("agent3@grandparis.example.org", grand_paris, Role.AGENT)
    client.logout()
    client.login(email=agent.email, password=PASSWORD)
    assert client.get(reverse("harvest:sources", kwargs={"slug": slug})).status_code == 403


def test_the_sources_page_reads_each_last_run_in_one_query(
    source, harvester_admin, grand_paris, django_assert_num_queries
):
    from datetime import timedelta

    from metropole.harvest import queries

    now = timezone.now()
    HarvestRun.objects.create(source=source, started_at=now - timedelta(days=1))
    latest = HarvestRun.objects.create(source=source, started_at=now, status=RunStatus.FAILED)
    never = services.create_source(
        harvester_admin, grand_paris, name="Jamais", kind="dcat", url="https://never.example/"
    )
    with django_assert_num_queries(2):
        items = queries.sources_with_last_run(grand_paris)
    assert dict(items) == {never: None, source: latest}
