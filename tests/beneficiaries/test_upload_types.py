"""Issue 8: an uploaded file that is not what it claims is refused — by the service, the browser page and the API.

The import of people takes CSV and XLSX (beneficiaries/importing.py, views_import.py, api/imports.py: the only
uploads of the app, `grep -rn "FileField\\|FILES"`). Each refusal names the field `file`, writes nothing (no import
job, no person) and never answers 500. The content is sniffed: magic numbers, the ZIP directory of a workbook (its
uncompressed total is checked before openpyxl opens it), text; the content type the upload declared must not
contradict it; a workbook with an XML external entity is read by openpyxl through defusedxml, which refuses it.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from beneficiaries import importing
from beneficiaries.models import Beneficiary, ImportJob
from jointops import services as jointops_services
from jointops.exceptions import ValidationFailed
from tests.beneficiaries.test_importing import csv_bytes, row, xlsx_bytes

pytestmark = pytest.mark.django_db

IMPORT_URL = reverse("beneficiaries:beneficiary_import")
API_IMPORTS = "/api/v1/beneficiary-imports/"
CSV, XLSX = "text/csv", importing.XLSX_CONTENT_TYPE
NOT_XLSX = "not an Excel workbook"
NOT_CSV = "not CSV text"
SHEET = "xl/worksheets/sheet1.xml"


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _valid_xlsx() -> bytes:
    return xlsx_bytes([[row().get(name, "") for name in importing.COLUMN_NAMES]])


def _rewrite_xlsx(content: bytes, replace: dict[str, bytes]) -> bytes:
    """The workbook `content` with some of its parts replaced or added."""
    replace = dict(replace)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        entries = {name: replace.pop(name, archive.read(name)) for name in archive.namelist()}
    entries.update(replace)
    return _zip(entries)


def _zip_bomb() -> bytes:
    """A real workbook plus a part that unpacks to 64 MB of zeros (a few dozen KB packed)."""
    return _rewrite_xlsx(_valid_xlsx(), {"xl/media/filler.bin": b"\x00" * (64 * 2**20)})


XXE_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>given_name</t></is></c>'
    b'<c r="B1" t="inlineStr"><is><t>family_name</t></is></c><c r="C1" t="inlineStr"><is><t>category</t></is></c>'
    b"</row>"
    b'<row r="2"><c r="A2" t="inlineStr"><is><t>&xxe;</t></is></c><c r="B2" t="inlineStr"><is><t>X</t></is></c>'
    b'<c r="C2" t="inlineStr"><is><t>asylum_seeker</t></is></c></row>'
    b"</sheetData></worksheet>"
)
BILLION_LAUGHS_SHEET = (
    b'<?xml version="1.0"?>\n<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&c;</t></is></c></row></sheetData></worksheet>'
)

# (case, file name, content, declared content type, what the message says)
CASES = [
    ("xlsx that is really CSV", "people.xlsx", lambda: csv_bytes([row()]), XLSX, NOT_XLSX),
    ("xlsx that is really plain text", "people.xlsx", lambda: b"just some text\n", XLSX, NOT_XLSX),
    ("xlsx that is a ZIP, not a workbook", "people.xlsx", lambda: _zip({"notes.txt": b"hello"}), XLSX, NOT_XLSX),
    ("xlsx that is a truncated ZIP", "people.xlsx", lambda: _valid_xlsx()[:200], XLSX, NOT_XLSX),
    ("csv that is a PNG", "people.csv", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, CSV, NOT_CSV),
    ("csv that is a ZIP", "people.csv", lambda: _zip({"a.txt": b"a"}), CSV, NOT_CSV),
    ("csv that is a workbook", "people.csv", _valid_xlsx, CSV, NOT_CSV),
    ("csv that is a PDF", "people.csv", lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", CSV, NOT_CSV),
    ("csv that is an ELF program", "people.csv", lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 9, CSV, NOT_CSV),
    ("csv with NUL bytes", "people.csv", lambda: csv_bytes([row()]).replace(b"Ahmadi", b"Ahm\x00adi"), CSV, "null"),
    ("csv that is not UTF-8", "people.csv", lambda: "given_name\nJos\xe9\n".encode("latin-1"), CSV, "UTF-8"),
    ("csv declared as a PNG image", "people.csv", lambda: csv_bytes([row()]), "image/png", "sent as"),
    ("csv declared as a PDF", "people.csv", lambda: csv_bytes([row()]), "application/pdf", "sent as"),
    ("csv declared as a workbook", "people.csv", lambda: csv_bytes([row()]), XLSX, "sent as"),
    ("workbook declared as CSV", "people.xlsx", _valid_xlsx, CSV, "sent as"),
    ("workbook declared as HTML", "people.xlsx", _valid_xlsx, "text/html", "sent as"),
    ("xlsx zip bomb", "people.xlsx", _zip_bomb, XLSX, "unpacks to far more"),
    (
        "xlsx with an external entity",
        "people.xlsx",
        lambda: _rewrite_xlsx(_valid_xlsx(), {SHEET: XXE_SHEET}),
        XLSX,
        "cannot be read",
    ),
    (
        "xlsx with nested entities (billion laughs)",
        "people.xlsx",
        lambda: _rewrite_xlsx(_valid_xlsx(), {SHEET: BILLION_LAUGHS_SHEET}),
        XLSX,
        "cannot be read",
    ),
    ("a program named .csv", "people.csv", lambda: b"MZ\x90\x00\x03\x00\x00\x00", CSV, "null"),
]
IDS = [case[0] for case in CASES]


@pytest.fixture
def small_limit(settings):
    # The zip bomb unpacks to 64 MB: over IMPORT_MAX_BYTES × XLSX_MAX_EXPANSION with a 1 MB limit.
    settings.IMPORT_MAX_BYTES = 2**20


def _nothing_written() -> None:
    assert not ImportJob.objects.exists()
    assert not Beneficiary.objects.exists()


@pytest.mark.parametrize(("case", "name", "content", "content_type", "says"), CASES, ids=IDS)
def test_service_refuses_the_file_naming_the_field(world, small_limit, case, name, content, content_type, says):
    with pytest.raises(ValidationFailed) as refused:
        importing.import_job_create(
            actor=world.iom_af_staff,
            office=world.iom_af,
            file_name=name,
            content=content(),
            content_type=content_type,
        )
    assert refused.value.field == "file"
    assert says in str(refused.value.message)
    assert "root:" not in str(refused.value.message)  # no file of the server read into the message
    _nothing_written()


@pytest.mark.parametrize(("case", "name", "content", "content_type", "says"), CASES, ids=IDS)
def test_import_page_refuses_the_file_on_the_file_field(
    client, world, small_limit, case, name, content, content_type, says
):
    client.force_login(world.iom_af_staff)
    upload = SimpleUploadedFile(name, content(), content_type=content_type)
    response = client.post(IMPORT_URL, {"office": world.iom_af.pk, "file": upload})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["file"] and says in errors["file"][0]
    _nothing_written()


@pytest.mark.parametrize(("case", "name", "content", "content_type", "says"), CASES, ids=IDS)
def test_import_api_refuses_the_file_with_400_naming_the_field(
    world, small_limit, case, name, content, content_type, says
):
    _, token = jointops_services.api_client_create(
        actor=world.iom_admin, name="Registration", office=world.iom_af, scopes=["beneficiaries:write"]
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    upload = SimpleUploadedFile(name, content(), content_type=content_type)
    response = api.post(API_IMPORTS, {"file": upload, "office": "IOM-AF-KBL"}, format="multipart")
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["file"] and says in errors[0]["message"]
    _nothing_written()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("people.csv", lambda: csv_bytes([row()]), "text/csv"),
        ("people.csv", lambda: csv_bytes([row()]), "application/vnd.ms-excel"),  # what Windows browsers send
        ("people.csv", lambda: csv_bytes([row()]), ""),
        ("people.xlsx", _valid_xlsx, XLSX),
        ("people.xlsx", _valid_xlsx, "application/octet-stream"),
    ],
)
def test_files_that_are_what_they_claim_are_imported(world, name, content, content_type):
    job = importing.import_job_create(
        actor=world.iom_af_staff, office=world.iom_af, file_name=name, content=content(), content_type=content_type
    )
    assert job.status == ImportJob.Status.DONE and job.created_count == 1


@pytest.mark.parametrize("sheet", [XXE_SHEET, BILLION_LAUGHS_SHEET], ids=["external entity", "nested entities"])
def test_workbook_entities_are_refused_by_defusedxml_not_expanded(sheet):
    from defusedxml.common import DefusedXmlException
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML  # openpyxl parses through defusedxml when it is installed (requirements.txt pins it)
    content = _rewrite_xlsx(_valid_xlsx(), {SHEET: sheet})
    with pytest.raises(ValidationFailed) as refused:
        list(importing.read_records(extension=".xlsx", content=content))
    causes, cause = [], refused.value
    while cause is not None:
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    assert any(isinstance(c, DefusedXmlException) for c in causes), causes
