"""Import people from CSV and XLSX files: every row validated before anything is written, all-or-nothing.

- `import_job_create` checks the file (type against content, size), stores it, and runs the job in the request when
  it is small (<= IMPORT_INLINE_ROWS rows) or hands it to Celery (`beneficiaries.tasks.import_job_run_task`,
  enqueued on commit) with a progress bar in the page.
- `import_job_run` validates every row with the services' rules (the model's field validation,
  `services.validate_rules`, `services.derive_keys`) without a query per row: offices and categories are resolved
  once, likely duplicates in the database are looked up per batch of rows. The report lists every error as
  {row, column, message} (rows numbered as in a spreadsheet: the header is row 1) and the likely duplicates within
  the file and against the records the importer may see (warnings: they do not block). Then one transaction
  writes the people, their category history and their audit history in batches — or nothing at all.
- The stored upload is deleted once the job ends (data minimisation); the report stays.

Writes use bulk inserts on every database; on PostgreSQL they go through COPY (the same rows, ids taken from the
table's sequence first), which is several times faster for large files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from beneficiaries import matching, services
from beneficiaries.choices import CategoryCode, Sex, SharingBasis, SpecificNeed
from beneficiaries.models import Beneficiary, BeneficiaryCategory, CategoryChange, ImportJob
from jointops import access
from jointops.audit import acting_as
from jointops.exceptions import ValidationFailed
from jointops.models import Office
from jointops.services import acting_user

logger = logging.getLogger(__name__)

Status = ImportJob.Status
FINISHED = frozenset({Status.DONE, Status.FAILED, Status.ERROR})
# Errors worth a retry of the whole job (the write is one transaction: a retry starts from a clean slate).
TRANSIENT_ERRORS = (OperationalError, InterfaceError)

BATCH_SIZE = 2000  # rows per bulk insert and per progress update
COPY_ON_POSTGRESQL = True  # write with COPY there (the same rows as bulk_create_with_history, several times faster)
DUPLICATE_LOOKUP_BATCH = 1000  # rows per query for likely duplicates in the database
REPORT_LIMIT = 10_000  # entries kept of each list of the report (the counts stay complete)
DUPLICATES_PER_ROW = 3
XLSX_MAX_EXPANSION = 20  # a workbook may unpack to at most this many times IMPORT_MAX_BYTES (zip bombs)

CSV_EXTENSION, XLSX_EXTENSION = ".csv", ".xlsx"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "a ZIP archive or an XLSX workbook",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip archive",
    b"\x7fELF": "a program (ELF executable)",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
}
# Issue 8: an upload is refused when the content type it was sent with contradicts what its bytes are. Browsers send
# CSV under several names (Windows sends the .xls type for .csv); "octet-stream" or nothing says nothing.
_DECLARED_TYPES = {
    ".csv": frozenset(
        {
            "text/csv",
            "text/plain",
            "text/x-csv",
            "text/comma-separated-values",
            "application/csv",
            "application/x-csv",
            "application/vnd.ms-excel",
        }
    ),
    ".xlsx": frozenset({XLSX_CONTENT_TYPE, "application/zip", "application/x-zip-compressed"}),
}
_UNDECLARED_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
TRUE_VALUES = frozenset({"true", "yes", "y", "1", "x", "oui", "vrai", "نعم"})
FALSE_VALUES = frozenset({"false", "no", "n", "0", "non", "faux", "لا", ""})


def max_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def inline_rows() -> int:
    return settings.IMPORT_INLINE_ROWS


def max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


# --- The template's columns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    help: Any
    required: bool = False


def _codes(choices) -> str:
    return ", ".join(choices.values)


# The help of a column, translated when shown (a lazy string formatted at import time would stay in English).
_with_codes = lazy(lambda message, choices: str(message) % {"codes": _codes(choices)}, str)


COLUMNS: tuple[Column, ...] = (
    Column("office", gettext_lazy("Office code, e.g. IOM-AF-KBL. Empty: the office chosen for the import.")),
    Column("given_name", gettext_lazy("Given name."), required=True),
    Column("family_name", gettext_lazy("Family name."), required=True),
    Column("other_names", gettext_lazy("Other names and spellings, separated by |.")),
    Column("sex", _with_codes(gettext_lazy("One of: %(codes)s. Empty: unknown."), Sex)),
    Column("date_of_birth", gettext_lazy("Date as YYYY-MM-DD.")),
    Column("date_of_birth_estimated", gettext_lazy("true or false. Empty: false.")),
    Column("nationality", gettext_lazy("ISO 3166 alpha-2 country code, e.g. AF.")),
    Column("country_of_residence", gettext_lazy("ISO 3166 alpha-2 country code, e.g. IR.")),
    Column("category", _with_codes(gettext_lazy("One of: %(codes)s."), CategoryCode), required=True),
    Column("category_since", gettext_lazy("Date the category applies from, YYYY-MM-DD. Empty: today.")),
    Column("of_concern_to_unhcr", gettext_lazy("true or false. Empty: false.")),
    Column("unhcr_registration_number", gettext_lazy("UNHCR registration number.")),
    Column("iom_case_number", gettext_lazy("IOM case number.")),
    Column("government_id", gettext_lazy("Government ID.")),
    Column("phone", gettext_lazy("Phone number.")),
    Column("email", gettext_lazy("E-mail address.")),
    Column("address", gettext_lazy("Address.")),
    Column("preferred_language", gettext_lazy("Preferred language.")),
    Column(
        "specific_needs",
        _with_codes(gettext_lazy("Zero or more of: %(codes)s, separated by |."), SpecificNeed),
    ),
    Column("sharing_basis", _with_codes(gettext_lazy("One of: %(codes)s. Empty: none."), SharingBasis)),
    Column("consent_date", gettext_lazy("Date consent was given, YYYY-MM-DD (needed when the basis is consent).")),
    Column("consent_scope", gettext_lazy("Scope of consent.")),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS = tuple(c.name for c in COLUMNS if c.required)
# Columns that are fields of the person, validated by the model's own field validation.
MODEL_COLUMNS = tuple(name for name in COLUMN_NAMES if name in services.EDITABLE_FIELDS)
_DATE_COLUMNS = frozenset({"date_of_birth", "category_since", "consent_date"})
_BOOLEAN_COLUMNS = frozenset({"date_of_birth_estimated", "of_concern_to_unhcr"})
# Columns whose values repeat a lot: parsing and field validation are cached per value.
_CACHED_COLUMNS = frozenset(
    {
        "sex",
        "nationality",
        "country_of_residence",
        "sharing_basis",
        "given_name",
        "family_name",
        "preferred_language",
        *_DATE_COLUMNS,
        *_BOOLEAN_COLUMNS,
    }
)


def import_template_csv() -> bytes:
    """The header row of the import file, as UTF-8 CSV with a BOM (spreadsheets then read the accents right)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(COLUMN_NAMES)
    return ("\ufeff" + out.getvalue()).encode()


