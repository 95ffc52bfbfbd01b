"""Read the committed reference files of metropoles and communes.

They are rebuilt from registry packages by scripts/build_reference_data.py; see
core/reference_data/README.md for sources, licences and dates.
"""

import gzip
import json
from functools import cache
from pathlib import Path

from .exceptions import NotFound

REFERENCE_DIR = Path(__file__).resolve().parent / "reference_data"


@cache
def metropoles() -> dict[str, dict]:
    """Every French metropole known to the reference data, by SIREN."""
    with open(REFERENCE_DIR / "metropoles.json", encoding="utf-8") as f:
        return {m["siren"]: m for m in json.load(f)}


def metropole(siren: str) -> dict:
    siren = (siren or "").strip()
    try:
        return metropoles()[siren]
    except KeyError:
        known = ", ".join(f"{s} ({m['name']})" for s, m in sorted(metropoles().items())[:4])
        raise NotFound(
            "Unknown metropole",
            f"No metropole has the SIREN {siren!r} in the reference data. Known ones include "
            f"{known}; `manage.py load_territories --list` lists them all.",
        ) from None


def communes(siren: str) -> list[dict]:
    """The communes of a metropole with their contours and town halls."""
    metropole(siren)  # a clear error for an unknown SIREN
    with gzip.open(REFERENCE_DIR / "communes" / f"{siren}.json.gz", "rt", encoding="utf-8") as f:
        return json.load(f)
