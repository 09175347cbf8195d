"""The one access walk (issue 8, need to know): every route of the app × every kind of principal.

Shared scaffolding of the access tests:

- the principals: every Role at each agency's offices, field staff of the field office beneath, a user of another
  office of the same agency, the other agency's staff, a user with no role, anonymous, and partner systems (API
  clients) holding each scope alone, plus clients holding every scope at another office and at the other agency;
- the world (`build_walk_world`): one record of every kind, at IOM-AF-KBL (or between IOM-AF-KBL and its UNHCR
  counterpart), addressed by every principal by its real id — the "guessing ids" probe;
- the route table (`ROUTES`): one line per route (a URL name and, for the API, a method), saying which
  jointops.access.MATRIX resource and action it is and which object its URL names. The expected answer is computed
  from jointops.access (can / administers), never copied by hand.

Adding a route is one line in ROUTES, e.g.::

    R("accounts:two_factor_setup", None, None, rule=SIGNED_IN),            # any signed-in member of staff
    R("privacy:request_detail", "data_subject_request", VIEW, "person"),  # MATRIX resource × action, target
    A("access-log-export", "access_log", VIEW),                           # API route, GET (method="post" ...)

(R: a browser page, A: an API route; `target` is a key of TARGETS; `args` builds the URL arguments when the target's
id alone is not enough; `rule` when the app narrows the matrix: see the RULES below.)

The per-app tests (tests/*/test_views.py, tests/*/test_api_access.py) keep their exact expectations (403 versus 404,
what a write changed, which rows a list holds); they import the principals' scaffolding from here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from jointops import access
from jointops.choices import Role
from jointops.models import Office, User

# --- Principals' scaffolding shared by tests/*/test_api_access.py ---------------------------------------------

ANONYMOUS, STAFF, PARTNER, DEAD_TOKEN = "anonymous", "staff", "partner", "dead token"
VIEW, ADD, CHANGE, EXPORT = access.VIEW, access.ADD, access.CHANGE, "export"

STAFF_PRINCIPALS = [
    # (attribute of build_world(), role, attribute of the office where the role is held)
    ("iom_af_staff", Role.FIELD_STAFF, "iom_af"),
    ("iom_field_staff", Role.FIELD_STAFF, "iom_af_field"),
    ("iom_af_manager", Role.OFFICE_MANAGER, "iom_af"),
    ("iom_de_staff", Role.FIELD_STAFF, "iom_de"),
    ("iom_de_manager", Role.OFFICE_MANAGER, "iom_de"),
    ("iom_hq_focal", Role.HQ_FOCAL_POINT, "iom_hq"),
    ("iom_admin", Role.ADMINISTRATOR, "iom_hq"),
    ("unhcr_af_staff", Role.FIELD_STAFF, "unhcr_af"),
    ("unhcr_af_manager", Role.OFFICE_MANAGER, "unhcr_af"),
    ("unhcr_de_staff", Role.FIELD_STAFF, "unhcr_de"),
    ("unhcr_hq_focal", Role.HQ_FOCAL_POINT, "unhcr_hq"),
    ("unhcr_admin", Role.ADMINISTRATOR, "unhcr_hq"),
]


@dataclass
class Principal:
    name: str
    kind: str
    user: User | None = None
    role: Role | None = None
    office: Office | None = None
    organisation_id: int | None = None
    scopes: tuple[str, ...] = ()
    token: str = ""
    api_client: Any = None  # the ApiClient row of a partner system

    @property
    def acting(self) -> Any:
        """What jointops.access is asked about: the user, or the partner system's ApiClient."""
        return self.user if self.kind == STAFF else self.api_client


