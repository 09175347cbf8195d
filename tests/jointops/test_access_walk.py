"""Issue 8, need to know: one walk of every route of the app (browser pages and /api/v1/) × every principal.

(a) every route of the root URL resolver is in the walk's table (tests/access_walk.py ROUTES) or excluded with a reason;
(b) for every route × principal the answer is what jointops.access says (can / administers, computed, not copied):
    allowed (2xx, a redirect to a page other than sign-in, 400 for an empty write), refused (403), or not found (404)
    for an object outside the principal's offices — addressed by its real id — never 200 with it, never a 500.

One world for the module (built once, rolled back at the end); each request runs in a savepoint rolled back after it.
"""

from __future__ import annotations

import copy

import pytest
from django.db import transaction

from jointops import access
from tests import access_walk as walk


@pytest.fixture(scope="module")
def walked(django_db_setup, django_db_blocker):
    """The walk's world and principals, with a signed-in client per principal, built once for the module."""
    from django.contrib.auth.signals import user_logged_in

    def second_factor_passed(sender, request, user, **kwargs):
        """As tests/conftest.py's _second_factor_passed (function-scoped): the walk's sign-ins stand for a passed
        second factor (issue 8: two-factor sign-in for managers, HQ focal points and administrators)."""
        import django_otp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="walk", confirmed=True)
        if not hasattr(request, "user"):
            request.user = user
        django_otp.login(request, device)

    with django_db_blocker.unblock(), transaction.atomic():
        w = walk.build_walk_world()
        principals = walk.walk_principals(w)
        user_logged_in.connect(second_factor_passed, dispatch_uid="access_walk_second_factor")
        try:
            clients = {p.name: walk.client_for(p) for p in principals}
        finally:
            user_logged_in.disconnect(dispatch_uid="access_walk_second_factor")
        yield w, principals, clients
        transaction.set_rollback(True)


def test_walk_table_covers_every_route_of_the_url_resolver():
    missing = sorted(walk.route_names() - walk.table_names())
    unknown = sorted(walk.table_names() - walk.route_names())
    assert missing == [], f"routes not in tests/access_walk.py ROUTES (add one line each): {missing}"
    assert unknown == [], f"ROUTES names no such route: {unknown}"


def test_walk_table_names_known_resources_actions_and_targets():
    for route in walk.ROUTES:
        if route.resource is not None:
            assert route.resource in access.MATRIX, route
            assert route.action in access.MATRIX[route.resource], route
        assert route.target is None or route.target in walk.TARGETS, route


def _request(client, route, url):
    if route.method == "get":
        return client.get(url)
    if not route.api:
        return client.post(url, {})
    return client.generic(route.method.upper(), url, "{}", content_type="application/json")


@pytest.mark.django_db
@pytest.mark.parametrize("route", walk.ROUTES, ids=lambda r: r.label)
def test_every_principal_gets_what_the_access_matrix_says(walked, route):
    w, principals, clients = walked
    url = walk.url_of(route, w)
    wrong = []
    for p in walk.principals_for(route, principals):
        client = clients[p.name]
        cookies = copy.deepcopy(client.cookies)  # a sign-out answer clears the cookie; the rollback restores the rest
        with transaction.atomic():
            response = _request(client, route, url)
            transaction.set_rollback(True)
        client.cookies = cookies
        problem = walk.judge(route, p, w, response.status_code, response.get("Location", ""))
        if problem:
            wrong.append(f"{p.name}: {route.method.upper()} {url}: {problem}")
    assert wrong == [], "\n".join(wrong)


# --- Scopes and filters the walk relies on -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scopes", "status"),
    [
        (["beneficiaries:read", "beneficiaries:write"], 403),  # writing is not taking the whole list away
        (["beneficiaries:export"], 403),  # exporting what it may not read: nothing
        (["beneficiaries:read"], 403),
        (["beneficiaries:read", "beneficiaries:export"], 200),
    ],
)
def test_a_partner_system_exports_people_only_with_the_export_scope(world, scopes, status):
    """Issue 8 (need to know): a bulk export of people is its own grant, `beneficiaries:export`, with the read scope."""
    from rest_framework.test import APIClient

    from jointops import services
    from jointops.models import AccessLog
    from tests.factories.beneficiaries import person

    person(world.iom_af, actor=world.iom_af_staff)
    _row, token = services.api_client_create(actor=world.iom_admin, name="MiMOSA", office=world.iom_af, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/beneficiaries/export/", {"format": "csv"})
    assert response.status_code == status
    assert AccessLog.objects.filter(action="export").exists() == (status == 200)
    assert "beneficiaries:export" in access.all_scopes()


@pytest.mark.parametrize("value", ["maybe", "2", "yes please", "tru"])
def test_a_bad_emergency_filter_value_is_refused_naming_the_field(world, value):
    from django.test import Client
    from django.urls import reverse
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(world.iom_hq_focal)
    response = api.get("/api/v1/return-cases/", {"emergency": value})
    assert response.status_code == 400
    assert "emergency" in response.content.decode()
    web = Client()
    web.force_login(world.iom_hq_focal)
    page = web.get(reverse("returns:case_list"), {"emergency": value})
    assert page.status_code == 200
    assert "emergency" in page.context["filter_form"].errors
    assert list(page.context["object_list"]) == []


@pytest.mark.parametrize("value", ["true", "1", "false", "0", ""])
def test_the_emergency_filter_still_reads_true_and_false(world, value):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_login(world.iom_hq_focal)
    assert api.get("/api/v1/return-cases/", {"emergency": value}).status_code == 200
