"""Receipt pages of the customer: the receipt of an order, the request, the PDF download (DESIGN 7, 9).

A customer sees only their own orders' receipts; anyone else gets 404, as for a missing order.
Staff with the receipt view permission may download any issued receipt.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orders.models import Order

from . import services
from .forms import ReceiptRequestForm
from .models import Receipt


def _own_order(request, number: str) -> Order:
    return get_object_or_404(
        Order.objects.select_related("product", "customer"), number=number, customer=request.user
    )


@login_required
@require_GET
def receipt_page(request, number: str):
    """The receipt of one order on its own page: the mail's link and the request's error page."""
    return render(request, "receipts/receipt_page.html", {"order": _own_order(request, number)})


@login_required
@require_POST
def request_receipt(request, number: str):
    order = _own_order(request, number)
    form = ReceiptRequestForm(request.POST, order=order)
    if not form.is_valid():
        context = {"order": order, "receipt_form": form, "receipt_next": _next_page(request, order)}
        return render(request, "receipts/receipt_page.html", context)
    try:
        services.request_receipt(
            order=order,
            customer=request.user,
            addressee=form.cleaned_data["addressee"],
            proviso=form.cleaned_data["proviso"],
        )
    except services.ReceiptError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _(
                "Your receipt request has been received. We will email you when the receipt is ready."
            ),
        )
    return redirect(_next_page(request, order))


def _next_page(request, order: Order) -> str:
    """Back to the page the form was on (the order page) if it is ours, else the receipt page."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("receipts:detail", args=[order.number])


@require_GET
def download_receipt(request, number: str):
    """The PDF, for the order's owner and for staff; 404 for everyone else, signed in or not."""
    user = request.user
    order = get_object_or_404(Order, number=number)
    is_owner = user.is_authenticated and order.customer_id == user.pk
    is_staff = user.is_active and user.is_staff and user.has_perm("receipts.view_receipt")
    if not (is_owner or is_staff):
        raise Http404
    receipt = order.receipts.filter(state=Receipt.State.ISSUED).first()
    if receipt is None or not receipt.is_downloadable:
        raise Http404
    response = FileResponse(
        receipt.pdf.open("rb"), as_attachment=True, filename=receipt.download_name
    )
    response["Cache-Control"] = "private, no-store"
    return response
