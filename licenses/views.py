from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import redemption, reserves, selectors, services, throttle
from .forms import (
    AccountPreferencesForm,
    AddCodeForm,
    PasswordResetRequestForm,
    RegisterLicenseForm,
    ResetPasswordForm,
    ThrottledSignupForm,
)


def home(request):
    return render(request, "home.html")


def help_page(request):
    return render(request, "help.html")


@require_http_methods(["GET", "POST"])
def signup(request):
    """The same answer whether or not the address has an account (``services.sign_up``)."""
    if request.user.is_authenticated:
        return redirect("licenses:list")
    form = ThrottledSignupForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
            language=get_language() or settings.LANGUAGE_CODE,
        )
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("signup_done")
    return render(request, "registration/signup.html", {"form": form})


def signup_done(request):
    return render(
        request, "registration/signup_done.html", {"email": request.session.get("signup_email")}
    )


@require_http_methods(["GET", "POST"])
def signup_confirm(request, uidb64: str, token: str):
    """The link of the confirmation mail: a button (a mail scanner's GET activates nothing)."""
    if request.method == "POST":
        try:
            user = services.confirm_signup(uidb64=uidb64, token=token)
        except services.SignupLinkInvalid:
            return render(
                request, "registration/signup_confirm.html", {"invalid": True}, status=400
            )
        login(request, user, backend="licenses.auth.EmailBackend")
        messages.success(request, _("Your account has been created."))
        return redirect("licenses:list")
    return render(request, "registration/signup_confirm.html", {"invalid": False})


class PasswordResetView(auth_views.PasswordResetView):
    """Throttled, and the mail is sent by a worker (``PasswordResetRequestForm.save``)."""

    form_class = PasswordResetRequestForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A password set from a reset link clears the account's sign-in delays."""

    form_class = ResetPasswordForm


@login_required
def account(request):
    """The customer's account: their address, the language of mails, expiry reminders."""
    preferences = selectors.customer_preferences(user=request.user)
    form = AccountPreferencesForm(
        request.POST or None,
        initial={"language": preferences.language, "reminders": not preferences.reminders_opt_out},
    )
    if request.method == "POST" and form.is_valid():
        services.update_preferences(
            user=request.user,
            language=form.cleaned_data["language"],
            reminders=form.cleaned_data["reminders"],
        )
        messages.success(request, _("Your settings have been saved."))
        return redirect("account")
    return render(request, "licenses/account.html", {"form": form, "preferences": preferences})


@login_required
def license_list(request):
    licenses = list(selectors.customer_licenses(user=request.user))
    rows_version = selectors.license_rows_version(licenses=licenses, today=timezone.localdate())
    return render(
        request,
        "licenses/license_list.html",
        {
            "licenses": licenses,
            "rows_version": rows_version,
            "register_form": RegisterLicenseForm(),
        },
    )


def _detail_context(license, *, add_code_form=None, version_up: bool = False) -> dict:
    devices = list(license.devices.all())
    return {
        "license": license,
        "devices": devices,
        "history": list(selectors.license_history(license=license)),
        "reserve": selectors.waiting_reserve(license=license),
        "today": timezone.localdate(),
        "add_code_form": add_code_form or AddCodeForm(devices=license.devices.all()),
        "version_up": version_up,
    }


@login_required
def license_detail(request, serial: str):
    license = selectors.customer_license(user=request.user, serial=serial)
    return render(request, "licenses/license_detail.html", _detail_context(license))


@login_required
@require_POST
def add_code(request, serial: str):
    """K3–K8 from the license page; K6/K7 confirmations on a page of their own."""
    license = selectors.customer_license(user=request.user, serial=serial)
    form = AddCodeForm(request.POST, devices=license.devices.all())
    version_up = False
    if form.is_valid():
        try:
            added = redemption.add_code(
                license=license,
                device=form.cleaned_data["device"],
                code=form.cleaned_data["activation_code"],
                confirm=form.cleaned_data["confirm"],
                account=request.user.email,
                address=throttle.client_address(request),
                actor=request.user,
            )
        except redemption.ConfirmationRequired as needed:
            return render(
                request,
                "licenses/add_code_confirm.html",
                {
                    "license": license,
                    "form": form,
                    "device": form.cleaned_data["device"],
                    "confirmation": needed.confirmation,
                    "not_ticked": request.POST.get("step") == "confirm",
                },
            )
        except redemption.CodeRefused as refused:
            for message in [*refused.messages, *refused.hints]:
                form.add_error(None, message)
            version_up = refused.needs_version_up
        else:
            messages.success(request, added.message)
            return redirect(reverse("licenses:detail", args=[license.serial]) + "#codes")
    return render(
        request,
        "licenses/license_detail.html",
        _detail_context(license, add_code_form=form, version_up=version_up),
    )


@login_required
@require_POST
def switch_reserve(request, serial: str):
    """K7 Mac: the customer switches the registered code in, from the expiry date."""
    license = selectors.customer_license(user=request.user, serial=serial)
    reserve = selectors.waiting_reserve(license=license)
    if reserve is None:
        raise Http404
    try:
        event = reserves.switch_reserve(reserve=reserve, actor=request.user)
    except reserves.SwitchNotYet as error:
        messages.error(request, str(error))
    else:
        if event is not None:
            messages.success(
                request,
                _("The reserve license has been switched in. New expiry date: %(day)s.")
                % {"day": event.new_expires_on.isoformat()},
            )
    return redirect(reverse("licenses:detail", args=[license.serial]) + "#codes")


@login_required
def register_license(request):
    form = RegisterLicenseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            license = services.register_license(
                user=request.user,
                serial=form.cleaned_data["serial"],
                code=form.cleaned_data["activation_code"],
                address=throttle.client_address(request),
            )
        except services.RegistrationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(
                request,
                _("License %(serial)s is now in your account.") % {"serial": license.serial},
            )
            return redirect("licenses:detail", serial=license.serial)
    return render(request, "licenses/register.html", {"form": form})
