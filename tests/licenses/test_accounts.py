"""Accounts: sign-up, sign-in by email, throttling that slows attackers and not owners, password
reset by mail (DESIGN 9, 12)."""

import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from licenses import throttle
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-2026"


SIGNUP = {
    "last_name": "鈴木",
    "first_name": "一郎",
    "password1": "a-long-pass-2026",
    "password2": "a-long-pass-2026",
}


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """``client.post``, then the tasks the request queued run, as a worker's would."""

    def post(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(*args, **kwargs)

    return post


def link_in(message) -> str:
    """The path of the first link of this site in a mail."""
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_sign_up_mails_a_confirmation_link_that_creates_the_account_and_signs_in(client, post):
    response = post(reverse("signup"), {**SIGNUP, "email": "Ichiro@Example.com"})
    assert response["Location"] == reverse("signup_done")
    user = get_user_model().objects.get(email="ichiro@example.com")
    assert user.last_name == "鈴木" and not user.is_active  # not before the address is confirmed
    assert not client.login(username="ichiro@example.com", password="a-long-pass-2026")
    (message,) = mail.outbox
    assert message.to == ["ichiro@example.com"]
    link = link_in(message)

    page = client.get(link)
    assert page.status_code == 200 and "_auth_user_id" not in client.session  # GET: a button
    response = client.post(link)
    assert response["Location"] == reverse("licenses:list")
    user.refresh_from_db()
    assert user.is_active
    assert client.get(reverse("licenses:list")).status_code == 200
    assert client.post(link).status_code == 400  # used once


def test_sign_up_keeps_entries_and_explains_errors(client):
    response = client.post(
        reverse("signup"),
        {**SIGNUP, "email": "ichiro@example.com", "password2": "another-pass-2026"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "一致しません" in page
    assert 'value="鈴木"' in page
    assert not get_user_model().objects.filter(email="ichiro@example.com").exists()


def test_sign_up_answers_the_same_whether_the_email_exists_and_mails_its_owner_from_a_worker(
    client, django_capture_on_commit_callbacks
):
    """No account enumeration: the same redirect and page for a new and a taken address; the
    owner of the taken one gets "someone tried to sign up with your address", sent by a task
    queued on commit (not in the request), and their account is unchanged."""
    owner = UserFactory(email="taken@example.com", first_name="花子")
    answers = []
    for email in ["taken@example.com", "new@example.com"]:
        sent = len(mail.outbox)
        with django_capture_on_commit_callbacks() as queued:
            response = client.post(reverse("signup"), {**SIGNUP, "email": email})
        assert len(mail.outbox) == sent  # nothing sent inside the request
        assert len(queued) == 1  # the mail task, published when the request's transaction commits
        page = client.get(response["Location"]).content.decode().replace(email, "<email>")
        page = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", page)  # random per page
        answers.append((response.status_code, response["Location"], page))
        for publish in queued:
            publish()
    assert answers[0] == answers[1]

    existing, new = mail.outbox
    assert existing.to == ["taken@example.com"]
    assert "すでにアカウントがあります" in existing.body
    assert reverse("password_reset") in existing.body
    assert new.to == ["new@example.com"] and "/accounts/signup/confirm/" in new.body
    owner.refresh_from_db()
    assert owner.first_name == "花子" and owner.check_password(PASSWORD)
    assert get_user_model().objects.filter(email__iexact="taken@example.com").count() == 1


def test_confirmation_link_is_refused_when_forged_or_superseded(client, post):
    post(reverse("signup"), {**SIGNUP, "email": "ichiro@example.com"})
    first = link_in(mail.outbox[0])
    # Signing up again before confirming replaces the details and voids the earlier link.
    post(
        reverse("signup"),
        {
            **SIGNUP,
            "email": "ichiro@example.com",
            "first_name": "二郎",
            "password1": "second-pass-2026",
            "password2": "second-pass-2026",
        },
    )
    assert client.post(first).status_code == 400
    for forged in [
        "/accounts/signup/confirm/MQ/abc-def/",
        "/accounts/signup/confirm/%FF%FF/x/",
        "/accounts/signup/confirm/OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ/x-y/",
    ]:
        assert client.post(forged).status_code == 400
    assert client.post(link_in(mail.outbox[1]))["Location"] == reverse("licenses:list")
    assert get_user_model().objects.get(email="ichiro@example.com").first_name == "二郎"


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


OWNER_ADDRESS = "198.51.100.7"


def sign_in(client, email, password, address):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_attackers_failures_from_other_addresses_never_stop_the_owner(client, settings):
    """Five wrong passwords from each of five addresses used to lock the account for everyone;
    now they slow down those addresses only."""
    settings.LOGIN_THROTTLE_PER_PAIR = 5
    UserFactory(email="hanako@example.com")
    for n in range(5):
        for _attempt in range(8):
            sign_in(client, "hanako@example.com", "wrong", f"203.0.113.{n}")
    attacker = sign_in(client, "hanako@example.com", PASSWORD, "203.0.113.0")
    assert "お待ちください" in attacker.content.decode()  # the attacker's pair waits...
    assert not signed_in(client)
    response = sign_in(client, "hanako@example.com", PASSWORD, OWNER_ADDRESS)
    assert response.status_code == 302 and signed_in(client)  # ...the owner does not


def test_failed_sign_ins_make_that_pair_wait_longer_each_time(client, settings, monkeypatch):
    settings.LOGIN_THROTTLE_PER_PAIR = 3
    settings.LOGIN_THROTTLE_FIRST_DELAY_SECONDS = 60
    clock = SimpleNamespace(now=1_000_000.0)
    monkeypatch.setattr(throttle, "time", SimpleNamespace(time=lambda: clock.now))
    UserFactory(email="hanako@example.com")
    for _attempt in range(2):  # free
        sign_in(client, "hanako@example.com", "wrong", "203.0.113.9")
    waits = []
    for _attempt in range(6):
        wait = throttle.login_wait_seconds(email="hanako@example.com", address="203.0.113.9")
        waits.append(wait)
        clock.now += wait  # wait it out, then fail again
        sign_in(client, "hanako@example.com", "wrong", "203.0.113.9")
    assert waits == [0, 60, 120, 240, 480, 900]  # doubling up to LOGIN_THROTTLE_MINUTES
    # Even the right password waits its turn at this pair; after the wait it goes through.
    page = sign_in(client, "hanako@example.com", PASSWORD, "203.0.113.9").content.decode()
    assert "15分" in page and not signed_in(client)
    clock.now += 900
    assert sign_in(client, "hanako@example.com", PASSWORD, "203.0.113.9").status_code == 302


def test_failed_sign_ins_are_throttled_per_address_across_accounts(client, settings):
    settings.LOGIN_THROTTLE_PER_ADDRESS = 4
    UserFactory(email="target@example.com")
    for n in range(5):
        sign_in(client, f"guess{n}@example.com", "x", "203.0.113.50")
    response = sign_in(client, "target@example.com", PASSWORD, "203.0.113.50")
    assert "お待ちください" in response.content.decode()
    assert not signed_in(client)
    assert sign_in(client, "target@example.com", PASSWORD, OWNER_ADDRESS).status_code == 302


def test_a_password_reset_clears_the_accounts_sign_in_delays(client, post, settings):
    settings.LOGIN_THROTTLE_PER_PAIR = 2
    UserFactory(email="hanako@example.com")
    for _attempt in range(4):
        sign_in(client, "hanako@example.com", "wrong", OWNER_ADDRESS)
    assert (
        "お待ちください"
        in sign_in(client, "hanako@example.com", PASSWORD, OWNER_ADDRESS).content.decode()
    )

    post(reverse("password_reset"), {"email": "hanako@example.com"})
    form_url = client.get(link_in(mail.outbox[-1])).url
    client.post(
        form_url, {"new_password1": "brand-new-2026-pw", "new_password2": "brand-new-2026-pw"}
    )
    response = sign_in(client, "hanako@example.com", "brand-new-2026-pw", OWNER_ADDRESS)
    assert response.status_code == 302 and signed_in(client)


def test_client_address_comes_from_the_trusted_proxy_header_only_when_configured(client, settings):
    """Behind one proxy every request has the proxy's REMOTE_ADDR: the address it saw is the
    right-most entry of X-Forwarded-For; what the client put to its left is not trusted."""
    settings.LOGIN_THROTTLE_PER_PAIR = 2
    settings.LOGIN_THROTTLE_PER_ADDRESS = 3
    UserFactory(email="hanako@example.com")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.66", **proxy)
    assert throttle.client_address(request) == "10.0.0.2"  # default: REMOTE_ADDR only
    settings.TRUSTED_PROXY_COUNT = 1
    assert throttle.client_address(request) == "203.0.113.66"
    settings.TRUSTED_PROXY_COUNT = 2
    assert throttle.client_address(request) == "198.51.100.1"
    bad = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="not-an-ip", **proxy)
    assert throttle.client_address(bad) == "10.0.0.2"

    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(10):  # an attacker behind the proxy, claiming other addresses to the left
        client.post(
            reverse("login"),
            {"username": f"guess{n}@example.com", "password": "x"},
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.66",
            **proxy,
        )
    response = client.post(
        reverse("login"),
        {"username": "hanako@example.com", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR=f"{OWNER_ADDRESS}",
        **proxy,
    )
    assert response.status_code == 302  # the owner behind the same proxy is not held up


def test_admin_sign_in_is_throttled_too(client, settings):
    settings.LOGIN_THROTTLE_PER_PAIR = 2
    UserFactory(email="staff@example.com", is_staff=True)
    for _attempt in range(3):
        client.post("/admin/login/", {"username": "staff@example.com", "password": "nope"})
    response = client.post("/admin/login/", {"username": "staff@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert not signed_in(client)


def test_sign_up_and_password_reset_requests_are_throttled(client, post, settings):
    settings.ACCOUNT_MAIL_THROTTLE_PER_EMAIL = 2
    settings.ACCOUNT_MAIL_THROTTLE_PER_ADDRESS = 3
    UserFactory(email="hanako@example.com")
    for _attempt in range(2):
        post(reverse("password_reset"), {"email": "hanako@example.com"})
    response = post(reverse("password_reset"), {"email": "hanako@example.com"})
    assert response.status_code == 200 and "しばらく" in response.content.decode()
    assert len(mail.outbox) == 2  # per typed address

    for n in range(3):
        post(
            reverse("signup"),
            {**SIGNUP, "email": f"new{n}@example.com"},
            REMOTE_ADDR="203.0.113.80",
        )
    response = post(
        reverse("signup"), {**SIGNUP, "email": "new9@example.com"}, REMOTE_ADDR="203.0.113.80"
    )
    assert response.status_code == 200 and "しばらく" in response.content.decode()
    assert not get_user_model().objects.filter(email="new9@example.com").exists()


def test_password_reset_sends_a_mail_with_a_working_link(client, post):
    UserFactory(email="hanako@example.com")
    response = post(reverse("password_reset"), {"email": "hanako@example.com"})
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
