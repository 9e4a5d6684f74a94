"""Demo catalog, accounts and licenses for ``manage.py seed_demo`` (idempotent).

The catalog follows the editions of the two source documents under a fictional vendor, "Mamori".
Prices are plausible tax-inclusive yen; they are data, editable in admin like everything here.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from .dates import add_years
from .models import (
    ActivationCode,
    Device,
    License,
    Platform,
    Price,
    PriceKind,
    Product,
    RenewalPath,
)
from .redemption import add_code
from .services import SUPPORT_GROUP, create_license, ensure_staff_groups, issue_activation_code

E = Product.Edition
L = Product.Line
S = Product.PlatformScope

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105  (published demo login, refused when DEBUG is off)
ACCOUNTS = [
    # email, password, last name, first name, is_staff, is_superuser, group
    ("demo@example.com", DEMO_PASSWORD, "山田", "花子", False, False, None),
    ("other@example.com", DEMO_PASSWORD, "佐藤", "健", False, False, None),
    ("admin@example.com", "admin-pass-2026", "管理", "太郎", True, True, None),
    ("support@example.com", "support-pass-2026", "サポート", "一郎", True, False, SUPPORT_GROUP),
]

# code, name_ja, name_en, line, edition, scam, generation, seats, platforms, renewable, sellable
PRODUCTS = [
    ("mp-2013-twin", "まもり マルチプラットフォーム セキュリティ 2013 1年1台ツインパック",
     "Mamori Multi-platform Security 2013, 1 year 1 device twin pack",
     L.MULTI_PLATFORM, E.TWIN_PACK, False, 2013, 2, S.MULTI, False, True),
    ("mp-2013-3dev", "まもり マルチプラットフォーム セキュリティ 2013 3台版",
     "Mamori Multi-platform Security 2013, 3-device edition",
     L.MULTI_PLATFORM, E.THREE_DEVICE, False, 2013, 3, S.MULTI, True, True),
    ("mp-2013-private", "まもり マルチプラットフォーム セキュリティ 2013 プライベート版",
     "Mamori Multi-platform Security 2013, private edition",
     L.MULTI_PLATFORM, E.PRIVATE, False, 2013, None, S.MULTI, True, True),
    ("mp-2012-twin", "まもり マルチプラットフォーム セキュリティ 2012 ツインパック",
     "Mamori Multi-platform Security 2012, twin pack",
     L.MULTI_PLATFORM, E.TWIN_PACK, False, 2012, 2, S.MULTI, False, False),
    ("is-2011", "まもり インターネット セキュリティ 2011",
     "Mamori Internet Security 2011",
     L.INTERNET_SECURITY, E.THREE_DEVICE, False, 2011, 3, S.WINDOWS, True, False),
    ("av-mac-2011", "まもり アンチウイルス for Mac 2011",
     "Mamori Anti-Virus for Mac 2011",
     L.MAC, E.SINGLE, False, 2011, 1, S.MAC, True, False),
    ("cloud", "まもり クラウド", "Mamori Cloud",
     L.CLOUD, E.CLOUD, False, 2026, 3, S.MULTI, True, True),
    ("cloud-ps", "まもり クラウド + デジタルライフサポート プレミアム",
     "Mamori Cloud + Digital Life Support Premium",
     L.CLOUD, E.CLOUD_PREMIUM_SUPPORT, False, 2026, 3, S.MULTI, True, True),
    ("ts-std", "まもり トータルセキュリティ スタンダード", "Mamori Total Security Standard",
     L.TOTAL_SECURITY, E.STANDARD, False, 2026, 3, S.MULTI, True, True),
    ("ts-prem", "まもり トータルセキュリティ プレミアム", "Mamori Total Security Premium",
     L.TOTAL_SECURITY, E.PREMIUM, False, 2026, 5, S.MULTI, True, True),
    ("ts-std-scam", "まもり トータルセキュリティ スタンダード 詐欺ガード1台版付き",
     "Mamori Total Security Standard with 1-device Scam Guard",
     L.TOTAL_SECURITY, E.STANDARD, True, 2026, 3, S.MULTI, True, True),
    ("ts-prem-scam", "まもり トータルセキュリティ プレミアム 詐欺ガード1台版付き",
     "Mamori Total Security Premium with 1-device Scam Guard",
     L.TOTAL_SECURITY, E.PREMIUM, True, 2026, 5, S.MULTI, True, True),
]  # fmt: skip

# product code -> {kind: (1 year, 2 years, 3 years)}; None where the term is not sold.
PRICES = {
    "mp-2013-twin": {PriceKind.NEW: (5980, None, None)},
    "mp-2013-3dev": {PriceKind.NEW: (6980, 12480, 16980), PriceKind.RENEWAL: (5480, 9980, 13480)},
    "mp-2013-private": {
        PriceKind.NEW: (7980, 14280, 19980),
        PriceKind.RENEWAL: (6480, 11780, 15980),
    },
    "cloud": {PriceKind.NEW: (5720, 10450, 13580), PriceKind.RENEWAL: (4790, 8990, 11980)},
    "cloud-ps": {PriceKind.NEW: (7980, 14800, 20800), PriceKind.RENEWAL: (6980, 12980, 17980)},
    "ts-std": {PriceKind.NEW: (6380, 11680, 15980), PriceKind.RENEWAL: (5480, 9980, 13480)},
    "ts-prem": {PriceKind.NEW: (7480, 13780, 18980), PriceKind.RENEWAL: (6480, 11880, 16280)},
    "ts-std-scam": {PriceKind.NEW: (7480, 13880, 19280), PriceKind.RENEWAL: (6580, 12180, 16780)},
    "ts-prem-scam": {PriceKind.NEW: (8580, 15980, 22280), PriceKind.RENEWAL: (7580, 14080, 19580)},
}
PRICES_VALID_FROM = dt.date(2026, 4, 1)

K = RenewalPath.Kind
# from, to, kind, price kind, card only: the T3 matrix, the K2 twin-pack alternatives and the K5
# replacements of legacy generations. Renewals of the scam-guard editions are not in T3; they
# follow the same pattern as the plain editions.
PATHS = [
    ("cloud", "ts-std-scam", K.UPGRADE, PriceKind.RENEWAL, True),
    ("cloud", "ts-prem-scam", K.UPGRADE, PriceKind.RENEWAL, True),
    ("cloud", "ts-std", K.UPGRADE, PriceKind.RENEWAL, True),
    ("cloud", "ts-prem", K.UPGRADE, PriceKind.RENEWAL, True),
    ("cloud", "cloud", K.SAME, PriceKind.RENEWAL, False),
    ("cloud", "cloud-ps", K.UPGRADE, PriceKind.RENEWAL, False),
    ("cloud-ps", "ts-prem-scam", K.UPGRADE, PriceKind.RENEWAL, True),
    ("cloud-ps", "ts-prem", K.UPGRADE, PriceKind.RENEWAL, True),
    ("cloud-ps", "cloud-ps", K.SAME, PriceKind.RENEWAL, False),
    ("ts-std", "ts-std", K.SAME, PriceKind.RENEWAL, False),
    ("ts-std", "ts-prem", K.UPGRADE, PriceKind.RENEWAL, True),
    ("ts-prem", "ts-prem", K.SAME, PriceKind.RENEWAL, False),
    ("ts-std-scam", "ts-std-scam", K.SAME, PriceKind.RENEWAL, False),
    ("ts-std-scam", "ts-prem-scam", K.UPGRADE, PriceKind.RENEWAL, True),
    ("ts-prem-scam", "ts-prem-scam", K.SAME, PriceKind.RENEWAL, False),
    ("mp-2013-twin", "mp-2013-twin", K.SAME, PriceKind.NEW, False),
    ("mp-2013-twin", "mp-2013-3dev", K.CROSSGRADE, PriceKind.RENEWAL, False),
    ("mp-2013-twin", "mp-2013-private", K.CROSSGRADE, PriceKind.RENEWAL, False),
    ("mp-2012-twin", "mp-2013-twin", K.VERSION_UP, PriceKind.NEW, False),
    ("mp-2012-twin", "mp-2013-3dev", K.VERSION_UP, PriceKind.RENEWAL, False),
    ("mp-2012-twin", "mp-2013-private", K.VERSION_UP, PriceKind.RENEWAL, False),
    ("mp-2013-3dev", "mp-2013-3dev", K.SAME, PriceKind.RENEWAL, False),
    ("mp-2013-3dev", "mp-2013-private", K.CROSSGRADE, PriceKind.RENEWAL, False),
    ("mp-2013-private", "mp-2013-private", K.SAME, PriceKind.RENEWAL, False),
    ("mp-2013-private", "mp-2013-3dev", K.CROSSGRADE, PriceKind.RENEWAL, False),
    ("is-2011", "mp-2013-3dev", K.VERSION_UP, PriceKind.RENEWAL, False),
    ("is-2011", "mp-2013-private", K.VERSION_UP, PriceKind.RENEWAL, False),
    ("av-mac-2011", "mp-2013-3dev", K.VERSION_UP, PriceKind.RENEWAL, False),
    ("av-mac-2011", "mp-2013-private", K.VERSION_UP, PriceKind.RENEWAL, False),
]

W, M, A, IOS = Platform.WINDOWS, Platform.MAC, Platform.ANDROID, Platform.IOS
# owner, serial, product, days until expiry (negative: expired), term in years, auto renew,
# devices as (name, platform, generation, version)
LICENSES = [
    ("demo@example.com", "MAMO-DEMO-0001-TWIN", "mp-2013-twin", 10, 1, False,
     [("リビングのPC", W, 2013, "14.0.0.4651"), ("ノートPC", W, 2013, "14.0.0.4651")]),
    ("demo@example.com", "MAMO-DEMO-0002-3DEV", "mp-2013-3dev", 200, 1, False,
     [("デスクトップ", W, 2013, "14.0.0.4651"), ("MacBook", M, 2013, "14.0.1.46"),
      ("スマートフォン", A, 2013, "11.2.4")]),
    ("demo@example.com", "MAMO-DEMO-0003-PRIV", "mp-2013-private", 400, 3, False,
     [("自宅PC", W, 2013, "14.0.0.4651"), ("iPad", IOS, 2013, "3.1"), ("タブレット", A, 2013, "11.2.4")]),
    ("demo@example.com", "MAMO-DEMO-0004-W011", "is-2011", 20, 1, False,
     [("古いPC", W, 2011, "11.0.2.556")]),
    ("demo@example.com", "MAMO-DEMO-0005-MAC1", "mp-2013-3dev", 45, 1, False,
     [("iMac", M, 2013, "14.0.1.46")]),
    ("demo@example.com", "MAMO-DEMO-0006-ANDR", "mp-2013-3dev", 25, 1, False,
     [("Android スマホ", A, 2013, "11.2.4")]),
    ("demo@example.com", "MAMO-DEMO-0007-CLOD", "cloud", 20, 1, True,
     [("仕事用PC", W, 2026, "18.0.1205")]),
    ("demo@example.com", "MAMO-DEMO-0008-TSST", "ts-std", 120, 1, False,
     [("家族のPC", W, 2026, "18.0.1205"), ("iPhone", IOS, 2026, "18.0")]),
    ("demo@example.com", "MAMO-DEMO-0009-EXP3", "cloud-ps", -92, 1, False,
     [("書斎のPC", W, 2026, "18.0.1205")]),
    ("demo@example.com", "MAMO-DEMO-0010-LAPS", "ts-prem", -426, 1, False,
     [("旧ノートPC", W, 2026, "17.7.1130")]),
    ("demo@example.com", "MAMO-DEMO-0011-M011", "av-mac-2011", 40, 1, False,
     [("MacBook Air", M, 2011, "8.0.4.31")]),
    # Expires today with a code registered for its Mac yesterday: the "Switch now" button (K7).
    ("demo@example.com", "MAMO-DEMO-0012-MACS", "mp-2013-3dev", 0, 1, False,
     [("Mac mini", M, 2013, "14.0.1.46")]),
    ("other@example.com", "MAMO-DEMO-0101-OTHR", "cloud", 150, 1, False,
     [("Windows PC", W, 2026, "18.0.1205")]),
    ("other@example.com", "MAMO-DEMO-0102-OTHR", "mp-2013-private", 15, 1, False, []),
    # Bought in a store, not yet in anyone's account: register it with its code from /licenses/.
    (None, "MAMO-SHOP-0001-FREE", "mp-2013-3dev", 330, 1, False, []),
]  # fmt: skip


# Unredeemed codes for the demo customer to add on a license page or through the API (K5–K8):
# key, product, term, the serial and installation to add it to, what it shows.
DEMO_CODES = [
    ("windows-reserve", "mp-2013-3dev", 1, "MAMO-DEMO-0002-3DEV", "デスクトップ",
     "renewal; Windows keeps it as a reserve license (K7)"),
    ("mac-register", "mp-2013-3dev", 1, "MAMO-DEMO-0005-MAC1", "iMac",
     "renewal; Mac registers it, switch on the expiry date (K7)"),
    ("android-replace", "mp-2013-3dev", 1, "MAMO-DEMO-0006-ANDR", "Android スマホ",
     "new package; Android replaces now, days lost, confirmation (K7, K8)"),
    ("two-week-warning", "is-2011", 1, "MAMO-DEMO-0004-W011", "古いPC",
     "new 2011 package; 14 days or more left: the two-week warning (K6)"),
    ("other-line", "cloud", 1, "MAMO-DEMO-0001-TWIN", "リビングのPC",
     "new Cloud package; another product line: refused, says why (K8)"),
    ("old-version", "mp-2013-private", 1, "MAMO-DEMO-0011-M011", "MacBook Air",
     "renewal; the Mac runs a 2011 program: refused, version-up steps (K5)"),
    ("new-product-expired", "ts-prem", 1, "MAMO-DEMO-0009-EXP3", "書斎のPC",
     "new Total Security Premium package on an expired license: extended from today (K8)"),
]  # fmt: skip
# Registered by the demo data itself, the day before the license's expiry date.
PREREGISTERED = {"MAMO-DEMO-0012-MACS": ("mac-switch-today", "mp-2013-3dev", 1, "Mac mini")}


def demo_code(serial: str) -> str:
    """A stable activation code per demo serial, so the README can name them."""
    digest = hashlib.sha256(f"mamori-demo:{serial}".encode()).hexdigest().upper()
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    chars = [alphabet[int(digest[i : i + 2], 16) % len(alphabet)] for i in range(0, 40, 2)]
    return "-".join("".join(chars[i : i + 5]) for i in range(0, 20, 5))


def demo_extra_code(key: str) -> str:
    """The stable code of one of ``DEMO_CODES`` (or ``PREREGISTERED``)."""
    return demo_code(f"code:{key}")


def demo_codes_table() -> str:
    """The unredeemed demo codes, one a line, for the README and ``seed_demo``."""
    return "\n".join(
        f"{demo_extra_code(key)}  {serial} / {device}: {what}"
        for key, _product, _term, serial, device, what in DEMO_CODES
    )


@transaction.atomic
def load_demo_data(*, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    ensure_staff_groups()
    users = _load_accounts()
    products = _load_catalog()
    created = 0
    for owner, serial, code, days, term, auto_renew, devices in LICENSES:
        if License.objects.filter(serial=serial).exists():
            continue
        expires_on = today + dt.timedelta(days=days)
        license = create_license(
            serial=serial,
            product=products[code],
            owner=users.get(owner),
            starts_on=add_years(expires_on, -term),
            expires_on=expires_on,
            auto_renew=auto_renew,
        )
        issue_activation_code(
            code=demo_code(serial), product=products[code], term_years=term, license=license
        )
        Device.objects.bulk_create(
            Device(
                license=license,
                name=name,
                platform=platform,
                program_generation=generation,
                program_version=version,
                installation_id=f"demo-{serial}-{number}",
                last_seen_at=timezone.now() - dt.timedelta(hours=number * 7),
            )
            for number, (name, platform, generation, version) in enumerate(devices, start=1)
        )
        if serial in PREREGISTERED:
            _preregister(license=license, today=today)
        created += 1
    for key, product, term, _serial, _device, _what in DEMO_CODES:
        ActivationCode.objects.get_or_create(
            code=demo_extra_code(key), defaults={"product": products[product], "term_years": term}
        )
    return {"products": len(products), "licenses_created": created}


def _preregister(*, license: License, today: dt.date) -> None:
    """A Mac code registered the day before expiry, so the switch button shows today (K7)."""
    key, product, term, device_name = PREREGISTERED[license.serial]
    issue_activation_code(
        code=demo_extra_code(key), product=Product.objects.get(code=product), term_years=term
    )
    add_code(
        license=license,
        device=license.devices.get(name=device_name),
        code=demo_extra_code(key),
        account="",
        address="",
        today=today - dt.timedelta(days=1),
    )


def _load_accounts() -> dict:
    user_model = get_user_model()
    users = {}
    for email, password, last, first, is_staff, is_superuser, group in ACCOUNTS:
        user, was_created = user_model.objects.get_or_create(
            username=email,
            defaults={
                "email": email,
                "last_name": last,
                "first_name": first,
                "is_staff": is_staff,
                "is_superuser": is_superuser,
            },
        )
        if was_created:
            user.set_password(password)
            user.save(update_fields=["password"])
        if group:
            user.groups.add(Group.objects.get(name=group))
        users[email] = user
    return users


def _load_catalog() -> dict[str, Product]:
    products = {}
    for order, row in enumerate(PRODUCTS):
        code, name_ja, name_en, line, edition, scam, gen, seats, scope, renewable, sellable = row
        products[code], _ = Product.objects.update_or_create(
            code=code,
            defaults={
                "name_ja": name_ja,
                "name_en": name_en,
                "line": line,
                "edition": edition,
                "scam_protection": scam,
                "generation": gen,
                "seat_limit": seats,
                "platform_scope": scope,
                "renewable": renewable,
                "sellable": sellable,
                "sort_order": order * 10,
            },
        )
    for code, kinds in PRICES.items():
        for kind, amounts in kinds.items():
            for term, amount in enumerate(amounts, start=1):
                if amount is None:
                    continue
                Price.objects.update_or_create(
                    product=products[code],
                    term_years=term,
                    kind=kind,
                    valid_from=PRICES_VALID_FROM,
                    defaults={"amount": amount, "valid_until": None},
                )
    for order, (source, target, kind, price_kind, card_only) in enumerate(PATHS):
        RenewalPath.objects.update_or_create(
            from_product=products[source],
            to_product=products[target],
            defaults={
                "kind": kind,
                "price_kind": price_kind,
                "card_only": card_only,
                "sort_order": order,
            },
        )
    return products
