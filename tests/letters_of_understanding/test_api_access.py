"""The Letters of Understanding API access matrix: every endpoint × every principal → exactly the status the rules
give, and no read or write across scopes.

Principals: every member of staff of build_world() (field staff and office managers at the party offices, at a field
office beneath one, at the other country's offices; both HQ focal points; both administrators), partner systems at
IOM-AF-KBL holding `letters-of-understanding:read`, `:write` only, both, or `offices:read` only; partner systems with
both scopes at IOM-DE-BER (another office), at IOM-AF-HRT (the field office) and at UNHCR-AF-KBL (the other agency); a
revoked token; nobody. Targets: letters between UNHCR-AF-KBL and IOM-AF-KBL in each status (draft, signed by UNHCR,
in force with a plan, obligations and assets, in force with IOM's amendment pending, in force with an agreed plan,
phasing out with everything settled), a letter between UNHCR-AF-KBL and the field office IOM-AF-HRT, and a German
letter (UNHCR-DE-BER, IOM-DE-BER).

The expected status is derived from the written rules (access.MATRIX / API_SCOPES, the README and lifecycle.py's
docstring), independently of their implementation: the role or the partner's scopes must allow the action (else
403); the letter must be one the principal may see — a party office within the principal's offices — (else 404; for
a write-only partner, the offices it may write); a write needs a party office within the offices the principal may
change (else 403 when visible). The act is then performed for the party whose office the principal works at (or
above): staff acts by field staff, office managers and partner systems with the write scope; signatures, decisions,
notices, agreements, the start of the phase-out and the conclusion by office managers only (else 403); then the
lifecycle rule decides (409 with its paragraph). Each request runs in a savepoint rolled back afterwards; the tables
are compared before and after: a refused request writes nothing, an accepted one only letters of which the principal
works at a party office.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from jointops import access
from jointops import services as jointops_services
from jointops.choices import ORGANISATION_WIDE_ROLES, Role
from jointops.models import Office
from letters_of_understanding import content as text
from letters_of_understanding import services
from letters_of_understanding.models import (
    Activity,
    Amendment,
    Evaluation,
    FundingArrangement,
    HandoverItem,
    LetterOfUnderstanding,
    LouEvent,
    LouVersion,
    Obligation,
    PhaseOutAction,
    PhaseOutPlan,
    Review,
    Signature,
    StaffSecondment,
)
from tests.access_walk import (
    ANONYMOUS,
    DEAD_TOKEN,
    PARTNER,
    STAFF,
    STAFF_PRINCIPALS,
    Principal,
)
from tests.access_walk import (
    client_for as _client_for,
)
from tests.access_walk import (
    office_and_below as _office_and_below,
)
from tests.factories.letters_of_understanding import agreed_plan, draft, in_force

VIEW, ADD, CHANGE = access.VIEW, access.ADD, access.CHANGE
URL = "/api/v1/letters-of-understanding/"
READ, WRITE = "letters-of-understanding:read", "letters-of-understanding:write"
# (name, office attribute, administrator creating it, scopes)
PARTNERS = [
    ("partner read", "iom_af", "iom_admin", (READ,)),
    ("partner write", "iom_af", "iom_admin", (WRITE,)),
    ("partner read+write", "iom_af", "iom_admin", (READ, WRITE)),
    ("partner offices:read", "iom_af", "iom_admin", ("offices:read",)),
    ("partner read+write at IOM-DE-BER", "iom_de", "iom_admin", (READ, WRITE)),
    ("partner read+write at IOM-AF-HRT", "iom_af_field", "iom_admin", (READ, WRITE)),
    ("partner read+write at UNHCR-AF-KBL", "unhcr_af", "unhcr_admin", (READ, WRITE)),
]
UNHCR, IOM = "UNHCR", "IOM"
STAFF_ACT, MANAGER_ACT = "staff", "manager"


# --- The rules, written out for the test ---------------------------------------------------------------


def _scope(p: Principal, action: str) -> set[int]:
    """Offices whose letters the principal may `action` (README: a role at an office covers it and the offices
    beneath; HQ focal points cover their organisation; partner systems their office, within their scopes)."""
    if p.kind == STAFF:
        if p.role not in access.MATRIX["lou"].get(action, frozenset()):
            return set()
        if p.role in ORGANISATION_WIDE_ROLES:
            return set(Office.objects.filter(organisation_id=p.organisation_id).values_list("pk", flat=True))
        return _office_and_below(p.office)
    if p.kind == PARTNER:
        needed = READ if action == VIEW else WRITE
        return _office_and_below(p.office) if needed in p.scopes else set()
    return set()


def _parties(lou: LetterOfUnderstanding) -> dict[str, int]:
    return {UNHCR: lou.unhcr_office_id, IOM: lou.iom_office_id}


def sees(p: Principal, lou: LetterOfUnderstanding) -> bool:
    """MOU §35 and the README: both parties' offices (and above) and both organisations' HQ focal points."""
    return bool(set(_parties(lou).values()) & _scope(p, VIEW))


def finds_for_write(p: Principal, lou: LetterOfUnderstanding) -> bool:
    """A write names a letter the principal may see, or — for a partner holding only the write scope — may change."""
    scope = _scope(p, VIEW) if _scope(p, VIEW) else _scope(p, CHANGE)
    return bool(set(_parties(lou).values()) & scope)


def may_write(p: Principal, lou: LetterOfUnderstanding) -> bool:
    return bool(set(_parties(lou).values()) & _scope(p, CHANGE))


def party_of(p: Principal, lou: LetterOfUnderstanding, act: str) -> str | None:
    """The party the principal acts for (lifecycle.py: staff of that party's office or above; partner systems as field
    staff of their office; office managers for signatures, decisions, notices and agreements)."""
    roles = {Role.OFFICE_MANAGER} if act == MANAGER_ACT else {Role.FIELD_STAFF, Role.OFFICE_MANAGER}
    for agency, office_id in _parties(lou).items():
        office = Office.objects.get(pk=office_id)
        if p.organisation_id != office.organisation_id:
            continue
        if p.kind == STAFF and p.role in roles and office_id in _office_and_below(p.office):
            return agency
        if p.kind == PARTNER and act == STAFF_ACT and WRITE in p.scopes and office_id in _office_and_below(p.office):
            return agency
    return None


def matrix_allows(p: Principal, action: str) -> bool:
    if p.kind == PARTNER:
        return (READ if action == VIEW else WRITE) in p.scopes
    return p.role in access.MATRIX["lou"].get(action, frozenset())


@dataclass
class Call:
    name: str
    method: str
    path: Callable[[SimpleNamespace], str]
    action: str
    body: Callable[[SimpleNamespace], dict] | None = None
    target: str | None = None  # key of w.lous: the letter whose visibility decides 404/403
    act: str | None = None  # STAFF_ACT or MANAGER_ACT: performed for a party
    success: int = 200
    outcome: Callable[[str], int] | None = None  # the party acting -> status, after the rules above
    mapped: bool = True
    list_of: bool = False
    if_match: bool = False
    creates_at: tuple[str, str] | None = None  # a new letter between these offices (attributes of the world)


def expected_status(call: Call, p: Principal, w: SimpleNamespace) -> int:
    if p.kind in (ANONYMOUS, DEAD_TOKEN):
        return 401
    if not call.mapped:
        return 405
    if not matrix_allows(p, call.action):
        return 403
    if call.creates_at is not None:
        offices = {getattr(w, name).pk for name in call.creates_at}
        return call.success if offices & _scope(p, ADD) else 403
    if call.target is not None:
        lou = w.lous[call.target]
        if call.action == VIEW and not sees(p, lou):
            return 404
        if call.action != VIEW:
            if not finds_for_write(p, lou):
                return 404
            if not may_write(p, lou):
                return 403
    if call.act is not None:
        party = party_of(p, w.lous[call.target], call.act)
        if party is None:
            return 403
        return call.outcome(party) if call.outcome else call.success
    return call.success


# --- The world --------------------------------------------------------------------------------------------


def _build(w: SimpleNamespace) -> None:
    today = timezone.localdate()
    w.lous = {}
    w.lous["draft"] = lou = draft(w)
    services.lou_row_add(actor=w.iom_af_staff, lou=lou, collection="secondments", from_agency=IOM, position="Driver")
    w.lous["partly"] = services.lou_sign(actor=w.unhcr_af_manager, lou=draft(w), signatory_name="UNHCR Representative")

    w.lous["in_force"] = lou = in_force(w)
    services.phase_out_plan_save(actor=w.iom_af_staff, lou=lou, summary="Hand over to the ministry")
    w.plan_action = services.phase_out_action_add(
        actor=w.iom_af_staff, lou=lou, description="Train", owner_agency=IOM, owner="Unit", due_on=today
    )
    w.obligation = services.obligation_save(actor=w.iom_af_staff, lou=lou, agency=IOM, description="Vehicle lease")
    w.permitted = services.handover_item_save(
        actor=w.iom_af_staff, lou=lou, owner_agency=IOM, description="Tents", donor_permits_handover=True
    )
    w.restricted = services.handover_item_save(
        actor=w.iom_af_staff, lou=lou, owner_agency=IOM, description="Land cruiser", donor="ECHO"
    )

    w.lous["amending"] = lou = in_force(w)
    w.amendment = services.amendment_propose(
        actor=w.iom_af_staff,
        lou=lou,
        content=text.content_of(lou) | {"linkages": "Proposed by IOM"},
        rationale="IOM's proposal",
    )

    w.lous["agreed"] = lou = in_force(w)
    agreed_plan(w, lou)

    w.lous["phasing"] = lou = in_force(w)
    agreed_plan(w, lou)
    services.lou_start_phase_out(actor=w.iom_af_manager, lou=lou)
    services.lou_confirm_obligations(actor=w.iom_af_manager, lou=lou)
    services.lou_confirm_obligations(actor=w.unhcr_af_manager, lou=lou)

    w.lous["field"] = services.lou_create(
        actor=w.iom_field_staff,
        unhcr_office=w.unhcr_af,
        iom_office=w.iom_af_field,
        title="Herat field letter",
        operational_situation="Returns to Herat",
        start_date=today,
    )
    w.lous["de"] = services.lou_create(
        actor=w.iom_de_staff,
        unhcr_office=w.unhcr_de,
        iom_office=w.iom_de,
        title="German letter",
        operational_situation="Assisted voluntary return",
        countries=["DE"],
        start_date=today,
    )
    for key, lou in w.lous.items():
        w.lous[key] = LetterOfUnderstanding.objects.get(pk=lou.pk)


def _principals(w: SimpleNamespace) -> list[Principal]:
    out = [Principal("anonymous", ANONYMOUS)]
    for name, role, office_attr in STAFF_PRINCIPALS:
        user = getattr(w, name)
        out.append(Principal(name, STAFF, user, role, getattr(w, office_attr), user.organisation_id))
    for name, office_attr, admin, scopes in PARTNERS:
        office = getattr(w, office_attr)
        _row, token = jointops_services.api_client_create(
            actor=getattr(w, admin), name=name, office=office, scopes=list(scopes)
        )
        out.append(
            Principal(name, PARTNER, office=office, organisation_id=office.organisation_id, scopes=scopes, token=token)
        )
    revoked, revoked_token = jointops_services.api_client_create(
        actor=w.iom_admin, name="Revoked", office=w.iom_af, scopes=[READ, WRITE]
    )
    jointops_services.api_client_revoke(actor=w.iom_admin, client=revoked)
    out.append(Principal("revoked token", DEAD_TOKEN, token=revoked_token))
    return out


# --- The calls --------------------------------------------------------------------------------------------


def _path(key: str, suffix: str = "") -> Callable[[SimpleNamespace], str]:
    return lambda w: f"{URL}{w.lous[key].pk}/{suffix}"


def _day(days: int = 0) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def _by(party: str, success: int, otherwise: int) -> Callable[[str], int]:
    return lambda acting: success if acting == party else otherwise


def _create_body(unhcr: str, iom: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {
        "unhcr_office": unhcr,
        "iom_office": iom,
        "title": "New letter",
        "operational_situation": "A new situation",
        "start_date": _day(),
    }


def _put_body(w: SimpleNamespace) -> dict:
    return {
        "title": "Replaced",
        "operational_situation": "Replaced",
        "countries": ["AF"],
        "region": "",
        "other_parties": "",
        "categories": [],
        "start_date": _day(),
        "end_date": None,
        "institutional_framework": "Framework",
        "linkages": "Linkages",
        "monitoring_procedures": "",
        "evaluation_arrangements": "",
    }


def _row_calls(collection: str, body: dict, change: dict) -> list[Call]:
    def row(w):
        return getattr(w.lous["draft"], collection).order_by("pk").first().pk

    return [
        Call(
            f"add {collection} to draft",
            "POST",
            _path("draft", f"{collection}/"),
            CHANGE,
            body=lambda w: body,
            target="draft",
            act=STAFF_ACT,
            success=201,
        ),
        Call(
            f"change {collection} row of draft",
            "PATCH",
            lambda w: f"{URL}{w.lous['draft'].pk}/{collection}/{row(w)}/",
            CHANGE,
            body=lambda w: change,
            target="draft",
            act=STAFF_ACT,
        ),
        Call(
            f"remove {collection} row of draft",
            "DELETE",
            lambda w: f"{URL}{w.lous['draft'].pk}/{collection}/{row(w)}/",
            CHANGE,
            target="draft",
            act=STAFF_ACT,
            success=204,
        ),
    ]


def _read_calls(key: str) -> list[Call]:
    return [Call(f"read {key} letter", "GET", _path(key), VIEW, target=key)]


CALLS = [
    Call("list letters", "GET", lambda w: URL, VIEW, list_of=True),
    Call(
        "draft AF letter",
        "POST",
        lambda w: URL,
        ADD,
        body=_create_body("UNHCR-AF-KBL", "IOM-AF-KBL"),
        creates_at=("unhcr_af", "iom_af"),
        success=201,
    ),
    Call(
        "draft letter with the field office",
        "POST",
        lambda w: URL,
        ADD,
        body=_create_body("UNHCR-AF-KBL", "IOM-AF-HRT"),
        creates_at=("unhcr_af", "iom_af_field"),
        success=201,
    ),
    *[
        call
        for key in ("draft", "partly", "in_force", "amending", "phasing", "field", "de")
        for call in _read_calls(key)
    ],
    # --- the draft
    Call(
        "patch draft",
        "PATCH",
        _path("draft"),
        CHANGE,
        body=lambda w: {"title": "Patched"},
        target="draft",
        act=STAFF_ACT,
        if_match=True,
    ),
    Call("put draft", "PUT", _path("draft"), CHANGE, body=_put_body, target="draft", act=STAFF_ACT, if_match=True),
    Call("delete draft", "DELETE", _path("draft"), CHANGE, mapped=False),
    *_row_calls("activities", {"kind": "prevention", "agency": IOM, "description": "x"}, {"indicators": "y"}),
    *_row_calls("funding", {"agency": UNHCR, "source": "CERF", "amount": "10", "currency": "USD"}, {"source": "y"}),
    *_row_calls("secondments", {"from_agency": UNHCR, "position": "Officer"}, {"number": 2}),
    Call(
        "add activity to field letter",
        "POST",
        _path("field", "activities/"),
        CHANGE,
        body=lambda w: {"kind": "prevention", "agency": IOM, "description": "x"},
        target="field",
        act=STAFF_ACT,
        success=201,
    ),
    Call(
        "patch German letter",
        "PATCH",
        _path("de"),
        CHANGE,
        body=lambda w: {"title": "Patched"},
        target="de",
        act=STAFF_ACT,
        if_match=True,
    ),
    Call(
        "sign draft",
        "POST",
        _path("draft", "sign/"),
        CHANGE,
        body=lambda w: {"signatory_name": "Representative"},
        target="draft",
        act=MANAGER_ACT,
    ),
    Call(
        "abandon draft",
        "POST",
        _path("draft", "abandon/"),
        CHANGE,
        body=lambda w: {"reason": "No funding"},
        target="draft",
        act=MANAGER_ACT,
    ),
    Call(
        "sign partly signed",
        "POST",
        _path("partly", "sign/"),
        CHANGE,
        body=lambda w: {"signatory_name": "Chief of Mission"},
        target="partly",
        act=MANAGER_ACT,
        outcome=_by(IOM, 200, 409),  # UNHCR has signed already
    ),
    Call(
        "reopen partly signed",
        "POST",
        _path("partly", "reopen/"),
        CHANGE,
        body=lambda w: {"reason": "Change the text"},
        target="partly",
        act=MANAGER_ACT,
    ),
    # --- versions and the document
    Call("list versions", "GET", _path("in_force", "versions/"), VIEW, target="in_force"),
    Call("read version 1", "GET", _path("in_force", "versions/1/"), VIEW, target="in_force"),
    Call("compare versions", "GET", _path("in_force", "versions/compare/?left=1&right=1"), VIEW, target="in_force"),
    Call("pdf", "GET", _path("in_force", "pdf/"), VIEW, target="in_force"),
    Call("pdf of version 1", "GET", _path("in_force", "pdf/?version=1"), VIEW, target="in_force"),
    Call("pdf of the German draft", "GET", _path("de", "pdf/"), VIEW, target="de"),
    # --- amendments (MOU §46)
    Call("list amendments", "GET", _path("amending", "amendments/"), VIEW, target="amending"),
    Call(
        "read amendment",
        "GET",
        lambda w: f"{URL}{w.lous['amending'].pk}/amendments/{w.amendment.pk}/",
        VIEW,
        target="amending",
    ),
    Call(
        "propose amendment",
        "POST",
        _path("in_force", "amendments/"),
        CHANGE,
        body=lambda w: {
            "content": text.content_of(w.lous["in_force"]) | {"title": "Amended"},
            "rationale": "Why",
        },
        target="in_force",
        act=STAFF_ACT,
        success=201,
    ),
    Call(
        "propose a second amendment",
        "POST",
        _path("amending", "amendments/"),
        CHANGE,
        body=lambda w: {"content": text.content_of(w.lous["amending"]) | {"title": "Again"}, "rationale": "Why"},
        target="amending",
        act=STAFF_ACT,
        success=409,
    ),
    Call(
        "approve IOM's amendment",
        "POST",
        lambda w: f"{URL}{w.lous['amending'].pk}/amendments/{w.amendment.pk}/approve/",
        CHANGE,
        target="amending",
        act=MANAGER_ACT,
        outcome=_by(UNHCR, 200, 409),  # MOU §46: the other party decides
    ),
    Call(
        "reject IOM's amendment",
        "POST",
        lambda w: f"{URL}{w.lous['amending'].pk}/amendments/{w.amendment.pk}/reject/",
        CHANGE,
        body=lambda w: {"note": "Not now"},
        target="amending",
        act=MANAGER_ACT,
        outcome=_by(UNHCR, 200, 409),
    ),
    Call(
        "withdraw IOM's amendment",
        "POST",
        lambda w: f"{URL}{w.lous['amending'].pk}/amendments/{w.amendment.pk}/withdraw/",
        CHANGE,
        target="amending",
        act=STAFF_ACT,
        outcome=_by(IOM, 200, 409),  # only the proposing party withdraws
    ),
    # --- termination, reviews, evaluations (MOU §45, §47, §38)
    Call(
        "serve notice",
        "POST",
        _path("in_force", "termination-notice/"),
        CHANGE,
        body=lambda w: {"reason": "Funding ends"},
        target="in_force",
        act=MANAGER_ACT,
    ),
    Call("list reviews", "GET", _path("in_force", "reviews/"), VIEW, target="in_force"),
    Call(
        "record review",
        "POST",
        _path("in_force", "reviews/"),
        CHANGE,
        body=lambda w: {"held_on": _day(), "outcome": "continue", "summary": "On track"},
        target="in_force",
        act=STAFF_ACT,
        success=201,
    ),
    Call("list evaluations", "GET", _path("in_force", "evaluations/"), VIEW, target="in_force"),
    Call(
        "record evaluation",
        "POST",
        _path("in_force", "evaluations/"),
        CHANGE,
        body=lambda w: {"kind": "monitoring", "title": "Q1", "carried_out_on": _day(), "findings": "Fine"},
        target="in_force",
        act=STAFF_ACT,
        success=201,
    ),
    # --- phase-out (MOU §39)
    Call(
        "flag resources",
        "POST",
        _path("in_force", "resources-flag/"),
        CHANGE,
        body=lambda w: {"note": "Funding ends"},
        target="in_force",
        act=STAFF_ACT,
    ),
    Call("read plan", "GET", _path("in_force", "phase-out-plan/"), VIEW, target="in_force"),
    Call(
        "rewrite plan",
        "PUT",
        _path("in_force", "phase-out-plan/"),
        CHANGE,
        body=lambda w: {"summary": "Rewritten"},
        target="in_force",
        act=STAFF_ACT,
    ),
    Call(
        "add plan action",
        "POST",
        _path("in_force", "phase-out-plan/actions/"),
        CHANGE,
        body=lambda w: {"description": "Hand over", "owner_agency": UNHCR, "owner": "Unit", "due_on": _day(9)},
        target="in_force",
        act=STAFF_ACT,
        success=201,
    ),
    Call(
        "change plan action",
        "PATCH",
        lambda w: f"{URL}{w.lous['in_force'].pk}/phase-out-plan/actions/{w.plan_action.pk}/",
        CHANGE,
        body=lambda w: {"owner": "Other unit"},
        target="in_force",
        act=STAFF_ACT,
    ),
    Call(
        "remove plan action",
        "DELETE",
        lambda w: f"{URL}{w.lous['in_force'].pk}/phase-out-plan/actions/{w.plan_action.pk}/",
        CHANGE,
        target="in_force",
        act=STAFF_ACT,
        success=204,
    ),
    Call(
        "agree plan",
        "POST",
        _path("in_force", "phase-out-plan/agree/"),
        CHANGE,
        target="in_force",
        act=MANAGER_ACT,
    ),
    Call(
        "start phase-out without an agreed plan",
        "POST",
        _path("in_force", "start-phase-out/"),
        CHANGE,
        target="in_force",
        act=MANAGER_ACT,
        success=409,
    ),
    Call(
        "start phase-out with the agreed plan",
        "POST",
        _path("agreed", "start-phase-out/"),
        CHANGE,
        target="agreed",
        act=MANAGER_ACT,
    ),
    # --- settlement (MOU §40)
    Call("list obligations", "GET", _path("in_force", "obligations/"), VIEW, target="in_force"),
    Call(
        "list IOM obligation",
        "POST",
        _path("in_force", "obligations/"),
        CHANGE,
        body=lambda w: {"agency": IOM, "description": "Rent"},
        target="in_force",
        act=STAFF_ACT,
        outcome=_by(IOM, 201, 403),  # each agency lists its own
    ),
    Call(
        "list UNHCR obligation",
        "POST",
        _path("in_force", "obligations/"),
        CHANGE,
        body=lambda w: {"agency": UNHCR, "description": "Rent"},
        target="in_force",
        act=STAFF_ACT,
        outcome=_by(UNHCR, 201, 403),
    ),
    Call(
        "settle IOM obligation",
        "PATCH",
        lambda w: f"{URL}{w.lous['in_force'].pk}/obligations/{w.obligation.pk}/",
        CHANGE,
        body=lambda w: {"settled_on": _day()},
        target="in_force",
        act=STAFF_ACT,
        outcome=_by(IOM, 200, 403),
    ),
    Call(
        "confirm obligations",
        "POST",
        _path("in_force", "confirm-obligations/"),
        CHANGE,
        target="in_force",
        act=MANAGER_ACT,
    ),
    Call("list assets", "GET", _path("in_force", "handover-items/"), VIEW, target="in_force"),
    Call(
        "list IOM asset",
        "POST",
        _path("in_force", "handover-items/"),
        CHANGE,
        body=lambda w: {"owner_agency": IOM, "description": "Generator"},
        target="in_force",
        act=STAFF_ACT,
        outcome=_by(IOM, 201, 403),
    ),
    Call(
        "correct IOM asset",
        "PATCH",
        lambda w: f"{URL}{w.lous['in_force'].pk}/handover-items/{w.permitted.pk}/",
        CHANGE,
        body=lambda w: {"quantity": 3},
        target="in_force",
        act=STAFF_ACT,
        outcome=_by(IOM, 200, 403),
    ),
    Call(
        "hand over a permitted asset",
        "POST",
        lambda w: f"{URL}{w.lous['in_force'].pk}/handover-items/{w.permitted.pk}/decide/",
        CHANGE,
        body=lambda w: {"decision": "handed_over", "recipient_kind": "ngo", "recipient_name": "An NGO"},
        target="in_force",
        act=STAFF_ACT,
        outcome=_by(IOM, 200, 403),
    ),
    Call(
        "hand over an asset the donor restricts",
        "POST",
        lambda w: f"{URL}{w.lous['in_force'].pk}/handover-items/{w.restricted.pk}/decide/",
        CHANGE,
        body=lambda w: {"decision": "handed_over", "recipient_kind": "ngo", "recipient_name": "An NGO"},
        target="in_force",
        act=STAFF_ACT,
        outcome=_by(IOM, 409, 403),  # MOU §40: only where the donor agreement permits
    ),
    Call(
        "conclude a letter in force",
        "POST",
        _path("in_force", "conclude/"),
        CHANGE,
        target="in_force",
        act=MANAGER_ACT,
        success=409,
    ),
    Call("conclude after phase-out", "POST", _path("phasing", "conclude/"), CHANGE, target="phasing", act=MANAGER_ACT),
]


# --- Snapshots --------------------------------------------------------------------------------------------

CHILDREN = [
    (Activity, ("description", "indicators")),
    (FundingArrangement, ("source",)),
    (StaffSecondment, ("number",)),
    (Signature, ("voided_at",)),
    (Amendment, ("status",)),
    (LouVersion, ("number",)),
    (Review, ("summary",)),
    (Evaluation, ("title",)),
    (PhaseOutPlan, ("version", "status")),
    (Obligation, ("settled_on",)),
    (HandoverItem, ("status", "quantity")),
    (LouEvent, ("kind",)),
]


def _snapshot() -> dict[str, dict]:
    """Each table's rows keyed by pk; the first value of each row is the letter it belongs to."""
    tables = {
        "lou": {
            r[0]: (r[0], *r[1:]) for r in LetterOfUnderstanding.objects.values_list("pk", "version", "status", "title")
        },
        "action": {r[0]: r[1:] for r in PhaseOutAction.objects.values_list("pk", "plan__lou_id", "owner", "done_on")},
    }
    for model, fields in CHILDREN:
        tables[model.__name__] = {r[0]: r[1:] for r in model.objects.values_list("pk", "lou_id", *fields)}
    return tables


