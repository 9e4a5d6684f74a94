"""The account page and the customer's language for mails (DESIGN 8, 12)."""

import pytest
from django.urls import reverse

from licenses.models import CustomerPreferences
from licenses.selectors import customer_preferences
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-2026"


def test_account_page_needs_sign_in(client):
    response = client.get(reverse("account"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_header_links_to_the_account_page(customer_client):
    page = customer_client.get(reverse("licenses:list")).content.decode()
    assert f'href="{reverse("account")}"' in page


def test_account_page_switches_reminders_off_and_on_and_sets_the_mail_language(
    customer_client, customer
):
    page = customer_client.get(reverse("account")).content.decode()
    assert customer.email in page
    assert "有効期限のお知らせメールを受け取る" in page

    response = customer_client.post(reverse("account"), {"language": "en"})  # box unticked

    assert response.status_code == 302
    preferences = customer_preferences(user=customer)
    assert preferences.reminders_opt_out
    assert preferences.language == "en"
    assert "停止されました" in customer_client.get(reverse("account")).content.decode()

    customer_client.post(reverse("account"), {"language": "ja", "reminders": "on"})

    preferences = customer_preferences(user=customer)
    assert not preferences.reminders_opt_out
    assert preferences.reminders_opted_out_at is None
    assert preferences.language == "ja"


def test_account_page_refuses_an_unknown_language_with_a_message(customer_client, customer):
    response = customer_client.post(reverse("account"), {"language": "xx", "reminders": "on"})
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
    assert customer_preferences(user=customer).language == "ja"


def test_english_account_page(customer_client):
    page = customer_client.get("/en" + reverse("account")).content.decode()
    assert "Send me expiry reminders" in page
    assert "Language of mails" in page


def test_sign_up_on_the_english_pages_makes_english_the_mail_language(client):
    client.post(
        "/en" + reverse("signup"),
        {
            "last_name": "Smith",
            "first_name": "Anna",
            "email": "anna@example.com",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )
    preferences = CustomerPreferences.objects.get(user__email="anna@example.com")
    assert preferences.language == "en"
    assert not preferences.reminders_opt_out


def test_sign_in_on_the_english_pages_makes_english_the_mail_language(client):
    customer = UserFactory(email="hanako@example.com")
    client.post("/en/accounts/login/", {"username": customer.email, "password": PASSWORD})
    assert customer_preferences(user=customer).language == "en"

    client.logout()
    client.post("/accounts/login/", {"username": customer.email, "password": PASSWORD})
    assert customer_preferences(user=customer).language == "ja"


def test_the_language_switch_changes_the_signed_in_customers_mail_language(
    customer_client, customer
):
    customer_client.post(reverse("set_language"), {"language": "en", "next": "/licenses/"})
    assert customer_preferences(user=customer).language == "en"


def test_the_language_switch_of_a_visitor_stores_nothing(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert not CustomerPreferences.objects.exists()
