"""The publishers' back-office: who may open it, creating and describing a dataset (errors by
field), sending a file and following its load, the report, personal-data review, versions
and rollback, publish / archive."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from metropole.core.models import Role
from metropole.datahub import services
from metropole.datahub.models import Dataset, DatasetStatus, ResourceVersion


def url(name, dataset=None, **kwargs):
    if dataset is not None:
        kwargs.update(slug=dataset.territory.slug, dataset=dataset.slug)
    return reverse(f"datahub:{name}", kwargs=kwargs)


@pytest.fixture
def agent_client(client, publisher):
    client.force_login(publisher)
    return client


def test_back_office_needs_a_staff_role(client, lille, make_user, publisher):
    target = reverse("datahub:manage", kwargs={"slug": lille.slug})
    response = client.get(target)
    assert response.status_code == 302 and "/compte/connexion/" in response["Location"]
    client.force_login(make_user("citoyen@example.org"))
    assert client.get(target).status_code == 403
    client.force_login(publisher)
    html = client.get(target).content.decode()
    assert "Publish a new dataset" in html
    # the administration's side menu carries the data hub's entry
    assert f'href="{target}" aria-current="page">Data</a>' in html


def test_agent_of_a_commune_cannot_open_another_communes_datasets(
    client, dataset, make_member, commune
):
    roubaix = commune("59512")
    client.force_login(make_member("agent@roubaix.example.org", roubaix, Role.AGENT))
    assert client.get(reverse("datahub:manage", kwargs={"slug": roubaix.slug})).status_code == 200
    # Lille's dataset under Roubaix's slug, and under Lille's
    wrong = reverse(
        "datahub:manage_dataset", kwargs={"slug": roubaix.slug, "dataset": dataset.slug}
    )
    assert client.get(wrong).status_code in (403, 404)
    assert client.get(url("manage_dataset", dataset)).status_code == 403
    assert client.post(url("change_status", dataset), {"action": "publish"}).status_code == 403


def test_create_dataset_with_errors_by_field_then_valid(agent_client, lille):
    target = reverse("datahub:create", kwargs={"slug": lille.slug})
    assert agent_client.get(target).status_code == 200
    response = agent_client.post(
        target,
        {
            "title": "",
            "licence": "etalab-2.0",
            "frequency": "ANNUAL",
            "access": "public",
            "invalid_rows": "reject",
        },
    )
    assert response.status_code == 200
    assert re.search(r"field--error.*?id_title", response.content.decode(), re.S)
    # errors found by the service come back on their field
    response = agent_client.post(
        target,
        {
            "title": "Bancs publics",
            "licence": "etalab-2.0",
            "frequency": "ANNUAL",
            "access": "public",
            "invalid_rows": "reject",
            "contact_email": "pas-une-adresse",
            "temporal_start": "2024-01-01",
            "temporal_end": "2023-01-01",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Enter a valid e-mail address." in html
    assert not Dataset.objects.filter(title="Bancs publics").exists()
    response = agent_client.post(
        target,
        {
            "title": "Bancs publics",
            "licence": "etalab-2.0",
            "frequency": "ANNUAL",
            "access": "public",
            "invalid_rows": "reject",
            "description": "Les bancs de la ville.",
            "keywords": "bancs, mobilier",
            "themes": ["REGI", "SOCI"],
            "spatial": ["59350"],
            "table_schema": '{"fields": [{"name": "x", "type": "integer"}]}',
        },
    )
    dataset = Dataset.objects.get(title="Bancs publics")
    assert response.status_code == 302
    assert response["Location"] == url("add_resource", dataset)
    assert dataset.status == DatasetStatus.DRAFT and dataset.keywords == ["bancs", "mobilier"]
    assert sorted(dataset.theme_codes) == ["REGI", "SOCI"]
    assert [t.code for t in dataset.spatial.all()] == ["59350"]


def test_invalid_table_schema_is_reported_on_its_field(agent_client, lille):
    response = agent_client.post(
        reverse("datahub:create", kwargs={"slug": lille.slug}),
        {
            "title": "Schéma cassé",
            "licence": "etalab-2.0",
            "frequency": "ANNUAL",
            "access": "public",
            "invalid_rows": "reject",
            "table_schema": "{not json",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"field--error.*?id_table_schema", html, re.S)
    assert not Dataset.objects.filter(title="Schéma cassé").exists()


def test_edit_dataset_keeps_values_and_saves(agent_client, dataset):
    html = agent_client.get(url("edit", dataset)).content.decode()
    assert dataset.title.replace("'", "&#x27;") in html
    response = agent_client.post(
        url("edit", dataset),
        {
            "title": "Arbres remarquables",
            "licence": "odbl",
            "frequency": "MONTHLY",
            "access": "restricted",
            "invalid_rows": "skip",
            "description": dataset.description,
        },
    )
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert (dataset.title, dataset.licence, dataset.access) == (
        "Arbres remarquables",
        "odbl",
        "restricted",
    )


def test_upload_follow_the_load_and_publish(
    agent_client, dataset, trees_csv, django_capture_on_commit_callbacks
):
    services.update_dataset(dataset.created_by, dataset, access="public")
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url("add_resource", dataset),
            {
                "title": "Arbres 2025",
                "kind": "upload",
                "file": SimpleUploadedFile("arbres.csv", trees_csv, "text/csv"),
            },
        )
    version = ResourceVersion.objects.get(resource__dataset=dataset)
    assert response.status_code == 302
    assert response["Location"] == url("version", dataset, resource=version.resource.uid, number=1)
    html = agent_client.get(response["Location"]).content.decode()
    assert "Loaded: 6 rows." in html and "hx-get" not in html
    # the polled block asks htmx to reload the page once the load is over
    status = agent_client.get(
        url("version_status", dataset, resource=version.resource.uid, number=1),
        HTTP_HX_REQUEST="true",
    )
    assert status["HX-Refresh"] == "true"
    response = agent_client.post(url("change_status", dataset), {"action": "publish"}, follow=True)
    assert "The dataset is published." in response.content.decode()
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.PUBLISHED
    response = agent_client.post(url("change_status", dataset), {"action": "archive"}, follow=True)
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.ARCHIVED


def test_progress_block_polls_while_the_load_waits(agent_client, dataset, publisher):
    resource = services.add_resource(publisher, dataset, title="En attente")
    # no on-commit capture: the load task is never run, the version stays queued
    version = services.upload(publisher, resource, SimpleUploadedFile("a.csv", b"a\n1\n"))
    target = url("version", dataset, resource=resource.uid, number=version.number)
    html = agent_client.get(target).content.decode()
    assert "waiting for its turn" in html and 'hx-trigger="every 2s"' in html
    assert "htmx.min.js" in html and "Refresh to see the progress" in html
    fragment = agent_client.get(
        url("version_status", dataset, resource=resource.uid, number=version.number),
        HTTP_HX_REQUEST="true",
    )
    assert "HX-Refresh" not in fragment and 'id="load-progress"' in fragment.content.decode()


def test_a_failed_load_shows_why_and_keeps_the_previous_data(agent_client, dataset, resource, load):
    load(resource, b"a,b\n1,2\n")
    failed = load(
        resource, b'{"type": "FeatureCollection", "features": [{"type": "Feature"', name="x.geojson"
    )
    assert failed.status == "failed"
    html = agent_client.get(
        url("version", dataset, resource=resource.uid, number=failed.number)
    ).content.decode()
    assert "The load failed." in html and failed.error_title in html
    resource.refresh_from_db()
    assert resource.current_version.number == 1


def test_schema_errors_are_listed_by_row_and_column(agent_client, make_dataset, publisher, load):
    dataset = make_dataset(
        "Compteurs",
        table_schema={
            "fields": [{"name": "site", "type": "string"}, {"name": "passages", "type": "integer"}]
        },
        invalid_rows="skip",
    )
    resource = services.add_resource(publisher, dataset, title="Comptages")
    version = load(resource, b"site,passages\nA,10\nB,beaucoup\nC,30\n")
    assert version.status == "ready", version.error_detail
    html = agent_client.get(
        url("version", dataset, resource=resource.uid, number=version.number)
    ).content.decode()
    assert "Rows refused" in html
    row = re.search(r'<td class="num">(\d+)</td><td>passages</td>', html)
    assert row and row.group(1) == "3", html


def test_personal_columns_block_publication_until_reviewed(
    client, dataset, publisher, load, make_member, lille
):
    services.update_dataset(publisher, dataset, access="public")
    resource = services.add_resource(publisher, dataset, title="Contacts")
    load(
        resource,
        b"structure,courriel\nMairie,jean.dupont@example.org\nCCAS,marie.martin@example.org\n",
    )
    client.force_login(publisher)
    html = client.get(url("manage_dataset", dataset)).content.decode()
    assert "courriel" in html and "An administrator of" in html
    assert "Remove the column" not in html  # an agent may not decide
    response = client.post(url("change_status", dataset), {"action": "publish"}, follow=True)
    assert (
        "courriel" in response.content.decode()
        and "Cannot publish yet" in response.content.decode()
    )
    dataset.refresh_from_db()
    assert dataset.status == DatasetStatus.DRAFT
    response = client.post(
        url("review_column", dataset, resource=resource.uid),
        {"column": "courriel", "decision": "removed"},
        follow=True,
    )
    assert "Permission" in response.content.decode() or "may not" in response.content.decode()
    # an administrator removes it: it disappears from the table and the API, publication works
    client.force_login(make_member("admin@lille.example.org", lille, Role.ADMIN))
    response = client.post(
        url("review_column", dataset, resource=resource.uid),
        {"column": "courriel", "decision": "removed", "next": "dataset"},
    )
    assert response["Location"] == url("manage_dataset", dataset)
    response = client.post(url("change_status", dataset), {"action": "publish"}, follow=True)
    assert "The dataset is published." in response.content.decode()
    client.logout()
    page = client.get(
        reverse("datahub:dataset", kwargs={"slug": dataset.slug}), {"ressource": resource.uid}
    )
    html = page.content.decode()
    assert "Mairie" in html and "jean.dupont" not in html and "courriel" not in html


def test_confirming_a_column_keeps_it(client, dataset, publisher, load, make_member, lille):
    resource = services.add_resource(publisher, dataset, title="Accueil")
    load(resource, b"lieu,telephone\nMairie,03 20 49 50 00\n")
    client.force_login(make_member("admin@lille.example.org", lille, Role.ADMIN))
    client.post(
        url("review_column", dataset, resource=resource.uid),
        {"column": "telephone", "decision": "confirmed"},
    )
    html = client.get(url("manage_resource", dataset, resource=resource.uid)).content.decode()
    assert "confirmed not personal" in html


def test_new_version_and_rollback(agent_client, dataset, resource, load):
    load(resource, b"a,b\n1,2\n")
    load(resource, b"a,b\n1,2\n3,4\n")
    html = agent_client.get(url("manage_resource", dataset, resource=resource.uid)).content.decode()
    assert "Put back online" in html and "version 2" in html
    response = agent_client.post(
        url("rollback", dataset, resource=resource.uid, number=1), follow=True
    )
    assert "Version 1 is served again." in response.content.decode()
    resource.refresh_from_db()
    assert resource.current_version.number == 1
    response = agent_client.post(
        url("rollback", dataset, resource=resource.uid, number=9), follow=True
    )
    assert "no version 9" in response.content.decode()


def test_upload_a_new_version_from_the_resource_page(
    agent_client, dataset, resource, load, django_capture_on_commit_callbacks
):
    load(resource, b"a,b\n1,2\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url("manage_resource", dataset, resource=resource.uid),
            {"file": SimpleUploadedFile("v2.csv", b"a,b\n5,6\n7,8\n"), "invalid_rows": ""},
        )
    assert response["Location"] == url("version", dataset, resource=resource.uid, number=2)
    resource.refresh_from_db()
    assert resource.current_version.row_count == 2


def test_resource_form_needs_a_file_or_an_address(agent_client, dataset):
    response = agent_client.post(url("add_resource", dataset), {"title": "X", "kind": "upload"})
    assert "Choose the file to send." in response.content.decode()
    response = agent_client.post(
        url("add_resource", dataset), {"title": "X", "kind": "remote", "remote_url": "ftp://nope"}
    )
    assert response.status_code == 200 and "https://" in response.content.decode()
    assert not dataset.resources.exists()


def test_the_size_announced_is_the_smaller_of_the_two_limits(
    agent_client, dataset, resource, settings
):
    """A file above the platform's request limit is refused (413) before the data hub sees
    it: the pages announce that limit when it is the smaller one."""
    pages = (url("add_resource", dataset), url("manage_resource", dataset, resource=resource.uid))
    settings.DATAHUB_MAX_SOURCE_BYTES = 3_000_000
    settings.METROPOLE_MAX_REQUEST_BYTES = 50 * 1024**2
    for page in pages:
        assert "At most 3.0 MB." in agent_client.get(page).content.decode()
    settings.METROPOLE_MAX_REQUEST_BYTES = 2 * 1024**2
    for page in pages:
        assert "At most 2.0\xa0MB." in agent_client.get(page).content.decode()
    too_large = agent_client.post(
        pages[1], {"file": SimpleUploadedFile("big.csv", b"a\n" + b"1\n" * 1_100_000)}
    )
    assert too_large.status_code == 413
    assert "2.0\xa0MB" in too_large.content.decode()


def test_publishing_a_private_draft_is_refused_clearly(agent_client, dataset, resource, load):
    load(resource, b"a,b\n1,2\n")
    response = agent_client.post(url("change_status", dataset), {"action": "publish"}, follow=True)
    assert "Choose public or restricted access before publishing." in response.content.decode()


def test_an_empty_file_is_refused_next_to_the_file_field(agent_client, dataset):
    response = agent_client.post(
        url("add_resource", dataset),
        {"title": "Vide", "kind": "upload", "file": SimpleUploadedFile("vide.csv", b"")},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"field--error.*?id_file", html, re.S)
    assert not dataset.resources.exists()


@pytest.fixture
def file_server(tmp_path):
    """A real HTTP server on loopback serving tmp_path (a publisher's web address)."""
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_file_on_the_web_is_fetched_and_loaded(
    agent_client, dataset, file_server, trees_csv, django_capture_on_commit_callbacks
):
    folder, base = file_server
    (folder / "arbres.csv").write_bytes(trees_csv)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url("add_resource", dataset),
            {
                "title": "Arbres (web)",
                "kind": "remote",
                "remote_url": f"{base}/arbres.csv",
                "pull_frequency": "WEEKLY",
            },
        )
    resource = dataset.resources.get()
    assert response["Location"] == url("version", dataset, resource=resource.uid, number=1)
    resource.refresh_from_db()
    assert resource.kind == "remote" and resource.current_version.row_count == 6
    # an address that does not answer: the resource is kept, the publisher is told
    response = agent_client.post(
        url("add_resource", dataset),
        {"title": "Absent", "kind": "remote", "remote_url": f"{base}/absent.csv"},
        follow=True,
    )
    assert "could not be fetched" in response.content.decode()
    assert dataset.resources.filter(title="Absent", current_version=None).exists()


