"""Choices of the notifications app: pre-departure lists (Letter), deliveries (the outbox), inbox notices."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeKind(models.TextChoices):
    """Why a person appears on a pre-departure list (Letter: names and dates, and every change up to embarkation)."""

    NEW = "new", _("Departure scheduled")
    DATE_CHANGED = "date_changed", _("New departure date")
    WITHDRAWN = "withdrawn", _("Changed their mind (withdrawn)")
    EMBARKED = "embarked", _("Embarkation confirmed")


# The changes that tell UNHCR of a departure still ahead (the case may embark once one reached UNHCR).
DEPARTURE_ANNOUNCED = frozenset({ChangeKind.NEW, ChangeKind.DATE_CHANGED})


class Trigger(models.TextChoices):
    SCHEDULE = "schedule", _("Daily schedule")
    BROWSER = "browser", _("On demand, in the browser")
    API = "api", _("On demand, through the API")
    COMMAND = "command", _("On demand, from the command line")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Delivered")
    FAILED = "failed", _("Failed after the last try")


class NoticeKind(models.TextChoices):
    PRE_DEPARTURE_LIST = "pre_departure_list", _("Pre-departure list received")
    VOLUNTARINESS_CONCERN = "voluntariness_concern", _("Voluntariness concern from UNHCR")
    REPATRIATION_OPERATION = "repatriation_operation", _("Early notice of a repatriation operation (MOU §31)")
    LOU_REMINDER = "lou_reminder", _("Letter of Understanding reminder")
    # Issue 8: an account read or exported more person records in an hour than ACCESS_ALERT_RECORDS_PER_HOUR.
    ACCESS_ALERT = "access_alert", _("Bulk reading of person records (access log)")


class EmailPreference(models.TextChoices):
    INSTANT = "instant", _("An e-mail for each notice")
    DIGEST = "digest", _("One daily digest")
    NONE = "none", _("No e-mail (inbox only)")


class Milestone(models.TextChoices):
    """LoU reminders (MOU §39, §45, §47); each is sent once per letter (and per date it concerns)."""

    END_90 = "end_90", _("Ends within 90 days without an agreed phase-out plan (MOU §39)")
    END_60 = "end_60", _("Ends within 60 days without an agreed phase-out plan (MOU §39)")
    END_30 = "end_30", _("Ends within 30 days without an agreed phase-out plan (MOU §39)")
    RESOURCES_FLAGGED = "resources_flagged", _("Resources flagged insufficient, no agreed phase-out plan (MOU §39)")
    REVIEW_DUE = "review_due", _("Review due within 30 days (MOU §47)")
    REVIEW_OVERDUE = "review_overdue", _("Review overdue (MOU §47)")
    NOTICE_EFFECTIVE = "notice_effective", _("Termination takes effect within 30 days (MOU §45)")
