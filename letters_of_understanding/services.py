"""Writes on Letters of Understanding. Each service: keyword-only, one transaction, the LoU row locked, the act
checked against letters_of_understanding.lifecycle (status, party, role, the rule's paragraph), audited (history
rows with the acting user or partner system, plus an event on the LoU's timeline)."""

from __future__ import annotations

import calendar
import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.models import BeneficiaryCategory
from jointops import access
from jointops.audit import acting_as
from jointops.choices import IOM, UNHCR
from jointops.exceptions import Conflict, PermissionRefused, StaleVersion, TransitionNotAllowed, ValidationFailed
from jointops.models import ApiClient, Office
from jointops.services import acting_user, full_clean_or_fail
from letters_of_understanding import content as text
from letters_of_understanding import lifecycle
from letters_of_understanding.choices import (
    Agency,
    AmendmentStatus,
    EventKind,
    HandoverStatus,
    LouStatus,
    PlanStatus,
    ReviewOutcome,
)
from letters_of_understanding.models import (
    Activity,
    Amendment,
    Evaluation,
    FundingArrangement,
    HandoverItem,
    LetterOfUnderstanding,
    LouEvent,
    LouVersion,
    Obligation,
    PhaseOutAction,
    PhaseOutPlan,
    Review,
    Signature,
    StaffSecondment,
)

DRAFT_FIELDS = (
    "title",
    "operational_situation",
    "countries",
    "region",
    "other_parties",
    "start_date",
    "end_date",
    "institutional_framework",
    "linkages",
    "monitoring_procedures",
    "evaluation_arrangements",
)


def add_months(date: dt.date, months: int) -> dt.date:
    month_index = date.month - 1 + months
    year, month = date.year + month_index // 12, month_index % 12 + 1
    return date.replace(year=year, month=month, day=min(date.day, calendar.monthrange(year, month)[1]))


def _client(actor: Any) -> ApiClient | None:
    return actor if getattr(actor, "is_api_client", False) else None


def _event(lou: LetterOfUnderstanding, kind: str, actor: Any, agency: str = "", note: str = "") -> None:
    LouEvent.objects.create(
        lou=lou, kind=kind, agency=agency or "", user=acting_user(actor), api_client=_client(actor), note=note
    )


def _lock(lou: LetterOfUnderstanding, version: int | None = None) -> LetterOfUnderstanding:
    locked = (
        LetterOfUnderstanding.objects.select_for_update(of=("self",))
        .select_related("unhcr_office", "iom_office")
        .get(pk=lou.pk)
    )
    if version is not None and locked.version != version:
        raise StaleVersion()
    return locked


def _touch(lou: LetterOfUnderstanding) -> None:
    lou.version += 1
    lou.save()


def _act(act: str, actor: Any, lou: LetterOfUnderstanding) -> str:
    """The party the actor acts for; the system (actor None) acts for nobody and is never refused."""
    if actor is None:
        return ""
    return lifecycle.check(act, actor, lou)


def _reason(value: Any, field: str, *, required: bool = True, max_length: int = 4000) -> str:
    value = (value or "").strip() if isinstance(value, str) else value
    if required and not value:
        raise ValidationFailed(_("Give the reason."), field=field)
    if value and (not isinstance(value, str) or len(value) > max_length):
        raise ValidationFailed(
            _("Ensure this value has at most %(max)d characters.") % {"max": max_length}, field=field
        )
    return value or ""


def _past_or_today(value: dt.date | None, field: str) -> dt.date:
    today = timezone.localdate()
    value = value or today
    if not isinstance(value, dt.date):
        raise ValidationFailed(_("Enter a valid date."), field=field)
    if value > today:
        raise ValidationFailed(_("This date cannot be in the future."), field=field)
    return value


# --- Drafting -----------------------------------------------------------------------------------------------------


def _check_parties(unhcr_office: Office, iom_office: Office) -> None:
    if unhcr_office is None or unhcr_office.organisation.code != UNHCR or not unhcr_office.is_active:
        raise ValidationFailed(_("Choose an active UNHCR office."), field="unhcr_office")
    if iom_office is None or iom_office.organisation.code != IOM or not iom_office.is_active:
        raise ValidationFailed(_("Choose an active IOM office."), field="iom_office")


