"""``{% auto_renewal_panel license %}``: the automatic-renewal part of the license page (the
licenses app renders the page; this app knows the card, the schedule and the attempts)."""

from django import template
from django.utils import timezone

from orders.renewals.selectors import renewal_state, renewal_term

register = template.Library()


@register.inclusion_tag("renewals/_panel.html")
def auto_renewal_panel(license):
    state = renewal_state(license=license, today=timezone.localdate())
    term = None
    if state.on and state.renewal:
        _option, term = renewal_term(license=license, term_years=state.renewal.term_years)
    return {"license": license, "state": state, "term": term}
