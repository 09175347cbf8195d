"""Operations data at scale, generated set-based in PostgreSQL from the people of the caseload, once per scale.

- Return cases (`returns.ReturnCase`) of the four benchmark offices: the kinds each agency leads (UNHCR: voluntary
  repatriation, returns under an agreement; IOM: assisted voluntary returns), every stage of the flow with the dates
  it implies (departures of scheduled cases spread ±90 days around today, past ones for embarked and arrived cases),
  the §12/§29 conditions recorded where scheduling needs them, unique references.
- Their members: one principal and up to five household members, drawn without repetition from the people of the
  case's lead office (so staff of that office may read every member).
- Their moves (`CaseTransition`), along the flow up to the case's stage; withdrawals (changes of mind) from a stage
  before embarkation.
- Letters of Understanding in every status, with reviews, phase-out plans and assets for handover where the status
  calls for them.
- Pre-departure lists IOM → UNHCR (one per office and day over the last year, plus one list of `big_list` entries
  for the CSV measurement), their entries copied from the cases and people as the application copies them, their
  e-mail deliveries; consultations between the offices.

Everything is written with INSERT ... SELECT over generate_series (pseudo-random but repeatable: setseed), in one
transaction. History tables are not filled for generated rows.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

STAGES = [
    "opened",
    "counselling",
    "preparing",
    "departure_scheduled",
    "embarked",
    "arrived",
    "reintegration",
    "closed",
]
MOVES = [  # move i leads from STAGES[i-1] to STAGES[i] (returns/flow.py)
    "start_counselling",
    "start_preparing",
    "schedule_departure",
    "confirm_embarkation",
    "confirm_arrival",
    "start_reintegration",
    "close",
]
WITHDRAWN = 8  # stage index of withdrawn cases (a change of mind before embarkation)
# Share of cases at each stage index (cumulative upper bounds); the rest (10 %) are withdrawn.
STAGE_SHARES = [(0.08, 0), (0.18, 1), (0.30, 2), (0.45, 3), (0.48, 4), (0.58, 5), (0.70, 6), (0.90, 7)]
UNHCR_KINDS = [(0.8, "voluntary_repatriation")]  # else agreement_return
IOM_KINDS = [(0.35, "avr_rejected"), (0.6, "avr_asylum_seeker"), (0.92, "avr_migrant")]  # else agreement_return
INFORMED_KINDS = ("avr_asylum_seeker", "avr_rejected")  # returns/choices.py UNHCR_INFORMED_KINDS
PLACES = {
    "AF": ["Kabul", "Herat", "Jalalabad", "Mazar-i-Sharif", "Kandahar"],
    "IQ": ["Baghdad", "Mosul", "Erbil", "Basra", "Sulaymaniyah"],
}
DEPARTURE_COUNTRIES = {"AF": ["IR", "PK", "DE", "TR"], "IQ": ["TR", "DE", "JO", "SY"]}
LOU_STATUSES = [
    (0.10, "draft"),
    (0.15, "partly_signed"),
    (0.65, "in_force"),
    (0.75, "phasing_out"),
    (0.85, "concluded"),
    (0.90, "terminated"),
]  # else abandoned
LEAD_TIME_DAYS = 7


@dataclass(frozen=True)
class Scale:
    cases: int
    lous: int
    entries: int  # pre-departure entries in all
    big_list: int  # entries of the one list the CSV measurement exports
    consultations: int
    list_days: int = 365  # one list per IOM office and day, over this many days


FULL = Scale(cases=200_000, lous=2_000, entries=50_000, big_list=10_000, consultations=1_000)
QUICK = Scale(cases=20_000, lous=200, entries=5_000, big_list=1_000, consultations=100)


@dataclass(frozen=True)
class BenchOffice:
    id: int
    code: str
    is_unhcr: bool
    country: str
    share: float
    counterpart_id: int | None = None


def pick(variable: str, pairs: list[tuple[float, Any]], otherwise: Any) -> str:
    """A SQL CASE choosing a value by a uniform random `variable` and cumulative upper bounds."""
    whens = " ".join(f"WHEN {variable} < {bound} THEN {_sql(value)}" for bound, value in pairs)
    return f"(CASE {whens} ELSE {_sql(otherwise)} END)"


def _sql(value: Any) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(_sql(v) for v in values) + "]::text[]"


def insert_select(cursor, model, given: dict[str, str], source: str, params: dict | None = None) -> int:
    """INSERT INTO model's table (columns) SELECT expressions FROM source. `given` maps columns to SQL expressions;
    every other column gets the model's default (NULL when nullable, '' for text), so that the rows are what the
    ORM would write. A column without a default and not given is an error here, not a database error later."""
    from django.db import models

    columns, expressions = [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if column in given:
            columns.append(column)
            expressions.append(given[column])
            continue
        if field.primary_key:
            continue
        if field.has_default():
            if callable(field.default) and field.default not in (dict, list):
                raise ValueError(f"{model.__name__}.{column}: give a value (its default is computed per row)")
            literal = cursor.mogrify("%s", [field.get_db_prep_save(field.get_default(), cursor.db)]).decode()
        elif field.null:
            literal = "NULL"
        elif isinstance(field, models.CharField | models.TextField):
            literal = "''"
        else:
            raise ValueError(f"{model.__name__}.{column}: give a value (NOT NULL, no default)")
        columns.append(column)
        expressions.append(literal)
    unknown = set(given) - set(columns)
    if unknown:
        raise ValueError(f"{model.__name__}: no such columns {sorted(unknown)}")
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(expressions)} FROM {source}",
        params or None,  # without parameters, the text is sent as written
    )
    return cursor.rowcount


def is_generated(scale: Scale) -> bool:
    from letters_of_understanding.models import LetterOfUnderstanding
    from notifications.models import PreDepartureEntry
    from returns.models import ReturnCase, ReturnCaseMember

    return (
        ReturnCase.objects.count() == scale.cases
        and ReturnCaseMember.objects.exists()
        and LetterOfUnderstanding.objects.count() == scale.lous
        and PreDepartureEntry.objects.exists()
    )


def generate(*, scale: Scale, offices: list[BenchOffice], user_ids: dict[str, int], seed: int, out) -> dict[str, Any]:
    """(Re)generate every operations table. Returns counts and seconds."""
    from django.db import connection, transaction
    from django.utils import timezone

    today = timezone.localdate()
    now = timezone.now()
    started = time.perf_counter()
    counts: dict[str, Any] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            "TRUNCATE returns_returncase, returns_returnagreement, returns_repatriationoperation, "
            "notifications_predeparturelist, letters_of_understanding_letterofunderstanding, jointops_consultation "
            "RESTART IDENTITY CASCADE"
        )
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        links = _agreements_and_operations(offices, today)
        counts["cases"] = _cases(cursor, scale, offices, links, user_ids, today, now)
        counts["members"] = _members(cursor)
        counts["transitions"] = _transitions(cursor, user_ids)
        out(f"  cases, members and moves: {time.perf_counter() - started:.1f} s")
        counts["lous"] = _lous(cursor, scale, offices, today, now)
        counts["lists"], counts["entries"], counts["big_list_id"] = _lists(cursor, scale, offices, user_ids, today, now)
        counts["consultations"] = _consultations(cursor, scale, offices, user_ids, today, now)
    with connection.cursor() as cursor:
        for table in (
            "returns_returncase",
            "returns_returncasemember",
            "returns_casetransition",
            "letters_of_understanding_letterofunderstanding",
            "notifications_predeparturelist",
            "notifications_predepartureentry",
            "notifications_delivery",
            "jointops_consultation",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    counts["seconds"] = time.perf_counter() - started
    return counts


def _agreements_and_operations(offices: list[BenchOffice], today: dt.date) -> dict[str, dict[str, int]]:
    """A return agreement per country (for returns under an agreement) and a repatriation operation per UNHCR office
    (voluntary repatriation, MOU §31): a handful of rows, written with the ORM."""
    from jointops.models import Office, Organisation
    from returns.models import RepatriationOperation, ReturnAgreement

    links: dict[str, dict[str, int]] = {"agreement": {}, "operation": {}}
    parties = list(Organisation.objects.filter(code__in=["UNHCR", "IOM"]))
    for office in offices:
        if not office.is_unhcr:
            continue
        record = Office.objects.get(pk=office.id)
        agreement = ReturnAgreement.objects.create(
            office=record,
            kind="tripartite",
            title=f"Tripartite agreement on returns to {office.country}",
            country_of_origin=office.country,
            host_country=DEPARTURE_COUNTRIES[office.country][0],
            valid_from=today - dt.timedelta(days=1500),
            valid_until=today + dt.timedelta(days=700),
        )
        agreement.parties.set(parties)
        links["agreement"][office.country] = agreement.pk
        operation = RepatriationOperation.objects.create(
            office=record,
            title=f"Organised voluntary repatriation to {office.country}",
            kind="organised",
            status="ongoing",
            country_of_origin=office.country,
            expected_number=50_000,
            expected_start=today - dt.timedelta(days=800),
        )
        links["operation"][office.country] = operation.pk
    return links


def _cases(cursor, scale, offices, links, user_ids, today, now) -> int:
    bounds, total = [], 0.0
    for office in offices:
        total += office.share
        bounds.append((round(total, 6), office))
    office_id = pick("r_office", [(b, o.id) for b, o in bounds[:-1]], bounds[-1][1].id)
    code = pick("r_office", [(b, o.code) for b, o in bounds[:-1]], bounds[-1][1].code)
    unhcr = pick(
        "r_office", [(b, str(o.is_unhcr).lower()) for b, o in bounds[:-1]], str(bounds[-1][1].is_unhcr).lower()
    )
    country = pick("r_office", [(b, o.country) for b, o in bounds[:-1]], bounds[-1][1].country)
    # The plan: one row per case with its random draws and what follows from them; ids 1..N (the table was emptied).
    cursor.execute(
        f"""
        CREATE TEMP TABLE bench_case_plan ON COMMIT DROP AS
        WITH draws AS (
            SELECT g AS id, random() AS r_office, random() AS r_kind, random() AS r_stage, random() AS r_date,
                   random() AS r_size, random() AS r_age, random() AS r_misc
            FROM generate_series(1, %(n)s) AS g
        ), placed AS (
            SELECT d.*, {office_id} AS office_id, {code} AS code, {unhcr}::boolean AS is_unhcr, {country} AS country,
                   {pick("r_stage", [(b, s) for b, s in STAGE_SHARES], WITHDRAWN)} AS st,
                   floor(r_misc * 4)::int AS withdrawn_from,
                   1 + floor(6 * power(r_size, 1.5))::int AS size
            FROM draws d
        ), kinds AS (
            SELECT p.*,
                   CASE WHEN is_unhcr THEN {pick("r_kind", UNHCR_KINDS, "agreement_return")}
                        ELSE {pick("r_kind", IOM_KINDS, "agreement_return")} END AS kind,
                   CASE WHEN st = {WITHDRAWN} THEN withdrawn_from ELSE st END AS steps,
                   CASE WHEN st = 3 THEN %(today)s + (round(r_date * 180) - 90)::int
                        WHEN st = 4 THEN %(today)s - floor(r_date * 5)::int
                        WHEN st BETWEEN 5 AND 7 THEN %(today)s - (6 + floor(r_date * 720))::int
                        WHEN st = {WITHDRAWN} AND withdrawn_from = 3 THEN %(today)s - floor(r_date * 365)::int
                   END AS departure
            FROM placed p
        ), dated AS (
            SELECT k.*,
                   CASE WHEN departure IS NOT NULL
                        THEN least(%(now)s - interval '1 day',
                                   (departure - (120 + floor(r_age * 200))::int)::timestamp AT TIME ZONE 'UTC'
                                   + interval '9 hours')
                        ELSE %(now)s - (1 + r_age * 700) * interval '1 day' END AS created,
                   CASE WHEN st BETWEEN 4 AND 7
                        THEN departure::timestamp AT TIME ZONE 'UTC' + interval '8 hours' END AS embarked_at
            FROM kinds k
        )
        SELECT d.*,
               CASE WHEN st BETWEEN 5 AND 7 THEN embarked_at + interval '1 day' END AS arrived_at,
               CASE WHEN st BETWEEN 5 AND 7
                        THEN least(%(now)s, embarked_at + interval '1 day' + (st - 5) * interval '60 days')
                    WHEN st = 4 THEN least(%(now)s, embarked_at)
                    ELSE created + (least(%(now)s, departure::timestamp AT TIME ZONE 'UTC') - created)
                        * (0.2 + 0.8 * r_misc) END AS last_at,
               (st BETWEEN 3 AND 7 OR (st = {WITHDRAWN} AND withdrawn_from = 3)) AS scheduled_once
        FROM dated d
        """,
        {"n": scale.cases, "today": today, "now": now},
    )
    places = "CASE WHEN country = 'AF' THEN {af} ELSE {iq} END".format(af=_array(PLACES["AF"]), iq=_array(PLACES["IQ"]))
    departures = "CASE WHEN country = 'AF' THEN {af} ELSE {iq} END".format(
        af=_array(DEPARTURE_COUNTRIES["AF"]), iq=_array(DEPARTURE_COUNTRIES["IQ"])
    )
    from returns.models import ReturnCase

    inserted = insert_select(
        cursor,
        ReturnCase,
        {
            "id": "id",
            "created_at": "created",
            "updated_at": "last_at",
            "reference": "'RC-' || code || '-' || upper(lpad(to_hex(id), 8, '0'))",
            "kind": "kind",
            "lead_office_id": "office_id",
            "stage": f"({_array(STAGES + ['withdrawn'])})[st + 1]",
            "country_of_departure": f"({departures})[1 + mod(floor(r_kind * 97)::int, 4)]",
            "country_of_return": "country",
            "place_of_return": f"({places})[1 + mod(floor(r_misc * 89)::int, 5)]",
            "operation_id": "CASE WHEN kind = 'voluntary_repatriation' AND r_age < 0.5 THEN "
            + pick_country(links["operation"])
            + " END",
            "agreement_id": "CASE WHEN kind = 'agreement_return' THEN " + pick_country(links["agreement"]) + " END",
            "expected_departure_date": "departure",
            "travel_details": "CASE WHEN departure IS NOT NULL THEN 'Charter flight, escorted; meeting point at the "
            "office at 06:00' ELSE '' END",
            "embarkation_point": "CASE WHEN departure IS NOT NULL THEN 'International airport' ELSE '' END",
            "embarked_at": "embarked_at",
            "arrived_at": "arrived_at",
            "fit_to_travel": "CASE WHEN scheduled_once THEN true WHEN st = 2 AND r_age < 0.5 THEN true END",
            "final_decision_date": "CASE WHEN kind = 'avr_rejected' THEN (created - interval '60 days')::date END",
            "possibilities_to_stay_exhausted": "kind = 'avr_rejected' AND scheduled_once",
            "no_conflict_with_humanitarian_concerns": "kind IN ('avr_rejected', 'avr_migrant') AND scheduled_once",
            "best_interests_considered": "kind IN ('avr_rejected', 'avr_migrant') AND scheduled_once",
            "bilateral_matter_recognised": "kind IN ('avr_rejected', 'avr_migrant') AND scheduled_once",
            "emergency_justification": f"CASE WHEN st BETWEEN 4 AND 7 AND kind IN {INFORMED_KINDS} AND r_age < 0.01 "
            "THEN 'The charter was brought forward at short notice.' ELSE '' END",
            "closing_reason": "CASE WHEN st = 7 THEN "
            + pick("r_misc", [(0.6, "reintegrated"), (0.9, "follow_up_ended")], "lost_contact")
            + " ELSE '' END",
            "version": f"1 + steps + (st = {WITHDRAWN})::int",
            "created_by_id": str(user_ids["field_staff"]),
        },
        "bench_case_plan",
    )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('returns_returncase', 'id'), (SELECT max(id) FROM returns_returncase))"
    )
    return inserted


def pick_country(ids_by_country: dict[str, int]) -> str:
    return "CASE country " + " ".join(f"WHEN {_sql(c)} THEN {i}" for c, i in ids_by_country.items()) + " END"


def _members(cursor) -> int:
    """A principal and household members per case, each person on one case at most, from the lead office's people."""
    from returns.models import ReturnCaseMember

    cursor.execute(
        """
        CREATE TEMP TABLE bench_people ON COMMIT DROP AS
        SELECT id, office_id, row_number() OVER (PARTITION BY office_id ORDER BY md5(id::text)) AS rn
        FROM beneficiaries_beneficiary WHERE merged_into_id IS NULL;
        CREATE INDEX ON bench_people (office_id, rn);
        CREATE TEMP TABLE bench_slots ON COMMIT DROP AS
        SELECT id AS case_id, office_id, size, created,
               sum(size) OVER (PARTITION BY office_id ORDER BY id) - size AS start
        FROM bench_case_plan;
        """
    )
    return insert_select(
        cursor,
        ReturnCaseMember,
        {
            "case_id": "s.case_id",
            "beneficiary_id": "p.id",
            "is_principal": "j = 0",
            "added_at": "s.created",
        },
        "bench_slots s CROSS JOIN generate_series(0, s.size - 1) AS j "
        "JOIN bench_people p ON p.office_id = s.office_id AND p.rn = s.start + j + 1",
    )


