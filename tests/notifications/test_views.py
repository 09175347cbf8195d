"""Browser pages of the notifications app: the inbox and the bell, pre-departure lists IOM → UNHCR (Letter of 16 January
2003) with UNHCR's answers, building on demand, the administrators' deliveries and configuration. Every URL as every
role, refusals with their reason, bad input, the access log, data minimisation and pinned query counts."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from jointops import services as jointops_services
from jointops.models import AccessLog
from notifications import services
from notifications import urls as notification_urls
from notifications.choices import ChangeKind, Channel, DeliveryStatus, EmailPreference, NoticeKind, Trigger
from notifications.models import (
    ENTRY_FIELDS,
    Delivery,
    Notification,
    NotificationSettings,
    OfficeContact,
    OfficePair,
    PreDepartureList,
    WebhookSubscription,
)
from tests.factories.beneficiaries import person
from tests.factories.returns import move, scheduled

pytestmark = pytest.mark.django_db

ACTORS = (
    "iom_af_staff",
    "iom_af_manager",
    "iom_de_staff",
    "iom_hq_focal",
    "iom_admin",
    "unhcr_af_staff",
    "unhcr_af_manager",
    "unhcr_de_staff",
    "unhcr_hq_focal",
    "unhcr_admin",
)
ADMINS = ("iom_admin", "unhcr_admin")
IOM_AF = ("iom_af_staff", "iom_af_manager")
UNHCR_AF = ("unhcr_af_staff", "unhcr_af_manager")
HQ = ("iom_hq_focal", "unhcr_hq_focal")
OTHER_OFFICES = ("iom_de_staff", "unhcr_de_staff")


def _build(actor=None, office=None, trigger=Trigger.SCHEDULE) -> list[PreDepartureList]:
    return services.pre_departure_lists_build(actor=actor, trigger=trigger, iom_office=office)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def scene(world):
    """Kabul: a list announcing a departure (late: 3 days ahead, lead time 7) and, once embarked, a list confirming
    the embarkation; a failed e-mail delivery; a notification address; a partner system's webhook."""
    OfficeContact.objects.create(office=world.unhcr_af, email="kbl-lists@unhcr.example.org")
    case = scheduled(world.iom_af, world.iom_af_staff, days=3)
    [announced] = _build()
    case = move(case, world.iom_af_staff, "confirm_embarkation")
    [embarked] = _build()
    client, _token = jointops_services.api_client_create(
        actor=world.unhcr_admin, name="proGres", office=world.unhcr_af, scopes=["pre-departure-lists:read"]
    )
    subscription = services.webhook_subscription_create(
        actor=world.unhcr_admin, api_client=client, url="https://progres.example.org/hooks"
    )
    delivery = Delivery.objects.get(pre_departure_list=announced, channel=Channel.EMAIL)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=8, last_error="550 mailbox")
    notice = Notification.objects.filter(recipient=world.unhcr_af_staff, pre_departure_list=announced).get()
    return SimpleNamespace(
        world=world,
        case=case,
        announced=announced,
        new_entry=announced.entries.get(),
        embarked=embarked,
        embarked_entry=embarked.entries.get(),
        delivery=delivery,
        notice=notice,
        contact=OfficeContact.objects.get(),
        subscription=subscription,
    )


# --- Every URL as every role ----------------------------------------------------------------------------------------


def _codes(default: int, **by_group) -> dict[str, int]:
    """Expected status per actor: `default`, except for the actors of the named groups."""
    groups = {
        "admins": ADMINS,
        "iom_af": IOM_AF,
        "unhcr_af": UNHCR_AF,
        "hq": HQ,
        "other_offices": OTHER_OFFICES,
        "unhcr_af_staff": ("unhcr_af_staff",),
        "iom_de_staff": ("iom_de_staff",),
        "iom_admin": ("iom_admin",),
        "unhcr_admin": ("unhcr_admin",),
    }
    codes = dict.fromkeys(ACTORS, default)
    for group, code in by_group.items():
        codes.update(dict.fromkeys(groups[group], code))
    return codes