@transaction.atomic
def lou_create(
    *,
    actor: Any,
    unhcr_office: Office,
    iom_office: Office,
    categories: list[BeneficiaryCategory] | None = None,
    **fields: Any,
) -> LetterOfUnderstanding:
    """Draft a new LoU (MOU §5) between a UNHCR and an IOM office. The drafter works at one of the two."""
    _check_parties(unhcr_office, iom_office)
    if actor is not None and not (
        access.can(actor, access.ADD, "lou", office=unhcr_office)
        or access.can(actor, access.ADD, "lou", office=iom_office)
    ):
        raise PermissionRefused(_("You draft letters for your own office: make it one of the two parties."))
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ValidationFailed(_("This field cannot be set."), field=sorted(unknown)[0])
    lou = LetterOfUnderstanding(
        unhcr_office=unhcr_office, iom_office=iom_office, created_by=acting_user(actor), **fields
    )
    country = (list(lou.countries) or [unhcr_office.country or iom_office.country or "XX"])[0]
    lou.reference = f"LOU-{country}-{timezone.localdate().year}-{secrets.token_hex(3).upper()}"
    full_clean_or_fail(lou, exclude=["created_by"], validate_unique=False)
    with acting_as(actor):
        lou.save()
        if categories:
            lou.categories.set(categories)
        party = lifecycle.acting_party(actor, lou) or ""
        _event(lou, EventKind.CREATED, actor, party)
    return lou


def _editable_text(lou: LetterOfUnderstanding) -> None:
    if lou.status == LouStatus.PARTLY_SIGNED:
        raise Conflict(_("A party has signed this text: reopen the draft (which voids the signature) to change it."))
    if lou.status != LouStatus.DRAFT:
        raise Conflict(
            _("MOU §46: the text of a letter in force changes only through an amendment both parties agree.")
        )


@transaction.atomic
def lou_update(
    *,
    actor: Any,
    lou: LetterOfUnderstanding,
    version: int | None,
    categories: list[BeneficiaryCategory] | None = None,
    **changes: Any,
) -> LetterOfUnderstanding:
    """Change the draft's text. Signed or in-force texts are refused with the reason (MOU §46)."""
    lou = _lock(lou, version)
    _editable_text(lou)
    _act("edit", actor, lou)
    for name, value in changes.items():
        if name not in DRAFT_FIELDS:
            raise ValidationFailed(_("This field cannot be changed here."), field=name)
        setattr(lou, name, value)
    full_clean_or_fail(lou, exclude=["created_by"], validate_unique=False)
    with acting_as(actor):
        _touch(lou)
        if categories is not None:
            lou.categories.set(categories)
    return lou


ROWS = {
    "activities": (Activity, ("kind", "agency", "description", "indicators"), "position"),
    "funding": (FundingArrangement, ("agency", "source", "amount", "currency", "joint_appeal"), "position"),
    "secondments": (StaffSecondment, ("from_agency", "position", "number", "start_on", "end_on"), "position_order"),
}


def _row_model(collection: str):
    if collection not in ROWS:
        raise ValidationFailed(_("Unknown part of the letter."), field="collection")
    return ROWS[collection]


@transaction.atomic
def lou_row_add(*, actor: Any, lou: LetterOfUnderstanding, collection: str, **fields: Any):
    """Add an activity, a funding arrangement or a staff secondment to the draft (MOU §5, §36, §37)."""
    model, allowed, order_field = _row_model(collection)
    lou = _lock(lou)
    _editable_text(lou)
    _act("edit", actor, lou)
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationFailed(_("This field cannot be set."), field=sorted(unknown)[0])
    last = getattr(lou, collection).order_by(f"-{order_field}").values_list(order_field, flat=True).first()
    row = model(lou=lou, **fields, **{order_field: (last or 0) + 1})
    full_clean_or_fail(row, exclude=["lou"])
    with acting_as(actor):
        row.save()
        _touch(lou)
    return row


