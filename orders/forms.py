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
    """T4: contact email, the card (as a stripe.js token only), agreement to the documents."""

    email = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=_("The order confirmation and the completion mail are sent here."),
    )
    card_token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)
    agree = forms.BooleanField(
        label=_("I agree to the above"),
        error_messages={"required": _("Please read and agree to the documents above.")},
    )

    def __init__(self, *args, has_card: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_card = has_card

    def clean_card_token(self) -> str:
        token = self.cleaned_data.get("card_token", "").strip()
        if not token and not self.has_card:
            raise forms.ValidationError(_("Enter your card details."))
        if token and not token.startswith("tok_"):
            raise forms.ValidationError(_("The card could not be read. Please enter it again."))
        return token
