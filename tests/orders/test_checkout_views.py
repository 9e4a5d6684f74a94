"""The checkout pages: entry points (T2), choice (T3, K2, K5), tampering, access (DESIGN 9)."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from licenses.models import License, RenewalPath
from licenses.selectors import renewal_options
from orders.access import guest_access_token
from orders.mail import mail_order
from orders.models import Order
from tests.factories import OrderFactory, UserFactory
from tests.helpers.orders import renewable_license, same_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    return UserFactory(email="demo@example.com")


@pytest.fixture
def demo_client(client, demo):
    client.force_login(demo)
    return client


def choose_page(client, serial, **params):
    return client.get(reverse("orders:choose", args=[serial]), params)


# --- T2: entry points -------------------------------------------------------------------------


def test_T2b_general_renew_link_lists_the_renewable_licenses_to_pick_from(demo_client):
    page = demo_client.get(reverse("orders:renew")).content.decode()
    assert "契約更新を申し込む" in page
    assert "MAMO-DEMO-0002-3DEV" in page
    assert "MAMO-DEMO-0010-LAPS" not in page  # lapsed: only from the product


def test_T2b_with_one_renewable_license_the_pick_is_skipped(client, customer):
    license = renewable_license(owner=customer)
    client.force_login(customer)
    response = client.get(reverse("orders:renew"))
    assert response["Location"] == reverse("orders:choose", args=[license.serial])


def test_T2b_lapsed_license_cannot_be_renewed_from_the_account(demo_client):
    page = choose_page(demo_client, "MAMO-DEMO-0010-LAPS").content.decode()
    assert "1年以上" in page
    assert "今すぐ更新" in page  # points to the installed program's button
    assert "お申し込み" not in page


def test_T2a_product_entry_allows_a_lapsed_license_for_its_owner(demo_client):
    response = demo_client.get(reverse("orders:renew"), {"serial": "MAMO-DEMO-0010-LAPS"})
    assert response["Location"] == reverse("orders:choose", args=["MAMO-DEMO-0010-LAPS"])
    page = choose_page(demo_client, "MAMO-DEMO-0010-LAPS").content.decode()
    assert "お申し込み" in page


def test_T2a_guest_proves_possession_with_the_activation_code(client, demo):
    from licenses.demo import demo_code

    serial = "MAMO-DEMO-0008-TSST"
    assert choose_page(client, serial).status_code == 404
    response = client.post(
        reverse("orders:renew"),
        {"serial": serial.lower(), "activation_code": demo_code(serial).replace("-", " ")},
    )
    assert response["Location"] == reverse("orders:choose", args=[serial])
    assert choose_page(client, serial).status_code == 200
    # The guest may order; the order belongs to nobody's account and opens in this session only.
    path = RenewalPath.objects.get(from_product__code="ts-std", to_product__code="ts-std")
    response = client.post(reverse("orders:choose", args=[serial]), {"path": path.pk, "term": 1})
    order = Order.objects.get()
    assert order.customer is None
    assert response["Location"] == reverse("orders:details", args=[order.number])
    assert client.get(response["Location"]).status_code == 200


def test_T2a_signed_in_customer_renewing_a_license_not_in_their_account_owns_the_order(
    client, demo
):
    """Serial and activation code of a license that is not theirs: the order is the signed-in
    customer's (history, receipts on request); the license does not move."""
    from licenses.demo import demo_code
    from tests.factories import PaymentFactory

    serial = "MAMO-DEMO-0008-TSST"
    buyer = UserFactory(email="buyer@example.com")
    client.force_login(buyer)
    client.post(reverse("orders:renew"), {"serial": serial, "activation_code": demo_code(serial)})
    path = RenewalPath.objects.get(from_product__code="ts-std", to_product__code="ts-std")
    client.post(reverse("orders:choose", args=[serial]), {"path": path.pk, "term": 1})
    order = Order.objects.get()
    assert order.customer == buyer
    license = License.objects.get(serial=serial)
    assert license.owner == demo  # the license stays in its owner's account

    Order.objects.filter(pk=order.pk).update(status="fulfilled", paid_at=timezone.now())
    PaymentFactory(order=order, status="succeeded")
    assert order.number in client.get(reverse("orders:list")).content.decode()
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert reverse("receipts:request", args=[order.number]) in page
    response = client.post(
        reverse("receipts:request", args=[order.number]),
        {"addressee": "株式会社テスト", "proviso": "更新代として"},
    )
    assert response.status_code == 302
    assert order.receipts.get().requested_by == buyer
    assert serial not in client.get(reverse("licenses:list")).content.decode()


