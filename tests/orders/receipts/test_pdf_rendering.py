"""The receipt PDF carries everything J5 requires, and says 再発行 only on reissues.

Text is read back with pypdf, which decodes ReportLab's CID fonts (UniJIS-UCS2-H) without extra tools.
"""

import dataclasses
import re
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader

from orders.receipts.pdf import (
    ReceiptData,
    ReceiptLine,
    Seller,
    render_receipt_pdf,
)

SELLER = Seller(
    name="株式会社まもりソフト (テスト)",
    postal_code="100-0001",
    address="東京都千代田区千代田1-1 まもりビル 5F",
    phone="03-0000-0000",
    registration_number="T1234567890123",
)


def make_receipt(**changes) -> ReceiptData:
    receipt = ReceiptData(
        number="R-2026-000123",
        issued_on=date(2026, 4, 1),
        addressee="山田 花子",
        amount=12345,
        tax=1122,
        proviso="まもり クラウド 1年 更新ライセンス代として",
        order_number="ORD-2026-004567",
        paid_on=date(2026, 3, 28),
        lines=(ReceiptLine("まもり クラウド 更新ライセンス", "1年", 12345),),
        seller=SELLER,
        tax_rate=10,
    )
    return dataclasses.replace(receipt, **changes)


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def original_text() -> str:
    return pdf_text(render_receipt_pdf(make_receipt()))


@pytest.mark.parametrize(
    "required",
    [
        "領収書",
        "R-2026-000123",
        "2026年4月1日",
        "¥12,345-",
        "(税込)",
        "10%対象",
        "内消費税額",
        "¥1,122",
        "但し まもり クラウド 1年 更新ライセンス代として",
        "上記正に領収いたしました",
        "クレジットカード",
        "2026年3月28日",
        "ORD-2026-004567",
        "株式会社まもりソフト (テスト)",
        "〒100-0001",
        "東京都千代田区千代田1-1 まもりビル 5F",
        "登録番号 T1234567890123",
        "収入印紙",
    ],
)
def test_receipt_shows_what_j5_requires(original_text, required):
    assert required in original_text


def test_receipt_names_the_addressee_with_sama(original_text):
    assert re.search(r"山田 花子\s*様", original_text)


def test_receipt_names_the_payment_method_and_date_together(original_text):
    assert re.search(r"お支払方法:\s*クレジットカード決済", original_text)
    assert re.search(r"お支払日:\s*2026年3月28日", original_text)


def test_original_receipt_does_not_say_reissue(original_text):
    assert "再発行" not in original_text


def test_reissue_says_reissue_with_its_count():
    text = pdf_text(render_receipt_pdf(make_receipt(reissue_count=2)))

    assert "再発行 (2回目)" in text
    assert text.count("再発行") == 1


def test_large_amounts_use_thousands_separators():
    line = ReceiptLine("まもり トータルセキュリティ プレミアム 3年", "3年", 1234567)
    text = pdf_text(render_receipt_pdf(make_receipt(amount=1234567, tax=112233, lines=(line,))))

    assert "¥1,234,567-" in text
    assert "¥112,233" in text


def test_receipt_is_one_a4_portrait_page_titled_by_number_and_authored_by_seller():
    reader = PdfReader(BytesIO(render_receipt_pdf(make_receipt(reissue_count=1))))

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert reader.metadata.title == "領収書 R-2026-000123 (再発行 (1回目))"
    assert reader.metadata.author == "株式会社まもりソフト (テスト)"


def test_original_title_metadata_does_not_say_reissue():
    reader = PdfReader(BytesIO(render_receipt_pdf(make_receipt())))

    assert reader.metadata.title == "領収書 R-2026-000123"


@pytest.mark.parametrize(
    "number", ["1234567890123", "T123456789012", "T12345678901234", "TABCDEFGHIJKLM"]
)
def test_registration_number_must_be_t_and_13_digits(number):
    with pytest.raises(ValueError, match="registration number"):
        make_receipt(seller=dataclasses.replace(SELLER, registration_number=number))


def test_item_lines_must_add_up_to_the_amount():
    with pytest.raises(ValueError, match="add up"):
        make_receipt(amount=20000)


def test_tax_must_be_contained_in_the_amount():
    with pytest.raises(ValueError, match="tax"):
        make_receipt(tax=20000)
