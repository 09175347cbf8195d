"""The people API access matrix: every endpoint and action × every principal → exactly the status the rules give.

Principals: every member of staff of build_world() (field staff, office managers, HQ focal points and
administrators of both agencies), partner systems at IOM-AF-KBL holding `beneficiaries:read`, `beneficiaries:write`,
`offices:read` only or `reference:read`, a revoked token, and nobody. Targets: a person at IOM-AF-KBL, at its field
office IOM-AF-HRT, at IOM-DE-BER (another office), at UNHCR-AF-KBL (the other agency), and one record of each agency
shared with the other agency's office in Afghanistan; households of both agencies; the reference data.

The expected status is derived from the written rules (README access matrix, access.MATRIX / API_SCOPES and the
sharing rule), independently of jointops.access's implementation: the role or the partner's scopes must allow the
action (else 403); the record must be one the principal may see — its office within the principal's offices, or
shared with one of them — (else 404); a write needs the record's office within the principal's offices (else 403 when
the record is visible, e.g. shared). Each request runs in a savepoint rolled back afterwards; the tables of people are
compared before and after: a refused request writes nothing (not even an access-log row), an accepted one only at
offices the principal works for. Every person carries canary values in the fields only its own office may read
(contact details, consent details, documents, category history): they must never reach anyone else's body.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

from django.db import transaction

from beneficiaries import services
from beneficiaries.models import Beneficiary, BeneficiaryShare, CategoryChange, Household, IdentityDocument
from jointops import access
from jointops import services as jointops_services
from jointops.choices import Role
from jointops.models import AccessLog, Office
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

VIEW, ADD, CHANGE = access.VIEW, access.ADD, access.CHANGE
PARTNER_SCOPES = [("beneficiaries:read",), ("beneficiaries:write",), ("offices:read",), ("reference:read",)]
URL = "/api/v1/beneficiaries/"

# target name -> (office attribute of build_world(), office of the other agency it is shared with, or None)
TARGETS = {
    "iom_af": ("iom_af", None),
    "iom_field": ("iom_af_field", None),
    "iom_de": ("iom_de", None),
    "unhcr_af": ("unhcr_af", None),
    "iom_shared": ("iom_af", "unhcr_af"),
    "unhcr_shared": ("unhcr_af", "iom_af"),
}
# Where each target is shared with by the share action (a new share with the other agency).
SHARE_WITH = {"IOM": "UNHCR-DE-BER", "UNHCR": "IOM-DE-BER"}


# --- The rules, written out for the test ---------------------------------------------------------------


def _scope(p: Principal, resource: str, action: str) -> set[int]:
    """Offices whose records of `resource` the principal may `action` (README: role at an office covers it and the
    offices beneath; HQ focal points cover their organisation; partner systems their office, within their scopes)."""
    if p.kind == STAFF:
        if p.role not in access.MATRIX[resource].get(action, frozenset()):
            return set()
        if p.role == Role.HQ_FOCAL_POINT:
            return set(Office.objects.filter(organisation_id=p.organisation_id).values_list("pk", flat=True))
        return _office_and_below(p.office)
    if p.kind == PARTNER:
        mode = "read" if action == VIEW else "write"
        return _office_and_below(p.office) if f"beneficiaries:{mode}" in p.scopes else set()
    return set()


def sees(p: Principal, record) -> bool:
    scope = _scope(p, "household" if isinstance(record, Household) else "beneficiary", VIEW)
    if record.office_id in scope:
        return True
    return isinstance(record, Beneficiary) and (
        BeneficiaryShare.objects.filter(beneficiary=record, office_id__in=scope, revoked_at__isnull=True).exists()
    )


def may_write(p: Principal, record) -> bool:
    return record.office_id in _scope(p, "household" if isinstance(record, Household) else "beneficiary", CHANGE)


def reads_every_field(p: Principal, record: Beneficiary) -> bool:
    """Contact and consent details, documents and category history: the record's own offices only (need to know)."""
    if p.kind == STAFF:
        return p.role in (Role.FIELD_STAFF, Role.OFFICE_MANAGER) and record.office_id in _office_and_below(p.office)
    if p.kind == PARTNER:
        scoped = {"beneficiaries:read", "beneficiaries:write"} & set(p.scopes)
        return bool(scoped) and record.office_id in _office_and_below(p.office)
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
    candidates: bool = False  # a list of people: only visible ones
    if_match: Callable[[SimpleNamespace], str] | None = None
    logs_read_of: Callable[[SimpleNamespace], object] | None = None  # a 200 writes this one access-log row


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