def test_T2a_guest_with_a_wrong_code_gets_no_access(client, demo):
    serial = "MAMO-DEMO-0008-TSST"
    response = client.post(
        reverse("orders:renew"), {"serial": serial, "activation_code": "AAAAA-BBBBB-CCCCC-DDDD8"}
    )
    page = response.content.decode()
    assert "一致しません" in page
    assert "「8」" in page  # K4 look-alike hint for 8/B
    assert choose_page(client, serial).status_code == 404


def test_T2a_lapsed_license_renews_from_the_product_entry_for_a_guest(client, demo):
    from licenses.demo import demo_code

    serial = "MAMO-DEMO-0010-LAPS"
    client.post(reverse("orders:renew"), {"serial": serial, "activation_code": demo_code(serial)})
    page = choose_page(client, serial).content.decode()
    assert "お申し込み" in page


# --- T3: what each product may renew to ----------------------------------------------------------

T3 = {
    "cloud": {"ts-std-scam", "ts-prem-scam", "ts-std", "ts-prem", "cloud", "cloud-ps"},
    "cloud-ps": {"ts-prem-scam", "ts-prem", "cloud-ps"},
    "ts-std": {"ts-std", "ts-prem"},
    "ts-prem": {"ts-prem"},
}
UPGRADES_TO_TOTAL_SECURITY = {"ts-std-scam", "ts-prem-scam", "ts-std", "ts-prem"}


@pytest.mark.parametrize("source", sorted(T3))
def test_T3_each_product_offers_exactly_its_matrix(client, demo, source):
    license = License.objects.filter(product__code=source).first() or License.objects.create(
        serial=f"MAMO-T3T3-{len(source):04d}-{source[:4].upper().replace('-', 'X')}",
        product_id=RenewalPath.objects.filter(from_product__code=source).first().from_product_id,
        starts_on=timezone.localdate() - dt.timedelta(days=300),
        expires_on=timezone.localdate() + dt.timedelta(days=65),
    )
    options = renewal_options(license=license)
    assert {o.product.code for o in options} == T3[source]
    for option in options:
        assert {t.term_years for t in option.terms} == {1, 2, 3}
        if source in ("cloud", "cloud-ps") and option.product.code in UPGRADES_TO_TOTAL_SECURITY:
            assert option.is_upgrade and option.path.card_only  # T3: card only


def test_T3_automatic_renewal_blocks_an_upgrade_with_a_message_and_a_link(demo_client):
    page = choose_page(demo_client, "MAMO-DEMO-0007-CLOD").content.decode()
    assert "自動更新を解除してください" in page
    assert "自動更新を解除する" in page
    assert "disabled" in page


def test_T3_upgrade_posted_while_automatic_renewal_is_on_is_refused(demo_client):
    path = RenewalPath.objects.get(from_product__code="cloud", to_product__code="ts-prem")
    response = demo_client.post(
        reverse("orders:choose", args=["MAMO-DEMO-0007-CLOD"]), {"path": path.pk, "term": 1}
    )
    assert response.status_code == 302
    assert not Order.objects.exists()


def test_T3_no_upgrade_path_says_no_upgradable_serial_was_found(client, customer):
    from licenses.models import Product

    license = renewable_license(owner=customer)
    license.product.line = Product.Line.TOTAL_SECURITY
    license.product.save()
    client.force_login(customer)
    page = choose_page(client, license.serial).content.decode()
    assert "アップグレード可能なシリアル番号がみつかりませんでした" in page


