"""Every change to licenses goes through these functions (views, admin, tasks and commands call them)."""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _

from . import throttle
from .codes import CodeFormatError, lookalike_hints, normalize_code
from .mail import send_account_mail
from .models import ActivationCode, CustomerPreferences, License, LicenseEvent, Product
from .tokens import signup_token_generator

SUPPORT_GROUP = "Support staff"
# Support staff read the catalog, licenses and their ledger and reminders, customers' mail
# settings, orders and payments, automatic renewals and their attempts, and work the receipt queue (issue, reissue, decline). They change nothing else.
SUPPORT_PERMISSIONS = [
    ("licenses", "view_product"),
    ("licenses", "view_price"),
    ("licenses", "view_license"),
    ("licenses", "view_device"),
    ("licenses", "view_licenseevent"),
    ("licenses", "view_customerpreferences"),
    ("reminders", "view_remindersent"),
    ("licenses", "view_reservelicense"),
    ("orders", "view_order"),
    ("orders", "view_payment"),
    ("receipts", "view_receipt"),
    ("receipts", "view_receiptevent"),
    ("receipts", "issue_receipt"),
    ("renewals", "view_autorenewal"),
    ("renewals", "view_renewalattempt"),
    ("renewals", "view_renewalnotice"),
]


def ensure_staff_groups(*, using: str = "default") -> Group:
    """Create or refresh the support group with exactly ``SUPPORT_PERMISSIONS``."""
    group, _created = Group.objects.using(using).get_or_create(name=SUPPORT_GROUP)
    wanted = Permission.objects.using(using).none()
    for app_label, codename in SUPPORT_PERMISSIONS:
        wanted = wanted | Permission.objects.using(using).filter(
            content_type__app_label=app_label, codename=codename
        )
    group.permissions.set(wanted)
    return group


def normalize_serial(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if not ch.isspace()).upper()


def create_license(
    *,
    serial: str,
    product: Product,
    starts_on: dt.date,
    expires_on: dt.date,
    owner=None,
    seats: int | None = None,
    auto_renew: bool = False,
    actor=None,
) -> License:
    """A new license and its first ledger row."""
    with transaction.atomic():
        license = License.objects.create(
            serial=serial,
            product=product,
            owner=owner,
            seats=seats if seats is not None else product.seat_limit,
            starts_on=starts_on,
            expires_on=expires_on,
            auto_renew=auto_renew,
        )
        LicenseEvent.objects.create(
            license=license,
            kind=LicenseEvent.Kind.CREATED,
            new_expires_on=expires_on,
            new_product=product,
            actor=actor,
        )
    return license


def issue_activation_code(
    *, code: str, product: Product, term_years: int, license: License | None = None
) -> ActivationCode:
    """Record a code; when ``license`` is given, the code is the one that activated it."""
    if license is None:
        return ActivationCode.objects.create(code=code, product=product, term_years=term_years)
    return ActivationCode.objects.create(
        code=code,
        product=product,
        term_years=term_years,
        license=license,
        state=ActivationCode.State.REDEEMED,
        redeemed_at=timezone.now(),
    )


class RegistrationError(Exception):
    """The license cannot be registered; ``messages`` says why, for the customer."""

    def __init__(self, *messages: str):
        super().__init__(" ".join(messages))
        self.messages = list(messages)


def check_code_throttle(*, account: str, address: str) -> None:
    if throttle.CODE_PER_ACCOUNT.blocked(account) or throttle.CODE_PER_ADDRESS.blocked(address):
        raise RegistrationError(
            _("Too many attempts with activation codes. Please wait 15 minutes and try again.")
        )


def prove_possession(*, serial: str, code: str, account: str, address: str) -> License:
    """The license whose serial and activation code the visitor typed (K4, T2a).

    The error never tells whether the serial or the code exists; failed lookups count against
    the per-account and per-address throttles.
    """
    check_code_throttle(account=account, address=address)
    try:
        canonical = normalize_code(code)
    except CodeFormatError as error:
        raise RegistrationError(str(error)) from error
    license = (
        License.objects.select_related("product")
        .filter(serial=normalize_serial(serial), codes__code=canonical)
        .first()
    )
    if license is None:
        throttle.CODE_PER_ACCOUNT.hit(account)
        throttle.CODE_PER_ADDRESS.hit(address)
        raise RegistrationError(
            _(
                "This serial number and activation code do not match a license that can be "
                "registered. Check both and try again."
            ),
            *lookalike_hints(code),
        )
    return license


