"""The people API: registering, editing with ETag/If-Match, filters, the access log, what each caller may read,
households, reference data, duplicates, bad input, query counts and a real two-connection race on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from beneficiaries import services
from beneficiaries.models import (
    Beneficiary,
    BeneficiaryCategory,
    BeneficiaryShare,
    CategoryChange,
    Household,
    IdentityDocument,
    Mandate,
)
from jointops import access
from jointops import services as jointops_services
from jointops.models import AccessLog
from tests.factories.beneficiaries import person

ERROR_KEYS = {"detail", "code", "errors"}
URL = "/api/v1/beneficiaries/"


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


def _partner(world, *scopes, office=None):
    _client_row, token = jointops_services.api_client_create(
        actor=world.iom_admin, name="Partner", office=office or world.iom_af, scopes=list(scopes)
    )
    return _client_row, token


def _people_state() -> list:
    return list(
        Beneficiary.objects.order_by("pk").values_list(
            "pk", "version", "given_name", "family_name", "phone", "category_id", "household_id", "merged_into_id"
        )
    )


def _writes() -> tuple:
    """Everything a write to people could touch (rows and audit)."""
    return (
        _people_state(),
        CategoryChange.objects.count(),
        IdentityDocument.objects.count(),
        BeneficiaryShare.objects.count(),
        Household.objects.count(),
        Beneficiary.history.count(),
    )


def _valid_create(**overrides) -> dict:
    body = {
        "office": "IOM-AF-KBL",
        "category": "asylum_seeker",
        "category_since": "2024-03-01",
        "given_name": "Mohammad",
        "family_name": "Ahmadi",
        "sex": "male",
        "date_of_birth": "1990-05-01",
        "nationality": "af",
        "country_of_residence": "DE",
        "phone": "+93 700 000 000",
        "specific_needs": ["single_parent"],
    }
    body.update(overrides)
    return body


def _full_put_body(**overrides) -> dict:
    body = {
        "given_name": "Fatima",
        "family_name": "Karimi",
        "other_names": "Fatemeh Karimi",
        "sex": "female",
        "date_of_birth": "1985-02-03",
        "date_of_birth_estimated": False,
        "nationality": "AF",
        "country_of_residence": "AF",
        "of_concern_to_unhcr": True,
        "unhcr_registration_number": "AFG-22",
        "iom_case_number": "IOM-9",
        "government_id": "G-1",
        "phone": "+93 1",
        "email": "fatima@example.org",
        "address": "Kabul",
        "preferred_language": "prs",
        "specific_needs": [],
        "sharing_basis": "consent",
        "consent_date": "2025-01-05",
        "consent_scope": "Return counselling",
        "sharing_basis_note": "",
    }
    body.update(overrides)
    return body


# --- Create -------------------------------------------------------------------------------------------


def test_beneficiary_create_valid_input_registers_with_category_history_and_etag(world):
    response = _client(world.iom_af_staff).post(URL, _valid_create())
    assert response.status_code == 201, response.content
    body = response.json()
    created = Beneficiary.objects.get()
    assert body["id"] == created.pk and body["office"] == "IOM-AF-KBL" and body["category"] == "asylum_seeker"
    assert response["ETag"] == '"1"'
    assert response["Location"].endswith(f"{URL}{created.pk}/")
    assert (created.office, created.organisation, created.nationality.code) == (world.iom_af, world.iom, "AF")
    assert created.specific_needs == ["single_parent"]
    assert [(c["category"], c["effective_date"]) for c in body["category_history"]] == [("asylum_seeker", "2024-03-01")]
    assert created.history.first().history_user == world.iom_af_staff  # audited by the service


def test_beneficiary_create_by_partner_records_the_client_in_history(world):
    client_row, token = _partner(world, "beneficiaries:write")
    response = _client(token=token).post(URL, _valid_create())
    assert response.status_code == 201, response.content
    assert Beneficiary.objects.get().history.first().history_api_client == client_row


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"given_name": "a\x00b"}, "given_name"),
        ({"given_name": "x" * 101}, "given_name"),
        ({"address": "x" * 501}, "address"),
        ({"given_name": ""}, "given_name"),
        ({"family_name": None}, "family_name"),
        ({"date_of_birth": "2023-02-30"}, "date_of_birth"),
        ({"date_of_birth": "1990-13-01"}, "date_of_birth"),
        ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
        ({"date_of_birth": "1800-01-01"}, "date_of_birth"),
        ({"category": "wizard"}, "category"),
        ({"category": ["asylum_seeker"]}, "category"),
        ({"office": "NOPE-XX"}, "office"),
        ({"office": "not a code!"}, "office"),
        ({"specific_needs": ["flying"]}, "specific_needs"),
        ({"specific_needs": "single_parent"}, "specific_needs"),
        ({"nationality": "XX"}, "nationality"),
        ({"sex": "dragon"}, "sex"),
        ({"email": "not-an-email"}, "email"),
        ({"sharing_basis": "consent"}, "consent_date"),
        ({"consent_date": "2025-02-29"}, "consent_date"),
        ({"colour": "blue"}, "colour"),
        ({"version": 7}, "version"),
        ({"merged_into": 1}, "merged_into"),
        ({"category_since": "yesterday"}, "category_since"),
    ],
)
def test_beneficiary_create_bad_input_names_the_field_and_writes_nothing(world, overrides, field):
    before = _writes()
    response = _client(world.iom_af_staff).post(URL, _valid_create(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert _writes() == before


def test_beneficiary_create_missing_required_fields_names_each(world):
    response = _client(world.iom_af_staff).post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"office", "category", "given_name", "family_name"} <= _fields(response)
    assert not Beneficiary.objects.exists()


def test_beneficiary_create_at_an_office_not_covered_is_refused_and_writes_nothing(world):
    response = _client(world.iom_af_staff).post(URL, _valid_create(office="IOM-DE-BER"))
    assert response.status_code == 403, response.content
    assert not Beneficiary.objects.exists()


# --- Read: detail, ETag, access log -------------------------------------------------------------------


def test_beneficiary_retrieve_answers_etag_nested_details_and_logs_the_read(world):
    p = person(world.iom_af, actor=world.iom_af_staff, phone="+93 5")
    services.document_add(actor=world.iom_af_staff, beneficiary=p, document_type="passport", number="P-1")
    household = services.household_create(actor=world.iom_af_staff, head=p)
    response = _client(world.iom_af_staff).get(f"{URL}{p.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert response["ETag"] == f'"{Beneficiary.objects.get(pk=p.pk).version}"'
    assert body["version"] == Beneficiary.objects.get(pk=p.pk).version
    assert [d["number"] for d in body["documents"]] == ["P-1"]
    assert body["household_summary"]["reference"] == household.reference
    assert [m["id"] for m in body["household_summary"]["members"]] == [p.pk]
    entry = AccessLog.objects.get()
    assert (entry.user, entry.action, entry.resource, entry.object_ids) == (
        world.iom_af_staff,
        "view",
        "beneficiary",
        [str(p.pk)],
    )


def test_beneficiary_list_logs_one_row_with_the_ids_of_the_page(world):
    people = [person(world.iom_af, actor=world.iom_af_staff) for _ in range(3)]
    person(world.iom_de, actor=world.iom_de_staff)  # another office: not listed, not logged
    response = _client(world.iom_af_staff).get(URL, {"page_size": 2})
    assert response.status_code == 200
    listed = [item["id"] for item in response.json()["results"]]
    assert listed == [people[2].pk, people[1].pk]
    entry = AccessLog.objects.get()
    assert (entry.action, entry.resource, entry.object_ids, entry.record_count) == (
        "list",
        "beneficiary",
        [str(pk) for pk in listed],
        2,
    )
    assert "?" not in entry.path  # the search terms are personal data: never in the log


def test_beneficiary_delete_answers_405_and_keeps_the_record(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    response = _client(world.iom_af_staff).delete(f"{URL}{p.pk}/")
    assert response.status_code == 405
    assert Beneficiary.objects.filter(pk=p.pk).exists()


# --- Optimistic concurrency ---------------------------------------------------------------------------


def test_beneficiary_patch_with_current_if_match_changes_and_answers_new_etag(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    client = _client(world.iom_af_staff)
    etag = client.get(f"{URL}{p.pk}/")["ETag"]
    response = client.patch(f"{URL}{p.pk}/", {"phone": "+93 1"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"' and response.json()["phone"] == "+93 1"
    p.refresh_from_db()
    assert (p.phone, p.version) == ("+93 1", 2)
    assert p.history.first().history_user == world.iom_af_staff


def test_beneficiary_patch_without_if_match_answers_428_and_writes_nothing(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    before = _writes()
    response = _client(world.iom_af_staff).patch(f"{URL}{p.pk}/", {"phone": "+93 1"})
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    assert "If-Match" in response.json()["detail"]
    assert _fields(response) == {"If-Match"}
    assert _writes() == before


@pytest.mark.parametrize("if_match", ["*", "   "])
def test_beneficiary_patch_with_wildcard_or_blank_if_match_answers_428(world, if_match):
    p = person(world.iom_af, actor=world.iom_af_staff)
    before = _writes()
    response = _client(world.iom_af_staff).patch(f"{URL}{p.pk}/", {"phone": "1"}, HTTP_IF_MATCH=if_match)
    assert response.status_code == 428
    assert _writes() == before


@pytest.mark.parametrize("if_match", ['W/"1"', '"one"', '"1', "99999999999", '"1", "2"'])
def test_beneficiary_patch_with_malformed_if_match_answers_400_naming_it(world, if_match):
    p = person(world.iom_af, actor=world.iom_af_staff)
    before = _writes()
    response = _client(world.iom_af_staff).patch(f"{URL}{p.pk}/", {"phone": "1"}, HTTP_IF_MATCH=if_match)
    assert response.status_code == 400
    assert _fields(response) == {"If-Match"}
    assert _writes() == before


def test_beneficiary_patch_with_stale_if_match_answers_412_and_keeps_the_first_change(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    first, second = _client(world.iom_af_staff), _client(world.iom_af_manager)
    etag = first.get(f"{URL}{p.pk}/")["ETag"]
    assert second.get(f"{URL}{p.pk}/")["ETag"] == etag
    assert first.patch(f"{URL}{p.pk}/", {"phone": "+93 1"}, HTTP_IF_MATCH=etag).status_code == 200
    before = _writes()
    response = second.patch(f"{URL}{p.pk}/", {"phone": "+93 2"}, HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    assert response.json()["code"] == "stale_version"
    assert _writes() == before
    p.refresh_from_db()
    assert (p.phone, p.version) == ("+93 1", 2)


def test_beneficiary_put_replaces_every_editable_field(world):
    p = person(world.iom_af, actor=world.iom_af_staff, phone="+93 5", address="Old address")
    response = _client(world.iom_af_staff).put(f"{URL}{p.pk}/", _full_put_body(address=""), HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    p.refresh_from_db()
    assert (p.given_name, p.phone, p.address, p.email, p.version) == ("Fatima", "+93 1", "", "fatima@example.org", 2)
    assert p.sharing_basis == "consent" and p.consent_date == dt.date(2025, 1, 5)


def test_beneficiary_put_missing_fields_names_each_and_writes_nothing(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    before = _writes()
    body = _full_put_body()
    del body["phone"], body["specific_needs"]
    response = _client(world.iom_af_staff).put(f"{URL}{p.pk}/", body, HTTP_IF_MATCH='"1"')
    assert response.status_code == 400
    assert _fields(response) == {"phone", "specific_needs"}
    assert _writes() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"given_name": "nul\x00"}, "given_name"),
        ({"family_name": "y" * 101}, "family_name"),
        ({"date_of_birth": "2001-02-29"}, "date_of_birth"),
        ({"consent_date": "2999-01-01"}, "consent_date"),
        ({"specific_needs": ["disability", "telepathy"]}, "specific_needs"),
        ({"office": "IOM-DE-BER"}, "office"),  # not editable here
        ({"category": "refugee"}, "category"),  # changed through category-changes, with a date
        ({"version": 99}, "version"),
        ({"id": 1}, "id"),
        ({"nationality": "ZZ"}, "nationality"),
    ],
)
def test_beneficiary_patch_bad_input_names_the_field_and_writes_nothing(world, changes, field):
    p = person(world.iom_af, actor=world.iom_af_staff)
    before = _writes()
    response = _client(world.iom_af_staff).patch(f"{URL}{p.pk}/", changes, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert _writes() == before


@pytest.mark.needs_postgres
@pytest.mark.django_db(transaction=True)
def test_beneficiary_patch_race_on_two_connections_exactly_one_wins_nothing_lost():
    """Two requests on two database connections send the same If-Match at the same moment: the row lock and the
    version check let exactly one through; the other answers 412 and nothing it sent is stored."""
    from tests.factories.jointops import build_world

    world = build_world()
    p = person(world.iom_af, actor=world.iom_af_staff)
    history_before = p.history.count()
    clients = [_client(world.iom_af_staff), _client(world.iom_af_manager)]
    barrier, statuses, errors = threading.Barrier(2), {}, []

    def edit(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            response = clients[index].patch(f"{URL}{p.pk}/", {"phone": f"+93 {index}"}, HTTP_IF_MATCH='"1"')
            statuses[index] = response.status_code
        except Exception as exc:  # noqa: BLE001 - reported below, in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(statuses.values()) == [200, 412], statuses
    winner = next(i for i, code in statuses.items() if code == 200)
    p.refresh_from_db()
    assert (p.phone, p.version) == (f"+93 {winner}", 2)
    assert p.history.count() == history_before + 1


# --- Filters ------------------------------------------------------------------------------------------


def _listed(client, **params) -> list[int]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_beneficiary_list_filters_category_nationality_office_flag_and_search(world):
    mohammad = person(
        world.iom_af,
        actor=world.iom_af_staff,
        given_name="Mohammad",
        family_name="Ahmadi",
        unhcr_registration_number="AFG-777",
        of_concern_to_unhcr=True,
    )
    refugee = person(world.iom_af, actor=world.iom_af_staff, category_code="refugee", nationality="SY")
    field = person(world.iom_af_field, actor=world.iom_field_staff)
    client = _client(world.iom_af_staff)
    assert set(_listed(client)) == {mohammad.pk, refugee.pk, field.pk}
    assert _listed(client, category="refugee") == [refugee.pk]
    assert _listed(client, nationality="SY") == [refugee.pk]
    assert _listed(client, office="IOM-AF-HRT") == [field.pk]
    assert _listed(client, of_concern_to_unhcr="true") == [mohammad.pk]
    assert _listed(client, q="Muhammad") == [mohammad.pk]  # another spelling
    assert _listed(client, q="AFG-777") == [mohammad.pk]  # a reference number


def test_beneficiary_list_filters_residence_and_the_registering_office_organisation_and_country(world):
    """The dashboards' filters (issue 7): a record shared by the other agency belongs to the office that registered
    it, in that office's organisation and country."""
    kabul = person(world.iom_af, actor=world.iom_af_staff, country_of_residence="PK")
    berlin = person(world.iom_de, actor=world.iom_de_staff, country_of_residence="DE")
    shared = person(
        world.unhcr_af, actor=world.unhcr_af_staff, sharing_basis="consent", consent_date=dt.date(2025, 1, 10)
    )
    services.beneficiary_share(actor=world.unhcr_af_staff, beneficiary=shared, office=world.iom_af)
    client = _client(world.iom_hq_focal)
    assert set(_listed(client)) == {kabul.pk, berlin.pk, shared.pk}
    assert set(_listed(client, organisation="IOM")) == set(_listed(client, organisation="iom")) == {kabul.pk, berlin.pk}
    assert _listed(client, organisation="UNHCR") == [shared.pk]
    assert set(_listed(client, office_country="AF")) == {kabul.pk, shared.pk}
    assert _listed(client, organisation="IOM", office_country="AF") == [kabul.pk]
    assert _listed(client, country_of_residence="PK") == [kabul.pk]
    assert _listed(client, office_country="SY") == []


