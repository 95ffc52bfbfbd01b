"""Open-data exports declared by the modules in their manifests, streamed as CSV or JSON.

Served here straight from the registry (`/api/open-data`), so a module's open data is public
as soon as its manifest declares it, with or without the data hub. When the data hub is
installed, its scheduler job publishes each export as a dataset (versions, query API, DCAT-AP).
"""

import csv
import json

from django.utils.translation import gettext as _

from .exceptions import NotFound
from .registry import OpenDataExport, registry

# A cell starting with one of these is read as a formula by spreadsheets.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def export_by_key(key: str) -> OpenDataExport:
    try:
        return registry.exports()[key]
    except KeyError:
        known = ", ".join(sorted(registry.exports()))
        raise NotFound(
            _("Unknown export"),
            _("No open-data export is named %(key)r; known: %(known)s.")
            % {"key": key, "known": known},
        ) from None


def spreadsheet_safe(value) -> str:
    """The cell as text, with formula injection neutralised (a leading apostrophe)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value):
        return value


def csv_lines(export: OpenDataExport, territory):
    """CSV lines, one at a time, so large exports are never held in memory."""
    writer = csv.writer(_Echo())
    yield writer.writerow(export.fields)
    for row in export.rows(territory):
        yield writer.writerow([spreadsheet_safe(row.get(field)) for field in export.fields])


def jsonl_lines(export: OpenDataExport, territory):
    for row in export.rows(territory):
        yield json.dumps({f: row.get(f) for f in export.fields}, ensure_ascii=False) + "\n"