def register_license(*, user, serial: str, code: str, address: str) -> License:
    """Attach a license bought elsewhere to ``user``, proven by its serial and activation code."""
    found = prove_possession(serial=serial, code=code, account=user.email, address=address)
    with transaction.atomic():
        license = License.objects.select_for_update().get(pk=found.pk)
        if license.owner_id == user.pk:
            return license
        if license.owner_id:
            # Someone else's: answer exactly like a wrong code.
            throttle.CODE_PER_ACCOUNT.hit(user.email)
            throttle.CODE_PER_ADDRESS.hit(address)
            raise RegistrationError(
                _(
                    "This serial number and activation code do not match a license that can be "
                    "registered. Check both and try again."
                ),
                *lookalike_hints(code),
            )
        license.owner = user
        license.save(update_fields=["owner", "updated_at"])
    return license


def set_auto_renew(*, license: License, enabled: bool) -> License:
    license.auto_renew = enabled
    license.save(update_fields=["auto_renew", "updated_at"])
    return license


def create_customer(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    is_active: bool = True,
    language: str = "",
):
    """A customer account; the email is also the username (sign-in is by email). ``language``
    (the page's language at sign-up) becomes the language of their mails."""
    email = email.strip().lower()
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=email,
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            is_active=is_active,
        )
        CustomerPreferences.objects.create(user=user, language=mail_language(language))
    return user


# --- Account preferences (DESIGN 8: the customer's language for mails, expiry reminders) ---------


