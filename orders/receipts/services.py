"""Receipts (領収書) on request (K9, J5, DESIGN 7): every change to a receipt goes through here.

A customer requests a receipt for a paid order; support staff issue, reissue or decline it in admin.
Issuing takes the next number of the year from a locked counter row in the same transaction, so
numbers are gap-free and unique under concurrency. The PDF is rendered by a worker
(``render_receipt``) and the customer is mailed through the order mail task, both queued on commit,
never inside a request.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from celery import shared_task
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import OperationalError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from licenses.models import PriceKind
from orders.mail import order_url, send_order_mail
from orders.models import Order, SentMail

from .models import Receipt, ReceiptCounter, ReceiptEvent
from .pdf import ReceiptData, ReceiptLine, Seller, render_receipt_pdf
from .selectors import (
    ADDRESSEE_MAX_LENGTH,
    PROVISO_MAX_LENGTH,
    default_addressee,
    receipt_refusal,
)

# The PDF prints 様 after the addressee; typed honorifics would print twice (「… 御中 様」).
_HONORIFICS = ("様", "御中", "殿")
# Work a lost task left undone is queued again by the sweep after this long.
STUCK_AFTER = dt.timedelta(minutes=10)


class ReceiptError(Exception):
    """The receipt operation is refused; the message is for the person who asked."""


def printable_on_receipt(char: str) -> bool:
    """Whether the receipt's fonts (HeiseiMin-W3 and HeiseiKakuGo-W5 with the UniJIS-UCS2-H
    encoding, i.e. the Adobe-Japan1 character collection, BMP only) can draw ``char``.

    Approximated by what Japanese encodings can represent: ASCII, JIS X 0213 (which contains
    JIS X 0208), and the NEC and IBM extensions of Windows-31J (①, 髙, 﨑), all in Adobe-Japan1.
    """
    if char.isascii():
        return char.isprintable()
    if ord(char) > 0xFFFF:
        return False
    for encoding in ("euc_jis_2004", "cp932"):
        try:
            char.encode(encoding)
        except UnicodeEncodeError:
            continue
        return True
    return False


def clean_receipt_text(value: str, *, max_length: int, strip_honorific: bool = False) -> str:
    """Normalise what a customer or staff typed for the PDF, or raise ``ReceiptError``.

    NFKC turns full-width letters and half-width kana into the forms a receipt prints; runs of
    white space become one space. Refused rather than printed as empty boxes or silently
    dropped: control and invisible format characters (line breaks, tabs, zero-width and
    direction marks), text that arrived as invalid UTF-8 (decoded to U+FFFD), and characters the
    PDF's Japanese CID fonts cannot draw (``printable_on_receipt``: Hangul, Arabic, Thai, emoji,
    𠮷...), each named in the message.
    """
    if "\ufffd" in (value or ""):
        raise ReceiptError(
            _(
                "Part of this text could not be read (it was not sent as valid UTF-8). "
                "Please type it again."
            )
        )
    text = unicodedata.normalize("NFKC", value or "").strip()
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise ReceiptError(
            _("Remove the line breaks and invisible control characters from this field.")
        )
    text = " ".join(text.split())
    if strip_honorific:
        for honorific in _HONORIFICS:
            text = text.removesuffix(honorific).rstrip()
    if not text:
        raise ReceiptError(_("This field is required."))
    unprintable = sorted({ch for ch in text if not printable_on_receipt(ch)})
    if unprintable:
        raise ReceiptError(
            _(
                "These characters cannot be printed on a receipt: %(chars)s. Please use "
                "Japanese characters or Latin letters instead (for example 吉 for 𠮷)."
            )
            % {"chars": "、".join(f"{ch} (U+{ord(ch):04X})" for ch in unprintable)}
        )
    if len(text) > max_length:
        raise ReceiptError(
            _("Use at most %(max)d characters (you entered %(count)d).")
            % {"max": max_length, "count": len(text)}
        )
    return text


# --- Writes --------------------------------------------------------------------------------------


def request_receipt(*, order: Order, customer, addressee: str, proviso: str) -> Receipt:
    """The customer asks for a receipt of their paid order; one open request per order.

    The order row is locked so a double submit waits for the first and then finds its request.
    """
    addressee = clean_receipt_text(addressee, max_length=ADDRESSEE_MAX_LENGTH, strip_honorific=True)
    proviso = clean_receipt_text(proviso, max_length=PROVISO_MAX_LENGTH)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.customer_id != customer.pk:
            raise ReceiptError(_("This order is not in your account."))
        refusal = receipt_refusal(order=order)
        if refusal:
            raise ReceiptError(refusal)
        _refuse_if_requested_or_issued(order=order)
        # The partial unique constraint backs this check should a writer ever skip the lock.
        receipt = Receipt.objects.create(
            order=order, addressee=addressee, proviso=proviso, requested_by=customer
        )
        _record(receipt, ReceiptEvent.Kind.REQUESTED, actor=customer)
    return receipt


def record_receipt_request(*, order: Order, staff, addressee: str, proviso: str) -> Receipt:
    """Support staff record a receipt request the customer made by mail or phone (K9).

    The way to a receipt for a guest order, which has no account to request from; the receipt
    is then issued like any other and mailed to the order's contact address.
    """
    addressee = clean_receipt_text(addressee, max_length=ADDRESSEE_MAX_LENGTH, strip_honorific=True)
    proviso = clean_receipt_text(proviso, max_length=PROVISO_MAX_LENGTH)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        refusal = receipt_refusal(order=order, by_staff=True)
        if refusal:
            raise ReceiptError(refusal)
        _refuse_if_requested_or_issued(order=order)
        receipt = Receipt.objects.create(
            order=order, addressee=addressee, proviso=proviso, requested_by=staff
        )
        _record(receipt, ReceiptEvent.Kind.REQUESTED, actor=staff, note=_("Recorded by support"))
    return receipt


def _refuse_if_requested_or_issued(*, order: Order) -> None:
    states = set(
        order.receipts.filter(
            state__in=[Receipt.State.REQUESTED, Receipt.State.ISSUED]
        ).values_list("state", flat=True)
    )
    if Receipt.State.ISSUED in states:
        raise ReceiptError(
            _(
                "A receipt has already been issued for this order. If the addressee or proviso "
                "needs to change, please contact support: we will reissue it."
            )
        )
    if Receipt.State.REQUESTED in states:
        raise ReceiptError(
            _(
                "You have already requested a receipt for this order. We will email you when it is ready."
            )
        )


def next_receipt_number(*, year: int) -> str:
    """Take the next number of ``year`` (``R-2026-000001``); call inside the issuing transaction.

    The counter row is locked until that transaction ends, so concurrent issues queue on it and a
    rolled-back issue gives its number back: no duplicates, no gaps.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A receipt number must be taken inside the transaction that uses it.")
    # INSERT ... ON CONFLICT DO NOTHING: the first issue of a year creates the row without racing.
    ReceiptCounter.objects.bulk_create([ReceiptCounter(year=year)], ignore_conflicts=True)
    counter = ReceiptCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"R-{year}-{counter.last_number:06d}"


