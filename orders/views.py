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
from licenses.models import License, LicenseStatus, Product

from . import selectors, services
from .forms import ChooseForm, DetailsForm, ProductEntryForm, TwinPackUsageForm
from .legal import DOCUMENT_VERSIONS
from .models import Order, Payment
from .payments import gateway

S = Order.Status


def legal_document(request, document: str):
    return render(request, f"legal/{document}.html", {"version": DOCUMENT_VERSIONS[document]})


# --- Entry points (T2) ---------------------------------------------------------------------------


def _session_list(request, key: str) -> list[str]:
    return list(request.session.get(key, []))


def _session_add(request, key: str, value: str) -> None:
    values = _session_list(request, key)
    if value not in values:
        request.session[key] = [*values[-19:], value]


def _owns(request, license: License) -> bool:
    return request.user.is_authenticated and license.owner_id == request.user.pk


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
    if license is not None and _owns(request, license):
        _session_add(request, "product_entry", license.serial)
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
            _session_add(request, "renew_access", license.serial)
            _session_add(request, "product_entry", license.serial)
            return redirect("orders:choose", serial=license.serial)
    return render(request, "orders/renew_entry.html", {"form": form})


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


def _license_for_renewal(request, serial: str) -> tuple[License, bool]:
    """The license and whether the visitor came through the product entry; 404 otherwise."""
    license = License.objects.select_related("product").filter(serial=serial.upper()).first()
    if license is None:
        raise Http404
    granted = license.serial in _session_list(request, "renew_access")
    if not (_owns(request, license) or granted):
        raise Http404
    return license, license.serial in _session_list(request, "product_entry")


# --- Choose (T1, T3, K1, K2, K5) ------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def choose(request, serial: str):
    license, via_product = _license_for_renewal(request, serial)
    try:
        selectors.check_renewable(license=license, via_product=via_product)
    except selectors.RenewalRefused as refusal:
        return render(request, "orders/refused.html", {"license": license, "reason": str(refusal)})

    if request.method == "POST":
        form = ChooseForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("Choose a product and a term of 1, 2 or 3 years."))
        owner = _owns(request, license)
        try:
            order = services.start_order(
                license=license,
                path_id=form.cleaned_data["path"],
                term_years=form.cleaned_data["term"],
                customer=request.user if owner else None,
                language=get_language() or settings.LANGUAGE_CODE,
            )
        except services.CheckoutError as error:
            messages.error(request, str(error))
            return redirect("orders:choose", serial=license.serial)
        if not owner:
            _session_add(request, "guest_orders", order.number)
        return redirect("orders:details", number=order.number)

    options = selectors.renewal_options(license=license)
    usage_form = TwinPackUsageForm(request.GET or None)
    recommended = _twin_pack_recommendation(license, options, usage_form)
    has_upgrade_path = any(o.is_upgrade for o in options)
    return render(
        request,
        "orders/choose.html",
        {
            "license": license,
            "options": options,
            "is_twin_pack": license.product.edition == Product.Edition.TWIN_PACK,
            "usage_form": usage_form,
            "recommended": recommended,
            "has_upgrade_path": has_upgrade_path,
            "compare_rows": [
                (
                    years,
                    [
                        (o, next((t for t in o.terms if t.term_years == years), None))
                        for o in options
                    ],
                )
                for years in (1, 2, 3)
            ],
            "blocked_reason": next((o.blocked_reason for o in options if o.blocked_reason), ""),
            "offers_upgrades": license.product.line
            in (Product.Line.CLOUD, Product.Line.TOTAL_SECURITY),
            "outdated": license.product.is_legacy
            or any(device.runs_old_version for device in license.devices.all()),
        },
    )


def _twin_pack_recommendation(license, options, usage_form) -> dict | None:
    """K2: private edition for own devices or two successive years (3 years is cheapest per
    year); the 3-device edition for two people (3 years can be shared with family)."""
    if license.product.edition != Product.Edition.TWIN_PACK or not usage_form.is_valid():
        return None
    usage = usage_form.cleaned_data["usage"]
    edition = (
        Product.Edition.THREE_DEVICE
        if usage == TwinPackUsageForm.SHARED
        else Product.Edition.PRIVATE
    )
    term = 1 if usage == TwinPackUsageForm.OWN_DEVICES else 3
    option = next((o for o in options if o.product.edition == edition), None)
    if option is None:
        return None
    reasons = {
        TwinPackUsageForm.OWN_DEVICES: _(
            "The private edition covers every device you own with one activation code and one "
            "expiry date, even when you add devices later."
        ),
        TwinPackUsageForm.SHARED: _(
            "The 3-device edition covers both of you; with 3 years you can share it with your "
            "family."
        ),
        TwinPackUsageForm.TWO_YEARS: _(
            "The private edition for 3 years covers all your devices, is the cheapest per year "
            "and spares you renewals."
        ),
    }
    return {
        "path_id": option.path.pk,
        "term": term,
        "product": option.product,
        "reason": reasons[usage],
    }


# --- Checkout steps ---------------------------------------------------------------------------------


