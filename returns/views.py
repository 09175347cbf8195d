"""Browser views of return cases, repatriation operations (MOU §31) and return agreements (Letter).

Reads go through returns.selectors (hidden records answer 404), writes through returns.services; the moves of a
case are the state machine's (returns.flow), offered only as services.moves_for() says and made by
services.return_case_move(), the same call the API makes. Actions on visible records the user may not change
answer 403 and are not offered in the page. A `DomainError` becomes a form error on the field it names, or the
reason shown above the form; a stale version becomes a conflict message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import FormView, TemplateView

from beneficiaries import selectors as beneficiary_selectors
from beneficiaries.filters import BeneficiaryFilterSet
from jointops import access
from jointops import selectors as jointops_selectors
from jointops.audit import log_names_read
from jointops.exceptions import DomainError, PermissionRefused, StaleVersion
from jointops.filters import ConsultationFilterSet
from jointops.forms import add_domain_error
from jointops.models import Office
from jointops.views import FilteredListView, _call_service, _require
from returns import flow, selectors, services
from returns.choices import BEFORE_EMBARKATION, FINAL_STAGES, LEAD, ReturnKind, Stage
from returns.filters import RepatriationOperationFilterSet, ReturnAgreementFilterSet, ReturnCaseFilterSet
from returns.forms import (
    AgreementCreateForm,
    AgreementUpdateForm,
    CaseMemberForm,
    CaseOpenForm,
    CaseUpdateForm,
    MeasureDoneForm,
    MoveForm,
    OperationCreateForm,
    OperationUpdateForm,
    PersonSearchForm,
    VisitForm,
)

CASES_PAGE_SIZE = 50
SEARCH_RESULTS = 10
DETAIL_CASES_LIMIT = 50
UPCOMING_DAYS = (7, 30)

# What the page says about each kind of return: its lead agency and the rules that apply, with their source.
KIND_RULES = {
    ReturnKind.VOLUNTARY_REPATRIATION: (
        gettext_lazy(
            "UNHCR leads the voluntary repatriation of refugees (MOU §30); IOM provides migration services: "
            "documentation, medical processing, transport, reception and reintegration (MOU §14, §30)."
        ),
        gettext_lazy(
            "UNHCR informs IOM of expected repatriation operations at an early stage of planning (MOU §31): link "
            "the case to its operation."
        ),
    ),
    ReturnKind.AVR_REJECTED_ASYLUM_SEEKER: (
        gettext_lazy(
            "IOM leads the assisted voluntary return of rejected asylum-seekers and keeps UNHCR informed (Letter)."
        ),
        gettext_lazy(
            "Return only once all possibilities to be allowed to stay are exhausted: record the date of the final "
            "decision and the exhaustion before departure is scheduled (MOU §29)."
        ),
        gettext_lazy(
            "Record the three conditions for the return of people not in need of international protection (MOU §12)."
        ),
    ),
    ReturnKind.AVR_ASYLUM_SEEKER: (
        gettext_lazy(
            "IOM leads, and informs UNHCR in a timely way with a list of names and dates of expected departure "
            "(Letter)."
        ),
        gettext_lazy("No formal withdrawal of the asylum claim is asked for or required (Letter)."),
    ),
    ReturnKind.AGREEMENT_RETURN: (
        gettext_lazy(
            "A joint return under a tripartite or quadripartite agreement between the country of origin, the host "
            "country, UNHCR and IOM (Letter)."
        ),
        gettext_lazy("The departure date falls within the validity of the agreement."),
    ),
    ReturnKind.AVR_MIGRANT: (
        gettext_lazy("IOM leads the return of migrants (MOU §9)."),
        gettext_lazy(
            "Record the three conditions for the return of people not in need of international protection (MOU §12)."
        ),
    ),
}
CHANGE_OF_MIND_RULE = gettext_lazy(
    "The person may change their mind at any time up to voluntary embarkation (Letter): the case can be withdrawn "
    "until then, never after."
)
WITHDRAW_RULE = gettext_lazy(
    "The person may change their mind at any time up to voluntary embarkation (Letter). No formal withdrawal of "
    "the asylum claim is required."
)
STALE_MOVE = gettext_lazy(
    "Someone else moved or changed this case since you opened it, so your move was not made. Look at the case as "
    "it is now, then try again."
)
STALE_EDIT = gettext_lazy(
    "Someone else changed this record since you opened it, so your changes were not saved. Open the current "
    "version, then make your changes again."
)


def lead_label(kind: str) -> str:
    lead = LEAD.get(ReturnKind(kind))
    return lead or _("Joint (UNHCR and IOM)")


def _search_people(request) -> tuple[PersonSearchForm, list]:
    """People the user may change matching the "find a person" box (to choose a principal or a member)."""
    form = PersonSearchForm(data=request.GET or None)
    if not form.is_bound or not form.is_valid() or not form.cleaned_data["q"].strip():
        return form, []
    people = beneficiary_selectors.beneficiary_qs_for(principal=request.user, action=access.CHANGE)
    found = BeneficiaryFilterSet(data={"q": form.cleaned_data["q"]}, queryset=people).qs
    return form, list(found.select_related("household")[:SEARCH_RESULTS])


def _changeable_person(user, pk: Any, form: forms.Form, field: str):
    """A person the user may see and change, or None with an error on `field` (the selectors decide)."""
    try:
        person = beneficiary_selectors.beneficiary_get_for_user(principal=user, pk=pk, log=False)
    except Http404:
        form.add_error(field, _("No record with number %(number)s is visible to you.") % {"number": pk})
        return None
    if not access.can(user, access.CHANGE, "beneficiary", office=person.office_id):
        form.add_error(field, _("You may not change the record of %(name)s.") % {"name": person.full_name})
        return None
    return person


def _office_choices(user, resource: str, action: str):
    return access.restrict(
        jointops_selectors.office_qs_for(principal=user), user, resource, action, office_field="pk"
    ).order_by("code")


def _first_own_office(user, resource: str, action: str) -> int | None:
    """The office where the user holds a role (not those beneath it) that allows `action`, for pre-selection."""
    own = jointops_selectors.membership_qs_for_user(user=user).values_list("office_id", flat=True)
    return next((pk for pk in own if access.can(user, action, resource, office=pk)), None)


def _office_select(form, user, resource: str, label) -> None:
    """The filter's office code box as a choice of the offices the user may see records of."""
    offices = _office_choices(user, resource, access.VIEW)
    form.fields["office"].widget = forms.Select(
        choices=[("", _("Any")), *((o.code, f"{o.code} — {o.name}") for o in offices)]
    )
    form.fields["office"].label = label


