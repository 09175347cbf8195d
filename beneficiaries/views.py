"""Browser views of people, households and the mandate matrix.

Reads go through beneficiaries.selectors (hidden people and households answer 404; reading a person's page is
written to the access log), writes through beneficiaries.services; jointops.access decides who may do what and
which fields of a person each user may read. Actions on visible records the user may not change answer 403 and
are not offered in the page. A `DomainError` becomes a form error on the field it names, or a message.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from beneficiaries import selectors, services
from beneficiaries.choices import Relationship, SharingBasis
from beneficiaries.filters import BeneficiaryFilterSet, HouseholdFilterSet
from beneficiaries.forms import (
    BeneficiaryCreateForm,
    BeneficiaryUpdateForm,
    CategoryChangeForm,
    DocumentForm,
    HouseholdCreateForm,
    HouseholdMemberForm,
    MergeForm,
    PersonSearchForm,
)
from beneficiaries.models import Beneficiary, BeneficiaryCategory
from jointops import access
from jointops import selectors as jointops_selectors
from jointops.audit import log_names_read
from jointops.exceptions import DomainError, PermissionRefused, StaleVersion
from jointops.forms import add_domain_error
from jointops.models import Office
from jointops.views import FilteredListView, _call_service, _require
from privacy import selectors as privacy_selectors

PEOPLE_PAGE_SIZE = 50
SEARCH_RESULTS = 10

# Every field of a person the detail page can show; access.person_field_filter() says which a user may read.
PERSON_FIELDS = (
    *services.EDITABLE_FIELDS,
    "category",
    "office",
    "household",
    "relationship_to_head",
    "created_by",
)

# Why matching.score() thinks two records are the same person.
REASON_LABELS = {
    "name_variant": gettext_lazy("same name in another spelling"),
    "similar_name": gettext_lazy("similar name"),
    "same_date_of_birth": gettext_lazy("same date of birth"),
    "close_date_of_birth": gettext_lazy("close date of birth"),
    "same_nationality": gettext_lazy("same nationality"),
}

# The audit history names every changed field but shows the values of these only: the rest is personal data.
HISTORY_VALUE_FIELDS = {"category", "of_concern_to_unhcr", "sharing_basis", "relationship_to_head", "merged_into"}
HISTORY_KINDS = {
    "+": pgettext_lazy("audit history", "Created"),
    "~": pgettext_lazy("audit history", "Changed"),
    "-": pgettext_lazy("audit history", "Deleted"),
}


def _readable(fields: frozenset[str] | None) -> dict[str, bool]:
    """{field: True} for each field of a person the user may read (None from person_field_filter: every field)."""
    names = set(PERSON_FIELDS) | {"documents"} if fields is None else set(fields)
    return dict.fromkeys(names, True)


def _person(request, pk: Any, *, change: bool = False, log: bool = False) -> Beneficiary:
    """The person of the URL: 404 when hidden, 403 when `change` is needed and not allowed."""
    person = selectors.beneficiary_get_for_user(principal=request.user, pk=pk, path=request.path, log=log)
    if change:
        _require(request.user, access.CHANGE, "beneficiary", office=person.office_id)
    return person


def _share_target(office: Office) -> Office | None:
    """The office of the other agency a record is shared with: the counterpart of its office, or of the nearest
    office above it that has one (a field office shares through its country office's counterpart)."""
    seen: set[int] = set()
    while office is not None and office.pk not in seen:
        seen.add(office.pk)
        if office.counterpart_id:
            return office.counterpart
        office = office.parent
    return None


def _history_entries(records: list) -> list[dict]:
    """Who changed what and when, newest first, from django-simple-history (`records` newest first)."""
    categories: dict[int, str] | None = None
    entries = []
    for index, record in enumerate(records):
        changes = []
        previous = records[index + 1] if index + 1 < len(records) else None
        if record.history_type == "~" and previous is not None:
            for change in record.diff_against(previous).changes:
                field = Beneficiary._meta.get_field(change.field)
                row = {"label": capfirst(field.verbose_name), "old": None, "new": None}
                if change.field in HISTORY_VALUE_FIELDS:
                    if change.field == "category" and categories is None:
                        categories = {c.pk: str(c) for c in BeneficiaryCategory.objects.all()}
                    row["old"], row["new"] = (_history_value(field, v, categories) for v in (change.old, change.new))
                changes.append(row)
        entries.append(
            {
                "when": record.history_date,
                "who": record.history_user or record.history_api_client,
                "kind": HISTORY_KINDS.get(record.history_type, record.history_type),
                "changes": sorted(changes, key=lambda row: str(row["label"])),
            }
        )
    return entries


def _history_value(field, value, categories) -> str:
    if value in (None, ""):
        return "—"
    if field.name == "category":
        return (categories or {}).get(value, str(value))
    if field.name == "merged_into":
        return f"#{value}"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(dict(field.flatchoices).get(value, value))


def _office_select(form, user, resource: str):
    """The filter's office code as a choice among the offices whose records the user sees (one query)."""
    offices = access.restrict(Office.objects.order_by("code"), user, resource, access.VIEW, office_field="pk")
    form.fields["office"].widget = forms.Select(
        choices=[("", _("Any")), *((o.code, f"{o.code} — {o.name}") for o in offices)]
    )
    form.fields["office"].label = _("Office")
    return form


class PersonMixin(LoginRequiredMixin):
    """Finds the person of the URL: 404 when hidden; `change_required` -> 403 when visible but not changeable.
    `log_read`: a GET shows the record, so it is written to the access log."""

    change_required = False
    log_read = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.person = _person(
                request,
                kwargs["pk"],
                change=self.change_required,
                log=self.log_read and request.method == "GET",
            )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(beneficiary=self.person, **kwargs)


# --- People ---------------------------------------------------------------------------------------------


class BeneficiaryListView(FilteredListView):
    """Search (a name in any spelling, a reference number) and filters; htmx swaps the results in place."""

    template_name = "beneficiaries/beneficiary_list.html"
    resource = "beneficiary"
    filterset_class = BeneficiaryFilterSet
    paginate_by = PEOPLE_PAGE_SIZE

    def base_queryset(self):
        return selectors.beneficiary_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = _office_select(context["filter_form"], user, "beneficiary")
        form.fields["q"].widget.input_type = "search"
        form.fields["q"].widget.attrs["placeholder"] = _("e.g. Muhammad Ahmadi, or a case number")
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            filter_fields=[
                form[name]
                for name in ("q", "category", "nationality", "office", "of_concern_to_unhcr")
                # The dashboards' filters (issue 7): shown when a figure's link sets them.
                + tuple(
                    n for n in ("country_of_residence", "organisation", "office_country") if self.request.GET.get(n)
                )
            ],
            can_add=access.can(user, access.ADD, "beneficiary"),
            can_export=access.can(user, "export", "beneficiary"),
            can_merge=access.can(user, access.CHANGE, "beneficiary"),
            export_query=query.urlencode(),
        )
        log_names_read(self.request, context["object_list"], purpose="people", action="list")  # Issue 8
        return context


