"""In-process measurements of issue 7's benchmark: each application path against its physical-limit baseline, in
the same run, on the same database, interleaved (app, baseline, app, baseline...) so that a burst of load elsewhere
on the machine hits both.

- list: GET /api/v1/return-cases/?page_size=50 through django.test.Client with a partner system's token, vs the
  one SQL statement building the same page (bench.rawviews.LIST_SQL) through a cursor.
- detail: GET /api/v1/return-cases/<id>/ vs row_to_json of the case with its members and timeline.
- dashboard: GET /api/v1/dashboard/ as an HQ focal point vs every SQL statement that request sent (captured on a
  first call), re-run raw through a cursor, their times summed — bookkeeping (session, access log) included.
- csv: GET /notifications/lists/<id>/csv/ as staff of the receiving UNHCR office vs COPY (SELECT the same columns)
  TO STDOUT WITH CSV into a buffer.
"""

from __future__ import annotations

import io
import json
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

PAGE_SIZE = 50


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def interleaved(app: Callable[[], Any], baseline: Callable[[], Any], runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds of `runs` calls of each, alternating, after one untimed call of each (warm caches)."""
    app()
    baseline()
    app_ms, baseline_ms = [], []
    for _ in range(runs):
        app_ms.append(ms(app))
        baseline_ms.append(ms(baseline))
    return app_ms, baseline_ms


def summary(app_ms: list[float], baseline_ms: list[float], **extra: Any) -> dict[str, Any]:
    app, base = statistics.median(app_ms), statistics.median(baseline_ms)
    return {
        "runs": len(app_ms),
        "app_p50_ms": app,
        "app_p95_ms": pct(app_ms, 0.95),
        "baseline_p50_ms": base,
        "baseline_p95_ms": pct(baseline_ms, 0.95),
        "ratio": app / base,
        **extra,
    }


def _queries(client, url: str, **headers) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in captured.captured_queries]


# --- a. List ---------------------------------------------------------------------------------------------------


def measure_list(*, token: str, principal, runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from bench.rawviews import list_page_json, visible_offices

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    url = f"/api/v1/return-cases/?page_size={PAGE_SIZE}"
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:500]
    app_page = response.json()["results"]
    offices = visible_offices(principal)

    def baseline() -> str:
        with connection.cursor() as cursor:
            return list_page_json(cursor, offices=offices, size=PAGE_SIZE)

    raw_page = json.loads(baseline())["results"]
    _same_cases(app_page, raw_page)
    queries = _queries(client, url, **headers)
    app_ms, baseline_ms = interleaved(lambda: client.get(url, **headers), baseline, runs)
    return summary(
        app_ms,
        baseline_ms,
        page_size=PAGE_SIZE,
        members=sum(len(case["members"]) for case in app_page),
        app_queries=len(queries),
        app_bytes=len(response.content),
    )


def _same_cases(app_page: list[dict], raw_page: list[dict]) -> None:
    """The baseline builds the same page: the same cases, members and fields."""
    assert [c["id"] for c in app_page] == [c["id"] for c in raw_page], "the baseline page holds other cases"
    for app_case, raw_case in zip(app_page, raw_page, strict=True):
        assert [m["person"] for m in app_case["members"]] == [m["person"] for m in raw_case["members"]]
        missing = set(app_case) - set(raw_case) - {"allowed_moves", "unhcr_must_be_informed", "additional_measures"}
        assert not missing, f"the baseline lacks {sorted(missing)}"


# --- b. Detail -------------------------------------------------------------------------------------------------


def detail_case_ids(*, office_id: int, count: int = 20) -> list[int]:
    """Scheduled cases of the office with three members or more (moves, timeline and members to show)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id FROM returns_returncase c WHERE c.lead_office_id = %s AND c.stage = 'departure_scheduled' "
            "AND (SELECT count(*) FROM returns_returncasemember m WHERE m.case_id = c.id) >= 3 "
            "ORDER BY c.id DESC LIMIT %s",
            [office_id, count],
        )
        return [row[0] for row in cursor.fetchall()]