# --- Return cases: lists ----------------------------------------------------------------------------------


class CaseListView(FilteredListView):
    template_name = "returns/case_list.html"
    resource = "return_case"
    filterset_class = ReturnCaseFilterSet
    paginate_by = CASES_PAGE_SIZE

    def base_queryset(self):
        return selectors.return_case_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = context["filter_form"]
        _office_select(form, user, "return_case", _("Lead office"))
        context.update(
            filter_fields=[
                form[name]
                for name in ("q", "kind", "stage", "office", "departure_from", "departure_until", "emergency")
                # The dashboards' filters (issue 7): shown when a figure's link sets them.
                + tuple(n for n in ("organisation", "office_country") if self.request.GET.get(n))
            ],
            can_add=access.can(user, access.ADD, "return_case"),
        )
        _log_principals_shown(self.request, context["object_list"], purpose="return cases")
        return context


def _log_principals_shown(request, cases, *, purpose: str) -> None:
    """The case table (returns/_case_table.html) names each case's principal applicant: an access-log row (Issue 8)."""
    principals = []
    for case in cases:
        members = list(case.members.all())  # prefetched, principal first (the table's `members.0`)
        if members:
            principals.append(members[0].beneficiary_id)
    log_names_read(request, principals, purpose=purpose, action="list")


