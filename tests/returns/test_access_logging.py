"""Issue 8 (accountability): every return-case page that shows people's names writes the read to the access log
(resource "beneficiary", the people's ids, a purpose naming the case or the page)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from jointops.models import AccessLog
from returns import services
from tests.factories.beneficiaries import person
from tests.factories.returns import case, scheduled


def _new_rows(before: int) -> list[AccessLog]:
    return list(AccessLog.objects.filter(pk__gt=before).order_by("pk"))


def _last_pk() -> int:
    return AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def family_case(world):
    principal = person(world.iom_af, actor=world.iom_af_staff, given_name="Gulalai", family_name="Noori")
    c = case(world.iom_af, world.iom_af_staff, principal=principal)
    child = person(world.iom_af, actor=world.iom_af_staff, given_name="Arash", family_name="Noori")
    services.return_case_add_member(actor=world.iom_af_staff, case=c, beneficiary=child)
    return c, principal, child


def test_case_detail_logs_the_members_it_names(world, client, family_case):
    c, principal, child = family_case
    client.force_login(world.iom_af_staff)
    before = _last_pk()
    html = client.get(c.get_absolute_url()).content.decode()
    assert "Gulalai" in html and "Arash" in html
    [row] = _new_rows(before)
    assert (row.user, row.action, row.resource) == (world.iom_af_staff, "view", "beneficiary")
    assert row.object_ids == [str(principal.pk), str(child.pk)] and row.record_count == 2
    assert row.purpose == f"return case {c.reference}" and row.path == c.get_absolute_url()


def test_case_detail_person_search_logs_the_people_found(world, client, family_case):
    c, _principal, _child = family_case
    other = person(world.iom_af, actor=world.iom_af_staff, given_name="Zmarai", family_name="Ahmadzai")
    client.force_login(world.iom_af_staff)
    before = _last_pk()
    html = client.get(c.get_absolute_url(), {"q": "Ahmadzai"}).content.decode()
    assert "Zmarai" in html
    rows = _new_rows(before)
    search = [row for row in rows if row.action == "list"]
    assert [r.object_ids for r in search] == [[str(other.pk)]]
    assert search[0].purpose == f"return case {c.reference}: person search"


def test_case_list_logs_the_principals_it_names(world, client, family_case):
    c, principal, _child = family_case
    client.force_login(world.iom_af_staff)
    before = _last_pk()
    html = client.get(reverse("returns:case_list")).content.decode()
    assert "Gulalai" in html
    [row] = _new_rows(before)
    assert (row.action, row.object_ids, row.purpose) == ("list", [str(principal.pk)], "return cases")
    before = _last_pk()  # a page naming nobody writes nothing
    assert client.get(reverse("returns:case_list"), {"q": "nobody at all"}).status_code == 200
    assert _new_rows(before) == []


def test_upcoming_departures_log_the_principals_they_name(world, client):
    c = scheduled(world.iom_af, world.iom_af_staff, days=3)
    principal = c.members.get(is_principal=True).beneficiary
    client.force_login(world.iom_af_staff)
    before = _last_pk()
    assert principal.given_name in client.get(reverse("returns:case_upcoming")).content.decode()
    [row] = _new_rows(before)
    assert (row.action, row.object_ids, row.purpose) == ("list", [str(principal.pk)], "upcoming departures")


def test_opening_a_case_logs_the_people_found_and_the_chosen_principal(world, client):
    found = person(world.iom_af, actor=world.iom_af_staff, given_name="Pashtana", family_name="Rahimi")
    client.force_login(world.iom_af_staff)
    url = reverse("returns:case_create")
    before = _last_pk()
    assert "Pashtana" in client.get(url, {"q": "Rahimi"}).content.decode()
    [row] = _new_rows(before)
    assert (row.action, row.object_ids) == ("list", [str(found.pk)])
    before = _last_pk()
    assert "Pashtana" in client.get(url, {"principal": found.pk}).content.decode()
    [row] = _new_rows(before)
    assert (row.action, row.object_ids, row.purpose) == ("view", [str(found.pk)], "open a return case")
