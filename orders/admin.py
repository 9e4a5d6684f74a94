"""Operators' view of orders, payments, refunds, disputes and Stripe events; refunds and
reprocessing are actions that call the payment services, never edits of the rows."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from licenses.admin import LicenseEventInline, ReadOnlyAdmin, ReadOnlyInline

from .fulfilment import extend_license
from .models import (
    Dispute,
    Order,
    Payment,
    Refund,
    SavedCard,
    SentMail,
    StripeCustomer,
    WebhookEvent,
)
from .payments.flags import clear_flag
from .payments.gateway import PaymentError
from .payments.refunds import RefundError, refund_order
from .payments.sync import sync_payment
from .payments.webhooks import handle_webhook_event
from .selectors import stuck_orders


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ["attempt", "status", "amount", "card_brand", "card_last4", "keep_card",
              "stripe_payment_method", "stripe_payment_intent", "failure_code", "failure_message",
              "card_settled_at", "updated_at"]  # fmt: skip
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = ["created_at", "reason", "status", "amount", "stripe_id", "stripe_payment_intent",
              "failure_reason", "actor", "updated_at"]  # fmt: skip
    readonly_fields = fields


class DisputeInline(ReadOnlyInline):
    model = Dispute
    fields = ["created_at", "stripe_id", "status", "reason", "amount", "updated_at"]
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


class DisputeFilter(admin.SimpleListFilter):
    """Orders a card holder disputed (DESIGN 5.8)."""

    title = _("dispute")
    parameter_name = "dispute"

    def lookups(self, request, model_admin):
        return [("open", _("open")), ("lost", _("lost")), ("any", _("any"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return (
                queryset.filter(disputes__isnull=False)
                .exclude(disputes__status__in=Dispute.CLOSED)
                .distinct()
            )
        if self.value() == "lost":
            return queryset.filter(disputes__status=Dispute.LOST).distinct()
        if self.value() == "any":
            return queryset.filter(disputes__isnull=False).distinct()
        return queryset


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "created_at", "contact", "license", "product", "term_years",
                    "amount", "refunded", "status", "attention"]  # fmt: skip
    list_filter = ["attention", "status", "kind", StuckFilter, DisputeFilter, "path_kind", "term_years",
                   "created_at"]  # fmt: skip
    list_select_related = ["license", "product", "customer"]
    search_fields = ["=number", "email", "customer__email", "license__serial"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "number", "customer", "email", "license", "from_product", "product", "path_kind",
        "term_years", "price", "price_kind", "amount", "tax", "tax_rate", "status",
        "amount_refunded", "attention", "attention_note", "language", "terms_accepted_at",
        "terms_versions", "stripe_customer_id", "stripe_setup_intent", "created_at", "updated_at",
        "paid_at", "fulfilled_at", "refunded_at", "canceled_at", "timeline",
    ]  # fmt: skip
    inlines = [PaymentInline, RefundInline, DisputeInline, LedgerInline, SentMailInline]
    actions = ["reprocess", "refund", "mark_handled"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("customer"))
    def contact(self, obj):
        return obj.customer.email if obj.customer_id else f"{obj.email} (guest)"

    @admin.display(description=_("refunded (JPY)"), ordering="amount_refunded")
    def refunded(self, obj):
        """A partial refund shows here: it is recorded, never reversed by itself."""
        return obj.amount_refunded or "—"

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
        for refund in obj.refunds.all():
            rows.append(
                (
                    refund.created_at,
                    _("Refund %(status)s: ¥%(amount)s (%(reason)s)")
                    % {"status": refund.get_status_display(), "amount": f"{refund.amount:,}",
                       "reason": refund.get_reason_display()},
                )
            )  # fmt: skip
        for label, at in [(_("Paid"), obj.paid_at), (_("License extended"), obj.fulfilled_at),
                          (_("Refunded"), obj.refunded_at), (_("Canceled"), obj.canceled_at)]:  # fmt: skip
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
        done = failed = 0
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
                failed += 1
                self.message_user(request, f"{order.number}: {error.message}", messages.ERROR)
        done_text = ngettext(
            "%(count)d order reprocessed.", "%(count)d orders reprocessed.", done
        ) % {"count": done}
        _report(self, request, done, done_text, failed)

    @admin.action(
        description=_("Refund through Stripe and reverse the extension…"), permissions=["change"]
    )
    def refund(self, request, queryset):
        """Asks first (an intermediate page listing what will be refunded), then refunds."""
        orders = queryset.select_related("product", "license").order_by("created_at")
        if request.POST.get("confirm") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": _("Refund these orders?"),
                "opts": self.model._meta,
                "queryset": orders,
                "action": "refund",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/orders/order/refund_confirmation.html", context)
        for order in orders:
            try:
                refund = refund_order(order=order, actor=request.user)
            except (RefundError, PaymentError) as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            if refund is None or refund.status == Refund.Status.SUCCEEDED:
                self.message_user(
                    request, _("Order %(number)s refunded.") % {"number": order.number}
                )
            elif refund.status == Refund.Status.FAILED:
                self.message_user(
                    request,
                    _("Stripe could not refund order %(number)s (%(reason)s); nothing changed.")
                    % {"number": order.number, "reason": refund.failure_reason or "?"},
                    messages.ERROR,
                )
            else:
                self.message_user(
                    request,
                    _(
                        "The refund of order %(number)s is %(status)s at Stripe: the extension is "
                        "taken back once it succeeds."
                    )
                    % {"number": order.number, "status": refund.get_status_display()},
                    messages.WARNING,
                )

    @admin.action(
        description=_("Mark as handled (clear “needs attention”)"), permissions=["change"]
    )
    def mark_handled(self, request, queryset):
        for order in queryset.exclude(attention=""):
            clear_flag(order=order)
        self.message_user(request, _("Flags cleared."))


def _report(model_admin, request, done: int, done_text: str, failed: int) -> None:
    """Say what was done and what was not: never "reprocessed" for rows that failed."""
    if done:
        model_admin.message_user(request, done_text, messages.SUCCESS)
    if failed:
        model_admin.message_user(
            request,
            ngettext(
                "%(count)d failed: see the messages above (and the row's last error).",
                "%(count)d failed: see the messages above (and the rows' last errors).",
                failed,
            )
            % {"count": failed},
            messages.ERROR,
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
        done = failed = 0
        for event in queryset:
            try:
                handle_webhook_event(event=event)
            except Exception as error:  # shown to the operator, kept on the row
                failed += 1
                self.message_user(request, f"{event.stripe_id}: {error}", messages.ERROR)
            else:
                done += 1
        done_text = ngettext(
            "%(count)d event reprocessed.", "%(count)d events reprocessed.", done
        ) % {"count": done}
        _report(self, request, done, done_text, failed)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "order", "reason", "status", "amount", "stripe_id", "actor"]
    list_filter = ["status", "reason"]
    list_select_related = ["order", "actor"]
    search_fields = ["=stripe_id", "order__number", "stripe_payment_intent"]


class SavedCardInline(ReadOnlyInline):
    model = SavedCard
    fields = ["brand", "last4", "exp_month", "exp_year", "stripe_payment_method", "saved_at"]
    readonly_fields = fields


@admin.register(StripeCustomer)
class StripeCustomerAdmin(ReadOnlyAdmin):
    list_display = ["user", "stripe_id", "created_at"]
    search_fields = ["=stripe_id", "user__email"]
    inlines = [SavedCardInline]