class UpcomingFilterForm(forms.Form):
    office = forms.ChoiceField(label=gettext_lazy("Lead office"), required=False)
    days = forms.TypedChoiceField(
        label=gettext_lazy("Departing within"),
        coerce=int,
        initial=UPCOMING_DAYS[-1],
        required=False,
        empty_value=UPCOMING_DAYS[-1],
    )

    def __init__(self, *args, offices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = [("", _("Any")), *((o.code, f"{o.code} — {o.name}") for o in offices)]
        self.fields["days"].choices = [
            (days, ngettext("%(days)s day", "%(days)s days", days) % {"days": days}) for days in UPCOMING_DAYS
        ]


class UpcomingDeparturesView(FilteredListView):
    """An office's departures in the next 7 or 30 days (the cases at "departure scheduled")."""

    template_name = "returns/case_upcoming.html"
    resource = "return_case"
    paginate_by = CASES_PAGE_SIZE

    def get_queryset(self):
        user = self.request.user
        _require(user, access.VIEW, self.resource)
        offices = list(_office_choices(user, "return_case", access.VIEW))
        data = self.request.GET.copy()
        data.pop("page", None)
        self.filter_form = UpcomingFilterForm(data=data or None, offices=offices)
        if self.filter_form.is_bound and not self.filter_form.is_valid():
            self.days = UPCOMING_DAYS[-1]
            return selectors.return_case_qs_for(principal=user).none()
        cleaned = self.filter_form.cleaned_data if self.filter_form.is_bound else {}
        self.days = cleaned.get("days") or UPCOMING_DAYS[-1]
        qs = selectors.upcoming_departures_qs_for(principal=user, days=self.days)
        if cleaned.get("office"):
            qs = qs.filter(lead_office__code=cleaned["office"])
        return qs

    def get_context_data(self, **kwargs):
        context = super(FilteredListView, self).get_context_data(**kwargs)
        form = self.filter_form
        context.update(
            filter_form=form,
            filter_fields=[form["office"], form["days"]],
            is_filtered=any(value for key, value in self.request.GET.items() if key != "page"),
            days=self.days,
        )
        _log_principals_shown(self.request, context["object_list"], purpose="upcoming departures")
        return context


# --- Return cases: one case ---------------------------------------------------------------------------------


class CaseMixin(LoginRequiredMixin):
    """Finds the case of the URL: 404 when hidden; `change_required` -> 403 when visible but not changeable."""

    change_required = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.case = selectors.return_case_get_for_user(principal=request.user, pk=kwargs["pk"])
            if self.change_required:
                _require(request.user, access.CHANGE, "return_case", office=self.case.lead_office_id)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(case=self.case, **kwargs)


def _needs_emergency(case) -> bool:
    """Letter: is embarkation of this case waiting for UNHCR's pre-departure list (so only an emergency may pass)?"""
    return flow.unhcr_must_be_informed(case) and not flow.departure_listed_for_unhcr(case)


def _move_form(case, move, *, data=None) -> MoveForm:
    initial = {"version": case.version, "expected_departure_date": case.expected_departure_date}
    needs_emergency = move.name == "confirm_embarkation" and _needs_emergency(case)
    return MoveForm(
        data=data, initial=initial, move=move, needs_emergency=needs_emergency, auto_id=f"id_{move.name}_%s"
    )


def _iso_date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def timeline_entries(case) -> list[dict]:
    """Every move of the case, oldest first: who, when, why, from → to, and what it changed."""
    entries = []
    for transition in selectors.return_case_timeline(case=case):
        move = flow.MOVES.get(transition.transition)
        details = transition.details or {}
        entries.append(
            {
                "transition": transition,
                "label": move.label if move else transition.transition,
                "who": transition.user or transition.api_client,
                "from_label": transition.get_from_stage_display(),
                "to_label": transition.get_to_stage_display(),
                "stage_changed": transition.from_stage != transition.to_stage,
                "previous_date": _iso_date(details.get("previous_date")),
                "new_date": _iso_date(details.get("expected_departure_date")),
                "emergency": bool(details.get("emergency")),
                "is_withdrawal": transition.transition == "withdraw",
            }
        )
    return entries


class CaseDetailView(CaseMixin, TemplateView):
    template_name = "returns/case_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, case = self.request.user, self.case
        members = list(case.members.all())  # prefetched with their people, principal first
        visible = set(
            beneficiary_selectors.beneficiary_qs_for(principal=user)
            .filter(pk__in=[m.beneficiary_id for m in members])
            .values_list("pk", flat=True)
        )
        for member in members:
            member.visible = member.beneficiary_id in visible
        can_change = access.can(user, access.CHANGE, "return_case", office=case.lead_office_id)
        before_embarkation = case.stage in BEFORE_EMBARKATION
        moves = services.moves_for(actor=user, case=case)
        of_concern = any(m.beneficiary.of_concern_to_unhcr for m in members)
        context.update(
            kind_lead=lead_label(case.kind),
            kind_rules=KIND_RULES.get(ReturnKind(case.kind), ()),
            change_of_mind_rule=CHANGE_OF_MIND_RULE,
            unhcr_informed=flow.unhcr_must_be_informed(case),
            listed_for_unhcr=flow.departure_listed_for_unhcr(case),
            of_concern=of_concern,
            shows_section_29=case.kind == ReturnKind.AVR_REJECTED_ASYLUM_SEEKER,
            shows_section_12=case.kind in (ReturnKind.AVR_REJECTED_ASYLUM_SEEKER, ReturnKind.AVR_MIGRANT),
            case_members=members,
            can_change=can_change,
            can_edit=can_change and case.stage not in FINAL_STAGES,
            before_embarkation=before_embarkation,
            move_forms=[{"move": m, "form": _move_form(case, m)} for m in moves if m.name != "withdraw"],
            withdraw_form=next((_move_form(case, m) for m in moves if m.name == "withdraw"), None),
            timeline=timeline_entries(case),
            visits=list(case.visits.select_related("recorded_by")),
            consultations=list(
                ConsultationFilterSet(
                    data={"case": case.pk}, queryset=jointops_selectors.consultation_qs_for(principal=user)
                ).qs[:20]
            ),
            can_consult=access.can(user, access.ADD, "consultation"),
        )
        if of_concern:
            bound = kwargs.get("measure_form")
            context["measures"] = [
                {
                    "measure": measure,
                    "record": record,
                    "form": bound
                    if bound is not None and kwargs.get("measure_pk") == measure.pk
                    else MeasureDoneForm(auto_id=f"id_measure{measure.pk}_%s"),
                }
                for measure, record in selectors.case_measure_checklist(case=case)
            ]
        if can_change and case.stage in (Stage.ARRIVED, Stage.REINTEGRATION):
            context.setdefault("visit_form", VisitForm())
        if can_change and before_embarkation:
            search_form, found = _search_people(self.request)
            on_case = {m.beneficiary_id for m in members}
            context.setdefault("member_form", CaseMemberForm())
            context.update(person_search=search_form, people_found=[p for p in found if p.pk not in on_case])
        # Issue 8: the page names the case's members (and the people a search found): the reads are logged.
        log_names_read(self.request, [m.beneficiary_id for m in members], purpose=f"return case {case.reference}")
        log_names_read(
            self.request,
            context.get("people_found", ()),
            purpose=f"return case {case.reference}: person search",
            action="list",
        )
        return context


class CaseOpenView(LoginRequiredMixin, FormView):
    """Open a case: kind, lead office (where the user may add cases), the principal among the people the user may
    change, and optionally the principal's household and other members. ?q= searches; ?principal= pre-fills."""

    template_name = "returns/case_form.html"
    form_class = CaseOpenForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, access.ADD, "return_case")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        user = self.request.user
        return {
            **super().get_form_kwargs(),
            "offices": _office_choices(user, "return_case", access.ADD),
            "operations": selectors.operation_qs_for(principal=user),
            "agreements": selectors.agreement_qs_for(principal=user),
        }

    def get_initial(self):
        initial: dict[str, Any] = {}
        office = _first_own_office(self.request.user, "return_case", access.ADD)
        if office:
            initial["lead_office"] = office
            country = Office.objects.filter(pk=office).values_list("country", flat=True).first()
            if country:
                initial["country_of_departure"] = country
        principal = self.request.GET.get("principal", "")
        if principal.isdigit() and len(principal) < 19:
            initial["principal"] = int(principal)
        kind = self.request.GET.get("kind", "")
        if kind in ReturnKind.values:
            initial["kind"] = kind
        return initial

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        search_form, found = _search_people(self.request)
        context.update(person_search=search_form, people_found=found)
        principal = context["form"].initial.get("principal")
        if principal and not context["form"].is_bound:
            people = beneficiary_selectors.beneficiary_qs_for(principal=self.request.user, action=access.CHANGE)
            context["chosen_principal"] = people.filter(pk=principal).first()
        # Issue 8: the names the page shows (people found, the chosen principal) are reads, logged.
        log_names_read(self.request, found, purpose="open a return case: person search", action="list")
        log_names_read(self.request, [context.get("chosen_principal")], purpose="open a return case")
        return context

    def form_valid(self, form):
        user = self.request.user
        data = dict(form.cleaned_data)
        principal = _changeable_person(user, data.pop("principal"), form, "principal")
        if principal is None:
            return self.form_invalid(form)
        members = []
        if data.pop("with_household") and principal.household_id:
            members += list(
                beneficiary_selectors.beneficiary_qs_for(principal=user, action=access.CHANGE).filter(
                    household_id=principal.household_id, merged_into__isnull=True
                )
            )
        for number in data.pop("other_members"):
            person = _changeable_person(user, number, form, "other_members")
            if person is None:
                return self.form_invalid(form)
            members.append(person)
        kind, lead_office = data.pop("kind"), data.pop("lead_office")
        case = _call_service(
            form,
            services.return_case_open,
            actor=user,
            kind=kind,
            lead_office=lead_office,
            principal=principal,
            members=list({m.pk: m for m in members}.values()),
            **data,
        )
        if case is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Return case %(reference)s opened.") % {"reference": case.reference})
        return redirect(case)


