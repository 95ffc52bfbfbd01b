"""The row filter of the dataset page takes values written the way the page shows them in
the visitor's language: French numbers and dd/mm/yyyy dates on the French page (also the
ingestion's forms), 31,290.25 and mm/dd/yyyy on the English page."""

import re

from django.test import Client
from django.urls import reverse


def page_of(dataset):
    return reverse("datahub:dataset", kwargs={"slug": dataset.slug})


def count_line(client, dataset, column, op, value) -> str:
    """The table's status sentence that counts the matching rows."""
    html = client.get(
        page_of(dataset), {"f1_col": column, "f1_op": op, "f1_val": value}
    ).content.decode()
    return re.search(r'<p role="status">([^.]*\.)', html).group(1)


# Hauteur (m): 12,5 / 20 / 8 / 10 / 15,2 / 9
# Plantation: 12/03/1998, 01/10/1975, 15/11/2010, 20/02/2001, 05/04/1990, 10/10/2005


def test_the_french_page_takes_french_numbers_and_dates(published):
    dataset, _resource = published
    french = Client(HTTP_ACCEPT_LANGUAGE="fr")
    assert count_line(french, dataset, "Hauteur (m)", "gte", "12,5") == "3 lignes correspondent."
    assert count_line(french, dataset, "Hauteur (m)", "lt", "1\u00a0000") == (
        "6 lignes correspondent."
    )
    assert count_line(french, dataset, "Plantation", "gte", "01/01/2000") == (
        "3 lignes correspondent."
    )
    assert count_line(french, dataset, "Plantation", "eq", "12/03/1998") == ("1 ligne correspond.")


def test_the_english_page_takes_values_as_it_shows_them(published):
    """The English table shows 12 March 1998 as 12/03/1998 (day first, as British English
    and the API write it: metropole/formats/en) and a thousand as 1,000: typed back as shown,
    they mean the same (the API alone would read 1,000 as one, with a French decimal comma)."""
    dataset, _resource = published
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = english.get(dataset.get_absolute_url()).content.decode()
    assert "<td>12/03/1998</td>" in page and "03/12/1998" not in page
    assert count_line(english, dataset, "Plantation", "eq", "12/03/1998") == "1 row matches."
    assert count_line(english, dataset, "Plantation", "eq", "03/12/1998") == "0 rows match."
    assert count_line(english, dataset, "Hauteur (m)", "lt", "1,000") == "6 rows match."
    assert count_line(english, dataset, "Hauteur (m)", "gte", "1,000.5") == "0 rows match."
    assert count_line(english, dataset, "Hauteur (m)", "gte", "12.5") == "3 rows match."
    # What the API reads itself still works: ISO dates, a French decimal comma.
    assert count_line(english, dataset, "Plantation", "gte", "2000-01-01") == "3 rows match."
    assert count_line(english, dataset, "Hauteur (m)", "gte", "12,5") == "3 rows match."
    # An `in` list is the API's own (a comma separates its values): 10 or 200.
    assert count_line(english, dataset, "Hauteur (m)", "in", "10,200") == "1 row matches."
    # Text is never rewritten.
    assert count_line(english, dataset, "Commune", "contains", "1,000") == "0 rows match."


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


def test_the_form_shows_how_to_write_dates_and_numbers(published):
    dataset, _resource = published
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(page_of(dataset)).content.decode()
    assert "as the table shows them, for example 01/06/2025 or 31,290.25." in english
    assert 'name="f1_val" value="" aria-describedby="filter-value-help"' in english
    french = Client(HTTP_ACCEPT_LANGUAGE="fr").get(page_of(dataset)).content.decode()
    assert "par exemple 01/06/2025 ou 31\u00a0290,25." in french
