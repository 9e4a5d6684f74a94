"""Who may see which order or renew which license, from a request (DESIGN 9).

A signed-in customer reaches their own licenses and orders. A visitor who proved possession of a
license with its activation code (T2a) reaches that license's renewal and the guest orders they
placed, for the rest of the session; a guest's mail links carry a signed token that opens the
order in a new session. Everything else is a 404, the same answer as for a number that does not
exist.
"""

from __future__ import annotations

from django.core import signing
from django.http import Http404

from licenses.models import License

from .models import Order

RENEW_ACCESS = "renew_access"  # serials proven with their activation code (T2a)
PRODUCT_ENTRY = "product_entry"  # serials whose renewal started from the installed program
GUEST_ORDERS = "guest_orders"  # order numbers this session placed or opened as a guest
_SESSION_LIST_LENGTH = 20

_ACCESS_SALT = "orders.guest-access"
_ACCESS_MAX_AGE = 60 * 60 * 24 * 30


def session_list(request, key: str) -> list[str]:
    return list(request.session.get(key, []))


def session_add(request, key: str, value: str) -> None:
    """Remember ``value`` under ``key`` for this session (the most recent few are kept)."""
    values = session_list(request, key)
    if value not in values:
        request.session[key] = [*values[-(_SESSION_LIST_LENGTH - 1) :], value]


def owns(request, license: License) -> bool:
    return request.user.is_authenticated and license.owner_id == request.user.pk


def license_for_renewal(request, serial: str) -> tuple[License, bool]:
    """The license and whether the visitor came through the product entry; 404 otherwise."""
    license = License.objects.select_related("product").filter(serial=serial.upper()).first()
    if license is None:
        raise Http404
    if not (owns(request, license) or license.serial in session_list(request, RENEW_ACCESS)):
        raise Http404
    return license, license.serial in session_list(request, PRODUCT_ENTRY)


def guest_access_token(order: Order) -> str:
    """A signed token for a guest's mail links: it opens that one order for 30 days."""
    return signing.dumps(order.number, salt=_ACCESS_SALT)


def guest_access_number(token: str) -> str | None:
    try:
        return signing.loads(token, salt=_ACCESS_SALT, max_age=_ACCESS_MAX_AGE)
    except signing.BadSignature:
        return None


def order_for_request(request, number: str) -> Order:
    """The visitor's order or 404; a guest's mail link (``?access=``) opens it in this session."""
    token = request.GET.get("access")
    if token and guest_access_number(token) == number:
        session_add(request, GUEST_ORDERS, number)
    order = (
        Order.objects.select_related("license", "product", "from_product", "customer", "price")
        .filter(number=number)
        .first()
    )
    if order is None:
        raise Http404
    user = request.user
    if order.customer_id and user.is_authenticated and order.customer_id == user.pk:
        return order
    if order.customer_id is None and number in session_list(request, GUEST_ORDERS):
        return order
    raise Http404