LIST_READ = _codes(404, iom_af=200, unhcr_af=200, hq=200)  # the two offices (and those above): others 404
LIST_ANSWER = _codes(404, iom_af=403, hq=403, unhcr_af=302)  # only the receiving UNHCR office answers
TABLE = {
    # name: (method, target, expected codes)
    "inbox": ("get", None, _codes(200)),
    "email_preference": ("get", None, _codes(200)),
    "notification_read_all": ("post", None, _codes(302)),
    "notification_open": ("post", "notice", _codes(404, unhcr_af_staff=302)),  # one's own notices only
    "notification_read": ("post", "notice", _codes(404, unhcr_af_staff=302)),
    "list_index": ("get", None, _codes(200, admins=403)),
    "list_build": ("post", None, _codes(403, iom_af=302, iom_de_staff=302)),  # IOM field staff and managers
    "list_detail": ("get", "announced", LIST_READ),
    "list_csv": ("get", "announced", LIST_READ),
    "list_pdf": ("get", "announced", LIST_READ),
    "list_acknowledge": ("post", "announced", LIST_ANSWER),
    "entry_concern": ("get", "new_entry", _codes(404, iom_af=403, hq=403, unhcr_af=200)),
    "entry_close_record": ("post", "embarked_entry", LIST_ANSWER),
    "delivery_list": ("get", None, _codes(403, admins=200)),
    "delivery_retry": ("post", "delivery", _codes(403, admins=302)),  # a list concerns both organisations
    "config": ("get", None, _codes(403, admins=200)),
    "contact_add": ("post", None, _codes(403, admins=200)),  # empty form: shown again with its errors
    "contact_remove": ("post", "contact", _codes(403, unhcr_admin=302, iom_admin=404)),
    "lead_time_set": ("post", None, _codes(403, iom_admin=200)),  # IOM administrators only
    "webhook_create": ("post", None, _codes(403, admins=200)),
    "webhook_activate": ("post", "subscription", _codes(403, unhcr_admin=302, iom_admin=404)),
    "webhook_deactivate": ("post", "subscription", _codes(403, unhcr_admin=302, iom_admin=404)),
}


def _url(scene, name: str, target: str | None) -> str:
    if target is None:
        return reverse(f"notifications:{name}")
    if target.endswith("entry"):
        entry = getattr(scene, target)
        return reverse(f"notifications:{name}", args=[entry.list_id, entry.pk])
    return reverse(f"notifications:{name}", args=[getattr(scene, target).pk])


