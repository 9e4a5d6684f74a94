"""Django admin: every page loads; support staff read but do not change (DESIGN 1)."""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from licenses.models import ReserveLicense
from licenses.services import SUPPORT_GROUP
from orders.models import WebhookEvent
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
        "webhookevent": WebhookEvent.objects.create(
            stripe_id="evt_admin", type="payment_intent.succeeded", payload={"id": "evt_admin"}
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
        if model._meta.app_label in {"licenses", "orders", "receipts"}
    ]


# Rows operators may create by hand; everything else is made by the shop and only read here.
ADDABLE = {"product", "price", "renewalpath", "license", "device", "activationcode"}


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
