"""Partner systems authenticate with `Authorization: Token jo_<prefix>_<secret>` (hashed at rest).

A token that is malformed, unknown, revoked or expired answers 401. The browser uses the session instead.
"""

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from jointops.models import TOKEN_PREFIX_LEN
from jointops.services import api_client_authenticate

# The shape ApiClient.new_token() produces. Anything else (NUL bytes, absurd lengths) never reaches the database.
TOKEN_RE = re.compile(rf"jo_[0-9a-f]{{{TOKEN_PREFIX_LEN}}}_[A-Za-z0-9_-]{{20,128}}")


class ApiClientTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        client = api_client_authenticate(token=key) if TOKEN_RE.fullmatch(key) else None
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
