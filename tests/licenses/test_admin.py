"""Django admin: every page loads; support staff read but do not change (DESIGN 1)."""

import datetime as dt
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from licenses.models import AccountMail, License, ReserveLicense
from licenses.reminders.models import ReminderSent
from licenses.services import SUPPORT_GROUP, set_reminders
from orders.models import Refund, StripeCustomer, WebhookEvent
from orders.receipts.services import request_receipt
from tests.factories import (
    ActivationCodeFactory,
    DeviceFactory,
    LicenseEventFactory,
    LicenseFactory,
    OrderFactory,
    PaymentFactory,
    PriceFactory,
    RenewalPathFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(email="admin@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def rows():
    license = LicenseFactory()
    order = OrderFactory(status="paid", paid_at=timezone.now())
    receipt = request_receipt(
        order=order, customer=order.customer, addressee="山田 花子", proviso="更新代として"
    )
    return {
        "receipt": receipt,
        "receiptevent": receipt.events.get(),
        "license": license,
        "device": DeviceFactory(license=license),
        "activationcode": ActivationCodeFactory(product=license.product),
        "licenseevent": LicenseEventFactory(license=license),
        "price": PriceFactory(product=license.product),
        "renewalpath": RenewalPathFactory(from_product=license.product),
        "product": license.product,
        "order": (order := OrderFactory(license=license, customer=license.owner)),
        "payment": PaymentFactory(order=order),
        "accountmail": AccountMail.objects.create(
            user=license.owner, key="signup-confirm:1", to=license.owner.email
        ),
        "webhookevent": WebhookEvent.objects.create(
            stripe_id="evt_admin", type="payment_intent.succeeded", payload={"id": "evt_admin"}
        ),
        "refund": Refund.objects.create(
            order=order,
            stripe_id="re_admin",
            stripe_payment_intent="pi_admin",
            amount=100,
            status="pending",
            reason="stripe",
        ),
        "stripecustomer": StripeCustomer.objects.create(user=license.owner, stripe_id="cus_admin"),
        "customerpreferences": set_reminders(user=license.owner, enabled=False),
        "remindersent": ReminderSent.objects.create(
            license=license, expires_on=license.expires_on, offset_days=7, to="a@example.com"
        ),
        "reservelicense": ReserveLicense.objects.create(
            license=license,
            activation_code=ActivationCodeFactory(
                product=license.product,
                state="redeemed",
                license=license,
                redeemed_at=timezone.now(),
            ),
            switch=ReserveLicense.Switch.AUTOMATIC,
        ),
    }


def registered_models():
    return [
        model
        for model in admin.site._registry
        if model._meta.app_label in {"licenses", "orders", "receipts", "reminders"}
    ]


# Rows operators may create by hand (a receipt: a request recorded for a customer who asked by
# mail or phone); everything else is made by the shop and only read here.
ADDABLE = {
    "product",
    "price",
    "renewalpath",
    "license",
    "device",
    "activationcode",
    "receipt",
    "customerpreferences",
}


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.model_name)
def test_every_admin_changelist_and_change_form_loads(operator_client, rows, model):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert operator_client.get(changelist).status_code == 200
    row = rows[opts.model_name]
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
    assert operator_client.get(change).status_code == 200
    add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    assert operator_client.get(add).status_code == (200 if opts.model_name in ADDABLE else 403)


@pytest.fixture
def licenses_by_status():
    today = timezone.localdate()

    def expiring_in(days, **kwargs):
        return LicenseFactory(expires_on=today + dt.timedelta(days=days), **kwargs).serial

    return {
        "active": expiring_in(100),
        "expiring_soon": expiring_in(10),
        "expired": expiring_in(-10),
        "lapsed": expiring_in(-400),
        "revoked": expiring_in(200, revoked_at=timezone.now()),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [("status=active", {"active"}), ("status=expiring_soon", {"expiring_soon"}),
     ("status=expired", {"expired"}), ("status=lapsed", {"lapsed"}),
     ("status=revoked", {"revoked"}), ("expires=next_30", {"expiring_soon"}),
     ("expires=past_year", {"expired"}), ("expires=later", {"active", "revoked"})],
)  # fmt: skip
def test_license_changelist_filters(operator_client, licenses_by_status, query, expected):
    response = operator_client.get(reverse("admin:licenses_license_changelist") + "?" + query)
    listed = {name for name, serial in licenses_by_status.items() if serial in response.text}
    assert listed == expected


def test_license_search_by_serial_and_owner_email(operator_client, rows):
    license = rows["license"]
    url = reverse("admin:licenses_license_changelist")
    assert license.serial in operator_client.get(url, {"q": license.serial}).content.decode()
    page = operator_client.get(url, {"q": license.owner.email}).content.decode()
    assert license.serial in page


def changelist_serials(client, query: str) -> set[str]:
    page = client.get(reverse("admin:licenses_license_changelist"), {"q": query}).content.decode()
    return set(re.findall(r"[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3}", page))


def test_license_search_by_whole_serial_or_address_uses_the_lookup_and_parts_still_match(
    operator_client,
):
    """Issue 15: a whole serial (any case, spaces around) or a whole address (any case) is an
    indexed lookup; part of either still finds the licenses as before."""
    hanako = UserFactory(email="Hanako.Yamada@example.com")
    first, second = LicenseFactory(owner=hanako), LicenseFactory(owner=hanako)
    other = LicenseFactory(owner=UserFactory(email="taro@example.net"))

    assert changelist_serials(operator_client, f"  {first.serial.lower()} ") == {first.serial}
    assert changelist_serials(operator_client, "HANAKO.YAMADA@EXAMPLE.COM") == {
        first.serial,
        second.serial,
    }
    assert changelist_serials(operator_client, "hanako.yamada") == {first.serial, second.serial}
    assert changelist_serials(operator_client, other.serial[5:9]) >= {other.serial}
    assert changelist_serials(operator_client, "nobody@example.com") == set()


def test_admin_search_queryset_is_the_indexed_lookup():
    """The whole-serial and whole-address searches filter by equality (an index can serve it),
    not by ``LIKE '%…%'``."""
    model_admin = admin.site._registry[License]
    queryset = License.objects.all()
    by_serial, _ = model_admin.get_search_results(None, queryset, "mamo-1234-5678-9abc")
    by_email, _ = model_admin.get_search_results(None, queryset, "A@Example.com")
    assert "LIKE" not in str(by_serial.query).upper()
    assert '"serial" = MAMO-1234-5678-9ABC' in str(by_serial.query)
    assert "%" not in str(by_email.query)  # iexact, not icontains
    if connection.vendor == "postgresql":
        assert "UPPER(" in str(by_email.query) and "LIKE" not in str(by_email.query).upper()


def test_the_index_of_upper_email_exists_on_postgresql_only():
    """licenses 0008: PostgreSQL's iexact compares UPPER(email::text), which this index serves;
    SQLite's iexact is a LIKE, which it would not, so SQLite does without."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'licenses_user_email_upper_idx'"
            )
            [(definition,)] = cursor.fetchall()
            assert "upper((email)::text)" in definition
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name = 'licenses_user_email_upper_idx'"
            )
            assert cursor.fetchall() == []


def test_license_page_queries_are_the_same_for_1_and_40_ledger_rows(operator_client):
    """Issue 15: the ledger inline read each row's products, code and actor one by one."""
    counts = []
    for rows in (1, 40):
        license = LicenseFactory()
        for _ in range(rows - 1):
            LicenseEventFactory(license=license, actor=UserFactory(), old_product=license.product)
        url = reverse("admin:licenses_license_change", args=[license.pk])
        operator_client.get(url)
        with CaptureQueriesContext(connection) as queries:
            page = operator_client.get(url)
        assert page.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_ledger_is_read_only_in_admin(operator_client, rows):
    event = rows["licenseevent"]
    url = reverse("admin:licenses_licenseevent_change", args=[event.pk])
    response = operator_client.post(url, {"kind": "adjusted", "new_expires_on": "2030-01-01"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.kind == "created"


def test_renewal_paths_are_edited_as_the_products_matrix(operator_client, rows):
    product = rows["product"]
    page = operator_client.get(
        reverse("admin:licenses_product_change", args=[product.pk])
    ).content.decode()
    assert "renewal_paths-TOTAL_FORMS" in page


def test_support_staff_can_read_licenses_but_not_change_them(client, rows):
    support = UserFactory(email="support@example.com", is_staff=True)
    support.groups.add(Group.objects.get(name=SUPPORT_GROUP))
    client.force_login(support)
    license = rows["license"]
    assert client.get(reverse("admin:licenses_license_changelist")).status_code == 200
    change_url = reverse("admin:licenses_license_change", args=[license.pk])
    page = client.get(change_url).content.decode()
    assert 'name="_save"' not in page  # view-only
    response = client.post(change_url, {"serial": license.serial, "auto_renew": "on"})
    assert response.status_code == 403
    assert client.get(reverse("admin:licenses_price_add")).status_code == 403
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


# --- Corrections go through the ledger (DESIGN 6) ------------------------------------------------


def _change_form_data(license, page: str, **changes):
    """What the license change form ``page`` posts (its inlines empty), with ``changes`` applied."""
    data = {
        "serial": license.serial,
        "owner": license.owner_id or "",
        "product": license.product_id,
        "seats": license.seats or "",
        "starts_on": license.starts_on.isoformat(),
        "expires_on": license.expires_on.isoformat(),
        "auto_renew": "",
        "_save": "Save",
    }
    for prefix in re.findall(r'name="([\w-]+)-TOTAL_FORMS"', page):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": 0,
                f"{prefix}-INITIAL_FORMS": 0,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    data.update(changes)
    return data


def test_expiry_product_and_auto_renew_are_read_only_on_the_change_form(operator_client, rows):
    """A direct POST of a changed expiry or product changes nothing: no edit without a ledger row;
    automatic renewal is switched on only by its customer, with consent and a card."""
    license = rows["license"]
    other_product = PriceFactory().product
    url = reverse("admin:licenses_license_change", args=[license.pk])
    page = operator_client.get(url).content.decode()
    assert 'name="expires_on"' not in page and 'name="product"' not in page
    assert 'name="auto_renew"' not in page
    assert not license.auto_renew
    before = (license.expires_on, license.product_id, license.events.count())

    response = operator_client.post(
        url,
        _change_form_data(
            license, page, expires_on="2030-01-01", product=other_product.pk, auto_renew="on"
        ),
    )
    assert response.status_code == 302  # saved: the editable fields only
    license.refresh_from_db()
    assert (license.expires_on, license.product_id, license.events.count()) == before
    assert not license.auto_renew


def test_correct_expiry_action_asks_date_and_reason_and_writes_the_ledger_row(
    operator_client, rows
):
    license = rows["license"]
    url = reverse("admin:licenses_license_changelist")
    selected = {"action": "correct_expiry", "_selected_action": [license.pk]}

    page = operator_client.post(url, selected)
    assert page.status_code == 200  # the intermediate page
    text = page.content.decode()
    assert 'name="new_expires_on"' in text and 'name="reason"' in text
    assert license.serial in text

    refused = operator_client.post(
        url, {**selected, "apply": "yes", "new_expires_on": "2030-01-01", "reason": ""}
    )
    assert refused.status_code == 200  # the reason is required
    license.refresh_from_db()
    old_expiry = license.expires_on
    assert license.events.filter(kind="adjusted").count() == 0

    response = operator_client.post(
        url,
        {
            **selected,
            "apply": "yes",
            "new_expires_on": "2030-01-01",
            "reason": "Support ticket 123: the 2026 renewal was paid twice",
        },
    )
    assert response.status_code == 302
    license.refresh_from_db()
    assert license.expires_on == dt.date(2030, 1, 1)
    event = license.events.get(kind="adjusted")
    assert (event.old_expires_on, event.new_expires_on) == (old_expiry, dt.date(2030, 1, 1))
    assert event.actor.email == "admin@example.com"
    assert event.note == "Support ticket 123: the 2026 renewal was paid twice"
    assert event.old_product == event.new_product == license.product


def test_correct_expiry_refuses_a_date_before_the_start(rows):
    from licenses.services import CorrectionError, correct_expiry

    license = rows["license"]
    with pytest.raises(CorrectionError):
        correct_expiry(license=license, new_expires_on=license.starts_on, actor=None, reason="x")
    assert not license.events.filter(kind="adjusted").exists()
