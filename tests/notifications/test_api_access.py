"""The notifications API access matrix: every endpoint × every principal → exactly the status the rules give, and no
read or write across scopes.

Principals: every member of staff of build_world() (field staff and office managers at the sending IOM office
IOM-AF-KBL, at its field office IOM-AF-HRT, at the receiving UNHCR office UNHCR-AF-KBL, at the other country's offices
IOM-DE-BER and UNHCR-DE-BER; both HQ focal points; both administrators); partner systems at UNHCR-AF-KBL holding
`pre-departure-lists:read`, `:write` only, both, or `offices:read` only; partner systems holding both scopes at
UNHCR-DE-BER (the wrong office), at IOM-AF-KBL and at IOM-AF-HRT (the sending side), one holding `:write` only at
IOM-AF-KBL, one holding `:read` at UNHCR-HQ (the offices beneath it); a revoked token; nobody. Targets: an Afghan list
already acknowledged (two people, one of them later embarked), the Afghan list confirming that embarkation (not
acknowledged), a German list, and one Afghan departure not listed yet (what a build lists).

The expected status is derived from the written rules (access.MATRIX / API_SCOPES, the Letter as services.py cites
it, and the decisions documented in notifications/api/views.py), independently of their implementation:
- nobody or a dead token: 401; a method the endpoint does not offer: 405;
- the inbox is for members of staff only (partner systems: 403), each sees and changes only their own;
- the role (or the partner's scopes) must allow the action: view, add (build) or change (the answers), else 403;
- a list must be one the principal may see — one of its two offices within the offices the principal covers (a role
  at an office covers it and the offices beneath; HQ focal points their organisation; partner systems their office
  and beneath, with the read scope) — else 404, for writes too (answering a list is reading it);
- an answer (acknowledge, concern, close record) comes from the receiving UNHCR office only: a principal of UNHCR
  whose change scope covers that office, else 403; then the Letter's rule decides (already acknowledged, a record
  closed before the embarkation: 409);
- a build names an IOM office (else 400) within the principal's add scope (else 403).
Each request runs in a savepoint rolled back afterwards; the tables are compared before and after: a refused request
writes nothing, an accepted one only within the principal's scope. No answer may carry the name of a person on a list
(or the reference of a list) the principal may not see, and every answer carrying names is written to the access log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

from django.db import transaction

from jointops import access
from jointops import services as jointops_services
from jointops.choices import ORGANISATION_WIDE_ROLES
from jointops.models import AccessLog, Office
from notifications import services
from notifications.models import Notification, NotificationSettings, PreDepartureEntry, PreDepartureList
from returns import services as returns_services
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
from tests.factories.returns import move, scheduled

VIEW, ADD, CHANGE = access.VIEW, access.ADD, access.CHANGE
URL = "/api/v1/pre-departure-lists/"
INBOX = "/api/v1/notifications/"
READ, WRITE = "pre-departure-lists:read", "pre-departure-lists:write"
# (name, office attribute, scopes)
PARTNERS = [
    ("partner read at UNHCR-AF-KBL", "unhcr_af", (READ,)),
    ("partner write at UNHCR-AF-KBL", "unhcr_af", (WRITE,)),
    ("partner read+write at UNHCR-AF-KBL", "unhcr_af", (READ, WRITE)),
    ("partner offices:read at UNHCR-AF-KBL", "unhcr_af", ("offices:read",)),
    ("partner read+write at UNHCR-DE-BER", "unhcr_de", (READ, WRITE)),
    ("partner read at UNHCR-HQ", "unhcr_hq", (READ,)),
    ("partner read+write at IOM-AF-KBL", "iom_af", (READ, WRITE)),
    ("partner write at IOM-AF-KBL", "iom_af", (WRITE,)),
    ("partner read+write at IOM-AF-HRT", "iom_af_field", (READ, WRITE)),
]
# Each person on a list has a name found nowhere else, so that a name in an answer says which list was read.
NAMES = {"acked": ("Amina", "Noori"), "embarked": ("Bashir", "Rahimi"), "de": ("Dunja", "Weber")}
PENDING_NAME = ("Chaman", "Safi")


# --- The rules, written out for the test ---------------------------------------------------------------


def _scope(p: Principal, action: str) -> set[int]:
    """Offices whose lists the principal may `action` (README: a role at an office covers it and the offices
    beneath; HQ focal points cover their organisation; partner systems their office, within their scopes)."""
    if p.kind == STAFF:
        if p.role not in access.MATRIX["pre_departure_list"].get(action, frozenset()):
            return set()
        if p.role in ORGANISATION_WIDE_ROLES:
            return set(Office.objects.filter(organisation_id=p.organisation_id).values_list("pk", flat=True))
        return _office_and_below(p.office)
    if p.kind == PARTNER:
        needed = READ if action == VIEW else WRITE
        return _office_and_below(p.office) if needed in p.scopes else set()
    return set()


def sees(p: Principal, pdl: PreDepartureList) -> bool:
    """The sending and the receiving office (and above), both organisations' HQ focal points."""
    return bool({pdl.iom_office_id, pdl.unhcr_office_id} & _scope(p, VIEW))


