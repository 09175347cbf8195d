"""Browser views of Letters of Understanding (MOU §5, §36-§47).

Reads go through letters_of_understanding.selectors (a letter is visible to both parties' offices and both
organisations' HQ focal points; hidden letters answer 404), writes through letters_of_understanding.services — the
same calls the API makes. The acts offered on a letter's page are exactly lifecycle.actions_for(user, letter): those
allowed now as buttons, those a rule still blocks shown disabled with the rule's reason. Pages that change a letter
answer 403 to whoever acts for neither party (HQ focal points follow letters read-only). A `DomainError` becomes a
form error on the field it names, or the reason shown above the form; a stale version becomes a conflict message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from jointops import access
from jointops import selectors as jointops_selectors
from jointops.choices import FOUNDING_ORGANISATIONS, IOM, UNHCR
from jointops.exceptions import DomainError, PermissionRefused, StaleVersion, ValidationFailed
from jointops.forms import add_domain_error
from jointops.views import FilteredListView, _require
from letters_of_understanding import content as text
from letters_of_understanding import documents, lifecycle, selectors, services
from letters_of_understanding.choices import (
    OPERATIVE,
    Agency,
    AmendmentStatus,
    HandoverStatus,
    LouStatus,
    PlanStatus,
)
from letters_of_understanding.filters import LetterOfUnderstandingFilterSet
from letters_of_understanding.forms import (
    ROW_FORMS,
    AmendmentDecisionForm,
    AmendmentProposeForm,
    ConfirmForm,
    EvaluationForm,
    FlagResourcesForm,
    HandoverDecideForm,
    HandoverItemForm,
    LouCreateForm,
    LouUpdateForm,
    NoticeForm,
    ObligationForm,
    PlanActionForm,
    PlanAgreeForm,
    PlanForm,
    ReasonForm,
    ReviewForm,
    SignForm,
    VersionCompareForm,
    amendment_content,
    place_content_error,
    row_formsets,
)

LIST_PAGE_SIZE = 25

# The rules each page reminds of, with their paragraph.
HINTS = {
    "text": gettext_lazy(
        "MOU §5: a letter sets out at least the institutional framework for cooperation, the agreed activities of "
        "each agency, the linkages between them and the funding arrangements."
    ),
    "sign": gettext_lazy(
        "Each party's office manager signs the draft as it stands; the SHA-256 of the text signed is kept with the "
        "signature. The letter is in force from the second signature (MOU §44, by analogy), and its text then "
        "changes only by an amendment both parties agree (MOU §46)."
    ),
    "reopen": gettext_lazy(
        "Reopening voids the signature already given (it is kept, with your reason): the text can change again and "
        "both parties sign anew."
    ),
    "abandon": gettext_lazy("An abandoned draft is kept, read-only; it never enters into force."),
    "amend": gettext_lazy(
        "MOU §46: the letter is modified only by mutual consent. One party proposes the new text, the other approves "
        "or rejects it; every version is kept and can be compared side by side."
    ),
    "serve_notice": gettext_lazy(
        "MOU §45: either party may terminate the letter upon 90 days' written notice: the termination takes effect "
        "at least 90 days after the notice is served."
    ),
    "record_review": gettext_lazy(
        "MOU §47: the letter is reviewed at regular intervals, at least annually; the next review falls due at most "
        "12 months after this one."
    ),
    "record_evaluation": gettext_lazy(
        "MOU §38: agreed monitoring procedures and evaluations of the joint projects let both managements take "
        "timely corrective measures."
    ),
    "flag_resources": gettext_lazy(
        "MOU §39: as soon as either agency expects its resources to be insufficient, a phase-out plan agreed by "
        "both parties is prepared."
    ),
    "phase_out": gettext_lazy(
        "MOU §39: before the agreed end of the activities, or as soon as resources are expected to be insufficient, "
        "the parties prepare a mutually agreeable phase-out plan: its actions, their owners and dates. Any change "
        "after agreement needs both agreements again."
    ),
    "agree_plan": gettext_lazy(
        "MOU §39: the plan is agreed once both parties have agreed to it as it stands; your agreement is to the plan "
        "shown here."
    ),
    "start_phase_out": gettext_lazy("MOU §39: the phase-out follows the plan both parties agreed."),
    "obligations": gettext_lazy(
        "MOU §40: each agency remains responsible for any outstanding obligations or liabilities it incurred: each "
        "lists its own and confirms the list (it may be empty)."
    ),
    "confirm_obligations": gettext_lazy(
        "MOU §40: you confirm that your agency's list of outstanding obligations is complete. Changing the list "
        "afterwards needs a new confirmation."
    ),
    "handover": gettext_lazy(
        "MOU §40: remaining assets, inventory and resources are considered for a free handover to the agency with a "
        "continuing presence, a national institution or a suitable NGO — only where the donor agreements permit it."
    ),
    "conclude": gettext_lazy(
        "MOU §39-§40: a letter concludes once the phase-out plan is agreed, both agencies have confirmed their "
        "outstanding obligations and every listed asset was handed over or retained."
    ),
    "read_only": gettext_lazy(
        "You follow this letter read-only: the staff of its two parties' offices act on it (HQ focal points, MOU §35)."
    ),
}
STALE_EDIT = gettext_lazy(
    "Someone else changed this letter since you opened it, so your changes were not saved. Open the letter as it is "
    "now, then make your changes again."
)
STALE_SIGN = gettext_lazy(
    "The draft changed since you opened it, so it was not signed. Read the text as it is now, then sign it."
)
STALE_PLAN = gettext_lazy(
    "The phase-out plan changed since you opened it, so your agreement was not recorded. Read the plan as it is "
    "now, then agree to it."
)


def _offered(user: Any, lou) -> dict[str, str | None]:
    """The acts lifecycle.actions_for offers the user now: name -> None (allowed) or the reason it is blocked."""
    return {act.name: reason for act, reason in lifecycle.actions_for(user, lou)}


def _not_now(request, lou, act_name: str):
    """For a page of an act: None when the act is open to the user now, else a redirect to the letter with the
    reason lifecycle.check gives (the role it takes, the status, or the rule and its paragraph)."""
    try:
        lifecycle.check(act_name, request.user, lou)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(lou)
    return None


def _party_label(agency: str | None) -> str:
    return Agency(agency).label if agency else ""


def _pending(lou):
    return next((a for a in lou.amendments.all() if a.status == AmendmentStatus.PROPOSED), None)


class LouMixin(LoginRequiredMixin):
    """Finds the letter of the URL: 404 when hidden; `party_required` -> 403 unless the user acts for a party."""

    party_required = False
    detailed = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            get = selectors.lou_detail_for_user if self.detailed else selectors.lou_get_for_user
            self.lou = get(principal=request.user, pk=kwargs["pk"])
            self.party = lifecycle.acting_party(request.user, self.lou)
            if self.party_required and not self.party:
                raise PermissionDenied
            self.found(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def found(self, **kwargs) -> None:
        """Look up what else the URL names, once the letter is found (404 when missing)."""

    def get_context_data(self, **kwargs):
        return super().get_context_data(lou=self.lou, party=self.party, party_label=_party_label(self.party), **kwargs)


class LouFormView(LouMixin, FormView):
    """A page that performs one act through one service. GET is offered only while the act is open (else back to
    the letter with the reason); POST lets the service decide and shows its refusal on the form."""

    party_required = True
    template_name = "letters_of_understanding/lou_act.html"
    act = ""
    anchor = ""
    stale_message = STALE_EDIT
    hint = ""
    title: Any = ""

    def get(self, request, *args, **kwargs):
        refused = _not_now(request, self.lou, self.act)
        if refused is not None:
            return refused
        return super().get(request, *args, **kwargs)

    def perform(self, form) -> str:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        kwargs.setdefault("act_name", self.act)
        kwargs.setdefault("lou_page_title", self.title or lifecycle.ACTS[self.act].label)
        kwargs.setdefault("lou_hint", self.hint)
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        try:
            message = self.perform(form)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except StaleVersion:
            form.add_error(None, self.stale_message)
            return self.render_to_response(self.get_context_data(form=form, stale=True))
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.render_to_response(self.get_context_data(form=form, refused=True))
        if message:
            messages.success(self.request, message)
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self) -> str:
        return self.lou.get_absolute_url() + self.anchor


# --- List, draft, edit ----------------------------------------------------------------------------------------


class LouListView(FilteredListView):
    template_name = "letters_of_understanding/lou_list.html"
    resource = "lou"
    filterset_class = LetterOfUnderstandingFilterSet
    paginate_by = LIST_PAGE_SIZE

    def base_queryset(self):
        return selectors.lou_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = context["filter_form"]
        own = access.restrict(jointops_selectors.office_qs_for(principal=user), user, "lou", office_field="pk")
        offices = (
            jointops_selectors.office_qs_for(principal=user)
            .filter(organisation__code__in=FOUNDING_ORGANISATIONS)
            .filter(Q(pk__in=own.values("pk")) | Q(counterpart__in=own.values("pk")))
            .order_by("code")
        )
        form.fields["office"].widget = forms.Select(
            choices=[("", _("Any")), *((o.code, f"{o.code} — {o.name}") for o in offices)]
        )
        form.fields["office"].label = _("Party office")
        context.update(
            filter_fields=[
                form[name]
                for name in ("q", "status", "country", "office", "attention")
                # The dashboards' filter (issue 7): shown when a figure's link sets it.
                + (("office_country",) if self.request.GET.get("office_country") else ())
            ],
            can_add=access.can(user, access.ADD, "lou"),
        )
        return context


def _party_offices(user, organisation_code: str):
    return (
        jointops_selectors.office_qs_for(principal=user)
        .filter(organisation__code=organisation_code, is_active=True)
        .select_related("organisation")
        .order_by("code")
    )


class LouCreateView(LoginRequiredMixin, FormView):
    """Draft a letter between a UNHCR and an IOM office (MOU §5); the drafter works at one of the two."""

    template_name = "letters_of_understanding/lou_form.html"
    form_class = LouCreateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, access.ADD, "lou")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        user = self.request.user
        return {
            **super().get_form_kwargs(),
            "unhcr_offices": _party_offices(user, UNHCR),
            "iom_offices": _party_offices(user, IOM),
        }

    def get_initial(self):
        """The user's own office and its counterpart as the two parties."""
        user = self.request.user
        initial: dict[str, Any] = {"start_date": timezone.localdate()}
        for membership in jointops_selectors.membership_qs_for_user(user=user).select_related(
            "office__organisation", "office__counterpart__organisation"
        ):
            office = membership.office
            if not access.can(user, access.ADD, "lou", office=office.pk):
                continue
            for party in (office, office.counterpart):
                if party is not None and party.organisation.code in FOUNDING_ORGANISATIONS:
                    initial.setdefault(f"{party.organisation.code.lower()}_office", party.pk)
            if office.country:
                initial.setdefault("countries", [office.country.code])
            break
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(lou_hint=HINTS["text"], **kwargs)

    def form_valid(self, form):
        data = form.draft_fields()
        try:
            lou = services.lou_create(
                actor=self.request.user,
                unhcr_office=form.cleaned_data["unhcr_office"],
                iom_office=form.cleaned_data["iom_office"],
                categories=list(form.cleaned_data["categories"]),
                **data,
            )
        except DomainError as exc:  # a refusal here is about the offices chosen: show it on the form
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _(
                "Draft %(reference)s created. Add the activities of each agency and the funding arrangements; then "
                "each party's office manager signs."
            )
            % {"reference": lou.reference},
        )
        return redirect(lou)


