"""What the notifications templates need beyond tests/jointops/test_templates.py's minimal context.

Keys are specific to these templates (pdl_*, email_form, contact_form...), so they do not disturb other apps'.
"""

from __future__ import annotations

from jointops import services as jointops_services
from jointops.models import Office
from notifications import services
from notifications.choices import Trigger
from notifications.forms import ContactAddForm, EmailPreferenceForm, LeadTimeForm, ListBuildForm, WebhookCreateForm
from notifications.models import DEFAULT_LEAD_TIME_DAYS, ENTRY_FIELDS, Delivery, PreDepartureEntry
from notifications.selectors import delivery_qs_for, inbox_qs_for, pre_departure_list_get_for_user
from notifications.views import (
    ANSWER_HINT,
    CONCERN_HINT,
    LETTER_HINT,
    WEBHOOK_HINT,
    _lead_time_hint,
    entry_rows,
)
from tests.factories.returns import scheduled


def template_context(world) -> dict:
    scheduled(world.iom_af, world.iom_af_staff, days=3)  # late: lead time 7 days
    [built] = services.pre_departure_lists_build(actor=None, trigger=Trigger.SCHEDULE, iom_office=world.iom_af)
    services.pre_departure_list_acknowledge(actor=world.unhcr_af_staff, pdl=built)
    pdl = pre_departure_list_get_for_user(principal=world.unhcr_af_staff, pk=built.pk)
    entry = pdl.entries.all()[0]
    services.entry_record_concern(actor=world.unhcr_af_staff, entry=entry, concern="Said he was pressed\nto sign.")
    entry.refresh_from_db()
    client, _token = jointops_services.api_client_create(
        actor=world.unhcr_admin, name="proGres", office=world.unhcr_af, scopes=["pre-departure-lists:read"]
    )
    subscription = services.webhook_subscription_create(
        actor=world.unhcr_admin, api_client=client, url="https://progres.example.org/hooks"
    )
    Delivery.objects.filter(pre_departure_list=pdl).update(status="failed", attempts=8, last_error="HTTP 503")
    deliveries = list(delivery_qs_for(principal=world.unhcr_admin))
    for delivery in deliveries:
        delivery.list_visible, delivery.retryable = True, True
    bad_contact = ContactAddForm(data={"email": "not an address"})
    bad_contact.is_valid()
    bad_lead = LeadTimeForm(data={"lead_time_days": "365"})
    bad_lead.is_valid()
    bad_webhook = WebhookCreateForm(data={"url": "http://partner.example.org"})
    bad_webhook.is_valid()
    bad_email = EmailPreferenceForm(data={"email_preference": "pigeon"})
    bad_email.is_valid()
    notices = list(inbox_qs_for(user=world.unhcr_af_staff))
    return {
        "pdl": pdl,
        "pdl_rows": entry_rows(pdl.entries.all()),
        "pdl_row": entry_rows([entry])[0],
        "pdl_entry": entry,
        "pdl_entry_fields": [PreDepartureEntry._meta.get_field(name).verbose_name for name in ENTRY_FIELDS],
        "can_answer": True,
        "links_cases": True,
        "letter_hint": LETTER_HINT,
        "answer_hint": ANSWER_HINT,
        "concern_hint": CONCERN_HINT,
        "lead_time_hint": _lead_time_hint(7),
        "webhook_hint": WEBHOOK_HINT,
        "notices": notices,
        "email_form": bad_email,
        "build_form": ListBuildForm(offices=Office.objects.filter(pk__in=[world.iom_af.pk, world.iom_de.pk])),
        "build_office_count": 2,
        "deliveries": deliveries,
        "can_retry": True,
        "can_configure": True,
        "contacts": [],
        "lead_times": [{"office": world.iom_af, "days": None, "default": DEFAULT_LEAD_TIME_DAYS}],
        "default_lead_time_days": DEFAULT_LEAD_TIME_DAYS,
        "subscriptions": [subscription],
        "subscription": subscription,
        "contact_form": bad_contact,
        "lead_time_form": bad_lead,
        "webhook_form": bad_webhook,
        "nav_unread": len(notices),
        "nav_lists_awaiting": 2,
        "nav_builds_lists": True,
    }