def test_beneficiary_list_updated_since_returns_only_rows_changed_since(world):
    old, recent = person(world.iom_af, actor=world.iom_af_staff), person(world.iom_af, actor=world.iom_af_staff)
    long_ago = timezone.now() - dt.timedelta(days=10)
    Beneficiary.objects.filter(pk__in=[old.pk, recent.pk]).update(updated_at=long_ago)  # time passes
    since = timezone.now() - dt.timedelta(days=1)
    client = _client(world.iom_af_staff)
    assert _listed(client, updated_since=since.isoformat()) == []
    etag = client.get(f"{URL}{recent.pk}/")["ETag"]
    assert client.patch(f"{URL}{recent.pk}/", {"phone": "+93 9"}, HTTP_IF_MATCH=etag).status_code == 200
    assert _listed(client, updated_since=since.isoformat()) == [recent.pk]
    assert set(_listed(client, updated_since=(long_ago - dt.timedelta(seconds=1)).isoformat())) == {old.pk, recent.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "wizard"}, "category"),
        ({"updated_since": "last tuesday"}, "updated_since"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"page_size": "many"}, "page_size"),
        ({"nationality": "XX"}, "nationality"),
        ({"country_of_residence": "Germany"}, "country_of_residence"),
        ({"organisation": "WHO"}, "organisation"),
        ({"organisation": "I\x00M"}, "organisation"),
        ({"office_country": "XX"}, "office_country"),
    ],
)
def test_beneficiary_list_bad_filter_answers_400_naming_it_and_logs_nothing(world, params, field):
    person(world.iom_af, actor=world.iom_af_staff)
    response = _client(world.iom_af_staff).get(URL, params)
    assert response.status_code == 400
    assert field in _fields(response)
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("segment", ["1%00", "1%01"])
def test_beneficiary_retrieve_control_character_in_id_answers_400_naming_id(world, segment):
    p = person(world.iom_af, actor=world.iom_af_staff)
    response = _client(world.iom_af_staff).get(f"{URL}{p.pk}{segment}/")
    assert response.status_code == 400
    assert _fields(response) == {"id"}
    assert not AccessLog.objects.exists()