class LouUpdateView(LouFormView):
    template_name = "letters_of_understanding/lou_form.html"
    form_class = LouUpdateForm
    act = "edit"
    anchor = "#text"

    def get_initial(self):
        lou = self.lou
        initial = {name: getattr(lou, name) for name in LouUpdateForm.TEXT_FIELDS if name != "categories"}
        initial.update(
            countries=[country.code for country in lou.countries],
            categories=[category.code for category in lou.categories.all()],
            version=lou.version,
        )
        return initial

    def get_context_data(self, **kwargs):
        return super().get_context_data(lou_hint=HINTS["text"], **kwargs)

    def perform(self, form) -> str:
        lou = services.lou_update(
            actor=self.request.user,
            lou=self.lou,
            version=form.cleaned_data["version"],
            categories=list(form.cleaned_data["categories"]),
            **form.draft_fields(),
        )
        return _("Changes to %(reference)s saved.") % {"reference": lou.reference}


# --- Activities, funding and secondments of a draft -------------------------------------------------------------

ROW_TITLES = {
    "activities": (gettext_lazy("Add an activity"), gettext_lazy("Edit the activity")),
    "funding": (gettext_lazy("Add a funding arrangement"), gettext_lazy("Edit the funding arrangement")),
    "secondments": (gettext_lazy("Add a staff secondment"), gettext_lazy("Edit the staff secondment")),
}
ROW_HINTS = {
    "activities": gettext_lazy(
        "MOU §5: the agreed activities of each agency, typed by the MOU's kinds of cooperation (MOU §20-§35). A "
        "letter needs at least one activity of each agency before it is signed."
    ),
    "funding": gettext_lazy(
        "MOU §36: each agency mobilises its own resources; joint resource mobilisation and UN consolidated appeals "
        "are possible."
    ),
    "secondments": gettext_lazy("MOU §37: the agencies assist each other in the training and secondment of staff."),
}


