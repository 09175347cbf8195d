"""API permissions. Scoping of what a principal sees is done on the queryset, through jointops.access."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from jointops import access


class IsAuthenticatedPrincipal(BasePermission):
    """A signed-in active user or a usable partner system (the project-wide default)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


class ResourcePermission(IsAuthenticatedPrincipal):
    """Checks the access matrix for the view's `access_resource`.

    Safe methods need "view"; a viewset action needs `view.access_actions[action]` (default: "add" for create,
    "change" for anything else). A method the view does not offer passes here so that it answers 405.

    Object-level scoping is not left to this class (DRF #3220): every viewset's get_queryset restricts
    through jointops.access, so hidden objects answer 404, and services check the object's office again.
    """

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        view_action = getattr(view, "action", "")
        if view_action is None:  # a viewset asked for a method it does not map: 405 follows
            return True
        return access.can(request.user, required_action(request, view), view.access_resource)


def required_action(request, view) -> str:
    if request.method in SAFE_METHODS:
        return access.VIEW
    actions = {"create": access.ADD, **getattr(view, "access_actions", {})}
    return actions.get(getattr(view, "action", None), access.CHANGE)
