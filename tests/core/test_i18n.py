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