def test_T1_J1_K10_choose_shows_each_term_with_tax_per_year_and_new_expiry(client, customer):
    license = renewable_license(owner=customer, days_left=10)
    client.force_login(customer)
    page = choose_page(client, license.serial).content.decode()
    assert "¥11,980" in page  # 3 years
    assert "¥3,993" in page  # per year, rounded down
    assert "うち消費税 ¥1,089" in page  # J1: 11980 * 10 / 110
    expected = license.expires_on.replace(year=license.expires_on.year + 3)
    assert expected.strftime("%Y-%m-%d") in page  # K10


# --- K2: the twin pack advisor --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "edition", "term"),
    [("own_devices", "private", 1), ("shared", "three_device", 3), ("two_years", "private", 3)],
)
def test_K2_twin_pack_advice_for_each_answer(demo_client, usage, edition, term):
    response = choose_page(demo_client, "MAMO-DEMO-0001-TWIN", usage=usage)
    recommended = response.context["choice"].advice
    assert recommended.product.edition == edition
    assert recommended.term == term
    page = response.content.decode()
    assert "ツインパックの更新ライセンスはありません" in page
    # All three alternatives side by side, each with its prices.
    options = response.context["choice"].options
    assert {o.product.edition for o in options} == {"twin_pack", "three_device", "private"}
    # One comparison table: a row per term, a column per option, prices in every cell sold.
    rows = dict(response.context["choice"].compare_rows)
    assert [len(cells) for cells in rows.values()] == [3, 3, 3]
    assert page.count('name="path"') == 1 + 3 + 3  # the twin pack sells 1 year only
    assert "1年あたり" in page


def test_K2_twin_pack_again_is_a_new_purchase(demo_client):
    response = choose_page(demo_client, "MAMO-DEMO-0001-TWIN")
    twin = next(o for o in response.context["choice"].options if o.product.edition == "twin_pack")
    assert twin.path.price_kind == "new"
    assert [t.amount for t in twin.terms] == [5980]


def test_K5_legacy_license_shows_the_version_up_steps_first(demo_client):
    page = choose_page(demo_client, "MAMO-DEMO-0004-W011").content.decode()
    assert page.index("プログラムを最新版にしてください") < page.index("お申し込み")
    assert "古いプログラムをアンインストールする" in page


# --- Tampering ------------------------------------------------------------------------------------


def test_tampered_choice_of_a_path_of_another_product_is_refused(demo_client):
    other = RenewalPath.objects.get(from_product__code="cloud-ps", to_product__code="ts-prem")
    response = demo_client.post(
        reverse("orders:choose", args=["MAMO-DEMO-0008-TSST"]), {"path": other.pk, "term": 1}
    )
    assert response.status_code == 302
    assert not Order.objects.exists()


@pytest.mark.parametrize("term", ["4", "0", "x", ""])
def test_tampered_term_is_refused_with_400(demo_client, term):
    path = RenewalPath.objects.get(from_product__code="ts-std", to_product__code="ts-std")
    response = demo_client.post(
        reverse("orders:choose", args=["MAMO-DEMO-0008-TSST"]), {"path": path.pk, "term": term}
    )
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_price_comes_from_the_server_not_the_form(demo_client):
    path = RenewalPath.objects.get(from_product__code="ts-std", to_product__code="ts-std")
    demo_client.post(
        reverse("orders:choose", args=["MAMO-DEMO-0008-TSST"]),
        {"path": path.pk, "term": 2, "amount": 1, "price": 1},
    )
    order = Order.objects.get()
    assert order.amount == 9980
    assert order.tax == 907


def test_someone_elses_license_and_order_answer_404(client, customer, other_customer):
    theirs = renewable_license(owner=other_customer)
    order = OrderFactory(customer=other_customer)
    client.force_login(customer)
    assert choose_page(client, theirs.serial).status_code == 404
    path = same_path(theirs)
    response = client.post(
        reverse("orders:choose", args=[theirs.serial]), {"path": path.pk, "term": 1}
    )
    assert response.status_code == 404
    for name in ["details", "confirm", "authenticate", "complete", "status", "detail"]:
        assert client.get(reverse(f"orders:{name}", args=[order.number])).status_code == 404
    assert client.post(reverse("orders:confirm", args=[order.number])).status_code == 404


def test_order_pages_need_the_owner_or_the_guest_session(client):
    order = OrderFactory(customer=None, email="guest@example.com", status="details_entered")
    assert client.get(reverse("orders:detail", args=[order.number])).status_code == 404