@transaction.atomic
def lou_row_update(*, actor: Any, lou: LetterOfUnderstanding, collection: str, row_id: int, **fields: Any):
    model, allowed, _order = _row_model(collection)
    lou = _lock(lou)
    _editable_text(lou)
    _act("edit", actor, lou)
    row = model.objects.filter(lou=lou, pk=row_id).first()
    if row is None:
        raise ValidationFailed(_("No such item on this letter."), field="id")
    for name, value in fields.items():
        if name not in allowed:
            raise ValidationFailed(_("This field cannot be changed here."), field=name)
        setattr(row, name, value)
    full_clean_or_fail(row, exclude=["lou"])
    with acting_as(actor):
        row.save()
        _touch(lou)
    return row


@transaction.atomic
def lou_row_remove(*, actor: Any, lou: LetterOfUnderstanding, collection: str, row_id: int) -> None:
    model, _allowed, _order = _row_model(collection)
    lou = _lock(lou)
    _editable_text(lou)
    _act("edit", actor, lou)
    row = model.objects.filter(lou=lou, pk=row_id).first()
    if row is None:
        raise ValidationFailed(_("No such item on this letter."), field="id")
    with acting_as(actor):
        row.delete()
        _touch(lou)


# --- Signature and entry into force -------------------------------------------------------------------------------


@transaction.atomic
def lou_sign(
    *,
    actor: Any,
    lou: LetterOfUnderstanding,
    signatory_name: str,
    signatory_title: str = "",
    signed_on: dt.date | None = None,
    version: int | None = None,
) -> LetterOfUnderstanding:
    """Record the actor's party's signature of the draft as it stands (its SHA-256 is kept with the signature).
    The letter is in force from the second signature (MOU §44 by analogy): version 1 of the text is kept, and the
    first review falls due 12 months later (MOU §47)."""
    lou = _lock(lou, version)
    agency = _act("sign", actor, lou)
    if not agency:
        raise PermissionRefused()
    signed_on = _past_or_today(signed_on, "signed_on")
    signatory_name = _reason(signatory_name, "signatory_name", max_length=200)
    current = text.content_of(lou)
    digest = text.content_hash(current)
    earlier = lou.signatures.filter(voided_at__isnull=True).first()
    if earlier is not None and earlier.content_hash != digest:  # cannot happen: a signed draft is frozen
        raise Conflict(_("The text changed since the other party signed it."))
    signature = Signature(
        lou=lou,
        agency=agency,
        office=lou.party_office(agency),
        signed_by=actor,
        signatory_name=signatory_name,
        signatory_title=_reason(signatory_title, "signatory_title", required=False, max_length=200),
        signed_on=signed_on,
        content_hash=digest,
    )
    with acting_as(actor):
        try:
            with transaction.atomic():
                signature.save()
        except IntegrityError:
            raise Conflict(_("Your party has already signed this draft.")) from None
        _event(lou, EventKind.SIGNED, actor, agency, signatory_name)
        if earlier is None:
            lou.status = LouStatus.PARTLY_SIGNED
        else:
            in_force_on = max(signed_on, earlier.signed_on)
            lou.status = LouStatus.IN_FORCE
            lou.entered_into_force_on = in_force_on
            lou.text_version = 1
            lou.review_due_on = add_months(in_force_on, lifecycle.REVIEW_INTERVAL_MONTHS)
            LouVersion.objects.create(
                lou=lou, number=1, content=current, content_hash=digest, effective_from=in_force_on
            )
            _event(lou, EventKind.ENTERED_INTO_FORCE, actor)
        _touch(lou)
    return lou


@transaction.atomic
def lou_reopen(*, actor: Any, lou: LetterOfUnderstanding, reason: str) -> LetterOfUnderstanding:
    """Back to draft: the signature given is voided (kept, with the reason), the text can change again."""
    lou = _lock(lou)
    agency = _act("reopen", actor, lou)
    reason = _reason(reason, "reason")
    with acting_as(actor):
        for signature in lou.signatures.filter(voided_at__isnull=True):
            signature.voided_at = timezone.now()
            signature.void_reason = reason[:300]
            signature.save()
        lou.status = LouStatus.DRAFT
        _event(lou, EventKind.REOPENED, actor, agency, reason)
        _touch(lou)
    return lou


@transaction.atomic
def lou_abandon(*, actor: Any, lou: LetterOfUnderstanding, reason: str) -> LetterOfUnderstanding:
    """A draft that will not be signed: kept, read-only."""
    lou = _lock(lou)
    agency = _act("abandon", actor, lou)
    reason = _reason(reason, "reason")
    with acting_as(actor):
        lou.status = LouStatus.ABANDONED
        lou.ended_on = timezone.localdate()
        _event(lou, EventKind.ABANDONED, actor, agency, reason)
        _touch(lou)
    return lou


