"""The consultations API (MOU §22, §25, §28, §29): recording a consultation between both agencies, linked to a case
or operation the caller may see; visibility to the offices that took part; filters, `updated_since`, bad input and
list query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from jointops import services
from jointops.models import Consultation
from returns import services as return_services
from tests.factories.returns import case

URL = "/api/v1/consultations/"
ERROR_KEYS = {"detail", "code", "errors"}


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
    return (
        list(Consultation.objects.order_by("pk").values_list("pk", "subject", "linked_type_id", "linked_id")),
        Consultation.offices.through.objects.count(),
        Consultation.history.count(),
    )


def _body(**overrides) -> dict:
    body = {
        "held_on": timezone.localdate().isoformat(),
        "recorded_by_office": "IOM-DE-BER",
        "offices": ["unhcr-de-ber"],
        "participants": "A. Schmidt, IOM programme officer\nB. Nour, UNHCR protection officer",
        "subject_kind": "rejected_asylum_seekers",
        "subject": "Return of rejected asylum-seekers to Afghanistan",
        "outcome": "UNHCR receives the pre-departure lists weekly.",
    }
    body.update(overrides)
    return body


def _record(world, *, office, others, linked=None, subject="Meeting"):
    return services.consultation_record(
        actor=None,
        recorded_by_office=office,
        offices=others,
        held_on=timezone.localdate(),
        participants="X",
        subject_kind="other",
        subject=subject,
        linked=linked,
    )


def test_consultation_create_linked_to_a_visible_case_answers_201_readable_by_participants_only(world):
    c = case(world.iom_de, world.iom_de_staff)
    response = _client(world.iom_de_manager).post(URL, _body(linked_type="return_case", linked_id=c.pk), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["recorded_by_office"] == "IOM-DE-BER" and sorted(data["offices"]) == ["IOM-DE-BER", "UNHCR-DE-BER"]
    assert data["linked"] == {"type": "return_case", "id": c.pk}
    consultation = Consultation.objects.get(pk=data["id"])
    assert consultation.linked == c and consultation.created_by == world.iom_de_manager
    # The UNHCR office that took part reads it; another office does not.
    assert _client(world.unhcr_de_staff).get(f"{URL}{data['id']}/").json()["subject"] == _body()["subject"]
    assert _client(world.unhcr_af_staff).get(f"{URL}{data['id']}/").status_code == 404


def test_consultation_create_linked_to_an_operation_answers_201_with_the_link(world):
    op = return_services.operation_create(
        actor=world.unhcr_af_staff, office=world.unhcr_af, title="Herat", kind="organised", country_of_origin="AF"
    )
    body = _body(
        recorded_by_office="UNHCR-AF-KBL",
        offices=["IOM-AF-KBL"],
        subject_kind="contingency_planning",
        linked_type="repatriation_operation",
        linked_id=op.pk,
    )
    response = _client(world.unhcr_af_staff).post(URL, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["linked"] == {"type": "repatriation_operation", "id": op.pk}


def test_consultation_linked_to_a_case_the_caller_cannot_see_answers_400_and_writes_nothing(world):
    hidden = case(world.iom_af, world.iom_af_staff)  # Kabul's case: Berlin's staff may not see it
    before = _writes()
    response = _client(world.iom_de_manager).post(
        URL, _body(linked_type="return_case", linked_id=hidden.pk), format="json"
    )
    assert response.status_code == 400 and _fields(response) == {"linked_id"}
    assert hidden.reference not in response.content.decode()
    assert _writes() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"offices": ["IOM-AF-KBL"]}, "offices"),  # both agencies take part
        ({"offices": []}, "offices"),
        ({"offices": ["NOPE-XX-YYY"]}, "offices.0"),
        ({"offices": "UNHCR-DE-BER"}, "offices"),
        ({"recorded_by_office": "nope!"}, "recorded_by_office"),
        ({"held_on": "2025-02-30"}, "held_on"),
        ({"held_on": "2999-01-01"}, "held_on"),
        ({"subject_kind": "gossip"}, "subject_kind"),
        ({"office_country": "XX"}, "office_country"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "a\x00b"}, "subject"),
        ({"participants": ""}, "participants"),
        ({"outcome": "x" * 4001}, "outcome"),
        ({"linked_type": "return_case"}, "linked_id"),
        ({"linked_id": 1}, "linked_type"),
        ({"linked_type": "lou", "linked_id": 1}, "linked_type"),
        ({"linked_type": "return_case", "linked_id": 99999999}, "linked_id"),
        ({"linked_type": "return_case", "linked_id": 2**70}, "linked_id"),
        ({"linked_type": "return_case", "linked_id": "one"}, "linked_id"),
        ({"created_by": 1}, "created_by"),
    ],
)
def test_consultation_create_bad_input_names_the_field_and_writes_nothing(world, overrides, field):
    before = _writes()
    response = _client(world.iom_de_manager).post(URL, _body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert _writes() == before


def test_consultation_create_at_an_office_not_covered_answers_403(world):
    before = _writes()
    response = _client(world.iom_af_staff).post(URL, _body(), format="json")
    assert response.status_code == 403
    assert _client(world.iom_admin).post(URL, _body(), format="json").status_code == 403
    assert _writes() == before


def test_consultation_change_or_delete_answers_405_and_writes_nothing(world):
    consultation = _record(world, office=world.iom_de, others=[world.unhcr_de])
    client = _client(world.iom_de_manager)
    before = _writes()
    assert client.patch(f"{URL}{consultation.pk}/", {"subject": "X"}, format="json").status_code == 405
    assert client.delete(f"{URL}{consultation.pk}/").status_code == 405
    assert _writes() == before


def test_consultation_partner_without_the_scope_answers_403(world):
    consultation = _record(world, office=world.iom_de, others=[world.unhcr_de])
    _row, reader = services.api_client_create(
        actor=world.iom_admin, name="R", office=world.iom_de, scopes=["consultations:read"]
    )
    _row, other = services.api_client_create(
        actor=world.iom_admin, name="O", office=world.iom_de, scopes=["return-cases:read"]
    )
    assert _client(token=reader).get(f"{URL}{consultation.pk}/").status_code == 200
    assert _client(token=other).get(f"{URL}{consultation.pk}/").status_code == 403
    before = _writes()
    assert _client(token=reader).post(URL, _body(), format="json").status_code == 403
    assert _writes() == before


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_consultation_list_filters_and_updated_since_return_only_matching(world):
    c = case(world.iom_de, world.iom_de_staff)
    linked = _record(world, office=world.iom_de, others=[world.unhcr_de], linked=c)
    plain = _record(world, office=world.iom_de, others=[world.unhcr_de])
    kabul = _record(world, office=world.unhcr_af, others=[world.iom_af])
    hq = _client(world.iom_hq_focal)
    assert _ids(hq.get(URL)) == {linked.pk, plain.pk, kabul.pk}
    assert _ids(_client(world.unhcr_de_staff).get(URL)) == {linked.pk, plain.pk}
    assert _ids(hq.get(URL, {"office": "IOM-AF-KBL"})) == {kabul.pk}
    assert _ids(hq.get(URL, {"office_country": "DE"})) == {linked.pk, plain.pk}  # the dashboards' country
    assert _ids(hq.get(URL, {"case": c.pk})) == {linked.pk}
    assert _ids(hq.get(URL, {"operation": c.pk})) == set()
    past = timezone.now() - dt.timedelta(hours=1)
    Consultation.objects.exclude(pk=plain.pk).update(updated_at=past - dt.timedelta(hours=1))
    assert _ids(hq.get(URL, {"updated_since": past.isoformat()})) == {plain.pk}
    for params, field in [
        ({"updated_since": "soon"}, "updated_since"),
        ({"subject_kind": "gossip"}, "subject_kind"),
        ({"held_from": "2025-02-30"}, "held_from"),
        ({"case": "99999999999999999999999"}, "case"),
        ({"case": "x"}, "case"),
    ]:
        response = hq.get(URL, params)
        assert response.status_code == 400 and field in _fields(response), params


def test_consultation_list_query_count_does_not_grow_with_page_size(world, django_assert_num_queries):
    c = case(world.iom_de, world.iom_de_staff)
    for n in range(50):
        _record(world, office=world.iom_de, others=[world.unhcr_de], linked=c if n % 2 else None, subject=f"M{n}")
    client = _client(world.iom_de_staff)

    def count(page_size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        return len(queries)

    small = count(10)
    with django_assert_num_queries(small):
        response = client.get(URL, {"page_size": 50})
    assert sum(1 for row in response.json()["results"] if row["linked"]) == 25
    # session read and save (4), user, the second factor's device (issue 8), grants (2), the page, its offices (one
    # prefetch)
    assert small <= 10