def import_template_xlsx() -> bytes:
    """A workbook: the columns on the first sheet, what each one takes on a second."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "people"
    sheet.append(list(COLUMN_NAMES))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(14, len(column.name) + 2)
    guide = workbook.create_sheet(_("Instructions"))
    guide.append([_("Column"), _("Required"), _("What to write")])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        guide.append([column.name, _("yes") if column.required else "", str(column.help)])
    guide.append([])
    guide.append([_("Every row is checked before anything is saved: a file with an error imports nothing.")])
    guide.column_dimensions["A"].width = 28
    guide.column_dimensions["C"].width = 100
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- Reading files ---------------------------------------------------------------------------------------


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, field="file")


def _extension(file_name: str) -> str:
    return PurePath(file_name or "").suffix.lower()


def check_file(*, file_name: str, content: bytes, content_type: str = "") -> str:
    """Refuse a file that is too large, empty, of another type, not what its extension claims (the content is
    sniffed: magic numbers, ZIP directory, text), or sent with a content type that contradicts it.
    Returns the extension (".csv" or ".xlsx")."""
    extension = _extension(file_name)
    if extension not in (CSV_EXTENSION, XLSX_EXTENSION):
        raise _refuse(_("Upload a CSV (.csv) or Excel (.xlsx) file, made from the template."))
    check_size(size=len(content))
    if not content.strip():
        raise _refuse(_("The file is empty."))
    if extension == XLSX_EXTENSION:
        _check_xlsx(content)
    else:
        _decode_csv(content)
    _check_declared_type(extension, content_type)
    return extension


def _check_declared_type(extension: str, content_type: str) -> None:
    """Issue 8: the content type the file was sent with must not contradict its (sniffed) content."""
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared in _UNDECLARED_TYPES or declared in _DECLARED_TYPES[extension]:
        return
    kind = _("CSV text") if extension == CSV_EXTENSION else _("an Excel workbook (.xlsx)")
    raise _refuse(
        _("The file was sent as “%(declared)s” but holds %(kind)s: it is refused.")
        % {"declared": declared[:100], "kind": kind}
    )


def check_size(*, size: int) -> None:
    if size > max_bytes():
        raise _refuse(
            _("The file is larger than %(max)s MB: split it into several files.") % {"max": max_bytes() // 2**20}
        )


def _check_xlsx(content: bytes) -> None:
    not_xlsx = _("This file is not an Excel workbook (.xlsx) although its name says so.")
    if not content.startswith(b"PK\x03\x04"):
        raise _refuse(not_xlsx)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise _refuse(not_xlsx) from exc
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise _refuse(not_xlsx)
    if unpacked > max_bytes() * XLSX_MAX_EXPANSION:
        raise _refuse(_("The workbook unpacks to far more data than it holds: it cannot be read safely."))


def _decode_csv(content: bytes) -> str:
    for signature, kind in _BINARY_SIGNATURES.items():
        if content.startswith(signature):
            raise _refuse(
                _("This file is not CSV text although its name says so (it looks like %(kind)s).") % {"kind": kind}
            )
    if b"\x00" in content:
        raise _refuse(
            _("The file holds null characters: it is not a CSV text file. Save it as “CSV UTF-8” and try again.")
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(_("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")) from exc
    if _CONTROL_RE.search(text):
        raise _refuse(_("The file holds control characters: it is not a CSV text file."))
    return text


def _delimiter(text: str) -> str:
    """, or ; (spreadsheets in many locales save CSV with semicolons): whichever the header line uses more."""
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _cell(value: Any) -> str:
    """An XLSX cell value as the text the CSV path would have."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_records(content: bytes) -> Iterator[list[str]]:
    text = _decode_csv(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        yield from reader
    except csv.Error as exc:
        raise _refuse(
            _("The CSV file cannot be read near line %(line)s: %(problem)s.")
            % {"line": reader.line_num, "problem": exc}
        ) from exc


def _xlsx_records(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, InvalidFileException, XML errors)
        raise _refuse(_("The workbook cannot be read. Save it again as .xlsx from the template.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(value) for value in values]
    except Exception as exc:
        raise _refuse(_("The workbook cannot be read. Save it again as .xlsx from the template.")) from exc
    finally:
        workbook.close()


def read_records(*, extension: str, content: bytes) -> Iterator[list[str]]:
    """Every record of the file (the header first), each a list of stripped cell texts."""
    records = _xlsx_records(content) if extension == XLSX_EXTENSION else _csv_records(content)
    for record in records:
        yield [cell.strip() for cell in record]


def _blank(record: list[str]) -> bool:
    return not any(record)


def count_rows(*, extension: str, content: bytes) -> int:
    """Data rows in the file (blank rows not counted)."""
    records = read_records(extension=extension, content=content)
    next(records, None)
    return sum(1 for record in records if not _blank(record))


# --- Validation ------------------------------------------------------------------------------------------


class _CellError(Exception):
    pass


def _parse_date(value: str) -> dt.date | None:
    if not value:
        return None
    if not _DATE_RE.fullmatch(value):
        raise _CellError(_("Enter a date as YYYY-MM-DD."))
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise _CellError(_("This date does not exist.")) from exc


def _parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in TRUE_VALUES:
        return True
    if lowered in FALSE_VALUES:
        return False
    raise _CellError(_("Enter true or false."))


def _parse(column: str, value: str) -> Any:
    """The cell's text as the model field's value (shape only; the field validation comes next)."""
    if column in _DATE_COLUMNS:
        return _parse_date(value)
    if column in _BOOLEAN_COLUMNS:
        return _parse_bool(value)
    if column == "sex":
        return value.lower() or Sex.UNKNOWN
    if column == "sharing_basis":
        return value.lower() or SharingBasis.NONE
    if column in ("nationality", "country_of_residence"):
        return value.upper()
    if column == "specific_needs":
        return [need.strip().lower() for need in value.split("|") if need.strip()]
    if column == "other_names":
        return "\n".join(part.strip() for part in re.split(r"[|\n]", value) if part.strip())
    return value


# Values that pass every rule of services.validate_rules(), per field it may name.
_HARMLESS = {
    "given_name": lambda today: "-",
    "family_name": lambda today: "-",
    "other_names": lambda today: "",
    "address": lambda today: "",
    "consent_scope": lambda today: "",
    "sharing_basis_note": lambda today: "",
    "date_of_birth": lambda today: None,
    "specific_needs": lambda today: [],
    "consent_date": lambda today: today,
}


_ATTNAMES = [f.attname for f in Beneficiary._meta.concrete_fields]
_POSITION = {name: index for index, name in enumerate(_ATTNAMES)}
# The person's fields taken from the file, with their place among the model's fields (positional construction of
# the model is three times faster than by keywords: it counts at 100,000 rows).
_FILE_FIELDS = tuple((name, _POSITION[name]) for name in MODEL_COLUMNS)


class _Validator:
    """Validates rows into unsaved Beneficiary instances, with what must be resolved looked up once."""

    def __init__(self, *, actor: Any, office: Office):
        self.actor = actor
        self.user = acting_user(actor)
        self.default_office = office
        self.categories = {c.code: c for c in BeneficiaryCategory.objects.all()}
        self.allowed_offices = access.office_ids(actor, "beneficiary", access.ADD)
        self.offices: dict[str, Office | None] = {}
        self.fields = {name: Beneficiary._meta.get_field(name) for name in MODEL_COLUMNS}
        self.checked: dict[tuple[str, str], tuple[Any, Any]] = {}  # (field, text) -> (value, error or None)
        self.today = timezone.localdate()
        # Every field of a new person, with the model's defaults; each row fills in its own.
        defaults = Beneficiary(created_by_id=getattr(self.user, "pk", None))
        self.template = [defaults.__dict__[name] for name in _ATTNAMES]

    def resolve_offices(self, codes: set[str]) -> None:
        """Office codes of the file -> offices where the importer may register people (one query)."""
        found = Office.objects.filter(code__in=codes)
        for office in found:
            allowed = self.allowed_offices is access.EVERYTHING or office.pk in self.allowed_offices
            self.offices[office.code] = office if allowed else None
        for code in codes - set(self.offices):
            self.offices[code] = None

    def check(self, name: str, text: str) -> tuple[Any, Any]:
        """(value, None) for a valid cell of a person's field, else (a stand-in value, the error message)."""
        try:
            value = _parse(name, text)
        except _CellError as exc:
            return self.template[_POSITION[name]], exc
        message = self.field_error(name, value)
        return (value, None) if message is None else (value, message)

    def field_error(self, name: str, value: Any) -> str | None:
        """The model's own validation of one field (choices, lengths, e-mail, countries...), or None."""
        field = self.fields[name]
        if field.blank and value in field.empty_values:
            return None
        try:
            field.clean(value, None)
        except ValidationError as exc:
            return " ".join(exc.messages)
        return None

    def rule_errors(self, person: Beneficiary, error) -> None:
        """services.validate_rules() stops at the first broken rule: to report them all, each field found at fault
        is given a harmless value and the rules run again (the person is discarded anyway)."""
        seen: set[str] = set()
        while True:
            try:
                services.validate_rules(person, today=self.today)
            except ValidationFailed as exc:
                error(exc.field or "", exc.message)
                if exc.field in seen or exc.field not in _HARMLESS:
                    return
                seen.add(exc.field)
                setattr(person, exc.field, _HARMLESS[exc.field](self.today))
            else:
                return

    def row(self, number: int, cells: dict[str, str]) -> tuple[Beneficiary | None, dt.date | None, list[dict]]:
        """(the person, the date the category applies from, errors) of one data row."""
        errors: list[dict] = []

        def error(column: str, message: Any) -> None:
            if not any(e["column"] == column for e in errors):
                errors.append({"row": number, "column": column, "message": str(message)})

        office = self.default_office
        code = cells.get("office", "").upper()
        if code:
            office = self.offices.get(code)
            if office is None:
                error("office", _("No office where you may register people has the code “%(code)s”.") % {"code": code})
                office = self.default_office
        category = None
        category_code = cells.get("category", "").lower()
        if not category_code:
            error("category", _("This field is required."))
        else:
            category = self.categories.get(category_code)
            if category is None:
                error(
                    "category",
                    _("Unknown category “%(code)s”: use one of %(codes)s.")
                    % {"code": category_code[:40], "codes": _codes(CategoryCode)},
                )
        try:
            category_since = _parse_date(cells.get("category_since", ""))
        except _CellError as exc:
            error("category_since", exc)
            category_since = None
        if category_since and category_since > self.today:
            error("category_since", _("The date cannot be in the future."))
        values = self.template.copy()
        checked = self.checked
        for name, position in _FILE_FIELDS:
            text = cells.get(name, "")
            if name in _CACHED_COLUMNS:
                # Values that repeat: parsed and validated once per distinct text.
                known = checked.get((name, text))
                if known is None:
                    known = checked[(name, text)] = self.check(name, text)
                value, message = known
            else:
                value, message = self.check(name, text)
            if message is not None:
                error(name, message)
            values[position] = value
        values[_POSITION["office_id"]] = office.pk
        values[_POSITION["organisation_id"]] = office.organisation_id
        values[_POSITION["category_id"]] = getattr(category, "pk", None)
        person = Beneficiary(*values)
        self.rule_errors(person, error)
        if errors:
            return None, None, errors
        services.derive_keys(person)
        return person, category_since, []


@dataclass
class _Report:
    errors: list[dict]
    duplicates: list[dict]
    error_count: int = 0
    duplicate_count: int = 0

    def add_errors(self, errors: list[dict]) -> None:
        self.error_count += len(errors)
        room = REPORT_LIMIT - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])

    def add_duplicate(self, entry: dict) -> None:
        self.duplicate_count += 1
        if len(self.duplicates) < REPORT_LIMIT:
            self.duplicates.append(entry)


_HEADER_ALIASES = {"office_code": "office", "category_code": "category"}


def _header(record: list[str], report: _Report) -> list[str] | None:
    """Column names of the header row, or None (with errors on row 1) when it cannot be used."""
    names = [cell.lstrip("\ufeff").strip().lower().replace(" ", "_").replace("-", "_") for cell in record]
    names = [_HEADER_ALIASES.get(name, name) for name in names]
    errors = []
    seen = set()
    for name in names:
        if not name:
            continue
        if name not in COLUMN_NAMES:
            errors.append(
                {"row": 1, "column": name[:60], "message": _("Unknown column: use the columns of the template.")}
            )
        elif name in seen:
            errors.append({"row": 1, "column": name, "message": _("This column appears twice.")})
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            errors.append({"row": 1, "column": name, "message": _("This column is missing.")})
    if errors:
        report.add_errors(errors)
        return None
    return names


def _in_file_duplicate_key(person: Beneficiary) -> tuple | None:
    if not person.name_key:
        return None
    return (person.name_key, person.date_of_birth, person.__dict__["nationality"] or "")


def _same_nationality(a: str, b: str) -> bool:
    return not a or not b or a == b


def _database_duplicates(*, actor: Any, batch: list[tuple[int, Beneficiary]], report: _Report) -> None:
    """Likely duplicates of a batch of rows among the records the importer may see, by the rule used within the
    file: the same name in any spelling or order (the indexed name key), the same date of birth (or none on both
    sides) and the same nationality (or one unknown). One query per batch; matching.score() gives the likeness.

    Stricter than selectors.duplicate_candidates() (which also weighs close dates for one person on screen): at a
    million people a common name within a few years matches hundreds of records, which no import report can use.
    """
    pairs = {(person.name_key, person.date_of_birth) for _number, person in batch if person.name_key}
    if not pairs:
        return
    dated = [(key, born) for key, born in pairs if born]
    undated = [key for key, born in pairs if not born]
    if connection.vendor == "postgresql" and dated:
        # The exact pairs, each one probe of the (name_key, date_of_birth) index.
        table = connection.ops.quote_name(Beneficiary._meta.db_table)
        condition = Q(
            RawSQL(
                f"({table}.name_key, {table}.date_of_birth) IN (SELECT * FROM unnest(%s::varchar[], %s::date[]))",
                ([key for key, _born in dated], [born for _key, born in dated]),
                output_field=BooleanField(),
            )
        )
    elif dated:  # elsewhere both lists, the exact pairs sorted out below
        condition = Q(name_key__in={k for k, _b in dated}, date_of_birth__in={b for _k, b in dated})
    else:
        condition = Q(pk__in=[])
    if undated:
        condition |= Q(name_key__in=undated, date_of_birth__isnull=True)
    found: dict[tuple, list[dict]] = {}
    rows = (
        Beneficiary.objects.visible_to(actor)
        .active()
        .filter(condition)
        .values("pk", "given_name", "family_name", "date_of_birth", "nationality", "name_key")
    )
    for row in rows:
        found.setdefault((row["name_key"], row["date_of_birth"]), []).append(row)
    for number, person in batch:
        nationality = person.__dict__["nationality"] or ""
        others = [
            other
            for other in found.get((person.name_key, person.date_of_birth), ())
            if _same_nationality(nationality, other["nationality"])
        ]
        scored = []
        for other in others[: DUPLICATES_PER_ROW * 10]:
            candidate = matching.score(
                given_name=person.given_name,
                family_name=person.family_name,
                date_of_birth=person.date_of_birth,
                nationality=nationality,
                other=other,
            )
            if candidate:
                scored.append(candidate)
        scored.sort(key=lambda c: (-c.score, c.pk))
        for candidate in scored[:DUPLICATES_PER_ROW]:
            report.add_duplicate(
                {
                    "row": number,
                    "kind": "database",
                    "beneficiary_id": candidate.pk,
                    "score": candidate.score,
                    "reasons": list(candidate.reasons),
                }
            )


def _set_progress(job: ImportJob, **fields: Any) -> None:
    fields["updated_at"] = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def _validate(job: ImportJob, actor: Any, content: bytes, report: _Report) -> list[tuple[Beneficiary, dt.date | None]]:
    """Every row of the file -> unsaved people (or errors in the report). Queries: a few, plus one per batch."""
    extension = _extension(job.file_name)
    validator = _Validator(actor=actor, office=job.office)
    records = read_records(extension=extension, content=content)
    header = _header(next(records, []), report)
    if header is None:
        return []
    # Rows of the file, numbered as a spreadsheet shows them (the header is row 1); blank rows skipped.
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records, start=2):
        if _blank(record):
            continue
        if len(rows) >= max_rows():
            report.add_errors(
                [
                    {
                        "row": number,
                        "column": "",
                        "message": _("The file has more than %(max)d rows.") % {"max": max_rows()},
                    }
                ]
            )
            return []
        if len(record) > len(header) and any(record[len(header) :]):
            report.add_errors([{"row": number, "column": "", "message": _("This row has more cells than the header.")}])
        rows.append((number, {name: cell for name, cell in zip(header, record, strict=False) if name}))
    _set_progress(job, total_rows=len(rows), processed_rows=0)
    validator.resolve_offices({cells["office"].upper() for _n, cells in rows if cells.get("office")})

    people: list[tuple[Beneficiary, dt.date | None]] = []
    seen: dict[tuple, int] = {}
    pending: list[tuple[int, Beneficiary]] = []
    for index, (number, cells) in enumerate(rows, start=1):
        person, since, errors = validator.row(number, cells)
        if errors:
            report.add_errors(errors)
        else:
            people.append((person, since))
            key = _in_file_duplicate_key(person)
            if key is not None:
                first = seen.setdefault(key, number)
                if first != number:
                    report.add_duplicate({"row": number, "kind": "file", "other_row": first})
            pending.append((number, person))
        if len(pending) >= DUPLICATE_LOOKUP_BATCH:
            if not report.error_count:  # a refused file needs no lookups
                _database_duplicates(actor=actor, batch=pending, report=report)
            pending = []
        if index % BATCH_SIZE == 0:
            _set_progress(job, processed_rows=index)
    if pending and not report.error_count:
        _database_duplicates(actor=actor, batch=pending, report=report)
    _set_progress(job, processed_rows=len(rows))
    return people