class LouRowMixin:
    """The collection ("activities", "funding", "secondments") and, for an edit, the row of the URL (404 else)."""

    def dispatch(self, request, *args, **kwargs):
        self.collection = kwargs["collection"]
        if self.collection not in ROW_FORMS:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_row(self):
        row = getattr(self.lou, self.collection).filter(pk=self.kwargs["row_pk"]).first()
        if row is None:
            raise Http404
        return row


class LouRowAddView(LouRowMixin, LouFormView):
    act = "edit"
    anchor = "#text"

    def get_form_class(self):
        return ROW_FORMS[self.collection]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            lou_page_title=ROW_TITLES[self.collection][0], lou_hint=ROW_HINTS[self.collection], **kwargs
        )

    def perform(self, form) -> str:
        services.lou_row_add(actor=self.request.user, lou=self.lou, collection=self.collection, **form.cleaned_data)
        return _("Added to the draft.")


class LouRowUpdateView(LouRowMixin, LouFormView):
    act = "edit"
    anchor = "#text"

    def get_form_class(self):
        return ROW_FORMS[self.collection]

    def get_initial(self):
        row = self.get_row()
        return {name: getattr(row, name) for name in ROW_FORMS[self.collection].base_fields}

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            lou_page_title=ROW_TITLES[self.collection][1], lou_hint=ROW_HINTS[self.collection], **kwargs
        )

    def perform(self, form) -> str:
        if not form.changed_data:
            return _("Nothing changed.")
        row = self.get_row()
        services.lou_row_update(
            actor=self.request.user, lou=self.lou, collection=self.collection, row_id=row.pk, **form.cleaned_data
        )
        return _("Saved.")