def office_and_below(office: Office) -> set[int]:
    """Test-side walk of the office tree (independent of jointops.access)."""
    ids, frontier = {office.pk}, {office.pk}
    while frontier:
        frontier = set(Office.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - ids
        ids |= frontier
    return ids


def client_for(p: Principal) -> APIClient:
    """A test client signed in as the principal (a session for staff, the token for a partner system)."""
    client = APIClient()
    if p.kind == STAFF:
        client.force_login(p.user)
    elif p.token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {p.token}")
    return client


# --- The world --------------------------------------------------------------------------------------------------


def build_walk_world() -> SimpleNamespace:
    """build_world() plus one record of every kind at IOM-AF-KBL (or between it and UNHCR-AF-KBL)."""
    from beneficiaries import services as beneficiary_services
    from beneficiaries.models import ImportJob, Mandate
    from jointops import services as jointops_services
    from letters_of_understanding import content as text
    from letters_of_understanding import services as lou_services
    from letters_of_understanding.choices import Agency
    from notifications import services as notification_services
    from notifications.models import Channel, Delivery, DeliveryStatus, Notification, OfficeContact
    from returns import services as return_services
    from returns.models import AdditionalMeasure, ReturnCase
    from tests.factories.beneficiaries import person
    from tests.factories.jointops import OrganisationFactory, UserFactory, build_world
    from tests.factories.letters_of_understanding import draft, in_force
    from tests.factories.returns import case, move, scheduled

    w = build_world()
    today = timezone.localdate()
    w.no_role = UserFactory(username="no_role", organisation=w.iom)
    consent = {"sharing_basis": "consent", "consent_date": dt.date(2025, 1, 10), "consent_scope": "Return counselling"}
    # People: one at IOM-AF-KBL with a document and a household; one of UNHCR shared with IOM-AF-KBL.
    w.person = person(w.iom_af, actor=w.iom_af_staff, phone="+93 700 111 222", **consent)
    w.document = beneficiary_services.document_add(
        actor=w.iom_af_staff, beneficiary=w.person, document_type="passport", number="P-778899"
    )
    w.household = beneficiary_services.household_create(actor=w.iom_af_staff, head=w.person)
    w.member = person(w.iom_af, actor=w.iom_af_staff)
    beneficiary_services.household_add_member(
        actor=w.iom_af_staff, household=w.household, beneficiary=w.member, relationship="child"
    )
    w.person.refresh_from_db()
    w.shared_person = person(w.unhcr_af, actor=w.unhcr_af_staff, **consent)
    beneficiary_services.beneficiary_share(actor=w.unhcr_af_staff, beneficiary=w.shared_person, office=w.iom_af)
    w.import_job = ImportJob.objects.create(office=w.iom_af, created_by=w.iom_af_staff, file_name="people.csv")
    # Returns: a case with a member and a measure; a UNHCR operation; an IOM agreement; a consultation.
    c = case(w.iom_af, w.iom_af_staff)
    return_services.return_case_add_member(
        actor=w.iom_af_staff, case=c, beneficiary=person(w.iom_af, actor=w.iom_af_staff)
    )
    w.case = ReturnCase.objects.get(pk=c.pk)
    w.case_member = w.case.members.get(is_principal=False)
    w.measure, _ = AdditionalMeasure.objects.get_or_create(office=w.iom_af, label="UNHCR counselling offered")
    w.operation = return_services.operation_create(
        actor=w.unhcr_af_staff,
        office=w.unhcr_af,
        title="Return to Afghanistan",
        kind="organised",
        country_of_origin="AF",
    )
    government = OrganisationFactory(code="GOV-PK", name="Government of Pakistan")
    parties = [government, *type(government).objects.filter(code__in=["UNHCR", "IOM"])]
    w.agreement = return_services.agreement_create(
        actor=w.iom_af_manager,
        office=w.iom_af,
        parties=parties,
        kind="tripartite",
        title="Tripartite",
        country_of_origin="AF",
        host_country="PK",
        valid_from=today - dt.timedelta(days=30),
    )
    w.consultation = jointops_services.consultation_record(
        actor=w.iom_af_staff,
        recorded_by_office=w.iom_af,
        offices=[w.unhcr_af],
        held_on=today,
        participants="A. Officer (IOM)\nB. Officer (UNHCR)",
        subject_kind="rejected_asylum_seekers",
        subject="Returns from Kabul",
    )
    # Letters of Understanding: a draft and a letter in force (amended once), with the rows of MOU §39-§40.
    w.draft = draft(w)
    w.draft_row = w.draft.activities.first()
    w.draft_funding = w.draft.funding.first()
    w.draft_secondment = lou_services.lou_row_add(
        actor=w.iom_af_staff, lou=w.draft, collection="secondments", from_agency=Agency.IOM, position="Driver"
    )
    w.lou = in_force(w, title="Joint returns, Afghanistan")
    proposed = lou_services.amendment_propose(
        actor=w.iom_af_staff, lou=w.lou, content={**text.content_of(w.lou), "title": "Joint returns (2)"}, rationale="T"
    )
    w.amendment = lou_services.amendment_approve(actor=w.unhcr_af_manager, amendment=proposed)
    w.lou.refresh_from_db()
    lou_services.phase_out_plan_save(actor=w.iom_af_staff, lou=w.lou, summary="Hand over to the ministry")
    w.plan_action = lou_services.phase_out_action_add(
        actor=w.iom_af_staff,
        lou=w.lou,
        description="Train drivers",
        owner_agency=Agency.IOM,
        owner="Logistics",
        due_on=today + dt.timedelta(days=30),
    )
    w.obligation = lou_services.obligation_save(
        actor=w.iom_af_staff, lou=w.lou, agency=Agency.IOM, description="Rent of the warehouse"
    )
    w.handover_item = lou_services.handover_item_save(
        actor=w.iom_af_staff, lou=w.lou, owner_agency=Agency.IOM, description="Truck", donor_permits_handover=True
    )
    # Notifications: a pre-departure list (announced departure), then the embarkation list; the outbox; config.
    OfficeContact.objects.create(office=w.unhcr_af, email="kbl-lists@unhcr.example.org")
    w.contact = OfficeContact.objects.get()
    departing = scheduled(w.iom_af, w.iom_af_staff, days=3)
    [w.pdl] = notification_services.pre_departure_lists_build(actor=None, trigger="schedule", iom_office=None)
    w.entry = w.pdl.entries.get()
    move(departing, w.iom_af_staff, "confirm_embarkation")
    [w.embarked_pdl] = notification_services.pre_departure_lists_build(actor=None, trigger="schedule", iom_office=None)
    w.embarked_entry = w.embarked_pdl.entries.get()
    w.notice = Notification.objects.filter(recipient=w.unhcr_af_staff, pre_departure_list=w.pdl).get()
    w.delivery = Delivery.objects.get(pre_departure_list=w.pdl, channel=Channel.EMAIL)
    Delivery.objects.filter(pk=w.delivery.pk).update(status=DeliveryStatus.FAILED, attempts=8, last_error="550")
    progres, _token = jointops_services.api_client_create(
        actor=w.unhcr_admin, name="proGres", office=w.unhcr_af, scopes=["pre-departure-lists:read"]
    )
    w.subscription = notification_services.webhook_subscription_create(
        actor=w.unhcr_admin, api_client=progres, url="https://progres.example.org/hooks"
    )
    # Platform: a partner system of IOM-AF-KBL; iom_af_staff's membership.
    w.api_client, _token = jointops_services.api_client_create(
        actor=w.iom_admin, name="MiMOSA", office=w.iom_af, scopes=["offices:read"]
    )
    w.membership = w.iom_af_staff.memberships.get(office=w.iom_af)
    w.mandate_id = Mandate.objects.values_list("pk", flat=True).first()
    # A person's request about their data (issue 8), received by the office holding the record.
    from privacy import services as privacy_services

    w.subject_request = privacy_services.request_record(
        actor=w.iom_af_staff, person=w.person, kind="access", received_on=today, channel="in_person"
    )
    return w


# The walk's members of staff: every role at each agency's offices (IOM-AF-KBL / UNHCR-AF-KBL and the headquarters),
# field staff of the field office beneath IOM-AF-KBL, and a user of another office of the same agency (IOM-DE-BER).
# (iom_de_manager and unhcr_de_staff add nothing the others do not show: the per-app tests keep them.)
WALK_STAFF = {
    "iom_af_staff",
    "iom_field_staff",
    "iom_af_manager",
    "iom_de_staff",
    "iom_hq_focal",
    "iom_admin",
    "unhcr_af_staff",
    "unhcr_af_manager",
    "unhcr_hq_focal",
    "unhcr_admin",
}


def walk_principals(w: SimpleNamespace) -> list[Principal]:
    """Anonymous, every member of staff of the walk world, a user with no role, and partner systems."""
    from jointops import services as jointops_services

    out = [Principal("anonymous", ANONYMOUS)]
    for name, role, office_attr in STAFF_PRINCIPALS:
        if name not in WALK_STAFF:
            continue
        user = getattr(w, name)
        out.append(Principal(name, STAFF, user, role, getattr(w, office_attr), user.organisation_id))
    out.append(Principal("no_role", STAFF, w.no_role, None, None, w.no_role.organisation_id))
    partners: list[tuple[str, Office, tuple[str, ...]]] = [
        (f"partner {scope}", w.iom_af, (scope,)) for scope in access.all_scopes()
    ]
    everything = tuple(access.all_scopes())
    partners += [
        ("partner beneficiaries:read+export", w.iom_af, ("beneficiaries:read", "beneficiaries:export")),
        ("partner every scope at IOM-AF-KBL", w.iom_af, everything),
        ("partner every scope at IOM-DE-BER (another office)", w.iom_de, everything),
        ("partner every scope at UNHCR-AF-KBL (the other agency)", w.unhcr_af, everything),
    ]
    for name, office, scopes in partners:
        row, token = jointops_services.api_client_create(
            actor=w.iom_admin if office.organisation_id == w.iom.pk else w.unhcr_admin,
            name=name[:100],
            office=office,
            scopes=list(scopes),
        )
        out.append(Principal(name, PARTNER, None, None, office, office.organisation_id, scopes, token, row))
    return out


# --- Targets: the object a URL names, and the offices that decide who reaches it --------------------------------


@dataclass(frozen=True)
class Target:
    get: Callable[[SimpleNamespace], Any]
    # offices whose VIEW right reaches the object (any of them); None: every principal the matrix allows at all
    seen_from: Callable[[SimpleNamespace, Any], list[int]] | None
    # offices whose right to the route's action covers the object (default: seen_from)
    acted_from: Callable[[SimpleNamespace, Any], list[int]] | None = None


def _offices(*attrs: str) -> Callable[[SimpleNamespace, Any], list[int]]:
    return lambda w, obj: [getattr(obj, a) for a in attrs]


TARGETS: dict[str, Target] = {
    "person": Target(lambda w: w.person, _offices("office_id")),
    "shared_person": Target(
        lambda w: w.shared_person,
        lambda w, obj: [obj.office_id, *obj.shares.filter(revoked_at=None).values_list("office_id", flat=True)],
        _offices("office_id"),
    ),
    "household": Target(lambda w: w.household, _offices("office_id")),
    "case": Target(lambda w: w.case, _offices("lead_office_id")),
    "operation": Target(lambda w: w.operation, None, _offices("office_id")),  # MOU §31: everyone reads them
    "agreement": Target(lambda w: w.agreement, None, _offices("office_id")),
    "consultation": Target(
        lambda w: w.consultation,
        lambda w, obj: [obj.recorded_by_office_id, *obj.offices.values_list("pk", flat=True)],
    ),
    "lou": Target(lambda w: w.lou, _offices("unhcr_office_id", "iom_office_id")),
    # An IOM obligation or asset of the letter (MOU §40): IOM's to list and hand over; UNHCR does not reach it.
    "lou_iom_row": Target(lambda w: w.lou, _offices("iom_office_id")),
    "draft": Target(lambda w: w.draft, _offices("unhcr_office_id", "iom_office_id")),
    "pdl": Target(lambda w: w.pdl, _offices("iom_office_id", "unhcr_office_id")),
    "embarked_pdl": Target(lambda w: w.embarked_pdl, _offices("iom_office_id", "unhcr_office_id")),
    "office": Target(lambda w: w.iom_af, None, lambda w, obj: [obj.pk]),  # the directory: every member of staff
    "dashboard_office": Target(lambda w: w.iom_af, lambda w, obj: [obj.pk]),
    "user": Target(lambda w: w.iom_af_staff, lambda w, obj: list(obj.memberships.values_list("office_id", flat=True))),
    "subject_request": Target(lambda w: w.subject_request, _offices("office_id")),
    "api_client": Target(lambda w: w.api_client, _offices("office_id")),
    "organisation": Target(lambda w: w.iom, None),
    "category": Target(lambda w: None, None),
    "mandate": Target(lambda w: None, None),
    # Narrower rules decide these (see RULES): their own rule says who reaches them.
    "import_job": Target(lambda w: w.import_job, None),
    "notice": Target(lambda w: w.notice, None),
    "delivery": Target(lambda w: w.delivery, None),
    "contact": Target(lambda w: w.contact, None),
    "subscription": Target(lambda w: w.subscription, None),
}

# --- Rules ----------------------------------------------------------------------------------------------------
# MATRIX: exactly access.MATRIX / API_SCOPES: allowed iff access.can(principal, action, resource, office=o) for an
#   office o of the target (or anywhere, without a target); an object no office of the principal reaches is refused
#   with 404 (or 403 when the principal holds no right to the resource at all).
# NARROWER: the app narrows the matrix further (LoU acts by party and role — letters_of_understanding/lifecycle.py;
#   case moves — returns/flow.py; which side answers a list — notifications/services.py): whoever the matrix refuses
#   is refused; whoever it allows reaches the object (never 404) and is either served or refused with 403.
# SIGNED_IN: every signed-in member of staff, about their own account or inbox (partner systems: refused).
# OWN: only the owner of the object (the recipient of a notice, the uploader of an import job); others get 404.
# ADMIN: administrators of their own organisation (access.administers); the object of another organisation: 404.
# EVERY_PRINCIPAL: anybody authenticated, partner systems included (who am I).
MATRIX, NARROWER, SIGNED_IN, OWN, ADMIN, EVERY_PRINCIPAL = (
    "matrix",
    "narrower",
    "signed_in",
    "own",
    "admin",
    "every_principal",
)

OWNERS: dict[str, Callable[[SimpleNamespace], Any]] = {
    "notice": lambda w: w.notice.recipient_id,
    "import_job": lambda w: w.import_job.created_by_id,
}
ORGANISATION_OF: dict[str, Callable[[SimpleNamespace], Any]] = {
    "contact": lambda w: w.contact.office.organisation_id,
    "subscription": lambda w: w.subscription.api_client.organisation_id,
}


@dataclass(frozen=True)
class Route:
    name: str  # as reverse() takes it
    resource: str | None
    action: str | None
    target: str | None = None
    method: str = "get"
    args: Callable[[SimpleNamespace], list] | None = None
    rule: str = MATRIX
    api: bool = False
    query: Callable[[SimpleNamespace], dict] | None = None  # the URL's query string, when the page needs one
    key: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.name}" + (f" [{self.target}]" if self.target else "")


