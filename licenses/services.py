"""Every change to licenses goes through these functions (views, admin, tasks and commands call them)."""

from __future__ import annotations

import datetime as dt
import unicodedata

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import throttle
from .codes import CodeFormatError, lookalike_hints, normalize_code
from .models import ActivationCode, License, LicenseEvent, Product

SUPPORT_GROUP = "Support staff"
# Support staff read the catalog, licenses and their ledger, orders and payments, and work the
# receipt queue (issue, reissue, decline). They change nothing else.
SUPPORT_PERMISSIONS = [
    ("licenses", "view_product"),
    ("licenses", "view_price"),
    ("licenses", "view_license"),
    ("licenses", "view_device"),
    ("licenses", "view_licenseevent"),
    ("licenses", "view_reservelicense"),
    ("orders", "view_order"),
    ("orders", "view_payment"),
    ("receipts", "view_receipt"),
    ("receipts", "view_receiptevent"),
    ("receipts", "issue_receipt"),
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


def create_customer(*, email: str, password: str, first_name: str = "", last_name: str = ""):
    """A customer account; the email is also the username (sign-in is by email)."""
    from django.contrib.auth import get_user_model

    email = email.strip().lower()
    return get_user_model().objects.create_user(
        username=email, email=email, password=password, first_name=first_name, last_name=last_name
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
    new_product = new_product or license.product
    event = LicenseEvent.objects.create(
        license=license,
        kind=kind,
        old_expires_on=license.expires_on,
        new_expires_on=new_expires_on,
        old_product=license.product,
        new_product=new_product,
        order=order,
        activation_code=activation_code,
        actor=actor,
        note=note,
    )
    license.expires_on = new_expires_on
    license.product = new_product
    license.save(update_fields=["expires_on", "product", "updated_at"])
    return event
