"""Browser pages of consultations between the agencies (MOU §22, §25, §28, §29): every URL as every role, the
link to a case or operation, bad input, CSRF and query counts."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone

from jointops import access, consultation_urls, services
from jointops.choices import Role
from jointops.models import Consultation
from returns import services as returns_services
from returns.choices import ReturnKind
from tests.factories.jointops import UserFactory
from tests.factories.returns import case

TODAY = timezone.localdate()

ACTORS = {
    "iom_field_staff": ("iom_af_staff", "F"),
    "iom_manager": ("iom_af_manager", "M"),
    "iom_hq_focal_point": ("iom_hq_focal", "H"),
    "iom_administrator": ("iom_admin", "A"),
    "unhcr_field_staff": ("unhcr_af_staff", "F"),
    "unhcr_manager": ("unhcr_af_manager", "M"),
    "unhcr_hq_focal_point": ("unhcr_hq_focal", "H"),
    "unhcr_administrator": ("unhcr_admin", "A"),
    "iom_no_role": ("iom_no_role", "N"),
}


def _record(actor, office, counterpart, **fields):
    values = {
        "held_on": TODAY,
        "participants": "A. Officer (IOM)\nB. Officer (UNHCR)",
        "subject_kind": "rejected_asylum_seekers",
        "subject": f"Returns from {office.code}",
    }
    values.update(fields)
    return services.consultation_record(actor=actor, recorded_by_office=office, offices=[counterpart], **values)


@pytest.fixture
def cw(world):
    """A consultation of the AF offices of both agencies ("own" for AF staff) and one of the DE offices."""
    w = world
    w.iom_no_role = UserFactory(username="iom_no_role", organisation=w.iom)
    w.iom_case = case(w.iom_af, w.iom_af_staff, kind=ReturnKind.AVR_REJECTED_ASYLUM_SEEKER)
    w.own = _record(w.iom_af_staff, w.iom_af, w.unhcr_af, linked=w.iom_case)
    w.other = _record(w.iom_de_staff, w.iom_de, w.unhcr_de)
    return w


# Codes: 2 = 200, 4 = 403, N = 404; per place (own, other) for the detail. F field staff, M office manager,
# H HQ focal point (every consultation involves an office of their organisation), A administrator, N no role.
TABLE = {
    "consultations:consultation_list": (None, {"F": "2", "M": "2", "H": "2", "A": "4", "N": "4"}),
    "consultations:consultation_create": (None, {"F": "2", "M": "2", "H": "2", "A": "4", "N": "4"}),
    "consultations:consultation_detail": ("detail", {"F": "2N", "M": "2N", "H": "22", "A": "NN", "N": "NN"}),
}
CODES = {"2": 200, "4": 403, "N": 404}


def test_table_covers_every_url_and_agrees_with_access_matrix():
    names = {f"consultations:{p.name}" for p in consultation_urls.urlpatterns if isinstance(p, URLPattern)}
    assert names == set(TABLE)
    letters = {"F": Role.FIELD_STAFF, "M": Role.OFFICE_MANAGER, "H": Role.HQ_FOCAL_POINT, "A": Role.ADMINISTRATOR}
    for name, (_kind, rows) in TABLE.items():
        action = "add" if name.endswith("create") else "view"
        for letter, role in letters.items():
            assert (rows[letter][0] == "2") == (role in access.MATRIX["consultation"][action]), (name, letter)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_every_role_and_place_answers_per_matrix(cw, name):
    kind, rows = TABLE[name]
    mismatches = []
    for actor_key, (attr, letter) in ACTORS.items():
        client = Client()
        client.force_login(getattr(cw, attr))
        targets = [None] if kind is None else [cw.own, cw.other]
        for target, code in zip(targets, rows[letter], strict=True):
            url = reverse(name) if target is None else reverse(name, args=[target.pk])
            with transaction.atomic():
                response = client.get(url)
                transaction.set_rollback(True)
            if response.status_code != CODES[code]:
                mismatches.append(f"{actor_key} {url}: {response.status_code} != {code}")
    assert mismatches == []


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_anonymous_redirects_to_login(cw, name):
    kind, _rows = TABLE[name]
    url = reverse(name) if kind is None else reverse(name, args=[cw.own.pk])
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login") + "?next=")


def test_list_shows_consultations_of_the_users_offices_only(cw, client):
    client.force_login(cw.unhcr_af_staff)
    response = client.get(reverse("consultations:consultation_list"))
    assert list(response.context["object_list"]) == [cw.own]
    html = response.content.decode()
    assert cw.own.subject in html and cw.other.subject not in html
    response = client.get(reverse("consultations:consultation_list"), {"office": "UNHCR-DE-BER"})
    assert list(response.context["object_list"]) == []
    response = client.get(reverse("consultations:consultation_list"), {"held_from": "2026-02-30"})
    assert list(response.context["object_list"]) == [] and "Some filters are not valid" in response.content.decode()


def test_list_query_count_does_not_grow_with_page_size(world, client, django_assert_num_queries):
    client.force_login(world.iom_af_staff)
    url = reverse("consultations:consultation_list")
    for i in range(3):
        _record(world.iom_af_staff, world.iom_af, world.unhcr_af, subject=f"Meeting {i}")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    for i in range(3, 20):
        _record(world.iom_af_staff, world.iom_af, world.unhcr_af, subject=f"Meeting {i}")
    with django_assert_num_queries(len(queries)):
        response = client.get(url)
    assert len(response.context["object_list"]) == 20


def test_detail_links_the_case_for_those_who_may_open_it(cw, client):
    client.force_login(cw.iom_af_staff)
    html = client.get(reverse("consultations:consultation_detail", args=[cw.own.pk])).content.decode()
    assert cw.iom_case.get_absolute_url() in html and "IOM-AF-KBL" in html and "UNHCR-AF-KBL" in html
    client.force_login(cw.unhcr_af_staff)  # took part, but the IOM case is not theirs to open
    html = client.get(reverse("consultations:consultation_detail", args=[cw.own.pk])).content.decode()
    assert cw.iom_case.get_absolute_url() not in html and "a record you cannot open" in html


def _data(world, **overrides):
    data = {
        "held_on": TODAY.isoformat(),
        "recorded_by_office": world.iom_af.pk,
        "offices": [world.iom_af.pk, world.unhcr_af.pk],
        "participants": "A. Officer (IOM)\nB. Officer (UNHCR)",
        "subject_kind": "rejected_asylum_seekers",
        "subject": "Return of Mr K.",
        "outcome": "UNHCR has no objection.",
    }
    data.update(overrides)
    return data


def test_create_from_case_page_prefills_link_offices_and_subject(cw, client):
    client.force_login(cw.iom_af_staff)
    response = client.get(reverse("consultations:consultation_create"), {"case": cw.iom_case.pk})
    initial = response.context["form"].initial
    assert initial["case"] == cw.iom_case.pk
    assert set(initial["offices"]) == {cw.iom_af.pk, cw.unhcr_af.pk}  # the lead office and its counterpart
    assert initial["subject_kind"] == "rejected_asylum_seekers"  # MOU §29
    assert initial["recorded_by_office"] == cw.iom_af.pk
    response = client.post(reverse("consultations:consultation_create"), _data(cw, case=cw.iom_case.pk))
    assert response.status_code == 302
    consultation = Consultation.objects.latest("pk")
    assert consultation.linked == cw.iom_case and consultation.created_by == cw.iom_af_staff
    assert set(consultation.offices.values_list("code", flat=True)) == {"IOM-AF-KBL", "UNHCR-AF-KBL"}
    assert response["Location"] == reverse("consultations:consultation_detail", args=[consultation.pk])


def test_create_linked_to_operation(cw, client):
    operation = returns_services.operation_create(
        actor=cw.unhcr_af_staff, office=cw.unhcr_af, title="Return 2026", kind="organised", country_of_origin="AF"
    )
    client.force_login(cw.unhcr_af_staff)
    data = _data(cw, recorded_by_office=cw.unhcr_af.pk, operation=operation.pk)
    assert client.post(reverse("consultations:consultation_create"), data).status_code == 302
    assert Consultation.objects.latest("pk").linked == operation


def test_create_prefill_of_hidden_case_is_ignored(cw, client):
    client.force_login(cw.unhcr_af_staff)
    response = client.get(reverse("consultations:consultation_create"), {"case": cw.iom_case.pk})
    assert response.status_code == 200 and "case" not in response.context["form"].initial


BAD_INPUT = {
    "one_agency_only": ({"offices": "IOM_ONLY"}, "offices"),
    "hidden_case": ({"recorded_by_office": "UNHCR", "case": "CASE"}, "case"),
    "both_links": ({"case": "CASE", "operation": "1"}, "operation"),
    "impossible_date": ({"held_on": "2026-02-30"}, "held_on"),
    "far_future": ({"held_on": (TODAY + dt.timedelta(days=800)).isoformat()}, "held_on"),
    "nul_in_subject": ({"subject": "Re\x00turn"}, "subject"),
    "subject_too_long": ({"subject": "x" * 201}, "subject"),
    "participants_missing": ({"participants": ""}, "participants"),
    "unknown_subject": ({"subject_kind": "gossip"}, "subject_kind"),
    "office_not_covered": ({"recorded_by_office": "DE"}, "recorded_by_office"),
    "case_too_large": ({"case": "9" * 30}, "case"),
}


@pytest.mark.parametrize("bad", sorted(BAD_INPUT))
def test_create_bad_input_gives_field_error_and_writes_nothing(cw, client, bad):
    overrides, field = BAD_INPUT[bad]
    actor = cw.iom_af_staff
    values = SimpleNamespace(IOM_ONLY=[cw.iom_af.pk], UNHCR=cw.unhcr_af.pk, CASE=cw.iom_case.pk, DE=cw.iom_de.pk)
    overrides = {k: getattr(values, v, v) if isinstance(v, str) else v for k, v in overrides.items()}
    if bad == "hidden_case":
        actor = cw.unhcr_af_staff
    client.force_login(actor)
    before = Consultation.objects.count()
    response = client.post(reverse("consultations:consultation_create"), _data(cw, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert Consultation.objects.count() == before


def test_create_without_csrf_token_forbidden(cw):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cw.iom_af_staff)
    before = Consultation.objects.count()
    assert client.post(reverse("consultations:consultation_create"), _data(cw)).status_code == 403
    assert Consultation.objects.count() == before