def R(name, resource, action, target=None, *, method="get", args=None, rule=MATRIX, query=None) -> Route:  # noqa: N802
    """A browser route."""
    return Route(name, resource, action, target, method, args, rule, api=False, query=query)


def A(name, resource, action, target=None, *, method="get", args=None, rule=MATRIX) -> Route:  # noqa: N802
    """An API route (/api/v1/)."""
    return Route(name, resource, action, target, method, args, rule, api=True)


def _with(*extra: Callable[[SimpleNamespace], Any]) -> Callable[[SimpleNamespace], list]:
    return lambda w: [fn(w) for fn in extra]


LOU, DRAFT = (lambda w: w.lou.pk), (lambda w: w.draft.pk)
PDL = lambda w: w.pdl.pk  # noqa: E731

# Every route of the app: browser pages first (by app), then the API. One line per route.
ROUTES: list[Route] = [
    # --- Platform (jointops/web_urls.py) ---
    R("home", None, None, rule=SIGNED_IN),
    R("jointops:office_list", "office", VIEW),
    R("jointops:office_create", "office", ADD),
    R("jointops:office_detail", "office", VIEW, "office"),
    R("jointops:office_update", "office", CHANGE, "office"),
    R("jointops:user_list", "user", VIEW),
    R("jointops:user_create", "user", ADD),
    R("jointops:user_detail", "user", VIEW, "user"),
    R("jointops:user_activate", "user", CHANGE, "user", method="post"),
    R("jointops:user_deactivate", "user", CHANGE, "user", method="post"),
    R("jointops:membership_set", "user", CHANGE, "user"),
    R(
        "jointops:membership_remove",
        "user",
        CHANGE,
        "user",
        method="post",
        args=_with(lambda w: w.iom_af_staff.pk, lambda w: w.membership.pk),
    ),
    R("jointops:api_client_list", "api_client", VIEW),
    R("jointops:api_client_create", "api_client", ADD),
    R("jointops:api_client_detail", "api_client", VIEW, "api_client"),
    R("jointops:api_client_revoke", "api_client", CHANGE, "api_client"),
    R("jointops:api_client_revoke", "api_client", CHANGE, "api_client", method="post"),
    R("jointops:access_log_list", "access_log", VIEW),
    # --- People (beneficiaries/urls.py) ---
    R("beneficiaries:beneficiary_list", "beneficiary", VIEW),
    R("beneficiaries:beneficiary_create", "beneficiary", ADD),
    R("beneficiaries:beneficiary_import", "beneficiary", ADD),
    R("beneficiaries:beneficiary_import_template", "beneficiary", ADD),
    R("beneficiaries:import_job_detail", None, None, "import_job", rule=OWN),
    R("beneficiaries:import_job_report", None, None, "import_job", rule=OWN),
    R("beneficiaries:beneficiary_export", "beneficiary", EXPORT),
    R("beneficiaries:beneficiary_merge", "beneficiary", CHANGE),
    R("beneficiaries:beneficiary_detail", "beneficiary", VIEW, "person"),
    R("beneficiaries:beneficiary_detail", "beneficiary", VIEW, "shared_person"),
    R("beneficiaries:beneficiary_update", "beneficiary", CHANGE, "person"),
    R("beneficiaries:beneficiary_update", "beneficiary", CHANGE, "shared_person"),
    R("beneficiaries:beneficiary_change_category", "beneficiary", CHANGE, "person"),
    R("beneficiaries:beneficiary_share", "beneficiary", CHANGE, "person", method="post"),
    R("beneficiaries:document_add", "beneficiary", CHANGE, "person"),
    R(
        "beneficiaries:document_remove",
        "beneficiary",
        CHANGE,
        "person",
        method="post",
        args=_with(lambda w: w.person.pk, lambda w: w.document.pk),
    ),
    R("beneficiaries:household_list", "household", VIEW),
    R("beneficiaries:household_create", "household", ADD),
    R("beneficiaries:household_detail", "household", VIEW, "household"),
    R("beneficiaries:household_add_member", "household", CHANGE, "household", method="post"),
    R(
        "beneficiaries:household_remove_member",
        "household",
        CHANGE,
        "household",
        method="post",
        args=_with(lambda w: w.household.pk, lambda w: w.member.pk),
    ),
    R("beneficiaries:mandate_matrix", "reference", VIEW),
    # --- Returns (returns/urls.py) ---
    R("returns:case_list", "return_case", VIEW),
    R("returns:case_upcoming", "return_case", VIEW),
    R("returns:case_create", "return_case", ADD),
    R("returns:case_detail", "return_case", VIEW, "case"),
    R("returns:case_update", "return_case", CHANGE, "case"),
    R("returns:case_move", "return_case", CHANGE, "case", args=_with(lambda w: w.case.pk, lambda w: "withdraw")),
    R("returns:case_add_member", "return_case", CHANGE, "case", method="post"),
    R(
        "returns:case_remove_member",
        "return_case",
        CHANGE,
        "case",
        method="post",
        args=_with(lambda w: w.case.pk, lambda w: w.case_member.pk),
    ),
    R(
        "returns:case_measure",
        "return_case",
        CHANGE,
        "case",
        method="post",
        args=_with(lambda w: w.case.pk, lambda w: w.measure.pk),
    ),
    R("returns:case_visit", "return_case", CHANGE, "case", method="post"),
    R("returns:operation_list", "repatriation_operation", VIEW),
    R("returns:operation_create", "repatriation_operation", ADD, rule=NARROWER),  # MOU §31: UNHCR records them
    R("returns:operation_detail", "repatriation_operation", VIEW, "operation"),
    R("returns:operation_update", "repatriation_operation", CHANGE, "operation"),
    R("returns:agreement_list", "return_agreement", VIEW),
    R("returns:agreement_create", "return_agreement", ADD),
    R("returns:agreement_detail", "return_agreement", VIEW, "agreement"),
    R("returns:agreement_update", "return_agreement", CHANGE, "agreement"),
    # --- Consultations ---
    R("consultations:consultation_list", "consultation", VIEW),
    R("consultations:consultation_create", "consultation", ADD),
    R("consultations:consultation_detail", "consultation", VIEW, "consultation"),
    # --- Letters of Understanding (acts narrowed by letters_of_understanding/lifecycle.py) ---
    R("letters_of_understanding:lou_list", "lou", VIEW),
    R("letters_of_understanding:lou_create", "lou", ADD),
    R("letters_of_understanding:lou_detail", "lou", VIEW, "lou"),
    R("letters_of_understanding:lou_update", "lou", CHANGE, "draft", rule=NARROWER),
    R("letters_of_understanding:lou_act", "lou", CHANGE, "draft", args=_with(DRAFT, lambda w: "sign"), rule=NARROWER),
    R("letters_of_understanding:lou_pdf", "lou", VIEW, "lou"),
    R(
        "letters_of_understanding:lou_row_add",
        "lou",
        CHANGE,
        "draft",
        args=_with(DRAFT, lambda w: "activities"),
        rule=NARROWER,
    ),
    R(
        "letters_of_understanding:lou_row_update",
        "lou",
        CHANGE,
        "draft",
        args=_with(DRAFT, lambda w: "activities", lambda w: w.draft_row.pk),
        rule=NARROWER,
    ),
    R(
        "letters_of_understanding:lou_row_remove",
        "lou",
        CHANGE,
        "draft",
        method="post",
        args=_with(DRAFT, lambda w: "activities", lambda w: w.draft_row.pk),
        rule=NARROWER,
    ),
    R("letters_of_understanding:version_compare", "lou", VIEW, "lou"),
    R("letters_of_understanding:version_detail", "lou", VIEW, "lou", args=_with(LOU, lambda w: 1)),
    R("letters_of_understanding:version_pdf", "lou", VIEW, "lou", args=_with(LOU, lambda w: 1)),
    R("letters_of_understanding:amendment_create", "lou", CHANGE, "lou", rule=NARROWER),
    R("letters_of_understanding:amendment_detail", "lou", VIEW, "lou", args=_with(LOU, lambda w: w.amendment.pk)),
    R(
        "letters_of_understanding:amendment_decide",
        "lou",
        CHANGE,
        "lou",
        method="post",
        args=_with(LOU, lambda w: w.amendment.pk, lambda w: "approve"),
        rule=NARROWER,
    ),
    R("letters_of_understanding:plan_edit", "lou", CHANGE, "lou", rule=NARROWER),
    R("letters_of_understanding:plan_action_add", "lou", CHANGE, "lou", rule=NARROWER),
    R(
        "letters_of_understanding:plan_action_update",
        "lou",
        CHANGE,
        "lou",
        args=_with(LOU, lambda w: w.plan_action.pk),
        rule=NARROWER,
    ),
    R(
        "letters_of_understanding:plan_action_remove",
        "lou",
        CHANGE,
        "lou",
        method="post",
        args=_with(LOU, lambda w: w.plan_action.pk),
        rule=NARROWER,
    ),
    R("letters_of_understanding:obligation_add", "lou", CHANGE, "lou", rule=NARROWER),
    R(
        "letters_of_understanding:obligation_update",
        "lou",
        CHANGE,
        "lou_iom_row",
        args=_with(LOU, lambda w: w.obligation.pk),
        rule=NARROWER,
    ),
    R("letters_of_understanding:handover_add", "lou", CHANGE, "lou", rule=NARROWER),
    R(
        "letters_of_understanding:handover_update",
        "lou",
        CHANGE,
        "lou_iom_row",
        args=_with(LOU, lambda w: w.handover_item.pk),
        rule=NARROWER,
    ),
    R(
        "letters_of_understanding:handover_decide",
        "lou",
        CHANGE,
        "lou_iom_row",
        args=_with(LOU, lambda w: w.handover_item.pk),
        rule=NARROWER,
    ),
    # --- Notifications (which side answers a list: notifications/services.py) ---
    R("notifications:inbox", None, None, rule=SIGNED_IN),
    R("notifications:notification_read_all", None, None, method="post", rule=SIGNED_IN),
    R("notifications:notification_open", None, None, "notice", method="post", rule=OWN),
    R("notifications:notification_read", None, None, "notice", method="post", rule=OWN),
    R("notifications:email_preference", None, None, rule=SIGNED_IN),
    R("notifications:list_index", "pre_departure_list", VIEW),
    R("notifications:list_build", "pre_departure_list", ADD, method="post", rule=NARROWER),
    R("notifications:list_detail", "pre_departure_list", VIEW, "pdl"),
    R("notifications:list_csv", "pre_departure_list", VIEW, "pdl"),
    R("notifications:list_pdf", "pre_departure_list", VIEW, "pdl"),
    R("notifications:list_acknowledge", "pre_departure_list", CHANGE, "pdl", method="post", rule=NARROWER),
    R(
        "notifications:entry_concern",
        "pre_departure_list",
        CHANGE,
        "pdl",
        args=_with(PDL, lambda w: w.entry.pk),
        rule=NARROWER,
    ),
    R(
        "notifications:entry_close_record",
        "pre_departure_list",
        CHANGE,
        "embarked_pdl",
        method="post",
        args=_with(lambda w: w.embarked_pdl.pk, lambda w: w.embarked_entry.pk),
        rule=NARROWER,
    ),
    R("notifications:delivery_list", "delivery", VIEW),
    R("notifications:delivery_retry", "delivery", CHANGE, "delivery", method="post"),
    R("notifications:config", None, None, rule=ADMIN),
    R("notifications:contact_add", None, None, method="post", rule=ADMIN),
    R("notifications:contact_remove", None, None, "contact", method="post", rule=ADMIN),
    R("notifications:lead_time_set", None, None, method="post", rule=NARROWER),  # IOM administrators only
    R("notifications:webhook_create", None, None, method="post", rule=ADMIN),
    R("notifications:webhook_activate", None, None, "subscription", method="post", rule=ADMIN),
    R("notifications:webhook_deactivate", None, None, "subscription", method="post", rule=ADMIN),
    # --- Dashboards ---
    R("dashboards:overview", "dashboard", VIEW),
    R("dashboards:office", "dashboard", VIEW, "dashboard_office"),
    R("dashboards:export", "dashboard", VIEW, args=lambda w: ["people_by_category", "csv"]),
    R(
        "dashboards:office_export",
        "dashboard",
        VIEW,
        "dashboard_office",
        args=lambda w: [w.iom_af.pk, "people_by_category", "csv"],
    ),
    # --- One's own account: security page, two-factor, sign out everywhere (accounts/urls.py) ---
    R("accounts:security", None, None, rule=SIGNED_IN),
    R("accounts:recovery_codes_regenerate", None, None, method="post", rule=NARROWER),
    R("accounts:two_factor_disable", None, None, method="post", rule=NARROWER),  # refused where 2FA is required
    R("accounts:sign_out_everywhere", None, None, method="post", rule=SIGNED_IN),
    R("accounts:staff_two_factor_reset", "user", CHANGE, "user", method="post"),
    R("accounts:staff_sign_out_everywhere", "user", CHANGE, "user", method="post"),
    # --- A person's rights (privacy/urls.py) ---
    R("privacy:request_list", "data_subject_request", VIEW),
    R("privacy:request_create", "data_subject_request", ADD, "person", query=lambda w: {"person": w.person.pk}),
    R("privacy:request_detail", "data_subject_request", VIEW, "subject_request"),
    R("privacy:person_export_json", "data_subject_request", EXPORT, "person"),
    R("privacy:person_export_pdf", "data_subject_request", EXPORT, "person"),
    # --- Retention periods and the record of anonymisations (privacy/urls_retention.py) ---
    R("privacy_retention:retention", "retention", VIEW),
    # --- API: the platform ---
    A("me", None, None, rule=EVERY_PRINCIPAL),
    A("organisation-list", "organisation", VIEW),
    A("organisation-detail", "organisation", VIEW, "organisation"),
    A("office-list", "office", VIEW),
    A("office-list", "office", ADD, method="post"),
    A("office-detail", "office", VIEW, "office"),
    A("office-detail", "office", CHANGE, "office", method="patch"),
    A("user-list", "user", VIEW),
    A("user-list", "user", ADD, method="post"),
    A("user-detail", "user", VIEW, "user"),
    A("user-activate", "user", CHANGE, "user", method="post"),
    A("user-deactivate", "user", CHANGE, "user", method="post"),
    A("user-set-membership", "user", CHANGE, "user", method="post"),
    A(
        "user-remove-membership",
        "user",
        CHANGE,
        "user",
        method="delete",
        args=_with(lambda w: w.iom_af_staff.pk, lambda w: w.iom_af.code),
    ),
    A("api-client-list", "api_client", VIEW),
    A("api-client-list", "api_client", ADD, method="post"),
    A("api-client-detail", "api_client", VIEW, "api_client"),
    A("api-client-revoke", "api_client", CHANGE, "api_client", method="post"),
    # --- API: people ---
    A("beneficiary-list", "beneficiary", VIEW),
    A("beneficiary-list", "beneficiary", ADD, method="post"),
    A("beneficiary-check-duplicates", "beneficiary", VIEW, method="post"),
    A("beneficiary-export", "beneficiary", EXPORT),
    A("beneficiary-detail", "beneficiary", VIEW, "person"),
    A("beneficiary-detail", "beneficiary", VIEW, "shared_person"),
    A("beneficiary-detail", "beneficiary", CHANGE, "person", method="patch"),
    A("beneficiary-detail", "beneficiary", CHANGE, "shared_person", method="patch"),
    A("beneficiary-detail", "beneficiary", CHANGE, "person", method="put"),
    A("beneficiary-add-document", "beneficiary", CHANGE, "person", method="post"),
    A(
        "beneficiary-remove-document",
        "beneficiary",
        CHANGE,
        "person",
        method="delete",
        args=_with(lambda w: w.person.pk, lambda w: w.document.pk),
    ),
    A("beneficiary-category-changes", "beneficiary", CHANGE, "person", method="post"),
    A("beneficiary-duplicates", "beneficiary", VIEW, "person"),
    A("beneficiary-merge", "beneficiary", CHANGE, "person", method="post"),
    A("beneficiary-share", "beneficiary", CHANGE, "person", method="post"),
    A("household-list", "household", VIEW),
    A("household-list", "household", ADD, method="post"),
    A("household-detail", "household", VIEW, "household"),
    A("household-add-member", "household", CHANGE, "household", method="post"),
    A("household-remove-member", "household", CHANGE, "household", method="post"),
    A("beneficiary-category-list", "reference", VIEW),
    A("beneficiary-category-detail", "reference", VIEW, "category", args=lambda w: ["returnee"]),
    A("mandate-list", "reference", VIEW),
    A(
        "mandate-detail",
        "reference",
        VIEW,
        "mandate",
        args=lambda w: [w.mandate_id],
    ),
    A("beneficiary-import-list", "beneficiary", VIEW, rule=NARROWER),  # one's own jobs
    A("beneficiary-import-list", "beneficiary", ADD, method="post"),
    A("beneficiary-import-detail", None, None, "import_job", rule=OWN),
    # --- API: returns ---
    A("return-case-list", "return_case", VIEW),
    A("return-case-list", "return_case", ADD, method="post"),
    A("return-case-detail", "return_case", VIEW, "case"),
    A("return-case-detail", "return_case", CHANGE, "case", method="patch"),
    A("return-case-detail", "return_case", CHANGE, "case", method="put"),
    A("return-case-add-member", "return_case", CHANGE, "case", method="post"),
    A(
        "return-case-remove-member",
        "return_case",
        CHANGE,
        "case",
        method="delete",
        args=_with(lambda w: w.case.pk, lambda w: w.case_member.beneficiary_id),
    ),
    A("return-case-measures", "return_case", CHANGE, "case", method="post"),
    A("return-case-transitions", "return_case", CHANGE, "case", method="post", rule=NARROWER),
    A("return-case-visits", "return_case", CHANGE, "case", method="post"),
    A("repatriation-operation-list", "repatriation_operation", VIEW),
    A("repatriation-operation-list", "repatriation_operation", ADD, method="post"),
    A("repatriation-operation-detail", "repatriation_operation", VIEW, "operation"),
    A("repatriation-operation-detail", "repatriation_operation", CHANGE, "operation", method="patch"),
    A("repatriation-operation-detail", "repatriation_operation", CHANGE, "operation", method="put"),
    A("return-agreement-list", "return_agreement", VIEW),
    A("return-agreement-list", "return_agreement", ADD, method="post"),
    A("return-agreement-detail", "return_agreement", VIEW, "agreement"),
    A("return-agreement-detail", "return_agreement", CHANGE, "agreement", method="patch"),
    A("return-agreement-detail", "return_agreement", CHANGE, "agreement", method="put"),
    A("consultation-list", "consultation", VIEW),
    A("consultation-list", "consultation", ADD, method="post"),
    A("consultation-detail", "consultation", VIEW, "consultation"),
    # --- API: Letters of Understanding ---
    A("letter-of-understanding-list", "lou", VIEW),
    A("letter-of-understanding-list", "lou", ADD, method="post"),
    A("letter-of-understanding-detail", "lou", VIEW, "lou"),
    A("letter-of-understanding-detail", "lou", CHANGE, "draft", method="patch", rule=NARROWER),
    A("letter-of-understanding-detail", "lou", CHANGE, "draft", method="put", rule=NARROWER),
    A("letter-of-understanding-pdf", "lou", VIEW, "lou"),
    A("letter-of-understanding-versions", "lou", VIEW, "lou"),
    A("letter-of-understanding-version-detail", "lou", VIEW, "lou", args=_with(LOU, lambda w: 1)),
    A("letter-of-understanding-versions-compare", "lou", VIEW, "lou"),
    A("letter-of-understanding-amendments", "lou", VIEW, "lou"),
    A("letter-of-understanding-amendments", "lou", CHANGE, "lou", method="post", rule=NARROWER),
    A("letter-of-understanding-amendment", "lou", VIEW, "lou", args=_with(LOU, lambda w: w.amendment.pk)),
    *[
        A(
            f"letter-of-understanding-amendment-{act}",
            "lou",
            CHANGE,
            "lou",
            method="post",
            args=_with(LOU, lambda w: w.amendment.pk),
            rule=NARROWER,
        )
        for act in ("approve", "reject", "withdraw")
    ],
    *[
        A(f"letter-of-understanding-{act}", "lou", CHANGE, "draft", method="post", rule=NARROWER)
        for act in ("abandon", "activities", "funding", "secondments", "sign", "reopen")
    ],
    *[
        A(
            f"letter-of-understanding-{row}",
            "lou",
            CHANGE,
            "draft",
            method=method,
            args=_with(DRAFT, getter),
            rule=NARROWER,
        )
        for row, getter in (
            ("activity", lambda w: w.draft_row.pk),
            ("funding-arrangement", lambda w: w.draft_funding.pk),
        )
        for method in ("patch", "delete")
    ],
    *[
        A(f"letter-of-understanding-{act}", "lou", CHANGE, "lou", method="post", rule=NARROWER)
        for act in (
            "conclude",
            "confirm-obligations",
            "phase-out-actions",
            "phase-out-plan-agree",
            "resources-flag",
            "start-phase-out",
            "termination-notice",
        )
    ],
    *[
        A(f"letter-of-understanding-{collection}", "lou", VIEW, "lou")
        for collection in ("evaluations", "handover-items", "obligations", "phase-out-plan", "reviews")
    ],
    *[
        A(f"letter-of-understanding-{collection}", "lou", CHANGE, "lou", method="post", rule=NARROWER)
        for collection in ("evaluations", "handover-items", "obligations", "reviews")
    ],
    A("letter-of-understanding-phase-out-plan", "lou", CHANGE, "lou", method="put", rule=NARROWER),
    A(
        "letter-of-understanding-phase-out-action",
        "lou",
        CHANGE,
        "lou",
        method="patch",
        args=_with(LOU, lambda w: w.plan_action.pk),
        rule=NARROWER,
    ),
    A(
        "letter-of-understanding-phase-out-action",
        "lou",
        CHANGE,
        "lou",
        method="delete",
        args=_with(LOU, lambda w: w.plan_action.pk),
        rule=NARROWER,
    ),
    A(
        "letter-of-understanding-obligation",
        "lou",
        CHANGE,
        "lou",
        method="patch",
        args=_with(LOU, lambda w: w.obligation.pk),
        rule=NARROWER,
    ),
    A(
        "letter-of-understanding-handover-item",
        "lou",
        CHANGE,
        "lou",
        method="patch",
        args=_with(LOU, lambda w: w.handover_item.pk),
        rule=NARROWER,
    ),
    A(
        "letter-of-understanding-handover-item-decide",
        "lou",
        CHANGE,
        "lou",
        method="post",
        args=_with(LOU, lambda w: w.handover_item.pk),
        rule=NARROWER,
    ),
    A(
        "letter-of-understanding-secondment",
        "lou",
        CHANGE,
        "draft",
        method="patch",
        args=_with(DRAFT, lambda w: w.draft_secondment.pk),
        rule=NARROWER,
    ),
    A(
        "letter-of-understanding-secondment",
        "lou",
        CHANGE,
        "draft",
        method="delete",
        args=_with(DRAFT, lambda w: w.draft_secondment.pk),
        rule=NARROWER,
    ),
    # --- API: pre-departure lists, the inbox ---
    A("pre-departure-list-list", "pre_departure_list", VIEW),
    A("pre-departure-list-build", "pre_departure_list", ADD, method="post", rule=NARROWER),
    A("pre-departure-list-detail", "pre_departure_list", VIEW, "pdl"),
    A("pre-departure-list-csv", "pre_departure_list", VIEW, "pdl"),
    A("pre-departure-list-pdf", "pre_departure_list", VIEW, "pdl"),
    A("pre-departure-list-acknowledge", "pre_departure_list", CHANGE, "pdl", method="post", rule=NARROWER),
    A(
        "pre-departure-list-concern",
        "pre_departure_list",
        CHANGE,
        "pdl",
        method="post",
        args=_with(PDL, lambda w: w.entry.pk),
        rule=NARROWER,
    ),
    A(
        "pre-departure-list-close-record",
        "pre_departure_list",
        CHANGE,
        "embarked_pdl",
        method="post",
        args=_with(lambda w: w.embarked_pdl.pk, lambda w: w.embarked_entry.pk),
        rule=NARROWER,
    ),
    A("notification-list", None, None, rule=SIGNED_IN),
    A("notification-mark-read", None, None, method="post", rule=SIGNED_IN),
    A("notification-email-settings", None, None, rule=SIGNED_IN),
    A("notification-email-settings", None, None, method="put", rule=SIGNED_IN),
    # --- API: dashboards ---
    A("api-dashboard", "dashboard", VIEW),
    A("api-dashboard-office", "dashboard", VIEW, "dashboard_office"),
]