def answers_for_unhcr(p: Principal, pdl: PreDepartureList) -> bool:
    """Letter: the receiving UNHCR office reassures itself of voluntariness and closes its records."""
    return p.organisation_id == pdl.unhcr_office.organisation_id and pdl.unhcr_office_id in _scope(p, CHANGE)


def matrix_allows(p: Principal, action: str) -> bool:
    if p.kind == PARTNER:
        return (READ if action == VIEW else WRITE) in p.scopes
    return p.role in access.MATRIX["pre_departure_list"].get(action, frozenset())


@dataclass
class Call:
    name: str
    method: str
    path: Callable[[SimpleNamespace], str]
    action: str
    body: Callable[[SimpleNamespace], dict] | None = None
    target: str | None = None  # key of w.lists: the list whose visibility decides 404
    answer: bool = False  # UNHCR's answer to the list (acknowledge, concern, close record)
    success: int = 200
    build_office: str | None = None  # attribute of the world: the office named by a build
    built: int | None = None  # how many lists a build answers
    inbox: bool = False
    mapped: bool = True
    list_of: bool = False
    names: bool = False  # a 200 answer carries the people's names (the access log must record it)
    foreign_entry: bool = False  # names an entry of another list: unknown


def expected_status(call: Call, p: Principal, w: SimpleNamespace) -> int:
    if p.kind in (ANONYMOUS, DEAD_TOKEN):
        return 401
    if call.inbox:
        return 403 if p.kind == PARTNER else call.success
    if not call.mapped:
        return 405
    if not matrix_allows(p, call.action):
        return 403
    if call.build_office is not None:
        office = getattr(w, call.build_office)
        if office.organisation_id != w.iom.pk:
            return 400
        return call.success if office.pk in _scope(p, ADD) else 403
    if call.target is not None:
        pdl = w.lists[call.target]
        if not sees(p, pdl) or call.foreign_entry:
            return 404
        if call.answer and not answers_for_unhcr(p, pdl):
            return 403
    return call.success


# --- The world --------------------------------------------------------------------------------------------


def _named(office, actor, names):
    return person(office, actor=actor, given_name=names[0], family_name=names[1])


