"""The API access matrix: every endpoint and action × every principal → exactly the status the rules give.

Principals: every member of staff of tests.factories.jointops.build_world() (field staff, office managers, HQ
focal points and administrators of both agencies), a partner system holding `offices:read`, a revoked and an
expired partner token, and nobody (anonymous). Targets sit in IOM and in UNHCR, so each principal meets its own
office, another office of its organisation and the other agency.

The expected status is derived from the written rules, independently of jointops.access's implementation:
the role (or the partner's scopes) must be allowed by access.MATRIX / access.API_SCOPES (else 403); the record
must be one the principal may see (else 404: hidden and missing look the same); a write to a visible record
needs an administrator of the record's organisation (else 403). Each request runs in a savepoint that is rolled
back, after comparing the shared tables before and after: a refused request must write nothing, an accepted one
only within the principal's organisation; every record a list returns must be one the principal may see.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db import transaction
from django.utils import timezone

from jointops import access, services
from jointops.choices import Role
from jointops.models import ApiClient, Membership, Office, Organisation, User
from tests.access_walk import (  # the principals' scaffolding, shared by every app's access tests
    ANONYMOUS,
    DEAD_TOKEN,
    PARTNER,
    STAFF,
    STAFF_PRINCIPALS,
    Principal,
)
from tests.access_walk import client_for as _client_for
from tests.access_walk import office_and_below as _office_and_below

VIEW, ADD, CHANGE = access.VIEW, access.ADD, access.CHANGE


@dataclass
class Call:
    name: str
    method: str
    path: Callable[[SimpleNamespace], str]
    resource: str
    action: str
    body: dict | None = None
    target: Callable[[SimpleNamespace], object] | None = None  # the record whose visibility decides 404
    success: int = 200
    # after the matrix and visibility: the outcome for this principal when it is not `success`
    outcome: Callable[[Principal, SimpleNamespace], int] | None = None
    mapped: bool = True  # False: the endpoint does not offer this method (405 for any principal)
    list_of: type | None = None  # a list endpoint returning records of this model
    extras: dict = field(default_factory=dict)


def sees(p: Principal, record) -> bool:
    """May `p` see `record`, by the rules written in README/access.py (not by calling them)?"""
    if isinstance(record, Office | Organisation):
        return True  # the office directory and reference data
    if p.kind != STAFF:
        return False
    if isinstance(record, User):
        if p.role == Role.ADMINISTRATOR:
            return record.organisation_id == p.organisation_id
        if p.role == Role.OFFICE_MANAGER:
            below = _office_and_below(p.office)
            return Membership.objects.filter(user=record, office_id__in=below).exists()
        return False
    if isinstance(record, ApiClient):
        return p.role == Role.ADMINISTRATOR and record.organisation_id == p.organisation_id
    raise AssertionError(f"no visibility rule for {record!r}")


def may_write(p: Principal, record) -> bool:
    """Writes to a visible record: administrators of the record's organisation only."""
    return p.kind == STAFF and p.role == Role.ADMINISTRATOR and record.organisation_id == p.organisation_id


def matrix_allows(p: Principal, resource: str, action: str) -> bool:
    if p.kind == PARTNER:
        name, modes = access.API_SCOPES.get(resource, (None, frozenset()))
        mode = "read" if action == VIEW else "write"
        return mode in modes and f"{name}:{mode}" in p.scopes
    return p.role in access.MATRIX.get(resource, {}).get(action, frozenset())


def expected_status(call: Call, p: Principal, w: SimpleNamespace) -> int:
    if p.kind in (ANONYMOUS, DEAD_TOKEN):
        return 401
    if not call.mapped:
        return 405
    if not matrix_allows(p, call.resource, call.action):
        return 403
    if call.target is not None:
        record = call.target(w)
        if not sees(p, record):
            return 404
        if call.action != VIEW and not may_write(p, record):
            return 403
    return call.outcome(p, w) if call.outcome else call.success


def _iom_only(success: int, otherwise: int) -> Callable[[Principal, SimpleNamespace], int]:
    return lambda p, w: success if p.organisation_id == w.iom.pk else otherwise


