"""The one place that decides who sees and does what.

Every view, API endpoint, export and task that reads or writes on behalf of someone goes through here:

- `MATRIX` is the written access matrix: resource × action → the staff roles allowed (README "Access matrix").
- A role held at an office covers that office and the offices beneath it (a country office covers its field
  offices); HQ focal points (MOU §35) and administrators act for every office of their organisation.
- A partner system (ApiClient) is bound to one office (and the offices beneath it) and limited to the scopes
  it was given (`<scope>:read` for "view", `<scope>:write` for any other action).
- `restrict(qs, principal, resource, action)` scopes a queryset; selectors answer 404 for anything outside it,
  so hidden and missing records look the same.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q, QuerySet

from jointops.choices import ORGANISATION_WIDE_ROLES, Role
from jointops.exceptions import PermissionRefused

ALL_ROLES = frozenset(Role)
FIELD_STAFF, OFFICE_MANAGER, HQ, ADMIN = Role.FIELD_STAFF, Role.OFFICE_MANAGER, Role.HQ_FOCAL_POINT, Role.ADMINISTRATOR

VIEW, ADD, CHANGE = "view", "add", "change"

# resource -> action -> roles allowed. Apps add their resources here, in this one table.
MATRIX: dict[str, dict[str, frozenset[Role]]] = {
    # Reference data and the office directory: every member of staff can read it (to pick counterparts,
    # parties to agreements); only administrators change it, and only for their own organisation.
    "organisation": {VIEW: ALL_ROLES},
    "office": {VIEW: ALL_ROLES, ADD: frozenset({ADMIN}), CHANGE: frozenset({ADMIN})},
    # Staff accounts: office managers see the staff of their offices; administrators manage their organisation's.
    "user": {VIEW: frozenset({OFFICE_MANAGER, ADMIN}), ADD: frozenset({ADMIN}), CHANGE: frozenset({ADMIN})},
    # Partner systems' credentials: administrators of the client's organisation only.
    "api_client": {VIEW: frozenset({ADMIN}), ADD: frozenset({ADMIN}), CHANGE: frozenset({ADMIN})},
    # Accountability: who read or exported what.
    "access_log": {VIEW: frozenset({HQ, ADMIN})},
    # Reference data (beneficiary categories, the mandate matrix of MOU §6-§19): read by all; administrators edit it
    # in the Django admin.
    "reference": {VIEW: ALL_ROLES},
    # People and households: field staff and office managers register and edit them for their offices; HQ focal
    # points (MOU §35) follow them across their organisation, read-only. Administrators manage accounts and
    # reference data, not people's records (need to know).
    "beneficiary": {
        VIEW: frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
        ADD: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
        CHANGE: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
        "export": frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
    },
    "household": {
        VIEW: frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
        ADD: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
        CHANGE: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
    },
    # Return cases belong to their lead office; who may make each move is narrowed in returns/flow.py.
    "return_case": {
        VIEW: frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
        ADD: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
        CHANGE: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
    },
    # Repatriation operations (MOU §31) and return agreements hold no personal data: every member of staff of
    # both agencies reads them (IOM must know early); the recording office's staff change them.
    "repatriation_operation": {
        VIEW: ALL_ROLES,
        ADD: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
        CHANGE: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
    },
    "return_agreement": {
        VIEW: ALL_ROLES,
        ADD: frozenset({OFFICE_MANAGER, HQ}),
        CHANGE: frozenset({OFFICE_MANAGER, HQ}),
    },
    # Consultations between the agencies (MOU §22, §25, §28, §29): visible to the offices taking part.
    "consultation": {
        VIEW: frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
        ADD: frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
        CHANGE: frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
    },
    # Letters of Understanding (MOU §5): both parties' offices and both organisations' HQ focal points read them
    # (restrict_by_any on the two party offices); staff of a party draft and record; which party may perform each
    # act (sign, approve, serve notice...) and with which role is narrowed in letters_of_understanding/lifecycle.py.
    "lou": {
        VIEW: frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
        ADD: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
        CHANGE: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
    },
    # Pre-departure name lists (Letter): the sending IOM office and the receiving UNHCR office (restrict_by_any);
    # IOM staff build them on demand, UNHCR staff answer them (notifications/services.py narrows each side).
    "pre_departure_list": {
        VIEW: frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
        ADD: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
        CHANGE: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
    },
    # The outbox of e-mails and webhooks: administrators follow deliveries and retry the failed ones.
    "delivery": {VIEW: frozenset({ADMIN}), CHANGE: frozenset({ADMIN})},
    # Dashboards: counts only, never a name. Office managers follow their offices; HQ focal points review the joint
    # operation (MOU §35) — for this resource their role covers the offices of both organisations (JOINT_RESOURCES).
    "dashboard": {VIEW: frozenset({OFFICE_MANAGER, HQ})},
    # A person's requests about their data (issue 8; UNHCR and IOM data-protection policies): the staff of the office
    # holding the record receive and record them; its office manager decides them and produces the subject access
    # export (everything held on the person); HQ focal points follow them. Scoped by the handling office.
    "data_subject_request": {
        VIEW: frozenset({FIELD_STAFF, OFFICE_MANAGER, HQ}),
        ADD: frozenset({FIELD_STAFF, OFFICE_MANAGER}),
        CHANGE: frozenset({OFFICE_MANAGER}),
        "export": frozenset({OFFICE_MANAGER}),
    },
    # Retention periods and the record of anonymisations (issue 8): read by administrators and HQ focal points;
    # the periods are changed by administrators (Django admin). Organisation-wide, no personal data.
    "retention": {VIEW: frozenset({HQ, ADMIN}), CHANGE: frozenset({ADMIN})},
}

# Resources for which an HQ focal point's organisation-wide role covers the offices of both organisations: figures
# aggregated across the joint operation (MOU §35: HQ focal points review the cooperation as a whole).
JOINT_RESOURCES = frozenset({"dashboard"})

# resource -> (scope name, modes open to partner systems). A partner system needs "<scope>:read" to view,
# "<scope>:export" (with "<scope>:read") to export where that mode exists, and "<scope>:write" for any other action.
# Resources absent here are never open to partner systems (they cannot manage staff, credentials or the access
# log); the office directory is read-only for them.
API_SCOPES: dict[str, tuple[str, frozenset[str]]] = {
    "organisation": ("offices", frozenset({"read"})),
    "office": ("offices", frozenset({"read"})),
    "reference": ("reference", frozenset({"read"})),
    # Issue 8: a bulk export of people is its own grant ("beneficiaries:export", with "beneficiaries:read" for the
    # records exported) — neither reading one record at a time nor writing implies taking the whole list away.
    "beneficiary": ("beneficiaries", frozenset({"read", "write", "export"})),
    "household": ("beneficiaries", frozenset({"read", "write"})),
    "return_case": ("return-cases", frozenset({"read", "write"})),
    "repatriation_operation": ("operations", frozenset({"read", "write"})),
    "return_agreement": ("operations", frozenset({"read", "write"})),
    "consultation": ("consultations", frozenset({"read", "write"})),
    "lou": ("letters-of-understanding", frozenset({"read", "write"})),
    "pre_departure_list": ("pre-departure-lists", frozenset({"read", "write"})),
    "dashboard": ("dashboard", frozenset({"read"})),
}


def all_scopes() -> list[str]:
    """Every scope an administrator can grant a partner system."""
    return sorted({f"{name}:{mode}" for name, modes in API_SCOPES.values() for mode in modes})


def _is_client(principal: Any) -> bool:
    return bool(getattr(principal, "is_api_client", False))


def _active(principal: Any) -> bool:
    return bool(principal is not None and getattr(principal, "is_authenticated", False) and principal.is_active)


def _office_tree(organisation_ids: set[int]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """(organisation id -> office ids, office id -> child ids) for the given organisations, in one query."""
    from jointops.models import Office

    by_org: dict[int, list[int]] = defaultdict(list)
    children: dict[int, list[int]] = defaultdict(list)
    for pk, parent_id, org_id in Office.objects.filter(organisation_id__in=organisation_ids).values_list(
        "pk", "parent_id", "organisation_id"
    ):
        by_org[org_id].append(pk)
        if parent_id:
            children[parent_id].append(pk)
    return by_org, children


def _with_descendants(office_id: int, children: dict[int, list[int]]) -> set[int]:
    found, stack = set(), [office_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, ()))
    return found


class _Grants:
    """Per-principal cache: role -> office ids where the principal holds that role (expanded)."""

    def __init__(self, principal: Any):
        self.by_role: dict[Role, set[int]] = defaultdict(set)
        self.org_wide_orgs: dict[Role, set[int]] = defaultdict(set)
        if _is_client(principal):
            _, children = _office_tree({principal.organisation_id})
            self.client_offices = _with_descendants(principal.office_id, children)
            return
        memberships = list(principal.memberships.values_list("role", "office_id", "office__organisation_id"))
        org_ids = {org for _, _, org in memberships}
        by_org, children = _office_tree(org_ids) if org_ids else ({}, {})
        for role, office_id, org_id in memberships:
            role = Role(role)
            if role in ORGANISATION_WIDE_ROLES:
                self.by_role[role].update(by_org.get(org_id, ()))
                self.org_wide_orgs[role].add(org_id)
            else:
                self.by_role[role].update(_with_descendants(office_id, children))


def _grants(principal: Any) -> _Grants:
    grants = getattr(principal, "_jointops_grants", None)
    if grants is None:
        grants = _Grants(principal)
        principal._jointops_grants = grants
    return grants


def forget(principal: Any) -> None:
    """Drop the cached grants (after memberships change within one request or test)."""
    if hasattr(principal, "_jointops_grants"):
        del principal._jointops_grants


def roles(principal: Any) -> set[Role]:
    if not _active(principal) or _is_client(principal):
        return set()
    return {role for role, offices in _grants(principal).by_role.items() if offices}


def holds_role_at(principal: Any, wanted: frozenset[Role] | set[Role], office_id: int) -> bool:
    """Does the (user) principal hold one of `wanted` roles covering `office_id`?"""
    if not _active(principal) or _is_client(principal):
        return False
    if getattr(principal, "is_superuser", False):
        return True
    grants = _grants(principal)
    return any(office_id in grants.by_role.get(role, set()) for role in wanted)


def has_scope(client: Any, resource: str, action: str) -> bool:
    if resource not in API_SCOPES:
        return False
    name, modes = API_SCOPES[resource]
    granted = client.scopes or []
    if action == "export" and "export" in modes:
        # Issue 8 (need to know): exporting needs its own scope, and the read scope for what the file holds.
        return f"{name}:export" in granted and f"{name}:read" in granted
    mode = "read" if action == VIEW else "write"
    return mode in modes and f"{name}:{mode}" in granted


class Everything:
    """Sentinel: no restriction (superusers; HQ focal points for JOINT_RESOURCES)."""


EVERYTHING = Everything()


def office_ids(principal: Any, resource: str, action: str = VIEW) -> set[int] | Everything:
    """Office ids whose records of `resource` the principal may `action`; EVERYTHING for superusers."""
    if not _active(principal):
        return set()
    if getattr(principal, "is_superuser", False):
        return EVERYTHING
    if _is_client(principal):
        if not principal.is_usable or not has_scope(principal, resource, action):
            return set()
        return set(_grants(principal).client_offices)
    allowed_roles = MATRIX.get(resource, {}).get(action, frozenset())
    grants = _grants(principal)
    ids: set[int] = set()
    for role in allowed_roles:
        if resource in JOINT_RESOURCES and role == HQ and grants.by_role.get(HQ):
            return EVERYTHING  # every office of both organisations: no restriction, and no query to list them
        ids |= grants.by_role.get(role, set())
    return ids


def can(principal: Any, action: str, resource: str, *, office: Any = None) -> bool:
    """May the principal `action` on `resource`, at `office` (an Office or its id) or anywhere if None?"""
    ids = office_ids(principal, resource, action)
    if ids is EVERYTHING:
        return True
    if office is None:
        return bool(ids)
    office_id = getattr(office, "pk", office)
    return office_id in ids


def require(principal: Any, action: str, resource: str, *, office: Any = None) -> None:
    if not can(principal, action, resource, office=office):
        raise PermissionRefused()


def restrict(
    qs: QuerySet, principal: Any, resource: str, action: str = VIEW, *, office_field: str = "office"
) -> QuerySet:
    """Scope a queryset to the records the principal may `action`. The one filter every list goes through."""
    ids = office_ids(principal, resource, action)
    if ids is EVERYTHING:
        return qs
    if not ids:
        return qs.none()
    return qs.filter(**{f"{office_field}__in": ids})


def restrict_by_any(qs: QuerySet, principal: Any, resource: str, action: str, office_fields: list[str]) -> QuerySet:
    """Like restrict(), for records reachable through any of several office fields (e.g. both parties)."""
    ids = office_ids(principal, resource, action)
    if ids is EVERYTHING:
        return qs
    if not ids:
        return qs.none()
    condition = Q()
    for field in office_fields:
        condition |= Q(**{f"{field}__in": ids})
    return qs.filter(condition).distinct()


def administers(principal: Any, organisation: Any) -> bool:
    """Is the principal an administrator of `organisation` (or a superuser)? Partner systems never are."""
    if not _active(principal) or _is_client(principal):
        return False
    if getattr(principal, "is_superuser", False):
        return True
    return ADMIN in roles(principal) and principal.organisation_id == getattr(organisation, "pk", organisation)


# --- Need to know: the field allow-list of each relationship (Issue 8) -----------------------------------------
# What one principal sees of a record it does not work on is decided here, per relationship, and nowhere else.
# Each relationship names the fields that cross it; every other field stays with the office that holds the record.
# tests/jointops/test_field_allow_lists.py plants a canary in every field outside each list and looks for it on every
# channel (pages, API bodies, CSV/XLSX/PDF exports, e-mails, webhook bodies); each allowed field must appear there.
#
# UNHCR data protection policy (minimisation, need to know) and IOM Data Protection Principles: the other agency
# receives what identifies the person and the references both agencies keep — never contacts, documents, consent
# details, government id, specific needs or free-text notes.
PERSON_CONTACT_FIELDS = frozenset({"phone", "email", "address"})
PERSON_SHARED_FIELDS = frozenset(
    {
        "id",
        "given_name",
        "family_name",
        "other_names",
        "sex",
        "date_of_birth",
        "date_of_birth_estimated",
        "nationality",
        "category",
        "of_concern_to_unhcr",
        "unhcr_registration_number",
        "iom_case_number",
        "office",
    }
)
# HQ focal points (MOU §35) review records of their own organisation; they do not contact people, so contact details,
# documents and consent details are not theirs.
PERSON_HQ_FIELDS = PERSON_SHARED_FIELDS | frozenset(
    {"country_of_residence", "specific_needs", "preferred_language", "government_id", "household", "sharing_basis"}
)
# Letter of 16 January 2003: UNHCR receives "a list of names and dates of expected departure" — the entry of a
# pre-departure list carries these and nothing else (notifications.models.ENTRY_FIELDS must equal this set).
PRE_DEPARTURE_ENTRY_FIELDS = frozenset(
    {
        "given_name",
        "family_name",
        "expected_departure_date",
        "change",
        "iom_case_reference",
        "unhcr_registration_number",
    }
)

# relationship -> the fields of a person that cross it. Keys name who sees whose record, through what channel.
RELATIONSHIP_FIELDS: dict[str, frozenset[str]] = {
    # A record the other agency shared with one of the principal's offices (BeneficiaryShare, on a recorded basis):
    # the person's page, the API, the people list and its CSV/XLSX export, and the members of a return case of the
    # other agency's counterpart office (returns serializers cut members with person_field_filter).
    "shared_person": PERSON_SHARED_FIELDS,
    # The same person read by an HQ focal point of the record's own organisation.
    "hq_person": PERSON_HQ_FIELDS,
    # A partner system reading a record shared with its office (its own office's records: every field).
    "partner_shared_person": PERSON_SHARED_FIELDS,
    # IOM -> UNHCR pre-departure list entry: the list page, the API, the CSV and PDF attachments, the webhook body.
    "pre_departure_entry": PRE_DEPARTURE_ENTRY_FIELDS,
    # The e-mail body announcing a list: no field of a person at all (names travel only in the attachments).
    "pre_departure_email_body": frozenset(),
}

# The references a person's search text holds (beneficiaries.matching.search_text_for). A principal who reads a record
# only through a relationship searches only the references that relationship allows (Issue 8: no leak by search).
PERSON_SEARCH_REFERENCES = ("unhcr_registration_number", "iom_case_number", "government_id")


def hidden_search_references(relationship: str) -> tuple[str, ...]:
    """The references in a person's search text that `relationship` does not allow."""
    allowed = RELATIONSHIP_FIELDS[relationship]
    return tuple(name for name in PERSON_SEARCH_REFERENCES if name not in allowed)


def person_field_filter(principal: Any, *, office_id: int | None) -> frozenset[str] | None:
    """The fields of one person record the principal may read: None means every field.

    `office_id` is the record's office. A principal whose view of that office comes only from a share, or only
    from the HQ focal point role, gets a reduced set.
    """
    if getattr(principal, "is_superuser", False):
        return None
    own = office_ids(principal, "beneficiary", ADD)  # roles that work on the record: every field
    if own is EVERYTHING or office_id in own:
        return None
    if _is_client(principal):
        return (
            None
            if office_id in office_ids(principal, "beneficiary", VIEW)
            else RELATIONSHIP_FIELDS["partner_shared_person"]
        )
    if HQ in roles(principal) and office_id in _grants(principal).by_role.get(HQ, set()):
        return RELATIONSHIP_FIELDS["hq_person"]
    return RELATIONSHIP_FIELDS["shared_person"]
