"""What every page's navigation needs to know about the signed-in user.

`nav_roles`: the roles the user holds (strings). `nav`: which sections the user may open, decided by
jointops.access, so the menu never offers a page that would answer 403. `nav_unread`: the user's unread notices
(the bell), one COUNT query; none for anonymous visitors and partner systems.
"""

from jointops import access

NAV_SECTIONS = {
    "dashboard": "dashboard",
    "offices": "office",
    "staff": "user",
    "api_clients": "api_client",
    "access_log": "access_log",
    "people": "beneficiary",
    "households": "household",
    "mandates": "reference",
    "returns": "return_case",
    "lous": "lou",
    "consultations": "consultation",
    "pre_departure_lists": "pre_departure_list",
    "deliveries": "delivery",
    "data_requests": "data_subject_request",  # issue 8: the person's requests about their data
    "retention": "retention",  # issue 8: retention periods and the record of anonymisations
}


# URL name prefix (within the "jointops" namespace) -> the menu entry shown as current.
ACTIVE_SECTION = (
    ("office_", "offices"),
    ("user_", "staff"),
    ("membership_", "staff"),
    ("api_client_", "api_clients"),
    ("access_log_", "access_log"),
)

# The same for the "notifications" namespace: the lists, the administrators' pages, and the inbox (the rest).
NOTIFICATIONS_ACTIVE_SECTION = (
    ("list_", "pre_departure_lists"),
    ("entry_", "pre_departure_lists"),
    ("delivery_", "deliveries"),
    ("config", "deliveries"),
    ("contact_", "deliveries"),
    ("lead_time_", "deliveries"),
    ("webhook_", "deliveries"),
    ("", "inbox"),
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
        "letters_of_understanding": (("", "lous"),),
        "consultations": (("", "consultations"),),
        "notifications": NOTIFICATIONS_ACTIVE_SECTION,
        "dashboards": (("", "dashboard"),),
        "privacy": (("", "data_requests"),),
        "privacy_retention": (("", "retention"),),
    }.get(match.namespace)
    if sections is None:
        return ""
    return next((section for prefix, section in sections if match.url_name.startswith(prefix)), "")


def _lists_awaiting_acknowledgement(user) -> int:
    """Pre-departure lists the user's UNHCR offices received and have not acknowledged yet (Letter)."""
    from notifications import selectors

    return (
        selectors.pre_departure_list_qs_for(principal=user, action=access.CHANGE)
        .filter(unhcr_office__organisation_id=user.organisation_id, acknowledged_at__isnull=True)
        .count()
    )


def _builds_lists(user) -> bool:
    """May the user build an IOM office's pre-departure list now (IOM field staff and office managers)?"""
    from jointops.choices import IOM

    organisation = getattr(user, "organisation", None)
    return bool(organisation and organisation.code == IOM and access.can(user, access.ADD, "pre_departure_list"))


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(user, "is_api_client", False):
        return {"nav_roles": set(), "nav": {}, "nav_active": ""}
    from notifications import selectors as notification_selectors

    return {
        "nav_roles": {str(role) for role in access.roles(user)},
        "nav": {section: access.can(user, access.VIEW, resource) for section, resource in NAV_SECTIONS.items()},
        "nav_active": _active_section(request),
        # The bell: one COUNT on the (recipient, read_at) index per page.
        "nav_unread": notification_selectors.unread_count(user=user),
        # For the home page only: callables, which a template calls when (and only when) it shows them.
        "nav_lists_awaiting": lambda: _lists_awaiting_acknowledgement(user),
        "nav_builds_lists": lambda: _builds_lists(user),
    }
