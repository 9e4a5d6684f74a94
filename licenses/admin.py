import datetime as dt
import re

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Exists, OuterRef, Q
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .forms import CorrectExpiryForm
from .models import (
    AccountMail,
    ActivationCode,
    CustomerPreferences,
    Device,
    License,
    LicenseEvent,
    LicenseStatus,
    Price,
    Product,
    RenewalPath,
    ReserveLicense,
    serial_validator,
)


class ReadOnlyInline(admin.TabularInline):
    """Rows shown for reference on their parent's page: history is never edited there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record nobody edits by hand: the ledger, payments, audit trails."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    fields = ["kind", "term_years", "amount", "valid_from", "valid_until"]


class RenewalPathInline(admin.TabularInline):
    """The product's row of the eligibility matrix (T3, K2, K5): one line per target product."""

    model = RenewalPath
    fk_name = "from_product"
    extra = 0
    fields = ["to_product", "kind", "price_kind", "card_only", "sort_order"]
    autocomplete_fields = ["to_product"]
    verbose_name = _("may be renewed as")
    verbose_name_plural = _("may be renewed as (renewal paths)")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_ja",
        "line",
        "edition",
        "scam_protection",
        "generation",
        "seat_limit",
        "renewable",
        "sellable",
    ]
    list_filter = ["line", "edition", "generation", "renewable", "sellable"]
    search_fields = ["code", "name_ja", "name_en"]
    inlines = [PriceInline, RenewalPathInline]


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["product", "kind", "term_years", "amount", "valid_from", "valid_until"]
    list_filter = ["kind", "term_years", "product__line"]
    list_select_related = ["product"]
    search_fields = ["product__code", "product__name_ja"]


@admin.register(RenewalPath)
class RenewalPathAdmin(admin.ModelAdmin):
    list_display = ["from_product", "to_product", "kind", "price_kind", "card_only", "sort_order"]
    list_filter = ["kind", "card_only", "from_product"]
    list_select_related = ["from_product", "to_product"]
    list_editable = ["kind", "price_kind", "card_only", "sort_order"]
    autocomplete_fields = ["from_product", "to_product"]


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return LicenseStatus.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.with_status(self.value())
        return queryset


class ExpiryRangeFilter(admin.SimpleListFilter):
    title = _("expiry")
    parameter_name = "expires"
    RANGES = {
        "past_year": (_("in the last 12 months"), -365, -1),
        "next_7": (_("in the next 7 days"), 0, 7),
        "next_30": (_("in the next 30 days"), 0, 30),
        "next_90": (_("in the next 90 days"), 0, 90),
        "later": (_("more than 90 days ahead"), 91, None),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _start, _end) in self.RANGES.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.RANGES:
            return queryset
        _label, start, end = self.RANGES[self.value()]
        today = timezone.localdate()
        condition = Q(expires_on__gte=today + dt.timedelta(days=start))
        if end is not None:
            condition &= Q(expires_on__lte=today + dt.timedelta(days=end))
        return queryset.filter(condition)


class RemindersOptOutFilter(admin.SimpleListFilter):
    """Licenses whose owner switched expiry reminders off (DESIGN 8)."""

    title = _("expiry reminders")
    parameter_name = "reminders"

    def lookups(self, request, model_admin):
        return [("off", _("owner opted out")), ("on", _("owner receives them"))]

    def queryset(self, request, queryset):
        opted_out = CustomerPreferences.objects.filter(
            user=OuterRef("owner_id"), reminders_opt_out=True
        )
        if self.value() == "off":
            return queryset.filter(Exists(opted_out))
        if self.value() == "on":
            return queryset.filter(owner__isnull=False).exclude(Exists(opted_out))
        return queryset


class DeviceInline(admin.TabularInline):
    model = Device
    extra = 0
    fields = [
        "name",
        "platform",
        "program_generation",
        "program_version",
        "installation_id",
        "last_seen_at",
    ]


