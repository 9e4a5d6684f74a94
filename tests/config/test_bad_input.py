"""Bad input gets a 4xx, never a 500 (DESIGN 9): each cause an outside probe found, reproduced."""

import pytest
from django.contrib.admin import helpers
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import LicenseFactory, OrderFactory, PaymentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """A client that returns a 500 as a response instead of raising the view's exception."""
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    "path",
    [
        "/orders/R%00/",
        "/en/orders/R%00/",
        "/renew/?serial=MAMO%00",
        "/checkout/R%00/status.json",
        "/checkout/R%00/details/",
        "/renew/MAMO%00/",
        "/orders/R%00/receipt/",
        "/orders/R%00/receipt.pdf",
        "/licenses/MAMO%00/",
        "/accounts/reset/MQ%00/x/",
        "/help/?q=%00",
    ],
)
def test_nul_bytes_in_paths_and_queries_are_refused_with_400(client, path):
    """PostgreSQL refuses NUL in text (DataError): answered 400 before anything reads them."""
    assert client.get(path).status_code == 400
    UserFactory(email="hanako@example.com")
    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(UserFactory(email="taro@example.com"))
    assert signed_in.get(path).status_code == 400


def test_nul_bytes_in_a_form_field_are_refused(client):
    response = client.post("/renew/", {"serial": "MAMO\x00", "activation_code": "x"})
    assert response.status_code in (200, 400)


def test_form_post_in_latin_1_is_answered_400(client, settings):
    """Django raised while building the CSRF failure answer for a body in another charset (its
    debug page, as under ``make run``, read the body again)."""
    settings.DEBUG = True
    client = Client(raise_request_exception=False, enforce_csrf_checks=True)
    client.get("/accounts/login/")  # a CSRF cookie, so that the check reads the body
    for path in ["/accounts/login/", "/renew/", "/accounts/signup/", "/i18n/setlang/"]:
        response = client.generic(
            "POST",
            path,
            b"username=a%E4b&password=x",
            content_type="application/x-www-form-urlencoded; charset=latin-1",
        )
        assert response.status_code in (400, 403), path


def test_form_post_in_an_unknown_charset_is_answered_400(client):
    response = client.generic(
        "POST",
        "/accounts/login/",
        b"username=a&password=x",
        content_type="application/x-www-form-urlencoded; charset=x-no-such-charset",
    )
    assert response.status_code in (400, 403)


def test_receipt_request_follows_only_a_path_of_this_site(client):
    customer = UserFactory(email="hanako@example.com")
    order = OrderFactory(customer=customer, status="fulfilled", paid_at=timezone.now())
    PaymentFactory(order=order, status="succeeded")
    client.force_login(customer)
    url = reverse("receipts:request", args=[order.number])
    for target, expected in [
        ("1", reverse("receipts:detail", args=[order.number])),
        ("orders:list", reverse("receipts:detail", args=[order.number])),
        ("//evil.example/", reverse("receipts:detail", args=[order.number])),
        ("https://evil.example/", reverse("receipts:detail", args=[order.number])),
        (f"/orders/{order.number}/", f"/orders/{order.number}/"),
    ]:
        order.receipts.all().delete()
        response = client.post(url, {"addressee": "山田 花子", "proviso": "更新代", "next": target})
        assert response.status_code == 302, target
        assert response["Location"] == expected, target


@pytest.fixture
def operator_client(client):
    client.force_login(UserFactory(email="admin@example.com", is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "selected", ["abc", "1.5", "", str(2**63), str(2**64), "-1", "9" * 40, "1\x00"]
)
@pytest.mark.parametrize("admin_page", ["orders/order", "licenses/license", "auth/user"])
def test_admin_action_with_a_bad_selected_id_is_not_a_500(operator_client, selected, admin_page):
    LicenseFactory()
    response = operator_client.post(
        f"/admin/{admin_page}/",
        {"action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: [selected]},
    )
    assert response.status_code in (200, 302, 400)


@pytest.mark.parametrize("object_id", ["abc", str(2**63), str(2**64), "9" * 40])
def test_admin_change_page_with_a_bad_id_is_not_a_500(operator_client, object_id):
    response = operator_client.get(f"/admin/licenses/license/{object_id}/change/")
    assert response.status_code in (302, 404)
