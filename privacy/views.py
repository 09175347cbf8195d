"""Browser pages of the person's rights (issue 8): the requests (list, record, detail and decision) and the subject
access export (JSON, PDF).

Reads go through privacy.selectors (hidden requests and people answer 404), writes through privacy.services;
jointops.access decides who may do what (resource "data_subject_request", scoped by the office holding the record).
Actions on visible records the user may not take answer 403 and are not offered. A `DomainError` becomes a form
error on the field it names, or a message.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView

from jointops import access
from jointops.audit import log_access
from jointops.exceptions import DomainError, PermissionRefused, StaleVersion
from jointops.forms import add_domain_error
from jointops.models import Office
from jointops.views import FilteredListView, _call_service, _require
from privacy import selectors, services
from privacy.choices import CLOSED_STATUSES, RequestKind, RequestStatus
from privacy.filters import DataSubjectRequestFilterSet
from privacy.forms import DecideForm, RequestForm

RESOURCE = selectors.RESOURCE


class RequestListView(FilteredListView):
    """The requests of the offices the user covers, filterable by status, kind and office."""

    template_name = "privacy/request_list.html"
    resource = RESOURCE
    filterset_class = DataSubjectRequestFilterSet

    def base_queryset(self):
        return selectors.request_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = context["filter_form"]
        offices = access.restrict(Office.objects.order_by("code"), user, RESOURCE, access.VIEW, office_field="pk")
        form.fields["office"].widget = forms.Select(
            choices=[("", _("Any")), *((o.code, f"{o.code} — {o.name}") for o in offices)]
        )
        form.fields["received_since"].widget.input_type = "date"
        rows = list(context["object_list"])
        if rows:  # the page names people: the access log records which (ids only)
            log_access(
                actor=user,
                action="list",
                resource="beneficiary",
                object_ids=sorted({r.person_id for r in rows}),
                purpose="data subject requests",
                path=self.request.path,
            )
        return context


class RequestCreateView(LoginRequiredMixin, FormView):
    """Record a request received from the person of `?person=<id>`."""

    template_name = "privacy/request_form.html"
    form_class = RequestForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.person = selectors.person_get_for_requests(principal=request.user, pk=request.GET.get("person"))
            _require(request.user, access.ADD, RESOURCE, office=self.person.office_id)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"received_on": timezone.localdate()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(person=self.person, **kwargs)

    def form_valid(self, form):
        created = _call_service(
            form, services.request_record, actor=self.request.user, person=self.person, **form.cleaned_data
        )
        if created is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Request recorded."))
        return redirect("privacy:request_detail", pk=created.pk)


class RequestDetailView(LoginRequiredMixin, FormView):
    """One request; its office manager decides it here (POST)."""

    template_name = "privacy/request_detail.html"
    form_class = DecideForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.object = selectors.request_get_for_user(principal=request.user, pk=kwargs["pk"])
            self.can_decide = (
                access.can(request.user, access.CHANGE, RESOURCE, office=self.object.office_id)
                and self.object.status not in CLOSED_STATUSES
            )
            if request.method == "POST":
                _require(request.user, access.CHANGE, RESOURCE, office=self.object.office_id)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        log_access(
            actor=request.user,
            action="view",
            resource="beneficiary",
            object_ids=[self.object.person_id],
            purpose=f"data subject request {self.object.pk}",
            path=request.path,
        )
        return super().get(request, *args, **kwargs)

    def get_initial(self):
        return {"version": self.object.version, "decided_on": timezone.localdate()}

    def get_context_data(self, **kwargs):
        request_obj, user = self.object, self.request.user
        context = super().get_context_data(**kwargs)
        if not self.can_decide:
            context.pop("form", None)
        context.update(
            dsr=request_obj,
            person=request_obj.person,
            history=list(request_obj.history.order_by("-history_date", "-pk")[:20]),
            can_export=access.can(user, "export", RESOURCE, office=request_obj.office_id)
            and request_obj.kind == RequestKind.ACCESS,
            can_edit_person=request_obj.kind == RequestKind.CORRECTION
            and request_obj.status in {RequestStatus.GRANTED, RequestStatus.PARTLY_GRANTED}
            and access.can(user, access.CHANGE, "beneficiary", office=request_obj.person.office_id)
            and not request_obj.person.anonymised_at,
            is_deletion=request_obj.kind == RequestKind.DELETION,
        )
        return context

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        try:
            decided = services.request_decide(
                self.object,
                status=data["status"],
                outcome=data["outcome"],
                actor=self.request.user,
                version=data["version"],
                decided_on=data["decided_on"],
            )
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except StaleVersion:
            form.add_error(
                None,
                _(
                    "Someone else changed this request since you opened it, so your decision was not saved. "
                    "Reload the page to see the current state."
                ),
            )
            return self.form_invalid(form)
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Decision recorded: %(status)s.") % {"status": decided.get_status_display()})
        if decided.kind == RequestKind.CORRECTION and decided.status in {
            RequestStatus.GRANTED,
            RequestStatus.PARTLY_GRANTED,
        }:
            messages.info(
                self.request, _("Make the correction on the person's edit page: the history keeps the old value.")
            )
        return redirect("privacy:request_detail", pk=decided.pk)


class SubjectAccessExportView(LoginRequiredMixin, View):
    """Everything held on one person, as JSON or PDF; written to the access log (privacy.services)."""

    fmt = "json"

    def get(self, request, *args, **kwargs):
        person = selectors.person_get_for_requests(principal=request.user, pk=kwargs["pk"])
        _require(request.user, "export", RESOURCE, office=person.office_id)
        try:
            content, content_type, filename = services.subject_access_export(
                actor=request.user, person=person, fmt=self.fmt, path=request.path
            )
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:  # an unknown format: the URLconf offers only json and pdf
            raise Http404 from exc
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        response["Cache-Control"] = "no-store"
        return response
