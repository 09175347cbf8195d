"""Django admin: read-mostly. Domain writes go through the in-app pages and services; admin actions call services."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from jointops import services
from jointops.models import AccessAlert, AccessLog, ApiClient, Membership, Office, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "kind", "country"]
    search_fields = ["code", "name"]


@admin.register(Office)
class OfficeAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "organisation", "level", "country", "counterpart", "is_active"]
    list_filter = ["organisation", "level", "is_active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent", "counterpart"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["office"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "organisation", "is_active"]
    list_filter = ["organisation", "is_active", "is_superuser"]
    fieldsets = [*DjangoUserAdmin.fieldsets, (_("Organisation"), {"fields": ["organisation"]})]
    inlines = [MembershipInline]


@admin.register(ApiClient)
class ApiClientAdmin(SimpleHistoryAdmin):
    list_display = ["name", "organisation", "office", "token_prefix", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["organisation", "revoked_at"]
    readonly_fields = ["token_prefix", "last_used_at", "revoked_at", "created_by"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # created in the app or with `manage.py create_api_client`, which show the token once

    @admin.action(description=_("Revoke the selected clients"))
    def revoke(self, request, queryset):
        for client in queryset:
            services.api_client_revoke(actor=request.user, client=client)
        self.message_user(request, _("Revoked."), messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Issue 8 (accountability): append-only records are read in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "api_client", "action", "resource", "record_count", "purpose"]
    list_filter = ["action", "resource"]
    list_select_related = ["user", "api_client"]
    date_hierarchy = "at"


@admin.register(AccessAlert)
class AccessAlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "api_client", "organisation", "record_count", "threshold", "window_start"]
    list_filter = ["organisation"]
    list_select_related = ["user", "api_client", "organisation"]
    date_hierarchy = "created_at"
