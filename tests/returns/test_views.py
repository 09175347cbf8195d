"""Browser pages of return cases, repatriation operations and return agreements: every URL as every role, the
moves offered and refused with their reason, bad input, stale versions, CSRF and query counts."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone

from beneficiaries import services as beneficiary_services
from jointops import access
from jointops import services as jointops_services
from jointops.choices import Role
from jointops.models import Consultation
from returns import services
from returns import urls as returns_urls
from returns.choices import ReturnKind, Stage
from returns.models import (
    AdditionalMeasure,
    CaseMeasure,
    CaseTransition,
    ReintegrationVisit,
    RepatriationOperation,
    ReturnAgreement,
    ReturnCase,
    ReturnCaseMember,
)
from tests.factories.beneficiaries import person
from tests.factories.jointops import OrganisationFactory, UserFactory
from tests.factories.returns import case, move, scheduled

TODAY = timezone.localdate()
IN_10_DAYS = TODAY + dt.timedelta(days=10)

ACTORS = {
    # key: (world attribute, role letter)
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
PLACES = ("own", "other", "agency")


def _case_at(office, actor, kind):
    """A case with a principal, one household member and the office's additional measure."""
    c = case(office, actor, kind=kind)
    services.return_case_add_member(actor=actor, case=c, beneficiary=person(office, actor=actor))
    measure, _created = AdditionalMeasure.objects.get_or_create(office=office, label="UNHCR counselling offered")
    c = ReturnCase.objects.get(pk=c.pk)
    return SimpleNamespace(case=c, member=c.members.get(is_principal=False), measure=measure)


def _agreement(office, actor, government, **fields):
    values = {
        "kind": "tripartite",
        "title": f"Tripartite {office.code}",
        "country_of_origin": "AF",
        "host_country": "PK",
        "valid_from": TODAY - dt.timedelta(days=30),
    }
    values.update(fields)
    parties = [government, *type(government).objects.filter(code__in=["UNHCR", "IOM"])]
    return services.agreement_create(actor=actor, office=office, parties=parties, **values)


def _operation(office, actor, **fields):
    values = {"title": f"Return to Afghanistan from {office.code}", "kind": "organised", "country_of_origin": "AF"}
    values.update(fields)
    return services.operation_create(actor=actor, office=office, **values)


def _consultation(actor, office, counterpart, **fields):
    values = {
        "held_on": TODAY,
        "participants": "A. Officer (IOM)\nB. Officer (UNHCR)",
        "subject_kind": "rejected_asylum_seekers",
        "subject": f"Returns from {office.code}",
    }
    values.update(fields)
    return jointops_services.consultation_record(
        actor=actor, recorded_by_office=office, offices=[counterpart], **values
    )


@pytest.fixture
def rw(world):
    """build_world() plus, for each agency's AF and DE offices, a case, an agreement; UNHCR's operations; two
    consultations; and a user without any role."""
    w = world
    w.iom_no_role = UserFactory(username="iom_no_role", organisation=w.iom)
    w.government = OrganisationFactory(code="GOV-PK", name="Government of Pakistan")
    avr, vrep = ReturnKind.AVR_ASYLUM_SEEKER, ReturnKind.VOLUNTARY_REPATRIATION
    w.iom_own = _case_at(w.iom_af, w.iom_af_staff, avr)
    w.iom_other = _case_at(w.iom_de, w.iom_de_staff, avr)
    w.unhcr_own = _case_at(w.unhcr_af, w.unhcr_af_staff, vrep)
    w.unhcr_other = _case_at(w.unhcr_de, w.unhcr_de_staff, vrep)
    w.op_af = _operation(w.unhcr_af, w.unhcr_af_staff)
    w.op_de = _operation(w.unhcr_de, w.unhcr_de_staff)
    w.ag_iom_af = _agreement(w.iom_af, w.iom_af_manager, w.government)
    w.ag_iom_de = _agreement(w.iom_de, w.iom_de_manager, w.government)
    w.ag_unhcr_af = _agreement(w.unhcr_af, w.unhcr_af_manager, w.government)
    w.ag_unhcr_de = _agreement(w.unhcr_de, w.unhcr_hq_focal, w.government)
    w.consult_af = _consultation(w.iom_af_staff, w.iom_af, w.unhcr_af)
    w.consult_de = _consultation(w.iom_de_staff, w.iom_de, w.unhcr_de)
    return w


def _targets(w, side: str) -> dict[str, SimpleNamespace]:
    iom_af = SimpleNamespace(**vars(w.iom_own), operation=w.op_af, agreement=w.ag_iom_af, consultation=w.consult_af)
    iom_de = SimpleNamespace(**vars(w.iom_other), operation=w.op_de, agreement=w.ag_iom_de, consultation=w.consult_de)
    unhcr_af = SimpleNamespace(
        **vars(w.unhcr_own), operation=w.op_af, agreement=w.ag_unhcr_af, consultation=w.consult_af
    )
    unhcr_de = SimpleNamespace(
        **vars(w.unhcr_other), operation=w.op_de, agreement=w.ag_unhcr_de, consultation=w.consult_de
    )
    if side == "iom":
        return {"own": iom_af, "other": iom_de, "agency": unhcr_af}
    return {"own": unhcr_af, "other": unhcr_de, "agency": iom_af}


# --- The table: URL × role × place -> status, per jointops.access.MATRIX and the flow's roles --------------
#
# 2 = 200 page, 3 = 302 done, 4 = 403 (visible, action not allowed), N = 404 (hidden). Targetless URLs have one
# code per role; the others one per place (own office, other office of the same organisation, the other agency).
# Roles: F field staff, M office manager, H HQ focal point, A administrator, N no role. A key "unhcr:F" applies
# to that side only. Operations are UNHCR's (MOU §31): for both sides "own" is the one at UNHCR-AF-KBL and
# "agency" the same one; moves are made by field staff and managers of the lead office (returns.flow).

CASE_VIEW = {"F": "2NN", "M": "2NN", "H": "22N", "A": "NNN", "N": "NNN"}
CASE_CHANGE_PAGE = {"F": "2NN", "M": "2NN", "H": "44N", "A": "NNN", "N": "NNN"}
CASE_CHANGE_DONE = {"F": "3NN", "M": "3NN", "H": "44N", "A": "NNN", "N": "NNN"}
CASE_LIST = {"F": "2", "M": "2", "H": "2", "A": "4", "N": "4"}
EVERYONE_READS = {"F": "222", "M": "222", "H": "222", "A": "222", "N": "NNN"}

