"""The returns API access matrix: every endpoint and action × every principal → exactly the status the rules give.

Principals: every member of staff of build_world() (field staff, office managers, HQ focal points and administrators
of both agencies), partner systems at IOM-AF-KBL holding `return-cases:read`, `return-cases:write` only, a
caseworker's set (return cases and people, read and write), `operations:read+write`, `consultations:read+write` (with
`return-cases:read`) or `offices:read` only, a revoked token, and nobody. Targets: a case at IOM-AF-KBL, at its field
office IOM-AF-HRT, at IOM-DE-BER (another office) and at UNHCR-AF-KBL (the other agency), cases that arrived (for
reintegration visits), a repatriation operation of UNHCR-AF-KBL, a return agreement of IOM-DE-BER, and consultations
between the two agencies in Germany and in Afghanistan.

The expected status is derived from the written rules (access.MATRIX / API_SCOPES, the README's access rules),
independently of jointops.access's implementation: the role or the partner's scopes must allow the action (else 403);
the record must be one the principal may see — a case: its lead office within the principal's offices; operations
and agreements: every member of staff; a consultation: one of the offices taking part — (else 404); a write needs the
record's office within the principal's offices (else 403 when the record is visible, 404 when not). Each request runs
in a savepoint rolled back afterwards; the returns tables and the access log are compared before and after: a refused
request writes nothing (not even an access-log row), an accepted one only at offices the principal works for. Every
person on a case carries a canary phone number that must never reach a body of someone who may not read it.
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
from jointops.models import AccessLog, Consultation, Office
from returns import services
from returns.choices import ReturnKind
from returns.models import (
    AdditionalMeasure,
    CaseMeasure,
    CaseTransition,
    ReintegrationVisit,
    RepatriationOperation,
    ReturnAgreement,
    ReturnCase,
    ReturnCaseMember,
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
from tests.factories.beneficiaries import person
from tests.factories.jointops import OrganisationFactory
from tests.factories.returns import move, scheduled

VIEW, ADD, CHANGE = access.VIEW, access.ADD, access.CHANGE
PARTNER_SCOPES = [
    ("return-cases:read",),
    ("return-cases:write",),
    ("return-cases:read", "return-cases:write", "beneficiaries:read", "beneficiaries:write"),
    ("operations:read", "operations:write"),
    ("consultations:read", "consultations:write", "return-cases:read"),
    ("offices:read",),
]
CASES = "/api/v1/return-cases/"
OPS = "/api/v1/repatriation-operations/"
AGREEMENTS = "/api/v1/return-agreements/"
CONSULTATIONS = "/api/v1/consultations/"

# target key -> (office attribute of build_world(), kind of return led by that office's agency)
TARGETS = {
    "iom_af": ("iom_af", ReturnKind.AVR_ASYLUM_SEEKER),
    "iom_field": ("iom_af_field", ReturnKind.AVR_ASYLUM_SEEKER),
    "iom_de": ("iom_de", ReturnKind.AVR_ASYLUM_SEEKER),
    "unhcr_af": ("unhcr_af", ReturnKind.VOLUNTARY_REPATRIATION),
}
ARRIVED = {"iom_af": ("iom_af", ReturnKind.AVR_MIGRANT), "unhcr_af": ("unhcr_af", ReturnKind.VOLUNTARY_REPATRIATION)}
SECTION_12 = {
    "no_conflict_with_humanitarian_concerns": True,
    "best_interests_considered": True,
    "bilateral_matter_recognised": True,
}


# --- The rules, written out for the test ---------------------------------------------------------------


def _scope(p: Principal, resource: str, action: str) -> set[int]:
    """Offices whose records of `resource` the principal may `action` (README: a role at an office covers it and the
    offices beneath; HQ focal points and administrators cover their organisation; partner systems their office, within
    their scopes)."""
    if p.kind == STAFF:
        if p.role not in access.MATRIX[resource].get(action, frozenset()):
            return set()
        if p.role in ORGANISATION_WIDE_ROLES:
            return set(Office.objects.filter(organisation_id=p.organisation_id).values_list("pk", flat=True))
        return _office_and_below(p.office)
    if p.kind == PARTNER:
        name, modes = access.API_SCOPES[resource]
        mode = "read" if action == VIEW else "write"
        return _office_and_below(p.office) if mode in modes and f"{name}:{mode}" in p.scopes else set()
    return set()


def _resource_of(record) -> str:
    return {
        ReturnCase: "return_case",
        RepatriationOperation: "repatriation_operation",
        ReturnAgreement: "return_agreement",
        Consultation: "consultation",
    }[type(record)]


def _offices_of(record) -> set[int]:
    if isinstance(record, ReturnCase):
        return {record.lead_office_id}
    if isinstance(record, Consultation):
        return set(record.offices.values_list("pk", flat=True))
    return {record.office_id}


def sees(p: Principal, record) -> bool:
    scope = _scope(p, _resource_of(record), VIEW)
    if isinstance(record, RepatriationOperation | ReturnAgreement):
        return bool(scope)  # no personal data: every member of staff of both agencies reads them (MOU §31)
    return bool(_offices_of(record) & scope)


def may_write(p: Principal, record) -> bool:
    office = record.recorded_by_office_id if isinstance(record, Consultation) else next(iter(_offices_of(record)))
    return office in _scope(p, _resource_of(record), CHANGE)


def reads_every_field(p: Principal, person_office_id: int) -> bool:
    """A person's contact details: the record's own offices only (need to know)."""
    if p.kind == STAFF:
        return p.role in (Role.FIELD_STAFF, Role.OFFICE_MANAGER) and person_office_id in _office_and_below(p.office)
    if p.kind == PARTNER:
        scoped = {"beneficiaries:read", "beneficiaries:write"} & set(p.scopes)
        return bool(scoped) and person_office_id in _office_and_below(p.office)
    return False


def matrix_allows(p: Principal, resource: str, action: str) -> bool:
    if p.kind == PARTNER:
        name, modes = access.API_SCOPES.get(resource, (None, frozenset()))
        mode = "read" if action == VIEW else "write"
        return mode in modes and f"{name}:{mode}" in p.scopes
    return p.role in access.MATRIX.get(resource, {}).get(action, frozenset())


@dataclass
class Call:
    name: str
    method: str
    path: Callable[[SimpleNamespace], str]
    resource: str
    action: str
    body: Callable[[SimpleNamespace], dict] | None = None
    target: Callable[[SimpleNamespace], object] | None = None  # the record whose visibility decides 404/403
    success: int = 200
    outcome: Callable[[Principal, SimpleNamespace], int] | None = None  # after the matrix and the target
    mapped: bool = True
    list_of: type | None = None  # a paginated list: exactly the visible records
    if_match: Callable[[SimpleNamespace], str] | None = None
    logs_read_of: Callable[[SimpleNamespace], ReturnCase] | None = None  # a 200 logs the read of its members


def expected_status(call: Call, p: Principal, w: SimpleNamespace) -> int:
    if p.kind in (ANONYMOUS, DEAD_TOKEN):
        return 401
    if not call.mapped:
        return 405
    if not matrix_allows(p, call.resource, call.action):
        return 403
    if call.target is not None:
        record = call.target(w)
        if call.action == VIEW and not sees(p, record):
            return 404
        if call.action != VIEW and not may_write(p, record):
            return 403 if sees(p, record) else 404
    return call.outcome(p, w) if call.outcome else call.success


# --- The world --------------------------------------------------------------------------------------------


def _canary(key: str, role: str) -> dict:
    return {"phone": f"CANARY-{key}-{role}"}


def _build(w: SimpleNamespace) -> None:
    w.cases, w.second, w.free, w.measures, w.arrived = {}, {}, {}, {}, {}
    for key, (office_attr, kind) in TARGETS.items():
        office = getattr(w, office_attr)  # set up by the system (actor None)
        principal = person(office, **_canary(key, "PRINCIPAL"))
        w.second[key] = person(office, **_canary(key, "SECOND"))
        w.free[key] = person(office, **_canary(key, "FREE"))
        w.cases[key] = services.return_case_open(
            actor=None,
            kind=kind,
            lead_office=office,
            principal=principal,
            members=[w.second[key]],
            country_of_departure=office.country or "DE",
            country_of_return="AF",
            fit_to_travel=True,
        )
        w.measures[key] = AdditionalMeasure.objects.create(office=office, label=f"Counselling at {office.code}")
    for key, (office_attr, kind) in ARRIVED.items():
        c = scheduled(
            getattr(w, office_attr), None, kind=kind, **(SECTION_12 if kind == ReturnKind.AVR_MIGRANT else {})
        )
        w.arrived[key] = move(c, None, "confirm_embarkation", "confirm_arrival")
    w.operation = services.operation_create(
        actor=None, office=w.unhcr_af, title="Return to Herat", kind="organised", country_of_origin="AF"
    )
    w.governments = [OrganisationFactory(code="GOV-AF"), OrganisationFactory(code="GOV-DE")]
    w.agreement = services.agreement_create(
        actor=None,
        office=w.iom_de,
        parties=[w.unhcr, w.iom, *w.governments],
        kind="quadripartite",
        title="Afghans from Germany",
        country_of_origin="AF",
        host_country="DE",
        valid_from=dt.date(2026, 1, 1),
    )
    w.consultations = {
        "de": _consult(w.iom_de, [w.unhcr_de]),
        "af": _consult(w.unhcr_af, [w.iom_af]),
    }


def _consult(office, others) -> Consultation:
    return jointops_services.consultation_record(
        actor=None,
        recorded_by_office=office,
        offices=others,
        held_on=timezone.localdate(),
        participants="Both agencies' officers",
        subject_kind="other",
        subject=f"Meeting at {office.code}",
    )


def _principals(w: SimpleNamespace) -> list[Principal]:
    out = [Principal("anonymous", ANONYMOUS)]
    for name, role, office_attr in STAFF_PRINCIPALS:
        user = getattr(w, name)
        out.append(Principal(name, STAFF, user, role, getattr(w, office_attr), user.organisation_id))
    for scopes in PARTNER_SCOPES:
        _client_row, token = jointops_services.api_client_create(
            actor=w.iom_admin, name=f"Partner {scopes}", office=w.iom_af, scopes=list(scopes)
        )
        out.append(
            Principal(
                f"partner {'+'.join(scopes)}",
                PARTNER,
                office=w.iom_af,
                organisation_id=w.iom.pk,
                scopes=scopes,
                token=token,
            )
        )
    revoked, revoked_token = jointops_services.api_client_create(
        actor=w.iom_admin, name="Revoked", office=w.iom_af, scopes=[scope for s in PARTNER_SCOPES for scope in s]
    )
    jointops_services.api_client_revoke(actor=w.iom_admin, client=revoked)
    out.append(Principal("revoked token", DEAD_TOKEN, token=revoked_token))
    return out


# --- The calls --------------------------------------------------------------------------------------------


def _version_of(record: Callable[[SimpleNamespace], object]) -> Callable[[SimpleNamespace], str]:
    def etag(w):
        obj = record(w)
        return f'"{type(obj).objects.get(pk=obj.pk).version}"'

    return etag


def _adds_person(key: str, success: int) -> Callable[[Principal, SimpleNamespace], int]:
    """Naming a person in the body: only people the principal may change can go on a case (else unknown: 400)."""
    return lambda p, w: success if w.free[key].office_id in _scope(p, "beneficiary", CHANGE) else 400


def _opens_case(key: str) -> Callable[[Principal, SimpleNamespace], int]:
    def outcome(p: Principal, w: SimpleNamespace) -> int:
        if w.free[key].office_id not in _scope(p, "beneficiary", CHANGE):
            return 400  # the principal applicant is not a person the caller may put on a case
        return 201 if w.cases[key].lead_office_id in _scope(p, "return_case", ADD) else 403

    return outcome


def _creates_at(office_attr: str, resource: str, success: int = 201) -> Callable[[Principal, SimpleNamespace], int]:
    return lambda p, w: success if getattr(w, office_attr).pk in _scope(p, resource, ADD) else 403


def _consultation_linked_to(key: str) -> Callable[[Principal, SimpleNamespace], int]:
    def outcome(p: Principal, w: SimpleNamespace) -> int:
        if not sees(p, w.cases[key]):
            return 400  # the linked case must be one the caller may see
        return 201 if w.cases[key].lead_office_id in _scope(p, "consultation", ADD) else 403

    return outcome


def _case_put_body(w: SimpleNamespace) -> dict:
    return {
        "country_of_departure": "DE",
        "country_of_return": "AF",
        "place_of_return": "Replaced",
        "operation": None,
        "agreement": None,
        "travel_details": "",
        "embarkation_point": "",
        "fit_to_travel": True,
        "final_decision_date": None,
        "possibilities_to_stay_exhausted": False,
        **SECTION_12,
    }


def _case_calls(key: str) -> list[Call]:
    def path(suffix: str = "") -> Callable[[SimpleNamespace], str]:
        return lambda w: f"{CASES}{w.cases[key].pk}/{suffix}"

    def target(w):
        return w.cases[key]

    return [
        Call(f"read {key} case", "GET", path(), "return_case", VIEW, target=target, logs_read_of=target),
        Call(
            f"patch {key} case",
            "PATCH",
            path(),
            "return_case",
            CHANGE,
            body=lambda w: {"place_of_return": "Patched"},
            target=target,
            if_match=_version_of(target),
        ),
        Call(
            f"put {key} case",
            "PUT",
            path(),
            "return_case",
            CHANGE,
            body=_case_put_body,
            target=target,
            if_match=_version_of(target),
        ),
        Call(f"delete {key} case", "DELETE", path(), "return_case", CHANGE, mapped=False),
        Call(
            f"start counselling on {key} case",
            "POST",
            path("transitions/"),
            "return_case",
            CHANGE,
            body=lambda w: {"transition": "start_counselling"},
            target=target,
        ),
        Call(
            f"withdraw {key} case",
            "POST",
            path("transitions/"),
            "return_case",
            CHANGE,
            body=lambda w: {"transition": "withdraw", "reason": "The person changed their mind"},
            target=target,
            if_match=_version_of(target),
        ),
        Call(
            f"add member to {key} case",
            "POST",
            path("members/"),
            "return_case",
            CHANGE,
            body=lambda w: {"person": w.free[key].pk},
            target=target,
            outcome=_adds_person(key, 201),
        ),
        Call(
            f"remove member of {key} case",
            "DELETE",
            lambda w: f"{CASES}{w.cases[key].pk}/members/{w.second[key].pk}/",
            "return_case",
            CHANGE,
            target=target,
            success=204,
        ),
        Call(
            f"record measure on {key} case",
            "POST",
            path("measures/"),
            "return_case",
            CHANGE,
            body=lambda w: {"measure": w.measures[key].pk, "done_on": timezone.localdate().isoformat()},
            target=target,
            success=201,
        ),
    ]


def _visit_call(key: str) -> Call:
    return Call(
        f"record visit on arrived {key} case",
        "POST",
        lambda w: f"{CASES}{w.arrived[key].pk}/visits/",
        "return_case",
        CHANGE,
        body=lambda w: {"visited_on": timezone.localdate().isoformat(), "outcome": "Settled"},
        target=lambda w: w.arrived[key],
        success=201,
    )


def _open_body(key: str, office_code: str, kind: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {
        "kind": kind,
        "lead_office": office_code,
        "principal": w.free[key].pk,
        "country_of_departure": "DE",
        "country_of_return": "AF",
    }


def _operation_body(office_code: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"office": office_code, "title": "New operation", "kind": "spontaneous", "country_of_origin": "AF"}


def _agreement_body(w: SimpleNamespace) -> dict:
    return {
        "office": "IOM-DE-BER",
        "kind": "quadripartite",
        "title": "New agreement",
        "country_of_origin": "AF",
        "host_country": "DE",
        "parties": ["UNHCR", "IOM", "GOV-AF", "GOV-DE"],
        "valid_from": "2026-06-01",
    }


def _consultation_body(office_code: str, other_code: str, linked_key: str | None = None):
    def body(w: SimpleNamespace) -> dict:
        data = {
            "held_on": timezone.localdate().isoformat(),
            "recorded_by_office": office_code,
            "offices": [other_code],
            "participants": "Officers of both agencies",
            "subject_kind": "rejected_asylum_seekers",
            "subject": "Pre-departure lists",
        }
        if linked_key:
            data.update(linked_type="return_case", linked_id=w.cases[linked_key].pk)
        return data

    return body


CALLS = [
    # --- return cases
    Call("list cases", "GET", lambda w: CASES, "return_case", VIEW, list_of=ReturnCase),
    Call(
        "open case at IOM-AF-KBL",
        "POST",
        lambda w: CASES,
        "return_case",
        ADD,
        body=_open_body("iom_af", "IOM-AF-KBL", "avr_asylum_seeker"),
        outcome=_opens_case("iom_af"),
    ),
    Call(
        "open case at UNHCR-AF-KBL",
        "POST",
        lambda w: CASES,
        "return_case",
        ADD,
        body=_open_body("unhcr_af", "UNHCR-AF-KBL", "voluntary_repatriation"),
        outcome=_opens_case("unhcr_af"),
    ),
    *[call for key in TARGETS for call in _case_calls(key)],
    *[_visit_call(key) for key in ARRIVED],
    # --- repatriation operations (MOU §31)
    Call("list operations", "GET", lambda w: OPS, "repatriation_operation", VIEW, list_of=RepatriationOperation),
    Call(
        "read operation",
        "GET",
        lambda w: f"{OPS}{w.operation.pk}/",
        "repatriation_operation",
        VIEW,
        target=lambda w: w.operation,
    ),
    Call(
        "patch operation",
        "PATCH",
        lambda w: f"{OPS}{w.operation.pk}/",
        "repatriation_operation",
        CHANGE,
        body=lambda w: {"status": "ongoing"},
        target=lambda w: w.operation,
        if_match=_version_of(lambda w: w.operation),
    ),
    Call(
        "record operation at UNHCR-AF-KBL",
        "POST",
        lambda w: OPS,
        "repatriation_operation",
        ADD,
        body=_operation_body("UNHCR-AF-KBL"),
        outcome=_creates_at("unhcr_af", "repatriation_operation"),
    ),
    Call(
        "record operation at IOM-AF-KBL",
        "POST",
        lambda w: OPS,
        "repatriation_operation",
        ADD,
        body=_operation_body("IOM-AF-KBL"),
        outcome=_creates_at("iom_af", "repatriation_operation", success=400),  # MOU §31: UNHCR records them
    ),
    Call(
        "delete operation",
        "DELETE",
        lambda w: f"{OPS}{w.operation.pk}/",
        "repatriation_operation",
        CHANGE,
        mapped=False,
    ),
    # --- return agreements (Letter)
    Call("list agreements", "GET", lambda w: AGREEMENTS, "return_agreement", VIEW, list_of=ReturnAgreement),
    Call(
        "read agreement",
        "GET",
        lambda w: f"{AGREEMENTS}{w.agreement.pk}/",
        "return_agreement",
        VIEW,
        target=lambda w: w.agreement,
    ),
    Call(
        "patch agreement",
        "PATCH",
        lambda w: f"{AGREEMENTS}{w.agreement.pk}/",
        "return_agreement",
        CHANGE,
        body=lambda w: {"review_date": "2027-06-30"},
        target=lambda w: w.agreement,
        if_match=_version_of(lambda w: w.agreement),
    ),
    Call(
        "record agreement at IOM-DE-BER",
        "POST",
        lambda w: AGREEMENTS,
        "return_agreement",
        ADD,
        body=_agreement_body,
        outcome=_creates_at("iom_de", "return_agreement"),
    ),
    Call(
        "delete agreement",
        "DELETE",
        lambda w: f"{AGREEMENTS}{w.agreement.pk}/",
        "return_agreement",
        CHANGE,
        mapped=False,
    ),
    # --- consultations (MOU §22, §25, §28, §29)
    Call("list consultations", "GET", lambda w: CONSULTATIONS, "consultation", VIEW, list_of=Consultation),
    *[
        Call(
            f"read {key} consultation",
            "GET",
            lambda w, key=key: f"{CONSULTATIONS}{w.consultations[key].pk}/",
            "consultation",
            VIEW,
            target=lambda w, key=key: w.consultations[key],
        )
        for key in ("de", "af")
    ],
    Call(
        "record consultation at IOM-DE-BER on its case",
        "POST",
        lambda w: CONSULTATIONS,
        "consultation",
        ADD,
        body=_consultation_body("IOM-DE-BER", "UNHCR-DE-BER", linked_key="iom_de"),
        outcome=_consultation_linked_to("iom_de"),
    ),
    Call(
        "record consultation at UNHCR-AF-KBL",
        "POST",
        lambda w: CONSULTATIONS,
        "consultation",
        ADD,
        body=_consultation_body("UNHCR-AF-KBL", "IOM-AF-KBL"),
        outcome=_creates_at("unhcr_af", "consultation"),
    ),
    Call(
        "change consultation",
        "PATCH",
        lambda w: f"{CONSULTATIONS}{w.consultations['de'].pk}/",
        "consultation",
        CHANGE,
        mapped=False,
    ),
    Call(
        "delete consultation",
        "DELETE",
        lambda w: f"{CONSULTATIONS}{w.consultations['de'].pk}/",
        "consultation",
        CHANGE,
        mapped=False,
    ),
]


# --- Snapshots --------------------------------------------------------------------------------------------


def _snapshot() -> dict[str, dict]:
    """Each table's rows keyed by pk; the first value of each row is the office the row belongs to."""
    return {
        "case": {
            r[0]: r[1:]
            for r in ReturnCase.objects.values_list("pk", "lead_office_id", "version", "stage", "place_of_return")
        },
        "member": {
            r[0]: r[1:]
            for r in ReturnCaseMember.objects.values_list("pk", "case__lead_office_id", "case_id", "beneficiary_id")
        },
        "transition": {
            r[0]: r[1:] for r in CaseTransition.objects.values_list("pk", "case__lead_office_id", "transition")
        },
        "measure": {r[0]: r[1:] for r in CaseMeasure.objects.values_list("pk", "case__lead_office_id", "done_on")},
        "visit": {r[0]: r[1:] for r in ReintegrationVisit.objects.values_list("pk", "case__lead_office_id", "outcome")},
        "operation": {
            r[0]: r[1:] for r in RepatriationOperation.objects.values_list("pk", "office_id", "version", "status")
        },
        "agreement": {
            r[0]: r[1:] for r in ReturnAgreement.objects.values_list("pk", "office_id", "version", "review_date")
        },
        "consultation": {
            r[0]: r[1:] for r in Consultation.objects.values_list("pk", "recorded_by_office_id", "subject")
        },
    }


