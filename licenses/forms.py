from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import throttle
from .models import Device


class ThrottledLoginMixin:
    """Refuses sign-in after too many failures for the email or the client address."""

    throttled_message = _(
        "Too many failed sign-in attempts. For your security, sign-in is paused for "
        "%(minutes)d minutes. Please try again later or reset your password."
    )

    def clean(self):
        email = (self.data.get("username") or "").strip().lower()
        address = throttle.client_address(self.request)
        if throttle.LOGIN_PER_ACCOUNT.blocked(email) or throttle.LOGIN_PER_ADDRESS.blocked(address):
            minutes = int(settings.LOGIN_THROTTLE_WINDOW.total_seconds() // 60)
            raise ValidationError(self.throttled_message % {"minutes": minutes}, code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.LOGIN_PER_ACCOUNT.hit(email)
            throttle.LOGIN_PER_ADDRESS.hit(address)
            raise
        throttle.LOGIN_PER_ACCOUNT.reset(email)
        return cleaned


class EmailLoginForm(ThrottledLoginMixin, AuthenticationForm):
    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The email address or password is not correct."),
    }


class ThrottledAdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class SignupForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=50)
    first_name = forms.CharField(label=_("First name"), max_length=50)
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model()._default_manager.filter(email__iexact=email).exists():
            raise ValidationError(
                _(
                    "An account with this email address already exists. Sign in or reset the password."
                )
            )
        return email

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords do not match."))
        elif p1:
            user = get_user_model()(
                email=cleaned.get("email", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, user)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class RegisterLicenseForm(forms.Form):
    serial = forms.CharField(
        label=_("Serial number"),
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": "MAMO-1234-5678-9ABC"}),
    )
    activation_code = forms.CharField(
        label=_("Activation code"),
        max_length=60,
        widget=forms.TextInput(
            attrs={"placeholder": "01234-56789-ABCDE-FGHIJ", "autocomplete": "off"}
        ),
    )


class AutoRenewForm(forms.Form):
    enabled = forms.BooleanField(required=False)


class InstallationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Device) -> str:
        return f"{obj.name} — {obj.get_platform_display()} {obj.program_version}"


class AddCodeForm(forms.Form):
    """K3–K8: a code and the installation it is added from (its platform decides K6/K7)."""

    activation_code = forms.CharField(
        label=_("Activation code"),
        max_length=60,
        widget=forms.TextInput(
            attrs={"placeholder": "01234-56789-ABCDE-FGHIJ", "autocomplete": "off"}
        ),
    )
    device = InstallationChoiceField(
        label=_("Installation it is for"),
        queryset=Device.objects.none(),
        empty_label=None,
        help_text=_(
            "Windows keeps the code as a reserve license until the expiry date, Mac registers it "
            "for that day, Android replaces the current license at once."
        ),
    )
    # Ticked on the confirmation page only (K6, K7 Android).
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, devices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = devices
