"""Accounts: sign-up, sign-in by email, throttling, password reset by mail (DESIGN 9, 12)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-2026"


def test_sign_up_creates_an_account_and_signs_in(client):
    response = client.post(
        reverse("signup"),
        {
            "last_name": "鈴木",
            "first_name": "一郎",
            "email": "Ichiro@Example.com",
            "password1": "a-long-pass-2026",
            "password2": "a-long-pass-2026",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(email="ichiro@example.com")
    assert user.last_name == "鈴木"
    assert client.get(reverse("licenses:list")).status_code == 200


def test_sign_up_keeps_entries_and_explains_errors(client):
    UserFactory(email="taken@example.com")
    response = client.post(
        reverse("signup"),
        {
            "last_name": "鈴木",
            "first_name": "一郎",
            "email": "taken@example.com",
            "password1": "a-long-pass-2026",
            "password2": "another-pass-2026",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "既に登録されています" in page
    assert "一致しません" in page
    assert 'value="鈴木"' in page
    assert get_user_model().objects.filter(email="taken@example.com").count() == 1


def test_sign_in_by_email_case_insensitive(client):
    UserFactory(email="hanako@example.com")
    response = client.post(
        reverse("login"), {"username": "HANAKO@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("licenses:list")


def test_wrong_password_is_refused_with_a_message(client):
    UserFactory(email="hanako@example.com")
    response = client.post(reverse("login"), {"username": "hanako@example.com", "password": "x"})
    assert response.status_code == 200
    assert "正しくありません" in response.content.decode()


def test_repeated_failed_sign_ins_are_throttled(client, settings):
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 3
    UserFactory(email="hanako@example.com")
    for _attempt in range(3):
        client.post(reverse("login"), {"username": "hanako@example.com", "password": "wrong"})
    # Now even the right password is refused until the window ends, with a clear message.
    response = client.post(
        reverse("login"), {"username": "hanako@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "一時的に停止" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_sign_ins_are_throttled_per_address_across_accounts(client, settings):
    settings.LOGIN_THROTTLE_PER_ADDRESS = 4
    UserFactory(email="target@example.com")
    for n in range(4):
        client.post(reverse("login"), {"username": f"guess{n}@example.com", "password": "x"})
    response = client.post(
        reverse("login"), {"username": "target@example.com", "password": PASSWORD}
    )
    assert "一時的に停止" in response.content.decode()


def test_admin_sign_in_is_throttled_too(client, settings):
    settings.LOGIN_THROTTLE_PER_ACCOUNT = 2
    UserFactory(email="staff@example.com", is_staff=True)
    for _attempt in range(2):
        client.post("/admin/login/", {"username": "staff@example.com", "password": "nope"})
    response = client.post("/admin/login/", {"username": "staff@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_mail_with_a_working_link(client):
    UserFactory(email="hanako@example.com")
    response = client.post(reverse("password_reset"), {"email": "hanako@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["hanako@example.com"]
    link = re.search(r"https?://[^/]+(/\S+)", message.body).group(1)
    form_url = client.get(link).url  # Django redirects to the set-password URL
    response = client.post(
        form_url, {"new_password1": "brand-new-2026-pw", "new_password2": "brand-new-2026-pw"}
    )
    assert response.status_code == 302
    assert client.login(username="hanako@example.com", password="brand-new-2026-pw")


def test_password_reset_for_unknown_address_sends_nothing_but_looks_the_same(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_sign_out_needs_post(client, customer):
    client.force_login(customer)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
