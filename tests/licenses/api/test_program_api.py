"""The installed program's API (DESIGN 6b): activation, the license, adding codes (K4–K8).

Through the real URL stack with Django's test client; the web form's twins of the K tests are
in ``tests/licenses/test_add_code.py``.
"""

import datetime as dt
import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from licenses.dates import add_years
from licenses.installations import hash_token
from licenses.models import ActivationCode, Device, LicenseEvent, Platform, ReserveLicense
from licenses.services import issue_activation_code
from tests.factories import LicenseFactory
from tests.helpers.codes import (
    cloud,
    internet_security_2011,
    license_with,
    multi_platform,
    new_code,
)
from tests.helpers.threads import run_together

pytestmark = pytest.mark.django_db

ACTIVATIONS = "/api/v1/activations/"
LICENSE = "/api/v1/license/"
CODES = "/api/v1/license/codes/"


def post(client, path, data, token=None, **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client.post(path, data, content_type="application/json", **headers)


def get(client, path, token=None, **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Token {token}"
    return client.get(path, **headers)


def owned_code(license) -> str:
    """The code that activated ``license`` (what the program's customer typed at install)."""
    code = new_code(license.product).code
    ActivationCode.objects.filter(code=code).delete()
    issue_activation_code(code=code, product=license.product, term_years=1, license=license)
    return code


def activate(
    client, license, *, device_id="install-1", platform=Platform.WINDOWS, generation=None, **extra
):
    body = {
        "serial": license.serial,
        "activation_code": owned_code(license),
        "device_id": device_id,
        "platform": platform,
        "program_version": "14.0.0.4651",
        "program_generation": generation or license.product.generation,
        **extra,
    }
    response = post(client, ACTIVATIONS, body)
    assert response.status_code == 201, response.json()
    return response.json()["token"]


@pytest.fixture
def api(client):
    return client


def program_on(api, *, days_left, platform=Platform.WINDOWS, product=None, generation=None):
    """A license and the token of an installation on ``platform`` activated on it."""
    license, device = license_with(
        days_left=days_left, platform=platform, product=product, generation=generation
    )
    device.installation_id = f"device-{device.pk}"
    device.save()
    token = activate(
        api,
        license,
        device_id=device.installation_id,
        platform=platform,
        generation=generation,
    )
    return license, token


# --- Activation and the device token ------------------------------------------------------------


def test_activation_records_the_installation_and_returns_a_token_stored_only_as_a_hash(api):
    license = LicenseFactory(product=multi_platform())

    response = post(
        api,
        ACTIVATIONS,
        {
            "serial": license.serial.lower(),
            "activation_code": owned_code(license).replace("-", "").lower(),
            "device_id": "0f9c-desktop",
            "device_name": "書斎のPC",
            "platform": "windows",
            "program_version": "14.0.0.4651",
            "program_generation": 2013,
        },
    )

    assert response.status_code == 201
    body = response.json()
    device = Device.objects.get(license=license, installation_id="0f9c-desktop")
    assert (device.name, device.platform, device.program_version) == (
        "書斎のPC",
        "windows",
        "14.0.0.4651",
    )
    assert device.last_seen_at is not None
    assert device.token_hash == hash_token(body["token"]) != body["token"]
    assert not Device.objects.filter(token_hash=body["token"]).exists()
    assert body["license"]["serial"] == license.serial
    assert body["installation"]["device_id"] == "0f9c-desktop"


def test_activating_the_same_installation_again_updates_it_and_replaces_the_token(api):
    license = LicenseFactory(product=multi_platform())
    old = activate(api, license, device_id="same")
    new = activate(api, license, device_id="same", platform=Platform.WINDOWS)

    assert Device.objects.filter(license=license, installation_id="same").count() == 1
    assert get(api, LICENSE, old).status_code == 401
    assert get(api, LICENSE, new).status_code == 200


def test_a_wrong_serial_and_a_wrong_code_get_the_same_answer(api):
    license = LicenseFactory(product=multi_platform())
    code = owned_code(license)
    base = {"device_id": "x", "platform": "mac", "program_version": "1", "program_generation": 2013}

    wrong_serial = post(
        api, ACTIVATIONS, {**base, "serial": "MAMO-NONE-0000-0000", "activation_code": code}
    )
    wrong_code = post(
        api,
        ACTIVATIONS,
        {**base, "serial": license.serial, "activation_code": "22222-22222-22222-22222"},
    )
    other = LicenseFactory()
    others_code = post(api, ACTIVATIONS, {**base, "serial": other.serial, "activation_code": code})

    answers = [r.json() for r in (wrong_serial, wrong_code, others_code)]
    assert {r.status_code for r in (wrong_serial, wrong_code, others_code)} == {400}
    assert {a["code"] for a in answers} == {"invalid_serial_or_code"}
    assert len({a["detail"] for a in answers}) == 1
    assert not Device.objects.exists()


# --- The license --------------------------------------------------------------------------------


def test_the_license_has_product_expiry_status_days_left_reserve_auto_renewal_and_renew_url(api):
    license, token = program_on(api, days_left=40)
    license.auto_renew = True
    license.save()
    post(api, CODES, {"activation_code": new_code(term_years=2).code}, token)  # Windows: reserve

    body = get(api, LICENSE, token, HTTP_ACCEPT_LANGUAGE="en").json()

    assert body["serial"] == license.serial
    assert body["product"] == {
        "code": license.product.code,
        "name": license.product.name_en,
        "generation": 2013,
    }
    assert body["expires_on"] == license.expires_on.isoformat()
    assert (body["status"], body["days_left"], body["automatic_renewal"]) == ("active", 40, True)
    assert body["reserve_license"]["switch"] == "automatic"
    assert body["reserve_license"]["term_years"] == 2
    assert body["reserve_license"]["switch_on"] == license.expires_on.isoformat()
    assert body["renew_url"] == f"http://127.0.0.1:8000/en/renew/?serial={license.serial}"


def test_the_renew_url_opens_entry_T2a_for_that_license(api):
    license, token = program_on(api, days_left=40)
    url = get(api, LICENSE, token).json()["renew_url"]

    page = api.get(url.removeprefix("http://127.0.0.1:8000"))

    assert page.status_code == 200
    assert f'value="{license.serial}"' in page.content.decode()


def test_api_tokens_are_scoped_to_their_license(api):
    license, token = program_on(api, days_left=40)
    other = LicenseFactory()

    own = get(api, f"/api/v1/licenses/{license.serial}/", token)
    another = get(api, f"/api/v1/licenses/{other.serial}/", token)
    missing = get(api, "/api/v1/licenses/MAMO-NONE-0000-0000/", token)

    assert own.status_code == 200 and own.json()["serial"] == license.serial
    assert another.status_code == missing.status_code == 404
    assert (
        another.json()
        == missing.json()
        == {"code": "not_found", "detail": missing.json()["detail"]}
    )


def test_every_call_records_the_installations_last_seen_time_and_version(api):
    license, token = program_on(api, days_left=40)
    device = Device.objects.get(license=license)
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - dt.timedelta(days=3))

    get(api, LICENSE, token, HTTP_X_PROGRAM_VERSION="14.0.1.2000", HTTP_X_PROGRAM_GENERATION="2013")

    device.refresh_from_db()
    assert device.program_version == "14.0.1.2000"
    assert timezone.now() - device.last_seen_at < dt.timedelta(minutes=1)
    assert get(api, LICENSE, token, HTTP_X_PROGRAM_GENERATION="eleven").json()["code"] == "invalid"


# --- K4–K8 through the API ----------------------------------------------------------------------


def test_K4_api_malformed_and_unknown_codes(api):
    _license, token = program_on(api, days_left=40)

    malformed = post(api, CODES, {"activation_code": "01234-56789"}, token)
    unknown = post(api, CODES, {"activation_code": "８８８８８-ＢＢＢＢＢ-11111-IIIII"}, token)

    assert malformed.status_code == 400
    assert malformed.json()["code"] == "invalid"
    assert malformed.json()["errors"]["activation_code"][0]["code"] == "malformed_activation_code"
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "invalid_activation_code"
    assert len(unknown.json()["hints"]) == 2  # 8/B and 1/I


def test_K4_api_code_failures_are_throttled(api, settings):
    settings.CODE_THROTTLE_PER_ACCOUNT = 3
    _license, token = program_on(api, days_left=40)
    for n in range(3):
        post(api, CODES, {"activation_code": f"QQQQQ-QQQQQ-QQQQQ-QQQQ{n}"}, token)

    blocked = post(api, CODES, {"activation_code": new_code().code}, token)

    assert blocked.status_code == 429 and blocked.json()["code"] == "throttled"


def test_K5_api_refuses_an_old_version_with_the_version_up_steps(api):
    _license, token = program_on(
        api, days_left=40, product=internet_security_2011(), generation=2011
    )

    response = post(api, CODES, {"activation_code": new_code(multi_platform()).code}, token)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "old_program_version"
    assert len(body["version_up_steps"]) == 5
    # After the version-up the program reports its new generation, and the same code is added.
    retry = post(
        api,
        CODES,
        {"activation_code": ActivationCode.objects.filter(state="issued").get().code},
        token,
        HTTP_X_PROGRAM_VERSION="14.0.0.4651",
        HTTP_X_PROGRAM_GENERATION="2013",
    )
    assert retry.status_code == 201, retry.json()


def test_K6_api_warns_at_14_days_left(api):
    license, token = program_on(
        api, days_left=14, product=internet_security_2011(), generation=2011
    )
    code = new_code(internet_security_2011())

    asked = post(api, CODES, {"activation_code": code.code}, token)

    assert asked.status_code == 409
    body = asked.json()
    assert (body["code"], body["reason"]) == ("confirmation_required", "two_week_warning")
    assert (body["days_left"], body["days_lost"]) == (14, 13)
    assert body["come_back_on"] == (license.expires_on - dt.timedelta(days=12)).isoformat()
    assert body["advice"]
    confirmed = post(api, CODES, {"activation_code": code.code, "confirm": True}, token)
    assert confirmed.status_code == 201
    assert confirmed.json()["result"] == "replaced" and confirmed.json()["days_lost"] == 13


def test_K6_api_does_not_warn_at_13_days_left(api):
    _license, token = program_on(
        api, days_left=13, product=internet_security_2011(), generation=2011
    )

    response = post(api, CODES, {"activation_code": new_code(internet_security_2011()).code}, token)

    assert response.status_code == 201
    assert response.json()["result"] == "reserved"


def test_K7_api_windows_keeps_a_reserve_license(api):
    license, token = program_on(api, days_left=90, platform=Platform.WINDOWS)

    response = post(api, CODES, {"activation_code": new_code().code}, token)

    assert response.status_code == 201
    assert response.json()["result"] == "reserved"
    assert response.json()["license"]["expires_on"] == license.expires_on.isoformat()
    assert response.json()["license"]["reserve_license"]["switch"] == "automatic"


def test_K7_api_mac_registers_and_can_switch_from_the_expiry_date(api):
    license, token = program_on(api, days_left=90, platform=Platform.MAC)

    response = post(api, CODES, {"activation_code": new_code().code}, token)

    assert response.json()["result"] == "registered"
    reserve = response.json()["license"]["reserve_license"]
    assert reserve["switch"] == "manual" and reserve["can_switch_now"] is False
    type(license).objects.filter(pk=license.pk).update(expires_on=timezone.localdate())
    assert get(api, LICENSE, token).json()["reserve_license"]["can_switch_now"] is True


def test_K7_api_android_needs_confirmation_with_the_days_lost(api):
    license, token = program_on(api, days_left=25, platform=Platform.ANDROID)
    expires_on = license.expires_on
    code = new_code()

    asked = post(api, CODES, {"activation_code": code.code}, token)
    assert asked.status_code == 409
    assert asked.json()["reason"] == "replaces_current_period"
    assert asked.json()["days_lost"] == 24
    assert asked.json()["come_back_on"] == expires_on.isoformat()
    license.refresh_from_db()
    assert license.expires_on == expires_on

    confirmed = post(api, CODES, {"activation_code": code.code, "confirm": True}, token)
    assert confirmed.status_code == 201
    assert (
        confirmed.json()["license"]["expires_on"] == add_years(timezone.localdate(), 1).isoformat()
    )


def test_K8_api_a_new_products_code_extends_and_another_line_is_refused(api):
    license, token = program_on(api, days_left=1)
    expires_on = license.expires_on

    other_line = post(api, CODES, {"activation_code": new_code(cloud()).code}, token)
    same_line = post(api, CODES, {"activation_code": new_code(term_years=3).code}, token)

    assert other_line.status_code == 422 and other_line.json()["code"] == "incompatible_product"
    assert same_line.status_code == 201 and same_line.json()["result"] == "extended"
    assert same_line.json()["license"]["expires_on"] == add_years(expires_on, 3).isoformat()
    event = LicenseEvent.objects.get(license=license, kind="code_added")
    assert (
        event.activation_code.code
        == ActivationCode.objects.get(state="redeemed", term_years=3).code
    )


def test_api_already_added_code(api):
    _license, token = program_on(api, days_left=1)
    code = new_code()
    post(api, CODES, {"activation_code": code.code}, token)

    again = post(api, CODES, {"activation_code": code.code}, token)

    assert again.status_code == 422 and again.json()["code"] == "already_added"


@pytest.mark.django_db(transaction=True)
def test_one_code_from_two_devices_at_once_is_added_once():
    setup = Client()
    _first, first_token = program_on(setup, days_left=90)
    _second, second_token = program_on(setup, days_left=90)
    code = new_code()
    statuses, _errors = run_together(
        *[
            lambda token=token: (
                post(Client(), CODES, {"activation_code": code.code}, token).status_code
            )
            for token in (first_token, second_token)
        ]
    )

    assert sorted(statuses) == [201, 400]
    assert ReserveLicense.objects.filter(activation_code=code).count() == 1


# --- Errors, throttles, authentication ----------------------------------------------------------


def test_api_errors_are_json_with_a_stable_code(api):
    _license, token = program_on(api, days_left=40)

    cases = {
        "not_found": get(api, "/api/v1/nothing/", token),
        "not_found_version": get(api, "/api/v2/license/", token),
        "method_not_allowed": api.delete(LICENSE, HTTP_AUTHORIZATION=f"Token {token}"),
        "parse_error": post(api, CODES, "{not json", token),
        "unsupported_media_type": api.post(
            CODES,
            "activation_code=x",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=f"Token {token}",
        ),
        "not_authenticated": get(api, LICENSE),
        "authentication_failed": get(api, LICENSE, "not-a-token"),
        "invalid": post(api, CODES, {}, token),
    }

    expected_status = {
        "not_found": 404,
        "not_found_version": 404,
        "method_not_allowed": 405,
        "parse_error": 400,
        "unsupported_media_type": 415,
        "not_authenticated": 401,
        "authentication_failed": 401,
        "invalid": 400,
    }
    for name, response in cases.items():
        assert response.status_code == expected_status[name], name
        assert response["Content-Type"] == "application/json", name
        body = response.json()
        assert body["code"] == name.removesuffix("_version"), (name, body)
        assert body["detail"], name
    assert cases["not_authenticated"]["WWW-Authenticate"] == "Token"
    assert cases["invalid"].json()["errors"]["activation_code"][0]["code"] == "required"


def test_api_answers_in_the_language_the_program_asks_for(api):
    assert "API" in get(api, "/api/v1/nothing/", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert (
        "エンドポイント" in get(api, "/api/v1/nothing/", HTTP_ACCEPT_LANGUAGE="ja").json()["detail"]
    )


def test_api_is_throttled_per_token(api, settings):
    settings.API_THROTTLE_RATES = {"token": "3/minute", "address": "100/minute"}
    _license, token = program_on(api, days_left=40)
    _other, other_token = program_on(api, days_left=40)

    statuses = [get(api, LICENSE, token).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    throttled = get(api, LICENSE, token)
    assert throttled.json()["code"] == "throttled" and throttled.json()["retry_after"] > 0
    assert int(throttled["Retry-After"]) > 0
    assert get(api, LICENSE, other_token).status_code == 200  # another installation


def test_api_is_throttled_per_address(api, settings):
    settings.API_THROTTLE_RATES = {"token": "100/minute", "address": "4/minute"}
    license = LicenseFactory(product=multi_platform())
    code = owned_code(license)
    body = {
        "serial": license.serial,
        "activation_code": code,
        "device_id": "d",
        "platform": "windows",
        "program_version": "1",
        "program_generation": 2013,
    }

    statuses = [post(api, ACTIVATIONS, body).status_code for _ in range(5)]
    elsewhere = post(api, ACTIVATIONS, body, REMOTE_ADDR="192.0.2.7")

    assert statuses == [201, 201, 201, 201, 429]
    assert elsewhere.status_code == 201


def test_api_needs_no_csrf_token_and_a_shop_session_opens_nothing(customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer)
    license, _device = license_with(days_left=40, owner=customer)

    by_session = browser.get(LICENSE)
    activation = post(
        browser,
        ACTIVATIONS,
        {
            "serial": license.serial,
            "activation_code": owned_code(license),
            "device_id": "d",
            "platform": "windows",
            "program_version": "1",
            "program_generation": 2013,
        },
    )

    assert by_session.status_code == 401
    assert activation.status_code == 201  # no CSRF token needed: nothing rides on cookies here


# --- Schema and docs ----------------------------------------------------------------------------


def test_api_schema_is_generated_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = target.read_text()
    for path in ("/api/v1/activations/", "/api/v1/license/", "/api/v1/license/codes/"):
        assert f"{path}:" in schema


def test_api_schema_is_served(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/v1/license/codes/" in response.json()["paths"]
    assert "DeviceToken" in response.json()["components"]["securitySchemes"]


def test_api_docs_page_and_its_assets_are_served_from_this_site(api):
    page = api.get("/api/docs/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 4
    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")), asset
        else:
            script = api.get(asset.replace("&amp;", "&"))
            assert script.status_code == 200 and "/api/schema/" in script.content.decode()
