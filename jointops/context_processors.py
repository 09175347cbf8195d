"""What every page's navigation needs to know about the signed-in user."""

from jointops import access


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "is_api_client", False):
        return {"nav_roles": set()}
    return {"nav_roles": {str(role) for role in access.roles(user)}}
