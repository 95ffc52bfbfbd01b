"""The table preview (and the chart's table alternative) shows the values exactly as stored,
written the reader's way: no digit lost, decimal comma and grouped thousands in French,
dates as dd/mm/yyyy in French."""

import datetime as dt
import re

from django.test import Client
from django.urls import reverse
from django.utils import translation

from metropole.datahub import services
from metropole.datahub.views import explore

NBSP = "\u00a0"  # Django's French thousands separator


def test_numbers_keep_every_digit_in_french_and_english():
    with translation.override("fr"):
        assert explore.format_value("number", 31290.25) == f"31{NBSP}290,25"
        assert explore.format_value("integer", 1234567) == f"1{NBSP}234{NBSP}567"
        assert explore.format_value("number", 1234567.0) == f"1{NBSP}234{NBSP}567"
        assert explore.format_value("number", 0.1) == "0,1"
        assert explore.format_value("number", 12.5) == "12,5"
        assert explore.format_value("number", 20.0) == "20"  # a whole number stays whole
        assert explore.format_value("number", 123456789.123) == f"123{NBSP}456{NBSP}789,123"
        assert "e" not in explore.format_value("number", 1e20).lower()
        assert explore.format_value("number", -0.000001) == "-0,000001"
        assert explore.format_value("integer", 2019) == "2019"  # four digits: not grouped
    with translation.override("en"):
        assert explore.format_value("number", 31290.25) == "31,290.25"
        assert explore.format_value("integer", 1234567) == "1,234,567"
        assert explore.format_number(31290.25) == "31,290.25"


def test_dates_and_times_in_the_languages_short_format():
    with translation.override("fr"):
        assert explore.format_value("date", "2025-06-01") == "01/06/2025"
        assert explore.format_value("date", dt.date(2025, 6, 1)) == "01/06/2025"
        # stored in UTC, shown in the platform's time zone (Paris, summer: UTC+2)
        assert explore.format_value("datetime", "2025-06-01T08:30:00+00:00") == "01/06/2025 10:30"
        assert (
            explore.format_value("datetime", "2025-06-01T08:30:15+00:00") == "01/06/2025 10:30:15"
        )
    with translation.override("en"):  # day first too (metropole/formats/en)
        assert explore.format_value("date", "2025-06-01") == "01/06/2025"
        assert explore.format_value("datetime", "2025-06-01T08:30:00+00:00") == "01/06/2025 10:30"


def test_the_dataset_page_shows_uploaded_french_numbers_exactly(make_dataset, publisher, load, db):
    dataset = make_dataset("Subventions", access="public")
    resource = services.add_resource(publisher, dataset, title="Subventions 2025")
    data = (
        "beneficiaire;montant_eur;date_vote;population\n"
        "Association A;31 290,25;01/06/2025;1234567\n"
        "Association B;1 500,5;15/01/2024;800\n"
    )
    version = load(resource, data.encode(), name="subventions.csv")
    assert version.status == "ready", version.error_detail
    services.publish(publisher, dataset)
    url = reverse("datahub:dataset", kwargs={"slug": dataset.slug})

    html = Client().get(url).content.decode()  # French by default
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert f"31{NBSP}290,25" in cells and "1500,5" in cells
    assert "01/06/2025" in cells and f"1{NBSP}234{NBSP}567" in cells
    assert "31290.2" not in html and "e+06" not in html

    html = Client(headers={"accept-language": "en"}).get(url).content.decode()
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert "31,290.25" in cells and "1,234,567" in cells

    # the chart's table alternative names the groups the same way as the table
    html = Client().get(url, {"chart_by": "date_vote", "chart_agg": "count"}).content.decode()
    groups = re.findall(r'<th scope="row">([^<]+)</th>', html)
    assert sorted(groups) == ["01/06/2025", "15/01/2024"]
