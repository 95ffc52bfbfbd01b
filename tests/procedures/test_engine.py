"""Forms as data: pages, conditions and validation of every kind of field."""

import pytest

from metropole.procedures import engine
from metropole.procedures.models import FieldKind, FormField

pytestmark = pytest.mark.django_db


def field(kind, **kw):
    return FormField(kind=kind, key=kw.pop("key", "f"), label="F", **kw)


@pytest.mark.parametrize(
    "kind,raw,expected",
    [
        (FieldKind.NUMBER, "3,5", "3.5"),
        (FieldKind.NUMBER, " 12 ", "12"),
        (FieldKind.DATE, "14/07/2024", "2024-07-14"),
        (FieldKind.DATE, "2024-07-14", "2024-07-14"),
        (FieldKind.EMAIL, " a@b.fr ", "a@b.fr"),
        (FieldKind.PHONE, "06 12 34 56 78", "+33612345678"),
        (FieldKind.TEXT, "  Martin ", "Martin"),
    ],
)
def test_values_are_normalised(kind, raw, expected):
    assert engine.clean_value(field(kind), raw) == expected


@pytest.mark.parametrize(
    "kind,raw,message",
    [
        (FieldKind.NUMBER, "douze", "number"),
        (FieldKind.NUMBER, "NaN", "number"),
        (FieldKind.DATE, "31/02/2024", "date"),
        (FieldKind.EMAIL, "nobody", "e-mail"),
        (FieldKind.PHONE, "123", "phone"),
        (FieldKind.TEXT, "x" * 301, "300"),
    ],
)
def test_bad_values_say_what_is_expected(kind, raw, message):
    with pytest.raises(ValueError, match=message):
        engine.clean_value(field(kind), raw)


def test_choices_must_be_among_the_options():
    radio = field(FieldKind.RADIO, choices=["A", "B"])
    assert engine.clean_value(radio, "B") == "B"
    with pytest.raises(ValueError):
        engine.clean_value(radio, "C")
    boxes = field(FieldKind.CHECKBOXES, choices=["A", "B", "C"])
    assert engine.clean_value(boxes, ["C", "A"]) == ["A", "C"]  # the form's order
    with pytest.raises(ValueError):
        engine.clean_value(boxes, ["A", "Z"])


def test_address_is_routed_by_point_or_commune(lille):
    address = field(FieldKind.ADDRESS)
    by_point = engine.clean_value(
        address, {"street": "2 rue de Paris", "lat": "50.6366", "lon": "3.0635"}, metropole=lille
    )
    assert by_point["commune"] == "59350" and by_point["lat"] == 50.6366
    by_choice = engine.clean_value(
        address, {"street": "1 Grand Place", "commune": "59512"}, metropole=lille
    )
    assert by_choice["commune_name"] == "Roubaix" and by_choice["lat"] is None
    with pytest.raises(ValueError, match="none of the communes"):
        engine.clean_value(address, {"street": "x", "lat": "48.85", "lon": "2.35"}, metropole=lille)
    with pytest.raises(ValueError, match="not in the metropole"):
        engine.clean_value(address, {"street": "x", "commune": "75056"}, metropole=lille)


def test_errors_name_field_and_page_and_hidden_fields_are_dropped(procedure):
    form = procedure["form"]
    fields = list(form.fields.all())
    pages = engine.pages_of(form, fields)
    assert [p.title for p in pages] == ["The certificate", "Where and you"]
    raw = {
        "kind": "Extract",
        "name": "",
        "date": "2024-13-01",
        "why": "ignored",
        "place": {"street": "", "commune": ""},
    }
    values, errors = engine.clean_fields(
        fields, raw, raw, metropole=form.metropole, page_numbers=engine.page_of_field(pages)
    )
    assert set(errors) == {"name", "date", "place"}
    assert errors["name"]["page"] == 1 and errors["place"]["page"] == 2
    assert values["why"] is None  # hidden: "kind" is not "Full copy"
    raw["kind"] = "Full copy"
    _values, errors = engine.clean_fields(
        fields,
        {**raw, "why": ""},
        raw,
        metropole=form.metropole,
        page_numbers=engine.page_of_field(pages),
    )
    assert "why" in errors  # shown now, and required


def test_a_number_field_says_its_own_rules():
    """ "Nombre d'exemplaires, de 1 à 5": a wrong answer is told the field's rule, not
    "par exemple 12 ou 3,5"; out-of-range and decimal answers are refused."""
    from decimal import Decimal

    from django.utils import translation

    copies = field(
        FieldKind.NUMBER, number_whole=True, number_min=Decimal(1), number_max=Decimal(5)
    )
    assert engine.clean_value(copies, " 3 ") == "3"
    with translation.override("fr"):
        for wrong in ("trois", "0", "7", "2,5", "Infinity"):
            with pytest.raises(ValueError) as refused:
                engine.clean_value(copies, wrong)
            assert str(refused.value) == "Saisissez un nombre entier de 1 à 5."
        at_least = field(FieldKind.NUMBER, number_min=Decimal("0.5"))
        with pytest.raises(ValueError, match=r"^Saisissez un nombre, 0,5 ou plus\.$"):
            engine.clean_value(at_least, "0,4")
        assert engine.clean_value(at_least, "0,5") == "0.5"
        whole = field(FieldKind.NUMBER, number_whole=True)
        with pytest.raises(ValueError, match=r"^Saisissez un nombre entier, par exemple 12\.$"):
            engine.clean_value(whole, "1,5")
        with pytest.raises(ValueError, match=r"^Saisissez un nombre, par exemple 12 ou 3,5\.$"):
            engine.clean_value(field(FieldKind.NUMBER), "douze")


def test_the_demo_copies_field_is_a_whole_number_from_1_to_5(lille):
    from django.utils import translation

    from metropole.procedures.demo import load_demo

    load_demo(lille)
    copies = FormField.objects.filter(key="exemplaires").first()
    assert copies.number_whole and (copies.number_min, copies.number_max) == (1, 5)
    with translation.override("fr"), pytest.raises(ValueError) as refused:
        engine.clean_value(copies, "12")
    assert str(refused.value) == "Saisissez un nombre entier de 1 à 5."


def test_the_api_describes_a_number_fields_rules(client, lille):
    """An app builds its form from GET /forms/{slug}: the rules the engine checks are in it."""
    from metropole.procedures.demo import load_demo

    load_demo(lille)
    copies = FormField.objects.filter(key="exemplaires").first()
    slug = copies.form.slug
    definition = client.get(f"/api/procedures/forms/{slug}").json()
    fields = [f for page in definition["pages"] for f in page["fields"]]
    described = next(f for f in fields if f["key"] == "exemplaires")
    assert (described["number_whole"], described["number_min"], described["number_max"]) == (
        True,
        1,
        5,
    )
    other = next(f for f in fields if f["kind"] != "number")
    assert other["number_min"] is None and other["number_whole"] is False
