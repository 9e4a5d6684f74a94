"""Render a receipt (領収書) as an A4 PDF (J5, design section 7).

The renderer takes plain values only, so the receipts feature decides what goes on a receipt and this
module only decides how it looks. It uses ReportLab's built-in Japanese CID fonts: the PDF viewer
supplies the glyphs, so no font files ship with the project.
"""

import re
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import NamedTuple

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

MINCHO = "HeiseiMin-W3"
GOTHIC = "HeiseiKakuGo-W5"

REGISTRATION_NUMBER = re.compile(r"T\d{13}")
MAX_LINES = 6
"""One page holds this many item lines; a renewal order has one."""

PAGE_WIDTH = A4[0]
LEFT = 20 * mm
RIGHT = PAGE_WIDTH - 20 * mm
INK = colors.HexColor("#222222")
RULE = colors.HexColor("#888888")
SHADE = colors.HexColor("#eeeeee")
REISSUE_RED = colors.HexColor("#c0392b")

STAMP_NOTE = ("クレジットカード", "でのお支払いにつき", "収入印紙の貼付は", "不要です")

ITEM_COLUMNS = (
    ("品目", 95 * mm, "left"),
    ("期間", 40 * mm, "center"),
    ("金額 (税込)", 35 * mm, "right"),
)
TAX_COLUMNS = (
    ("税率区分", 30 * mm, "center"),
    ("税込金額", 35 * mm, "right"),
    ("内消費税額", 35 * mm, "right"),
)
"""Table columns as (heading, width, alignment); both tables end at the right margin."""


class ReceiptLine(NamedTuple):
    """One bought item: what, for which period, and its tax-inclusive price in yen."""

    description: str
    term: str
    amount: int


@dataclass(frozen=True, kw_only=True)
class Seller:
    """The issuer as J5 requires it: name, address and qualified-invoice registration number."""

    name: str
    postal_code: str
    address: str
    phone: str
    registration_number: str


@dataclass(frozen=True, kw_only=True)
class ReceiptData:
    """Everything printed on one receipt; amounts are yen, tax included (J1)."""

    number: str
    issued_on: date
    addressee: str
    amount: int
    tax: int
    proviso: str
    order_number: str
    paid_on: date
    lines: tuple[ReceiptLine, ...]
    seller: Seller
    tax_rate: int
    payment_method: str = "クレジットカード決済"
    reissue_count: int = 0

    def __post_init__(self) -> None:
        """Refuse data that would print a receipt that is wrong on its face."""
        if not REGISTRATION_NUMBER.fullmatch(self.seller.registration_number):
            raise ValueError("The registration number must be T followed by 13 digits.")
        if self.amount < 0 or not 0 <= self.tax <= self.amount:
            raise ValueError("The tax must be part of a non-negative amount.")
        if not 1 <= len(self.lines) <= MAX_LINES:
            raise ValueError(f"A receipt holds 1 to {MAX_LINES} item lines.")
        if sum(line.amount for line in self.lines) != self.amount:
            raise ValueError("The item lines must add up to the amount.")
        if self.reissue_count < 0:
            raise ValueError("The reissue count cannot be negative.")

    @property
    def reissue_label(self) -> str:
        """「再発行 (n回目)」 on reissues, empty on the original."""
        return f"再発行 ({self.reissue_count}回目)" if self.reissue_count else ""


def yen(amount: int) -> str:
    """¥ with thousands separators, the way amounts appear in tables."""
    return f"¥{amount:,}"


def japanese_date(day: date) -> str:
    """2026年4月1日: the date form a Japanese receipt uses."""
    return f"{day.year}年{day.month}月{day.day}日"


