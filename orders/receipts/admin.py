"""The receipt queue in admin (K9, DESIGN 1 and 7): filter by state; Issue, Reissue, Decline.

Nobody edits a receipt's fields here: every change is an action that calls its service in
``orders.receipts.services``, which records who did it. The actions need ``receipts.issue_receipt``
(the support group has it); Decline and Reissue ask for a reason on an intermediate page. "Add"
records a request a customer made by mail or phone (the way to a receipt for a guest order).
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from licenses.admin import ReadOnlyAdmin, ReadOnlyInline

from . import services
from .forms import DeclineReceiptForm, RecordReceiptRequestForm, ReissueReceiptForm
from .models import Receipt, ReceiptEvent


class ReceiptEventInline(ReadOnlyInline):
    """The audit trail, read-only."""

    model = ReceiptEvent
    fields = ["created_at", "kind", "actor", "issue_count", "note"]
    readonly_fields = fields


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    list_display = [
        "requested_at",
        "order_number",
        "customer_email",
        "addressee",
        "state",
        "number",
        "issue_count",
        "pdf_link",
    ]
    list_filter = ["state", "requested_at"]
    list_select_related = ["order", "order__customer", "issued_by"]
    search_fields = [
        "number",
        "order__number",
        "order__email",
        "order__customer__email",
        "addressee",
    ]
    date_hierarchy = "requested_at"
    ordering = ["requested_at"]  # the queue: oldest request first
    actions = ["issue_selected", "reissue_selected", "decline_selected"]
    fieldsets = [
        (
            _("Order"),
            {
                "fields": [
                    "order_number",
                    "order_status",
                    "order_amount",
                    "order_paid_at",
                    "customer_email",
                ]
            },
        ),
        (_("Request"), {"fields": ["addressee", "proviso", "requested_by", "requested_at"]}),
        (
            _("Receipt"),
            {
                "fields": [
                    "state",
                    "number",
                    "issue_count",
                    "issued_at",
                    "last_issued_at",
                    "issued_by",
                    "decline_reason",
                    "pdf_link",
                ]
            },
        ),
    ]
    inlines = [ReceiptEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "order__customer", "issued_by")

    def get_readonly_fields(self, request, obj=None):
        return flatten_fieldsets(self.fieldsets)

    def has_add_permission(self, request):
        # Customers request receipts from their order page; staff record a request made by mail
        # or phone (``add_view``), the only way for a guest order.
        return self.has_issue_permission(request)

    def has_change_permission(self, request, obj=None):
        return False  # every change is an action, recorded with who did it

    def has_delete_permission(self, request, obj=None):
        return False  # issued numbers stay accounted for

    def has_issue_permission(self, request):
        return request.user.has_perm("receipts.issue_receipt")

    def add_view(self, request, form_url="", extra_context=None):
        """Record a request for an order (addressee, proviso) through the service."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RecordReceiptRequestForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                receipt = services.record_receipt_request(
                    order=form.cleaned_data["order"],
                    staff=request.user,
                    addressee=form.cleaned_data["addressee"],
                    proviso=form.cleaned_data["proviso"],
                )
            except services.ReceiptError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(
                    request,
                    _("Receipt request recorded for order %(order)s; issue it from the queue.")
                    % {"order": receipt.order.number},
                    messages.SUCCESS,
                )
                return redirect("admin:receipts_receipt_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a receipt request"),
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "receipts/admin/record_request.html", context)

    # --- Columns ---------------------------------------------------------------------------------

    @admin.display(description=_("order"), ordering="order__number")
    def order_number(self, obj):
        try:
            url = reverse("admin:orders_order_change", args=[obj.order_id])
        except NoReverseMatch:
            return obj.order.number
        return format_html('<a href="{}">{}</a>', url, obj.order.number)

    @admin.display(description=_("order status"))
    def order_status(self, obj):
        return obj.order.get_status_display()

    @admin.display(description=_("total (JPY, tax included)"))
    def order_amount(self, obj):
        order = obj.order
        return f"¥{order.amount:,} ({order.tax_rate}%: ¥{order.tax:,})"

    @admin.display(description=_("paid at"))
    def order_paid_at(self, obj):
        return obj.order.paid_at

    @admin.display(description=_("customer"), ordering="order__email")
    def customer_email(self, obj):
        return obj.order.contact_email

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj):
        if obj.is_downloadable:
            url = reverse("receipts:download", args=[obj.order.number])
            return format_html('<a href="{}">{}</a>', url, obj.download_name)
        if obj.state == Receipt.State.ISSUED:
            return _("being rendered")
        return "—"

    # --- Actions ---------------------------------------------------------------------------------

    @admin.action(description=_("Issue the selected receipts"), permissions=["issue"])
    def issue_selected(self, request, queryset):
        done = self._apply(
            request,
            queryset,
            lambda receipt: services.issue_receipt(receipt=receipt, staff=request.user),
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d receipt issued; its PDF is being rendered and the customer will be mailed.",
                    "%(count)d receipts issued; their PDFs are being rendered and the customers will be mailed.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_("Reissue the selected receipts…"), permissions=["issue"])
    def reissue_selected(self, request, queryset):
        queryset = self._only_in_state(request, queryset, Receipt.State.ISSUED)
        if not queryset.exists():
            return None
        correctable = queryset.count() == 1
        form = ReissueReceiptForm(
            request.POST if "apply" in request.POST else None,
            correctable=correctable,
            initial=_single_initial(queryset) if correctable else None,
        )
        if not form.is_valid():
            return self._intermediate_page(
                request, queryset, form, action="reissue_selected", title=_("Reissue receipts")
            )
        data = form.cleaned_data
        done = self._apply(
            request,
            queryset,
            lambda receipt: services.reissue_receipt(
                receipt=receipt,
                staff=request.user,
                note=data["note"],
                addressee=data.get("addressee"),
                proviso=data.get("proviso"),
            ),
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d receipt reissued with the same number, marked 再発行.",
                    "%(count)d receipts reissued with the same numbers, marked 再発行.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        return None

    @admin.action(description=_("Decline the selected requests…"), permissions=["issue"])
    def decline_selected(self, request, queryset):
        queryset = self._only_in_state(request, queryset, Receipt.State.REQUESTED)
        if not queryset.exists():
            return None
        form = DeclineReceiptForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._intermediate_page(
                request,
                queryset,
                form,
                action="decline_selected",
                title=_("Decline receipt requests"),
            )
        reason = form.cleaned_data["reason"]
        done = self._apply(
            request,
            queryset,
            lambda receipt: services.decline_receipt(
                receipt=receipt, staff=request.user, reason=reason
            ),
        )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d request declined; the customer will be mailed the reason.",
                    "%(count)d requests declined; the customers will be mailed the reason.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        return None

    def _only_in_state(self, request, queryset, state: str):
        """The selected receipts the action applies to; the others are named and left alone."""
        others = queryset.exclude(state=state).count()
        if others:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected receipt is not “%(state)s” and was left as it is.",
                    "%(count)d selected receipts are not “%(state)s” and were left as they are.",
                    others,
                )
                % {"count": others, "state": Receipt.State(state).label},
                messages.WARNING,
            )
        return queryset.filter(state=state)

    def _apply(self, request, queryset, operation) -> int:
        """Run ``operation`` on each receipt in its own transaction; report the refused ones."""
        done = 0
        for receipt in queryset.order_by("requested_at", "pk"):
            try:
                operation(receipt)
            except services.ReceiptError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                done += 1
        return done

    def _intermediate_page(self, request, queryset, form, *, action: str, title):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset.select_related("order"),
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "receipts/admin/action_form.html", context)


def _single_initial(queryset) -> dict:
    receipt = queryset.first()
    return {"addressee": receipt.addressee, "proviso": receipt.proviso}


@admin.register(ReceiptEvent)
class ReceiptEventAdmin(ReadOnlyAdmin):
    """Every receipt action across the shop, for audits: who issued, reissued or declined what."""

    list_display = ["created_at", "receipt", "kind", "actor", "issue_count"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["receipt", "receipt__order", "actor"]
    search_fields = ["receipt__number", "receipt__order__number", "actor__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["receipt", "kind", "actor", "issue_count", "note", "created_at"]
