"""API views of the shared records. Querysets come from jointops.selectors (scoped by jointops.access)."""

from rest_framework import viewsets

from jointops import selectors
from jointops.api.permissions import ResourcePermission
from jointops.api.serializers import OfficeSerializer, OrganisationSerializer


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrganisationSerializer
    permission_classes = [ResourcePermission]
    access_resource = "organisation"

    def get_queryset(self):
        return selectors.organisation_qs_for(principal=self.request.user)


class OfficeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OfficeSerializer
    permission_classes = [ResourcePermission]
    access_resource = "office"

    def get_queryset(self):
        return selectors.office_qs_for(principal=self.request.user)
