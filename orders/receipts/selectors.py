"""Reads about receipts: whether an order can have one, and what its order page shows (K9)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from licenses.models import PriceKind
from orders.models import Order

from .models import Receipt

ADDRESSEE_MAX_LENGTH = Receipt._meta.get_field("addressee").max_length
PROVISO_MAX_LENGTH = Receipt._meta.get_field("proviso").max_length


def receipt_refusal(*, order: Order, by_staff: bool = False) -> str | None:
    """Why ``order`` cannot get a receipt at all, or ``None`` when it can (K9: paid renewals).

    A guest order has no account to request from: support staff record the request for it
    (``by_staff``) when the customer asks them.
    """
    if order.status == Order.Status.REFUNDED:
        return _("This order was refunded, so no receipt can be issued for it.")
    if order.status == Order.Status.CANCELED:
        return _("This order was canceled without payment, so there is nothing to receipt.")
    if not order.is_paid:
        return _("A receipt can be requested once the payment for this order is complete.")
    if order.customer_id is None and not by_staff:
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
    """What the order page shows about receipts (``receipts/_order_panel.html``)."""

    receipt: Receipt | None
    refusal: str | None
    guest: bool = False

    @property
    def can_request(self) -> bool:
        return self.refusal is None and (
            self.receipt is None or self.receipt.state == Receipt.State.DECLINED
        )

    @property
    def note(self) -> str | None:
        """The refusal to show; a guest whose request support staff recorded sees that instead."""
        if self.guest and self.receipt is not None and self.receipt.state != Receipt.State.DECLINED:
            return None
        return self.refusal


def receipt_panel(*, order: Order) -> ReceiptPanel:
    return ReceiptPanel(
        receipt=current_receipt(order=order),
        refusal=receipt_refusal(order=order),
        guest=order.customer_id is None,
    )


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