# --- Writing ---------------------------------------------------------------------------------------------


def _write(*, actor: Any, people: list[tuple[Beneficiary, dt.date | None]]) -> int:
    """Insert the people, their first category change and their history rows (inside the caller's transaction)."""
    if not people:
        return 0
    user, client = acting_user(actor), actor if getattr(actor, "is_api_client", False) else None
    now, today = timezone.now(), timezone.localdate()
    reason = _("Imported")
    if connection.vendor == "postgresql" and COPY_ON_POSTGRESQL:
        return _write_with_copy(people=people, user=user, client=client, now=now, today=today, reason=reason)
    from simple_history.utils import bulk_create_with_history

    created = 0
    for start in range(0, len(people), BATCH_SIZE):
        chunk = people[start : start + BATCH_SIZE]
        persons = [person for person, _since in chunk]
        with acting_as(actor):
            persons = bulk_create_with_history(
                persons,
                Beneficiary,
                batch_size=BATCH_SIZE,
                default_user=user,
                default_date=now,
                custom_historical_attrs={"history_api_client": client},
            )
        CategoryChange.objects.bulk_create(
            [
                CategoryChange(
                    beneficiary_id=person.pk,
                    category_id=person.category_id,
                    effective_date=since or today,
                    reason=reason,
                    recorded_by=user,
                )
                for person, (_p, since) in zip(persons, chunk, strict=True)
            ],
            batch_size=BATCH_SIZE,
        )
        created += len(persons)
    return created


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_CHUNK = 20_000  # rows per COPY statement (bounds the memory of the text sent)


