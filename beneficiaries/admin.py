"""Admin: the reference data (categories, mandate matrix) is edited here by administrators; people are read-only."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from beneficiaries.models import Beneficiary, BeneficiaryCategory, Household, Mandate


class MandateInline(admin.TabularInline):
    model = Mandate
    extra = 0


@admin.register(BeneficiaryCategory)
class BeneficiaryCategoryAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "mou_paragraphs", "order"]
    readonly_fields = ["code"]
    inlines = [MandateInline]

    def has_add_permission(self, request):
        return False  # the seven categories of MOU §4 are fixed

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Mandate)
class MandateAdmin(SimpleHistoryAdmin):
    list_display = ["category", "organisation", "role", "paragraph"]
    list_filter = ["organisation", "role"]


@admin.register(Beneficiary)
class BeneficiaryAdmin(SimpleHistoryAdmin):
    """Read-only: people are registered and changed in the app, through the services (audited, scoped)."""

    list_display = ["pk", "office", "category", "nationality", "updated_at"]
    list_filter = ["category", "office__organisation"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Household)
class HouseholdAdmin(BeneficiaryAdmin):
    list_display = ["reference", "office", "updated_at"]
    list_filter = ["office__organisation"]