def _country_code(value) -> str:
    return getattr(value, "code", value) or ""


class CaseUpdateView(CaseMixin, FormView):
    """Edit a case's details (never its stage). The form carries the version it loaded."""

    template_name = "returns/case_form.html"
    form_class = CaseUpdateForm
    change_required = True

    def get_form_kwargs(self):
        user = self.request.user
        return {
            **super().get_form_kwargs(),
            "kind": self.case.kind,
            "operations": selectors.operation_qs_for(principal=user),
            "agreements": selectors.agreement_qs_for(principal=user),
        }

    def get_initial(self):
        case = self.case
        initial = {name: getattr(case, name) for name in services.CASE_FIELDS if name not in ("operation", "agreement")}
        initial.update(
            country_of_departure=_country_code(case.country_of_departure),
            country_of_return=_country_code(case.country_of_return),
            operation=case.operation_id,
            agreement=case.agreement_id,
            fit_to_travel={True: "true", False: "false"}.get(case.fit_to_travel, ""),
            version=case.version,
        )
        return initial

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            case = services.return_case_update(actor=self.request.user, case=self.case, version=version, **data)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except StaleVersion:
            form.add_error(None, STALE_EDIT)
            return self.render_to_response(self.get_context_data(form=form, stale=True))
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Changes to %(reference)s saved.") % {"reference": case.reference})
        return redirect(case)


