"""Device tokens: ``Authorization: Token <device token>``, issued by ``POST /api/v1/activations/``.

The API has no session authentication: a browser's cookies open nothing here, so the API needs
no CSRF protection (DRF exempts its views) and a page cannot make the customer's browser call it.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from licenses.installations import device_for_token
from licenses.models import Device


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """``request.auth`` is the installation (a ``Device`` with its license); no user."""

    keyword = "Token"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("The Authorization header must be “Token” followed by the device token.")
            )
        try:
            token = parts[1].decode("ascii")
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed(_("The device token is not valid.")) from error
        device = device_for_token(token)
        if device is None:
            raise exceptions.AuthenticationFailed(
                _("The device token is not valid. Activate the program again.")
            )
        return AnonymousUser(), device

    def authenticate_header(self, request) -> str:
        return self.keyword


class HasDeviceToken(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Device)


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    target_class = DeviceTokenAuthentication
    name = "DeviceToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <device token>`, as returned by `POST /api/v1/activations/`.",
        }
