"""Issue 8, need to know: what one agency sees of the other's records is jointops.access.RELATIONSHIP_FIELDS, on
every channel.

For each relationship a person carries a canary in every field outside the relationship's allow-list (the list of
fields is read from the model, so a new field must be classified here before it can be shown); the canaries must
not appear in any page, API body, export (CSV, XLSX, PDF text), e-mail (the real outbox delivery, locmem backend) or
webhook body (the real delivery to a local HTTP receiver) of that relationship — and every allowed field must appear
there (the test is not vacuous). Also: the search of a shared record matches only its allow-listed references, and a
record reaches the other agency only on a complete, recorded basis (consent with date and scope; the Letter's
arrangement only through a pre-departure list, which says so).
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from beneficiaries import services as beneficiary_services
from beneficiaries.models import Beneficiary, BeneficiaryCategory
from jointops import access
from jointops import services as jointops_services
from jointops.exceptions import ValidationFailed
from notifications import delivery
from notifications import services as notification_services
from notifications.choices import Channel
from notifications.models import ENTRY_FIELDS, Delivery
from tests.factories.beneficiaries import person
from tests.factories.returns import case, scheduled
from tests.notifications.webhook_receiver import WebhookReceiver

# --- Canaries ----------------------------------------------------------------------------------------------------

# A value for every field of a person that a relationship may leave out: strings and dates no page prints by itself.
CANARY_VALUES = {
    "other_names": "CNRY-OTHERNAMES",
    "sex": "female",
    "date_of_birth": dt.date(1933, 3, 3),
    "nationality": "ZW",
    "country_of_residence": "TV",
    "unhcr_registration_number": "CNRYUNHCRNO",
    "iom_case_number": "CNRYIOMNO",
    "government_id": "CNRYGOVID",
    "phone": "CNRY-PHONE",
    "email": "cnry-email@example.org",
    "address": "CNRY-ADDRESS",
    "preferred_language": "CNRY-LANG",
    "specific_needs": ["woman_at_risk"],
    "sharing_basis": "consent",
    "consent_date": dt.date(1999, 9, 19),
    "consent_scope": "CNRY-CONSENTSCOPE",
    "sharing_basis_note": "CNRY-BASISNOTE",
}
# How each canary shows when it leaks: in a JSON body, and on a page or in a file.
CANARY_MARKS = {
    "other_names": ["CNRY-OTHERNAMES"],
    "date_of_birth": ["1933-03-03", "03/03/1933", "3 March 1933", "March 3, 1933", "Mar. 3, 1933"],
    "nationality": ['"ZW"', "Zimbabwe"],
    "country_of_residence": ['"TV"', "Tuvalu"],
    "unhcr_registration_number": ["CNRYUNHCRNO"],
    "iom_case_number": ["CNRYIOMNO"],
    "government_id": ["CNRYGOVID"],
    "phone": ["CNRY-PHONE"],
    "email": ["cnry-email"],
    "address": ["CNRY-ADDRESS"],
    "preferred_language": ["CNRY-LANG"],
    "specific_needs": ["woman_at_risk", "Woman at risk"],
    "consent_date": ["1999-09-19", "19/09/1999", "Sept. 19, 1999", "September 19, 1999"],
    "consent_scope": ["CNRY-CONSENTSCOPE"],
    "sharing_basis_note": ["CNRY-BASISNOTE"],
}
# Related records of a person: the document number, the reason of a category change, the household's notes.
RELATED_MARKS = {"documents": "CNRY-DOCUMENT", "category_history": "CNRY-REASON", "household": "CNRY-HOUSEHOLD"}
# Fields of Beneficiary that are not personal data shown to anyone (keys, bookkeeping, derived search columns).
SYSTEM_FIELDS = {
    "created_at",
    "updated_at",
    "organisation",
    "relationship_to_head",
    "merged_into",
    "name_key",
    "family_key",
    "search_text",
    "version",
    "created_by",
    "anonymised_at",
}
NAMES = {"given_name": "Zarghuna", "family_name": "Wardak"}


def test_every_field_of_a_person_is_classified():
    """A new field of Beneficiary fails here until it is given a canary (or named a system field)."""
    fields = {f.name for f in Beneficiary._meta.concrete_fields}
    classified = set(CANARY_VALUES) | SYSTEM_FIELDS | set(NAMES) | access.PERSON_SHARED_FIELDS | {"household"}
    assert fields - classified == set()


def test_relationship_table_is_the_one_the_code_uses():
    assert set(ENTRY_FIELDS) == access.RELATIONSHIP_FIELDS["pre_departure_entry"]
    assert access.RELATIONSHIP_FIELDS["shared_person"] == access.PERSON_SHARED_FIELDS
    assert access.RELATIONSHIP_FIELDS["shared_person"] < access.RELATIONSHIP_FIELDS["hq_person"]
    assert not access.PERSON_CONTACT_FIELDS & access.RELATIONSHIP_FIELDS["hq_person"]
    assert access.RELATIONSHIP_FIELDS["pre_departure_email_body"] == frozenset()
    assert access.hidden_search_references("shared_person") == ("government_id",)


def _person_with_canaries(office, actor, **overrides) -> Beneficiary:
    fields = {**CANARY_VALUES, **NAMES, **overrides}
    p = person(office, actor=actor, **fields)
    beneficiary_services.document_add(actor=actor, beneficiary=p, document_type="passport", number="CNRY-DOCUMENT")
    beneficiary_services.beneficiary_change_category(
        actor=actor,
        beneficiary=p,
        category=BeneficiaryCategory.objects.get(code="returnee"),
        effective_date=dt.date(2024, 8, 1),
        reason="CNRY-REASON",
    )
    beneficiary_services.household_create(actor=actor, head=p, notes="CNRY-HOUSEHOLD")
    return Beneficiary.objects.get(pk=p.pk)


# Every page offers every country in its filters' select boxes: on pages, countries are looked for in the API only.
COUNTRY_FIELDS = {"nationality", "country_of_residence"}


def _leaks(text: str, allowed: frozenset[str], *, page: bool = False) -> list[str]:
    skip = COUNTRY_FIELDS if page else set()
    found = [
        f"{name}: {mark}"
        for name, marks in CANARY_MARKS.items()
        if name not in allowed and name not in skip
        for mark in marks
    ]
    found = [entry for entry in found if entry.split(": ", 1)[1] in text]
    found += [f"{name}: {mark}" for name, mark in RELATED_MARKS.items() if name not in allowed and mark in text]
    return found


def _xlsx_text(content: bytes) -> str:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        "\t".join("" if v is None else str(v) for v in row)
        for sheet in book
        for row in sheet.iter_rows(values_only=True)
    )


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- A record the other agency shared; the same record for HQ focal points ---------------------------------------


PAGES = {"person page", "people list", "case page", "list page"}


def _channels_of_a_person(user, p: Beneficiary) -> dict[str, str]:
    """Every channel on which `user` reads person `p`: pages, API bodies, the exports."""
    web, api = _web(user), _api(user)
    pages = {
        "person page": web.get(p.get_absolute_url()),
        "people list": web.get(reverse("beneficiaries:beneficiary_list"), {"q": NAMES["family_name"]}),
        "export CSV": web.get(reverse("beneficiaries:beneficiary_export"), {"format": "csv"}),
        "export XLSX": web.get(reverse("beneficiaries:beneficiary_export"), {"format": "xlsx"}),
        "API detail": api.get(f"/api/v1/beneficiaries/{p.pk}/"),
        "API list": api.get("/api/v1/beneficiaries/", {"q": NAMES["family_name"]}),
        "API duplicates": api.post(
            "/api/v1/beneficiaries/check-duplicates/",
            {**NAMES, "nationality": "ZW", "date_of_birth": "1933-03-03"},
            format="json",
        ),
        "API export CSV": api.get("/api/v1/beneficiaries/export/", {"format": "csv"}),
        "API export XLSX": api.get("/api/v1/beneficiaries/export/", {"format": "xlsx"}),
    }
    texts = {}
    for name, response in pages.items():
        assert response.status_code == 200, (user.username, name, response.status_code)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        texts[name] = _xlsx_text(content) if "XLSX" in name else content.decode("utf-8-sig")
    return texts


@pytest.mark.parametrize("relationship", ["shared_person", "hq_person"])
def test_a_person_shows_only_the_relationships_fields_on_every_channel(world, relationship):
    allowed = access.RELATIONSHIP_FIELDS[relationship]
    p = _person_with_canaries(world.iom_af, world.iom_af_staff)
    beneficiary_services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)
    reader = world.unhcr_af_staff if relationship == "shared_person" else world.iom_hq_focal
    assert access.person_field_filter(reader, office_id=p.office_id) == allowed
    texts = _channels_of_a_person(reader, p)
    leaks = {name: _leaks(text, allowed, page=name in PAGES) for name, text in texts.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
    # Not vacuous: the names are on every channel, and the API detail holds exactly the allowed fields, filled.
    for name, text in texts.items():
        assert NAMES["family_name"] in text, name
    detail = _api(reader).get(f"/api/v1/beneficiaries/{p.pk}/").json()
    governed = {"household_summary": "household"}  # the API's summary of the household is governed by "household"
    assert {governed.get(key, key) for key in detail} == set(allowed)
    for field in allowed & set(CANARY_VALUES):
        shown = detail[field]
        assert shown not in (None, "", []), field
    # The record's own office reads every canary on the same channels (they are planted where they would show).
    own = _channels_of_a_person(world.iom_af_staff, p)
    assert len(_leaks(own["API detail"], frozenset())) >= len(CANARY_MARKS) - 2
    assert "CNRYGOVID" in own["export CSV"] and "CNRY-PHONE" in own["person page"]


def test_the_members_of_a_return_case_show_only_the_readers_fields(world):
    """A case's members are cut by person_field_filter: HQ focal points (MOU §35) read the HQ list of fields; the other
    agency does not reach the case at all (404), whatever it was shared of its members."""
    p = _person_with_canaries(world.iom_af, world.iom_af_staff)
    beneficiary_services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)
    c = case(world.iom_af, world.iom_af_staff, principal=p)
    allowed = access.RELATIONSHIP_FIELDS["hq_person"]
    api = _api(world.iom_hq_focal)
    channels = {
        "API detail": api.get(f"/api/v1/return-cases/{c.pk}/").content.decode(),
        "API list": api.get("/api/v1/return-cases/").content.decode(),
        "case page": _web(world.iom_hq_focal).get(reverse("returns:case_detail", args=[c.pk])).content.decode(),
    }
    for name, text in channels.items():
        assert _leaks(text, allowed, page=name in PAGES) == [], name
        assert NAMES["family_name"] in text, name
    assert _api(world.unhcr_af_staff).get(f"/api/v1/return-cases/{c.pk}/").status_code == 404
    own = _api(world.iom_af_staff).get(f"/api/v1/return-cases/{c.pk}/").content.decode()
    assert "CNRY-PHONE" in own  # the case's own office reads the member's phone


# --- Pre-departure lists (the Letter): page, API, CSV, PDF, e-mail, webhook --------------------------------------


@pytest.fixture
def eager():
    from jointops.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_a_pre_departure_entry_carries_only_its_fields_on_every_channel(world, eager):
    allowed = access.RELATIONSHIP_FIELDS["pre_departure_entry"]
    p = _person_with_canaries(world.iom_af, world.iom_af_staff, unhcr_registration_number="KBL-4711")
    notification_services.office_contact_add(
        actor=world.unhcr_admin, office=world.unhcr_af, email="kbl-lists@unhcr.example.org"
    )
    with WebhookReceiver() as receiver:
        partner, _token = jointops_services.api_client_create(
            actor=world.unhcr_admin, name="proGres", office=world.unhcr_af, scopes=["pre-departure-lists:read"]
        )
        notification_services.webhook_subscription_create(actor=world.unhcr_admin, api_client=partner, url=receiver.url)
        scheduled(world.iom_af, world.iom_af_staff, principal=p, days=10)
        [pdl] = notification_services.pre_departure_lists_build(actor=None)
        mail.outbox.clear()
        for d in Delivery.objects.filter(pre_departure_list=pdl, channel__in=[Channel.EMAIL, Channel.WEBHOOK]):
            assert delivery.deliver(d.pk) == "done"
        [request] = receiver.received
    [message] = [m for m in mail.outbox if "kbl-lists@unhcr.example.org" in m.to]
    attachments = {name: content for name, content, _type in message.attachments}
    csv_attachment = next(c for n, c in attachments.items() if n.endswith(".csv"))
    pdf_attachment = next(c for n, c in attachments.items() if n.endswith(".pdf"))
    web, api = _web(world.unhcr_af_staff), _api(world.unhcr_af_staff)
    channels = {
        "list page": web.get(pdl.get_absolute_url()).content.decode(),
        "list CSV": web.get(reverse("notifications:list_csv", args=[pdl.pk])).content.decode("utf-8-sig"),
        "list PDF": _pdf_text(web.get(reverse("notifications:list_pdf", args=[pdl.pk])).content),
        "API detail": api.get(f"/api/v1/pre-departure-lists/{pdl.pk}/").content.decode(),
        "API list": api.get("/api/v1/pre-departure-lists/").content.decode(),
        "API CSV": api.get(f"/api/v1/pre-departure-lists/{pdl.pk}/csv/").content.decode("utf-8-sig"),
        "API PDF": _pdf_text(api.get(f"/api/v1/pre-departure-lists/{pdl.pk}/pdf/").content),
        "e-mail CSV": csv_attachment.decode("utf-8-sig") if isinstance(csv_attachment, bytes) else csv_attachment,
        "e-mail PDF": _pdf_text(pdf_attachment),
        "webhook body": request.body.decode(),
    }
    # The person's fields outside the entry (every one of them: the person's own unhcr_registration_number is in it).
    person_allowed = frozenset(allowed | {"unhcr_registration_number"})
    leaks = {name: _leaks(text, person_allowed, page=name in PAGES) for name, text in channels.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
    for name, text in channels.items():
        if name != "API list":  # the index of lists: counts, no entries
            assert NAMES["family_name"] in text and NAMES["given_name"] in text, name
            assert "KBL-4711" in text, name
    # The e-mail body carries no field of a person at all (names travel in the attachments), and states the basis.
    body = message.subject + message.body
    assert NAMES["family_name"] not in body and NAMES["given_name"] not in body and "KBL-4711" not in body
    assert _leaks(body, access.RELATIONSHIP_FIELDS["pre_departure_email_body"]) == []


# --- Search: a shared record is found only by what its reader may see --------------------------------------------


def test_search_of_a_shared_record_does_not_match_its_government_id(world):
    p = _person_with_canaries(world.iom_af, world.iom_af_staff)
    beneficiary_services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)

    def found(user, q) -> list[int]:
        api = [r["id"] for r in _api(user).get("/api/v1/beneficiaries/", {"q": q}).json()["results"]]
        page = _web(user).get(reverse("beneficiaries:beneficiary_list"), {"q": q}).context["object_list"]
        assert sorted(api) == sorted(x.pk for x in page)
        return api

    assert found(world.unhcr_af_staff, "CNRYGOVID") == []  # not theirs to see: not theirs to search
    assert found(world.unhcr_af_staff, NAMES["family_name"]) == [p.pk]  # the names are
    assert found(world.unhcr_af_staff, "CNRYUNHCRNO") == [p.pk]  # and the shared references
    assert found(world.iom_af_staff, "CNRYGOVID") == [p.pk]  # the record's own office searches everything
    assert found(world.iom_hq_focal, "CNRYGOVID") == [p.pk]  # HQ focal points read the government id


# --- Legitimate basis before sharing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sharing_basis": "none"}, "sharing_basis"),
        ({"sharing_basis": "consent", "consent_date": dt.date(2025, 1, 2), "consent_scope": ""}, "consent_scope"),
        ({"sharing_basis": "consent", "consent_date": None, "consent_scope": "Returns"}, "consent_date"),
        ({"sharing_basis": "inter_agency_arrangement"}, "sharing_basis"),
        ({"sharing_basis": "consent", "consent_date": dt.date(2025, 1, 2), "consent_scope": "  "}, "consent_scope"),
        # Not consent: the Letter's arrangement covers the lists only; no other basis shares a whole record.
        ({"sharing_basis": "vital_interest", "sharing_basis_note": "Medical evacuation"}, "sharing_basis"),
        ({"sharing_basis": "other", "sharing_basis_note": "Court order"}, "sharing_basis"),
    ],
)
def test_sharing_without_a_complete_recorded_basis_is_refused_naming_the_field(world, fields, field):
    p = person(world.iom_af, actor=world.iom_af_staff)
    Beneficiary.objects.filter(pk=p.pk).update(**fields)  # as an older record may hold it
    p.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        beneficiary_services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)
    assert refused.value.field == field
    assert not p.shares.exists()
    response = _api(world.iom_af_staff).post(f"/api/v1/beneficiaries/{p.pk}/share/", {"office": "UNHCR-AF-KBL"})
    assert response.status_code == 400 and field in response.content.decode()


def test_sharing_with_consent_dated_and_scoped_records_the_basis_on_the_share(world):
    fields = {"sharing_basis": "consent", "consent_date": dt.date(2025, 1, 2), "consent_scope": "Return counselling"}
    p = person(world.iom_af, actor=world.iom_af_staff, **fields)
    share = beneficiary_services.beneficiary_share(actor=world.iom_af_staff, beneficiary=p, office=world.unhcr_af)
    assert share.basis == "consent"


def test_a_pre_departure_list_states_its_basis_the_letters_arrangement(world, eager):
    from notifications import documents

    notification_services.office_contact_add(
        actor=world.unhcr_admin, office=world.unhcr_af, email="kbl-lists@unhcr.example.org"
    )
    scheduled(world.iom_af, world.iom_af_staff, days=10)  # a person with no consent recorded at all
    [pdl] = notification_services.pre_departure_lists_build(actor=None)
    payload = documents.list_payload(pdl)
    assert payload["basis"]["code"] == "inter_agency_arrangement"
    assert "Letter" in payload["basis"]["label"]
    page = _web(world.unhcr_af_staff).get(pdl.get_absolute_url()).content.decode()
    assert 'data-basis="inter_agency_arrangement"' in page and "Letter of 16 January 2003" in page
    _subject, body = documents.list_email_text(pdl)
    assert "Basis for sharing" in body and "Letter of 16 January 2003" in body
    assert "Letter of 16 January 2003: pre-departure lists" in _pdf_text(documents.list_pdf(pdl))
