"""Adding an activation code to a license (K3–K8, DESIGN 6b): one service for the license page
and the installed program's API.

What happens depends on the code and on the installation it is added from (K3: a license is one
code and one expiry for all its devices; the installation only decides *how* the code is added):

- K4: the code is normalised; an unknown or void code, or one added to another license, gets the
  same message with the look-alike hints, and counts against the code throttles.
- K8: a code of the license's product line (or of a product the license may be renewed as, e.g.
  a 2011 generation to the current multi-platform edition) extends the license by the code's
  term; any other code is refused, saying why.
- K5: never added to an installation whose program is older than the code's product or the
  license's: the version-up steps come first.
- On or after the expiry date nothing can be lost: the code is applied at once (from the expiry
  date on the day itself, from today once expired, as K10 counts).
- While time remains:
  - K6: a 2011-generation program with 14 days or more left replaces the current period, so the
    customer is warned (Cancel is the default) and told to come back when fewer than 14 remain;
  - K7 Windows: the code waits as a reserve license, switched in on the expiry date by the
    periodic job (``licenses.reserves``);
  - K7 Mac: registered as a reserve that the customer switches from the expiry date;
  - K7 Android (and iOS): replaces the current period now; the days lost are shown and an
    explicit confirmation is required.

A code is redeemed once: its row is locked (``select_for_update``) for the whole change, and the
ledger's unique ``activation_code`` and the reserve's one-to-one back that up where the database
has no row locks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import throttle
from .codes import CodeFormatError, lookalike_hints, normalize_code
from .dates import add_years, extended_expiry
from .models import (
    ActivationCode,
    Device,
    License,
    LicenseEvent,
    Platform,
    RenewalPath,
    ReserveLicense,
)
from .services import RegistrationError, check_code_throttle, record_license_change

# K6: programs of this generation and older replace the active license when a code is added.
TWO_WEEK_WARNING_GENERATION = 2011
TWO_WEEK_WARNING_DAYS = 14
# K7: on these platforms a code replaces the current period at once (no reserve license).
REPLACING_PLATFORMS = (Platform.ANDROID, Platform.IOS)


class Result:
    """What adding a code did (stable values, returned by the API)."""

    EXTENDED = "extended"  # applied now, nothing lost
    REPLACED = "replaced"  # applied now, the remaining days of the current period lost
    RESERVED = "reserved"  # Windows: waits, switched in on the expiry date
    REGISTERED = "registered"  # Mac: waits, the customer switches it from the expiry date


class Refusal:
    """Why a code was not added (stable values, the API's error codes)."""

    THROTTLED = "throttled"
    MALFORMED = "malformed_activation_code"
    INVALID = "invalid_activation_code"
    ALREADY_ADDED = "already_added"
    INCOMPATIBLE = "incompatible_product"
    OLD_VERSION = "old_program_version"
    RESERVE_WAITING = "reserve_license_waiting"
    REVOKED = "license_revoked"


class Confirm:
    """Why a confirmation is needed before the code is added."""

    TWO_WEEK_WARNING = "two_week_warning"  # K6
    REPLACES_CURRENT_PERIOD = "replaces_current_period"  # K7 Android


class CodeRefused(Exception):
    """The code was not added; ``messages`` say why, for the customer."""

    def __init__(self, code: str, *messages: str, hints: list[str] | None = None):
        super().__init__(" ".join(messages))
        self.code = code
        self.messages = list(messages)
        self.hints = list(hints or [])

    @property
    def needs_version_up(self) -> bool:
        return self.code == Refusal.OLD_VERSION


@dataclass(frozen=True)
class Confirmation:
    """K6/K7: adding now loses days; the customer must confirm (Cancel is the default)."""

    reason: str
    days_left: int
    days_lost: int
    expires_on: dt.date
    come_back_on: dt.date
    code: ActivationCode

    @property
    def message(self) -> str:
        if self.reason == Confirm.TWO_WEEK_WARNING:
            return ngettext(
                "The current license still has %(left)d days left. This program replaces the "
                "current license when a code is added, so %(lost)d day of it would be lost.",
                "The current license still has %(left)d days left. This program replaces the "
                "current license when a code is added, so %(lost)d days of it would be lost.",
                self.days_lost,
            ) % {"left": self.days_left, "lost": self.days_lost}
        return ngettext(
            "On Android the new code replaces the current license at once: the new period starts "
            "today and %(lost)d day of the current license would be lost.",
            "On Android the new code replaces the current license at once: the new period starts "
            "today and %(lost)d days of the current license would be lost.",
            self.days_lost,
        ) % {"lost": self.days_lost}

    @property
    def advice(self) -> str:
        day = self.come_back_on.isoformat()
        if self.reason == Confirm.TWO_WEEK_WARNING:
            return _(
                "We recommend that you cancel and add the code when fewer than 14 days remain "
                "(from %(day)s): then no days are lost."
            ) % {"day": day}
        return _(
            "We recommend that you cancel and add the code on the expiry date (%(day)s): then "
            "no days are lost."
        ) % {"day": day}


class ConfirmationRequired(Exception):
    def __init__(self, confirmation: Confirmation):
        super().__init__(confirmation.reason)
        self.confirmation = confirmation


@dataclass(frozen=True)
class CodeAdded:
    result: str
    license: License
    code: ActivationCode
    event: LicenseEvent | None = None
    reserve: ReserveLicense | None = None
    days_lost: int = 0

    @property
    def message(self) -> str:
        term = ngettext("%(years)d year", "%(years)d years", self.code.term_years) % {
            "years": self.code.term_years
        }
        expires_on = self.license.expires_on.isoformat()
        if self.result == Result.RESERVED:
            return _(
                "The code (%(term)s) is kept as a reserve license. It takes over automatically "
                "when the current license expires on %(day)s: no days are lost."
            ) % {"term": term, "day": expires_on}
        if self.result == Result.REGISTERED:
            return _(
                "The code (%(term)s) is registered. Switch to it on the expiry date, %(day)s: "
                "the button appears on this page that day and we will send you a mail."
            ) % {"term": term, "day": expires_on}
        return _("The code (%(term)s) has been added. New expiry date: %(day)s.") % {
            "term": term,
            "day": expires_on,
        }


def _failed_attempt(*, account: str, address: str) -> None:
    """K4: a wrong code counts against the account's and the address's code throttles."""
    throttle.CODE_PER_ACCOUNT.hit(account)
    throttle.CODE_PER_ADDRESS.hit(address)


def _invalid(code: str, *, account: str, address: str) -> CodeRefused:
    _failed_attempt(account=account, address=address)
    return CodeRefused(
        Refusal.INVALID,
        _("Invalid activation code. Check the code and try again."),
        hints=lookalike_hints(code),
    )


def days_left_on(license: License, today: dt.date) -> int:
    """Days of validity left counting today, as the license page shows them."""
    return (license.expires_on - today).days + 1


def is_compatible(*, license: License, product) -> bool:
    """K8: the same product line, or a product this license may be renewed as."""
    return (
        product.line == license.product.line
        or RenewalPath.objects.filter(from_product=license.product, to_product=product).exists()
    )


def _check_can_add(*, license: License, device: Device, code: ActivationCode) -> None:
    """The refusals that do not depend on the date: revoked, reserve waiting, K8, K5."""
    if license.revoked_at is not None:
        raise CodeRefused(Refusal.REVOKED, _("This license has been revoked."))
    waiting = license.reserves.filter(state=ReserveLicense.State.WAITING).first()
    if waiting is not None:
        raise CodeRefused(
            Refusal.RESERVE_WAITING,
            _(
                "A reserve license is already waiting to take over on %(day)s. Add the next code "
                "after it has been switched in."
            )
            % {"day": license.expires_on.isoformat()},
        )
    if not is_compatible(license=license, product=code.product):
        raise CodeRefused(
            Refusal.INCOMPATIBLE,
            _(
                "This code is for %(code_product)s, which cannot extend a license of "
                "%(license_product)s (another product line). Install and activate that product "
                "with its own code instead."
            )
            % {"code_product": code.product.name, "license_product": license.product.name},
        )
    if device.needs_version_up_for(code.product):
        raise CodeRefused(
            Refusal.OLD_VERSION,
            _(
                "%(device)s runs an old version of the program (%(version)s). A code must not be "
                "added to an old version: update the program to the newest version first, then "
                "add the code."
            )
            % {"device": device.name, "version": device.program_version},
        )


def _confirmation_needed(
    *, license: License, device: Device, code: ActivationCode, today: dt.date
) -> Confirmation | None:
    days_left = days_left_on(license, today)
    days_lost = days_left - 1
    if days_lost <= 0:
        return None
    if device.platform in REPLACING_PLATFORMS:
        return Confirmation(
            reason=Confirm.REPLACES_CURRENT_PERIOD,
            days_left=days_left,
            days_lost=days_lost,
            expires_on=license.expires_on,
            come_back_on=license.expires_on,
            code=code,
        )
    if device.program_generation <= TWO_WEEK_WARNING_GENERATION and (
        days_left >= TWO_WEEK_WARNING_DAYS
    ):
        return Confirmation(
            reason=Confirm.TWO_WEEK_WARNING,
            days_left=days_left,
            days_lost=days_lost,
            expires_on=license.expires_on,
            # The first day with fewer than 14 days left (counting that day).
            come_back_on=license.expires_on - dt.timedelta(days=TWO_WEEK_WARNING_DAYS - 2),
            code=code,
        )
    return None


def add_code(
    *,
    license: License,
    device: Device,
    code: str,
    account: str,
    address: str,
    confirm: bool = False,
    actor=None,
    today: dt.date | None = None,
) -> CodeAdded:
    """Add the code the customer typed to ``license`` from ``device`` (see the module doc).

    Raises CodeRefused (nothing changed), or ConfirmationRequired when adding now loses days
    and ``confirm`` is false (nothing changed).
    """
    if device.license_id != license.pk:
        raise ValueError("The installation is not one of this license's.")
    today = today or timezone.localdate()
    try:
        check_code_throttle(account=account, address=address)
    except RegistrationError as error:
        raise CodeRefused(Refusal.THROTTLED, *error.messages) from error
    try:
        canonical = normalize_code(code)
    except CodeFormatError as error:
        raise CodeRefused(Refusal.MALFORMED, str(error)) from error

    try:
        with transaction.atomic():
            found = (
                ActivationCode.objects.select_for_update()
                .select_related("product")
                .filter(code=canonical)
                .first()
            )
            if found is None or found.state == ActivationCode.State.VOID:
                raise _invalid(code, account=account, address=address)
            if found.state == ActivationCode.State.REDEEMED:
                if found.license_id != license.pk:
                    raise _invalid(code, account=account, address=address)
                raise CodeRefused(
                    Refusal.ALREADY_ADDED, _("This code has already been added to this license.")
                )
            license = (
                License.objects.select_for_update().select_related("product").get(pk=license.pk)
            )
            device = Device.objects.select_related("license__product").get(pk=device.pk)
            _check_can_add(license=license, device=device, code=found)
            confirmation = _confirmation_needed(
                license=license, device=device, code=found, today=today
            )
            if confirmation is not None and not confirm:
                raise ConfirmationRequired(confirmation)
            return _apply(
                license=license,
                device=device,
                code=found,
                confirmation=confirmation,
                actor=actor,
                today=today,
            )
    except IntegrityError as error:
        # Another request redeemed the code between our read and our write (no row locks).
        raise CodeRefused(
            Refusal.ALREADY_ADDED, _("This code has already been added to this license.")
        ) from error


def _apply(
    *,
    license: License,
    device: Device,
    code: ActivationCode,
    confirmation: Confirmation | None,
    actor,
    today: dt.date,
) -> CodeAdded:
    code.state = ActivationCode.State.REDEEMED
    code.license = license
    code.redeemed_at = timezone.now()
    code.save(update_fields=["state", "license", "redeemed_at"])

    if today >= license.expires_on:
        # K10: from the expiry date on the day itself, from today once expired.
        return _extend_now(
            license=license,
            code=code,
            actor=actor,
            new_expires_on=extended_expiry(
                expires_on=license.expires_on, term_years=code.term_years, paid_on=today
            ),
            result=Result.EXTENDED,
        )
    if confirmation is not None:
        # K6 confirmed, or K7 Android: the new period starts today.
        return _extend_now(
            license=license,
            code=code,
            actor=actor,
            new_expires_on=add_years(today, code.term_years),
            result=Result.REPLACED,
            days_lost=confirmation.days_lost,
        )
    automatic = device.platform == Platform.WINDOWS
    reserve = ReserveLicense.objects.create(
        license=license,
        activation_code=code,
        device=device,
        switch=ReserveLicense.Switch.AUTOMATIC if automatic else ReserveLicense.Switch.MANUAL,
        language=translation.get_language() or "ja",
    )
    return CodeAdded(
        result=Result.RESERVED if automatic else Result.REGISTERED,
        license=license,
        code=code,
        reserve=reserve,
    )


def _extend_now(
    *,
    license: License,
    code: ActivationCode,
    actor,
    new_expires_on: dt.date,
    result: str,
    days_lost: int = 0,
) -> CodeAdded:
    event = record_license_change(
        license=license,
        kind=LicenseEvent.Kind.CODE_ADDED,
        new_expires_on=new_expires_on,
        new_product=code.product,
        activation_code=code,
        actor=actor,
        note=f"{days_lost} days of the previous period lost" if days_lost else "",
    )
    return CodeAdded(result=result, license=license, code=code, event=event, days_lost=days_lost)