# --- What each caller may read ------------------------------------------------------------------------


def test_hq_focal_point_bodies_have_no_contact_details(world):
    p = person(world.iom_af, actor=world.iom_af_staff, phone="+93 123", email="p@example.org", address="Street 1")
    client = _client(world.iom_hq_focal)
    listed = client.get(URL).json()["results"]
    detail = client.get(f"{URL}{p.pk}/").json()
    for body in (listed[0], detail):
        assert body["id"] == p.pk and body["given_name"] == p.given_name
        assert not {"phone", "email", "address"} & set(body)
    content = client.get(f"{URL}{p.pk}/").content + client.get(URL).content
    for secret in (b"+93 123", b"p@example.org", b"Street 1"):
        assert secret not in content
    # Field staff of the record's own office read them.
    assert _client(world.iom_af_staff).get(f"{URL}{p.pk}/").json()["phone"] == "+93 123"


CANARIES = {
    "other_fields": {
        "country_of_residence": "ZW",
        "government_id": "CANARY-GOVID",
        "phone": "CANARY-PHONE",
        "email": "canary-email@example.org",
        "address": "CANARY-ADDRESS",
        "preferred_language": "CANARY-LANG",
        "specific_needs": ["woman_at_risk"],
        "sharing_basis": "consent",
        "consent_date": dt.date(2024, 7, 19),
        "consent_scope": "CANARY-SCOPE",
        "sharing_basis_note": "CANARY-NOTE",
    },
    "document_number": "CANARY-DOCUMENT",
    "category_reason": "CANARY-REASON",
    "household_notes": "CANARY-HOUSEHOLD",
}
CANARY_STRINGS = [
    b"CANARY",
    b"canary-email",
    b"woman_at_risk",
    b"consent",
    b"2024-07-19",
]


