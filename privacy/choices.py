"""Choices of the data-protection app (issue 8: retention and the person's rights)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RecordType(models.TextChoices):
    """Record types with a retention period. Each period runs from the event named in the label."""

    PERSON = "person", _("Person (after their last return case closed; without a case, after the last change)")
    RETURN_CASE = "return_case", _("Return case notes (after the case closed)")
    PRE_DEPARTURE_LIST = "pre_departure_list", _("Names on pre-departure lists (after the expected departure)")
    IMPORT_FILE = "import_file", _("Uploaded import files and their reports (after the import finished)")
    DELIVERY = "delivery", _("Contents of e-mails and webhooks sent (after delivery)")


class AnonymisationReason(models.TextChoices):
    RETENTION = "retention", _("Retention period over")
    DELETION_REQUEST = "deletion_request", _("Deletion request granted")


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access (a copy of everything held)")
    CORRECTION = "correction", _("Correction")
    DELETION = "deletion", _("Deletion")
    OBJECTION = "objection", _("Objection to processing or sharing")


class RequestChannel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    REPRESENTATIVE = "representative", _("Through a representative")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("Open")
    GRANTED = "granted", _("Granted")
    PARTLY_GRANTED = "partly_granted", _("Partly granted")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLOSED_STATUSES = frozenset(
    {RequestStatus.GRANTED, RequestStatus.PARTLY_GRANTED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN}
)