class BeneficiaryDetailView(PersonMixin, TemplateView):
    template_name = "beneficiaries/beneficiary_detail.html"
    log_read = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, person = self.request.user, self.person
        readable = _readable(access.person_field_filter(user, office_id=person.office_id))
        related = selectors.beneficiary_detail_related(person=person)
        can_change = (
            access.can(user, access.CHANGE, "beneficiary", office=person.office_id) and not person.merged_into_id
        )
        context.update(
            readable=readable,
            can_change=can_change,
            documents=related["documents"] if readable.get("documents") else [],
            category_changes=related["category_changes"],
            household_members=related["household_members"] if readable.get("household") else [],
            history=_history_entries(related["history"]),
            # The duplicates merged into this record: for those who work on the record (every field readable).
            merged_records=[r for r in related["merged_records"] if readable.get("documents")],
        )
        # Issue 8: the page also names the household's members and the duplicates merged in (the person's own read
        # is logged by the selector).
        log_names_read(
            self.request,
            [m for m in [*context["household_members"], *context["merged_records"]] if m.pk != person.pk],
            purpose=f"household and merged records of #{person.pk}",
        )
        # Issue 8: the "Data protection" card (requests, subject access export), for those who handle requests here.
        context["data_protection"] = privacy_selectors.person_card(principal=user, person=person)
        if readable.get("sharing_basis"):
            context["shares"] = list(person.shares.select_related("office__organisation").order_by("-shared_at"))
        if can_change:
            target = _share_target(person.office)
            context.update(
                category_form=CategoryChangeForm(),
                document_form=DocumentForm(),
                share_target=target,
                already_shared=target is not None
                and any(s.office_id == target.pk and not s.revoked_at for s in context.get("shares", [])),
                basis_recorded=person.sharing_basis != SharingBasis.NONE,
            )
        return context


