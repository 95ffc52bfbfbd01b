"""Declared Table Schemas (frictionless): reading the descriptor, and checking typed
batches against its constraints, with frictionless's error codes.

The descriptor is parsed and validated by frictionless itself (so a schema from
schema.data.gouv.fr is read exactly as `frictionless validate` reads it); the checks of
each row run vectorised on Arrow arrays, because a row-by-row Python validator would
cap ingestion at a few thousand rows per second. tests/datahub/test_schema.py checks
that both find the same invalid rows.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext as _

from metropole.core.exceptions import BadRequest

# Table Schema types -> the hub's column types.
TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "year": "integer",
    "geojson": "geometry",
}


@dataclass
class DeclaredField:
    name: str
    type: str  # the hub's type
    schema_type: str
    required: bool = False
    unique: bool = False
    minimum: object = None
    maximum: object = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    enum: list | None = None
    true_values: list[str] | None = None
    false_values: list[str] | None = None
    seen: set = field(default_factory=set)


def parse_table_schema(descriptor: dict) -> list[DeclaredField]:
    """The fields of a Table Schema descriptor; BadRequest when it is not one."""
    from frictionless import FrictionlessException, Schema

    if not isinstance(descriptor, dict):
        raise BadRequest(
            _("Invalid Table Schema"), _("A Table Schema is a JSON object."), field="table_schema"
        )
    try:
        schema = Schema.from_descriptor(descriptor)
    except FrictionlessException as error:
        raise BadRequest(
            _("Invalid Table Schema"), str(error.error.message)[:500], field="table_schema"
        ) from None
    fields = []
    for item in schema.fields:
        constraints = dict(item.constraints or {})
        declared = DeclaredField(
            name=item.name,
            type=TYPES.get(item.type, "string"),
            schema_type=item.type,
            required=bool(constraints.get("required")),
            unique=bool(constraints.get("unique")),
            minimum=constraints.get("minimum"),
            maximum=constraints.get("maximum"),
            min_length=constraints.get("minLength"),
            max_length=constraints.get("maxLength"),
            pattern=constraints.get("pattern"),
            enum=constraints.get("enum"),
        )
        if item.type == "boolean":
            declared.true_values = list(getattr(item, "true_values", None) or [])
            declared.false_values = list(getattr(item, "false_values", None) or [])
        if declared.type in ("date", "datetime"):
            declared.minimum = _as_moment(declared.minimum, declared.type)
            declared.maximum = _as_moment(declared.maximum, declared.type)
        fields.append(declared)
    return fields


def _as_moment(value, type_):
    if value is None or isinstance(value, (date, datetime)):
        return value
    return date.fromisoformat(value) if type_ == "date" else datetime.fromisoformat(value)


def check(declared: DeclaredField, values: pa.Array, raw: pa.Array) -> list[tuple[int, str, str]]:
    """(position, code, message) for each value of a batch that breaks a constraint.

    `values` are the typed values, `raw` the source text (for lengths and patterns)."""
    problems: list[tuple[int, str, str]] = []

    def flag(mask, code, message):
        if mask is None:
            return
        mask = pc.fill_null(mask, False)
        if pc.any(mask).as_py():
            for position in pc.indices_nonzero(mask).to_pylist():
                problems.append((position, code, message))

    if declared.required:
        flag(pc.is_null(values), "constraint-error", _("a value is required"))
    if declared.minimum is not None and declared.type in ("integer", "number", "date", "datetime"):
        flag(
            pc.less(values, pa.scalar(declared.minimum, values.type)),
            "constraint-error",
            _("below the minimum %(min)s") % {"min": declared.minimum},
        )
    if declared.maximum is not None and declared.type in ("integer", "number", "date", "datetime"):
        flag(
            pc.greater(values, pa.scalar(declared.maximum, values.type)),
            "constraint-error",
            _("above the maximum %(max)s") % {"max": declared.maximum},
        )
    if declared.min_length is not None:
        flag(
            pc.less(pc.utf8_length(raw), declared.min_length),
            "constraint-error",
            _("shorter than %(n)d characters") % {"n": declared.min_length},
        )
    if declared.max_length is not None:
        flag(
            pc.greater(pc.utf8_length(raw), declared.max_length),
            "constraint-error",
            _("longer than %(n)d characters") % {"n": declared.max_length},
        )
    if declared.pattern:
        try:
            flag(
                pc.invert(pc.match_substring_regex(raw, f"^(?:{declared.pattern})$")),
                "constraint-error",
                _("does not match the pattern %(pattern)s") % {"pattern": declared.pattern},
            )
        except pa.ArrowInvalid:  # a pattern RE2 does not read: checked in Python
            compiled = re.compile(declared.pattern)
            for position, text in enumerate(raw.to_pylist()):
                if text is not None and not compiled.fullmatch(text):
                    problems.append(
                        (
                            position,
                            "constraint-error",
                            _("does not match the pattern %(pattern)s")
                            % {"pattern": declared.pattern},
                        )
                    )
    if declared.enum:
        allowed = pa.array([_enum_value(v, declared.type) for v in declared.enum], values.type)
        flag(
            pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=allowed))),
            "constraint-error",
            _("not one of the allowed values (%(values)s)")
            % {"values": ", ".join(str(v) for v in declared.enum[:10])},
        )
    if declared.unique:
        for position, value in enumerate(values.to_pylist()):
            if value is None:
                continue
            if value in declared.seen:
                problems.append(
                    (
                        position,
                        "unique-error",
                        _("the value %(value)s appears twice") % {"value": value},
                    )
                )
            else:
                declared.seen.add(value)
    return problems


def _enum_value(value, type_):
    if type_ in ("date", "datetime"):
        return _as_moment(value, type_)
    return value
