"""Issue 8, accountability: the access log page (scoping, filters, bad input), its CSV/XLSX export, its append-only
guarantees (ORM, database, admin), and the alert on bulk reading."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from jointops import exporting, services
from jointops.audit import ACCESS_ALERT_NOTICE_KIND, access_alert_check, log_access
from jointops.models import AccessAlert, AccessLog, User
from notifications import delivery
from notifications.choices import Channel, EmailPreference
from notifications.models import Delivery, Notification, NotificationSettings
from tests.factories.beneficiaries import person
from tests.factories.jointops import UserFactory

URL = "/access-log/"


def _page(client, viewer, params=None):
    client.force_login(viewer)
    response = client.get(reverse("jointops:access_log_list"), params)
    assert response.status_code == 200
    return response


def _partner(world, organisation="iom"):
    admin, office = (world.iom_admin, world.iom_af) if organisation == "iom" else (world.unhcr_admin, world.unhcr_af)
    client, _token = services.api_client_create(
        actor=admin, name=f"{organisation} registration system", office=office, scopes=["beneficiaries:read"]
    )
    return client


@pytest.fixture
def logged(world):
    """Reads by staff and partner systems of both agencies."""
    world.iom_partner = _partner(world, "iom")
    world.unhcr_partner = _partner(world, "unhcr")
    world.rows = {
        "iom_staff": log_access(
            actor=world.iom_af_staff, action="view", resource="beneficiary", object_ids=[123], purpose="case work"
        ),
        "iom_de": log_access(actor=world.iom_de_staff, action="list", resource="beneficiary", object_ids=[1, 1234]),
        "iom_partner": log_access(actor=world.iom_partner, action="list", resource="beneficiary", object_ids=[7, 8]),
        "iom_dashboard": log_access(
            actor=world.iom_hq_focal, action="export", resource="dashboard", object_ids=[], record_count=4
        ),
        "unhcr_staff": log_access(actor=world.unhcr_af_staff, action="view", resource="beneficiary", object_ids=[123]),
        "unhcr_partner": log_access(actor=world.unhcr_partner, action="list", resource="beneficiary", object_ids=[9]),
    }
    return world


def _shown(response) -> set[int]:
    return {entry.pk for entry in response.context["object_list"]}


def _pks(world, *keys) -> set[int]:
    return {world.rows[key].pk for key in keys}


# --- Who sees which entries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["iom_hq_focal", "iom_admin"])
def test_iom_hq_and_administrators_see_iom_staff_and_partner_systems_only(logged, client, viewer):
    response = _page(client, getattr(logged, viewer))
    assert _shown(response) == _pks(logged, "iom_staff", "iom_de", "iom_partner", "iom_dashboard")


def test_unhcr_administrator_sees_unhcr_entries_only(logged, client):
    assert _shown(_page(client, logged.unhcr_admin)) == _pks(logged, "unhcr_staff", "unhcr_partner")


def test_superuser_sees_every_entry(logged, client):
    root = UserFactory(username="root", is_superuser=True, is_staff=True, organisation=None)
    assert _shown(_page(client, root)) == set(AccessLog.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("viewer", ["iom_af_staff", "iom_af_manager"])
def test_field_staff_and_managers_are_refused_page_and_export(logged, client, viewer):
    client.force_login(getattr(logged, viewer))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"format": "csv"}).status_code == 403
    assert not AccessLog.objects.filter(resource="access_log").exists()


def test_page_shows_person_count_purpose_and_the_partner_system(logged, client):
    html = _page(client, logged.iom_hq_focal).content.decode()
    assert "case work" in html
    assert logged.iom_partner.name in html and f"?api_client={logged.iom_partner.pk}" in html
    assert "(4 records)" in html  # a dashboard export counts rows, not people
    assert 'href="?format=csv' in html and 'href="?format=xlsx' in html


# --- Filters ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"user": "IOM_AF_STAFF"}, ["iom_staff"]),
        ({"action": "list"}, ["iom_de", "iom_partner"]),
        ({"resource": "dashboard"}, ["iom_dashboard"]),
        ({"record": "123"}, ["iom_staff"]),  # not 1234: the id, not a substring
        ({"record": "1"}, ["iom_de"]),
        ({"office": "iom-de-ber"}, ["iom_de"]),
        ({"office": "IOM-AF-KBL"}, ["iom_staff", "iom_partner"]),
    ],
)
def test_filters_narrow_the_entries(logged, client, params, expected):
    assert _shown(_page(client, logged.iom_admin, params)) == _pks(logged, *expected)


def test_partner_system_filter(logged, client):
    shown = _shown(_page(client, logged.iom_admin, {"api_client": logged.iom_partner.pk}))
    assert shown == _pks(logged, "iom_partner")
    # Another organisation's partner system: nothing, whatever its id.
    assert _shown(_page(client, logged.iom_admin, {"api_client": logged.unhcr_partner.pk})) == set()


def test_date_range_filter(logged, client):
    old = AccessLog.objects.create(
        at=timezone.now() - dt.timedelta(days=3), user=logged.iom_af_staff, action="view", resource="beneficiary"
    )
    since = (timezone.localtime() - dt.timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    until = (timezone.localtime() - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert _shown(_page(client, logged.iom_admin, {"since": since, "until": until})) == {old.pk}
    assert old.pk not in _shown(_page(client, logged.iom_admin, {"since": until}))


@pytest.mark.parametrize(
    "field,value",
    [
        ("api_client", "abc"),
        ("api_client", "99999999999999999999999"),
        ("api_client", "0"),
        ("action", "delete"),
        ("resource", "beneficiary'; DROP TABLE jointops_accesslog; --"),
        ("resource", "x" * 65),
        ("record", '1"]'),
        ("record", "1%"),
        ("record", "a b"),
        ("office", "NO-SUCH-OFFICE"),
        ("since", "yesterday"),
        ("until", "2026-13-45"),
        ("user", "u" * 151),
    ],
)
def test_bad_filter_values_answer_the_form_error_naming_the_field(logged, client, field, value):
    response = _page(client, logged.iom_admin, {field: value})
    form = response.context["filter_form"]
    assert field in form.errors, form.errors
    assert list(response.context["object_list"]) == []
    assert f'id="id_{field}_error"' in response.content.decode()


def test_a_period_ending_before_it_starts_is_refused_on_until(logged, client):
    response = _page(client, logged.iom_admin, {"since": "2026-05-02T10:00", "until": "2026-05-01T10:00"})
    assert list(response.context["filter_form"].errors) == ["until"]


# --- Export -------------------------------------------------------------------------------------------------------


def _csv_rows(response) -> list[dict]:
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_of_the_filtered_log_is_itself_logged(logged, client):
    client.force_login(logged.iom_admin)
    response = client.get(URL, {"format": "csv", "action": "list"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert {int(row["id"]) for row in rows} == _pks(logged, "iom_de", "iom_partner")
    by_id = {int(row["id"]): row for row in rows}
    assert by_id[logged.rows["iom_de"].pk]["record_ids"] == "1 1234"
    assert by_id[logged.rows["iom_partner"].pk]["partner_system"] == logged.iom_partner.name
    entry = AccessLog.objects.get(resource="access_log")
    assert (entry.action, entry.user, entry.record_count) == ("export", logged.iom_admin, 2)
    assert sorted(entry.object_ids) == sorted(str(pk) for pk in _pks(logged, "iom_de", "iom_partner"))
    assert "action=list" in entry.path


def test_xlsx_export_keeps_to_the_viewers_organisation(logged, client):
    client.force_login(logged.unhcr_hq_focal)
    response = client.get(URL, {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.values)
    assert header[0] == "id" and {row[0] for row in rows} == _pks(logged, "unhcr_staff", "unhcr_partner")
    assert AccessLog.objects.get(resource="access_log").user == logged.unhcr_hq_focal


def test_export_cells_that_would_run_as_formulas_are_neutralised(world, client):
    log_access(
        actor=world.iom_af_staff, action="view", resource="beneficiary", object_ids=[5], purpose='=HYPERLINK("x")'
    )
    client.force_login(world.iom_admin)
    [row] = _csv_rows(client.get(URL, {"format": "csv", "resource": "beneficiary"}))
    assert row["purpose"] == '\'=HYPERLINK("x")'
    sheet = load_workbook(io.BytesIO(client.get(URL, {"format": "xlsx", "resource": "beneficiary"}).content)).active
    assert '\'=HYPERLINK("x")' in list(sheet.values)[1]


@pytest.mark.parametrize("params", [{"format": "pdf"}, {"format": "csv", "since": "not a date"}])
def test_bad_export_request_writes_nothing_and_returns_to_the_page(logged, client, params):
    client.force_login(logged.iom_admin)
    response = client.get(URL, params)
    assert response.status_code == 302 and response["Location"].startswith(URL)
    assert not AccessLog.objects.filter(resource="access_log").exists()


def test_export_past_the_bound_is_refused_asking_for_narrower_filters(logged, client, monkeypatch):
    monkeypatch.setattr(exporting, "EXPORT_MAX_ROWS", 2)
    client.force_login(logged.iom_admin)
    response = client.get(URL, {"format": "csv"}, follow=True)
    assert "narrow the filters" in response.content.decode()
    assert not AccessLog.objects.filter(resource="access_log").exists()


# --- Append-only --------------------------------------------------------------------------------------------------


def test_orm_bulk_update_and_update_or_create_are_refused(world):
    entry = log_access(actor=world.iom_af_staff, action="view", resource="beneficiary", object_ids=[1])
    entry.purpose = "rewritten"
    with pytest.raises(PermissionError), transaction.atomic():
        AccessLog.objects.bulk_update([entry], ["purpose"])
    with pytest.raises(PermissionError), transaction.atomic():
        AccessLog.objects.update_or_create(pk=entry.pk, defaults={"purpose": "rewritten"})
    assert AccessLog.objects.get(pk=entry.pk).purpose == ""


@pytest.mark.parametrize("model", [AccessLog, AccessAlert])
def test_admin_shows_the_log_and_alerts_read_only(world, model):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    model_admin = admin_site._registry[model]
    request = type("Request", (), {"user": root})()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    entry = log_access(actor=world.iom_af_staff, action="view", resource="beneficiary", object_ids=[1])
    client = Client()
    client.force_login(root)
    opts = model._meta
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 403
    if model is AccessLog:
        change = reverse("admin:jointops_accesslog_change", args=[entry.pk])
        page = client.get(change)
        assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
        assert client.post(change, {"purpose": "x"}).status_code == 403
        delete = reverse("admin:jointops_accesslog_delete", args=[entry.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert AccessLog.objects.get(pk=entry.pk).purpose == ""


# --- Alert on bulk reading ----------------------------------------------------------------------------------------


@pytest.fixture
def limit(settings):
    settings.ACCESS_ALERT_RECORDS_PER_HOUR = 5
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return 5


def _read(actor, ids, capture, resource="beneficiary", action="list"):
    with capture(execute=True):
        log_access(actor=actor, action=action, resource=resource, object_ids=ids, path="/api/v1/beneficiaries/")


def test_reading_more_than_the_limit_alerts_the_organisations_administrators_once(
    world, limit, django_capture_on_commit_callbacks
):
    named = person(world.iom_af, given_name="Zarghuna", family_name="Wardak")
    _read(world.iom_af_staff, [named.pk, 2, 3], django_capture_on_commit_callbacks)
    assert not AccessAlert.objects.exists()  # 3 of 5
    _read(world.iom_af_staff, [4, 5, 6], django_capture_on_commit_callbacks)  # 6 > 5
    alert = AccessAlert.objects.get()
    assert (alert.user, alert.api_client, alert.organisation, alert.record_count) == (
        world.iom_af_staff,
        None,
        world.iom,
        6,
    )
    [notice] = Notification.objects.all()  # IOM's administrator only: not UNHCR's, not the reader
    assert notice.recipient == world.iom_admin and notice.kind == ACCESS_ALERT_NOTICE_KIND
    assert notice.get_kind_display() == "Bulk reading of person records (access log)"
    assert "iom_af_staff" in notice.title and "6" in notice.title and "hour" in notice.title
    assert notice.url.startswith(reverse("jointops:access_log_list") + "?user=iom_af_staff&since=")
    for text in (notice.title, notice.body):
        assert "Zarghuna" not in text and "Wardak" not in text
    # The e-mail, through the outbox.
    d = Delivery.objects.get(notification=notice)
    assert (d.channel, d.recipients) == (Channel.EMAIL, world.iom_admin.email)
    assert delivery.deliver(d.pk) == "done"
    [message] = mail.outbox
    assert message.to == [world.iom_admin.email] and notice.url in message.body and "Wardak" not in message.body
    # More reads within the hour: no second alert.
    _read(world.iom_af_staff, list(range(10, 30)), django_capture_on_commit_callbacks)
    assert AccessAlert.objects.count() == 1 and Notification.objects.count() == 1


def test_the_alert_link_opens_the_filtered_access_log(world, limit, django_capture_on_commit_callbacks, client):
    _read(world.iom_af_staff, list(range(1, 8)), django_capture_on_commit_callbacks)
    log_access(actor=world.iom_de_staff, action="view", resource="beneficiary", object_ids=[99])
    notice = Notification.objects.get()
    client.force_login(world.iom_admin)
    response = client.get(notice.url)
    assert response.status_code == 200 and not response.context["filter_form"].errors
    assert {entry.user for entry in response.context["object_list"]} == {world.iom_af_staff}
    html = response.content.decode()
    assert "Recent alerts" in html and "7 person records" in html


def test_a_partner_system_reading_in_bulk_alerts_its_organisations_administrators(
    world, limit, django_capture_on_commit_callbacks
):
    partner = _partner(world, "unhcr")
    _read(partner, list(range(1, 7)), django_capture_on_commit_callbacks)
    alert = AccessAlert.objects.get()
    assert (alert.api_client, alert.user, alert.organisation) == (partner, None, world.unhcr)
    [notice] = Notification.objects.all()
    assert notice.recipient == world.unhcr_admin and partner.name in notice.title
    assert f"api_client={partner.pk}" in notice.url


def test_exports_count_and_other_record_types_do_not(world, limit, django_capture_on_commit_callbacks):
    _read(world.iom_af_staff, [], django_capture_on_commit_callbacks, resource="dashboard")  # not people
    with django_capture_on_commit_callbacks(execute=True):
        log_access(actor=world.iom_hq_focal, action="export", resource="dashboard", record_count=50)
    assert not AccessAlert.objects.exists()
    _read(world.iom_af_staff, list(range(1, 7)), django_capture_on_commit_callbacks, action="export")
    assert AccessAlert.objects.get().user == world.iom_af_staff


def test_reads_older_than_an_hour_do_not_count(world, limit, django_capture_on_commit_callbacks):
    AccessLog.objects.create(
        at=timezone.now() - dt.timedelta(minutes=61),
        user=world.iom_af_staff,
        action="list",
        resource="beneficiary",
        object_ids=[str(i) for i in range(20)],
        record_count=20,
    )
    _read(world.iom_af_staff, [1, 2, 3], django_capture_on_commit_callbacks)
    assert not AccessAlert.objects.exists()


def test_a_read_that_rolls_back_alerts_nobody(world, limit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        log_access(actor=world.iom_af_staff, action="list", resource="beneficiary", object_ids=range(10))
        transaction.set_rollback(True)
    assert not AccessAlert.objects.exists() and not Notification.objects.exists()


def test_an_administrator_who_chose_no_emails_still_gets_the_alert_by_email(
    world, limit, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(user=world.iom_admin, email_preference=EmailPreference.NONE)
    inactive = UserFactory(username="former_admin", organisation=world.iom, is_active=False)
    services.membership_set(actor=None, user=inactive, office=world.iom_hq, role="administrator")
    _read(world.iom_af_staff, list(range(1, 7)), django_capture_on_commit_callbacks)
    assert list(Delivery.objects.values_list("recipients", flat=True)) == [world.iom_admin.email]
    assert not Notification.objects.filter(recipient=inactive).exists()


def test_one_alert_per_account_and_hour_in_the_database(world):
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    values = {"counted_since": now, "counted_until": now, "record_count": 600, "threshold": 500, "window_start": now}
    AccessAlert.objects.create(user=world.iom_af_staff, **values)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessAlert.objects.create(user=world.iom_af_staff, **values)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessAlert.objects.create(**values)  # no account


def test_check_under_the_limit_writes_nothing(world, limit):
    log_access(actor=world.iom_af_staff, action="list", resource="beneficiary", object_ids=range(5))  # exactly 5
    assert access_alert_check(user_id=world.iom_af_staff.pk) is None
    assert not AccessAlert.objects.exists() and not User.objects.filter(notifications__isnull=False).exists()
