"""``manage.py seed_demo``: idempotent, complete, refused in production."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from licenses.demo import DEMO_CODES, demo_extra_code
from licenses.models import (
    ActivationCode,
    Device,
    License,
    LicenseEvent,
    Price,
    Product,
    RenewalPath,
    ReserveLicense,
)
from licenses.redemption import CodeRefused, ConfirmationRequired, add_code

pytestmark = pytest.mark.django_db
MODELS = [
    get_user_model(),
    Product,
    Price,
    RenewalPath,
    License,
    Device,
    ActivationCode,
    LicenseEvent,
    ReserveLicense,
]


def snapshot():
    return {model.__name__: sorted(model.objects.values_list("pk", flat=True)) for model in MODELS}


def test_seed_demo_twice_leaves_the_same_rows(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    first = snapshot()
    prices = list(Price.objects.values_list("product__code", "term_years", "kind", "amount"))
    call_command("seed_demo")
    assert snapshot() == first
    assert (
        list(Price.objects.values_list("product__code", "term_years", "kind", "amount")) == prices
    )


def test_seed_demo_is_refused_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refused when DEBUG is off"):
        call_command("seed_demo")
    assert not Product.objects.exists()


def test_demo_accounts_and_licenses_cover_the_cases_of_the_issue(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    users = get_user_model().objects
    demo = users.get(email="demo@example.com")
    assert demo.check_password("demo-pass-2026")
    assert users.get(email="admin@example.com").is_superuser
    support = users.get(email="support@example.com")
    assert support.is_staff and not support.is_superuser
    assert support.groups.filter(name="Support staff").exists()
    assert users.get(email="other@example.com").licenses.exists()

    licenses = {lic.serial: lic for lic in demo.licenses.select_related("product")}
    assert len(licenses) >= 10
    statuses = {lic.status for lic in licenses.values()}
    assert {"active", "expiring_soon", "expired", "lapsed"} <= statuses
    editions = {lic.product.edition for lic in licenses.values()}
    assert {"twin_pack", "three_device", "private", "cloud", "standard"} <= editions
    assert any(lic.product.line == "cloud" and lic.auto_renew for lic in licenses.values())
    assert any(not lic.product.sellable for lic in licenses.values())  # 2011 generation
    platforms = set(Device.objects.filter(license__owner=demo).values_list("platform", flat=True))
    assert {"windows", "mac", "android"} <= platforms
    # Every demo license has its activation code (the guest entry proves possession with it).
    assert all(lic.codes.exists() for lic in licenses.values())


def test_demo_catalog_has_the_T3_matrix_and_the_K2_alternatives(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    targets = {
        source: set(
            RenewalPath.objects.filter(from_product__code=source).values_list(
                "to_product__code", flat=True
            )
        )
        for source in ["cloud", "cloud-ps", "ts-std", "ts-prem", "mp-2013-twin"]
    }
    assert targets["cloud"] == {
        "ts-std-scam",
        "ts-prem-scam",
        "ts-std",
        "ts-prem",
        "cloud",
        "cloud-ps",
    }
    assert targets["cloud-ps"] == {"ts-prem-scam", "ts-prem", "cloud-ps"}
    assert targets["ts-std"] == {"ts-std", "ts-prem"}
    assert targets["ts-prem"] == {"ts-prem"}
    assert targets["mp-2013-twin"] == {"mp-2013-twin", "mp-2013-3dev", "mp-2013-private"}
    assert not Product.objects.get(code="mp-2013-twin").renewable
    # Every sellable renewal target has 1-, 2- and 3-year prices.
    for path in RenewalPath.objects.exclude(to_product__code="mp-2013-twin"):
        terms = set(
            Price.objects.filter(product=path.to_product, kind=path.price_kind).values_list(
                "term_years", flat=True
            )
        )
        assert terms == {1, 2, 3}, path


def test_demo_codes_do_what_the_readme_says(settings):
    """One unredeemed code per case of K5–K8, each added where the table says."""
    settings.DEBUG = True
    call_command("seed_demo")
    outcomes = {}
    for key, _product, _term, serial, device_name, _what in DEMO_CODES:
        license = License.objects.get(serial=serial)
        code = ActivationCode.objects.get(code=demo_extra_code(key))
        assert code.state == ActivationCode.State.ISSUED and code.license is None
        try:
            outcomes[key] = add_code(
                license=license,
                device=license.devices.get(name=device_name),
                code=code.code,
                account="",
                address="",
            ).result
        except ConfirmationRequired as needed:
            outcomes[key] = needed.confirmation.reason
        except CodeRefused as refused:
            outcomes[key] = refused.code
    assert outcomes == {
        "windows-reserve": "reserved",
        "mac-register": "registered",
        "android-replace": "replaces_current_period",
        "two-week-warning": "two_week_warning",
        "other-line": "incompatible_product",
        "old-version": "old_program_version",
        "new-product-expired": "extended",
    }


def test_demo_installations_and_the_mac_switch_day(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    demo = Device.objects.filter(license__owner__email="demo@example.com")
    assert {"windows", "mac", "android"} <= set(demo.values_list("platform", flat=True))
    assert not demo.filter(installation_id="").exists()
    # A Mac code registered the day before: the "Switch now" button shows today (K7).
    reserve = ReserveLicense.objects.get(license__serial="MAMO-DEMO-0012-MACS")
    assert reserve.switch == "manual" and reserve.state == "waiting"
    assert reserve.license.expires_on == timezone.localdate()
    call_command("seed_demo")
    assert ReserveLicense.objects.count() == 1