def shared_record_with_canaries(world) -> Beneficiary:
    """An IOM-AF-KBL record holding a canary in every field outside the shared allow-list, shared with
    UNHCR-AF-KBL."""
    p = person(
        world.iom_af, actor=world.iom_af_staff, given_name="Amina", family_name="Noori", **CANARIES["other_fields"]
    )
    services.document_add(
        actor=world.iom_af_staff, beneficiary=p, document_type="passport", number=CANARIES["document_number"]
    )
    services.beneficiary_change_category(
        actor=world.iom_af_staff,
        beneficiary=p,
        category=BeneficiaryCategory.objects.get(code="returnee"),
        effective_date=dt.date(2024, 8, 1),
        reason=CANARIES["category_reason"],
    )
    services.household_create(actor=world.iom_af_staff, head=p, notes=CANARIES["household_notes"])
    services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)
    return Beneficiary.objects.get(pk=p.pk)


def test_shared_record_bodies_hold_only_the_allow_list_and_no_canary(world):
    p = shared_record_with_canaries(world)
    for user in (world.unhcr_af_staff, world.unhcr_hq_focal):
        client = _client(user)
        detail = client.get(f"{URL}{p.pk}/")
        listing = client.get(URL)
        duplicates = client.post(
            f"{URL}check-duplicates/",
            {"given_name": "Amina", "family_name": "Noori", "nationality": "AF"},
            format="json",
        )
        assert detail.status_code == listing.status_code == duplicates.status_code == 200
        assert set(detail.json()) <= access.PERSON_SHARED_FIELDS
        assert set(detail.json()) == access.PERSON_SHARED_FIELDS  # and every allowed field is there
        assert [item["id"] for item in listing.json()["results"]] == [p.pk]
        assert set(listing.json()["results"][0]) == access.PERSON_SHARED_FIELDS
        assert [item["id"] for item in duplicates.json()] == [p.pk]
        assert set(duplicates.json()[0]) - {"score", "reasons"} <= access.PERSON_SHARED_FIELDS
        for response in (detail, listing, duplicates):
            for canary in CANARY_STRINGS:
                assert canary not in response.content, (user.username, canary)
        assert detail.json()["given_name"] == "Amina"
    # The record's own office reads every canary (the test plants them where they would show).
    own = _client(world.iom_af_staff).get(f"{URL}{p.pk}/").content
    for canary in CANARY_STRINGS:
        assert canary in own