def _identity_key(data: dict) -> str:
    """Fingerprint of what duplicate detection looked at: "Save anyway" holds for these values only."""
    parts = [data.get("given_name"), data.get("family_name"), data.get("date_of_birth"), data.get("nationality")]
    return hashlib.sha256("|".join(str(p or "") for p in parts).encode()).hexdigest()[:32]


class BeneficiaryCreateView(LoginRequiredMixin, FormView):
    """Register a person. The first valid POST shows likely duplicates, if any; "Save anyway" registers."""

    template_name = "beneficiaries/beneficiary_form.html"
    form_class = BeneficiaryCreateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, access.ADD, "beneficiary")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        user = self.request.user
        offices = access.restrict(
            jointops_selectors.office_qs_for(principal=user), user, "beneficiary", access.ADD, office_field="pk"
        ).order_by("code")
        return {**super().get_form_kwargs(), "offices": offices}

    def get_initial(self):
        """The office where the user holds their role (not the offices beneath it) comes pre-selected."""
        user = self.request.user
        own = jointops_selectors.membership_qs_for_user(user=user).values_list("office_id", flat=True)
        office = next((pk for pk in own if access.can(user, access.ADD, "beneficiary", office=pk)), None)
        return {"office": office} if office else {}

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        office, category = data.pop("office"), data.pop("category")
        category_since, confirmed = data.pop("category_since"), data.pop("save_anyway")
        key = _identity_key(data)
        if confirmed != key:
            candidates = selectors.duplicate_candidates(
                principal=self.request.user,
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
                nationality=data["nationality"],
            )
            if candidates:
                log_names_read(  # Issue 8: the likely duplicates are shown by name
                    self.request, [p for p, _c in candidates], purpose="duplicate check", action="list"
                )
                return self.render_to_response(
                    self.get_context_data(form=form, candidates=_candidate_rows(candidates), duplicates_key=key)
                )
        person = _call_service(
            form,
            services.beneficiary_register,
            actor=self.request.user,
            office=office,
            category=category,
            category_since=category_since,
            **data,
        )
        if person is None:
            return self.form_invalid(form)
        messages.success(self.request, _("%(name)s registered.") % {"name": person.full_name})
        return redirect(person)


def _candidate_rows(candidates) -> list[dict]:
    return [
        {
            "person": person,
            "score": round(candidate.score * 100),
            "reasons": [REASON_LABELS.get(r, r) for r in candidate.reasons],
        }
        for person, candidate in candidates
    ]


class BeneficiaryUpdateView(PersonMixin, FormView):
    """Edit a person. The form carries the version it loaded: a save over someone else's change is refused."""

    template_name = "beneficiaries/beneficiary_form.html"
    form_class = BeneficiaryUpdateForm
    change_required = True
    log_read = True

    def get_initial(self):
        person = self.person
        initial = {name: getattr(person, name) for name in services.EDITABLE_FIELDS}
        initial.update(
            nationality=person.nationality.code or "",
            country_of_residence=person.country_of_residence.code or "",
            version=person.version,
        )
        return initial

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            person = services.beneficiary_update(
                actor=self.request.user, beneficiary=self.person, version=version, **data
            )
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except StaleVersion:
            form.add_error(
                None,
                _(
                    "Someone else changed this record since you opened it, so your changes were not saved. "
                    "Open the current version, then make your changes again."
                ),
            )
            return self.render_to_response(self.get_context_data(form=form, stale=True))
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Changes to %(name)s saved.") % {"name": person.full_name})
        return redirect(person)


