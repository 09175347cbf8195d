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
    "people": "beneficiary",
    "households": "household",
    "mandates": "reference",
    "returns": "return_case",
    "consultations": "consultation",
}


# URL name prefix (within the "jointops" namespace) -> the menu entry shown as current.
ACTIVE_SECTION = (
    ("office_", "offices"),
    ("user_", "staff"),
    ("membership_", "staff"),
    ("api_client_", "api_clients"),
    ("access_log_", "access_log"),
)

# The same for the "beneficiaries" namespace (people, households, the mandate matrix).
BENEFICIARIES_ACTIVE_SECTION = (
    ("household_", "households"),
    ("mandate_", "mandates"),
    ("", "people"),  # people, their documents and categories, import and export
)


def _active_section(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.view_name == "home":
        return "home"
    sections = {
        "jointops": ACTIVE_SECTION,
        "beneficiaries": BENEFICIARIES_ACTIVE_SECTION,
        "returns": (("", "returns"),),
        "consultations": (("", "consultations"),),
    }.get(match.namespace)
    if sections is None:
        return ""
    return next((section for prefix, section in sections if match.url_name.startswith(prefix)), "")


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "is_api_client", False):
        return {"nav_roles": set(), "nav": {}, "nav_active": ""}
    return {
        "nav_roles": {str(role) for role in access.roles(user)},
        "nav": {section: access.can(user, access.VIEW, resource) for section, resource in NAV_SECTIONS.items()},
        "nav_active": _active_section(request),
    }
