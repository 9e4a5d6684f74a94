import re

from django import forms
from django.utils.translation import gettext_lazy as _

from licenses.models import TERM_CHOICES


class SwitchOnForm(forms.Form):
    """Opt in from the license page: the term, a saved card or a new one (set up in the page,
    only its ``pm_…`` posted), and the consent to the terms shown above it (never preselected)."""

    NEW_CARD = "new"

    term = forms.TypedChoiceField(
        label=_("Renew each time for"),
        choices=TERM_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose a term of 1, 2 or 3 years.")},
    )
    card = forms.ChoiceField(label=_("Card"), widget=forms.RadioSelect, required=False)
    payment_method = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)
    agree = forms.BooleanField(
        label=_("I agree to the automatic renewal terms above"),
        error_messages={"required": _("Please read and agree to the automatic renewal terms.")},
    )

    def __init__(self, *args, saved_cards=(), terms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.saved_cards = {str(card.pk): card for card in saved_cards}
        self.fields["card"].choices = [
            *(
                (
                    key,
                    _("%(brand)s ending in %(last4)s (expires %(month)02d/%(year)s)")
                    % {
                        "brand": card.brand,
                        "last4": card.last4,
                        "month": card.exp_month,
                        "year": card.exp_year,
                    },
                )
                for key, card in self.saved_cards.items()
            ),
            (self.NEW_CARD, _("Another card")),
        ]
        available = {term.term_years for term in terms}
        self.fields["term"].choices = [(y, label) for y, label in TERM_CHOICES if y in available]
        if not self.is_bound:
            self.initial.setdefault("card", next(iter(self.saved_cards), self.NEW_CARD))

    def clean_payment_method(self) -> str:
        method = self.cleaned_data.get("payment_method", "").strip()
        if method and not re.fullmatch(r"pm_\w{1,90}", method):
            raise forms.ValidationError(_("The card could not be read. Please enter it again."))
        return method

    def clean(self):
        cleaned = super().clean()
        cleaned["saved_card"] = self.saved_cards.get(cleaned.get("card") or self.NEW_CARD)
        if cleaned["saved_card"] is not None:
            cleaned["payment_method"] = ""
        elif not cleaned.get("payment_method") and "payment_method" not in self.errors:
            self.add_error("payment_method", _("Enter your card details."))
        return cleaned


class ReplaceCardForm(forms.Form):
    card = forms.IntegerField(min_value=1, max_value=2**63 - 1)