def _written_offices(before: dict, after: dict) -> tuple[int, set[int]]:
    """(rows created, changed or deleted; the offices they belong to)."""
    count, offices = 0, set()
    for table in before:
        for pk in before[table].keys() | after[table].keys():
            old, new = before[table].get(pk), after[table].get(pk)
            if old != new:
                count += 1
                offices.add((new or old)[0])
    return count, offices


# --- The test ---------------------------------------------------------------------------------------------


def test_returns_api_access_matrix_every_endpoint_every_principal_exact_status_no_cross_scope(world):
    w = world
    _build(w)
    principals = _principals(w)
    mismatches, cross_scope, requests = [], [], 0
    canaries = {
        key: (getattr(w, office_attr).pk, f"CANARY-{key}-".encode()) for key, (office_attr, _kind) in TARGETS.items()
    }
    for p in principals:
        client = _client_for(p)
        for call in CALLS:
            expected = expected_status(call, p, w)
            with transaction.atomic():
                before, logs_before = _snapshot(), AccessLog.objects.count()
                body = json.dumps(call.body(w)) if call.body is not None else ""
                headers = {"HTTP_IF_MATCH": call.if_match(w)} if call.if_match else {}
                response = client.generic(call.method, call.path(w), body, content_type="application/json", **headers)
                after, logs_after = _snapshot(), AccessLog.objects.count()
                requests += 1
                label = f"{p.name} × {call.name}"
                if response.status_code != expected:
                    mismatches.append(f"{label}: {response.status_code} (expected {expected}) {response.content[:300]}")
                if response.status_code >= 400:
                    assert set(response.json()) == {"detail", "code", "errors"}, f"{label}: error body"
                changed, offices = _written_offices(before, after)
                if response.status_code >= 400 and (changed or logs_after != logs_before):
                    cross_scope.append(
                        f"{label}: refused but wrote {changed} row(s), {logs_after - logs_before} log(s)"
                    )
                writable = _scope(p, call.resource, call.action)
                if response.status_code < 300 and offices - writable:
                    cross_scope.append(f"{label}: wrote at office(s) {offices - writable}")
                for key, (office_id, canary) in canaries.items():
                    if not reads_every_field(p, office_id) and canary in response.content:
                        cross_scope.append(f"{label}: {key}'s contact details in the body")
                if response.status_code == 200 and call.list_of is not None:
                    ids = [item["id"] for item in response.json()["results"]]
                    visible = {r.pk for r in call.list_of.objects.all() if sees(p, r)}
                    if set(ids) - visible:
                        cross_scope.append(f"{label}: listed hidden {sorted(set(ids) - visible)}")
                    if set(ids) != visible:
                        mismatches.append(f"{label}: listed {sorted(ids)}, expected {sorted(visible)}")
                    if call.list_of is ReturnCase and ids and logs_after - logs_before != 1:
                        mismatches.append(f"{label}: {logs_after - logs_before} access-log rows for one page")
                if response.status_code == 200 and call.logs_read_of is not None:
                    entry = AccessLog.objects.order_by("-pk").first()
                    members = {str(m.beneficiary_id) for m in call.logs_read_of(w).members.all()}
                    if logs_after - logs_before != 1 or set(entry.object_ids) != members:
                        mismatches.append(f"{label}: the read of the members was not written to the access log")
                transaction.set_rollback(True)
    print(f"\nReturns API access matrix: {requests} requests, {len(cross_scope)} cross-scope reads or writes")  # noqa: T201
    assert not mismatches, "\n".join(mismatches)
    assert not cross_scope, "\n".join(cross_scope)
    assert requests == len(principals) * len(CALLS) == 20 * len(CALLS)


