"""What the program sends and what it gets back (also the OpenAPI schema's components)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.mail import site_url
from licenses import selectors
from licenses.codes import CodeFormatError, normalize_code
from licenses.models import License, LicenseStatus, Platform, ReserveLicense
from licenses.redemption import Confirm, Result


def renew_url(license: License) -> str:
    """T2a: the shop's "Renew now" entry for this license, in the current language."""
    return site_url(reverse("orders:renew")) + "?" + urlencode({"serial": license.serial})


class ProductSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    generation = serializers.IntegerField()


class ReserveLicenseSerializer(serializers.Serializer):
    """K7: a code waiting to take over at expiry."""

    product = ProductSerializer(source="activation_code.product")
    term_years = serializers.IntegerField(source="activation_code.term_years")
    switch = serializers.ChoiceField(
        choices=ReserveLicense.Switch.choices,
        help_text="`automatic`: takes over by itself on the expiry date (Windows); `manual`: the "
        "customer switches it from the expiry date (Mac).",
    )
    switch_on = serializers.DateField(source="license.expires_on")
    can_switch_now = serializers.SerializerMethodField()

    def get_can_switch_now(self, reserve: ReserveLicense) -> bool:
        return timezone.localdate() >= reserve.license.expires_on


class LicenseSerializer(serializers.Serializer):
    serial = serializers.CharField()
    product = ProductSerializer()
    starts_on = serializers.DateField()
    expires_on = serializers.DateField(help_text="The last valid day.")
    status = serializers.ChoiceField(choices=LicenseStatus.choices)
    days_left = serializers.SerializerMethodField(
        help_text="Days of validity left counting today; 0 once expired."
    )
    reserve_license = serializers.SerializerMethodField()
    automatic_renewal = serializers.BooleanField(source="auto_renew")
    renew_url = serializers.SerializerMethodField(
        help_text="Opens the shop's renewal of this license (the program's “Renew now”)."
    )

    def get_days_left(self, license: License) -> int:
        return max(0, license.days_left)

    @extend_schema_field(ReserveLicenseSerializer(allow_null=True))
    def get_reserve_license(self, license: License) -> dict | None:
        reserve = selectors.waiting_reserve(license=license)
        return ReserveLicenseSerializer(reserve).data if reserve else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_renew_url(self, license: License) -> str:
        return renew_url(license)


class ActivationCodeField(serializers.CharField):
    """K4: full-width, lower case, spaces and a code without hyphens are all fine."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 60)
        kwargs.setdefault("help_text", "The 23-character code, e.g. 01234-56789-ABCDE-FGHIJ.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return normalize_code(value)
        except CodeFormatError as error:
            raise serializers.ValidationError(
                str(error), code="malformed_activation_code"
            ) from error


class ActivationRequestSerializer(serializers.Serializer):
    serial = serializers.CharField(max_length=40, help_text="e.g. MAMO-1234-5678-9ABC")
    activation_code = ActivationCodeField()
    device_id = serializers.CharField(
        max_length=64, help_text="A stable id of this installation, chosen by the program."
    )
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    platform = serializers.ChoiceField(choices=Platform.choices)
    program_version = serializers.CharField(max_length=40, help_text="e.g. 14.0.0.4651")
    program_generation = serializers.IntegerField(
        min_value=2000, max_value=2100, help_text="The program's generation, e.g. 2013."
    )


class InstallationSerializer(serializers.Serializer):
    device_id = serializers.CharField(source="installation_id")
    name = serializers.CharField()
    platform = serializers.ChoiceField(choices=Platform.choices)
    program_version = serializers.CharField()
    program_generation = serializers.IntegerField()
    last_seen_at = serializers.DateTimeField()


class ActivationSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="The device token: send it as `Authorization: Token <token>`. Shown only once."
    )
    installation = InstallationSerializer()
    license = LicenseSerializer()


class ProgramHeadersSerializer(serializers.Serializer):
    """What every authenticated call may report in ``X-Program-Version``/``-Generation``."""

    program_version = serializers.CharField(max_length=40, required=False)
    program_generation = serializers.IntegerField(min_value=2000, max_value=2100, required=False)


class AddCodeRequestSerializer(serializers.Serializer):
    activation_code = ActivationCodeField()
    confirm = serializers.BooleanField(
        default=False,
        help_text="Send `true` after the customer confirmed the days lost of a 409 answer.",
    )


class AddCodeResultSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=[
            (Result.EXTENDED, "extended now, nothing lost"),
            (Result.REPLACED, "replaced the current period now (days lost)"),
            (Result.RESERVED, "reserve license, takes over on the expiry date (Windows)"),
            (Result.REGISTERED, "registered, switch from the expiry date (Mac)"),
        ]
    )
    detail = serializers.CharField()
    days_lost = serializers.IntegerField()
    license = LicenseSerializer()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: e.g. `not_found`, `throttled`.")
    detail = serializers.CharField(help_text="For people, in the language asked for.")


class ValidationErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField(child=serializers.CharField())),
        help_text="Per field: a list of `{code, message}`.",
    )


class CodeRefusedSerializer(ErrorSerializer):
    hints = serializers.ListField(
        child=serializers.CharField(), help_text="K4: look-alike characters in what was typed."
    )
    version_up_steps = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="K5: when `old_program_version`."
    )


class ConfirmationSerializer(ErrorSerializer):
    """409: adding now would lose days (K6, K7 Android); retry with ``"confirm": true``."""

    reason = serializers.ChoiceField(
        choices=[
            (Confirm.TWO_WEEK_WARNING, "K6: 2011 generation with 14 days or more left"),
            (Confirm.REPLACES_CURRENT_PERIOD, "K7: Android replaces the current period"),
        ]
    )
    advice = serializers.CharField()
    days_left = serializers.IntegerField()
    days_lost = serializers.IntegerField()
    expires_on = serializers.DateField()
    come_back_on = serializers.DateField(help_text="From this day nothing would be lost.")


VERSION_UP_STEPS = [
    _("Download the newest program."),
    _("Uninstall the old program."),
    _("Install the newest program."),
    _("Start it and activate it with your serial number and the activation code you already have."),
    _("Then add the new activation code."),
]