def measure_detail(*, token: str, principal, case_ids: list[int], runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from bench.rawviews import detail_json, visible_offices

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    offices = visible_offices(principal)
    turn = {"app": 0, "baseline": 0}

    def app() -> None:
        case_id = case_ids[turn["app"] % len(case_ids)]
        turn["app"] += 1
        client.get(f"/api/v1/return-cases/{case_id}/", **headers)

    def baseline() -> None:
        case_id = case_ids[turn["baseline"] % len(case_ids)]
        turn["baseline"] += 1
        with connection.cursor() as cursor:
            detail_json(cursor, case_id=case_id, offices=offices)

    response = client.get(f"/api/v1/return-cases/{case_ids[0]}/", **headers)
    assert response.status_code == 200, response.content[:500]
    with connection.cursor() as cursor:
        raw = json.loads(detail_json(cursor, case_id=case_ids[0], offices=offices) or "null")
    _same_cases([response.json()], [raw])
    queries = _queries(client, f"/api/v1/return-cases/{case_ids[0]}/", **headers)
    app_ms, baseline_ms = interleaved(app, baseline, runs)
    return summary(app_ms, baseline_ms, cases=len(case_ids), app_queries=len(queries))


# --- d. HQ dashboard -------------------------------------------------------------------------------------------

TRANSACTION_CONTROL = re.compile(r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT)\b", re.IGNORECASE)


def replay(statements: list[str]) -> float:
    """Run each statement as sent (parameters already in the text), fetching its rows; the milliseconds summed.
    Statements run in autocommit, each its own transaction as the app's were, unless the app used savepoints: then
    all of them run in one transaction (a savepoint needs one)."""
    from django.db import connection, transaction

    def run(cursor) -> float:
        total = 0.0
        for sql in statements:
            started = time.perf_counter()
            cursor.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()
            total += time.perf_counter() - started
        return total * 1000

    if any(TRANSACTION_CONTROL.match(sql) for sql in statements):
        with transaction.atomic(), connection.cursor() as cursor:
            return run(cursor.cursor)
    with connection.cursor() as cursor:
        return run(cursor.cursor)  # the psycopg2 cursor: no parameter interpolation of the captured text


def measure_dashboard(*, user, runs: int, query: str = "") -> dict[str, Any]:
    from django.test import Client

    client = Client(raise_request_exception=False)  # the endpoint is new: a failure is reported, not raised
    client.force_login(user)
    url = "/api/v1/dashboard/" + (f"?{query}" if query else "")
    response = client.get(url)
    if response.status_code != 200:
        return {"error": f"GET {url} answered {response.status_code}", "url": url}
    statements = _queries(client, url)
    app_ms, baseline_ms = [], []
    for _ in range(runs):
        app_ms.append(ms(lambda: client.get(url)))
        baseline_ms.append(replay(statements))
    later = _queries(client, url)
    return summary(
        app_ms,
        baseline_ms,
        url=url,
        app_queries=len(statements),
        app_queries_later_call=len(later),
        statements=[s[:300] for s in statements],
    )


# --- e. Pre-departure list to CSV ------------------------------------------------------------------------------


def csv_copy_sql(list_id: int) -> str:
    """The CSV the application writes (notifications.documents.list_csv): the allow-listed columns, the change as its
    label, the late flag, in the list's order."""
    from django.utils import translation

    from notifications.choices import ChangeKind

    with translation.override("en"):
        labels = " ".join(f"WHEN '{kind.value}' THEN '{str(kind.label)}'" for kind in ChangeKind)
    return (
        "COPY (SELECT given_name, family_name, expected_departure_date, "
        f"CASE change {labels} END AS change, iom_case_reference, unhcr_registration_number, "
        "CASE WHEN is_late THEN 'yes' ELSE '' END AS late "
        f"FROM notifications_predepartureentry WHERE list_id = {int(list_id)} "
        "ORDER BY expected_departure_date, family_name, given_name, id) TO STDOUT WITH (FORMAT csv, HEADER true)"
    )


def measure_csv(*, user, list_id: int, runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user)
    url = f"/notifications/lists/{list_id}/csv/"
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    sql = csv_copy_sql(list_id)

    def baseline() -> bytes:
        buffer = io.BytesIO()
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(sql, buffer)
        return buffer.getvalue()

    app_rows, raw_rows = response.content.count(b"\n"), baseline().count(b"\n")
    assert app_rows == raw_rows, f"the app wrote {app_rows} lines, COPY {raw_rows}"
    queries = _queries(client, url)
    app_ms, baseline_ms = interleaved(lambda: client.get(url), baseline, runs)
    return summary(app_ms, baseline_ms, entries=app_rows - 1, app_queries=len(queries), app_bytes=len(response.content))
