"""Test cards of localstripe (and Stripe), recorded Stripe events and signed webhook posts."""

import copy
import json
import time
import uuid
from functools import cache
from pathlib import Path

from orders.payments.testing import event, sign_event

__all__ = [
    "DECLINED_ON_ADD",
    "DECLINED_ON_CHARGE",
    "DISPUTED",
    "OK",
    "REFUND_FAILS_LATER",
    "REFUND_SUCCEEDS_LATER",
    "THREE_DS",
    "event",
    "post_event",
    "recorded_event",
]

OK = "4242424242424242"
THREE_DS = "4000002760003184"
DECLINED_ON_ADD = "4000000000000002"
DECLINED_ON_CHARGE = "4000000000000341"
# Stripe's refund and dispute test cards (the localstripe shim simulates them).
REFUND_SUCCEEDS_LATER = "4000000000007726"
REFUND_FAILS_LATER = "4000000000005126"
DISPUTED = "4000000000000259"

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"


@cache
def _recorded(type_: str) -> dict:
    return json.loads((FIXTURES / f"{type_}.json").read_text())


def recorded_event(type_: str, **object_fields) -> dict:
    """A recorded event of ``type_`` (``tests/fixtures/stripe``) about our object: a fresh event
    id and creation time, and ``object_fields`` set on ``data.object`` (ids, amounts...)."""
    payload = copy.deepcopy(_recorded(type_))
    payload["id"] = f"evt_{uuid.uuid4().hex[:24]}"
    payload["created"] = int(time.time())
    payload["data"]["object"].update(object_fields)
    return payload


def post_event(client, payload: dict, **kwargs):
    """POST ``payload`` to the webhook endpoint, signed (``secret=``, ``at=`` as ``sign_event``)."""
    body, header = sign_event(payload, **kwargs)
    return client.post(
        "/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