TABLE = {
    # name: (method, target kind, resource, action, {role: codes})
    "returns:case_list": ("get", None, "return_case", "view", CASE_LIST),
    "returns:case_upcoming": ("get", None, "return_case", "view", CASE_LIST),
    "returns:case_create": ("get", None, "return_case", "add", {"F": "2", "M": "2", "H": "4", "A": "4", "N": "4"}),
    "returns:case_detail": ("get", "case", "return_case", "view", CASE_VIEW),
    "returns:case_update": ("get", "case", "return_case", "change", CASE_CHANGE_PAGE),
    "returns:case_move": ("get", "move", "return_case", "change", CASE_CHANGE_PAGE),
    "returns:case_move:post": ("post", "move", "return_case", "change", CASE_CHANGE_PAGE),  # 200: form errors
    "returns:case_add_member": ("post", "case", "return_case", "change", CASE_CHANGE_PAGE),  # 200: form errors
    "returns:case_remove_member": ("post", "member", "return_case", "change", CASE_CHANGE_DONE),
    "returns:case_measure": ("post", "measure", "return_case", "change", CASE_CHANGE_PAGE),  # 200: form errors
    "returns:case_visit": ("post", "case", "return_case", "change", CASE_CHANGE_PAGE),  # 200: form errors
    "returns:operation_list": ("get", None, "repatriation_operation", "view", {**CASE_LIST, "A": "2"}),
    "returns:operation_create": (
        "get",
        None,
        "repatriation_operation",
        "add",
        {"unhcr:F": "2", "unhcr:M": "2", "F": "4", "M": "4", "H": "4", "A": "4", "N": "4"},
    ),
    "returns:operation_detail": ("get", "operation", "repatriation_operation", "view", EVERYONE_READS),
    "returns:operation_update": (
        "get",
        "operation",
        "repatriation_operation",
        "change",
        {"unhcr:F": "242", "unhcr:M": "242", "F": "444", "M": "444", "H": "444", "A": "444", "N": "NNN"},
    ),
    "returns:agreement_list": ("get", None, "return_agreement", "view", {**CASE_LIST, "A": "2"}),
    "returns:agreement_create": (
        "get",
        None,
        "return_agreement",
        "add",
        {"F": "4", "M": "2", "H": "2", "A": "4", "N": "4"},
    ),
    "returns:agreement_detail": ("get", "agreement", "return_agreement", "view", EVERYONE_READS),
    "returns:agreement_update": (
        "get",
        "agreement",
        "return_agreement",
        "change",
        {"F": "444", "M": "244", "H": "224", "A": "444", "N": "NNN"},
    ),
}
CODES = {"2": 200, "3": 302, "4": 403, "N": 404}
LETTERS = {"F": Role.FIELD_STAFF, "M": Role.OFFICE_MANAGER, "H": Role.HQ_FOCAL_POINT, "A": Role.ADMINISTRATOR}


def _url(name: str, target: SimpleNamespace | None, kind: str | None) -> str:
    name = name.removesuffix(":post")
    if kind is None:
        return reverse(name)
    if kind == "case":
        return reverse(name, args=[target.case.pk])
    if kind == "member":
        return reverse(name, args=[target.case.pk, target.member.pk])
    if kind == "measure":
        return reverse(name, args=[target.case.pk, target.measure.pk])
    if kind == "move":
        return reverse(name, args=[target.case.pk, "start_counselling"])
    return reverse(name, args=[getattr(target, kind).pk])


def _codes(rows: dict, side: str, letter: str) -> str:
    return rows.get(f"{side}:{letter}", rows[letter])