def _transitions(cursor, user_ids) -> int:
    """The moves along the flow up to each case's stage, then the withdrawal of withdrawn cases."""
    from returns.models import CaseTransition

    moves = _array(MOVES)
    stages = _array(STAGES)
    forward = insert_select(
        cursor,
        CaseTransition,
        {
            "case_id": "c.id",
            "transition": f"({moves})[i]",
            "from_stage": f"({stages})[i]",
            "to_stage": f"({stages})[i + 1]",
            "reason": "''",
            "details": "CASE WHEN i = 3 THEN jsonb_build_object('previous_date', NULL, 'expected_departure_date', "
            "to_char(c.departure, 'YYYY-MM-DD')) ELSE '{}'::jsonb END",
            "user_id": str(user_ids["field_staff"]),
            "at": "CASE WHEN i = 4 THEN c.embarked_at WHEN i = 5 THEN c.arrived_at "
            "WHEN i = 6 THEN c.arrived_at + (c.last_at - c.arrived_at) / 2 "
            f"WHEN i = c.steps AND c.st <> {WITHDRAWN} THEN c.last_at "
            "ELSE c.created + (coalesce(c.embarked_at, c.last_at) - c.created) "
            f"* (i::float / (least(c.steps, 3) + (c.st = {WITHDRAWN} OR c.steps > 3)::int)) END",
        },
        "bench_case_plan c CROSS JOIN generate_series(1, c.steps) AS i",
    )
    withdrawals = insert_select(
        cursor,
        CaseTransition,
        {
            "case_id": "c.id",
            "transition": "'withdraw'",
            "from_stage": f"({stages})[c.withdrawn_from + 1]",
            "to_stage": "'withdrawn'",
            "reason": "'The person changed their mind.'",
            "details": "'{}'::jsonb",
            "user_id": str(user_ids["field_staff"]),
            "at": "c.last_at",
        },
        f"bench_case_plan c WHERE c.st = {WITHDRAWN}",
    )
    return forward + withdrawals


