"""Browser pages of people, households and mandates: every URL as every role, fields per role, bad input,
concurrent edits, duplicates before saving, merging, CSRF and query counts."""

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

from beneficiaries import import_urls, services
from beneficiaries import urls as beneficiary_urls
from beneficiaries.models import Beneficiary, BeneficiaryShare, CategoryChange, Household, IdentityDocument
from jointops import access
from jointops.choices import Role
from jointops.models import AccessLog
from tests.factories.beneficiaries import category, person
from tests.factories.jointops import UserFactory

# --- The world as each actor sees it -------------------------------------------------------------------
#
# Each actor meets four people (and their households and documents): one of the office the field staff and
# manager work at ("own"), one of another office of the same organisation ("other"), one of the other agency
# ("agency"), and one of the other agency shared with the actor's office on a recorded basis ("shared").

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
PLACES = ("own", "other", "agency", "shared")


def _register(office, actor, **fields):
    """A person with a document and a household of two (the person heads it), as the office's staff would."""
    head = person(office, actor=actor, phone="+93 700 111 222", government_id="GOV-SECRET-1", **fields)
    services.document_add(actor=actor, beneficiary=head, document_type="passport", number="P-778899")
    household = services.household_create(actor=actor, head=head)
    child = person(office, actor=actor)
    services.household_add_member(actor=actor, household=household, beneficiary=child, relationship="child")
    head.refresh_from_db()
    return SimpleNamespace(person=head, household=household, member=child, document=head.documents.get())


@pytest.fixture
def people(world):
    consent = {"sharing_basis": "consent", "consent_date": dt.date(2025, 1, 10)}
    w = world
    w.iom_no_role = UserFactory(username="iom_no_role", organisation=w.iom)
    w.iom_own = _register(w.iom_af, w.iom_af_staff, **consent)
    w.iom_other = _register(w.iom_de, w.iom_de_staff)
    w.unhcr_own = _register(w.unhcr_af, w.unhcr_af_staff, **consent)
    w.unhcr_other = _register(w.unhcr_de, w.unhcr_de_staff)
    w.iom_shared = _register(w.iom_af, w.iom_af_staff, **consent)
    w.unhcr_shared = _register(w.unhcr_af, w.unhcr_af_staff, **consent)
    services.beneficiary_share(actor=w.iom_af_staff, beneficiary=w.iom_shared.person, office=w.unhcr_af)
    services.beneficiary_share(actor=w.unhcr_af_staff, beneficiary=w.unhcr_shared.person, office=w.iom_af)
    return w


def _targets(w, side: str) -> dict[str, SimpleNamespace]:
    if side == "iom":
        return {"own": w.iom_own, "other": w.iom_other, "agency": w.unhcr_own, "shared": w.unhcr_shared}
    return {"own": w.unhcr_own, "other": w.unhcr_other, "agency": w.iom_own, "shared": w.iom_shared}


# --- The table: URL × role × place -> status, per jointops.access.MATRIX -----------------------------------
#
# 2 = 200 page, 3 = 302 done, 4 = 403 (visible, action not allowed), N = 404 (hidden). Targetless URLs have one
# code per role; the others one per place (own, other, agency, shared). Roles: F field staff, M office manager,
# H HQ focal point, A administrator, N no role.

PERSON_VIEW = {"F": "2NN2", "M": "2NN2", "H": "22N2", "A": "NNNN", "N": "NNNN"}
PERSON_CHANGE_PAGE = {"F": "2NN4", "M": "2NN4", "H": "44N4", "A": "NNNN", "N": "NNNN"}
PERSON_CHANGE_DONE = {"F": "3NN4", "M": "3NN4", "H": "44N4", "A": "NNNN", "N": "NNNN"}
# Households are not shared: the household of a shared person stays hidden from the other agency.
HOUSEHOLD_VIEW = {"F": "2NNN", "M": "2NNN", "H": "22NN", "A": "NNNN", "N": "NNNN"}