def _copy_value(value: Any) -> str:
    """One value in PostgreSQL's COPY text format."""
    kind = type(value)
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is int:
        return str(value)
    if kind is dt.date or kind is dt.datetime:  # date-times are aware: the offset is kept
        return value.isoformat()
    if kind is list or kind is dict:
        return json.dumps(value).translate(_COPY_ESCAPES)
    return str(value).translate(_COPY_ESCAPES)


def _copy_lines(cursor, table: str, columns: list[str], lines: list[str]) -> None:
    """COPY already formatted lines into `table` (psycopg2 or psycopg 3)."""
    if not lines:
        return
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    payload = "\n".join(lines) + "\n"
    raw = cursor.cursor
    if hasattr(raw, "copy_expert"):
        raw.copy_expert(sql, io.StringIO(payload))
    else:  # psycopg 3
        with raw.copy(sql) as copy:
            copy.write(payload)


def _copy(cursor, table: str, columns: list[str], rows: Iterator[list[Any]]) -> None:
    """COPY rows of Python values into `table`, COPY_CHUNK rows per statement."""
    lines: list[str] = []
    for row in rows:
        lines.append("\t".join(map(_copy_value, row)))
        if len(lines) >= COPY_CHUNK:
            _copy_lines(cursor, table, columns, lines)
            lines = []
    _copy_lines(cursor, table, columns, lines)


