"""Celery tasks of the licenses app: they take ids, load the row and call one service."""

from celery import shared_task

from . import services
from .models import License


@shared_task
def set_auto_renew(license_id: int, enabled: bool) -> None:
    """Turn automatic renewal on or off, e.g. when the installed product reports the choice.

    Safe to run twice or after a redelivery: the second run writes the same value.
    """
    license = License.objects.get(pk=license_id)
    services.set_auto_renew(license=license, enabled=enabled)