def test_the_dataset_page_says_how_to_raise_the_quality_score(agent_client, dataset, publisher):
    html = agent_client.get(url("manage_dataset", dataset)).content.decode()
    hint = re.search(r"To raise the quality score, add: ([^.]*)\.", html).group(1)
    assert "keywords" in hint and "the period covered" in hint
    services.update_dataset(publisher, dataset, keywords="arbres, rues")
    html = agent_client.get(url("manage_dataset", dataset)).content.decode()
    hint = re.search(r"To raise the quality score, add: ([^.]*)\.", html).group(1)
    assert "keywords" not in hint and "the period covered" in hint


def h1_of(html: str) -> str:
    return re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip()


def test_the_load_pages_title_says_the_outcome_once_the_load_is_over(
    agent_client, dataset, resource, load, publisher
):
    """While the file loads the title says so; once the progress box reports the end, the
    title says the version is loaded, or that its load failed (in French too)."""
    loaded = load(resource, b"a,b\n1,2\n")
    failed = load(
        resource, b'{"type": "FeatureCollection", "features": [{"type": "Feature"', name="x.geojson"
    )
    html = agent_client.get(url("version", dataset, resource=resource.uid, number=loaded.number))
    assert h1_of(html.content.decode()) == "Version 1 is loaded"
    html = agent_client.get(url("version", dataset, resource=resource.uid, number=failed.number))
    assert h1_of(html.content.decode()) == "Load of version 2 failed"
    waiting = services.upload(publisher, resource, SimpleUploadedFile("a.csv", b"a\n1\n"))
    html = agent_client.get(url("version", dataset, resource=resource.uid, number=waiting.number))
    assert h1_of(html.content.decode()) == f"Load of version {waiting.number}"
    french = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    target = url("version", dataset, resource=resource.uid, number=loaded.number)
    assert h1_of(agent_client.get(target, **french).content.decode()) == "Version 1 chargée"
    target = url("version", dataset, resource=resource.uid, number=failed.number)
    html = agent_client.get(target, **french).content.decode()
    assert h1_of(html) == "Échec du chargement de la version 2"