# Routes the walk leaves out, each with its reason.
EXCLUDED_NAMESPACES = {
    "admin": "the Django admin: superusers only, Django's own permission checks (is_staff), no office scoping",
}
EXCLUDED = {
    "healthz": "the health check answers every caller by design (no data: database/broker up or down)",
    "set_language": "i18n: stores the chosen language in the session or a cookie, reads and writes no record",
    "api-root": "the API's index of links: no record",
    "api-schema": "the OpenAPI schema: no record (tests/jointops/test_schema.py checks it needs a principal)",
    "api-docs": "the interactive docs page: no record (the same rule as the schema)",
    "login": "sign-in page: open to anonymous by nature",
    "logout": "sign-out: ends one's own session",
    "password_change": "one's own password (tests/jointops/test_views.py)",
    "password_change_done": "one's own password",
    "password_reset": "password reset by e-mail: open to anonymous by nature",
    "password_reset_done": "password reset: open to anonymous",
    "password_reset_confirm": "password reset: the signed token in the URL is the only key",
    "password_reset_complete": "password reset: open to anonymous",
    "accounts:two_factor_verify": "two-factor sign-in: a step of signing in (tests/accounts)",
    "accounts:two_factor_setup": "two-factor sign-in: a step of signing in, one's own device (tests/accounts)",
    "accounts:two_factor_qr": "two-factor sign-in: the QR code of one's own new device (tests/accounts)",
}


