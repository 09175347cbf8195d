"""Writes on return cases, repatriation operations and return agreements. One transaction each, permission-checked,
audited; case moves go through the state machine in returns/flow.py."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.models import Beneficiary
from jointops import access
from jointops.audit import acting_as
from jointops.exceptions import Conflict, PermissionRefused, StaleVersion, TransitionNotAllowed, ValidationFailed
from jointops.models import ApiClient, Office, Organisation
from jointops.services import acting_user, full_clean_or_fail, require
from returns import flow
from returns.choices import BEFORE_EMBARKATION, FINAL_STAGES, LEAD, ReturnKind, Stage
from returns.models import (
    AdditionalMeasure,
    CaseMeasure,
    CaseTransition,
    ReintegrationVisit,
    RepatriationOperation,
    ReturnAgreement,
    ReturnCase,
    ReturnCaseMember,
)

CASE_FIELDS = (
    "country_of_departure",
    "country_of_return",
    "place_of_return",
    "operation",
    "agreement",
    "travel_details",
    "embarkation_point",
    "fit_to_travel",
    "final_decision_date",
    "possibilities_to_stay_exhausted",
    "no_conflict_with_humanitarian_concerns",
    "best_interests_considered",
    "bilateral_matter_recognised",
)


def _check_lead_office(kind: str, office: Office) -> None:
    lead = LEAD.get(ReturnKind(kind))
    if lead and office.organisation.code != lead:
        raise ValidationFailed(
            _("%(kind)s is led by %(lead)s: open it at a %(lead)s office.")
            % {"kind": ReturnKind(kind).label, "lead": lead},
            field="lead_office",
        )


def _check_links(case: ReturnCase, principal: Any) -> None:
    if case.operation_id and case.kind != ReturnKind.VOLUNTARY_REPATRIATION:
        raise ValidationFailed(
            _("Only voluntary repatriation cases belong to a repatriation operation (MOU §31)."), field="operation"
        )
    if case.agreement_id and case.kind != ReturnKind.AGREEMENT_RETURN:
        raise ValidationFailed(
            _("Only returns under an agreement are linked to a return agreement."), field="agreement"
        )
    if case.final_decision_date and case.final_decision_date > timezone.localdate():
        raise ValidationFailed(
            _("The date of the final decision cannot be in the future."), field="final_decision_date"
        )


@transaction.atomic
def return_case_open(
    *,
    actor: Any,
    kind: str,
    lead_office: Office,
    principal: Beneficiary,
    members: list[Beneficiary] | None = None,
    **fields: Any,
) -> ReturnCase:
    """Open a case at `lead_office` for `principal` (and household members). The people must be records the actor
    may change (their own offices)."""
    require(actor, access.ADD, "return_case", office=lead_office)
    if kind not in ReturnKind.values:
        raise ValidationFailed(_("Choose the kind of return."), field="kind")
    _check_lead_office(kind, lead_office)
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise ValidationFailed(_("This field cannot be set."), field=sorted(unknown)[0])
    case = ReturnCase(kind=kind, lead_office=lead_office, created_by=acting_user(actor), **fields)
    case.reference = f"RC-{lead_office.code}-{secrets.token_hex(4).upper()}"
    _check_links(case, actor)
    full_clean_or_fail(case, exclude=["created_by"], validate_unique=False)
    people = [principal, *[m for m in members or [] if m.pk != principal.pk]]
    for person in people:
        _require_person(actor, person)
    with acting_as(actor):
        case.save()
        for person in people:
            ReturnCaseMember.objects.create(case=case, beneficiary=person, is_principal=person.pk == principal.pk)
    return case


def _require_person(actor: Any, person: Beneficiary) -> None:
    if person.merged_into_id:
        raise ValidationFailed(_("This record was merged into another; use that one."), field="members")
    if actor is not None and not Beneficiary.objects.visible_to(actor, access.CHANGE).filter(pk=person.pk).exists():
        raise ValidationFailed(_("You may only add people registered at your offices."), field="members")


def _lock(case: ReturnCase, version: int | None) -> ReturnCase:
    locked = (
        ReturnCase.objects.select_for_update(of=("self",)).select_related("lead_office", "agreement").get(pk=case.pk)
    )
    if version is not None and locked.version != version:
        raise StaleVersion()
    return locked


@transaction.atomic
def return_case_update(*, actor: Any, case: ReturnCase, version: int | None, **changes: Any) -> ReturnCase:
    """Change a case's details (never its stage: moves do that). Closed and withdrawn cases are read-only."""
    require(actor, access.CHANGE, "return_case", office=case.lead_office_id)
    case = _lock(case, version)
    if case.stage in FINAL_STAGES:
        raise Conflict(_("This case is closed or withdrawn; it can no longer be changed."))
    for name, value in changes.items():
        if name not in CASE_FIELDS:
            raise ValidationFailed(_("This field cannot be changed here."), field=name)
        setattr(case, name, value)
    _check_links(case, actor)
    full_clean_or_fail(case, exclude=["created_by"], validate_unique=False)
    case.version += 1  # the row is locked
    with acting_as(actor):
        case.save()
    return case


