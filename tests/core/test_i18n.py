"""French by default, English on request."""

from django.test import Client


def test_french_is_the_default_language(lille):
    html = Client().get("/").content.decode()
    assert '<html lang="fr">' in html
    assert "Trouver ma commune" in html


def test_english_on_request(lille):
    html = Client(HTTP_ACCEPT_LANGUAGE="en").get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Find my commune" in html


def test_api_errors_stay_readable_in_both_languages(lille):
    body = Client().get("/api/lookup?lat=x&lon=1").json()
    assert body["status"] == 400 and body["detail"]


def test_weekdays_read_mid_sentence_in_lower_case_and_capitalised_at_a_line_start():
    """The core's catalogue once translated Monday as "Lundi", which overrode Django's own
    "lundi" in every date of the site ("À partir du Dimanche 22 novembre")."""
    from datetime import date

    from django.utils import translation
    from django.utils.formats import date_format

    from metropole.core.opening_hours import describe_opening_hours

    with translation.override("fr"):
        assert date_format(date(2026, 11, 22), "l j F Y") == "dimanche 22 novembre 2026"
        rows = describe_opening_hours([["lundi", "vendredi", [["08:30:00", "12:00:00"]]]])
        assert rows == [{"days": "Lundi – vendredi", "hours": ["08h30–12h00"]}]
