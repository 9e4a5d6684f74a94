"""Cards as PaymentMethods on the account's one Stripe Customer (DESIGN 5.2, 5.6; issue 10
points 2 and 3): kept only with consent, otherwise detached once the payment settled."""

import pytest
from django.urls import reverse

from orders import services
from orders.models import Order, SavedCard, StripeCustomer
from orders.payments import gateway
from orders.payments.testing import confirm_card_setup
from tests.factories import UserFactory
from tests.helpers.orders import add_card, order_for, order_with_card, renewable_license, same_path
from tests.helpers.stripe import DECLINED_ON_CHARGE, OK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("localstripe")]


def attached_to(payment_method_id: str) -> str | None:
    return gateway.retrieve_payment_method(payment_method_id=payment_method_id).customer_id


def pay(order, capture):
    with capture(execute=True):
        return services.confirm_order(order=Order.objects.get(pk=order.pk))


def test_issue10_2_one_stripe_customer_per_account_and_one_per_guest_order(customer):
    first, second = order_with_card(customer), order_with_card(customer)
    account = StripeCustomer.objects.get(user=customer)
    assert first.stripe_customer_id == second.stripe_customer_id == account.stripe_id
    assert first.payments.get().stripe_payment_method.startswith("pm_")
    guest_orders = []
    for _ in range(2):
        license = renewable_license(owner=None)
        order = services.start_order(license=license, path_id=same_path(license).pk, term_years=1)
        add_card(order, email="guest@example.com")
        guest_orders.append(Order.objects.get(pk=order.pk))
    ids = {o.stripe_customer_id for o in guest_orders}
    assert len(ids) == 2 and account.stripe_id not in ids
    assert StripeCustomer.objects.count() == 1


def test_issue10_3_a_card_is_kept_only_with_consent(customer, django_capture_on_commit_callbacks):
    kept = order_with_card(customer, keep_card=True)
    not_kept = order_with_card(customer)
    pay(kept, django_capture_on_commit_callbacks)
    pay(not_kept, django_capture_on_commit_callbacks)

    saved = SavedCard.objects.get()
    method = kept.payments.get().stripe_payment_method
    assert saved.stripe_payment_method == method
    assert (saved.brand, saved.last4, saved.exp_month) == ("Visa", "4242", 12)
    assert attached_to(method) == StripeCustomer.objects.get(user=customer).stripe_id
    assert attached_to(not_kept.payments.get().stripe_payment_method) is None


def test_issue10_3_a_card_declined_at_charge_is_not_kept_even_with_consent(
    customer, django_capture_on_commit_callbacks
):
    order = order_with_card(customer, DECLINED_ON_CHARGE, keep_card=True)
    assert pay(order, django_capture_on_commit_callbacks).order.status == "payment_failed"
    assert not SavedCard.objects.exists()
    assert attached_to(order.payments.get().stripe_payment_method) is None


def test_issue10_3_a_guest_cannot_keep_a_card(django_capture_on_commit_callbacks):
    license = renewable_license(owner=None)
    order = services.start_order(license=license, path_id=same_path(license).pk, term_years=1)
    payment = add_card(order, email="guest@example.com", keep_card=True)
    assert payment.keep_card is False
    pay(order, django_capture_on_commit_callbacks)
    assert attached_to(payment.stripe_payment_method) is None


def test_issue10_3_a_saved_card_pays_again_without_being_typed(
    customer, django_capture_on_commit_callbacks
):
    pay(order_with_card(customer, keep_card=True), django_capture_on_commit_callbacks)
    saved = SavedCard.objects.get()
    again = order_for(customer)
    payment = services.enter_details(order=again, email=customer.email, saved_card=saved)
    assert (payment.stripe_payment_method, payment.card_last4) == (
        saved.stripe_payment_method,
        "4242",
    )
    assert pay(again, django_capture_on_commit_callbacks).order.status in ("paid", "fulfilled")
    assert attached_to(saved.stripe_payment_method) is not None  # still saved, still attached
    assert SavedCard.objects.count() == 1


def test_issue10_2_a_card_set_up_for_someone_else_is_refused(customer, other_customer):
    theirs = order_for(other_customer)
    setup = confirm_card_setup(services.prepare_card_setup(order=theirs), OK)
    mine = order_for(customer)
    services.prepare_card_setup(order=mine)
    with pytest.raises(services.CheckoutError):
        services.enter_details(
            order=mine, email=customer.email, payment_method=setup["payment_method"]
        )
    assert not mine.payments.exists()


def test_issue10_3_someone_elses_saved_card_is_not_offered_nor_accepted(
    client, customer, other_customer, django_capture_on_commit_callbacks
):
    pay(order_with_card(other_customer, keep_card=True), django_capture_on_commit_callbacks)
    theirs = SavedCard.objects.get()
    mine = order_for(customer)
    client.force_login(customer)
    page = client.get(reverse("orders:details", args=[mine.number])).text
    assert "4242" not in page
    response = client.post(
        reverse("orders:details", args=[mine.number]),
        {"email": customer.email, "card": str(theirs.pk), "agree": "on"},
    )
    assert response.status_code == 200 and not mine.payments.exists()
    with pytest.raises(services.CheckoutError):
        services.enter_details(order=mine, email=customer.email, saved_card=theirs)


def test_issue10_3_account_page_lists_saved_cards_and_removing_one_detaches_it(
    client, customer, django_capture_on_commit_callbacks
):
    pay(order_with_card(customer, keep_card=True), django_capture_on_commit_callbacks)
    saved = SavedCard.objects.get()
    client.force_login(customer)
    assert "Visa **** 4242" in client.get("/account/cards/").text
    assert "Remove Visa ending in 4242" in client.get("/en/account/cards/").text

    stranger = UserFactory(email="stranger@example.com")
    client.force_login(stranger)
    assert client.post("/account/cards/", {"card": saved.pk}).status_code == 404
    assert SavedCard.objects.exists()

    client.force_login(customer)
    response = client.post("/account/cards/", {"card": saved.pk}, follow=True)
    assert "カードを削除しました" in response.text
    assert not SavedCard.objects.exists()
    assert attached_to(saved.stripe_payment_method) is None
    assert client.post("/account/cards/", {"card": "x"}).status_code == 400


def test_saved_cards_page_needs_a_sign_in(client):
    response = client.get(reverse("orders:cards"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
