"""Issue 8 (accountability): every page of people and households that shows names writes the read to the access log
(resource "beneficiary", the people's ids in the order shown, a purpose)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from rest_framework.test import APIClient

from beneficiaries import services
from jointops.models import AccessLog
from tests.factories.beneficiaries import category, person


def _last_pk() -> int:
    return AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _new_rows(before: int) -> list[AccessLog]:
    return list(AccessLog.objects.filter(pk__gt=before).order_by("pk"))


def _household(world):
    head = person(world.iom_af, actor=world.iom_af_staff, given_name="Mahbooba", family_name="Karimi")
    household = services.household_create(actor=world.iom_af_staff, head=head)
    child = person(world.iom_af, actor=world.iom_af_staff, given_name="Farid", family_name="Karimi")
    services.household_add_member(
        actor=world.iom_af_staff, household=household, beneficiary=child, relationship="child"
    )
    return household, head, child


def test_people_list_logs_the_people_on_the_page(world, client):
    first = person(world.iom_af, actor=world.iom_af_staff, given_name="Nazanin", family_name="Hakimi")
    second = person(world.iom_af, actor=world.iom_af_staff, given_name="Shirin", family_name="Hakimi")
    client.force_login(world.iom_af_staff)
    before = _last_pk()
    response = client.get(reverse("beneficiaries:beneficiary_list"), {"q": "Hakimi"})
    assert "Nazanin" in response.content.decode()
    [row] = _new_rows(before)
    assert (row.user, row.action, row.resource, row.purpose) == (world.iom_af_staff, "list", "beneficiary", "people")
    assert sorted(row.object_ids) == sorted([str(first.pk), str(second.pk)])
    assert row.object_ids == [str(p.pk) for p in response.context["object_list"]]
    before = _last_pk()  # a page naming nobody writes nothing
    assert client.get(reverse("beneficiaries:beneficiary_list"), {"q": "Nobody"}).status_code == 200
    assert _new_rows(before) == []


def test_household_list_logs_the_heads_it_names(world, client):
    household, head, _child = _household(world)
    client.force_login(world.iom_af_staff)
    before = _last_pk()
    assert "Mahbooba" in client.get(reverse("beneficiaries:household_list")).content.decode()
    [row] = _new_rows(before)
    assert (row.action, row.object_ids, row.purpose) == ("list", [str(head.pk)], "households")


def test_household_detail_logs_its_members(world, client):
    household, head, child = _household(world)
    client.force_login(world.iom_af_staff)
    before = _last_pk()
    html = client.get(household.get_absolute_url()).content.decode()
    assert "Mahbooba" in html and "Farid" in html
    [row] = _new_rows(before)
    assert (row.action, row.purpose) == ("view", f"household {household.reference}")
    assert sorted(row.object_ids) == sorted([str(head.pk), str(child.pk)])


def test_household_detail_person_search_logs_the_people_found(world, client):
    household, _head, _child = _household(world)
    found = person(world.iom_af, actor=world.iom_af_staff, given_name="Wahid", family_name="Sultani")
    client.force_login(world.iom_af_staff)
    before = _last_pk()
    assert "Wahid" in client.get(household.get_absolute_url(), {"q": "Sultani"}).content.decode()
    search = [row for row in _new_rows(before) if row.action == "list"]
    assert [(r.object_ids, r.purpose) for r in search] == [
        ([str(found.pk)], f"household {household.reference}: person search")
    ]


def test_person_detail_logs_the_household_members_it_names(world, client):
    household, head, child = _household(world)
    client.force_login(world.iom_af_staff)
    before = _last_pk()
    html = client.get(head.get_absolute_url()).content.decode()
    assert "Farid" in html
    rows = {tuple(row.object_ids) for row in _new_rows(before)}
    assert (str(head.pk),) in rows  # the person's own read (the selector)
    assert (str(child.pk),) in rows  # the household member named beside them


def test_category_and_document_forms_log_the_person_they_name(world, client):
    someone = person(world.iom_af, actor=world.iom_af_staff, given_name="Roya", family_name="Azizi")
    client.force_login(world.iom_af_staff)
    for name in ("beneficiaries:beneficiary_change_category", "beneficiaries:document_add"):
        before = _last_pk()
        response = client.get(reverse(name, args=[someone.pk]))
        assert response.status_code == 200 and "Roya" in response.content.decode()
        [row] = _new_rows(before)
        assert (row.action, row.object_ids) == ("view", [str(someone.pk)]), name


def test_likely_duplicates_shown_on_registration_are_logged(world, client):
    existing = person(
        world.iom_af, given_name="Hamid", family_name="Safi", date_of_birth=dt.date(1985, 3, 2), nationality="AF"
    )
    client.force_login(world.iom_af_staff)
    data = {
        "office": world.iom_af.pk,
        "category": category("asylum_seeker").pk,
        "given_name": "Hamid",
        "family_name": "Safi",
        "sex": "male",
        "date_of_birth": "1985-03-02",
        "nationality": "AF",
        "country_of_residence": "AF",
        "sharing_basis": "none",
    }
    before = _last_pk()
    response = client.post(reverse("beneficiaries:beneficiary_create"), data)
    assert response.status_code == 200 and response.context.get("candidates"), response.context["form"].errors
    [row] = _new_rows(before)
    assert (row.action, row.object_ids, row.purpose) == ("list", [str(existing.pk)], "duplicate check")


def test_household_api_list_and_detail_log_the_members_they_name(world):
    household, head, child = _household(world)
    api = APIClient()
    api.force_authenticate(world.iom_af_staff)
    before = _last_pk()
    body = api.get("/api/v1/households/").json()
    assert {m["given_name"] for m in body["results"][0]["members"]} == {"Mahbooba", "Farid"}
    [row] = _new_rows(before)
    assert (row.action, row.resource, row.purpose) == ("list", "beneficiary", "households")
    assert sorted(row.object_ids) == sorted([str(head.pk), str(child.pk)])
    before = _last_pk()
    assert api.get(f"/api/v1/households/{household.pk}/").status_code == 200
    [row] = _new_rows(before)
    assert (row.action, row.purpose) == ("view", f"household {household.reference}")
    assert sorted(row.object_ids) == sorted([str(head.pk), str(child.pk)])