def mail_language(language: str | None) -> str:
    """One of ``settings.LANGUAGES`` for ``language`` (``en-us`` → ``en``), else the default."""
    try:
        return translation.get_supported_language_variant(language or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def remember_language(*, user, language: str | None) -> None:
    """Mails follow the language the customer last used the shop in (sign-in, the language
    switch). One query when nothing changes."""
    language = mail_language(language)
    updated = CustomerPreferences.objects.filter(user=user).exclude(language=language)
    if not updated.update(language=language, updated_at=timezone.now()):
        CustomerPreferences.objects.get_or_create(user=user, defaults={"language": language})


def set_reminders(*, user, enabled: bool) -> CustomerPreferences:
    """Switch expiry reminders on or off (the account page, the one-click unsubscribe)."""
    with transaction.atomic():
        preferences, _created = CustomerPreferences.objects.select_for_update().get_or_create(
            user=user
        )
        if preferences.reminders_opt_out == (not enabled):
            return preferences
        preferences.reminders_opt_out = not enabled
        preferences.reminders_opted_out_at = None if enabled else timezone.now()
        preferences.save(
            update_fields=["reminders_opt_out", "reminders_opted_out_at", "updated_at"]
        )
    return preferences


def update_preferences(*, user, language: str, reminders: bool) -> CustomerPreferences:
    """The account page: the language of mails and expiry reminders on or off."""
    with transaction.atomic():
        set_reminders(user=user, enabled=reminders)
        preferences = CustomerPreferences.objects.select_for_update().get(user=user)
        if preferences.language != mail_language(language):
            preferences.language = mail_language(language)
            preferences.save(update_fields=["language", "updated_at"])
    return preferences


def sign_up(*, email: str, password: str, first_name: str, last_name: str, language: str) -> None:
    """A sign-up, answered the same whether or not the address already has an account.

    A new address gets an inactive account and a mail with a confirmation link; an address with
    an account gets a mail telling its owner that someone tried to sign up with it (sign in or
    reset the password instead). The page never says which, and both paths hash the password, so
    neither the answer nor its timing tells an account exists. Signing up again before confirming
    replaces the details and voids the earlier link. Mails go out from a worker.
    """
    email = email.strip().lower()
    user_model = get_user_model()
    nonce = secrets.token_hex(8)
    try:
        with transaction.atomic():
            user = (
                user_model._default_manager.select_for_update()
                .filter(email__iexact=email)
                .order_by("id")
                .first()
            )
            if user is not None and user.is_active:
                make_password(password)  # the same work as the other path
                send_account_mail.delay(
                    user.pk, "signup_existing", f"signup-existing:{nonce}", language
                )
                return
            if user is None:
                user = create_customer(
                    email=email,
                    password=password,
                    first_name=first_name,
                    last_name=last_name,
                    is_active=False,
                    language=language,
                )
            else:
                user.set_password(password)
                user.first_name, user.last_name = first_name, last_name
                user.save(update_fields=["password", "first_name", "last_name"])
            send_account_mail.delay(user.pk, "signup_confirm", f"signup-confirm:{nonce}", language)
    except IntegrityError:
        # The same address signed up twice at once: the first request's mail goes out.
        return


class SignupLinkInvalid(Exception):
    """The confirmation link is wrong, expired, or already used."""


def confirm_signup(*, uidb64: str, token: str):
    """Activate the account whose confirmation link this is; returns the user."""
    try:
        pk = int(urlsafe_base64_decode(uidb64).decode())
    except (ValueError, UnicodeDecodeError):
        raise SignupLinkInvalid from None
    if not 0 < pk < 2**63:
        raise SignupLinkInvalid
    with transaction.atomic():
        user = get_user_model()._default_manager.select_for_update().filter(pk=pk).first()
        if user is None or user.is_active or not signup_token_generator.check_token(user, token):
            raise SignupLinkInvalid
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user


def send_password_reset(*, user, language: str) -> None:
    """Queue the password-reset mail (a worker makes the link and sends it)."""
    send_account_mail.delay(
        user.pk, "password_reset", f"password-reset:{secrets.token_hex(8)}", language
    )


CORRECTION_REASON_MAX_LENGTH = LicenseEvent._meta.get_field("note").max_length


class CorrectionError(Exception):
    """An operator's correction is refused; the message says why."""


def correct_expiry(
    *, license: License, new_expires_on: dt.date, actor, reason: str
) -> LicenseEvent:
    """An operator corrects a license's expiry (admin's "correct expiry"): a ledger row of kind
    ADJUSTED with who and why, never an edit of the license alone (DESIGN 6: history is never
    edited, and refunds take back what the ledger says was added)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise CorrectionError(_("Give the reason for the correction; it is kept in the history."))
    if len(reason) > CORRECTION_REASON_MAX_LENGTH:
        raise CorrectionError(
            _("Keep the reason to %(max)d characters.") % {"max": CORRECTION_REASON_MAX_LENGTH}
        )
    with transaction.atomic():
        license = License.objects.select_for_update().get(pk=license.pk)
        if new_expires_on <= license.starts_on:
            raise CorrectionError(
                _("%(serial)s: the expiry date must be after the start date %(start)s.")
                % {"serial": license.serial, "start": license.starts_on.isoformat()}
            )
        if new_expires_on == license.expires_on:
            raise CorrectionError(
                _("%(serial)s already expires on %(date)s.")
                % {"serial": license.serial, "date": new_expires_on.isoformat()}
            )
        return record_license_change(
            license=license,
            kind=LicenseEvent.Kind.ADJUSTED,
            new_expires_on=new_expires_on,
            actor=actor,
            note=reason,
        )


def record_license_change(
    *,
    license: License,
    kind: str,
    new_expires_on: dt.date,
    new_product: Product | None = None,
    order=None,
    activation_code: ActivationCode | None = None,
    actor=None,
    note: str = "",
) -> LicenseEvent:
    """Change a license's expiry and/or product and write the ledger row, in one go.

    The caller holds the license row lock (``select_for_update``) inside a transaction.
    """
    # Products by id: the ledger needs no product row (an extension reads none, issue 15).
    new_product_id = new_product.pk if new_product is not None else license.product_id
    event = LicenseEvent.objects.create(
        license=license,
        kind=kind,
        old_expires_on=license.expires_on,
        new_expires_on=new_expires_on,
        old_product_id=license.product_id,
        new_product_id=new_product_id,
        order=order,
        activation_code=activation_code,
        actor=actor,
        note=note,
    )
    license.expires_on = new_expires_on
    if new_product is not None:
        license.product = new_product
    license.save(update_fields=["expires_on", "product", "updated_at"])
    return event
