from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Category, Channel, Competence, Holder


class ServiceForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(label=_("Summary"), max_length=300, required=False)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea, required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.none())
    competence = forms.ModelChoiceField(
        label=_("Competence"),
        queryset=Competence.objects.none(),
        required=False,
        help_text=_("Decides who sees the service: only competences your level holds are listed."),
    )
    channels = forms.MultipleChoiceField(
        label=_("Channels"),
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    url = forms.URLField(label=_("Link to the service"), required=False, assume_scheme="https")
    contact = forms.CharField(label=_("Contact"), max_length=300, required=False)
    active = forms.BooleanField(
        label=_("Active (shown to the public)"), required=False, initial=True
    )

    def __init__(self, *args, territory, **kwargs):
        super().__init__(*args, **kwargs)
        metropole = territory.root
        self.fields["category"].queryset = Category.objects.filter(metropole=metropole)
        level = {"metropole": [Holder.METROPOLE, Holder.EPT], "ept": [Holder.EPT]}.get(
            territory.kind, [Holder.COMMUNE]
        )
        self.fields["competence"].queryset = Competence.objects.filter(
            metropole=metropole, holder__in=level
        )


class AnswerForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=300)
    answer = forms.CharField(label=_("Answer"), widget=forms.Textarea)
