from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Schedule, SourceKind


class SourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind of catalogue"), choices=SourceKind.choices)
    url = forms.URLField(
        label=_("Address"),
        max_length=1000,
        assume_scheme="https",
        help_text=_(
            "The catalogue's address: a DCAT file (…/catalog.ttl), a CKAN portal "
            "(https://ckan.example.org) or an OpenDataSoft portal (https://data.example.fr)."
        ),
    )
    schedule = forms.ChoiceField(
        label=_("Harvested"), choices=Schedule.choices, initial=Schedule.DAILY
    )
    pull_data = forms.BooleanField(
        label=_("Also download and load the tabular files"), required=False
    )


class SourceSettingsForm(SourceForm):
    active = forms.BooleanField(label=_("Active"), required=False)