class CaseMoveView(CaseMixin, FormView):
    """One move of the state machine. GET shows what the move asks for; POST makes it through
    services.return_case_move (the API's call too). A refused move shows the reason; a stale version, a conflict."""

    template_name = "returns/case_move.html"
    change_required = True

    def dispatch(self, request, *args, **kwargs):
        self.move = flow.MOVES.get(kwargs.get("transition", ""))
        if self.move is None and request.user.is_authenticated:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class=None):
        return _move_form(self.case, self.move, data=self.request.POST if self.request.method == "POST" else None)

    def get(self, request, *args, **kwargs):
        if self.move not in services.moves_for(actor=request.user, case=self.case):
            messages.error(
                request,
                _("“%(move)s” is not possible for this case now (stage: %(stage)s).")
                % {"move": self.move.label, "stage": self.case.get_stage_display()},
            )
            return redirect(self.case)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            move=self.move, withdraw_rule=WITHDRAW_RULE, kind_lead=lead_label(self.case.kind), **kwargs
        )

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            case = services.return_case_move(
                actor=self.request.user,
                case=self.case,
                transition=self.move.name,
                reason=data.get("reason", ""),
                version=data["version"],
                **form.inputs(),
            )
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except StaleVersion:
            form.add_error(None, STALE_MOVE)
            return self.render_to_response(self.get_context_data(form=form, stale=True))
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.render_to_response(self.get_context_data(form=form, refused=True))
        messages.success(
            self.request,
            _("%(move)s: done. The case is now at “%(stage)s”.")
            % {"move": self.move.label, "stage": case.get_stage_display()},
        )
        return HttpResponseRedirect(case.get_absolute_url() + "#timeline")