def _names(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_table_covers_every_url_of_the_app():
    assert _names(returns_urls.urlpatterns, "returns") == {name.removesuffix(":post") for name in TABLE}


def test_table_agrees_with_access_matrix():
    """A role MATRIX allows succeeds on its own office's record (or targetless page); other roles never do.
    Operations are recorded by UNHCR offices (MOU §31): IOM staff hold the role but have no office to record at."""
    for name, (_method, _kind, resource, action, rows) in TABLE.items():
        for letter, role in LETTERS.items():
            allowed = role in access.MATRIX[resource].get(action, ())
            assert (_codes(rows, "unhcr", letter)[0] in "23") == allowed, (name, letter)
        assert rows["N"][0] in "4N", name


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_every_role_and_place_answers_per_matrix(rw, name):
    method, kind, _resource, _action, rows = TABLE[name]
    mismatches, requests = [], 0
    for actor_key, (attr, letter) in ACTORS.items():
        client = Client()
        client.force_login(getattr(rw, attr))
        side = actor_key.split("_")[0]
        targets = _targets(rw, side)
        places = ["own"] if kind is None else list(PLACES)
        for place, code in zip(places, _codes(rows, side, letter), strict=True):
            url = _url(name, targets[place], kind)
            with transaction.atomic():  # undo each request's writes: every request sees the same world
                response = client.post(url) if method == "post" else client.get(url)
                transaction.set_rollback(True)
            requests += 1
            if response.status_code != CODES[code]:
                mismatches.append(f"{actor_key} {place} {method.upper()} {url}: {response.status_code} != {code}")
    assert mismatches == []
    assert requests >= len(ACTORS)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_anonymous_redirects_to_login(rw, name):
    method, kind, *_ = TABLE[name]
    url = _url(name, _targets(rw, "iom")["own"], kind)
    response = Client().post(url) if method == "post" else Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_refused_posts_write_nothing(rw):
    client = Client()
    client.force_login(rw.iom_hq_focal)
    own = rw.iom_own
    assert client.post(reverse("returns:case_remove_member", args=[own.case.pk, own.member.pk])).status_code == 403
    data = {"version": own.case.version, "reason": "HQ tries"}
    assert client.post(_move_url(own.case, "start_counselling"), data).status_code == 403
    client.force_login(rw.iom_af_staff)
    agency = rw.unhcr_own
    assert (
        client.post(reverse("returns:case_remove_member", args=[agency.case.pk, agency.member.pk])).status_code == 404
    )
    assert client.post(_move_url(agency.case, "withdraw"), {"version": 1, "reason": "x"}).status_code == 404
    assert ReturnCaseMember.objects.filter(pk__in=[own.member.pk, agency.member.pk]).count() == 2
    assert not CaseTransition.objects.exists()
    assert set(ReturnCase.objects.values_list("stage", flat=True)) == {Stage.OPENED}


@pytest.mark.parametrize("prefix", ["/returns/", "/returns/operations/", "/returns/agreements/", "/consultations/"])
def test_huge_record_number_is_not_found_not_an_error(rw, client, prefix):
    client.force_login(rw.iom_af_staff)
    assert client.get(f"{prefix}{'9' * 25}/").status_code == 404


def test_unknown_move_is_not_found(rw, client):
    client.force_login(rw.iom_af_staff)
    assert client.get(_move_url(rw.iom_own.case, "teleport")).status_code == 404


# --- Case list and upcoming departures ----------------------------------------------------------------------


def test_list_shows_own_cases_with_principal_stage_and_departure(rw, client):
    client.force_login(rw.iom_af_staff)
    response = client.get(reverse("returns:case_list"))
    assert [c.pk for c in response.context["object_list"]] == [rw.iom_own.case.pk]
    html = response.content.decode()
    principal = rw.iom_own.case.members.get(is_principal=True).beneficiary
    assert rw.iom_own.case.reference in html and principal.family_name in html
    assert rw.iom_other.case.reference not in html and rw.unhcr_own.case.reference not in html
    assert reverse("returns:case_create") in html


def test_list_hq_focal_point_sees_the_organisation_and_cannot_open(rw, client):
    client.force_login(rw.iom_hq_focal)
    response = client.get(reverse("returns:case_list"))
    assert {c.pk for c in response.context["object_list"]} == {rw.iom_own.case.pk, rw.iom_other.case.pk}
    assert reverse("returns:case_create") not in response.content.decode()


def test_list_filters_by_kind_stage_office_and_departure_range(world, client):
    actor = world.iom_af_staff
    migrant = case(world.iom_af, actor, kind=ReturnKind.AVR_MIGRANT)
    soon = scheduled(world.iom_af, actor, days=5)
    later = scheduled(world.iom_af_field, world.iom_field_staff, days=40)
    client.force_login(actor)
    url = reverse("returns:case_list")

    def pks(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {c.pk for c in response.context["object_list"]}

    assert pks(kind="avr_migrant") == {migrant.pk}
    assert pks(stage="departure_scheduled") == {soon.pk, later.pk}
    assert pks(office="IOM-AF-HRT") == {later.pk}
    assert pks(departure_from=TODAY.isoformat(), departure_until=(TODAY + dt.timedelta(days=7)).isoformat()) == {
        soon.pk
    }
    assert pks(departure_from=(TODAY + dt.timedelta(days=30)).isoformat()) == {later.pk}


def test_list_filters_emergency_embarkations_for_hq(world, client):
    # Letter: an embarkation recorded before UNHCR had the list is flagged to the HQ focal points.
    actor = world.iom_de_staff
    flagged = services.return_case_move(
        actor=actor,
        case=scheduled(world.iom_de, actor),
        transition="confirm_embarkation",
        emergency_justification="Flight brought forward",
    )
    scheduled(world.iom_de, actor)
    client.force_login(world.iom_hq_focal)
    response = client.get(reverse("returns:case_list"), {"emergency": "true"})
    assert [c.pk for c in response.context["object_list"]] == [flagged.pk]
    assert flagged.pk not in {
        c.pk for c in client.get(reverse("returns:case_list"), {"emergency": "false"}).context["object_list"]
    }


@pytest.mark.parametrize(
    "params",
    [
        {"departure_from": "2026-02-30"},
        {"departure_from": "2026-05-10", "departure_until": "2026-05-01"},
        {"kind": "dragon"},
        {"stage": "teleported"},
        {"office": "X" * 33},
        {"operation": "99999999999999999999999"},
        {"organisation": "NOBODY"},
        {"office_country": "ZZ"},
    ],
)
def test_list_bad_filter_shows_message_and_no_results(rw, client, params):
    client.force_login(rw.iom_af_staff)
    response = client.get(reverse("returns:case_list"), params)
    assert response.status_code == 200
    assert list(response.context["object_list"]) == []
    assert "Some filters are not valid" in response.content.decode()


def test_list_filters_by_the_lead_office_organisation_and_country_as_dashboards_link(world, client):
    kabul = case(world.iom_af, world.iom_af_staff)
    berlin = case(world.iom_de, world.iom_de_staff)
    client.force_login(world.iom_hq_focal)
    response = client.get(reverse("returns:case_list"), {"organisation": "IOM", "office_country": "DE"})
    assert [c.pk for c in response.context["object_list"]] == [berlin.pk]
    assert [f.name for f in response.context["filter_fields"]][-2:] == ["organisation", "office_country"]
    assert kabul.pk in {c.pk for c in client.get(reverse("returns:case_list")).context["object_list"]}
    # A bad value is shown on its field, with its message.
    response = client.get(reverse("returns:case_list"), {"organisation": "NOBODY"})
    field = next(f for f in response.context["filter_fields"] if f.name == "organisation")
    assert list(response.context["object_list"]) == []
    assert field.errors == ["No organisation has the code NOBODY."] and field.errors[0] in response.content.decode()


def test_list_null_character_in_filter_answers_400(rw, client):
    client.force_login(rw.iom_af_staff)
    assert client.get(reverse("returns:case_list"), {"q": "a\x00b"}).status_code == 400


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_page_size(world, client, django_assert_num_queries):
    actor = world.iom_af_staff
    client.force_login(actor)
    url = reverse("returns:case_list")
    for _ in range(10):
        services.return_case_add_member(
            actor=actor, case=case(world.iom_af, actor), beneficiary=person(world.iom_af, actor=actor)
        )
    client.get(url)  # warm-up: the first request of a session fills caches
    ten = _count_queries(client, url)
    assert len(client.get(url).context["object_list"]) == 10
    for _ in range(40):
        case(world.iom_af_field, world.iom_field_staff, kind=ReturnKind.AVR_MIGRANT)
    with django_assert_num_queries(ten):
        response = client.get(url)
    assert len(response.context["object_list"]) == 50


def test_upcoming_departures_within_7_or_30_days_by_office(world, client):
    actor = world.iom_af_staff
    soon = scheduled(world.iom_af, actor, days=3)
    later = scheduled(world.iom_af, actor, days=20)
    scheduled(world.iom_af, actor, days=45)  # beyond 30 days
    case(world.iom_af, actor)  # not scheduled
    field = scheduled(world.iom_af_field, world.iom_field_staff, days=5)
    client.force_login(actor)
    url = reverse("returns:case_upcoming")
    response = client.get(url)
    assert [c.pk for c in response.context["object_list"]] == [soon.pk, field.pk, later.pk]  # by departure date
    assert [c.pk for c in client.get(url, {"days": "7"}).context["object_list"]] == [soon.pk, field.pk]
    response = client.get(url, {"days": "7", "office": "IOM-AF-HRT"})
    assert [c.pk for c in response.context["object_list"]] == [field.pk]
    assert "within the next 7 days" in response.content.decode()
    response = client.get(url, {"days": "12"})
    assert response.status_code == 200 and list(response.context["object_list"]) == []
    assert "Some filters are not valid" in response.content.decode()


def test_upcoming_query_count_does_not_grow_with_page_size(world, client, django_assert_num_queries):
    actor = world.iom_af_staff
    client.force_login(actor)
    url = reverse("returns:case_upcoming")
    for _ in range(3):
        scheduled(world.iom_af, actor)
    client.get(url)
    three = _count_queries(client, url)
    for _ in range(12):
        scheduled(world.iom_af, actor)
    with django_assert_num_queries(three):
        response = client.get(url)
    assert len(response.context["object_list"]) == 15


# --- Case detail: rules, members, timeline, the moves offered --------------------------------------------


def _detail(client, c):
    response = client.get(reverse("returns:case_detail", args=[c.pk]))
    assert response.status_code == 200
    return response


def _move_url(c, name: str) -> str:
    return reverse("returns:case_move", args=[c.pk, name])


def _offered(response) -> list[str]:
    return re.findall(r'class="jo-move" data-move="([a-z_]+)"', response.content.decode())


def test_detail_cites_the_rules_of_the_kind(rw, client):
    client.force_login(rw.iom_af_staff)
    html = _detail(client, rw.iom_own.case).content.decode()
    assert "lead agency: IOM" in html
    assert "No formal withdrawal of the asylum claim is asked for or required (Letter)." in html
    assert "pre-departure list delivered to UNHCR" in html
    client.force_login(rw.unhcr_af_staff)
    html = _detail(client, rw.unhcr_own.case).content.decode()
    assert "lead agency: UNHCR" in html and "(MOU §30)" in html and "(MOU §31)" in html
    rejected = case(rw.iom_af, rw.iom_af_staff, kind=ReturnKind.AVR_REJECTED_ASYLUM_SEEKER)
    client.force_login(rw.iom_af_staff)
    html = _detail(client, rejected).content.decode()
    assert "(MOU §29)" in html and "(MOU §12)" in html
    assert "Date of the final asylum decision (MOU §29)" in html


def test_detail_lists_members_principal_first_with_links(rw, client):
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    response = _detail(client, c)
    members = response.context["case_members"]
    assert [m.is_principal for m in members] == [True, False]
    html = response.content.decode()
    for member in members:
        assert member.beneficiary.get_absolute_url() in html
    assert reverse("returns:case_remove_member", args=[c.pk, rw.iom_own.member.pk]) in html
    principal = members[0]
    assert reverse("returns:case_remove_member", args=[c.pk, principal.pk]) not in html


def test_detail_offers_only_the_moves_allowed_now(rw, client):
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    response = _detail(client, c)
    assert _offered(response) == ["start_counselling", "withdraw"]
    c = move(c, rw.iom_af_staff, "start_counselling", "start_preparing")
    assert _offered(_detail(client, c)) == ["schedule_departure", "withdraw"]


def test_detail_hq_focal_point_follows_without_moves_or_forms(rw, client):
    client.force_login(rw.iom_hq_focal)
    response = _detail(client, rw.iom_own.case)
    html = response.content.decode()
    assert _offered(response) == []
    assert "its lead office&#x27;s staff move it" in html or "its lead office's staff move it" in html
    assert "The person may change their mind at any time up to voluntary embarkation (Letter)" in html
    assert reverse("returns:case_update", args=[rw.iom_own.case.pk]) not in html
    assert reverse("returns:case_add_member", args=[rw.iom_own.case.pk]) not in html


def test_detail_withdraw_visible_with_explanation_until_embarkation_only(world, client):
    actor = world.iom_de_staff
    client.force_login(actor)
    c = scheduled(world.iom_de, actor)
    response = _detail(client, c)
    html = response.content.decode()
    assert "withdraw" in _offered(response)
    assert "No formal withdrawal of the asylum claim is required." in html
    c = services.return_case_move(
        actor=actor, case=c, transition="confirm_embarkation", emergency_justification="Carrier moved the flight"
    )
    response = _detail(client, c)
    assert "withdraw" not in _offered(response)
    assert 'id="withdraw"' not in response.content.decode()
    assert _offered(response) == ["confirm_arrival"]


def test_detail_timeline_shows_who_when_why_and_date_changes(world, client):
    actor = world.iom_de_staff
    c = scheduled(world.iom_de, actor, days=10)
    new_date = TODAY + dt.timedelta(days=20)
    c = services.return_case_move(
        actor=actor,
        case=c,
        transition="reschedule_departure",
        reason="Flight cancelled",
        expected_departure_date=new_date,
    )
    client.force_login(actor)
    response = _detail(client, c)
    entries = response.context["timeline"]
    assert [e["transition"].transition for e in entries] == [
        "start_counselling",
        "start_preparing",
        "schedule_departure",
        "reschedule_departure",
    ]
    last = entries[-1]
    assert last["previous_date"] == IN_10_DAYS and last["new_date"] == new_date and last["who"] == actor
    html = response.content.decode()
    assert "Flight cancelled" in html and str(actor) in html
    assert "Preparing (documents, fit to travel) → Departure scheduled" in html


# --- Moves: made, refused with the reason, bad input, stale versions ----------------------------------------


def test_move_page_asks_for_what_the_move_needs(world, client):
    actor = world.iom_de_staff
    c = move(case(world.iom_de, actor, fit_to_travel=True), actor, "start_counselling", "start_preparing")
    client.force_login(actor)
    form = client.get(_move_url(c, "schedule_departure")).context["form"]
    assert set(form.fields) == {"version", "expected_departure_date", "reason"}
    assert form.initial["version"] == c.version and not form.fields["reason"].required
    form = client.get(_move_url(c, "withdraw")).context["form"]
    assert set(form.fields) == {"version", "reason"} and form.fields["reason"].required


def test_move_not_possible_now_redirects_with_message(rw, client):
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    response = client.get(_move_url(c, "confirm_arrival"), follow=True)
    assert response.redirect_chain[-1][0] == c.get_absolute_url()
    assert "is not possible for this case now" in response.content.decode()


def test_move_made_records_who_why_and_changes_stage(rw, client):
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    response = client.post(_move_url(c, "start_counselling"), {"version": c.version, "reason": "First meeting"})
    assert response.status_code == 302 and response["Location"].endswith("#timeline")
    c.refresh_from_db()
    assert c.stage == Stage.COUNSELLING
    transition = CaseTransition.objects.get(case=c)
    assert (transition.user, transition.reason, transition.from_stage) == (
        rw.iom_af_staff,
        "First meeting",
        Stage.OPENED,
    )


def _at_preparing(world, **fields):
    actor = world.iom_de_staff
    return move(case(world.iom_de, actor, **fields), actor, "start_counselling", "start_preparing")


def test_move_refused_by_guard_shows_the_reason_and_writes_nothing(world, client):
    c = _at_preparing(world)  # fit to travel not recorded
    client.force_login(world.iom_de_staff)
    moves_before = CaseTransition.objects.count()
    response = client.post(
        _move_url(c, "schedule_departure"), {"version": c.version, "expected_departure_date": IN_10_DAYS.isoformat()}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Record that the person is fit to travel before scheduling departure." in html
    assert "nothing was changed" in html
    c.refresh_from_db()
    assert c.stage == Stage.PREPARING and c.expected_departure_date is None
    assert CaseTransition.objects.count() == moves_before


def test_move_refused_for_rejected_asylum_seeker_cites_section_29(world, client):
    actor = world.iom_de_staff
    c = move(
        case(
            world.iom_de,
            actor,
            kind=ReturnKind.AVR_REJECTED_ASYLUM_SEEKER,
            fit_to_travel=True,
            no_conflict_with_humanitarian_concerns=True,
            best_interests_considered=True,
            bilateral_matter_recognised=True,
        ),
        actor,
        "start_counselling",
        "start_preparing",
    )
    client.force_login(actor)
    response = client.post(
        _move_url(c, "schedule_departure"), {"version": c.version, "expected_departure_date": IN_10_DAYS.isoformat()}
    )
    assert "MOU §29: record the date of the final asylum decision" in response.content.decode()
    assert ReturnCase.objects.get(pk=c.pk).stage == Stage.PREPARING


MOVE_BAD_INPUT = {
    "past_date": ({"expected_departure_date": (TODAY - dt.timedelta(days=1)).isoformat()}, "expected_departure_date"),
    "impossible_date": ({"expected_departure_date": "2026-02-30"}, "expected_departure_date"),
    "no_date": ({"expected_departure_date": ""}, "expected_departure_date"),
    "nul_in_reason": ({"reason": "changed\x00mind"}, "reason"),
    "reason_too_long": ({"reason": "x" * 2001}, "reason"),
    "no_version": ({"version": ""}, "version"),
    "version_not_a_number": ({"version": "abc"}, "version"),
}


@pytest.mark.parametrize("bad", sorted(MOVE_BAD_INPUT))
def test_move_bad_input_rerenders_with_field_error_and_writes_nothing(world, client, bad):
    overrides, field = MOVE_BAD_INPUT[bad]
    c = _at_preparing(world, fit_to_travel=True)
    client.force_login(world.iom_de_staff)
    data = {"version": c.version, "expected_departure_date": IN_10_DAYS.isoformat(), "reason": ""}
    data.update(overrides)
    moves_before = CaseTransition.objects.count()
    response = client.post(_move_url(c, "schedule_departure"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    if field != "version":
        assert f'id="id_schedule_departure_{field}_error"' in response.content.decode()
    c.refresh_from_db()
    assert c.stage == Stage.PREPARING and c.expected_departure_date is None
    assert CaseTransition.objects.count() == moves_before


def test_move_with_stale_version_shows_conflict_and_writes_nothing(rw, client):
    c = rw.iom_own.case
    seen = c.version
    move(c, rw.iom_af_manager, "start_counselling")  # someone else moves it meanwhile
    client.force_login(rw.iom_af_staff)
    response = client.post(_move_url(c, "withdraw"), {"version": seen, "reason": "Changed their mind"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else moved or changed this case since you opened it" in html
    assert "Open the case as it is now" in html
    c.refresh_from_db()
    assert c.stage == Stage.COUNSELLING
    assert list(CaseTransition.objects.filter(case=c).values_list("transition", flat=True)) == ["start_counselling"]


def test_move_withdraw_needs_what_the_person_said_and_deletes_nothing(rw, client):
    c = rw.iom_own.case
    client.force_login(rw.iom_af_staff)
    response = client.post(_move_url(c, "withdraw"), {"version": c.version, "reason": "  "})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert ReturnCase.objects.get(pk=c.pk).stage == Stage.OPENED
    response = client.post(_move_url(c, "withdraw"), {"version": c.version, "reason": "Wants to stay with family"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.stage == Stage.WITHDRAWN and c.members.count() == 2
    html = _detail(client, c).content.decode()
    assert "Wants to stay with family" in html and _offered(_detail(client, c)) == []


def test_move_withdraw_after_embarkation_refused_with_reason(world, client):
    actor = world.iom_de_staff
    c = scheduled(world.iom_de, actor)
    c = services.return_case_move(
        actor=actor, case=c, transition="confirm_embarkation", emergency_justification="Carrier moved the flight"
    )
    client.force_login(actor)
    response = client.post(_move_url(c, "withdraw"), {"version": c.version, "reason": "Too late"})
    assert response.status_code == 200
    assert "cannot be moved with" in response.content.decode()
    assert ReturnCase.objects.get(pk=c.pk).stage == Stage.EMBARKED


def test_move_embarkation_without_list_asks_for_emergency_justification(world, client):
    # Letter: UNHCR gets the names and dates before embarkation; otherwise an emergency justification, flagged.
    actor = world.iom_de_staff
    c = scheduled(world.iom_de, actor)
    client.force_login(actor)
    form = client.get(_move_url(c, "confirm_embarkation")).context["form"]
    assert "emergency_justification" in form.fields
    assert "pre-departure list" in str(form.fields["emergency_justification"].help_text)
    response = client.post(_move_url(c, "confirm_embarkation"), {"version": c.version})
    assert "UNHCR has not yet received this departure on a pre-departure list" in response.content.decode()
    assert ReturnCase.objects.get(pk=c.pk).stage == Stage.DEPARTURE_SCHEDULED
    response = client.post(
        _move_url(c, "confirm_embarkation"),
        {"version": c.version, "emergency_justification": "Medical evacuation flight brought forward"},
    )
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.stage == Stage.EMBARKED and c.emergency_justification
    html = _detail(client, c).content.decode()
    assert "Emergency: before UNHCR had the list" in html and "Flagged to the HQ focal points" in html


def test_move_embarkation_of_migrant_asks_no_justification(world, client):
    actor = world.iom_de_staff
    c = scheduled(
        world.iom_de,
        actor,
        kind=ReturnKind.AVR_MIGRANT,
        no_conflict_with_humanitarian_concerns=True,
        best_interests_considered=True,
        bilateral_matter_recognised=True,
    )
    client.force_login(actor)
    form = client.get(_move_url(c, "confirm_embarkation")).context["form"]
    assert "emergency_justification" not in form.fields
    assert client.post(_move_url(c, "confirm_embarkation"), {"version": c.version}).status_code == 302


def test_move_close_needs_a_closing_reason(world, client):
    actor = world.iom_de_staff
    c = scheduled(
        world.iom_de,
        actor,
        kind=ReturnKind.AVR_MIGRANT,
        no_conflict_with_humanitarian_concerns=True,
        best_interests_considered=True,
        bilateral_matter_recognised=True,
    )
    c = move(c, actor, "confirm_embarkation", "confirm_arrival")
    client.force_login(actor)
    response = client.post(_move_url(c, "close"), {"version": c.version, "closing_reason": "bored"})
    assert response.status_code == 200 and "closing_reason" in response.context["form"].errors
    response = client.post(_move_url(c, "close"), {"version": c.version, "closing_reason": "reintegrated"})
    assert response.status_code == 302
    c.refresh_from_db()
    assert c.stage == Stage.CLOSED and c.closing_reason == "reintegrated"


# --- Measures and visits ----------------------------------------------------------------------------------


def test_measures_for_person_of_concern_shown_and_recorded(world, client):
    actor = world.iom_de_staff
    measure = AdditionalMeasure.objects.create(office=world.iom_de, label="UNHCR counselling offered")
    concerned = person(world.iom_de, actor=actor, of_concern_to_unhcr=True)
    c = case(world.iom_de, actor, kind=ReturnKind.AVR_MIGRANT, principal=concerned)
    client.force_login(actor)
    html = _detail(client, c).content.decode()
    assert "UNHCR counselling offered" in html and "To do" in html
    url = reverse("returns:case_measure", args=[c.pk, measure.pk])
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    response = client.post(url, {"done_on": future})
    assert response.status_code == 200 and not CaseMeasure.objects.exists()
    assert "The date cannot be in the future." in response.content.decode()
    response = client.post(url, {"done_on": TODAY.isoformat(), "note": "Done by phone"})
    assert response.status_code == 302
    record = CaseMeasure.objects.get(case=c)
    assert (record.measure, record.done_by, record.note) == (measure, actor, "Done by phone")


def test_measures_not_shown_without_person_of_concern(rw, client):
    client.force_login(rw.iom_af_staff)
    response = _detail(client, rw.iom_own.case)
    assert "measures" not in response.context
    assert 'id="measures"' not in response.content.decode()


def test_measure_of_another_office_not_found(rw, client):
    client.force_login(rw.iom_af_staff)
    url = reverse("returns:case_measure", args=[rw.iom_own.case.pk, rw.iom_other.measure.pk])
    assert client.post(url, {"done_on": TODAY.isoformat()}).status_code == 404


def test_visit_recorded_after_arrival_only(world, client):
    actor = world.iom_de_staff
    c = scheduled(
        world.iom_de,
        actor,
        kind=ReturnKind.AVR_MIGRANT,
        no_conflict_with_humanitarian_concerns=True,
        best_interests_considered=True,
        bilateral_matter_recognised=True,
    )
    client.force_login(actor)
    url = reverse("returns:case_visit", args=[c.pk])
    response = client.post(url, {"visited_on": TODAY.isoformat(), "outcome": "Settled"})
    assert (
        response.status_code == 200 and "Reintegration visits are recorded after arrival." in response.content.decode()
    )
    c = move(c, actor, "confirm_embarkation", "confirm_arrival")
    response = client.post(url, {"visited_on": TODAY.isoformat(), "outcome": ""})
    assert response.status_code == 200 and "outcome" in response.context["visit_form"].errors
    response = client.post(url, {"visited_on": TODAY.isoformat(), "outcome": "Settled; children in school"})
    assert response.status_code == 302
    assert ReintegrationVisit.objects.get(case=c).outcome == "Settled; children in school"
    assert "Settled; children in school" in _detail(client, c).content.decode()


# --- Opening a case, editing it, its members ---------------------------------------------------------------


def _open_data(world, chosen, **overrides):
    data = {
        "kind": ReturnKind.AVR_ASYLUM_SEEKER,
        "lead_office": world.iom_af.pk,
        "principal": chosen.pk,
        "country_of_departure": "AF",
        "country_of_return": "PK",
        "place_of_return": "Peshawar",
        "fit_to_travel": "",
    }
    data.update(overrides)
    return data


def test_open_page_preselects_office_and_finds_people_to_choose(world, client):
    actor = world.iom_af_staff
    wanted = person(world.iom_af, actor=actor, given_name="Mohammad", family_name="Karimi")
    person(world.iom_de, actor=world.iom_de_staff, given_name="Mohammad", family_name="Karimzai")  # other office
    client.force_login(actor)
    response = client.get(reverse("returns:case_create"), {"q": "Karim"})
    assert response.context["form"].initial["lead_office"] == world.iom_af.pk
    assert [p.pk for p in response.context["people_found"]] == [wanted.pk]
    assert set(response.context["form"].fields["lead_office"].queryset) == {world.iom_af, world.iom_af_field}
    response = client.get(reverse("returns:case_create"), {"principal": wanted.pk})
    assert response.context["chosen_principal"] == wanted
    assert "Principal applicant: Mohammad Karimi" in response.content.decode()


def test_open_case_with_principal_household_and_other_member(world, client):
    actor = world.iom_af_staff
    head = person(world.iom_af, actor=actor)
    household = beneficiary_services.household_create(actor=actor, head=head)
    child = person(world.iom_af, actor=actor)
    beneficiary_services.household_add_member(actor=actor, household=household, beneficiary=child, relationship="child")
    cousin = person(world.iom_af_field, actor=world.iom_field_staff)
    client.force_login(actor)
    data = _open_data(world, head, with_household="on", other_members=f"{cousin.pk}, {child.pk}", fit_to_travel="true")
    response = client.post(reverse("returns:case_create"), data)
    assert response.status_code == 302
    c = ReturnCase.objects.get()
    assert response["Location"] == c.get_absolute_url()
    assert c.created_by == actor and c.fit_to_travel is True and c.place_of_return == "Peshawar"
    assert list(c.members.values_list("beneficiary_id", "is_principal")) == [
        (head.pk, True),
        (child.pk, False),
        (cousin.pk, False),
    ]


OPEN_BAD_INPUT = {
    "nul_in_place": ({"place_of_return": "Pesh\x00awar"}, "place_of_return"),
    "place_too_long": ({"place_of_return": "x" * 201}, "place_of_return"),
    "travel_too_long": ({"travel_details": "x" * 2001}, "travel_details"),
    "no_kind": ({"kind": ""}, "kind"),
    "unknown_kind": ({"kind": "dragon"}, "kind"),
    "unknown_country": ({"country_of_return": "XX"}, "country_of_return"),
    "office_not_covered": ({"lead_office": "OTHER"}, "lead_office"),
    "unhcr_led_kind_at_iom_office": ({"kind": ReturnKind.VOLUNTARY_REPATRIATION}, "lead_office"),
    "principal_of_other_office": ({"principal": "OTHER"}, "principal"),
    "principal_missing": ({"principal": 10**12}, "principal"),
    "principal_too_large": ({"principal": "9" * 30}, "principal"),
    "bad_other_members": ({"other_members": "12 abc"}, "other_members"),
    "impossible_decision_date": ({"final_decision_date": "2025-02-30"}, "final_decision_date"),
    "future_decision_date": (
        {"kind": ReturnKind.AVR_REJECTED_ASYLUM_SEEKER, "final_decision_date": IN_10_DAYS.isoformat()},
        "final_decision_date",
    ),
    "operation_for_avr": ({"operation": "OPERATION"}, "operation"),
}


@pytest.mark.parametrize("bad", sorted(OPEN_BAD_INPUT))
def test_open_bad_input_rerenders_with_field_error_and_writes_nothing(world, client, bad):
    overrides, field = OPEN_BAD_INPUT[bad]
    actor = world.iom_af_staff
    principal = person(world.iom_af, actor=actor)
    replacements = {
        "OTHER": {
            "lead_office": world.iom_de.pk,
            "principal": person(world.iom_de, actor=world.iom_de_staff).pk,
        },
    }
    overrides = {
        key: replacements["OTHER"][key]
        if value == "OTHER"
        else (_operation(world.unhcr_af, world.unhcr_af_staff).pk if value == "OPERATION" else value)
        for key, value in overrides.items()
    }
    client.force_login(actor)
    response = client.post(reverse("returns:case_create"), _open_data(world, principal, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not ReturnCase.objects.exists() and not ReturnCaseMember.objects.exists()


def _edit_data(c, **overrides):
    data = {
        "version": c.version,
        "country_of_departure": c.country_of_departure.code,
        "country_of_return": c.country_of_return.code,
        "place_of_return": c.place_of_return,
        "travel_details": c.travel_details,
        "embarkation_point": c.embarkation_point,
        "fit_to_travel": {True: "true", False: "false"}.get(c.fit_to_travel, ""),
    }
    data.update(overrides)
    return data


def test_edit_page_offers_the_fields_of_the_kind(rw, client):
    client.force_login(rw.iom_af_staff)
    form = client.get(reverse("returns:case_update", args=[rw.iom_own.case.pk])).context["form"]
    assert "final_decision_date" not in form.fields and "operation" not in form.fields
    assert form.initial["version"] == rw.iom_own.case.version
    rejected = case(rw.iom_af, rw.iom_af_staff, kind=ReturnKind.AVR_REJECTED_ASYLUM_SEEKER)
    form = client.get(reverse("returns:case_update", args=[rejected.pk])).context["form"]
    assert {"final_decision_date", "possibilities_to_stay_exhausted", "best_interests_considered"} <= set(form.fields)
    client.force_login(rw.unhcr_af_staff)
    form = client.get(reverse("returns:case_update", args=[rw.unhcr_own.case.pk])).context["form"]
    assert "operation" in form.fields and "best_interests_considered" not in form.fields


def test_edit_records_fit_to_travel_and_bumps_version(rw, client):
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    data = _edit_data(c, fit_to_travel="true", embarkation_point="Kabul airport")
    response = client.post(reverse("returns:case_update", args=[c.pk]), data)
    assert response.status_code == 302
    updated = ReturnCase.objects.get(pk=c.pk)
    assert updated.fit_to_travel is True and updated.embarkation_point == "Kabul airport"
    assert updated.version == c.version + 1


def test_edit_with_stale_version_shows_conflict_and_keeps_the_other_change(rw, client):
    c = rw.iom_own.case
    services.return_case_update(actor=rw.iom_af_manager, case=c, version=c.version, place_of_return="Herat")
    client.force_login(rw.iom_af_staff)
    response = client.post(reverse("returns:case_update", args=[c.pk]), _edit_data(c, place_of_return="Kandahar"))
    assert response.status_code == 200
    assert "Someone else changed this record since you opened it" in response.content.decode()
    assert ReturnCase.objects.get(pk=c.pk).place_of_return == "Herat"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"fit_to_travel": "maybe"}, "fit_to_travel"),
        ({"embarkation_point": "x" * 201}, "embarkation_point"),
        ({"travel_details": "by\x00air"}, "travel_details"),
        ({"version": "0"}, "version"),
    ],
)
def test_edit_bad_input_gives_field_error_and_changes_nothing(rw, client, overrides, field):
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    response = client.post(reverse("returns:case_update", args=[c.pk]), _edit_data(c, **overrides))
    assert response.status_code == 200 and field in response.context["form"].errors
    assert ReturnCase.objects.get(pk=c.pk).version == c.version


def test_add_member_from_search_and_refuse_other_office_person(rw, client):
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    newcomer = person(rw.iom_af, actor=rw.iom_af_staff, family_name="Newcomer")
    response = client.get(reverse("returns:case_detail", args=[c.pk]), {"q": "Newcomer"})
    assert [p.pk for p in response.context["people_found"]] == [newcomer.pk]
    url = reverse("returns:case_add_member", args=[c.pk])
    assert client.post(url, {"beneficiary": newcomer.pk}).status_code == 302
    assert c.members.filter(beneficiary=newcomer).exists()
    response = client.post(url, {"beneficiary": newcomer.pk})
    assert response.status_code == 200 and "This person is already on the case." in response.content.decode()
    outsider = rw.iom_other.member.beneficiary
    response = client.post(url, {"beneficiary": outsider.pk})
    assert response.status_code == 200 and "beneficiary" in response.context["member_form"].errors
    response = client.post(url, {"beneficiary": "abc"})
    assert response.status_code == 200 and "beneficiary" in response.context["member_form"].errors
    assert c.members.count() == 3


def test_remove_member_and_principal_refused(rw, client):
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    principal = c.members.get(is_principal=True)
    response = client.post(reverse("returns:case_remove_member", args=[c.pk, principal.pk]), follow=True)
    assert "The principal applicant cannot be removed; withdraw the case instead." in response.content.decode()
    assert client.post(reverse("returns:case_remove_member", args=[c.pk, rw.iom_own.member.pk])).status_code == 302
    assert list(c.members.values_list("pk", flat=True)) == [principal.pk]
    other = rw.iom_other.member
    assert client.post(reverse("returns:case_remove_member", args=[c.pk, other.pk])).status_code == 404


# --- Operations (MOU §31) and agreements (Letter) -------------------------------------------------------------


def _operation_data(world, **overrides):
    data = {
        "office": world.unhcr_af.pk,
        "title": "Return from Pakistan 2026",
        "kind": "organised",
        "status": "planning",
        "country_of_origin": "AF",
        "host_countries": ["PK", "IR"],
        "expected_number": "12000",
        "expected_start": "2026-09-01",
        "expected_end": "2026-12-31",
    }
    data.update(overrides)
    return data


def test_operation_create_by_unhcr_staff_and_detail_lists_cases(world, client):
    client.force_login(world.unhcr_af_staff)
    response = client.post(reverse("returns:operation_create"), _operation_data(world))
    assert response.status_code == 302
    operation = RepatriationOperation.objects.get()
    assert {c.code for c in operation.host_countries} == {"PK", "IR"} and operation.expected_number == 12000
    c = case(world.unhcr_af, world.unhcr_af_staff, kind=ReturnKind.VOLUNTARY_REPATRIATION, operation=operation)
    response = client.get(operation.get_absolute_url())
    assert response.context["linked_cases"] == [c] and c.reference in response.content.decode()
    client.force_login(world.iom_af_staff)  # IOM reads it (MOU §31) but does not see UNHCR's cases
    response = client.get(operation.get_absolute_url())
    assert response.status_code == 200 and response.context["linked_cases"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"expected_end": "2026-08-01"}, "expected_end"),
        ({"expected_start": "2026-02-30"}, "expected_start"),
        ({"title": "x" * 201}, "title"),
        ({"title": "Re\x00turn"}, "title"),
        ({"expected_number": "-5"}, "expected_number"),
        ({"host_countries": ["XX"]}, "host_countries"),
        ({"office": "DE"}, "office"),
    ],
)
def test_operation_bad_input_gives_field_error_and_writes_nothing(world, client, overrides, field):
    if overrides.get("office") == "DE":
        overrides = {"office": world.unhcr_de.pk}
    client.force_login(world.unhcr_af_staff)
    response = client.post(reverse("returns:operation_create"), _operation_data(world, **overrides))
    assert response.status_code == 200 and field in response.context["form"].errors, response.context["form"].errors
    assert not RepatriationOperation.objects.exists()


def test_operation_edit_and_stale_version(rw, client):
    client.force_login(rw.unhcr_af_staff)
    operation = rw.op_af
    url = reverse("returns:operation_update", args=[operation.pk])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(status="ongoing", expected_number="500")
    assert client.post(url, data).status_code == 302
    operation.refresh_from_db()
    assert operation.status == "ongoing" and operation.version == 2
    response = client.post(url, {**data, "status": "cancelled"})  # the version of the first edit: stale
    assert response.status_code == 200 and "Someone else changed this record" in response.content.decode()
    assert RepatriationOperation.objects.get(pk=operation.pk).status == "ongoing"


def _agreement_data(world, **overrides):
    parties = [world.government.pk, world.iom.pk, world.unhcr.pk]
    data = {
        "office": world.iom_af.pk,
        "kind": "tripartite",
        "title": "Afghanistan–Pakistan tripartite",
        "country_of_origin": "AF",
        "host_country": "PK",
        "parties": parties,
        "valid_from": "2026-01-01",
        "valid_until": "2027-12-31",
        "review_date": "2026-12-01",
    }
    data.update(overrides)
    return data


def test_agreement_create_and_detail_shows_parties(rw, client):
    client.force_login(rw.iom_af_manager)
    response = client.get(reverse("returns:agreement_create"))
    assert set(response.context["form"].initial["parties"]) == {rw.iom.pk, rw.unhcr.pk}
    response = client.post(reverse("returns:agreement_create"), _agreement_data(rw))
    assert response.status_code == 302
    agreement = ReturnAgreement.objects.get(title="Afghanistan–Pakistan tripartite")
    html = client.get(agreement.get_absolute_url()).content.decode()
    assert "GOV-PK" in html and "Government of Pakistan" in html and "review this form of cooperation" in html


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"parties": "IOM_ONLY"}, "parties"),
        ({"kind": "quadripartite"}, "parties"),
        ({"valid_until": "2025-01-01"}, "valid_until"),
        ({"host_country": "AF"}, "host_country"),
        ({"valid_from": ""}, "valid_from"),
        ({"title": "t\x00"}, "title"),
    ],
)
def test_agreement_bad_input_gives_field_error_and_writes_nothing(rw, client, overrides, field):
    if overrides.get("parties") == "IOM_ONLY":
        overrides = {"parties": [rw.iom.pk]}
    client.force_login(rw.iom_af_manager)
    before = ReturnAgreement.objects.count()
    response = client.post(reverse("returns:agreement_create"), _agreement_data(rw, **overrides))
    assert response.status_code == 200 and field in response.context["form"].errors, response.context["form"].errors
    assert ReturnAgreement.objects.count() == before