def test_guest_mail_link_opens_the_order(client):
    order = OrderFactory(customer=None, email="guest@example.com", status="fulfilled")
    url = reverse("orders:detail", args=[order.number])
    assert client.get(url, {"access": "forged"}).status_code == 404
    assert client.get(url, {"access": guest_access_token(order)}).status_code == 200
    assert client.get(url).status_code == 200  # remembered in the session


# --- Details (T4) ---------------------------------------------------------------------------------


def test_T4_details_errors_stay_beside_the_fields_and_keep_entries(client, customer):
    license = renewable_license(owner=customer)
    client.force_login(customer)
    client.post(
        reverse("orders:choose", args=[license.serial]), {"path": same_path(license).pk, "term": 1}
    )
    order = Order.objects.get()
    response = client.post(
        reverse("orders:details", args=[order.number]), {"email": "not-an-email", "card_token": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="not-an-email"' in page
    assert "有効なメールアドレス" in page
    assert "クレジットカード情報を入力してください" in page
    assert "上記の諸規定をご確認のうえ、同意してください" in page
    assert "上記の諸規定に同意します" in page
    for name in ["legal:terms", "legal:privacy", "legal:tokushoho"]:
        assert reverse(name) in page
    order.refresh_from_db()
    assert order.status == "draft"


def test_T4_details_page_loads_stripe_js_from_the_setting(client, customer, settings):
    settings.STRIPE_JS_URL = "https://js.example.test/v3/"
    license = renewable_license(owner=customer)
    client.force_login(customer)
    client.post(
        reverse("orders:choose", args=[license.serial]), {"path": same_path(license).pk, "term": 1}
    )
    page = client.get(reverse("orders:details", args=[Order.objects.get().number])).content.decode()
    assert '<script src="https://js.example.test/v3/">' in page


def test_order_list_shows_own_orders(client, customer, other_customer):
    mine = OrderFactory(customer=customer, status="fulfilled")
    theirs = OrderFactory(customer=other_customer, status="fulfilled")
    client.force_login(customer)
    page = client.get(reverse("orders:list")).content.decode()
    assert mine.number in page
    assert theirs.number not in page


def test_status_json_reports_the_extension(client, customer):
    order = OrderFactory(customer=customer, status="fulfilled")
    client.force_login(customer)
    data = client.get(reverse("orders:status", args=[order.number])).json()
    assert data == {
        "status": "fulfilled",
        "fulfilled": True,
        "expires_on": order.license.expires_on.isoformat(),
    }


def test_K9_order_page_offers_a_receipt_for_a_completed_order(client, customer):
    order = OrderFactory(customer=customer, status="fulfilled", paid_at=timezone.now())
    client.force_login(customer)
    page = client.get(reverse("orders:detail", args=[order.number])).content.decode()
    assert "領収書" in page
    assert reverse("receipts:request", args=[order.number]) in page


# --- Pages and mails say only what the shop does ---------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "en"])
def test_J2_T8_legal_page_and_extended_mail_promise_only_what_the_shop_does(client, language):
    """Nothing tells the installed program of a new date, and a checkout order is no automatic
    renewal: its "extended" mail must not say otherwise. The legal disclosure states the
    subscription and automatic renewal as the shop performs it (issue 11: opt-in, the charge
    before expiry, cancel any time)."""
    prefix = "" if language == "ja" else "/en"
    page = client.get(f"{prefix}/legal/tokushoho/").content.decode()
    assert "サブスクリプション" in page or "subscription" in page
    if language == "ja":
        assert "自動更新" in page and "7日前" in page and "解約" in page
    else:
        assert "Automatic renewal" in page and "7 days before" in page and "cancel" in page

    order = OrderFactory(status="fulfilled", language=language, paid_at=timezone.now())
    mail_order(order=order, template="license_extended")
    message = mail.outbox[-1]
    for body in [message.body, message.alternatives[0][0]]:
        for promise in ["アップデート", "update", "自動更新", "automatic"]:
            assert promise not in body
        assert f"/orders/{order.number}/" in body  # where the new date is shown
