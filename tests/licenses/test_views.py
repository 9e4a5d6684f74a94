"""License pages (DESIGN 9, 12): a customer sees only their own licenses, in a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from licenses.models import LicenseEvent
from tests.factories import (
    ActivationCodeFactory,
    DeviceFactory,
    LicenseEventFactory,
    LicenseFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


def test_license_list_needs_sign_in(client):
    response = client.get(reverse("licenses:list"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_license_list_shows_own_licenses_only(customer_client, customer, other_customer):
    mine = LicenseFactory(owner=customer)
    theirs = LicenseFactory(owner=other_customer)
    page = customer_client.get(reverse("licenses:list")).content.decode()
    assert mine.serial in page
    assert theirs.serial not in page
    assert "今すぐ更新" in page


def test_license_list_query_count_does_not_grow_with_licenses(
    customer_client, customer, django_assert_num_queries
):
    product = ProductFactory()
    LicenseFactory(owner=customer, product=product)
    with CaptureQueriesContext(connection) as one:
        customer_client.get(reverse("licenses:list"))
    LicenseFactory.create_batch(49, owner=customer, product=product)
    LicenseFactory.create_batch(10, owner=customer)  # other products too
    with django_assert_num_queries(len(one.captured_queries)):
        response = customer_client.get(reverse("licenses:list"))
    assert response.content.decode().count("/licenses/MAMO-") >= 60


def test_another_customers_license_answers_404(customer_client, other_customer):
    theirs = LicenseFactory(owner=other_customer)
    assert customer_client.get(reverse("licenses:detail", args=[theirs.serial])).status_code == 404
    theirs.auto_renew = True
    theirs.save()
    for name in ("renewals:switch_on", "renewals:switch_off", "renewals:replace_card"):
        response = customer_client.post(reverse(name, args=[theirs.serial]), {"card": "1"})
        assert response.status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.auto_renew is True


def test_unknown_serial_answers_404(customer_client):
    assert customer_client.get("/licenses/NOPE-0000-0000-0000/").status_code == 404


def test_license_page_shows_devices_history_and_how_to_check_expiry(customer_client, customer):
    license = LicenseFactory(owner=customer)
    DeviceFactory(license=license, name="書斎のPC", program_version="18.0.1205")
    LicenseEventFactory(license=license)
    page = customer_client.get(reverse("licenses:detail", args=[license.serial])).content.decode()
    assert "書斎のPC" in page
    assert "18.0.1205" in page
    assert "作成" in page  # the ledger's "created" row
    assert "プログラムで有効期限を確認する方法" in page


def test_license_page_marks_an_old_program_version(customer_client, customer):
    product = ProductFactory(generation=2013)
    license = LicenseFactory(owner=customer, product=product)
    DeviceFactory(license=license, program_generation=2011, program_version="11.0.2.556")
    page = customer_client.get(reverse("licenses:detail", args=[license.serial])).content.decode()
    assert "旧バージョン" in page


def unowned_license_with_code():
    license = LicenseFactory(owner=None)
    code = ActivationCodeFactory(
        product=license.product,
        license=license,
        state="redeemed",
        redeemed_at=license.created_at,
    )
    return license, code


def test_register_a_license_bought_elsewhere_with_serial_and_code(customer_client, customer):
    license, code = unowned_license_with_code()
    typed = code.code.lower().replace("-", "")
    response = customer_client.post(
        reverse("licenses:register"), {"serial": license.serial.lower(), "activation_code": typed}
    )
    assert response.status_code == 302
    license.refresh_from_db()
    assert license.owner == customer


def test_register_with_a_wrong_code_says_so_without_revealing_anything(customer_client, customer):
    license, _code = unowned_license_with_code()
    response = customer_client.post(
        reverse("licenses:register"),
        {"serial": license.serial, "activation_code": "22222-SSSSS-AAAAA-AAAAA"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "一致しません" in page
    assert "「2」" in page  # K4 look-alike hint
    license.refresh_from_db()
    assert license.owner is None


def test_register_someone_elses_license_fails_like_a_wrong_code(customer_client, other_customer):
    license, code = unowned_license_with_code()
    license.owner = other_customer
    license.save()
    response = customer_client.post(
        reverse("licenses:register"), {"serial": license.serial, "activation_code": code.code}
    )
    assert "一致しません" in response.content.decode()
    license.refresh_from_db()
    assert license.owner == other_customer


def test_register_with_a_malformed_code_says_what_is_wrong(customer_client):
    response = customer_client.post(
        reverse("licenses:register"),
        {"serial": "MAMO-0000-0000-0000", "activation_code": "01234-56789"},
    )
    assert "10" in response.content.decode()  # "you entered 10 letters and digits"


def test_K4_code_attempts_are_rate_limited_per_account(customer_client, settings):
    settings.CODE_THROTTLE_PER_ACCOUNT = 3
    license, code = unowned_license_with_code()
    for _attempt in range(3):
        customer_client.post(
            reverse("licenses:register"),
            {"serial": license.serial, "activation_code": "AAAAA-AAAAA-AAAAA-AAAAA"},
        )
    # Even the right code is refused now, with a message saying why.
    response = customer_client.post(
        reverse("licenses:register"), {"serial": license.serial, "activation_code": code.code}
    )
    assert "しばらく" in response.content.decode()
    license.refresh_from_db()
    assert license.owner is None


def test_ledger_rows_are_listed_newest_first(customer_client, customer):
    license = LicenseFactory(owner=customer)
    LicenseEventFactory(license=license, kind=LicenseEvent.Kind.CREATED)
    LicenseEventFactory(license=license, kind=LicenseEvent.Kind.RENEWED)
    page = customer_client.get(reverse("licenses:detail", args=[license.serial])).content.decode()
    history = page[page.index("<h2>履歴</h2>") :]
    assert history.index(">更新</td>") < history.index(">作成</td>")
