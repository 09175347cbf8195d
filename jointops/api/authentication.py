"""Partner systems authenticate with `Authorization: Token jo_<prefix>_<secret>` (hashed at rest)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from jointops.services import api_client_authenticate


class ApiClientTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        client = api_client_authenticate(token=key)
        if client is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        return client, client


class ApiClientTokenScheme(OpenApiAuthenticationExtension):
    target_class = "jointops.api.authentication.ApiClientTokenAuthentication"
    name = "partnerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Partner system token, sent as `Token jo_<prefix>_<secret>`.",
        }