def _lous(cursor, scale, offices, today, now) -> int:
    """Letters of Understanding between the UNHCR and IOM offices of a country, in every status (MOU §5, §39-§47)."""
    from letters_of_understanding.models import (
        HandoverItem,
        LetterOfUnderstanding,
        PhaseOutPlan,
        Review,
    )

    unhcr = {o.country: o.id for o in offices if o.is_unhcr}
    iom = {o.country: o.id for o in offices if not o.is_unhcr}
    cursor.execute(
        f"""
        CREATE TEMP TABLE bench_lou_plan ON COMMIT DROP AS
        WITH draws AS (
            SELECT g AS id, random() AS r_status, random() AS r_start, random() AS r_end, random() AS r_misc,
                   CASE WHEN mod(g, 3) = 0 THEN 'IQ' ELSE 'AF' END AS country
            FROM generate_series(1, %(n)s) AS g
        ), placed AS (
            SELECT d.*, {pick("r_status", LOU_STATUSES, "abandoned")} AS status,
                   %(today)s - (30 + floor(r_start * 1500))::int AS start_date
            FROM draws d
        )
        SELECT p.*,
               CASE WHEN status = 'in_force' THEN greatest(start_date, %(today)s + (floor(r_end * 730) - 20)::int)
                    WHEN status IN ('concluded', 'terminated', 'abandoned')
                        THEN start_date + (10 + floor(r_end * (%(today)s - start_date - 10)))::int
                    ELSE start_date + (365 + floor(r_end * 1100))::int END AS end_date,
               status IN ('in_force', 'phasing_out', 'concluded', 'terminated') AS entered
        FROM placed p
        """,
        {"n": scale.lous, "today": today},
    )
    lous = insert_select(
        cursor,
        LetterOfUnderstanding,
        {
            "id": "id",
            "created_at": "start_date::timestamp AT TIME ZONE 'UTC' - interval '60 days'",
            "updated_at": "%(now)s - r_misc * interval '200 days'",
            "reference": "'LOU-' || country || '-BENCH-' || lpad(id::text, 5, '0')",
            "title": "'Joint return and reintegration programme ' || id",
            "operational_situation": "'Returns from neighbouring countries and reintegration in areas of return'",
            "countries": "country",
            "unhcr_office_id": pick_country(unhcr),
            "iom_office_id": pick_country(iom),
            "start_date": "start_date",
            "end_date": "end_date",
            "institutional_framework": "'Joint steering committee; monthly coordination meetings'",
            "linkages": "'IOM transport follows UNHCR voluntariness interviews'",
            "status": "status",
            "text_version": "entered::int",
            "entered_into_force_on": "CASE WHEN entered THEN start_date END",
            "review_due_on": "CASE WHEN status IN ('in_force', 'phasing_out') "
            "THEN %(today)s + (floor(r_misc * 400) - 60)::int END",
            "termination_notice_served_on": "CASE WHEN status = 'terminated' THEN end_date - 90 "
            "WHEN status = 'in_force' AND r_misc < 0.05 THEN %(today)s - floor(r_end * 60)::int END",
            "termination_notice_by": "CASE WHEN status = 'terminated' OR (status = 'in_force' AND r_misc < 0.05) "
            "THEN 'IOM' ELSE '' END",
            "termination_reason": "CASE WHEN status = 'terminated' OR (status = 'in_force' AND r_misc < 0.05) "
            "THEN 'Funding ended' ELSE '' END",
            "termination_effective_on": "CASE WHEN status = 'terminated' THEN end_date "
            "WHEN status = 'in_force' AND r_misc < 0.05 THEN %(today)s - floor(r_end * 60)::int + 90 END",
            "phase_out_started_on": "CASE WHEN status IN ('phasing_out', 'concluded') THEN "
            "least(%(today)s, end_date) - 60 END",
            "ended_on": "CASE WHEN status IN ('concluded', 'terminated') THEN end_date END",
        },
        "bench_lou_plan",
        {"now": now, "today": today},
    )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('letters_of_understanding_letterofunderstanding', 'id'), %s)", [lous]
    )
    # MOU §39: an agreed phase-out plan for letters phasing out or concluded, and for half of those in force ending
    # within 120 days (the other half is what the dashboard flags); a draft plan for some others.
    insert_select(
        cursor,
        PhaseOutPlan,
        {
            "created_at": "%(now)s - interval '30 days'",
            "updated_at": "%(now)s - interval '10 days'",
            "lou_id": "id",
            "summary": "'Hand over transport and reception to the ministry'",
            "status": "CASE WHEN status IN ('phasing_out', 'concluded') OR r_misc < 0.5 THEN 'agreed' ELSE 'draft' END",
            "unhcr_agreed_on": "CASE WHEN status IN ('phasing_out', 'concluded') OR r_misc < 0.5 "
            "THEN %(today)s - 20 END",
            "iom_agreed_on": "CASE WHEN status IN ('phasing_out', 'concluded') OR r_misc < 0.5 THEN %(today)s - 15 END",
        },
        "bench_lou_plan WHERE status IN ('phasing_out', 'concluded') "
        "OR (status = 'in_force' AND end_date < %(today)s + 120 AND r_end < 0.7)",
        {"now": now, "today": today},
    )
    insert_select(
        cursor,
        Review,
        {
            "created_at": "%(now)s - interval '100 days'",
            "updated_at": "%(now)s - interval '100 days'",
            "lou_id": "id",
            "held_on": "greatest(start_date, %(today)s - 100)",
            "outcome": "'continue'",
            "participants": "'Representatives of both offices'",
            "summary": "'Activities on track; indicators reported quarterly.'",
            "next_review_due": "greatest(start_date, %(today)s - 100) + 365",
        },
        "bench_lou_plan WHERE status IN ('in_force', 'phasing_out')",
        {"now": now, "today": today},
    )
    insert_select(
        cursor,
        HandoverItem,
        {
            "created_at": "%(now)s - interval '20 days'",
            "updated_at": "%(now)s - interval '20 days'",
            "lou_id": "id",
            "owner_agency": "CASE WHEN k = 1 THEN 'IOM' ELSE 'UNHCR' END",
            "description": "CASE WHEN k = 1 THEN 'Two minibuses' ELSE 'Office furniture and IT equipment' END",
            "quantity": "CASE WHEN k = 1 THEN 2 ELSE 15 END",
            "value": "CASE WHEN k = 1 THEN 60000 END",
            "currency": "CASE WHEN k = 1 THEN 'USD' ELSE '' END",
            "donor_permits_handover": "r_misc < 0.7",
            "status": "CASE WHEN status = 'concluded' AND r_misc < 0.7 THEN 'handed_over' ELSE 'listed' END",
            "recipient_kind": "CASE WHEN status = 'concluded' AND r_misc < 0.7 THEN 'government' ELSE '' END",
            "recipient_name": "CASE WHEN status = 'concluded' AND r_misc < 0.7 THEN 'Ministry of Refugees' ELSE '' END",
            "handed_over_on": "CASE WHEN status = 'concluded' AND r_misc < 0.7 THEN ended_on_guess END",
        },
        "(SELECT *, end_date AS ended_on_guess FROM bench_lou_plan) p CROSS JOIN generate_series(1, 2) AS k "
        "WHERE status IN ('phasing_out', 'concluded')",
        {"now": now},
    )
    return lous


