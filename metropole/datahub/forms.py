"""Forms of the data hub's pages. They only parse and present: every rule (licences allowed,
Table Schema validity, dates in order, ...) is checked by services.py, whose errors are put
back on the field they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from metropole.core.forms import BrowserDateInput
from metropole.core.models import Organisation, Territory

from .models import Access, InvalidRows, ResourceKind
from .services import allowed_licences
from .vocabularies import Frequency, Theme


class DatasetForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("What the data is, who made it and what it is useful for (needed to publish)."),
    )
    keywords = forms.CharField(
        label=_("Keywords"),
        required=False,
        help_text=_("Separated by commas, e.g. trees, streets, nature"),
    )
    themes = forms.MultipleChoiceField(
        label=_("Themes"),
        choices=Theme.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    licence = forms.ChoiceField(label=_("Licence"))
    frequency = forms.ChoiceField(
        label=_("How often is it updated?"), choices=Frequency.choices, initial=Frequency.UNKNOWN
    )
    spatial = forms.MultipleChoiceField(
        label=_("Territories covered"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (or Cmd) to choose several. By default, your territory."),
    )
    temporal_start = forms.DateField(
        label=_("Data covers from"),
        required=False,
        widget=BrowserDateInput(),
    )
    temporal_end = forms.DateField(
        label=_("Data covers until"),
        required=False,
        widget=BrowserDateInput(),
    )
    contact_name = forms.CharField(label=_("Contact point"), max_length=200, required=False)
    contact_email = forms.CharField(label=_("Contact e-mail"), max_length=254, required=False)
    landing_page = forms.CharField(label=_("Web page"), max_length=200, required=False)
    provenance = forms.CharField(
        label=_("Source and provenance"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Where the data comes from, and how it was produced or transformed."),
    )
    schema_name = forms.CharField(
        label=_("Table Schema name"),
        max_length=200,
        required=False,
        help_text=_("e.g. etalab/schema-irve-statique (schema.data.gouv.fr)"),
    )
    schema_version = forms.CharField(label=_("Table Schema version"), max_length=32, required=False)
    table_schema = forms.CharField(
        label=_("Table Schema (JSON)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("Optional: the schema's JSON descriptor; every load is checked against it."),
    )
    invalid_rows = forms.ChoiceField(
        label=_("Rows that break the schema"),
        choices=InvalidRows.choices,
        initial=InvalidRows.REJECT,
        widget=forms.RadioSelect,
    )
    access = forms.ChoiceField(
        label=_("Who may see it"),
        choices=[
            (Access.PUBLIC, _("Everyone (open data)")),
            (Access.RESTRICTED, _("Agents of the territory and the organisations chosen below")),
            (Access.PRIVATE, _("Only the publishers (private draft)")),
        ],
        initial=Access.PRIVATE,
        widget=forms.RadioSelect,
    )
    allowed_organisations = forms.MultipleChoiceField(
        label=_("Organisations allowed to read it (restricted access)"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, territory: Territory, organisation=None, **kwargs):
        """`organisation`: the partner organisation that publishes (its own members always
        see its datasets, so it is not offered among the organisations allowed)."""
        super().__init__(*args, **kwargs)
        metropole = territory.root
        self.fields["licence"].choices = list(allowed_licences(metropole).items())
        places = sorted(
            Territory.objects.in_metropole(metropole),
            key=lambda t: (not t.is_metropole, t.kind != "ept", t.name),
        )
        self.fields["spatial"].choices = [(t.code, t.display_name) for t in places]
        organisations = Organisation.objects.filter(metropole=metropole).order_by("name")
        if organisation is not None:
            organisations = organisations.exclude(pk=organisation.pk)
            self.fields["access"].choices = [
                (Access.PUBLIC, _("Everyone (open data)")),
                (
                    Access.RESTRICTED,
                    _(
                        "Members of %(name)s, agents of the metropole and the organisations "
                        "chosen below"
                    )
                    % {"name": organisation.name},
                ),
                (Access.PRIVATE, _("Only the publishers (private draft)")),
            ]
            self.fields["spatial"].help_text = _(
                "Hold Ctrl (or Cmd) to choose several. By default, the whole metropole."
            )
        self.fields["allowed_organisations"].choices = [(o.pk, o.name) for o in organisations]
        if not self.fields["allowed_organisations"].choices:
            del self.fields["allowed_organisations"]

    @staticmethod
    def initial_for(dataset) -> dict:
        """The form's values from a stored dataset."""
        import json

        values = {
            name: getattr(dataset, name)
            for name in (
                "title",
                "description",
                "licence",
                "frequency",
                "temporal_start",
                "temporal_end",
                "contact_name",
                "contact_email",
                "landing_page",
                "provenance",
                "schema_name",
                "schema_version",
                "invalid_rows",
                "access",
            )
        }
        values["keywords"] = ", ".join(dataset.keywords)
        values["themes"] = dataset.theme_codes
        values["spatial"] = [t.code for t in dataset.spatial.all()]
        values["allowed_organisations"] = [o.pk for o in dataset.allowed_organisations.all()]
        values["table_schema"] = (
            json.dumps(dataset.table_schema, ensure_ascii=False, indent=2)
            if dataset.table_schema
            else ""
        )
        return values

    def service_values(self) -> dict:
        """The cleaned values as services.create_dataset / update_dataset take them."""
        values = dict(self.cleaned_data)
        values["table_schema"] = values["table_schema"].strip() or None
        if not values["spatial"]:
            values.pop("spatial")
        if "allowed_organisations" in values:
            values["allowed_organisations"] = [int(pk) for pk in values["allowed_organisations"]]
        return values


class ResourceForm(forms.Form):
    """A new resource: a file sent now, or the address of a file pulled on a schedule."""

    title = forms.CharField(
        label=_("Name of the resource"),
        max_length=200,
        help_text=_("e.g. “Trees in 2025”: people see it in the list of files."),
    )
    kind = forms.ChoiceField(
        label=_("Where does the data come from?"),
        choices=[
            (ResourceKind.UPLOAD, _("A file on my computer")),
            (ResourceKind.REMOTE, _("A file on the web, fetched again regularly")),
        ],
        initial=ResourceKind.UPLOAD,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("CSV, Excel (XLSX), OpenDocument (ODS), JSON or GeoJSON."),
    )
    remote_url = forms.CharField(
        label=_("Address of the file on the web"),
        max_length=1000,
        required=False,
        help_text=_("https://…"),
    )
    pull_frequency = forms.ChoiceField(
        label=_("Fetch it again"),
        choices=[("", "—"), *Frequency.choices],
        required=False,
    )
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == ResourceKind.UPLOAD and not data.get("file"):
            self.add_error("file", _("Choose the file to send."))
        if data.get("kind") == ResourceKind.REMOTE and not data.get("remote_url"):
            self.add_error("remote_url", _("Give the address of the file."))
        return data


class UploadForm(forms.Form):
    """A new version of an existing file resource."""

    file = forms.FileField(
        label=_("New file"), help_text=_("CSV, Excel (XLSX), OpenDocument (ODS), JSON or GeoJSON.")
    )
    invalid_rows = forms.ChoiceField(
        label=_("Rows that break the schema"),
        choices=[("", _("As set for the dataset")), *InvalidRows.choices],
        required=False,
    )
