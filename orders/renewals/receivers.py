"""What renewals does when the parent app reports a change (connected in ``apps.ready``)."""

import logging

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from orders.models import SavedCard
from orders.payments.cards import card_kept

from . import services
from .models import AutoRenewal

logger = logging.getLogger(__name__)


@receiver(card_kept)
def switch_on_after_checkout(sender, *, payment, card: SavedCard, **kwargs) -> None:
    """The customer opted in at the details step: once the card is kept after a successful
    payment, automatic renewal is on with that card, the order's term and the consent given
    there (time and version recorded on the order)."""
    order = payment.order
    if not order.auto_renew or order.is_automatic:
        return
    if AutoRenewal.objects.filter(
        license_id=order.license_id, consented_at__gte=order.terms_accepted_at
    ).exists():
        return  # already done (a retried task), or a later choice of the customer stands
    try:
        services.switch_on(
            license=order.license,
            card=card,
            term_years=order.term_years,
            source=AutoRenewal.Source.CHECKOUT,
            consented_at=order.terms_accepted_at,
            terms_version=order.terms_versions.get("auto_renewal", ""),
        )
    except services.RenewalError as error:
        # E.g. the product is no longer renewed as itself for that term: the card stays saved,
        # the license page offers the switch with the terms that exist.
        logger.warning("Automatic renewal of %s not switched on: %s", order.license, error)


@receiver(pre_delete, sender=SavedCard)
def switch_off_with_removed_card(sender, instance: SavedCard, **kwargs) -> None:
    """DESIGN 6a: removing the card that automatic renewal charges switches it off (the
    customer was asked first, on the saved-cards page)."""
    services.switch_off_for_card(card=instance)