def render_receipt_pdf(data: ReceiptData) -> bytes:
    """Draw the receipt on one A4 page and return the PDF bytes."""
    _register_fonts()
    buffer = BytesIO()
    pdf = Canvas(buffer, pagesize=A4)
    title = f"領収書 {data.number}"
    if data.reissue_count:
        title += f" ({data.reissue_label})"
    pdf.setTitle(title)
    pdf.setAuthor(data.seller.name)
    pdf.setSubject(f"ご注文番号 {data.order_number}")
    pdf.setCreator(data.seller.name)
    pdf.setFillColor(INK)
    pdf.setStrokeColor(INK)

    _draw_header(pdf, data)
    _draw_addressee(pdf, data)
    _draw_amount(pdf, data)
    items_bottom = _draw_items(pdf, data, top=162 * mm)
    details_top = items_bottom - 10 * mm
    _draw_payment(pdf, data, top=details_top)
    details_bottom = _draw_tax_breakdown(pdf, data, top=details_top)
    _draw_seller(pdf, data.seller, top=details_bottom - 22 * mm)
    _draw_stamp_note(pdf, top=details_bottom - 18 * mm)

    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _register_fonts() -> None:
    """Register the CID fonts once per process; registering again would only waste time."""
    registered = pdfmetrics.getRegisteredFontNames()
    for name in (MINCHO, GOTHIC):
        if name not in registered:
            pdfmetrics.registerFont(UnicodeCIDFont(name))


