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
            "number_whole",
            "number_min",
            "number_max",
        ]
        help_texts = {
            "key": _("Letters, digits and _; made from the label if left empty."),
            "condition_field": _("Code of another field; leave empty to always show this one."),
            "number_whole": _("For number fields: e.g. a number of copies."),
            "number_min": _("For number fields; leave empty for no limit."),
            "number_max": _("For number fields; leave empty for no limit."),
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


# --- the form-based workflow editor ---------------------------------------------------------

COLOUR_CHOICES = [
    ("neutral", _("grey")),
    ("info", _("blue")),
    ("success", _("green")),
    ("warning", _("orange")),
    ("danger", _("red")),
]


class WorkflowNewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    start = forms.ChoiceField(
        label=_("Start from"), widget=forms.RadioSelect, choices=[("model", "")]
    )

    def __init__(self, *args, copies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].choices = [
            ("model", _("A simple model: new request → being handled → done")),
            *[(f"copy:{w.pk}", _("A copy of “%(name)s”") % {"name": w.name}) for w in copies],
        ]
        self.fields["start"].initial = "model"


class WorkflowRenameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)


class StatusForm(forms.Form):
    label = forms.CharField(
        label=_("Name of the status"),
        max_length=200,
        help_text=_("What agents read, e.g. “Waiting for documents”."),
    )
    public_label = forms.CharField(
        label=_("What the citizen reads"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to show the same name."),
    )
    colour = forms.ChoiceField(
        label=_("Colour"), choices=COLOUR_CHOICES, initial="neutral", widget=forms.RadioSelect
    )
    final = forms.BooleanField(
        label=_("This status closes the request"),
        required=False,
        help_text=_("The answer delay stops and the retention period starts."),
    )
    initial = forms.BooleanField(label=_("New requests arrive in this status"), required=False)

    def __init__(self, *args, statuses=None, creating=False, **kwargs):
        super().__init__(*args, **kwargs)
        if creating:
            self.fields["came_from"] = forms.ChoiceField(
                label=_("Reached from"),
                required=False,
                choices=[("", _("— no transition yet —"))]
                + [(s["code"], s["label"]) for s in statuses or []],
                help_text=_("Adds the button that moves a request from that status to this one."),
            )
            self.fields["button"] = forms.CharField(
                label=_("Text of that button"),
                max_length=200,
                required=False,
                help_text=_("E.g. “Ask for documents”. Empty: “Move to …”."),
            )


class TransitionForm(forms.Form):
    label = forms.CharField(
        label=_("Text of the button"), max_length=200, help_text=_("E.g. “Accept the request”.")
    )
    from_status = forms.ChoiceField(label=_("From the status"))
    to_status = forms.ChoiceField(label=_("To the status"))
    teams = forms.MultipleChoiceField(
        label=_("Who may press it"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Tick teams to keep it to their members (and administrators). "
            "Nothing ticked: every agent handling the request."
        ),
    )

    def __init__(self, *args, statuses=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(s["code"], s["label"]) for s in statuses]
        self.fields["from_status"].choices = [*choices, ("*", _("any status still open"))]
        self.fields["to_status"].choices = choices
        self.fields["teams"].choices = list(teams)


ACTION_CHOICES = [
    ("notify", _("Send an e-mail or an SMS to the citizen")),
    ("assign", _("Give the request to a team")),
    ("ask_citizen", _("Ask the citizen for more information")),
    ("timeout", _("Wait, then move to another status")),
    ("route", _("Hand the request to another territory")),
    ("connector", _("Call a business software (connector)")),
]


class ActionTypeForm(forms.Form):
    type = forms.ChoiceField(
        label=_("What should happen?"), widget=forms.RadioSelect, choices=ACTION_CHOICES
    )

    def __init__(self, *args, on_transition=False, **kwargs):
        super().__init__(*args, **kwargs)
        if on_transition:
            self.fields["type"].choices = [c for c in ACTION_CHOICES if c[0] != "timeout"]


class ActionForm(forms.Form):
    """The fields of one kind of action; `action()` gives the definition's dict."""

    def __init__(self, *args, kind, statuses=(), teams=(), endpoints=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        status_choices = [(s["code"], s["label"]) for s in statuses]
        f = self.fields
        if kind == "notify":
            f["channel"] = forms.ChoiceField(
                label=_("How"),
                choices=[("email", _("e-mail")), ("sms", _("SMS (if a mobile number was given)"))],
                widget=forms.RadioSelect,
                initial="email",
            )
            f["subject"] = forms.CharField(
                label=_("Subject of the e-mail"), max_length=200, required=False
            )
            f["message"] = forms.CharField(
                label=_("Message"),
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 5}),
                help_text=_(
                    "{code} is replaced by the tracking code, {form} by the procedure, "
                    "{status} by the status, {url} by the link to follow the request."
                ),
            )
        elif kind == "assign":
            f["team"] = forms.ChoiceField(label=_("Team"), choices=list(teams))
        elif kind == "ask_citizen":
            f["message"] = forms.CharField(
                label=_("Question to the citizen"),
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text=_("Sent by e-mail with a link to answer once."),
            )
            f["then"] = forms.ChoiceField(
                label=_("When they answer, move to"),
                required=False,
                choices=[("", _("— stay in the same status —")), *status_choices],
            )
        elif kind == "timeout":
            f["amount"] = forms.IntegerField(label=_("Wait"), min_value=1, max_value=3650)
            f["unit"] = forms.ChoiceField(
                label=_("Unit"), choices=[("days", _("days")), ("hours", _("hours"))]
            )
            f["to"] = forms.ChoiceField(
                label=_("Then, if nothing changed, move to"), choices=status_choices
            )
        elif kind == "route":
            f["to"] = forms.ChoiceField(
                label=_("Hand it to"),
                widget=forms.RadioSelect,
                choices=[
                    ("commune", _("the commune of the address given")),
                    ("owner", _("the territory that publishes the procedure")),
                    ("metropole", _("the metropole")),
                ],
            )
        elif kind == "connector":
            f["endpoint"] = forms.ChoiceField(
                label=_("Endpoint to call"),
                choices=list(endpoints),
                help_text=_("The request's code, status, commune and answers are sent."),
            )

    def action(self) -> dict:
        data = self.cleaned_data
        if self.kind == "notify":
            action = {"type": "notify", "channel": data["channel"], "message": data["message"]}
            if data.get("subject"):
                action["subject"] = data["subject"]
            return action
        if self.kind == "assign":
            return {"type": "assign", "team": data["team"]}
        if self.kind == "ask_citizen":
            action = {"type": "ask_citizen", "message": data["message"]}
            if data.get("then"):
                action["then"] = data["then"]
            return action
        if self.kind == "timeout":
            return {"type": "timeout", data["unit"]: data["amount"], "to": data["to"]}
        if self.kind == "route":
            return {"type": "route", "to": data["to"]}
        connector, _sep, endpoint = data["endpoint"].partition(":")
        return {"type": "connector", "connector": connector, "endpoint": endpoint}
