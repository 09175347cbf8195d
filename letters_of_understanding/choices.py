"""Choices of Letters of Understanding (MOU §5, §20-§40, §44-§47)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from jointops.choices import IOM, UNHCR


class LouStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PARTLY_SIGNED = "partly_signed", _("Signed by one party")
    IN_FORCE = "in_force", _("In force")  # MOU §44 (by analogy): from the second signature
    PHASING_OUT = "phasing_out", _("Phasing out")  # MOU §39
    CONCLUDED = "concluded", _("Concluded")  # MOU §40
    TERMINATED = "terminated", _("Terminated")  # MOU §45
    ABANDONED = "abandoned", _("Abandoned before entry into force")


# The text of an LoU in force changes only through an amendment (MOU §46).
OPERATIVE = frozenset({LouStatus.IN_FORCE, LouStatus.PHASING_OUT})
DRAFTING = frozenset({LouStatus.DRAFT, LouStatus.PARTLY_SIGNED})
ENDED = frozenset({LouStatus.CONCLUDED, LouStatus.TERMINATED, LouStatus.ABANDONED})
# §40: obligations, assets and handover are settled from the phase-out onwards, and after the end.
SETTLING = frozenset({LouStatus.IN_FORCE, LouStatus.PHASING_OUT, LouStatus.CONCLUDED, LouStatus.TERMINATED})


class Agency(models.TextChoices):
    """The two parties of the MOU; an LoU has one office of each."""

    UNHCR = UNHCR, "UNHCR"
    IOM = IOM, "IOM"


class ActivityKind(models.TextChoices):
    """The MOU's types of cooperative activities (section IV)."""

    PREVENTION = "prevention", _("Prevention and early warning (MOU §21)")
    CONTINGENCY_PLANNING = "contingency_planning", _("Contingency planning (MOU §22)")
    CAPACITY_BUILDING = "capacity_building", _("Institutional capacity-building (MOU §23)")
    IDP_COOPERATION = "idp_cooperation", _("Cooperation on internally displaced persons (MOU §24-§25)")
    IN_COUNTRY_PROCESSING = "in_country_processing", _("In-country processing for organised departure (MOU §26-§28)")
    REJECTED_ASYLUM_SEEKERS = "rejected_asylum_seekers", _("Rejected asylum-seekers (MOU §29)")
    VOLUNTARY_REPATRIATION = "voluntary_repatriation", _("Voluntary repatriation of refugees (MOU §30)")
    REINTEGRATION = "reintegration", _("Reintegration (MOU §31)")
    RESETTLEMENT = "resettlement", _("Resettlement (MOU §32-§33)")
    INFORMATION = "information", _("Information activities (MOU §34-§35)")


class AmendmentStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn by the proposing party")


class ReviewOutcome(models.TextChoices):
    """What a review (MOU §47) concluded."""

    CONTINUE = "continue", _("Continue as agreed")
    AMEND = "amend", _("Amend the letter")
    PHASE_OUT = "phase_out", _("Prepare the phase-out")
    TERMINATE = "terminate", _("Consider termination")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AGREED = "agreed", _("Agreed by both parties")  # MOU §39: "a mutually agreeable plan"


class EvaluationKind(models.TextChoices):
    """MOU §38: agreed monitoring procedures and evaluations of joint projects."""

    MONITORING = "monitoring", _("Monitoring report")
    EVALUATION = "evaluation", _("Evaluation")


class RecipientKind(models.TextChoices):
    """MOU §40: who may receive remaining assets, inventory or resources."""

    CONTINUING_AGENCY = "continuing_agency", _("The agency with a continuing presence or related operations")
    NATIONAL_INSTITUTION = "national_institution", _("A national institution")
    NGO = "ngo", _("A suitable NGO or other institution responsible for the beneficiaries")


class HandoverStatus(models.TextChoices):
    LISTED = "listed", _("Listed")
    HANDED_OVER = "handed_over", _("Handed over")
    RETAINED = "retained", _("Retained by the owning agency")


class EventKind(models.TextChoices):
    """The timeline of an LoU: every act of either party."""

    CREATED = "created", _("Draft created")
    SIGNED = "signed", _("Signed")
    ENTERED_INTO_FORCE = "entered_into_force", _("Entered into force")
    REOPENED = "reopened", _("Reopened as a draft")
    ABANDONED = "abandoned", _("Abandoned")
    AMENDMENT_PROPOSED = "amendment_proposed", _("Amendment proposed")
    AMENDMENT_APPROVED = "amendment_approved", _("Amendment approved")
    AMENDMENT_REJECTED = "amendment_rejected", _("Amendment rejected")
    AMENDMENT_WITHDRAWN = "amendment_withdrawn", _("Amendment withdrawn")
    NOTICE_SERVED = "notice_served", _("Termination notice served")
    TERMINATED = "terminated", _("Terminated")
    REVIEWED = "reviewed", _("Reviewed")
    RESOURCES_FLAGGED = "resources_flagged", _("Resources flagged as insufficient")
    PLAN_AGREED = "plan_agreed", _("Phase-out plan agreed by a party")
    PLAN_REOPENED = "plan_reopened", _("Phase-out plan changed: agreement needed again")
    PHASE_OUT_STARTED = "phase_out_started", _("Phase-out started")
    OBLIGATIONS_CONFIRMED = "obligations_confirmed", _("Outstanding obligations confirmed")
    CONCLUDED = "concluded", _("Concluded")