class CaseAddMemberView(CaseDetailView):
    """POST: add a person the user may change. Errors re-render the case page."""

    http_method_names = ["post"]
    change_required = True

    def post(self, request, *args, **kwargs):
        form = CaseMemberForm(data=request.POST)
        person = (
            _changeable_person(request.user, form.cleaned_data["beneficiary"], form, "beneficiary")
            if (form.is_valid())
            else None
        )
        if person is not None:
            try:
                services.return_case_add_member(actor=request.user, case=self.case, beneficiary=person)
            except PermissionRefused as exc:
                raise PermissionDenied from exc
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s added to case %(reference)s.")
                    % {"name": person.full_name, "reference": self.case.reference},
                )
                return HttpResponseRedirect(self.case.get_absolute_url() + "#members")
        return self.render_to_response(self.get_context_data(member_form=form))


class CaseRemoveMemberView(CaseMixin, View):
    http_method_names = ["post"]
    change_required = True

    def post(self, request, *args, **kwargs):
        member = next((m for m in self.case.members.all() if m.pk == kwargs["member_pk"]), None)
        if member is None:
            raise Http404
        try:
            services.return_case_remove_member(actor=request.user, case=self.case, member=member)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("%(name)s taken off the case.") % {"name": member.beneficiary.full_name})
        return HttpResponseRedirect(self.case.get_absolute_url() + "#members")


class CaseMeasureView(CaseDetailView):
    """POST: record that an additional measure for a person of concern to UNHCR was done (Letter)."""

    http_method_names = ["post"]
    change_required = True

    def post(self, request, *args, **kwargs):
        measure = next(
            (m for m, _record in selectors.case_measure_checklist(case=self.case) if m.pk == kwargs["measure_pk"]),
            None,
        )
        if measure is None:
            raise Http404
        form = MeasureDoneForm(data=request.POST, auto_id=f"id_measure{measure.pk}_%s")
        if form.is_valid():
            record = _call_service(
                form,
                services.case_measure_record,
                actor=request.user,
                case=self.case,
                measure=measure,
                **form.cleaned_data,
            )
            if record is not None:
                messages.success(request, _("Recorded: %(measure)s.") % {"measure": measure.label})
                return HttpResponseRedirect(self.case.get_absolute_url() + "#measures")
        return self.render_to_response(self.get_context_data(measure_form=form, measure_pk=measure.pk))