class ReserveLicenseInline(ReadOnlyInline):
    """K7: codes waiting to take over at expiry, and those that did (with their ledger row)."""

    model = ReserveLicense
    fk_name = "license"
    fields = ["activation_code", "switch", "state", "device", "created_at", "switched_at", "event"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("activation_code", "device", "event")


class CodeInline(ReadOnlyInline):
    model = ActivationCode
    fields = ["code", "product", "term_years", "state", "redeemed_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class LicenseEventInline(ReadOnlyInline):
    """The ledger, read-only: history is never edited, corrections are new rows."""

    model = LicenseEvent
    fields = [
        "created_at",
        "kind",
        "old_expires_on",
        "new_expires_on",
        "old_product",
        "new_product",
        "activation_code",
        "actor",
        "note",
    ]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def get_queryset(self, request):
        # Issue 15: each row showed its license (in its title), products, code and actor by a
        # query of its own (128 queries for a ledger of 40 rows, bench/admin.py).
        return (
            super()
            .get_queryset(request)
            .select_related("license", "old_product", "new_product", "activation_code", "actor")
        )


SERIAL = re.compile(serial_validator.regex.pattern)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = [
        "serial",
        "owner_email",
        "product",
        "expires_on",
        "status_label",
        "auto_renew",
    ]
    list_filter = [StatusFilter, ExpiryRangeFilter, "product", "auto_renew", RemindersOptOutFilter]
    list_select_related = ["product", "owner"]
    search_fields = ["serial", "owner__email"]
    date_hierarchy = "expires_on"
    raw_id_fields = ["owner"]
    # Automatic renewal needs the customer's consent and card (orders/renewals): an operator
    # sees the switch but cannot turn it on for them.
    readonly_fields = ["auto_renew", "created_at", "updated_at"]
    inlines = [DeviceInline, CodeInline, ReserveLicenseInline, LicenseEventInline]
    actions = ["correct_expiry"]
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        """A whole serial or a whole address is looked up through an index (the unique serial;
        licenses 0008's index of UPPER(email) on PostgreSQL): under 50 ms over a million
        licenses (bench/admin.py). Anything else is searched as part of a serial or an address,
        which reads the whole table."""
        term = search_term.strip()
        if SERIAL.fullmatch(term.upper()):
            return queryset.filter(serial=term.upper()), False
        if EMAIL.fullmatch(term):
            return queryset.filter(owner__email__iexact=term), False
        return super().get_search_results(request, queryset, search_term)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Expiry and product change only with a ledger row (DESIGN 6): through checkout,
            # refunds, codes, or the "correct expiry" action, never by editing the form.
            fields += ["product", "expires_on"]
        return fields

    @admin.action(description=_("Correct expiry…"), permissions=["change"])
    def correct_expiry(self, request, queryset):
        """Asks for the new date and the reason, then writes an ADJUSTED ledger row per license."""
        form = CorrectExpiryForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("Correct expiry"),
                "opts": self.model._meta,
                "queryset": queryset.select_related("product"),
                "form": form,
                "action": "correct_expiry",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "media": self.media + form.media,
            }
            return TemplateResponse(request, "admin/licenses/correct_expiry.html", context)
        done = 0
        for license in queryset.order_by("serial"):
            try:
                services.correct_expiry(
                    license=license,
                    new_expires_on=form.cleaned_data["new_expires_on"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except services.CorrectionError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "Expiry corrected for %(count)d license; the change is in its history.",
                    "Expiry corrected for %(count)d licenses; each change is in its history.",
                    done,
                )
                % {"count": done},
                messages.SUCCESS,
            )
        return None

    @admin.display(description=_("owner"), ordering="owner__email")
    def owner_email(self, obj):
        return obj.owner.email if obj.owner else "—"

    @admin.display(description=_("status"))
    def status_label(self, obj):
        return obj.status.label


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "license", "platform", "program_version", "program_generation"]
    list_filter = ["platform", "program_generation"]
    list_select_related = ["license"]
    search_fields = ["license__serial", "name"]
    raw_id_fields = ["license"]


@admin.register(ActivationCode)
class ActivationCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "product", "term_years", "state", "license", "issued_at"]
    list_filter = ["state", "term_years", "product"]
    list_select_related = ["product", "license"]
    search_fields = ["code", "license__serial"]
    raw_id_fields = ["license"]


@admin.register(LicenseEvent)
class LicenseEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "license",
        "kind",
        "old_expires_on",
        "new_expires_on",
        "new_product",
    ]
    list_filter = ["kind"]
    list_select_related = ["license", "new_product"]
    search_fields = ["license__serial"]
    date_hierarchy = "created_at"


@admin.register(AccountMail)
class AccountMailAdmin(ReadOnlyAdmin):
    """Mails sent about accounts (sign-up, password reset): what went to whom and when."""

    list_display = ["sent_at", "to", "key"]
    search_fields = ["to", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "sent_at"


@admin.register(CustomerPreferences)
class CustomerPreferencesAdmin(admin.ModelAdmin):
    """Customers' mail language and expiry-reminder opt-out; filter "no expiry reminders"."""

    list_display = ["user", "language", "reminders_opt_out", "reminders_opted_out_at", "updated_at"]
    list_filter = ["reminders_opt_out", "language"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["reminders_opted_out_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        saved = services.update_preferences(
            user=obj.user, language=obj.language, reminders=not obj.reminders_opt_out
        )
        obj.pk, obj.reminders_opted_out_at = saved.pk, saved.reminders_opted_out_at


@admin.register(ReserveLicense)
class ReserveLicenseAdmin(ReadOnlyAdmin):
    """Switched by the periodic job or the customer (``licenses.reserves``), never by hand."""

    list_display = ["license", "activation_code", "switch", "state", "created_at", "switched_at"]
    list_filter = ["state", "switch"]
    list_select_related = ["license", "activation_code"]
    search_fields = ["license__serial", "activation_code__code"]
    date_hierarchy = "created_at"
