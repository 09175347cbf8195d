"""The state machine of a return case: the one place that defines the allowed moves, who may make each, and the
guard conditions each must pass. The browser, the API and tasks all move a case through services.return_case_move,
which reads this table.

Sources: MOU §12 (conditions for returns of people not in need of protection), §29 (rejected asylum-seekers: only
once all possibilities to stay are exhausted), §30 (voluntary repatriation), and the Letter of 16 January 2003 (no
formal withdrawal of the asylum claim; change of mind possible up to voluntary embarkation; pre-departure lists).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jointops.choices import UNHCR, Role
from jointops.exceptions import TransitionNotAllowed, ValidationFailed
from returns.choices import (
    BEFORE_EMBARKATION,
    LEAD,
    NOT_IN_NEED_OF_PROTECTION_KINDS,
    UNHCR_INFORMED_KINDS,
    ReturnKind,
    Stage,
)

STAFF = frozenset({Role.FIELD_STAFF, Role.OFFICE_MANAGER})
MANAGERS = frozenset({Role.OFFICE_MANAGER})


@dataclass(frozen=True)
class Move:
    name: str
    label: Any
    sources: frozenset[Stage]
    target: Stage | None  # None: the stage does not change (e.g. a new departure date)
    roles: frozenset[Role] = STAFF
    needs_reason: bool = False
    guards: tuple[Callable[[Any, dict], None], ...] = field(default=())
    inputs: tuple[str, ...] = ()  # what the move takes besides the reason (return_case_move's **inputs)


# --- Guards: each raises TransitionNotAllowed (409) or ValidationFailed (400) with the reason ---------------------


def _departure_date(case, inputs: dict) -> None:
    date = inputs.get("expected_departure_date") or case.expected_departure_date
    if not date:
        raise ValidationFailed(_("Give the expected departure date."), field="expected_departure_date")
    if not isinstance(date, dt.date):
        raise ValidationFailed(_("Enter a valid date."), field="expected_departure_date")
    if date < timezone.localdate():
        raise ValidationFailed(_("The expected departure date cannot be in the past."), field="expected_departure_date")


def _has_principal(case, inputs: dict) -> None:
    if not case.members.filter(is_principal=True).exists():
        raise TransitionNotAllowed(_("Add the principal applicant to the case first."))


def _fit_to_travel(case, inputs: dict) -> None:
    if case.fit_to_travel is not True:
        raise TransitionNotAllowed(_("Record that the person is fit to travel before scheduling departure."))


def _rejected_asylum_seeker_exhausted(case, inputs: dict) -> None:
    # MOU §29: return "should only be considered when the asylum-seeker has exhausted all possibilities to be
    # allowed to stay".
    if case.kind != ReturnKind.AVR_REJECTED_ASYLUM_SEEKER:
        return
    if not case.final_decision_date or not case.possibilities_to_stay_exhausted:
        raise TransitionNotAllowed(
            _(
                "MOU §29: record the date of the final asylum decision and that all possibilities to stay were "
                "exhausted before scheduling departure."
            )
        )


def _section_12_conditions(case, inputs: dict) -> None:
    # MOU §12: returns of people not in need of international protection, under three conditions.
    if case.kind not in NOT_IN_NEED_OF_PROTECTION_KINDS:
        return
    if not (
        case.no_conflict_with_humanitarian_concerns
        and case.best_interests_considered
        and case.bilateral_matter_recognised
    ):
        raise TransitionNotAllowed(
            _(
                "MOU §12: record the three conditions (no conflict with humanitarian concerns, best interests taken "
                "into account, a bilateral matter) before scheduling departure."
            )
        )


def _agreement_in_force(case, inputs: dict) -> None:
    if case.kind != ReturnKind.AGREEMENT_RETURN:
        return
    agreement = case.agreement
    date = inputs.get("expected_departure_date") or case.expected_departure_date
    if agreement is None:
        raise TransitionNotAllowed(_("Link the case to its tripartite or quadripartite agreement first."))
    if date and (date < agreement.valid_from or (agreement.valid_until and date > agreement.valid_until)):
        raise TransitionNotAllowed(_("The departure date is outside the validity of the return agreement."))


def _additional_measures_done(case, inputs: dict) -> None:
    # Letter: additional measures may be necessary for persons of concern to UNHCR.
    if not case.members.filter(beneficiary__of_concern_to_unhcr=True).exists():
        return
    from returns.models import AdditionalMeasure

    required = AdditionalMeasure.objects.filter(office_id=case.lead_office_id, is_active=True)
    missing = required.exclude(pk__in=case.measures.values("measure_id"))
    if missing.exists():
        labels = ", ".join(m.label for m in missing[:5])
        raise TransitionNotAllowed(
            _("A person on this case is of concern to UNHCR: complete the additional measures first (%(labels)s).")
            % {"labels": labels}
        )


def unhcr_must_be_informed(case) -> bool:
    """Letter: IOM informs UNHCR of AVR of asylum-seekers (and keeps it informed of rejected asylum-seekers'
    returns); any person of concern to UNHCR brings the case in too. A kind UNHCR leads itself (voluntary
    repatriation, MOU §30) is not IOM's to announce: the Letter's list goes from IOM to UNHCR, and no IOM office ever
    lists it (notifications.listing covers cases led by IOM offices)."""
    if LEAD.get(case.kind) == UNHCR:
        return False
    return case.kind in UNHCR_INFORMED_KINDS or case.members.filter(beneficiary__of_concern_to_unhcr=True).exists()


def departure_listed_for_unhcr(case) -> bool:
    """Has this case's current departure appeared on a pre-departure list delivered to the counterpart UNHCR office?

    The hook the notifications issue completes (it replaces LISTED_CHECK); until then nothing is listed.
    """
    return LISTED_CHECK(case)


LISTED_CHECK: Callable[[Any], bool] = lambda case: False  # noqa: E731 - replaced by the notifications app


def _unhcr_informed_or_emergency(case, inputs: dict) -> None:
    # Letter: "a list of names and dates of expected departure" in a timely way, before embarkation.
    if not unhcr_must_be_informed(case) or departure_listed_for_unhcr(case):
        return
    justification = (inputs.get("emergency_justification") or "").strip()
    if not justification:
        raise TransitionNotAllowed(
            _(
                "UNHCR has not yet received this departure on a pre-departure list (Letter). Wait for the list, or "
                "record an emergency justification (it is flagged to the HQ focal points)."
            )
        )


def _closing_reason(case, inputs: dict) -> None:
    from returns.choices import ClosingReason

    if inputs.get("closing_reason") not in ClosingReason.values:
        raise ValidationFailed(_("Choose a closing reason."), field="closing_reason")


MOVES: dict[str, Move] = {
    move.name: move
    for move in [
        Move("start_counselling", _("Start counselling"), frozenset({Stage.OPENED}), Stage.COUNSELLING),
        Move("start_preparing", _("Start preparing travel"), frozenset({Stage.COUNSELLING}), Stage.PREPARING),
        Move(
            "schedule_departure",
            _("Schedule departure"),
            frozenset({Stage.PREPARING}),
            Stage.DEPARTURE_SCHEDULED,
            guards=(
                _has_principal,
                _departure_date,
                _fit_to_travel,
                _rejected_asylum_seeker_exhausted,
                _section_12_conditions,
                _agreement_in_force,
            ),
            inputs=("expected_departure_date",),
        ),
        Move(
            "reschedule_departure",
            _("Change the departure date"),
            frozenset({Stage.DEPARTURE_SCHEDULED}),
            None,
            needs_reason=True,
            guards=(_departure_date, _agreement_in_force),
            inputs=("expected_departure_date",),
        ),
        Move(
            "confirm_embarkation",
            _("Confirm embarkation"),
            frozenset({Stage.DEPARTURE_SCHEDULED}),
            Stage.EMBARKED,
            guards=(_additional_measures_done, _unhcr_informed_or_emergency),
            inputs=("emergency_justification",),
        ),
        Move("confirm_arrival", _("Confirm arrival"), frozenset({Stage.EMBARKED}), Stage.ARRIVED),
        Move(
            "start_reintegration", _("Start reintegration follow-up"), frozenset({Stage.ARRIVED}), Stage.REINTEGRATION
        ),
        Move(
            "close",
            _("Close the case"),
            frozenset({Stage.ARRIVED, Stage.REINTEGRATION}),
            Stage.CLOSED,
            guards=(_closing_reason,),
            inputs=("closing_reason",),
        ),
        # Letter: the person may change their mind at any time up to voluntary embarkation; never after. No formal
        # withdrawal of the asylum claim is asked for: this records the person's decision about the return only.
        Move(
            "withdraw",
            _("Withdraw (the person changed their mind)"),
            BEFORE_EMBARKATION,
            Stage.WITHDRAWN,
            needs_reason=True,
        ),
    ]
}


def allowed_moves(case) -> list[Move]:
    """Moves whose source stage matches (guards are checked when the move is made, with their reasons)."""
    return [move for move in MOVES.values() if case.stage in move.sources]
