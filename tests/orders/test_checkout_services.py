"""The checkout services against localstripe (DESIGN 5): no mocks of Stripe."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from licenses.models import LicenseEvent, RenewalPath
from orders import services
from orders.fulfilment import extend_license
from orders.models import Order, Payment
from orders.payments import gateway
from orders.payments.sync import apply_intent, sync_payment
from orders.payments.testing import SetupDeclined, authenticate_3d_secure, confirm_card_setup
from tests.helpers.orders import add_card, order_for, order_with_card, renewable_license
from tests.helpers.renewals import switch_on_from_license_page
from tests.helpers.stripe import DECLINED_ON_ADD, DECLINED_ON_CHARGE, OK, THREE_DS
from tests.helpers.threads import run_together

pytestmark = pytest.mark.usefixtures("localstripe")


@pytest.mark.django_db
def test_T5_T7_T8_success_with_4242_pays_extends_once_and_mails(
    customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer)
    old_expiry = order.license.expires_on
    with django_capture_on_commit_callbacks(execute=True):
        result = services.confirm_order(order=order)
    order.refresh_from_db()
    assert result.order.status in ("paid", "fulfilled")
    assert order.status == "fulfilled"
    payment = order.payments.get()
    assert payment.status == "succeeded"
    assert payment.card_brand == "Visa" and payment.card_last4 == "4242"
    order.license.refresh_from_db()
    assert order.license.expires_on == old_expiry.replace(year=old_expiry.year + 1)
    assert LicenseEvent.objects.filter(order=order).count() == 1
    subjects = sorted(message.subject for message in mail.outbox)
    assert len(subjects) == 2  # T7 completion and T8 extension, in Japanese
    assert any("完了" in subject for subject in subjects)
    assert any("延長" in subject for subject in subjects)
    assert all(message.alternatives for message in mail.outbox)  # text and HTML parts


@pytest.mark.django_db
def test_amount_charged_is_the_frozen_tax_inclusive_total_in_yen(customer):
    order = order_with_card(customer)
    services.confirm_order(order=order)
    payment = order.payments.get()
    intent = gateway.retrieve_payment_intent(payment_intent_id=payment.stripe_payment_intent)
    assert intent.amount == order.amount == 4790
    assert intent.currency == "jpy"
    assert order.tax == 435  # J1: 4790 * 10 / 110, rounded down
    assert intent.order_number == order.number


@pytest.mark.django_db
def test_T6_three_d_secure_completed_pays(customer, django_capture_on_commit_callbacks):
    order = order_with_card(customer, THREE_DS)
    result = services.confirm_order(order=order)
    assert result.order.status == "requires_action"
    assert result.client_secret
    authenticate_3d_secure(result.client_secret, success=True)
    with django_capture_on_commit_callbacks(execute=True):
        sync_payment(payment=result.payment)
    order.refresh_from_db()
    assert order.status == "fulfilled"


@pytest.mark.django_db
def test_T6_three_d_secure_failed_allows_another_card(customer, django_capture_on_commit_callbacks):
    order = order_with_card(customer, THREE_DS)
    result = services.confirm_order(order=order)
    authenticate_3d_secure(result.client_secret, success=False)
    with django_capture_on_commit_callbacks(execute=True):
        sync_payment(payment=result.payment)
    order.refresh_from_db()
    assert order.status == "payment_failed"
    failed = order.payments.get()
    assert failed.failure_code == "payment_intent_authentication_failure"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [customer.email]
    # Another card: a second attempt with its own PaymentIntent succeeds.
    add_card(order, OK)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=order)
    order.refresh_from_db()
    assert order.status == "fulfilled"
    assert list(order.payments.values_list("attempt", "status")) == [
        (1, "failed"),
        (2, "succeeded"),
    ]


@pytest.mark.django_db
def test_T4_card_declined_at_setup_never_becomes_an_attempt(customer):
    order = order_for(customer)
    client_secret = services.prepare_card_setup(order=order)
    with pytest.raises(SetupDeclined) as declined:  # stripe.js shows it beside the card field
        confirm_card_setup(client_secret, DECLINED_ON_ADD)
    assert declined.value.code == "card_declined"
    assert not Payment.objects.filter(order=order).exists()
    order.refresh_from_db()
    assert order.status == "draft"


@pytest.mark.django_db
def test_card_declined_at_charge_fails_the_attempt(customer):
    order = order_with_card(customer, DECLINED_ON_CHARGE)
    result = services.confirm_order(order=order)
    assert result.order.status == "payment_failed"
    assert result.failure_message
    assert order.payments.get().failure_code == "card_declined"
    order.license.refresh_from_db()
    assert not LicenseEvent.objects.filter(order=order).exists()


@pytest.mark.django_db
def test_confirming_twice_makes_one_payment_intent(customer, django_capture_on_commit_callbacks):
    order = order_with_card(customer)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.confirm_order(order=order)
    second = services.confirm_order(order=order)
    assert first.payment.pk == second.payment.pk
    assert Payment.objects.filter(order=order).exclude(stripe_payment_intent=None).count() == 1
    assert LicenseEvent.objects.filter(order=order).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_confirms_make_one_payment_intent_and_one_ledger_row(customer):
    """A double click or two tabs: the committed claim lets one through, the other re-reads."""
    order = order_with_card(customer)
    results, errors = run_together(
        lambda: services.confirm_order(order=Order.objects.get(pk=order.pk)),
        lambda: services.confirm_order(order=Order.objects.get(pk=order.pk)),
    )
    assert errors == []
    assert len(results) == 2
    # One claimed the attempt and charged; the other read what was known (the PaymentIntent, or
    # "being charged" if it came while Stripe was still answering): never a second charge.
    order.payments.get().refresh_from_db()
    charged = order.payments.get().stripe_payment_intent
    assert charged is not None
    assert {r.payment.stripe_payment_intent for r in results} <= {charged, None}
    assert not order.refunds.exists()  # no duplicate charge had to be refunded
    extend_license(order=Order.objects.get(pk=order.pk))
    extend_license(order=Order.objects.get(pk=order.pk))
    assert LicenseEvent.objects.filter(order=order).count() == 1


@pytest.mark.django_db
def test_stripe_unreachable_gives_a_clear_error_and_no_charge(customer, settings):
    order = order_with_card(customer)
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    with pytest.raises(gateway.GatewayUnavailable) as error:
        services.confirm_order(order=order)
    assert error.value.message
    order.refresh_from_db()
    assert order.status == "details_entered"  # can be retried
    assert order.payments.get().stripe_payment_intent is None


@pytest.mark.django_db
def test_edit_order_keeps_the_card_on_file(customer):
    order = order_with_card(customer)
    payment = services.enter_details(order=order, email="new@example.com")
    order.refresh_from_db()
    assert payment.attempt == 1
    assert order.email == "new@example.com"
    assert order.payments.count() == 1


@pytest.mark.django_db
def test_K10_paid_after_expiry_extends_from_the_payment_day(
    customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer, days_left=-40)
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_order(order=order)
    order.refresh_from_db()
    order.license.refresh_from_db()
    paid_on = timezone.localdate(order.paid_at)
    assert order.license.expires_on == paid_on.replace(year=paid_on.year + 1)


@pytest.mark.django_db
def test_terms_versions_are_frozen_on_the_order(customer):
    order = order_with_card(customer)
    assert order.terms_accepted_at is not None
    assert set(order.terms_versions) == {"terms", "privacy", "tokushoho"}


@pytest.mark.django_db
def test_payment_failed_after_succeeded_never_undoes_the_payment(customer):
    order = order_with_card(customer)
    result = services.confirm_order(order=order)
    payment = result.payment
    payment.refresh_from_db()
    late_failure = gateway.IntentState(
        id=payment.stripe_payment_intent,
        status="requires_payment_method",
        amount=order.amount,
        currency="jpy",
        client_secret="",
        customer_id=None,
        payment_method=None,
        order_number=order.number,
        charge_id=None,
        failure_code="card_declined",
        failure_message="late",
        requires_action=False,
    )
    locked = Order.objects.get(pk=order.pk)
    apply_intent(order=locked, payment=payment, intent=late_failure)
    locked.refresh_from_db()
    payment.refresh_from_db()
    assert locked.status == "paid"
    assert payment.status == "succeeded"


@pytest.mark.django_db
def test_J3_T5_confirm_step_shows_everything_the_final_confirmation_needs(client, customer):
    from django.urls import reverse

    order = order_with_card(customer)
    client.force_login(customer)
    page = client.get(reverse("orders:confirm", args=[order.number])).content.decode()
    for text in [
        "数量: 1ライセンス",  # quantity
        "3台まで",  # devices
        "1年",  # term
        "¥4,790",  # total, tax included
        "うち消費税10% ¥435",
        "[注文を確定] をクリックした時点で決済します",  # payment timing
        "クレジットカード Visa **** 4242",  # method, brand and last 4
        "入金確認後に自動で延長します",  # when the extension happens
        "キャンセル・返金できません",  # cancellation policy
        customer.email,
        "注文を確定",
        "注文内容を編集",  # a way back to correct the order
    ]:
        assert text in page, text
    new_expiry = order.license.expires_on.replace(year=order.license.expires_on.year + 1)
    assert new_expiry.isoformat() in page


@pytest.mark.django_db
def test_T3_upgrade_refused_at_confirm_when_automatic_renewal_was_switched_on_meanwhile(
    client, customer, django_capture_on_commit_callbacks
):
    """Choose an upgrade with automatic renewal off, enter the card, switch automatic renewal on
    from the license page, then confirm: refused with the T3 message, nothing charged."""
    license = renewable_license(owner=customer, upgrade=True)
    upgrade = RenewalPath.objects.get(from_product=license.product, kind="upgrade")
    order = services.start_order(
        license=license, path_id=upgrade.pk, term_years=1, customer=customer
    )
    add_card(order, OK, email=customer.email)
    client.force_login(customer)
    switch_on_from_license_page(client, license)
    license.refresh_from_db()
    assert license.auto_renew

    response = client.post(reverse("orders:confirm", args=[order.number]), follow=True)
    assert "自動更新を解除してください" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "details_entered"
    assert order.payments.get().stripe_payment_intent is None  # nothing charged
    license.refresh_from_db()
    assert license.product == order.from_product

    # Switched off again, the same order goes through as the upgrade.
    client.post(reverse("renewals:switch_off", args=[license.serial]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("orders:confirm", args=[order.number]))
    order.refresh_from_db()
    license.refresh_from_db()
    assert order.status == "fulfilled"
    assert license.product == order.product and not license.auto_renew
