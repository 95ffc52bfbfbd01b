"""The public portal: search with facets, the dataset page (metadata, table with filters and
cursor pages, chart builder, map sample, API examples, downloads) and who sees what."""

import json
import re

import pytest
from django.urls import reverse

from metropole.core.models import Role
from metropole.datahub import services


def page_of(dataset):
    return reverse("datahub:dataset", kwargs={"slug": dataset.slug})


def test_index_lists_published_public_datasets_with_facets(client, published, make_dataset):
    dataset, _resource = published
    make_dataset("Budget primitif", description="Brouillon jamais publié, invisible.")
    response = client.get(reverse("datahub:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert dataset.title.replace("'", "&#x27;") in html
    assert "Budget primitif" not in html
    # facets with counts: theme Environment (1), format CSV (1)
    theme = re.search(r'href="\?theme=ENVI">[^<]*Environment <span class="badge[^"]*">1<', html)
    assert theme, html
    assert "?format=csv" in html
    assert re.search(r"Quality \d+/100", html)


def test_index_search_and_facet_filter(client, published, make_dataset, publisher, load):
    other = make_dataset("Parkings relais", access="public", themes=["TRAN"])
    resource = services.add_resource(publisher, other, title="Parkings")
    load(resource, b"parking,places\nP+R Porte des Postes,300\n")
    services.publish(publisher, other)
    html = client.get(reverse("datahub:index"), {"q": "parkings"}).content.decode()
    assert "Parkings relais" in html and "Arbres d" not in html
    html = client.get(reverse("datahub:index"), {"theme": "ENVI"}).content.decode()
    assert "Arbres d" in html and "Parkings relais" not in html
    assert "Clear all filters" in html
    html = client.get(reverse("datahub:index"), {"q": "zzzz-nothing"}).content.decode()
    assert "No dataset matches" in html


def test_dataset_page_shows_metadata_table_downloads_and_api(client, published):
    dataset, resource = published
    response = client.get(page_of(dataset))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Licence Ouverte" in html and "data@lille.example.org" in html
    assert "6 rows match." in html
    for species in ("Tilleul", "Platane", "Chêne"):
        assert species in html
    records = f"/api/datahub/resources/{resource.uid}/records"
    assert f"http://testserver{records}?limit=20" in html
    assert f"/api/datahub/resources/{resource.uid}/export.csv" in html  # the curl example
    for fmt in ("csv", "json", "geojson", "parquet"):
        assert f"/data/{dataset.slug}/{resource.uid}/telecharger.{fmt}" in html
    assert "urllib.request.urlopen" in html
    # the examples filter and count by a column whose values repeat, with a real value
    assert f"{records}?Esp%C3%A8ce=Tilleul&amp;limit=20" in html
    assert "aggregate?group_by=Esp%C3%A8ce&amp;aggregate=count&amp;sort=-count" in html
    # the map needs the sample's URL
    assert reverse("datahub:map_sample", kwargs={"slug": dataset.slug, "resource": resource.uid})
    assert "data-datahub-map" in html


def test_table_filters_narrow_the_rows(client, published):
    dataset, _resource = published
    html = client.get(
        page_of(dataset), {"f1_col": "Commune", "f1_op": "eq", "f1_val": "Roubaix"}
    ).content.decode()
    assert "2 rows match." in html
    assert "Érable" in html and "Platane" not in html
    html = client.get(
        page_of(dataset),
        {"f1_col": "Hauteur (m)", "f1_op": "gte", "f1_val": "12", "sort": "-Hauteur (m)"},
    ).content.decode()
    assert "3 rows match." in html
    assert html.index("Platane") < html.index("Chêne") < html.index("Tilleul")
    # the downloads keep the filters
    link = re.search(r'href="([^"]*telecharger\.csv[^"]*)"', html).group(1)
    assert "f1_col=Hauteur+%28m%29&amp;f1_op=gte&amp;f1_val=12" in link


def test_bad_filter_is_explained_not_a_crash(client, published):
    dataset, _resource = published
    response = client.get(
        page_of(dataset), {"f1_col": "Hauteur (m)", "f1_op": "gt", "f1_val": "grand"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and "Invalid value" in html
    response = client.get(page_of(dataset), {"f1_col": "Nope", "f1_op": "eq", "f1_val": "1"})
    assert "Unknown column" in response.content.decode()


def test_table_pages_by_cursor(client, published, monkeypatch):
    from metropole.datahub.views import explore

    monkeypatch.setattr(explore, "PAGE_SIZE", 4)
    dataset, _resource = published
    html = client.get(page_of(dataset)).content.decode()
    assert "Showing 4 rows." in html
    next_url = re.search(r'href="(\?[^"]*cursor=[^"]+)"', html).group(1).replace("&amp;", "&")
    second = client.get(page_of(dataset) + next_url.split("#")[0]).content.decode()
    assert "Showing 2 rows." in second
    assert "Villeneuve" in second and "Platane" not in second
    assert "First rows" in second


def test_chart_builder_counts_and_sums_with_table_alternative(client, published):
    dataset, _resource = published
    html = client.get(
        page_of(dataset), {"chart_by": "Commune", "chart_agg": "count", "chart_kind": "bar"}
    ).content.decode()
    assert "Number of rows by Commune" in html
    assert "<svg" in html and "See the figures as a table" in html
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>', html))
    assert rows == {"Lille": "2", "Roubaix": "2", "Tourcoing": "1", "Villeneuve-d&#x27;Ascq": "1"}
    html = client.get(
        page_of(dataset),
        {
            "chart_by": "Commune",
            "chart_agg": "sum",
            "chart_of": "Hauteur (m)",
            "f1_col": "Commune",
            "f1_op": "eq",
            "f1_val": "Lille",
        },
    ).content.decode()
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>', html))
    assert list(rows) == ["Lille"] and rows["Lille"] == "32.5"


def test_chart_by_year_as_a_line(client, published):
    dataset, _resource = published
    html = client.get(
        page_of(dataset),
        {
            "chart_by": "Plantation",
            "chart_part": "year",
            "chart_agg": "count",
            "chart_kind": "line",
        },
    ).content.decode()
    years = re.findall(r'<th scope="row">([^<]+)</th>', html)
    assert years == sorted(years) and "1975" in years and len(years) == 6
    assert "polyline" in html


def test_chart_errors_are_explained(client, published):
    dataset, _resource = published
    html = client.get(
        page_of(dataset), {"chart_by": "Commune", "chart_agg": "avg"}
    ).content.decode()
    assert "Choose the column to add up" in html
    html = client.get(
        page_of(dataset), {"chart_by": "Commune", "chart_agg": "sum", "chart_of": "Commune"}
    ).content.decode()
    assert 'role="alert"' in html and "<svg" not in html


def test_map_sample_is_geojson_with_the_filters(client, published):
    dataset, resource = published
    url = reverse("datahub:map_sample", kwargs={"slug": dataset.slug, "resource": resource.uid})
    data = json.loads(client.get(url).content)
    assert len(data["features"]) == 6
    lille = next(f for f in data["features"] if f["properties"]["Espèce"] == "Tilleul")
    assert lille["geometry"]["type"] == "Point"
    data = json.loads(
        client.get(url, {"f1_col": "Commune", "f1_op": "eq", "f1_val": "Tourcoing"}).content
    )
    assert [f["properties"]["Espèce"] for f in data["features"]] == ["Chêne"]
    assert data["features"][0]["geometry"]["coordinates"] == [3.1612, 50.7239]


def test_map_sample_is_cut_short(client, published, monkeypatch):
    from metropole.datahub.views import explore

    monkeypatch.setattr(explore, "MAP_SAMPLE", 2)
    dataset, resource = published
    url = reverse("datahub:map_sample", kwargs={"slug": dataset.slug, "resource": resource.uid})
    assert len(json.loads(client.get(url).content)["features"]) == 2


def test_download_link_gives_the_filtered_csv(client, published):
    dataset, resource = published
    html = client.get(
        page_of(dataset), {"f1_col": "Commune", "f1_op": "eq", "f1_val": "Lille"}
    ).content.decode()
    link = re.search(r'href="([^"]*telecharger\.csv[^"]*)"', html).group(1).replace("&amp;", "&")
    response = client.get(link)
    assert response.status_code == 302 and "/export.csv?Commune__eq=Lille" in response["Location"]
    response = client.get(response["Location"])
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("_id,Espèce,Commune")


@pytest.mark.parametrize("access", ["private", "restricted"])
def test_draft_and_restricted_visibility(
    client, make_dataset, make_user, make_member, commune, publisher, load, access, lille
):
    dataset = make_dataset("Données internes", access=access)
    resource = services.add_resource(publisher, dataset, title="Fichier")
    load(resource, b"a,b\n1,2\n")
    # a draft: nobody but its publishers
    assert client.get(page_of(dataset)).status_code == 404
    assert dataset.title not in client.get(reverse("datahub:index")).content.decode()
    client.force_login(make_user("citoyen@example.org"))
    assert client.get(page_of(dataset)).status_code == 404
    client.force_login(publisher)
    assert client.get(page_of(dataset)).status_code == 200
    if access == "restricted":
        services.publish(publisher, dataset)
        client.force_login(make_user("autre@example.org"))
        assert client.get(page_of(dataset)).status_code == 404
        # an agent of Lille's metropole may read it; an agent of Roubaix may not
        client.force_login(make_member("agent2@lille.example.org", lille, Role.AGENT))
        assert client.get(page_of(dataset)).status_code == 200
        client.force_login(make_member("agent@roubaix.example.org", commune("59512"), Role.AGENT))
        assert client.get(page_of(dataset)).status_code == 404
        client.logout()
        assert client.get(page_of(dataset)).status_code == 404
        url = reverse("datahub:map_sample", kwargs={"slug": dataset.slug, "resource": resource.uid})
        assert client.get(url).status_code == 404


def test_unknown_dataset_is_404(client, db):
    assert (
        client.get(reverse("datahub:dataset", kwargs={"slug": "nothing-here"})).status_code == 404
    )


def test_dataset_without_data_says_so(client, publisher, make_dataset):
    dataset = make_dataset("Vide")
    client.force_login(publisher)
    html = client.get(page_of(dataset)).content.decode()
    assert "This dataset has no file yet." in html


def test_the_pages_map_follows_the_tables_filters(client, published):
    dataset, _resource = published
    html = client.get(
        page_of(dataset), {"f1_col": "Commune", "f1_op": "eq", "f1_val": "Roubaix"}
    ).content.decode()
    url = re.search(r'data-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    species = [f["properties"]["Espèce"] for f in json.loads(client.get(url).content)["features"]]
    assert sorted(species) == ["Tilleul", "Érable"]


def test_dcat_links_follow_the_harvest_app(client, published, settings):
    dataset, _resource = published
    html = client.get(page_of(dataset)).content.decode()
    index = client.get(reverse("datahub:index")).content.decode()
    if "metropole.harvest" in settings.INSTALLED_APPS:
        assert f"/catalog/datasets/{dataset.uid}.ttl" in html and "/catalog.jsonld" in index
    else:  # no DCAT endpoint is mounted: no dead link
        assert "/catalog" not in html and "/catalog" not in index


def test_pages_are_in_french_by_default(published):
    from django.test import Client

    dataset, _resource = published
    french = Client()  # no Accept-Language: the platform's default language
    html = french.get(page_of(dataset)).content.decode()
    assert "Faire un graphique" in html and "6 lignes correspondent." in html
    assert "Télécharger en CSV" in html
    html = french.get(reverse("datahub:index")).content.decode()
    assert "Données ouvertes" in html and "Environnement" in html


def test_facet_of_the_territory_covered(client, published, make_dataset, publisher, load):
    other = make_dataset("Bancs de Roubaix", access="public", spatial=["59512"])
    resource = services.add_resource(publisher, other, title="Bancs")
    load(resource, b"rue,bancs\nGrand-Rue,4\n")
    services.publish(publisher, other)
    html = client.get(reverse("datahub:index")).content.decode()
    assert re.search(r'href="\?territory=59512">[^<]*Roubaix <span class="badge[^"]*">1<', html)
    html = client.get(reverse("datahub:index"), {"territory": "59512"}).content.decode()
    assert "Bancs de Roubaix" in html and "Arbres d" not in html


def test_a_large_download_is_prepared_in_the_background(client, published, settings):
    settings.DATAHUB_EXPORT_SYNC_MAX_ROWS = 1  # "large": more rows than streamed at once
    dataset, resource = published
    target = reverse(
        "datahub:download", kwargs={"slug": dataset.slug, "resource": resource.uid, "fmt": "csv"}
    )
    response = client.get(target, {"f1_col": "Commune", "f1_op": "eq", "f1_val": "Roubaix"})
    assert response.status_code == 302 and "/export/" in response["Location"]
    # the task ran inline (tests): the page gives the link at once
    html = client.get(response["Location"]).content.decode()
    assert "Your file is ready." in html
    link = re.search(r'href="([^"]*/api/datahub/exports/[^"]+)"', html).group(1)
    body = b"".join(client.get(link).streaming_content).decode()
    assert len(body.strip().splitlines()) == 3 and "Roubaix" in body
    # another dataset's page cannot show this export
    fake = reverse(
        "datahub:export", kwargs={"slug": dataset.slug, "resource": resource.uid, "token": "nope"}
    )
    assert client.get(fake).status_code == 404


def test_download_of_an_unknown_format_is_404(client, published):
    dataset, resource = published
    target = reverse(
        "datahub:download", kwargs={"slug": dataset.slug, "resource": resource.uid, "fmt": "xls"}
    )
    assert client.get(target).status_code == 404


def test_facet_counts_give_the_territories_covered_and_the_partner_organisations(
    make_user, grant, lille, make_dataset
):
    from metropole.core.models import Organisation, OrganisationKind
    from metropole.datahub import queries
    from metropole.datahub.models import Dataset

    partner = Organisation.objects.create(
        name="Jardins partagés (test)",
        kind=OrganisationKind.ASSOCIATION,
        siren="123456789",
        metropole=lille,
    )
    member = make_user("jardins@example.org")
    grant(member, lille, Role.PARTNER, organisation=partner)
    by_partner = services.create_dataset(
        member,
        lille,
        organisation=partner,
        title="Parcelles des jardins",
        description="Les parcelles cultivées par l'association, par quartier.",
        spatial=["59512", "59599"],
    )
    by_metropole = make_dataset("Bancs publics", spatial=["59512"])
    counts = queries.facet_counts(Dataset.objects.filter(pk__in=[by_partner.pk, by_metropole.pk]))
    assert counts["spatial"] == {"59512": 2, "59599": 1}
    assert counts["organisation"] == {"123456789": 1}
    # the publishing territory counts its own datasets, not its partners' (the partner's
    # is counted under the organisation)
    assert counts["territory"] == {lille.code: 1}
