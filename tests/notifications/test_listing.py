"""Pre-departure name lists IOM → UNHCR (Letter of 16 January 2003): what is listed, once, with only what UNHCR
needs."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from jointops.exceptions import Conflict, PermissionRefused, TransitionNotAllowed
from notifications import delivery, documents, listing, services
from notifications.choices import ChangeKind, DeliveryStatus, NoticeKind, Trigger
from notifications.models import ENTRY_FIELDS, Delivery, Notification, OfficePair, PreDepartureEntry, PreDepartureList
from returns import services as returns_services
from returns.choices import ReturnKind, Stage
from tests.factories.beneficiaries import person
from tests.factories.returns import move, scheduled

pytestmark = pytest.mark.django_db


def _build(**kwargs):
    built = services.pre_departure_lists_build(actor=None, trigger=Trigger.SCHEDULE, **kwargs)
    deliver_all()
    return built


def deliver_all():
    """What the worker does with each outbox row (the same function its task calls)."""
    for pk in Delivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True):
        delivery.deliver(pk)


def test_a_scheduled_avr_of_an_asylum_seeker_is_listed_for_the_counterpart_once(world):
    spouse = person(world.iom_af, actor=world.iom_af_staff, given_name="Laila", unhcr_registration_number="KBL-1")
    case = scheduled(world.iom_af, world.iom_af_staff, days=10)
    returns_services.return_case_add_member(actor=world.iom_af_staff, case=case, beneficiary=spouse)
    [pdl] = _build()
    assert (pdl.iom_office, pdl.unhcr_office) == (world.iom_af, world.unhcr_af)
    entries = list(pdl.entries.order_by("pk"))
    assert len(entries) == 2 and {e.change for e in entries} == {ChangeKind.NEW}
    laila = next(e for e in entries if e.given_name == "Laila")
    assert laila.unhcr_registration_number == "KBL-1" and laila.iom_case_reference == case.reference
    assert laila.expected_departure_date == case.expected_departure_date and laila.days_before_departure == 10
    assert not laila.is_late
    # UNHCR's office hears of it in the inbox; IOM's staff do not.
    recipients = set(Notification.objects.filter(pre_departure_list=pdl).values_list("recipient__username", flat=True))
    assert recipients == {"unhcr_af_staff", "unhcr_af_manager"}
    assert _build() == []  # nothing new: nothing sent twice


SECTION_12 = {
    "no_conflict_with_humanitarian_concerns": True,
    "best_interests_considered": True,
    "bilateral_matter_recognised": True,
}


def test_other_migrants_are_not_listed_unless_someone_is_of_concern_to_unhcr(world):
    scheduled(world.iom_af, world.iom_af_staff, kind=ReturnKind.AVR_MIGRANT, **SECTION_12)
    assert _build() == []
    concerned = person(world.iom_af, actor=world.iom_af_staff, of_concern_to_unhcr=True)
    scheduled(world.iom_af, world.iom_af_staff, kind=ReturnKind.AVR_MIGRANT, principal=concerned, **SECTION_12)
    [pdl] = _build()
    assert [e.beneficiary_id for e in pdl.entries.all()] == [concerned.pk]


def test_departures_beyond_the_horizon_wait(world, settings):
    settings.PRE_DEPARTURE_HORIZON_DAYS = 14
    case = scheduled(world.iom_af, world.iom_af_staff, days=20)
    assert _build() == []
    later = listing.build_lists(actor=None, today=timezone.localdate() + dt.timedelta(days=6))
    assert [e.case_id for e in later[0].entries.all()] == [case.pk]


def test_every_change_up_to_embarkation_is_listed(world):
    case = scheduled(world.iom_af, world.iom_af_staff, days=10)
    _build()
    new_date = timezone.localdate() + dt.timedelta(days=60)  # beyond the horizon: still a change UNHCR must know
    case = returns_services.return_case_move(
        actor=world.iom_af_staff,
        case=case,
        transition="reschedule_departure",
        expected_departure_date=new_date,
        reason="Flight moved",
    )
    [changed] = _build()
    assert [(e.change, e.expected_departure_date) for e in changed.entries.all()] == [
        (ChangeKind.DATE_CHANGED, new_date)
    ]
    move(case, world.iom_af_staff, "withdraw", reason="The person changed their mind")
    [withdrawn] = _build()
    assert [e.change for e in withdrawn.entries.all()] == [ChangeKind.WITHDRAWN]
    assert _build() == []


def test_embarkation_waits_for_the_list_then_is_listed_for_unhcr_to_close_its_record(world):
    case = scheduled(world.iom_af, world.iom_af_staff, days=3)
    with pytest.raises(TransitionNotAllowed, match="pre-departure list"):
        move(case, world.iom_af_staff, "confirm_embarkation")
    [first] = _build()
    assert first.entries.get().is_late  # 3 days before departure, lead time 7 days
    case = move(case, world.iom_af_staff, "confirm_embarkation")  # the departure reached UNHCR: allowed now
    assert case.stage == Stage.EMBARKED
    [embarked] = _build()
    entry = embarked.entries.get()
    assert entry.change == ChangeKind.EMBARKED
    services.entry_close_record(actor=world.unhcr_af_staff, entry=entry)
    entry.refresh_from_db()
    assert entry.record_closed_at and entry.record_closed_by == world.unhcr_af_staff
    with pytest.raises(Conflict):
        services.entry_close_record(actor=world.unhcr_af_staff, entry=first.entries.get())  # not an embarkation


def test_a_new_date_after_listing_needs_a_new_list_before_embarkation(world):
    case = scheduled(world.iom_af, world.iom_af_staff, days=10)
    _build()
    case = returns_services.return_case_move(
        actor=world.iom_af_staff,
        case=case,
        transition="reschedule_departure",
        expected_departure_date=timezone.localdate() + dt.timedelta(days=2),
        reason="Earlier flight",
    )
    with pytest.raises(TransitionNotAllowed):
        move(case, world.iom_af_staff, "confirm_embarkation")


def test_lead_time_per_office_pair(world):
    OfficePair.objects.create(iom_office=world.iom_af, unhcr_office=world.unhcr_af, lead_time_days=2)
    scheduled(world.iom_af, world.iom_af_staff, days=3)
    [pdl] = _build()
    assert pdl.lead_time_days == 2 and not pdl.entries.get().is_late


def test_a_field_office_is_covered_by_the_office_above_with_a_counterpart(world):
    case = scheduled(world.iom_af_field, world.iom_field_staff, days=10)
    [pdl] = services.pre_departure_lists_build(
        actor=world.iom_field_staff, trigger=Trigger.BROWSER, iom_office=world.iom_af_field
    )
    assert (
        pdl.iom_office == world.iom_af and pdl.unhcr_office == world.unhcr_af and pdl.built_by == world.iom_field_staff
    )
    assert [e.case_id for e in pdl.entries.all()] == [case.pk]


def test_only_iom_staff_build_on_demand_and_only_with_a_counterpart(world):
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    with pytest.raises(PermissionRefused):
        services.pre_departure_lists_build(actor=world.iom_de_staff, trigger=Trigger.BROWSER, iom_office=world.iom_af)
    from jointops import services as jointops_services

    jointops_services.office_update(actor=None, office=world.iom_de, counterpart=None)
    world.iom_de.refresh_from_db()
    with pytest.raises(Conflict, match="counterpart"):
        services.pre_departure_lists_build(actor=world.iom_de_staff, trigger=Trigger.BROWSER, iom_office=world.iom_de)
    assert not PreDepartureList.objects.exists()


def test_acknowledge_once_by_the_receiving_unhcr_office_only(world):
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    [pdl] = _build()
    for outsider in (world.iom_af_manager, world.unhcr_de_staff):
        with pytest.raises(PermissionRefused):
            services.pre_departure_list_acknowledge(actor=outsider, pdl=pdl)
    pdl = services.pre_departure_list_acknowledge(actor=world.unhcr_af_staff, pdl=pdl)
    assert pdl.acknowledged_by == world.unhcr_af_staff and pdl.acknowledged_at
    with pytest.raises(Conflict):
        services.pre_departure_list_acknowledge(actor=world.unhcr_af_manager, pdl=pdl)


def test_a_voluntariness_concern_reaches_the_iom_case_owner_at_once(world):
    case = scheduled(world.iom_af, world.iom_af_staff, days=10)
    [pdl] = _build()
    mail.outbox.clear()
    entry = pdl.entries.get()
    services.entry_record_concern(actor=world.unhcr_af_staff, entry=entry, concern="Seemed under pressure")
    deliver_all()
    notice = Notification.objects.get(kind=NoticeKind.VOLUNTARINESS_CONCERN)
    assert notice.recipient == world.iom_af_staff and case.reference in notice.title
    assert entry.given_name not in notice.title  # the owner knows the case; no names travel
    assert any(case.reference in m.subject for m in mail.outbox)  # sent at once: no digest wait
    with pytest.raises(PermissionRefused):
        services.entry_record_concern(actor=world.iom_af_manager, entry=entry, concern="x")


# --- Data minimisation: only ENTRY_FIELDS cross ------------------------------------------------------------------

CANARIES = {
    "government_id": "CANARY-GOVID",
    "phone": "CANARY-PHONE",
    "email": "canary-email@example.org",
    "address": "CANARY-ADDRESS",
    "preferred_language": "CANARY-LANG",
    "iom_case_number": "CANARY-IOMNO",
    "other_names": "CANARY-OTHER",
    "date_of_birth": dt.date(1971, 3, 14),
    "nationality": "ZW",
}


def test_no_personal_field_outside_the_allow_list_reaches_any_channel(world, settings):
    from io import BytesIO

    from pypdf import PdfReader

    from notifications.models import OfficeContact

    assert ENTRY_FIELDS == (
        "given_name",
        "family_name",
        "expected_departure_date",
        "change",
        "iom_case_reference",
        "unhcr_registration_number",
    )
    OfficeContact.objects.create(office=world.unhcr_af, email="kbl-lists@unhcr.example.org")
    p = person(world.iom_af, actor=world.iom_af_staff, given_name="Amina", family_name="Noori", **CANARIES)
    scheduled(world.iom_af, world.iom_af_staff, principal=p, days=10)
    mail.outbox.clear()
    [pdl] = _build()
    list_mail = next(m for m in mail.outbox if "kbl-lists@unhcr.example.org" in m.to)
    pdf_text = "".join(page.extract_text() for page in PdfReader(BytesIO(documents.list_pdf(pdl))).pages)
    channels = {
        "payload": str(documents.list_payload(pdl)),
        "csv": documents.list_csv(pdl).decode(),
        "pdf": pdf_text,
        "mail": list_mail.subject + list_mail.body + "".join(str(a[1]) for a in list_mail.attachments),
        "inbox": " ".join(Notification.objects.filter(pre_departure_list=pdl).values_list("title", flat=True)),
    }
    for name, text in channels.items():
        for canary in ("CANARY", "canary-email", "1971-03-14", "14/03/1971", "Zimbabwe"):
            assert canary not in text, (name, canary)
    for name in ("payload", "csv", "pdf"):
        assert "Amina" in channels[name] and "Noori" in channels[name], name
    assert "Amina" not in list_mail.body  # names travel in the attachments only
    assert set(documents.list_payload(pdl)["entries"][0]) == {*ENTRY_FIELDS, "id", "late"}
    assert PreDepartureEntry.objects.count() == 1


def test_the_command_builds_for_one_office_or_all(world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    scheduled(world.iom_af, world.iom_af_staff, days=10)
    scheduled(world.iom_de, world.iom_de_staff, days=10)
    out = StringIO()
    call_command("build_pre_departure_lists", "--office", "iom-af-hrt", stdout=out)  # covered by IOM-AF-KBL
    assert "1 list(s) built." in out.getvalue()
    assert PreDepartureList.objects.get().trigger == Trigger.COMMAND
    call_command("build_pre_departure_lists", stdout=out)
    assert set(PreDepartureList.objects.values_list("unhcr_office__code", flat=True)) == {
        "UNHCR-AF-KBL",
        "UNHCR-DE-BER",
    }
    with pytest.raises(CommandError, match="--office"):
        call_command("build_pre_departure_lists", "--office", "UNHCR-AF-KBL")
