"""The program's API views: parse with a serializer, call one service, answer.

Every call made with a device token records the installation as seen now, with the program
version it reports in ``X-Program-Version`` / ``X-Program-Generation`` (the license page shows
both; K5 reads the generation). Answers are in the language of ``Accept-Language``.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from licenses import redemption, services, throttle
from licenses.installations import activate_installation, record_device_seen
from licenses.models import Device

from .errors import ApiError
from .serializers import (
    VERSION_UP_STEPS,
    ActivationRequestSerializer,
    ActivationSerializer,
    AddCodeRequestSerializer,
    AddCodeResultSerializer,
    CodeRefusedSerializer,
    ConfirmationSerializer,
    ErrorSerializer,
    LicenseSerializer,
    ProgramHeadersSerializer,
    ValidationErrorSerializer,
)
from .throttles import PerAddressThrottle, PerTokenThrottle

R = redemption.Refusal
# Refused codes: 400 for what was typed, 429 when throttled, 422 for a code that exists but
# cannot be added here (the customer must do something else first).
REFUSAL_STATUS = {
    R.THROTTLED: status.HTTP_429_TOO_MANY_REQUESTS,
    R.MALFORMED: status.HTTP_400_BAD_REQUEST,
    R.INVALID: status.HTTP_400_BAD_REQUEST,
}

PROGRAM_HEADERS = [
    OpenApiParameter(
        "X-Program-Version",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="The program's version, e.g. 14.0.0.4651 (recorded on the installation).",
    ),
    OpenApiParameter(
        "X-Program-Generation",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        description="The program's generation, e.g. 2013 (K5: decides whether a code may be added).",
    ),
]
BAD_REQUEST = PolymorphicProxySerializer(
    component_name="BadRequest",
    serializers=[CodeRefusedSerializer, ValidationErrorSerializer],
    resource_type_field_name=None,
)
ERRORS = {
    401: OpenApiResponse(
        ErrorSerializer, description="`not_authenticated`, `authentication_failed`"
    ),
    429: OpenApiResponse(ErrorSerializer, description="`throttled`, with `retry_after` seconds"),
}


class ProgramAPIView(APIView):
    # Not a docstring: drf-spectacular would copy it into every operation.
    # Base of the API's views: language from ``Accept-Language``, installation seen.

    throttle_classes = [PerTokenThrottle, PerAddressThrottle]

    def initial(self, request, *args, **kwargs):
        # The site's Japanese-at-root URLs make Django pick Japanese for every unprefixed path;
        # the program says which language it wants.
        translation.activate(translation.get_language_from_request(request, check_path=False))
        super().initial(request, *args, **kwargs)
        if isinstance(request.auth, Device):
            reported = ProgramHeadersSerializer(
                data={
                    key: value
                    for key, value in (
                        ("program_version", request.headers.get("X-Program-Version")),
                        ("program_generation", request.headers.get("X-Program-Generation")),
                    )
                    if value
                }
            )
            reported.is_valid(raise_exception=True)
            record_device_seen(device=request.auth, **reported.validated_data)

    @property
    def device(self) -> Device:
        return self.request.auth


class ActivationView(ProgramAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [PerAddressThrottle]

    @extend_schema(
        operation_id="activate",
        summary="Activate an installation and get its device token",
        description=(
            "Proves possession of the license with its serial number and one of its activation "
            "codes, records the installation (or updates it: same `device_id`) and returns a new "
            "device token. A wrong serial and a wrong code get the same answer."
        ),
        request=ActivationRequestSerializer,
        responses={
            201: ActivationSerializer,
            400: OpenApiResponse(
                BAD_REQUEST, description="`invalid_serial_or_code`, or `invalid` (with `errors`)"
            ),
            429: ERRORS[429],
        },
        tags=["installation"],
    )
    def post(self, request, *args, **kwargs):
        data = ActivationRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = throttle.client_address(request)
        try:
            services.check_code_throttle(account=address, address=address)
        except services.RegistrationError as error:
            raise ApiError(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                code=R.THROTTLED,
                detail=error.messages[0],
            ) from error
        fields = data.validated_data
        try:
            device, token = activate_installation(
                serial=fields["serial"],
                code=fields["activation_code"],
                installation_id=fields["device_id"],
                name=fields.get("device_name", ""),
                platform=fields["platform"],
                program_version=fields["program_version"],
                program_generation=fields["program_generation"],
                address=address,
            )
        except services.RegistrationError as error:
            raise ApiError(
                status_code=status.HTTP_400_BAD_REQUEST,
                code="invalid_serial_or_code",
                detail=error.messages[0],
                hints=error.messages[1:],
            ) from error
        answer = ActivationSerializer(
            {"token": token, "installation": device, "license": device.license}
        )
        return Response(answer.data, status=status.HTTP_201_CREATED)


class LicenseView(ProgramAPIView):
    @extend_schema(
        operation_id="license",
        summary="The license of this installation",
        description=(
            "Product, expiry, status, days left, the reserve license waiting to take over (K7), "
            "automatic renewal and the “Renew now” URL (T2a)."
        ),
        parameters=PROGRAM_HEADERS,
        responses={200: LicenseSerializer, **ERRORS},
        tags=["license"],
    )
    def get(self, request, *args, **kwargs):
        return Response(LicenseSerializer(self.device.license).data)


class LicenseBySerialView(ProgramAPIView):
    @extend_schema(
        operation_id="license_by_serial",
        summary="The license of this installation, by its serial number",
        description="Any other serial answers 404, whether it exists or not.",
        parameters=PROGRAM_HEADERS,
        responses={200: LicenseSerializer, 404: ErrorSerializer, **ERRORS},
        tags=["license"],
    )
    def get(self, request, serial: str, *args, **kwargs):
        license = self.device.license
        if services.normalize_serial(serial) != license.serial:
            raise exceptions.NotFound()
        return Response(LicenseSerializer(license).data)


class AddCodeView(ProgramAPIView):
    @extend_schema(
        operation_id="add_code",
        summary="Add an activation code to the license from this installation (K5–K8)",
        description=(
            "Windows keeps the code as a reserve license that takes over on the expiry date; "
            "Mac registers it for the customer to switch from the expiry date; Android replaces "
            "the current period now. When adding now would lose days (Android, or a 2011 "
            "program with 14 days or more left) the answer is 409 with the details: show them, "
            'make Cancel the default, and retry with `"confirm": true` only if the customer '
            "confirms."
        ),
        parameters=PROGRAM_HEADERS,
        request=AddCodeRequestSerializer,
        responses={
            201: AddCodeResultSerializer,
            400: OpenApiResponse(
                BAD_REQUEST,
                description="`invalid_activation_code` (with `hints`), `invalid` (with `errors`)",
            ),
            409: OpenApiResponse(
                ConfirmationSerializer,
                description="`confirmation_required`",
                examples=[
                    OpenApiExample(
                        "Android",
                        value={
                            "code": "confirmation_required",
                            "reason": "replaces_current_period",
                            "detail": "...",
                            "advice": "...",
                            "days_left": 25,
                            "days_lost": 24,
                            "expires_on": "2027-01-31",
                            "come_back_on": "2027-01-31",
                        },
                    )
                ],
            ),
            422: OpenApiResponse(
                CodeRefusedSerializer,
                description=(
                    "`old_program_version` (with `version_up_steps`), `incompatible_product`, "
                    "`already_added`, `reserve_license_waiting`, `license_revoked`"
                ),
            ),
            **ERRORS,
        },
        tags=["license"],
    )
    def post(self, request, *args, **kwargs):
        data = AddCodeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        license = self.device.license
        try:
            added = redemption.add_code(
                license=license,
                device=self.device,
                code=data.validated_data["activation_code"],
                confirm=data.validated_data["confirm"],
                account=license.owner.email if license.owner_id else f"license:{license.serial}",
                address=throttle.client_address(request),
            )
        except redemption.ConfirmationRequired as needed:
            confirmation = needed.confirmation
            raise ApiError(
                status_code=status.HTTP_409_CONFLICT,
                code="confirmation_required",
                detail=confirmation.message,
                reason=confirmation.reason,
                advice=confirmation.advice,
                days_left=confirmation.days_left,
                days_lost=confirmation.days_lost,
                expires_on=confirmation.expires_on.isoformat(),
                come_back_on=confirmation.come_back_on.isoformat(),
            ) from needed
        except redemption.CodeRefused as refused:
            extra = {"hints": refused.hints}
            if refused.needs_version_up:
                extra["version_up_steps"] = [str(step) for step in VERSION_UP_STEPS]
            raise ApiError(
                status_code=REFUSAL_STATUS.get(refused.code, status.HTTP_422_UNPROCESSABLE_ENTITY),
                code=refused.code,
                detail=" ".join(refused.messages),
                **extra,
            ) from refused
        answer = AddCodeResultSerializer(
            {
                "result": added.result,
                "detail": added.message,
                "days_lost": added.days_lost,
                "license": added.license,
            }
        )
        return Response(answer.data, status=status.HTTP_201_CREATED)


@extend_schema(exclude=True)
class NotFoundView(ProgramAPIView):
    """Any other path under ``/api/``: the same JSON 404, whatever the method."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [PerAddressThrottle]

    def not_found(self, request, *args, **kwargs):
        raise exceptions.NotFound(_("There is no such endpoint. The API is under /api/v1/."))

    get = post = put = patch = delete = not_found