def _written_letters(before: dict, after: dict) -> tuple[int, set[int]]:
    """(rows created, changed or deleted; the letters they belong to)."""
    count, letters = 0, set()
    for table in before:
        for pk in before[table].keys() | after[table].keys():
            old, new = before[table].get(pk), after[table].get(pk)
            if old != new:
                count += 1
                letters.add((new or old)[0])
    return count, letters


# --- The test ---------------------------------------------------------------------------------------------


def test_lou_api_access_matrix_every_endpoint_every_principal_exact_status_no_cross_scope(world):
    w = world
    _build(w)
    principals = _principals(w)
    mismatches, cross_scope, requests = [], [], 0
    references = {lou.pk: lou.reference for lou in LetterOfUnderstanding.objects.all()}
    for p in principals:
        client = _client_for(p)
        visible = _visible_ids(p, w)
        # A write answers with the letter written (as the returns API does): a partner holding only the write scope
        # sees in the answer the letters it may change, and nothing else.
        writable = {lou.pk for lou in LetterOfUnderstanding.objects.all() if may_write(p, lou)}
        for call in CALLS:
            expected = expected_status(call, p, w)
            with transaction.atomic():
                before = _snapshot()
                body = json.dumps(call.body(w)) if call.body is not None else ""
                headers = {}
                if call.if_match:
                    headers["HTTP_IF_MATCH"] = (
                        f'"{LetterOfUnderstanding.objects.get(pk=w.lous[call.target].pk).version}"'
                    )
                response = client.generic(call.method, call.path(w), body, content_type="application/json", **headers)
                after = _snapshot()
                requests += 1
                label = f"{p.name} × {call.name}"
                if response.status_code != expected:
                    mismatches.append(f"{label}: {response.status_code} (expected {expected}) {response.content[:300]}")
                if response.status_code >= 400:
                    assert set(response.json()) == {"detail", "code", "errors"}, f"{label}: error body"
                    if response.status_code in (403, 409):
                        assert response.json()["detail"], f"{label}: a refusal gives its reason"
                changed, letters = _written_letters(before, after)
                if response.status_code >= 400 and changed:
                    cross_scope.append(f"{label}: refused but wrote {changed} row(s)")
                for pk in letters:
                    parties = set(
                        LetterOfUnderstanding.objects.filter(pk=pk).values_list("unhcr_office_id", "iom_office_id")[0]
                    )
                    if not parties & _scope(p, CHANGE if call.creates_at is None else ADD):
                        cross_scope.append(f"{label}: wrote letter {pk} of offices {parties}")
                content = response.content.decode("utf-8", "replace")
                shown = visible if call.action == VIEW else visible | writable
                hidden = [pk for pk, reference in references.items() if reference in content and pk not in shown]
                if hidden:
                    cross_scope.append(f"{label}: the body names hidden letter(s) {hidden}")
                if response.status_code == 200 and call.list_of:
                    ids = [item["id"] for item in response.json()["results"]]
                    if set(ids) - visible:
                        cross_scope.append(f"{label}: listed hidden {sorted(set(ids) - visible)}")
                    if set(ids) != visible:
                        mismatches.append(f"{label}: listed {sorted(ids)}, expected {sorted(visible)}")
                transaction.set_rollback(True)
    print(f"\nLoU API access matrix: {requests} requests, {len(cross_scope)} cross-scope reads or writes")  # noqa: T201
    assert not mismatches, "\n".join(mismatches)
    assert not cross_scope, "\n".join(cross_scope)
    assert requests == len(principals) * len(CALLS) == 21 * len(CALLS)