class LouRowRemoveView(LouRowMixin, LouMixin, View):
    http_method_names = ["post"]
    party_required = True

    def post(self, request, *args, **kwargs):
        row = self.get_row()
        try:
            services.lou_row_remove(actor=request.user, lou=self.lou, collection=self.collection, row_id=row.pk)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Removed from the draft: %(row)s.") % {"row": row})
        return HttpResponseRedirect(self.lou.get_absolute_url() + "#text")


# --- The letter's page ----------------------------------------------------------------------------------------


def _act_links(lou, act, pending) -> list[tuple[Any, str]]:
    """Where each act is performed: its page, or the pending amendment's decision forms."""
    name, label = act.name, act.label
    pk = lou.pk
    if name == "edit":
        return [(label, reverse("letters_of_understanding:lou_update", args=[pk]))]
    if name == "propose_amendment":
        return [(label, reverse("letters_of_understanding:amendment_create", args=[pk]))]
    if name in ("approve_amendment", "reject_amendment", "withdraw_amendment"):
        if pending is None:
            return []
        url = reverse("letters_of_understanding:amendment_detail", args=[pk, pending.pk])
        return [(label, f"{url}#decide-{name.split('_')[0]}")]
    if name == "edit_plan":
        return [(label, reverse("letters_of_understanding:plan_edit", args=[pk]))]
    if name == "edit_settlement":
        return [
            (_("List an obligation of your agency"), reverse("letters_of_understanding:obligation_add", args=[pk])),
            (_("List an asset for handover"), reverse("letters_of_understanding:handover_add", args=[pk])),
        ]
    return [(label, reverse("letters_of_understanding:lou_act", args=[pk, name]))]


def _settlement(lou, party: str | None) -> list[dict]:
    """Each agency's outstanding obligations and their confirmation (MOU §40)."""
    obligations = list(lou.obligations.all())
    return [
        {
            "agency": agency,
            "label": agency.label,
            "obligations": [o for o in obligations if o.agency == agency],
            "confirmed_on": getattr(lou, f"{agency.value.lower()}_obligations_confirmed_on"),
            "own": agency == party,
        }
        for agency in Agency
    ]


class LouDetailView(LouMixin, TemplateView):
    template_name = "letters_of_understanding/lou_detail.html"
    detailed = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, lou = self.request.user, self.lou
        pending = _pending(lou)
        acts = [
            {"act": act, "reason": reason, "links": _act_links(lou, act, pending)}
            for act, reason in lifecycle.actions_for(user, lou)
        ]
        allowed = {row["act"].name for row in acts if row["reason"] is None}
        plan = getattr(lou, "phase_out_plan", None)
        context.update(
            lou_acts=acts,
            lou_allowed=allowed,
            can_edit_text="edit" in allowed,
            can_edit_plan="edit_plan" in allowed,
            can_edit_settlement="edit_settlement" in allowed,
            lou_pending=pending,
            lou_plan=plan,
            lou_plan_actions=list(plan.actions.all()) if plan else [],
            lou_settlement=_settlement(lou, self.party),
            lou_handover_items=list(lou.handover_items.all()),
            lou_signatures=list(lou.signatures.all()),
            lou_versions=list(lou.versions.all()),
            lou_amendments=list(lou.amendments.all()),
            lou_timeline=selectors.lou_timeline(lou=lou),
            lou_hints=HINTS,
            lou_review_overdue=bool(
                lou.status in OPERATIVE and lou.review_due_on and lou.review_due_on < timezone.localdate()
            ),
            listed=HandoverStatus.LISTED,
        )
        return context


# --- The acts of the lifecycle (MOU §44-§47, §39-§40) -----------------------------------------------------------


def _sign(view, data) -> str:
    lou = services.lou_sign(actor=view.request.user, lou=view.lou, **data)
    if lou.status == LouStatus.IN_FORCE:
        return _("Signed. Both parties have signed: the letter is in force from %(date)s (version 1 of the text).") % {
            "date": lou.entered_into_force_on.isoformat()
        }
    return _("Signed for %(party)s. The letter enters into force when the other party signs.") % {
        "party": _party_label(view.party)
    }