def _write_with_copy(
    *, people: list[tuple[Beneficiary, dt.date | None]], user: Any, client: Any, now: Any, today: dt.date, reason: str
) -> int:
    """The same rows as the portable path — the people, their history rows as simple_history's
    bulk_create_with_history writes them, their first category change — sent with COPY, COPY_CHUNK people at a time.
    Ids come from the table's sequence first. Each person's values are formatted once, for both tables."""
    table = Beneficiary._meta.db_table
    history = Beneficiary.history.model
    fields = Beneficiary._meta.concrete_fields
    position = {f.attname: index for index, f in enumerate(fields)}
    constants = {
        "history_date": now,
        "history_change_reason": None,
        "history_type": "+",
        "history_user_id": getattr(user, "pk", None),
        "history_api_client_id": getattr(client, "pk", None),
    }
    history_fields = [f for f in history._meta.concrete_fields if f.attname != "history_id"]
    # Each history column: the person's column it copies (an index), or a constant (formatted text).
    history_sources = [
        _copy_value(constants[f.attname]) if f.attname in constants else position[f.attname] for f in history_fields
    ]
    change_constants = [_copy_value(reason), _copy_value(getattr(user, "pk", None)), _copy_value(now)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(people)]
        )
        ids = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(people), COPY_CHUNK):
            people_lines, history_lines, change_lines = [], [], []
            chunk = zip(people[start : start + COPY_CHUNK], ids[start : start + COPY_CHUNK], strict=True)
            for (person, since), pk in chunk:
                person.id = pk
                person.created_at = person.updated_at = now
                values = person.__dict__
                cells = [_copy_value(values[f.attname]) for f in fields]
                people_lines.append("\t".join(cells))
                history_lines.append(
                    "\t".join(cells[source] if type(source) is int else source for source in history_sources)
                )
                change_lines.append(
                    "\t".join(
                        [cells[0], _copy_value(person.category_id), _copy_value(since or today), *change_constants]
                    )
                )
            _copy_lines(cursor, table, [f.column for f in fields], people_lines)
            _copy_lines(cursor, history._meta.db_table, [f.column for f in history_fields], history_lines)
            _copy_lines(
                cursor,
                CategoryChange._meta.db_table,
                ["beneficiary_id", "category_id", "effective_date", "reason", "recorded_by_id", "recorded_at"],
                change_lines,
            )
    return len(people)


