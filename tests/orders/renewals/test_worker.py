"""The automatic charge through a real Celery worker (issue 11): ``run_auto_renewals --date``
queues the charge, the worker charges the saved card off session at localstripe, the same
fulfilment extends the license once, and one mail goes out through Django's mail backend."""

import datetime as dt

import pytest
from django.core.management import call_command

from licenses.models import License, LicenseEvent
from orders import services
from orders.models import Order, SentMail
from orders.payments.testing import confirm_card_setup
from orders.renewals.models import AutoRenewal
from tests.helpers.orders import order_for
from tests.helpers.stripe import OK
from tests.licenses.reminders.test_worker import messages_in
from tests.plugins.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_run_auto_renewals_charges_and_extends_through_a_real_worker_with_one_mail(
    request, tmp_path, monkeypatch, customer
):
    request.getfixturevalue("localstripe")
    mail_folder = tmp_path / "mail"
    mail_folder.mkdir()
    monkeypatch.setenv("EMAIL_URL", f"filemail:///{mail_folder}")
    request.getfixturevalue("celery_worker_process")

    # Opt in at checkout; the worker extends the license and keeps the card (automatic renewal on).
    order = order_for(customer)
    setup = confirm_card_setup(services.prepare_card_setup(order=order), OK)
    services.enter_details(
        order=order, email=customer.email, payment_method=setup["payment_method"], auto_renew=True
    )
    services.confirm_order(order=Order.objects.get(pk=order.pk))
    wait_until(lambda: AutoRenewal.objects.filter(license=order.license).exists(), timeout=60)
    license = License.objects.get(pk=order.license_id)
    expiry = license.expires_on
    # The checkout's own two mails (completed, extended) are out before the sweep runs.
    wait_until(lambda: SentMail.objects.filter(order=order).count() == 2, timeout=30)
    before = len(wait_until(lambda: len(m := messages_in(mail_folder)) == 2 and m, timeout=10))

    day = expiry - dt.timedelta(days=7)
    call_command("run_auto_renewals", "--date", day.isoformat())
    automatic = wait_until(
        lambda: Order.objects.filter(license=license, kind="automatic", status="fulfilled").first(),
        timeout=60,
    )
    wait_until(lambda: SentMail.objects.filter(order=automatic).exists(), timeout=30)
    call_command("run_auto_renewals", "--date", day.isoformat())  # again: nothing more

    license.refresh_from_db()
    assert license.expires_on == expiry.replace(year=expiry.year + 1)
    assert LicenseEvent.objects.filter(order=automatic).count() == 1
    assert automatic.payments.get().status == "succeeded"
    mails = wait_until(lambda: len(m := messages_in(mail_folder)) > before and m, timeout=10)
    assert len(mails) == before + 1  # one mail for the automatic renewal
    about = [m for m in mails if automatic.number in m.get_body(("plain",)).get_content()]
    assert len(about) == 1
    assert about[0]["To"] == customer.email
    assert Order.objects.filter(license=license, kind="automatic").count() == 1