def _canaries(key: str) -> dict:
    return {
        "phone": f"CANARY-{key}-PHONE",
        "email": f"canary-{key}@example.org",
        "address": f"CANARY-{key}-ADDRESS",
        "consent_scope": f"CANARY-{key}-SCOPE",
        "sharing_basis_note": f"CANARY-{key}-NOTE",
    }


def _build(w: SimpleNamespace) -> None:
    w.people, w.twins, w.documents, w.free, w.households, w.children = {}, {}, {}, {}, {}, {}
    for key, (office_attr, shared_with) in TARGETS.items():
        office, actor = getattr(w, office_attr), None  # set up by the system
        names = {"given_name": f"Given{key}", "family_name": "Rahimi", "date_of_birth": dt.date(1991, 3, 4)}
        consent = {"sharing_basis": "consent", "consent_date": dt.date(2025, 1, 2)}
        p = person(office, actor=actor, **names, **consent, **_canaries(key), category_since=dt.date(2024, 1, 1))
        w.documents[key] = services.document_add(
            actor=actor, beneficiary=p, document_type="passport", number=f"CANARY-{key}-DOCUMENT"
        )
        services.beneficiary_change_category(
            actor=actor,
            beneficiary=p,
            category=p.category,
            effective_date=dt.date(2024, 6, 1),
            reason=f"CANARY-{key}-REASON",
        )
        if shared_with:
            services.beneficiary_share(actor=actor, beneficiary=p, office=getattr(w, shared_with))
        w.people[key] = p
        w.twins[key] = person(office, actor=actor, **names, **consent)  # a likely duplicate, same office
    for key, office_attr in (("iom", "iom_af"), ("unhcr", "unhcr_af")):
        office, actor = getattr(w, office_attr), None
        head, child = person(office, actor=actor), person(office, actor=actor)
        w.households[key] = services.household_create(actor=actor, head=head)
        services.household_add_member(actor=actor, household=w.households[key], beneficiary=child, relationship="child")
        w.children[key] = child
        w.free[key] = person(office, actor=actor)  # in no household yet


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
            Principal(f"partner {'+'.join(scopes)}", PARTNER, office=w.iom_af, organisation_id=w.iom.pk, scopes=scopes)
        )
        out[-1].token = token
    revoked, revoked_token = jointops_services.api_client_create(
        actor=w.iom_admin, name="Revoked", office=w.iom_af, scopes=["beneficiaries:read", "beneficiaries:write"]
    )
    jointops_services.api_client_revoke(actor=w.iom_admin, client=revoked)
    out.append(Principal("revoked token", DEAD_TOKEN, token=revoked_token))
    return out


# --- The calls --------------------------------------------------------------------------------------------


def _writer_of(office_attr: str) -> Callable[[Principal, SimpleNamespace], int]:
    """Creating at an office: 201 for those who work for it; a visible office they do not work for: 403."""
    return lambda p, w: 201 if getattr(w, office_attr).pk in _scope(p, "beneficiary", ADD) else 403


def _household_head(key: str) -> Callable[[Principal, SimpleNamespace], int]:
    """The head named in the body: a hidden person is unknown (400); visible but not changeable: 403."""

    def outcome(p: Principal, w: SimpleNamespace) -> int:
        head = w.free[key]
        if may_write(p, head):
            return 201
        return 403 if sees(p, head) else 400

    return outcome


