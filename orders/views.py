"""Renewal entry points (T2), the choice (T3, K2), details (T4), confirm (T5), 3-D Secure (T6),
completion (T7, T8) and the customer's orders. Views parse input, call one service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from licenses import selectors as license_selectors
from licenses import services as license_services
from licenses import throttle
from licenses.dates import extended_expiry
from licenses.models import License, LicenseStatus
from licenses.reminders import links as reminder_links

from . import fulfilment, selectors, services
from .access import (
    GUEST_ORDERS,
    PRODUCT_ENTRY,
    RENEW_ACCESS,
    license_for_renewal,
    order_for_request,
    owns,
    session_add,
)
from .forms import ChooseForm, DetailsForm, ProductEntryForm, RemoveCardForm, TwinPackUsageForm
from .legal import DOCUMENT_VERSIONS
from .models import Order, Payment, Refund, SavedCard
from .payments import cards
from .payments.failures import card_setup_messages
from .payments.gateway import GatewayUnavailable, PaymentError
from .payments.sync import sync_payment

S = Order.Status


def legal_document(request, document: str):
    return render(request, f"legal/{document}.html", {"version": DOCUMENT_VERSIONS[document]})


# --- Entry points (T2) ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def renew_entry(request):
    """``/renew/?serial=…``: what the installed program's "Renew now" opens (T2a).

    The signed-in owner goes straight on; anyone else proves possession with the activation
    code. Either way the license may be renewed from here even when lapsed.
    """
    serial = license_services.normalize_serial(
        request.POST.get("serial") or request.GET.get("serial", "")
    )
    if not serial and request.user.is_authenticated and request.method == "GET":
        return _pick_license(request)
    license = License.objects.filter(serial=serial).first() if serial else None
    if license is not None and owns(request, license):
        session_add(request, PRODUCT_ENTRY, license.serial)
        return redirect("orders:choose", serial=license.serial)

    form = ProductEntryForm(request.POST or None, initial={"serial": serial})
    if request.method == "POST" and form.is_valid():
        address = throttle.client_address(request)
        account = request.user.email if request.user.is_authenticated else address
        try:
            license = license_services.prove_possession(
                serial=form.cleaned_data["serial"],
                code=form.cleaned_data["activation_code"],
                account=account,
                address=address,
            )
        except license_services.RegistrationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            session_add(request, RENEW_ACCESS, license.serial)
            session_add(request, PRODUCT_ENTRY, license.serial)
            return redirect("orders:choose", serial=license.serial)
    return render(request, "orders/renew_entry.html", {"form": form})


@never_cache
@require_GET
def renew_from_mail(request, token: str):
    """The "Renew now" button of an expiry reminder (DESIGN 8): a signed link bound to the
    license and the expiry date the mail was about opens that license's choice page for this
    session, without signing in or typing the activation code. A forged, expired or stale link
    (the license was renewed since) gets a page that says so and where to go instead."""
    try:
        license = reminder_links.license_for_renew_token(token)
    except reminder_links.RenewLinkError as error:
        return render(
            request,
            "orders/renew_link_invalid.html",
            {"reason": error.message},
            status=error.status,
        )
    session_add(request, RENEW_ACCESS, license.serial)
    return redirect("orders:choose", serial=license.serial)


def _pick_license(request):
    """T2b: with several renewable licenses the customer first picks one."""
    licenses = [
        lic
        for lic in license_selectors.customer_licenses(user=request.user)
        if lic.status not in (LicenseStatus.LAPSED, LicenseStatus.REVOKED)
    ]
    if len(licenses) == 1:
        return redirect("orders:choose", serial=licenses[0].serial)
    return render(request, "orders/pick_license.html", {"licenses": licenses})


# --- Choose (T1, T3, K1, K2, K5) ------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def choose(request, serial: str):
    license, via_product = license_for_renewal(request, serial)
    try:
        license_selectors.check_renewable(license=license, via_product=via_product)
    except license_selectors.RenewalRefused as refusal:
        return render(request, "orders/refused.html", {"license": license, "reason": str(refusal)})

    if request.method == "POST":
        form = ChooseForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("Choose a product and a term of 1, 2 or 3 years."))
        # A signed-in customer's order is theirs even for a license not in their account (proven
        # with its activation code, T2a): it is in their history and gets receipts on request.
        # The license stays where it is.
        signed_in = request.user.is_authenticated
        try:
            order = services.start_order(
                license=license,
                path_id=form.cleaned_data["path"],
                term_years=form.cleaned_data["term"],
                customer=request.user if signed_in else None,
                language=get_language() or settings.LANGUAGE_CODE,
            )
        except services.CheckoutError as error:
            messages.error(request, str(error))
            return redirect("orders:choose", serial=license.serial)
        if not signed_in:
            session_add(request, GUEST_ORDERS, order.number)
        return redirect("orders:details", number=order.number)

    usage_form = TwinPackUsageForm(request.GET or None)
    usage = usage_form.cleaned_data["usage"] if usage_form.is_valid() else None
    return render(
        request,
        "orders/choose.html",
        {
            "choice": license_selectors.renewal_choice(license=license, usage=usage),
            "license": license,
            "usage_form": usage_form,
        },
    )


# --- Checkout steps ---------------------------------------------------------------------------------


def _continue(order: Order):
    """To the page where the order continues (see ``selectors.checkout_step``)."""
    return redirect(selectors.checkout_step(order=order), number=order.number)


@never_cache
@require_http_methods(["GET", "POST"])
def details(request, number: str):
    order = order_for_request(request, number)
    if order.status not in selectors.OPEN_FOR_DETAILS:
        return _continue(order)
    payment = selectors.latest_payment(order=order)
    reusable = payment if payment and payment.status == Payment.Status.CARD_ADDED else None
    account = order.customer_id is not None and order.customer_id == request.user.pk
    initial = {
        "email": order.email or (request.user.email if request.user.is_authenticated else "")
    }
    if order.terms_accepted_at:
        initial["agree"] = True
    if reusable is not None:
        initial["keep_card"] = reusable.keep_card
        initial["auto_renew"] = order.auto_renew  # kept on "Edit order"; never preselected
    form = DetailsForm(
        request.POST or None,
        initial=initial,
        has_card=bool(reusable),
        saved_cards=selectors.saved_cards(user=request.user) if account else (),
        can_keep=account,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.enter_details(
                order=order,
                email=form.cleaned_data["email"],
                payment_method=form.cleaned_data["payment_method"],
                saved_card=form.cleaned_data["saved_card"],
                keep_card=form.cleaned_data.get("keep_card", False),
                auto_renew=form.cleaned_data.get("auto_renew", False),
            )
        except PaymentError as error:  # Stripe unreachable, or it does not know the card
            form.add_error("payment_method", error.message)
        except services.CheckoutError as error:
            form.add_error("payment_method", str(error))
        else:
            return redirect("orders:confirm", number=order.number)
    try:
        client_secret, setup_error = services.prepare_card_setup(order=order), ""
    except PaymentError as error:
        client_secret, setup_error = "", error.message
    except services.CheckoutError:
        return _continue(order)
    failed = payment if order.status == S.PAYMENT_FAILED else None
    return render(
        request,
        "checkout/details.html",
        {
            "order": order,
            "form": form,
            "reusable": reusable,
            "failed": failed,
            "client_secret": client_secret,
            "setup_error": setup_error,
            "card_messages": card_setup_messages(),
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            **_auto_renewal_terms(order),
        },
    )


def _auto_renewal_terms(order: Order) -> dict:
    """What ``renewals/_terms.html`` shows for this order's product and term (DESIGN 6a)."""
    return {
        "product": order.product,
        "terms": [order],
        "days_before": settings.AUTO_RENEW_DAYS_BEFORE,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, number: str):
    order = order_for_request(request, number)
    if order.status != S.DETAILS_ENTERED:
        return _continue(order)
    payment = selectors.latest_payment(order=order)
    if request.method == "POST":
        try:
            result = services.confirm_order(order=order)
        except GatewayUnavailable as error:
            messages.error(request, error.message)
            return redirect("orders:confirm", number=order.number)
        except (PaymentError, services.CheckoutError) as error:
            messages.error(request, getattr(error, "message", str(error)))
            return redirect("orders:details", number=order.number)
        if result.order.status == S.PAYMENT_FAILED:
            messages.error(request, result.payment.failure_text)
            return redirect("orders:details", number=order.number)
        return _continue(result.order)
    license = order.license
    return render(
        request,
        "checkout/confirm.html",
        {
            "order": order,
            "payment": payment,
            "license": license,
            "new_expires_on": extended_expiry(
                expires_on=license.expires_on,
                term_years=order.term_years,
                paid_on=timezone.localdate(),
            ),
            **_auto_renewal_terms(order),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def authenticate(request, number: str):
    """T6: the bank's 3-D Secure challenge in the page, then the server re-reads the payment."""
    order = order_for_request(request, number)
    payment = selectors.latest_payment(order=order)
    if order.status != S.REQUIRES_ACTION or payment is None:
        return _continue(order)
    try:
        if request.method == "POST":
            if request.POST.get("action") == "another_card":
                order = services.abandon_attempt(order=order)
            else:
                order = sync_payment(payment=payment)
            if order.status == S.REQUIRES_ACTION:
                messages.error(
                    request, _("3-D Secure authentication is not finished yet. Please complete it.")
                )
                return redirect("orders:authenticate", number=order.number)
            if order.status == S.PAYMENT_FAILED:
                payment.refresh_from_db()
                messages.error(request, payment.failure_text)
                return redirect("orders:details", number=order.number)
            return _continue(order)
        client_secret = services.authentication_secret(order=order)
    except PaymentError as error:
        messages.error(request, error.message)
        return render(request, "checkout/authenticate.html", {"order": order, "client_secret": ""})
    return render(
        request,
        "checkout/authenticate.html",
        {
            "order": order,
            "client_secret": client_secret,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        },
    )


@never_cache
@require_GET
def complete(request, number: str):
    order = order_for_request(request, number)
    if order.status not in (S.PAID, S.FULFILLED):
        return redirect("orders:detail", number=order.number)
    return render(
        request,
        "checkout/complete.html",
        {
            "order": order,
            "license": order.license,
            "statement_descriptor": settings.STRIPE_STATEMENT_DESCRIPTOR,
        },
    )


@never_cache
@require_GET
def order_status(request, number: str):
    """Polled by the completion page until the worker has extended the license (T8)."""
    order = order_for_request(request, number)
    fulfilment.nudge_fulfilment(order=order)  # paid long ago, still not extended: queue again
    return JsonResponse(
        {
            "status": order.status,
            "fulfilled": order.status == S.FULFILLED,
            "expires_on": order.license.expires_on.isoformat(),
        }
    )


# --- Orders ----------------------------------------------------------------------------------------


@login_required
def order_list(request):
    orders = list(selectors.customer_orders(user=request.user))
    return render(
        request,
        "orders/order_list.html",
        {"orders": orders, "rows_version": selectors.order_rows_version(orders=orders)},
    )


@never_cache
def order_detail(request, number: str):
    order = order_for_request(request, number)
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "next_step": selectors.checkout_step(order=order),
            "payments": list(order.payments.all()),
            "refunds": list(order.refunds.exclude(status=Refund.Status.REQUESTED)),
            "events": list(order.license_events.select_related("new_product", "old_product")),
        },
    )


