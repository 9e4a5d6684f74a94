"""Operators' view of orders, payments and Stripe events; refunds and reprocessing are actions
that call the payment services, never edits of the rows."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from licenses.admin import LicenseEventInline, ReadOnlyAdmin, ReadOnlyInline

from .fulfilment import extend_license
from .models import Order, Payment, SentMail, WebhookEvent
from .payments.gateway import PaymentError
from .payments.refunds import RefundError, refund_order
from .payments.sync import sync_payment
from .payments.webhooks import handle_webhook_event
from .selectors import stuck_orders


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["attempt", "status", "amount", "card_brand", "card_last4", "stripe_payment_intent",
              "stripe_refund", "failure_code", "failure_message", "updated_at"]  # fmt: skip
    readonly_fields = fields


class LedgerInline(LicenseEventInline):
    fk_name = "order"
    verbose_name_plural = _("license changes")


class SentMailInline(ReadOnlyInline):
    model = SentMail
    fields = ["sent_at", "key", "to"]
    readonly_fields = fields


class StuckFilter(admin.SimpleListFilter):
    """Orders the reconciliation job would look at: payment half-way, or paid but not extended."""

    title = _("stuck")
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [
            ("payment", _("payment not finished")),
            ("extension", _("paid, not extended")),
            ("any", _("any of these")),
        ]

    def queryset(self, request, queryset):
        stuck = stuck_orders()
        conditions = {**stuck, "any": stuck["payment"] | stuck["extension"]}
        if self.value() in conditions:
            return queryset.filter(conditions[self.value()]).distinct()
        return queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "created_at", "contact", "license", "product", "term_years",
                    "amount", "status"]  # fmt: skip
    list_filter = ["status", StuckFilter, "path_kind", "term_years", "created_at"]
    list_select_related = ["license", "product", "customer"]
    search_fields = ["=number", "email", "customer__email", "license__serial"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "number", "customer", "email", "license", "from_product", "product", "path_kind",
        "term_years", "price", "price_kind", "amount", "tax", "tax_rate", "status", "language",
        "terms_accepted_at", "terms_versions", "stripe_customer_id", "created_at", "updated_at",
        "paid_at", "fulfilled_at", "refunded_at", "timeline",
    ]  # fmt: skip
    inlines = [PaymentInline, LedgerInline, SentMailInline]
    actions = ["reprocess", "refund"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("customer"))
    def contact(self, obj):
        return obj.customer.email if obj.customer_id else f"{obj.email} (guest)"

    @admin.display(description=_("timeline"))
    def timeline(self, obj):
        rows = [(obj.created_at, _("Order created"))]
        if obj.terms_accepted_at:
            rows.append((obj.terms_accepted_at, _("Details entered, terms accepted")))
        for payment in obj.payments.all():
            rows.append(
                (payment.created_at, _("Card added: attempt %(n)s") % {"n": payment.attempt})
            )
            rows.append(
                (
                    payment.updated_at,
                    f"#{payment.attempt} {payment.get_status_display()}"
                    + (f" ({payment.failure_code})" if payment.failure_code else ""),
                )
            )
        for label, at in [(_("Paid"), obj.paid_at), (_("License extended"), obj.fulfilled_at),
                          (_("Refunded"), obj.refunded_at)]:  # fmt: skip
            if at:
                rows.append((at, label))
        for mail in obj.sent_mails.all():
            rows.append((mail.sent_at, _("Mail sent: %(key)s") % {"key": mail.key}))
        rows.sort(key=lambda row: row[0])
        items = ((timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S"), text) for at, text in rows)
        return format_html(
            "<ol class='timeline'>{}</ol>", format_html_join("", "<li>{} — {}</li>", items)
        )

    # Actions move money and licenses: operators only (``change_order``), never support staff.
    @admin.action(
        description=_("Reprocess: re-read payment from Stripe and finish extension"),
        permissions=["change"],
    )
    def reprocess(self, request, queryset):
        done = 0
        for order in queryset:
            payment = (
                order.payments.exclude(stripe_payment_intent=None).order_by("-attempt").first()
            )
            try:
                if payment:
                    sync_payment(payment=payment)
                order.refresh_from_db()
                if order.status == Order.Status.PAID:
                    extend_license(order=order)
                done += 1
            except PaymentError as error:
                self.message_user(request, f"{order.number}: {error.message}", messages.ERROR)
        self.message_user(request, _("%(count)d orders reprocessed.") % {"count": done})

    @admin.action(
        description=_("Refund through Stripe and reverse the extension"), permissions=["change"]
    )
    def refund(self, request, queryset):
        for order in queryset:
            try:
                refund_order(order=order, actor=request.user)
            except (RefundError, PaymentError) as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request, _("Order %(number)s refunded.") % {"number": order.number}
                )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "attempt", "status", "amount", "card_brand", "card_last4",
                    "failure_code", "updated_at"]  # fmt: skip
    list_filter = ["status", "card_brand"]
    list_select_related = ["order"]
    search_fields = ["order__number", "stripe_payment_intent"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "type", "stripe_id", "status", "attempts", "processed_at",
                    "short_error"]  # fmt: skip
    list_filter = ["status", "type"]
    search_fields = ["=stripe_id"]
    readonly_fields = ["stripe_id", "type", "status", "received_at", "processed_at", "attempts",
                       "last_error", "pretty_payload"]  # fmt: skip
    exclude = ["payload"]
    actions = ["reprocess"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:80]

    @admin.display(description=_("payload"))
    def pretty_payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, ensure_ascii=False))

    @admin.action(description=_("Reprocess"), permissions=["change"])
    def reprocess(self, request, queryset):
        for event in queryset:
            try:
                handle_webhook_event(event=event)
            except Exception as error:  # shown to the operator, kept on the row
                self.message_user(request, f"{event.stripe_id}: {error}", messages.ERROR)
        self.message_user(request, _("Events reprocessed."))
