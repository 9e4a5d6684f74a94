"""Sent reminders in admin (DESIGN 8): their own list, and read-only on each license's page."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from licenses import admin as licenses_admin
from licenses.models import License

from .models import ReminderSent


class ReminderSentInline(licenses_admin.ReadOnlyInline):
    model = ReminderSent
    fields = ["sent_at", "expires_on", "offset_days", "language", "to"]
    readonly_fields = fields
    ordering = ["-sent_at", "-id"]
    verbose_name = _("reminder sent")
    verbose_name_plural = _("expiry reminders sent")


@admin.register(ReminderSent)
class ReminderSentAdmin(licenses_admin.ReadOnlyAdmin):
    list_display = ["sent_at", "license", "expires_on", "offset_days", "language", "to"]
    list_filter = ["offset_days", "language", "sent_at"]
    list_select_related = ["license"]
    search_fields = ["license__serial", "to"]
    date_hierarchy = "sent_at"
    show_full_result_count = False


# The license page gains its reminders: this nested app extends its parent's admin (the parent
# never imports the nested app).
admin.site.unregister(License)


@admin.register(License)
class LicenseAdmin(licenses_admin.LicenseAdmin):
    inlines = [*licenses_admin.LicenseAdmin.inlines, ReminderSentInline]