def _put_body(w: SimpleNamespace) -> dict:
    return {
        "given_name": "Replaced",
        "family_name": "Rahimi",
        "other_names": "",
        "sex": "female",
        "date_of_birth": "1991-03-04",
        "date_of_birth_estimated": False,
        "nationality": "AF",
        "country_of_residence": "AF",
        "of_concern_to_unhcr": False,
        "unhcr_registration_number": "",
        "iom_case_number": "",
        "government_id": "",
        "phone": "+93 1",
        "email": "",
        "address": "",
        "preferred_language": "",
        "specific_needs": [],
        "sharing_basis": "consent",
        "consent_date": "2025-01-02",
        "consent_scope": "",
        "sharing_basis_note": "",
    }


def _version(key: str) -> Callable[[SimpleNamespace], str]:
    return lambda w: f'"{Beneficiary.objects.get(pk=w.people[key].pk).version}"'


def _person_calls(key: str) -> list[Call]:
    def path(suffix: str = "") -> Callable[[SimpleNamespace], str]:
        return lambda w: f"{URL}{w.people[key].pk}/{suffix}"

    def target(w):
        return w.people[key]

    organisation = "UNHCR" if key.startswith("unhcr") else "IOM"
    return [
        Call(f"read {key}", "GET", path(), "beneficiary", VIEW, target=target, logs_read_of=target),
        Call(
            f"patch {key}",
            "PATCH",
            path(),
            "beneficiary",
            CHANGE,
            body=lambda w: {"phone": "+93 2"},
            target=target,
            if_match=_version(key),
        ),
        Call(f"put {key}", "PUT", path(), "beneficiary", CHANGE, body=_put_body, target=target, if_match=_version(key)),
        Call(f"delete {key}", "DELETE", path(), "beneficiary", CHANGE, mapped=False),
        Call(
            f"change category of {key}",
            "POST",
            path("category-changes/"),
            "beneficiary",
            CHANGE,
            body=lambda w: {"category": "refugee", "effective_date": "2025-01-01"},
            target=target,
            success=201,
        ),
        Call(
            f"add document to {key}",
            "POST",
            path("documents/"),
            "beneficiary",
            CHANGE,
            body=lambda w: {"document_type": "national_id", "number": "N-1"},
            target=target,
            success=201,
        ),
        Call(
            f"remove document of {key}",
            "DELETE",
            lambda w: f"{URL}{w.people[key].pk}/documents/{w.documents[key].pk}/",
            "beneficiary",
            CHANGE,
            target=target,
            success=204,
        ),
        Call(
            f"share {key}",
            "POST",
            path("share/"),
            "beneficiary",
            CHANGE,
            body=lambda w: {"office": SHARE_WITH[organisation]},
            target=target,
        ),
        Call(
            f"merge twin into {key}",
            "POST",
            path("merge/"),
            "beneficiary",
            CHANGE,
            body=lambda w: {"duplicate": w.twins[key].pk},
            target=target,
        ),
        Call(f"duplicates of {key}", "GET", path("duplicates/"), "beneficiary", VIEW, target=target, candidates=True),
    ]


def _household_calls(key: str) -> list[Call]:
    def target(w):
        return w.households[key]

    base = "/api/v1/households/"
    return [
        Call(
            f"read {key} household", "GET", lambda w: f"{base}{w.households[key].pk}/", "household", VIEW, target=target
        ),
        Call(
            f"create {key} household",
            "POST",
            lambda w: base,
            "household",
            ADD,
            body=lambda w: {"head": w.free[key].pk},
            outcome=_household_head(key),
        ),
        Call(
            f"add member to {key} household",
            "POST",
            lambda w: f"{base}{w.households[key].pk}/add-member/",
            "household",
            CHANGE,
            body=lambda w: {"beneficiary": w.free[key].pk, "relationship": "sibling"},
            target=target,
        ),
        Call(
            f"remove member of {key} household",
            "POST",
            lambda w: f"{base}{w.households[key].pk}/remove-member/",
            "household",
            CHANGE,
            body=lambda w: {"beneficiary": w.children[key].pk},
            target=target,
        ),
        Call(
            f"delete {key} household",
            "DELETE",
            lambda w: f"{base}{w.households[key].pk}/",
            "household",
            CHANGE,
            mapped=False,
        ),
    ]