def _serve_notice(view, data) -> str:
    lou = services.lou_serve_notice(actor=view.request.user, lou=view.lou, **data)
    return _("Termination notice served: the letter ends on %(date)s (MOU §45).") % {
        "date": lou.termination_effective_on.isoformat()
    }


def _record_review(view, data) -> str:
    review = services.lou_record_review(actor=view.request.user, lou=view.lou, **data)
    return _("Review recorded; the next one is due by %(date)s (MOU §47).") % {
        "date": review.next_review_due.isoformat()
    }


def _record_evaluation(view, data) -> str:
    evaluation = services.evaluation_record(actor=view.request.user, lou=view.lou, **data)
    return _("Recorded: %(title)s.") % {"title": evaluation.title}


def _agree_plan(view, data) -> str:
    plan = services.phase_out_plan_agree(actor=view.request.user, lou=view.lou, plan_version=data["plan_version"])
    if plan.status == PlanStatus.AGREED:
        return _("Both parties have agreed the phase-out plan (MOU §39).")
    return _("Your party's agreement is recorded; the plan is agreed once the other party agrees too.")


def _simple(service, message):
    def perform(view, data) -> str:
        service(actor=view.request.user, lou=view.lou, **data)
        return str(message)

    return perform


# act name -> (form class, perform(view, cleaned data) -> message, anchor, hint key)
ACT_PAGES = {
    "sign": (SignForm, _sign, "#signatures", "sign"),
    "reopen": (
        ReasonForm,
        _simple(services.lou_reopen, gettext_lazy("The draft is reopened; the signature given is voided.")),
        "#signatures",
        "reopen",
    ),
    "abandon": (
        ReasonForm,
        _simple(services.lou_abandon, gettext_lazy("The draft is abandoned; it is kept, read-only.")),
        "",
        "abandon",
    ),
    "serve_notice": (NoticeForm, _serve_notice, "", "serve_notice"),
    "record_review": (ReviewForm, _record_review, "#reviews", "record_review"),
    "record_evaluation": (EvaluationForm, _record_evaluation, "#evaluations", "record_evaluation"),
    "flag_resources": (
        FlagResourcesForm,
        _simple(
            services.lou_flag_resources,
            gettext_lazy(
                "Resources flagged as insufficient: a phase-out plan agreed by both parties is now required (MOU §39)."
            ),
        ),
        "#phase-out",
        "flag_resources",
    ),
    "agree_plan": (PlanAgreeForm, _agree_plan, "#phase-out", "agree_plan"),
    "start_phase_out": (
        ConfirmForm,
        _simple(services.lou_start_phase_out, gettext_lazy("The phase-out has started (MOU §39).")),
        "",
        "start_phase_out",
    ),
    "confirm_obligations": (
        ConfirmForm,
        _simple(
            services.lou_confirm_obligations,
            gettext_lazy("Your agency's list of outstanding obligations is confirmed (MOU §40)."),
        ),
        "#settlement",
        "confirm_obligations",
    ),
    "conclude": (
        ConfirmForm,
        _simple(services.lou_conclude, gettext_lazy("The letter is concluded (MOU §40).")),
        "",
        "conclude",
    ),
}


class LouActView(LouFormView):
    """One act of the lifecycle: GET shows what it asks for, with its rule; POST performs it through its service."""

    detailed = True

    def dispatch(self, request, *args, **kwargs):
        if kwargs.get("act") not in ACT_PAGES:
            raise Http404
        self.act = kwargs["act"]
        self.form_class, self.performer, self.anchor, hint = ACT_PAGES[self.act]
        self.hint = HINTS[hint]
        if self.act == "sign":
            self.stale_message = STALE_SIGN
        elif self.act == "agree_plan":
            self.stale_message = STALE_PLAN
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        today = timezone.localdate()
        user, lou = self.request.user, self.lou
        if self.act == "sign":
            return {"version": lou.version, "signatory_name": user.get_full_name(), "signed_on": today}
        if self.act == "serve_notice":
            return {"served_on": today, "effective_on": today + dt.timedelta(days=lifecycle.TERMINATION_NOTICE_DAYS)}
        if self.act == "record_review":
            return {"held_on": today}
        if self.act == "record_evaluation":
            return {"carried_out_on": today}
        if self.act == "agree_plan":
            plan = getattr(lou, "phase_out_plan", None)
            return {"plan_version": plan.version if plan else 1}
        return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        lou = self.lou
        if self.act == "sign":
            context["lou_content_hash"] = text.content_hash(selectors.lou_current_content(lou=lou))
            context["lou_signatures"] = [s for s in lou.signatures.all() if s.voided_at is None]
        if self.act in ("agree_plan", "start_phase_out", "conclude"):
            plan = getattr(lou, "phase_out_plan", None)
            context.update(lou_plan=plan, lou_plan_actions=list(plan.actions.all()) if plan else [])
        if self.act in ("confirm_obligations", "conclude"):
            context["lou_settlement"] = _settlement(lou, self.party)
            context["lou_handover_items"] = list(lou.handover_items.all())
        return context

    def perform(self, form) -> str:
        return self.performer(self, dict(form.cleaned_data))