class BeneficiaryChangeCategoryView(PersonMixin, FormView):
    """Record a dated change of category; the current category is the one with the latest date."""

    template_name = "beneficiaries/beneficiary_category_form.html"
    form_class = CategoryChangeForm
    change_required = True
    log_read = True  # Issue 8: the page names the person

    def form_valid(self, form):
        change = _call_service(
            form,
            services.beneficiary_change_category,
            actor=self.request.user,
            beneficiary=self.person,
            **form.cleaned_data,
        )
        if change is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Category change recorded."))
        return HttpResponseRedirect(self.person.get_absolute_url() + "#category-history")


class DocumentAddView(PersonMixin, FormView):
    template_name = "beneficiaries/document_form.html"
    form_class = DocumentForm
    change_required = True
    log_read = True  # Issue 8: the page names the person

    def form_valid(self, form):
        document = _call_service(
            form, services.document_add, actor=self.request.user, beneficiary=self.person, **form.cleaned_data
        )
        if document is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Document %(document)s added.") % {"document": document})
        return HttpResponseRedirect(self.person.get_absolute_url() + "#documents")


class DocumentRemoveView(PersonMixin, View):
    http_method_names = ["post"]
    change_required = True

    def post(self, request, *args, **kwargs):
        document = self.person.documents.filter(pk=kwargs["document_pk"]).first()
        if document is None:
            raise Http404
        try:
            services.document_remove(actor=request.user, document=document)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Document %(document)s removed.") % {"document": document})
        return HttpResponseRedirect(self.person.get_absolute_url() + "#documents")


class BeneficiaryShareView(PersonMixin, View):
    """Share the record with the counterpart office of the other agency, on its recorded basis (POST only)."""

    http_method_names = ["post"]
    change_required = True

    def post(self, request, *args, **kwargs):
        target = _share_target(self.person.office)
        if target is None:
            messages.error(request, _("This office has no counterpart office of the other agency to share with."))
            return HttpResponseRedirect(self.person.get_absolute_url() + "#sharing")
        try:
            services.beneficiary_share(actor=request.user, beneficiary=self.person, office=target)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Record shared with %(office)s.") % {"office": target.code})
        return HttpResponseRedirect(self.person.get_absolute_url() + "#sharing")