def test_shared_record_cannot_be_changed_by_the_other_agency(world):
    p = shared_record_with_canaries(world)
    before = _writes()
    client = _client(world.unhcr_af_staff)
    assert client.patch(f"{URL}{p.pk}/", {"phone": "1"}, HTTP_IF_MATCH=f'"{p.version}"').status_code == 403
    assert client.patch(f"{URL}{p.pk}/", {"phone": "1"}).status_code == 403  # the real reason, not 428
    assert _writes() == before


# --- Actions ------------------------------------------------------------------------------------------


def test_beneficiary_category_change_action_changes_current_category_with_history(world):
    p = person(world.iom_af, actor=world.iom_af_staff, category_since=dt.date(2024, 1, 1))
    client = _client(world.iom_af_staff)
    response = client.post(
        f"{URL}{p.pk}/category-changes/",
        {"category": "rejected_asylum_seeker", "effective_date": "2025-06-01", "reason": "Final decision"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["category"] == "rejected_asylum_seeker"
    detail = client.get(f"{URL}{p.pk}/").json()
    assert detail["category"] == "rejected_asylum_seeker"
    assert [c["category"] for c in detail["category_history"]] == ["rejected_asylum_seeker", "asylum_seeker"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "wizard", "effective_date": "2025-06-01"}, "category"),
        ({"category": "refugee", "effective_date": "2025-02-30"}, "effective_date"),
        ({"category": "refugee", "effective_date": "2999-01-01"}, "effective_date"),
        ({"category": "refugee"}, "effective_date"),
        ({"category": "refugee", "effective_date": "2025-01-01", "reason": "r" * 301}, "reason"),
        ({"category": "refugee", "effective_date": "2025-01-01", "extra": 1}, "extra"),
    ],
)
def test_beneficiary_category_change_bad_input_writes_nothing(world, body, field):
    p = person(world.iom_af, actor=world.iom_af_staff)
    before = _writes()
    response = _client(world.iom_af_staff).post(f"{URL}{p.pk}/category-changes/", body, format="json")
    assert response.status_code == 400
    assert field in _fields(response)
    assert _writes() == before


