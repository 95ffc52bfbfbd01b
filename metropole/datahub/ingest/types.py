"""Column types: inference over every value of a column, and conversion to typed arrays.

Both work on Arrow string arrays (a batch of a column at a time) with vectorised RE2
regular expressions and casts, so a million-row file is inferred and converted at the
speed of C++ rather than of a Python loop. A value that matches a type's pattern but
does not convert (31/02/2020) falls back to a per-value path that reports it.

Types (the contract's): string, integer, number, boolean, date, datetime, geometry.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

PARIS = "Europe/Paris"
SPACES = "[ \\x{a0}\\x{202f}]"  # thousands separators: space, no-break space, narrow nbsp

# Families tried in this order; the first that every non-empty value matches wins.
PATTERNS = {
    "boolean": r"(?i)^(oui|non|vrai|faux|true|false|yes|no)$",
    # No leading zero (0123 is a code, kept as text); French thousands separators allowed.
    "integer": rf"^[+-]?(0|[1-9][0-9]{{0,17}}|[1-9][0-9]{{0,2}}({SPACES}[0-9]{{3}})+)$",
    "number": (
        r"^[+-]?((0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|\.[0-9]+)$"
        rf"|^[+-]?(0|[1-9][0-9]*|[1-9][0-9]{{0,2}}({SPACES}[0-9]{{3}})+)(,[0-9]+)?$"
    ),
    "date": (
        r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
        r"|^(0[1-9]|[12][0-9]|3[01])[/.-](0[1-9]|1[0-2])[/.-][0-9]{4}$"
    ),
    "datetime": (
        r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]"
        r"(:[0-5][0-9](\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$"
        r"|^(0[1-9]|[12][0-9]|3[01])/(0[1-9]|1[0-2])/[0-9]{4} ([01][0-9]|2[0-3]):[0-5][0-9]"
        r"(:[0-5][0-9])?$"
    ),
}
FAMILIES = tuple(PATTERNS)
# The same families written without French separators (a plain cast converts them).
PLAIN = {
    "integer": r"^[+-]?(0|[1-9][0-9]{0,17})$",
    "number": r"^[+-]?((0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|\.[0-9]+)$",
}
PY_PATTERNS = {
    name: re.compile(pattern.replace("\\x{a0}", "\u00a0").replace("\\x{202f}", "\u202f"))
    for name, pattern in PATTERNS.items()
}
TRUE_WORDS = ("oui", "vrai", "true", "yes")
FALSE_WORDS = ("non", "faux", "false", "no")

# Headers of columns that hold codes: kept as text even when every value is a number.
CODE_HEADER = re.compile(
    r"(insee|siren|siret|postal|^cp$|^cp_|_cp$|code|^com$|^dep|^num|zip|phone|telephone|^tel|"
    r"nir|secu|iban|rna|uai|finess|^id$|_id$|^id_|identifiant)"
)
LAT_HEADER = re.compile(r"^(lat|latitude|y_?lat|lat_?wgs84|geo_?lat)$")
LON_HEADER = re.compile(r"^(lon|lng|long|longitude|x_?lon|lon_?wgs84|geo_?lon|geo_?lng)$")


def normalise_header(header: str) -> str:
    """Lower case, accents removed, spaces and dashes as underscores."""
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@dataclass
class ColumnInference:
    """What the values seen so far allow a column to be."""

    name: str
    candidates: list[str] = field(default_factory=lambda: list(FAMILIES))
    non_empty: int = 0
    # Some numbers are written the French way ("1 234,5"): conversion cannot be a plain cast.
    french_numbers: bool = False

    def feed(self, values: pa.Array) -> None:
        present = values.drop_null()
        if len(present) == 0:
            return
        self.non_empty += len(present)
        sample = present[:1000]  # most candidates fail on the first values: cheap test first
        still = []
        for family in self.candidates:
            if family == "number" and "integer" in still:
                still.append(family)  # every integer (plain or French) is a number
                continue
            # Plain numbers first (one regex in the usual case); the French way if not.
            plain_first = family in PLAIN and not self.french_numbers
            if plain_first and self._all(sample, present, PLAIN[family]):
                still.append(family)
                continue
            if self._all(sample, present, PATTERNS[family]):
                still.append(family)
                if family in PLAIN:
                    self.french_numbers = True
        self.candidates = still

    @staticmethod
    def _all(sample, present, pattern) -> bool:
        if not pc.all(pc.match_substring_regex(sample, pattern)).as_py():
            return False
        return (
            len(present) == len(sample)
            or pc.all(pc.match_substring_regex(present, pattern)).as_py()
        )

    def combined(self, other: "ColumnInference") -> "ColumnInference":
        """What the values seen by both allow."""
        return ColumnInference(
            self.name,
            [family for family in self.candidates if family in other.candidates],
            self.non_empty + other.non_empty,
            self.french_numbers or other.french_numbers,
        )

    def result(self) -> str:
        if self.non_empty == 0:
            return "string"
        for family in self.candidates:
            if family in ("integer", "number") and CODE_HEADER.search(normalise_header(self.name)):
                return "string"
            return family
        return "string"

    def plain(self, type_: str) -> bool:
        """Whether every value is known to be a plain number of `type_` (a cast suffices)."""
        return (
            type_ in ("integer", "number")
            and type_ in self.candidates
            and not (self.french_numbers)
        )


def clean_strings(values: pa.Array) -> pa.Array:
    """Trim spaces; empty strings are missing values."""
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


ARROW_TYPES = {
    "string": pa.string(),
    "geometry": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
}


@dataclass
class Converted:
    values: pa.Array
    bad: list[int]  # positions (within the batch) of values that do not convert


def convert(
    values: pa.Array, type_: str, *, true_values=None, false_values=None, plain=False
) -> Converted:
    """Convert cleaned string values to `type_`; values that do not fit become null and
    their positions are returned. `plain`: inference saw that every value is a plain
    number of this type, so a cast is enough."""
    if type_ in ("string", "geometry"):
        return Converted(values, [])
    if plain:
        try:
            return Converted(pc.cast(values, ARROW_TYPES[type_]), [])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    try:
        result = _convert_vectorised(values, type_, true_values, false_values)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        result = None
    if result is not None:
        lost = pc.and_(pc.is_valid(values), pc.is_null(result))
        if not pc.any(lost).as_py():
            return Converted(result, [])
        return Converted(result, pc.indices_nonzero(lost).to_pylist())
    return _convert_slowly(values, type_, true_values, false_values)


def _matching(values, type_):
    """Values that match the family's pattern, others null."""
    ok = pc.match_substring_regex(values, PATTERNS[type_])
    return pc.if_else(ok, values, pa.scalar(None, pa.string()))