# --- Amendments (MOU §46) -----------------------------------------------------------------------------------------


@transaction.atomic
def amendment_propose(
    *,
    actor: Any,
    lou: LetterOfUnderstanding,
    content: Any,
    rationale: str,
    effective_from: dt.date | None = None,
) -> Amendment:
    """One party proposes a new text of the letter in force; it takes effect only when the other approves."""
    lou = _lock(lou)
    agency = _act("propose_amendment", actor, lou)
    proposed = text.validate_content(content)
    rationale = _reason(rationale, "rationale")
    if proposed == text.content_of(lou):
        raise ValidationFailed(_("The proposed text is the same as the text in force."), field="content")
    if effective_from is not None and effective_from < lou.entered_into_force_on:
        raise ValidationFailed(
            _("An amendment cannot take effect before the letter entered into force."), field="effective_from"
        )
    number = (lou.amendments.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    amendment = Amendment(
        lou=lou,
        number=number,
        base_text_version=lou.text_version,
        proposed_by_agency=agency or Agency.UNHCR,
        proposed_by=acting_user(actor),
        proposed_by_client=_client(actor),
        rationale=rationale,
        content=proposed,
        effective_from=effective_from,
    )
    with acting_as(actor):
        try:
            with transaction.atomic():
                amendment.save()
        except IntegrityError:
            raise Conflict(_("MOU §46: an amendment is already awaiting the other party's decision.")) from None
        _event(lou, EventKind.AMENDMENT_PROPOSED, actor, agency, rationale)
        _touch(lou)
    return amendment


def _lock_amendment(amendment: Amendment) -> tuple[LetterOfUnderstanding, Amendment]:
    lou = _lock(amendment.lou)
    amendment = Amendment.objects.select_for_update().get(pk=amendment.pk)
    if amendment.status != AmendmentStatus.PROPOSED:
        raise Conflict(_("This amendment was already %(status)s.") % {"status": amendment.get_status_display().lower()})
    return lou, amendment


@transaction.atomic
def amendment_approve(*, actor: Any, amendment: Amendment, note: str = "") -> Amendment:
    """The other party consents (MOU §46): the text becomes the proposed one and a new version is kept."""
    lou, amendment = _lock_amendment(amendment)
    agency = _act("approve_amendment", actor, lou)
    if amendment.base_text_version != lou.text_version:
        raise Conflict(_("The letter was amended since this proposal; propose it again on the current text."))
    today = timezone.localdate()
    with acting_as(actor):
        text.apply_content(lou, amendment.content)
        lou.refresh_from_db()
        lou.text_version += 1
        LouVersion.objects.create(
            lou=lou,
            number=lou.text_version,
            content=amendment.content,
            content_hash=text.content_hash(amendment.content),
            effective_from=max(amendment.effective_from or today, today),
            amendment=amendment,
        )
        amendment.status = AmendmentStatus.APPROVED
        amendment.decided_by_agency = agency
        amendment.decided_by = acting_user(actor)
        amendment.decided_at = timezone.now()
        amendment.decision_note = _reason(note, "note", required=False)
        amendment.save()
        _event(lou, EventKind.AMENDMENT_APPROVED, actor, agency, f"v{lou.text_version}")
        _touch(lou)
    return amendment


@transaction.atomic
def amendment_reject(*, actor: Any, amendment: Amendment, note: str) -> Amendment:
    lou, amendment = _lock_amendment(amendment)
    agency = _act("reject_amendment", actor, lou)
    with acting_as(actor):
        amendment.status = AmendmentStatus.REJECTED
        amendment.decided_by_agency = agency
        amendment.decided_by = acting_user(actor)
        amendment.decided_at = timezone.now()
        amendment.decision_note = _reason(note, "note")
        amendment.save()
        _event(lou, EventKind.AMENDMENT_REJECTED, actor, agency, amendment.decision_note)
        _touch(lou)
    return amendment


@transaction.atomic
def amendment_withdraw(*, actor: Any, amendment: Amendment) -> Amendment:
    lou, amendment = _lock_amendment(amendment)
    agency = _act("withdraw_amendment", actor, lou)
    with acting_as(actor):
        amendment.status = AmendmentStatus.WITHDRAWN
        amendment.decided_at = timezone.now()
        amendment.save()
        _event(lou, EventKind.AMENDMENT_WITHDRAWN, actor, agency)
        _touch(lou)
    return amendment


# --- Termination (MOU §45) ----------------------------------------------------------------------------------------


@transaction.atomic
def lou_serve_notice(
    *,
    actor: Any,
    lou: LetterOfUnderstanding,
    reason: str,
    served_on: dt.date | None = None,
    effective_on: dt.date | None = None,
) -> LetterOfUnderstanding:
    """Either party terminates on written notice; the letter ends at least 90 days after the notice (MOU §45)."""
    lou = _lock(lou)
    agency = _act("serve_notice", actor, lou)
    served_on = _past_or_today(served_on, "served_on")
    if lou.entered_into_force_on and served_on < lou.entered_into_force_on:
        raise ValidationFailed(_("Notice cannot be served before the letter entered into force."), field="served_on")
    earliest = served_on + dt.timedelta(days=lifecycle.TERMINATION_NOTICE_DAYS)
    effective_on = effective_on or earliest
    if not isinstance(effective_on, dt.date):
        raise ValidationFailed(_("Enter a valid date."), field="effective_on")
    if effective_on < earliest:
        raise ValidationFailed(
            _("MOU §45: termination takes effect at least 90 days after the notice, on %(date)s at the earliest.")
            % {"date": earliest.isoformat()},
            field="effective_on",
        )
    with acting_as(actor):
        lou.termination_notice_served_on = served_on
        lou.termination_notice_by = agency
        lou.termination_reason = _reason(reason, "reason")
        lou.termination_effective_on = effective_on
        _event(lou, EventKind.NOTICE_SERVED, actor, agency, lou.termination_reason)
        _touch(lou)
    return lou


@transaction.atomic
def lou_terminations_take_effect(*, today: dt.date | None = None) -> list[int]:
    """The system ends every letter whose notice period is over (daily Celery beat task). Idempotent."""
    today = today or timezone.localdate()
    due = LetterOfUnderstanding.objects.select_for_update().filter(
        status__in=[LouStatus.IN_FORCE, LouStatus.PHASING_OUT], termination_effective_on__lte=today
    )
    ended = []
    with acting_as(None):
        for lou in due:
            lou.status = LouStatus.TERMINATED
            lou.ended_on = lou.termination_effective_on
            _event(lou, EventKind.TERMINATED, None, lou.termination_notice_by)
            _touch(lou)
            ended.append(lou.pk)
    return ended


# --- Reviews (MOU §47) and monitoring/evaluation (MOU §38) --------------------------------------------------------


@transaction.atomic
def lou_record_review(
    *,
    actor: Any,
    lou: LetterOfUnderstanding,
    held_on: dt.date,
    outcome: str,
    summary: str,
    participants: str = "",
    next_review_due: dt.date | None = None,
) -> Review:
    """Record a review; the next one falls due at most 12 months later (MOU §47)."""
    lou = _lock(lou)
    agency = _act("record_review", actor, lou)
    held_on = _past_or_today(held_on, "held_on")
    if lou.entered_into_force_on and held_on < lou.entered_into_force_on:
        raise ValidationFailed(_("A review cannot predate the letter's entry into force."), field="held_on")
    if outcome not in ReviewOutcome.values:
        raise ValidationFailed(_("Choose the outcome."), field="outcome")
    latest = add_months(held_on, lifecycle.REVIEW_INTERVAL_MONTHS)
    next_review_due = next_review_due or latest
    if next_review_due > latest or next_review_due <= held_on:
        raise ValidationFailed(
            _("MOU §47: the next review is due after this one and within 12 months, by %(date)s.")
            % {"date": latest.isoformat()},
            field="next_review_due",
        )
    review = Review(
        lou=lou,
        held_on=held_on,
        outcome=outcome,
        summary=summary,
        participants=participants,
        next_review_due=next_review_due,
        recorded_by=acting_user(actor),
    )
    full_clean_or_fail(review, exclude=["lou", "recorded_by"])
    with acting_as(actor):
        review.save()
        latest_review = lou.reviews.order_by("-held_on", "-pk").first()
        lou.review_due_on = latest_review.next_review_due
        _event(lou, EventKind.REVIEWED, actor, agency, ReviewOutcome(outcome).label)
        _touch(lou)
    return review


@transaction.atomic
def evaluation_record(*, actor: Any, lou: LetterOfUnderstanding, **fields: Any) -> Evaluation:
    lou = _lock(lou)
    _act("record_evaluation", actor, lou)
    allowed = {"kind", "title", "carried_out_on", "carried_out_by", "findings", "corrective_measures"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(_("This field cannot be set."), field=sorted(unknown)[0])
    if fields.get("carried_out_on"):
        _past_or_today(fields["carried_out_on"], "carried_out_on")
    evaluation = Evaluation(lou=lou, recorded_by=acting_user(actor), **fields)
    full_clean_or_fail(evaluation, exclude=["lou", "recorded_by"])
    with acting_as(actor):
        evaluation.save()
        _touch(lou)
    return evaluation


# --- Phase-out (MOU §39) ------------------------------------------------------------------------------------------


@transaction.atomic
def lou_flag_resources(*, actor: Any, lou: LetterOfUnderstanding, note: str) -> LetterOfUnderstanding:
    """MOU §39: either agency expects resources to be insufficient — a phase-out plan is now required."""
    lou = _lock(lou)
    agency = _act("flag_resources", actor, lou)
    with acting_as(actor):
        lou.resources_flagged_on = timezone.localdate()
        lou.resources_flagged_by = agency
        lou.resources_flag_note = _reason(note, "note")
        _event(lou, EventKind.RESOURCES_FLAGGED, actor, agency, lou.resources_flag_note)
        _touch(lou)
    return lou


def _reopen_plan(plan: PhaseOutPlan, actor: Any, agency: str) -> None:
    """A changed plan is no longer the plan both agreed: both agree again (MOU §39 "mutually agreeable")."""
    was_agreed = plan.unhcr_agreed_on or plan.iom_agreed_on
    plan.status = PlanStatus.DRAFT
    plan.unhcr_agreed_on = plan.iom_agreed_on = None
    plan.unhcr_agreed_by = plan.iom_agreed_by = None
    plan.version += 1
    plan.save()
    if was_agreed:
        _event(plan.lou, EventKind.PLAN_REOPENED, actor, agency)


@transaction.atomic
def phase_out_plan_save(*, actor: Any, lou: LetterOfUnderstanding, summary: str) -> PhaseOutPlan:
    lou = _lock(lou)
    agency = _act("edit_plan", actor, lou)
    plan = PhaseOutPlan.objects.filter(lou=lou).first() or PhaseOutPlan(lou=lou)
    plan.summary = summary
    full_clean_or_fail(plan, exclude=["lou"], validate_unique=False)
    with acting_as(actor):
        if plan.pk:
            _reopen_plan(plan, actor, agency)
        else:
            plan.save()
        _touch(lou)
    return plan


def _plan_for_edit(actor: Any, lou: LetterOfUnderstanding) -> tuple[LetterOfUnderstanding, PhaseOutPlan, str]:
    lou = _lock(lou)
    agency = _act("edit_plan", actor, lou)
    plan = PhaseOutPlan.objects.filter(lou=lou).first()
    if plan is None:
        raise ValidationFailed(_("Write the plan's summary first."), field="summary")
    return lou, plan, agency


@transaction.atomic
def phase_out_action_add(*, actor: Any, lou: LetterOfUnderstanding, **fields: Any) -> PhaseOutAction:
    lou, plan, agency = _plan_for_edit(actor, lou)
    action = PhaseOutAction(plan=plan, **fields)
    full_clean_or_fail(action, exclude=["plan"])
    with acting_as(actor):
        action.save()
        _reopen_plan(plan, actor, agency)
        _touch(lou)
    return action


@transaction.atomic
def phase_out_action_update(*, actor: Any, lou: LetterOfUnderstanding, action_id: int, **fields: Any) -> PhaseOutAction:
    lou, plan, agency = _plan_for_edit(actor, lou)
    action = plan.actions.filter(pk=action_id).first()
    if action is None:
        raise ValidationFailed(_("No such action in this plan."), field="id")
    allowed = {"description", "owner_agency", "owner", "due_on", "done_on"}
    for name, value in fields.items():
        if name not in allowed:
            raise ValidationFailed(_("This field cannot be changed here."), field=name)
        setattr(action, name, value)
    full_clean_or_fail(action, exclude=["plan"])
    only_progress = set(fields) <= {"done_on"}
    with acting_as(actor):
        action.save()
        if not only_progress:  # recording that an action was done does not change what was agreed
            _reopen_plan(plan, actor, agency)
        _touch(lou)
    return action


@transaction.atomic
def phase_out_action_remove(*, actor: Any, lou: LetterOfUnderstanding, action_id: int) -> None:
    lou, plan, agency = _plan_for_edit(actor, lou)
    action = plan.actions.filter(pk=action_id).first()
    if action is None:
        raise ValidationFailed(_("No such action in this plan."), field="id")
    with acting_as(actor):
        action.delete()
        _reopen_plan(plan, actor, agency)
        _touch(lou)


@transaction.atomic
def phase_out_plan_agree(*, actor: Any, lou: LetterOfUnderstanding, plan_version: int | None = None) -> PhaseOutPlan:
    """The actor's party agrees to the plan as it stands; with both agreements the plan is agreed (MOU §39)."""
    lou = _lock(lou)
    agency = _act("agree_plan", actor, lou)
    plan = PhaseOutPlan.objects.select_for_update().get(lou=lou)
    if plan_version is not None and plan.version != plan_version:
        raise StaleVersion()
    prefix = agency.lower()
    with acting_as(actor):
        setattr(plan, f"{prefix}_agreed_on", timezone.localdate())
        setattr(plan, f"{prefix}_agreed_by", acting_user(actor))
        if plan.unhcr_agreed_on and plan.iom_agreed_on:
            plan.status = PlanStatus.AGREED
        plan.save()
        _event(lou, EventKind.PLAN_AGREED, actor, agency)
        _touch(lou)
    return plan


@transaction.atomic
def lou_start_phase_out(*, actor: Any, lou: LetterOfUnderstanding) -> LetterOfUnderstanding:
    lou = _lock(lou)
    agency = _act("start_phase_out", actor, lou)
    with acting_as(actor):
        lou.status = LouStatus.PHASING_OUT
        lou.phase_out_started_on = timezone.localdate()
        _event(lou, EventKind.PHASE_OUT_STARTED, actor, agency)
        _touch(lou)
    return lou


# --- Settlement at the end (MOU §40) ------------------------------------------------------------------------------

OBLIGATION_FIELDS = {"description", "amount", "currency", "due_on", "settled_on"}
HANDOVER_FIELDS = {
    "description",
    "quantity",
    "value",
    "currency",
    "donor",
    "donor_restriction",
    "donor_permits_handover",
}


def _own_agency_only(agency: str, owner: str, field: str) -> None:
    # MOU §40: each agency answers for its own obligations (and lists its own assets).
    if agency and owner != agency:
        raise PermissionRefused(_("MOU §40: each agency lists its own obligations and assets."), field=field)


@transaction.atomic
def obligation_save(
    *, actor: Any, lou: LetterOfUnderstanding, agency: str, obligation_id: int | None = None, **fields: Any
) -> Obligation:
    """List (or correct) an outstanding obligation of an agency; its confirmation is then needed again."""
    lou = _lock(lou)
    party = _act("edit_settlement", actor, lou)
    if agency not in Agency.values:
        raise ValidationFailed(_("Choose the agency."), field="agency")
    _own_agency_only(party, agency, "agency")
    unknown = set(fields) - OBLIGATION_FIELDS
    if unknown:
        raise ValidationFailed(_("This field cannot be set."), field=sorted(unknown)[0])
    if obligation_id is None:
        obligation = Obligation(lou=lou, agency=agency)
    else:
        obligation = lou.obligations.filter(pk=obligation_id, agency=agency).first()
        if obligation is None:
            raise ValidationFailed(_("No such obligation on this letter."), field="id")
    for name, value in fields.items():
        setattr(obligation, name, value)
    full_clean_or_fail(obligation, exclude=["lou"])
    with acting_as(actor):
        obligation.save()
        setattr(lou, f"{agency.lower()}_obligations_confirmed_on", None)
        _touch(lou)
    return obligation


@transaction.atomic
def lou_confirm_obligations(*, actor: Any, lou: LetterOfUnderstanding) -> LetterOfUnderstanding:
    """The actor's party confirms its list of outstanding obligations is complete (it may be empty)."""
    lou = _lock(lou)
    agency = _act("confirm_obligations", actor, lou)
    with acting_as(actor):
        setattr(lou, f"{agency.lower()}_obligations_confirmed_on", timezone.localdate())
        count = lou.obligations.filter(agency=agency).count()
        _event(lou, EventKind.OBLIGATIONS_CONFIRMED, actor, agency, str(count))
        _touch(lou)
    return lou


@transaction.atomic
def handover_item_save(
    *, actor: Any, lou: LetterOfUnderstanding, owner_agency: str, item_id: int | None = None, **fields: Any
) -> HandoverItem:
    """List a remaining asset, inventory item or resource with its value and the donor's restriction (MOU §40)."""
    lou = _lock(lou)
    party = _act("edit_settlement", actor, lou)
    if owner_agency not in Agency.values:
        raise ValidationFailed(_("Choose the agency that owns it."), field="owner_agency")
    _own_agency_only(party, owner_agency, "owner_agency")
    unknown = set(fields) - HANDOVER_FIELDS
    if unknown:
        raise ValidationFailed(_("This field cannot be set."), field=sorted(unknown)[0])
    if item_id is None:
        item = HandoverItem(lou=lou, owner_agency=owner_agency)
    else:
        item = lou.handover_items.filter(pk=item_id, owner_agency=owner_agency).first()
        if item is None:
            raise ValidationFailed(_("No such asset on this letter."), field="id")
        if item.status != HandoverStatus.LISTED:
            raise Conflict(_("This asset was already handed over or retained."))
    for name, value in fields.items():
        setattr(item, name, value)
    full_clean_or_fail(item, exclude=["lou"])
    with acting_as(actor):
        item.save()
        _touch(lou)
    return item


@transaction.atomic
def handover_item_decide(
    *,
    actor: Any,
    item: HandoverItem,
    decision: str,
    recipient_kind: str = "",
    recipient_name: str = "",
    handed_over_on: dt.date | None = None,
) -> HandoverItem:
    """Record that a listed asset was handed over (only where the donor agreement permits, MOU §40) or retained."""
    lou = _lock(item.lou)
    party = _act("edit_settlement", actor, lou)
    item = HandoverItem.objects.select_for_update().get(pk=item.pk)
    _own_agency_only(party, item.owner_agency, "owner_agency")
    if item.status != HandoverStatus.LISTED:
        raise Conflict(_("This asset was already handed over or retained."))
    if decision == HandoverStatus.HANDED_OVER:
        if not item.donor_permits_handover:
            raise TransitionNotAllowed(
                _("MOU §40: a free handover is recorded only where the donor agreement permits it; this one does not.")
            )
        from letters_of_understanding.choices import RecipientKind

        if recipient_kind not in RecipientKind.values:
            raise ValidationFailed(_("Choose who receives it (MOU §40)."), field="recipient_kind")
        item.recipient_kind = recipient_kind
        item.recipient_name = _reason(recipient_name, "recipient_name", max_length=200)
        item.handed_over_on = _past_or_today(handed_over_on, "handed_over_on")
    elif decision != HandoverStatus.RETAINED:
        raise ValidationFailed(_("Choose handed over or retained."), field="decision")
    item.status = decision
    with acting_as(actor):
        item.save()
        _touch(lou)
    return item


@transaction.atomic
def lou_conclude(*, actor: Any, lou: LetterOfUnderstanding) -> LetterOfUnderstanding:
    """End the letter at the agreed conclusion: plan agreed (§39), obligations confirmed and assets decided (§40)."""
    lou = _lock(lou)
    agency = _act("conclude", actor, lou)
    with acting_as(actor):
        lou.status = LouStatus.CONCLUDED
        lou.ended_on = timezone.localdate()
        _event(lou, EventKind.CONCLUDED, actor, agency)
        _touch(lou)
    return lou
