"""The notifications API: pre-departure lists IOM → UNHCR (Letter of 16 January 2003) built on demand, read (list,
detail with entries, CSV, PDF), acknowledged and answered per entry by the receiving UNHCR office; the inbox, marking
read and the e-mail preference; bad input named and never written; only `ENTRY_FIELDS` of a person in any answer; every
read of names written to the access log."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from jointops import services as jointops_services
from jointops.models import AccessLog
from notifications import services
from notifications.api.serializers import ENTRY_OUTPUT_FIELDS, LIST_FIELDS
from notifications.choices import ChangeKind, EmailPreference, NoticeKind, Trigger
from notifications.models import (
    ENTRY_FIELDS,
    Delivery,
    Notification,
    NotificationSettings,
    PreDepartureEntry,
    PreDepartureList,
)
from tests.factories.beneficiaries import person
from tests.factories.returns import move, scheduled
from tests.notifications.test_listing import CANARIES

pytestmark = pytest.mark.django_db

URL = "/api/v1/pre-departure-lists/"
INBOX = "/api/v1/notifications/"
ERROR_KEYS = {"detail", "code", "errors"}
READ, WRITE = "pre-departure-lists:read", "pre-departure-lists:write"


def _client(user=None, token=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _partner(world, office, scopes, admin=None) -> tuple:
    admin = admin or (world.unhcr_admin if office.organisation_id == world.unhcr.pk else world.iom_admin)
    return jointops_services.api_client_create(actor=admin, name="Partner", office=office, scopes=list(scopes))


def _fields(response) -> set:
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    return {error["field"] for error in body["errors"]}


def _built(world, **case_fields) -> PreDepartureList:
    """A departure in 10 days at IOM-AF-KBL, listed by the daily schedule."""
    scheduled(world.iom_af, world.iom_af_staff, days=10, **case_fields)
    [pdl] = services.pre_departure_lists_build(actor=None, trigger=Trigger.SCHEDULE)
    return pdl


def _embarked(world) -> tuple[PreDepartureList, PreDepartureList]:
    """(the list announcing a departure, the list confirming its embarkation)."""
    case = scheduled(world.iom_af, world.iom_af_staff, days=10)
    [announced] = services.pre_departure_lists_build(actor=None)
    move(case, world.iom_af_staff, "confirm_embarkation")
    [embarked] = services.pre_departure_lists_build(actor=None)
    return announced, embarked


def _writes() -> tuple:
    """Everything a request of this API could write."""
    return (
        list(PreDepartureList.objects.order_by("pk").values_list("pk", "acknowledged_at", "acknowledged_by")),
        list(PreDepartureEntry.objects.order_by("pk").values_list("pk", "concern", "concern_at", "record_closed_at")),
        list(Notification.objects.order_by("pk").values_list("pk", "read_at")),
        list(NotificationSettings.objects.order_by("pk").values_list("user_id", "email_preference")),
        Delivery.objects.count(),
        PreDepartureList.history.count(),
        PreDepartureEntry.history.count(),
        AccessLog.objects.count(),
    )


def _last_log() -> AccessLog:
    return AccessLog.objects.order_by("-pk").first()


# --- Building on demand -----------------------------------------------------------------------------


def test_build_by_iom_staff_answers_the_list_built_without_names_then_nothing_new(world):
    case = scheduled(world.iom_af, world.iom_af_staff, days=10)
    client = _client(world.iom_af_staff)
    response = client.post(f"{URL}build/", {"office": "iom-af-kbl"})
    assert response.status_code == 200, response.content
    [row] = response.json()
    assert list(row) == LIST_FIELDS
    assert (row["iom_office"], row["unhcr_office"], row["trigger"]) == ("IOM-AF-KBL", "UNHCR-AF-KBL", "api")
    assert (row["entry_count"], row["late_count"], row["acknowledged_at"]) == (1, 0, None)
    pdl = PreDepartureList.objects.get(pk=row["id"])
    assert pdl.built_by == world.iom_af_staff and pdl.trigger == Trigger.API
    assert case.members.get().beneficiary.given_name not in response.content.decode()  # no names in the answer
    # The list reaches the UNHCR office's inbox as a scheduled one would.
    assert set(Notification.objects.filter(pre_departure_list=pdl).values_list("recipient__username", flat=True)) == {
        "unhcr_af_staff",
        "unhcr_af_manager",
    }
    again = client.post(f"{URL}build/", {"office": "IOM-AF-KBL"})
    assert again.status_code == 200 and again.json() == []  # nothing new: nothing listed twice


def test_build_for_a_field_office_goes_on_the_list_of_the_office_above(world):
    scheduled(world.iom_af_field, world.iom_field_staff, days=10)
    response = _client(world.iom_field_staff).post(f"{URL}build/", {"office": "IOM-AF-HRT"})
    assert response.status_code == 200, response.content
    assert [(r["iom_office"], r["unhcr_office"], r["entry_count"]) for r in response.json()] == [
        ("IOM-AF-KBL", "UNHCR-AF-KBL", 1)
    ]


def test_build_by_an_iom_partner_system_records_the_client(world):
    scheduled(world.iom_af, world.iom_af_staff, days=3)
    client_row, token = _partner(world, world.iom_af, [WRITE])
    response = _client(token=token).post(f"{URL}build/", {"office": "IOM-AF-KBL"})
    assert response.status_code == 200, response.content
    [row] = response.json()
    assert row["late_count"] == 1  # 3 days before departure; the lead time is 7 days (Letter: in a timely way)
    pdl = PreDepartureList.objects.get(pk=row["id"])
    assert pdl.built_by_client == client_row and pdl.built_by is None


@pytest.mark.parametrize(
    ("user", "office", "status", "field"),
    [
        ("unhcr_af_staff", "IOM-AF-KBL", 403, None),  # UNHCR receives lists, IOM sends them
        ("iom_de_staff", "IOM-AF-KBL", 403, None),  # another IOM office's list
        ("iom_hq_focal", "IOM-AF-KBL", 403, None),  # HQ focal points read only
        ("iom_admin", "IOM-AF-KBL", 403, None),
        ("unhcr_af_staff", "UNHCR-AF-KBL", 400, "office"),  # Letter: lists are sent by IOM offices
        ("iom_af_staff", "IOM-XX-NONE", 400, "office"),
    ],
)
def test_build_refused_answers_the_reason_and_writes_nothing(world, user, office, status, field):
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    before = _writes()
    response = _client(getattr(world, user)).post(f"{URL}build/", {"office": office})
    assert response.status_code == status, response.content
    assert response.json()["detail"]
    if field:
        assert field in _fields(response)
    assert _writes() == before and not PreDepartureList.objects.exists()


def test_build_for_an_office_without_a_counterpart_answers_409(world):
    jointops_services.office_update(actor=None, office=world.iom_de, counterpart=None)
    scheduled(world.iom_de, world.iom_de_staff, days=10)
    response = _client(world.iom_de_staff).post(f"{URL}build/", {"office": "IOM-DE-BER"})
    assert response.status_code == 409 and "counterpart" in response.json()["detail"]
    assert not PreDepartureList.objects.exists()


# --- Reading ----------------------------------------------------------------------------------------


def test_list_rows_carry_counts_and_no_names_and_log_nothing(world):
    pdl = _built(world)
    logs = AccessLog.objects.count()
    for user in (world.unhcr_af_staff, world.iom_af_manager, world.unhcr_hq_focal, world.iom_hq_focal):
        response = _client(user).get(URL)
        assert response.status_code == 200, (user, response.content)
        [row] = response.json()["results"]
        assert list(row) == LIST_FIELDS and row["reference"] == pdl.reference and row["entry_count"] == 1
        assert pdl.entries.get().given_name not in response.content.decode()
    for outsider in (world.unhcr_de_staff, world.iom_de_manager, world.iom_field_staff):
        assert _client(outsider).get(URL).json()["results"] == []
        assert _client(outsider).get(f"{URL}{pdl.pk}/").status_code == 404
    assert AccessLog.objects.count() == logs  # the rows show no names


def test_detail_shows_only_the_allow_listed_fields_and_logs_the_people_read(world):
    spouse = person(world.iom_af, actor=world.iom_af_staff, given_name="Laila", unhcr_registration_number="KBL-9")
    case = scheduled(world.iom_af, world.iom_af_staff, days=10)
    from returns import services as returns_services

    returns_services.return_case_add_member(actor=world.iom_af_staff, case=case, beneficiary=spouse)
    [pdl] = services.pre_departure_lists_build(actor=None)
    response = _client(world.unhcr_af_staff).get(f"{URL}{pdl.pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert list(body) == [*LIST_FIELDS, "entries"] and body["entry_count"] == 2
    assert ["id", *ENTRY_FIELDS, "late", "concern", "concern_at", "record_closed_at"] == ENTRY_OUTPUT_FIELDS
    assert all(list(entry) == ENTRY_OUTPUT_FIELDS for entry in body["entries"])
    laila = next(e for e in body["entries"] if e["given_name"] == "Laila")
    assert laila["unhcr_registration_number"] == "KBL-9" and laila["iom_case_reference"] == case.reference
    assert laila["change"] == ChangeKind.NEW and laila["late"] is False
    assert laila["expected_departure_date"] == case.expected_departure_date.isoformat()
    log = _last_log()
    assert (log.user, log.api_client, log.action, log.resource) == (world.unhcr_af_staff, None, "view", "beneficiary")
    assert sorted(log.object_ids) == sorted(str(e.beneficiary_id) for e in pdl.entries.all())
    assert pdl.reference in log.purpose and log.path == f"{URL}{pdl.pk}/"


def test_csv_and_pdf_are_attachments_of_the_list_and_logged_as_exports(world):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Amina", family_name="Noori")
    pdl = _built(world, principal=p)
    client = _client(world.unhcr_af_manager)
    logs = AccessLog.objects.count()
    csv = client.get(f"{URL}{pdl.pk}/csv/")
    assert csv.status_code == 200 and csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv["Content-Disposition"] == f'attachment; filename="{pdl.reference}.csv"'
    text = csv.content.decode("utf-8-sig")
    assert "Amina" in text and "Noori" in text and pdl.entries.get().iom_case_reference in text
    pdf = client.get(f"{URL}{pdl.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Disposition"] == f'attachment; filename="{pdl.reference}.pdf"'
    assert "Amina" in "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages)
    assert AccessLog.objects.count() == logs + 2
    assert {(log.action, tuple(log.object_ids)) for log in AccessLog.objects.order_by("-pk")[:2]} == {
        ("export", (str(p.pk),))
    }
    hidden = _client(world.unhcr_de_staff).get(f"{URL}{pdl.pk}/csv/", HTTP_ACCEPT="text/csv")
    assert hidden.status_code == 404 and set(hidden.json()) == ERROR_KEYS  # errors stay JSON
    assert AccessLog.objects.count() == logs + 2


def test_partner_systems_read_the_lists_of_their_office_and_the_offices_beneath(world):
    pdl = _built(world)
    _, at_office = _partner(world, world.unhcr_af, [READ])
    _, at_hq = _partner(world, world.unhcr_hq, [READ])
    _, elsewhere = _partner(world, world.unhcr_de, [READ, WRITE])
    _, write_only = _partner(world, world.unhcr_af, [WRITE])
    for token in (at_office, at_hq):
        assert [r["id"] for r in _client(token=token).get(URL).json()["results"]] == [pdl.pk]
        assert _client(token=token).get(f"{URL}{pdl.pk}/").status_code == 200
    log = _last_log()
    assert log.user is None and log.api_client is not None and log.object_ids == [str(pdl.entries.get().beneficiary_id)]
    assert _client(token=elsewhere).get(URL).json()["results"] == []
    assert _client(token=elsewhere).get(f"{URL}{pdl.pk}/").status_code == 404
    assert _client(token=write_only).get(URL).status_code == 403
    # Answering a list is reading it: with the write scope alone, the list is unknown (404), nothing written.
    before = _writes()
    assert _client(token=write_only).post(f"{URL}{pdl.pk}/acknowledge/").status_code == 404
    assert _writes() == before


def test_list_filters_office_either_side_acknowledged_and_built_since(world):
    first = _built(world)
    services.pre_departure_list_acknowledge(actor=world.unhcr_af_staff, pdl=first)
    cutoff = timezone.now()
    second = _built(world)
    scheduled(world.iom_de, world.iom_de_staff, days=10)
    [german] = services.pre_departure_lists_build(actor=None)
    client = _client(world.unhcr_hq_focal)  # MOU §35: every list of UNHCR's offices

    def ids(**params) -> list[int]:
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [german.pk, second.pk, first.pk]
    assert ids(office="unhcr-af-kbl") == ids(office="IOM-AF-KBL") == [second.pk, first.pk]
    assert ids(office="IOM-DE-BER") == [german.pk]
    assert ids(acknowledged="true") == [first.pk]
    assert ids(acknowledged="false") == [german.pk, second.pk]
    assert ids(built_since=cutoff.isoformat()) == [german.pk, second.pk]
    assert ids(office="IOM-AF-KBL", acknowledged="false") == [second.pk]


def test_list_filters_late_built_before_and_country_as_the_dashboards_link(world):
    on_time = _built(world)  # 10 days ahead, lead time 7
    cutoff = timezone.now()
    scheduled(world.iom_de, world.iom_de_staff, days=3)
    [late] = services.pre_departure_lists_build(actor=None)  # Kabul has nothing new to tell
    client = _client(world.unhcr_hq_focal)

    def ids(**params) -> list[int]:
        response = client.get(URL, params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [late.pk, on_time.pk]
    assert ids(late="true") == [late.pk]
    assert ids(late="false") == [on_time.pk]
    assert ids(built_before=cutoff.isoformat()) == [on_time.pk]
    assert ids(built_since=cutoff.isoformat(), built_before=timezone.now().isoformat()) == [late.pk]
    assert ids(office_country="DE") == [late.pk]
    assert ids(office_country="AF", late="true") == []
    assert ids(acknowledged="false", late="true") == [late.pk]  # the values the dashboards' links send


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"late": "yes"}, "late"),
        ({"built_before": "tomorrow"}, "built_before"),
        ({"office_country": "XX"}, "office_country"),
        ({"acknowledged": "perhaps"}, "acknowledged"),
        ({"built_since": "yesterday"}, "built_since"),
        ({"office": "X" * 33}, "office"),
        ({"office": "IOM\x00"}, "office"),
        ({"page_size": "0"}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_list_bad_filter_answers_400_naming_it(world, params, field):
    _built(world)
    response = _client(world.unhcr_af_staff).get(URL, params)
    assert response.status_code == 400 and field in _fields(response)


def _count_queries(client, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == params["page_size"]
    return len(queries)


def test_list_query_count_does_not_grow_with_page_size(world, django_assert_num_queries):
    for n in range(6):
        p = person(world.iom_af, actor=world.iom_af_staff)
        scheduled(world.iom_af, world.iom_af_staff, days=3 + n, principal=p)
        services.pre_departure_lists_build(actor=None)
    client = _client(world.unhcr_af_staff)
    small = _count_queries(client, {"page_size": 2})
    with django_assert_num_queries(small):
        response = client.get(URL, {"page_size": 6})
    assert [row["entry_count"] for row in response.json()["results"]] == [1] * 6
    # Session and user, the second factor's device (issue 8), the principal's grants, the page with its counts.
    assert small <= 9


def test_lists_are_never_edited_or_deleted(world):
    pdl = _built(world)
    client = _client(world.unhcr_af_manager)
    before = _writes()
    assert client.delete(f"{URL}{pdl.pk}/").status_code == 405
    assert client.put(f"{URL}{pdl.pk}/", {"reference": "X"}).status_code == 405
    assert client.post(URL, {}).status_code == 405
    assert _writes() == before


@pytest.mark.parametrize("segment", ["abc", "1.5", "9" * 30, "-1"])
def test_detail_malformed_or_huge_id_answers_404(world, segment):
    response = _client(world.unhcr_af_staff).get(f"{URL}{segment}/")
    assert response.status_code == 404 and set(response.json()) == ERROR_KEYS


# --- UNHCR's answers: acknowledgement, concern, record closed (Letter) ----------------------------------


def test_acknowledge_by_the_receiving_unhcr_office_once(world):
    pdl = _built(world)
    response = _client(world.unhcr_af_staff).post(f"{URL}{pdl.pk}/acknowledge/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["acknowledged_at"] and len(body["entries"]) == 1  # the list, with its entries
    pdl.refresh_from_db()
    assert pdl.acknowledged_by == world.unhcr_af_staff
    assert _last_log().action == "view" and _last_log().user == world.unhcr_af_staff
    before = _writes()
    twice = _client(world.unhcr_af_manager).post(f"{URL}{pdl.pk}/acknowledge/", {})
    assert twice.status_code == 409 and "already" in twice.json()["detail"]
    assert _writes() == before


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("iom_af_manager", 403),  # the sending side does not answer its own list
        ("iom_af_staff", 403),
        ("unhcr_hq_focal", 403),  # HQ focal points read only (MOU §35)
        ("unhcr_de_staff", 404),  # another UNHCR office: the list is unknown to it
        ("iom_de_staff", 404),
        ("unhcr_admin", 403),
    ],
)
def test_acknowledge_refused_writes_nothing(world, user, status):
    pdl = _built(world)
    before = _writes()
    response = _client(getattr(world, user)).post(f"{URL}{pdl.pk}/acknowledge/")
    assert response.status_code == status, response.content
    assert response.json()["detail"] and _writes() == before
    assert pdl.entries.get().given_name not in response.content.decode()


def test_acknowledge_by_a_unhcr_partner_system_records_the_client(world):
    pdl = _built(world)
    client_row, token = _partner(world, world.unhcr_af, [READ, WRITE])
    response = _client(token=token).post(f"{URL}{pdl.pk}/acknowledge/")
    assert response.status_code == 200, response.content
    pdl.refresh_from_db()
    assert pdl.acknowledged_by_client == client_row and pdl.acknowledged_by is None
    _, iom_token = _partner(world, world.iom_af, [READ, WRITE])
    assert _client(token=iom_token).post(f"{URL}{_built(world).pk}/acknowledge/").status_code == 403


def test_a_concern_reaches_the_iom_case_owner_at_once(world):
    pdl = _built(world)
    entry = pdl.entries.get()
    response = _client(world.unhcr_af_staff).post(
        f"{URL}{pdl.pk}/entries/{entry.pk}/concern/", {"concern": "  Seemed under pressure  "}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert list(body) == ENTRY_OUTPUT_FIELDS
    assert (body["id"], body["concern"]) == (entry.pk, "Seemed under pressure") and body["concern_at"]
    notice = Notification.objects.get(kind=NoticeKind.VOLUNTARINESS_CONCERN)
    assert notice.recipient == world.iom_af_staff and entry.iom_case_reference in notice.title
    assert entry.given_name not in notice.title
    log = _last_log()
    assert (log.action, log.object_ids) == ("view", [str(entry.beneficiary_id)])
    before = _writes()
    again = _client(world.unhcr_af_manager).post(f"{URL}{pdl.pk}/entries/{entry.pk}/concern/", {"concern": "More"})
    assert again.status_code == 409 and _writes() == before
    iom = _client(world.iom_af_manager).post(f"{URL}{_built(world).pk}/entries/{entry.pk}/concern/", {"concern": "x"})
    assert iom.status_code == 404  # the entry belongs to another list


def test_a_concern_from_the_sending_side_answers_403_and_writes_nothing(world):
    pdl = _built(world)
    entry = pdl.entries.get()
    before = _writes()
    response = _client(world.iom_af_manager).post(f"{URL}{pdl.pk}/entries/{entry.pk}/concern/", {"concern": "x"})
    assert response.status_code == 403 and _writes() == before


def test_close_record_only_once_the_embarkation_is_confirmed(world):
    announced, embarked = _embarked(world)
    client = _client(world.unhcr_af_staff)
    before = _writes()
    new_entry = announced.entries.get()
    refused = client.post(f"{URL}{announced.pk}/entries/{new_entry.pk}/close-record/")
    assert refused.status_code == 409 and "embarkation" in refused.json()["detail"]
    assert _writes() == before
    entry = embarked.entries.get()
    assert entry.change == ChangeKind.EMBARKED
    response = client.post(f"{URL}{embarked.pk}/entries/{entry.pk}/close-record/", {})
    assert response.status_code == 200, response.content
    assert response.json()["record_closed_at"] and response.json()["change"] == ChangeKind.EMBARKED
    entry.refresh_from_db()
    assert entry.record_closed_by == world.unhcr_af_staff
    before = _writes()
    assert client.post(f"{URL}{embarked.pk}/entries/{entry.pk}/close-record/").status_code == 409
    assert _client(world.iom_af_staff).post(f"{URL}{embarked.pk}/entries/{entry.pk}/close-record/").status_code == 403
    assert _writes() == before


@pytest.mark.parametrize("segment", ["abc", "0", "9" * 30])
def test_entry_unknown_answers_404(world, segment):
    pdl = _built(world)
    response = _client(world.unhcr_af_staff).post(f"{URL}{pdl.pk}/entries/{segment}/concern/", {"concern": "x"})
    assert response.status_code == 404


# --- Bad bodies: 400 naming the field, nothing written ---------------------------------------------------

HUGE = "x" * 100_000


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("concern", {"concern": 12}, "concern"),
        ("concern", {"concern": ["text"]}, "concern"),
        ("concern", {"concern": None}, "concern"),
        ("concern", {"concern": ""}, "concern"),
        ("concern", {"concern": "   "}, "concern"),
        ("concern", {}, "concern"),
        ("concern", {"concern": "a\x00b"}, "concern"),
        ("concern", {"concern": "bell\x07"}, "concern"),
        ("concern", {"concern": "x" * 4001}, "concern"),
        ("concern", {"concern": HUGE}, "concern"),
        ("concern", {"concern": "Fine", "by": "someone"}, "by"),
        ("concern", {"concern": "Fine", "concern_at": "2020-01-01T00:00:00Z"}, "concern_at"),
        ("acknowledge", {"acknowledged_at": "2020-01-01T00:00:00Z"}, "acknowledged_at"),
        ("acknowledge", {"note\x00": "x"}, "note\x00"),
        ("close-record", {"record_closed_at": "2020-01-01"}, "record_closed_at"),
        ("build", {"office": 12}, "office"),
        ("build", {"office": ["IOM-AF-KBL"]}, "office"),
        ("build", {"office": HUGE}, "office"),
        ("build", {"office": "IOM-AF-KBL\x00"}, "office"),
        ("build", {}, "office"),
        ("build", {"office": "IOM-AF-KBL", "trigger": "schedule"}, "trigger"),
    ],
)
def test_bad_bodies_answer_400_naming_the_field_and_write_nothing(world, endpoint, body, field):
    announced, embarked = _embarked(world)
    scheduled(world.iom_af, world.iom_af_staff, days=10)  # something a build would list
    entry = embarked.entries.get()
    user, path = (
        world.unhcr_af_staff,
        {
            "concern": f"{URL}{embarked.pk}/entries/{entry.pk}/concern/",
            "acknowledge": f"{URL}{embarked.pk}/acknowledge/",
            "close-record": f"{URL}{embarked.pk}/entries/{entry.pk}/close-record/",
            "build": f"{URL}build/",
        }[endpoint],
    )
    if endpoint == "build":
        user = world.iom_af_staff
    before = _writes()
    response = _client(user).post(path, body, format="json")
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert _writes() == before


def test_a_body_that_is_not_an_object_answers_400(world):
    pdl = _built(world)
    entry = pdl.entries.get()
    before = _writes()
    client = _client(world.unhcr_af_staff)
    for body in ('["x"]', '"text"', "{not json"):
        response = client.post(f"{URL}{pdl.pk}/entries/{entry.pk}/concern/", body, content_type="application/json")
        assert response.status_code == 400 and set(response.json()) == ERROR_KEYS, body
    assert _writes() == before


# --- Data minimisation: only ENTRY_FIELDS of a person in any answer (Letter) ----------------------------


def test_no_personal_field_outside_the_allow_list_reaches_any_api_answer(world):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Amina", family_name="Noori", **CANARIES)
    case = scheduled(world.iom_af, world.iom_af_staff, principal=p, days=10)
    unhcr, iom = _client(world.unhcr_af_staff), _client(world.iom_af_staff)
    built = iom.post(f"{URL}build/", {"office": "IOM-AF-KBL"})
    pdl = PreDepartureList.objects.get(pk=built.json()[0]["id"])
    entry = pdl.entries.get()
    answers = {
        "build": built.content.decode(),
        "list": unhcr.get(URL).content.decode(),
        "detail": unhcr.get(f"{URL}{pdl.pk}/").content.decode(),
        "detail (IOM)": iom.get(f"{URL}{pdl.pk}/").content.decode(),
        "csv": unhcr.get(f"{URL}{pdl.pk}/csv/").content.decode("utf-8-sig"),
        "pdf": "".join(
            page.extract_text() for page in PdfReader(BytesIO(unhcr.get(f"{URL}{pdl.pk}/pdf/").content)).pages
        ),
        "concern": unhcr.post(f"{URL}{pdl.pk}/entries/{entry.pk}/concern/", {"concern": "Pressure"}).content.decode(),
        "acknowledge": unhcr.post(f"{URL}{pdl.pk}/acknowledge/").content.decode(),
        "inbox (UNHCR)": unhcr.get(INBOX).content.decode(),
        "inbox (IOM)": iom.get(INBOX).content.decode(),
    }
    move(case, world.iom_af_staff, "confirm_embarkation")
    [embarked] = services.pre_departure_lists_build(actor=None)
    closed = unhcr.post(f"{URL}{embarked.pk}/entries/{embarked.entries.get().pk}/close-record/")
    answers["close-record"] = closed.content.decode()
    for name, text in answers.items():
        for canary in ("CANARY", "canary-email", "1971-03-14", "14/03/1971", "Zimbabwe"):
            assert canary not in text, (name, canary)
    for name in ("detail", "detail (IOM)", "csv", "pdf", "concern", "acknowledge", "close-record"):
        assert "Amina" in answers[name] and "Noori" in answers[name], name
    for name in ("build", "list", "inbox (UNHCR)", "inbox (IOM)"):
        assert "Amina" not in answers[name], name
    # The entry representation is the allow-list and the entry's own bookkeeping, nothing more.
    detail = unhcr.get(f"{URL}{pdl.pk}/").json()
    assert set(detail["entries"][0]) - {"id", "late", "concern", "concern_at", "record_closed_at"} == set(ENTRY_FIELDS)


# --- The inbox, marking read, e-mail preferences ------------------------------------------------------


def test_inbox_shows_only_the_callers_own_notices_and_filters_unread(world):
    pdl = _built(world)
    _built(world)
    staff = _client(world.unhcr_af_staff)
    response = staff.get(INBOX)
    assert response.status_code == 200
    rows = response.json()["results"]
    mine = list(
        Notification.objects.filter(recipient=world.unhcr_af_staff).order_by("-pk").values_list("pk", flat=True)
    )
    assert [r["id"] for r in rows] == mine and len(mine) == 2
    assert set(rows[0]) == {"id", "kind", "title", "body", "url", "pre_departure_list", "created_at", "read_at"}
    assert rows[-1]["pre_departure_list"] == pdl.pk and rows[-1]["kind"] == NoticeKind.PRE_DEPARTURE_LIST
    assert _client(world.iom_af_staff).get(INBOX).json()["results"] == []  # IOM's staff were not sent the list
    Notification.objects.filter(pk=mine[0]).update(read_at=timezone.now())
    assert [r["id"] for r in staff.get(INBOX, {"unread": "true"}).json()["results"]] == mine[1:]
    assert staff.get(INBOX, {"unread": "maybe"}).status_code == 400


def test_mark_read_by_ids_ignores_others_notices_then_all(world):
    _built(world)
    _built(world)
    mine = list(Notification.objects.filter(recipient=world.unhcr_af_staff).values_list("pk", flat=True))
    theirs = list(Notification.objects.filter(recipient=world.unhcr_af_manager).values_list("pk", flat=True))
    client = _client(world.unhcr_af_staff)
    response = client.post(f"{INBOX}mark-read/", {"ids": [mine[0], *theirs]})
    assert response.status_code == 200 and response.json() == {"marked": 1, "unread": 1}
    assert not Notification.objects.filter(pk__in=theirs, read_at__isnull=False).exists()
    response = client.post(f"{INBOX}mark-read/", {"all": True})
    assert response.json() == {"marked": 1, "unread": 0}
    assert not Notification.objects.filter(recipient=world.unhcr_af_staff, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=world.unhcr_af_manager, read_at__isnull=True).count() == 2


def test_email_settings_default_instant_then_changed(world):
    client = _client(world.unhcr_af_staff)
    assert client.get(f"{INBOX}settings/").json() == {"email_preference": EmailPreference.INSTANT}
    response = client.put(f"{INBOX}settings/", {"email_preference": "digest"})
    assert response.status_code == 200 and response.json() == {"email_preference": "digest"}
    assert NotificationSettings.objects.get(user=world.unhcr_af_staff).email_preference == EmailPreference.DIGEST
    assert _client(world.unhcr_af_manager).get(f"{INBOX}settings/").json()["email_preference"] == "instant"


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("mark-read", {}, "ids"),
        ("mark-read", {"ids": []}, "ids"),
        ("mark-read", {"ids": "1"}, "ids"),
        ("mark-read", {"ids": ["1"]}, "ids.0"),
        ("mark-read", {"ids": [True]}, "ids.0"),
        ("mark-read", {"ids": [1.5]}, "ids.0"),
        ("mark-read", {"ids": [2**70]}, "ids.0"),
        ("mark-read", {"ids": [0]}, "ids.0"),
        ("mark-read", {"ids": list(range(1, 502))}, "ids"),
        ("mark-read", {"all": "yes"}, "all"),
        ("mark-read", {"all": 1}, "all"),
        ("mark-read", {"all": False}, "ids"),
        ("mark-read", {"ids": [1], "all": True}, "all"),
        ("mark-read", {"all": True, "recipient": 1}, "recipient"),
        ("settings", {"email_preference": "weekly"}, "email_preference"),
        ("settings", {"email_preference": 1}, "email_preference"),
        ("settings", {"email_preference": HUGE}, "email_preference"),
        ("settings", {"email_preference": "instant\x00"}, "email_preference"),
        ("settings", {}, "email_preference"),
        ("settings", {"email_preference": "digest", "user": 1}, "user"),
    ],
)
def test_inbox_bad_bodies_answer_400_naming_the_field_and_write_nothing(world, endpoint, body, field):
    _built(world)
    before = _writes()
    client = _client(world.unhcr_af_staff)
    path = f"{INBOX}{endpoint}/"
    response = client.put(path, body) if endpoint == "settings" else client.post(path, body)
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert _writes() == before


def test_partner_systems_have_no_inbox(world):
    _built(world)
    _, token = _partner(world, world.unhcr_af, [READ, WRITE])
    client = _client(token=token)
    before = _writes()
    for response in (
        client.get(INBOX),
        client.post(f"{INBOX}mark-read/", {"all": True}),
        client.get(f"{INBOX}settings/"),
        client.put(f"{INBOX}settings/", {"email_preference": "none"}),
    ):
        assert response.status_code == 403 and "inbox" in response.json()["detail"]
    assert _writes() == before
    assert APIClient().get(INBOX).status_code == 401


def test_built_since_accepts_a_date_time_with_offset(world):
    pdl = _built(world)
    since = (pdl.created_at - dt.timedelta(minutes=1)).isoformat()
    response = _client(world.unhcr_af_staff).get(URL, {"built_since": since})
    assert [row["id"] for row in response.json()["results"]] == [pdl.pk]
