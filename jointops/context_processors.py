"""What every page's navigation needs to know about the signed-in user.

`nav_roles`: the roles the user holds (strings). `nav`: which sections the user may open, decided by
jointops.access, so the menu never offers a page that would answer 403.
"""

from jointops import access

NAV_SECTIONS = {
    "offices": "office",
    "staff": "user",
    "api_clients": "api_client",
    "access_log": "access_log",
}


# URL name prefix (within the "jointops" namespace) -> the menu entry shown as current.
ACTIVE_SECTION = (
    ("office_", "offices"),
    ("user_", "staff"),
    ("membership_", "staff"),
    ("api_client_", "api_clients"),
    ("access_log_", "access_log"),
)


def _active_section(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.view_name == "home":
        return "home"
    if match.namespace != "jointops":
        return ""
    return next((section for prefix, section in ACTIVE_SECTION if match.url_name.startswith(prefix)), "")


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "is_api_client", False):
        return {"nav_roles": set(), "nav": {}, "nav_active": ""}
    return {
        "nav_roles": {str(role) for role in access.roles(user)},
        "nav": {section: access.can(user, access.VIEW, resource) for section, resource in NAV_SECTIONS.items()},
        "nav_active": _active_section(request),
    }
