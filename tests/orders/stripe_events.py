"""Signed Stripe events for webhook tests, made the way Stripe (and localstripe) sign them."""

import hashlib
import hmac
import json
import time

from django.conf import settings


def signed(event: dict, *, secret: str | None = None, at: int | None = None) -> tuple[bytes, str]:
    body = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    secret = secret or settings.STRIPE_WEBHOOK_SECRET
    signature = hmac.new(secret.encode(), b"%d.%s" % (timestamp, body), hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={signature}"


def event(event_id: str, type_: str, obj: dict) -> dict:
    return {"id": event_id, "object": "event", "type": type_, "data": {"object": obj}}


def post(client, payload: dict, **kwargs):
    body, header = signed(payload, **kwargs)
    return client.post(
        "/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
