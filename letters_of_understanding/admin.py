"""Admin: read-only views of Letters of Understanding (every write goes through the services and their rules)."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from letters_of_understanding.models import LetterOfUnderstanding


@admin.register(LetterOfUnderstanding)
class LetterOfUnderstandingAdmin(SimpleHistoryAdmin):
    list_display = ["reference", "title", "status", "unhcr_office", "iom_office", "end_date", "review_due_on"]
    list_filter = ["status"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