def _strip_spaces(values):
    return pc.replace_substring_regex(values, SPACES, "")


def _convert_vectorised(values, type_, true_values, false_values):
    if type_ == "boolean":
        lowered = pc.utf8_lower(values)
        trues = pa.array([v.lower() for v in (true_values or TRUE_WORDS)])
        falses = pa.array([v.lower() for v in (false_values or FALSE_WORDS)])
        is_true = pc.is_in(lowered, value_set=trues)
        is_false = pc.is_in(lowered, value_set=falses)
        return pc.if_else(is_true, True, pc.if_else(is_false, False, pa.scalar(None, pa.bool_())))
    if type_ == "integer":
        return pc.cast(_strip_spaces(_matching(values, "integer")), pa.int64())
    if type_ == "number":
        matching = _matching(values, "number")
        french = pc.match_substring_regex(matching, ",|" + SPACES)
        normalised = pc.if_else(
            french,
            pc.replace_substring(_strip_spaces(matching), ",", "."),
            matching,
        )
        return pc.cast(normalised, pa.float64())
    if type_ == "date":
        matching = _matching(values, "date")
        iso = pc.match_substring_regex(matching, r"^[0-9]{4}-")
        unified = pc.if_else(
            iso,
            matching,
            # dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy -> yyyy-mm-dd
            pc.replace_substring_regex(
                matching, r"^([0-9]{2})[/.-]([0-9]{2})[/.-]([0-9]{4})$", r"\3-\2-\1"
            ),
        )
        parsed = pc.strptime(unified, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2020-02-31 over to March: refuse dates that do not round-trip.
        back = pc.strftime(parsed, format="%Y-%m-%d")
        parsed = pc.if_else(pc.equal(back, unified), parsed, pa.scalar(None, parsed.type))
        return pc.cast(parsed, pa.date32())
    if type_ == "datetime":
        matching = _matching(values, "datetime")
        french = pc.match_substring_regex(matching, r"^[0-9]{2}/")
        unified = pc.if_else(
            french,
            pc.replace_substring_regex(
                matching,
                r"^([0-9]{2})/([0-9]{2})/([0-9]{4}) (.*)$",
                r"\3-\2-\1 \4",
            ),
            matching,
        )
        with_zone = pc.match_substring_regex(unified, r"(Z|[+-][0-9]{2}:?[0-9]{2})$")
        utc_type = pa.timestamp("us", tz="UTC")
        zoned = pc.cast(pc.if_else(with_zone, unified, pa.scalar(None, pa.string())), utc_type)
        naive = pc.cast(
            pc.if_else(with_zone, pa.scalar(None, pa.string()), unified), pa.timestamp("us")
        )
        local = pc.assume_timezone(naive, PARIS, ambiguous="earliest", nonexistent="earliest")
        return pc.if_else(with_zone, zoned, pc.cast(local, utc_type))
    raise ValueError(type_)


def _convert_slowly(values, type_, true_values, false_values) -> Converted:
    out, bad = [], []
    for position, value in enumerate(values.to_pylist()):
        if value is None:
            out.append(None)
            continue
        try:
            out.append(convert_value(value, type_, true_values, false_values))
        except (ValueError, OverflowError):
            out.append(None)
            bad.append(position)
    return Converted(pa.array(out, ARROW_TYPES[type_]), bad)


def convert_value(value: str, type_: str, true_values=None, false_values=None):
    """One value, the slow way (API-fed rows, and batches the vectorised path refused)."""
    custom_booleans = type_ == "boolean" and (true_values or false_values)
    if not custom_booleans and not PY_PATTERNS[type_].search(value):
        raise ValueError(value)
    if type_ == "boolean":
        low = value.lower()
        if low in [v.lower() for v in (true_values or TRUE_WORDS)]:
            return True
        if low in [v.lower() for v in (false_values or FALSE_WORDS)]:
            return False
        raise ValueError(value)
    plain = re.sub("[ \u00a0\u202f]", "", value)
    if type_ == "integer":
        number = int(plain)
        if not -(2**63) <= number < 2**63:
            raise OverflowError(value)
        return number
    if type_ == "number":
        return float(plain.replace(",", ".") if "," in plain or plain != value else plain)
    if type_ == "date":
        if value[4] == "-":
            return date.fromisoformat(value)
        return date(int(value[6:10]), int(value[3:5]), int(value[0:2]))
    if type_ == "datetime":
        if value[2] == "/":
            value = f"{value[6:10]}-{value[3:5]}-{value[0:2]} {value[11:]}"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(PARIS))
        return moment.astimezone(UTC)
    raise ValueError(type_)
