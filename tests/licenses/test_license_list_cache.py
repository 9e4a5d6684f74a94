"""``/licenses/`` and ``/orders/`` (issue 15): their rows come from a cached fragment keyed by
what they show (each row's ``updated_at`` and product name, today's date, the language), so the
page issues the same queries for 1 or 50 rows and never shows a stale expiry, status or day
count."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from licenses import selectors
from licenses.models import LicenseEvent
from licenses.services import record_license_change
from orders.models import Order
from tests.factories import LicenseFactory, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


def queries_of(client, path: str) -> int:
    client.get(path)  # the session, and the fragment cached
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["/licenses/", "/orders/"])
def test_queries_are_the_same_for_1_and_50_rows(client, path):
    counts = []
    for rows in (1, 50):
        user = UserFactory()
        for _ in range(rows):
            license = LicenseFactory(owner=user)
            OrderFactory(customer=user, license=license, status=Order.Status.FULFILLED)
        client.force_login(user)
        counts.append(queries_of(client, path))
        assert client.get(path).content.decode().count("<tr") == rows + 1  # and the header
    assert counts[0] == counts[1]


def test_an_extension_shows_at_once(client):
    user = UserFactory()
    license = LicenseFactory(owner=user, expires_on=timezone.localdate() + dt.timedelta(days=4))
    client.force_login(user)
    before = client.get("/licenses/").content.decode()
    assert license.expires_on.strftime("%Y-%m-%d") in before and "5日" in before

    new_expiry = license.expires_on + dt.timedelta(days=365)
    record_license_change(
        license=license, kind=LicenseEvent.Kind.RENEWED, new_expires_on=new_expiry
    )

    after = client.get("/licenses/").content.decode()
    assert new_expiry.strftime("%Y-%m-%d") in after
    assert license.expires_on.strftime("%Y-%m-%d") in after  # the saved one, the new date
    assert (license.expires_on - dt.timedelta(days=365)).strftime("%Y-%m-%d") not in after
    assert "370日" in after


def test_the_next_day_counts_down_and_english_is_its_own_fragment(client, monkeypatch):
    user = UserFactory()
    license = LicenseFactory(owner=user, expires_on=timezone.localdate() + dt.timedelta(days=4))
    client.force_login(user)
    assert "5日" in client.get("/licenses/").content.decode()
    assert "5 days" in client.get("/en/licenses/").content.decode()

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: tomorrow)

    page = client.get("/licenses/").content.decode()
    assert "4日" in page and "5日" not in page
    assert license.serial in page


def test_the_version_changes_with_each_thing_a_row_shows():
    user = UserFactory()
    license = LicenseFactory(owner=user)
    today = timezone.localdate()
    rows = list(selectors.customer_licenses(user=user))
    version = selectors.license_rows_version(licenses=rows, today=today)

    assert version != selectors.license_rows_version(
        licenses=rows, today=today + dt.timedelta(days=1)
    )
    license.auto_renew = not license.auto_renew
    license.save()
    assert version != selectors.license_rows_version(
        licenses=list(selectors.customer_licenses(user=user)), today=today
    )
