"""The person's requests about their data (issue 8: "correction and deletion requests recorded with their outcome"):
record and decide them through the services and the pages; refusals name the field and write nothing; a stale
version is a conflict; a granted deletion anonymises the person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from beneficiaries import services as beneficiary_services
from beneficiaries.models import Beneficiary
from jointops.exceptions import Conflict, PermissionRefused, StaleVersion, ValidationFailed
from jointops.models import AccessLog
from privacy import services
from privacy.models import Anonymisation, DataSubjectRequest
from tests.factories.beneficiaries import person
from tests.factories.returns import case

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - dt.timedelta(days=1)
TOMORROW = TODAY + dt.timedelta(days=1)


def _record(w, p=None, *, actor=None, **values):
    p = p or person(w.iom_af, actor=w.iom_af_staff)
    fields = {"kind": "correction", "received_on": YESTERDAY, "channel": "in_person", "details": "Date of birth"}
    fields.update(values)
    return services.request_record(actor=actor or w.iom_af_staff, person=p, **fields)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Services: recording ----------------------------------------------------------------------------------------


def test_request_record_at_the_persons_office_with_history(world):
    p = person(world.iom_af_field, actor=world.iom_field_staff)

    request = _record(world, p, actor=world.iom_field_staff, kind="deletion", details="Delete my record")

    assert (request.office, request.kind, request.status, request.version) == (
        world.iom_af_field,
        "deletion",
        "open",
        1,
    )
    assert request.recorded_by == world.iom_field_staff and request.received_on == YESTERDAY
    (history,) = request.history.all()
    assert history.history_type == "+" and history.history_user == world.iom_field_staff


@pytest.mark.parametrize("who", ["iom_hq_focal", "iom_admin", "iom_de_staff", "unhcr_af_staff"])
def test_request_record_refused_outside_the_office_or_role(world, who):
    p = person(world.iom_af, actor=world.iom_af_staff)

    with pytest.raises(PermissionRefused):
        _record(world, p, actor=getattr(world, who))
    assert DataSubjectRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "erase"}, "kind"),
        ({"channel": "pigeon"}, "channel"),
        ({"received_on": TOMORROW}, "received_on"),
        ({"received_on": "yesterday"}, "received_on"),
        ({"details": "a\x00b"}, "details"),
        ({"details": "x" * 4001}, "details"),
    ],
)
def test_request_record_bad_input_names_the_field_and_writes_nothing(world, values, field):
    p = person(world.iom_af, actor=world.iom_af_staff)

    with pytest.raises(ValidationFailed) as refused:
        _record(world, p, **values)
    assert refused.value.field == field
    assert DataSubjectRequest.objects.count() == 0


def test_request_record_on_a_merged_record_is_refused(world):
    survivor = person(world.iom_af, actor=world.iom_af_staff)
    duplicate = person(world.iom_af, actor=world.iom_af_staff)
    beneficiary_services.beneficiary_merge(actor=world.iom_af_staff, survivor=survivor, duplicate=duplicate)
    duplicate.refresh_from_db()

    with pytest.raises(ValidationFailed) as refused:
        _record(world, duplicate)
    assert refused.value.field == "person" and str(survivor.pk) in str(refused.value.message)


# --- Services: deciding -----------------------------------------------------------------------------------------


def test_request_decide_records_the_outcome_and_who(world):
    request = _record(world)

    decided = services.request_decide(
        request, status="granted", outcome="Corrected to 1990", actor=world.iom_af_manager, version=1
    )

    decided.refresh_from_db()
    assert (decided.status, decided.outcome, decided.decided_on) == ("granted", "Corrected to 1990", TODAY)
    assert decided.decided_by == world.iom_af_manager and decided.version == 2
    assert [h.status for h in decided.history.order_by("history_date")] == ["open", "granted"]


@pytest.mark.parametrize("status", ["refused", "partly_granted"])
def test_request_decide_refusal_without_outcome_names_the_field_and_writes_nothing(world, status):
    request = _record(world)

    with pytest.raises(ValidationFailed) as refused:
        services.request_decide(request, status=status, outcome="  ", actor=world.iom_af_manager, version=1)

    assert refused.value.field == "outcome"
    request.refresh_from_db()
    assert (request.status, request.version, request.decided_by, request.history.count()) == ("open", 1, None, 1)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"decided_on": YESTERDAY - dt.timedelta(days=1)}, "decided_on"),  # before it was received
        ({"decided_on": TOMORROW}, "decided_on"),
        ({"status": "open"}, "status"),
        ({"status": "maybe"}, "status"),
        ({"outcome": "\x00"}, "outcome"),
    ],
)
def test_request_decide_bad_input_names_the_field_and_writes_nothing(world, values, field):
    request = _record(world)
    arguments = {"status": "granted", "outcome": "ok", **values}

    with pytest.raises(ValidationFailed) as refused:
        services.request_decide(request, actor=world.iom_af_manager, version=1, **arguments)

    assert refused.value.field == field
    request.refresh_from_db()
    assert (request.status, request.version) == ("open", 1)


def test_request_decide_a_closed_request_is_refused(world):
    request = _record(world)
    services.request_decide(request, status="withdrawn", outcome="", actor=world.iom_af_manager, version=1)

    with pytest.raises(Conflict):
        services.request_decide(request, status="granted", outcome="", actor=world.iom_af_manager, version=2)
    request.refresh_from_db()
    assert (request.status, request.version) == ("withdrawn", 2)


def test_request_decide_stale_version_is_a_conflict(world):
    request = _record(world)
    services.request_decide(request, status="refused", outcome="No basis", actor=world.iom_af_manager, version=1)

    with pytest.raises(StaleVersion):
        services.request_decide(request, status="granted", outcome="", actor=world.iom_af_manager, version=1)
    request.refresh_from_db()
    assert (request.status, request.outcome) == ("refused", "No basis")


@pytest.mark.parametrize("who", ["iom_af_staff", "iom_hq_focal", "iom_de_manager", "unhcr_af_manager"])
def test_request_decide_only_by_the_office_manager_of_the_record(world, who):
    request = _record(world)

    with pytest.raises(PermissionRefused):
        services.request_decide(request, status="granted", outcome="", actor=getattr(world, who), version=1)
    request.refresh_from_db()
    assert request.status == "open"


def test_request_decide_granted_deletion_anonymises_the_person(world):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Zainab", family_name="Rahimi", phone="+93 7000")
    beneficiary_services.document_add(actor=world.iom_af_staff, beneficiary=p, document_type="passport", number="P9")
    request = _record(world, p, kind="deletion", details="Please delete")

    services.request_decide(request, status="granted", outcome="Anonymised", actor=world.iom_af_manager, version=1)

    p.refresh_from_db()
    assert p.anonymised_at is not None
    assert "Zainab" not in (p.given_name, p.family_name) and "Rahimi" not in (p.given_name, p.family_name)
    assert p.phone == "" and list(p.documents.values_list("number", flat=True)) != ["P9"]
    (row,) = Anonymisation.objects.filter(object_id=p.pk)
    assert (row.reason, row.request, row.by) == ("deletion_request", request, world.iom_af_manager)


@pytest.mark.parametrize("status", ["refused", "partly_granted"])
def test_request_decide_deletion_not_granted_keeps_the_names(world, status):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Zainab")
    request = _record(world, p, kind="deletion")

    services.request_decide(request, status=status, outcome="Still needed", actor=world.iom_af_manager, version=1)

    p.refresh_from_db()
    assert (p.given_name, p.anonymised_at) == ("Zainab", None)


def test_request_decide_granted_deletion_with_an_open_case_is_refused_and_stays_open(world):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Zainab")
    case(world.iom_af, world.iom_af_staff, principal=p)
    request = _record(world, p, kind="deletion")

    with pytest.raises(Conflict):
        services.request_decide(request, status="granted", outcome="", actor=world.iom_af_manager, version=1)

    p.refresh_from_db()
    request.refresh_from_db()
    assert (p.given_name, request.status, request.version) == ("Zainab", "open", 1)


def test_request_decide_granted_correction_leaves_the_record_to_the_edit_page(world):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Zainab")
    request = _record(world, p)

    services.request_decide(request, status="granted", outcome="Name spelling", actor=world.iom_af_manager, version=1)

    p.refresh_from_db()
    assert p.given_name == "Zainab"  # the correction is made through beneficiary_update, whose history keeps both


# --- Pages ------------------------------------------------------------------------------------------------------


def test_request_list_is_scoped_and_filterable(world):
    own = _record(world, kind="access")
    decided = _record(world, kind="deletion")
    services.request_decide(decided, status="refused", outcome="Case open", actor=world.iom_af_manager, version=1)
    other = _record(world, person(world.iom_de, actor=world.iom_de_staff), actor=world.iom_de_staff)
    url = reverse("privacy:request_list")

    def listed(user, **params):
        response = _client(user).get(url, params)
        assert response.status_code == 200
        return {r.pk for r in response.context["object_list"]}

    assert listed(world.iom_af_staff) == {own.pk, decided.pk}
    assert listed(world.iom_hq_focal) == {own.pk, decided.pk, other.pk}
    assert listed(world.iom_de_manager) == {other.pk}
    assert listed(world.unhcr_hq_focal) == set()
    assert listed(world.iom_af_manager, status="refused") == {decided.pk}
    assert listed(world.iom_af_manager, kind="access") == {own.pk}
    assert listed(world.iom_hq_focal, office="IOM-DE-BER") == {other.pk}
    assert listed(world.iom_af_manager, status="nonsense") == set()  # an invalid filter shows nothing, no error


def test_request_list_refused_to_administrators(world):
    assert _client(world.iom_admin).get(reverse("privacy:request_list")).status_code == 403


def test_request_list_names_people_and_logs_the_read(world):
    request = _record(world)
    before = AccessLog.objects.count()

    html = _client(world.iom_af_staff).get(reverse("privacy:request_list")).content.decode()

    assert request.person.given_name in html
    row = AccessLog.objects.order_by("-pk").first()
    assert AccessLog.objects.count() == before + 1 and row.object_ids == [str(request.person_id)]


def test_request_create_page_records_a_request(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    url = reverse("privacy:request_create") + f"?person={p.pk}"
    client = _client(world.iom_af_staff)

    assert client.get(url).status_code == 200
    response = client.post(
        url, {"kind": "deletion", "received_on": YESTERDAY.isoformat(), "channel": "letter", "details": "Delete"}
    )

    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("privacy:request_detail", args=[request.pk])
    assert (request.person, request.kind, request.channel, request.details) == (p, "deletion", "letter", "Delete")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "deletion", "received_on": TOMORROW.isoformat(), "channel": "letter"}, "received_on"),
        ({"kind": "deletion", "received_on": "31/02/2026", "channel": "letter"}, "received_on"),
        ({"kind": "<script>", "received_on": TODAY.isoformat(), "channel": "letter"}, "kind"),
        ({"kind": "access", "received_on": TODAY.isoformat(), "channel": "letter", "details": "a\x00"}, "details"),
    ],
)
def test_request_create_page_bad_input_shows_the_field_error_and_writes_nothing(world, data, field):
    p = person(world.iom_af, actor=world.iom_af_staff)
    url = reverse("privacy:request_create") + f"?person={p.pk}"

    response = _client(world.iom_af_staff).post(url, data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert DataSubjectRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [("iom_hq_focal", 403), ("iom_de_staff", 404), ("unhcr_af_manager", 404), ("iom_admin", 404)],
)
def test_request_create_page_refused(world, who, status):
    p = person(world.iom_af, actor=world.iom_af_staff)
    url = reverse("privacy:request_create") + f"?person={p.pk}"
    data = {"kind": "access", "received_on": TODAY.isoformat(), "channel": "letter"}

    client = _client(getattr(world, who))
    assert client.get(url).status_code == status
    assert client.post(url, data).status_code == status
    assert DataSubjectRequest.objects.count() == 0


@pytest.mark.parametrize("query", ["", "?person=", "?person=abc", "?person=99999999", "?person=-1", "?person=1e3"])
def test_request_create_page_without_a_visible_person_is_404(world, query):
    response = _client(world.iom_af_staff).get(reverse("privacy:request_create") + query)
    assert response.status_code == 404


def test_request_create_page_with_a_null_byte_is_refused_not_a_server_error(world):
    response = _client(world.iom_af_staff).get(reverse("privacy:request_create") + "?person=1%00")
    assert response.status_code in (400, 404)


def test_request_create_page_enforces_csrf(world):
    p = person(world.iom_af, actor=world.iom_af_staff)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.iom_af_staff)
    url = reverse("privacy:request_create") + f"?person={p.pk}"

    response = client.post(url, {"kind": "access", "received_on": TODAY.isoformat(), "channel": "letter"})

    assert response.status_code == 403 and DataSubjectRequest.objects.count() == 0


def test_request_detail_page_decides(world):
    request = _record(world, kind="access")
    url = reverse("privacy:request_detail", args=[request.pk])
    client = _client(world.iom_af_manager)

    page = client.get(url)
    assert page.status_code == 200 and page.context["form"] is not None
    assert reverse("privacy:person_export_pdf", args=[request.person_id]) in page.content.decode()
    response = client.post(url, {"status": "granted", "outcome": "Export given", "decided_on": "", "version": 1})

    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.outcome, request.decided_on) == ("granted", "Export given", TODAY)
    assert "form" not in client.get(url).context  # decided: no form any more


def test_request_detail_page_refusal_without_outcome_shows_the_error(world):
    request = _record(world)
    url = reverse("privacy:request_detail", args=[request.pk])

    response = _client(world.iom_af_manager).post(url, {"status": "refused", "outcome": "", "version": 1})

    assert response.status_code == 200 and "outcome" in response.context["form"].errors
    request.refresh_from_db()
    assert request.status == "open"


def test_request_detail_page_stale_version_says_so(world):
    request = _record(world)
    services.request_decide(request, status="refused", outcome="No", actor=world.iom_af_manager, version=1)
    DataSubjectRequest.objects.filter(pk=request.pk).update(status="open")  # reopened elsewhere, version 2

    response = _client(world.iom_af_manager).post(
        reverse("privacy:request_detail", args=[request.pk]), {"status": "granted", "outcome": "", "version": 1}
    )

    assert response.status_code == 200
    assert "Someone else changed this request" in response.content.decode()
    request.refresh_from_db()
    assert request.outcome == "No"


def test_request_detail_page_granted_deletion_anonymises(world):
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Zainab", family_name="Rahimi")
    request = _record(world, p, kind="deletion")
    url = reverse("privacy:request_detail", args=[request.pk])

    response = _client(world.iom_af_manager).post(url, {"status": "granted", "outcome": "", "version": 1})

    assert response.status_code == 302
    p.refresh_from_db()
    assert p.anonymised_at is not None and "Zainab" not in p.given_name
    html = _client(world.iom_af_manager).get(url).content.decode()
    assert "anonymised" in html and "Zainab" not in html and "Rahimi" not in html
    person_page = _client(world.iom_af_staff).get(reverse("beneficiaries:beneficiary_detail", args=[p.pk]))
    assert "This record was anonymised" in person_page.content.decode()


def test_request_detail_page_granted_correction_links_to_the_edit_page(world):
    request = _record(world)
    services.request_decide(request, status="granted", outcome="Fixed", actor=world.iom_af_manager, version=1)

    html = _client(world.iom_af_manager).get(reverse("privacy:request_detail", args=[request.pk])).content.decode()

    assert reverse("beneficiaries:beneficiary_update", args=[request.person_id]) in html


@pytest.mark.parametrize(
    ("who", "get", "post"),
    [
        ("iom_af_staff", 200, 403),
        ("iom_hq_focal", 200, 403),
        ("iom_de_manager", 404, 404),
        ("unhcr_af_manager", 404, 404),
        ("unhcr_hq_focal", 404, 404),
        ("iom_admin", 404, 404),
    ],
)
def test_request_detail_page_access(world, who, get, post):
    request = _record(world)
    url = reverse("privacy:request_detail", args=[request.pk])
    client = _client(getattr(world, who))

    page = client.get(url)
    assert page.status_code == get
    if get == 200:
        assert "form" not in page.context  # no decision offered
    assert client.post(url, {"status": "granted", "outcome": "", "version": 1}).status_code == post
    request.refresh_from_db()
    assert request.status == "open"


def test_request_detail_page_view_is_access_logged(world):
    request = _record(world)
    before = AccessLog.objects.count()

    _client(world.iom_af_staff).get(reverse("privacy:request_detail", args=[request.pk]))

    row = AccessLog.objects.order_by("-pk").first()
    assert AccessLog.objects.count() == before + 1
    assert (row.action, row.resource, row.object_ids) == ("view", "beneficiary", [str(request.person_id)])


def test_request_pages_render_script_injection_inert(world):
    payload = "<script>alert(1)</script>' OR 1=1 --"
    request = _record(world, details=payload)

    html = _client(world.iom_af_manager).get(reverse("privacy:request_detail", args=[request.pk])).content.decode()

    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert Beneficiary.objects.filter(pk=request.person_id).exists()


def test_request_list_makes_the_same_queries_whatever_the_rows(world):
    """The budget check of tests/jointops/test_query_budgets.py, for this page (its entry in query_counts.json)."""
    import json
    from pathlib import Path

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    budget = json.loads((Path(__file__).resolve().parents[1] / "query_counts.json").read_text())["pages"][
        "privacy:request_list"
    ]["budget"]
    client, url, counts, made = _client(world.iom_af_staff), reverse("privacy:request_list"), {}, 0
    client.get(url)
    for rows in (1, 10, 30):
        for _ in range(rows - made):
            _record(world, kind="access")
        made = rows
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert len(response.context["object_list"]) == min(rows, 25)
        counts[rows] = len(queries)
    assert len(set(counts.values())) == 1, counts
    assert counts[30] <= budget, counts
