"""The returns API: opening cases with members, the detail (allowed moves, timeline, members limited to the fields
the caller may read), moves answered 200/409/400/412 with the reason, ETag/If-Match on edits, sub-resources,
operations and agreements, filters and `updated_since`, bad input, and list query counts."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from jointops import services as jointops_services
from jointops.models import AccessLog
from returns import flow, services
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
from tests.factories.beneficiaries import person
from tests.factories.jointops import OrganisationFactory
from tests.factories.returns import case, move, scheduled

ERROR_KEYS = {"detail", "code", "errors"}
URL = "/api/v1/return-cases/"
TODAY = timezone.localdate
SECTION_12 = {
    "no_conflict_with_humanitarian_concerns": True,
    "best_interests_considered": True,
    "bilateral_matter_recognised": True,
}


def _fields(response) -> set:
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    return {error["field"] for error in body["errors"]}


def _client(user=None, token=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _writes() -> tuple:
    """Everything a write to return records could touch (rows, versions, stages and audit)."""
    return (
        list(
            ReturnCase.objects.order_by("pk").values_list(
                "pk", "version", "stage", "place_of_return", "expected_departure_date", "fit_to_travel"
            )
        ),
        list(ReturnCaseMember.objects.order_by("pk").values_list("pk", "case_id", "beneficiary_id", "is_principal")),
        CaseTransition.objects.count(),
        CaseMeasure.objects.count(),
        ReintegrationVisit.objects.count(),
        list(RepatriationOperation.objects.order_by("pk").values_list("pk", "version", "title")),
        list(ReturnAgreement.objects.order_by("pk").values_list("pk", "version", "title")),
        ReturnCase.history.count(),
    )


def _open_body(world, **overrides) -> dict:
    body = {
        "kind": "avr_asylum_seeker",
        "lead_office": "IOM-DE-BER",
        "principal": person(world.iom_de, actor=world.iom_de_staff).pk,
        "members": [],
        "country_of_departure": "DE",
        "country_of_return": "AF",
        "place_of_return": "Herat",
        "fit_to_travel": True,
    }
    body.update(overrides)
    return body


def _move(client, c, transition, **body):
    headers = {}
    if "if_match" in body:
        headers["HTTP_IF_MATCH"] = body.pop("if_match")
    return client.post(f"{URL}{c.pk}/transitions/", {"transition": transition, **body}, format="json", **headers)


def _detail(client, c) -> dict:
    response = client.get(f"{URL}{c.pk}/")
    assert response.status_code == 200, response.content
    return response.json()


def _preparing(world, **fields):
    c = case(world.iom_de, world.iom_de_staff, fit_to_travel=True, **fields)
    return move(c, world.iom_de_staff, "start_counselling", "start_preparing")


def _in_days(days: int) -> str:
    return (TODAY() + dt.timedelta(days=days)).isoformat()


# --- Opening a case -----------------------------------------------------------------------------------


def test_return_case_create_valid_input_opens_with_members_etag_and_location(world):
    child = person(world.iom_de, actor=world.iom_de_staff)
    body = _open_body(world)
    body["members"] = [child.pk, child.pk, body["principal"]]  # repeated ids and the principal count once
    response = _client(world.iom_de_staff).post(URL, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    c = ReturnCase.objects.get(pk=data["id"])
    assert response["ETag"] == '"1"' and response["Location"].endswith(f"{URL}{c.pk}/")
    assert (data["stage"], data["kind"], data["lead_office"], data["reference"]) == (
        "opened",
        "avr_asylum_seeker",
        "IOM-DE-BER",
        c.reference,
    )
    assert [(m["person"], m["is_principal"]) for m in data["members"]] == [(body["principal"], True), (child.pk, False)]
    assert {"start_counselling", "withdraw"} == {m["name"] for m in data["allowed_moves"]}
    assert data["timeline"] == [] and data["unhcr_must_be_informed"] is True  # Letter: AVR of asylum-seekers
    assert c.created_by == world.iom_de_staff and c.history.first().history_user == world.iom_de_staff


def test_return_case_create_by_partner_answers_201_and_records_the_client(world):
    client_row, token = jointops_services.api_client_create(
        actor=world.iom_admin,
        name="Caseworker system",
        office=world.iom_de,
        scopes=["return-cases:read", "return-cases:write", "beneficiaries:write"],
    )
    response = _client(token=token).post(URL, _open_body(world), format="json")
    assert response.status_code == 201, response.content
    c = ReturnCase.objects.get(pk=response.json()["id"])
    assert c.history.first().history_api_client == client_row


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"place_of_return": "Her\x00at"}, "place_of_return"),
        ({"place_of_return": "x" * 201}, "place_of_return"),
        ({"travel_details": "x" * 2001}, "travel_details"),
        ({"final_decision_date": "2025-02-30"}, "final_decision_date"),
        ({"final_decision_date": "99999-01-01"}, "final_decision_date"),
        ({"lead_office": "NOPE-XX-YYY"}, "lead_office"),
        ({"lead_office": "bad code!"}, "lead_office"),
        ({"principal": 99999999}, "principal"),
        ({"principal": 2**70}, "principal"),
        ({"principal": "abc"}, "principal"),
        ({"principal": True}, "principal"),
        ({"members": [99999999]}, "members.0"),
        ({"members": "1"}, "members"),
        ({"kind": "deportation"}, "kind"),
        ({"country_of_return": "XX"}, "country_of_return"),
        ({"stage": "closed"}, "stage"),
        ({"reference": "RC-MINE"}, "reference"),
        ({"formal_asylum_withdrawal": True}, "formal_asylum_withdrawal"),  # Letter: never asked for
        ({"operation": 99999999}, "operation"),
        ({"kind": "voluntary_repatriation"}, "lead_office"),  # MOU §30: UNHCR leads voluntary repatriation
        ({"final_decision_date": "2999-01-01"}, "final_decision_date"),
    ],
)
def test_return_case_create_bad_input_names_the_field_and_writes_nothing(world, overrides, field):
    body = _open_body(world)
    before = _writes()
    body.update(overrides)
    response = _client(world.iom_de_staff).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert _writes() == before


def test_return_case_create_with_a_person_of_another_office_answers_400_naming_principal(world):
    # The person exists and is visible to the Kabul office's staff, not to Berlin's: unknown here, never revealed.
    other = person(world.iom_af, actor=world.iom_af_staff)
    before = _writes()
    response = _client(world.iom_de_staff).post(URL, _open_body(world, principal=other.pk), format="json")
    assert response.status_code == 400
    assert _fields(response) == {"principal"}
    assert str(other.given_name) not in response.content.decode()
    assert _writes() == before


def test_return_case_create_at_an_office_not_covered_answers_403_and_writes_nothing(world):
    body = _open_body(world, lead_office="IOM-AF-KBL")
    before = _writes()
    response = _client(world.iom_de_staff).post(URL, body, format="json")
    assert response.status_code == 403
    assert _writes() == before


# --- Reading ------------------------------------------------------------------------------------------


def test_return_case_retrieve_lists_moves_with_inputs_timeline_and_logs_the_members(world):
    c = _preparing(world)
    client = _client(world.iom_de_staff)
    data = _detail(client, c)
    moves = {m["name"]: m for m in data["allowed_moves"]}
    assert set(moves) == {"schedule_departure", "withdraw"}
    assert moves["schedule_departure"]["inputs"] == ["expected_departure_date"]
    assert moves["schedule_departure"]["target"] == "departure_scheduled"
    assert moves["withdraw"] == {
        "name": "withdraw",
        "label": str(flow.MOVES["withdraw"].label),
        "needs_reason": True,
        "inputs": [],
        "target": "withdrawn",
    }
    assert [(t["move"], t["from"], t["to"], t["by"]) for t in data["timeline"]] == [
        ("start_counselling", "opened", "counselling", "iom_de_staff"),
        ("start_preparing", "counselling", "preparing", "iom_de_staff"),
    ]
    assert all(t["at"] and t["reason"] == "ok" for t in data["timeline"])
    entry = AccessLog.objects.order_by("-pk").first()
    principal = c.members.get().beneficiary_id
    assert (entry.action, entry.resource, entry.object_ids, entry.user) == (
        "view",
        "beneficiary",
        [str(principal)],
        world.iom_de_staff,
    )


def test_return_case_members_show_hq_focal_points_no_contact_details_and_no_moves(world):
    p = person(world.iom_de, actor=world.iom_de_staff, phone="+49 30 CANARY")
    c = case(world.iom_de, world.iom_de_staff, principal=p)
    own = _detail(_client(world.iom_de_staff), c)["members"][0]
    assert own["phone"] == "+49 30 CANARY" and own["given_name"] == p.given_name
    hq = _client(world.iom_hq_focal).get(f"{URL}{c.pk}/")
    assert hq.status_code == 200
    member = hq.json()["members"][0]
    assert member["given_name"] == p.given_name and member["is_principal"] is True
    assert "phone" not in member and b"CANARY" not in hq.content
    assert hq.json()["allowed_moves"] == []  # HQ focal points follow cases; they do not move them


def test_return_case_members_from_another_office_show_only_the_shared_fields(world):
    # Kabul's staff open a case at their field office for a person registered in Kabul: the field office's staff
    # see the case, but the person's record is not theirs.
    p = person(world.iom_af, actor=world.iom_af_staff, phone="+93 CANARY", preferred_language="prs")
    c = case(world.iom_af_field, world.iom_af_staff, principal=p, country_of_departure="AF", country_of_return="AF")
    response = _client(world.iom_field_staff).get(f"{URL}{c.pk}/")
    assert response.status_code == 200
    member = response.json()["members"][0]
    assert member["person"] == p.pk and member["family_name"] == p.family_name
    assert "phone" not in member and "preferred_language" not in member and b"CANARY" not in response.content


def test_return_case_of_another_office_or_agency_answers_404(world):
    c = case(world.iom_de, world.iom_de_staff)
    for user in (world.iom_af_staff, world.unhcr_de_staff, world.unhcr_hq_focal):
        assert _client(user).get(f"{URL}{c.pk}/").status_code == 404
    assert _client(world.iom_admin).get(f"{URL}{c.pk}/").status_code == 403  # administrators see no cases


@pytest.mark.parametrize("segment", ["abc", "99999999999999999999999", "-1", "1.5"])
def test_return_case_retrieve_malformed_or_huge_id_answers_404(world, segment):
    assert _client(world.iom_de_staff).get(f"{URL}{segment}/").status_code == 404


def test_return_case_delete_answers_405_and_keeps_the_case(world):
    c = case(world.iom_de, world.iom_de_staff)
    response = _client(world.iom_de_staff).delete(f"{URL}{c.pk}/")
    assert response.status_code == 405
    assert ReturnCase.objects.filter(pk=c.pk).exists()


# --- Editing details with ETag / If-Match -------------------------------------------------------------


def test_return_case_patch_with_current_if_match_changes_and_answers_new_etag(world):
    c = case(world.iom_de, world.iom_de_staff)
    client = _client(world.iom_de_staff)
    etag = client.get(f"{URL}{c.pk}/")["ETag"]
    response = client.patch(f"{URL}{c.pk}/", {"place_of_return": "Mazar"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"' and response.json()["place_of_return"] == "Mazar"
    c.refresh_from_db()
    assert (c.place_of_return, c.version) == ("Mazar", 2)


def test_return_case_patch_without_if_match_answers_428_and_writes_nothing(world):
    c = case(world.iom_de, world.iom_de_staff)
    before = _writes()
    response = _client(world.iom_de_staff).patch(f"{URL}{c.pk}/", {"place_of_return": "X"}, format="json")
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required" and _fields(response) == {"If-Match"}
    assert _writes() == before


def test_return_case_patch_with_stale_if_match_answers_412_and_keeps_the_first_change(world):
    c = case(world.iom_de, world.iom_de_staff)
    first, second = _client(world.iom_de_staff), _client(world.iom_de_manager)
    etag = first.get(f"{URL}{c.pk}/")["ETag"]
    assert first.patch(f"{URL}{c.pk}/", {"place_of_return": "A"}, format="json", HTTP_IF_MATCH=etag).status_code == 200
    before = _writes()
    response = second.patch(f"{URL}{c.pk}/", {"place_of_return": "B"}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 412 and response.json()["code"] == "stale_version"
    assert _writes() == before
    c.refresh_from_db()
    assert c.place_of_return == "A"


@pytest.mark.parametrize("if_match", ['W/"1"', '"one"', '"1'])
def test_return_case_patch_with_malformed_if_match_answers_400_naming_it(world, if_match):
    c = case(world.iom_de, world.iom_de_staff)
    before = _writes()
    response = _client(world.iom_de_staff).patch(
        f"{URL}{c.pk}/", {"place_of_return": "X"}, format="json", HTTP_IF_MATCH=if_match
    )
    assert response.status_code == 400 and _fields(response) == {"If-Match"}
    assert _writes() == before


def test_return_case_put_missing_fields_names_each_and_writes_nothing(world):
    c = case(world.iom_de, world.iom_de_staff)
    before = _writes()
    response = _client(world.iom_de_staff).put(
        f"{URL}{c.pk}/", {"place_of_return": "X"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 400
    assert {"country_of_departure", "country_of_return", "fit_to_travel", "operation"} <= _fields(response)
    assert _writes() == before


def test_return_case_put_with_if_match_replaces_the_details(world):
    c = case(world.iom_de, world.iom_de_staff, place_of_return="Old")
    body = {
        "country_of_departure": "DE",
        "country_of_return": "af",
        "place_of_return": "Kabul",
        "operation": None,
        "agreement": None,
        "travel_details": "Flight via Istanbul",
        "embarkation_point": "BER",
        "fit_to_travel": True,
        "final_decision_date": None,
        "possibilities_to_stay_exhausted": False,
        **SECTION_12,
    }
    response = _client(world.iom_de_staff).put(f"{URL}{c.pk}/", body, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    c.refresh_from_db()
    assert (c.place_of_return, c.country_of_return.code, c.embarkation_point, c.fit_to_travel) == (
        "Kabul",
        "AF",
        "BER",
        True,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stage": "closed"}, "stage"),
        ({"expected_departure_date": "2030-01-01"}, "expected_departure_date"),  # moves set it
        ({"emergency_justification": "x"}, "emergency_justification"),
        ({"fit_to_travel": "maybe"}, "fit_to_travel"),
        ({"agreement": 1}, "agreement"),
        ({"embarkation_point": "\x07"}, "embarkation_point"),
    ],
)
def test_return_case_patch_bad_input_names_the_field_and_writes_nothing(world, changes, field):
    c = case(world.iom_de, world.iom_de_staff)
    before = _writes()
    response = _client(world.iom_de_staff).patch(f"{URL}{c.pk}/", changes, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 400 and field in _fields(response)
    assert _writes() == before


def test_return_case_patch_of_a_withdrawn_case_answers_409(world):
    c = move(case(world.iom_de, world.iom_de_staff), world.iom_de_staff, "withdraw", reason="Changed mind")
    before = _writes()
    response = _client(world.iom_de_staff).patch(
        f"{URL}{c.pk}/", {"place_of_return": "X"}, format="json", HTTP_IF_MATCH=f'"{c.version}"'
    )
    assert response.status_code == 409
    assert _writes() == before


# --- Moves --------------------------------------------------------------------------------------------


def test_transitions_walk_the_path_and_record_who_when_why(world):
    c = case(world.iom_de, world.iom_de_staff, kind=ReturnKind.AVR_MIGRANT, fit_to_travel=True, **SECTION_12)
    client = _client(world.iom_de_staff)
    assert _move(client, c, "start_counselling", reason="First meeting").status_code == 200
    response = _move(client, c, "start_preparing", if_match='"2"')
    assert response.status_code == 200 and response["ETag"] == '"3"'
    response = _move(client, c, "schedule_departure", expected_departure_date=_in_days(7))
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["stage"] == "departure_scheduled" and data["expected_departure_date"] == _in_days(7)
    assert data["timeline"][0]["reason"] == "First meeting"
    assert data["timeline"][-1]["details"] == {"previous_date": None, "expected_departure_date": _in_days(7)}
    assert {m["name"] for m in data["allowed_moves"]} == {"reschedule_departure", "confirm_embarkation", "withdraw"}
    for name in ("confirm_embarkation", "confirm_arrival", "start_reintegration"):
        assert _move(client, c, name).status_code == 200, name
    response = _move(client, c, "close", closing_reason="reintegrated")
    assert response.status_code == 200
    assert response.json()["stage"] == "closed" and response.json()["closing_reason"] == "reintegrated"
    assert CaseTransition.objects.filter(case=c, user=world.iom_de_staff).count() == 7


def test_transition_rejected_asylum_seeker_before_exhaustion_answers_409_citing_section_29(world):
    c = _preparing(world, kind=ReturnKind.AVR_REJECTED_ASYLUM_SEEKER, **SECTION_12)
    before = _writes()
    response = _move(_client(world.iom_de_staff), c, "schedule_departure", expected_departure_date=_in_days(5))
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed" and "MOU §29" in response.json()["detail"]
    assert _writes() == before
    client = _client(world.iom_de_staff)
    changes = {"final_decision_date": "2025-01-10", "possibilities_to_stay_exhausted": True}
    assert client.patch(f"{URL}{c.pk}/", changes, format="json", HTTP_IF_MATCH=f'"{c.version}"').status_code == 200
    assert _move(client, c, "schedule_departure", expected_departure_date=_in_days(5)).status_code == 200


def test_transition_without_the_section_12_conditions_answers_409_citing_section_12(world):
    c = _preparing(world, kind=ReturnKind.AVR_MIGRANT)
    before = _writes()
    response = _move(_client(world.iom_de_staff), c, "schedule_departure", expected_departure_date=_in_days(5))
    assert response.status_code == 409 and "MOU §12" in response.json()["detail"]
    assert _writes() == before


@pytest.mark.parametrize("stage_moves", [[], ["start_counselling"], ["start_counselling", "start_preparing"]])
def test_transition_withdraw_is_offered_and_works_before_embarkation(world, stage_moves):
    # Letter: the person may change their mind at any time up to the moment of voluntary embarkation.
    c = move(case(world.iom_de, world.iom_de_staff, fit_to_travel=True), world.iom_de_staff, *stage_moves)
    client = _client(world.iom_de_staff)
    assert "withdraw" in {m["name"] for m in _detail(client, c)["allowed_moves"]}
    response = _move(client, c, "withdraw", reason="The person changed their mind")
    assert response.status_code == 200 and response.json()["stage"] == "withdrawn"
    assert ReturnCase.objects.filter(pk=c.pk).exists() and c.members.count() == 1  # nothing deleted


def test_transition_withdraw_from_departure_scheduled_then_refused_after_embarkation(world):
    client = _client(world.iom_de_staff)
    c = scheduled(world.iom_de, world.iom_de_staff)
    assert "withdraw" in {m["name"] for m in _detail(client, c)["allowed_moves"]}
    assert _move(client, c, "withdraw", reason="Changed mind at the airport").status_code == 200
    embarked = scheduled(world.iom_de, world.iom_de_staff)
    response = _move(client, embarked, "confirm_embarkation", emergency_justification="Carrier moved the flight")
    assert response.status_code == 200
    assert "withdraw" not in {m["name"] for m in response.json()["allowed_moves"]}
    before = _writes()
    response = _move(client, embarked, "withdraw", reason="Too late")
    assert response.status_code == 409 and response.json()["code"] == "transition_not_allowed"
    assert "Embarked" in response.json()["detail"]
    assert _writes() == before


def test_transition_embarkation_before_the_unhcr_list_answers_409_unless_emergency_justified(world):
    # Letter: UNHCR receives the names and dates before departure; otherwise an emergency, flagged to HQ.
    c = scheduled(world.iom_de, world.iom_de_staff)
    client = _client(world.iom_de_staff)
    before = _writes()
    response = _move(client, c, "confirm_embarkation")
    assert response.status_code == 409 and "pre-departure list" in response.json()["detail"]
    assert _writes() == before
    response = _move(client, c, "confirm_embarkation", emergency_justification="Medical evacuation flight")
    assert response.status_code == 200
    assert response.json()["emergency_justification"] == "Medical evacuation flight"
    assert response.json()["timeline"][-1]["details"] == {"emergency": True}


@pytest.mark.parametrize(
    ("transition", "body", "field"),
    [
        ("fly_away", {}, "transition"),  # unknown move
        ("", {}, "transition"),
        ("withdraw", {"reason": "   "}, "reason"),  # missing reason
        ("withdraw", {"reason": "x" * 2001}, "reason"),
        ("withdraw", {"reason": "a\x00b"}, "reason"),
        ("schedule_departure", {"expected_departure_date": "2020-01-01"}, "expected_departure_date"),  # past
        ("schedule_departure", {"expected_departure_date": "2030-02-30"}, "expected_departure_date"),  # impossible
        ("schedule_departure", {}, "expected_departure_date"),  # missing
        ("start_counselling", {"closing_reason": "reintegrated"}, "closing_reason"),  # not an input of the move
        ("withdraw", {"reason": "r", "version": 3}, "version"),  # extra field
    ],
)
def test_transition_bad_input_answers_400_naming_the_field_and_writes_nothing(world, transition, body, field):
    c = _preparing(world)
    before = _writes()
    response = _move(_client(world.iom_de_staff), c, transition, **body)
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert response.json()["detail"]
    assert _writes() == before


def test_transition_close_without_a_closing_reason_answers_400(world):
    c = scheduled(world.iom_de, world.iom_de_staff, kind=ReturnKind.AVR_MIGRANT, **SECTION_12)
    c = move(c, world.iom_de_staff, "confirm_embarkation", "confirm_arrival")
    before = _writes()
    response = _move(_client(world.iom_de_staff), c, "close")
    assert response.status_code == 400 and _fields(response) == {"closing_reason"}
    assert _writes() == before


def test_transition_from_the_wrong_stage_answers_409_with_the_reason(world):
    c = case(world.iom_de, world.iom_de_staff)
    before = _writes()
    response = _move(_client(world.iom_de_staff), c, "confirm_arrival")
    assert response.status_code == 409 and "Opened" in response.json()["detail"]
    assert _writes() == before


def test_transition_with_stale_if_match_answers_412_and_without_it_proceeds(world):
    c = case(world.iom_de, world.iom_de_staff)
    client = _client(world.iom_de_staff)
    etag = client.get(f"{URL}{c.pk}/")["ETag"]
    assert _move(_client(world.iom_de_manager), c, "start_counselling").status_code == 200
    before = _writes()
    response = _move(client, c, "withdraw", reason="Changed mind", if_match=etag)
    assert response.status_code == 412 and response.json()["code"] == "stale_version"
    assert _writes() == before
    assert _move(client, c, "withdraw", reason="Changed mind").status_code == 200


def test_transition_by_hq_focal_point_answers_403_and_writes_nothing(world):
    c = case(world.iom_de, world.iom_de_staff)
    before = _writes()
    assert _move(_client(world.iom_hq_focal), c, "withdraw", reason="x").status_code == 403
    assert _move(_client(world.iom_af_staff), c, "withdraw", reason="x").status_code == 404
    assert _writes() == before


def test_no_input_of_the_api_asks_for_a_formal_withdrawal_of_the_asylum_claim(world):
    # Letter: IOM does not require anyone still in the asylum system to sign a formal withdrawal of their claim.
    client = _client(world.iom_de_staff)
    schema = client.get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    names = {
        name
        for component in ("ReturnCaseCreateRequest", "PatchedReturnCaseUpdateRequest", "ReturnCaseTransitionRequest")
        for name in schema[component]["properties"]
    }
    assert names and not [name for name in names if "asylum" in name or "claim" in name]


def _race(requests: list) -> dict[int, int]:
    """Send the requests at the same moment, each on its own thread (its own database connection)."""
    barrier, statuses, errors = threading.Barrier(len(requests)), {}, []

    def send(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            statuses[index] = requests[index]().status_code
        except Exception as exc:  # noqa: BLE001 - reported below, in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return statuses


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_transition_race_on_two_connections_exactly_one_wins_the_other_gets_a_clear_conflict():
    """Two people move the same case at the same moment through the API: the row lock serialises them; the second
    finds the case moved (409) or, sending If-Match, a newer version (412). Nothing is silently overwritten."""
    from tests.factories.jointops import build_world

    world = build_world()
    staff, manager = _client(world.iom_de_staff), _client(world.iom_de_manager)
    c = case(world.iom_de, world.iom_de_staff)
    statuses = _race([lambda: _move(staff, c, "start_counselling"), lambda: _move(manager, c, "start_counselling")])
    assert sorted(statuses.values()) == [200, 409], statuses
    assert CaseTransition.objects.filter(case=c).count() == 1
    c.refresh_from_db()
    statuses = _race(
        [
            lambda: _move(staff, c, "start_preparing", if_match=f'"{c.version}"'),
            lambda: _move(manager, c, "withdraw", reason="The person changed their mind", if_match=f'"{c.version}"'),
        ]
    )
    assert sorted(statuses.values()) == [200, 412], statuses
    winner = "start_preparing" if statuses[0] == 200 else "withdraw"
    assert list(CaseTransition.objects.filter(case=c).values_list("transition", flat=True)) == [
        "start_counselling",
        winner,
    ]
    assert ReturnCase.objects.get(pk=c.pk).version == c.version + 1


# --- Members, measures, visits ------------------------------------------------------------------------


def test_members_add_and_remove_before_embarkation_answer_201_and_204(world):
    c = case(world.iom_de, world.iom_de_staff)
    child = person(world.iom_de, actor=world.iom_de_staff)
    client = _client(world.iom_de_staff)
    response = client.post(f"{URL}{c.pk}/members/", {"person": child.pk}, format="json")
    assert response.status_code == 201, response.content
    assert [m["person"] for m in response.json()["members"]][1] == child.pk and response["ETag"] == '"2"'
    assert client.post(f"{URL}{c.pk}/members/", {"person": child.pk}, format="json").status_code == 409
    assert client.delete(f"{URL}{c.pk}/members/{child.pk}/").status_code == 204
    assert not c.members.filter(beneficiary=child).exists()
    principal = c.members.get(is_principal=True).beneficiary_id
    before = _writes()
    response = client.delete(f"{URL}{c.pk}/members/{principal}/")
    assert response.status_code == 409 and "withdraw" in response.json()["detail"]
    assert client.delete(f"{URL}{c.pk}/members/{child.pk}/").status_code == 404
    assert client.delete(f"{URL}{c.pk}/members/x1/").status_code == 404
    assert _writes() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({"person": 99999999}, "person"), ({"person": None}, "person"), ({}, "person"), ({"person": 1, "x": 2}, "x")],
)
def test_members_add_bad_input_names_the_field_and_writes_nothing(world, body, field):
    c = case(world.iom_de, world.iom_de_staff)
    before = _writes()
    response = _client(world.iom_de_staff).post(f"{URL}{c.pk}/members/", body, format="json")
    assert response.status_code == 400 and field in _fields(response)
    assert _writes() == before


def test_members_add_after_embarkation_answers_409(world):
    c = scheduled(world.iom_de, world.iom_de_staff)
    c = move(c, world.iom_de_staff, "confirm_embarkation", emergency_justification="Flight moved")
    child = person(world.iom_de, actor=world.iom_de_staff)
    before = _writes()
    response = _client(world.iom_de_staff).post(f"{URL}{c.pk}/members/", {"person": child.pk}, format="json")
    assert response.status_code == 409
    assert _writes() == before


def test_measures_record_done_measure_answers_201_and_shows_it_on_the_checklist(world):
    measure = AdditionalMeasure.objects.create(office=world.iom_de, label="UNHCR counselling offered")
    other = AdditionalMeasure.objects.create(office=world.iom_af, label="Kabul's measure")
    c = case(world.iom_de, world.iom_de_staff)
    client = _client(world.iom_de_staff)
    assert _detail(client, c)["additional_measures"] == [
        {"measure": measure.pk, "label": "UNHCR counselling offered", "done_on": None, "note": ""}
    ]
    today = TODAY().isoformat()
    response = client.post(f"{URL}{c.pk}/measures/", {"measure": measure.pk, "done_on": today}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["additional_measures"][0]["done_on"] == today
    before = _writes()
    for body, field in [
        ({"measure": other.pk, "done_on": today}, "measure"),
        ({"measure": measure.pk, "done_on": _in_days(3)}, "done_on"),
        ({"measure": measure.pk, "done_on": "2025-13-01"}, "done_on"),
        ({"measure": 99999999, "done_on": today}, "measure"),
    ]:
        response = client.post(f"{URL}{c.pk}/measures/", body, format="json")
        assert response.status_code == 400 and field in _fields(response), body
    assert _writes() == before


def test_visits_before_arrival_answer_409_after_arrival_are_recorded(world):
    c = scheduled(world.iom_de, world.iom_de_staff, kind=ReturnKind.AVR_MIGRANT, **SECTION_12)
    client = _client(world.iom_de_staff)
    body = {"visited_on": TODAY().isoformat(), "outcome": "Settled with family"}
    before = _writes()
    assert client.post(f"{URL}{c.pk}/visits/", body, format="json").status_code == 409
    assert _writes() == before
    c = move(c, world.iom_de_staff, "confirm_embarkation", "confirm_arrival")
    response = client.post(f"{URL}{c.pk}/visits/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["visits"][0]["outcome"] == "Settled with family"
    before = _writes()
    response = client.post(f"{URL}{c.pk}/visits/", {"visited_on": _in_days(2), "outcome": "x"}, format="json")
    assert response.status_code == 400 and _fields(response) == {"visited_on"}
    response = client.post(f"{URL}{c.pk}/visits/", {"visited_on": TODAY().isoformat(), "outcome": ""}, format="json")
    assert response.status_code == 400 and _fields(response) == {"outcome"}
    assert _writes() == before


# --- Lists, filters, sync -----------------------------------------------------------------------------


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_return_case_list_filters_kind_stage_office_and_departure_range(world):
    a = scheduled(world.iom_de, world.iom_de_staff, days=5)
    b = scheduled(world.iom_de, world.iom_de_staff, days=40)
    c = case(world.iom_de, world.iom_de_staff, kind=ReturnKind.AVR_MIGRANT)
    d = case(world.iom_af, world.iom_af_staff)
    client = _client(world.iom_hq_focal)
    assert _ids(client.get(URL)) == {a.pk, b.pk, c.pk, d.pk}
    assert _ids(client.get(URL, {"kind": "avr_migrant"})) == {c.pk}
    assert _ids(client.get(URL, {"stage": "departure_scheduled"})) == {a.pk, b.pk}
    assert _ids(client.get(URL, {"office": "IOM-AF-KBL"})) == {d.pk}
    assert _ids(client.get(URL, {"departure_from": _in_days(1), "departure_until": _in_days(10)})) == {a.pk}
    assert _ids(client.get(URL, {"departure_from": _in_days(30)})) == {b.pk}


def test_return_case_list_filters_the_lead_office_organisation_and_country(world):
    # The dashboards' filters (issue 7).
    kabul = case(world.iom_af, world.iom_af_staff)
    berlin = case(world.iom_de, world.iom_de_staff)
    repatriation = case(world.unhcr_af, world.unhcr_af_staff, kind=ReturnKind.VOLUNTARY_REPATRIATION)
    client = _client(world.iom_hq_focal)
    assert _ids(client.get(URL)) == {kabul.pk, berlin.pk}  # IOM's cases only
    assert _ids(client.get(URL, {"organisation": "IOM", "office_country": "DE"})) == {berlin.pk}
    assert _ids(client.get(URL, {"organisation": "UNHCR"})) == set()
    client = _client(world.unhcr_hq_focal)
    assert _ids(client.get(URL, {"organisation": "unhcr", "office_country": "AF"})) == {repatriation.pk}
    assert _ids(client.get(URL, {"office_country": "DE"})) == set()


def test_return_case_list_updated_since_returns_only_cases_changed_since(world):
    old, moved = case(world.iom_de, world.iom_de_staff), case(world.iom_de, world.iom_de_staff)
    past = timezone.now() - dt.timedelta(hours=1)
    ReturnCase.objects.filter(pk__in=[old.pk, moved.pk]).update(updated_at=past)
    since = (past + dt.timedelta(minutes=1)).isoformat()
    client = _client(world.iom_de_staff)
    assert _ids(client.get(URL, {"updated_since": since})) == set()
    assert _move(client, moved, "start_counselling").status_code == 200
    assert _ids(client.get(URL, {"updated_since": since})) == {moved.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "nope"}, "kind"),
        ({"stage": "flying"}, "stage"),
        ({"departure_from": "2025-02-30"}, "departure_from"),
        ({"departure_from": "2026-02-01", "departure_until": "2026-01-01"}, "departure_until"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"office": "x\x00"}, "office"),
        ({"organisation": "NOBODY"}, "organisation"),
        ({"organisation": "X" * 33}, "organisation"),
        ({"office_country": "Afghanistan"}, "office_country"),
        ({"page_size": "0"}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_return_case_list_bad_filter_answers_400_naming_it_and_logs_nothing(world, params, field):
    case(world.iom_de, world.iom_de_staff)
    logs = AccessLog.objects.count()
    response = _client(world.iom_de_staff).get(URL, params)
    assert response.status_code == 400 and field in _fields(response)
    assert AccessLog.objects.count() == logs


def test_return_case_list_logs_one_row_with_the_members_of_the_page(world):
    cases = [case(world.iom_de, world.iom_de_staff) for _ in range(3)]
    logs = AccessLog.objects.count()
    response = _client(world.iom_de_staff).get(URL, {"page_size": 2})
    assert len(response.json()["results"]) == 2 and AccessLog.objects.count() == logs + 1
    entry = AccessLog.objects.order_by("-pk").first()
    expected = [str(m.beneficiary_id) for c in reversed(cases[1:]) for m in c.members.all()]
    assert (entry.action, entry.resource, entry.object_ids) == ("list", "beneficiary", expected)


def _count_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == params["page_size"]
    return len(queries)


def test_return_case_list_query_count_does_not_grow_with_page_size(world, django_assert_num_queries):
    for n in range(50):
        c = case(
            world.iom_de, world.iom_de_staff, kind=ReturnKind.AVR_MIGRANT if n % 2 else ReturnKind.AVR_ASYLUM_SEEKER
        )
        if n % 3 == 0:
            services.return_case_add_member(
                actor=world.iom_de_staff, case=c, beneficiary=person(world.iom_de, actor=world.iom_de_staff)
            )
    client = _client(world.iom_de_staff)
    small = _count_queries(client, URL, {"page_size": 10})
    with django_assert_num_queries(small):
        response = client.get(URL, {"page_size": 50})
    assert sum(len(row["members"]) for row in response.json()["results"]) == 67
    # Session read and save (4), user, the second factor's device (issue 8), the principal's grants (2), the page, its
    # members (one prefetch), the log row.
    assert small <= 11


# --- Repatriation operations (MOU §31) ----------------------------------------------------------------

OPS = "/api/v1/repatriation-operations/"


def _operation_body(**overrides) -> dict:
    body = {
        "office": "UNHCR-AF-KBL",
        "title": "Return to Herat",
        "kind": "organised",
        "country_of_origin": "AF",
        "host_countries": ["ir", "PK"],
        "expected_number": 5000,
        "expected_start": "2027-03-01",
        "expected_end": "2027-09-30",
    }
    body.update(overrides)
    return body


def test_operation_create_by_unhcr_then_read_by_iom_and_partner(world):
    response = _client(world.unhcr_af_staff).post(OPS, _operation_body(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["office"], data["host_countries"], data["status"], response["ETag"]) == (
        "UNHCR-AF-KBL",
        ["IR", "PK"],
        "planning",
        '"1"',
    )
    assert _client(world.iom_de_staff).get(f"{OPS}{data['id']}/").json()["title"] == "Return to Herat"
    _row, token = jointops_services.api_client_create(
        actor=world.iom_admin, name="P", office=world.iom_af, scopes=["operations:read"]
    )
    assert _ids(_client(token=token).get(OPS)) == {data["id"]}


@pytest.mark.parametrize(
    ("overrides", "field", "user"),
    [
        ({"office": "IOM-AF-KBL"}, "office", "iom_af_staff"),  # MOU §31: recorded by UNHCR
        ({"expected_end": "2027-01-01"}, "expected_end", "unhcr_af_staff"),
        ({"host_countries": ["XX"]}, "host_countries.0", "unhcr_af_staff"),
        ({"expected_number": -1}, "expected_number", "unhcr_af_staff"),
        ({"expected_number": 2**40}, "expected_number", "unhcr_af_staff"),
        ({"kind": "forced"}, "kind", "unhcr_af_staff"),
        ({"title": ""}, "title", "unhcr_af_staff"),
        ({"expected_start": "2027-02-29"}, "expected_start", "unhcr_af_staff"),
        ({"version": 2}, "version", "unhcr_af_staff"),
    ],
)
def test_operation_create_bad_input_names_the_field_and_writes_nothing(world, overrides, field, user):
    before = _writes()
    response = _client(getattr(world, user)).post(OPS, _operation_body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert _writes() == before


def test_operation_patch_needs_if_match_and_refuses_stale(world):
    op = services.operation_create(
        actor=world.unhcr_af_staff, office=world.unhcr_af, title="T", kind="organised", country_of_origin="AF"
    )
    client = _client(world.unhcr_af_manager)
    before = _writes()
    assert client.patch(f"{OPS}{op.pk}/", {"status": "ongoing"}, format="json").status_code == 428
    assert _writes() == before
    response = client.patch(f"{OPS}{op.pk}/", {"status": "ongoing"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200 and response["ETag"] == '"2"' and response.json()["status"] == "ongoing"
    before = _writes()
    response = client.patch(f"{OPS}{op.pk}/", {"status": "cancelled"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 412
    assert _writes() == before
    # IOM reads it but does not change it; nor deletes it.
    assert _client(world.iom_af_staff).patch(f"{OPS}{op.pk}/", {"title": "X"}, HTTP_IF_MATCH='"2"').status_code == 403
    assert client.delete(f"{OPS}{op.pk}/").status_code == 405
    assert _writes() == before


def test_operation_list_updated_since_and_kind_return_only_matching(world):
    a = services.operation_create(
        actor=world.unhcr_af_staff, office=world.unhcr_af, title="A", kind="organised", country_of_origin="AF"
    )
    b = services.operation_create(
        actor=world.unhcr_af_staff, office=world.unhcr_af, title="B", kind="spontaneous", country_of_origin="AF"
    )
    past = timezone.now() - dt.timedelta(hours=1)
    RepatriationOperation.objects.filter(pk=a.pk).update(updated_at=past - dt.timedelta(hours=1))
    client = _client(world.iom_af_staff)
    assert _ids(client.get(OPS, {"updated_since": past.isoformat()})) == {b.pk}
    assert _ids(client.get(OPS, {"kind": "organised"})) == {a.pk}
    assert _fields(client.get(OPS, {"status": "nope"})) == {"status"}


# --- Return agreements (Letter) -----------------------------------------------------------------------

AGREEMENTS = "/api/v1/return-agreements/"


def _agreement_body(**overrides) -> dict:
    body = {
        "office": "IOM-DE-BER",
        "kind": "quadripartite",
        "title": "Afghans from Germany",
        "country_of_origin": "AF",
        "host_country": "DE",
        "parties": ["UNHCR", "iom", "GOV-AF", "GOV-DE"],
        "valid_from": "2026-01-01",
        "review_date": "2026-12-31",
    }
    body.update(overrides)
    return body


@pytest.fixture
def governments(world):
    return OrganisationFactory(code="GOV-AF"), OrganisationFactory(code="GOV-DE")


def test_agreement_create_with_parties_by_code_and_patch_with_if_match(world, governments):
    client = _client(world.iom_de_manager)
    response = client.post(AGREEMENTS, _agreement_body(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert sorted(data["parties"]) == ["GOV-AF", "GOV-DE", "IOM", "UNHCR"] and response["ETag"] == '"1"'
    url = f"{AGREEMENTS}{data['id']}/"
    assert client.patch(url, {"review_date": "2027-01-31"}, format="json").status_code == 428
    response = client.patch(url, {"review_date": "2027-01-31"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200 and response.json()["review_date"] == "2027-01-31"
    before = _writes()
    assert client.patch(url, {"title": "Stale"}, format="json", HTTP_IF_MATCH='"1"').status_code == 412
    # Tripartite: three parties only (the service's rule, answered with the field).
    response = client.patch(url, {"kind": "tripartite"}, format="json", HTTP_IF_MATCH='"2"')
    assert response.status_code == 400 and _fields(response) == {"parties"}
    assert _writes() == before
    assert _client(world.unhcr_af_staff).get(url).status_code == 200  # every member of staff reads agreements


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"parties": ["UNHCR", "IOM", "GOV-AF", "NOPE"]}, "parties.3"),
        ({"parties": ["UNHCR", "IOM", "GOV-AF"]}, "parties"),  # quadripartite: four
        ({"parties": []}, "parties"),
        ({"parties": [7]}, "parties.0"),
        ({"valid_until": "2025-01-01"}, "valid_until"),
        ({"host_country": "AF"}, "host_country"),
        ({"valid_from": "2026-02-30"}, "valid_from"),
        ({"office": "IOM-XX-NOPE"}, "office"),
        ({"notes": "x" * 4001}, "notes"),
    ],
)
def test_agreement_create_bad_input_names_the_field_and_writes_nothing(world, governments, overrides, field):
    before = _writes()
    response = _client(world.iom_de_manager).post(AGREEMENTS, _agreement_body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert _writes() == before


def test_agreement_create_by_field_staff_answers_403(world, governments):
    before = _writes()
    assert _client(world.iom_de_staff).post(AGREEMENTS, _agreement_body(), format="json").status_code == 403
    assert _writes() == before


def test_operation_and_agreement_list_query_counts_do_not_grow_with_page_size(
    world, governments, django_assert_num_queries
):
    for n in range(50):
        services.operation_create(
            actor=world.unhcr_af_staff, office=world.unhcr_af, title=f"Op {n}", kind="organised", country_of_origin="AF"
        )
        services.agreement_create(
            actor=world.iom_de_manager,
            office=world.iom_de,
            parties=[world.unhcr, world.iom, *governments],
            kind="quadripartite",
            title=f"Agreement {n}",
            country_of_origin="AF",
            host_country="DE",
            valid_from=dt.date(2026, 1, 1),
        )
    client = _client(world.iom_af_staff)
    for url in (OPS, AGREEMENTS):
        small = _count_queries(client, url, {"page_size": 10})
        with django_assert_num_queries(small):
            response = client.get(url, {"page_size": 50})
        assert len(response.json()["results"]) == 50
        # session read and save (4), user, the second factor's device (issue 8), grants (2), the page, the parties
        assert small <= 10
