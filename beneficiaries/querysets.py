"""Reusable filters on people and households. Scoping is decided by jointops.access."""

from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, TextField, Value, When
from django.db.models.functions import Lower, Replace, Trim

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
        if action != access.VIEW:
            return self.filter(condition)
        from beneficiaries.models import BeneficiaryShare

        shared = BeneficiaryShare.objects.filter(
            beneficiary_id=OuterRef("pk"), office_id__in=ids, revoked_at__isnull=True
        )
        return self.filter(condition | Q(Exists(shared))).with_searchable_text(own_office_ids=ids)

    def with_searchable_text(self, *, own_office_ids) -> "BeneficiaryQuerySet":
        """Alias `searchable_text`: what the free-text search may match. For a record the principal reads only through
        a share (its office is not one of `own_office_ids`), the references that relationship does not allow
        (government id) are cut out of the search text, so a search cannot reveal them (Issue 8: need to know).
        Only an alias: it costs nothing unless a search filters on it."""
        text = F("search_text")
        redacted = text
        for name in access.hidden_search_references("shared_person"):
            redacted = Replace(redacted, Lower(Trim(F(name))), Value(""))
        return self.alias(
            searchable_text=Case(
                When(office_id__in=own_office_ids, then=text), default=redacted, output_field=TextField()
            )
        )

    def active(self) -> "BeneficiaryQuerySet":
        """Not merged into another record."""
        return self.filter(merged_into__isnull=True)


class HouseholdQuerySet(models.QuerySet):
    def visible_to(self, principal, action: str = access.VIEW) -> "HouseholdQuerySet":
        return access.restrict(self, principal, "household", action)
