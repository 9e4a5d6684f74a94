"""Forms of the receipt request (customer) and of the admin's decline and reissue pages (staff).

Text for the PDF is checked by ``services.clean_receipt_text``, the same rule the services apply.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from orders.models import Order

from .selectors import ADDRESSEE_MAX_LENGTH, PROVISO_MAX_LENGTH, default_addressee, default_proviso
from .services import ReceiptError, clean_receipt_text


def _clean_for_pdf(value: str, *, max_length: int, strip_honorific: bool = False) -> str:
    try:
        return clean_receipt_text(value, max_length=max_length, strip_honorific=strip_honorific)
    except ReceiptError as error:
        raise ValidationError(str(error)) from error


class ReceiptTextMixin:
    def clean_addressee(self) -> str:
        return _clean_for_pdf(
            self.cleaned_data["addressee"],
            max_length=ADDRESSEE_MAX_LENGTH,
            strip_honorific=True,
        )

    def clean_proviso(self) -> str:
        return _clean_for_pdf(self.cleaned_data["proviso"], max_length=PROVISO_MAX_LENGTH)


class ReceiptRequestForm(ReceiptTextMixin, forms.Form):
    # The form accepts a little more than fits so the error can say how much to shorten.
    addressee = forms.CharField(
        label=_("Addressee (宛名)"),
        max_length=200,
        help_text=_(
            "Printed on the receipt followed by 様. Enter your company name if the receipt is "
            "for your company."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    proviso = forms.CharField(
        label=_("Proviso (但し書き)"),
        max_length=200,
        help_text=_("Printed as 「但し …」: what the payment was for."),
    )

    def __init__(self, *args, order: Order, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "addressee": default_addressee(order=order),
                "proviso": default_proviso(order=order),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["addressee"].widget.attrs["maxlength"] = ADDRESSEE_MAX_LENGTH
        self.fields["proviso"].widget.attrs["maxlength"] = PROVISO_MAX_LENGTH


class RecordReceiptRequestForm(ReceiptTextMixin, forms.Form):
    """Support staff record a request made by mail or phone (a guest order has no other way)."""

    order = forms.CharField(
        label=_("Order number"),
        max_length=20,
        help_text=_("As the customer quotes it, e.g. R261201-7K3Q9X2M."),
    )
    addressee = forms.CharField(label=_("Addressee (宛名)"), max_length=200)
    proviso = forms.CharField(label=_("Proviso (但し書き)"), max_length=200)

    def clean_order(self) -> Order:
        number = self.cleaned_data["order"].strip().upper()
        order = Order.objects.filter(number=number).first()
        if order is None:
            raise ValidationError(_("No order has this number."))
        return order


class DeclineReceiptForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the customer)"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )


class ReissueReceiptForm(ReceiptTextMixin, forms.Form):
    """A reissue says why; with one receipt selected it may also correct addressee and proviso."""

    note = forms.CharField(
        label=_("Reason for the reissue (kept in the receipt's history)"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    addressee = forms.CharField(label=_("Addressee (宛名)"), max_length=200)
    proviso = forms.CharField(label=_("Proviso (但し書き)"), max_length=200)

    def __init__(self, *args, correctable: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not correctable:
            del self.fields["addressee"]
            del self.fields["proviso"]