def route_names() -> set[str]:
    """(name, method) of every route of the root URL resolver: browser pages by name, API routes per method."""
    found: set[str] = set()

    def walk(patterns, namespace: str = "", api: bool = False) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in EXCLUDED_NAMESPACES:
                    continue
                is_api = api or str(pattern.pattern).startswith("api/")
                walk(pattern.url_patterns, pattern.namespace or namespace, is_api)
            elif isinstance(pattern, URLPattern):
                if pattern.name is None:
                    continue  # the API's catch-all 404 (answers JSON "not found" for any unknown path)
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                if name in EXCLUDED:
                    continue
                actions = getattr(pattern.callback, "actions", None)
                if api and actions:  # (DRF adds "head" beside "get" once a route has answered: not a route)
                    found.update(f"{method.upper()} {name}" for method in actions if method not in ("head", "options"))
                elif api:
                    view = pattern.callback.view_class
                    methods = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]
                    found.update(f"{method.upper()} {name}" for method in methods)
                else:
                    found.add(name)

    walk(get_resolver().url_patterns)
    return found


def table_names() -> set[str]:
    return {f"{r.method.upper()} {r.name}" if r.api else r.name for r in ROUTES}


# --- Expected answers, computed from jointops.access ------------------------------------------------------------

ALLOW, REFUSE, HIDE, EITHER, LOGIN, UNAUTHENTICATED = "allowed", "refused", "hidden", "either", "login", "401"
EITHER_OR_HIDDEN = "either or hidden"


