"""The dashboard API access matrix: every endpoint × every principal → exactly the status the rules give, figures of
exactly the offices the principal follows, and never a person's name.

Principals: every member of staff of build_world() (field staff, office managers, HQ focal points and administrators
of both agencies); partner systems holding `dashboard:read` at IOM-AF-KBL (and the field office beneath it), at
IOM-AF-HRT, at UNHCR-HQ (every UNHCR office beneath it) and at UNHCR-DE-BER (another office); one at IOM-AF-KBL
holding other scopes only; a revoked token; nobody. Each office registered a different power of two of people, so
`people_total` says exactly which offices were counted.

The expected answer is derived from the written rules (access.MATRIX["dashboard"], API_SCOPES, README "Access
matrix"), independently of their implementation:
- nobody or a dead token: 401; a method the endpoint does not offer: 405;
- view needs the role (office managers, HQ focal points) or, for a partner system, `dashboard:read`: else 403;
- the offices followed: an office manager's office and those beneath it; an HQ focal point every office of both
  organisations (MOU §35: figures of the joint operation, never names); a partner system its office and those beneath;
- the overview counts the offices followed, narrowed by the filters (a filter never widens them); an office's
  dashboard needs an office followed (else 404) and counts that office.
Each request runs in a savepoint rolled back afterwards; a read writes nothing (not even the access log: no names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlencode

from django.db import transaction

from beneficiaries.models import Beneficiary
from jointops import access
from jointops import services as jointops_services
from jointops.choices import Role
from jointops.models import AccessLog, ApiClient, Office
from returns.models import ReturnCase
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
from tests.factories.returns import scheduled

URL = "/api/v1/dashboard/"
READ = "dashboard:read"
# (name, office attribute, scopes)
PARTNERS = [
    ("partner dashboard:read at IOM-AF-KBL", "iom_af", (READ,)),
    ("partner dashboard:read at IOM-AF-HRT", "iom_af_field", (READ,)),
    ("partner dashboard:read at UNHCR-HQ", "unhcr_hq", (READ,)),
    ("partner dashboard:read at UNHCR-DE-BER", "unhcr_de", (READ,)),
    ("partner other scopes at IOM-AF-KBL", "iom_af", ("offices:read", "beneficiaries:read", "return-cases:read")),
]
# People registered per office: powers of two, so that a total names the offices counted.
PEOPLE = {"iom_af": 1, "iom_af_field": 2, "iom_de": 4, "unhcr_af": 8, "unhcr_de": 16}
OFFICES = ["iom_hq", "iom_af", "iom_af_field", "iom_de", "unhcr_hq", "unhcr_af", "unhcr_de"]


# --- The rules, written out for the test ---------------------------------------------------------------


def followed(p: Principal) -> set[int]:
    """Offices whose figures the principal follows (README access matrix; MOU §35 for HQ focal points)."""
    if p.kind == STAFF:
        if p.role not in access.MATRIX["dashboard"].get(access.VIEW, frozenset()):
            return set()
        if p.role == Role.HQ_FOCAL_POINT:
            return set(Office.objects.values_list("pk", flat=True))  # both organisations: figures only
        return _office_and_below(p.office)
    if p.kind == PARTNER:
        return _office_and_below(p.office) if READ in p.scopes else set()
    return set()


def matrix_allows(p: Principal) -> bool:
    if p.kind == PARTNER:
        return READ in p.scopes
    return p.role in access.MATRIX["dashboard"].get(access.VIEW, frozenset())


@dataclass
class Call:
    name: str
    method: str
    path: Callable[[SimpleNamespace], str]
    query: dict | None = None
    # the offices a 200 counts, before the principal's scope: a filter of the overview, or the office of the path
    offices: Callable[[SimpleNamespace], set[int]] | None = None
    office: str | None = None  # attribute of the office whose dashboard the path names (404 when not followed)
    mapped: bool = True


def expected(call: Call, p: Principal, w: SimpleNamespace) -> tuple[int, int | None]:
    """(status, people_total of a 200)."""
    if p.kind in (ANONYMOUS, DEAD_TOKEN):
        return 401, None
    if not call.mapped:
        return 405, None
    if not matrix_allows(p):
        return 403, None
    scope = followed(p)
    if call.office is not None:
        office = getattr(w, call.office)
        if office.pk not in scope:
            return 404, None
        return 200, w.people.get(office.pk, 0)
    counted = scope & call.offices(w) if call.offices else scope
    return 200, sum(w.people.get(pk, 0) for pk in counted)


def _offices(**filters) -> Callable[[SimpleNamespace], set[int]]:
    return lambda w: set(Office.objects.filter(**filters).values_list("pk", flat=True))


CALLS = [
    Call("overview", "GET", lambda w: URL),
    Call("overview of IOM", "GET", lambda w: URL, {"organisation": "IOM"}, _offices(organisation__code="IOM")),
    Call("overview of Germany", "GET", lambda w: URL, {"country": "DE"}, _offices(country="DE")),
    Call("overview of IOM-AF-KBL", "GET", lambda w: URL, {"office": "IOM-AF-KBL"}, _offices(code="IOM-AF-KBL")),
    Call("overview of UNHCR-DE-BER", "GET", lambda w: URL, {"office": "UNHCR-DE-BER"}, _offices(code="UNHCR-DE-BER")),
    *[
        Call(f"dashboard of {attr}", "GET", lambda w, attr=attr: f"{URL}offices/{getattr(w, attr).pk}/", office=attr)
        for attr in OFFICES
    ],
    Call("post to the overview", "POST", lambda w: URL, mapped=False),
    Call("delete the overview", "DELETE", lambda w: URL, mapped=False),
    Call("replace an office's dashboard", "PUT", lambda w: f"{URL}offices/{w.iom_af.pk}/", mapped=False),
]


# --- The world --------------------------------------------------------------------------------------------


def _build(w: SimpleNamespace) -> None:
    w.people, w.secrets = {}, []
    for attr, n in PEOPLE.items():
        office = getattr(w, attr)
        w.people[office.pk] = n
        for i in range(n):
            names = {"given_name": f"Zarmina{attr}{i}q", "family_name": f"Durrani{attr}{i}q"}
            one = person(office, government_id=f"TZK{office.pk:03d}{i:04d}", **names)
            w.secrets += [names["given_name"], names["family_name"], one.government_id]
            if i == 0 and office.organisation_id == w.iom.pk:  # a departure on the office's upcoming table
                scheduled(office, _staff_of(w, attr), days=5, principal=one)
    assert Beneficiary.objects.count() == sum(PEOPLE.values())
    assert ReturnCase.objects.count() == 3


def _staff_of(w: SimpleNamespace, attr: str):
    return {"iom_af": w.iom_af_staff, "iom_af_field": w.iom_field_staff, "iom_de": w.iom_de_staff}[attr]


def _principals(w: SimpleNamespace) -> list[Principal]:
    out = [Principal("anonymous", ANONYMOUS)]
    for name, role, office_attr in STAFF_PRINCIPALS:
        user = getattr(w, name)
        out.append(Principal(name, STAFF, user, role, getattr(w, office_attr), user.organisation_id))
    for name, office_attr, scopes in PARTNERS:
        office = getattr(w, office_attr)
        admin = w.unhcr_admin if office.organisation_id == w.unhcr.pk else w.iom_admin
        _row, token = jointops_services.api_client_create(actor=admin, name=name, office=office, scopes=list(scopes))
        out.append(
            Principal(name, PARTNER, office=office, organisation_id=office.organisation_id, scopes=scopes, token=token)
        )
    revoked, revoked_token = jointops_services.api_client_create(
        actor=w.iom_admin, name="Revoked", office=w.iom_af, scopes=[READ]
    )
    jointops_services.api_client_revoke(actor=w.iom_admin, client=revoked)
    out.append(Principal("revoked token", DEAD_TOKEN, token=revoked_token))
    return out


def _people_total(body: dict) -> int:
    [value] = [f["value"] for s in body["sections"] for f in s["figures"] if f["key"] == "people_total"]
    return value


def _snapshot() -> tuple:
    tables = (AccessLog, Beneficiary, ReturnCase, Office)
    return tuple(list(model.objects.order_by("pk").values_list("pk", flat=True)) for model in tables) + (
        list(ApiClient.objects.order_by("pk").values_list("pk", "scopes", "revoked_at")),
    )


# --- The test ---------------------------------------------------------------------------------------------


def test_dashboard_api_access_matrix_every_endpoint_every_principal_no_cross_scope(world):
    w = world
    _build(w)
    principals = _principals(w)
    mismatches, leaks, requests = [], [], 0
    for p in principals:
        client = _client_for(p)
        for call in CALLS:
            status, total = expected(call, p, w)
            with transaction.atomic():
                before = _snapshot()
                response = client.generic(
                    call.method, call.path(w) + _query(call.query), "", content_type="application/json"
                )
                after = _snapshot()
                requests += 1
                label = f"{p.name} × {call.name}"
                if response.status_code != status:
                    mismatches.append(f"{label}: {response.status_code} (expected {status}) {response.content[:200]}")
                elif status == 200 and _people_total(response.json()) != total:
                    mismatches.append(f"{label}: {_people_total(response.json())} people counted, expected {total}")
                if response.status_code >= 400:
                    assert set(response.json()) == {"detail", "code", "errors"}, f"{label}: error body"
                if before != after:
                    leaks.append(f"{label}: the read wrote")
                content = response.content.decode("utf-8", "replace")
                shown = [secret for secret in w.secrets if secret in content]
                if shown:
                    leaks.append(f"{label}: personal data in the answer {shown[:3]}")
                transaction.set_rollback(True)
    print(f"\nDashboard API access matrix: {requests} requests, {len(leaks)} leaks or writes")  # noqa: T201
    assert not mismatches, "\n".join(mismatches)
    assert not leaks, "\n".join(leaks)
    assert requests == len(principals) * len(CALLS) == 19 * len(CALLS)


def _query(query: dict | None) -> str:
    return "?" + urlencode(query) if query else ""


def test_dashboard_api_access_matrix_expectations_encode_the_rules(world):
    """The derived expectations say what the README and MOU §35 say (guards the table against a silent drift)."""
    w = world
    _build(w)
    principals = {p.name: p for p in _principals(w)}
    by_name = {call.name: call for call in CALLS}

    def answer(call: str, principal: str) -> tuple[int, int | None]:
        return expected(by_name[call], principals[principal], w)

    # MOU §35: both HQ focal points count every office of both organisations; filters narrow.
    assert answer("overview", "unhcr_hq_focal") == (200, 31)
    assert answer("overview", "iom_hq_focal") == (200, 31)
    assert answer("overview of IOM", "unhcr_hq_focal") == (200, 7)
    assert answer("overview of Germany", "iom_hq_focal") == (200, 20)
    assert answer("dashboard of iom_af", "unhcr_hq_focal") == (200, 1)
    # Office managers: their office and those beneath it; a filter never widens it.
    assert answer("overview", "iom_af_manager") == (200, 3)
    assert answer("overview of UNHCR-DE-BER", "iom_af_manager") == (200, 0)
    assert answer("dashboard of iom_af_field", "iom_af_manager") == (200, 2)
    assert answer("dashboard of iom_de", "iom_af_manager") == (404, None)
    assert answer("dashboard of unhcr_af", "iom_af_manager") == (404, None)
    assert answer("overview", "unhcr_af_manager") == (200, 8)
    # Field staff and administrators have no dashboard.
    assert answer("overview", "iom_af_staff")[0] == 403
    assert answer("overview", "unhcr_admin")[0] == 403
    # Partner systems: dashboard:read, their office and beneath.
    assert answer("overview", "partner dashboard:read at IOM-AF-KBL") == (200, 3)
    assert answer("overview", "partner dashboard:read at IOM-AF-HRT") == (200, 2)
    assert answer("overview", "partner dashboard:read at UNHCR-HQ") == (200, 24)
    assert answer("dashboard of iom_af", "partner dashboard:read at UNHCR-DE-BER") == (404, None)
    assert answer("overview", "partner other scopes at IOM-AF-KBL")[0] == 403
    assert answer("overview", "revoked token")[0] == 401
    assert answer("overview", "anonymous")[0] == 401
    assert answer("post to the overview", "iom_af_staff")[0] == 405