def test_beneficiary_documents_add_and_remove(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    other = person(world.iom_af, actor=world.iom_af_staff)
    foreign = services.document_add(actor=world.iom_af_staff, beneficiary=other, document_type="passport", number="X")
    client = _client(world.iom_af_staff)
    response = client.post(
        f"{URL}{p.pk}/documents/",
        {"document_type": "passport", "number": "P-42", "issuing_country": "af", "expiry_date": "2030-01-01"},
    )
    assert response.status_code == 201, response.content
    document = IdentityDocument.objects.get(number="P-42")
    assert (document.beneficiary, document.issuing_country.code) == (p, "AF")
    bad = client.post(f"{URL}{p.pk}/documents/", {"document_type": "tattoo", "number": "1"})
    assert bad.status_code == 400 and "document_type" in _fields(bad)
    # Another person's document, through this person's URL: not found.
    assert client.delete(f"{URL}{p.pk}/documents/{foreign.pk}/").status_code == 404
    assert client.delete(f"{URL}{p.pk}/documents/abc/").status_code == 404
    assert client.delete(f"{URL}{p.pk}/documents/{document.pk}/").status_code == 204
    assert list(IdentityDocument.objects.all()) == [foreign]


def test_beneficiary_share_action_then_the_other_agency_sees_the_record(world):
    p = person(world.iom_af, actor=world.iom_af_staff, sharing_basis="consent", consent_date=dt.date(2025, 1, 1))
    assert _client(world.unhcr_af_staff).get(f"{URL}{p.pk}/").status_code == 404
    client = _client(world.iom_af_staff)
    same_agency = client.post(f"{URL}{p.pk}/share/", {"office": "IOM-DE-BER"})
    assert same_agency.status_code == 400 and _fields(same_agency) == {"office"}
    response = client.post(f"{URL}{p.pk}/share/", {"office": "UNHCR-AF-KBL"})
    assert response.status_code == 200, response.content
    assert (response.json()["office"], response.json()["basis"]) == ("UNHCR-AF-KBL", "consent")
    assert _client(world.unhcr_af_staff).get(f"{URL}{p.pk}/").status_code == 200


def test_beneficiary_merge_action_marks_the_duplicate_merged(world):
    survivor = person(world.iom_af, actor=world.iom_af_staff, given_name="Mohammad", family_name="Ahmadi")
    duplicate = person(world.iom_af, actor=world.iom_af_staff, given_name="Muhammad", family_name="Ahmadi")
    hidden = person(world.iom_de, actor=world.iom_de_staff)
    client = _client(world.iom_af_staff)
    refused = client.post(f"{URL}{survivor.pk}/merge/", {"duplicate": hidden.pk})
    assert refused.status_code == 400 and _fields(refused) == {"duplicate"}  # hidden: unknown, not revealed
    response = client.post(f"{URL}{survivor.pk}/merge/", {"duplicate": duplicate.pk})
    assert response.status_code == 200, response.content
    assert "Muhammad Ahmadi" in response.json()["other_names"]
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    assert duplicate.pk not in _listed(client)  # merged records leave the list


def test_beneficiary_duplicates_finds_spelling_variants_excludes_itself_and_logs(world):
    original = person(
        world.iom_af,
        actor=world.iom_af_staff,
        given_name="Mohammad",
        family_name="Ahmadi",
        date_of_birth=dt.date(1990, 5, 1),
    )
    variant = person(
        world.iom_af,
        actor=world.iom_af_staff,
        given_name="Mohamed",
        family_name="Ahmadi",
        date_of_birth=dt.date(1990, 5, 2),
    )
    person(world.iom_de, actor=world.iom_de_staff, given_name="Muhammad", family_name="Ahmadi")  # not visible
    response = _client(world.iom_af_staff).get(f"{URL}{original.pk}/duplicates/")
    assert response.status_code == 200
    body = response.json()
    assert [c["id"] for c in body] == [variant.pk]
    assert 0 < body[0]["score"] <= 1 and body[0]["reasons"]
    entry = AccessLog.objects.get()
    assert (entry.action, entry.object_ids, entry.purpose) == ("list", [str(variant.pk)], "duplicate check")


def test_beneficiary_check_duplicates_finds_candidates_and_writes_nothing(world):
    original = person(world.iom_af, actor=world.iom_af_staff, given_name="Mohammad", family_name="Ahmadi")
    before = _writes()
    client = _client(world.iom_af_staff)
    response = client.post(
        f"{URL}check-duplicates/", {"given_name": "Muhammad", "family_name": "Ahmadi", "nationality": "AF"}
    )
    assert response.status_code == 200, response.content
    assert [c["id"] for c in response.json()] == [original.pk]
    assert _writes() == before
    bad = client.post(f"{URL}check-duplicates/", {"given_name": "x", "family_name": "y", "date_of_birth": "1990-02-31"})
    assert bad.status_code == 400 and _fields(bad) == {"date_of_birth"}


# --- Households ---------------------------------------------------------------------------------------


def test_household_create_add_and_remove_member(world):
    head, child = person(world.iom_af, actor=world.iom_af_staff), person(world.iom_af, actor=world.iom_af_staff)
    client = _client(world.iom_af_staff)
    response = client.post("/api/v1/households/", {"head": head.pk, "notes": "Arrived 2024"})
    assert response.status_code == 201, response.content
    household = Household.objects.get()
    assert (response.json()["head"], response.json()["office"]) == (head.pk, "IOM-AF-KBL")
    added = client.post(
        f"/api/v1/households/{household.pk}/add-member/", {"beneficiary": child.pk, "relationship": "child"}
    )
    assert added.status_code == 200, added.content
    assert {m["id"]: m["relationship_to_head"] for m in added.json()["members"]} == {head.pk: "head", child.pk: "child"}
    head_out = client.post(f"/api/v1/households/{household.pk}/remove-member/", {"beneficiary": head.pk})
    assert head_out.status_code == 409  # name another head first
    removed = client.post(f"/api/v1/households/{household.pk}/remove-member/", {"beneficiary": child.pk})
    assert removed.status_code == 200
    assert [m["id"] for m in removed.json()["members"]] == [head.pk]
    assert client.get(f"/api/v1/households/{household.pk}/").json()["reference"] == household.reference


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "head"),
        ({"head": "abc"}, "head"),
        ({"head": 99999999}, "head"),
        ({"head": "HIDDEN"}, "head"),
        ({"head": "OWN", "notes": "n" * 2001}, "notes"),
        ({"head": "OWN", "reference": "HH-1"}, "reference"),
    ],
)
def test_household_create_bad_input_names_the_field_and_writes_nothing(world, body, field):
    own, hidden = person(world.iom_af, actor=world.iom_af_staff), person(world.iom_de, actor=world.iom_de_staff)
    body = {key: {"OWN": own.pk, "HIDDEN": hidden.pk}.get(value, value) for key, value in body.items()}
    before = _writes()
    response = _client(world.iom_af_staff).post("/api/v1/households/", body, format="json")
    assert response.status_code == 400
    assert field in _fields(response)
    assert _writes() == before