# --- Amendments (MOU §46) ---------------------------------------------------------------------------------------


class AmendmentCreateView(LouMixin, TemplateView):
    """Propose a new text of the letter in force, prefilled with the current text: the scalar fields and one formset
    each for the activities, funding and secondments. The service checks the whole text and names the first wrong
    field, e.g. "activities[1].kind", which is shown on that row."""

    template_name = "letters_of_understanding/amendment_form.html"
    party_required = True

    def get(self, request, *args, **kwargs):
        refused = _not_now(request, self.lou, "propose_amendment")
        if refused is not None:
            return refused
        current = selectors.lou_current_content(lou=self.lou)
        form = AmendmentProposeForm(initial={**current})
        return self.render_to_response(self.get_context_data(form=form, formsets=row_formsets(content=current)))

    def get_context_data(self, **kwargs):
        formsets = kwargs.pop("formsets", {})
        return super().get_context_data(
            lou_formsets=[(name, ROW_TITLES[name][0], formset) for name, formset in formsets.items()],
            lou_hint=HINTS["amend"],
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        form = AmendmentProposeForm(data=request.POST)
        formsets = row_formsets(data=request.POST)
        valid = form.is_valid()
        valid = all([formset.is_valid() for formset in formsets.values()]) and valid
        if valid:
            content, rows = amendment_content(form, formsets)
            try:
                amendment = services.amendment_propose(
                    actor=request.user,
                    lou=self.lou,
                    content=content,
                    rationale=form.cleaned_data["rationale"],
                    effective_from=form.cleaned_data["effective_from"],
                )
            except PermissionRefused as exc:
                raise PermissionDenied from exc
            except ValidationFailed as exc:
                place_content_error(exc.field, str(exc.message), form, rows)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Amendment %(number)s proposed: it takes effect when the other party approves it (MOU §46).")
                    % {"number": amendment.number},
                )
                return redirect("letters_of_understanding:amendment_detail", self.lou.pk, amendment.pk)
        elif not form.errors:
            form.add_error(None, _("A row of the text needs correcting: see below."))
        return self.render_to_response(self.get_context_data(form=form, formsets=formsets))


class AmendmentDetailView(LouMixin, TemplateView):
    """An amendment beside the text it amends; the decision forms the user may use now."""

    template_name = "letters_of_understanding/amendment_detail.html"
    detailed = True

    def found(self, **kwargs) -> None:
        self.amendment = selectors.amendment_get(lou=self.lou, pk=kwargs["amendment_pk"])

    def decision_forms(self, bound: dict | None = None) -> dict:
        offered = _offered(self.request.user, self.lou)
        if self.amendment.status != AmendmentStatus.PROPOSED:
            return {}
        forms = {}
        for decision in ("approve", "reject", "withdraw"):
            name = f"{decision}_amendment"
            if name not in offered:
                continue
            form = (bound or {}).get(decision)
            if form is None:
                if decision == "withdraw":
                    form = ConfirmForm(auto_id="id_withdraw_%s")
                else:
                    form = AmendmentDecisionForm(note_required=decision == "reject", auto_id=f"id_{decision}_%s")
            forms[decision] = {"form": form, "act": lifecycle.ACTS[name], "reason": offered[name]}
        return forms

    def get_context_data(self, **kwargs):
        bound = kwargs.pop("bound", None)
        return super().get_context_data(
            amendment=self.amendment,
            lou_compare_rows=selectors.amendment_compare(amendment=self.amendment),
            lou_decisions=self.decision_forms(bound),
            lou_hint=HINTS["amend"],
            **kwargs,
        )


DECISIONS = {
    "approve": (services.amendment_approve, "note"),
    "reject": (services.amendment_reject, "note"),
    "withdraw": (services.amendment_withdraw, None),
}


