"""Generators of benchmark data: a caseload of people written with COPY, and import files.

People are drawn from bench.names (the spellings each name is really written in), with dates of birth over eight
decades (some estimated, recorded as 1 January), references in the agencies' systems, a few contact details and
specific needs. Their search and duplicate keys are computed by the application's own services.derive_keys, so the
lookups measured are the ones the application makes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace

from bench.names import NAMES, NATIONALITY_WEIGHTS, RESIDENCE

CATEGORY_WEIGHTS = {
    "refugee": 0.34,
    "asylum_seeker": 0.2,
    "rejected_asylum_seeker": 0.06,
    "returnee": 0.16,
    "migrant": 0.14,
    "idp": 0.07,
    "affected_local_population": 0.03,
}
LANGUAGES = {"AF": ["fa", "ps"], "SY": ["ar"], "IQ": ["ar", "ku"], "ER": ["ti"], "SO": ["so"]}
NEEDS = ["single_parent", "older_person", "disability", "woman_at_risk", "unaccompanied_child"]
# Which spelling group a name belongs to (to write a probe in another spelling of the same name).
GROUPS: dict[str, list[str]] = {
    spelling: group
    for given_f, given_m, family in NAMES.values()
    for groups in (given_f, given_m, family)
    for group in groups
    for spelling in group
}


def skewed(rng: random.Random, items: list, power: float = 2.0):
    """An item, the first ones far more often (a few names are very common)."""
    return items[int(len(items) * rng.random() ** power)]


def spelling(rng: random.Random, group: list[str]) -> str:
    """The usual spelling most of the time, another one otherwise."""
    return group[0] if rng.random() < 0.6 else rng.choice(group)


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass(frozen=True)
class OfficeShare:
    office_id: int
    organisation_id: int
    is_unhcr: bool
    share: float


def person_values(rng: random.Random, number: int, *, today: dt.date) -> dict:
    """One person's fields (no office), as the import template names them."""
    nationality = weighted(rng, NATIONALITY_WEIGHTS)
    female, male, family = NAMES[nationality]
    sex = "female" if rng.random() < 0.49 else "male"
    given = spelling(rng, skewed(rng, female if sex == "female" else male))
    estimated = rng.random() < 0.15
    born = today - dt.timedelta(days=rng.randint(0, 80 * 365))
    if estimated:
        born = dt.date(born.year, 1, 1)
    needs = [rng.choice(NEEDS)] if rng.random() < 0.08 else []
    return {
        "given_name": given,
        "family_name": spelling(rng, skewed(rng, family, 1.6)),
        "sex": sex,
        "date_of_birth": born,
        "date_of_birth_estimated": estimated,
        "nationality": nationality,
        "country_of_residence": rng.choice(RESIDENCE[nationality]),
        "category": weighted(rng, CATEGORY_WEIGHTS),
        "government_id": f"G{number:09d}" if rng.random() < 0.2 else "",
        "phone": f"+{rng.randint(20, 99)} {rng.randint(100, 999)} {rng.randint(100000, 999999)}"
        if rng.random() < 0.5
        else "",
        "preferred_language": rng.choice(LANGUAGES[nationality]),
        "specific_needs": needs,
    }


def population_rows(
    *, count: int, offices: list[OfficeShare], categories: dict[str, int], seed: int, now: dt.datetime
) -> Iterator[dict]:
    """`count` people as rows of beneficiaries_beneficiary (attribute names), keys derived by the application."""
    from beneficiaries.services import derive_keys

    rng = random.Random(seed)
    today = now.date()
    shares = [o.share for o in offices]
    for number in range(count):
        values = person_values(rng, number, today=today)
        office = rng.choices(offices, weights=shares)[0]
        year = rng.randint(2005, today.year) % 100
        person = SimpleNamespace(
            given_name=values["given_name"],
            family_name=values["family_name"],
            other_names="",
            unhcr_registration_number=f"{values['nationality']}{year:02d}C{number:07d}" if office.is_unhcr else "",
            iom_case_number="" if office.is_unhcr else f"IOM-{year:02d}-{number:07d}",
            government_id=values["government_id"],
        )
        derive_keys(person)
        consent = rng.random() < 0.3
        yield {
            "created_at": now,
            "updated_at": now,
            "office_id": office.office_id,
            "organisation_id": office.organisation_id,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "other_names": "",
            "sex": values["sex"],
            "date_of_birth": values["date_of_birth"],
            "date_of_birth_estimated": values["date_of_birth_estimated"],
            "nationality": values["nationality"],
            "country_of_residence": values["country_of_residence"],
            "category_id": categories[values["category"]],
            "of_concern_to_unhcr": office.is_unhcr,
            "unhcr_registration_number": person.unhcr_registration_number,
            "iom_case_number": person.iom_case_number,
            "government_id": person.government_id,
            "phone": values["phone"],
            "email": "",
            "address": "",
            "preferred_language": values["preferred_language"],
            "specific_needs": values["specific_needs"],
            "household_id": None,
            "relationship_to_head": "",
            "sharing_basis": "consent" if consent else "none",
            "consent_date": today - dt.timedelta(days=rng.randint(0, 3000)) if consent else None,
            "consent_scope": "",
            "sharing_basis_note": "",
            "merged_into_id": None,
            "name_key": person.name_key,
            "family_key": person.family_key,
            "search_text": person.search_text,
            "version": 1,
            "created_by_id": None,
        }


def import_file(*, rows: int, seed: int, known: list[dict], today: dt.date) -> bytes:
    """A CSV import file (the template's columns) of `rows` valid people. About 2 % are another spelling of a
    person already recorded (`known`: dicts of given_name, family_name, date_of_birth, nationality), about 0.5 %
    repeat an earlier row of the file: the duplicate checks have something to find."""
    from beneficiaries.importing import COLUMN_NAMES

    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMN_NAMES, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    written: list[dict] = []
    for number in range(rows):
        draw = rng.random()
        if known and draw < 0.02:
            other = rng.choice(known)
            values = person_values(rng, number, today=today)
            values.update(
                given_name=variant(rng, other["given_name"]),
                family_name=variant(rng, other["family_name"]),
                date_of_birth=other["date_of_birth"],
                nationality=other["nationality"],
            )
        elif written and draw < 0.025:
            values = dict(rng.choice(written))
        else:
            values = person_values(rng, 10_000_000 + number, today=today)
        written.append(values)
        writer.writerow(
            {
                **values,
                "date_of_birth": values["date_of_birth"].isoformat() if values["date_of_birth"] else "",
                "date_of_birth_estimated": "true" if values["date_of_birth_estimated"] else "false",
                "specific_needs": "|".join(values["specific_needs"]),
            }
        )
    return out.getvalue().encode()


def variant(rng: random.Random, name: str) -> str:
    """Another spelling of the same name, when the name has one."""
    group = GROUPS.get(name)
    if not group or len(group) == 1:
        return name
    return rng.choice([spelled for spelled in group if spelled != name])
