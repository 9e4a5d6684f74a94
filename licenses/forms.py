from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import services, throttle
from .models import Device


class ThrottledLoginMixin:
    """Slows sign-in down after failures of this account from this address, or from this address
    across accounts, with growing delays (``licenses.throttle``); the account's owner signing in
    from elsewhere is not held up."""

    throttled_message = _(
        "Too many failed sign-in attempts. For your security, please wait %(minutes)d "
        "minute(s) before trying again, or reset your password."
    )

    def clean(self):
        email = str(self.data.get("username") or "").strip().lower()
        address = throttle.client_address(self.request)
        wait = throttle.login_wait_seconds(email=email, address=address)
        if wait:
            raise ValidationError(
                self.throttled_message % {"minutes": throttle.minutes(wait)}, code="throttled"
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.login_failed(email=email, address=address)
            raise
        throttle.login_succeeded(email=email, address=address)
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
        # Whether an account exists is never said here: ``services.sign_up`` mails its owner.
        return self.cleaned_data["email"].strip().lower()

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


class CorrectExpiryForm(forms.Form):
    """Admin's "correct expiry" (an operator's correction, written to the ledger)."""

    new_expires_on = forms.DateField(
        label=_("New expiry date"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The last valid day."),
    )
    reason = forms.CharField(
        label=_("Reason (kept in the license's history)"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class AccountMailThrottleMixin:
    """Sign-up and password-reset requests send mail: limited per typed email address and per
    client address, whether or not an account exists (``licenses.throttle``)."""

    throttles: tuple[throttle.Throttle, throttle.Throttle]
    throttled_message = _(
        "Too many requests from here. Please wait an hour and try again, or contact support."
    )

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email") or ""
        address = throttle.client_address(self.request)
        per_email, per_address = self.throttles
        if per_email.blocked(email) or per_address.blocked(address):
            raise ValidationError(self.throttled_message, code="throttled")
        if email and not self.errors:
            per_email.hit(email)
            per_address.hit(address)
        return cleaned


class ThrottledSignupForm(AccountMailThrottleMixin, SignupForm):
    throttles = (throttle.SIGNUP_PER_EMAIL, throttle.SIGNUP_PER_ADDRESS)


class PasswordResetRequestForm(AccountMailThrottleMixin, PasswordResetForm):
    """Django's form, throttled, and its mail sent by a worker through the one mail path."""

    throttles = (throttle.RESET_PER_EMAIL, throttle.RESET_PER_ADDRESS)

    def save(self, *args, **kwargs) -> None:
        language = get_language() or settings.LANGUAGE_CODE
        for user in self.get_users(self.cleaned_data["email"]):
            services.send_password_reset(user=user, language=language)


class ResetPasswordForm(SetPasswordForm):
    """Setting a new password from a reset link clears the account's sign-in delays."""

    def save(self, commit: bool = True):
        user = super().save(commit=commit)
        throttle.forget_account(email=user.email)
        return user


class AccountPreferencesForm(forms.Form):
    """The account page (DESIGN 8): the language of mails and expiry reminders on or off."""

    language = forms.ChoiceField(label=_("Language of mails"), choices=settings.LANGUAGES)
    reminders = forms.BooleanField(
        label=_("Send me expiry reminders"),
        required=False,
        help_text=_(
            "A few mails before each of your licenses expires, on the expiry date and after it, "
            "with the renewal prices and a “Renew now” button. Licenses with automatic renewal "
            "get its notices instead."
        ),
    )


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
