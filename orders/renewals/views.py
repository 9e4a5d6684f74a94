"""The license page's automatic renewal: switch on (terms, consent, card), change the card,
switch off; and the link of the "please authenticate" mail. Views parse, call one service."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from licenses.selectors import customer_license
from orders.access import order_for_request
from orders.models import Order, SavedCard
from orders.payments import cards
from orders.payments.failures import card_setup_messages
from orders.payments.gateway import PaymentError
from orders.selectors import saved_cards

from . import services
from .forms import ReplaceCardForm, SwitchOnForm
from .models import AutoRenewal
from .selectors import renewal_term

SETUP_SESSION_KEY = "auto_renewal_setup"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def switch_on(request, serial: str):
    """Opt in (or change the card or term): the terms a Japanese subscription must state, the
    term, the card (a saved one, or a new one set up in the page), and the consent checkbox."""
    license = customer_license(user=request.user, serial=serial)
    option, _term = renewal_term(license=license, term_years=1)
    if option is None or not option.terms or license.revoked_at is not None:
        messages.error(request, _("This license cannot be renewed automatically."))
        return redirect("licenses:detail", serial=license.serial)
    cards_on_file = list(saved_cards(user=request.user))
    renewal = AutoRenewal.objects.filter(license=license).first()
    form = SwitchOnForm(
        request.POST or None,
        saved_cards=cards_on_file,
        terms=option.terms,
        initial={"term": renewal.term_years if renewal else option.terms[0].term_years},
    )
    if request.method == "POST" and form.is_valid():
        try:
            card = form.cleaned_data["saved_card"] or cards.save_card(
                user=request.user, payment_method=form.cleaned_data["payment_method"]
            )
            services.switch_on(
                license=license,
                card=card,
                term_years=form.cleaned_data["term"],
                source=AutoRenewal.Source.LICENSE_PAGE,
            )
        except PaymentError as error:
            form.add_error("payment_method", error.message)
        except services.RenewalError as error:
            form.add_error(None, str(error))
        else:
            request.session.pop(SETUP_SESSION_KEY, None)
            messages.success(
                request,
                _("Automatic renewal is on. We will mail you 30 days before each charge."),
            )
            return redirect("licenses:detail", serial=license.serial)
    setup_error = client_secret = ""
    try:
        setup = services.prepare_card_setup(
            license=license,
            user=request.user,
            setup_intent_id=request.session.get(SETUP_SESSION_KEY, ""),
        )
    except PaymentError as error:
        setup_error = error.message
    else:
        request.session[SETUP_SESSION_KEY] = setup.id
        client_secret = setup.client_secret
    return render(
        request,
        "renewals/switch_on.html",
        {
            "license": license,
            "product": option.product,
            "terms": option.terms,
            "renewal": renewal if license.auto_renew else None,
            "form": form,
            "days_before": settings.AUTO_RENEW_DAYS_BEFORE,
            "notice_days": settings.AUTO_RENEW_NOTICE_DAYS,
            "client_secret": client_secret,
            "setup_error": setup_error,
            "card_messages": card_setup_messages(),
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        },
    )


@login_required
@require_POST
def switch_off(request, serial: str):
    license = customer_license(user=request.user, serial=serial)
    services.switch_off(license=license)
    messages.success(
        request, _("Automatic renewal is off. Nothing will be charged automatically any more.")
    )
    return redirect("licenses:detail", serial=license.serial)


@login_required
@require_POST
def replace_card(request, serial: str):
    license = customer_license(user=request.user, serial=serial)
    form = ReplaceCardForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Choose a card."))
    card = SavedCard.objects.filter(
        pk=form.cleaned_data["card"], customer__user=request.user
    ).first()
    if card is None:
        raise Http404
    try:
        services.replace_card(license=license, card=card)
    except (services.RenewalError, AutoRenewal.DoesNotExist):
        messages.error(request, _("Switch automatic renewal on first."))
    else:
        messages.success(request, _("Automatic renewal will use this card from now on."))
    return redirect("licenses:detail", serial=license.serial)


@never_cache
@login_required
@require_GET
def pay(request, number: str):
    """The link of the mail sent when the bank wants 3-D Secure for an automatic charge: the
    checkout's own pages complete it in the browser (the 3-D Secure step, or the details step
    with the saved card chosen when Stripe asks for a new confirmation)."""
    order = order_for_request(request, number)
    if not order.is_automatic:
        raise Http404
    if order.status == Order.Status.REQUIRES_ACTION:
        return redirect("orders:authenticate", number=order.number)
    if order.status == Order.Status.PAYMENT_FAILED:
        return redirect("orders:details", number=order.number)
    return redirect("orders:detail", number=order.number)