def issue_receipt(*, receipt: Receipt, staff) -> Receipt:
    """Staff issue a requested receipt: number, issue date and who, then the PDF on a worker."""
    with transaction.atomic():
        receipt = _locked_in_state(
            receipt,
            Receipt.State.REQUESTED,
            _("Receipt %(receipt)s is %(state)s; only a requested receipt can be issued."),
            with_order=True,
        )
        now = timezone.now()
        receipt.number = next_receipt_number(year=timezone.localdate(now).year)
        receipt.state = Receipt.State.ISSUED
        receipt.issue_count = 1
        receipt.issued_at = receipt.last_issued_at = now
        receipt.issued_by = staff
        receipt.save(
            update_fields=[
                "number",
                "state",
                "issue_count",
                "issued_at",
                "last_issued_at",
                "issued_by",
            ]
        )
        _record(receipt, ReceiptEvent.Kind.ISSUED, actor=staff)
        render_receipt.delay(receipt.pk)
    return receipt


def reissue_receipt(
    *,
    receipt: Receipt,
    staff,
    note: str,
    addressee: str | None = None,
    proviso: str | None = None,
) -> Receipt:
    """Staff reissue an issued receipt, optionally corrected: same number, marked 再発行 (J5).

    The new PDF replaces the old one once the worker has rendered it.
    """
    changes = {}
    if addressee is not None:
        changes["addressee"] = clean_receipt_text(
            addressee, max_length=ADDRESSEE_MAX_LENGTH, strip_honorific=True
        )
    if proviso is not None:
        changes["proviso"] = clean_receipt_text(proviso, max_length=PROVISO_MAX_LENGTH)
    note = note.strip()
    if not note:
        raise ReceiptError(_("Say why the receipt is reissued."))
    with transaction.atomic():
        receipt = _locked_in_state(
            receipt,
            Receipt.State.ISSUED,
            _("Receipt %(receipt)s is %(state)s; only an issued receipt can be reissued."),
            with_order=True,
        )
        corrections = [
            f"{field}: {getattr(receipt, field)} → {value}"
            for field, value in changes.items()
            if getattr(receipt, field) != value
        ]
        for field, value in changes.items():
            setattr(receipt, field, value)
        receipt.issue_count += 1
        receipt.last_issued_at = timezone.now()
        receipt.issued_by = staff
        receipt.save(update_fields=["issue_count", "last_issued_at", "issued_by", *sorted(changes)])
        _record(
            receipt, ReceiptEvent.Kind.REISSUED, actor=staff, note="\n".join([note, *corrections])
        )
        render_receipt.delay(receipt.pk)
    return receipt


