"""Catalog, licenses, activation codes and the license ledger.

Models hold data and invariants only. Every change goes through ``licenses.services``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .dates import add_years

EXPIRING_SOON_DAYS = 30
# T1: licenses are sold and renewed for 1, 2 or 3 years.
TERM_CHOICES = [(1, _("1 year")), (2, _("2 years")), (3, _("3 years"))]
TERMS = tuple(years for years, _label in TERM_CHOICES)
# J1: prices include the 10% consumption tax; the tax contained is shown beside every total.
TAX_RATE = 10


def consumption_tax_in(amount: int, rate: int = TAX_RATE) -> int:
    """J1: the tax contained in a tax-inclusive amount, rounded down to the yen."""
    return amount * rate // (100 + rate)


class Platform(models.TextChoices):
    WINDOWS = "windows", "Windows"
    MAC = "mac", "Mac"
    ANDROID = "android", "Android"
    IOS = "ios", "iOS"


class Product(models.Model):
    class Line(models.TextChoices):
        MULTI_PLATFORM = "multi_platform", _("Multi-platform Security")
        INTERNET_SECURITY = "internet_security", _("Internet Security (Windows)")
        MAC = "mac", _("Anti-Virus for Mac")
        CLOUD = "cloud", _("Cloud")
        TOTAL_SECURITY = "total_security", _("Total Security")

    class Edition(models.TextChoices):
        TWIN_PACK = "twin_pack", _("1 year, 1 device twin pack")
        THREE_DEVICE = "three_device", _("3-device edition")
        PRIVATE = "private", _("Private edition (all of one person's devices)")
        SINGLE = "single", _("1 device")
        CLOUD = "cloud", _("Cloud")
        CLOUD_PREMIUM_SUPPORT = "cloud_premium_support", _("Cloud + premium support")
        STANDARD = "standard", _("Standard")
        PREMIUM = "premium", _("Premium")

    class PlatformScope(models.TextChoices):
        MULTI = "multi", _("Windows, Mac, Android and iOS")
        WINDOWS = "windows", "Windows"
        MAC = "mac", "Mac"

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    line = models.CharField(_("product line"), max_length=40, choices=Line.choices)
    edition = models.CharField(_("edition"), max_length=40, choices=Edition.choices)
    scam_protection = models.BooleanField(_("with 1-device scam protection"), default=False)
    generation = models.PositiveSmallIntegerField(
        _("generation"), help_text=_("Program generation or version year, e.g. 2013.")
    )
    seat_limit = models.PositiveSmallIntegerField(
        _("seat limit"),
        null=True,
        blank=True,
        help_text=_("Empty means all devices of one person (private edition)."),
    )
    platform_scope = models.CharField(_("platforms"), max_length=20, choices=PlatformScope.choices)
    renewable = models.BooleanField(
        _("renewable"), default=True, help_text=_("False for the twin pack (K2).")
    )
    sellable = models.BooleanField(
        _("sellable"), default=True, help_text=_("Legacy generations are not sold (K5).")
    )
    description_ja = models.TextField(_("description (Japanese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=Q(seat_limit__isnull=True) | Q(seat_limit__gte=1),
                name="product_seat_limit_positive",
            ),
            models.CheckConstraint(
                condition=Q(generation__gte=2000, generation__lte=2100),
                name="product_generation_plausible",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "ja").startswith("en") else self.name_ja

    @property
    def description(self) -> str:
        return (
            self.description_en
            if (get_language() or "ja").startswith("en")
            else self.description_ja
        )

    @property
    def is_legacy(self) -> bool:
        return not self.sellable


class PriceKind(models.TextChoices):
    NEW = "new", _("New purchase")
    RENEWAL = "renewal", _("Renewal")


class Price(models.Model):
    """A tax-inclusive yen price for a product, term and kind, valid in a window of dates (J1)."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="prices", verbose_name=_("product")
    )
    term_years = models.PositiveSmallIntegerField(_("term (years)"), choices=TERM_CHOICES)
    kind = models.CharField(_("kind"), max_length=10, choices=PriceKind.choices)
    amount = models.PositiveIntegerField(
        _("price (JPY, tax included)"), validators=[MinValueValidator(1)]
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Last day; empty means open-ended.")
    )

    class Meta:
        ordering = ["product", "kind", "term_years", "-valid_from"]
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "term_years", "kind", "valid_from"],
                name="price_unique_per_product_term_kind_start",
            ),
            models.CheckConstraint(
                condition=Q(term_years__gte=min(TERMS), term_years__lte=max(TERMS)),
                name="price_term_1_to_3",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="price_amount_positive"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="price_window_ordered",
            ),
        ]
        indexes = [models.Index(fields=["product", "kind", "term_years", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.product.code} {self.term_years}y {self.kind} ¥{self.amount:,}"

    @property
    def per_year(self) -> int:
        """Derived, never stored: the yen per year, rounded down."""
        return self.amount // self.term_years

    @property
    def tax(self) -> int:
        return consumption_tax_in(self.amount)


class RenewalPath(models.Model):
    """One allowed move from a license's product to a product it may be renewed as (T3, K2, K5).

    The eligibility matrix is data, edited in admin: views never decide eligibility with ifs.
    """

    class Kind(models.TextChoices):
        SAME = "same", _("Renewal of the same product")
        UPGRADE = "upgrade", _("Upgrade")
        CROSSGRADE = "crossgrade", _("Change of edition")
        VERSION_UP = "version_up", _("Replacement by the current version")

    from_product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="renewal_paths",
        verbose_name=_("from product"),
    )
    to_product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="renewal_sources",
        verbose_name=_("to product"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    price_kind = models.CharField(
        _("price charged"),
        max_length=10,
        choices=PriceKind.choices,
        default=PriceKind.RENEWAL,
        help_text=_("Which price list applies: the renewal price, or a new purchase (K2)."),
    )
    card_only = models.BooleanField(_("credit card only"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        ordering = ["from_product", "sort_order", "id"]
        verbose_name = _("renewal path")
        verbose_name_plural = _("renewal paths")
        constraints = [
            models.UniqueConstraint(
                fields=["from_product", "to_product"], name="renewal_path_unique_pair"
            ),
            models.CheckConstraint(
                condition=(Q(kind="same") & Q(from_product=F("to_product")))
                | (~Q(kind="same") & ~Q(from_product=F("to_product"))),
                name="renewal_path_same_iff_same_product",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_product.code} → {self.to_product.code} ({self.kind})"

    @property
    def is_upgrade(self) -> bool:
        return self.kind == self.Kind.UPGRADE


class LicenseStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRING_SOON = "expiring_soon", _("Expiring soon")
    EXPIRED = "expired", _("Expired")
    LAPSED = "lapsed", _("Lapsed (expired more than a year ago)")
    REVOKED = "revoked", _("Revoked")


def license_status(*, expires_on: dt.date, revoked: bool, today: dt.date) -> LicenseStatus:
    """Status from dates. The license is valid through its expiry day (inclusive)."""
    if revoked:
        return LicenseStatus.REVOKED
    if today > add_years(expires_on, 1):
        return LicenseStatus.LAPSED
    if today > expires_on:
        return LicenseStatus.EXPIRED
    if (expires_on - today).days <= EXPIRING_SOON_DAYS:
        return LicenseStatus.EXPIRING_SOON
    return LicenseStatus.ACTIVE


class LicenseQuerySet(models.QuerySet):
    def with_status(self, status: str, *, today: dt.date | None = None) -> LicenseQuerySet:
        """The same boundaries as ``license_status``, as a filter the database can index."""
        today = today or timezone.localdate()
        live = self.filter(revoked_at__isnull=True)
        if status == LicenseStatus.REVOKED:
            return self.filter(revoked_at__isnull=False)
        if status == LicenseStatus.LAPSED:
            return live.filter(expires_on__lt=add_years(today, -1))
        if status == LicenseStatus.EXPIRED:
            return live.filter(expires_on__lt=today, expires_on__gte=add_years(today, -1))
        if status == LicenseStatus.EXPIRING_SOON:
            return live.filter(
                expires_on__gte=today, expires_on__lte=today + dt.timedelta(EXPIRING_SOON_DAYS)
            )
        if status == LicenseStatus.ACTIVE:
            return live.filter(expires_on__gt=today + dt.timedelta(EXPIRING_SOON_DAYS))
        return self.none()


serial_validator = RegexValidator(
    r"^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$", _("A serial number looks like MAMO-1234-5678-9ABC.")
)


class License(models.Model):
    serial = models.CharField(
        _("serial number"), max_length=19, unique=True, validators=[serial_validator]
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="licenses",
        verbose_name=_("owner"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="licenses", verbose_name=_("product")
    )
    seats = models.PositiveSmallIntegerField(
        _("seats"), null=True, blank=True, help_text=_("Empty means all of one person's devices.")
    )
    starts_on = models.DateField(_("start date"))
    expires_on = models.DateField(_("expiry date"), help_text=_("Last valid day."))
    auto_renew = models.BooleanField(_("automatic renewal"), default=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LicenseQuerySet.as_manager()

    class Meta:
        ordering = ["expires_on", "serial"]
        verbose_name = _("license")
        verbose_name_plural = _("licenses")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=F("starts_on")), name="license_expires_after_start"
            ),
            models.CheckConstraint(
                condition=Q(seats__isnull=True) | Q(seats__gte=1), name="license_seats_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["expires_on"], name="license_expires_on_idx"),
            models.Index(fields=["owner", "expires_on"], name="license_owner_expiry_idx"),
        ]

    def __str__(self) -> str:
        return self.serial

    def status_on(self, today: dt.date) -> LicenseStatus:
        return license_status(
            expires_on=self.expires_on, revoked=self.revoked_at is not None, today=today
        )

    @property
    def status(self) -> LicenseStatus:
        return self.status_on(timezone.localdate())

    @property
    def days_left(self) -> int:
        """Days of validity left counting today; 0 or less once expired."""
        return (self.expires_on - timezone.localdate()).days + 1

    @property
    def is_valid(self) -> bool:
        return self.status in (LicenseStatus.ACTIVE, LicenseStatus.EXPIRING_SOON)


class Device(models.Model):
    """An installation on a license: its platform and program version decide K5 and K7."""

    license = models.ForeignKey(
        License, on_delete=models.CASCADE, related_name="devices", verbose_name=_("license")
    )
    name = models.CharField(_("device name"), max_length=100)
    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    program_generation = models.PositiveSmallIntegerField(_("program generation"))
    program_version = models.CharField(_("program version"), max_length=40)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    installation_id = models.CharField(
        _("installation id"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("The id the installed program sends when it activates (DESIGN 6b)."),
    )
    # Only a hash of the program's device token is kept: a leaked table holds no usable token.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["license", "name"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        constraints = [
            models.UniqueConstraint(
                fields=["license", "installation_id"],
                condition=~Q(installation_id=""),
                name="device_one_row_per_installation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()} {self.program_version})"

    @property
    def runs_old_version(self) -> bool:
        """K5: a legacy product, or a program older than its product, needs a version-up first."""
        product = self.license.product
        return product.is_legacy or self.program_generation < product.generation

    def needs_version_up_for(self, product: Product) -> bool:
        """K5: a code is never added to a program older than the code's product or the license's.

        A code of the installation's own generation (a 2011 package added to a 2011 program) is
        allowed; a current renewal added to a 2011 program is not.
        """
        return self.program_generation < max(product.generation, self.license.product.generation)


class ActivationCode(models.Model):
    """The 23-character code (K4) that activates or extends a license."""

    class State(models.TextChoices):
        ISSUED = "issued", _("Issued")
        REDEEMED = "redeemed", _("Redeemed")
        VOID = "void", _("Void")

    code = models.CharField(_("activation code"), max_length=23, unique=True)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="codes", verbose_name=_("product")
    )
    term_years = models.PositiveSmallIntegerField(_("term (years)"), choices=TERM_CHOICES)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ISSUED)
    license = models.ForeignKey(
        License,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="codes",
        verbose_name=_("license"),
        help_text=_("The license this code activated or extended."),
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("activation code")
        verbose_name_plural = _("activation codes")
        constraints = [
            models.CheckConstraint(
                condition=Exact(Length("code"), 23), name="activation_code_23_chars"
            ),
            models.CheckConstraint(
                condition=Q(term_years__gte=min(TERMS), term_years__lte=max(TERMS)),
                name="activation_code_term_1_to_3",
            ),
            models.CheckConstraint(
                condition=~Q(state="redeemed")
                | Q(license__isnull=False, redeemed_at__isnull=False),
                name="activation_code_redeemed_has_license",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class LicenseEvent(models.Model):
    """The ledger: one row per change of a license's expiry or product. Never edited."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        RENEWED = "renewed", _("Renewed")
        UPGRADED = "upgraded", _("Renewed with upgrade")
        CODE_ADDED = "code_added", _("Activation code added")
        RESERVE_SWITCHED = "reserve_switched", _("Reserve license switched in")
        REFUNDED = "refunded", _("Renewal refunded")
        DISPUTE_LOST = "dispute_lost", _("Renewal charged back (dispute lost)")
        ADJUSTED = "adjusted", _("Adjusted by an operator")
        REVOKED = "revoked", _("Revoked")

    license = models.ForeignKey(
        License, on_delete=models.CASCADE, related_name="events", verbose_name=_("license")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    old_expires_on = models.DateField(_("old expiry"), null=True, blank=True)
    new_expires_on = models.DateField(_("new expiry"))
    old_product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("old product"),
    )
    new_product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("new product")
    )
    activation_code = models.ForeignKey(
        ActivationCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("activation code"),
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="license_events",
        verbose_name=_("order"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("license event")
        verbose_name_plural = _("license events")
        constraints = [
            models.UniqueConstraint(
                fields=["activation_code"],
                condition=Q(activation_code__isnull=False),
                name="license_event_once_per_code",
            ),
            # Exactly-once fulfilment rests here: one extension (and one reversal) per order.
            models.UniqueConstraint(
                fields=["order", "kind"],
                condition=Q(order__isnull=False),
                name="license_event_once_per_order_and_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.license} {self.kind} {self.old_expires_on} → {self.new_expires_on}"


class AccountMail(models.Model):
    """One row per mail about an account that must go out once (sign-up confirmation, "someone
    tried to sign up with your address", password reset): the unique (user, key) makes a retried
    task send nothing twice (``config.mail.send_once``). The key names the request it answers."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="account_mails",
        verbose_name=_("account"),
    )
    key = models.CharField(_("mail"), max_length=80)
    to = models.EmailField(_("to"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("account mail")
        verbose_name_plural = _("account mails")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="account_mail_once_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.to} {self.key}"


class CustomerPreferences(models.Model):
    """A customer's account settings: the language of their mails and whether they want expiry
    reminders (DESIGN 8). Created on first need; a customer without a row gets reminders in the
    shop's default language."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="preferences",
        verbose_name=_("customer"),
    )
    language = models.CharField(
        _("language of mails"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_(
            "Taken from the page language at sign-up and sign-in, or set on the account page."
        ),
    )
    reminders_opt_out = models.BooleanField(_("no expiry reminders"), default=False)
    reminders_opted_out_at = models.DateTimeField(
        _("expiry reminders switched off at"), null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer preferences")
        verbose_name_plural = _("customer preferences")
        indexes = [
            # The reminder sweep's anti-join: the few customers who opted out, not all of them.
            models.Index(
                fields=["user"],
                condition=Q(reminders_opt_out=True),
                name="preferences_opted_out_idx",
            )
        ]

    def __str__(self) -> str:
        return str(self.user)


class ReserveLicense(models.Model):
    """K7: a code added while time remains, waiting to take over when the license expires.

    Windows: switched in by the periodic job on the expiry date. Mac: registered in advance and
    switched by the customer from the expiry date (a button, and a mail that day). A row of its
    own rather than a state of ActivationCode: the code is used up the moment it is added (it can
    never be added anywhere else), while the reserve lives on (from which installation, how and
    when it switches, the ledger row it wrote, its mails).
    """

    class Switch(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatically on the expiry date (Windows)")
        MANUAL = "manual", _("By the customer from the expiry date (Mac)")

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        SWITCHED = "switched", _("Switched in")

    license = models.ForeignKey(
        License, on_delete=models.CASCADE, related_name="reserves", verbose_name=_("license")
    )
    activation_code = models.OneToOneField(
        ActivationCode,
        on_delete=models.PROTECT,
        related_name="reserve",
        verbose_name=_("activation code"),
    )
    device = models.ForeignKey(
        Device,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added from"),
    )
    switch = models.CharField(_("switch"), max_length=10, choices=Switch.choices)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.WAITING
    )
    language = models.CharField(
        _("language"), max_length=10, default="ja", help_text=_("Mails go out in this language.")
    )
    created_at = models.DateTimeField(_("added at"), default=timezone.now)
    switched_at = models.DateTimeField(_("switched at"), null=True, blank=True)
    event = models.OneToOneField(
        LicenseEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reserve",
        verbose_name=_("ledger row"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("reserve license")
        verbose_name_plural = _("reserve licenses")
        constraints = [
            # One code waits at a time: the next one is added once this one has taken over.
            models.UniqueConstraint(
                fields=["license"],
                condition=Q(state="waiting"),
                name="reserve_license_one_waiting_per_license",
            ),
            models.CheckConstraint(
                condition=(Q(state="waiting") & Q(event__isnull=True, switched_at__isnull=True))
                | (Q(state="switched") & Q(event__isnull=False, switched_at__isnull=False)),
                name="reserve_license_switched_has_ledger_row",
            ),
        ]
        indexes = [models.Index(fields=["state", "switch"], name="reserve_license_due_idx")]

    def __str__(self) -> str:
        return f"{self.license} ← {self.activation_code}"

    @property
    def is_waiting(self) -> bool:
        return self.state == self.State.WAITING


class ReserveMail(models.Model):
    """One row per mail about a reserve license (switched in; Mac switch day): sent once."""

    class Key(models.TextChoices):
        SWITCHED = "switched", _("Reserve license switched in")
        SWITCH_DAY = "switch_day", _("Switch the reserve license today (Mac)")

    reserve = models.ForeignKey(
        ReserveLicense,
        on_delete=models.CASCADE,
        related_name="mails",
        verbose_name=_("reserve license"),
    )
    key = models.CharField(_("mail"), max_length=20, choices=Key.choices)
    to = models.EmailField(_("to"))
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        ordering = ["sent_at"]
        verbose_name = _("reserve license mail")
        verbose_name_plural = _("reserve license mails")
        constraints = [
            models.UniqueConstraint(fields=["reserve", "key"], name="reserve_mail_once_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.reserve} {self.key}"


__all__ = [
    "EXPIRING_SOON_DAYS",
    "TAX_RATE",
    "TERMS",
    "TERM_CHOICES",
    "AccountMail",
    "ActivationCode",
    "CustomerPreferences",
    "Device",
    "License",
    "LicenseEvent",
    "LicenseStatus",
    "Platform",
    "Price",
    "PriceKind",
    "Product",
    "RenewalPath",
    "ReserveLicense",
    "ReserveMail",
    "consumption_tax_in",
    "license_status",
]
