"""Forms of the core's pages. Validation of meaning lives in services; forms check shape."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .colours import DEFAULT_ACCENT, DEFAULT_PRIMARY
from .models import OrganisationKind, Role, Territory, TerritoryKind, User


class BrowserDateInput(forms.DateInput):
    """The browser's date picker (<input type="date">). Its value is always written
    2025-06-01, whatever the page's language: with the language's own format (01/06/2025),
    the browser would show an empty field and saving the form would erase the date."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class CommuneChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    home_commune = CommuneChoiceField(
        label=_("My commune"),
        required=False,
        queryset=Territory.objects.none(),
        empty_label=_("— I prefer not to say —"),
        help_text=_("Used to show you what is open to you. You can change it later."),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters, not only digits, not too common."),
    )

    def __init__(self, *args, metropole=None, **kwargs):
        super().__init__(*args, **kwargs)
        if metropole is not None:
            self.fields["home_commune"].queryset = Territory.objects.communes().filter(
                metropole=metropole
            )

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = User(
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The e-mail address or the password is not right. Check them and try "
            "again, or reset your password."
        ),
    }
    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def clean_username(self):
        return self.cleaned_data["username"].lower()


class OtpForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "home_commune"]
        field_classes = {"home_commune": CommuneChoiceField}

    def __init__(self, *args, metropole=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_commune"].queryset = Territory.objects.communes().filter(
            metropole=metropole
        )


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password, to confirm"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account will be deleted and cannot be restored.")
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if self.user.has_usable_password() and not self.user.check_password(password):
            raise forms.ValidationError(_("This is not your password."))
        return password


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("E.g. the name of the program that will use it."),
    )
    expires_at = forms.DateField(label=_("Expires on"), required=False, widget=BrowserDateInput())


class GrantRoleForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail of the person"), help_text=_("The person must already have an account.")
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    organisation = forms.ModelChoiceField(
        label=_("Organisation (partner members only)"), queryset=None, required=False
    )

    def __init__(self, *args, territory=None, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Organisation, role_label

        self.fields["role"].choices = [
            (r, role_label(r, territory)) for r in Role.values if r in roles
        ]
        self.fields["organisation"].queryset = Organisation.objects.filter(metropole=territory.root)
        if territory.kind != TerritoryKind.METROPOLE:
            del self.fields["organisation"]

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise forms.ValidationError(
                _("No account uses %(email)s. Ask the person to sign up first."),
                params={"email": email},
            )
        self.cleaned_data["user"] = user
        return email


class BrandingForm(forms.ModelForm):
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    class Meta:
        model = Territory
        fields = [
            "brand_name",
            "tagline",
            "contact_email",
            "primary_colour",
            "accent_colour",
            "logo",
        ]
        widgets = {
            "primary_colour": forms.TextInput(attrs={"type": "color"}),
            "accent_colour": forms.TextInput(attrs={"type": "color"}),
            "logo": forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A colour picker cannot be empty: show the colours in use, not black.
        self.initial["primary_colour"] = self.instance.primary_colour or DEFAULT_PRIMARY
        self.initial["accent_colour"] = self.instance.accent_colour or DEFAULT_ACCENT

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        from django.conf import settings

        if logo and hasattr(logo, "size") and logo.size > settings.BRANDING_LOGO_MAX_BYTES:
            raise forms.ValidationError(
                _("The logo weighs %(size)d KB; the limit is %(max)d KB."),
                params={"size": logo.size // 1024, "max": settings.BRANDING_LOGO_MAX_BYTES // 1024},
            )
        return logo


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrganisationKind.choices)
    siren = forms.CharField(label=_("SIREN"), max_length=9, required=False)