CALLS = [
    # --- reference data and the office directory
    Call("list organisations", "GET", lambda w: "/api/v1/organisations/", "organisation", VIEW, list_of=Organisation),
    Call("read UNHCR", "GET", lambda w: f"/api/v1/organisations/{w.unhcr.pk}/", "organisation", VIEW),
    Call("list offices", "GET", lambda w: "/api/v1/offices/", "office", VIEW, list_of=Office),
    Call("read IOM office", "GET", lambda w: f"/api/v1/offices/{w.iom_af.pk}/", "office", VIEW),
    Call("read UNHCR office", "GET", lambda w: f"/api/v1/offices/{w.unhcr_af.pk}/", "office", VIEW),
    Call(
        "create office",
        "POST",
        lambda w: "/api/v1/offices/",
        "office",
        ADD,
        body={"code": "NEW-KE-NBO", "name": "Nairobi", "level": "country", "country": "KE"},
        success=201,
    ),
    Call(
        "create office under an IOM office",
        "POST",
        lambda w: "/api/v1/offices/",
        "office",
        ADD,
        body={"code": "NEW-AF-MZR", "name": "Mazar", "level": "field", "country": "AF", "parent": "IOM-AF-KBL"},
        success=201,
        outcome=_iom_only(201, 400),  # UNHCR's administrator: the parent belongs to another organisation
    ),
    Call(
        "change IOM office",
        "PATCH",
        lambda w: f"/api/v1/offices/{w.iom_af.pk}/",
        "office",
        CHANGE,
        body={"name": "Renamed"},
        target=lambda w: w.iom_af,
    ),
    Call(
        "change UNHCR office",
        "PATCH",
        lambda w: f"/api/v1/offices/{w.unhcr_af.pk}/",
        "office",
        CHANGE,
        body={"name": "Renamed", "is_active": False},
        target=lambda w: w.unhcr_af,
    ),
    Call("replace office (PUT)", "PUT", lambda w: f"/api/v1/offices/{w.iom_af.pk}/", "office", CHANGE, mapped=False),
    Call("delete office", "DELETE", lambda w: f"/api/v1/offices/{w.iom_af.pk}/", "office", CHANGE, mapped=False),
    # --- the principal
    Call("me", "GET", lambda w: "/api/v1/me/", "me", VIEW),
    Call("schema", "GET", lambda w: "/api/v1/schema/", "schema", VIEW),
    # --- staff accounts
    Call("list users", "GET", lambda w: "/api/v1/users/", "user", VIEW, list_of=User),
    Call(
        "read IOM AF staff",
        "GET",
        lambda w: f"/api/v1/users/{w.iom_af_staff.pk}/",
        "user",
        VIEW,
        target=lambda w: w.iom_af_staff,
    ),
    Call(
        "read IOM DE staff",
        "GET",
        lambda w: f"/api/v1/users/{w.iom_de_staff.pk}/",
        "user",
        VIEW,
        target=lambda w: w.iom_de_staff,
    ),
    Call(
        "read UNHCR AF staff",
        "GET",
        lambda w: f"/api/v1/users/{w.unhcr_af_staff.pk}/",
        "user",
        VIEW,
        target=lambda w: w.unhcr_af_staff,
    ),
    Call(
        "create user",
        "POST",
        lambda w: "/api/v1/users/",
        "user",
        ADD,
        body={"username": "newcomer", "email": "newcomer@example.org", "first_name": "New"},
        success=201,
    ),
    Call(
        "give IOM staff a role at IOM-DE-BER",
        "POST",
        lambda w: f"/api/v1/users/{w.iom_af_staff.pk}/memberships/",
        "user",
        CHANGE,
        body={"office": "IOM-DE-BER", "role": "field_staff"},
        target=lambda w: w.iom_af_staff,
    ),
    Call(
        "give IOM staff a role at a UNHCR office",
        "POST",
        lambda w: f"/api/v1/users/{w.iom_af_staff.pk}/memberships/",
        "user",
        CHANGE,
        body={"office": "UNHCR-DE-BER", "role": "field_staff"},
        target=lambda w: w.iom_af_staff,
        outcome=lambda p, w: 403,  # the UNHCR office is visible, but not one where IOM's administrator gives roles
    ),
    Call(
        "remove IOM staff's role",
        "DELETE",
        lambda w: f"/api/v1/users/{w.iom_af_staff.pk}/memberships/IOM-AF-KBL/",
        "user",
        CHANGE,
        target=lambda w: w.iom_af_staff,
        success=204,
    ),
    Call(
        "deactivate IOM staff",
        "POST",
        lambda w: f"/api/v1/users/{w.iom_af_staff.pk}/deactivate/",
        "user",
        CHANGE,
        target=lambda w: w.iom_af_staff,
    ),
    Call(
        "activate IOM staff",
        "POST",
        lambda w: f"/api/v1/users/{w.iom_af_staff.pk}/activate/",
        "user",
        CHANGE,
        target=lambda w: w.iom_af_staff,
    ),
    Call(
        "deactivate UNHCR staff",
        "POST",
        lambda w: f"/api/v1/users/{w.unhcr_af_staff.pk}/deactivate/",
        "user",
        CHANGE,
        target=lambda w: w.unhcr_af_staff,
    ),
    Call("change user (PATCH)", "PATCH", lambda w: f"/api/v1/users/{w.iom_af_staff.pk}/", "user", CHANGE, mapped=False),
    Call("delete user", "DELETE", lambda w: f"/api/v1/users/{w.iom_af_staff.pk}/", "user", CHANGE, mapped=False),
    # --- partner systems' credentials
    Call("list API clients", "GET", lambda w: "/api/v1/api-clients/", "api_client", VIEW, list_of=ApiClient),
    Call(
        "read IOM API client",
        "GET",
        lambda w: f"/api/v1/api-clients/{w.iom_target_client.pk}/",
        "api_client",
        VIEW,
        target=lambda w: w.iom_target_client,
    ),
    Call(
        "read UNHCR API client",
        "GET",
        lambda w: f"/api/v1/api-clients/{w.unhcr_target_client.pk}/",
        "api_client",
        VIEW,
        target=lambda w: w.unhcr_target_client,
    ),
    Call(
        "create API client at IOM-AF-KBL",
        "POST",
        lambda w: "/api/v1/api-clients/",
        "api_client",
        ADD,
        body={"name": "Registration system", "office": "IOM-AF-KBL", "scopes": ["offices:read"]},
        success=201,
        outcome=_iom_only(201, 403),  # the office is visible, but UNHCR's administrator may not bind it
    ),
    Call(
        "revoke IOM API client",
        "POST",
        lambda w: f"/api/v1/api-clients/{w.iom_target_client.pk}/revoke/",
        "api_client",
        CHANGE,
        target=lambda w: w.iom_target_client,
    ),
    Call(
        "revoke UNHCR API client",
        "POST",
        lambda w: f"/api/v1/api-clients/{w.unhcr_target_client.pk}/revoke/",
        "api_client",
        CHANGE,
        target=lambda w: w.unhcr_target_client,
    ),
    Call(
        "delete API client",
        "DELETE",
        lambda w: f"/api/v1/api-clients/{w.iom_target_client.pk}/",
        "api_client",
        CHANGE,
        mapped=False,
    ),
]