def _lists(cursor, scale, offices, user_ids, today, now) -> tuple[int, int, int]:
    """Pre-departure lists of the IOM offices for their UNHCR counterparts: one a day over `list_days` days, each
    with the departures of informed kinds (Letter) announced 1 to 30 days ahead (late under the lead time), and the
    big list of the CSV measurement. Entries copy the allow-listed fields (notifications.models.ENTRY_FIELDS)."""
    from notifications.models import Delivery, PreDepartureEntry, PreDepartureList

    iom = [o for o in offices if not o.is_unhcr and o.counterpart_id]
    largest = max(iom, key=lambda o: o.share)
    entry_values = {
        "case_id": "c.id",
        "beneficiary_id": "b.id",
        "given_name": "b.given_name",
        "family_name": "b.family_name",
        "expected_departure_date": "c.expected_departure_date",
        "iom_case_reference": "c.reference",
        "unhcr_registration_number": "b.unhcr_registration_number",
    }
    # The daily lists.
    offices_sql = " UNION ALL ".join(
        f"SELECT {o.id} AS iom_office_id, {o.counterpart_id} AS unhcr_office_id, {_sql(o.code)} AS code" for o in iom
    )
    insert_select(
        cursor,
        PreDepartureList,
        {
            "created_at": "(%(today)s - d)::timestamp AT TIME ZONE 'UTC' + interval '6 hours'",
            "updated_at": "(%(today)s - d)::timestamp AT TIME ZONE 'UTC' + interval '6 hours'",
            "reference": "'PDL-' || o.code || '-' || to_char(%(today)s - d, 'YYYYMMDD') || '-B'",
            "iom_office_id": "o.iom_office_id",
            "unhcr_office_id": "o.unhcr_office_id",
            "trigger": "'schedule'",
            "horizon_days": "30",
            "lead_time_days": str(LEAD_TIME_DAYS),
            "acknowledged_at": "CASE WHEN random() < 0.85 THEN (%(today)s - d)::timestamp AT TIME ZONE 'UTC' "
            "+ interval '8 hours' + random() * interval '5 days' END",
            "acknowledged_by_id": str(user_ids["unhcr_staff"]),
        },
        f"generate_series(1, %(days)s) AS d CROSS JOIN ({offices_sql}) AS o",
        {"today": today, "days": scale.list_days},
    )
    cursor.execute(
        "UPDATE notifications_predeparturelist SET acknowledged_at = %s WHERE acknowledged_at > %s",
        [now, now],
    )
    # Entries: each departure of an informed kind, on the list built 1 to 30 days before it (mod(c.id, 30)).
    values = {
        **entry_values,
        "list_id": "l.id",
        "change": "CASE WHEN c.stage = 'withdrawn' THEN 'withdrawn' WHEN mod(c.id, 10) = 0 THEN 'date_changed' "
        "ELSE 'new' END",
        "days_before_departure": "c.expected_departure_date - l.created_at::date",
        "is_late": f"c.expected_departure_date - l.created_at::date < {LEAD_TIME_DAYS}",
    }
    daily = insert_select(
        cursor,
        PreDepartureEntry,
        values,
        f"""(
            SELECT c.*, m.beneficiary_id FROM returns_returncase c
            JOIN returns_returncasemember m ON m.case_id = c.id
            WHERE c.kind IN {INFORMED_KINDS} AND c.expected_departure_date IS NOT NULL
        ) AS c
        JOIN beneficiaries_beneficiary b ON b.id = c.beneficiary_id
        JOIN notifications_predeparturelist l
          ON l.iom_office_id = c.lead_office_id
         AND l.created_at::date = c.expected_departure_date - (1 + mod(c.id, 30))::int""",
    )
    # Keep entries - big_list of them, drawn at random (the candidates were drawn generously), drop empty lists.
    cursor.execute(
        "DELETE FROM notifications_predepartureentry WHERE id IN "
        "(SELECT id FROM notifications_predepartureentry ORDER BY md5(id::text) OFFSET %s)",
        [scale.entries - scale.big_list],
    )
    daily = min(daily, scale.entries - scale.big_list)
    cursor.execute(
        "DELETE FROM notifications_predeparturelist l WHERE NOT EXISTS "
        "(SELECT 1 FROM notifications_predepartureentry e WHERE e.list_id = l.id)"
    )
    # The big list: built today on demand, the scheduled departures of the largest IOM office first.
    cursor.execute(
        "INSERT INTO notifications_predeparturelist (created_at, updated_at, reference, iom_office_id, "
        "unhcr_office_id, trigger, horizon_days, lead_time_days, built_by_id) "
        "VALUES (%s, %s, %s, %s, %s, 'browser', 90, %s, %s) RETURNING id",
        [
            now,
            now,
            f"PDL-{largest.code}-BENCH-BIG",
            largest.id,
            largest.counterpart_id,
            LEAD_TIME_DAYS,
            user_ids["field_staff"],
        ],
    )
    big_list_id = cursor.fetchone()[0]
    big = insert_select(
        cursor,
        PreDepartureEntry,
        {
            **entry_values,
            "list_id": str(big_list_id),
            "change": "'new'",
            "days_before_departure": "c.expected_departure_date - %(today)s",
            "is_late": f"c.expected_departure_date - %(today)s < {LEAD_TIME_DAYS}",
        },
        f"""(
            SELECT c.*, m.beneficiary_id FROM returns_returncase c
            JOIN returns_returncasemember m ON m.case_id = c.id
            WHERE c.lead_office_id = %(office)s AND c.kind IN {INFORMED_KINDS}
              AND c.expected_departure_date IS NOT NULL
            ORDER BY c.stage <> 'departure_scheduled', c.expected_departure_date DESC, m.id
            LIMIT %(limit)s
        ) AS c JOIN beneficiaries_beneficiary b ON b.id = c.beneficiary_id""",
        {"office": largest.id, "limit": scale.big_list, "today": today},
    )
    # One e-mail delivery per list (the outbox): most delivered, a few failed after the last try, a few pending.
    insert_select(
        cursor,
        Delivery,
        {
            "key": "gen_random_uuid()",
            "channel": "'email'",
            "pre_departure_list_id": "l.id",
            "recipients": "'protection@unhcr.example.org'",
            "payload": "'{}'::jsonb",
            "status": pick("r", [(0.95, "done"), (0.98, "failed")], "pending"),
            "attempts": "CASE WHEN r < 0.95 THEN 1 WHEN r < 0.98 THEN 8 ELSE 0 END",
            "max_attempts": "8",
            "next_attempt_at": "l.created_at",
            "done_at": "CASE WHEN r < 0.95 THEN l.created_at + interval '1 minute' END",
            "last_error": "CASE WHEN r >= 0.95 AND r < 0.98 THEN 'SMTP 451: try again later' ELSE '' END",
            "created_at": "l.created_at",
        },
        "(SELECT *, random() AS r FROM notifications_predeparturelist) AS l",
    )
    cursor.execute("SELECT count(*) FROM notifications_predeparturelist")
    return cursor.fetchone()[0], daily + big, big_list_id