# --- Jobs ------------------------------------------------------------------------------------------------


def _actor_of(job: ImportJob) -> Any:
    return job.api_client if job.api_client_id else job.created_by


def _is_client(actor: Any) -> bool:
    return bool(getattr(actor, "is_api_client", False))


def _delete_upload(job: ImportJob) -> None:
    """The uploaded file holds personal data: it goes once the job ends (the report stays)."""
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def _finish(job: ImportJob, status: str, report: _Report | None = None, created: int = 0) -> ImportJob:
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now(), "created_count": created}
    if report is not None:
        fields.update(
            errors=report.errors,
            duplicates=report.duplicates,
            error_count=report.error_count,
            duplicate_count=report.duplicate_count,
        )
    _set_progress(job, **fields)
    _delete_upload(job)
    return job


@transaction.atomic
def _store(*, actor: Any, office: Office, file_name: str, extension: str, content: bytes, rows: int) -> ImportJob:
    job = ImportJob(
        office=office,
        created_by=acting_user(actor),
        api_client=actor if _is_client(actor) else None,
        file_name=PurePath(file_name.replace("\\", "/")).name[:200],
        total_rows=rows,
        language=translation.get_language() or "",
    )
    # A random name on disk: the original may hold personal data.
    job.file.save(f"{uuid.uuid4().hex}{extension}", ContentFile(content), save=False)
    job.save()
    if rows > inline_rows():
        from beneficiaries.tasks import import_job_run_task

        transaction.on_commit(lambda: import_job_run_task.delay(job.pk))
    return job


