"""``{% receipt_panel order as panel %}`` for ``templates/receipts/_order_panel.html``.

The order page includes the panel with just ``order`` in its context; this tag works out the rest.
"""

from django import template

from orders.receipts.forms import ReceiptRequestForm
from orders.receipts.selectors import receipt_panel as panel_for

register = template.Library()


@register.simple_tag
def receipt_panel(order, form=None) -> dict:
    """The order's receipt state, why it cannot have one, and the request form (``form`` if bound)."""
    panel = panel_for(order=order)
    return {
        "receipt": panel.receipt,
        "refusal": panel.note,
        "can_request": panel.can_request,
        "form": form or (ReceiptRequestForm(order=order) if panel.can_request else None),
    }
