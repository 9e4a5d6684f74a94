"""Test cards of localstripe (and Stripe) and signed webhook posts."""

from orders.payments.testing import event, sign_event

__all__ = ["DECLINED_ON_ADD", "DECLINED_ON_CHARGE", "OK", "THREE_DS", "event", "post_event"]

OK = "4242424242424242"
THREE_DS = "4000002760003184"
DECLINED_ON_ADD = "4000000000000002"
DECLINED_ON_CHARGE = "4000000000000341"


def post_event(client, payload: dict, **kwargs):
    """POST ``payload`` to the webhook endpoint, signed (``secret=``, ``at=`` as ``sign_event``)."""
    body, header = sign_event(payload, **kwargs)
    return client.post(
        "/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