def _fit(text: str, font: str, size: float, width: float) -> float:
    """The largest font size up to ``size`` at which ``text`` fits in ``width``."""
    natural = pdfmetrics.stringWidth(text, font, size)
    return size if natural <= width else size * width / natural


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width``, by character, as Japanese has no spaces."""
    lines = [""]
    for char in text:
        if lines[-1] and pdfmetrics.stringWidth(lines[-1] + char, font, size) > width:
            lines.append("")
        lines[-1] += char
    return [line.strip() for line in lines if line.strip()]


def _draw_header(pdf: Canvas, data: ReceiptData) -> None:
    """Number and issue date top right, the title centred, and the reissue mark beside it."""
    pdf.setFont(GOTHIC, 9.5)
    pdf.drawRightString(RIGHT, 280 * mm, f"No. {data.number}")
    pdf.drawRightString(RIGHT, 274.5 * mm, f"発行日 {japanese_date(data.issued_on)}")

    title_y = 252 * mm
    spacing = 12
    title_width = pdfmetrics.stringWidth("領収書", MINCHO, 30) + 2 * spacing
    # Character spacing is graphics state in PDF and would spread every later string too.
    pdf.saveState()
    text = pdf.beginText((PAGE_WIDTH - title_width) / 2, title_y)
    text.setFont(MINCHO, 30)
    text.setCharSpace(spacing)
    text.textOut("領収書")
    pdf.drawText(text)
    pdf.restoreState()
    pdf.setLineWidth(0.8)
    half = title_width / 2 + 14 * mm
    pdf.line(PAGE_WIDTH / 2 - half, title_y - 4 * mm, PAGE_WIDTH / 2 + half, title_y - 4 * mm)
    pdf.setLineWidth(0.3)
    pdf.line(PAGE_WIDTH / 2 - half, title_y - 5 * mm, PAGE_WIDTH / 2 + half, title_y - 5 * mm)

    if data.reissue_count:
        _draw_reissue_mark(pdf, data.reissue_label, x=PAGE_WIDTH / 2 + half + 6 * mm, y=title_y)


def _draw_reissue_mark(pdf: Canvas, label: str, *, x: float, y: float) -> None:
    """A red framed mark, so a reissue is told from the original at a glance."""
    pdf.saveState()
    pdf.setFont(GOTHIC, 11)
    width = pdfmetrics.stringWidth(label, GOTHIC, 11) + 6 * mm
    pdf.setStrokeColor(REISSUE_RED)
    pdf.setFillColor(REISSUE_RED)
    pdf.setLineWidth(1.2)
    pdf.roundRect(x, y - 2.5 * mm, width, 9 * mm, 1.5 * mm, stroke=1, fill=0)
    pdf.drawString(x + 3 * mm, y, label)
    pdf.restoreState()


def _draw_addressee(pdf: Canvas, data: ReceiptData) -> None:
    """The addressee top left, followed by 様 and underlined across the left half."""
    baseline = 226 * mm
    line_end = LEFT + 105 * mm
    honorific_width = pdfmetrics.stringWidth("様", MINCHO, 16)
    size = _fit(data.addressee, MINCHO, 16, line_end - LEFT - honorific_width - 6 * mm)
    pdf.setFont(MINCHO, size)
    pdf.drawString(LEFT + 2 * mm, baseline, data.addressee)
    pdf.setFont(MINCHO, 16)
    pdf.drawRightString(line_end - 1 * mm, baseline, "様")
    pdf.setLineWidth(0.8)
    pdf.line(LEFT, baseline - 2.5 * mm, line_end, baseline - 2.5 * mm)


def _draw_amount(pdf: Canvas, data: ReceiptData) -> None:
    """The boxed total, the proviso (但し書き) and the words of receipt below it."""
    box_left, box_right = LEFT + 15 * mm, RIGHT - 15 * mm
    box_bottom, box_height = 194 * mm, 18 * mm
    pdf.setFillColor(SHADE)
    pdf.setLineWidth(1.2)
    pdf.rect(box_left, box_bottom, box_right - box_left, box_height, stroke=1, fill=1)
    pdf.setFillColor(INK)

    baseline = box_bottom + 6 * mm
    pdf.setFont(GOTHIC, 11)
    pdf.drawString(box_left + 6 * mm, baseline + 1 * mm, "金額")
    amount_text = f"{yen(data.amount)}-"
    amount_width = pdfmetrics.stringWidth(amount_text, GOTHIC, 24)
    note_width = pdfmetrics.stringWidth("(税込)", GOTHIC, 11)
    start = (PAGE_WIDTH - amount_width - note_width - 3 * mm) / 2
    pdf.setFont(GOTHIC, 24)
    pdf.drawString(start, baseline, amount_text)
    pdf.setFont(GOTHIC, 11)
    pdf.drawString(start + amount_width + 3 * mm, baseline + 1 * mm, "(税込)")

    proviso = f"但し {data.proviso}"
    pdf.setFont(MINCHO, _fit(proviso, MINCHO, 11.5, box_right - box_left))
    pdf.drawString(box_left, 184 * mm, proviso)
    pdf.setFont(MINCHO, 11.5)
    pdf.drawString(box_left, 177 * mm, "上記正に領収いたしました。")


def _draw_table(
    pdf: Canvas,
    *,
    top: float,
    columns: tuple[tuple[str, float, str], ...],
    rows: list[list[str]],
) -> float:
    """A ruled table with a shaded header; columns are (heading, width, align). Returns its bottom."""
    row_height = 7.5 * mm
    total_width = sum(width for _, width, _ in columns)
    left = RIGHT - total_width
    pdf.setFillColor(SHADE)
    pdf.rect(left, top - row_height, total_width, row_height, stroke=0, fill=1)
    pdf.setFillColor(INK)

    padding = 2.5 * mm
    for index, cells in enumerate([[heading for heading, _, _ in columns], *rows]):
        baseline = top - (index + 1) * row_height + 2.4 * mm
        x = left
        for text, (_, width, align) in zip(cells, columns, strict=True):
            pdf.setFont(GOTHIC, _fit(text, GOTHIC, 9 if index == 0 else 10, width - 2 * padding))
            if index == 0 or align == "center":
                pdf.drawCentredString(x + width / 2, baseline, text)
            elif align == "right":
                pdf.drawRightString(x + width - padding, baseline, text)
            else:
                pdf.drawString(x + padding, baseline, text)
            x += width

    bottom = top - (len(rows) + 1) * row_height
    pdf.setStrokeColor(RULE)
    pdf.setLineWidth(0.5)
    for index in range(len(rows) + 2):
        y = top - index * row_height
        pdf.line(left, y, RIGHT, y)
    x = left
    for _, width, _ in columns:
        pdf.line(x, top, x, bottom)
        x += width
    pdf.line(RIGHT, top, RIGHT, bottom)
    pdf.setStrokeColor(INK)
    return bottom


def _draw_items(pdf: Canvas, data: ReceiptData, *, top: float) -> float:
    """What was bought (J5), one row per item line."""
    pdf.setFont(GOTHIC, 10)
    pdf.drawString(LEFT, top + 2.5 * mm, "内訳")
    return _draw_table(
        pdf,
        top=top,
        columns=ITEM_COLUMNS,
        rows=[[line.description, line.term, yen(line.amount)] for line in data.lines],
    )


def _draw_tax_breakdown(pdf: Canvas, data: ReceiptData, *, top: float) -> float:
    """The tax-inclusive amount per rate and the tax contained in it, as a qualified invoice needs."""
    return _draw_table(
        pdf,
        top=top,
        columns=TAX_COLUMNS,
        rows=[[f"{data.tax_rate}%対象", yen(data.amount), yen(data.tax)]],
    )


def _draw_payment(pdf: Canvas, data: ReceiptData, *, top: float) -> None:
    """How and when the customer paid, and which order the receipt is for, left of the tax table."""
    rows = [
        ("お支払方法", data.payment_method),
        ("お支払日", japanese_date(data.paid_on)),
        ("ご注文番号", data.order_number),
    ]
    value_left = LEFT + 24 * mm
    tax_table_left = RIGHT - sum(width for _, width, _ in TAX_COLUMNS)
    value_width = tax_table_left - 4 * mm - value_left
    for index, (label, value) in enumerate(rows):
        y = top - 5.2 * mm - index * 6.5 * mm
        pdf.setFont(GOTHIC, 10)
        pdf.drawString(LEFT, y, f"{label}:")
        pdf.setFont(GOTHIC, _fit(value, GOTHIC, 10, value_width))
        pdf.drawString(value_left, y, value)


def _draw_seller(pdf: Canvas, seller: Seller, *, top: float) -> None:
    """The issuer bottom right, with its qualified-invoice registration number (J5)."""
    left = RIGHT - 82 * mm
    width = RIGHT - left
    pdf.setFont(MINCHO, _fit(seller.name, MINCHO, 13, width))
    pdf.drawString(left, top, seller.name)
    pdf.setLineWidth(0.5)
    pdf.setStrokeColor(RULE)
    pdf.line(left, top - 2.5 * mm, RIGHT, top - 2.5 * mm)
    pdf.setStrokeColor(INK)
    lines = [
        f"〒{seller.postal_code}",
        *_wrap(seller.address, MINCHO, 9.5, width),
        f"TEL {seller.phone}",
        f"登録番号 {seller.registration_number}",
    ]
    for index, line in enumerate(lines):
        pdf.setFont(MINCHO, _fit(line, MINCHO, 9.5, width))
        pdf.drawString(left, top - (8 + index * 5.2) * mm, line)


def _draw_stamp_note(pdf: Canvas, *, top: float) -> None:
    """Where a revenue stamp would go, say that none is needed.

    A receipt stating payment by credit card is not a receipt for money (印紙税法 別表第一 第17号文書),
    so no stamp duty is due whatever the amount (国税庁 質疑応答事例「クレジット販売の場合の領収書」).
    """
    size = 30 * mm
    left, bottom = LEFT, top - size
    pdf.saveState()
    pdf.setStrokeColor(RULE)
    pdf.setDash(2, 2)
    pdf.setLineWidth(0.5)
    pdf.rect(left, bottom, size, size, stroke=1, fill=0)
    pdf.restoreState()
    pdf.setFont(GOTHIC, 8)
    for index, line in enumerate(STAMP_NOTE):
        pdf.drawCentredString(left + size / 2, bottom + size - (9 + index * 4.5) * mm, line)
