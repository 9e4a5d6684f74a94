"""Receipt pages of the customer: the receipt of an order, the request, the PDF download (DESIGN 7, 9).

A customer sees only their own orders' receipts; anyone else gets 404, as for a missing order. A
guest reaches a guest order's receipt (recorded for them by support staff) the way they reach the
order: from this session's checkout or the signed link in their mail. Staff with the receipt view
permission may download any issued receipt.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orders.access import order_for_request
from orders.models import Order

from . import services
from .forms import ReceiptRequestForm
from .models import Receipt


def _own_order(request, number: str) -> Order:
    return get_object_or_404(
        Order.objects.select_related("product", "customer"), number=number, customer=request.user
    )


@require_GET
def receipt_page(request, number: str):
    """The receipt of one order on its own page: the mail's link and the request's error page.

    A signed-out visitor without guest access is asked to sign in (the order may be theirs).
    """
    try:
        order = order_for_request(request, number)
    except Http404:
        if request.user.is_authenticated:
            raise
        return redirect_to_login(request.get_full_path())
    return render(request, "receipts/receipt_page.html", {"order": order})


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
    return HttpResponseRedirect(_next_page(request, order))


def _next_page(request, order: Order) -> str:
    """Back to the page the form was on (a path of this site), else the receipt page.

    Only an absolute path is followed: anything else (``next=1``, a view name, another host) is
    not a page the form was on.
    """
    target = request.POST.get("next", "")
    if (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return reverse("receipts:detail", args=[order.number])


@require_GET
def download_receipt(request, number: str):
    """The PDF, for the order's owner (or its guest) and for staff; 404 for everyone else."""
    user = request.user
    if user.is_active and user.is_staff and user.has_perm("receipts.view_receipt"):
        order = get_object_or_404(Order, number=number)
    else:
        order = order_for_request(request, number)
    receipt = order.receipts.filter(state=Receipt.State.ISSUED).first()
    if receipt is None or not receipt.is_downloadable:
        raise Http404
    response = FileResponse(
        receipt.pdf.open("rb"), as_attachment=True, filename=receipt.download_name
    )
    response["Cache-Control"] = "private, no-store"
    return response
