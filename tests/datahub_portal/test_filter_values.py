"""The row filter of the dataset page takes values written the way the uploaded file wrote
them (the ingestion's forms): French numbers and dd/mm/yyyy dates."""

from django.test import Client
from django.urls import reverse


def page_of(dataset):
    return reverse("datahub:dataset", kwargs={"slug": dataset.slug})


def test_filters_take_french_numbers_and_dates(client, published):
    dataset, _resource = published
    # Hauteur (m): 12,5 / 20 / 8 / 10 / 15,2 / 9
    html = client.get(
        page_of(dataset), {"f1_col": "Hauteur (m)", "f1_op": "gte", "f1_val": "12,5"}
    ).content.decode()
    assert "3 rows match." in html, html
    html = client.get(
        page_of(dataset), {"f1_col": "Hauteur (m)", "f1_op": "lt", "f1_val": "1\u00a0000"}
    ).content.decode()
    assert "6 rows match." in html
    # Plantation: 12/03/1998, 01/10/1975, 15/11/2010, 20/02/2001, 05/04/1990, 10/10/2005
    html = client.get(
        page_of(dataset), {"f1_col": "Plantation", "f1_op": "gte", "f1_val": "01/01/2000"}
    ).content.decode()
    assert "3 rows match." in html
    html = client.get(
        page_of(dataset), {"f1_col": "Plantation", "f1_op": "eq", "f1_val": "12/03/1998"}
    ).content.decode()
    assert "1 row matches." in html


def test_a_refused_value_is_explained_in_plain_french(published):
    dataset, _resource = published
    html = (
        Client()
        .get(page_of(dataset), {"f1_col": "Plantation", "f1_op": "gte", "f1_val": "hier"})
        .content.decode()
    )
    assert 'role="alert"' in html
    assert "n&#x27;est pas une date (colonne" in html and "01/06/2025" in html
    assert "un(e)" not in html
    html = (
        Client()
        .get(page_of(dataset), {"f1_col": "Hauteur (m)", "f1_op": "gte", "f1_val": "grand"})
        .content.decode()
    )
    assert "n&#x27;est pas un nombre (colonne" in html