def test_table_covers_every_url():
    names = {p.name for p in notification_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == set(TABLE)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_every_role_answers_as_the_table_says(scene, name):
    method, target, codes = TABLE[name]
    url = _url(scene, name, target)
    mismatches = []
    for actor in ACTORS:
        client = _client(getattr(scene.world, actor))
        with transaction.atomic():  # each request's writes are undone, so the next one sees the same scene
            response = client.post(url) if method == "post" else client.get(url)
            transaction.set_rollback(True)
        if response.status_code != codes[actor]:
            mismatches.append(f"{actor} {method.upper()} {url}: {response.status_code} != {codes[actor]}")
    assert mismatches == []


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_anonymous_is_sent_to_sign_in(scene, name):
    method, target, _codes_ = TABLE[name]
    url = _url(scene, name, target)
    response = Client().post(url) if method == "post" else Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- The bell and the inbox ---------------------------------------------------------------------------------------


def test_nav_shows_unread_count_and_inbox_marks_read(scene):
    world = scene.world
    client = _client(world.unhcr_af_staff)
    home = client.get(reverse("home")).content.decode()
    assert re.search(r'id="nav-unread">2<', home)  # two lists received
    assert reverse("notifications:inbox") in home and reverse("notifications:list_index") in home
    inbox = client.get(reverse("notifications:inbox"))
    notices = list(inbox.context["notices"])
    assert [n.pk for n in notices] == sorted((n.pk for n in notices), reverse=True) and len(notices) == 2
    response = client.post(reverse("notifications:notification_open", args=[scene.notice.pk]))
    assert response.status_code == 302 and response["Location"] == scene.announced.get_absolute_url()
    assert Notification.objects.get(pk=scene.notice.pk).read_at is not None
    assert re.search(r'id="nav-unread">1<', client.get(reverse("home")).content.decode())
    # Unread first: the one left unread now heads the inbox, above the newer... or older, read one.
    notices = list(client.get(reverse("notifications:inbox")).context["notices"])
    assert notices[0].read_at is None and notices[1].pk == scene.notice.pk
    response = client.post(reverse("notifications:notification_read_all"), follow=True)
    assert "1 notice marked read." in _messages(response)
    assert 'id="nav-unread"' not in response.content.decode()
    assert Notification.objects.filter(recipient=world.unhcr_af_staff, read_at__isnull=True).count() == 0


def test_inbox_shows_only_ones_own_notices(scene):
    world = scene.world
    response = _client(world.unhcr_af_manager).get(reverse("notifications:inbox"))
    assert {n.recipient_id for n in response.context["notices"]} == {world.unhcr_af_manager.pk}
    assert 'id="nav-unread"' not in _client(world.iom_admin).get(reverse("notifications:inbox")).content.decode()


def test_open_does_not_follow_an_outside_address(scene):
    Notification.objects.filter(pk=scene.notice.pk).update(url="https://evil.example.org/")
    response = _client(scene.world.unhcr_af_staff).post(
        reverse("notifications:notification_open", args=[scene.notice.pk])
    )
    assert response["Location"] == reverse("notifications:inbox")


def test_anonymous_pages_make_no_inbox_query(world, client, django_assert_num_queries):
    response = client.get(reverse("login"))
    assert "nav_unread" not in response.context and 'id="nav-inbox"' not in response.content.decode()
    with django_assert_num_queries(0):
        client.get(reverse("login"))


def test_email_preference_saved_and_bad_choice_refused(world):
    client = _client(world.unhcr_af_staff)
    url = reverse("notifications:email_preference")
    response = client.post(url, {"email_preference": "pigeon"})
    assert response.status_code == 200 and "email_preference" in response.context["form"].errors
    assert 'id="id_email_preference_error"' in response.content.decode()
    assert not NotificationSettings.objects.exists()
    response = client.post(url, {"email_preference": EmailPreference.DIGEST}, follow=True)
    assert "Your e-mail preference is saved." in _messages(response)
    assert NotificationSettings.objects.get(user=world.unhcr_af_staff).email_preference == EmailPreference.DIGEST
    inbox = client.get(reverse("notifications:inbox")).content.decode()
    assert re.search(r'value="digest"[^>]*checked', inbox)


# --- Pre-departure lists: index and building on demand ------------------------------------------------------------


def test_build_button_iom_only_with_counts_then_nothing_new(world):
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    other = scheduled(world.iom_af, world.iom_af_staff, days=12)
    client = _client(world.iom_af_staff)
    index = client.get(reverse("notifications:list_index")).content.decode()
    assert "Build the list now" in index and "a list of names and dates of expected departure" in index
    assert "Build the pre-departure list now" in client.get(reverse("home")).content.decode()
    response = client.post(reverse("notifications:list_build"), follow=True)
    [pdl] = PreDepartureList.objects.all()
    assert (pdl.trigger, pdl.built_by, pdl.iom_office, pdl.unhcr_office) == (
        Trigger.BROWSER,
        world.iom_af_staff,
        world.iom_af,
        world.unhcr_af,
    )
    assert f"1 list built and sent to UNHCR: {pdl.reference} (2 entries)." in _messages(response)
    assert other.reference in {e.iom_case_reference for e in pdl.entries.all()}
    response = client.post(reverse("notifications:list_build"), follow=True)
    assert any(m.startswith("Nothing new to tell UNHCR") for m in _messages(response))
    assert PreDepartureList.objects.count() == 1
    # UNHCR is not offered the button, and is refused it.
    unhcr = _client(world.unhcr_af_staff)
    assert "Build the list now" not in unhcr.get(reverse("notifications:list_index")).content.decode()
    assert "Build the pre-departure list now" not in unhcr.get(reverse("home")).content.decode()
    assert unhcr.post(reverse("notifications:list_build")).status_code == 403
    assert PreDepartureList.objects.count() == 1


def test_build_for_an_office_the_user_may_not_build_for_is_refused_on_the_field(world):
    client = _client(world.iom_af_staff)
    response = client.post(reverse("notifications:list_build"), {"office": world.iom_de.pk}, follow=True)
    assert any(m.startswith("IOM office: Select a valid choice") for m in _messages(response))
    response = client.post(reverse("notifications:list_build"), {"office": "x\x00"}, follow=True)
    assert response.status_code == 200 and not PreDepartureList.objects.exists()


def test_build_without_counterpart_says_so(world):
    from jointops import services as office_services

    office_services.office_update(actor=None, office=world.iom_de, counterpart=None)
    scheduled(world.iom_de, world.iom_de_staff, days=10)
    response = _client(world.iom_de_staff).post(reverse("notifications:list_build"), follow=True)
    assert any("no UNHCR counterpart" in m for m in _messages(response))
    assert not PreDepartureList.objects.exists()


def test_index_filters_by_office_and_acknowledgement_and_bad_values_answer_a_message(scene):
    world = scene.world
    scheduled(world.iom_de, world.iom_de_staff, days=10)
    _build()
    services.pre_departure_list_acknowledge(actor=world.unhcr_af_staff, pdl=scene.announced)
    client = _client(world.iom_hq_focal)
    url = reverse("notifications:list_index")
    everything = list(client.get(url).context["object_list"])
    assert len(everything) == 3
    kabul = client.get(url, {"office": "UNHCR-AF-KBL"}).context["object_list"]
    assert {p.pk for p in kabul} == {scene.announced.pk, scene.embarked.pk}
    waiting = client.get(url, {"acknowledged": "false", "office": "IOM-AF-KBL"}).context["object_list"]
    assert [p.pk for p in waiting] == [scene.embarked.pk]
    row = client.get(url, {"acknowledged": "true"})
    assert [p.late_count for p in row.context["object_list"]] == [1]  # 3 days ahead, lead time 7
    for bad in ({"acknowledged": "maybe"}, {"office": "x" * 40}, {"built_since": "2026-02-30"}):
        response = client.get(url, bad)
        assert response.status_code == 200
        assert "Some filters are not valid" in response.content.decode()
        assert list(response.context["object_list"]) == []
    response = client.get(url, {"office": "IOM\x00"})  # refused before any view runs (never a 500)
    assert response.status_code == 400 and "null character" in response.content.decode()
    assert client.get(url, {"page": "9"}).status_code == 404  # Django's answer to a page past the end


def test_index_filters_lists_with_a_late_departure_and_hides_the_dates(scene):
    world = scene.world
    scheduled(world.iom_de, world.iom_de_staff, days=20)
    [on_time] = _build()
    client = _client(world.iom_hq_focal)
    url = reverse("notifications:list_index")
    response = client.get(url, {"late": "true"})
    assert [p.pk for p in response.context["object_list"]] == [scene.announced.pk]  # 3 days ahead, lead time 7
    assert {p.pk for p in client.get(url, {"late": "false"}).context["object_list"]} == {
        on_time.pk,
        scene.embarked.pk,
    }
    fields = set(response.context["filter_form"].fields)
    assert "late" in fields and not fields & {"built_since", "built_before", "office_country"}
    response = client.get(url, {"office_country": "DE", "built_before": timezone.now().isoformat()})
    assert [p.pk for p in response.context["object_list"]] == [on_time.pk]
    assert "office_country" in response.context["filter_form"].fields  # set by a dashboard's link: shown
    response = client.get(url, {"late": "sometimes"})
    assert list(response.context["object_list"]) == [] and response.context["filter_form"].errors["late"]


def test_index_shows_late_counts_and_no_names(scene):
    html = _client(scene.world.unhcr_af_staff).get(reverse("notifications:list_index")).content.decode()
    assert scene.announced.reference in html and scene.embarked.reference in html
    assert scene.new_entry.given_name not in html


# --- One list: the page, UNHCR's answers ------------------------------------------------------------------------


def test_detail_shows_header_entries_and_writes_the_access_log(scene):
    world = scene.world
    client = _client(world.unhcr_af_staff)
    response = client.get(scene.announced.get_absolute_url())
    html = response.content.decode()
    entry = scene.new_entry
    assert entry.given_name in html and entry.family_name in html and entry.iom_case_reference in html
    assert entry.expected_departure_date.strftime("%Y-%m-%d") in html
    for text in ("IOM-AF-KBL", "UNHCR-AF-KBL", "7 days", "Late", "Awaiting acknowledgement", "Acknowledge"):
        assert text in html, text
    assert "reassure itself of voluntariness and close its records" in html
    assert "fewer than 7 days before departure" in html
    log = AccessLog.objects.get(user=world.unhcr_af_staff)
    assert (log.action, log.resource, log.object_ids) == ("view", "beneficiary", [str(entry.beneficiary_id)])
    assert log.purpose == f"pre-departure list {scene.announced.reference}"
    assert entry.given_name not in str(log.__dict__)
    # IOM staff see the list they sent, without the answers offered to UNHCR; the reference leads to the case.
    html = _client(world.iom_af_staff).get(scene.announced.get_absolute_url()).content.decode()
    assert "Record a voluntariness concern" not in html and ">Acknowledge<" not in html
    assert f"{reverse('returns:case_list')}?q={entry.iom_case_reference}" in html


def test_downloads_are_logged_as_exports(scene):
    client = _client(scene.world.unhcr_af_manager)
    csv = client.get(reverse("notifications:list_csv", args=[scene.announced.pk]))
    assert csv["Content-Type"].startswith("text/csv") and scene.new_entry.family_name in csv.content.decode()
    assert f'filename="{scene.announced.reference}.csv"' in csv["Content-Disposition"]
    pdf = client.get(reverse("notifications:list_pdf", args=[scene.announced.pk]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert list(AccessLog.objects.values_list("action", flat=True)) == ["export", "export"]


def test_acknowledge_once_and_refusals(scene):
    world = scene.world
    url = reverse("notifications:list_acknowledge", args=[scene.announced.pk])
    assert _client(world.iom_af_manager).post(url).status_code == 403
    assert _client(world.unhcr_hq_focal).post(url).status_code == 403
    assert PreDepartureList.objects.get(pk=scene.announced.pk).acknowledged_at is None
    client = _client(world.unhcr_af_staff)
    response = client.post(url, follow=True)
    assert f"List {scene.announced.reference} acknowledged." in _messages(response)
    html = response.content.decode()
    assert 'id="list-acknowledged"' in html and str(world.unhcr_af_staff) in html
    assert f'action="{url}"' not in html  # not offered twice
    pdl = PreDepartureList.objects.get(pk=scene.announced.pk)
    assert pdl.acknowledged_by == world.unhcr_af_staff and pdl.acknowledged_at
    response = _client(world.unhcr_af_manager).post(url, follow=True)
    assert "This list was already acknowledged." in _messages(response)
    assert PreDepartureList.objects.get(pk=scene.announced.pk).acknowledged_by == world.unhcr_af_staff


def test_concern_reaches_the_iom_case_owner_and_bad_input_is_refused(scene):
    world = scene.world
    entry = scene.new_entry
    url = reverse("notifications:entry_concern", args=[scene.announced.pk, entry.pk])
    client = _client(world.unhcr_af_staff)
    page = client.get(url).content.decode()
    assert entry.given_name in page and "reassures itself of voluntariness" in page
    response = client.post(url, {"concern": "   "})
    assert response.status_code == 200 and "concern" in response.context["form"].errors
    assert 'id="id_concern_error"' in response.content.decode()
    response = client.post(url, {"concern": "x" * 4001})
    assert "concern" in response.context["form"].errors
    assert not Notification.objects.filter(kind=NoticeKind.VOLUNTARINESS_CONCERN).exists()
    response = client.post(url, {"concern": "Said he was told he must leave."})
    assert response.status_code == 302 and response["Location"].endswith(f"#entry-{entry.pk}")
    notice = Notification.objects.get(kind=NoticeKind.VOLUNTARINESS_CONCERN)
    assert notice.recipient == world.iom_af_staff and scene.case.reference in notice.title  # the case owner
    assert Delivery.objects.filter(notification=notice, channel=Channel.EMAIL).exists()  # e-mailed at once
    detail = client.get(scene.announced.get_absolute_url()).content.decode()
    assert "Said he was told he must leave." in detail
    # Once recorded, the page says so and offers no form; a second POST is refused with the reason.
    assert "A concern was already recorded on this entry" in client.get(url).content.decode()
    response = client.post(url, {"concern": "Another one"})
    assert "A concern was already recorded on this entry." in response.context["form"].non_field_errors()
    assert Notification.objects.filter(kind=NoticeKind.VOLUNTARINESS_CONCERN).count() == 1
    # IOM may not answer UNHCR's list.
    assert _client(world.iom_af_staff).post(url, {"concern": "x"}).status_code == 403


def test_entry_of_another_list_is_not_found(scene):
    url = reverse("notifications:entry_concern", args=[scene.announced.pk, scene.embarked_entry.pk])
    assert _client(scene.world.unhcr_af_staff).get(url).status_code == 404


def test_close_record_only_on_embarkation_entries(scene):
    world = scene.world
    client = _client(world.unhcr_af_staff)
    announced_page = client.get(scene.announced.get_absolute_url()).content.decode()
    assert "Close our record" not in announced_page
    embarked_page = client.get(scene.embarked.get_absolute_url()).content.decode()
    assert "Close our record" in embarked_page and str(ChangeKind.EMBARKED.label) in embarked_page
    response = client.post(
        reverse("notifications:entry_close_record", args=[scene.announced.pk, scene.new_entry.pk]), follow=True
    )
    assert "Close the record once the list confirms the embarkation (Letter)." in _messages(response)
    scene.new_entry.refresh_from_db()
    assert scene.new_entry.record_closed_at is None
    url = reverse("notifications:entry_close_record", args=[scene.embarked.pk, scene.embarked_entry.pk])
    response = client.post(url, follow=True)
    assert f"UNHCR's record closed for {scene.case.reference}." in _messages(response)
    scene.embarked_entry.refresh_from_db()
    assert scene.embarked_entry.record_closed_by == world.unhcr_af_staff
    assert "Close our record" not in response.content.decode()
    assert "The record was already closed." in _messages(client.post(url, follow=True))


# --- Data minimisation: the entries table shows ENTRY_FIELDS only -----------------------------------------------

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


def test_entries_table_shows_no_field_outside_the_allow_list(world):
    concerned = person(
        world.iom_af,
        actor=world.iom_af_staff,
        given_name="Amina",
        family_name="Noori",
        unhcr_registration_number="KBL-77",
        **CANARIES,
    )
    scheduled(world.iom_af, world.iom_af_staff, principal=concerned, days=10, place_of_return="CANARY-PLACE")
    [pdl] = _build()
    entry = pdl.entries.get()
    pages = {
        "detail": reverse("notifications:list_detail", args=[pdl.pk]),
        "concern": reverse("notifications:entry_concern", args=[pdl.pk, entry.pk]),
        "index": reverse("notifications:list_index"),
        "inbox": reverse("notifications:inbox"),
    }
    client = _client(world.unhcr_af_staff)
    for name, url in pages.items():
        html = client.get(url).content.decode()
        for canary in ("CANARY", "canary-email", "1971-03-14", "14/03/1971", "March 14, 1971", "Zimbabwe"):
            assert canary not in html, (name, canary)
    html = client.get(pages["detail"]).content.decode()
    assert "Amina" in html and "Noori" in html and "KBL-77" in html
    table = html[html.index('id="entries"') : html.index("</table>", html.index('id="entries"'))]
    assert set(re.findall(r'data-field="([a-z_]+)"', table)) == set(ENTRY_FIELDS)
    assert len(re.findall(r"<td", table)) == len(ENTRY_FIELDS) + 4  # + late, concern, record, actions


# --- Administrators: deliveries -----------------------------------------------------------------------------------


def test_deliveries_page_and_retry_for_administrators(scene):
    world = scene.world
    client = _client(world.unhcr_admin)
    response = client.get(reverse("notifications:delivery_list"))
    html = response.content.decode()
    assert scene.announced.reference in html and "550 mailbox" in html and "8 / 8" in html
    retry = reverse("notifications:delivery_retry", args=[scene.delivery.pk])
    assert f'action="{retry}"' in html
    assert scene.announced.get_absolute_url() not in html  # administrators do not read the names on lists
    failed = client.get(reverse("notifications:delivery_list"), {"status": "failed"}).context["deliveries"]
    assert [d.pk for d in failed] == [scene.delivery.pk]
    response = client.post(retry, follow=True)
    assert "The delivery is queued again with a fresh set of attempts." in _messages(response)
    delivery = Delivery.objects.get(pk=scene.delivery.pk)
    assert delivery.status == DeliveryStatus.PENDING and delivery.max_attempts == 16
    response = client.post(retry, follow=True)  # no longer failed
    assert "Only a failed delivery is retried by hand" in " ".join(_messages(response))
    assert Delivery.objects.get(pk=scene.delivery.pk).max_attempts == 16
    # Field staff neither see nor retry.
    assert _client(world.unhcr_af_staff).get(reverse("notifications:delivery_list")).status_code == 403
    Delivery.objects.filter(pk=scene.delivery.pk).update(status=DeliveryStatus.FAILED)
    assert _client(world.unhcr_af_manager).post(retry).status_code == 403
    assert Delivery.objects.get(pk=scene.delivery.pk).status == DeliveryStatus.FAILED


def test_deliveries_of_another_organisations_staff_are_hidden(scene):
    world = scene.world
    notice = Notification.objects.create(recipient=world.unhcr_af_staff, kind=NoticeKind.LOU_REMINDER, title="T")
    delivery = Delivery.objects.create(
        channel=Channel.EMAIL,
        notification=notice,
        recipients=world.unhcr_af_staff.email,
        status=DeliveryStatus.FAILED,
        max_attempts=8,
        next_attempt_at=timezone.now(),
    )
    iom = _client(world.iom_admin)
    assert delivery.pk not in {d.pk for d in iom.get(reverse("notifications:delivery_list")).context["deliveries"]}
    assert iom.post(reverse("notifications:delivery_retry", args=[delivery.pk])).status_code == 404
    assert (
        _client(world.unhcr_admin).post(reverse("notifications:delivery_retry", args=[delivery.pk])).status_code == 302
    )


def test_deliveries_bad_filter_answers_a_message(scene):
    response = _client(scene.world.iom_admin).get(reverse("notifications:delivery_list"), {"status": "lost"})
    assert response.status_code == 200 and "Some filters are not valid" in response.content.decode()


# --- Administrators: configuration ------------------------------------------------------------------------------


def test_config_notification_address_added_removed_and_bad_email_refused(world):
    client = _client(world.unhcr_admin)
    url = reverse("notifications:contact_add")
    response = client.post(url, {"office": world.unhcr_af.pk, "email": "not an address"})
    assert response.status_code == 200 and "email" in response.context["contact_form"].errors
    assert 'id="id_email_error"' in response.content.decode()
    assert not OfficeContact.objects.exists()
    response = client.post(url, {"office": world.iom_af.pk, "email": "a@example.org"})  # another organisation's
    assert "office" in response.context["contact_form"].errors and not OfficeContact.objects.exists()
    response = client.post(url, {"office": world.unhcr_af.pk, "email": "Lists@UNHCR.example.org"}, follow=True)
    assert "UNHCR-AF-KBL now receives its notices at lists@unhcr.example.org." in _messages(response)
    contact = OfficeContact.objects.get()
    response = client.post(url, {"office": world.unhcr_af.pk, "email": "lists@unhcr.example.org"})
    assert response.context["contact_form"].non_field_errors() and OfficeContact.objects.count() == 1
    assert _client(world.iom_admin).post(reverse("notifications:contact_remove", args=[contact.pk])).status_code == 404
    response = client.post(reverse("notifications:contact_remove", args=[contact.pk]), follow=True)
    assert "lists@unhcr.example.org no longer receives the notices of UNHCR-AF-KBL." in _messages(response)
    assert not OfficeContact.objects.exists()


def test_config_lead_time_bounds_and_iom_only(world):
    client = _client(world.iom_admin)
    page = client.get(reverse("notifications:config")).content.decode()
    assert "IOM-AF-KBL" in page and 'id="lead-times"' in page
    url = reverse("notifications:lead_time_set")
    for bad in ("365", "-1", "seven"):
        response = client.post(url, {"iom_office": world.iom_af.pk, "lead_time_days": bad})
        assert response.status_code == 200 and "lead_time_days" in response.context["lead_time_form"].errors, bad
        assert 'id="id_lead_time_days_error"' in response.content.decode()
    assert not OfficePair.objects.exists()
    response = client.post(url, {"iom_office": world.iom_hq.pk, "lead_time_days": "5"})  # no counterpart
    assert "iom_office" in response.context["lead_time_form"].errors and not OfficePair.objects.exists()
    response = client.post(url, {"iom_office": world.iom_af.pk, "lead_time_days": "10"}, follow=True)
    assert "Lead time of IOM-AF-KBL → UNHCR-AF-KBL set to 10 days." in _messages(response)
    assert OfficePair.objects.get().lead_time_days == 10
    # UNHCR's administrators are not offered lead times, and are refused them.
    unhcr = _client(world.unhcr_admin)
    assert 'id="lead-times"' not in unhcr.get(reverse("notifications:config")).content.decode()
    assert unhcr.post(url, {"iom_office": world.iom_af.pk, "lead_time_days": "3"}).status_code == 403
    assert OfficePair.objects.get().lead_time_days == 10


def test_config_webhook_https_only_secret_shown_once_and_switching(world):
    client_record, _token = jointops_services.api_client_create(
        actor=world.unhcr_admin, name="proGres", office=world.unhcr_af, scopes=["pre-departure-lists:read"]
    )
    client = _client(world.unhcr_admin)
    url = reverse("notifications:webhook_create")
    response = client.post(url, {"api_client": client_record.pk, "url": "http://progres.example.org/hooks"})
    assert response.status_code == 200
    assert "https://" in " ".join(response.context["webhook_form"].errors["url"])
    assert 'id="id_url_error"' in response.content.decode()
    response = client.post(url, {"api_client": client_record.pk, "url": "not a url at all"})
    assert "url" in response.context["webhook_form"].errors
    assert not WebhookSubscription.objects.exists()
    response = client.post(url, {"api_client": client_record.pk, "url": "https://progres.example.org/hooks"})
    subscription = WebhookSubscription.objects.get()
    html = response.content.decode()
    assert subscription.secret in html and "&lt;timestamp&gt;.&lt;body&gt;" in html and "HMAC-SHA256" in html
    assert subscription.secret not in client.get(reverse("notifications:config")).content.decode()  # once only
    iom = _client(world.iom_admin)
    assert (
        iom.post(url, {"api_client": client_record.pk, "url": "https://x.example.org"})
        .context["webhook_form"]
        .errors["api_client"]
    )  # not one of IOM's partner systems
    assert WebhookSubscription.objects.count() == 1
    response = client.post(reverse("notifications:webhook_deactivate", args=[subscription.pk]), follow=True)
    assert "https://progres.example.org/hooks no longer receives the lists." in _messages(response)
    assert not WebhookSubscription.objects.get().is_active
    client.post(reverse("notifications:webhook_activate", args=[subscription.pk]))
    assert WebhookSubscription.objects.get().is_active


# --- Home and navigation ----------------------------------------------------------------------------------------


def test_home_card_lists_awaiting_acknowledgement_for_unhcr(scene):
    world = scene.world
    html = _client(world.unhcr_af_staff).get(reverse("home")).content.decode()
    assert "2 pre-departure lists awaiting acknowledgement" in html
    services.pre_departure_list_acknowledge(actor=world.unhcr_af_staff, pdl=scene.announced)
    html = _client(world.unhcr_af_manager).get(reverse("home")).content.decode()
    assert "1 pre-departure list awaiting acknowledgement" in html
    assert "awaiting acknowledgement" not in _client(world.iom_af_staff).get(reverse("home")).content.decode()


def test_nav_offers_lists_to_staff_and_deliveries_to_administrators(world):
    staff = _client(world.unhcr_af_staff).get(reverse("notifications:list_index")).content.decode()
    assert reverse("notifications:list_index") in staff and reverse("notifications:delivery_list") not in staff
    assert 'aria-current="page" href="/notifications/lists/"' in staff
    admin = _client(world.iom_admin).get(reverse("notifications:delivery_list")).content.decode()
    assert reverse("notifications:delivery_list") in admin and 'href="/notifications/lists/"' not in admin


# --- Query counts ------------------------------------------------------------------------------------------------


def _notices(user, n: int) -> None:
    Notification.objects.bulk_create(
        Notification(recipient=user, kind=NoticeKind.LOU_REMINDER, title=f"Reminder {i}", url="/") for i in range(n)
    )


# Session and user, the second factor's device (issue 8); the page's COUNT, the e-mail preference; the navigation
# (memberships, office tree, the bell's COUNT, the organisation); the rows; the session's save (savepoint, update,
# release).
INBOX_QUERIES = 13


def test_inbox_query_count_is_fixed(world, django_assert_num_queries):
    client = _client(world.unhcr_af_staff)
    _notices(world.unhcr_af_staff, 3)
    client.get(reverse("notifications:inbox"))  # the session and language settle on the first request
    with django_assert_num_queries(INBOX_QUERIES):
        assert client.get(reverse("notifications:inbox")).status_code == 200
    _notices(world.unhcr_af_staff, 30)
    with django_assert_num_queries(INBOX_QUERIES):
        assert client.get(reverse("notifications:inbox")).status_code == 200


# Session and user, the second factor's device (issue 8); memberships and office tree (access); the COUNT; the offices
# of the filter and of the build button, the user's own office; the bell's COUNT, the organisation; the rows; the
# session's save (3).
LIST_INDEX_QUERIES = 15


def test_list_index_query_count_is_fixed(world, django_assert_num_queries):
    client = _client(world.iom_af_staff)
    scheduled(world.iom_af, world.iom_af_staff, days=10)
    _build()
    client.get(reverse("notifications:list_index"))
    with django_assert_num_queries(LIST_INDEX_QUERIES):
        assert client.get(reverse("notifications:list_index")).status_code == 200
    for days in (11, 12, 13, 14):
        scheduled(world.iom_af, world.iom_af_staff, days=days)
        _build()
    with django_assert_num_queries(LIST_INDEX_QUERIES):
        response = client.get(reverse("notifications:list_index"))
    assert len(response.context["object_list"]) == 5


# --- Bad input never answers 500 ---------------------------------------------------------------------------------

ODD_VALUES = ("\x00", "x" * 5000, "٣٦٥", "<script>alert(1)</script>", "1e3", "https://ex\x00ample.org")


@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_values_in_every_form_are_refused_with_a_form_error(scene, value):
    world = scene.world
    posts = [
        (world.unhcr_admin, "contact_add", {"office": value, "email": value}, OfficeContact, "contact_form"),
        (
            world.iom_admin,
            "lead_time_set",
            {"iom_office": value, "lead_time_days": value},
            OfficePair,
            "lead_time_form",
        ),
        (world.unhcr_admin, "webhook_create", {"api_client": value, "url": value}, WebhookSubscription, "webhook_form"),
    ]
    for user, name, data, model, form_name in posts:
        before = model.objects.count()
        response = _client(user).post(reverse(f"notifications:{name}"), data)
        assert response.status_code == 200 and response.context[form_name].errors, name
        assert model.objects.count() == before, name
        assert "<script>alert(1)</script>" not in response.content.decode()
    concern = reverse("notifications:entry_concern", args=[scene.announced.pk, scene.new_entry.pk])
    response = _client(world.unhcr_af_staff).post(concern, {"concern": value})
    if value.strip() and "\x00" not in value and len(value) <= 4000:
        assert response.status_code == 302  # a text, however odd, is a concern; it is shown escaped
        html = _client(world.unhcr_af_staff).get(scene.announced.get_absolute_url()).content.decode()
        assert "<script>alert(1)</script>" not in html
    else:
        assert response.status_code == 200 and response.context["form"].errors
    email = _client(world.unhcr_af_staff).post(reverse("notifications:email_preference"), {"email_preference": value})
    assert email.status_code == 200 and email.context["form"].errors
    build = _client(world.iom_af_staff).post(reverse("notifications:list_build"), {"office": value})
    assert build.status_code == 302
