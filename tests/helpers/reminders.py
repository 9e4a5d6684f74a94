"""Licenses for the reminder tests: a priced, renewable product and licenses expiring on a day."""

import datetime as dt

from django.core import mail
from django.utils import timezone

from licenses.models import CustomerPreferences, License, Product, RenewalPath
from tests.factories import LicenseFactory, RenewalPathFactory, UserFactory

from .orders import priced_product

# DESIGN 8's offsets: days before the expiry date, negative after it.
OFFSETS = [30, 14, 7, 1, 0, -7, -30]


def sweep_day() -> dt.date:
    """The fixed day the sweep runs for in these tests: not today, to show ``--date`` works."""
    return timezone.localdate() + dt.timedelta(days=10)


def cloud_product() -> Product:
    """Mamori Cloud, renewable as itself for 1, 2 or 3 years (¥4,790 / ¥8,990 / ¥11,980)."""
    product = priced_product(
        line=Product.Line.CLOUD,
        edition=Product.Edition.CLOUD,
        name_ja="まもり クラウド",
        name_en="Mamori Cloud",
    )
    RenewalPathFactory(from_product=product, to_product=product, kind=RenewalPath.Kind.SAME)
    return product


def license_expiring(
    expires_on: dt.date, *, product: Product, language: str | None = None, **fields
) -> License:
    """A registered license expiring on ``expires_on``; its owner gets a fresh address and, with
    ``language``, a mail language."""
    fields.setdefault("owner", UserFactory())
    license = LicenseFactory(product=product, expires_on=expires_on, **fields)
    if language and license.owner:
        CustomerPreferences.objects.update_or_create(
            user=license.owner, defaults={"language": language}
        )
    return license


def reminders_to(email: str) -> list[mail.EmailMultiAlternatives]:
    return [message for message in mail.outbox if message.to == [email]]


def html_part(message) -> str:
    (html, mimetype), *_rest = message.alternatives
    assert mimetype == "text/html"
    return html
