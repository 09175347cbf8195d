"""`python -m bench.run [--quick] [--only ...]` (or `make bench`): issue 7's benchmark — each application path
measured on PostgreSQL against the database's own limit, in the same run, on the same database.

1. import: 100,000 rows of CSV through `importing.import_job_run` (validated, duplicate-checked, report, the
   all-or-nothing write with history and category rows) vs `COPY FROM STDIN` of the same file into a staging table;
   rolled back at the end, so the caseload stays as generated.
2. duplicates: `selectors.duplicate_candidates` for N probes among 1,000,000 people vs its blocking query as raw SQL.
3. list, detail, dashboard, csv (bench.measure): the list and detail API of return cases, the HQ dashboard API and a
   pre-departure list's CSV, in process, vs one SQL statement building the same JSON / the statements the request
   sent re-run raw / COPY TO STDOUT.
4. concurrency (bench.load): gunicorn as in production and wrk with 32 connections, list API vs a raw-SQL list view.

`--quick` runs at 1/10 scale. The database is separate from the application's (BENCH_DATABASE_URL, default:
DATABASE_URL's server with the database jointops_bench, or jointops_bench_quick), created and migrated by this
command; the caseload (bench.generate) and the operations data (bench.scale) are generated once per scale and
reused. Results are printed as `operation | baseline | app | ratio | target` and written as JSON under
bench/results/ (git-ignored). See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import json
import os
import platform
import pstats
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
# Targets of issue 7 ("Benchmark harness"): the app within this multiple of its baseline (p50).
IMPORT_TARGET = 2.0
LIST_TARGET = 4.0
DETAIL_TARGET = 5.0
DASHBOARD_TARGET = 1.2
CSV_TARGET = 1.5
THROUGHPUT_TARGET = 0.3  # at least this share of the raw view's requests per second
TAIL_TARGET = 1.5  # p95 / p50 of the list API under 32 clients
DUPLICATES_P95_TARGET_MS = 100.0  # interactive: the candidates show while the user types the form
MEASUREMENTS = ("import", "duplicates", "list", "detail", "dashboard", "csv", "concurrency")


def out(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# --- The database -------------------------------------------------------------------------------------------


def bench_database_url(quick: bool) -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    base = urlparse(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    if not base.scheme.startswith("postgres"):
        base = urlparse(DEFAULT_SERVER)
    return urlunparse(base._replace(path="/jointops_bench" + ("_quick" if quick else "")))


def ensure_database(url: str) -> None:
    """Create the benchmark database if it does not exist (connecting to the server's maintenance database)."""
    import psycopg2
    from psycopg2 import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    connection = psycopg2.connect(urlunparse(parsed._replace(path="/postgres")), connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                out(f"creating database {name}")
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("JOINTOPS_VAR_DIR", str(BASE_DIR / "var" / "bench"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"  # the app's settings, throttling off, raw view added
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- Reference data and the caseload ---------------------------------------------------------------------------

OFFICES = [  # code, organisation, country, share of the caseload (and of the return cases)
    ("BENCH-IOM-AF", "IOM", "AF", 0.4),
    ("BENCH-UNHCR-AF", "UNHCR", "AF", 0.3),
    ("BENCH-IOM-IQ", "IOM", "IQ", 0.15),
    ("BENCH-UNHCR-IQ", "UNHCR", "IQ", 0.15),
]
HEADQUARTERS = {"IOM": "BENCH-IOM-HQ", "UNHCR": "BENCH-UNHCR-HQ"}  # parents of the country offices
COUNTERPARTS = {"BENCH-IOM-AF": "BENCH-UNHCR-AF", "BENCH-IOM-IQ": "BENCH-UNHCR-IQ"}  # receive the lists (Letter)


@dataclass
class World:
    offices: list  # the four country offices of OFFICES, in order
    user: Any  # field staff at BENCH-IOM-AF: imports, searches, builds lists
    hq_focal: Any  # IOM HQ focal point (MOU §35): the HQ dashboard
    unhcr_staff: Any  # field staff at BENCH-UNHCR-AF: receives BENCH-IOM-AF's lists
    api_client: Any  # a partner system of BENCH-IOM-AF reading return cases
    token: str  # its token, new at every run (only its hash is stored)


def reference_data() -> World:
    """The offices of the caseload under their organisations' headquarters, IOM offices paired with their UNHCR
    counterparts, the users and the partner system the measurements act as."""
    from jointops.choices import OfficeLevel, Role
    from jointops.models import ApiClient, Membership, Office, Organisation, User, hash_token
    from notifications.models import OfficePair

    organisations = {o.code: o for o in Organisation.objects.filter(code__in=HEADQUARTERS)}
    hq = {}
    for organisation, code in HEADQUARTERS.items():
        hq[organisation], _ = Office.objects.get_or_create(
            code=code,
            defaults={
                "name": f"Benchmark {organisation} headquarters",
                "organisation": organisations[organisation],
                "level": OfficeLevel.HEADQUARTERS,
                "country": "",
            },
        )
    offices = []
    for code, organisation, country, _share in OFFICES:
        office, _ = Office.objects.get_or_create(
            code=code,
            defaults={
                "name": f"Benchmark {code}",
                "organisation": organisations[organisation],
                "level": OfficeLevel.COUNTRY,
                "country": country,
            },
        )
        if office.parent_id != hq[organisation].pk:
            Office.objects.filter(pk=office.pk).update(parent=hq[organisation])
        offices.append(office)
    by_code = {o.code: o for o in offices}
    for iom, unhcr in COUNTERPARTS.items():
        Office.objects.filter(pk=by_code[iom].pk).update(counterpart=by_code[unhcr])
        OfficePair.objects.get_or_create(iom_office=by_code[iom], unhcr_office=by_code[unhcr])
    for office in offices:
        office.refresh_from_db()

    def staff(username: str, office, role: str):
        user, _ = User.objects.get_or_create(
            username=username, defaults={"organisation": office.organisation, "first_name": "Bench"}
        )
        Membership.objects.get_or_create(user=user, office=office, defaults={"role": role})
        return user

    prefix, token = ApiClient.new_token()
    client, _ = ApiClient.objects.update_or_create(
        name="Benchmark partner system",
        defaults={
            "organisation": offices[0].organisation,
            "office": offices[0],
            "scopes": ["return-cases:read"],
            "token_prefix": prefix,
            "token_hash": hash_token(token),
            "revoked_at": None,
            "expires_at": None,
        },
    )
    return World(
        offices=offices,
        user=staff("bench_field_staff", offices[0], Role.FIELD_STAFF),
        hq_focal=staff("bench_hq_focal", hq["IOM"], Role.HQ_FOCAL_POINT),
        unhcr_staff=staff("bench_unhcr_staff", by_code["BENCH-UNHCR-AF"], Role.FIELD_STAFF),
        api_client=client,
        token=token,
    )


def ensure_caseload(*, people: int, offices, seed: int) -> float | None:
    """Generate the caseload unless the database holds exactly `people`. Returns the seconds it took, or None."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.generate import OfficeShare, population_rows
    from beneficiaries.importing import _copy
    from beneficiaries.models import Beneficiary, BeneficiaryCategory

    existing = Beneficiary.objects.count()
    seconds = None
    if existing == people:
        out(f"caseload: {existing:,} people already generated")
    else:
        out(f"caseload: generating {people:,} people (once per scale)...")
        started = time.perf_counter()
        shares = [
            OfficeShare(o.pk, o.organisation_id, o.organisation.code == "UNHCR", share)
            for o, (*_rest, share) in zip(offices, OFFICES, strict=True)
        ]
        categories = dict(BeneficiaryCategory.objects.values_list("code", "pk"))
        fields = [f for f in Beneficiary._meta.concrete_fields if f.attname != "id"]
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE beneficiaries_beneficiary, beneficiaries_historicalbeneficiary CASCADE")
            cursor.execute("DROP INDEX IF EXISTS benef_search_text_trgm")  # built once at the end: far faster
            rows = population_rows(count=people, offices=shares, categories=categories, seed=seed, now=now)
            _copy(
                cursor,
                Beneficiary._meta.db_table,
                [f.column for f in fields],
                ([row[f.attname] for f in fields] for row in rows),
            )
        seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS benef_search_text_trgm ON beneficiaries_beneficiary "
            "USING gin (search_text gin_trgm_ops)"
        )
        if seconds is not None:
            cursor.execute("VACUUM ANALYZE beneficiaries_beneficiary")
    if seconds is not None:
        seconds = time.perf_counter() - started
        out(f"caseload: {people:,} people in {seconds:.1f} s")
    return seconds


# --- 1. Import ----------------------------------------------------------------------------------------------------


class Rollback(Exception):
    pass


def measure_import(*, rows: int, office, user, seed: int, repeat: int, profile: bool = False) -> dict:
    from django.core.files.base import ContentFile
    from django.db import connection, transaction
    from django.utils import timezone

    from bench.generate import import_file
    from beneficiaries import importing
    from beneficiaries.models import ImportJob

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT given_name, family_name, date_of_birth, nationality FROM beneficiaries_beneficiary "
            "TABLESAMPLE SYSTEM (5) WHERE office_id = %s LIMIT 2000",
            [office.pk],
        )
        known = [
            {"given_name": g, "family_name": f, "date_of_birth": d, "nationality": n}
            for g, f, d, n in cursor.fetchall()
        ]
    content = import_file(rows=rows, seed=seed, known=known, today=timezone.localdate())
    out(f"import: a CSV file of {rows:,} rows, {len(content) / 2**20:.1f} MB")

    columns = ", ".join(f"{name} text" for name in importing.COLUMN_NAMES)
    copy_times = []
    for _ in range(3):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE bench_staging ({columns}) ON COMMIT DROP")
            started = time.perf_counter()
            cursor.cursor.copy_expert("COPY bench_staging FROM STDIN WITH (FORMAT csv, HEADER true)", _io(content))
            copy_times.append(time.perf_counter() - started)
            cursor.execute("SELECT count(*) FROM bench_staging")
            assert cursor.fetchone()[0] == rows
    baseline = statistics.median(copy_times)

    app_times, phases, job_summary = [], [], {}
    for _ in range(repeat):
        with (
            timed(importing, "_write") as write_seconds,
            timed(importing, "_copy_lines") as copy_seconds,
            transaction.atomic(),
        ):
            job = ImportJob(office=office, created_by=user, file_name="bench.csv", total_rows=rows)
            job.file.save("bench.csv", ContentFile(content), save=False)
            job.save()
            profiler = cProfile.Profile() if profile else None
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            job = importing.import_job_run(job_id=job.pk)
            if profiler:
                profiler.disable()
            app_times.append(time.perf_counter() - started)
            if profiler:
                pstats.Stats(profiler, stream=sys.stdout).sort_stats(
                    os.environ.get("BENCH_PROFILE_SORT", "tottime")
                ).print_stats(30)
            job_summary = {
                "status": job.status,
                "created": job.created_count,
                "errors": job.error_count,
                "duplicate_warnings": job.duplicate_count,
                "in_file": sum(1 for d in job.duplicates if d["kind"] == "file"),
                "in_database": sum(1 for d in job.duplicates if d["kind"] == "database"),
            }
            transaction.set_rollback(True)  # the caseload stays as generated
        phases.append({"write": write_seconds[0] if write_seconds else 0.0, "copy": sum(copy_seconds)})
        if job_summary["status"] != "done" or job_summary["created"] != rows:
            raise SystemExit(f"the import did not succeed: {job_summary} {job.errors[:5]}")
    app = statistics.median(app_times)
    write = statistics.median(p["write"] for p in phases)
    storing = statistics.median(p["copy"] for p in phases)
    return {
        "rows": rows,
        "file_bytes": len(content),
        "baseline_copy_seconds": baseline,
        "baseline_runs": copy_times,
        "app_seconds": app,
        "app_runs": app_times,
        "app_validate_seconds": app - write,
        "app_write_seconds": write,
        "database_storing_seconds": storing,
        "ratio": app / baseline,
        "job": job_summary,
    }


@contextlib.contextmanager
def timed(module, name: str):
    """Within the block, the seconds each call of module.name took (a list)."""
    seconds: list[float] = []
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - started)

    setattr(module, name, wrapper)
    try:
        yield seconds
    finally:
        setattr(module, name, original)


def _io(content: bytes):
    import io

    return io.BytesIO(content)


# --- 2. Duplicates ------------------------------------------------------------------------------------------------


def measure_duplicates(*, probes: int, user, office, seed: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.generate import variant
    from beneficiaries import selectors
    from jointops import access

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT given_name, family_name, date_of_birth, nationality FROM beneficiaries_beneficiary "
            "TABLESAMPLE SYSTEM (1) WHERE office_id = %s LIMIT %s",
            [office.pk, probes * 3],
        )
        sample = cursor.fetchall()
    rng.shuffle(sample)
    sample = sample[:probes]
    app_ms, sql_ms, found = [], [], 0
    for given, family, born, nationality in sample:
        probe = {
            "given_name": variant(rng, given),
            "family_name": variant(rng, family),
            "date_of_birth": born if rng.random() < 0.8 else born + dt.timedelta(days=rng.randint(-200, 200)),
            "nationality": nationality,
        }
        access.forget(user)  # as in a request: the principal's grants are read again
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            candidates = selectors.duplicate_candidates(principal=user, **probe)
            app_ms.append((time.perf_counter() - started) * 1000)
        found += bool(candidates)
        blocking = next(q["sql"] for q in captured.captured_queries if "name_key" in q["sql"])
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(blocking)
            cursor.fetchall()
            sql_ms.append((time.perf_counter() - started) * 1000)

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {
        "probes": len(sample),
        "found_a_candidate": found,
        "app_p50_ms": pct(app_ms, 0.5),
        "app_p95_ms": pct(app_ms, 0.95),
        "sql_p50_ms": pct(sql_ms, 0.5),
        "sql_p95_ms": pct(sql_ms, 0.95),
    }


# --- Report -------------------------------------------------------------------------------------------------------


def table(rows: list[tuple[str, str, str, str, str]]) -> str:
    header = ("operation", "baseline", "app", "ratio", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def ensure_operations(*, world: World, scale, seed: int, regenerate: bool = False) -> dict[str, Any]:
    """Generate the return cases, LoUs, lists and consultations unless this scale's are there (or `regenerate`).
    Returns the counts."""
    from bench import scale as operations
    from notifications.models import PreDepartureList

    big = PreDepartureList.objects.filter(reference__endswith="-BENCH-BIG").values_list("pk", flat=True).first()
    if big and not regenerate and operations.is_generated(scale):
        out(f"operations: {scale.cases:,} return cases already generated")
        return {"big_list_id": big, "seconds": None}
    out(f"operations: generating {scale.cases:,} return cases, {scale.lous:,} LoUs, {scale.entries:,} list entries...")
    offices = [
        operations.BenchOffice(
            id=o.pk,
            code=o.code,
            is_unhcr=o.organisation.code == "UNHCR",
            country=o.country.code,
            share=share,
            counterpart_id=o.counterpart_id,
        )
        for o, (*_rest, share) in zip(world.offices, OFFICES, strict=True)
    ]
    user_ids = {"field_staff": world.user.pk, "unhcr_staff": world.unhcr_staff.pk}
    counts = operations.generate(scale=scale, offices=offices, user_ids=user_ids, seed=seed, out=out)
    out(
        "operations: {cases:,} cases, {members:,} members, {transitions:,} moves, {lous:,} LoUs, {lists:,} lists "
        "with {entries:,} entries, {consultations:,} consultations in {seconds:.1f} s".format(**counts)
    )
    return counts


def parse_args(argv: list[str] | None):
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1/10 scale: 100,000 people, 20,000 return cases")
    parser.add_argument(
        "--only",
        default=",".join(MEASUREMENTS),
        help=f"comma-separated subset of {','.join(MEASUREMENTS)} (default: all)",
    )
    parser.add_argument("--people", type=int, help="size of the caseload (default 1,000,000; --quick 100,000)")
    parser.add_argument("--rows", type=int, help="rows of the import file (default 100,000; --quick 10,000)")
    parser.add_argument("--probes", type=int, default=200, help="duplicate searches to time (default 200)")
    parser.add_argument("--repeat", type=int, default=1, help="imports to time (the median is reported)")
    parser.add_argument("--runs", type=int, default=50, help="requests of each in-process measurement (default 50)")
    parser.add_argument("--dashboard-runs", type=int, default=10, help="dashboard requests to time (default 10)")
    parser.add_argument("--dashboard-query", default="", help="query string of the dashboard, e.g. country=AF")
    parser.add_argument("--seconds", type=int, help="seconds of each wrk run (default 10; --quick 5)")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs of each side, alternating (default 3)")
    parser.add_argument("--seed", type=int, default=20030116)
    parser.add_argument(
        "--regenerate", action="store_true", help="generate the return cases, LoUs and lists again (not the people)"
    )
    parser.add_argument("--profile", action="store_true", help="print where the import's time goes (cProfile)")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(MEASUREMENTS)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))} (choose among {', '.join(MEASUREMENTS)})")
    return args


def vacuum() -> None:
    """VACUUM ANALYZE before each measurement: the rolled-back imports leave dead rows (autovacuum may be off on the
    server), which would slow the planning and the scans of both the app and its baseline."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    people = args.people or (100_000 if args.quick else 1_000_000)
    rows = args.rows or (10_000 if args.quick else 100_000)
    seconds = args.seconds or (5 if args.quick else 10)

    url = bench_database_url(args.quick)
    if not urlparse(url).scheme.startswith("postgres"):
        out("The benchmark needs PostgreSQL: set BENCH_DATABASE_URL=postgres://...")
        return 2
    ensure_database(url)
    setup_django(url)
    from django.conf import settings
    from django.db import connection

    from bench import measure
    from bench import scale as operations

    settings.IMPORT_MAX_ROWS = max(settings.IMPORT_MAX_ROWS, rows)
    world = reference_data()
    scale = operations.QUICK if args.quick else operations.FULL
    result: dict[str, Any] = {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": "quick" if args.quick else "full",
        "people": people,
        "return_cases": scale.cases,
        "measured": args.only,
    }
    result["caseload_generation_seconds"] = ensure_caseload(people=people, offices=world.offices, seed=args.seed)
    if set(args.only) - {"import", "duplicates"}:
        result["operations"] = ensure_operations(
            world=world, scale=scale, seed=args.seed + 3, regenerate=args.regenerate
        )

    def run(name: str, fn, **kwargs) -> None:
        if name in args.only:
            vacuum()
            out(f"measuring {name}...")
            result[name] = fn(**kwargs)

    run(
        "import",
        measure_import,
        rows=rows,
        office=world.offices[0],
        user=world.user,
        seed=args.seed + 1,
        repeat=args.repeat,
        profile=args.profile,
    )
    run(
        "duplicates",
        measure_duplicates,
        probes=args.probes,
        user=world.user,
        office=world.offices[0],
        seed=args.seed + 2,
    )
    run("list", measure.measure_list, token=world.token, principal=world.api_client, runs=args.runs)
    if "detail" in args.only:
        case_ids = measure.detail_case_ids(office_id=world.offices[0].pk)
        run(
            "detail",
            measure.measure_detail,
            token=world.token,
            principal=world.api_client,
            case_ids=case_ids,
            runs=args.runs,
        )
    run(
        "dashboard",
        measure.measure_dashboard,
        user=world.hq_focal,
        runs=args.dashboard_runs,
        query=args.dashboard_query,
    )
    if "csv" in args.only:
        list_id = result["operations"]["big_list_id"]
        run("csv", measure.measure_csv, user=world.unhcr_staff, list_id=list_id, runs=max(5, args.runs // 5))
    if "concurrency" in args.only:
        from bench.load import measure_concurrency

        run(
            "concurrency",
            measure_concurrency,
            database_url=url,
            token=world.token,
            var_dir=Path(settings.VAR_DIR) / "bench-gunicorn",
            seconds=seconds,
            rounds=args.rounds,
        )

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    result["machine"] = {
        "cpus": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "python": platform.python_version(),
        "postgresql": server,
    }
    out()
    out(table(report_rows(result, people=people, rows=rows)))
    if "duplicates" in result:
        duplicates = result["duplicates"]
        out(f"\nprobes with a candidate found: {duplicates['found_a_candidate']} of {duplicates['probes']}")
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"bench-{result['scale']}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    out(f"results: {path.relative_to(BASE_DIR)}")
    return 0


def _memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _ratio(app: float, baseline: float) -> str:
    ratio = app / max(baseline, 1e-9)
    return f"{ratio:.2f}×" if ratio < 10 else f"{ratio:.1f}×"


def _ms_row(label: str, figures: dict, target: float, baseline_name: str) -> tuple[str, str, str, str, str]:
    return (
        label,
        f"{baseline_name} {figures['baseline_p50_ms']:.2f} ms",
        f"{figures['app_p50_ms']:.2f} ms",
        _ratio(figures["app_p50_ms"], figures["baseline_p50_ms"]),
        f"≤ {target:g}×",
    )


def report_rows(result: dict, *, people: int, rows: int) -> list[tuple[str, str, str, str, str]]:
    """The table's rows, one or more per measurement run: `operation | baseline | app | ratio | target`."""
    lines: list[tuple[str, str, str, str, str]] = []
    if "list" in result:
        figures = result["list"]
        lines.append(
            _ms_row(
                f"list API, page of {figures['page_size']} cases with {figures['members']} members, p50 "
                f"({figures['app_queries']} queries)",
                figures,
                LIST_TARGET,
                "json_agg",
            )
        )
    if "detail" in result:
        figures = result["detail"]
        lines.append(
            _ms_row(f"detail API, p50 ({figures['app_queries']} queries)", figures, DETAIL_TARGET, "row_to_json")
        )
    if "import" in result:
        imported = result["import"]
        lines += [
            (
                f"import {rows:,} rows from CSV (validated, duplicate-checked, history)",
                f"COPY {imported['baseline_copy_seconds']:.2f} s",
                f"{imported['app_seconds']:.2f} s",
                _ratio(imported["app_seconds"], imported["baseline_copy_seconds"]),
                f"≤ {IMPORT_TARGET:.0f}×",
            ),
            (
                f"  of which validation + duplicate lookups ({imported['job']['duplicate_warnings']} warnings)",
                "",
                f"{imported['app_validate_seconds']:.2f} s",
                "",
                "",
            ),
            (
                "  of which the write (people, history, category rows)",
                f"COPY {imported['database_storing_seconds']:.2f} s",
                f"{imported['app_write_seconds']:.2f} s",
                _ratio(imported["app_write_seconds"], imported["database_storing_seconds"]),
                "",
            ),
        ]
    if "dashboard" in result:
        figures = result["dashboard"]
        if "error" in figures:
            lines.append(("HQ dashboard API", "", figures["error"], "", f"≤ {DASHBOARD_TARGET:g}×"))
        else:
            lines.append(
                _ms_row(
                    f"HQ dashboard API, p50 ({figures['app_queries']} queries)",
                    figures,
                    DASHBOARD_TARGET,
                    "same SQL",
                )
            )
    if "csv" in result:
        figures = result["csv"]
        lines.append(
            _ms_row(f"pre-departure list of {figures['entries']:,} entries to CSV, p50", figures, CSV_TARGET, "COPY")
        )
    if "concurrency" in result:
        figures = result["concurrency"]
        app, raw = figures["app"], figures["raw"]
        lines += [
            (
                f"{figures['connections']} clients on the list API, requests/s",
                f"raw view {raw['requests_per_second']:.0f}/s",
                f"{app['requests_per_second']:.0f}/s",
                f"{figures['throughput_ratio']:.2f}×",  # higher is better: a share, not a multiple
                f"≥ {THROUGHPUT_TARGET:g}×",
            ),
            (
                "  latency p50 / p95 (app: p95/p50)",
                f"{raw['p50_us'] / 1000:.0f} / {raw['p95_us'] / 1000:.0f} ms",
                f"{app['p50_us'] / 1000:.0f} / {app['p95_us'] / 1000:.0f} ms",
                f"{figures['app_p95_over_p50']:.2f}",
                f"≤ {TAIL_TARGET:g}",
            ),
            ("  errors (≥ 400, socket)", str(raw["errors"]), str(app["errors"]), "", "0"),
        ]
    if "duplicates" in result:
        duplicates = result["duplicates"]
        lines += [
            (
                f"duplicate candidates among {people:,} people, p50 ({duplicates['probes']} probes)",
                f"SQL {duplicates['sql_p50_ms']:.2f} ms",
                f"{duplicates['app_p50_ms']:.2f} ms",
                _ratio(duplicates["app_p50_ms"], duplicates["sql_p50_ms"]),
                "",
            ),
            (
                "duplicate candidates, p95",
                f"SQL {duplicates['sql_p95_ms']:.2f} ms",
                f"{duplicates['app_p95_ms']:.2f} ms",
                _ratio(duplicates["app_p95_ms"], duplicates["sql_p95_ms"]),
                f"< {DUPLICATES_P95_TARGET_MS:.0f} ms",
            ),
        ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
