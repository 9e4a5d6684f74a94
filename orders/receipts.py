"""Receipts (領収書) on request (K9, J5, DESIGN 7): every change to a receipt goes through here.

A customer requests a receipt for a paid order; support staff issue, reissue or decline it in admin.
Issuing takes the next number of the year from a locked counter row in the same transaction, so
numbers are gap-free and unique under concurrency. The PDF is rendered and the customer is mailed
by workers (``orders.tasks_receipts``), queued on commit, never inside a request.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from licenses.models import PriceKind

from .models import Order, Receipt, ReceiptCounter, ReceiptEvent
from .receipt_pdf import ReceiptData, ReceiptLine, render_receipt_pdf, seller_from_settings

logger = logging.getLogger(__name__)

ADDRESSEE_MAX_LENGTH = Receipt._meta.get_field("addressee").max_length
PROVISO_MAX_LENGTH = Receipt._meta.get_field("proviso").max_length
# The PDF prints 様 after the addressee; typed honorifics would print twice (「… 御中 様」).
_HONORIFICS = ("様", "御中", "殿")


class ReceiptError(Exception):
    """The receipt operation is refused; the message is for the person who asked."""


# --- Reads ---------------------------------------------------------------------------------------


def receipt_refusal(*, order: Order) -> str | None:
    """Why ``order`` cannot get a receipt at all, or ``None`` when it can (K9: paid renewals)."""
    if order.status == Order.Status.REFUNDED:
        return _("This order was refunded, so no receipt can be issued for it.")
    if order.status == Order.Status.CANCELED:
        return _("This order was canceled without payment, so there is nothing to receipt.")
    if not order.is_paid:
        return _("A receipt can be requested once the payment for this order is complete.")
    if order.customer_id is None:
        return _(
            "This order was placed without signing in. Please contact support for a receipt, "
            "quoting the order number."
        )
    return None


def current_receipt(*, order: Order) -> Receipt | None:
    """The order's latest request; after an issue no new request can follow, so it is the one."""
    return order.receipts.order_by("-requested_at", "-pk").first()


@dataclass(frozen=True)
class ReceiptPanel:
    """What the order page shows about receipts (``templates/receipts/_order_panel.html``)."""

    receipt: Receipt | None
    refusal: str | None

    @property
    def can_request(self) -> bool:
        return self.refusal is None and (
            self.receipt is None or self.receipt.state == Receipt.State.DECLINED
        )


def receipt_panel(*, order: Order) -> ReceiptPanel:
    return ReceiptPanel(receipt=current_receipt(order=order), refusal=receipt_refusal(order=order))


def default_addressee(*, order: Order) -> str:
    """「姓 名」 of the account that placed the order."""
    customer = order.customer
    if customer is None:
        return ""
    return f"{customer.last_name} {customer.first_name}".strip()[:ADDRESSEE_MAX_LENGTH]


def default_proviso(*, order: Order) -> str:
    """「<product> <n>年 更新ライセンス代として」: Japanese whatever the page language, like the PDF."""
    what = (
        "更新ライセンス代として" if order.price_kind == PriceKind.RENEWAL else "ライセンス代として"
    )
    proviso = f"{order.product.name_ja} {order.term_years}年 {what}"
    if len(proviso) > PROVISO_MAX_LENGTH:  # a very long product name: keep what fits the line
        proviso = f"{order.term_years}年 {what}"
    return proviso


def clean_receipt_text(value: str, *, max_length: int, strip_honorific: bool = False) -> str:
    """Normalise what a customer or staff typed for the PDF, or raise ``ReceiptError``.

    NFKC turns full-width letters and half-width kana into the forms a receipt prints; runs of
    white space become one space. Control and invisible format characters (line breaks, tabs,
    zero-width and direction marks) and characters outside the BMP (emoji, 𠮷), which the PDF's
    CID fonts cannot show, are refused rather than silently dropped.
    """
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
    unprintable = sorted({ch for ch in text if ord(ch) > 0xFFFF})
    if unprintable:
        raise ReceiptError(
            _(
                "These characters cannot be printed on a receipt: %(chars)s. "
                "Please use a standard character instead (for example 吉 for 𠮷)."
            )
            % {"chars": " ".join(unprintable)}
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
        _queue_on_commit("render_receipt", receipt.pk)
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
        _queue_on_commit("render_receipt", receipt.pk)
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
        _queue_on_commit("send_receipt_mail", event.pk)
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
                mailed_at__isnull=True,
            )
            .order_by("-pk")
            .first()
        )
        if announcement:
            _queue_on_commit("send_receipt_mail", announcement.pk)
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
        seller=seller_from_settings(),
        reissue_count=receipt.reissue_count,
    )


def mail_receipt_event(*, event: ReceiptEvent) -> bool:
    """Mail the customer about an issue, reissue or decline; runs on a worker, once per event.

    ``mailed_at`` is set in the transaction that sends, so only a worker dying between sending and
    committing can send a mail twice; none is lost. An issued mail waits until the PDF of that issue is stored (``store_receipt_pdf`` queues it);
    one superseded by a reissue is not sent, the reissue's mail is.
    """
    with transaction.atomic():
        event = ReceiptEvent.objects.select_for_update().get(pk=event.pk)
        receipt = event.receipt
        if event.mailed_at or event.kind not in ReceiptEvent.MAILED_KINDS:
            return False
        if event.kind != ReceiptEvent.Kind.DECLINED and not (
            event.issue_count == receipt.issue_count == receipt.pdf_issue_count
        ):
            return False  # the PDF of this issue is not stored yet, or a reissue superseded it
        order = receipt.order
        recipient = order.contact_email
        if not recipient:
            logger.warning("Receipt event %s: order %s has no email address", event.pk, order)
            return False
        template = "declined" if event.kind == ReceiptEvent.Kind.DECLINED else "issued"
        with translation.override(order.language or settings.LANGUAGE_CODE):
            context = {
                "receipt": receipt,
                "order": order,
                "event": event,
                "name": default_addressee(order=order),
                "receipt_url": settings.SITE_URL.rstrip("/")
                + reverse("receipts:detail", args=[order.number]),
                "SHOP_NAME": settings.SHOP_NAME,
                "SELLER": settings.SELLER,
            }
            subject = " ".join(
                render_to_string(f"mail/receipt_{template}_subject.txt", context).split()
            )
            text = render_to_string(f"mail/receipt_{template}.txt", context)
            html = render_to_string(f"mail/receipt_{template}.html", context)
        message = EmailMultiAlternatives(subject, text, to=[recipient])
        message.attach_alternative(html, "text/html")
        message.send()
        event.mailed_at = timezone.now()
        event.save(update_fields=["mailed_at"])
    return True


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


def _queue_on_commit(task_name: str, object_id: int) -> None:
    """Robust like the checkout's tasks: a broker outage must not fail a committed issue; the
    receipt sweep queues lost renders and mails again."""
    from . import tasks_receipts  # the tasks module imports this one
    from .services import queue_on_commit

    queue_on_commit(getattr(tasks_receipts, task_name), object_id)