def _consultations(cursor, scale, offices, user_ids, today, now) -> int:
    """Consultations between the agencies' offices of a country (MOU §22, §25, §28, §29)."""
    from jointops.models import Consultation

    by_country: dict[str, list[int]] = {}
    for office in offices:
        by_country.setdefault(office.country, []).append(office.id)
    countries = sorted(by_country)
    first = f"CASE WHEN mod(g, 2) = 0 THEN {by_country[countries[0]][0]} ELSE {by_country[countries[-1]][0]} END"
    inserted = insert_select(
        cursor,
        Consultation,
        {
            "id": "g",
            "created_at": "%(now)s - mod(g, 700) * interval '1 day'",
            "updated_at": "%(now)s - mod(g, 700) * interval '1 day'",
            "held_on": "%(today)s - mod(g, 700)",
            "recorded_by_office_id": first,
            "participants": "'Head of office, UNHCR\nChief of mission, IOM'",
            "subject_kind": pick(
                "mod(g, 100) / 100.0",
                [(0.3, "contingency_planning"), (0.5, "rejected_asylum_seekers"), (0.7, "direct_departure")],
                "other",
            ),
            "subject": "'Coordination meeting ' || g",
            "outcome": "'Joint action points agreed.'",
            "created_by_id": str(user_ids["field_staff"]),
        },
        "generate_series(1, %(n)s) AS g",
        {"n": scale.consultations, "now": now, "today": today},
    )
    cursor.execute("SELECT setval(pg_get_serial_sequence('jointops_consultation', 'id'), %s)", [inserted])
    pairs = " UNION ALL ".join(
        f"SELECT {i} AS parity, {office_id} AS office_id"
        for i, country in ((0, countries[0]), (1, countries[-1]))
        for office_id in by_country[country]
    )
    cursor.execute(
        f"INSERT INTO jointops_consultation_offices (consultation_id, office_id) "
        f"SELECT c.id, p.office_id FROM jointops_consultation c JOIN ({pairs}) p ON p.parity = mod(c.id, 2)"
    )
    return inserted
