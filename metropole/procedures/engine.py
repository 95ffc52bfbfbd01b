"""Forms as data: pages, conditional display and server-side validation of the answers.

The same functions serve the pages (HTML form posts), the API (JSON) and agents' entry at the
counter. Answers come in as a dict keyed by field key: a string, a list (several choices), a
dict for an address ({"street", "commune" (INSEE), "lat", "lon"}) or an uploaded file.
`clean_page`/`clean_all` return the cleaned values and the errors by field key; every error
carries its page number so a page and an API client can say where it is.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from metropole.core.exceptions import PlatformError
from metropole.notifications.sms import normalise_phone

from .models import FieldKind

MAX_TEXT = 300
MAX_TEXTAREA = 10_000


@dataclass
class Page:
    number: int  # from 1
    title: str
    fields: list


def pages_of(form, fields=None) -> list[Page]:
    """The form's pages; a "page" field starts one (a form without any has one page)."""
    fields = list(form.fields.all()) if fields is None else fields
    pages: list[Page] = []
    for field in fields:
        if field.kind == FieldKind.PAGE:
            pages.append(Page(len(pages) + 1, field.label, []))
        else:
            if not pages:
                pages.append(Page(1, form.title, []))
            pages[-1].fields.append(field)
    return pages or [Page(1, form.title, [])]


def is_shown(field, data: dict) -> bool:
    """A conditional field is shown when the field it depends on has the given value."""
    if not field.condition_field:
        return True
    value = data.get(field.condition_field)
    if isinstance(value, list):
        return field.condition_value in value
    return value is not None and str(value) == field.condition_value


def page_of_field(pages: list[Page]) -> dict[str, int]:
    return {f.key: p.number for p in pages for f in p.fields}


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return not any(str(v).strip() for v in value)
    if isinstance(value, dict):
        return not any(str(v).strip() for v in value.values() if v is not None)
    return False


def _figure(number: Decimal) -> str:
    """12, 3,5 or -2 as French readers write it (no trailing zeros, decimal comma)."""
    from django.utils.formats import number_format

    number = number.normalize() if number else Decimal(0)
    places = max(-number.as_tuple().exponent, 0)
    return number_format(number, decimal_pos=places)


def number_message(field) -> str:
    """What a number field expects, said from its rules: "Enter a whole number from 1 to
    5.", "Enter a number, 0 or more.", "Enter a number, e.g. 12 or 3,5."."""
    whole = getattr(field, "number_whole", False)
    low, high = getattr(field, "number_min", None), getattr(field, "number_max", None)
    bounds = {"min": _figure(low) if low is not None else "", "max": ""}
    if high is not None:
        bounds["max"] = _figure(high)
    if low is not None and high is not None:
        if whole:
            return _("Enter a whole number from %(min)s to %(max)s.") % bounds
        return _("Enter a number from %(min)s to %(max)s.") % bounds
    if low is not None:
        if whole:
            return _("Enter a whole number, %(min)s or more.") % bounds
        return _("Enter a number, %(min)s or more.") % bounds
    if high is not None:
        if whole:
            return _("Enter a whole number, %(max)s at most.") % bounds
        return _("Enter a number, %(max)s at most.") % bounds
    if whole:
        return _("Enter a whole number, e.g. 12.")
    return _("Enter a number, e.g. 12 or 3,5.")