def decline_receipt(*, receipt: Receipt, staff, reason: str) -> Receipt:
    """Staff decline a request; the reason is mailed to the customer, who may ask again."""
    reason = reason.strip()
    if not reason:
        raise ReceiptError(_("Give the reason for declining; it is sent to the customer."))
    with transaction.atomic():
        receipt = _locked_in_state(
            receipt,
            Receipt.State.REQUESTED,
            _("Receipt %(receipt)s is %(state)s; only a requested receipt can be declined."),
        )
        receipt.state = Receipt.State.DECLINED
        receipt.decline_reason = reason
        receipt.save(update_fields=["state", "decline_reason"])
        event = _record(receipt, ReceiptEvent.Kind.DECLINED, actor=staff, note=reason)
        queue_receipt_mail(event=event)
    return receipt


def store_receipt_pdf(*, receipt: Receipt) -> bool:
    """Render the latest (re)issue to PDF and store it in place of the previous file.

    Runs on a worker. Idempotent: returns ``False`` when the stored file is already current.
    The old file is deleted only after the new one is committed, and the issued mail is queued
    then, so its link always finds the PDF.
    """
    with transaction.atomic():
        receipt = _locked(receipt)
        if receipt.state != Receipt.State.ISSUED or receipt.pdf_issue_count == receipt.issue_count:
            return False
        pdf = render_receipt_pdf(receipt_data(receipt=receipt))
        old_name = receipt.pdf.name
        receipt.pdf.save(
            f"{receipt.number}-{receipt.issue_count}.pdf", ContentFile(pdf), save=False
        )
        receipt.pdf_issue_count = receipt.issue_count
        receipt.save(update_fields=["pdf", "pdf_issue_count"])
        _record(receipt, ReceiptEvent.Kind.RENDERED, actor=None)
        storage = receipt.pdf.storage
        if old_name and old_name != receipt.pdf.name:
            transaction.on_commit(lambda: storage.delete(old_name))
        announcement = (
            receipt.events.filter(
                kind__in=[ReceiptEvent.Kind.ISSUED, ReceiptEvent.Kind.REISSUED],
                issue_count=receipt.issue_count,
            )
            .order_by("-pk")
            .first()
        )
        if announcement:
            queue_receipt_mail(event=announcement)
    return True


def receipt_data(*, receipt: Receipt) -> ReceiptData:
    """What the PDF prints (J5), from the stored receipt and its order only: re-rendering is stable."""
    order = receipt.order
    what = "更新ライセンス" if order.price_kind == PriceKind.RENEWAL else "ライセンス"
    term = f"{order.term_years}年"
    return ReceiptData(
        number=receipt.number,
        issued_on=timezone.localdate(receipt.last_issued_at),
        addressee=receipt.addressee,
        amount=order.amount,
        tax=order.tax,
        tax_rate=order.tax_rate,
        proviso=receipt.proviso,
        order_number=order.number,
        paid_on=timezone.localdate(order.paid_at),
        lines=(ReceiptLine(f"{order.product.name_ja} {what}", term, order.amount),),
        seller=_seller(),
        reissue_count=receipt.reissue_count,
    )


