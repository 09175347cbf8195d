"""Admin: read-only views of cases; offices' additional measures (Letter) are configured here by administrators."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from returns.models import AdditionalMeasure, RepatriationOperation, ReturnAgreement, ReturnCase


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReturnCase)
class ReturnCaseAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "lead_office", "stage", "expected_departure_date"]
    list_filter = ["kind", "stage"]
    show_full_result_count = False


@admin.register(RepatriationOperation)
class RepatriationOperationAdmin(ReadOnlyAdmin):
    list_display = ["title", "office", "kind", "status", "expected_start"]


@admin.register(ReturnAgreement)
class ReturnAgreementAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "country_of_origin", "host_country", "valid_from", "review_date"]


@admin.register(AdditionalMeasure)
class AdditionalMeasureAdmin(admin.ModelAdmin):
    """Letter: the additional measures an office requires for persons of concern to UNHCR before departure."""

    list_display = ["label", "office", "is_active"]
    list_filter = ["office", "is_active"]
