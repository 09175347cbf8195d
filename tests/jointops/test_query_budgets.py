"""Query budgets as data (issue 7; PERFORMANCE.md: "queries per request are the same at page sizes 10, 50 and 100,
and within the budget"). Every figure lives in tests/query_counts.json; this module only reads it:

- each list route under /api/v1/ makes the same number of queries at every page size, within its budget;
- each browser list page (fixed page size) makes the same number of queries whatever the rows shown, within budget;
- a list route or page missing from the JSON (or a stale entry in it) fails, so no new list escapes a budget;
- building a pre-departure name list makes the same queries for 5 entries as for 50;
- importing people makes queries per batch, never per row.

Rows come from the factories and services, each with the related rows its list shows (members, entries, shares,
documents, parties, offices...), so that a query per row would show as a difference between sizes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.views.generic.list import MultipleObjectMixin
from rest_framework.mixins import ListModelMixin
from rest_framework.test import APIClient

from beneficiaries import importing
from beneficiaries import services as beneficiary_services
from beneficiaries.models import BeneficiaryCategory, Mandate
from jointops import services as jointops_services
from jointops.audit import log_access
from jointops.choices import OfficeLevel, Role
from notifications import listing, outbox
from notifications import services as notification_services
from notifications.choices import NoticeKind
from returns import services as return_services
from tests.factories import letters_of_understanding as lou_factories
from tests.factories.beneficiaries import category, person
from tests.factories.jointops import OfficeFactory, OrganisationFactory, staff
from tests.factories.returns import case, scheduled

BUDGETS = json.loads((Path(__file__).resolve().parents[1] / "query_counts.json").read_text())
_serial = itertools.count(1)


def _word(number: int) -> str:
    """A distinct name per number, in letters only (duplicate checks compare letters, not digits)."""
    return str(number).translate(str.maketrans("0123456789", "bdfgklmnpr")).capitalize()


# --- Seeders: add at least `n` rows the principal sees, with the related rows the list shows -------------------


def _people(s, n):
    w = s.w
    for i in range(n):
        if i % 2:  # a record of the other agency, shared with the principal's office (a reduced set of fields)
            p = person(w.unhcr_af, actor=w.unhcr_af_staff, sharing_basis="consent", consent_date=dt.date(2025, 1, 2))
            beneficiary_services.beneficiary_share(actor=w.unhcr_af_staff, beneficiary=p, office=w.iom_af)
        else:
            p = person(w.iom_af, actor=w.iom_af_staff)
            beneficiary_services.document_add(
                actor=w.iom_af_staff, beneficiary=p, document_type="passport", number=f"P{next(_serial)}"
            )


def _households(s, n):
    w = s.w
    for _ in range(n):
        household = beneficiary_services.household_create(actor=w.iom_af_staff, head=person(w.iom_af))
        beneficiary_services.household_add_member(
            actor=w.iom_af_staff, household=household, beneficiary=person(w.iom_af), relationship="child"
        )


def _with_member(c, s):
    return_services.return_case_add_member(actor=s.w.iom_af_staff, case=c, beneficiary=person(s.w.iom_af))
    return c


def _return_cases(s, n):
    for _ in range(n):
        _with_member(case(s.w.iom_af, s.w.iom_af_staff), s)


def _departures(s, n):
    for i in range(n):
        _with_member(scheduled(s.w.iom_af, s.w.iom_af_staff, days=5 + i % 20), s)


def _name_lists(s, n):
    """One list per build, with two entries (a case of two people)."""
    for _ in range(n):
        _departures(s, 1)
        notification_services.pre_departure_lists_build(actor=None)


def _deliveries(s, n):
    """Per row: a list e-mailed to the UNHCR office's address, and an e-mailed notice to IOM staff."""
    if not getattr(s, "contact", None):
        s.contact = notification_services.office_contact_add(
            actor=s.w.unhcr_admin, office=s.w.unhcr_af, email="kabul@unhcr.example.org"
        )
    _name_lists(s, n)
    _notices(s, n)