class AmendmentDecideView(AmendmentDetailView):
    """POST: approve, reject or withdraw the amendment. Errors re-render the amendment's page."""

    http_method_names = ["post"]
    party_required = True

    def post(self, request, *args, **kwargs):
        decision = kwargs["decision"]
        if decision not in DECISIONS:
            raise Http404
        service, note_field = DECISIONS[decision]
        if note_field:
            form = AmendmentDecisionForm(
                data=request.POST, note_required=decision == "reject", auto_id=f"id_{decision}_%s"
            )
        else:
            form = ConfirmForm(data=request.POST, auto_id="id_withdraw_%s")
        if form.is_valid():
            extra = {"note": form.cleaned_data["note"]} if note_field else {}
            try:
                amendment = service(actor=request.user, amendment=self.amendment, **extra)
            except PermissionRefused as exc:
                raise PermissionDenied from exc
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                if decision == "approve":
                    version = amendment.resulting_version.number
                    message = _("Amendment %(number)s approved: version %(version)s of the text is in force.") % {
                        "number": amendment.number,
                        "version": version,
                    }
                elif decision == "reject":
                    message = _("Amendment %(number)s rejected; the text in force is unchanged.") % {
                        "number": amendment.number
                    }
                else:
                    message = _("Amendment %(number)s withdrawn.") % {"number": amendment.number}
                messages.success(request, message)
                return HttpResponseRedirect(self.lou.get_absolute_url() + "#amendments")
        return self.render_to_response(self.get_context_data(bound={decision: form}, refused=True))


# --- Versions and the PDF (MOU §46: every version kept) -----------------------------------------------------------


class LouVersionDetailView(LouMixin, TemplateView):
    template_name = "letters_of_understanding/version_detail.html"

    def get_context_data(self, **kwargs):
        version = selectors.lou_version_get(lou=self.lou, number=self.kwargs["number"])
        return super().get_context_data(
            lou_version=version,
            lou_readable=text.readable(version.content),
            lou_version_numbers=list(self.lou.versions.values_list("number", flat=True)),
            **kwargs,
        )


class LouVersionCompareView(LouMixin, TemplateView):
    """Two versions side by side, changed rows highlighted. ?left=1&right=2 (default: the last two)."""

    template_name = "letters_of_understanding/version_compare.html"

    def get_context_data(self, **kwargs):
        numbers = list(self.lou.versions.values_list("number", flat=True))
        data = self.request.GET.copy()
        if not data and len(numbers) >= 2:
            data.update({"left": str(numbers[-2]), "right": str(numbers[-1])})
        form = VersionCompareForm(data=data or None, numbers=numbers)
        compared = None
        if form.is_bound and form.is_valid():
            compared = selectors.lou_versions_compare(
                lou=self.lou, left=form.cleaned_data["left"], right=form.cleaned_data["right"]
            )
        return super().get_context_data(
            form=form, lou_compared=compared, lou_version_numbers=numbers, lou_hint=HINTS["amend"], **kwargs
        )


class LouPdfView(LouMixin, View):
    """The text as PDF (the current version, or version `number`), for signature and the archive."""

    def get(self, request, *args, **kwargs):
        number = kwargs.get("number")
        if number is not None:
            number = selectors.lou_version_get(lou=self.lou, number=number).number  # 404 for an unknown version
        data, filename = documents.lou_pdf(lou=self.lou, version=number)
        return HttpResponse(
            data,
            content_type="application/pdf",
            headers={"Content-Disposition": content_disposition_header(True, filename)},
        )


# --- Phase-out plan (MOU §39) -----------------------------------------------------------------------------------


class PlanMixin:
    act = "edit_plan"
    anchor = "#phase-out"

    def get_context_data(self, **kwargs):
        plan = getattr(self.lou, "phase_out_plan", None)
        return super().get_context_data(
            lou_plan=plan,
            lou_plan_actions=list(plan.actions.all()) if plan else [],
            lou_hint=HINTS["phase_out"],
            **kwargs,
        )

    def get_action(self):
        plan = getattr(self.lou, "phase_out_plan", None)
        action = plan.actions.filter(pk=self.kwargs["action_pk"]).first() if plan else None
        if action is None:
            raise Http404
        return action


class PlanEditView(PlanMixin, LouFormView):
    template_name = "letters_of_understanding/plan_form.html"
    form_class = PlanForm
    title = gettext_lazy("Phase-out plan")

    def get_initial(self):
        plan = getattr(self.lou, "phase_out_plan", None)
        return {"summary": plan.summary} if plan else {}

    def perform(self, form) -> str:
        if getattr(self.lou, "phase_out_plan", None) is not None and not form.changed_data:
            return _("Nothing changed.")  # saving the same plan would ask both parties to agree again
        services.phase_out_plan_save(actor=self.request.user, lou=self.lou, summary=form.cleaned_data["summary"])
        return _("Phase-out plan saved. Both parties agree to it as it now stands (MOU §39).")


class PlanActionAddView(PlanMixin, LouFormView):
    form_class = PlanActionForm
    title = gettext_lazy("Add an action to the phase-out plan")

    def perform(self, form) -> str:
        services.phase_out_action_add(actor=self.request.user, lou=self.lou, **form.cleaned_data)
        return _("Action added to the phase-out plan; both parties agree to the changed plan again (MOU §39).")


