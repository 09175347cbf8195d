"""The return-case API builds its case and member rows by hand, for speed (returns/api/serializers.py, issue 7): these
tests hold those rows to what DRF's own serialization of the declared fields gives for the same records, read the
ordinary way (model instances), for every kind of reader — every key, in order, every value, and only the fields of
each person that reader may see (jointops.access.person_field_filter) — and the detail's parts now read as rows or
skipped (measures in one query, the timeline with its authors, visits) to what the model instances give."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient, APIRequestFactory

from jointops import access
from jointops import services as jointops_services
from returns import selectors, services
from returns.api.serializers import (
    CASE_FIELDS,
    ReintegrationVisitSerializer,
    ReturnCaseMemberSerializer,
    ReturnCaseSerializer,
)
from returns.choices import ReturnKind
from returns.models import AdditionalMeasure, ReintegrationVisit, ReturnCase
from tests.factories.beneficiaries import person
from tests.factories.returns import case, move, scheduled

URL = "/api/v1/return-cases/"
SECTION_12 = {
    "no_conflict_with_humanitarian_concerns": True,
    "best_interests_considered": True,
    "bilateral_matter_recognised": True,
}
DETAIL_EXTRAS = ["allowed_moves", "timeline", "unhcr_must_be_informed", "additional_measures", "visits"]


def _json(data):
    return json.loads(JSONRenderer().render(data))


def _drf_members(c: ReturnCase, principal) -> list[dict]:
    """The members as DRF's generic loop shows the declared fields, read from the model instances, each cut to the
    fields the principal may read of that person."""
    shown = []
    for member in c.members.select_related("beneficiary").order_by("-is_principal", "pk"):
        record = member.beneficiary
        values = {name: getattr(record, name) for name in ReturnCaseMemberSerializer.person_fields}
        values.update(person=member.beneficiary_id, is_principal=member.is_principal)
        data = serializers.Serializer.to_representation(ReturnCaseMemberSerializer(), values)
        allowed = access.person_field_filter(principal, office_id=record.office_id)
        if allowed is not None:
            data = {
                key: value
                for key, value in data.items()
                if ReturnCaseMemberSerializer.governed_by.get(key, key) in allowed
            }
        shown.append(data)
    return _json(shown)


def _drf_case(c: ReturnCase) -> dict:
    """The case's own fields as DRF's generic loop (ModelSerializer) shows them, the case read afresh."""
    fresh = ReturnCase.objects.get(pk=c.pk)
    fresh.member_rows = []
    request = APIRequestFactory().get(URL)
    data = serializers.ModelSerializer.to_representation(ReturnCaseSerializer(context={"request": request}), fresh)
    return _json(data)


def _assert_same(row: dict, c: ReturnCase, principal) -> None:
    """`row` (a list row or a detail) shows `c` as DRF would: the case's fields in order, then the members."""
    expected = _drf_case(c)
    assert list(expected) == CASE_FIELDS and list(row)[: len(CASE_FIELDS)] == CASE_FIELDS
    assert {key: row[key] for key in CASE_FIELDS if key != "members"} == {
        key: value for key, value in expected.items() if key != "members"
    }
    assert row["members"] == _drf_members(c, principal)
    declared = list(ReturnCaseMemberSerializer().fields)
    for member in row["members"]:
        assert list(member) == [key for key in declared if key in member]


@pytest.fixture
def seen(world):
    """Cases with varied people (contact details, needs, no date of birth or nationality), dates and times set, a
    case at a field office for a person of its country office, and the readers: own staff, the field office's staff
    (the shared fields only), an HQ focal point (no contact details), partner systems with and without people's
    scope."""
    w = world
    full = person(
        w.iom_af,
        actor=w.iom_af_staff,
        phone="+93 700 000 001",
        specific_needs=["single_parent", "disability"],
        preferred_language="prs",
        unhcr_registration_number="AFG-123",
        iom_case_number="IOM-9",
    )
    sparse = person(w.iom_af, actor=w.iom_af_staff, date_of_birth=None, nationality="")
    arrived = scheduled(w.iom_af, w.iom_af_staff, kind=ReturnKind.AVR_MIGRANT, principal=full, **SECTION_12)
    services.return_case_add_member(actor=w.iom_af_staff, case=arrived, beneficiary=sparse)
    arrived = move(arrived, w.iom_af_staff, "confirm_embarkation", "confirm_arrival")
    services.reintegration_visit_record(
        actor=w.iom_af_staff, case=arrived, visited_on=timezone.localdate(), outcome="Settled with family"
    )
    opened = case(w.iom_af, w.iom_af_staff, travel_details="Bus to Herat", final_decision_date=dt.date(2024, 5, 1))
    field = case(w.iom_af_field, w.iom_af_staff, principal=person(w.iom_af, actor=w.iom_af_staff, phone="+93 2"))
    readers = {
        "own staff": (w.iom_af_staff, None),
        "field office staff": (w.iom_field_staff, None),
        "HQ focal point": (w.iom_hq_focal, None),
        "partner, cases only": jointops_services.api_client_create(
            actor=w.iom_admin, name="Reads cases", office=w.iom_af_field, scopes=["return-cases:read"]
        ),
        "partner, cases and people": jointops_services.api_client_create(
            actor=w.iom_admin, name="Reads all", office=w.iom_af, scopes=["return-cases:read", "beneficiaries:read"]
        ),
    }
    return {"cases": {c.pk: c for c in (arrived, opened, field)}, "readers": readers}


