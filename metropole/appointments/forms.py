from django import forms
from django.utils.translation import gettext_lazy as _


class BookingForm(forms.Form):
    name = forms.CharField(label=_("Your first and last name"), max_length=200)
    email = forms.EmailField(
        label=_("E-mail"), required=False, help_text=_("For the confirmation and the reminder.")
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        required=False,
        max_length=30,
        help_text=_("Optional: a reminder by SMS 48 hours before."),
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
