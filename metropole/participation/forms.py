"""Forms of participation's pages: they check shape; services check meaning and rights."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Action, Blueprint, BudgetRule, ProposalStatus, QuestionKind, ReportReason


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
        choices=[(v, label) for v, label in ProposalStatus.choices if v != "withdrawn"],
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


class SettingsForm(forms.Form):
    support_limit = forms.IntegerField(
        label=_("Supports per person (0: no limit)"), min_value=0, required=False
    )
    support_threshold = forms.IntegerField(
        label=_("Supports needed for a proposal to be studied"), min_value=0, required=False
    )
    residents_only = forms.BooleanField(label=_("Residents only"), required=False)
    min_age = forms.IntegerField(label=_("Minimum age (0: none)"), min_value=0, required=False)


class CodesForm(forms.Form):
    count = forms.IntegerField(label=_("Number of paper voting codes"), min_value=1, max_value=5000)


class PaperVoteForm(forms.Form):
    code = forms.CharField(label=_("Voting code printed on your paper"), max_length=20)