def test_agreement_edit_changes_review_date(rw, client):
    client.force_login(rw.iom_af_manager)
    agreement = rw.ag_iom_af
    url = reverse("returns:agreement_update", args=[agreement.pk])
    data = _agreement_data(rw, review_date="2027-01-15", version=agreement.version)
    data.pop("office")
    assert client.post(url, data).status_code == 302
    agreement.refresh_from_db()
    assert agreement.review_date == dt.date(2027, 1, 15) and agreement.version == 2


@pytest.mark.parametrize(
    ("url_name", "make"),
    [
        ("returns:operation_list", lambda w, i: _operation(w.unhcr_af, w.unhcr_af_staff, title=f"Operation {i}")),
        (
            "returns:agreement_list",
            lambda w, i: _agreement(w.iom_af, w.iom_af_manager, w.government, title=f"Agreement {i}"),
        ),
    ],
)
def test_operation_and_agreement_lists_query_count_constant(world, client, django_assert_num_queries, url_name, make):
    world.government = OrganisationFactory(code="GOV-PK", name="Government of Pakistan")
    client.force_login(world.iom_af_staff)
    url = reverse(url_name)
    for i in range(3):
        make(world, i)
    client.get(url)
    three = _count_queries(client, url)
    for i in range(3, 20):
        make(world, i)
    with django_assert_num_queries(three):
        response = client.get(url)
    assert len(response.context["object_list"]) == 20


