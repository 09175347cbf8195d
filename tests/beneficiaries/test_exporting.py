"""Exports of people: only the fields the principal may read (canary values planted in the others), formulas made
inert, one access-log row per export, no query per row."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from beneficiaries import exporting, selectors, services
from beneficiaries.models import Beneficiary
from jointops.exceptions import PermissionRefused
from jointops.models import AccessLog
from tests.factories.beneficiaries import person

# A value in every field, each one unique, so that a leak of any field shows in the file.
CANARIES = {
    "given_name": "Canarygiven",
    "family_name": "Canaryfamily",
    "other_names": "Canaryother",
    "date_of_birth": dt.date(1977, 7, 7),
    "nationality": "SY",
    "country_of_residence": "LB",
    "unhcr_registration_number": "CANARY-UNHCR-1",
    "iom_case_number": "CANARY-IOM-1",
    "government_id": "CANARY-GOV-1",
    "phone": "+961 CANARY-PHONE",
    "email": "canary-email@example.org",
    "address": "Canary street 1",
    "preferred_language": "CanaryLanguage",
    "specific_needs": ["older_person"],
    "sharing_basis": "consent",
    "consent_date": dt.date(2024, 3, 3),
    "consent_scope": "CanaryScope",
}
CONTACT = {"phone", "email", "address"}


def read_csv(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def read_xlsx(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return [list(values) for values in workbook.worksheets[0].iter_rows(values_only=True)]


def export(principal, fmt="csv", queryset=None) -> bytes:
    queryset = queryset if queryset is not None else selectors.beneficiary_qs_for(principal=principal)
    function = exporting.export_xlsx if fmt == "xlsx" else exporting.export_csv
    return function(principal=principal, queryset=queryset)


def test_export_csv_for_own_office_has_every_field(world):
    p = person(world.iom_af, actor=world.iom_af_staff, **CANARIES)
    rows = read_csv(export(world.iom_af_staff))
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == str(p.pk) and row["office"] == "IOM-AF-KBL" and row["category"] == "asylum_seeker"
    assert row["phone"] == "'+961 CANARY-PHONE"  # leading + neutralised like a formula
    assert row["email"] == CANARIES["email"] and row["address"] == CANARIES["address"]
    assert row["date_of_birth"] == "1977-07-07" and row["specific_needs"] == "older_person"
    assert row["consent_scope"] == "CanaryScope"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_for_hq_focal_point_leaves_out_contact_details(world, fmt):
    person(world.iom_af, actor=world.iom_af_staff, **CANARIES)
    content = export(world.iom_hq_focal, fmt)
    header = read_csv(content)[0].keys() if fmt == "csv" else read_xlsx(content)[0]
    assert not CONTACT & set(header)
    assert {"given_name", "category", "country_of_residence", "specific_needs"} <= set(header)
    raw = content if fmt == "csv" else str(read_xlsx(content)).encode()
    for field in CONTACT | {"consent_scope"}:
        assert str(CANARIES[field]).encode() not in raw, field


def test_export_of_a_shared_record_holds_only_the_shared_fields(world):
    shared = person(world.iom_af, actor=world.iom_af_staff, **CANARIES)
    services.beneficiary_share(actor=world.iom_af_staff, beneficiary=shared, office=world.unhcr_af)
    content = export(world.unhcr_af_staff)
    rows = read_csv(content)
    assert [r["id"] for r in rows] == [str(shared.pk)]
    allowed = {"id", "office", "given_name", "family_name", "other_names", "sex", "date_of_birth"}
    allowed |= {"date_of_birth_estimated", "nationality", "category", "of_concern_to_unhcr"}
    allowed |= {"unhcr_registration_number", "iom_case_number"}
    assert set(rows[0]) <= allowed
    for field in ("country_of_residence", "government_id", "phone", "email", "address", "preferred_language"):
        assert str(CANARIES[field]).encode() not in content, field
    assert b"CanaryScope" not in content and b"older_person" not in content


def test_export_mixed_own_and_shared_blanks_what_a_row_does_not_allow(world):
    shared = person(world.iom_af, actor=world.iom_af_staff, **CANARIES)
    services.beneficiary_share(actor=world.iom_af_staff, beneficiary=shared, office=world.unhcr_af)
    own = person(world.unhcr_af, actor=world.unhcr_af_staff, phone="+93 700 000 001", email="own@example.org")
    rows = {r["id"]: r for r in read_csv(export(world.unhcr_af_staff))}
    assert rows[str(own.pk)]["email"] == "own@example.org"
    assert rows[str(shared.pk)]["email"] == "" and rows[str(shared.pk)]["phone"] == ""
    assert rows[str(shared.pk)]["given_name"] == "Canarygiven"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralises_formulas(world, fmt):
    person(
        world.iom_af,
        actor=world.iom_af_staff,
        given_name='=HYPERLINK("http://evil.example","x")',
        family_name="@SUM(A1)",
        government_id="-2+3",
    )
    content = export(world.iom_af_staff, fmt)
    if fmt == "csv":
        row = read_csv(content)[0]
        values = [row["given_name"], row["family_name"], row["government_id"]]
    else:
        header, data = read_xlsx(content)
        values = [data[header.index(c)] for c in ("given_name", "family_name", "government_id")]
    assert values == ['\'=HYPERLINK("http://evil.example","x")', "'@SUM(A1)", "'-2+3"]


def test_export_xlsx_keeps_dates_and_booleans_typed(world):
    person(world.iom_af, actor=world.iom_af_staff, date_of_birth=dt.date(1990, 1, 2), of_concern_to_unhcr=True)
    header, data = read_xlsx(export(world.iom_af_staff, "xlsx"))
    assert data[header.index("date_of_birth")].date() == dt.date(1990, 1, 2)
    assert data[header.index("of_concern_to_unhcr")] is True


def test_export_writes_one_access_log_row_with_the_ids(world):
    people = [person(world.iom_af, actor=world.iom_af_staff) for _ in range(3)]
    export(world.iom_af_staff)
    entry = AccessLog.objects.get()
    assert (entry.action, entry.resource, entry.user) == ("export", "beneficiary", world.iom_af_staff)
    assert sorted(entry.object_ids) == sorted(str(p.pk) for p in people) and entry.record_count == 3


@pytest.mark.parametrize("actor_name", ["iom_admin", "unhcr_admin"])
def test_export_refused_without_the_export_right_and_nothing_logged(world, actor_name):
    person(world.iom_af, actor=world.iom_af_staff)
    with pytest.raises(PermissionRefused):
        export(getattr(world, actor_name), queryset=Beneficiary.objects.all())
    assert not AccessLog.objects.exists()


def test_export_of_an_unscoped_queryset_still_holds_only_visible_people(world):
    visible = person(world.iom_af, actor=world.iom_af_staff)
    person(world.unhcr_af, actor=world.unhcr_af_staff)
    person(world.iom_de, actor=world.iom_de_staff)
    rows = read_csv(export(world.iom_af_staff, queryset=Beneficiary.objects.all()))
    assert [r["id"] for r in rows] == [str(visible.pk)]


def test_export_query_count_does_not_grow_with_the_rows(world):
    for _ in range(3):
        person(world.iom_af, actor=world.iom_af_staff)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            export(world.iom_af_staff)
            export(world.iom_af_staff, "xlsx")
        return len(captured.captured_queries)

    few = count()
    for _ in range(20):
        person(world.iom_af, actor=world.iom_af_staff)
    assert count() == few