def _build(w: SimpleNamespace) -> None:
    amina = _named(w.iom_af, w.iom_af_staff, NAMES["acked"])
    scheduled(w.iom_af, w.iom_af_staff, days=10, principal=amina)
    bashir = scheduled(w.iom_af, w.iom_af_staff, days=12, principal=_named(w.iom_af, w.iom_af_staff, NAMES["embarked"]))
    [acked] = services.pre_departure_lists_build(actor=None)
    services.pre_departure_list_acknowledge(actor=w.unhcr_af_staff, pdl=acked)
    move(bashir, w.iom_af_staff, "confirm_embarkation")
    [embarked] = services.pre_departure_lists_build(actor=None)
    scheduled(w.iom_de, w.iom_de_staff, days=10, principal=_named(w.iom_de, w.iom_de_staff, NAMES["de"]))
    [german] = services.pre_departure_lists_build(actor=None)
    # A departure not listed yet, at the field office: what a build of IOM-AF-KBL or IOM-AF-HRT lists now.
    pending = scheduled(w.iom_af_field, w.iom_field_staff, days=10)
    returns_services.return_case_add_member(
        actor=w.iom_field_staff, case=pending, beneficiary=_named(w.iom_af_field, w.iom_field_staff, PENDING_NAME)
    )
    w.lists = {"acked": acked, "embarked": embarked, "de": german}
    for key, pdl in w.lists.items():
        w.lists[key] = PreDepartureList.objects.select_related("unhcr_office").get(pk=pdl.pk)
    w.entries = {
        "new": acked.entries.get(beneficiary=amina),
        "embarked": embarked.entries.get(),
        "de": german.entries.get(),
    }
    assert w.entries["embarked"].change == "embarked"


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
        actor=w.unhcr_admin, name="Revoked", office=w.unhcr_af, scopes=[READ, WRITE]
    )
    jointops_services.api_client_revoke(actor=w.unhcr_admin, client=revoked)
    out.append(Principal("revoked token", DEAD_TOKEN, token=revoked_token))
    return out


# --- The calls --------------------------------------------------------------------------------------------


def _path(key: str, suffix: str = "") -> Callable[[SimpleNamespace], str]:
    return lambda w: f"{URL}{w.lists[key].pk}/{suffix}"


def _entry_path(key: str, entry: str, act: str) -> Callable[[SimpleNamespace], str]:
    return lambda w: f"{URL}{w.lists[key].pk}/entries/{w.entries[entry].pk}/{act}/"


def _office(code: str) -> Callable[[SimpleNamespace], dict]:
    return lambda w: {"office": code}


