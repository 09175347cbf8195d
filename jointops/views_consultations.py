"""Browser pages of consultations between the agencies (MOU §22, §25, §28, §29): list, detail, record.

A consultation lives in jointops so every app can link to it; a user sees those in which one of their offices took
part (jointops.selectors.consultation_qs_for). Recording one goes through jointops.services.consultation_record;
the case or operation it concerns must be one the user may see (the returns selectors decide). The form is here,
beside its only view.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView

from jointops import access, selectors, services
from jointops.choices import FOUNDING_ORGANISATIONS
from jointops.filters import ConsultationFilterSet
from jointops.forms import OfficeChoiceField
from jointops.models import ConsultationSubject, Office
from jointops.views import FilteredListView, _call_service, _require

MAX_RECORD_NUMBER = 2**63 - 1


class OfficeMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Office) -> str:
        return f"{obj.code} — {obj.name}"


class ConsultationForm(forms.Form):
    """Input shape only; consultation_record checks that both agencies take part."""

    held_on = forms.DateField(
        label=gettext_lazy("Held on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    recorded_by_office = OfficeChoiceField(
        label=gettext_lazy("Recording office"),
        queryset=Office.objects.none(),
        empty_label=gettext_lazy("Choose an office"),
    )
    offices = OfficeMultipleChoiceField(
        label=gettext_lazy("Offices taking part"),
        queryset=Office.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=gettext_lazy("Offices of both UNHCR and IOM: a consultation is held between the two agencies."),
    )
    participants = forms.CharField(
        label=gettext_lazy("Participants"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Names and functions, one per line."),
    )
    subject_kind = forms.ChoiceField(
        label=gettext_lazy("Subject"),
        choices=[("", gettext_lazy("Choose a subject")), *ConsultationSubject.choices],
        help_text=gettext_lazy(
            "MOU §22 contingency planning, §25 internally displaced persons, §28 direct departure, §29 rejected "
            "asylum-seekers."
        ),
    )
    subject = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    outcome = forms.CharField(
        label=gettext_lazy("Outcome"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    case = forms.IntegerField(
        label=gettext_lazy("Return case (record number)"),
        min_value=1,
        max_value=MAX_RECORD_NUMBER,
        required=False,
        help_text=gettext_lazy("Optional: the case this consultation concerns."),
    )
    operation = forms.IntegerField(
        label=gettext_lazy("Repatriation operation (record number)"),
        min_value=1,
        max_value=MAX_RECORD_NUMBER,
        required=False,
        help_text=gettext_lazy("Optional: the operation this consultation concerns."),
    )

    def __init__(self, *args, recording_offices=None, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recorded_by_office"].queryset = (
            recording_offices if recording_offices is not None else Office.objects.none()
        )
        self.fields["offices"].queryset = offices if offices is not None else Office.objects.none()
        self.fields["held_on"].widget.attrs["max"] = (timezone.localdate() + dt.timedelta(days=366)).isoformat()

    def clean(self):
        data = super().clean()
        if data.get("case") and data.get("operation"):
            self.add_error("operation", _("Link the consultation to one record: a case or an operation."))
        return data


def _linked_record(user: Any, consultation) -> dict:
    """What the consultation is linked to, and whether this user may open it."""
    if not consultation.linked_type_id or not consultation.linked_id:
        return {}
    from returns import selectors as returns_selectors

    model = consultation.linked_type.model
    if model == "returncase":
        record = returns_selectors.return_case_qs_for(principal=user).filter(pk=consultation.linked_id).first()
        return {"kind": _("Return case"), "record": record, "visible": record is not None}
    if model == "repatriationoperation":
        record = returns_selectors.operation_qs_for(principal=user).filter(pk=consultation.linked_id).first()
        return {"kind": _("Repatriation operation"), "record": record, "visible": record is not None}
    return {"kind": consultation.linked_type.name, "record": None, "visible": False}


class ConsultationListView(FilteredListView):
    template_name = "consultations/consultation_list.html"
    resource = "consultation"
    filterset_class = ConsultationFilterSet

    def base_queryset(self):
        return selectors.consultation_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["filter_form"]
        for name in ("held_from", "held_until"):
            form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        context.update(
            filter_fields=[
                form[name]
                for name in ("subject_kind", "office", "held_from", "held_until")
                # The dashboards' filter (issue 7): shown when a figure's link sets it.
                + (("office_country",) if self.request.GET.get("office_country") else ())
            ],
            can_add=access.can(self.request.user, access.ADD, "consultation"),
        )
        return context


class ConsultationDetailView(LoginRequiredMixin, TemplateView):
    template_name = "consultations/consultation_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        consultation = selectors.consultation_get_for_user(principal=self.request.user, pk=self.kwargs["pk"])
        context.update(
            consultation=consultation,
            consultation_offices=sorted(consultation.offices.all(), key=lambda o: o.code),
            linked=_linked_record(self.request.user, consultation),
        )
        return context


class ConsultationCreateView(LoginRequiredMixin, FormView):
    """Record a consultation. ?case=<id> or ?operation=<id> links it (e.g. from the case's page) and pre-fills the
    offices concerned."""

    template_name = "consultations/consultation_form.html"
    form_class = ConsultationForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, access.ADD, "consultation")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        user = self.request.user
        directory = selectors.office_qs_for(principal=user)
        return {
            **super().get_form_kwargs(),
            "recording_offices": access.restrict(directory, user, "consultation", access.ADD, office_field="pk")
            .select_related(None)
            .order_by("code"),
            "offices": directory.filter(organisation__code__in=FOUNDING_ORGANISATIONS).order_by("code"),
        }

    def _prefill_target(self) -> tuple[str, Any] | None:
        """The case or operation of ?case= / ?operation=, if the user may see it."""
        from returns import selectors as returns_selectors

        for name, getter in (
            ("case", returns_selectors.return_case_get_for_user),
            ("operation", returns_selectors.operation_get_for_user),
        ):
            value = self.request.GET.get(name, "")
            if value.isdigit() and len(value) < 19:
                try:
                    return name, getter(principal=self.request.user, pk=int(value))
                except Http404:
                    return None
        return None

    def get_initial(self):
        user = self.request.user
        initial: dict[str, Any] = {"held_on": timezone.localdate()}
        own = selectors.membership_qs_for_user(user=user).values_list("office_id", flat=True)
        office_id = next((pk for pk in own if access.can(user, access.ADD, "consultation", office=pk)), None)
        offices = [office_id] if office_id else []
        target = self._prefill_target()
        if target is not None:
            name, record = target
            initial[name] = record.pk
            office = record.lead_office if name == "case" else record.office
            offices += [office.pk, *([office.counterpart_id] if office.counterpart_id else [])]
            if name == "case" and record.kind == "avr_rejected":
                initial["subject_kind"] = ConsultationSubject.REJECTED_ASYLUM_SEEKERS  # MOU §29
            self.linked_record = record
        if office_id:
            initial["recorded_by_office"] = office_id
        initial["offices"] = list(dict.fromkeys(offices))
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(linked_record=getattr(self, "linked_record", None), **kwargs)

    def _linked(self, form) -> Any | None:
        """The case or operation chosen, through the returns selectors; an error on the field when hidden."""
        from returns import selectors as returns_selectors

        for name, getter in (
            ("case", returns_selectors.return_case_get_for_user),
            ("operation", returns_selectors.operation_get_for_user),
        ):
            pk = form.cleaned_data.get(name)
            if pk:
                try:
                    return getter(principal=self.request.user, pk=pk)
                except Http404:
                    form.add_error(name, _("No record with number %(number)s is visible to you.") % {"number": pk})
                    return False
        return None

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        linked = self._linked(form)
        if linked is False:
            return self.form_invalid(form)
        data.pop("case"), data.pop("operation")
        consultation = _call_service(
            form,
            services.consultation_record,
            actor=self.request.user,
            recorded_by_office=data.pop("recorded_by_office"),
            offices=list(data.pop("offices")),
            linked=linked,
            **data,
        )
        if consultation is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Consultation “%(subject)s” recorded.") % {"subject": consultation.subject})
        return redirect("consultations:consultation_detail", pk=consultation.pk)