def _can_anywhere(actor: Any, action: str, resource: str) -> bool:
    return access.can(actor, action, resource)


def expected(route: Route, p: Principal, w: SimpleNamespace) -> str:
    """ALLOW / REFUSE (403) / HIDE (404; 403 if no right to the resource at all) / EITHER / LOGIN / UNAUTHENTICATED."""
    if p.kind == ANONYMOUS or (p.kind == PARTNER and not route.api):
        return UNAUTHENTICATED if route.api else LOGIN
    actor = p.acting
    if route.rule == EVERY_PRINCIPAL:
        return ALLOW
    if route.rule == SIGNED_IN:
        return ALLOW if p.kind == STAFF else REFUSE
    if route.rule == OWN:
        if p.kind != STAFF:
            return HIDE
        return ALLOW if OWNERS[route.target](w) == p.user.pk else HIDE
    if route.rule == ADMIN:
        if p.kind != STAFF or not access.administers(actor, p.user.organisation_id):
            return REFUSE
        if route.target and ORGANISATION_OF[route.target](w) != p.user.organisation_id:
            return HIDE
        return ALLOW
    if route.resource is None:  # a NARROWER rule without a resource: only the app's own rule decides
        return EITHER if p.kind == STAFF else REFUSE
    if route.target is None:
        allowed = _can_anywhere(actor, route.action, route.resource)
    else:
        target = TARGETS[route.target]
        obj = target.get(w)
        acted = (target.acted_from or target.seen_from or (lambda w, obj: [None]))(w, obj)
        allowed = any(
            access.can(actor, route.action, route.resource, office=o)
            if o is not None
            else _can_anywhere(actor, route.action, route.resource)
            for o in acted
        )
        # Reached: the principal may view the object, or may do this very action to it (a write-only partner).
        if target.seen_from is None:
            seen = _can_anywhere(actor, VIEW, route.resource)
        else:
            seen = any(access.can(actor, VIEW, route.resource, office=o) for o in target.seen_from(w, obj))
        if route.action == VIEW:
            allowed = seen
        if not seen and not allowed:
            return HIDE
    if route.rule == NARROWER:
        if allowed and route.target is not None and not seen:
            return EITHER_OR_HIDDEN  # a write-only partner system: the app may not look the object up for it
        return EITHER if allowed else REFUSE
    return ALLOW if allowed else REFUSE


