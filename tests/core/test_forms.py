"""The shared field template (core/_field.html): every input named the way assistive
technology reads it."""

from django import forms
from django.template.loader import render_to_string


class Sample(forms.Form):
    actions = forms.MultipleChoiceField(
        label="What participants can do",
        choices=[("propose", "propose"), ("comment", "comment")],
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick one or more.",
    )
    kind = forms.ChoiceField(
        label="Kind", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect
    )
    agree = forms.BooleanField(label="I agree")


def render(field) -> str:
    return render_to_string("core/_field.html", {"field": field})


def test_a_group_of_checkboxes_or_radios_is_a_fieldset_named_by_its_legend():
    """A label names one input: the group's name was a <label for> the first checkbox, set
    beside the boxes (at 375 px the row was wider than the screen)."""
    form = Sample(data={})
    for name, legend in (("actions", "What participants can do"), ("kind", "Kind")):
        html = render(form[name])
        assert html.count("<fieldset") == 1 and f"{legend} <span aria-hidden" in html
        assert '<legend class="field__label">' in html
        assert f'<label for="id_{name}"' not in html and f'<label for="id_{name}_0"' in html
        assert 'class="field__error"' in html  # required, left empty
    assert "Tick one or more." in render(form["actions"])


def test_a_single_checkbox_keeps_its_label_beside_it():
    html = render(Sample()["agree"])
    assert "<fieldset" not in html and "field--check" in html
    assert '<label for="id_agree">I agree</label>' in html