@transaction.atomic
def return_case_add_member(*, actor: Any, case: ReturnCase, beneficiary: Beneficiary) -> ReturnCaseMember:
    require(actor, access.CHANGE, "return_case", office=case.lead_office_id)
    case = _lock(case, None)
    if case.stage not in BEFORE_EMBARKATION:
        raise Conflict(_("Members can only be added before embarkation."))
    _require_person(actor, beneficiary)
    try:
        with transaction.atomic(), acting_as(actor):
            member = ReturnCaseMember.objects.create(case=case, beneficiary=beneficiary)
    except IntegrityError as exc:
        raise Conflict(_("This person is already on the case.")) from exc
    _touch(case)
    return member


@transaction.atomic
def return_case_remove_member(*, actor: Any, case: ReturnCase, member: ReturnCaseMember) -> None:
    """Take a member off the case (e.g. one family member changes their mind). Never the principal."""
    require(actor, access.CHANGE, "return_case", office=case.lead_office_id)
    case = _lock(case, None)
    if member.case_id != case.pk:
        raise ValidationFailed(_("This person is not on the case."), field="member")
    if member.is_principal:
        raise Conflict(_("The principal applicant cannot be removed; withdraw the case instead."))
    if case.stage not in BEFORE_EMBARKATION:
        raise Conflict(_("Members can only be removed before embarkation."))
    with acting_as(actor):
        member.delete()
    _touch(case)


def _touch(case: ReturnCase) -> None:
    case.version += 1
    case.save(update_fields=["version", "updated_at"])


def _may_move(actor: Any, move: flow.Move, case: ReturnCase) -> bool:
    if actor is None:
        return True
    if not access.can(actor, access.CHANGE, "return_case", office=case.lead_office_id):
        return False
    if getattr(actor, "is_api_client", False):  # partner systems act as field staff of their office
        return access.Role.FIELD_STAFF in move.roles
    return access.holds_role_at(actor, move.roles, case.lead_office_id)


def moves_for(*, actor: Any, case: ReturnCase) -> list[flow.Move]:
    """The moves the actor may offer now (source stage matches, role allowed). Guards run when the move is made."""
    return [move for move in flow.allowed_moves(case) if _may_move(actor, move, case)]


