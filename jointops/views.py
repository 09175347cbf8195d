"""Browser views of the platform: home per role, offices, staff and their roles, partner systems, access log.

Every view reads through jointops.selectors and writes through jointops.services; what a user may see or do
is decided by jointops.access. Hidden records answer 404 (the *_get_for_user selectors); actions on visible
records the user may not change answer 403, and are not offered in the page. A `DomainError` raised by a
service becomes a form error on the field it names (or a message for one-button actions).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from jointops import access, exporting, selectors, services
from jointops.audit import PERSON_RESOURCES, access_alert_url
from jointops.choices import FOUNDING_ORGANISATIONS, Role
from jointops.exceptions import DomainError, PermissionRefused
from jointops.filters import AccessLogFilterSet, ApiClientFilterSet, OfficeFilterSet, UserFilterSet
from jointops.forms import (
    ApiClientCreateForm,
    MembershipForm,
    OfficeForm,
    OfficeUpdateForm,
    UserCreateForm,
    add_domain_error,
    prepare_filter_form,
)
from jointops.models import Office

PAGE_SIZE = 25
HOME_STAFF_LIMIT = 20


def _require(user: Any, action: str, resource: str, *, office: Any = None) -> None:
    """403 for an action the user may not take (the record itself, if any, was already found visible)."""
    if not access.can(user, action, resource, office=office):
        raise PermissionDenied


def _call_service(form, service, **kwargs) -> Any | None:
    """Run a service for a validated form. Returns its result, or None after putting the refusal on the form."""
    try:
        return service(**kwargs)
    except PermissionRefused as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        add_domain_error(form, exc)
        return None


class FilteredListView(LoginRequiredMixin, ListView):
    """A paginated list filtered by the resource's FilterSet (the same one the API uses)."""

    paginate_by = PAGE_SIZE
    resource: str = ""
    filterset_class: type | None = None

    def base_queryset(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        _require(self.request.user, access.VIEW, self.resource)
        self.filterset = self.filterset_class(self.request.GET or None, queryset=self.base_queryset())
        if self.filterset.is_bound and not self.filterset.is_valid():
            return self.filterset.queryset.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form"] = prepare_filter_form(self.filterset.form)
        context["is_filtered"] = any(value for key, value in self.request.GET.items() if key != "page")
        return context


# --- Home ---------------------------------------------------------------------------------------------


class HomeView(LoginRequiredMixin, TemplateView):
    """One page, one section per role the user holds (a user may hold several)."""

    template_name = "jointops/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        roles = {str(role) for role in access.roles(user)}
        memberships = list(
            selectors.membership_qs_for_user(user=user).select_related("office__counterpart__organisation")
        )
        context.update(roles=roles, memberships=memberships)
        if Role.FIELD_STAFF in roles:
            context["field_offices"] = [m.office for m in memberships if m.role == Role.FIELD_STAFF]
        if Role.OFFICE_MANAGER in roles:
            visible_staff = selectors.user_qs_for(principal=user).order_by("last_name", "first_name", "username")
            context["managed_offices"] = [
                {
                    "office": m.office,
                    "staff": list(visible_staff.filter(memberships__office=m.office)[: HOME_STAFF_LIMIT + 1]),
                }
                for m in memberships
                if m.role == Role.OFFICE_MANAGER
            ]
            context["home_staff_limit"] = HOME_STAFF_LIMIT
        if Role.HQ_FOCAL_POINT in roles:
            context["organisation_offices"] = (
                selectors.office_qs_for(principal=user)
                .filter(organisation_id=user.organisation_id)
                .order_by("country", "level", "code")
            )
        if Role.ADMINISTRATOR in roles:
            context["admin_counts"] = {
                "offices": selectors.office_qs_for(principal=user).filter(organisation_id=user.organisation_id).count(),
                "staff": selectors.user_qs_for(principal=user).count(),
                "api_clients": selectors.api_client_qs_for(principal=user).filter(revoked_at__isnull=True).count(),
            }
        return context


# --- Offices ------------------------------------------------------------------------------------------


class OfficeListView(FilteredListView):
    template_name = "jointops/office_list.html"
    resource = "office"
    filterset_class = OfficeFilterSet

    def base_queryset(self):
        return selectors.office_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_add"] = _administered_organisation(self.request.user) is not None
        return context


class OfficeDetailView(LoginRequiredMixin, TemplateView):
    template_name = "jointops/office_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        office = selectors.office_get_for_user(principal=user, pk=self.kwargs["pk"])
        context.update(
            office=office,
            can_change=access.can(user, access.CHANGE, "office", office=office),
            children=selectors.office_qs_for(principal=user).filter(parent=office).order_by("code"),
        )
        if access.can(user, access.VIEW, "user", office=office):
            context["staff"] = (
                selectors.user_with_memberships_qs_for(principal=user)
                .filter(memberships__office=office)
                .distinct()
                .order_by("last_name", "first_name", "username")
            )
        if access.can(user, access.VIEW, "api_client", office=office):
            context["api_clients"] = selectors.api_client_qs_for(principal=user).filter(office=office)
        return context


def _administered_organisation(user: Any):
    """The organisation whose offices and accounts the user may create, or None."""
    organisation = getattr(user, "organisation", None)
    if organisation is not None and access.administers(user, organisation):
        return organisation
    return None


def _counterpart_choices(user: Any, organisation_id: int) -> QuerySet[Office]:
    """Offices of the other founding agency (UNHCR ↔ IOM) the user can see."""
    return (
        selectors.office_qs_for(principal=user)
        .filter(organisation__code__in=FOUNDING_ORGANISATIONS)
        .exclude(organisation_id=organisation_id)
        .order_by("code")
    )


class OfficeCreateView(LoginRequiredMixin, FormView):
    template_name = "jointops/office_form.html"
    form_class = OfficeForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.organisation = _administered_organisation(request.user)
            if self.organisation is None:
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        user = self.request.user
        kwargs["parents"] = (
            selectors.office_qs_for(principal=user).filter(organisation=self.organisation).order_by("code")
        )
        kwargs["counterparts"] = _counterpart_choices(user, self.organisation.pk)
        return kwargs

    def form_valid(self, form):
        office = _call_service(
            form, services.office_create, actor=self.request.user, organisation=self.organisation, **form.cleaned_data
        )
        if office is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Office %(code)s created.") % {"code": office.code})
        return redirect(office)


class OfficeUpdateView(LoginRequiredMixin, FormView):
    template_name = "jointops/office_form.html"
    form_class = OfficeUpdateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.office = selectors.office_get_for_user(principal=request.user, pk=kwargs["pk"])
            _require(request.user, access.CHANGE, "office", office=self.office)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        office = self.office
        return {
            "code": office.code,
            "name": office.name,
            "level": office.level,
            "country": office.country.code or "",
            "parent": office.parent_id,
            "counterpart": office.counterpart_id,
            "is_active": office.is_active,
        }

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        user, office = self.request.user, self.office
        kwargs["parents"] = (
            selectors.office_qs_for(principal=user)
            .filter(organisation_id=office.organisation_id)
            .exclude(pk=office.pk)
            .order_by("code")
        )
        kwargs["counterparts"] = _counterpart_choices(user, office.organisation_id)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(office=self.office, **kwargs)

    def form_valid(self, form):
        office = _call_service(
            form, services.office_update, actor=self.request.user, office=self.office, **form.cleaned_data
        )
        if office is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Office %(code)s saved.") % {"code": office.code})
        return redirect(office)


# --- Staff --------------------------------------------------------------------------------------------


class UserListView(FilteredListView):
    template_name = "jointops/user_list.html"
    resource = "user"
    filterset_class = UserFilterSet

    def base_queryset(self):
        return selectors.user_with_memberships_qs_for(principal=self.request.user)

    def get_queryset(self):
        # distinct(): filtering on roles joins the memberships.
        return super().get_queryset().distinct().order_by("last_name", "first_name", "username")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_add"] = _administered_organisation(self.request.user) is not None
        return context


class UserTargetMixin(LoginRequiredMixin):
    """Finds the account in the URL: 404 when hidden; `change_required` -> 403 when visible but not changeable."""

    change_required = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.target = selectors.user_get_for_user(principal=request.user, pk=kwargs["pk"])
            if self.change_required and not self.target_changeable:
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def target_changeable(self) -> bool:
        changeable = selectors.user_qs_for(principal=self.request.user, action=access.CHANGE)
        return changeable.filter(pk=self.target.pk).exists()

    def role_offices(self) -> QuerySet[Office]:
        """Offices where the user may give the target a role: the target's organisation, within the user's reach."""
        user = self.request.user
        offices = selectors.office_qs_for(principal=user).filter(organisation_id=self.target.organisation_id)
        return access.restrict(offices, user, "user", access.CHANGE, office_field="pk").order_by("code")


class UserDetailView(UserTargetMixin, TemplateView):
    template_name = "jointops/user_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        memberships = list(selectors.membership_qs_for_user(user=self.target))
        for membership in memberships:
            membership.can_change = access.can(user, access.CHANGE, "user", office=membership.office_id)
        can_change = self.target_changeable
        context.update(
            person=self.target,
            memberships=memberships,
            can_change=can_change,
            can_add_role=can_change and self.role_offices().exists(),
            is_self=self.target.pk == user.pk,
        )
        return context


class UserCreateView(LoginRequiredMixin, FormView):
    template_name = "jointops/user_form.html"
    form_class = UserCreateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.organisation = _administered_organisation(request.user)
            if self.organisation is None:
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(organisation=self.organisation, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        person = _call_service(
            form,
            services.user_create,
            actor=self.request.user,
            organisation=self.organisation,
            username=data["username"],
            email=data["email"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            password=data["password1"] or None,
        )
        if person is None:
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Account %(username)s created. Give it a role at an office.") % {"username": person.username},
        )
        return redirect(reverse("jointops:membership_set", args=[person.pk]))


class UserSetActiveView(UserTargetMixin, View):
    """Activate or deactivate an account (POST only). Deactivating signs the person out everywhere."""

    http_method_names = ["post"]
    change_required = True
    is_active = True

    def post(self, request, *args, **kwargs):
        try:
            services.user_set_active(actor=request.user, user=self.target, is_active=self.is_active)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            if self.is_active:
                messages.success(request, _("Account %(username)s activated.") % {"username": self.target.username})
            else:
                # Issue 8: a deactivated account is signed out everywhere (accounts.services).
                from accounts.services import user_sign_out_everywhere

                user_sign_out_everywhere(actor=request.user, user=self.target)
                messages.success(
                    request,
                    _("Account %(username)s deactivated and signed out.") % {"username": self.target.username},
                )
        return redirect(self.target)


class MembershipSetView(UserTargetMixin, FormView):
    """Give the account a role at an office, or change the role it holds there."""

    template_name = "jointops/membership_form.html"
    form_class = MembershipForm
    change_required = True

    def get_initial(self):
        initial = {}
        office_id = self.request.GET.get("office", "")
        if office_id.isdigit():
            membership = selectors.membership_qs_for_user(user=self.target).filter(office_id=int(office_id)).first()
            initial["office"] = int(office_id)
            if membership is not None:
                initial["role"] = membership.role
        return initial

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "offices": self.role_offices()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(person=self.target, **kwargs)

    def form_valid(self, form):
        membership = _call_service(
            form,
            services.membership_set,
            actor=self.request.user,
            user=self.target,
            office=form.cleaned_data["office"],
            role=form.cleaned_data["role"],
        )
        if membership is None:
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(person)s is now %(role)s at %(office)s.")
            % {"person": self.target, "role": membership.get_role_display(), "office": membership.office.code},
        )
        return redirect(self.target)


class MembershipRemoveView(UserTargetMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        membership = selectors.membership_qs_for_user(user=self.target).filter(pk=kwargs["membership_pk"]).first()
        if membership is None:
            raise Http404
        _require(request.user, access.CHANGE, "user", office=membership.office_id)
        try:
            services.membership_remove(actor=request.user, membership=membership)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                _("%(person)s no longer holds a role at %(office)s.")
                % {"person": self.target, "office": membership.office.code},
            )
        return redirect(self.target)


# --- Partner systems ----------------------------------------------------------------------------------


class ApiClientListView(FilteredListView):
    template_name = "jointops/api_client_list.html"
    resource = "api_client"
    filterset_class = ApiClientFilterSet

    def base_queryset(self):
        return selectors.api_client_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_add"] = access.can(self.request.user, access.ADD, "api_client")
        return context


class ApiClientDetailView(LoginRequiredMixin, TemplateView):
    template_name = "jointops/api_client_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        client = selectors.api_client_get_for_user(principal=self.request.user, pk=self.kwargs["pk"])
        context.update(
            client=client,
            can_revoke=client.revoked_at is None
            and access.can(self.request.user, access.CHANGE, "api_client", office=client.office_id),
        )
        return context


class ApiClientCreateView(LoginRequiredMixin, FormView):
    """Creates the credentials and shows the token on the answer to the POST: once, never stored in clear."""

    template_name = "jointops/api_client_form.html"
    form_class = ApiClientCreateForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            _require(request.user, access.ADD, "api_client")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        user = self.request.user
        offices = access.restrict(
            selectors.office_qs_for(principal=user), user, "api_client", access.ADD, office_field="pk"
        )
        return {**super().get_form_kwargs(), "offices": offices.order_by("code")}

    def form_valid(self, form):
        result = _call_service(form, services.api_client_create, actor=self.request.user, **form.cleaned_data)
        if result is None:
            return self.form_invalid(form)
        client, token = result
        return render(self.request, "jointops/api_client_created.html", {"client": client, "token": token})


class ApiClientRevokeView(LoginRequiredMixin, TemplateView):
    """GET asks for confirmation; POST revokes. The token stops working at once."""

    template_name = "jointops/api_client_confirm_revoke.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.client = selectors.api_client_get_for_user(principal=request.user, pk=kwargs["pk"])
            _require(request.user, access.CHANGE, "api_client", office=self.client.office_id)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(client=self.client, **kwargs)

    def post(self, request, *args, **kwargs):
        if self.client.revoked_at is not None:
            messages.info(request, _("This client was already revoked."))
            return HttpResponseRedirect(self.client.get_absolute_url())
        try:
            services.api_client_revoke(actor=request.user, client=self.client)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Client %(name)s revoked: its token no longer works.") % {"name": self.client})
        return HttpResponseRedirect(self.client.get_absolute_url())


# --- Accountability -----------------------------------------------------------------------------------


class AccessLogListView(FilteredListView):
    """Issue 8 (accountability): who read or exported what, for HQ focal points and administrators (their
    organisation's staff and partner systems; superusers everything), filtered; ?format=csv or xlsx exports the
    filtered entries (the export is itself logged); the recent bulk-reading alerts above the list."""

    template_name = "jointops/access_log_list.html"
    resource = "access_log"
    filterset_class = AccessLogFilterSet
    recent_alerts = 5

    def base_queryset(self):
        return selectors.access_log_qs_for(principal=self.request.user)

    def get(self, request, *args, **kwargs):
        if "format" in request.GET:
            return self.export(request, request.GET["format"])
        return super().get(request, *args, **kwargs)

    def export(self, request, file_format: str):
        _require(request.user, access.VIEW, self.resource)
        params = request.GET.copy()
        params.pop("format", None)
        params.pop("page", None)
        back = reverse("jointops:access_log_list") + (f"?{params.urlencode()}" if params else "")
        filterset = self.filterset_class(params or None, queryset=self.base_queryset())
        if file_format not in exporting.FORMATS or (filterset.is_bound and not filterset.is_valid()):
            messages.error(request, _("The export could not be made: check the filters and the format (csv or xlsx)."))
            return redirect(back)
        try:
            content = exporting.access_log_export(
                principal=request.user, queryset=filterset.qs, fmt=file_format, path=request.get_full_path()
            )
        except exporting.ExportTooLarge as exc:
            messages.error(request, str(exc.message))
            return redirect(back)
        content_type = exporting.XLSX_CONTENT_TYPE if file_format == "xlsx" else exporting.CSV_CONTENT_TYPE
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{exporting.file_name(file_format)}"'
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for entry in context["object_list"]:
            entry.counts_people = entry.resource in PERSON_RESOURCES
        alerts = list(selectors.access_alert_qs_for(principal=self.request.user)[: self.recent_alerts])
        for alert in alerts:
            alert.log_url = access_alert_url(alert)
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(recent_alerts=alerts, export_query=query.urlencode())
        return context
