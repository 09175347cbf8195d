"""Issue 8 (Proof): SQL-injection, script-injection, template-injection and spreadsheet-injection strings in every
text field of the browser forms, the person import (CSV and XLSX) and the API come back inert.

Table-driven. The text fields of each browser form are discovered from its class (every CharField that is plain
text: a new field is covered without touching this test). For each form and each string, all its text fields get the
string at once: the answer is never a 500; a field the form refuses must be refused by name (then it is sent with a
plain value again); what is stored is the string verbatim (the ORM parametrises); the page showing the record holds
the escaped string and never the raw markup. Searches and filters with the strings answer 200/400 (or a redirect
back with a message); CSV/XLSX exports neutralise formula prefixes and the PDFs are produced.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from beneficiaries import importing
from beneficiaries.forms import BeneficiaryCreateForm, DocumentForm, HouseholdCreateForm
from beneficiaries.models import Beneficiary, Household, IdentityDocument
from jointops import access
from jointops import services as jointops_services
from jointops.forms import OfficeForm
from jointops.models import Consultation, Office
from jointops.views_consultations import ConsultationForm
from letters_of_understanding.forms import ActivityForm, FundingForm, LouCreateForm, SecondmentForm
from letters_of_understanding.models import LetterOfUnderstanding
from notifications import services as notification_services
from notifications.forms import ConcernForm
from notifications.models import PreDepartureEntry
from returns.forms import CaseOpenForm, OperationCreateForm
from returns.models import RepatriationOperation, ReturnCase
from tests.factories import letters_of_understanding as lou_factories
from tests.factories.beneficiaries import category, person
from tests.factories.returns import scheduled

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "'; DROP TABLE beneficiaries_beneficiary; --",
    '" OR "1"="1',
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7|add:7 }}",
    "{% debug %}",
    '=HYPERLINK("http://x")',
    "@SUM(1)",
]
MARKUP = ("<script>", "<img")  # must never reach a page raw
RAW = ("<script>alert(1)", "<img src=x onerror")  # the injected markup, unescaped
FORMULA_PREFIXES = ("=", "+", "-", "@")
TODAY = timezone.localdate()
# CharField subclasses that are not free text (their own syntax refuses these strings by design).
NOT_FREE_TEXT = (forms.EmailField, forms.URLField, forms.SlugField, forms.UUIDField, forms.RegexField)


def text_fields(form_class: type[forms.Form]) -> dict[str, forms.CharField]:
    """The free-text fields of a form class: CharField (input or textarea), not e-mail/URL/slug/regex fields."""
    return {
        name: f
        for name, f in form_class.base_fields.items()
        if isinstance(f, forms.CharField) and not isinstance(f, NOT_FREE_TEXT)
    }


def _fitted(payload: str, f: forms.CharField) -> str:
    return payload[: f.max_length] if f.max_length else payload


def _assert_inert_page(html: str, stored: dict[str, str]) -> None:
    for value in stored.values():
        if any(m in value for m in MARKUP):
            assert value not in html  # never the raw markup
    assert not any(m in html for m in RAW), "raw injected markup in the page"
    assert any(escape(value) in html for value in stored.values()), "the page shows none of the stored strings"


# --- Browser forms -----------------------------------------------------------------------------------------


@dataclass
class FormCase:
    form: type[forms.Form]
    user: str  # attribute of build_world()
    url: Callable  # (w, ctx) -> the URL the form posts to
    base: Callable  # (w, ctx, n) -> valid values of the form (the text fields get the payload on top)
    record: Callable  # (w, ctx) -> the record written (the newest)
    page: Callable  # (record) -> the page that shows it
    fresh: tuple = ()  # records of the context made anew for each string (e.g. one concern per entry)


def _entry(w) -> PreDepartureEntry:
    scheduled(w.iom_de, w.iom_de_staff, days=5)
    notification_services.pre_departure_lists_build(actor=None)
    return PreDepartureEntry.objects.order_by("pk").last()


class _Ctx(dict):
    """Records the sub-forms hang on (a person, a draft LoU, a pre-departure list entry), made when first used."""

    MAKERS = {
        "person": lambda w: person(w.iom_af, actor=w.iom_af_staff),
        "lou": lou_factories.draft,
        "entry": _entry,
    }

    def __init__(self, w):
        super().__init__()
        self.w = w

    def __missing__(self, key):
        self[key] = self.MAKERS[key](self.w)
        return self[key]


def _person_base(w, ctx, n):
    return {
        "office": w.iom_af.pk,
        "category": category("asylum_seeker").pk,
        "given_name": "Farida",
        "family_name": f"Noori{'x' * n}",
        "sex": "female",
        "date_of_birth": "1988-04-12",
        "nationality": "AF",
        "country_of_residence": "AF",
        "sharing_basis": "none",
    }


def _lou_base(w, ctx, n):
    return {
        "unhcr_office": w.unhcr_af.pk,
        "iom_office": w.iom_af.pk,
        "title": "Return and reintegration, Herat",
        "operational_situation": "Returns from Iran and Pakistan",
        "countries": ["AF"],
        "categories": ["returnee"],
        "start_date": TODAY.isoformat(),
        "end_date": (TODAY + dt.timedelta(days=365)).isoformat(),
    }


def _newest(model):
    return lambda w, ctx: model.objects.order_by("pk").last()


def _lou_row(collection: str, base: dict) -> FormCase:
    forms_by_collection = {"activities": ActivityForm, "funding": FundingForm, "secondments": SecondmentForm}
    related = {"activities": "activities", "funding": "funding", "secondments": "secondments"}[collection]
    return FormCase(
        forms_by_collection[collection],
        "iom_af_staff",
        lambda w, ctx: reverse("letters_of_understanding:lou_row_add", args=[ctx["lou"].pk, collection]),
        lambda w, ctx, n: {"version": LetterOfUnderstanding.objects.get(pk=ctx["lou"].pk).version, **base},
        lambda w, ctx: getattr(LetterOfUnderstanding.objects.get(pk=ctx["lou"].pk), related).order_by("pk").last(),
        lambda row: reverse("letters_of_understanding:lou_detail", args=[row.lou_id]),
    )


FORM_CASES = {
    "person": FormCase(
        BeneficiaryCreateForm,
        "iom_af_staff",
        lambda w, ctx: reverse("beneficiaries:beneficiary_create"),
        _person_base,
        _newest(Beneficiary),
        lambda p: reverse("beneficiaries:beneficiary_detail", args=[p.pk]),
    ),
    "identity document": FormCase(
        DocumentForm,
        "iom_af_staff",
        lambda w, ctx: reverse("beneficiaries:document_add", args=[ctx["person"].pk]),
        lambda w, ctx, n: {"document_type": "passport", "number": f"P{n}", "issuing_country": "AF"},
        _newest(IdentityDocument),
        lambda d: reverse("beneficiaries:beneficiary_detail", args=[d.beneficiary_id]),
    ),
    "household": FormCase(
        HouseholdCreateForm,
        "iom_af_staff",
        lambda w, ctx: reverse("beneficiaries:household_create"),
        lambda w, ctx, n: {"head": person(w.iom_af, actor=w.iom_af_staff).pk},
        _newest(Household),
        lambda h: reverse("beneficiaries:household_detail", args=[h.pk]),
    ),
    "return case": FormCase(
        CaseOpenForm,
        "iom_af_staff",
        lambda w, ctx: reverse("returns:case_create"),
        lambda w, ctx, n: {
            "kind": "avr_asylum_seeker",
            "lead_office": w.iom_af.pk,
            "principal": person(w.iom_af, actor=w.iom_af_staff).pk,
            "country_of_departure": "AF",
            "country_of_return": "PK",
            "fit_to_travel": "",
        },
        _newest(ReturnCase),
        lambda c: reverse("returns:case_detail", args=[c.pk]),
    ),
    "repatriation operation": FormCase(
        OperationCreateForm,
        "unhcr_af_staff",
        lambda w, ctx: reverse("returns:operation_create"),
        lambda w, ctx, n: {
            "office": w.unhcr_af.pk,
            "title": "Return from Pakistan",
            "kind": "organised",
            "status": "planning",
            "country_of_origin": "AF",
            "host_countries": ["PK"],
        },
        _newest(RepatriationOperation),
        lambda o: reverse("returns:operation_detail", args=[o.pk]),
    ),
    "letter of understanding": FormCase(
        LouCreateForm,
        "iom_af_staff",
        lambda w, ctx: reverse("letters_of_understanding:lou_create"),
        _lou_base,
        _newest(LetterOfUnderstanding),
        lambda lou: reverse("letters_of_understanding:lou_detail", args=[lou.pk]),
    ),
    "LoU activity": _lou_row(
        "activities", {"kind": "voluntary_repatriation", "agency": "UNHCR", "description": "Interviews"}
    ),
    "LoU funding": _lou_row("funding", {"agency": "IOM", "source": "ECHO", "amount": "1000", "currency": "EUR"}),
    "LoU secondment": _lou_row(
        "secondments",
        {"from_agency": "IOM", "position": "Officer", "number": "1", "start_on": TODAY.isoformat()},
    ),
    "consultation": FormCase(
        ConsultationForm,
        "iom_af_staff",
        lambda w, ctx: reverse("consultations:consultation_create"),
        lambda w, ctx, n: {
            "held_on": TODAY.isoformat(),
            "recorded_by_office": w.iom_af.pk,
            "offices": [w.iom_af.pk, w.unhcr_af.pk],
            "participants": "Both heads of office",
            "subject_kind": "rejected_asylum_seekers",
            "subject": "Return of Mr K.",
        },
        _newest(Consultation),
        lambda c: reverse("consultations:consultation_detail", args=[c.pk]),
    ),
    "office": FormCase(
        OfficeForm,
        "iom_admin",
        lambda w, ctx: reverse("jointops:office_create"),
        lambda w, ctx, n: {"code": f"IOM-AF-X{n}", "name": "Mazar", "level": "field", "country": "AF"},
        _newest(Office),
        lambda o: reverse("jointops:office_detail", args=[o.pk]),
    ),
    "pre-departure list concern": FormCase(
        ConcernForm,
        "unhcr_de_staff",
        lambda w, ctx: reverse("notifications:entry_concern", args=[ctx["entry"].list_id, ctx["entry"].pk]),
        lambda w, ctx, n: {},
        lambda w, ctx: PreDepartureEntry.objects.get(pk=ctx["entry"].pk),
        lambda e: reverse("notifications:list_detail", args=[e.list_id]),
        fresh=("entry",),
    ),
}


def _post(client, url: str, data: dict):
    response = client.post(url, data)
    assert response.status_code in (200, 302), (response.status_code, response.content[:500])
    return response


@pytest.mark.parametrize("name", list(FORM_CASES))
def test_form_text_fields_store_injection_strings_verbatim_and_pages_escape_them(world, client, name):
    case = FORM_CASES[name]
    fields = text_fields(case.form)
    assert fields, f"{case.form.__name__} has no text field"
    ctx = _Ctx(world)
    client.force_login(getattr(world, case.user))
    stored_any = False
    for n, payload in enumerate(PAYLOADS):
        for key in case.fresh:
            ctx.pop(key, None)
        base = case.base(world, ctx, n)
        values = {f_name: _fitted(payload, f) for f_name, f in fields.items()}
        url = case.url(world, ctx)
        response = _post(client, url, {**base, **values})
        if response.status_code == 200:  # refused: each error must name one of the fields that got the string
            form = response.context["form"]
            refused = set(form.errors)
            assert refused and refused <= set(values), (payload, form.errors)
            for f_name in refused:
                values.pop(f_name)
                if f_name in base or not fields[f_name].required:
                    continue
                values[f_name] = "plain text"
            response = _post(client, url, {**base, **values})
            assert response.status_code == 302, (payload, response.context["form"].errors)
        record = case.record(world, ctx)
        stored = {}
        for f_name, value in values.items():
            current = getattr(record, f_name, None)
            if isinstance(current, str) and value == _fitted(payload, fields[f_name]):
                assert current == value, (f_name, current, value)  # verbatim: nothing stripped, nothing run
                stored[f_name] = value
        stored_any = stored_any or bool(stored)
        page = client.get(case.page(record))
        assert page.status_code == 200
        if stored:
            _assert_inert_page(page.content.decode(), stored)
    assert stored_any, f"{name}: no text field stored any of the strings"


# --- Searches and filters ----------------------------------------------------------------------------------

LIST_PAGES = [
    ("beneficiaries:beneficiary_list", ["q", "nationality", "category", "office"]),
    ("beneficiaries:household_list", ["q"]),
    ("returns:case_list", ["q", "stage", "kind", "office"]),
    ("returns:operation_list", ["q", "status"]),
    ("returns:agreement_list", ["q"]),
    ("letters_of_understanding:lou_list", ["q", "status"]),
    ("consultations:consultation_list", ["q", "subject_kind"]),
    ("jointops:office_list", ["q"]),
    ("notifications:list_index", ["q"]),
]
API_LISTS = [
    ("/api/v1/beneficiaries/", ["q", "nationality", "category", "office", "updated_since"]),
    ("/api/v1/households/", ["q"]),
    ("/api/v1/return-cases/", ["q", "stage", "kind", "office", "departure_from"]),
    ("/api/v1/repatriation-operations/", ["q"]),
    ("/api/v1/return-agreements/", ["q"]),
    ("/api/v1/letters-of-understanding/", ["q", "status"]),
    ("/api/v1/consultations/", ["q"]),
    ("/api/v1/offices/", ["q"]),
    ("/api/v1/pre-departure-lists/", ["q"]),
    ("/api/v1/dashboard/", ["organisation", "country", "office", "from"]),
]


def test_searches_and_filters_with_injection_strings_answer_without_error(world, client):
    person(world.iom_af, actor=world.iom_af_staff)
    client.force_login(world.iom_af_manager)
    for name, params in LIST_PAGES:
        for payload in PAYLOADS:  # the search alone, then every filter at once
            for query in ({"q": payload}, dict.fromkeys(params, payload)):
                response = client.get(reverse(name), query)
                assert response.status_code in (200, 302, 400), (name, query, response.status_code)
                html = response.content.decode()
                assert not any(m in html for m in RAW), (name, query)
    _, token = jointops_services.api_client_create(
        actor=world.iom_admin, name="Partner", office=world.iom_af, scopes=access.all_scopes()
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    for path, params in API_LISTS:
        for payload in PAYLOADS:
            for query in ({params[0]: payload}, dict.fromkeys(params, payload)):
                response = api.get(path, query)
                assert response.status_code in (200, 400), (path, query, response.status_code)
                assert response["Content-Type"].startswith("application/json")
    assert Beneficiary.objects.count() == 1  # nothing dropped, nothing written


# --- The person import ---------------------------------------------------------------------------------------

IMPORT_TEXT_COLUMNS = ("given_name", "family_name", "address", "preferred_language", "government_id")


def _model_fitted(column: str, payload: str) -> str:
    limit = Beneficiary._meta.get_field(column).max_length
    return payload[:limit] if limit else payload


def _import_rows() -> list[dict]:
    rows = []
    for n, payload in enumerate(PAYLOADS):
        values = {
            "given_name": "Mohammad",
            "family_name": f"Ahmadi{'x' * n}",
            "sex": "male",
            "date_of_birth": "1990-05-04",
            "nationality": "AF",
            "country_of_residence": "IR",
            "category": "asylum_seeker",
        }
        values.update({column: _model_fitted(column, payload) for column in IMPORT_TEXT_COLUMNS})
        rows.append(values)
    return rows


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=importing.COLUMN_NAMES, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _xlsx(rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(importing.COLUMN_NAMES))
    for values in rows:
        # Written as text cells (data_type "s"): a spreadsheet program would otherwise take "=..." as a formula.
        sheet.append([values.get(name, "") for name in importing.COLUMN_NAMES])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("extension", "make"), [(".csv", _csv), (".xlsx", _xlsx)])
def test_import_stores_injection_strings_verbatim_and_pages_escape_them(world, client, extension, make):
    job = importing.import_job_create(
        actor=world.iom_af_staff, office=world.iom_af, file_name=f"people{extension}", content=make(_import_rows())
    )
    assert job.status == job.Status.DONE, job.errors
    client.force_login(world.iom_af_staff)
    assert client.get(reverse("beneficiaries:import_job_detail", args=[job.pk])).status_code == 200
    for payload in PAYLOADS:
        p = Beneficiary.objects.get(given_name=payload)
        for column in IMPORT_TEXT_COLUMNS:
            assert getattr(p, column) == _model_fitted(column, payload), column  # verbatim
        html = client.get(reverse("beneficiaries:beneficiary_detail", args=[p.pk])).content.decode()
        _assert_inert_page(html, {"given_name": payload})
        assert not any(m in html for m in RAW)


# --- Exports and PDFs ----------------------------------------------------------------------------------------


def _cells_are_inert(cells: list[str]) -> None:
    texts = [c for c in cells if isinstance(c, str) and c]
    assert not [c for c in texts if c.startswith(FORMULA_PREFIXES)], "a cell would run as a formula"
    assert '\'=HYPERLINK("http://x")' in texts and "'@SUM(1)" in texts  # neutralised, not dropped


def test_exports_neutralise_formulas_and_pdfs_are_produced(world, client):
    from openpyxl import load_workbook

    for payload in PAYLOADS:
        person(world.iom_de, actor=world.iom_de_staff, given_name=payload, address=payload)
    client.force_login(world.iom_de_staff)
    export = reverse("beneficiaries:beneficiary_export")
    response = client.get(export, {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response).decode("utf-8-sig"))))
    _cells_are_inert([cell for row in rows[1:] for cell in row])
    response = client.get(export, {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response)), read_only=True).worksheets[0]
    _cells_are_inert([cell for row in list(sheet.iter_rows(values_only=True))[1:] for cell in row])

    # A pre-departure list naming people with these strings: its CSV neutralised, its PDF produced.
    c = scheduled(world.iom_de, world.iom_de_staff, days=5)
    for p in Beneficiary.objects.filter(given_name__in=PAYLOADS):
        from returns import services as return_services

        return_services.return_case_add_member(actor=world.iom_de_staff, case=c, beneficiary=p)
    notification_services.pre_departure_lists_build(actor=None)
    entry = PreDepartureEntry.objects.filter(given_name__in=PAYLOADS).first()
    assert entry is not None
    client.force_login(world.unhcr_de_staff)
    response = client.get(reverse("notifications:list_csv", args=[entry.list_id]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response).decode("utf-8-sig"))))
    _cells_are_inert([cell for row in rows[1:] for cell in row])
    response = client.get(reverse("notifications:list_pdf", args=[entry.list_id]))
    assert response.status_code == 200 and b"".join(response).startswith(b"%PDF")
    html = client.get(reverse("notifications:list_detail", args=[entry.list_id])).content.decode()
    assert "<script>alert(1)" not in html and escape("<script>alert(1)</script>") in html

    # An LoU whose texts hold the strings: its PDF is produced.
    lou = lou_factories.draft(world, title="<script>alert(1)</script>", linkages='=HYPERLINK("http://x")')
    client.force_login(world.iom_af_staff)
    response = client.get(reverse("letters_of_understanding:lou_pdf", args=[lou.pk]))
    assert response.status_code == 200 and b"".join(response).startswith(b"%PDF")


# --- The API's write endpoints -----------------------------------------------------------------------------


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(raw, renderer_context={}))


def api_text_fields(schema: dict, path: str, method: str) -> dict[str, int | None]:
    """The plain-text properties of an operation's JSON request body (string, no enum/format/pattern), from the
    OpenAPI schema: a new text field of a serializer is covered without touching this test."""
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    return {
        name: prop.get("maxLength")
        for name, prop in component["properties"].items()
        if prop.get("type") == "string"
        and not ({"enum", "format", "pattern", "$ref", "oneOf", "allOf"} & set(prop))
        and not prop.get("readOnly")
    }


API_CASES = {
    "person": ("/api/v1/beneficiaries/", lambda w: {
        "office": "IOM-AF-KBL", "category": "asylum_seeker", "given_name": "Mohammad", "family_name": "Ahmadi",
        "sex": "male", "date_of_birth": "1990-05-01", "nationality": "AF", "country_of_residence": "DE",
    }),
    "letter of understanding": ("/api/v1/letters-of-understanding/", lambda w: {
        "unhcr_office": "UNHCR-AF-KBL", "iom_office": "IOM-AF-KBL", "title": "Returns to Herat",
        "operational_situation": "Returns", "countries": ["AF"], "categories": ["returnee"],
        "start_date": TODAY.isoformat(), "end_date": (TODAY + dt.timedelta(days=365)).isoformat(),
    }),
    "repatriation operation": ("/api/v1/repatriation-operations/", lambda w: {
        "office": "UNHCR-AF-KBL", "title": "Return to Herat", "kind": "organised", "country_of_origin": "AF",
    }),
    "consultation": ("/api/v1/consultations/", lambda w: {
        "held_on": TODAY.isoformat(), "recorded_by_office": "IOM-AF-KBL", "offices": ["UNHCR-AF-KBL"],
        "participants": "Both", "subject_kind": "rejected_asylum_seekers", "subject": "Returns",
    }),
    "return case": ("/api/v1/return-cases/", lambda w: {
        "kind": "avr_asylum_seeker", "lead_office": "IOM-AF-KBL",
        "principal": person(w.iom_af, actor=w.iom_af_staff).pk, "members": [],
        "country_of_departure": "AF", "country_of_return": "PK",
    }),
}  # fmt: skip


def _api(world, office, actor):
    _, token = jointops_services.api_client_create(
        actor=actor, name="Partner", office=office, scopes=access.all_scopes()
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


@pytest.mark.parametrize("name", list(API_CASES))
def test_api_writes_store_injection_strings_verbatim(world, name):
    path, base = API_CASES[name]
    schema = _schema()
    create_fields = api_text_fields(schema, path, "post")
    assert create_fields, f"{path}: no text field in the schema"
    office = world.unhcr_af if base(world).get("office") == "UNHCR-AF-KBL" else world.iom_af
    api = _api(world, office, world.unhcr_admin if office == world.unhcr_af else world.iom_admin)
    detail = path + "{id}/"
    patch_fields = api_text_fields(schema, detail, "patch") if "patch" in schema["paths"].get(detail, {}) else {}
    for payload in PAYLOADS:
        values = {f: payload[:limit] if limit else payload for f, limit in create_fields.items()}
        response = api.post(path, {**base(world), **values}, format="json")
        if response.status_code == 400:  # refused by name: send a plain value there
            refused = {e["field"] for e in response.json()["errors"]}
            assert refused <= set(values), response.json()
            values = {f: v for f, v in values.items() if f not in refused}
            response = api.post(path, {**base(world), **values}, format="json")
        assert response.status_code == 201, response.content
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        stored = {f: v for f, v in values.items() if f in body}
        assert stored and all(body[f] == v for f, v in stored.items())
        again = api.get(path + f"{body['id']}/")
        assert again.status_code == 200
        assert all(again.json()[f] == v for f, v in stored.items())
        if patch_fields:  # and the same strings through PATCH (with the record's version)
            values = {f: payload[:limit] if limit else payload for f, limit in patch_fields.items()}
            response = api.patch(path + f"{body['id']}/", values, format="json", HTTP_IF_MATCH=again["ETag"])
            assert response.status_code in (200, 400), response.content
            if response.status_code == 200:
                assert all(response.json()[f] == v for f, v in values.items() if f in response.json())