# --- Reference data -----------------------------------------------------------------------------------


def test_categories_list_the_seven_of_mou_4_with_mandates(world):
    client = _client(world.iom_af_staff)
    body = client.get("/api/v1/beneficiary-categories/").json()
    assert [c["code"] for c in body["results"]] == list(
        BeneficiaryCategory.objects.order_by("pk").values_list("code", flat=True)
    )
    assert len(body["results"]) == 7
    refugee = client.get("/api/v1/beneficiary-categories/refugee/").json()
    assert {m["organisation"] for m in refugee["mandates"]} == {"UNHCR", "IOM"}
    assert all(m["paragraph"] and m["role"] for m in refugee["mandates"])
    assert client.get("/api/v1/beneficiary-categories/wizard/").status_code == 404


def test_mandates_list_the_matrix_with_organisation_role_services_paragraph(world):
    response = _client(world.unhcr_de_staff).get("/api/v1/mandates/", {"page_size": 200})
    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == Mandate.objects.count() > 0
    assert set(rows[0]) == {"id", "category", "organisation", "role", "services", "paragraph"}
    lead = Mandate.objects.select_related("category", "organisation").get(
        category__code="refugee", organisation__code="UNHCR"
    )
    row = next(r for r in rows if r["id"] == lead.pk)
    assert (row["category"], row["organisation"], row["role"], row["paragraph"]) == (
        "refugee",
        "UNHCR",
        lead.role,
        lead.paragraph,
    )