class BeneficiaryMergeView(LoginRequiredMixin, FormView):
    """Merge a duplicate into the record kept. GET ?survivor= lists likely duplicates of it; GET with both ids
    compares the two records; POST merges (both must be records the user may change)."""

    template_name = "beneficiaries/beneficiary_merge.html"
    form_class = MergeForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, access.CHANGE, "beneficiary")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        params = {key: request.GET.get(key, "") for key in ("survivor", "duplicate")}
        if not any(params.values()):
            return self.render_to_response(self.get_context_data())
        form = MergeForm(data={key: value for key, value in params.items() if value}, initial=params)
        form.is_valid()  # shows malformed ids; a missing duplicate only means "not chosen yet"
        if not params["duplicate"]:
            form.errors.pop("duplicate", None)
        context: dict[str, Any] = {"form": form}
        survivor = self._lookup(form, "survivor")
        duplicate = self._lookup(form, "duplicate")
        if survivor is not None and duplicate is None and not form.errors.get("duplicate"):
            context["candidates"] = _candidate_rows(
                selectors.duplicate_candidates(
                    principal=request.user,
                    given_name=survivor.given_name,
                    family_name=survivor.family_name,
                    date_of_birth=survivor.date_of_birth,
                    nationality=survivor.nationality.code or "",
                    exclude_pk=survivor.pk,
                )
            )
        log_names_read(  # Issue 8: the likely duplicates are shown by name
            request, [row["person"] for row in context.get("candidates", ())], purpose="merge", action="list"
        )
        context.update(survivor=survivor, duplicate=duplicate)
        context["ready"] = survivor is not None and duplicate is not None and not form.errors
        return self.render_to_response(self.get_context_data(**context))

    def _lookup(self, form, name: str) -> Beneficiary | None:
        """A record the user may see and change, or None with an error on the field."""
        pk = form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
        if not pk or form.errors.get(name):
            return None
        try:
            person = selectors.beneficiary_get_for_user(
                principal=self.request.user, pk=pk, path=self.request.path, purpose="merge"
            )
        except Http404:
            form.add_error(name, _("No record with this number is visible to you."))
            return None
        if not access.can(self.request.user, access.CHANGE, "beneficiary", office=person.office_id):
            form.add_error(name, _("You may not change this record, so you cannot merge it."))
            return None
        if person.merged_into_id:
            form.add_error(name, _("This record was already merged into another."))
            return None
        return person

    def form_valid(self, form):
        user = self.request.user
        survivor = _person(self.request, form.cleaned_data["survivor"], change=True)
        duplicate = _person(self.request, form.cleaned_data["duplicate"], change=True)
        merged = _call_service(form, services.beneficiary_merge, actor=user, survivor=survivor, duplicate=duplicate)
        if merged is None:
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Record #%(duplicate)s merged into #%(survivor)s.") % {"duplicate": duplicate.pk, "survivor": merged.pk},
        )
        return redirect(merged)


# --- Households -----------------------------------------------------------------------------------------


def _search_people(request, *, exclude_household: bool = True) -> tuple[PersonSearchForm, list[Beneficiary]]:
    """People the user may change matching the "find a person" box (for choosing a head or a member)."""
    form = PersonSearchForm(data=request.GET or None)
    if not form.is_bound or not form.is_valid() or not form.cleaned_data["q"].strip():
        return form, []
    people = selectors.beneficiary_qs_for(principal=request.user, action=access.CHANGE)
    if exclude_household:
        people = people.filter(household__isnull=True)
    found = BeneficiaryFilterSet(data={"q": form.cleaned_data["q"]}, queryset=people).qs
    return form, list(found[:SEARCH_RESULTS])


class HouseholdListView(FilteredListView):
    template_name = "beneficiaries/household_list.html"
    resource = "household"
    filterset_class = HouseholdFilterSet

    def base_queryset(self):
        return selectors.household_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = _office_select(context["filter_form"], user, "household")
        context.update(
            filter_fields=[form["reference"], form["office"]],
            can_add=access.can(user, access.ADD, "household"),
        )
        # Issue 8: the list names each household's head.
        log_names_read(self.request, [h.head_id for h in context["object_list"]], purpose="households", action="list")
        return context


class HouseholdMixin(LoginRequiredMixin):
    change_required = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.household = selectors.household_get_for_user(principal=request.user, pk=kwargs["pk"])
            if self.change_required:
                _require(request.user, access.CHANGE, "household", office=self.household.office_id)
        return super().dispatch(request, *args, **kwargs)


class HouseholdDetailView(HouseholdMixin, TemplateView):
    template_name = "beneficiaries/household_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, household = self.request.user, self.household
        can_change = access.can(user, access.CHANGE, "household", office=household.office_id)
        context.update(household=household, members=list(household.members.all()), can_change=can_change)
        if can_change:
            search_form, found = _search_people(self.request)
            context.setdefault("member_form", HouseholdMemberForm())
            context.update(
                search_form=search_form,
                found=found,
                relationships=[c for c in Relationship.choices if c[0] != Relationship.HEAD],
            )
        # Issue 8: the page names the members (and the people a search found): the reads are logged.
        log_names_read(self.request, context["members"], purpose=f"household {household.reference}")
        found_purpose = f"household {household.reference}: person search"
        log_names_read(self.request, context.get("found", ()), purpose=found_purpose, action="list")
        return context