def clean_value(field, value, *, metropole=None):
    """Check one answer against its field; return the value to store or raise ValueError
    with a message for the person."""
    kind = field.kind
    if kind in (FieldKind.TEXT, FieldKind.TEXTAREA):
        text = str(value).strip()
        limit = MAX_TEXT if kind == FieldKind.TEXT else MAX_TEXTAREA
        if len(text) > limit:
            raise ValueError(_("At most %(limit)d characters.") % {"limit": limit})
        return text
    if kind == FieldKind.NUMBER:
        try:
            number = Decimal(str(value).strip().replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            raise ValueError(number_message(field)) from None
        low, high = getattr(field, "number_min", None), getattr(field, "number_max", None)
        if (
            not number.is_finite()
            or (getattr(field, "number_whole", False) and number != number.to_integral_value())
            or (low is not None and number < low)
            or (high is not None and number > high)
        ):
            raise ValueError(number_message(field))
        return format(number.normalize(), "f")
    if kind == FieldKind.DATE:
        text = str(value).strip()
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
        raise ValueError(_("Enter a date as DD/MM/YYYY, e.g. 14/07/2024."))
    if kind == FieldKind.EMAIL:
        text = str(value).strip()
        try:
            validate_email(text)
        except ValidationError:
            raise ValueError(_("Enter an e-mail address, e.g. name@example.org.")) from None
        return text
    if kind == FieldKind.PHONE:
        phone = normalise_phone(str(value))
        if phone is None:
            raise ValueError(_("Enter a phone number, e.g. 06 12 34 56 78."))
        return phone
    if kind in (FieldKind.RADIO, FieldKind.SELECT):
        text = str(value).strip()
        if text not in field.choices:
            raise ValueError(_("Choose one of the options given."))
        return text
    if kind == FieldKind.CHECKBOXES:
        values = value if isinstance(value, (list, tuple)) else [value]
        values = [str(v).strip() for v in values if str(v).strip()]
        unknown = [v for v in values if v not in field.choices]
        if unknown:
            raise ValueError(_("Choose among the options given."))
        return [c for c in field.choices if c in values]
    if kind == FieldKind.ADDRESS:
        return _clean_address(value, metropole)
    if kind == FieldKind.FILE:
        return value  # checked and stored by attachments.store(); see services
    raise ValueError(_("Unknown kind of field."))


_INSEE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")


def _clean_address(value, metropole) -> dict:
    from metropole.core.models import Territory
    from metropole.core.queries import commune_at

    if isinstance(value, str):
        value = {"street": value}
    if not isinstance(value, dict):
        raise ValueError(_("Enter an address."))
    street = str(value.get("street") or "").strip()
    if not street:
        raise ValueError(_("Enter the number and street."))
    if len(street) > MAX_TEXT:
        raise ValueError(_("At most %(limit)d characters.") % {"limit": MAX_TEXT})
    lat, lon = value.get("lat"), value.get("lon")
    commune = None
    if lat not in (None, "") and lon not in (None, ""):
        try:
            commune = commune_at(metropole, lat, lon)
        except PlatformError as error:
            raise ValueError(str(error.detail or error.title)) from None
        lat, lon = float(lat), float(lon)
    else:
        lat = lon = None
        code = str(value.get("commune") or "").strip()
        if not _INSEE.match(code):
            raise ValueError(_("Choose the commune, or place the address on the map."))
        commune = Territory.objects.filter(code=code, metropole=metropole).first()
        if commune is None:
            raise ValueError(_("This commune is not in the metropole."))
    return {
        "street": street,
        "commune": commune.code,
        "commune_name": commune.name,
        "lat": lat,
        "lon": lon,
    }


def clean_fields(fields, raw: dict, data: dict, *, metropole, page_numbers) -> tuple[dict, dict]:
    """Validate `fields` given the answers so far (`data`, for conditions).

    Returns (values, errors): values of shown fields (hidden ones are dropped), errors as
    {key: {"message": str, "page": int}}.
    """
    values, errors = {}, {}
    merged = {**data}
    for field in fields:
        if field.kind == FieldKind.PAGE:
            continue
        if not is_shown(field, merged):
            merged.pop(field.key, None)
            values[field.key] = None
            continue
        value = raw.get(field.key)
        if field.kind == FieldKind.FILE and _blank(value) and data.get(field.key):
            value = data[field.key]  # already uploaded on an earlier visit
        if _blank(value):
            if field.required:
                errors[field.key] = {
                    "message": _("This field is required."),
                    "page": page_numbers[field.key],
                }
            values[field.key] = None
            merged.pop(field.key, None)
            continue
        try:
            cleaned = clean_value(field, value, metropole=metropole)
        except ValueError as error:
            errors[field.key] = {"message": str(error), "page": page_numbers[field.key]}
            continue
        values[field.key] = cleaned
        merged[field.key] = cleaned
    return values, errors


def merge(data: dict, values: dict) -> dict:
    """The stored answers updated with a page's values (None removes an answer)."""
    result = {**data}
    for key, value in values.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def display_value(field, value) -> str:
    """An answer as a person reads it."""
    if value in (None, "", []):
        return "—"
    if field.kind == FieldKind.CHECKBOXES:
        return ", ".join(value)
    if field.kind == FieldKind.ADDRESS and isinstance(value, dict):
        return f"{value.get('street', '')}, {value.get('commune_name', '')}"
    if field.kind == FieldKind.FILE and isinstance(value, dict):
        return value.get("name", "")
    if field.kind == FieldKind.DATE:
        try:
            return datetime.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return str(value)
    return str(value)
