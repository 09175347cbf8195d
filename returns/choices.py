"""Kinds of return case and their stages (MOU §12-§15, §29-§31; Letter of 16 January 2003)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReturnKind(models.TextChoices):
    VOLUNTARY_REPATRIATION = "voluntary_repatriation", _("Voluntary repatriation of refugees")
    AVR_REJECTED_ASYLUM_SEEKER = "avr_rejected", _("Assisted voluntary return of a rejected asylum-seeker")
    AVR_ASYLUM_SEEKER = "avr_asylum_seeker", _("Assisted voluntary return before the asylum decision")
    AGREEMENT_RETURN = "agreement_return", _("Return under a tripartite or quadripartite agreement")
    AVR_MIGRANT = "avr_migrant", _("Assisted voluntary return of another migrant")


# Lead agency of each kind.
LEAD = {
    ReturnKind.VOLUNTARY_REPATRIATION: "UNHCR",  # MOU §30
    ReturnKind.AVR_REJECTED_ASYLUM_SEEKER: "IOM",  # Letter: IOM strengthens its leadership
    ReturnKind.AVR_ASYLUM_SEEKER: "IOM",  # Letter
    ReturnKind.AGREEMENT_RETURN: None,  # joint (Letter: quadripartite framework)
    ReturnKind.AVR_MIGRANT: "IOM",  # MOU §9
}

# Kinds UNHCR must be informed of by IOM with a pre-departure name list (Letter). A member flagged "of concern to
# UNHCR" brings any case into this set too.
UNHCR_INFORMED_KINDS = frozenset({ReturnKind.AVR_ASYLUM_SEEKER, ReturnKind.AVR_REJECTED_ASYLUM_SEEKER})

# Returns of people not in need of international protection: the §12 conditions are recorded on them.
NOT_IN_NEED_OF_PROTECTION_KINDS = frozenset({ReturnKind.AVR_REJECTED_ASYLUM_SEEKER, ReturnKind.AVR_MIGRANT})


class Stage(models.TextChoices):
    OPENED = "opened", _("Opened")
    COUNSELLING = "counselling", _("Counselling")
    PREPARING = "preparing", _("Preparing (documents, fit to travel)")
    DEPARTURE_SCHEDULED = "departure_scheduled", _("Departure scheduled")
    EMBARKED = "embarked", _("Embarked")
    ARRIVED = "arrived", _("Arrived")
    REINTEGRATION = "reintegration", _("Reintegration follow-up")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn (change of mind)")


# Letter: the person may change their mind at any time up to the moment of voluntary embarkation.
BEFORE_EMBARKATION = frozenset({Stage.OPENED, Stage.COUNSELLING, Stage.PREPARING, Stage.DEPARTURE_SCHEDULED})
FINAL_STAGES = frozenset({Stage.CLOSED, Stage.WITHDRAWN})


class ClosingReason(models.TextChoices):
    REINTEGRATED = "reintegrated", _("Return and reintegration completed")
    FOLLOW_UP_ENDED = "follow_up_ended", _("Follow-up period ended")
    LOST_CONTACT = "lost_contact", _("Contact lost after arrival")
    OTHER = "other", _("Other")


class OperationKind(models.TextChoices):
    ORGANISED = "organised", _("Organised voluntary repatriation operation")
    SPONTANEOUS = "spontaneous", _("Large-scale spontaneous movement")


class OperationStatus(models.TextChoices):
    PLANNING = "planning", _("Planning and negotiation")
    ONGOING = "ongoing", _("Ongoing")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class AgreementKind(models.TextChoices):
    TRIPARTITE = "tripartite", _("Tripartite")
    QUADRIPARTITE = "quadripartite", _("Quadripartite")
