"""API permissions. Scoping of what a principal sees is done on the queryset, through jointops.access."""

from rest_framework.permissions import BasePermission

from jointops import access


class IsAuthenticatedPrincipal(BasePermission):
    """A signed-in active user or a usable partner system (the project-wide default)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


class ResourcePermission(IsAuthenticatedPrincipal):
    """Checks the access matrix for the view's `access_resource`: view for safe methods, else the write action.

    Object-level scoping is not left to this class (DRF #3220): every viewset's get_queryset restricts
    through jointops.access, so hidden objects answer 404.
    """

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        resource = view.access_resource
        action = (
            access.VIEW
            if request.method in ("GET", "HEAD", "OPTIONS")
            else getattr(view, "access_write_action", access.CHANGE)
        )
        return access.can(request.user, action, resource)