def _order(request, number: str) -> Order:
    """The visitor's order or 404; a guest's mail link (``?access=``) opens it in this session."""
    token = request.GET.get("access")
    if token and selectors.guest_access_number(token) == number:
        _session_add(request, "guest_orders", number)
    return selectors.order_for_request(request=request, number=number)


def _next_step_for(order: Order):
    """Where an order that is past the details step belongs."""
    if order.status in (S.PAID, S.FULFILLED):
        return redirect("orders:complete", number=order.number)
    if order.status == S.REQUIRES_ACTION:
        return redirect("orders:authenticate", number=order.number)
    if order.status in (S.REFUNDED, S.CANCELED, S.AWAITING_PAYMENT):
        return redirect("orders:detail", number=order.number)
    return None


@never_cache
@require_http_methods(["GET", "POST"])
def details(request, number: str):
    order = _order(request, number)
    if order.status not in services.OPEN_FOR_DETAILS:
        return _next_step_for(order)
    payment = selectors.latest_payment(order=order)
    reusable = payment if payment and payment.status == Payment.Status.CARD_ADDED else None
    initial = {
        "email": order.email or (request.user.email if request.user.is_authenticated else "")
    }
    if order.terms_accepted_at:
        initial["agree"] = True
    form = DetailsForm(request.POST or None, initial=initial, has_card=bool(reusable))
    if request.method == "POST" and form.is_valid():
        try:
            services.enter_details(
                order=order,
                email=form.cleaned_data["email"],
                card_token=form.cleaned_data["card_token"],
            )
        except gateway.CardDeclined as error:
            form.add_error("card_token", error.message)
        except gateway.PaymentError as error:
            form.add_error("card_token", error.message)
        except services.CheckoutError as error:
            form.add_error(None, str(error))
        else:
            return redirect("orders:confirm", number=order.number)
    failed = payment if order.status == S.PAYMENT_FAILED else None
    return render(
        request,
        "checkout/details.html",
        {
            "order": order,
            "form": form,
            "reusable": reusable,
            "failed": failed,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request, number: str):
    order = _order(request, number)
    if order.status != S.DETAILS_ENTERED:
        if order.status in services.OPEN_FOR_DETAILS:
            return redirect("orders:details", number=order.number)
        return _next_step_for(order)
    payment = selectors.latest_payment(order=order)
    if request.method == "POST":
        try:
            result = services.confirm_order(order=order)
        except gateway.GatewayUnavailable as error:
            messages.error(request, error.message)
            return redirect("orders:confirm", number=order.number)
        except (gateway.PaymentError, services.CheckoutError) as error:
            messages.error(request, getattr(error, "message", str(error)))
            return redirect("orders:details", number=order.number)
        if result.order.status == S.PAYMENT_FAILED:
            messages.error(request, result.payment.failure_text)
            return redirect("orders:details", number=order.number)
        return _next_step_for(result.order) or redirect("orders:detail", number=order.number)
    license = order.license
    return render(
        request,
        "checkout/confirm.html",
        {
            "order": order,
            "payment": payment,
            "license": license,
            "new_expires_on": selectors.new_expiry(
                expires_on=license.expires_on,
                term_years=order.term_years,
                paid_on=timezone.localdate(),
            ),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def authenticate(request, number: str):
    """T6: the bank's 3-D Secure challenge in the page, then the server re-reads the payment."""
    order = _order(request, number)
    payment = selectors.latest_payment(order=order)
    if order.status != S.REQUIRES_ACTION or payment is None:
        return _next_step_for(order) or redirect("orders:details", number=order.number)
    try:
        if request.method == "POST":
            if request.POST.get("action") == "another_card":
                order = services.abandon_attempt(order=order)
            else:
                order = services.sync_payment(payment=payment)
            if order.status == S.REQUIRES_ACTION:
                messages.error(
                    request, _("3-D Secure authentication is not finished yet. Please complete it.")
                )
                return redirect("orders:authenticate", number=order.number)
            if order.status == S.PAYMENT_FAILED:
                payment.refresh_from_db()
                messages.error(request, payment.failure_text)
                return redirect("orders:details", number=order.number)
            return _next_step_for(order)
        intent = gateway.retrieve_payment_intent(payment_intent_id=payment.stripe_payment_intent)
    except gateway.PaymentError as error:
        messages.error(request, error.message)
        return render(request, "checkout/authenticate.html", {"order": order, "client_secret": ""})
    return render(
        request,
        "checkout/authenticate.html",
        {
            "order": order,
            "client_secret": intent.client_secret,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "stripe_publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        },
    )


@never_cache
@require_GET
def complete(request, number: str):
    order = _order(request, number)
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
    order = _order(request, number)
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
    return render(
        request,
        "orders/order_list.html",
        {"orders": list(selectors.customer_orders(user=request.user))},
    )


@never_cache
def order_detail(request, number: str):
    order = _order(request, number)
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "payments": list(order.payments.all()),
            "events": list(order.license_events.select_related("new_product", "old_product")),
        },
    )