# --- Navigation, CSRF ----------------------------------------------------------------------------------------


def test_case_detail_links_to_record_a_consultation_about_it(rw, client):
    client.force_login(rw.iom_af_staff)
    html = _detail(client, rw.iom_own.case).content.decode()
    assert f"{reverse('consultations:consultation_create')}?case={rw.iom_own.case.pk}" in html


def test_posts_without_csrf_token_forbidden_and_nothing_written(rw):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    principal = person(rw.iom_af, actor=rw.iom_af_staff)
    posts = [
        (reverse("returns:case_create"), _open_data(rw, principal)),
        (_move_url(c, "withdraw"), {"version": c.version, "reason": "Changed mind"}),
        (reverse("returns:case_update", args=[c.pk]), _edit_data(c, place_of_return="X")),
        (reverse("returns:case_remove_member", args=[c.pk, rw.iom_own.member.pk]), {}),
        (reverse("returns:case_add_member", args=[c.pk]), {"beneficiary": principal.pk}),
        (reverse("returns:agreement_create"), _agreement_data(rw)),
    ]
    before = (ReturnCase.objects.count(), ReturnCaseMember.objects.count(), ReturnAgreement.objects.count())
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    after = (ReturnCase.objects.count(), ReturnCaseMember.objects.count(), ReturnAgreement.objects.count())
    assert after == before
    c.refresh_from_db()
    assert c.stage == Stage.OPENED and c.place_of_return != "X"


def test_post_with_csrf_token_accepted(rw):
    client = Client(enforce_csrf_checks=True)
    client.force_login(rw.iom_af_staff)
    c = rw.iom_own.case
    page = client.get(c.get_absolute_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {"version": c.version, "reason": "Counselling", "csrfmiddlewaretoken": token}
    assert client.post(_move_url(c, "start_counselling"), data).status_code == 302
    assert ReturnCase.objects.get(pk=c.pk).stage == Stage.COUNSELLING


def test_consultation_linked_to_case_listed_on_case_page(rw, client):
    consultation = _consultation(rw.iom_af_staff, rw.iom_af, rw.unhcr_af, linked=rw.iom_own.case)
    client.force_login(rw.iom_af_staff)
    response = _detail(client, rw.iom_own.case)
    assert response.context["consultations"] == [consultation]
    assert Consultation.objects.count() == 3