def _create_body(office_code: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"office": office_code, "category": "migrant", "given_name": "New", "family_name": "Person"}


CALLS = [
    Call("list people", "GET", lambda w: URL, "beneficiary", VIEW, list_of=Beneficiary),
    Call(
        "create at IOM-AF-KBL",
        "POST",
        lambda w: URL,
        "beneficiary",
        ADD,
        body=_create_body("IOM-AF-KBL"),
        outcome=_writer_of("iom_af"),
    ),
    Call(
        "create at UNHCR-AF-KBL",
        "POST",
        lambda w: URL,
        "beneficiary",
        ADD,
        body=_create_body("UNHCR-AF-KBL"),
        outcome=_writer_of("unhcr_af"),
    ),
    Call(
        "check duplicates",
        "POST",
        lambda w: f"{URL}check-duplicates/",
        "beneficiary",
        VIEW,
        body=lambda w: {"given_name": "Givenunhcr_shared", "family_name": "Rahimi", "nationality": "AF"},
        candidates=True,
    ),
    *[call for key in TARGETS for call in _person_calls(key)],
    Call("list households", "GET", lambda w: "/api/v1/households/", "household", VIEW, list_of=Household),
    *[call for key in ("iom", "unhcr") for call in _household_calls(key)],
    Call("list categories", "GET", lambda w: "/api/v1/beneficiary-categories/", "reference", VIEW),
    Call("read a category", "GET", lambda w: "/api/v1/beneficiary-categories/returnee/", "reference", VIEW),
    Call("create a category", "POST", lambda w: "/api/v1/beneficiary-categories/", "reference", ADD, mapped=False),
    Call("list mandates", "GET", lambda w: "/api/v1/mandates/", "reference", VIEW),
    Call("change a mandate", "PATCH", lambda w: f"/api/v1/mandates/{w.mandate_id}/", "reference", CHANGE, mapped=False),
]


# --- Snapshots --------------------------------------------------------------------------------------------


def _snapshot() -> dict[str, dict]:
    people = {
        row[0]: row[1:]
        for row in Beneficiary.objects.values_list(
            "pk", "office_id", "version", "given_name", "phone", "category_id", "household_id", "merged_into_id"
        )
    }
    return {
        "beneficiary": people,
        "document": {r[0]: r[1:] for r in IdentityDocument.objects.values_list("pk", "beneficiary_id", "number")},
        "category_change": {
            r[0]: r[1:] for r in CategoryChange.objects.values_list("pk", "beneficiary_id", "category_id")
        },
        "share": {
            r[0]: r[1:] for r in BeneficiaryShare.objects.values_list("pk", "beneficiary_id", "office_id", "revoked_at")
        },
        "household": {r[0]: r[1:] for r in Household.objects.values_list("pk", "office_id", "head_id", "version")},
    }


def _written_offices(before: dict, after: dict) -> tuple[int, set[int]]:
    """(rows created, changed or deleted; the offices of the people or households they belong to)."""
    people = {**before["beneficiary"], **after["beneficiary"]}
    count, offices = 0, set()
    for table in before:
        for pk in before[table].keys() | after[table].keys():
            old, new = before[table].get(pk), after[table].get(pk)
            if old == new:
                continue
            count += 1
            row = new or old
            offices.add(row[0] if table in ("beneficiary", "household") else people[row[0]][0])
    return count, offices


# --- The test ---------------------------------------------------------------------------------------------


