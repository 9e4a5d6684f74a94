"""Reminders in admin (DESIGN 8): sent reminders on the license page, opted-out customers."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from licenses import selectors
from licenses.reminders.services import send_expiry_reminder
from licenses.services import SUPPORT_GROUP, set_reminders
from tests.factories import UserFactory
from tests.helpers.reminders import cloud_product, license_expiring

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(email="admin@example.com", is_staff=True, is_superuser=True))
    return client


def test_the_license_page_lists_its_sent_reminders_with_date_offset_and_language(
    operator_client, mailoutbox
):
    license = license_expiring(
        timezone.localdate() + dt.timedelta(days=14), product=cloud_product(), language="en"
    )
    send_expiry_reminder(license.pk, license.expires_on.isoformat(), 14)

    page = operator_client.get(
        reverse("admin:licenses_license_change", args=[license.pk])
    ).content.decode()

    assert "送信済みの有効期限のお知らせ" in page
    assert "reminders_sent-TOTAL_FORMS" in page
    cells = {
        name: " ".join(value.split())
        for name, value in re.findall(r'<td class="field-(\w+)">\s*<p>(.*?)</p>', page, re.S)
    }
    assert cells["offset_days"] == "14"
    assert cells["language"] == "en"
    assert cells["expires_on"] == date_format(license.expires_on)
    assert cells["sent_at"].startswith(date_format(timezone.localdate()))
    assert 'name="reminders_sent-0-offset_days"' not in page  # shown, never edited


def test_licenses_of_opted_out_customers_can_be_filtered(operator_client):
    product = cloud_product()
    later = timezone.localdate() + dt.timedelta(days=50)
    opted_out = license_expiring(later, product=product)
    set_reminders(user=opted_out.owner, enabled=False)
    receiving = license_expiring(later, product=product)
    url = reverse("admin:licenses_license_changelist")

    off = operator_client.get(url, {"reminders": "off"}).content.decode()
    on = operator_client.get(url, {"reminders": "on"}).content.decode()

    assert opted_out.serial in off and receiving.serial not in off
    assert receiving.serial in on and opted_out.serial not in on


def test_customers_who_opted_out_are_listed_by_the_preferences_filter(operator_client):
    opted_out, receiving = UserFactory(), UserFactory()
    set_reminders(user=opted_out, enabled=False)
    set_reminders(user=receiving, enabled=True)
    url = reverse("admin:licenses_customerpreferences_changelist")

    page = operator_client.get(url, {"reminders_opt_out__exact": "1"}).content.decode()

    assert opted_out.email in page and receiving.email not in page


def test_an_operator_switching_reminders_off_goes_through_the_service(operator_client):
    customer = UserFactory()
    preferences = set_reminders(user=customer, enabled=True)
    url = reverse("admin:licenses_customerpreferences_change", args=[preferences.pk])

    response = operator_client.post(
        url, {"user": customer.pk, "language": "en", "reminders_opt_out": "on"}
    )

    assert response.status_code == 302
    preferences = selectors.customer_preferences(user=customer)
    assert preferences.reminders_opt_out
    assert preferences.reminders_opted_out_at is not None  # stamped by set_reminders
    assert preferences.language == "en"


def test_support_staff_see_sent_reminders_and_mail_settings_read_only(client):
    support = UserFactory(email="support@example.com", is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    client.force_login(support)
    assert client.get(reverse("admin:reminders_remindersent_changelist")).status_code == 200
    assert client.get(reverse("admin:licenses_customerpreferences_changelist")).status_code == 200
    assert client.get(reverse("admin:licenses_customerpreferences_add")).status_code == 403
