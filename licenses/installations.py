"""Installations of the program (DESIGN 6b): activation, device tokens, last seen.

The installed program activates with its license's serial number and an activation code of that
license (T2a's proof of possession, same errors and throttles) and gets a device token. Only a
SHA-256 hash of the token is stored; the token itself is shown once, in the answer.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Device, License, Platform
from .services import prove_possession


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_for_token(token: str) -> Device | None:
    """The installation a device token belongs to, with its license and product, or None."""
    if not token:
        return None
    return (
        Device.objects.select_related("license__product", "license__owner")
        .filter(token_hash=hash_token(token))
        .first()
    )


def activate_installation(
    *,
    serial: str,
    code: str,
    installation_id: str,
    platform: str,
    program_version: str,
    program_generation: int,
    name: str = "",
    address: str,
) -> tuple[Device, str]:
    """Record (or update) the installation on the license proven by serial and code.

    Returns the installation and a new device token; activating again from the same
    installation replaces its token. Raises ``services.RegistrationError`` like the product
    entry does: the same message whether the serial or the code is wrong.
    """
    license = prove_possession(serial=serial, code=code, account=address, address=address)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # Serialises two activations of one installation (no duplicate rows).
        License.objects.select_for_update().filter(pk=license.pk).first()
        device = Device.objects.filter(license=license, installation_id=installation_id).first()
        if device is None:
            device = Device(license=license, installation_id=installation_id)
        name = (name or "").strip()[:100]
        if name or not device.name:
            device.name = name or _("%(platform)s installation") % {
                "platform": Platform(platform).label
            }
        device.platform = platform
        device.program_version = program_version
        device.program_generation = program_generation
        device.last_seen_at = timezone.now()
        device.token_hash = hash_token(token)
        device.save()
    device.license = license
    return device, token


def record_device_seen(
    *, device: Device, program_version: str | None = None, program_generation: int | None = None
) -> Device:
    """Each call of the program: last seen now, and the version it reports (K5 reads it)."""
    device.last_seen_at = timezone.now()
    fields = ["last_seen_at"]
    if program_version:
        device.program_version = program_version
        fields.append("program_version")
    if program_generation:
        device.program_generation = program_generation
        fields.append("program_generation")
    device.save(update_fields=fields)
    return device
