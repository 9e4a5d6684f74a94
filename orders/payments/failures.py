"""Customer-facing texts for Stripe's failure codes, in the reader's language.

A payment stores Stripe's code; the text is looked up when it is shown, so a customer reading
in English sees English whatever the language the failure was recorded in.
"""

from django.utils.translation import gettext_lazy as _

_MESSAGES = {
    "payment_intent_authentication_failure": _(
        "The card's 3-D Secure authentication was not completed. "
        "Please try again or use another card."
    ),
    "authentication_required": _(
        "Your card issuer asks you to confirm this payment yourself (3-D Secure)."
    ),
    "insufficient_funds": _("The card has insufficient funds. Please use another card."),
    "expired_card": _("The card has expired. Please use another card."),
    "incorrect_cvc": _("The card's security code is incorrect."),
}
NOT_COMPLETED = _("The payment was not completed. Please try another card.")
DECLINED = _("The card was declined. Please use another card or contact your card issuer.")
UNAVAILABLE = _("The payment service is not reachable right now. Please try again in a moment.")
FAILED = _("The payment could not be processed. Please try again or contact us.")
SETUP_NOT_VERIFIED = _(
    "The card could not be verified. Please check it and try again, or use another card."
)


def failure_message(code: str) -> str:
    """The text for a Stripe failure code (a decline code, an error code or an intent status)."""
    if code in ("canceled", "requires_payment_method"):
        return str(NOT_COMPLETED)
    return str(_MESSAGES.get(code, DECLINED))


def card_setup_messages() -> dict[str, str]:
    """What the details page says when stripe.js could not set a card up, by Stripe's error
    code (localstripe's stand-in speaks English only; real Stripe.js localizes its own)."""
    return {
        **{code: str(message) for code, message in _MESSAGES.items()},
        "card_declined": str(DECLINED),
        "setup_intent_authentication_failure": str(SETUP_NOT_VERIFIED),
        "default": str(SETUP_NOT_VERIFIED),
        "unavailable": str(UNAVAILABLE),
    }
