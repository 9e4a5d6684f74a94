"""Demo data (issue 11 point 7): the demo customer's Cloud license renews automatically with a
saved test card, its charge due within the next weeks, and the charge goes through."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from licenses.models import License
from orders.models import SavedCard
from orders.renewals.demo import DEMO_SERIAL
from orders.renewals.selectors import charge_date
from tests.helpers.renewals import automatic_orders, renewal_of, run_auto_renewals

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def test_the_demo_license_renews_automatically_with_a_saved_test_card_within_weeks(
    settings, django_capture_on_commit_callbacks
):
    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo_auto_renewal")
    call_command("seed_demo_auto_renewal")  # again, as at every start of make run

    license = License.objects.get(serial=DEMO_SERIAL)
    assert license.auto_renew and license.owner.email == "demo@example.com"
    renewal = renewal_of(license)
    assert renewal.card.last4 == "4242"
    assert SavedCard.objects.filter(customer__user=license.owner).count() == 1
    day = charge_date(expires_on=license.expires_on)
    assert timezone.localdate() < day <= timezone.localdate() + dt.timedelta(weeks=4)

    run_auto_renewals(day, django_capture_on_commit_callbacks)
    assert automatic_orders(license).get().status == "fulfilled"


def test_the_demo_command_is_refused_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(Exception, match="DEBUG"):
        call_command("seed_demo_auto_renewal")
