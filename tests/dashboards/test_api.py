"""The dashboard API (issue 7): `GET /api/v1/dashboard/` and `/api/v1/dashboard/offices/<id>/` answer the figures of
dashboards.selectors.dashboard_for for the caller — HQ focal points across both organisations (MOU §35), office
managers their offices, partner systems with `dashboard:read` their office tree; bad filters answer 400 naming the
field; an office outside the caller's scope 404; aggregates, so the number of queries does not grow with the data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from dashboards.params import parse_params
from dashboards.selectors import dashboard_for
from jointops import services as jointops_services
from notifications import services as notification_services
from tests.factories.beneficiaries import person
from tests.factories.letters_of_understanding import in_force
from tests.factories.returns import scheduled

pytestmark = pytest.mark.django_db

URL = "/api/v1/dashboard/"
ERROR_KEYS = {"detail", "code", "errors"}
SECTIONS = ["people", "returns", "notification_compliance", "letters_of_understanding", "consultations"]


def _office_url(office) -> str:
    return f"{URL}offices/{office.pk}/"


def _client(user=None, token=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)  # a session, as the browser's
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _partner(world, office, scopes) -> tuple:
    admin = world.unhcr_admin if office.organisation_id == world.unhcr.pk else world.iom_admin
    return jointops_services.api_client_create(actor=admin, name="Dashboard", office=office, scopes=list(scopes))


def _figure(body: dict, key: str):
    values = [f["value"] for s in body["sections"] for f in s["figures"] if f["key"] == key]
    assert len(values) == 1, key
    return values[0]


def _table(body: dict, key: str) -> dict:
    return next(t for s in body["sections"] for t in s["tables"] if t["key"] == key)


def _without_time(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "generated_at"}


def _people(world, counts: dict[str, int]) -> None:
    for office_attr, n in counts.items():
        for _ in range(n):
            person(getattr(world, office_attr))


# People per office, powers of two: every set of offices has its own total.
COUNTS = {"iom_af": 1, "iom_af_field": 2, "iom_de": 4, "unhcr_af": 8}


def test_the_api_answers_dashboard_for_the_same_principal(world):
    _people(world, COUNTS)
    scheduled(world.iom_af, world.iom_af_staff, days=5)
    for user in (world.unhcr_hq_focal, world.iom_af_manager):
        response = _client(user).get(URL, {"from": "2025-01-01", "until": "2025-06-30"})
        assert response.status_code == 200, response.content
        body = response.json()
        expected = dashboard_for(principal=user, params=parse_params({"from": "2025-01-01", "until": "2025-06-30"}))
        assert _without_time(body) == _without_time(expected.as_dict())
        assert dt.datetime.fromisoformat(body["generated_at"]) - timezone.now() < dt.timedelta(minutes=1)
        assert [s["key"] for s in body["sections"]] == SECTIONS
        assert body["filters"] == {"from": "2025-01-01", "until": "2025-06-30"}

    response = _client(world.iom_af_manager).get(_office_url(world.iom_af))
    assert response.status_code == 200, response.content
    expected = dashboard_for(principal=world.iom_af_manager, params=parse_params({}, office=world.iom_af))
    assert _without_time(response.json()) == _without_time(expected.as_dict())
    assert [s["key"] for s in response.json()["sections"]] == ["office", *SECTIONS]
    [upcoming] = response.json()["sections"][0]["tables"][0]["rows"]
    assert upcoming["url"].startswith("/returns/")  # links stay paths of the browser pages


def test_hq_focal_points_see_both_organisations_figures(world):
    """MOU §35 (access.JOINT_RESOURCES): an HQ focal point of UNHCR counts the people IOM's offices registered."""
    _people(world, COUNTS)
    for focal in (world.unhcr_hq_focal, world.iom_hq_focal):
        client = _client(focal)
        assert _figure(client.get(URL).json(), "people_total") == 15
        assert _figure(client.get(URL, {"organisation": "IOM"}).json(), "people_total") == 7
        assert _figure(client.get(URL, {"organisation": "UNHCR"}).json(), "people_total") == 8
        assert _figure(client.get(URL, {"country": "DE"}).json(), "people_total") == 4
        assert _figure(client.get(URL, {"office": "iom-af-hrt"}).json(), "people_total") == 2
        office = client.get(_office_url(world.iom_af))
        assert office.status_code == 200
        assert _figure(office.json(), "people_total") == 1


def test_an_office_manager_sees_only_their_offices(world):
    _people(world, COUNTS)
    client = _client(world.iom_af_manager)
    body = client.get(URL).json()
    assert _figure(body, "people_total") == 3  # IOM-AF-KBL and the field office beneath it
    by_country = {row["key"]: row["values"] for row in _table(body, "people_by_country")["rows"]}
    assert by_country == {"AF": [3]}
    # A filter narrows the scope, never widens it: another office's code counts nothing.
    assert _figure(client.get(URL, {"office": "IOM-DE-BER"}).json(), "people_total") == 0
    assert _figure(client.get(URL, {"organisation": "UNHCR"}).json(), "people_total") == 0
    assert client.get(_office_url(world.iom_af_field)).status_code == 200
    assert client.get(_office_url(world.iom_de)).status_code == 404
    assert client.get(_office_url(world.unhcr_af)).status_code == 404
    assert _figure(_client(world.unhcr_af_manager).get(URL).json(), "people_total") == 8


