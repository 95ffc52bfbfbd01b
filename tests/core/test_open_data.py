"""Open-data exports declared in module manifests are listed and streamed by the API."""

import csv
import io
import json

from metropole.core.open_data import spreadsheet_safe


def test_exports_of_the_registry_are_listed(client, lille):
    exports = client.get("/api/open-data").json()
    communes = next(e for e in exports if e["key"] == "core.communes")
    assert communes["licence"] == "etalab-2.0"
    assert communes["csv_url"].endswith("/api/open-data/core.communes.csv")


def test_communes_export_as_csv(client, lille):
    response = client.get("/api/open-data/core.communes.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 95
    lille_row = next(r for r in rows if r["insee"] == "59350")
    assert lille_row["opening_hours"] == "Mo-Fr 08:00-17:00; Sa 08:00-12:00"


def test_communes_export_as_json_lines(client, lille):
    response = client.get("/api/open-data/core.communes.jsonl")
    rows = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert len(rows) == 95 and {r["insee"] for r in rows} >= {"59350", "59512"}


def test_unknown_export_or_format_is_a_clear_error(client, lille):
    missing = client.get("/api/open-data/core.nothing.csv")
    assert missing.status_code == 404 and "core.communes" in missing.json()["detail"]
    assert client.get("/api/open-data/core.communes.xlsx").status_code == 400


def test_spreadsheet_formulas_are_neutralised():
    assert spreadsheet_safe('=HYPERLINK("http://evil")').startswith("'=")
    assert spreadsheet_safe("-2+3") == "'-2+3"
    assert spreadsheet_safe("Lille") == "Lille" and spreadsheet_safe(None) == ""
