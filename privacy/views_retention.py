"""The retention page (issue 8): the periods, with their basis and event, and the latest anonymisations (type, id,
when, why — never personal data). Administrators and HQ focal points (MATRIX "retention"); periods are changed by
administrators in the Django admin."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import TemplateView

from jointops import access
from jointops.views import _require
from privacy import selectors_retention
from privacy.choices import RecordType


class RetentionView(LoginRequiredMixin, TemplateView):
    template_name = "privacy/retention.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        _require(user, access.VIEW, "retention")
        record_type = self.request.GET.get("type", "")
        if record_type not in RecordType.values:
            record_type = ""  # an unknown type shows every type, like no filter
        context.update(
            policies=list(selectors_retention.retention_policy_qs_for(principal=user)),
            anonymisations=selectors_retention.latest_anonymisations_for(principal=user, record_type=record_type),
            limit=selectors_retention.LATEST_ANONYMISATIONS,
            record_types=RecordType.choices,
            record_type=record_type,
            can_change=access.can(user, access.CHANGE, "retention"),
        )
        return context
