"""Anonymising a person, irreversibly (issue 8: "names, contacts, documents replaced; statistics kept ... reversible by
nobody"; UNHCR's Policy on the Protection of Personal Data of Persons of Concern (2015), its retention principle; IOM
Data Protection Principles, retention of personal data).

`anonymise_person` (one person: a deletion request granted, or the retention task) and `anonymise_people` (a batch of
up to 1,000, set-based: the retention task) replace or clear everything that identifies the person, keep what the
statistics count, purge the change history that still holds the old values, and write one `Anonymisation` row per
record (ids only). What is replaced and what is kept:

Replaced or cleared:
- given name → "Anonymised", family name → "#<record id>" (each record its own id); other names, phone, e-mail,
  address, government ID, UNHCR registration and IOM case numbers, preferred language, consent scope, basis details;
- the search and duplicate keys (name_key, family_key, search_text): no search by name, no duplicate match;
- identity documents: the number replaced, the expiry date cleared; reasons written on category changes;
- the names, UNHCR number and voluntariness concern copied onto pre-departure list entries;
- the free text of the person's return cases (travel details, place of return, emergency justification, reasons of
  moves, measure notes, visit outcomes, the concern quoted in an inbox notice): cleared once every member is
  anonymised, otherwise the person's names and numbers are cut out ("[anonymised]"); household notes likewise;
- the change history (django-simple-history) of the person, their documents and list entries: deleted; the
  historical copies of case and household free text: cleared like the text itself;
- outbox rows not delivered yet whose payload names the person: payload emptied;
- the person's names and numbers in their data subject requests (what was asked, the outcome) and their history.

Kept (the statistics: dashboards, reports): sex, year of birth (1 January, marked estimated), nationality, country of
residence, category and its dated history, office and organisation, specific needs (a fixed list, no medical
details), of concern to UNHCR, the sharing basis and the shares, household membership and relationship (household
sizes), document types and issuing countries, the list entries' change, date, case reference and lateness (the
notification compliance figures), the cases with their stages, dates and moves.

Merged records (`merged_into`) are the same human being as their survivor: a merge group is anonymised as one — the
survivor and every record merged into it, whichever of them is named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Cast, Concat, TruncYear
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.models import Beneficiary, CategoryChange, Household, IdentityDocument
from jointops.exceptions import Conflict, ValidationFailed
from jointops.services import acting_user
from notifications.choices import DeliveryStatus, NoticeKind
from notifications.models import Delivery, Notification, PreDepartureEntry
from privacy.choices import AnonymisationReason, RecordType
from privacy.models import Anonymisation, DataSubjectRequest
from returns.choices import FINAL_STAGES
from returns.models import CaseMeasure, CaseTransition, ReintegrationVisit, ReturnCase, ReturnCaseMember

# The neutral values written in place of names and document numbers. Stored data, the same in every language (not
# translated): the list pages show them as they are.
ANONYMISED = "Anonymised"
REDACTED = "[anonymised]"
DOCUMENT_NUMBER = "ANONYMISED"

BATCH_SIZE = 1000  # persons per transaction (issue 8 brief: 1,000 persons per transaction)

# Person fields emptied (blank strings). Kept fields are listed in the module docstring.
CLEARED_FIELDS = (
    "other_names",
    "phone",
    "email",
    "address",
    "government_id",
    "unhcr_registration_number",
    "iom_case_number",
    "preferred_language",
    "consent_scope",
    "sharing_basis_note",
    "name_key",
    "family_key",
    "search_text",
)
# Return-case free text (a case's notes about its people): cleared, or redacted while a member is not anonymised.
CASE_TEXT_FIELDS = ("travel_details", "place_of_return", "emergency_justification")

# Historical tables holding a person's identifying values: their rows of anonymised records are deleted.
# (model, column naming the person). Every historical table with a column pointing at a person must appear here or
# in HISTORY_KEPT (tests/privacy/test_anonymise.py walks them all).
HISTORY_PURGED = (
    (Beneficiary.history.model, "id"),
    (IdentityDocument.history.model, "beneficiary_id"),
    (PreDepartureEntry.history.model, "beneficiary_id"),
)
# Historical tables pointing at a person but holding no identifying value of theirs once their free text is handled
# below: kept, so the audit of who did what stays. Household history: its notes are cleared or redacted. Data subject
# requests: the record is the proof the request was handled (issue 8: "recorded with their outcome"); the person's
# names and numbers are cut out of what was asked and of the outcome, in the request and its history.
HISTORY_KEPT = frozenset({"HistoricalReturnCaseMember", "HistoricalHousehold", "HistoricalDataSubjectRequest"})


# --- Entry points ----------------------------------------------------------------------------------------------


def anonymise_person(
    person: Beneficiary,
    *,
    reason: str,
    actor: Any = None,
    request: Any = None,
    retention_days: int | None = None,
) -> list[int]:
    """Anonymise `person` and the records merged with it, in one transaction; irreversible. Returns the ids of the
    records anonymised now (empty when they already were: running it twice changes nothing).

    `reason`: AnonymisationReason. A deletion request (`request`, the DataSubjectRequest granted) is checked by its
    own service (who decides it); here only that it is given. A person with a return case still open is refused
    (Conflict): the case's departure, lists and follow-up need the identity — close or withdraw it first.
    """
    if reason not in AnonymisationReason.values:
        raise ValidationFailed(_("Unknown reason for anonymising."), field="reason")
    if reason == AnonymisationReason.DELETION_REQUEST and request is None:
        raise ValidationFailed(_("Name the deletion request that was granted."), field="request")
    with transaction.atomic():
        group = merge_group(person.pk)
        open_cases = ReturnCaseMember.objects.filter(beneficiary_id__in=group).exclude(case__stage__in=FINAL_STAGES)
        if open_cases.exists():
            raise Conflict(
                _("Person %(id)s has a return case still open; close or withdraw it before anonymising the record.")
                % {"id": person.pk}
            )
        return anonymise_people(group, reason=reason, actor=actor, request=request, retention_days=retention_days)


def merge_group(pk: int) -> list[int]:
    """The records of one human being: the survivor at the root of `pk`'s merges and everything merged into it."""
    root, seen = pk, set()
    while True:  # up to the survivor (merges chain rarely: a survivor is never merged, checked by beneficiary_merge)
        seen.add(root)
        parent = Beneficiary.objects.filter(pk=root).values_list("merged_into_id", flat=True).first()
        if parent is None or parent in seen:
            break
        root = parent
    return with_merged([root])