TABLE = {
    # name: (method, target kind, resource, action, {role: codes})
    "beneficiaries:beneficiary_list": (
        "get",
        None,
        "beneficiary",
        "view",
        {"F": "2", "M": "2", "H": "2", "A": "4", "N": "4"},
    ),
    "beneficiaries:beneficiary_create": (
        "get",
        None,
        "beneficiary",
        "add",
        {"F": "2", "M": "2", "H": "4", "A": "4", "N": "4"},
    ),
    "beneficiaries:beneficiary_merge": (
        "get",
        None,
        "beneficiary",
        "change",
        {"F": "2", "M": "2", "H": "4", "A": "4", "N": "4"},
    ),
    "beneficiaries:beneficiary_detail": ("get", "person", "beneficiary", "view", PERSON_VIEW),
    "beneficiaries:beneficiary_update": ("get", "person", "beneficiary", "change", PERSON_CHANGE_PAGE),
    "beneficiaries:beneficiary_change_category": ("get", "person", "beneficiary", "change", PERSON_CHANGE_PAGE),
    "beneficiaries:document_add": ("get", "person", "beneficiary", "change", PERSON_CHANGE_PAGE),
    "beneficiaries:document_remove": ("post", "document", "beneficiary", "change", PERSON_CHANGE_DONE),
    "beneficiaries:beneficiary_share": ("post", "person", "beneficiary", "change", PERSON_CHANGE_DONE),
    "beneficiaries:household_list": (
        "get",
        None,
        "household",
        "view",
        {"F": "2", "M": "2", "H": "2", "A": "4", "N": "4"},
    ),
    "beneficiaries:household_create": (
        "get",
        None,
        "household",
        "add",
        {"F": "2", "M": "2", "H": "4", "A": "4", "N": "4"},
    ),
    "beneficiaries:household_detail": ("get", "household", "household", "view", HOUSEHOLD_VIEW),
    "beneficiaries:household_add_member": (
        "post",
        "household",
        "household",
        "change",
        {"F": "2NNN", "M": "2NNN", "H": "44NN", "A": "NNNN", "N": "NNNN"},  # 200: the empty form comes back
    ),
    "beneficiaries:household_remove_member": (
        "post",
        "member",
        "household",
        "change",
        {"F": "3NNN", "M": "3NNN", "H": "44NN", "A": "NNNN", "N": "NNNN"},
    ),
    "beneficiaries:mandate_matrix": (
        "get",
        None,
        "reference",
        "view",
        {"F": "2", "M": "2", "H": "2", "A": "2", "N": "4"},
    ),
}
CODES = {"2": 200, "3": 302, "4": 403, "N": 404}


def _url(name: str, target: SimpleNamespace | None, kind: str | None) -> str:
    if kind is None:
        return reverse(name)
    if kind == "person":
        return reverse(name, args=[target.person.pk])
    if kind == "document":
        return reverse(name, args=[target.person.pk, target.document.pk])
    if kind == "household":
        return reverse(name, args=[target.household.pk])
    return reverse(name, args=[target.household.pk, target.member.pk])