# /me/ and the schema are open to every authenticated principal: give them a row in the matrix for this test.
OPEN_TO_EVERY_PRINCIPAL = {"me", "schema"}


def _principals(w: SimpleNamespace) -> list[Principal]:
    out = [Principal("anonymous", ANONYMOUS)]
    for name, role, office_attr in STAFF_PRINCIPALS:
        user = getattr(w, name)
        out.append(Principal(name, STAFF, user, role, getattr(w, office_attr), user.organisation_id))
    partner, token = services.api_client_create(
        actor=w.iom_admin, name="Partner", office=w.iom_af, scopes=["offices:read"]
    )
    out.append(
        Principal("partner offices:read", PARTNER, organisation_id=w.iom.pk, scopes=("offices:read",), token=token)
    )
    revoked, revoked_token = services.api_client_create(
        actor=w.iom_admin, name="Revoked", office=w.iom_af, scopes=["offices:read"]
    )
    services.api_client_revoke(actor=w.iom_admin, client=revoked)
    out.append(Principal("revoked token", DEAD_TOKEN, token=revoked_token))
    expired, expired_token = services.api_client_create(
        actor=w.iom_admin, name="Expired", office=w.iom_af, scopes=["offices:read"]
    )
    ApiClient.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))  # time passed
    out.append(Principal("expired token", DEAD_TOKEN, token=expired_token))
    return out


def _snapshot() -> dict[str, dict[int, tuple]]:
    """The shared tables, minus timestamps that reads legitimately touch (last_login, last_used_at)."""
    return {
        "office": {
            row[0]: row[1:]
            for row in Office.objects.values_list(
                "pk", "organisation_id", "code", "name", "level", "country", "parent_id", "counterpart_id", "is_active"
            )
        },
        "user": {
            row[0]: row[1:]
            for row in User.objects.values_list(
                "pk", "organisation_id", "username", "email", "first_name", "last_name", "is_active", "password"
            )
        },
        "membership": {
            row[0]: row[1:]
            for row in Membership.objects.values_list("pk", "office__organisation_id", "user_id", "office_id", "role")
        },
        "api_client": {
            row[0]: row[1:]
            for row in ApiClient.objects.values_list(
                "pk", "organisation_id", "name", "office_id", "scopes", "expires_at", "revoked_at", "token_hash"
            )
        },
    }