def with_merged(ids: Iterable[int]) -> list[int]:
    """`ids` and every record merged into them, at any depth (one query per level of merging)."""
    found = set(ids)
    frontier = set(found)
    while frontier:
        frontier = set(Beneficiary.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return sorted(found)


@transaction.atomic
def anonymise_people(
    ids: Sequence[int],
    *,
    reason: str,
    actor: Any = None,
    request: Any = None,
    retention_days: int | None = None,
) -> list[int]:
    """The set-based core: anonymise the records `ids` not anonymised yet (the caller passes whole merge groups).
    One transaction; the rows are locked first, so a concurrent edit waits and then meets the anonymised record."""
    now = timezone.now()
    rows = list(
        Beneficiary.objects.select_for_update()
        .filter(pk__in=list(ids), anonymised_at__isnull=True)
        .order_by("pk")
        .values(
            "pk",
            "given_name",
            "family_name",
            "other_names",
            "unhcr_registration_number",
            "iom_case_number",
            "government_id",
            "phone",
            "email",
        )
    )
    if not rows:
        return []
    done = [row["pk"] for row in rows]
    needles = _needles(rows)
    document_ids = list(IdentityDocument.objects.filter(beneficiary_id__in=done).values_list("pk", flat=True))

    # The person: names replaced, contacts and references cleared, date of birth reduced to the year.
    Beneficiary.objects.filter(pk__in=done).update(
        given_name=Value(ANONYMISED),
        family_name=Concat(Value("#"), Cast("pk", CharField())),
        date_of_birth=TruncYear("date_of_birth"),
        date_of_birth_estimated=Case(
            When(date_of_birth__isnull=False, then=Value(True)), default=F("date_of_birth_estimated")
        ),
        anonymised_at=now,
        updated_at=now,
        version=F("version") + 1,  # an editor holding the old version is refused, and partners syncing see it
        **dict.fromkeys(CLEARED_FIELDS, ""),
    )
    IdentityDocument.objects.filter(pk__in=document_ids).update(
        number=DOCUMENT_NUMBER, expiry_date=None, updated_at=now
    )
    CategoryChange.objects.filter(beneficiary_id__in=done).update(reason="")
    PreDepartureEntry.objects.filter(beneficiary_id__in=done).update(
        given_name=ANONYMISED,
        family_name=Concat(Value("#"), Cast("pk", CharField())),  # the entry's own id: no link to the person's
        unhcr_registration_number="",
        concern="",
    )
    _cases_of(done, needles)
    _households_of(done, needles)
    _pending_deliveries(needles)
    if needles:
        _redact_rows(DataSubjectRequest.objects.filter(person_id__in=done), ("details", "outcome"), needles)
        _redact_rows(DataSubjectRequest.history.filter(person_id__in=done), ("details", "outcome"), needles)

    # Reversible by nobody: the history rows still holding the old values go.
    for model, column in HISTORY_PURGED:
        model.objects.filter(**{f"{column}__in": done}).delete()

    log(
        RecordType.PERSON,
        done,
        reason=reason,
        actor=actor,
        request=request,
        retention_days=retention_days,
        at=now,
    )
    return done


def log(
    record_type: str,
    object_ids: Iterable[int],
    *,
    reason: str,
    actor: Any = None,
    request: Any = None,
    retention_days: int | None = None,
    at=None,
) -> int:
    """One append-only Anonymisation row per record (type and id, never the data removed)."""
    at = at or timezone.now()
    by = acting_user(actor)
    rows = [
        Anonymisation(
            at=at,
            record_type=record_type,
            object_id=pk,
            reason=reason,
            retention_days=retention_days,
            request=request,
            by=by,
        )
        for pk in object_ids
    ]
    Anonymisation.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    return len(rows)


# --- Return cases ----------------------------------------------------------------------------------------------


def clear_case_notes(case_ids: Sequence[int], *, now=None) -> None:
    """Empty the free text of cases (and its historical copies); stages, dates and moves stay for the statistics."""
    if not case_ids:
        return
    now = now or timezone.now()
    case_ids = list(case_ids)
    ReturnCase.objects.filter(pk__in=case_ids).update(
        version=F("version") + 1, updated_at=now, **dict.fromkeys(CASE_TEXT_FIELDS, "")
    )
    ReturnCase.history.model.objects.filter(id__in=case_ids).update(**dict.fromkeys(CASE_TEXT_FIELDS, ""))
    CaseTransition.objects.filter(case_id__in=case_ids).update(reason="")
    CaseMeasure.objects.filter(case_id__in=case_ids).update(note="")
    ReintegrationVisit.objects.filter(case_id__in=case_ids).update(outcome="")
    ReintegrationVisit.history.model.objects.filter(case_id__in=case_ids).update(outcome="")
    case_notices(case_ids).update(body="")


def case_notices(case_ids: Sequence[int], kinds: Iterable[str] = (NoticeKind.VOLUNTARINESS_CONCERN,)):
    """Inbox items about these cases whose text quotes what was written about the people (a voluntariness concern
    carries UNHCR's text; every other notice names records by reference only). They link to the case."""
    urls = [reverse("returns:case_detail", args=[pk]) for pk in case_ids]
    return Notification.objects.filter(kind__in=list(kinds), url__in=urls)


def _cases_of(person_ids: list[int], needles: list[str]) -> None:
    cases = ReturnCase.objects.filter(members__beneficiary_id__in=person_ids).values("pk").distinct()
    someone_left = ReturnCaseMember.objects.filter(case_id=OuterRef("pk"), beneficiary__anonymised_at__isnull=True)
    whole = list(ReturnCase.objects.filter(pk__in=cases).exclude(Exists(someone_left)).values_list("pk", flat=True))
    clear_case_notes(whole)
    mixed = list(ReturnCase.objects.filter(pk__in=cases).exclude(pk__in=whole).values_list("pk", flat=True))
    if not mixed or not needles:
        return
    # Cases shared with people not anonymised: only the anonymised people's names and numbers are cut out.
    _redact_rows(ReturnCase.objects.filter(pk__in=mixed), CASE_TEXT_FIELDS, needles)
    _redact_rows(ReturnCase.history.model.objects.filter(id__in=mixed), CASE_TEXT_FIELDS, needles)
    _redact_rows(CaseTransition.objects.filter(case_id__in=mixed), ("reason",), needles)
    _redact_rows(CaseMeasure.objects.filter(case_id__in=mixed), ("note",), needles)
    _redact_rows(ReintegrationVisit.objects.filter(case_id__in=mixed), ("outcome",), needles)
    _redact_rows(ReintegrationVisit.history.model.objects.filter(case_id__in=mixed), ("outcome",), needles)
    _redact_rows(case_notices(mixed), ("body",), needles)


def _households_of(person_ids: list[int], needles: list[str]) -> None:
    """Membership is kept (household sizes); the household's notes are cleared once every member is anonymised,
    and the anonymised members' names cut out of them before that."""
    households = Household.objects.filter(members__pk__in=person_ids).values("pk").distinct()
    someone_left = Beneficiary.objects.filter(household_id=OuterRef("pk"), anonymised_at__isnull=True)
    whole = list(Household.objects.filter(pk__in=households).exclude(Exists(someone_left)).values_list("pk", flat=True))
    Household.objects.filter(pk__in=whole).update(notes="")
    Household.history.model.objects.filter(id__in=whole).update(notes="")
    mixed = Q(pk__in=households) & ~Q(pk__in=whole)
    if needles:
        _redact_rows(Household.objects.filter(mixed), ("notes",), needles)
        history = Household.history.model.objects.filter(id__in=Household.objects.filter(mixed).values("pk"))
        _redact_rows(history, ("notes",), needles)


# --- Outbox ----------------------------------------------------------------------------------------------------


def _pending_deliveries(needles: list[str]) -> None:
    """Outbox rows not delivered yet carry ids in their payload (the content is rendered when sent, from records
    now anonymised); should one name a person, its payload is emptied. Few rows: the ones waiting."""
    if not needles:
        return
    pattern = _pattern(needles)
    waiting = Delivery.objects.exclude(status=DeliveryStatus.DONE).exclude(payload={}).values_list("pk", "payload")
    naming = [pk for pk, payload in waiting.iterator() if pattern.search(json.dumps(payload, ensure_ascii=False))]
    if naming:
        Delivery.objects.filter(pk__in=naming).update(payload={})


# --- Redaction -------------------------------------------------------------------------------------------------


def _needles(rows: list[dict]) -> list[str]:
    """What identifies the people in free text: names (alone and together), other names, numbers, contacts."""
    found: set[str] = set()
    for row in rows:
        found.update((row["given_name"], row["family_name"], f"{row['given_name']} {row['family_name']}"))
        found.update(row["other_names"].splitlines())
        found.update(
            row[k]
            for k in ("unhcr_registration_number", "iom_case_number", "government_id", "phone", "email")
            if row[k]
        )
    # Each word of a name too ("Rahimy" of "Amina Rahimy"), from three letters: shorter ones ("al", "bin") would cut
    # out too much of the rest. Longest first, so "Amina Ahmadi" goes before "Amina".
    words = {word for name in found for word in name.split() if len(word) >= 3}
    return sorted({n.strip() for n in found | words if len(n.strip()) >= 2}, key=lambda n: (-len(n), n))


def _pattern(needles: list[str]) -> re.Pattern:
    return re.compile("|".join(re.escape(n) for n in needles), re.IGNORECASE)


def redact(text: str, needles: list[str]) -> str:
    if not text or not needles:
        return text
    return _pattern(needles).sub(REDACTED, text)


def _redact_rows(qs, fields: Sequence[str], needles: list[str]) -> None:
    model = qs.model
    pk_name = model._meta.pk.attname
    for row in qs.values(pk_name, *fields):
        changed = {f: redact(row[f], needles) for f in fields if row[f] and redact(row[f], needles) != row[f]}
        if changed:
            model.objects.filter(**{pk_name: row[pk_name]}).update(**changed)