def url_of(route: Route, w: SimpleNamespace) -> str:
    query = f"?{urlencode(route.query(w))}" if route.query else ""
    if route.args is not None:
        return reverse(route.name, args=route.args(w)) + query
    if route.target is None or route.query:
        return reverse(route.name) + query
    return reverse(route.name, args=[TARGETS[route.target].get(w).pk])


# 2xx, a redirect to a page other than the sign-in page, 400 for an empty write, or a business rule that answered
# (409 the act is not open now, 412/428 the version check of a write) — the access check was passed.
PASSED = {200, 201, 202, 204, 302, 303, 400, 409, 412, 428}


def judge(route: Route, p: Principal, w: SimpleNamespace, status: int, location: str) -> str | None:
    """None if the answer is what the rules say; otherwise what is wrong."""
    want = expected(route, p, w)
    login = reverse("login")
    to_login = status == 302 and location.startswith(login)
    if status >= 500:
        return f"server error {status}"
    if want == LOGIN:
        return None if to_login else f"{status} (expected the sign-in page)"
    if want == UNAUTHENTICATED:
        return None if status in (401, 403) else f"{status} (expected 401/403)"
    if to_login:
        return f"sent to the sign-in page (expected {want})"
    passed = status in PASSED
    if want == ALLOW:
        return None if passed else f"{status} (expected allowed)"
    if want == REFUSE:
        return None if status == 403 else f"{status} (expected 403)"
    if want == HIDE:
        # 403 is as good as 404 when the principal holds no right to this action on the resource anywhere: the view
        # refuses before it looks for the object (nothing about the object is revealed either way).
        no_right = route.resource is None or not _can_anywhere(p.acting, route.action, route.resource)
        ok = status == 404 or (status == 403 and no_right)
        return None if ok else f"{status} (expected 404: the object is outside the principal's offices)"
    if want == EITHER_OR_HIDDEN:
        return None if passed or status in (403, 404) else f"{status} (expected allowed, 403 or 404)"
    if want == EITHER:
        return None if passed or status == 403 else f"{status} (expected allowed or 403)"
    raise AssertionError(want)


def _scope_names(p: Principal) -> set[str]:
    return {scope.split(":")[0] for scope in p.scopes}


def principals_for(route: Route, principals: list[Principal]) -> list[Principal]:
    """Staff and anonymous on every route; on API routes the partner systems whose scopes concern the route (with
    the read, write or export scope of its resource), one holding an unrelated scope, and the every-scope clients of
    IOM-AF-KBL, another office and the other agency. Browser routes: one partner token (sent to the sign-in page)."""
    out, unrelated_seen = [], False
    scope_name = access.API_SCOPES.get(route.resource or "", ("", frozenset()))[0]
    browser_partner = False
    for p in principals:
        if p.kind != PARTNER:
            out.append(p)
        elif not route.api:
            if not browser_partner:
                out.append(p)
                browser_partner = True
        elif (
            "every scope" in p.name
            or "+" in p.name
            or scope_name
            and any(s.split(":")[0] == scope_name for s in p.scopes)
        ):
            out.append(p)
        elif not unrelated_seen:
            out.append(p)
            unrelated_seen = True
    return out
