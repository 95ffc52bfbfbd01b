"""Django forms of the back-office (form settings, fields, workflows, teams)."""

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import FieldKind, Form, FormField


class FormSettingsForm(forms.ModelForm):
    class Meta:
        model = Form
        fields = [
            "title",
            "description",
            "service",
            "workflow",
            "routing",
            "allow_anonymous",
            "published",
            "deadline_days",
            "retention_days",
            "source",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, workflows=None, services=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workflow"].queryset = workflows
        self.fields["service"].queryset = services
        self.fields["service"].required = False


class FieldForm(forms.ModelForm):
    choices_text = forms.CharField(
        label=_("Choices (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For fields with choices only."),
    )

    class Meta:
        model = FormField
        fields = [
            "label",
            "kind",
            "key",
            "required",
            "help_text",
            "condition_field",
            "condition_value",
        ]
        help_texts = {
            "key": _("Letters, digits and _; made from the label if left empty."),
            "condition_field": _("Code of another field; leave empty to always show this one."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].required = False
        self.fields["kind"].choices = FieldKind.choices
        if self.instance.pk:
            self.fields["choices_text"].initial = "\n".join(self.instance.choices)

    def values(self) -> dict:
        data = {k: self.cleaned_data[k] for k in self.Meta.fields}
        data["choices"] = [
            line.strip()
            for line in self.cleaned_data.get("choices_text", "").splitlines()
            if line.strip()
        ]
        return data


class WorkflowForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    definition = forms.CharField(
        label=_("Definition (JSON)"),
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
        help_text=_("Statuses, transitions and actions; see the documentation of procedures."),
    )

    def clean_definition(self):
        try:
            return json.loads(self.cleaned_data["definition"])
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                _("Invalid JSON at line %(line)d, column %(col)d: %(msg)s"),
                params={"line": error.lineno, "col": error.colno, "msg": error.msg},
            ) from None


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name of the team"), max_length=200)
    members = forms.CharField(
        label=_("Members (e-mail addresses, one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