# --- Query counts -------------------------------------------------------------------------------------


def _count_queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == params["page_size"]
    return len(queries)


def test_beneficiary_list_query_count_does_not_grow_with_page_size(world, django_assert_num_queries):
    for n in range(50):
        p = person(world.iom_af, actor=world.iom_af_staff, category_code="refugee" if n % 2 else "asylum_seeker")
        if n % 5 == 0:
            services.household_create(actor=world.iom_af_staff, head=p)
    client = _client(world.iom_af_staff)
    small = _count_queries(client, URL, {"page_size": 10})
    with django_assert_num_queries(small):
        response = client.get(URL, {"page_size": 50})
    assert len(response.json()["results"]) == 50
    # Session read and save (3), user, the principal's grants (2), one page query, the access-log row.
    assert small <= 10  # + the second factor's device check (django-otp, issue 8)


def test_household_list_query_count_does_not_grow_with_page_size(world, django_assert_num_queries):
    for _ in range(50):
        head = person(world.iom_af, actor=world.iom_af_staff)
        household = services.household_create(actor=world.iom_af_staff, head=head)
        member = person(world.iom_af, actor=world.iom_af_staff)
        services.household_add_member(
            actor=world.iom_af_staff, household=household, beneficiary=member, relationship="child"
        )
    client = _client(world.iom_af_staff)
    small = _count_queries(client, "/api/v1/households/", {"page_size": 10})
    with django_assert_num_queries(small):
        response = client.get("/api/v1/households/", {"page_size": 50})
    assert all(len(h["members"]) == 2 for h in response.json()["results"])
    # session read and save (3), user, the second factor's device (issue 8), grants (2), the page, its members (one
    # prefetch), the access-log row of the members named (issue 8)
    assert small <= 11
