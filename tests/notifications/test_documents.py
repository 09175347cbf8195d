"""The CSV of a pre-departure list (notifications.documents.list_csv_export): the same bytes whoever writes them —
PostgreSQL's COPY or Python's csv module — with formulas neutralised, and the access log naming the people in the
file's order."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from jointops.models import AccessLog
from notifications import documents, services
from notifications.choices import ChangeKind, Trigger
from notifications.models import PreDepartureEntry, PreDepartureList
from tests.factories.beneficiaries import person
from tests.factories.returns import scheduled

pytestmark = pytest.mark.django_db

HEADER = "given name,family name,expected departure date,change,IOM case reference,UNHCR registration number,late\r\n"
D = dt.date(2030, 1, 5)

# (stored values, the CSV record expected for them) — written out by hand, not by the code under test.
TRICKY = [
    (
        {"given_name": "Amina, Noor", "family_name": 'Al "Sham"', "expected_departure_date": D, "is_late": True},
        f'"Amina, Noor","Al ""Sham""",2030-01-05,{ChangeKind.NEW.label},RC-1,UNHCR-1,yes',
    ),
    (
        {
            "given_name": '=HYPERLINK("x")',
            "family_name": "+Plus",
            "iom_case_reference": "-RC",
            "unhcr_registration_number": "@U",
            "change": ChangeKind.WITHDRAWN,
        },
        f'"\'=HYPERLINK(""x"")",\'+Plus,2030-01-05,{ChangeKind.WITHDRAWN.label},\'-RC,\'@U,',
    ),
    (
        {
            "given_name": "\tTab",
            "family_name": "Cr\rInside",
            "change": ChangeKind.DATE_CHANGED,
            "expected_departure_date": None,
        },
        f'\'\tTab,"Cr\rInside",,{ChangeKind.DATE_CHANGED.label},RC-1,UNHCR-1,',
    ),
    (
        {"given_name": "محمد", "family_name": "حسيني", "change": ChangeKind.EMBARKED, "unhcr_registration_number": ""},
        f"محمد,حسيني,2030-01-05,{ChangeKind.EMBARKED.label},RC-1,,",
    ),
    (
        {"given_name": "Plain", "family_name": "\rLead", "iom_case_reference": "", "is_late": True},
        f'Plain,"\'\rLead",2030-01-05,{ChangeKind.NEW.label},,UNHCR-1,yes',
    ),
]
LINE_BREAK = (
    {"given_name": "Line\nBreak", "family_name": "Two"},
    f'"Line\nBreak",Two,2030-01-05,{ChangeKind.NEW.label},RC-1,UNHCR-1,',
)


def _list(world, rows) -> tuple[PreDepartureList, dict[int, tuple[str, int]]]:
    """A list built by the schedule, its entries then given the stored values of `rows` (entries are copies of
    what was recorded; what matters here is how odd values are printed). Returns the list and, per entry, its
    expected record and person."""
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    [pdl] = services.pre_departure_lists_build(actor=None, trigger=Trigger.SCHEDULE)
    first = pdl.entries.get()
    expected = {}
    for index, (values, record) in enumerate(rows):
        fields = {
            "change": ChangeKind.NEW,
            "expected_departure_date": D,
            "iom_case_reference": "RC-1",
            "unhcr_registration_number": "UNHCR-1",
            "is_late": False,
            **values,
        }
        someone = person(world.iom_af, actor=world.iom_af_staff)
        if index == 0:
            PreDepartureEntry.objects.filter(pk=first.pk).update(beneficiary=someone, **fields)
            entry = first
        else:
            entry = PreDepartureEntry.objects.create(list=pdl, case_id=first.case_id, beneficiary=someone, **fields)
        expected[entry.pk] = (record, someone.pk)
    return pdl, expected


def _in_list_order(pdl, expected) -> tuple[bytes, list[str]]:
    """The CSV expected, in the order the database lists the entries (the model's ordering; NULL dates sort last on
    PostgreSQL, first on SQLite), and the people's ids in that order as the access log stores them."""
    order = list(pdl.entries.values_list("pk", flat=True))
    body = "".join(expected[pk][0] + "\r\n" for pk in order)
    return ("\ufeff" + HEADER + body).encode("utf-8"), [str(expected[pk][1]) for pk in order]


def test_the_csv_escapes_and_neutralises_odd_values_and_logs_the_people_in_its_order(world):
    pdl, expected = _list(world, TRICKY)
    content, people = _in_list_order(pdl, expected)
    assert documents.list_csv(pdl) == content
    page = Client()
    page.force_login(world.unhcr_af_staff)
    api = APIClient()
    api.force_login(world.unhcr_af_staff)
    for client, url in (
        (page, reverse("notifications:list_csv", args=[pdl.pk])),
        (api, f"/api/v1/pre-departure-lists/{pdl.pk}/csv/"),
    ):
        response = client.get(url)
        assert response.status_code == 200 and response.content == content, url
        log = AccessLog.objects.order_by("-pk").first()
        assert (log.action, log.resource, log.object_ids, log.path) == ("export", "beneficiary", people, url)


def test_a_value_holding_a_line_break_is_written_as_python_writes_it(world):
    pdl, expected = _list(world, [*TRICKY, LINE_BREAK])
    assert documents.list_csv(pdl) == _in_list_order(pdl, expected)[0]


@pytest.mark.needs_postgres
def test_postgresql_writes_the_csv_in_one_copy(world):
    pdl, expected = _list(world, TRICKY)
    with CaptureQueriesContext(connection) as queries:
        content, people = documents.list_csv_export(pdl)
    assert [q["sql"].split(" ", 1)[0] for q in queries.captured_queries] == ["COPY"]
    assert (content, [str(p) for p in people]) == _in_list_order(pdl, expected)
    # The Python path (SQLite's, and where a value holds a line break) writes the same bytes.
    rows, python_people = documents.entry_table(pdl, documents.neutralise)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    assert (content.split(b"\r\n", 1)[1], python_people) == (buffer.getvalue().encode("utf-8"), people)