CALLS = [
    Call("list lists", "GET", lambda w: URL, VIEW, list_of=True),
    *[Call(f"read {key} list", "GET", _path(key), VIEW, target=key, names=True) for key in NAMES],
    *[
        Call(f"{kind} of {key} list", "GET", _path(key, f"{kind}/"), VIEW, target=key, names=True)
        for key in ("acked", "de")
        for kind in ("csv", "pdf")
    ],
    Call(
        "acknowledge the embarked list",
        "POST",
        _path("embarked", "acknowledge/"),
        CHANGE,
        target="embarked",
        answer=True,
        names=True,
    ),
    Call(
        "acknowledge the acknowledged list",
        "POST",
        _path("acked", "acknowledge/"),
        CHANGE,
        target="acked",
        answer=True,
        success=409,
    ),
    Call(
        "acknowledge the German list", "POST", _path("de", "acknowledge/"), CHANGE, target="de", answer=True, names=True
    ),
    Call(
        "concern on an Afghan entry",
        "POST",
        _entry_path("acked", "new", "concern"),
        CHANGE,
        body=lambda w: {"concern": "Seemed under pressure"},
        target="acked",
        answer=True,
        names=True,
    ),
    Call(
        "concern on the German entry",
        "POST",
        _entry_path("de", "de", "concern"),
        CHANGE,
        body=lambda w: {"concern": "Seemed under pressure"},
        target="de",
        answer=True,
        names=True,
    ),
    Call(
        "concern on an entry of another list",
        "POST",
        _entry_path("acked", "de", "concern"),
        CHANGE,
        body=lambda w: {"concern": "Seemed under pressure"},
        target="acked",
        answer=True,
        foreign_entry=True,
    ),
    Call(
        "close the record of the embarked entry",
        "POST",
        _entry_path("embarked", "embarked", "close-record"),
        CHANGE,
        target="embarked",
        answer=True,
        names=True,
    ),
    Call(
        "close the record before the embarkation",
        "POST",
        _entry_path("acked", "new", "close-record"),
        CHANGE,
        target="acked",
        answer=True,
        success=409,
    ),
    Call(
        "build IOM-AF-KBL",
        "POST",
        lambda w: f"{URL}build/",
        ADD,
        body=_office("IOM-AF-KBL"),
        build_office="iom_af",
        built=1,
    ),
    Call(
        "build IOM-AF-HRT",
        "POST",
        lambda w: f"{URL}build/",
        ADD,
        body=_office("IOM-AF-HRT"),
        build_office="iom_af_field",
        built=1,
    ),
    Call(
        "build IOM-DE-BER (nothing new)",
        "POST",
        lambda w: f"{URL}build/",
        ADD,
        body=_office("IOM-DE-BER"),
        build_office="iom_de",
        built=0,
    ),
    Call(
        "build UNHCR-AF-KBL",
        "POST",
        lambda w: f"{URL}build/",
        ADD,
        body=_office("UNHCR-AF-KBL"),
        build_office="unhcr_af",
    ),
    Call("delete a list", "DELETE", _path("embarked"), CHANGE, target="embarked", mapped=False),
    Call(
        "replace a list",
        "PUT",
        _path("embarked"),
        CHANGE,
        body=lambda w: {"reference": "X"},
        target="embarked",
        mapped=False,
    ),
    Call("create a list", "POST", lambda w: URL, ADD, body=lambda w: {"office": "IOM-AF-KBL"}, mapped=False),
    Call("read the inbox", "GET", lambda w: INBOX, VIEW, inbox=True),
    Call(
        "mark every notice read",
        "POST",
        lambda w: f"{INBOX}mark-read/",
        CHANGE,
        body=lambda w: {"all": True},
        inbox=True,
    ),
    Call(
        "mark notices read by id",
        "POST",
        lambda w: f"{INBOX}mark-read/",
        CHANGE,
        body=lambda w: {"ids": list(Notification.objects.values_list("pk", flat=True))},
        inbox=True,
    ),
    Call("read the e-mail preference", "GET", lambda w: f"{INBOX}settings/", VIEW, inbox=True),
    Call(
        "set the e-mail preference",
        "PUT",
        lambda w: f"{INBOX}settings/",
        CHANGE,
        body=lambda w: {"email_preference": "digest"},
        inbox=True,
    ),
]


# --- Snapshots --------------------------------------------------------------------------------------------


def _snapshot() -> dict[str, dict]:
    """Rows keyed by pk, each with whose it is: a list's and an entry's offices, a notice's or a setting's owner."""
    return {
        "list": {
            r[0]: ("offices", r[1], r[2], *r[3:])
            for r in PreDepartureList.objects.values_list(
                "pk", "iom_office_id", "unhcr_office_id", "acknowledged_at", "acknowledged_by", "acknowledged_by_client"
            )
        },
        "entry": {
            r[0]: ("offices", r[1], r[2], *r[3:])
            for r in PreDepartureEntry.objects.values_list(
                "pk", "list__iom_office_id", "list__unhcr_office_id", "concern", "record_closed_at"
            )
        },
        "notice": {
            r[0]: ("user", r[1], r[2]) for r in Notification.objects.values_list("pk", "recipient_id", "read_at")
        },
        "settings": {
            r[0]: ("user", r[0], r[1]) for r in NotificationSettings.objects.values_list("user_id", "email_preference")
        },
    }