class CaseVisitView(CaseDetailView):
    """POST: record a reintegration visit (after arrival)."""

    http_method_names = ["post"]
    change_required = True

    def post(self, request, *args, **kwargs):
        form = VisitForm(data=request.POST)
        if form.is_valid():
            visit = _call_service(
                form, services.reintegration_visit_record, actor=request.user, case=self.case, **form.cleaned_data
            )
            if visit is not None:
                messages.success(request, _("Reintegration visit recorded."))
                return HttpResponseRedirect(self.case.get_absolute_url() + "#visits")
        return self.render_to_response(self.get_context_data(visit_form=form))


# --- Repatriation operations (MOU §31) ------------------------------------------------------------------


class OperationListView(FilteredListView):
    template_name = "returns/operation_list.html"
    resource = "repatriation_operation"
    filterset_class = RepatriationOperationFilterSet

    def base_queryset(self):
        return selectors.operation_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["filter_form"]
        context.update(
            filter_fields=[form[name] for name in ("q", "kind", "status", "country_of_origin")],
            can_add=_operation_offices(self.request.user).exists(),
        )
        return context


def _operation_offices(user):
    """Offices where the user may record an operation: UNHCR's (MOU §31; the service refuses others too)."""
    return _office_choices(user, "repatriation_operation", access.ADD).filter(organisation__code="UNHCR")


class OperationMixin(LoginRequiredMixin):
    change_required = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.operation = selectors.operation_get_for_user(principal=request.user, pk=kwargs["pk"])
            if self.change_required:
                _require(request.user, access.CHANGE, "repatriation_operation", office=self.operation.office_id)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(operation=self.operation, **kwargs)


def _linked_cases(user, **lookup) -> tuple[list, int]:
    cases = selectors.return_case_qs_for(principal=user).filter(**lookup)
    return list(cases[:DETAIL_CASES_LIMIT]), cases.count()


class OperationDetailView(OperationMixin, TemplateView):
    template_name = "returns/operation_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, operation = self.request.user, self.operation
        cases, count = _linked_cases(user, operation=operation)
        context.update(
            linked_cases=cases,
            linked_count=count,
            can_change=access.can(user, access.CHANGE, "repatriation_operation", office=operation.office_id),
            consultations=list(
                ConsultationFilterSet(
                    data={"operation": operation.pk}, queryset=jointops_selectors.consultation_qs_for(principal=user)
                ).qs[:20]
            ),
            can_consult=access.can(user, access.ADD, "consultation"),
        )
        return context


def _operation_initial(operation) -> dict:
    initial = {name: getattr(operation, name) for name in services.OPERATION_FIELDS}
    initial["country_of_origin"] = _country_code(operation.country_of_origin)
    initial["host_countries"] = [_country_code(c) for c in operation.host_countries]
    return initial


class OperationCreateView(LoginRequiredMixin, FormView):
    template_name = "returns/operation_form.html"
    form_class = OperationCreateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not _operation_offices(request.user).exists():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "offices": _operation_offices(self.request.user)}

    def get_initial(self):
        office = _first_own_office(self.request.user, "repatriation_operation", access.ADD)
        return {"office": office} if office else {}

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        operation = _call_service(
            form, services.operation_create, actor=self.request.user, office=data.pop("office"), **data
        )
        if operation is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Repatriation operation “%(title)s” recorded.") % {"title": operation})
        return redirect(operation)


