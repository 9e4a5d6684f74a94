import re

from django import forms
from django.utils.translation import gettext_lazy as _

from licenses.forms import RegisterLicenseForm
from licenses.models import TERM_CHOICES
from licenses.selectors import TwinPackUsage


class ProductEntryForm(RegisterLicenseForm):
    """T2a: the visitor proves possession of the license with its activation code."""


class ChooseForm(forms.Form):
    path = forms.IntegerField(min_value=1)
    term = forms.TypedChoiceField(
        choices=TERM_CHOICES,
        coerce=int,
        error_messages={"invalid_choice": _("Choose a term of 1, 2 or 3 years.")},
    )


class TwinPackUsageForm(forms.Form):
    """K2: how the twin pack was used decides what we recommend."""

    usage = forms.ChoiceField(
        label=_("How did you use the twin pack?"),
        widget=forms.RadioSelect,
        choices=TwinPackUsage.choices,
    )


class DetailsForm(forms.Form):
    """T4: contact email, the card, agreement to the documents.

    The card is never sent here: the page sets it up at Stripe (``stripe.confirmCardSetup``)
    and posts only the PaymentMethod id, or the customer picks one of their saved cards.
    """

    NEW_CARD = "new"

    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("The order confirmation and the completion mail are sent here."),
    )
    card = forms.ChoiceField(label=_("Card"), widget=forms.RadioSelect, required=False)
    payment_method = forms.CharField(required=False, widget=forms.HiddenInput, max_length=100)
    keep_card = forms.BooleanField(
        label=_("Keep this card for next time"),
        required=False,
        help_text=_(
            "Stored by our payment provider, never by us. You can remove it at any time under "
            "“Saved cards”."
        ),
    )
    auto_renew = forms.BooleanField(
        label=_("Renew automatically with this card"),
        required=False,
        help_text=_(
            "Optional. The card is kept for the renewals; the terms are shown below. You can "
            "cancel at any time on the license page."
        ),
    )
    agree = forms.BooleanField(
        label=_("I agree to the above"),
        error_messages={"required": _("Please read and agree to the documents above.")},
    )

    def __init__(
        self, *args, has_card: bool = False, saved_cards=(), can_keep: bool = False, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.has_card = has_card
        self.saved_cards = {str(card.pk): card for card in saved_cards}
        choices = [
            (
                key,
                _("%(brand)s ending in %(last4)s (expires %(month)02d/%(year)s)")
                % {"brand": card.brand, "last4": card.last4, "month": card.exp_month,
                   "year": card.exp_year},
            )
            for key, card in self.saved_cards.items()
        ]  # fmt: skip
        self.fields["card"].choices = [*choices, (self.NEW_CARD, _("Another card"))]
        if not self.is_bound:
            self.initial.setdefault(
                "card", next(iter(self.saved_cards)) if choices and not has_card else self.NEW_CARD
            )
        if not can_keep:
            del self.fields["keep_card"]
            del self.fields["auto_renew"]  # a saved card needs an account

    def clean_payment_method(self) -> str:
        method = self.cleaned_data.get("payment_method", "").strip()
        if method and not re.fullmatch(r"pm_\w{1,90}", method):
            raise forms.ValidationError(_("The card could not be read. Please enter it again."))
        return method

    def clean(self):
        cleaned = super().clean()
        choice = cleaned.get("card") or self.NEW_CARD
        cleaned["saved_card"] = self.saved_cards.get(choice)
        if cleaned["saved_card"] is not None:
            cleaned["payment_method"] = ""
        elif not (
            cleaned.get("payment_method") or self.has_card or "payment_method" in self.errors
        ):
            self.add_error("payment_method", _("Enter your card details."))
        return cleaned


class RemoveCardForm(forms.Form):
    card = forms.IntegerField(min_value=1, max_value=2**63 - 1)
    confirm = forms.BooleanField(required=False)
