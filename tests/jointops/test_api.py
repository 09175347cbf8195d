"""The platform's API: writes through services with clear errors, tokens, pagination, errors, throttling."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jointops import services
from jointops.api.exception_handler import exception_handler
from jointops.choices import OfficeLevel, Role
from jointops.exceptions import Conflict, StaleVersion
from jointops.models import ApiClient, Membership, Office, User
from tests.factories.jointops import OfficeFactory, staff

ERROR_KEYS = {"detail", "code", "errors"}


def _fields(response) -> set:
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    return {error["field"] for error in body["errors"]}


def _office_state() -> list:
    return list(Office.objects.order_by("pk").values_list("pk", "code", "name", "parent_id", "counterpart_id"))


def _office_history_count() -> int:
    return Office.history.count()


@pytest.fixture
def admin_client(world, api_client):
    api_client.force_login(world.iom_admin)
    return api_client


def _partner(world, scopes=("offices:read",), **kwargs):
    return services.api_client_create(
        actor=world.iom_admin, name="Partner", office=world.iom_af, scopes=list(scopes), **kwargs
    )


# --- Offices: create and update ----------------------------------------------------------------------


def test_office_create_valid_input_creates_office_of_own_organisation(admin_client, world):
    response = admin_client.post(
        "/api/v1/offices/",
        {"code": "iom-af-mzr", "name": "Mazar", "level": "field", "country": "af", "parent": "IOM-AF-KBL"},
    )
    assert response.status_code == 201, response.content
    office = Office.objects.get(code="IOM-AF-MZR")
    assert (office.organisation, office.parent, office.country.code) == (world.iom, world.iom_af, "AF")
    assert response.json()["organisation"] == "IOM"
    assert office.history.first().history_user == world.iom_admin  # audited through the service


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "No code", "level": "country", "country": "KE"}, "code"),
        ({"code": "NEW-KE-NBO", "level": "country", "country": "KE"}, "name"),
        ({"code": "NEW-KE-NBO", "name": "Nairobi", "country": "KE"}, "level"),
        ({"code": "new office!", "name": "Nairobi", "level": "country", "country": "KE"}, "code"),
        ({"code": "IOM-AF-KBL", "name": "Duplicate", "level": "country", "country": "AF"}, "code"),
        ({"code": "NEW-KE-NBO", "name": "Nairobi", "level": "galactic", "country": "KE"}, "level"),
        ({"code": "NEW-KE-NBO", "name": "Nairobi", "level": "country", "country": "XX"}, "country"),
        ({"code": "NEW-KE-NBO", "name": "Nairobi", "level": "country", "country": ""}, "country"),
        ({"code": "NEW-KE-NBO", "name": "Nairobi", "level": "country", "country": "KE", "parent": "NOPE"}, "parent"),
        ({"code": "NEW-KE-NBO", "name": "Nairobi", "level": "country", "country": "KE", "parent": 3}, "parent"),
        # MOU parties: the counterpart must be an office of the other agency.
        (
            {"code": "NEW-AF-MZR", "name": "M", "level": "field", "country": "AF", "counterpart": "IOM-DE-BER"},
            "counterpart",
        ),
        # The parent must belong to the same organisation.
        ({"code": "NEW-AF-MZR", "name": "M", "level": "field", "country": "AF", "parent": "UNHCR-AF-KBL"}, "parent"),
        ({"code": "NEW-KE-NBO", "name": "x" * 201, "level": "country", "country": "KE"}, "name"),
        ({"code": "NEW-KE-NBO", "name": "Nai\u0000robi", "level": "country", "country": "KE"}, "name"),
    ],
)
def test_office_create_bad_input_400_names_field_writes_nothing(admin_client, payload, field):
    before, history = _office_state(), _office_history_count()
    response = admin_client.post("/api/v1/offices/", payload)
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert response.json()["code"] == "invalid"
    assert _office_state() == before
    assert _office_history_count() == history


def test_office_create_not_json_object_400(admin_client):
    before = _office_state()
    for body in (["a", "list"], "a string", 42):
        response = admin_client.post("/api/v1/offices/", body)
        assert response.status_code == 400
    response = admin_client.post("/api/v1/offices/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert _office_state() == before


def test_office_create_deeply_nested_body_400_not_500(admin_client):
    response = admin_client.post("/api/v1/offices/", "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_office_update_valid_changes_through_service_and_links_counterparts(admin_client, world):
    other = OfficeFactory(code="UNHCR-KE-NBO", organisation=world.unhcr, country="KE")
    response = admin_client.patch(f"/api/v1/offices/{world.iom_de.pk}/", {"name": "Berlin", "counterpart": other.code})
    assert response.status_code == 200, response.content
    assert response.json()["counterpart"] == "UNHCR-KE-NBO"
    world.iom_de.refresh_from_db()
    other.refresh_from_db()
    assert world.iom_de.name == "Berlin"
    assert other.counterpart == world.iom_de  # mutual link made by services.office_update


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"counterpart": "IOM-DE-BER"}, "counterpart"),  # same agency
        ({"parent": "UNHCR-HQ"}, "parent"),  # another organisation
        ({"parent": "IOM-AF-KBL"}, "parent"),  # its own parent
        ({"code": "IOM-DE-BER"}, "code"),  # taken
        ({"code": ""}, "code"),
        ({"level": "country", "country": ""}, "country"),
        ({"is_active": "perhaps"}, "is_active"),
        ({"organisation": "UNHCR", "name": 7 * "\u0000"}, "name"),
    ],
)
def test_office_update_bad_input_400_names_field_writes_nothing(admin_client, world, payload, field):
    before, history = _office_state(), _office_history_count()
    response = admin_client.patch(f"/api/v1/offices/{world.iom_af.pk}/", payload)
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert _office_state() == before
    assert _office_history_count() == history


def test_office_update_organisation_is_not_writable(admin_client, world):
    response = admin_client.patch(f"/api/v1/offices/{world.iom_af.pk}/", {"organisation": "UNHCR", "name": "Kabul"})
    assert response.status_code == 200
    world.iom_af.refresh_from_db()
    assert (world.iom_af.organisation, world.iom_af.name) == (world.iom, "Kabul")


def test_office_partner_even_with_forged_write_scope_cannot_write(world, api_client):
    client, token = _partner(world)
    ApiClient.objects.filter(pk=client.pk).update(scopes=["offices:read", "offices:write"])  # never grantable
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    before = _office_state()
    created = api_client.post("/api/v1/offices/", {"code": "P-1", "name": "P", "level": "hq"})
    changed = api_client.patch(f"/api/v1/offices/{world.iom_af.pk}/", {"name": "Hijacked"})
    assert (created.status_code, changed.status_code) == (403, 403)
    assert _office_state() == before


# --- Users --------------------------------------------------------------------------------------------


def test_user_create_admin_creates_account_in_own_organisation_without_password(admin_client, world):
    response = admin_client.post("/api/v1/users/", {"username": "amina", "email": "Amina@Example.org"})
    assert response.status_code == 201, response.content
    user = User.objects.get(username="amina")
    assert (user.organisation, user.email, user.has_usable_password()) == (world.iom, "amina@example.org", False)
    assert "password" not in response.json()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "x@example.org"}, "username"),
        ({"username": "x"}, "email"),
        ({"username": "x", "email": "not-an-email"}, "email"),
        ({"username": "iom_af_staff", "email": "x@example.org"}, "username"),
        ({"username": "x", "email": "IOM_AF_STAFF@example.org"}, "email"),
        ({"username": "x y!", "email": "x@example.org"}, "username"),
        ({"username": "x", "email": "x@example.org", "password": "short"}, "password"),
        ({"username": "x\u0000", "email": "x@example.org"}, "username"),
    ],
)
def test_user_create_bad_input_400_names_field_writes_nothing(admin_client, payload, field):
    count = User.objects.count()
    response = admin_client.post("/api/v1/users/", payload)
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert User.objects.count() == count


def test_user_membership_set_and_remove_through_services(admin_client, world):
    url = f"/api/v1/users/{world.iom_af_staff.pk}/memberships/"
    response = admin_client.post(url, {"office": "IOM-DE-BER", "role": Role.OFFICE_MANAGER})
    assert response.status_code == 200, response.content
    assert {"office": "IOM-DE-BER", "office_name": world.iom_de.name, "role": "office_manager"} in response.json()[
        "memberships"
    ]
    assert Membership.objects.get(user=world.iom_af_staff, office=world.iom_de).role == Role.OFFICE_MANAGER
    response = admin_client.delete(f"{url}iom-de-ber/")
    assert response.status_code == 204
    assert not Membership.objects.filter(user=world.iom_af_staff, office=world.iom_de).exists()
    assert admin_client.delete(f"{url}IOM-DE-BER/").status_code == 404  # no such membership any more


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"office": "IOM-AF-KBL", "role": "emperor"}, "role"),
        ({"office": "NOPE", "role": "field_staff"}, "office"),
        ({"role": "field_staff"}, "office"),
        ({"office": "IOM-AF-KBL", "role": Role.HQ_FOCAL_POINT}, "role"),  # MOU §35: focal points sit at HQ
    ],
)
def test_user_membership_set_bad_input_400_names_field_writes_nothing(admin_client, world, payload, field):
    before = list(Membership.objects.values_list("pk", "office_id", "role"))
    response = admin_client.post(f"/api/v1/users/{world.iom_af_staff.pk}/memberships/", payload)
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert list(Membership.objects.values_list("pk", "office_id", "role")) == before


def test_user_deactivate_then_activate_and_never_self(admin_client, world):
    response = admin_client.post(f"/api/v1/users/{world.iom_af_staff.pk}/deactivate/")
    assert (response.status_code, response.json()["is_active"]) == (200, False)
    world.iom_af_staff.refresh_from_db()
    assert not world.iom_af_staff.is_active
    assert admin_client.post(f"/api/v1/users/{world.iom_af_staff.pk}/activate/").json()["is_active"] is True
    response = admin_client.post(f"/api/v1/users/{world.iom_admin.pk}/deactivate/")
    assert response.status_code == 400
    assert _fields(response) == {"is_active"}


def test_user_manager_reads_only_own_offices_staff(world, api_client):
    api_client.force_login(world.iom_af_manager)
    usernames = {u["username"] for u in api_client.get("/api/v1/users/").json()["results"]}
    assert usernames == {"iom_af_staff", "iom_af_manager", "iom_field_staff"}


def test_user_list_filter_by_role_lists_each_user_once(admin_client, world):
    services.membership_set(actor=None, user=world.iom_af_staff, office=world.iom_de, role=Role.FIELD_STAFF)
    ids = [u["id"] for u in admin_client.get("/api/v1/users/?role=field_staff").json()["results"]]
    assert len(ids) == len(set(ids))
    assert world.iom_af_staff.pk in ids


# --- API clients and tokens ----------------------------------------------------------------------------


def test_api_client_create_token_shown_once_then_never(admin_client, world):
    response = admin_client.post(
        "/api/v1/api-clients/", {"name": "MiMOSA", "office": "IOM-AF-KBL", "scopes": ["offices:read"]}
    )
    assert response.status_code == 201, response.content
    token = response.json()["token"]
    client = ApiClient.objects.get(pk=response.json()["id"])
    assert token.startswith(f"jo_{client.token_prefix}_")
    assert token not in (client.token_hash, str(client.scopes))  # stored hashed
    assert client.expires_at > timezone.now() + dt.timedelta(days=364)  # API_TOKEN_DEFAULT_DAYS
    for url in ("/api/v1/api-clients/", f"/api/v1/api-clients/{client.pk}/"):
        again = admin_client.get(url)
        assert again.status_code == 200
        assert token.encode() not in again.content
        assert b'"token"' not in again.content
    revoked = admin_client.post(f"/api/v1/api-clients/{client.pk}/revoke/")
    assert token.encode() not in revoked.content
    assert services.api_client_authenticate(token=token) is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"office": "IOM-AF-KBL", "scopes": ["offices:read"]}, "name"),
        ({"name": "X", "scopes": ["offices:read"]}, "office"),
        ({"name": "X", "office": "NOPE", "scopes": ["offices:read"]}, "office"),
        ({"name": "X", "office": "IOM-AF-KBL"}, "scopes"),
        ({"name": "X", "office": "IOM-AF-KBL", "scopes": []}, "scopes"),
        ({"name": "X", "office": "IOM-AF-KBL", "scopes": ["users:write"]}, "scopes.0"),
        ({"name": "X", "office": "IOM-AF-KBL", "scopes": "offices:read"}, "scopes"),
        ({"name": "X", "office": "IOM-AF-KBL", "scopes": ["offices:read"], "expires_at": "yesterday"}, "expires_at"),
        (
            {"name": "X", "office": "IOM-AF-KBL", "scopes": ["offices:read"], "expires_at": "2001-01-01T00:00Z"},
            "expires_at",
        ),
        (
            {"name": "X", "office": "IOM-AF-KBL", "scopes": ["offices:read"], "expires_at": "0001-01-01T00:00+14:00"},
            "expires_at",
        ),
        ({"name": "   ", "office": "IOM-AF-KBL", "scopes": ["offices:read"]}, "name"),
    ],
)
def test_api_client_create_bad_input_400_writes_nothing(admin_client, payload, field):
    response = admin_client.post("/api/v1/api-clients/", payload)
    assert response.status_code == 400, response.content
    fields = _fields(response)
    assert field in fields
    assert not ApiClient.objects.exists()


def test_api_client_token_authenticates_records_last_used_and_me(world, api_client):
    client, token = _partner(world)
    assert client.last_used_at is None
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "kind": "api_client",
        "id": client.pk,
        "name": "Partner",
        "organisation": {"id": world.iom.pk, "code": "IOM", "name": world.iom.name, "kind": "un_agency", "country": ""},
        "office": "IOM-AF-KBL",
        "scopes": ["offices:read"],
        "expires_at": None,
    }
    client.refresh_from_db()
    assert client.last_used_at is not None
    assert timezone.now() - client.last_used_at < dt.timedelta(minutes=1)


@pytest.mark.parametrize("state", ["revoked", "expired", "wrong secret", "malformed", "nul"])
def test_api_client_unusable_token_401_with_error_body(world, api_client, state):
    client, token = _partner(world)
    if state == "revoked":
        services.api_client_revoke(actor=world.iom_admin, client=client)
    elif state == "expired":
        ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif state == "wrong secret":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    elif state == "malformed":
        token = "jo_" + "x" * 5000
    else:
        token = token[:-1] + "\x00"
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api_client.get("/api/v1/offices/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert set(response.json()) == ERROR_KEYS
    client.refresh_from_db()
    assert client.last_used_at is None


def test_me_user_lists_organisation_memberships_and_roles(world, api_client):
    api_client.force_login(world.iom_af_manager)
    body = api_client.get("/api/v1/me/").json()
    assert (body["kind"], body["username"], body["organisation"]["code"]) == ("user", "iom_af_manager", "IOM")
    assert body["memberships"] == [{"office": "IOM-AF-KBL", "office_name": world.iom_af.name, "role": "office_manager"}]
    assert body["roles"] == ["office_manager"]


# --- Pagination and query counts ----------------------------------------------------------------------


def test_pagination_cursor_walks_every_office_once(admin_client, world):
    for n in range(7):
        OfficeFactory(code=f"IOM-KE-{n}", organisation=world.iom, country="KE", parent=world.iom_hq)
    seen, url = [], "/api/v1/offices/?page_size=3"
    while url:
        body = admin_client.get(url).json()
        assert len(body["results"]) <= 3
        seen += [office["id"] for office in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(Office.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "query", ["page_size=0", "page_size=-1", "page_size=abc", "page_size=%C2%B2", "cursor=garbage", "cursor=cD1hYmM="]
)
def test_pagination_bad_page_size_or_cursor_400_names_parameter(admin_client, query):
    # cD1hYmM= is base64 of "p=abc": a forged position that is not a number.
    response = admin_client.get(f"/api/v1/offices/?{query}")
    assert response.status_code == 400
    assert _fields(response) == {query.split("=")[0]}


def test_pagination_page_size_above_maximum_is_capped(admin_client, world):
    for n in range(5):
        OfficeFactory(code=f"IOM-KE-{n}", organisation=world.iom, country="KE")
    response = admin_client.get("/api/v1/offices/?page_size=999999")
    assert response.status_code == 200
    assert len(response.json()["results"]) == Office.objects.count()


def _many_offices_and_staff(world, n=60):
    for i in range(n):
        office = OfficeFactory(
            code=f"IOM-XX-{i}", organisation=world.iom, country="KE", level=OfficeLevel.FIELD, parent=world.iom_af
        )
        staff(office, Role.FIELD_STAFF, username=f"bulk{i}")


@pytest.mark.parametrize("path", ["/api/v1/offices/", "/api/v1/users/", "/api/v1/api-clients/"])
def test_list_query_count_does_not_grow_with_page_size(admin_client, world, django_assert_num_queries, path):
    _many_offices_and_staff(world)
    for i in range(60):
        services.api_client_create(actor=world.iom_admin, name=f"c{i}", office=world.iom_af, scopes=["offices:read"])
    with CaptureQueriesContext(connection) as small:
        response = admin_client.get(f"{path}?page_size=10")
    assert len(response.json()["results"]) == 10
    with django_assert_num_queries(len(small.captured_queries)):
        response = admin_client.get(f"{path}?page_size=50")
    assert len(response.json()["results"]) == 50


# --- Bad input anywhere: 400, never 500 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/offices/?q=%00", "q"),
        ("/api/v1/offices/?country=%00", "country"),
        ("/api/v1/offices/?organisation=IOM%00", "organisation"),
        ("/api/v1/users/?q=%00", "q"),
        ("/api/v1/users/?office=%00", "office"),
        ("/api/v1/api-clients/?office=%00", "office"),
        ("/api/v1/offices/?updated_since=garbage", "updated_since"),
        ("/api/v1/offices/?level=%00", "level"),
        ("/api/v1/offices/?q=" + "x" * 1001, "q"),
        ("/api/v1/offices/%00/", "id"),
        ("/api/v1/users/%00/", "id"),
        ("/api/v1/users/1/memberships/IOM%00/", "office_code"),
        ("/api/v1/me/?x=%01", "x"),
        ("/api/v1/schema/?lang=%00", "lang"),
    ],
)
def test_bad_url_or_query_400_names_parameter_never_500(admin_client, url, field):
    method = admin_client.delete if "/memberships/" in url else admin_client.get
    response = method(url)
    assert response.status_code == 400, response.content
    assert field in _fields(response)


def test_date_out_of_range_for_the_database_never_500(admin_client):
    # Year 1 at +14:00 is before year 1 in UTC: Python's datetime overflows (SQLite), PostgreSQL accepts it.
    response = admin_client.get("/api/v1/offices/?updated_since=0001-01-01T00:00:00%2B14:00")
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.json()["detail"] == "A value is out of range or too long."


@pytest.mark.parametrize(
    "url", ["/api/v1/offices/abc/", "/api/v1/offices/99999999999999999999999/", "/api/v1/users/-1/"]
)
def test_absurd_ids_404_never_500(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found", "errors": []}


def test_body_with_nul_in_nested_or_unknown_field_400(admin_client, world):
    count = ApiClient.objects.count()
    response = admin_client.post(
        "/api/v1/api-clients/",
        {"name": "ok", "office": "IOM-AF-KBL", "scopes": ["offices:read\u0000"], "extra\u0000": {"deep": ["\u0000"]}},
    )
    assert response.status_code == 400
    assert {"scopes.0", "extra\u0000", "extra\u0000.deep.0"} <= _fields(response)
    assert ApiClient.objects.count() == count


def test_unknown_api_path_404_json(admin_client):
    response = admin_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_error_bodies_for_401_403_404_405(world, api_client):
    assert api_client.get("/api/v1/offices/").json()["code"] == "not_authenticated"
    api_client.force_login(world.iom_af_staff)
    cases = [
        (api_client.get("/api/v1/users/"), 403, "permission_denied"),
        (api_client.get(f"/api/v1/users/{world.unhcr_af_staff.pk}/"), 403, "permission_denied"),
        (api_client.delete(f"/api/v1/offices/{world.iom_af.pk}/"), 405, "method_not_allowed"),
    ]
    api_client.force_login(world.unhcr_admin)
    cases.append((api_client.get(f"/api/v1/users/{world.iom_af_staff.pk}/"), 404, "not_found"))
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code)
        assert set(response.json()) == ERROR_KEYS


@pytest.mark.parametrize(
    ("error", "status", "code"), [(Conflict(), 409, "conflict"), (StaleVersion(), 412, "stale_version")]
)
def test_exception_handler_domain_errors_map_to_status_and_body(error, status, code):
    response = exception_handler(error, {})
    assert response.status_code == status
    assert response.data["code"] == code
    assert response.data["errors"] == [{"field": None, "code": code, "message": str(error.message)}]


def test_exception_handler_integrity_error_is_409():
    from django.db import IntegrityError

    response = exception_handler(IntegrityError("duplicate key"), {})
    assert (response.status_code, response.data["code"]) == (409, "conflict")


# --- Throttling ---------------------------------------------------------------------------------------


def test_throttle_client_exhausting_its_rate_does_not_throttle_another(world, settings):
    from django.core.cache import cache
    from rest_framework.test import APIClient

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"principal": "3/min"}}
    cache.clear()
    _, token_a = _partner(world)
    _, token_b = _partner(world)
    client_a, client_b = APIClient(), APIClient()
    client_a.credentials(HTTP_AUTHORIZATION=f"Token {token_a}")
    client_b.credentials(HTTP_AUTHORIZATION=f"Token {token_b}")
    assert [client_a.get("/api/v1/offices/").status_code for _ in range(3)] == [200, 200, 200]
    throttled = client_a.get("/api/v1/offices/")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    assert client_b.get("/api/v1/offices/").status_code == 200
    staff_client = APIClient()
    staff_client.force_login(world.iom_af_staff)
    assert staff_client.get("/api/v1/offices/").status_code == 200  # users have their own buckets too


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_unknown_api_path_write_by_a_partner_404_json_not_the_csrf_page(world, method):
    """Issue 8 (found by schemathesis): the catch-all is csrf_exempt — it reads and writes nothing — so a partner's
    token write to an unknown path gets the API's JSON 404, not Django's HTML CSRF 403 page."""
    from rest_framework.test import APIClient

    _client, token = _partner(world)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = getattr(client, method)("/api/v1/no-such-thing/", {"a": 1}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