@transaction.atomic
def return_case_move(
    *,
    actor: Any,
    case: ReturnCase,
    transition: str,
    reason: str = "",
    version: int | None = None,
    **inputs: Any,
) -> ReturnCase:
    """Move a case through the state machine. Two people moving the same case at once: the row lock serialises
    them and the second finds the case moved (TransitionNotAllowed) or a newer version (StaleVersion)."""
    require(actor, access.CHANGE, "return_case", office=case.lead_office_id)
    move = flow.MOVES.get(transition)
    if move is None:
        raise ValidationFailed(_("Unknown move."), field="transition")
    case = _lock(case, version)
    if case.stage not in move.sources:
        raise TransitionNotAllowed(
            _("A case at stage “%(stage)s” cannot be moved with “%(move)s”.")
            % {"stage": Stage(case.stage).label, "move": move.label}
        )
    if not _may_move(actor, move, case):
        raise PermissionRefused()
    reason = (reason or "").strip()
    if move.needs_reason and not reason:
        raise ValidationFailed(_("Give the reason."), field="reason")
    if "\x00" in reason or len(reason) > 2000:
        raise ValidationFailed(_("The reason must be plain text of at most 2,000 characters."), field="reason")
    for guard in move.guards:
        guard(case, inputs)
    details: dict[str, Any] = {}
    from_stage = case.stage
    now = timezone.now()
    if transition in ("schedule_departure", "reschedule_departure"):
        new_date = inputs.get("expected_departure_date") or case.expected_departure_date
        details = {"previous_date": _iso(case.expected_departure_date), "expected_departure_date": _iso(new_date)}
        case.expected_departure_date = new_date
    elif transition == "confirm_embarkation":
        case.embarked_at = now
        justification = (inputs.get("emergency_justification") or "").strip()
        if justification and flow.unhcr_must_be_informed(case) and not flow.departure_listed_for_unhcr(case):
            case.emergency_justification = justification[:2000]
            details["emergency"] = True  # flagged to the HQ focal points (returns.selectors.emergency_embarkations)
    elif transition == "confirm_arrival":
        case.arrived_at = now
    elif transition == "close":
        case.closing_reason = inputs["closing_reason"]
    if move.target is not None:
        case.stage = move.target
    case.version += 1  # the row is locked
    with acting_as(actor):
        case.save()
        CaseTransition.objects.create(
            case=case,
            transition=transition,
            from_stage=from_stage,
            to_stage=case.stage,
            reason=reason,
            details=details,
            user=acting_user(actor),
            api_client=actor if isinstance(actor, ApiClient) else None,
        )
    return case


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def case_measure_record(
    *, actor: Any, case: ReturnCase, measure: AdditionalMeasure, done_on: dt.date, note: str = ""
) -> CaseMeasure:
    require(actor, access.CHANGE, "return_case", office=case.lead_office_id)
    if measure.office_id != case.lead_office_id:
        raise ValidationFailed(_("This measure is not one of the lead office's."), field="measure")
    if done_on > timezone.localdate():
        raise ValidationFailed(_("The date cannot be in the future."), field="done_on")
    with acting_as(actor):
        record, _created = CaseMeasure.objects.update_or_create(
            case=case, measure=measure, defaults={"done_on": done_on, "note": note[:300], "done_by": acting_user(actor)}
        )
        _touch(_lock(case, None))  # partners syncing with updated_since see it
    return record


@transaction.atomic
def reintegration_visit_record(
    *, actor: Any, case: ReturnCase, visited_on: dt.date, outcome: str
) -> ReintegrationVisit:
    require(actor, access.CHANGE, "return_case", office=case.lead_office_id)
    if case.stage not in (Stage.ARRIVED, Stage.REINTEGRATION):
        raise Conflict(_("Reintegration visits are recorded after arrival."))
    if visited_on > timezone.localdate():
        raise ValidationFailed(_("The date cannot be in the future."), field="visited_on")
    if not outcome.strip():
        raise ValidationFailed(_("This field is required."), field="outcome")
    visit = ReintegrationVisit(
        case=case, visited_on=visited_on, outcome=outcome.strip(), recorded_by=acting_user(actor)
    )
    full_clean_or_fail(visit, exclude=["recorded_by"], validate_unique=False)
    with acting_as(actor):
        visit.save()
        _touch(_lock(case, None))
    return visit


# --- Repatriation operations (MOU §31) and return agreements (Letter) -----------------------------------------

OPERATION_FIELDS = (
    "title",
    "kind",
    "status",
    "country_of_origin",
    "host_countries",
    "areas_of_return",
    "expected_number",
    "planning_started_on",
    "expected_start",
    "expected_end",
    "notes",
)


def _check_operation(operation: RepatriationOperation) -> None:
    if not operation.office.organisation.is_unhcr:
        # MOU §31: UNHCR informs IOM of expected repatriation operations.
        raise ValidationFailed(_("Repatriation operations are recorded by a UNHCR office (MOU §31)."), field="office")
    if operation.expected_start and operation.expected_end and operation.expected_end < operation.expected_start:
        raise ValidationFailed(_("The expected end is before the expected start."), field="expected_end")