def _notices(s, n):
    for _ in range(n):
        outbox.notify(users=[s.w.iom_af_staff], kind=NoticeKind.LOU_REMINDER, title=f"Review {next(_serial)}", url="/")


def _operations(s, n):
    for _ in range(n):
        title = f"Return to Herat {next(_serial)}"
        return_services.operation_create(
            actor=s.w.unhcr_af_staff, office=s.w.unhcr_af, title=title, kind="organised", country_of_origin="AF"
        )


def _agreements(s, n):
    w = s.w
    parties = [w.unhcr, w.iom, OrganisationFactory(code="GOV-AF"), OrganisationFactory(code="GOV-DE")]
    values = {"kind": "quadripartite", "country_of_origin": "AF", "host_country": "DE"}
    for _ in range(n):
        title, today = f"Afghans from Germany {next(_serial)}", timezone.localdate()
        return_services.agreement_create(
            actor=w.iom_de_manager, office=w.iom_de, parties=parties, title=title, valid_from=today, **values
        )


def _letters(s, n):
    for i in range(n):  # drafts and letters in force (signatures, versions), each with activities and funding
        (lou_factories.in_force if i % 2 else lou_factories.draft)(s.w, categories=[category()])


def _consultations(s, n):
    w, values = s.w, {"participants": "Both heads of office", "subject_kind": "other", "offices": [s.w.unhcr_af]}
    for _ in range(n):  # each linked to a return case
        jointops_services.consultation_record(
            actor=w.iom_af_staff,
            recorded_by_office=w.iom_af,
            held_on=timezone.localdate(),
            subject=f"Meeting {next(_serial)}",
            linked=case(w.iom_af, w.iom_af_staff),
            **values,
        )


def _organisations(s, n):
    for _ in range(n):
        OrganisationFactory()


def _offices(s, n):
    w = s.w
    for i in range(n):  # field offices under the principal's office, every other one with a UNHCR counterpart
        office = OfficeFactory(organisation=w.iom, parent=w.iom_af, level=OfficeLevel.FIELD, country="AF")
        if i % 2:
            other = OfficeFactory(organisation=w.unhcr, parent=w.unhcr_af, level=OfficeLevel.FIELD, country="AF")
            jointops_services.office_update(actor=None, office=office, counterpart=other)


def _staff(s, n):
    for _ in range(n):  # each with roles at two offices
        user = staff(s.w.iom_af, Role.FIELD_STAFF)
        jointops_services.membership_set(actor=None, user=user, office=s.w.iom_de, role=Role.OFFICE_MANAGER)


def _api_clients(s, n):
    for i in range(n):
        office, name = s.w.iom_de if i % 2 else s.w.iom_af, f"Partner {next(_serial)}"
        jointops_services.api_client_create(actor=s.w.iom_admin, name=name, office=office, scopes=["offices:read"])


def _access_log(s, n):
    if not getattr(s, "partner", None):
        s.partner, _token = jointops_services.api_client_create(
            actor=s.w.iom_admin, name="Registration system", office=s.w.iom_af, scopes=["beneficiaries:read"]
        )
    for i in range(n):  # read by staff and by a partner system
        actor = s.partner if i % 2 else s.w.iom_af_staff
        log_access(actor=actor, action="view", resource="beneficiary", object_ids=[i + 1])


def _mandates(s, n):
    categories = list(BeneficiaryCategory.objects.all())
    for _ in range(0, n, len(categories)):  # another party's mandate for every category of MOU §4
        party = OrganisationFactory()
        for c in categories:
            Mandate.objects.create(category=c, organisation=party, role="informed", services="-", paragraph="MOU §4")


def _data_subject_requests(s, n):
    from privacy import services as privacy_services

    for _ in range(n):  # each about its own person of the office (issue 8)
        privacy_services.request_record(
            actor=s.w.iom_af_staff,
            person=person(s.w.iom_af, actor=s.w.iom_af_staff),
            kind="access",
            received_on=timezone.localdate(),
            channel="letter",
        )