def test_a_partner_system_with_dashboard_read_sees_its_office_tree(world):
    _people(world, COUNTS)
    client_row, token = _partner(world, world.iom_af, ["dashboard:read"])
    client = _client(token=token)
    response = client.get(URL)
    assert response.status_code == 200, response.content
    assert _figure(response.json(), "people_total") == 3
    expected = dashboard_for(principal=client_row, params=parse_params({}))
    assert _without_time(response.json()) == _without_time(expected.as_dict())
    assert _figure(client.get(_office_url(world.iom_af_field)).json(), "people_total") == 2
    assert client.get(_office_url(world.iom_de)).status_code == 404
    assert client.get(_office_url(world.unhcr_af)).status_code == 404


def test_without_the_scope_or_the_role_the_answer_is_403(world):
    _people(world, COUNTS)
    _row, token = _partner(world, world.iom_af, ["offices:read", "beneficiaries:read"])
    principals = [_client(token=token), _client(world.iom_af_staff), _client(world.iom_admin)]
    for client in principals:
        for url in (URL, _office_url(world.iom_af)):
            response = client.get(url)
            assert response.status_code == 403, (url, response.content)
            assert set(response.json()) == ERROR_KEYS
    assert APIClient().get(URL).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "1 March"}, "from"),
        ({"until": "2025-02-30"}, "until"),
        ({"from": "2025-06-01", "until": "2025-01-01"}, "until"),
        ({"from": "2015-01-01", "until": "2025-01-01"}, "from"),
        ({"organisation": "WFP"}, "organisation"),
        ({"country": "XX"}, "country"),
        ({"office": "NO-SUCH-OFFICE"}, "office"),
        ({"office": "IOM-AF-KBL\x00"}, "office"),
        ({"country": "A" * 2000}, "country"),
    ],
)
def test_a_bad_filter_answers_400_naming_the_field_and_nothing_else(world, query, field):
    response = _client(world.unhcr_hq_focal).get(URL, query)
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == ERROR_KEYS and body["code"] == "invalid"
    assert [error["field"] for error in body["errors"]] == [field]
    assert body["detail"]


def test_the_office_dashboard_takes_the_period_only(world):
    client = _client(world.iom_af_manager)
    response = client.get(_office_url(world.iom_af), {"from": "tomorrow"})
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["from"]
    # The office is the path's: an office filter in the query string does not change it.
    response = client.get(_office_url(world.iom_af), {"office": "IOM-DE-BER", "from": "2025-01-01"})
    assert response.status_code == 200
    assert response.json()["filters"] == {
        "from": "2025-01-01",
        "until": timezone.localdate().isoformat(),
        "office": "IOM-AF-KBL",
    }


@pytest.mark.parametrize("office_id", ["0", "999999", "99999999999999999999999"])
def test_an_unknown_office_answers_404(world, office_id):
    response = _client(world.iom_hq_focal).get(f"{URL}offices/{office_id}/")
    assert response.status_code == 404
    assert set(response.json()) == ERROR_KEYS


def test_only_get_is_offered(world):
    client = _client(world.iom_hq_focal)
    for url in (URL, _office_url(world.iom_af)):
        for method in ("post", "put", "patch", "delete"):
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code == 405, (method, url)
            assert set(response.json()) == ERROR_KEYS


def _grow(world, n: int) -> None:
    """`n` more people, return cases (departing soon, so also on the office's upcoming table), pre-departure lists
    (one build per new departure) and Letters of Understanding in force, at IOM-AF-KBL and its counterpart."""
    for _ in range(n):
        person(world.iom_af)
        scheduled(world.iom_af, world.iom_af_staff, days=5)
        notification_services.pre_departure_lists_build(actor=None)
        in_force(world)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def test_the_number_of_queries_does_not_grow_with_the_data(world):
    """Issue 7: aggregates run in the database (grouped counts), never a loop over records in Python."""
    _grow(world, 2)
    client = _client(world.unhcr_hq_focal)
    urls = (URL, _office_url(world.iom_af), _office_url(world.unhcr_af))
    for url in urls:
        client.get(url)  # warm up (sessions, content types)
    small = {url: _queries(client, url) for url in urls}
    small_body = client.get(URL).json()
    _grow(world, 18)
    large = {url: _queries(client, url) for url in urls}
    large_body = client.get(URL).json()
    assert _figure(small_body, "people_total") == 2 * 2  # a person, and the principal of each case
    assert _figure(large_body, "people_total") == 20 * 2
    assert _figure(large_body, "lists_sent") == 20
    assert _figure(large_body, "lous_in_force") == 20
    assert _figure(large_body, "departures_7d_cases") == 20
    assert len(_table(client.get(_office_url(world.iom_af)).json(), "upcoming_departures")["rows"]) == 20
    assert large == small, (small, large)