class OperationUpdateView(OperationMixin, FormView):
    template_name = "returns/operation_form.html"
    form_class = OperationUpdateForm
    change_required = True

    def get_initial(self):
        return {**_operation_initial(self.operation), "version": self.operation.version}

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            operation = services.operation_update(
                actor=self.request.user, operation=self.operation, version=version, **data
            )
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except StaleVersion:
            form.add_error(None, STALE_EDIT)
            return self.render_to_response(self.get_context_data(form=form, stale=True))
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Repatriation operation “%(title)s” saved.") % {"title": operation})
        return redirect(operation)


# --- Return agreements (Letter) -------------------------------------------------------------------------


class AgreementListView(FilteredListView):
    template_name = "returns/agreement_list.html"
    resource = "return_agreement"
    filterset_class = ReturnAgreementFilterSet

    def base_queryset(self):
        return selectors.agreement_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["filter_form"]
        context.update(
            filter_fields=[form[name] for name in ("q", "kind", "country_of_origin", "host_country")],
            can_add=access.can(self.request.user, access.ADD, "return_agreement"),
        )
        return context


class AgreementMixin(LoginRequiredMixin):
    change_required = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.agreement = selectors.agreement_get_for_user(principal=request.user, pk=kwargs["pk"])
            if self.change_required:
                _require(request.user, access.CHANGE, "return_agreement", office=self.agreement.office_id)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.agreement, **kwargs)


class AgreementDetailView(AgreementMixin, TemplateView):
    template_name = "returns/agreement_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, agreement = self.request.user, self.agreement
        cases, count = _linked_cases(user, agreement=agreement)
        context.update(
            parties=list(agreement.parties.all()),
            linked_cases=cases,
            linked_count=count,
            can_change=access.can(user, access.CHANGE, "return_agreement", office=agreement.office_id),
        )
        return context


def _agreement_form_kwargs(view) -> dict:
    user = view.request.user
    organisations = jointops_selectors.organisation_qs_for(principal=user).order_by("code")
    return {"organisations": organisations}


class AgreementCreateView(LoginRequiredMixin, FormView):
    template_name = "returns/agreement_form.html"
    form_class = AgreementCreateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, access.ADD, "return_agreement")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            **_agreement_form_kwargs(self),
            "offices": _office_choices(self.request.user, "return_agreement", access.ADD),
        }

    def get_initial(self):
        office = _first_own_office(self.request.user, "return_agreement", access.ADD)
        founding = jointops_selectors.organisation_qs_for(principal=self.request.user).filter(code__in=["UNHCR", "IOM"])
        initial: dict[str, Any] = {"parties": list(founding.values_list("pk", flat=True))}
        if office:
            initial["office"] = office
        return initial

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        agreement = _call_service(
            form,
            services.agreement_create,
            actor=self.request.user,
            office=data.pop("office"),
            parties=list(data.pop("parties")),
            **data,
        )
        if agreement is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Return agreement “%(title)s” recorded.") % {"title": agreement})
        return redirect(agreement)


class AgreementUpdateView(AgreementMixin, FormView):
    template_name = "returns/agreement_form.html"
    form_class = AgreementUpdateForm
    change_required = True

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), **_agreement_form_kwargs(self)}

    def get_initial(self):
        agreement = self.agreement
        initial = {name: getattr(agreement, name) for name in services.AGREEMENT_FIELDS}
        initial.update(
            country_of_origin=_country_code(agreement.country_of_origin),
            host_country=_country_code(agreement.host_country),
            parties=[p.pk for p in agreement.parties.all()],
            version=agreement.version,
        )
        return initial

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        version, parties = data.pop("version"), list(data.pop("parties"))
        try:
            agreement = services.agreement_update(
                actor=self.request.user, agreement=self.agreement, version=version, parties=parties, **data
            )
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except StaleVersion:
            form.add_error(None, STALE_EDIT)
            return self.render_to_response(self.get_context_data(form=form, stale=True))
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Return agreement “%(title)s” saved.") % {"title": agreement})
        return redirect(agreement)
