"""The lifecycle of a Letter of Understanding: the one table of acts, the statuses each is open in, who may perform
it, and the rules it must pass — each citing its paragraph. Services perform the acts; the browser and the API offer
`actions_for(actor, lou)`: the acts open now, each with the reason when a rule still blocks it.

    draft ─sign─▶ signed by one party ─sign (the other party)─▶ in force ─start phase-out (§39)─▶ phasing out
    signed by one party ─reopen (the signature is voided)─▶ draft;  draft / signed by one ─abandon─▶ abandoned
    in force: amend (§46), review (§47), evaluate (§38), flag resources and agree a phase-out plan (§39)
    in force / phasing out ─notice (§45), then 90 days─▶ terminated;  phasing out ─conclude (§40)─▶ concluded

An act "for a party" is performed by staff of that party's office (or of an office above it): the actor's
organisation is the party. Signatures, approvals, notices and agreements to a plan are acts of an office manager
(DOMAIN.md: office managers sign on behalf of the office); partner systems may draft and record, never commit a party.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jointops import access
from jointops.choices import Role
from jointops.exceptions import PermissionRefused, TransitionNotAllowed
from letters_of_understanding.choices import (
    DRAFTING,
    OPERATIVE,
    SETTLING,
    Agency,
    AmendmentStatus,
    HandoverStatus,
    LouStatus,
)

STAFF = frozenset({Role.FIELD_STAFF, Role.OFFICE_MANAGER})
MANAGERS = frozenset({Role.OFFICE_MANAGER})
TERMINATION_NOTICE_DAYS = 90  # MOU §45: "upon 90 days' written notice"
REVIEW_INTERVAL_MONTHS = 12  # MOU §47: "at least annually"
REMINDER_DAYS = (90, 60, 30)  # reminders before the agreed end without an agreed phase-out plan (MOU §39)


@dataclass(frozen=True)
class Act:
    name: str
    label: Any
    statuses: frozenset[LouStatus]
    roles: frozenset[Role] = STAFF
    guards: tuple[Callable[[Any, str], None], ...] = field(default=())  # (lou, acting agency) -> raise if refused


def other(agency: str) -> str:
    return Agency.IOM if agency == Agency.UNHCR else Agency.UNHCR


# --- Guards: each raises TransitionNotAllowed with the reason ---------------------------------------------------


def text_complete(lou, agency: str) -> None:
    # MOU §5: the letter sets out the framework, the activities of each agency, their linkages and the funding.
    missing = []
    if not lou.institutional_framework.strip():
        missing.append(str(_("the institutional framework")))
    agencies = set(lou.activities.values_list("agency", flat=True))
    if not agencies >= {Agency.UNHCR, Agency.IOM}:
        missing.append(str(_("at least one activity of each agency")))
    if not lou.linkages.strip():
        missing.append(str(_("the linkages between the activities")))
    if not lou.funding.exists():
        missing.append(str(_("the funding arrangements")))
    if missing:
        raise TransitionNotAllowed(
            _("MOU §5: the letter must set out %(missing)s before it is signed.") % {"missing": ", ".join(missing)}
        )


def not_signed_by(lou, agency: str) -> None:
    if lou.signatures.filter(agency=agency, voided_at__isnull=True).exists():
        raise TransitionNotAllowed(_("Your party has already signed this draft."))


def has_signature(lou, agency: str) -> None:
    if not lou.signatures.filter(voided_at__isnull=True).exists():
        raise TransitionNotAllowed(_("Nobody has signed this draft yet."))


def no_open_amendment(lou, agency: str) -> None:
    if lou.amendments.filter(status=AmendmentStatus.PROPOSED).exists():
        raise TransitionNotAllowed(
            _("MOU §46: an amendment is already awaiting the other party's decision; decide or withdraw it first.")
        )


def open_amendment_from_other(lou, agency: str) -> None:
    # MOU §46: "by mutual consent" — proposed by one party, approved by the other.
    pending = lou.amendments.filter(status=AmendmentStatus.PROPOSED).first()
    if pending is None:
        raise TransitionNotAllowed(_("No amendment is awaiting a decision."))
    if pending.proposed_by_agency == agency:
        raise TransitionNotAllowed(_("MOU §46: the other party decides on an amendment your party proposed."))


def open_amendment_from_self(lou, agency: str) -> None:
    pending = lou.amendments.filter(status=AmendmentStatus.PROPOSED).first()
    if pending is None or pending.proposed_by_agency != agency:
        raise TransitionNotAllowed(_("Only the proposing party withdraws its amendment."))


def no_notice_served(lou, agency: str) -> None:
    if lou.termination_notice_served_on:
        raise TransitionNotAllowed(
            _("MOU §45: notice was already served; the letter ends on %(date)s.")
            % {"date": lou.termination_effective_on}
        )


def plan_exists(lou, agency: str) -> None:
    plan = getattr(lou, "phase_out_plan", None)
    if plan is None or not plan.actions.exists():
        raise TransitionNotAllowed(_("MOU §39: write the phase-out plan and its actions first."))


def plan_not_agreed_by(lou, agency: str) -> None:
    plan = getattr(lou, "phase_out_plan", None)
    if plan is not None and getattr(plan, f"{agency.lower()}_agreed_on"):
        raise TransitionNotAllowed(_("Your party has already agreed to this plan."))


def plan_agreed(lou, agency: str) -> None:
    # MOU §39: "a mutually agreeable plan for phase-out shall be prepared" before the agreed conclusion.
    plan = getattr(lou, "phase_out_plan", None)
    if plan is None or not plan.is_agreed:
        raise TransitionNotAllowed(_("MOU §39: both parties must first agree the phase-out plan."))


def obligations_not_confirmed_by(lou, agency: str) -> None:
    if getattr(lou, f"{agency.lower()}_obligations_confirmed_on"):
        raise TransitionNotAllowed(_("Your party has already confirmed its list of outstanding obligations."))


def obligations_confirmed(lou, agency: str) -> None:
    # MOU §40: "Each agency shall be responsible for any outstanding obligations or liabilities it may have incurred."
    missing = [
        str(party.label) for party in Agency if not getattr(lou, f"{party.value.lower()}_obligations_confirmed_on")
    ]
    if missing:
        raise TransitionNotAllowed(
            _("MOU §40: each agency lists its outstanding obligations and confirms the list; still to confirm: %(p)s.")
            % {"p": ", ".join(missing)}
        )


def assets_decided(lou, agency: str) -> None:
    # MOU §40: remaining assets are considered for handover; each listed item is handed over or retained.
    if lou.handover_items.filter(status=HandoverStatus.LISTED).exists():
        raise TransitionNotAllowed(
            _("MOU §40: record for every listed asset whether it was handed over or retained before concluding.")
        )


def notice_not_effective(lou, agency: str) -> None:
    if lou.termination_effective_on and lou.termination_effective_on <= timezone.localdate():
        raise TransitionNotAllowed(_("MOU §45: the termination has taken effect."))


ACTS: dict[str, Act] = {
    act.name: act
    for act in [
        Act("edit", _("Edit the draft"), frozenset({LouStatus.DRAFT})),
        Act("sign", _("Sign for your party"), DRAFTING, MANAGERS, (not_signed_by, text_complete)),
        Act(
            "reopen",
            _("Reopen the draft (voids the signature)"),
            frozenset({LouStatus.PARTLY_SIGNED}),
            MANAGERS,
            (has_signature,),
        ),
        Act("abandon", _("Abandon the draft"), DRAFTING, MANAGERS),
        Act(
            "propose_amendment", _("Propose an amendment"), OPERATIVE, STAFF, (notice_not_effective, no_open_amendment)
        ),
        Act("approve_amendment", _("Approve the amendment"), OPERATIVE, MANAGERS, (open_amendment_from_other,)),
        Act("reject_amendment", _("Reject the amendment"), OPERATIVE, MANAGERS, (open_amendment_from_other,)),
        Act("withdraw_amendment", _("Withdraw the amendment"), OPERATIVE, STAFF, (open_amendment_from_self,)),
        Act("serve_notice", _("Serve termination notice"), OPERATIVE, MANAGERS, (no_notice_served,)),
        Act("record_review", _("Record a review"), OPERATIVE),
        Act("record_evaluation", _("Record monitoring or an evaluation"), OPERATIVE),
        Act("flag_resources", _("Flag insufficient resources"), OPERATIVE),
        Act("edit_plan", _("Edit the phase-out plan"), OPERATIVE),
        Act("agree_plan", _("Agree the phase-out plan"), OPERATIVE, MANAGERS, (plan_exists, plan_not_agreed_by)),
        Act("start_phase_out", _("Start the phase-out"), frozenset({LouStatus.IN_FORCE}), MANAGERS, (plan_agreed,)),
        Act("edit_settlement", _("List obligations and assets"), SETTLING),
        Act(
            "confirm_obligations",
            _("Confirm your party's obligations"),
            SETTLING,
            MANAGERS,
            (obligations_not_confirmed_by,),
        ),
        Act(
            "conclude",
            _("Conclude the letter"),
            frozenset({LouStatus.PHASING_OUT}),
            MANAGERS,
            (plan_agreed, obligations_confirmed, assets_decided),
        ),
    ]
}


AMENDMENT_DECISIONS = frozenset({"approve_amendment", "reject_amendment", "withdraw_amendment"})


def acting_party(actor: Any, lou, roles: frozenset[Role] = STAFF) -> str | None:
    """The party (UNHCR or IOM) the actor acts for on this LoU with one of `roles`, or None.

    A member of staff acts for their own organisation, at that party's office or above it. A partner system acts
    as field staff of its office. The system (actor None) acts for nobody.
    """
    if actor is None:
        return None
    for agency in Agency:
        office = lou.party_office(agency)
        if getattr(actor, "organisation_id", None) != office.organisation_id:
            continue
        if getattr(actor, "is_api_client", False):
            if Role.FIELD_STAFF in roles and access.can(actor, access.CHANGE, "lou", office=office.pk):
                return agency
        elif access.holds_role_at(actor, roles, office.pk):
            return agency
    return None


def check(act_name: str, actor: Any, lou) -> str:
    """Raise unless `actor` may perform the act now; return the party it acts for."""
    act = ACTS[act_name]
    agency = acting_party(actor, lou, act.roles)
    if agency is None:
        if acting_party(actor, lou, STAFF) is not None and act.roles == MANAGERS:
            raise PermissionRefused(
                _("An office manager of your party performs this act (signature, decision, notice or agreement).")
            )
        raise PermissionRefused()
    if lou.status not in act.statuses:
        raise TransitionNotAllowed(
            _("This is not possible while the letter is %(status)s.") % {"status": lou.get_status_display().lower()}
        )
    for guard in act.guards:
        guard(lou, agency)
    return agency


def actions_for(actor: Any, lou) -> list[tuple[Act, str | None]]:
    """The acts the actor could perform on this LoU in its current status, each with the reason a rule still blocks
    it (None: allowed now). Acts of another status or role are left out."""
    result = []
    pending = None
    for act in ACTS.values():
        if lou.status not in act.statuses:
            continue
        if act.name in AMENDMENT_DECISIONS:  # offered only while an amendment awaits a decision
            if pending is None:
                pending = lou.amendments.filter(status=AmendmentStatus.PROPOSED).exists()
            if not pending:
                continue
        agency = acting_party(actor, lou, act.roles)
        if agency is None:
            continue
        reason = None
        for guard in act.guards:
            try:
                guard(lou, agency)
            except TransitionNotAllowed as exc:
                reason = str(exc.message)
                break
        result.append((act, reason))
    return result
