from django import forms
from django.utils.translation import gettext_lazy as _

from metropole.core.forms import BrowserDateInput


class BookingForm(forms.Form):
    """Who the appointment is for, and how to reach them: the confirmation and the reminder
    go to the e-mail address and by SMS to the mobile (`notify.send`), so one is needed."""

    name = forms.CharField(
        label=_("Your first and last name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_(
            "For the confirmation and the reminder. Give an e-mail address, a mobile number "
            "or both."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        required=False,
        max_length=30,
        help_text=_("For the confirmation and the reminder by SMS."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(
                _("Give an e-mail address or a mobile phone number for the confirmation.")
            )
        return data


class WaitingForm(forms.Form):
    email = forms.EmailField(label=_("Your e-mail"))


class AgendaForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    service = forms.ModelChoiceField(label=_("Service"), queryset=None, required=False)
    place_name = forms.CharField(label=_("Place"), max_length=200, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    opening_hours_text = forms.CharField(
        label=_("Opening hours"),
        required=False,
        help_text=_(
            "E.g. “Mo-Fr 09:00-12:00,13:30-17:00; Sa 09:00-12:00”. Empty: the town hall's hours."
        ),
    )
    slot_minutes = forms.IntegerField(
        label=_("Grid step (minutes)"), min_value=5, max_value=240, initial=15
    )
    closed_on_school_holidays = forms.BooleanField(
        label=_("Closed during school holidays"), required=False
    )
    active = forms.BooleanField(label=_("Open to booking"), required=False, initial=True)

    def __init__(self, *args, territory, **kwargs):
        super().__init__(*args, **kwargs)
        from metropole.catalogue.models import Service

        self.fields["service"].queryset = Service.objects.filter(territory=territory)


class TypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=480, initial=30
    )
    min_delay_hours = forms.IntegerField(
        label=_("Book at least (hours before)"), min_value=0, initial=2
    )
    max_delay_days = forms.IntegerField(
        label=_("Book at most (days before)"), min_value=1, initial=60
    )
    mode = forms.ChoiceField(label=_("How"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Mode

        self.fields["mode"].choices = Mode.choices


class AgentForm(forms.Form):
    name = forms.CharField(label=_("Name of the agent or counter"), max_length=200)


class AbsenceForm(forms.Form):
    agent = forms.ModelChoiceField(label=_("Agent"), queryset=None)
    start = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    end = forms.DateTimeField(
        label=_("To"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def __init__(self, *args, agenda, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = agenda.agents.filter(active=True)


class ClosureForm(forms.Form):
    first_day = forms.DateField(label=_("First day"), widget=BrowserDateInput())
    last_day = forms.DateField(label=_("Last day"), widget=BrowserDateInput())
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class AgentEditForm(AgentForm):
    active = forms.BooleanField(
        label=_("Receives people (offered for new bookings)"), required=False
    )


class TypeEditForm(TypeForm):
    active = forms.BooleanField(label=_("Open to booking"), required=False)


class AbsenceEditForm(AbsenceForm):
    def __init__(self, *args, agenda, **kwargs):
        super().__init__(*args, agenda=agenda, **kwargs)
        # An absence of an agent since deactivated can still be corrected.
        self.fields["agent"].queryset = agenda.agents.all()
