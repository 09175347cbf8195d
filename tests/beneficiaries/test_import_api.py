"""API of imports and exports: POST a file (201 / 400 with the report), the principal's own jobs, the export file;
roles, offices and partner scopes that are not allowed are refused and nothing is written."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from beneficiaries.models import Beneficiary, ImportJob
from jointops import services as jointops_services
from jointops.models import AccessLog
from tests.beneficiaries.test_importing import csv_bytes, row
from tests.factories.beneficiaries import person

IMPORTS = "/api/v1/beneficiary-imports/"
EXPORT = "/api/v1/beneficiaries/export/"


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def as_partner(world, scopes: list[str], office=None) -> APIClient:
    office = office or world.iom_af
    admin = world.iom_admin if office.organisation_id == world.iom.pk else world.unhcr_admin
    _client, token = jointops_services.api_client_create(actor=admin, name="Registration", office=office, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post(client: APIClient, content: bytes, *, office: str | None = "IOM-AF-KBL", name: str = "people.csv"):
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    if office is not None:
        data["office"] = office
    return client.post(IMPORTS, data, format="multipart")


def test_api_import_valid_file_answers_201_with_the_job(world):
    response = post(as_user(world.iom_af_staff), csv_bytes([row(), row(given_name="Omar")]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "done" and body["created_count"] == 2 and body["office"] == "IOM-AF-KBL"
    assert body["errors"] == [] and Beneficiary.objects.count() == 2


def test_api_import_with_errors_answers_400_with_the_report_and_writes_nothing(world):
    response = post(as_user(world.iom_af_staff), csv_bytes([row(), row(nationality="ZZ"), row(email="x")]))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_failed" and body["job"]["status"] == "failed"
    assert [(e["row"], e["column"], e["field"]) for e in body["errors"]] == [
        (3, "nationality", "file"),
        (4, "email", "file"),
    ]
    assert not Beneficiary.objects.exists()


@pytest.mark.parametrize(
    ("content", "name"), [(b"\x00\x01binary", "people.csv"), (b"a,b\n", "people.xlsx"), (b"x", "people.pdf")]
)
def test_api_import_of_a_file_that_is_not_what_it_claims_answers_400_on_file(world, content, name):
    response = post(as_user(world.iom_af_staff), content, name=name)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"
    assert not ImportJob.objects.exists()


def test_api_import_without_a_file_or_with_an_unknown_office_answers_400(world):
    client = as_user(world.iom_af_staff)
    response = client.post(IMPORTS, {"office": "IOM-AF-KBL"}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"
    response = post(client, csv_bytes([row()]), office="NOPE-1")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "office"
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("actor_name", "office", "status"),
    [
        ("iom_af_staff", "UNHCR-AF-KBL", 403),  # the other agency's office
        ("iom_de_staff", "IOM-AF-KBL", 403),  # another office of the same agency
        ("iom_hq_focal", "IOM-AF-KBL", 403),  # reads, does not register
        ("iom_admin", "IOM-AF-KBL", 403),
    ],
)
def test_api_import_refused_for_roles_and_offices_not_allowed(world, actor_name, office, status):
    response = post(as_user(getattr(world, actor_name)), csv_bytes([row()]), office=office)
    assert response.status_code == status
    assert not ImportJob.objects.exists() and not Beneficiary.objects.exists()


def test_api_import_by_a_partner_with_write_scope_goes_to_its_office(world):
    client = as_partner(world, ["beneficiaries:read", "beneficiaries:write"])
    response = post(client, csv_bytes([row()]), office=None)
    assert response.status_code == 201, response.content
    job = ImportJob.objects.get()
    assert job.api_client is not None and job.created_by is None and job.office == world.iom_af
    p = Beneficiary.objects.get()
    assert p.history.get().history_api_client == job.api_client
    assert client.get(f"{IMPORTS}{job.pk}/").json()["created_count"] == 1


def test_api_import_by_a_partner_without_write_scope_is_refused(world):
    response = post(as_partner(world, ["beneficiaries:read"]), csv_bytes([row()]))
    assert response.status_code == 403 and not ImportJob.objects.exists()


def test_api_import_jobs_are_the_principals_own(world):
    mine = post(as_user(world.iom_af_staff), csv_bytes([row()])).json()["id"]
    other = post(as_user(world.iom_af_manager), csv_bytes([row(given_name="Omar")])).json()["id"]
    client = as_user(world.iom_af_staff)
    listed = client.get(IMPORTS).json()["results"]
    assert [j["id"] for j in listed] == [mine] and "errors" not in listed[0]
    assert client.get(f"{IMPORTS}{mine}/").status_code == 200
    assert client.get(f"{IMPORTS}{other}/").status_code == 404
    assert as_partner(world, ["beneficiaries:read"]).get(f"{IMPORTS}{mine}/").status_code == 404


def test_api_import_large_file_answers_201_pending(world, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_INLINE_ROWS = 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(as_user(world.iom_af_staff), csv_bytes([row(), row(given_name="Omar")]))
    assert response.status_code == 201 and response.json()["status"] == "pending" and len(callbacks) == 1
    assert not Beneficiary.objects.exists()


def test_api_import_is_not_deleted_or_changed_through_the_api(world):
    job = post(as_user(world.iom_af_staff), csv_bytes([row()])).json()["id"]
    client = as_user(world.iom_af_staff)
    assert client.delete(f"{IMPORTS}{job}/").status_code == 405
    assert client.patch(f"{IMPORTS}{job}/", {"status": "pending"}).status_code == 405


# --- Export -------------------------------------------------------------------------------------------------


def test_api_export_csv_with_filters_is_access_logged(world):
    af = person(world.iom_af, actor=world.iom_af_staff, nationality="AF", email="a@example.org")
    person(world.iom_af, actor=world.iom_af_staff, nationality="SY")
    response = as_user(world.iom_af_staff).get(EXPORT, {"format": "csv", "nationality": "AF"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["id"], r["email"]) for r in rows] == [(str(af.pk), "a@example.org")]
    assert AccessLog.objects.get(action="export").object_ids == [str(af.pk)]


def test_api_export_xlsx_for_hq_has_no_contact_details(world):
    from openpyxl import load_workbook

    person(world.iom_af, actor=world.iom_af_staff, phone="+93 1")
    response = as_user(world.iom_hq_focal).get(EXPORT, {"format": "xlsx"})
    assert response.status_code == 200 and "spreadsheetml" in response["Content-Type"]
    header = next(load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert "phone" not in header and "id" in header


def test_api_export_route_is_not_taken_for_a_person_id(world):
    response = as_user(world.iom_af_staff).get(EXPORT)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize(
    ("params", "field"), [({"format": "pdf"}, "format"), ({"format": "csv", "nationality": "XX"}, "nationality")]
)
def test_api_export_bad_format_or_filter_answers_400_json(world, params, field):
    response = as_user(world.iom_af_staff).get(EXPORT, params)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["field"] == field
    assert not AccessLog.objects.filter(action="export").exists()


@pytest.mark.parametrize("actor_name", ["iom_admin", "unhcr_admin"])
def test_api_export_refused_for_roles_without_the_right(world, actor_name):
    person(world.iom_af, actor=world.iom_af_staff)
    response = as_user(getattr(world, actor_name)).get(EXPORT, {"format": "csv"})
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
    assert not AccessLog.objects.filter(action="export").exists()


def test_api_export_anonymous_is_refused(world):
    assert APIClient().get(EXPORT).status_code in (401, 403)


def test_api_export_by_a_partner_holds_only_its_offices_people(world):
    own = person(world.iom_af, actor=world.iom_af_staff)
    person(world.iom_de, actor=world.iom_de_staff)
    response = as_partner(world, ["beneficiaries:read", "beneficiaries:export"]).get(EXPORT)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == [str(own.pk)]
    assert AccessLog.objects.get(action="export").api_client is not None
