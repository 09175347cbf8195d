"""The OpenAPI schema and the interactive docs: valid OpenAPI 3, every /api/v1 path, served offline."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from drf_spectacular.validation import validate_schema

from jointops.api_urls import router

# Every route of the platform's API, as the schema spells it. A new route must appear here (and in the schema).
EXPECTED_PATHS = {
    "/api/v1/me/",
    "/api/v1/organisations/",
    "/api/v1/organisations/{id}/",
    "/api/v1/offices/",
    "/api/v1/offices/{id}/",
    "/api/v1/users/",
    "/api/v1/users/{id}/",
    "/api/v1/users/{id}/memberships/",
    "/api/v1/users/{id}/memberships/{office_code}/",
    "/api/v1/users/{id}/activate/",
    "/api/v1/users/{id}/deactivate/",
    "/api/v1/api-clients/",
    "/api/v1/api-clients/{id}/",
    "/api/v1/api-clients/{id}/revoke/",
    "/api/v1/dashboard/",
    "/api/v1/dashboard/offices/{id}/",
}
ERROR_KEYS = {"detail", "code", "errors"}


@pytest.fixture
def schema(world, api_client):
    api_client.force_login(world.iom_af_staff)
    response = api_client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 JSON schema


def test_schema_lists_every_api_v1_path_and_every_registered_route(schema):
    paths = set(schema["paths"])
    assert not EXPECTED_PATHS - paths
    for prefix, viewset, _basename in router.registry:  # every app's routes, extra actions included
        assert f"/api/v1/{prefix}/" in paths, prefix
        for extra in viewset.get_extra_actions():
            url_path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", extra.url_path)
            expected = f"/api/v1/{prefix}/{{id}}/{url_path}/" if extra.detail else f"/api/v1/{prefix}/{url_path}/"
            assert expected in paths, expected
    assert all(path.startswith("/api/v1/") for path in paths)


def test_schema_documents_error_bodies_on_every_operation(schema):
    error = {"$ref": "#/components/schemas/ApiError"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status in ("400", "401", "403", "429") + (("404",) if "{" in path else ()):
                content = operation["responses"][status]["content"]["application/json"]["schema"]
                assert content == error, (method, path, status)
    assert set(schema["components"]["schemas"]["ApiError"]["properties"]) == ERROR_KEYS


def test_schema_token_is_in_create_answer_only(schema):
    components = schema["components"]["schemas"]
    assert "token" in components["ApiClientCreated"]["properties"]
    assert "token" not in components["ApiClient"]["properties"]
    assert "partnerToken" in schema["components"]["securitySchemes"]


def test_schema_anonymous_401_json_body(api_client, db):
    response = api_client.get("/api/v1/schema/")
    assert response.status_code == 401
    assert set(response.json()) == ERROR_KEYS


def test_schema_partner_token_can_read_it(world, api_client):
    from jointops import services

    _, token = services.api_client_create(actor=world.iom_admin, name="P", office=world.iom_af, scopes=["offices:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/schema/").status_code == 200


def test_spectacular_command_validates_without_warning(tmp_path, db):
    # The same check as `make test`: --fail-on-warn turns any warning into an error (SystemExit / exception).
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3.")


def test_docs_served_offline_only_local_static_assets(world, api_client):
    api_client.force_login(world.iom_af_staff)
    response = api_client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.findall(r"https?://", html) == [], "the docs page must not reference any outside host"
    assets = [asset.replace("&amp;", "&") for asset in re.findall(r'(?:src|href)="([^"]+)"', html)]
    assert assets, "the docs page loads its assets"
    # Issue 8: the start-up script comes from the page's own address (?script), not inline (Content-Security-Policy).
    [script] = [asset for asset in assets if not asset.startswith("/static/")]
    assert script.startswith("/api/v1/docs/?") and "script=" in script, assets
    init = api_client.get(script, HTTP_SEC_FETCH_SITE="same-origin").content.decode()
    assert re.findall(r"https?://", init) == []
    assert '"validatorUrl": null' in init  # Swagger UI must not call validator.swagger.io
    assert "/api/v1/schema/" in init
    for asset in set(assets) - {script}:  # and the app serves each of them itself (whitenoise)
        static = api_client.get(asset)
        assert static.status_code == 200, asset
        static.close()


def test_docs_anonymous_redirected_to_sign_in(api_client, db):
    response = api_client.get("/api/v1/docs/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/api/v1/docs/"