def test_people_api_access_matrix_every_endpoint_every_principal_exact_status_no_cross_scope(world):
    from beneficiaries.models import Mandate

    w = world
    _build(w)
    w.mandate_id = Mandate.objects.values_list("pk", flat=True).first()
    principals = _principals(w)
    mismatches, cross_scope, requests = [], [], 0
    canaries = {key: [f"CANARY-{key}-".encode(), f"canary-{key}@".encode()] for key in TARGETS}
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
                writable = _scope(p, "beneficiary", CHANGE)
                if response.status_code < 300 and offices - writable:
                    cross_scope.append(f"{label}: wrote at office(s) {offices - writable}")
                for key, strings in canaries.items():
                    if not reads_every_field(p, w.people[key]) and any(s in response.content for s in strings):
                        cross_scope.append(f"{label}: {key}'s need-to-know fields in the body")
                if response.status_code == 200 and call.list_of is not None:
                    ids = [item["id"] for item in response.json()["results"]]
                    visible = {r.pk for r in call.list_of.objects.all() if sees(p, r)}
                    if set(ids) - visible:
                        cross_scope.append(f"{label}: listed hidden {sorted(set(ids) - visible)}")
                    if set(ids) != visible:
                        mismatches.append(f"{label}: listed {sorted(ids)}, expected {sorted(visible)}")
                    if call.list_of is Beneficiary and ids and logs_after - logs_before != 1:
                        mismatches.append(f"{label}: {logs_after - logs_before} access-log rows for one page")
                if response.status_code == 200 and call.candidates:
                    ids = [item["id"] for item in response.json()]
                    hidden = [pk for pk in ids if not sees(p, Beneficiary.objects.get(pk=pk))]
                    if hidden:
                        cross_scope.append(f"{label}: hidden candidates {hidden}")
                if response.status_code == 200 and call.logs_read_of is not None:
                    entry = AccessLog.objects.order_by("-pk").first()
                    if logs_after - logs_before != 1 or entry.object_ids != [str(call.logs_read_of(w).pk)]:
                        mismatches.append(f"{label}: the read was not written to the access log")
                transaction.set_rollback(True)
    print(f"\nPeople API access matrix: {requests} requests, {len(cross_scope)} cross-scope reads or writes")  # noqa: T201
    assert not mismatches, "\n".join(mismatches)
    assert not cross_scope, "\n".join(cross_scope)
    assert requests == len(principals) * len(CALLS) == 18 * len(CALLS)


def test_people_api_access_matrix_expectations_encode_the_rules(world):
    """The derived expectations themselves say what the rules say (guards the table against a silent drift)."""
    w = world
    _build(w)
    principals = {p.name: p for p in _principals(w)}
    by_name = {call.name: call for call in CALLS}
    # Other agency, not shared: hidden. Shared: readable, not changeable.
    assert expected_status(by_name["read unhcr_af"], principals["iom_af_staff"], w) == 404
    assert expected_status(by_name["read unhcr_shared"], principals["iom_af_staff"], w) == 200
    assert expected_status(by_name["patch unhcr_shared"], principals["iom_af_staff"], w) == 403
    # A country office covers its field office, not the reverse; another office of the agency is hidden.
    assert expected_status(by_name["patch iom_field"], principals["iom_af_staff"], w) == 200
    assert expected_status(by_name["read iom_af"], principals["iom_field_staff"], w) == 404
    assert expected_status(by_name["read iom_af"], principals["iom_de_staff"], w) == 404
    # HQ focal points read their organisation's records and change none; administrators do not see people.
    assert expected_status(by_name["read iom_de"], principals["iom_hq_focal"], w) == 200
    assert expected_status(by_name["patch iom_de"], principals["iom_hq_focal"], w) == 403
    assert expected_status(by_name["read iom_af"], principals["iom_admin"], w) == 403
    # Partner systems: their office, their scopes.
    assert expected_status(by_name["read iom_af"], principals["partner beneficiaries:read"], w) == 200
    assert expected_status(by_name["patch iom_af"], principals["partner beneficiaries:read"], w) == 403
    assert expected_status(by_name["patch iom_af"], principals["partner beneficiaries:write"], w) == 200
    assert expected_status(by_name["patch unhcr_shared"], principals["partner beneficiaries:write"], w) == 404
    assert expected_status(by_name["list people"], principals["partner offices:read"], w) == 403
    assert expected_status(by_name["list mandates"], principals["partner reference:read"], w) == 200
    assert expected_status(by_name["delete iom_af"], principals["iom_af_staff"], w) == 405
    assert expected_status(by_name["read iom_af"], principals["revoked token"], w) == 401
