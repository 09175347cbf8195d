"""Admin: read-only views of lists and deliveries (every write goes through the services)."""

from django.contrib import admin

from notifications.models import Delivery, PreDepartureList


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PreDepartureList)
class PreDepartureListAdmin(ReadOnly):
    list_display = ["reference", "iom_office", "unhcr_office", "created_at", "acknowledged_at"]
    show_full_result_count = False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = ["key", "channel", "status", "attempts", "next_attempt_at", "done_at"]
    list_filter = ["channel", "status"]
    show_full_result_count = False