class PlanActionUpdateView(PlanMixin, LouFormView):
    form_class = PlanActionForm
    title = gettext_lazy("Edit the action")

    def get_initial(self):
        action = self.get_action()
        return {name: getattr(action, name) for name in PlanActionForm.base_fields}

    def perform(self, form) -> str:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if not changes:
            return _("Nothing changed.")
        services.phase_out_action_update(
            actor=self.request.user, lou=self.lou, action_id=self.get_action().pk, **changes
        )
        return _("Action saved.")


class PlanActionRemoveView(PlanMixin, LouMixin, View):
    http_method_names = ["post"]
    party_required = True

    def post(self, request, *args, **kwargs):
        action = self.get_action()
        try:
            services.phase_out_action_remove(actor=request.user, lou=self.lou, action_id=action.pk)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Action removed from the phase-out plan."))
        return HttpResponseRedirect(self.lou.get_absolute_url() + "#phase-out")


# --- Settlement: outstanding obligations and handover of assets (MOU §40) ------------------------------------------


class SettlementMixin:
    """The user's own agency's rows only (MOU §40: each agency lists its own)."""

    act = "edit_settlement"
    anchor = "#settlement"

    def own_row(self, related: str, owner_field: str):
        row = getattr(self.lou, related).filter(pk=self.kwargs["row_pk"], **{owner_field: self.party}).first()
        if row is None:
            raise Http404
        return row


class ObligationAddView(SettlementMixin, LouFormView):
    form_class = ObligationForm

    def get_context_data(self, **kwargs):
        title = _("List an outstanding obligation of %(agency)s") % {"agency": _party_label(self.party)}
        return super().get_context_data(lou_page_title=title, lou_hint=HINTS["obligations"], **kwargs)

    def perform(self, form) -> str:
        services.obligation_save(actor=self.request.user, lou=self.lou, agency=self.party, **form.cleaned_data)
        return _("Obligation listed. Your agency confirms its list again (MOU §40).")


class ObligationUpdateView(ObligationAddView):
    def get_initial(self):
        obligation = self.own_row("obligations", "agency")
        return {name: getattr(obligation, name) for name in ObligationForm.base_fields}

    def perform(self, form) -> str:
        if not form.changed_data:
            return _("Nothing changed.")  # saving would ask for the agency's confirmation again
        obligation = self.own_row("obligations", "agency")
        services.obligation_save(
            actor=self.request.user, lou=self.lou, agency=self.party, obligation_id=obligation.pk, **form.cleaned_data
        )
        return _("Obligation saved. Your agency confirms its list again (MOU §40).")


class HandoverItemAddView(SettlementMixin, LouFormView):
    form_class = HandoverItemForm

    def get_context_data(self, **kwargs):
        title = _("List an asset of %(agency)s for handover") % {"agency": _party_label(self.party)}
        return super().get_context_data(lou_page_title=title, lou_hint=HINTS["handover"], **kwargs)

    def perform(self, form) -> str:
        services.handover_item_save(actor=self.request.user, lou=self.lou, owner_agency=self.party, **form.cleaned_data)
        return _("Asset listed.")


def _already_decided(request, lou, item):
    if item.status == HandoverStatus.LISTED:
        return None
    messages.info(request, _("This asset was already %(status)s.") % {"status": item.get_status_display().lower()})
    return HttpResponseRedirect(lou.get_absolute_url() + "#settlement")


class HandoverItemUpdateView(HandoverItemAddView):
    def get(self, request, *args, **kwargs):
        decided = _already_decided(request, self.lou, self.own_row("handover_items", "owner_agency"))
        return decided if decided is not None else super().get(request, *args, **kwargs)

    def get_initial(self):
        item = self.own_row("handover_items", "owner_agency")
        return {name: getattr(item, name) for name in HandoverItemForm.base_fields}

    def perform(self, form) -> str:
        if not form.changed_data:
            return _("Nothing changed.")
        item = self.own_row("handover_items", "owner_agency")
        services.handover_item_save(
            actor=self.request.user, lou=self.lou, owner_agency=self.party, item_id=item.pk, **form.cleaned_data
        )
        return _("Asset saved.")


class HandoverDecideView(SettlementMixin, LouFormView):
    form_class = HandoverDecideForm

    def get(self, request, *args, **kwargs):
        decided = _already_decided(request, self.lou, self.own_row("handover_items", "owner_agency"))
        return decided if decided is not None else super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        item = self.own_row("handover_items", "owner_agency")
        title = _("Handed over or retained: %(item)s") % {"item": item.description}
        return super().get_context_data(lou_page_title=title, lou_hint=HINTS["handover"], lou_item=item, **kwargs)

    def get_initial(self):
        return {"handed_over_on": timezone.localdate()}

    def perform(self, form) -> str:
        item = self.own_row("handover_items", "owner_agency")
        item = services.handover_item_decide(actor=self.request.user, item=item, **form.cleaned_data)
        return _("Recorded: %(item)s — %(status)s.") % {"item": item.description, "status": item.get_status_display()}