# --- Saved cards (DESIGN 5.6, 12) ------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def saved_cards(request):
    """The cards kept on the account's Stripe Customer; removing one detaches it at Stripe."""
    if request.method == "POST":
        form = RemoveCardForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("Choose a card to remove."))
        card = selectors.saved_cards(user=request.user).filter(pk=form.cleaned_data["card"]).first()
        if card is None:
            raise Http404
        renewing = selectors.licenses_renewed_with(card=card)
        if renewing and not form.cleaned_data["confirm"]:
            # DESIGN 6a: removing the automatic-renewal card switches it off; ask first.
            return render(
                request, "orders/remove_card_confirm.html", {"card": card, "licenses": renewing}
            )
        try:
            cards.remove_saved_card(user=request.user, card_id=form.cleaned_data["card"])
        except SavedCard.DoesNotExist as missing:
            raise Http404 from missing
        except PaymentError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The card was removed."))
            if renewing:
                messages.warning(
                    request,
                    _("Automatic renewal was switched off for %(serials)s.")
                    % {"serials": ", ".join(license.serial for license in renewing)},
                )
        return redirect("orders:cards")
    return render(
        request,
        "orders/saved_cards.html",
        {
            "cards": list(
                selectors.saved_cards(user=request.user).prefetch_related(
                    "automatic_renewals__license"
                )
            )
        },
    )
