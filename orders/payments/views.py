"""``POST /stripe/webhook/`` (DESIGN 5.5): verify, store, commit, queue, answer at once."""

from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import gateway
from .webhooks import store_webhook_event

# Stripe events are a few kilobytes; anything this large is not from Stripe.
MAX_BODY_BYTES = 256 * 1024


@csrf_exempt  # Stripe cannot send a CSRF token; the signature authenticates the request.
@require_POST
def stripe_webhook(request):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponseBadRequest("Bad Content-Length.")
    if length > MAX_BODY_BYTES:
        return HttpResponse("Payload too large.", status=413)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return HttpResponse("Payload too large.", status=413)
    try:
        event = gateway.parse_webhook(
            payload=body, signature_header=request.META.get("HTTP_STRIPE_SIGNATURE", "")
        )
    except gateway.InvalidWebhook:
        return HttpResponseBadRequest("Invalid signature or payload.")
    stored = store_webhook_event(event=event)
    return JsonResponse({"received": True, "status": stored.status})