class HouseholdAddMemberView(HouseholdDetailView):
    """POST: add a person with their relationship to the head. Errors re-render the household page."""

    http_method_names = ["post"]
    change_required = True

    def post(self, request, *args, **kwargs):
        form = HouseholdMemberForm(data=request.POST)
        person = self._member(form) if form.is_valid() else None
        if person is not None:
            try:
                services.household_add_member(
                    actor=request.user,
                    household=self.household,
                    beneficiary=person,
                    relationship=form.cleaned_data["relationship"],
                )
            except PermissionRefused as exc:
                raise PermissionDenied from exc
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("%(name)s added to household %(household)s.")
                    % {"name": person.full_name, "household": self.household.reference},
                )
                return redirect(self.household)
        return self.render_to_response(self.get_context_data(member_form=form))

    def _member(self, form) -> Beneficiary | None:
        try:
            person = selectors.beneficiary_get_for_user(
                principal=self.request.user, pk=form.cleaned_data["beneficiary"], log=False
            )
        except Http404:
            form.add_error("beneficiary", _("No record with this number is visible to you."))
            return None
        if not access.can(self.request.user, access.CHANGE, "beneficiary", office=person.office_id):
            form.add_error("beneficiary", _("You may not change this person's record."))
            return None
        return person


class HouseholdRemoveMemberView(HouseholdMixin, View):
    http_method_names = ["post"]
    change_required = True

    def post(self, request, *args, **kwargs):
        person = next((m for m in self.household.members.all() if m.pk == kwargs["person_pk"]), None)
        if person is None:
            raise Http404
        try:
            services.household_remove_member(actor=request.user, household=self.household, beneficiary=person)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("%(name)s removed from the household.") % {"name": person.full_name})
        return redirect(self.household)


class HouseholdCreateView(LoginRequiredMixin, FormView):
    """A household with a head (who must not belong to one yet). ?q= searches; ?head= pre-fills the head."""

    template_name = "beneficiaries/household_form.html"
    form_class = HouseholdCreateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, access.ADD, "household")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        head = self.request.GET.get("head", "")
        return {"head": int(head)} if head.isdigit() and len(head) < 12 else {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        search_form, found = _search_people(self.request)
        context.update(search_form=search_form, found=found)
        head_pk = context["form"].initial.get("head")
        if head_pk and not context["form"].is_bound:
            people = selectors.beneficiary_qs_for(principal=self.request.user, action=access.CHANGE)
            context["chosen_head"] = people.filter(pk=head_pk).first()
        return context

    def form_valid(self, form):
        user = self.request.user
        try:
            head = selectors.beneficiary_get_for_user(principal=user, pk=form.cleaned_data["head"], log=False)
        except Http404:
            form.add_error("head", _("No record with this number is visible to you."))
            return self.form_invalid(form)
        if not access.can(user, access.CHANGE, "beneficiary", office=head.office_id):
            form.add_error("head", _("You may not change this person's record."))
            return self.form_invalid(form)
        household = _call_service(
            form, services.household_create, actor=user, head=head, notes=form.cleaned_data["notes"]
        )
        if household is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Household %(reference)s created.") % {"reference": household.reference})
        return redirect(household)


# --- Reference data -------------------------------------------------------------------------------------


class MandateMatrixView(LoginRequiredMixin, TemplateView):
    """The categories of MOU §4 × each organisation's mandate for them, with the paragraph it rests on."""

    template_name = "beneficiaries/mandate_matrix.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        _require(self.request.user, access.VIEW, "reference")
        categories = list(selectors.category_qs())
        organisations = sorted(
            {m.organisation for c in categories for m in c.mandates.all()}, key=lambda o: o.code, reverse=True
        )
        rows = []
        for category in categories:
            by_org = {m.organisation_id: m for m in category.mandates.all()}
            rows.append({"category": category, "cells": [by_org.get(o.pk) for o in organisations]})
        context.update(organisations=organisations, matrix_rows=rows)
        return context