def test_returns_api_access_matrix_expectations_encode_the_rules(world):
    """The derived expectations themselves say what the rules say (guards the table against a silent drift)."""
    w = world
    _build(w)
    principals = {p.name: p for p in _principals(w)}
    by_name = {call.name: call for call in CALLS}

    def status(call: str, principal: str) -> int:
        return expected_status(by_name[call], principals[principal], w)

    # Own office and the offices beneath; another office and the other agency are hidden.
    assert status("read iom_field case", "iom_af_staff") == 200
    assert status("read iom_af case", "iom_field_staff") == 404
    assert status("read iom_af case", "iom_de_staff") == 404
    assert status("read iom_af case", "unhcr_af_staff") == 404
    assert status("withdraw iom_field case", "iom_af_manager") == 200
    # HQ focal points follow their organisation's cases and move none; administrators see no cases.
    assert status("read iom_de case", "iom_hq_focal") == 200
    assert status("withdraw iom_de case", "iom_hq_focal") == 403
    assert status("read iom_af case", "iom_admin") == 403
    # People on a case are people the caller may change; the lead office must be the caller's.
    assert status("open case at IOM-AF-KBL", "iom_de_staff") == 400
    assert status("open case at IOM-AF-KBL", "iom_af_staff") == 201
    assert status("open case at UNHCR-AF-KBL", "unhcr_af_manager") == 201
    # Operations: read by all, recorded by UNHCR (MOU §31); agreements changed by managers and HQ focal points.
    assert status("read operation", "iom_admin") == 200
    assert status("patch operation", "iom_af_staff") == 403
    assert status("record operation at IOM-AF-KBL", "iom_af_staff") == 400
    assert status("patch agreement", "iom_hq_focal") == 200
    assert status("patch agreement", "iom_de_staff") == 403
    # Consultations: the offices that took part.
    assert status("read de consultation", "unhcr_de_staff") == 200
    assert status("read de consultation", "unhcr_af_staff") == 404
    assert status("record consultation at IOM-DE-BER on its case", "unhcr_hq_focal") == 400
    # Partner systems: their office, their scopes; write-only changes but does not read.
    assert status("read iom_af case", "partner return-cases:read") == 200
    assert status("withdraw iom_af case", "partner return-cases:read") == 403
    assert status("withdraw iom_af case", "partner return-cases:write") == 200
    assert status("read iom_af case", "partner return-cases:write") == 403
    assert status("add member to iom_af case", "partner return-cases:write") == 400
    assert status("withdraw iom_de case", "partner return-cases:write") == 404
    assert status("list cases", "partner offices:read") == 403
    assert status("list operations", "partner operations:read+operations:write") == 200
    assert status("delete iom_af case", "iom_af_staff") == 405
    assert status("read iom_af case", "revoked token") == 401
