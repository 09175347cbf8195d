"""Reusable filters on people and households. Scoping is decided by jointops.access."""

from django.db import models
from django.db.models import Exists, OuterRef, Q

from jointops import access


class BeneficiaryQuerySet(models.QuerySet):
    def visible_to(self, principal, action: str = access.VIEW) -> "BeneficiaryQuerySet":
        """Records of the offices the principal's role covers, plus (for viewing) those another office of the
        other agency shared with one of them on a recorded basis."""
        ids = access.office_ids(principal, "beneficiary", action)
        if ids is access.EVERYTHING:
            return self
        if not ids:
            return self.none()
        condition = Q(office_id__in=ids)
        if action == access.VIEW:
            from beneficiaries.models import BeneficiaryShare

            shared = BeneficiaryShare.objects.filter(
                beneficiary_id=OuterRef("pk"), office_id__in=ids, revoked_at__isnull=True
            )
            condition |= Q(Exists(shared))
        return self.filter(condition)

    def active(self) -> "BeneficiaryQuerySet":
        """Not merged into another record."""
        return self.filter(merged_into__isnull=True)


class HouseholdQuerySet(models.QuerySet):
    def visible_to(self, principal, action: str = access.VIEW) -> "HouseholdQuerySet":
        return access.restrict(self, principal, "household", action)