def queue_receipt_mail(*, event: ReceiptEvent) -> None:
    """Queue the customer's mail about an issue, reissue or decline (once per event).

    The mail shows the receipt as it was at this event. An issued mail is queued only once the
    PDF of that issue is stored (``store_receipt_pdf``), so its link always finds the file.
    """
    receipt, order = event.receipt, event.receipt.order
    send_order_mail.delay(
        order.pk,
        event.mail_template,
        event.mail_key,
        {
            "receipt": {
                "number": receipt.number,
                "addressee": receipt.addressee,
                "reissue_count": receipt.reissue_count,
                "decline_reason": receipt.decline_reason,
            },
            "name": default_addressee(order=order),
            "receipt_url": order_url(order, "receipts:detail"),
        },
    )


def requeue_unfinished_receipts(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Queue again what a lost task left undone: PDFs not rendered, mails not sent.

    (A task is lost when the broker was down at commit time; DESIGN 6, nothing is lost.) Mails
    are queued only for the current issue of a receipt whose PDF is stored, and for declines.
    Returns the renders and the mails queued.
    """
    before = (now or timezone.now()) - STUCK_AFTER
    stale = Receipt.objects.filter(
        state=Receipt.State.ISSUED, last_issued_at__lt=before, pdf_issue_count__lt=F("issue_count")
    )
    renders = 0
    for receipt_id in stale.values_list("pk", flat=True):
        render_receipt.delay(receipt_id)
        renders += 1
    candidates = [
        event
        for event in ReceiptEvent.objects.filter(
            kind__in=ReceiptEvent.MAILED_KINDS,
            created_at__lt=before,
            created_at__gte=before - dt.timedelta(days=3),
            receipt__issue_count=F("issue_count"),
            receipt__pdf_issue_count=F("issue_count"),
        ).select_related("receipt__order", "receipt__order__customer")
    ]
    sent = set(
        SentMail.objects.filter(key__in=[event.mail_key for event in candidates]).values_list(
            "key", flat=True
        )
    )
    mails = 0
    for event in candidates:
        if event.mail_key not in sent:
            queue_receipt_mail(event=event)
            mails += 1
    return renders, mails


def _locked(receipt: Receipt) -> Receipt:
    # Without select_related: FOR UPDATE may not reach the nullable side of an outer join.
    return Receipt.objects.select_for_update().get(pk=receipt.pk)


def _locked_in_state(receipt: Receipt, state: str, refusal: str, *, with_order: bool = False):
    """The receipt row locked and in ``state``, or ``ReceiptError(refusal)``.

    ``with_order`` also locks the order first (orders before receipts, as ``request_receipt``)
    and requires it to be paid, so a refund committing meanwhile cannot slip past the check.
    """
    if with_order:
        _refuse_unless_paid(Order.objects.select_for_update().get(pk=receipt.order_id))
    receipt = _locked(receipt)
    if receipt.state != state:
        raise ReceiptError(refusal % {"receipt": receipt, "state": receipt.get_state_display()})
    return receipt


def _refuse_unless_paid(order: Order) -> None:
    """An order refunded after the request gets no receipt (decline it instead)."""
    if not order.is_paid:
        raise ReceiptError(
            _("Order %(order)s is %(status)s: decline the request instead.")
            % {"order": order.number, "status": order.get_status_display()}
        )
    if order.paid_at is None:
        raise ReceiptError(_("Order %(order)s has no payment date.") % {"order": order.number})


def _record(receipt: Receipt, kind: str, *, actor, note: str = "") -> ReceiptEvent:
    return ReceiptEvent.objects.create(
        receipt=receipt, kind=kind, actor=actor, issue_count=receipt.issue_count, note=note
    )


def _seller() -> Seller:
    """The issuer from ``settings.SELLER``, the same values as the legal disclosure (J2, J5)."""
    seller = settings.SELLER
    return Seller(
        name=seller["name"],
        postal_code=seller["postal_code"],
        address=seller["address"],
        phone=seller["phone"],
        registration_number=seller["invoice_registration_number"],
    )


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def render_receipt(receipt_id: int) -> None:
    receipt = Receipt.objects.filter(pk=receipt_id).first()
    if receipt is not None:
        store_receipt_pdf(receipt=receipt)


@shared_task
def sweep_receipts() -> None:
    """Periodic (beat): ``requeue_unfinished_receipts``."""
    requeue_unfinished_receipts()