def _import_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=importing.COLUMN_NAMES, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _import_rows(count: int) -> list[dict]:
    first = next(_serial) * 10_000
    values = {"sex": "male", "date_of_birth": "1980-01-01", "nationality": "AF", "category": "asylum_seeker"}
    return [
        {"given_name": f"Go{_word(k)}", "family_name": f"Fe{_word(k)}", **values} for k in range(first, first + count)
    ]


def _import_jobs(s, n):
    for _ in range(n):
        importing.import_job_create(
            actor=s.principal, office=s.w.iom_af, file_name="people.csv", content=_import_csv(_import_rows(1))
        )


SEEDERS = {
    "people": _people,
    "households": _households,
    "return_cases": _return_cases,
    "departures": _departures,
    "name_lists": _name_lists,
    "deliveries": _deliveries,
    "notices": _notices,
    "operations": _operations,
    "agreements": _agreements,
    "letters": _letters,
    "consultations": _consultations,
    "organisations": _organisations,
    "offices": _offices,
    "staff": _staff,
    "api_clients": _api_clients,
    "access_log": _access_log,
    "mandates": _mandates,
    "import_jobs": _import_jobs,
    "data_subject_requests": _data_subject_requests,
}


# --- Principals, requests, the check ---------------------------------------------------------------------------


def _scene(world, spec, *, api: bool):
    """(the logged-in client, the scene the seeders work in) for `spec`: a user's name, or a partner system."""
    client = APIClient() if api else Client()
    if isinstance(spec, str):
        principal = getattr(world, spec)
        client.force_login(principal)
    else:
        office = getattr(world, spec["client"])
        admin = world.iom_admin if office.organisation == world.iom else world.unhcr_admin
        principal, token = jointops_services.api_client_create(
            actor=admin, name="Budget check", office=office, scopes=spec["scopes"]
        )
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, SimpleNamespace(w=world, principal=principal)


def _get(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, params, response.content[:500])
    return response, captured.captured_queries


def _listing(queries) -> str:
    return "\n".join(f"  {i:3}. {q['sql'][:400]}" for i, q in enumerate(queries, 1))


def _check(name: str, captured: dict, budget: int, unit: str) -> None:
    counts = {key: len(queries) for key, queries in captured.items()}
    largest = captured[max(captured)]
    assert len(set(counts.values())) == 1, (
        f"{name}: queries by {unit} {counts} — a query per row? Queries at {max(captured)}:\n{_listing(largest)}"
    )
    assert counts[max(captured)] <= budget, (
        f"{name}: {counts[max(captured)]} queries, over its budget of {budget} in tests/query_counts.json "
        f"(raise it on purpose only):\n{_listing(largest)}"
    )


# --- Lists ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUDGETS["api"]))
def test_api_list_makes_the_same_queries_at_every_page_size_within_budget(world, name):
    entry = BUDGETS["api"][name]
    sizes = entry.get("page_sizes", BUDGETS["api_page_sizes"])
    client, scene = _scene(world, entry["as"], api=True)
    SEEDERS[entry["rows"]](scene, max(sizes) + 1)
    url = reverse(name)
    client.get(url, {"page_size": sizes[0]})  # the first request settles caches (content types, translations)
    captured = {}
    for size in sizes:
        response, captured[size] = _get(client, url, {"page_size": size})
        assert len(response.json()["results"]) == size  # the rows are there, and visible to the principal
    _check(name, captured, entry["budget"], "page size")


@pytest.mark.parametrize("name", sorted(BUDGETS["pages"]))
def test_list_page_makes_the_same_queries_whatever_the_rows_within_budget(world, name):
    entry = BUDGETS["pages"][name]
    client, scene = _scene(world, entry["as"], api=False)
    url, captured, made = reverse(name), {}, 0
    for rows in BUDGETS["page_rows"]:
        SEEDERS[entry["rows"]](scene, rows - made)
        made = rows
        if not captured:
            client.get(url)  # the session and language settle on the first request
        response, captured[rows] = _get(client, url)
        page = response.context["page_obj"]
        assert len(page.object_list) >= min(rows, page.paginator.per_page)  # the rows are shown
    _check(name, captured, entry["budget"], "rows in the database")


