from django import forms
from django.utils.translation import gettext_lazy as _

from metropole.core.models import Territory

from .models import AttributeType, CloseReason, ReportCategory, Status


class ReportForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("What is the problem?"), queryset=ReportCategory.objects.none()
    )
    lat = forms.CharField(label=_("Latitude"), required=False, max_length=30)
    lon = forms.CharField(label=_("Longitude"), required=False, max_length=30)
    commune = forms.ModelChoiceField(
        label=_("Commune (if you did not place a point)"),
        queryset=Territory.objects.none(),
        required=False,
        to_field_name="code",  # the core map's pick mode selects the commune by its code
    )
    address = forms.CharField(
        label=_("Street, number or landmark"),
        required=False,
        max_length=300,
        help_text=_("For example: 12 rue Nationale, in front of the bakery."),
    )
    description = forms.CharField(
        label=_("Describe the problem"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        help_text=_("JPEG, PNG or WebP, up to 8 MB. The location and camera data are removed."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    confirm_new = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, metropole, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ReportCategory.objects.filter(
            metropole=metropole, active=True
        )
        self.fields["commune"].queryset = (
            Territory.objects.communes().filter(metropole=metropole).only("name", "code")
        )

    def clean(self):
        data = super().clean()
        has_point = data.get("lat") and data.get("lon")
        if not has_point and not data.get("commune"):
            raise forms.ValidationError(
                _(
                    "Place a point on the map, use your location, or choose the commune "
                    "and type the address."
                )
            )
        if not has_point and not data.get("address"):
            self.add_error("address", _("Type the address so that the agents can find the place."))
        return data


class AttributeForm(forms.Form):
    """A question of a category (an Open311 attribute), in the back-office."""

    label = forms.CharField(
        label=_("Question"),
        max_length=200,
        help_text=_("As the person reporting will read it, e.g. “How many lamps are out?”"),
    )
    datatype = forms.ChoiceField(label=_("Type of answer"), choices=AttributeType.choices)
    choices = forms.CharField(
        label=_("Choices (for a list)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One choice per line. Leave empty for a text or a number."),
    )
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    help_text = forms.CharField(label=_("Help (optional)"), max_length=300, required=False)
    order = forms.IntegerField(
        label=_("Position among the questions"), min_value=1, max_value=999, required=False
    )


class LocationForm(forms.Form):
    """An agent puts the report's point where the problem is."""

    lat = forms.CharField(label=_("Latitude"), max_length=30)
    lon = forms.CharField(label=_("Longitude"), max_length=30)
    address = forms.CharField(label=_("Street, number or landmark"), max_length=300, required=False)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    close_reason = forms.ChoiceField(
        label=_("Reason (when closing)"),
        choices=[("", "—"), *CloseReason.choices],
        required=False,
    )
    duplicate_of = forms.IntegerField(
        label=_("Number of the original report (duplicate)"), required=False, min_value=1
    )
    text = forms.CharField(
        label=_("Public message"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class MessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.BooleanField(label=_("Visible to the public"), required=False, initial=True)


class CategoryForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("New category"), queryset=ReportCategory.objects.none()
    )

    def __init__(self, *args, metropole, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = ReportCategory.objects.filter(metropole=metropole)


class RerouteForm(forms.Form):
    territory = forms.ModelChoiceField(label=_("Send to"), queryset=Territory.objects.none())
    text = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, metropole, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].queryset = Territory.objects.in_metropole(metropole).only(
            "name", "code", "kind"
        )


class ReportCategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    group = forms.CharField(label=_("Group"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    competence = forms.ModelChoiceField(
        label=_("Competence"),
        queryset=None,
        help_text=_("Decides who receives the reports: the metropole or the commune."),
    )
    active = forms.BooleanField(label=_("Offered to the public"), required=False, initial=True)

    def __init__(self, *args, metropole, **kwargs):
        super().__init__(*args, **kwargs)
        from metropole.catalogue.models import Competence

        self.fields["competence"].queryset = Competence.objects.filter(metropole=metropole)