@transaction.atomic
def operation_create(*, actor: Any, office: Office, **fields: Any) -> RepatriationOperation:
    require(actor, access.ADD, "repatriation_operation", office=office)
    unknown = set(fields) - set(OPERATION_FIELDS)
    if unknown:
        raise ValidationFailed(_("This field cannot be set."), field=sorted(unknown)[0])
    operation = RepatriationOperation(office=office, **fields)
    _check_operation(operation)
    full_clean_or_fail(operation, validate_unique=False)
    with acting_as(actor):
        operation.save()
    notify_operation_recorded(operation)
    return operation


def notify_operation_recorded(operation: RepatriationOperation) -> None:
    """MOU §31: tell IOM at an early stage. The notifications issue delivers it; this is its hook."""
    for hook in OPERATION_RECORDED_HOOKS:
        hook(operation)


OPERATION_RECORDED_HOOKS: list = []


@transaction.atomic
def operation_update(
    *, actor: Any, operation: RepatriationOperation, version: int | None, **changes: Any
) -> RepatriationOperation:
    require(actor, access.CHANGE, "repatriation_operation", office=operation.office_id)
    operation = RepatriationOperation.objects.select_for_update().get(pk=operation.pk)
    if version is not None and operation.version != version:
        raise StaleVersion()
    for name, value in changes.items():
        if name not in OPERATION_FIELDS:
            raise ValidationFailed(_("This field cannot be changed here."), field=name)
        setattr(operation, name, value)
    _check_operation(operation)
    full_clean_or_fail(operation, validate_unique=False)
    operation.version += 1
    with acting_as(actor):
        operation.save()
    return operation


AGREEMENT_FIELDS = (
    "kind",
    "title",
    "country_of_origin",
    "host_country",
    "valid_from",
    "valid_until",
    "review_date",
    "notes",
)


def _check_agreement(agreement: ReturnAgreement, parties: list[Organisation]) -> None:
    codes = {p.code for p in parties}
    if not {"UNHCR", "IOM"} <= codes:
        raise ValidationFailed(_("UNHCR and IOM are parties to every return agreement (Letter)."), field="parties")
    expected = 3 if agreement.kind == "tripartite" else 4
    if len(codes) != expected:
        raise ValidationFailed(
            _("A %(kind)s agreement has %(n)s parties (country of origin, host country, UNHCR, IOM).")
            % {"kind": agreement.get_kind_display(), "n": expected},
            field="parties",
        )
    if agreement.valid_until and agreement.valid_until < agreement.valid_from:
        raise ValidationFailed(_("The end of validity is before its start."), field="valid_until")
    if agreement.country_of_origin and agreement.country_of_origin == agreement.host_country:
        raise ValidationFailed(_("The host country differs from the country of origin."), field="host_country")


@transaction.atomic
def agreement_create(*, actor: Any, office: Office, parties: list[Organisation], **fields: Any) -> ReturnAgreement:
    require(actor, access.ADD, "return_agreement", office=office)
    unknown = set(fields) - set(AGREEMENT_FIELDS)
    if unknown:
        raise ValidationFailed(_("This field cannot be set."), field=sorted(unknown)[0])
    agreement = ReturnAgreement(office=office, **fields)
    full_clean_or_fail(agreement, validate_unique=False)
    _check_agreement(agreement, parties)
    with acting_as(actor):
        agreement.save()
        agreement.parties.set(parties)
    return agreement


@transaction.atomic
def agreement_update(
    *,
    actor: Any,
    agreement: ReturnAgreement,
    version: int | None,
    parties: list[Organisation] | None = None,
    **changes: Any,
) -> ReturnAgreement:
    require(actor, access.CHANGE, "return_agreement", office=agreement.office_id)
    agreement = ReturnAgreement.objects.select_for_update().get(pk=agreement.pk)
    if version is not None and agreement.version != version:
        raise StaleVersion()
    for name, value in changes.items():
        if name not in AGREEMENT_FIELDS:
            raise ValidationFailed(_("This field cannot be changed here."), field=name)
        setattr(agreement, name, value)
    full_clean_or_fail(agreement, validate_unique=False)
    _check_agreement(agreement, parties if parties is not None else list(agreement.parties.all()))
    agreement.version += 1
    with acting_as(actor):
        agreement.save()
        if parties is not None:
            agreement.parties.set(parties)
    return agreement
