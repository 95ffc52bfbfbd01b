"""Text helpers shared by search and lookups."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-'’_.]+")
# Abbreviations people type for place names.
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def normalize_name(text: str) -> str:
    """Accent-, case-, space- and punctuation-insensitive key of a place name.

    "Villeneuve-d'Ascq", "villeneuve d ascq" and "VILLENEUVE DASCQ" all give
    "villeneuvedascq"; "St-André" gives "saintandre". A plain indexed LIKE on this key
    works the same on SQLite and PostgreSQL.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _SEPARATORS.split(without_accents.casefold())
    return "".join(_ABBREVIATIONS.get(word, word) for word in words)
