"""Browser pages of import and export: who may use them, the upload, the job page and its htmx progress, the report,
the template, the export of the filtered list."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from beneficiaries import importing
from beneficiaries.models import Beneficiary, ImportJob
from jointops.models import AccessLog
from tests.beneficiaries.test_importing import csv_bytes, row
from tests.factories.beneficiaries import person
from tests.factories.jointops import PASSWORD

IMPORT_URL = reverse("beneficiaries:beneficiary_import")
TEMPLATE_URL = reverse("beneficiaries:beneficiary_import_template")
EXPORT_URL = reverse("beneficiaries:beneficiary_export")


def signed_in(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def upload(client, office, content: bytes, name: str = "people.csv"):
    file = io.BytesIO(content)
    file.name = name
    return client.post(IMPORT_URL, {"office": office.pk, "file": file})


def test_import_page_offers_only_offices_where_the_user_may_register(client, world):
    response = signed_in(client, world.iom_af_manager).get(IMPORT_URL)
    assert response.status_code == 200
    offices = {o.code for o in response.context["form"].fields["office"].queryset}
    assert offices == {"IOM-AF-KBL", "IOM-AF-HRT"}
    assert b"given_name" in response.content and b"?format=xlsx" in response.content


@pytest.mark.parametrize("actor_name", ["iom_hq_focal", "iom_admin", "unhcr_admin"])
def test_import_pages_refused_for_roles_that_do_not_register_people(client, world, actor_name):
    signed_in(client, getattr(world, actor_name))
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, world.iom_af, csv_bytes([row()])).status_code == 403
    assert client.get(TEMPLATE_URL).status_code == 403
    assert not ImportJob.objects.exists() and not Beneficiary.objects.exists()


def test_import_pages_send_anonymous_visitors_to_sign_in(client, world):
    job = importing.import_job_create(
        actor=world.iom_af_staff, office=world.iom_af, file_name="a.csv", content=csv_bytes([row()])
    )
    for url in (
        IMPORT_URL,
        TEMPLATE_URL,
        EXPORT_URL,
        reverse("beneficiaries:import_job_detail", args=[job.pk]),
        reverse("beneficiaries:import_job_report", args=[job.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_import_upload_small_file_imports_and_shows_the_job(client, world):
    signed_in(client, world.iom_af_staff)
    response = upload(client, world.iom_af, csv_bytes([row(), row(given_name="Omar")]))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "beneficiaries:import_job_detail", args=[job.pk]
    )
    assert Beneficiary.objects.count() == 2
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"2 people imported" in page.content
    assert b"hx-trigger" not in page.content  # finished: no more polling


def test_import_upload_with_errors_shows_every_error_by_row_and_column(client, world):
    signed_in(client, world.iom_af_staff)
    response = upload(client, world.iom_af, csv_bytes([row(date_of_birth="1990-13-01"), row(category="x")]))
    page = client.get(response["Location"])
    content = page.content.decode()
    assert "Nothing was imported" in content
    assert '<td>2</td><td class="font-monospace">date_of_birth</td>' in content
    assert '<td>3</td><td class="font-monospace">category</td>' in content
    assert not Beneficiary.objects.exists()
    report = client.get(reverse("beneficiaries:import_job_report", args=[ImportJob.objects.get().pk]))
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert [(r[1], r[2]) for r in rows[1:]] == [("2", "date_of_birth"), ("3", "category")]


def test_import_upload_to_an_office_of_the_other_agency_is_refused(client, world):
    signed_in(client, world.iom_af_staff)
    response = upload(client, world.unhcr_af, csv_bytes([row()]))
    assert response.status_code == 200 and response.context["form"].errors["office"]
    assert not ImportJob.objects.exists() and not Beneficiary.objects.exists()


def test_import_upload_of_a_file_that_is_not_csv_shows_the_error_on_the_file(client, world):
    signed_in(client, world.iom_af_staff)
    response = upload(client, world.iom_af, b"\x89PNG\r\n\x1a\n\x00", name="people.csv")
    assert response.status_code == 200 and "not CSV text" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_import_upload_over_the_size_limit_is_refused_before_reading(client, world, settings):
    settings.IMPORT_MAX_BYTES = 50
    signed_in(client, world.iom_af_staff)
    response = upload(client, world.iom_af, csv_bytes([row()]))
    assert response.status_code == 200 and "larger than" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_import_job_page_polls_while_running_and_answers_htmx_with_the_partial(client, world, settings):
    settings.IMPORT_INLINE_ROWS = 0
    signed_in(client, world.iom_af_staff)
    upload(client, world.iom_af, csv_bytes([row()]))
    job = ImportJob.objects.get()
    url = reverse("beneficiaries:import_job_detail", args=[job.pk])
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page and f'hx-get="{url}"' in page and "<html" in page
    ImportJob.objects.filter(pk=job.pk).update(status="validating", total_rows=4, processed_rows=1)
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'value="25"' in partial and "every 1s" in partial
    importing.import_job_run(job_id=job.pk)
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "every 1s" not in partial and "1 person imported" in partial


@pytest.mark.parametrize("actor_name", ["iom_af_manager", "unhcr_af_staff", "iom_hq_focal"])
def test_import_job_of_another_user_answers_404(client, world, actor_name):
    job = importing.import_job_create(
        actor=world.iom_af_staff, office=world.iom_af, file_name="a.csv", content=csv_bytes([row()])
    )
    signed_in(client, getattr(world, actor_name))
    assert client.get(reverse("beneficiaries:import_job_detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("beneficiaries:import_job_report", args=[job.pk])).status_code == 404


@pytest.mark.parametrize(("fmt", "kind"), [("csv", "text/csv"), ("xlsx", "spreadsheetml")])
def test_import_template_download(client, world, fmt, kind):
    response = signed_in(client, world.iom_af_staff).get(TEMPLATE_URL, {"format": fmt})
    assert response.status_code == 200 and kind in response["Content-Type"]
    assert "attachment" in response["Content-Disposition"]
    if fmt == "csv":
        assert response.content == importing.import_template_csv()


def test_import_template_unknown_format_is_a_clear_400(client, world):
    response = signed_in(client, world.iom_af_staff).get(TEMPLATE_URL, {"format": "pdf"})
    assert response.status_code == 400 and b"csv or xlsx" in response.content


def test_export_of_the_filtered_list_as_csv_is_access_logged(client, world):
    af = person(world.iom_af, actor=world.iom_af_staff, nationality="AF", phone="+93 1")
    person(world.iom_af, actor=world.iom_af_staff, nationality="SY")
    response = signed_in(client, world.iom_af_staff).get(EXPORT_URL, {"format": "csv", "nationality": "AF"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == [str(af.pk)] and rows[0]["phone"] == "'+93 1"
    entry = AccessLog.objects.get(action="export")
    assert entry.object_ids == [str(af.pk)] and entry.path == EXPORT_URL


def test_export_xlsx_for_hq_has_no_contact_details(client, world):
    from openpyxl import load_workbook

    person(world.iom_af, actor=world.iom_af_staff, phone="+93 CANARY", email="canary@example.org")
    response = signed_in(client, world.iom_hq_focal).get(EXPORT_URL, {"format": "xlsx"})
    assert response.status_code == 200
    header = next(load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0].iter_rows(values_only=True))
    assert "phone" not in header and "email" not in header and "given_name" in header


@pytest.mark.parametrize("actor_name", ["iom_admin", "unhcr_admin"])
def test_export_refused_for_roles_without_the_right(client, world, actor_name):
    person(world.iom_af, actor=world.iom_af_staff)
    response = signed_in(client, getattr(world, actor_name)).get(EXPORT_URL, {"format": "csv"})
    assert response.status_code == 403 and not AccessLog.objects.filter(action="export").exists()


@pytest.mark.parametrize("params", [{"format": "pdf"}, {"format": "csv", "nationality": "XX"}])
def test_export_with_a_bad_format_or_filter_goes_back_to_the_list_with_a_message(client, world, params):
    response = signed_in(client, world.iom_af_staff).get(EXPORT_URL, params, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("beneficiaries:beneficiary_list"))
    assert "export could not be made" in response.content.decode()
    assert not AccessLog.objects.filter(action="export").exists()