def _cross_scope_writes(p: Principal, call: Call, before: dict, after: dict, status: int) -> list[str]:
    problems = []
    for table in before:
        for pk in before[table].keys() | after[table].keys():
            old, new = before[table].get(pk), after[table].get(pk)
            if old == new:
                continue
            if status >= 400:
                problems.append(f"refused but wrote {table} {pk}")
                continue
            kind, *owner = new or old
            if table == "notice" and old is None:
                continue  # a notice sent to others is the effect of a list built or a concern raised
            if kind == "user":
                if p.kind != STAFF or owner[0] != p.user.pk:
                    problems.append(f"wrote {table} {pk} of another person")
            elif old is None and table in ("list", "entry"):
                # A list built: the sending IOM office, which covers the offices beneath it without a counterpart.
                if not _office_and_below(Office.objects.get(pk=owner[0])) & _scope(p, ADD):
                    problems.append(f"built {table} {pk} for an office outside its scope")
            elif owner[1] not in _scope(p, CHANGE):  # an answer: the receiving UNHCR office
                problems.append(f"changed {table} {pk} of an office outside its scope")
    return problems


# --- The test ---------------------------------------------------------------------------------------------


def test_pre_departure_list_api_access_matrix_every_endpoint_every_principal_no_cross_scope(world):
    w = world
    _build(w)
    principals = _principals(w)
    mismatches, cross_scope, requests = [], [], 0
    references = {pdl.pk: pdl.reference for pdl in PreDepartureList.objects.all()}
    names = {key: w.lists[key].pk for key in NAMES}
    for p in principals:
        client = _client_for(p)
        visible = {pk for pk in references if sees(p, PreDepartureList.objects.get(pk=pk))}
        for call in CALLS:
            expected = expected_status(call, p, w)
            with transaction.atomic():
                before, logs = _snapshot(), AccessLog.objects.count()
                body = json.dumps(call.body(w)) if call.body is not None else ""
                response = client.generic(call.method, call.path(w), body, content_type="application/json")
                after = _snapshot()
                requests += 1
                label = f"{p.name} × {call.name}"
                status = response.status_code
                if status != expected:
                    mismatches.append(f"{label}: {status} (expected {expected}) {response.content[:300]}")
                if status >= 400:
                    assert set(response.json()) == {"detail", "code", "errors"}, f"{label}: error body"
                    if status in (403, 409):
                        assert response.json()["detail"], f"{label}: a refusal gives its reason"
                cross_scope += [
                    f"{label}: {problem}" for problem in _cross_scope_writes(p, call, before, after, status)
                ]
                content = response.content.decode("utf-8", "replace")
                hidden = [pk for pk, reference in references.items() if reference in content and pk not in visible]
                if hidden:
                    cross_scope.append(f"{label}: the answer names hidden list(s) {hidden}")
                for key, (given, family) in NAMES.items():
                    if (given in content or family in content) and names[key] not in visible:
                        cross_scope.append(f"{label}: the answer carries a name from hidden list {key}")
                if any(name in content for name in PENDING_NAME):
                    cross_scope.append(f"{label}: the answer carries a name from an unlisted case")
                new_logs = AccessLog.objects.count() - logs
                if status == 200 and call.names and new_logs != 1:
                    cross_scope.append(f"{label}: names read, {new_logs} access-log rows written")
                if not (status == 200 and call.names) and new_logs:
                    mismatches.append(f"{label}: {new_logs} access-log rows without a read of names")
                if status == 200 and call.built is not None and len(response.json()) != call.built:
                    mismatches.append(f"{label}: built {len(response.json())} list(s), expected {call.built}")
                if status == 200 and call.list_of:
                    ids = {row["id"] for row in response.json()["results"]}
                    if ids != visible:
                        mismatches.append(f"{label}: listed {sorted(ids)}, expected {sorted(visible)}")
                if status == 200 and call.inbox and call.method == "GET" and call.path(w) == INBOX:
                    recipients = set(
                        Notification.objects.filter(pk__in=[r["id"] for r in response.json()["results"]]).values_list(
                            "recipient_id", flat=True
                        )
                    )
                    if recipients - {p.user.pk}:
                        cross_scope.append(f"{label}: the inbox shows others' notices")
                transaction.set_rollback(True)
    figure = f"{requests} requests, {len(cross_scope)} cross-scope reads or writes"
    print(f"\nPre-departure list API access matrix: {figure}")  # noqa: T201
    assert not mismatches, "\n".join(mismatches)
    assert not cross_scope, "\n".join(cross_scope)
    assert requests == len(principals) * len(CALLS) == 23 * len(CALLS)