def import_job_create(
    *, actor: Any, office: Office, file_name: str, content: bytes, content_type: str = ""
) -> ImportJob:
    """Check and store an uploaded file, then run it now (small files) or in Celery (large ones).

    Refuses (ValidationFailed on "file") a file of another type, one whose content is not what its name says,
    an empty or unreadable one, or one over IMPORT_MAX_BYTES / IMPORT_MAX_ROWS; PermissionRefused when the actor
    may not register people at `office`. `content_type` is the type the upload declared (refused when it
    contradicts the content).
    """
    access.require(actor, access.ADD, "beneficiary", office=office)
    extension = check_file(file_name=file_name, content=content, content_type=content_type)
    rows = count_rows(extension=extension, content=content)
    if rows == 0:
        raise _refuse(_("The file has no rows under its header."))
    if rows > max_rows():
        raise _refuse(_("The file has more than %(max)d rows: split it into several files.") % {"max": max_rows()})
    job = _store(actor=actor, office=office, file_name=file_name, extension=extension, content=content, rows=rows)
    if rows <= inline_rows():
        return import_job_run(job_id=job.pk)
    return job


def import_job_run(*, job_id: int, reraise_transient: bool = False) -> ImportJob:
    """Validate every row, then write all of them or none. Idempotent: a finished job returns at once, and the
    write re-checks the job's state under a row lock, so two runs never import twice.

    An unexpected error marks the job ERROR; with `reraise_transient` (the Celery task), a transient database
    error is raised instead so that the task can retry the whole job.
    """
    job = ImportJob.objects.select_related("office", "created_by", "api_client").get(pk=job_id)
    if job.status in FINISHED:
        _delete_upload(job)
        return job
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            return _run(job)
        except TRANSIENT_ERRORS:
            if reraise_transient:
                raise
            logger.exception("import job %s stopped by a database error", job.pk)
            return _finish(job, Status.ERROR, _report_of(_("The database did not answer. Upload the file again.")))
        except Exception:
            logger.exception("import job %s stopped by an unexpected error", job.pk)
            return _finish(
                job, Status.ERROR, _report_of(_("An unexpected error stopped the import. Nothing was saved."))
            )


