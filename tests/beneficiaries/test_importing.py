"""Importing people from CSV and XLSX: validated in full, all-or-nothing, every error by row and column, duplicates
reported, files that are not what they claim refused, large files through the Celery task."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from beneficiaries import importing
from beneficiaries.models import Beneficiary, CategoryChange, ImportJob
from jointops.exceptions import PermissionRefused, ValidationFailed
from tests.factories.beneficiaries import person

HISTORY = Beneficiary.history.model


def row(**fields) -> dict:
    values = {
        "given_name": "Mohammad",
        "family_name": "Ahmadi",
        "sex": "male",
        "date_of_birth": "1990-05-04",
        "nationality": "AF",
        "country_of_residence": "IR",
        "category": "asylum_seeker",
    }
    values.update(fields)
    return values


def csv_bytes(rows: list[dict], *, delimiter: str = ",", bom: bool = False, columns=None) -> bytes:
    out = io.StringIO()
    columns = columns or importing.COLUMN_NAMES
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def xlsx_bytes(rows: list[list], header=importing.COLUMN_NAMES) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def spelled(number: int) -> str:
    """A distinct name per number (digits are not letters: "Given1" and "Given2" would be one name)."""
    letters = "bdfgjklmnprtv"
    out = ""
    while True:
        number, digit = divmod(number, len(letters))
        out += letters[digit] + "a"
        if not number:
            return out.capitalize()


def many(n: int, start: int = 0) -> list[dict]:
    return [
        row(given_name=f"Go{spelled(i)}", family_name=f"Fe{spelled(i)}", date_of_birth="1980-01-01")
        for i in range(start, start + n)
    ]


def run(world, content: bytes, *, name: str = "people.csv", actor=None, office=None) -> ImportJob:
    return importing.import_job_create(
        actor=actor or world.iom_af_staff, office=office or world.iom_af, file_name=name, content=content
    )


def test_import_csv_valid_rows_create_people_with_history_and_category_changes(world):
    rows = [
        row(category_since="2024-02-01", specific_needs="single_parent|disability", other_names="Mohamed | Muhammad"),
        row(given_name="Fatima", family_name="Karimi", sex="female", office="IOM-AF-HRT", of_concern_to_unhcr="yes"),
        row(given_name="Ali", family_name="Rahimi", sharing_basis="consent", consent_date="2024-01-01"),
    ]
    job = run(world, csv_bytes(rows))

    assert job.status == ImportJob.Status.DONE and job.created_count == 3 and job.errors == []
    people = {p.given_name: p for p in Beneficiary.objects.all()}
    assert set(people) == {"Mohammad", "Fatima", "Ali"}
    first = people["Mohammad"]
    assert first.office == world.iom_af and first.organisation == world.iom and first.created_by == world.iom_af_staff
    assert first.specific_needs == ["single_parent", "disability"] and first.other_names == "Mohamed\nMuhammad"
    assert first.name_key and first.family_key and "mhmd" in first.search_text
    assert people["Fatima"].office == world.iom_af_field and people["Fatima"].of_concern_to_unhcr
    changes = {c.beneficiary.given_name: c for c in CategoryChange.objects.select_related("beneficiary")}
    assert changes["Mohammad"].effective_date == dt.date(2024, 2, 1)
    assert changes["Fatima"].effective_date == timezone.localdate()
    assert changes["Fatima"].recorded_by == world.iom_af_staff
    history = HISTORY.objects.filter(history_type="+")
    assert history.count() == 3
    assert {h.history_user_id for h in history} == {world.iom_af_staff.pk}
    assert set(history.values_list("id", flat=True)) == {p.pk for p in people.values()}


@pytest.mark.parametrize("rows", [[row()], [row(given_name="")]], ids=["done", "failed"])
def test_import_deletes_the_upload_once_finished_and_keeps_the_report(world, settings, rows):
    settings.IMPORT_INLINE_ROWS = 0
    job = run(world, csv_bytes(rows))
    stored = job.file.name
    assert stored.startswith("imports/") and "people" not in stored  # a random name: the original may be personal
    assert default_storage.exists(stored)
    job = importing.import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    assert not job.file and not default_storage.exists(stored)
    assert job.file_name == "people.csv" and job.total_rows == 1


def test_import_xlsx_with_date_and_number_cells_creates_people(world):
    values = dict.fromkeys(importing.COLUMN_NAMES, None)
    values.update(
        given_name="Amina",
        family_name="Yusuf",
        sex="female",
        date_of_birth=dt.date(1985, 3, 2),
        nationality="SO",
        category="refugee",
        phone=252612345678,
        of_concern_to_unhcr=True,
    )
    job = run(world, xlsx_bytes([list(values.values())]), name="people.XLSX")
    assert job.status == ImportJob.Status.DONE, job.errors
    p = Beneficiary.objects.get()
    assert p.date_of_birth == dt.date(1985, 3, 2) and p.phone == "252612345678" and p.of_concern_to_unhcr
    assert p.category.code == "refugee" and HISTORY.objects.filter(id=p.pk).count() == 1


def test_import_csv_with_semicolons_and_bom_is_read(world):
    job = run(world, csv_bytes([row(), row(given_name="Omar")], delimiter=";", bom=True))
    assert job.status == ImportJob.Status.DONE and job.created_count == 2


def test_import_with_errors_in_several_rows_writes_nothing_and_reports_every_error(world):
    rows = [
        row(),  # row 2: valid
        row(date_of_birth="04/05/1990", category="pilgrim"),  # row 3
        row(given_name="", nationality="XX"),  # row 4
        row(email="not-an-email", sharing_basis="consent"),  # row 5: no consent date
        row(date_of_birth="2999-01-01", specific_needs="flying"),  # row 6
        row(office="UNHCR-AF-KBL"),  # row 7: an office of the other agency
        row(office="NO-SUCH-OFFICE", sex="dragon"),  # row 8
        row(date_of_birth="1990-02-30", of_concern_to_unhcr="maybe", category_since="2999-01-01"),  # row 9
    ]
    job = run(world, csv_bytes(rows))

    assert job.status == ImportJob.Status.FAILED
    found = {(e["row"], e["column"]) for e in job.errors}
    assert found == {
        (3, "date_of_birth"),
        (3, "category"),
        (4, "given_name"),
        (4, "nationality"),
        (5, "email"),
        (5, "consent_date"),
        (6, "date_of_birth"),
        (6, "specific_needs"),
        (7, "office"),
        (8, "office"),
        (8, "sex"),
        (9, "date_of_birth"),
        (9, "of_concern_to_unhcr"),
        (9, "category_since"),
    }
    assert job.error_count == len(job.errors) == 14
    assert all(e["message"] for e in job.errors)
    assert not Beneficiary.objects.exists() and not CategoryChange.objects.exists() and not HISTORY.objects.exists()
    assert not job.file


def test_import_header_with_unknown_and_missing_columns_reports_row_1(world):
    content = b"given_name,surname,category\nAli,Rahimi,refugee\n"
    job = run(world, content)
    assert job.status == ImportJob.Status.FAILED
    assert {(e["row"], e["column"]) for e in job.errors} == {(1, "surname"), (1, "family_name")}
    assert not Beneficiary.objects.exists()


def test_import_header_names_are_normalised(world):
    content = b"Given Name;Family-Name;CATEGORY;Office Code\nAli;Rahimi;refugee;iom-af-hrt\n"
    job = run(world, content)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert Beneficiary.objects.get().office == world.iom_af_field


def test_import_row_with_more_cells_than_the_header_is_reported(world):
    content = b"given_name,family_name,category\nAli,Rahimi,refugee,extra\n"
    job = run(world, content)
    assert job.status == ImportJob.Status.FAILED and job.errors[0]["row"] == 2
    assert not Beneficiary.objects.exists()


def test_import_duplicates_in_file_and_in_database_are_warnings(world):
    existing = person(
        world.iom_af, given_name="Muhammad", family_name="Ahmadi", date_of_birth=dt.date(1990, 5, 4), nationality="AF"
    )
    hidden = person(
        world.unhcr_af, given_name="Mohamed", family_name="Ahmadi", date_of_birth=dt.date(1990, 5, 4), nationality="AF"
    )
    rows = [
        row(given_name="Mohammad"),  # row 2: like the visible record
        row(given_name="Zainab", family_name="Hosseini", date_of_birth="2001-01-01"),  # row 3
        row(given_name="Zaynab", family_name="Husseini", date_of_birth="2001-01-01"),  # row 4: spelling of row 3
    ]
    job = run(world, csv_bytes(rows))

    assert job.status == ImportJob.Status.DONE and job.created_count == 3
    database = [d for d in job.duplicates if d["kind"] == "database"]
    assert [(d["row"], d["beneficiary_id"]) for d in database] == [(2, existing.pk)]
    assert hidden.pk not in {d.get("beneficiary_id") for d in job.duplicates}  # not the importer's to see
    assert {"row": 4, "kind": "file", "other_row": 3} in job.duplicates
    assert job.duplicate_count == 2


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("people.txt", b"given_name\nAli\n", "CSV (.csv) or Excel"),
        ("people.xlsx", b"given_name,family_name\nAli,Rahimi\n", "not an Excel workbook"),
        ("people.xlsx", b"PK\x03\x04 broken zip", "not an Excel workbook"),
        ("people.csv", b"given_name,family_name\nAli\x00,Rahimi\n", "null characters"),
        ("people.csv", b"\x89PNG\r\n\x1a\n\x00\x00binary", "not CSV text"),
        ("people.csv", "given_name\nJosé\n".encode("latin-1"), "not UTF-8"),
        ("people.csv", b"given_name\nA\x07li\n", "control characters"),
        ("people.csv", b"   \n", "empty"),
        ("people.csv", b"given_name,family_name,category\n", "no rows"),
    ],
)
def test_import_file_not_what_it_claims_is_refused_and_nothing_stored(world, name, content, words):
    with pytest.raises(ValidationFailed) as exc:
        run(world, content, name=name)
    assert exc.value.field == "file" and words in str(exc.value.message)
    assert not ImportJob.objects.exists() and not Beneficiary.objects.exists()


def test_import_xlsx_renamed_docx_like_zip_is_refused(world):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(ValidationFailed, match="not an Excel workbook"):
        run(world, buffer.getvalue(), name="people.xlsx")


def test_import_over_the_size_limit_is_refused(world, settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ValidationFailed, match="larger than") as exc:
        run(world, csv_bytes(many(5)))
    assert exc.value.field == "file" and not ImportJob.objects.exists()


def test_import_over_the_row_limit_is_refused(world, settings):
    settings.IMPORT_MAX_ROWS = 3
    with pytest.raises(ValidationFailed, match="more than 3 rows"):
        run(world, csv_bytes(many(4)))


@pytest.mark.parametrize("actor_name", ["iom_hq_focal", "iom_admin", "unhcr_af_staff", "iom_de_staff"])
def test_import_at_an_office_not_allowed_is_refused_and_writes_nothing(world, actor_name):
    with pytest.raises(PermissionRefused):
        run(world, csv_bytes([row()]), actor=getattr(world, actor_name))
    assert not ImportJob.objects.exists() and not Beneficiary.objects.exists()


def test_import_job_run_when_the_importer_lost_the_role_fails_and_writes_nothing(world, settings):
    settings.IMPORT_INLINE_ROWS = 0
    job = run(world, csv_bytes([row()]))
    assert job.status == ImportJob.Status.PENDING
    world.iom_af_staff.memberships.all().delete()
    job = importing.import_job_run(job_id=job.pk)
    assert job.status == ImportJob.Status.FAILED and job.errors[0]["column"] == "office"
    assert not Beneficiary.objects.exists()


def test_import_unexpected_error_marks_the_job_and_writes_nothing(world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(importing, "_write", broken)
    job = run(world, csv_bytes([row()]))
    assert job.status == ImportJob.Status.ERROR and "unexpected" in job.errors[0]["message"]
    assert not Beneficiary.objects.exists() and not job.file


def _queries(world, rows: int) -> tuple[int, int]:
    """(queries other than INSERT, INSERT statements) of importing `rows` rows."""
    content = csv_bytes(many(rows, start=rows))
    with CaptureQueriesContext(connection) as captured:
        job = run(world, content)
    assert job.status == ImportJob.Status.DONE
    inserts = sum(1 for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "COPY")))
    return len(captured.captured_queries) - inserts, inserts


def test_import_query_count_does_not_grow_with_the_rows(world, settings):
    settings.IMPORT_INLINE_ROWS = 10_000
    _queries(world, 5)  # warm caches (content types, translations)
    small_other, small_inserts = _queries(world, 100)
    large_other, large_inserts = _queries(world, 1000)
    assert large_other == small_other  # no query per row: lookups per batch (one batch here)
    # Bulk inserts: one per table per batch (SQLite caps a statement at 999 parameters: ~28 people).
    assert large_inserts <= max(small_inserts, 3) * 12
    assert large_inserts < 1000 / 10


@pytest.mark.needs_postgres
def test_import_query_count_on_postgresql_is_the_same_for_100_and_1000_rows(world, settings):
    settings.IMPORT_INLINE_ROWS = 10_000
    _queries(world, 5)
    assert sum(_queries(world, 100)) == sum(_queries(world, 1000))


def test_import_query_count_grows_with_batches_not_rows(world, settings, monkeypatch):
    settings.IMPORT_INLINE_ROWS = 10_000
    monkeypatch.setattr(importing, "DUPLICATE_LOOKUP_BATCH", 100)
    monkeypatch.setattr(importing, "BATCH_SIZE", 100)
    _queries(world, 5)
    small_other, _ = _queries(world, 100)
    large_other, _ = _queries(world, 1000)
    # 9 more batches: one duplicate lookup and one progress update each.
    assert large_other - small_other <= 9 * 2


def test_import_template_csv_is_the_header_and_imports_back(world):
    content = importing.import_template_csv()
    header = content.decode("utf-8-sig").splitlines()[0].split(",")
    assert header == list(importing.COLUMN_NAMES)
    with pytest.raises(ValidationFailed, match="no rows"):
        run(world, content)
    job = run(world, content + b",Ali,Rahimi,,,,,,,refugee\r\n")
    assert job.status == ImportJob.Status.DONE, job.errors


def test_import_template_xlsx_has_the_columns_and_instructions(world):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(importing.import_template_xlsx()), read_only=True)
    first = next(workbook.worksheets[0].iter_rows(values_only=True))
    assert list(first) == list(importing.COLUMN_NAMES)
    assert len(workbook.worksheets) == 2


def test_import_job_get_for_user_hides_other_peoples_jobs(world):
    from django.http import Http404

    job = run(world, csv_bytes([row()]))
    assert importing.import_job_get_for_user(principal=world.iom_af_staff, pk=job.pk) == job
    for other in (world.iom_af_manager, world.unhcr_af_staff, world.iom_hq_focal):
        with pytest.raises(Http404):
            importing.import_job_get_for_user(principal=other, pk=job.pk)


@pytest.mark.needs_postgres
def test_import_copy_path_writes_the_same_rows_as_bulk_create_with_history(world, monkeypatch):
    """On PostgreSQL the write goes through COPY: people, history and category rows must be those of the portable
    path (simple_history's bulk_create_with_history), with the same actor."""
    rows = [row(other_names="Mohamed | محمد", specific_needs="disability", phone="+93\t1"), row(given_name="Omar")]
    skip = {"id", "created_at", "updated_at", "history_id", "history_date", "recorded_at", "beneficiary_id"}

    def written() -> list:
        ids = list(Beneficiary.objects.order_by("-pk").values_list("pk", flat=True)[:2])  # the job's two people
        people = [
            {k: v for k, v in p.items() if k not in skip} for p in Beneficiary.objects.filter(pk__in=ids).values()
        ]
        history = [{k: v for k, v in h.items() if k not in skip} for h in HISTORY.objects.filter(id__in=ids).values()]
        changes = [
            {k: v for k, v in c.items() if k not in skip}
            for c in CategoryChange.objects.filter(beneficiary_id__in=ids).values()
        ]
        return sorted(map(repr, people)) + sorted(map(repr, history)) + sorted(map(repr, changes))

    copied = run(world, csv_bytes(rows))
    with_copy = written()
    monkeypatch.setattr(importing, "COPY_ON_POSTGRESQL", False)
    created = run(world, csv_bytes(rows))
    assert copied.status == created.status == ImportJob.Status.DONE
    assert with_copy == written()
    assert HISTORY.objects.filter(history_user=world.iom_af_staff).count() == 4