def test_pre_departure_list_api_access_matrix_expectations_encode_the_rules(world):
    """The derived expectations themselves say what the Letter and the README say (guards the table against a silent
    drift)."""
    w = world
    _build(w)
    principals = {p.name: p for p in _principals(w)}
    by_name = {call.name: call for call in CALLS}

    def status(call: str, principal: str) -> int:
        return expected_status(by_name[call], principals[principal], w)

    # Both parties' offices read a list; the other country's offices and the field office beneath do not.
    assert status("read acked list", "unhcr_af_staff") == 200
    assert status("read acked list", "iom_af_manager") == 200
    assert status("read acked list", "iom_field_staff") == 404
    assert status("read acked list", "unhcr_de_staff") == 404
    assert status("read de list", "iom_af_staff") == 404
    # MOU §35: HQ focal points read their organisation's lists and answer none; administrators read none.
    assert status("read de list", "unhcr_hq_focal") == 200
    assert status("read acked list", "iom_hq_focal") == 200
    assert status("acknowledge the embarked list", "unhcr_hq_focal") == 403
    assert status("read acked list", "unhcr_admin") == 403
    # Letter: the receiving UNHCR office answers; the sending IOM office does not; once only.
    assert status("acknowledge the embarked list", "unhcr_af_staff") == 200
    assert status("acknowledge the embarked list", "iom_af_manager") == 403
    assert status("acknowledge the acknowledged list", "unhcr_af_manager") == 409
    assert status("acknowledge the German list", "unhcr_af_staff") == 404
    assert status("close the record before the embarkation", "unhcr_af_staff") == 409
    assert status("close the record of the embarked entry", "iom_af_staff") == 403
    assert status("concern on an entry of another list", "unhcr_af_staff") == 404
    # IOM staff of the office (or above it) build its list; UNHCR names no IOM office of its own.
    assert status("build IOM-AF-KBL", "iom_af_staff") == 200
    assert status("build IOM-AF-HRT", "iom_af_manager") == 200
    assert status("build IOM-AF-KBL", "iom_field_staff") == 403
    assert status("build IOM-AF-KBL", "iom_de_manager") == 403
    assert status("build IOM-AF-KBL", "unhcr_af_staff") == 403
    assert status("build UNHCR-AF-KBL", "unhcr_af_staff") == 400
    assert status("build IOM-AF-KBL", "iom_hq_focal") == 403
    # Partner systems: their office and beneath, within their scopes; answering a list needs reading it.
    assert status("read acked list", "partner read at UNHCR-AF-KBL") == 200
    assert status("read de list", "partner read at UNHCR-HQ") == 200
    assert status("read acked list", "partner read+write at UNHCR-DE-BER") == 404
    assert status("acknowledge the embarked list", "partner read at UNHCR-AF-KBL") == 403
    assert status("acknowledge the embarked list", "partner write at UNHCR-AF-KBL") == 404
    assert status("acknowledge the embarked list", "partner read+write at UNHCR-AF-KBL") == 200
    assert status("acknowledge the embarked list", "partner read+write at IOM-AF-KBL") == 403
    assert status("build IOM-AF-KBL", "partner write at IOM-AF-KBL") == 200
    assert status("build IOM-AF-KBL", "partner read+write at IOM-AF-HRT") == 403
    assert status("list lists", "partner offices:read at UNHCR-AF-KBL") == 403
    # The inbox: members of staff only, each their own.
    assert status("read the inbox", "iom_admin") == 200
    assert status("read the inbox", "partner read+write at UNHCR-AF-KBL") == 403
    assert status("delete a list", "unhcr_af_manager") == 405
    assert status("read acked list", "revoked token") == 401
    assert status("read the inbox", "anonymous") == 401