def import_job_give_up(*, job_id: int) -> ImportJob:
    """After the task's last retry: mark the job stopped (nothing was written) and delete the upload."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status in FINISHED:
        return job
    with translation.override(job.language or settings.LANGUAGE_CODE):
        return _finish(job, Status.ERROR, _report_of(_("The database did not answer. Upload the file again.")))


def _report_of(message: str) -> _Report:
    report = _Report(errors=[], duplicates=[])
    report.add_errors([{"row": None, "column": "", "message": message}])
    return report


def _run(job: ImportJob) -> ImportJob:
    actor = _actor_of(job)
    report = _Report(errors=[], duplicates=[])
    if actor is None or not access.can(actor, access.ADD, "beneficiary", office=job.office):
        report.add_errors(
            [{"row": None, "column": "office", "message": _("You may no longer register people at this office.")}]
        )
        return _finish(job, Status.FAILED, report)
    try:
        with job.file.open("rb") as stored:
            content = stored.read()
    except (OSError, ValueError):
        return _finish(job, Status.ERROR, _report_of(_("The uploaded file is gone. Upload it again.")))
    _set_progress(job, status=Status.VALIDATING)
    try:
        people = _validate(job, actor, content, report)
    except ValidationFailed as exc:  # the file itself cannot be read
        report.add_errors([{"row": None, "column": "", "message": str(exc.message)}])
        return _finish(job, Status.FAILED, report)
    if report.error_count or not people:
        if not report.error_count:
            report.add_errors([{"row": None, "column": "", "message": _("The file has no rows under its header.")}])
        return _finish(job, Status.FAILED, report)
    _set_progress(job, status=Status.IMPORTING)
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status in FINISHED:  # another run finished it meanwhile
            job.refresh_from_db()
            return job
        created = _write(actor=actor, people=people)
        _set_progress(
            job,
            status=Status.DONE,
            finished_at=timezone.now(),
            created_count=created,
            errors=report.errors,
            duplicates=report.duplicates,
            error_count=report.error_count,
            duplicate_count=report.duplicate_count,
        )
    _delete_upload(job)
    return job


# --- Reads -----------------------------------------------------------------------------------------------


def import_job_qs_for(*, principal: Any) -> QuerySet[ImportJob]:
    """The principal's own import jobs (a member of staff's, or a partner system's)."""
    qs = ImportJob.objects.select_related("office")
    if principal is None or not getattr(principal, "is_authenticated", False) or not principal.is_active:
        return qs.none()
    if _is_client(principal):
        return qs.filter(api_client_id=principal.pk)
    if getattr(principal, "is_superuser", False):
        return qs
    return qs.filter(created_by_id=principal.pk, api_client__isnull=True)


def import_job_get_for_user(*, principal: Any, pk: Any) -> ImportJob:
    """One of the principal's import jobs, or 404 (someone else's looks missing)."""
    try:
        return import_job_qs_for(principal=principal).get(pk=pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def import_offices_for(*, principal: Any) -> QuerySet[Office]:
    """Offices where the principal may register people (the choice of the upload form)."""
    offices = Office.objects.filter(is_active=True).select_related("organisation").order_by("code")
    return access.restrict(offices, principal, "beneficiary", access.ADD, office_field="pk")