def _visible_ids(p: Principal, w: SimpleNamespace) -> set[int]:
    return {lou.pk for lou in LetterOfUnderstanding.objects.all() if sees(p, lou)}


def test_lou_api_access_matrix_expectations_encode_the_rules(world):
    """The derived expectations themselves say what the rules say (guards the table against a silent drift)."""
    w = world
    _build(w)
    principals = {p.name: p for p in _principals(w)}
    by_name = {call.name: call for call in CALLS}

    def status(call: str, principal: str) -> int:
        return expected_status(by_name[call], principals[principal], w)

    # Both parties' offices (and above) see a letter; other countries' offices and field offices below do not.
    assert status("read draft letter", "unhcr_af_staff") == 200
    assert status("read draft letter", "iom_af_staff") == 200
    assert status("read draft letter", "iom_field_staff") == 404
    assert status("read draft letter", "iom_de_staff") == 404
    assert status("read field letter", "iom_af_staff") == 200
    assert status("read field letter", "iom_field_staff") == 200
    # MOU §35: both HQ focal points read every letter and act on none; administrators see none.
    assert status("read de letter", "unhcr_hq_focal") == 200
    assert status("read de letter", "iom_hq_focal") == 200
    assert status("record review", "iom_hq_focal") == 403
    assert status("read draft letter", "iom_admin") == 403
    # Field staff draft and record; office managers sign, decide, serve notice and agree.
    assert status("patch draft", "iom_af_staff") == 200
    assert status("sign draft", "iom_af_staff") == 403
    assert status("sign draft", "iom_af_manager") == 200
    assert status("sign partly signed", "unhcr_af_manager") == 409
    # MOU §46: the other party decides on an amendment.
    assert status("approve IOM's amendment", "unhcr_af_manager") == 200
    assert status("approve IOM's amendment", "iom_af_manager") == 409
    assert status("withdraw IOM's amendment", "iom_af_staff") == 200
    assert status("withdraw IOM's amendment", "unhcr_af_staff") == 409
    # MOU §40: each agency its own obligations and assets; handover only where the donor permits.
    assert status("list IOM obligation", "unhcr_af_staff") == 403
    assert status("hand over an asset the donor restricts", "iom_af_staff") == 409
    # Partner systems: their office, their scopes; they draft and record, never commit a party.
    assert status("read draft letter", "partner read") == 200
    assert status("record review", "partner read") == 403
    assert status("record review", "partner write") == 201
    assert status("read draft letter", "partner write") == 403
    assert status("sign draft", "partner read+write") == 403
    assert status("approve IOM's amendment", "partner read+write at UNHCR-AF-KBL") == 403
    assert status("withdraw IOM's amendment", "partner read+write at UNHCR-AF-KBL") == 409
    assert status("read draft letter", "partner read+write at IOM-DE-BER") == 404
    assert status("record review", "partner read+write at IOM-DE-BER") == 404
    assert status("read field letter", "partner read+write at IOM-AF-HRT") == 200
    assert status("read draft letter", "partner read+write at IOM-AF-HRT") == 404
    assert status("list letters", "partner offices:read") == 403
    assert status("draft AF letter", "partner read+write at IOM-AF-HRT") == 403
    assert status("draft letter with the field office", "partner read+write at IOM-AF-HRT") == 201
    assert status("delete draft", "iom_af_manager") == 405
    assert status("read draft letter", "revoked token") == 401
    assert status("read draft letter", "anonymous") == 401
