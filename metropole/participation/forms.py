"""Forms of participation's pages: they check shape; services check meaning and rights."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import (
    COMPONENT_SETTINGS,
    Action,
    Blueprint,
    BudgetRule,
    ComponentKind,
    ProposalStatus,
    QuestionKind,
    ReportReason,
    Stance,
)


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=150, help_text=_("In a few words."))
    body = forms.CharField(
        label=_("Your proposal"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What do you propose, where, and why?"),
    )
    latitude = forms.FloatField(
        label=_("Latitude (optional)"),
        required=False,
        help_text=_("Click on the map to fill it in, or leave it empty."),
    )
    longitude = forms.FloatField(label=_("Longitude (optional)"), required=False)
    image = forms.FileField(
        label=_("Picture (optional)"),
        required=False,
        help_text=_("A JPEG, PNG or WebP picture."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class EditProposalForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=150)
    body = forms.CharField(label=_("Your proposal"), max_length=5000, widget=forms.Textarea)


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"), max_length=3000, widget=forms.Textarea(attrs={"rows": 4})
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why do you report this?"), choices=ReportReason.choices, widget=forms.RadioSelect
    )
    details = forms.CharField(label=_("Details (optional)"), max_length=500, required=False)


class AnswerForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (v, label) for v, label in ProposalStatus.choices if v not in ("withdrawn", "merged")
        ],
    )
    answer = forms.CharField(label=_("Official answer"), widget=forms.Textarea(attrs={"rows": 4}))


class DeclarationForm(forms.Form):
    postal_code = forms.CharField(
        label=_("Postal code of your home"),
        max_length=5,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
    )
    commune = forms.CharField(
        label=_("INSEE code of your commune (only if several communes share the postal code)"),
        max_length=5,
        required=False,
    )
    birth_year = forms.IntegerField(
        label=_("Year of birth"),
        help_text=_("Some votes are open from a certain age."),
        widget=forms.NumberInput(attrs={"autocomplete": "bday-year"}),
    )


class ProcessForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    blueprint = forms.ChoiceField(
        label=_("Kind of process"),
        choices=Blueprint.choices,
        widget=forms.RadioSelect,
        help_text=_("Phases and tools are created for you; you can change the dates after."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    start = forms.DateTimeField(
        label=_("Start"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Empty: starts now."),
    )
    image = forms.FileField(
        label=_("Picture (optional)"),
        required=False,
        help_text=_("A JPEG, PNG or WebP picture."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )


class PhaseForm(forms.Form):
    title = forms.CharField(label=_("Title of the phase"), max_length=200)
    start = forms.DateTimeField(
        label=_("Start"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = forms.DateTimeField(
        label=_("End"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    actions = forms.MultipleChoiceField(
        label=_("What participants may do"),
        choices=Action.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of question"), choices=QuestionKind.choices)
    text = forms.CharField(label=_("Question"), max_length=300)
    choices = forms.CharField(
        label=_("Choices, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    required = forms.BooleanField(label=_("An answer is required"), required=False, initial=True)


class AreaForm(forms.Form):
    name = forms.CharField(label=_("Name of the area"), max_length=200)
    amount = forms.IntegerField(label=_("Budget (euros)"), min_value=1)
    rule = forms.ChoiceField(label=_("Voting rule"), choices=BudgetRule.choices)
    min_projects = forms.IntegerField(label=_("Minimum number of projects"), min_value=0, initial=0)
    max_projects = forms.IntegerField(
        label=_("Maximum number of projects (0: no maximum)"), min_value=0, initial=0
    )
    min_share = forms.IntegerField(
        label=_("Minimum share of the budget to spend (%)"), min_value=0, max_value=100, initial=0
    )


class ProjectForm(forms.Form):
    area = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("Project"), max_length=200)
    cost = forms.IntegerField(label=_("Cost (euros)"), min_value=1)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MeetingForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    start = forms.DateTimeField(
        label=_("Start"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = forms.DateTimeField(
        label=_("End"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    online_url = forms.URLField(label=_("Online link"), required=False)
    capacity = forms.IntegerField(label=_("Places (0: no limit)"), min_value=0, initial=0)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


SETTING_FIELDS = {
    "support_limit": lambda: forms.IntegerField(
        label=_("Supports per person (0: no limit)"), min_value=0, required=False
    ),
    "support_threshold": lambda: forms.IntegerField(
        label=_("Supports needed for a proposal to be studied"), min_value=0, required=False
    ),
    "edit_minutes": lambda: forms.IntegerField(
        label=_("Minutes during which authors may edit what they wrote"),
        min_value=0,
        required=False,
    ),
    "max_image_kb": lambda: forms.IntegerField(
        label=_("Largest picture accepted (kB)"), min_value=1, required=False
    ),
    "residents_only": lambda: forms.BooleanField(label=_("Residents only"), required=False),
    "verified_residence": lambda: forms.BooleanField(
        label=_("Residence confirmed by FranceConnect required"), required=False
    ),
    "min_age": lambda: forms.IntegerField(
        label=_("Minimum age (0: none)"), min_value=0, required=False
    ),
}


class SettingsForm(forms.Form):
    """The rules of one component: the fields its kind takes (COMPONENT_SETTINGS)."""

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        for name in COMPONENT_SETTINGS.get(kind, ()):
            self.fields[name] = SETTING_FIELDS[name]()


def _phase_choices(process):
    return [("", _("Every phase of the process (as they open actions)"))] + [
        (str(p.pk), p.title) for p in process.phases.all()
    ]


class ComponentForm(forms.Form):
    """Add a tool to a process by hand."""

    kind = forms.ChoiceField(label=_("Kind of tool"), choices=ComponentKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    phase = forms.ChoiceField(
        label=_("Open during"),
        required=False,
        help_text=_("Tie the tool to one phase, or let every phase open what it allows."),
    )

    def __init__(self, *args, process, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].choices = _phase_choices(process)


class ComponentEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    phase = forms.ChoiceField(label=_("Open during"), required=False)

    def __init__(self, *args, process, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phase"].choices = _phase_choices(process)


class DebateForm(forms.Form):
    title = forms.CharField(label=_("Question put to debate"), max_length=300)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    start = forms.DateTimeField(
        label=_("Opens on"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    end = forms.DateTimeField(
        label=_("Closes on"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    meeting = forms.ChoiceField(label=_("Tied to the meeting (optional)"), required=False)

    def __init__(self, *args, meetings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].choices = [("", "—")] + [(str(m.pk), m.title) for m in meetings]


class ConclusionForm(forms.Form):
    conclusion = forms.CharField(
        label=_("Conclusion of the territory"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Publishing it closes the debate; the people who took part get an e-mail."),
    )


class ArgumentForm(forms.Form):
    stance = forms.ChoiceField(
        label=_("Your argument is"),
        choices=Stance.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    body = forms.CharField(
        label=_("Your argument"), max_length=3000, widget=forms.Textarea(attrs={"rows": 4})
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput)


class EditCommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your text"), max_length=3000, widget=forms.Textarea(attrs={"rows": 6})
    )


class MergeForm(forms.Form):
    """Choose, among a group of similar proposals, the one that stays and those merged."""

    target = forms.ChoiceField(label=_("The proposal that stays"), widget=forms.RadioSelect)
    merged = forms.MultipleChoiceField(
        label=_("Proposals merged into it"), widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(
        label=_("Message to their authors and followers (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, proposals=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(p.pk), f"{p.title} (n° {p.pk}, {p.support_count} ✓)") for p in proposals]
        self.fields["target"].choices = choices
        self.fields["merged"].choices = choices

    def clean(self):
        data = super().clean()
        if data.get("target") and data.get("target") in (data.get("merged") or []):
            data["merged"] = [m for m in data["merged"] if m != data["target"]]
        if data.get("target") and not data.get("merged"):
            self.add_error("merged", _("Tick at least one other proposal."))
        return data


class CodesForm(forms.Form):
    count = forms.IntegerField(label=_("Number of paper voting codes"), min_value=1, max_value=5000)


class PaperVoteForm(forms.Form):
    code = forms.CharField(label=_("Voting code printed on your paper"), max_length=20)
