"""Automatic renewal for operators (issue 11 point 7): the licenses on it with their next
charge, and every attempt, failed ones and retries included. Read-only: the switch belongs to
the customer (their consent), charges to the sweep."""

import datetime as dt

from django.conf import settings
from django.contrib import admin
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from licenses.admin import ReadOnlyAdmin, ReadOnlyInline
from orders import admin as orders_admin
from orders.models import Order

from .models import AutoRenewal, RenewalAttempt, RenewalNotice
from .selectors import card_expires_before, charge_date


class NextChargeFilter(admin.SimpleListFilter):
    title = _("next charge")
    parameter_name = "charge"

    def lookups(self, request, model_admin):
        return [
            ("7", _("within 7 days")),
            ("30", _("within 30 days")),
            ("card_expires", _("card expires before the charge")),
            ("off", _("switched off")),
        ]

    def queryset(self, request, queryset):
        first = dt.timedelta(days=settings.AUTO_RENEW_DAYS_BEFORE)
        today = timezone.localdate()
        on = queryset.filter(license__auto_renew=True)
        if self.value() in ("7", "30"):
            return on.filter(
                license__expires_on__gte=today,
                license__expires_on__lte=today + first + dt.timedelta(days=int(self.value())),
            )
        if self.value() == "card_expires":
            ids = [
                renewal.pk
                for renewal in on.select_related("card", "license")
                if renewal.card is None
                or card_expires_before(
                    card=renewal.card, day=charge_date(expires_on=renewal.license.expires_on)
                )
            ]
            return queryset.filter(pk__in=ids)
        if self.value() == "off":
            return queryset.filter(license__auto_renew=False)
        return queryset


@admin.register(AutoRenewal)
class AutoRenewalAdmin(ReadOnlyAdmin):
    list_display = ["license", "switched_on", "next_charge", "term_years", "card",
                    "consented_at", "terms_version", "source", "switched_off_at"]  # fmt: skip
    list_filter = [NextChargeFilter, "license__auto_renew", "source", "term_years", "terms_version"]
    list_select_related = ["license", "card"]
    search_fields = ["license__serial", "license__owner__email"]
    ordering = [F("license__expires_on").asc()]
    show_full_result_count = False

    @admin.display(boolean=True, description=_("on"), ordering="license__auto_renew")
    def switched_on(self, renewal):
        return renewal.license.auto_renew

    @admin.display(description=_("next charge"), ordering="license__expires_on")
    def next_charge(self, renewal):
        if not renewal.license.auto_renew:
            return "—"
        return charge_date(expires_on=renewal.license.expires_on)


class RetryFilter(admin.SimpleListFilter):
    title = _("try")
    parameter_name = "try"

    def lookups(self, request, model_admin):
        return [("first", _("first try")), ("retry", _("retries"))]

    def queryset(self, request, queryset):
        first = settings.AUTO_RENEW_DAYS_BEFORE
        if self.value() == "first":
            return queryset.filter(slot=first)
        if self.value() == "retry":
            return queryset.filter(slot__lt=first)
        return queryset


@admin.register(RenewalAttempt)
class RenewalAttemptAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "order", "license", "slot", "run_on", "outcome",
                    "failure_code", "order_status"]  # fmt: skip
    list_filter = ["outcome", RetryFilter, "slot", "run_on"]
    list_select_related = ["order__license"]
    search_fields = ["order__number", "order__license__serial", "order__customer__email"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description=_("license"), ordering="order__license__serial")
    def license(self, attempt):
        return attempt.order.license

    @admin.display(description=_("order status"), ordering="order__status")
    def order_status(self, attempt):
        return attempt.order.get_status_display()


@admin.register(RenewalNotice)
class RenewalNoticeAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "license", "expires_on", "kind", "to"]
    list_filter = ["kind", "sent_at"]
    list_select_related = ["license"]
    search_fields = ["license__serial", "to"]
    date_hierarchy = "sent_at"


class RenewalAttemptInline(ReadOnlyInline):
    model = RenewalAttempt
    fields = ["created_at", "slot", "run_on", "outcome", "failure_code", "payment", "finished_at"]
    readonly_fields = fields
    ordering = ["created_at", "id"]


# An automatic order's page shows its attempts: this nested app extends its parent's admin (the
# parent never imports the nested app), as licenses.reminders does for the license page.
admin.site.unregister(Order)


@admin.register(Order)
class OrderAdmin(orders_admin.OrderAdmin):
    inlines = [*orders_admin.OrderAdmin.inlines, RenewalAttemptInline]
