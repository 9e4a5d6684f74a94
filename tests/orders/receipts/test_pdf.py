"""The issued receipt's PDF carries what J5 requires, from the order, and 再発行 on reissues."""

import datetime as dt
import re
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from pypdf import PdfReader

from orders.receipts import services as receipts
from orders.receipts.pdf import japanese_date
from tests.helpers.orders import paid_order
from tests.helpers.receipts import (
    requested,
    support_agent,
    worker_runs_tasks,
)

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def order(customer):
    # Paid late in the evening of 31 March in Tokyo: still 31 March on the receipt, not UTC's date.
    return paid_order(
        customer=customer,
        license__product__name_ja="まもり トータルセキュリティ プレミアム",
        term_years=3,
        amount=19800,
        tax=1800,
        paid_at=dt.datetime(2026, 3, 31, 23, 30, tzinfo=TOKYO),
    )


def pdf_text(receipt) -> str:
    with receipt.pdf.open("rb") as file:
        reader = PdfReader(BytesIO(file.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def issue(order):
    receipt = requested(
        order, addressee="株式会社まもり商事", proviso="ソフトウェア利用料 3年分として"
    )
    with worker_runs_tasks():
        receipts.issue_receipt(receipt=receipt, staff=support_agent())
    receipt.refresh_from_db()
    return receipt


def test_j5_issued_pdf_shows_everything_required(order):
    receipt = issue(order)
    text = pdf_text(receipt)
    seller = settings.SELLER
    issued_on = japanese_date(timezone.localdate(receipt.last_issued_at))

    for required in [
        "領収書",
        receipt.number,
        f"発行日 {issued_on}",
        "¥19,800-",
        "(税込)",
        "10%対象",
        "内消費税額",
        "¥1,800",
        "但し ソフトウェア利用料 3年分として",
        "まもり トータルセキュリティ プレミアム 更新ライセンス",
        "3年",
        order.number,
        "2026年3月31日",
        seller["name"],
        f"〒{seller['postal_code']}",
        f"登録番号 {seller['invoice_registration_number']}",
        "収入印紙",
    ]:
        assert required in text, required
    assert re.search(r"株式会社まもり商事\s*様", text)
    assert re.search(r"お支払方法:\s*クレジットカード決済", text)
    assert "再発行" not in text


def test_j5_reissued_pdf_says_reissue_with_its_count_and_keeps_the_number(order):
    receipt = issue(order)
    number = receipt.number

    for note in ["宛名の訂正", "紛失"]:
        with worker_runs_tasks():
            receipts.reissue_receipt(
                receipt=receipt, staff=support_agent("s2@example.com"), note=note
            )
    receipt.refresh_from_db()
    text = pdf_text(receipt)

    assert receipt.number == number
    assert number in text
    assert "再発行 (2回目)" in text
    assert text.count("再発行") == 1
    assert PdfReader(receipt.pdf.path).metadata.title == f"領収書 {number} (再発行 (2回目))"


def test_pdf_is_stored_in_default_storage_under_receipts(order, settings):
    receipt = issue(order)

    assert receipt.pdf.name.startswith(f"receipts/{timezone.now():%Y}/{receipt.number}-1")
    assert receipt.pdf.path.startswith(settings.STORAGES["default"]["OPTIONS"]["location"])
