"""API views of the shared records.

Querysets come from jointops.selectors (scoped by jointops.access: hidden objects answer 404), filters from
jointops.filters, writes go through jointops.services (which check the object's office again and audit).
Nothing is ever hard-deleted: offices and accounts are deactivated, API clients revoked.
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from jointops import selectors, services
from jointops.api import serializers as s
from jointops.api.base import ApiViewMixin, ScopedViewSet
from jointops.api.permissions import IsAuthenticatedPrincipal
from jointops.exceptions import ValidationFailed
from jointops.filters import ApiClientFilterSet, OfficeFilterSet, UserFilterSet


def _own_organisation(principal):
    """New offices, accounts and clients belong to the caller's organisation (never an input)."""
    if principal.organisation is None:
        raise ValidationFailed(_("Your account belongs to no organisation."), field="organisation")
    return principal.organisation


# --- The principal ------------------------------------------------------------------------------------


class MeView(ApiViewMixin, APIView):
    """Who is calling: a member of staff (organisation, memberships, roles) or a partner system (office, scopes)."""

    permission_classes = [IsAuthenticatedPrincipal]

    @extend_schema(
        operation_id="me_retrieve",
        responses=PolymorphicProxySerializer(
            component_name="Me",
            serializers={"user": s.MeUserSerializer, "api_client": s.MeApiClientSerializer},
            resource_type_field_name="kind",
        ),
    )
    def get(self, request):
        principal = request.user
        if getattr(principal, "is_api_client", False):
            return Response(s.MeApiClientSerializer(principal).data)
        return Response(s.MeUserSerializer(principal).data)


# --- Organisations and offices ------------------------------------------------------------------------


class OrganisationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """UNHCR, IOM and the other parties (reference data, read-only)."""

    serializer_class = s.OrganisationSerializer
    access_resource = "organisation"

    def get_queryset(self):
        return selectors.organisation_qs_for(principal=self.request.user)


class OfficeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """The office directory: every member of staff (and partner systems with `offices:read`) reads it;
    administrators create and change their own organisation's offices. Offices are deactivated, never deleted."""

    serializer_class = s.OfficeSerializer
    filterset_class = OfficeFilterSet
    access_resource = "office"

    def get_queryset(self):
        return selectors.office_qs_for(principal=self.request.user)

    @extend_schema(request=s.OfficeCreateSerializer, responses={201: s.OfficeSerializer})
    def create(self, request):
        data = self.validated_input(s.OfficeCreateSerializer)
        office = services.office_create(actor=request.user, organisation=_own_organisation(request.user), **data)
        return Response(self.output(office), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.OfficeUpdateSerializer, responses=s.OfficeSerializer)
    def partial_update(self, request, pk=None):
        office = self.get_object()  # 404 if hidden; the service refuses (403) an office the caller may not change
        changes = self.validated_input(s.OfficeUpdateSerializer, partial=True)
        office = services.office_update(actor=request.user, office=office, **changes)
        return Response(self.output(selectors.office_get_for_user(principal=request.user, pk=office.pk)))


# --- Staff --------------------------------------------------------------------------------------------

OFFICE_CODE_PARAMETER = OpenApiParameter(
    "office_code", str, OpenApiParameter.PATH, description="Code of the office, e.g. IOM-AF-KBL."
)


@extend_schema_view(
    list=extend_schema(description="Administrators: their organisation's staff. Office managers: their offices'.")
)
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Staff accounts. Administrators manage their organisation's; office managers read their offices' staff."""

    serializer_class = s.UserSerializer
    filterset_class = UserFilterSet
    access_resource = "user"

    def get_queryset(self):
        return selectors.user_with_memberships_qs_for(principal=self.request.user)

    def _fresh(self, user):
        return self.output(selectors.user_with_memberships_qs_for(principal=self.request.user).get(pk=user.pk))

    @extend_schema(request=s.UserCreateSerializer, responses={201: s.UserSerializer})
    def create(self, request):
        data = self.validated_input(s.UserCreateSerializer)
        user = services.user_create(
            actor=request.user,
            organisation=_own_organisation(request.user),
            username=data["username"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            password=data["password"] or None,
        )
        return Response(self._fresh(user), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.MembershipSetSerializer, responses=s.UserSerializer)
    @action(detail=True, methods=["post"], url_path="memberships")
    def set_membership(self, request, pk=None):
        """Give the user a role at an office (replacing the role held there)."""
        user = self.get_object()
        data = self.validated_input(s.MembershipSetSerializer)
        services.membership_set(actor=request.user, user=user, office=data["office"], role=data["role"])
        return Response(self._fresh(user))

    @extend_schema(request=None, responses={204: None}, parameters=[OFFICE_CODE_PARAMETER])
    @action(detail=True, methods=["delete"], url_path=r"memberships/(?P<office_code>[^/.]+)")
    def remove_membership(self, request, pk=None, office_code=None):
        """Remove the user's role at an office."""
        user = self.get_object()
        membership = user.memberships.select_related("office").filter(office__code=office_code.upper()).first()
        if membership is None:
            raise Http404
        services.membership_remove(actor=request.user, membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.UserSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        user = services.user_set_active(actor=request.user, user=self.get_object(), is_active=True)
        return Response(self._fresh(user))

    @extend_schema(request=None, responses=s.UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Disable the account and end its sessions (accounts are never deleted)."""
        user = services.user_set_active(actor=request.user, user=self.get_object(), is_active=False)
        return Response(self._fresh(user))


# --- Partner systems ----------------------------------------------------------------------------------


class ApiClientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Partner systems' credentials: administrators of the client's organisation only, never partner systems."""

    serializer_class = s.ApiClientSerializer
    filterset_class = ApiClientFilterSet
    access_resource = "api_client"

    def get_queryset(self):
        return selectors.api_client_qs_for(principal=self.request.user)

    @extend_schema(
        request=s.ApiClientCreateSerializer,
        responses={201: OpenApiResponse(s.ApiClientCreatedSerializer, description="The only answer with the token.")},
    )
    def create(self, request):
        data = self.validated_input(s.ApiClientCreateSerializer)
        expires_at = data.get("expires_at") or timezone.now() + dt.timedelta(days=settings.API_TOKEN_DEFAULT_DAYS)
        client, token = services.api_client_create(
            actor=request.user, name=data["name"], office=data["office"], scopes=data["scopes"], expires_at=expires_at
        )
        client = selectors.api_client_get_for_user(principal=request.user, pk=client.pk)
        body = self.output(client, serializer_class=s.ApiClientCreatedSerializer, token=token)
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ApiClientSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the client's token at once (idempotent). Clients are never deleted: their history stays."""
        client = services.api_client_revoke(actor=request.user, client=self.get_object())
        return Response(self.output(selectors.api_client_get_for_user(principal=request.user, pk=client.pk)))


# --- Schema and docs ----------------------------------------------------------------------------------


class ApiSchemaView(ApiViewMixin, SpectacularAPIView):
    """The OpenAPI 3 schema, for any authenticated principal (staff session or partner token)."""

    permission_classes = [IsAuthenticatedPrincipal]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # Errors answer the API's JSON body, not YAML (the schema's default format).
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return response


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI from the app's own static files (sidecar): no CDN, no call to an outside validator.

    The page holds no data; anonymous visitors are sent to sign in (the schema it loads needs a principal).
    """

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        response = super().get(request, *args, **kwargs)
        ui_settings = {**spectacular_settings.SWAGGER_UI_SETTINGS, "validatorUrl": None}
        response.data["settings"] = json.dumps(ui_settings)
        return response