def _list_routes() -> tuple[set[str], set[str]]:
    """(API list routes, browser list pages) of the URLconf, by URL name (namespaced)."""
    api, pages = set(), set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
                continue
            callback = pattern.callback
            view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
            actions = getattr(callback, "actions", None)
            if view is None or namespace.startswith("admin:"):
                continue
            if (actions and "list" in actions.values()) or (actions is None and issubclass(view, ListModelMixin)):
                api.add(namespace + pattern.name)
            elif issubclass(view, MultipleObjectMixin):
                pages.add(namespace + pattern.name)

    walk(get_resolver().url_patterns, "")
    return api, pages


def test_every_list_route_and_page_has_a_budget_and_every_budget_a_route():
    api, pages = _list_routes()
    assert api - set(BUDGETS["api"]) == set(), "API lists without a budget: add them to tests/query_counts.json"
    assert pages - set(BUDGETS["pages"]) == set(), "list pages without a budget: add them to tests/query_counts.json"
    assert set(BUDGETS["api"]) - api == set(), "budgets of API lists that no longer exist"
    assert set(BUDGETS["pages"]) - pages == set(), "budgets of list pages that no longer exist"
    assert {entry["rows"] for entry in [*BUDGETS["api"].values(), *BUDGETS["pages"].values()]} <= set(SEEDERS)


# --- Building a pre-departure name list -------------------------------------------------------------------------


def test_pre_departure_list_build_makes_the_same_queries_for_5_and_50_entries(world):
    config = BUDGETS["pre_departure_build"]
    scene = SimpleNamespace(w=world)
    captured = {}
    for size in config["entries"]:
        for _ in range(size // 5):  # cases of five people each
            c = scheduled(world.iom_af, world.iom_af_staff, days=10)
            for _ in range(4):
                _with_member(c, scene)
        with CaptureQueriesContext(connection) as queries:
            (built,) = listing.build_lists(actor=None, iom_office=world.iom_af)
        assert built.entries.count() == size
        captured[size] = queries.captured_queries
    _check("pre-departure list build", captured, config["budget"], "entries")


# --- Importing people -------------------------------------------------------------------------------------------


def test_import_queries_grow_with_batches_not_rows(world, settings, monkeypatch):
    config = BUDGETS["import"]
    settings.IMPORT_INLINE_ROWS = max(config["rows"])  # run at once, in this process
    # The batch sizes, smaller than in production, so that a few hundred rows make several batches.
    monkeypatch.setattr(importing, "BATCH_SIZE", config["batch"])
    monkeypatch.setattr(importing, "DUPLICATE_LOOKUP_BATCH", config["batch"])

    def queries(rows: int) -> list[dict]:
        content = _import_csv(_import_rows(rows))
        with CaptureQueriesContext(connection) as captured:
            job = importing.import_job_create(
                actor=world.iom_af_staff, office=world.iom_af, file_name="p.csv", content=content
            )
        assert (job.status, job.created_count) == ("done", rows), job.errors[:3]
        return captured.captured_queries

    queries(5)  # caches settle
    small, large = (queries(rows) for rows in config["rows"])
    extra_batches = (max(config["rows"]) - min(config["rows"])) / config["batch"]
    assert len(large) - len(small) <= config["per_batch"] * extra_batches + config["slack"], (
        f"import: {len(small)} queries for {min(config['rows'])} rows, {len(large)} for {max(config['rows'])}: "
        f"more than {config['per_batch']} per batch of {config['batch']} rows. Queries:\n{_listing(large)}"
    )
    assert len(large) <= config["budget"], f"import: {len(large)} queries, over the budget:\n{_listing(large)}"
