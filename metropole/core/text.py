"""Text helpers shared by search and lookups."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-'’_.]+")


def normalize_name(text: str) -> str:
    """Accent-, case- and punctuation-insensitive form of a place name.

    "Villeneuve-d'Ascq" and "villeneuve d ascq" both give "villeneuve d ascq", so a
    plain indexed LIKE works the same on SQLite and PostgreSQL.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub(" ", without_accents.casefold()).strip()