def _names(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= _names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_table_covers_every_url_of_the_app_but_import_and_export():
    ours = _names(beneficiary_urls.urlpatterns, "beneficiaries")
    theirs = {f"beneficiaries:{name.split(':')[-1]}" for name in _names(import_urls.urlpatterns)}
    assert ours - theirs == set(TABLE)


def test_table_agrees_with_access_matrix():
    """A role MATRIX allows succeeds on its own office's record (or targetless page); other roles never do."""
    letters = {"F": Role.FIELD_STAFF, "M": Role.OFFICE_MANAGER, "H": Role.HQ_FOCAL_POINT, "A": Role.ADMINISTRATOR}
    for name, (_method, _kind, resource, action, rows) in TABLE.items():
        for letter, role in letters.items():
            allowed = role in access.MATRIX[resource].get(action, ())
            assert (rows[letter][0] in "23") == allowed, (name, letter)
        assert rows["N"][0] in "4N", name


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_every_role_and_place_answers_per_matrix(people, name):
    method, kind, _resource, _action, rows = TABLE[name]
    mismatches, requests = [], 0
    for actor_key, (attr, letter) in ACTORS.items():
        client = Client()
        client.force_login(getattr(people, attr))
        targets = _targets(people, actor_key.split("_")[0])
        places = ["own"] if kind is None else list(PLACES)
        for place, code in zip(places, rows[letter], strict=True):
            url = _url(name, targets[place], kind)
            with transaction.atomic():  # undo each request's writes: every request sees the same world
                response = client.post(url) if method == "post" else client.get(url)
                transaction.set_rollback(True)
            requests += 1
            if response.status_code != CODES[code]:
                mismatches.append(
                    f"{actor_key} {place} {method.upper()} {url}: {response.status_code} != {CODES[code]}"
                )
    assert mismatches == []
    assert requests >= len(ACTORS)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_url_anonymous_redirects_to_login(people, name):
    method, kind, *_ = TABLE[name]
    url = _url(name, _targets(people, "iom")["own"], kind)
    response = Client().post(url) if method == "post" else Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


def test_refused_posts_write_nothing(people):
    """POSTs that answered 403/404 in the table changed nothing (the table rolls back; here we check for real)."""
    client = Client()
    client.force_login(people.iom_hq_focal)
    own = people.iom_own
    assert (
        client.post(reverse("beneficiaries:document_remove", args=[own.person.pk, own.document.pk])).status_code == 403
    )
    assert client.post(reverse("beneficiaries:beneficiary_share", args=[own.person.pk])).status_code == 403
    client.force_login(people.iom_af_staff)
    agency = people.unhcr_own
    url = reverse("beneficiaries:household_remove_member", args=[agency.household.pk, agency.member.pk])
    assert client.post(url).status_code == 404
    assert IdentityDocument.objects.filter(pk=own.document.pk).exists()
    assert not BeneficiaryShare.objects.filter(beneficiary=own.person).exists()
    agency.member.refresh_from_db()
    assert agency.member.household_id == agency.household.pk


# --- Navigation and home --------------------------------------------------------------------------------


def test_navigation_offers_people_to_staff_and_mandates_to_everyone(people):
    client = Client()
    client.force_login(people.iom_af_staff)
    html = client.get(reverse("home")).content.decode()
    for name in ("beneficiary_list", "household_list", "mandate_matrix", "beneficiary_create"):
        assert reverse(f"beneficiaries:{name}") in html
    client.force_login(people.iom_admin)
    html = client.get(reverse("home")).content.decode()
    assert reverse("beneficiaries:mandate_matrix") in html
    assert reverse("beneficiaries:beneficiary_list") not in html
    assert reverse("beneficiaries:household_list") not in html


def test_navigation_marks_people_section_active(people):
    client = Client()
    client.force_login(people.iom_af_staff)
    html = client.get(reverse("beneficiaries:beneficiary_detail", args=[people.iom_own.person.pk])).content.decode()
    assert re.search(r'class="nav-link active" aria-current="page" href="/people/"', html)


# --- List: search, filters, links, query counts ---------------------------------------------------------


def test_list_finds_another_spelling_and_reference_within_scope(people, client):
    mohammad = person(people.iom_af, actor=people.iom_af_staff, given_name="Mohammad", family_name="Rahimi")
    person(people.iom_de, actor=people.iom_de_staff, given_name="Mohammed", family_name="Rahimi")  # other office
    client.force_login(people.iom_af_staff)
    response = client.get(reverse("beneficiaries:beneficiary_list"), {"q": "Muhammad"})
    assert [p.pk for p in response.context["object_list"]] == [mohammad.pk]
    iom_case = person(people.iom_af, actor=people.iom_af_staff, iom_case_number="KBL-2026-0042")
    response = client.get(reverse("beneficiaries:beneficiary_list"), {"q": "kbl-2026-0042"})
    assert [p.pk for p in response.context["object_list"]] == [iom_case.pk]


def test_list_filters_by_category_flag_and_office(people, client):
    returnee = person(people.iom_af_field, category_code="returnee", of_concern_to_unhcr=True)
    client.force_login(people.iom_af_staff)
    url = reverse("beneficiaries:beneficiary_list")
    assert [p.pk for p in client.get(url, {"category": "returnee"}).context["object_list"]] == [returnee.pk]
    assert [p.pk for p in client.get(url, {"of_concern_to_unhcr": "true"}).context["object_list"]] == [returnee.pk]
    assert [p.pk for p in client.get(url, {"office": "IOM-AF-HRT"}).context["object_list"]] == [returnee.pk]
    response = client.get(url, {"category": "dragon"})
    assert response.status_code == 200 and list(response.context["object_list"]) == []
    assert "Some filters are not valid" in response.content.decode()


def test_list_shows_the_dashboards_filters_when_a_link_sets_them_and_names_a_bad_one(people, client):
    client.force_login(people.iom_af_staff)
    url = reverse("beneficiaries:beneficiary_list")

    def shown(response) -> list[str]:
        return [field.name for field in response.context["filter_fields"]]

    everyone = client.get(url)
    assert "organisation" not in shown(everyone) and people.unhcr_shared.person in everyone.context["object_list"]
    response = client.get(url, {"organisation": "IOM", "office_country": "AF"})
    assert shown(response)[-2:] == ["organisation", "office_country"]
    listed = set(response.context["object_list"])
    assert people.iom_own.person in listed and people.unhcr_shared.person not in listed  # UNHCR's record
    assert response.context["paginator"].count == 4  # the two heads of household and their children at IOM-AF-KBL
    response = client.get(url, {"organisation": "WHO"})
    assert list(response.context["object_list"]) == [] and "organisation" in shown(response)
    assert "No organisation has the code WHO." in response.content.decode()


def test_list_htmx_request_answers_results_and_updates_on_change(people, client):
    client.force_login(people.iom_af_staff)
    response = client.get(reverse("beneficiaries:beneficiary_list"), {"q": "Given"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="results"' in html
    assert 'hx-trigger="submit, input changed delay:400ms"' in html


def test_list_shows_only_shared_fields_columns_and_no_contact_details(people, client):
    client.force_login(people.iom_af_staff)
    html = client.get(reverse("beneficiaries:beneficiary_list")).content.decode()
    assert people.unhcr_shared.person.get_absolute_url() in html
    assert "+93 700 111 222" not in html and "GOV-SECRET-1" not in html


def test_list_links_to_import_and_export_per_role(people, client, settings):
    client.force_login(people.iom_af_staff)
    response = client.get(reverse("beneficiaries:beneficiary_list"), {"category": "asylum_seeker"})
    context = response.context
    assert context["can_add"] and context["can_export"]
    assert context["export_query"] == "category=asylum_seeker"
    html = response.content.decode()
    for name in ("beneficiary_import", "beneficiary_export"):
        if name in {pattern.name for pattern in import_urls.urlpatterns}:  # the import/export pages are wired
            assert reverse(f"beneficiaries:{name}") in html
    assert reverse("beneficiaries:beneficiary_create") in html
    client.force_login(people.iom_hq_focal)
    response = client.get(reverse("beneficiaries:beneficiary_list"))
    assert response.context["can_export"] and not response.context["can_add"]
    html = response.content.decode()
    assert reverse("beneficiaries:beneficiary_create") not in html
    if "beneficiary_import" in {pattern.name for pattern in import_urls.urlpatterns}:
        assert reverse("beneficiaries:beneficiary_import") not in html


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_list_query_count_does_not_grow_with_page_size(world, client, django_assert_num_queries):
    client.force_login(world.iom_af_staff)
    url = reverse("beneficiaries:beneficiary_list")
    for _ in range(10):
        person(world.iom_af)
    client.get(url)  # warm-up: the first request of a session fills caches
    ten = _count_queries(client, url)
    assert len(client.get(url).context["object_list"]) == 10
    for _ in range(40):
        person(world.iom_af_field)
    with django_assert_num_queries(ten):
        response = client.get(url)
    assert len(response.context["object_list"]) == 50


def test_household_list_query_count_does_not_grow_with_page_size(world, client, django_assert_num_queries):
    client.force_login(world.iom_af_staff)
    url = reverse("beneficiaries:household_list")

    def households(n):
        for _ in range(n):
            head = person(world.iom_af)
            household = services.household_create(actor=None, head=head)
            services.household_add_member(
                actor=None, household=household, beneficiary=person(world.iom_af), relationship="spouse"
            )

    households(3)
    client.get(url)  # warm-up
    three = _count_queries(client, url)
    households(22)
    with django_assert_num_queries(three):
        response = client.get(url)
    assert len(response.context["object_list"]) == 25


# --- Detail: fields per role, access log, history --------------------------------------------------------


def test_detail_logs_the_read(people, client):
    client.force_login(people.iom_af_staff)
    target = people.iom_own.person
    before = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    client.get(reverse("beneficiaries:beneficiary_detail", args=[target.pk]))
    entries = list(AccessLog.objects.filter(pk__gt=before).order_by("pk"))
    # The person's own read, then (issue 8) the household members the page names, each row by this user.
    assert [e.object_ids for e in entries] == [[str(target.pk)], [str(people.iom_own.member.pk)]]
    assert {e.user for e in entries} == {people.iom_af_staff}


def test_detail_shows_everything_to_own_office_staff(people, client):
    client.force_login(people.iom_af_staff)
    own = people.iom_own
    html = client.get(reverse("beneficiaries:beneficiary_detail", args=[own.person.pk])).content.decode()
    assert "+93 700 111 222" in html and "GOV-SECRET-1" in html and "P-778899" in html
    assert own.household.reference in html and own.member.given_name in html
    assert "Return cases" in html and "Record a change of category" in html
    assert reverse("beneficiaries:beneficiary_update", args=[own.person.pk]) in html
    assert "Share with UNHCR-AF-KBL" in html


def test_detail_hq_focal_point_sees_no_contact_details_nor_actions(people, client):
    client.force_login(people.iom_hq_focal)
    own = people.iom_own
    html = client.get(reverse("beneficiaries:beneficiary_detail", args=[own.person.pk])).content.decode()
    assert "+93 700 111 222" not in html and "P-778899" not in html
    assert "Contact details are not shown to your role" in html
    assert own.person.given_name in html and "GOV-SECRET-1" in html  # what HQ may read is shown
    assert reverse("beneficiaries:beneficiary_update", args=[own.person.pk]) not in html
    assert "Record a change of category" not in html


def test_detail_of_shared_record_shows_only_shared_fields(people, client):
    client.force_login(people.iom_af_staff)
    shared = people.unhcr_shared
    html = client.get(reverse("beneficiaries:beneficiary_detail", args=[shared.person.pk])).content.decode()
    assert shared.person.given_name in html
    for secret in ("+93 700 111 222", "GOV-SECRET-1", "P-778899", shared.household.reference):
        assert secret not in html
    assert reverse("beneficiaries:beneficiary_update", args=[shared.person.pk]) not in html


def test_detail_audit_history_names_personal_fields_without_values(people, client):
    own = people.iom_own
    p = services.beneficiary_update(
        actor=people.iom_af_manager, beneficiary=own.person, version=own.person.version, phone="+93 799 000 001"
    )
    services.beneficiary_change_category(
        actor=people.iom_af_staff, beneficiary=p, category=category("returnee"), effective_date=timezone.localdate()
    )
    client.force_login(people.iom_hq_focal)
    html = client.get(reverse("beneficiaries:beneficiary_detail", args=[p.pk])).content.decode()
    history = html[html.index('id="history"') :]
    assert "Phone" in history and "+93 799" not in history and "+93 700" not in history
    assert "Asylum-seeker</span> → Returnee" in history  # the category is not personal: its values are shown
    assert str(people.iom_af_manager) in history


# --- Create: validation, duplicates ----------------------------------------------------------------------


def _person_data(world, **overrides):
    data = {
        "office": world.iom_af.pk,
        "category": category("asylum_seeker").pk,
        "given_name": "Farida",
        "family_name": "Noori",
        "sex": "female",
        "date_of_birth": "1988-04-12",
        "nationality": "AF",
        "country_of_residence": "AF",
        "sharing_basis": "none",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


FUTURE = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
BAD_INPUT = {
    "empty": ({"given_name": "", "family_name": ""}, "given_name"),
    "blank_family_name": ({"family_name": "   "}, "family_name"),
    "nul": ({"given_name": "Far\x00ida"}, "given_name"),
    "too_long": ({"family_name": "N" * 101}, "family_name"),
    "too_long_address": ({"address": "A" * 501}, "address"),
    "impossible_date": ({"date_of_birth": "2024-02-30"}, "date_of_birth"),
    "not_a_date": ({"date_of_birth": "yesterday"}, "date_of_birth"),
    "future_birth_date": ({"date_of_birth": FUTURE}, "date_of_birth"),
    "before_1900": ({"date_of_birth": "1850-01-01"}, "date_of_birth"),
    "unknown_need": ({"specific_needs": ["flying"]}, "specific_needs"),
    "unknown_country": ({"nationality": "XX"}, "nationality"),
    "unknown_sex": ({"sex": "dragon"}, "sex"),
    "bad_email": ({"email": "not-an-address"}, "email"),
    "consent_without_date": ({"sharing_basis": "consent"}, "consent_date"),
    "future_consent": ({"sharing_basis": "consent", "consent_date": FUTURE}, "consent_date"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_create_bad_input_rerenders_with_field_error_and_writes_nothing(world, client, case):
    overrides, field = BAD_INPUT[case]
    client.force_login(world.iom_af_staff)
    before = (Beneficiary.objects.count(), CategoryChange.objects.count())
    response = client.post(reverse("beneficiaries:beneficiary_create"), _person_data(world, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and "is-invalid" in html
    assert (Beneficiary.objects.count(), CategoryChange.objects.count()) == before


def test_create_at_office_not_covered_gives_field_error(world, client):
    client.force_login(world.iom_af_staff)
    response = client.post(reverse("beneficiaries:beneficiary_create"), _person_data(world, office=world.iom_de.pk))
    assert response.status_code == 200 and "office" in response.context["form"].errors
    assert not Beneficiary.objects.exists()


def test_create_registers_with_needs_and_category_history(world, client):
    client.force_login(world.iom_af_staff)
    data = _person_data(world, specific_needs=["single_parent", "woman_at_risk"], category_since="2025-02-01")
    response = client.post(reverse("beneficiaries:beneficiary_create"), data)
    created = Beneficiary.objects.get()
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert created.specific_needs == ["single_parent", "woman_at_risk"] and created.created_by == world.iom_af_staff
    assert created.category_changes.get().effective_date == dt.date(2025, 2, 1)


def test_create_shows_duplicates_first_then_save_anyway_registers(world, client):
    existing = person(
        world.iom_af, given_name="Mohammad", family_name="Ahmadi", date_of_birth=dt.date(1990, 5, 1), nationality="AF"
    )
    client.force_login(world.iom_af_staff)
    url = reverse("beneficiaries:beneficiary_create")
    data = _person_data(world, given_name="Muhammad", family_name="Ahmadi", date_of_birth="1990-05-01")
    response = client.post(url, data)
    assert response.status_code == 200
    assert [row["person"].pk for row in response.context["candidates"]] == [existing.pk]
    html = response.content.decode()
    assert existing.get_absolute_url() in html and "This person may already be registered" in html
    assert Beneficiary.objects.count() == 1
    key = response.context["duplicates_key"]
    # "Save anyway" holds for the names it was given for: changed names are checked again.
    changed = client.post(url, {**data, "given_name": "Mohamed", "save_anyway": key})
    assert changed.status_code == 200 and changed.context["candidates"]
    assert Beneficiary.objects.count() == 1
    response = client.post(url, {**data, "save_anyway": key})
    assert response.status_code == 302
    assert Beneficiary.objects.filter(given_name="Muhammad").count() == 1


def test_create_without_likely_duplicate_saves_at_once(world, client):
    person(world.iom_af, given_name="Hamid", family_name="Karimi")
    client.force_login(world.iom_af_staff)
    response = client.post(reverse("beneficiaries:beneficiary_create"), _person_data(world))
    assert response.status_code == 302
    assert Beneficiary.objects.filter(given_name="Farida").exists()


# --- Edit: validation, concurrent edits ------------------------------------------------------------------


def _edit_data(p, **overrides):
    data = {
        "version": p.version,
        "given_name": p.given_name,
        "family_name": p.family_name,
        "sex": p.sex,
        "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else "",
        "nationality": p.nationality.code or "",
        "country_of_residence": p.country_of_residence.code or "",
        "phone": p.phone,
        "sharing_basis": p.sharing_basis,
        "consent_date": p.consent_date.isoformat() if p.consent_date else "",
    }
    data.update(overrides)
    return data


def test_edit_page_carries_version_and_current_values(people, client):
    client.force_login(people.iom_af_staff)
    p = people.iom_own.person
    html = client.get(reverse("beneficiaries:beneficiary_update", args=[p.pk])).content.decode()
    assert f'name="version" value="{p.version}"' in html
    assert 'type="date"' in html and 'value="+93 700 111 222"' in html
    assert '<select name="nationality"' in html and 'type="checkbox" name="specific_needs"' in html


def test_edit_saves_changes(people, client):
    client.force_login(people.iom_af_staff)
    p = people.iom_own.person
    loaded = p.version
    response = client.post(
        reverse("beneficiaries:beneficiary_update", args=[p.pk]),
        _edit_data(p, family_name="Ahmadzai", specific_needs=["disability"]),
    )
    assert response.status_code == 302 and response["Location"] == p.get_absolute_url()
    p.refresh_from_db()
    assert p.family_name == "Ahmadzai" and p.specific_needs == ["disability"] and p.version == loaded + 1


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_edit_bad_input_rerenders_with_field_error_and_changes_nothing(people, client, case):
    overrides, field = BAD_INPUT[case]
    client.force_login(people.iom_af_staff)
    p = people.iom_own.person
    if case == "consent_without_date":
        overrides = {**overrides, "consent_date": ""}
    response = client.post(reverse("beneficiaries:beneficiary_update", args=[p.pk]), _edit_data(p, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    fresh = Beneficiary.objects.get(pk=p.pk)
    assert (fresh.version, fresh.given_name, fresh.family_name) == (p.version, p.given_name, p.family_name)


def test_edit_with_stale_version_shows_conflict_and_keeps_the_other_change(people, client):
    client.force_login(people.iom_af_staff)
    p = people.iom_own.person
    loaded = _edit_data(p, phone="+93 1 mine")
    services.beneficiary_update(actor=people.iom_af_manager, beneficiary=p, version=p.version, phone="+93 2 theirs")
    response = client.post(reverse("beneficiaries:beneficiary_update", args=[p.pk]), loaded)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else changed this record since you opened it" in html
    assert 'value="+93 1 mine"' in html  # the user's input is kept to re-apply
    assert f'name="version" value="{p.version}"' in html  # still the stale version: a second click fails too
    p.refresh_from_db()
    assert p.phone == "+93 2 theirs"


def test_edit_tampered_version_is_a_clear_error(people, client):
    client.force_login(people.iom_af_staff)
    p = people.iom_own.person
    response = client.post(reverse("beneficiaries:beneficiary_update", args=[p.pk]), _edit_data(p, version="x"))
    assert response.status_code == 200 and "version" in response.context["form"].errors
    assert Beneficiary.objects.get(pk=p.pk).version == p.version


def test_edit_of_merged_record_refused_with_message(people, client):
    survivor, duplicate = people.iom_own.person, person(people.iom_af)
    services.beneficiary_merge(actor=people.iom_af_staff, survivor=survivor, duplicate=duplicate)
    duplicate.refresh_from_db()
    client.force_login(people.iom_af_staff)
    response = client.post(
        reverse("beneficiaries:beneficiary_update", args=[duplicate.pk]), _edit_data(duplicate, family_name="New")
    )
    assert response.status_code == 200
    assert "merged into another" in response.content.decode()
    assert Beneficiary.objects.get(pk=duplicate.pk).family_name != "New"


# --- Category changes, documents, sharing ----------------------------------------------------------------


def test_category_change_recorded_and_becomes_current(people, client):
    client.force_login(people.iom_af_staff)
    p = people.iom_own.person
    today = timezone.localdate().isoformat()  # registered today: a change dated today becomes the current one
    data = {"category": category("rejected_asylum_seeker").pk, "effective_date": today, "reason": "Decision"}
    response = client.post(reverse("beneficiaries:beneficiary_change_category", args=[p.pk]), data)
    assert response.status_code == 302 and response["Location"].endswith("#category-history")
    p.refresh_from_db()
    assert p.category.code == "rejected_asylum_seeker"
    html = client.get(p.get_absolute_url()).content.decode()
    assert "Rejected asylum-seeker" in html and "Decision" in html


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "category"),
        ({"effective_date": "2024-02-30"}, "effective_date"),
        ({"effective_date": FUTURE}, "effective_date"),
        ({"reason": "R" * 301}, "reason"),
        ({"reason": "a\x00b"}, "reason"),
    ],
)
def test_category_change_bad_input_gives_field_error(people, client, data, field):
    client.force_login(people.iom_af_staff)
    p = people.iom_own.person
    full = {"category": category("returnee").pk, "effective_date": "2025-01-01", **data}
    if not data:
        full = {}
    response = client.post(reverse("beneficiaries:beneficiary_change_category", args=[p.pk]), full)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert p.category_changes.count() == 1


def test_document_add_and_remove(people, client):
    client.force_login(people.iom_af_staff)
    p = people.iom_own.person
    url = reverse("beneficiaries:document_add", args=[p.pk])
    response = client.post(url, {"document_type": "passport", "number": "", "expiry_date": "2030-02-30"})
    assert response.status_code == 200
    assert {"number", "expiry_date"} <= set(response.context["form"].errors)
    data = {"document_type": "national_id", "number": "TZ-1", "issuing_country": "AF", "expiry_date": "2031-01-01"}
    assert client.post(url, data).status_code == 302
    document = p.documents.get(number="TZ-1")
    response = client.post(reverse("beneficiaries:document_remove", args=[p.pk, document.pk]))
    assert response.status_code == 302
    assert not IdentityDocument.objects.filter(pk=document.pk).exists()


def test_document_remove_of_another_persons_document_404(people, client):
    client.force_login(people.iom_af_staff)
    own, other = people.iom_own, people.iom_shared
    response = client.post(reverse("beneficiaries:document_remove", args=[own.person.pk, other.document.pk]))
    assert response.status_code == 404
    assert IdentityDocument.objects.filter(pk=other.document.pk).exists()


def test_share_with_counterpart_of_the_other_agency(people, client):
    client.force_login(people.iom_af_staff)
    p = people.iom_own.person
    response = client.post(reverse("beneficiaries:beneficiary_share", args=[p.pk]), follow=True)
    assert "Record shared with UNHCR-AF-KBL." in response.content.decode()
    share = BeneficiaryShare.objects.get(beneficiary=p)
    assert share.office == people.unhcr_af and share.basis == "consent"
    client.force_login(people.unhcr_af_staff)
    assert client.get(p.get_absolute_url()).status_code == 200


def test_share_from_field_office_uses_country_office_counterpart(world, client):
    p = person(world.iom_af_field, sharing_basis="consent", consent_date=dt.date(2025, 1, 2))
    client.force_login(world.iom_field_staff)
    assert client.post(reverse("beneficiaries:beneficiary_share", args=[p.pk])).status_code == 302
    assert BeneficiaryShare.objects.get(beneficiary=p).office == world.unhcr_af


def test_share_without_basis_refused_with_message(world, client):
    p = person(world.iom_af)
    client.force_login(world.iom_af_staff)
    response = client.post(reverse("beneficiaries:beneficiary_share", args=[p.pk]), follow=True)
    assert "Record the legitimate basis for sharing" in response.content.decode()
    assert not BeneficiaryShare.objects.exists()


# --- Merge -----------------------------------------------------------------------------------------------


def test_merge_page_lists_candidates_then_compares_then_merges(world, client):
    survivor = person(world.iom_af, given_name="Mohammad", family_name="Ahmadi", date_of_birth=dt.date(1990, 5, 1))
    duplicate = person(world.iom_af, given_name="Muhammad", family_name="Ahmadi", date_of_birth=dt.date(1990, 5, 1))
    client.force_login(world.iom_af_staff)
    url = reverse("beneficiaries:beneficiary_merge")
    response = client.get(url, {"survivor": survivor.pk})
    assert [row["person"].pk for row in response.context["candidates"]] == [duplicate.pk]
    response = client.get(url, {"survivor": survivor.pk, "duplicate": duplicate.pk})
    assert response.context["ready"] and f"Merge #{duplicate.pk} into #{survivor.pk}" in response.content.decode()
    response = client.post(url, {"survivor": survivor.pk, "duplicate": duplicate.pk})
    assert response.status_code == 302 and response["Location"] == survivor.get_absolute_url()
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor
    assert duplicate.history.count() >= 2  # the duplicate keeps its own audit trail


def test_merge_across_scopes_refused_and_nothing_merged(people, client):
    client.force_login(people.iom_af_staff)
    url = reverse("beneficiaries:beneficiary_merge")
    own = people.iom_own.person
    other, shared = people.iom_other.person, people.unhcr_shared.person
    assert client.post(url, {"survivor": own.pk, "duplicate": other.pk}).status_code == 404  # hidden
    assert client.post(url, {"survivor": own.pk, "duplicate": shared.pk}).status_code == 403  # visible, not theirs
    assert client.post(url, {"survivor": shared.pk, "duplicate": own.pk}).status_code == 403
    response = client.get(url, {"survivor": own.pk, "duplicate": shared.pk})
    assert response.status_code == 200 and not response.context["ready"]
    assert "duplicate" in response.context["form"].errors
    assert not Beneficiary.objects.filter(merged_into__isnull=False).exists()


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"survivor": "x", "duplicate": "1"},
        {"survivor": "1\x00", "duplicate": "2"},
        {"survivor": "5", "duplicate": "5"},
    ],
)
def test_merge_bad_input_gives_field_error(people, client, data):
    client.force_login(people.iom_af_staff)
    response = client.post(reverse("beneficiaries:beneficiary_merge"), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert not Beneficiary.objects.filter(merged_into__isnull=False).exists()


def test_merge_page_query_string_with_bad_ids_is_an_error_not_a_crash(people, client):
    client.force_login(people.iom_af_staff)
    response = client.get(reverse("beneficiaries:beneficiary_merge"), {"survivor": "abc", "duplicate": "9" * 30})
    assert response.status_code == 200 and response.context["form"].errors


# --- Households ------------------------------------------------------------------------------------------


def test_household_create_with_chosen_head(world, client):
    head = person(world.iom_af, given_name="Zarmina", family_name="Safi")
    client.force_login(world.iom_af_staff)
    url = reverse("beneficiaries:household_create")
    page = client.get(url, {"q": "Zarmina"})
    assert [p.pk for p in page.context["found"]] == [head.pk]
    page = client.get(url, {"head": head.pk})
    assert page.context["chosen_head"] == head and page.context["form"].initial["head"] == head.pk
    response = client.post(url, {"head": head.pk, "notes": "Arrived together"})
    household = Household.objects.get()
    assert response.status_code == 302 and response["Location"] == household.get_absolute_url()
    head.refresh_from_db()
    assert household.head == head and head.relationship_to_head == "head"


@pytest.mark.parametrize("case", ["empty", "hidden", "shared", "already", "nul_notes"])
def test_household_create_bad_head_gives_field_error(people, client, case):
    client.force_login(people.iom_af_staff)
    data = {
        "empty": {},
        "hidden": {"head": people.iom_other.member.pk},
        "shared": {"head": people.unhcr_shared.person.pk},
        "already": {"head": people.iom_own.member.pk},
        "nul_notes": {"head": person(people.iom_af).pk, "notes": "a\x00b"},
    }[case]
    before = Household.objects.count()
    response = client.post(reverse("beneficiaries:household_create"), data)
    assert response.status_code == 200 and response.context["form"].errors
    assert Household.objects.count() == before


def test_household_add_and_remove_member(people, client):
    client.force_login(people.iom_af_staff)
    own = people.iom_own
    newcomer = person(people.iom_af, given_name="Sahar", family_name="Amiri")
    page = client.get(own.household.get_absolute_url(), {"q": "Sahar"})
    assert [p.pk for p in page.context["found"]] == [newcomer.pk]
    url = reverse("beneficiaries:household_add_member", args=[own.household.pk])
    assert client.post(url, {"beneficiary": newcomer.pk, "relationship": "spouse"}).status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.household == own.household and newcomer.relationship_to_head == "spouse"
    url = reverse("beneficiaries:household_remove_member", args=[own.household.pk, newcomer.pk])
    assert client.post(url).status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.household is None


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("no_relationship", "relationship"),
        ("head_relationship", "relationship"),
        ("hidden_person", "beneficiary"),
        ("shared_person", "beneficiary"),
        ("bad_number", "beneficiary"),
    ],
)
def test_household_add_member_bad_input_gives_field_error(people, client, case, field):
    client.force_login(people.iom_af_staff)
    own = people.iom_own
    newcomer = person(people.iom_af)
    data = {
        "no_relationship": {"beneficiary": newcomer.pk},
        "head_relationship": {"beneficiary": newcomer.pk, "relationship": "head"},
        "hidden_person": {"beneficiary": people.iom_other.person.pk, "relationship": "child"},
        "shared_person": {"beneficiary": people.unhcr_shared.person.pk, "relationship": "child"},
        "bad_number": {"beneficiary": "1\x00", "relationship": "child"},
    }[case]
    response = client.post(reverse("beneficiaries:household_add_member", args=[own.household.pk]), data)
    assert response.status_code == 200
    assert field in response.context["member_form"].errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert own.household.members.count() == 2


def test_household_remove_head_refused_with_message(people, client):
    client.force_login(people.iom_af_staff)
    own = people.iom_own
    url = reverse("beneficiaries:household_remove_member", args=[own.household.pk, own.person.pk])
    response = client.post(url, follow=True)
    assert "Name another head of household" in response.content.decode()
    own.person.refresh_from_db()
    assert own.person.household == own.household


# --- Mandates --------------------------------------------------------------------------------------------


def test_mandate_matrix_shows_each_category_with_role_and_paragraph(people, client):
    client.force_login(people.unhcr_admin)
    response = client.get(reverse("beneficiaries:mandate_matrix"))
    html = response.content.decode()
    assert len(response.context["matrix_rows"]) == 7
    assert [o.code for o in response.context["organisations"]] == ["UNHCR", "IOM"]
    assert "Rejected asylum-seeker" in html and "MOU §7" in html and "Lead" in html


def test_mandate_matrix_is_translated(people, client):
    client.force_login(people.iom_af_staff)
    client.cookies["jointops_language"] = "fr"
    html = client.get(reverse("beneficiaries:mandate_matrix")).content.decode()
    assert 'lang="fr"' in html and "Demandeur d’asile débouté" in html


# --- CSRF ------------------------------------------------------------------------------------------------


def test_posts_without_csrf_token_forbidden_and_nothing_written(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.iom_af_staff)
    own = people.iom_own
    before = (Beneficiary.objects.count(), BeneficiaryShare.objects.count(), IdentityDocument.objects.count())
    posts = [
        (reverse("beneficiaries:beneficiary_create"), _person_data(people)),
        (reverse("beneficiaries:beneficiary_update", args=[own.person.pk]), _edit_data(own.person, family_name="X")),
        (reverse("beneficiaries:beneficiary_share", args=[own.person.pk]), {}),
        (reverse("beneficiaries:document_remove", args=[own.person.pk, own.document.pk]), {}),
        (reverse("beneficiaries:beneficiary_merge"), {"survivor": own.person.pk, "duplicate": own.member.pk}),
        (reverse("beneficiaries:household_remove_member", args=[own.household.pk, own.member.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    after = (Beneficiary.objects.count(), BeneficiaryShare.objects.count(), IdentityDocument.objects.count())
    assert after == before
    assert Beneficiary.objects.get(pk=own.person.pk).family_name != "X"


def test_post_with_csrf_token_accepted(people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.iom_af_staff)
    page = client.get(reverse("beneficiaries:beneficiary_create")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = {**_person_data(people, given_name="Laila", family_name="Hosseini"), "csrfmiddlewaretoken": token}
    assert client.post(reverse("beneficiaries:beneficiary_create"), data).status_code == 302
    assert Beneficiary.objects.filter(given_name="Laila").exists()


def test_mandate_matrix_wording_is_in_the_translation_catalogue(db):
    """Every description and mandate loaded by the data migration is marked for translation (reference_texts)."""
    from beneficiaries.models import BeneficiaryCategory, Mandate
    from beneficiaries.reference_texts import REFERENCE_TEXTS

    loaded = set(BeneficiaryCategory.objects.values_list("description", flat=True))
    loaded |= set(Mandate.objects.values_list("services", flat=True))
    assert len(loaded) > 10 and loaded <= set(REFERENCE_TEXTS)