def _changed_organisations(before: dict, after: dict) -> tuple[int, set]:
    """(number of rows created, changed or deleted; organisation ids of those rows)."""
    count, organisations = 0, set()
    for table in before:
        for pk in before[table].keys() | after[table].keys():
            old, new = before[table].get(pk), after[table].get(pk)
            if old != new:
                count += 1
                organisations.add((new or old)[0])
    return count, organisations


def test_api_access_matrix_every_endpoint_every_principal_exact_status_no_cross_scope(world):
    w = world
    w.iom_target_client, _ = services.api_client_create(
        actor=w.iom_admin, name="IOM target", office=w.iom_de, scopes=["offices:read"]
    )
    w.unhcr_target_client, _ = services.api_client_create(
        actor=w.unhcr_admin, name="UNHCR target", office=w.unhcr_de, scopes=["offices:read"]
    )
    principals = _principals(w)
    mismatches, cross_scope, requests = [], [], 0
    for p in principals:
        client = _client_for(p)
        for call in CALLS:
            if call.resource in OPEN_TO_EVERY_PRINCIPAL and p.kind in (STAFF, PARTNER):
                expected = 200
            else:
                expected = expected_status(call, p, w)
            with transaction.atomic():
                before = _snapshot()
                body = json.dumps(call.body) if call.body is not None else None
                response = client.generic(call.method, call.path(w), body or "", content_type="application/json")
                after = _snapshot()
                requests += 1
                label = f"{p.name} × {call.name}"
                if response.status_code != expected:
                    mismatches.append(f"{label}: {response.status_code} (expected {expected}) {response.content[:200]}")
                if response.status_code >= 400:
                    payload = response.json()
                    assert set(payload) == {"detail", "code", "errors"}, f"{label}: error body {payload}"
                changed, organisations = _changed_organisations(before, after)
                if response.status_code >= 400 and changed:
                    cross_scope.append(f"{label}: refused but wrote {changed} row(s)")
                if response.status_code < 300 and organisations - {p.organisation_id}:
                    cross_scope.append(f"{label}: wrote in organisation(s) {organisations - {p.organisation_id}}")
                if call.list_of is not None and response.status_code == 200:
                    ids = [item["id"] for item in response.json()["results"]]
                    for record in call.list_of.objects.filter(pk__in=ids):
                        if not sees(p, record):
                            cross_scope.append(f"{label}: listed {call.list_of.__name__} {record.pk}")
                    visible = {r.pk for r in call.list_of.objects.all() if sees(p, r)}
                    if set(ids) != visible:
                        mismatches.append(f"{label}: listed {sorted(ids)}, expected {sorted(visible)}")
                if call.name == "me" and response.status_code == 200:
                    me = response.json()
                    if p.kind == STAFF and (me["kind"], me["id"]) != ("user", p.user.pk):
                        cross_scope.append(f"{label}: answered about someone else")
                transaction.set_rollback(True)
    print(f"\nAPI access matrix: {requests} requests, {len(cross_scope)} cross-scope reads or writes")  # noqa: T201
    assert not mismatches, "\n".join(mismatches)
    assert not cross_scope, "\n".join(cross_scope)
    assert requests == len(principals) * len(CALLS) == 16 * len(CALLS)


def test_api_access_matrix_expectations_refuse_other_organisation(world):
    """The derived expectations themselves encode the rules (guards the table against a silent drift)."""
    w = world
    admin = Principal("unhcr_admin", STAFF, w.unhcr_admin, Role.ADMINISTRATOR, w.unhcr_hq, w.unhcr.pk)
    manager = Principal("iom_de_manager", STAFF, w.iom_de_manager, Role.OFFICE_MANAGER, w.iom_de, w.iom.pk)
    by_name = {call.name: call for call in CALLS}
    assert expected_status(by_name["change IOM office"], admin, w) == 403
    assert expected_status(by_name["read IOM AF staff"], admin, w) == 404
    assert expected_status(by_name["read IOM AF staff"], manager, w) == 404
    assert expected_status(by_name["read IOM DE staff"], manager, w) == 200
    assert expected_status(by_name["deactivate IOM staff"], manager, w) == 403
    partner = Principal("partner", PARTNER, scopes=("offices:read",))
    assert expected_status(by_name["create office"], partner, w) == 403
    assert expected_status(by_name["list users"], partner, w) == 403
    assert expected_status(by_name["list offices"], partner, w) == 200
