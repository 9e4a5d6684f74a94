"""Demo automatic renewal for ``make run`` (issue 11 point 7): the demo customer's Cloud license
(``MAMO-DEMO-0007-CLOD``, due within the next weeks from ``seed_demo``) renews automatically with
Stripe's test card 4242 saved on the account.

The card lives at Stripe, and ``make run``'s localstripe starts empty every time: so this runs
once localstripe is up (``manage.py seed_demo_auto_renewal``, started by the Procfile), and
again on every start. The card is set up as the license page does, with stripe.js's request done
from Python (``payments.testing``), never with a card number through the shop's server.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from licenses.models import License
from orders.legal import AUTO_RENEWAL_TERMS_VERSION
from orders.payments import cards
from orders.payments.testing import confirm_card_setup

from . import services
from .models import AutoRenewal

DEMO_OWNER = "demo@example.com"
DEMO_SERIAL = "MAMO-DEMO-0007-CLOD"
DEMO_CARD = "4242424242424242"


def load_demo_auto_renewal() -> AutoRenewal | None:
    """Save the test card for the demo customer and switch the demo license's automatic renewal
    on with it (consent recorded as given on the license page). None without the demo data."""
    user = get_user_model().objects.filter(email=DEMO_OWNER).first()
    license = License.objects.filter(serial=DEMO_SERIAL, owner=user).first()
    if user is None or license is None:
        return None
    # A fresh localstripe no longer knows the account's customer: its cards are forgotten (and
    # automatic renewal with them switched off); a card Stripe still has is kept as it is.
    customer_id = cards.customer_for_account(user=user)
    license.refresh_from_db()
    renewal = AutoRenewal.objects.filter(
        license=license, card__customer__stripe_id=customer_id
    ).first()
    if renewal is not None and license.auto_renew:
        return renewal
    setup = services.prepare_card_setup(license=license, user=user)
    pm = confirm_card_setup(setup.client_secret, DEMO_CARD)["payment_method"]
    card = cards.save_card(user=user, payment_method=pm)
    return services.switch_on(
        license=license,
        card=card,
        term_years=1,
        source=AutoRenewal.Source.LICENSE_PAGE,
        terms_version=AUTO_RENEWAL_TERMS_VERSION,
    )
