"""Configuration of notices by administrators, inbox and preferences."""

import pytest

from jointops import services as jointops_services
from jointops.exceptions import PermissionRefused, ValidationFailed
from notifications import selectors, services
from notifications.choices import EmailPreference, NoticeKind
from notifications.models import Notification, OfficeContact

pytestmark = pytest.mark.django_db


def test_notification_addresses_are_set_by_the_offices_administrators(world):
    contact = services.office_contact_add(actor=world.unhcr_admin, office=world.unhcr_af, email=" Lists@UNHCR.org ")
    assert contact.email == "lists@unhcr.org"
    with pytest.raises(PermissionRefused):
        services.office_contact_add(actor=world.iom_admin, office=world.unhcr_af, email="x@iom.int")
    with pytest.raises(ValidationFailed) as exc:
        services.office_contact_add(actor=world.unhcr_admin, office=world.unhcr_af, email="not an address")
    assert exc.value.field == "email"
    assert OfficeContact.objects.count() == 1


def test_lead_time_is_set_per_iom_office_and_its_counterpart(world):
    pair = services.office_pair_set_lead_time(actor=world.iom_admin, iom_office=world.iom_af, lead_time_days=10)
    assert (pair.unhcr_office, pair.lead_time_days) == (world.unhcr_af, 10)
    pair = services.office_pair_set_lead_time(actor=world.iom_admin, iom_office=world.iom_af, lead_time_days=5)
    assert pair.lead_time_days == 5
    with pytest.raises(ValidationFailed) as exc:
        services.office_pair_set_lead_time(actor=world.iom_admin, iom_office=world.iom_af, lead_time_days=365)
    assert exc.value.field == "lead_time_days"
    with pytest.raises(ValidationFailed):
        services.office_pair_set_lead_time(actor=world.iom_admin, iom_office=world.iom_af_field, lead_time_days=5)
    with pytest.raises(PermissionRefused):
        services.office_pair_set_lead_time(actor=world.unhcr_admin, iom_office=world.iom_af, lead_time_days=5)


def test_webhook_addresses_must_be_https_except_on_this_machine(world):
    client, _token = jointops_services.api_client_create(
        actor=None, name="proGres", office=world.unhcr_af, scopes=["pre-departure-lists:read"]
    )
    with pytest.raises(ValidationFailed) as exc:
        services.webhook_subscription_create(actor=world.unhcr_admin, api_client=client, url="http://partner.example/h")
    assert exc.value.field == "url"
    with pytest.raises(PermissionRefused):
        services.webhook_subscription_create(actor=world.iom_admin, api_client=client, url="https://p.example/h")
    subscription = services.webhook_subscription_create(
        actor=world.unhcr_admin, api_client=client, url="https://partner.example/hook"
    )
    assert len(subscription.secret) == 64
    local = services.webhook_subscription_create(actor=world.unhcr_admin, api_client=client, url="http://127.0.0.1:9/h")
    assert local.url.startswith("http://127.0.0.1")
    assert "secret" not in {f.name for f in subscription.history.model._meta.fields}  # never in the audit trail


def test_inbox_is_its_owners_and_mark_read(world):
    from notifications import outbox

    outbox.notify(users=[world.unhcr_af_staff, world.unhcr_af_manager], kind=NoticeKind.LOU_REMINDER, title="t")
    assert selectors.unread_count(user=world.unhcr_af_staff) == 1
    assert selectors.inbox_qs_for(user=world.iom_af_staff).count() == 0
    assert services.notification_mark_read(user=world.unhcr_af_staff) == 1
    assert selectors.unread_count(user=world.unhcr_af_staff) == 0
    assert selectors.unread_count(user=world.unhcr_af_manager) == 1
    other = Notification.objects.get(recipient=world.unhcr_af_manager)
    assert services.notification_mark_read(user=world.unhcr_af_staff, ids=[other.pk]) == 0  # not theirs


def test_email_preference(world):
    with pytest.raises(ValidationFailed) as exc:
        services.notification_settings_set(user=world.unhcr_af_staff, email_preference="pigeon")
    assert exc.value.field == "email_preference"
    row = services.notification_settings_set(user=world.unhcr_af_staff, email_preference=EmailPreference.DIGEST)
    assert row.email_preference == EmailPreference.DIGEST


def test_the_sweeper_never_takes_back_a_send_still_running(settings):
    from notifications.checks import delivery_timing_check

    assert delivery_timing_check(None) == []
    settings.DELIVERY_STALE_SECONDS = 30
    settings.WEBHOOK_TIMEOUT_SECONDS = 10
    [error] = delivery_timing_check(None)
    assert error.id == "notifications.E001" and "DELIVERY_STALE_SECONDS" in error.msg