def _client(principal, token) -> tuple[APIClient, object]:
    """A client signed in as the staff member, or sending the partner system's token; and the principal."""
    client = APIClient()
    if token is None:
        client.force_login(principal)
    else:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, principal


@pytest.mark.parametrize(
    "reader", ["own staff", "field office staff", "HQ focal point", "partner, cases only", "partner, cases and people"]
)
def test_list_and_detail_rows_equal_drf_serialization_of_the_declared_fields(seen, reader):
    client, principal = _client(*seen["readers"][reader])
    response = client.get(URL, {"page_size": 100})
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert rows, "each reader sees at least one case"
    for row in rows:
        _assert_same(row, seen["cases"][row["id"]], principal)
        detail = client.get(f"{URL}{row['id']}/")
        assert detail.status_code == 200
        body = detail.json()
        assert list(body) == [*CASE_FIELDS, *DETAIL_EXTRAS]
        _assert_same(body, seen["cases"][row["id"]], principal)
        visits = ReintegrationVisit.objects.filter(case_id=row["id"])  # read even before arrival here
        assert body["visits"] == _json(ReintegrationVisitSerializer(visits, many=True).data)


def test_rows_cover_every_shape_of_value(seen):
    """The records above do hold each shape the rows convert (else the comparison would prove little)."""
    client, _ = _client(*seen["readers"]["own staff"])
    rows = {row["id"]: row for row in client.get(URL, {"page_size": 100}).json()["results"]}
    members = [member for row in rows.values() for member in row["members"]]
    assert {member["date_of_birth"] is None for member in members} == {True, False}
    assert {member["nationality"] for member in members} >= {"", "AF"}
    assert ["single_parent", "disability"] in [member["specific_needs"] for member in members]
    assert any(row["embarked_at"] and row["arrived_at"] and row["expected_departure_date"] for row in rows.values())
    assert any(row["final_decision_date"] == "2024-05-01" for row in rows.values())
    assert ReintegrationVisit.objects.filter(case_id__in=rows).count() == 1
    field_staff, _ = _client(*seen["readers"]["field office staff"])
    shared = field_staff.get(URL).json()["results"][0]["members"][0]
    assert "phone" not in shared and "preferred_language" not in shared and "given_name" in shared


def test_detail_measures_in_one_query_equal_the_checklist(world, django_assert_max_num_queries):
    w = world
    done = AdditionalMeasure.objects.create(office=w.iom_de, label="UNHCR counselling offered")
    pending = AdditionalMeasure.objects.create(office=w.iom_de, label="Interview with UNHCR")
    retired = AdditionalMeasure.objects.create(office=w.iom_de, label="Retired", is_active=False)
    AdditionalMeasure.objects.create(office=w.iom_af, label="Kabul's measure")
    c = case(w.iom_de, w.iom_de_staff)
    services.case_measure_record(actor=w.iom_de_staff, case=c, measure=done, done_on=dt.date(2025, 1, 2), note="ok")
    services.case_measure_record(actor=w.iom_de_staff, case=c, measure=retired, done_on=dt.date(2025, 1, 3))
    expected = [
        {
            "measure": measure.pk,
            "label": measure.label,
            "done_on": record.done_on.isoformat() if record else None,
            "note": record.note if record else "",
        }
        for measure, record in selectors.case_measure_checklist(case=c)
    ]
    assert [row["measure"] for row in expected] == [done.pk, pending.pk]
    with django_assert_max_num_queries(1):
        states = selectors.case_measure_states(case=c)
    assert _json(states) == expected
    client = APIClient()
    client.force_login(w.iom_de_staff)
    assert client.get(f"{URL}{c.pk}/").json()["additional_measures"] == expected


def test_detail_timeline_rows_equal_the_moves_with_who_made_them(world):
    """The timeline, read as rows with the author's name from SQL, shows each move as the model instances do: the
    user's name, else the partner system's."""
    w = world
    partner, token = jointops_services.api_client_create(
        actor=w.iom_admin, name="Kabul partner", office=w.iom_af, scopes=["return-cases:read", "return-cases:write"]
    )
    c = case(w.iom_af, w.iom_af_staff)
    c = move(c, w.iom_af_staff, "start_counselling")
    c = services.return_case_move(actor=partner, case=c, transition="start_preparing", reason="By the partner")
    datetime_field = serializers.DateTimeField()
    expected = [
        {
            "move": t.transition,
            "from": t.from_stage,
            "to": t.to_stage,
            "reason": t.reason,
            "details": t.details,
            "at": datetime_field.to_representation(t.at),
            "by": t.user.username if t.user_id else (t.api_client.name if t.api_client_id else None),
        }
        for t in selectors.return_case_timeline(case=c)
    ]
    assert [row["by"] for row in expected][-2:] == ["iom_af_staff", "Kabul partner"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get(f"{URL}{c.pk}/")
    assert response.status_code == 200, response.content
    assert response.json()["timeline"] == _json(expected)
