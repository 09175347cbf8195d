"""Admin of the data-protection app (issue 8): the retention periods, changed by administrators only (each change
kept in its history, with who made it); the record of anonymisations, read-only (append-only by design)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from jointops import access
from jointops.audit import acting_as
from privacy.models import Anonymisation, RetentionPolicy


def _may(request, action: str) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or (user.is_staff and access.can(user, action, "retention"))))


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["record_type", "days", "basis", "updated_at"]
    readonly_fields = ["record_type"]
    fields = ["record_type", "days", "basis"]

    def has_module_permission(self, request):
        return _may(request, access.VIEW)

    def has_view_permission(self, request, obj=None):
        return _may(request, access.VIEW)

    def has_change_permission(self, request, obj=None):
        return _may(request, access.CHANGE)

    def has_add_permission(self, request):
        return False  # one period per record type, seeded (privacy/migrations/0002)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        with acting_as(request.user):  # the history row records who changed the period
            super().save_model(request, obj, form, change)


@admin.register(Anonymisation)
class AnonymisationAdmin(admin.ModelAdmin):
    list_display = ["at", "record_type", "object_id", "reason", "retention_days", "request", "by"]
    list_filter = ["record_type", "reason"]
    show_full_result_count = False

    def has_module_permission(self, request):
        return _may(request, access.VIEW)

    def has_view_permission(self, request, obj=None):
        return _may(request, access.VIEW)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
