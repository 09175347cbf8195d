"""Browser pages of the notifications app: the inbox, the pre-departure name lists IOM → UNHCR (Letter of 16 January
2003), and the administrators' pages of deliveries and configuration.

Reads go through notifications.selectors (hidden lists, entries, notices and deliveries answer 404), writes through
notifications.services — the calls the API makes. What the user may do is decided by jointops.access (and, for the
answers to a list, by the services: only the receiving UNHCR office answers). Only the actions open to the user are
offered; an action on a visible record the user may not take answers 403. A `DomainError` becomes a form error on the
field it names, or a message for one-button actions. Every page showing the names on a list writes an access-log row
with the people's ids (never their names).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from jointops import access
from jointops import selectors as jointops_selectors
from jointops.audit import log_access
from jointops.choices import IOM
from jointops.exceptions import DomainError, PermissionRefused
from jointops.models import Office
from jointops.views import FilteredListView, _call_service, _require
from notifications import documents, outbox, selectors, services
from notifications.choices import ChangeKind, DeliveryStatus, Trigger
from notifications.filters import DeliveryFilterSet, PreDepartureListFilterSet
from notifications.forms import (
    ConcernForm,
    ContactAddForm,
    EmailPreferenceForm,
    LeadTimeForm,
    ListBuildForm,
    WebhookCreateForm,
)
from notifications.models import (
    DEFAULT_LEAD_TIME_DAYS,
    ENTRY_FIELDS,
    OfficeContact,
    OfficePair,
    PreDepartureEntry,
    PreDepartureList,
    WebhookSubscription,
)

INBOX_PAGE_SIZE = 25
LISTS_PAGE_SIZE = 25
DELIVERIES_PAGE_SIZE = 50
RESOURCE = "pre_departure_list"

# What the pages say of the rules, with their source.
LETTER_HINT = gettext_lazy(
    "Letter of 16 January 2003: IOM informs UNHCR in a timely way with “a list of names and dates of expected "
    "departure” of the asylum-seekers it helps to return (and keeps UNHCR informed of rejected asylum-seekers' "
    "returns); UNHCR uses it to “reassure itself of voluntariness and close its records”. A list carries nothing "
    "more of a person than UNHCR needs to identify them."
)
ANSWER_HINT = gettext_lazy(
    "The receiving UNHCR office acknowledges the list once, records a voluntariness concern on an entry (the IOM "
    "case owner is told at once) and closes its record once the list confirms the embarkation (Letter)."
)
CONCERN_HINT = gettext_lazy(
    "Letter: UNHCR “reassures itself of voluntariness”. The person may change their mind at any time up to "
    "voluntary embarkation; a concern recorded here reaches the IOM case owner at once, by inbox and e-mail."
)
WEBHOOK_HINT = gettext_lazy(
    "Each list is POSTed as JSON with the headers X-Jointops-Timestamp and X-Jointops-Signature (“sha256=” followed "
    "by the hexadecimal HMAC-SHA256, keyed with the subscription's signing secret, of the timestamp, a full stop and "
    "the raw body: “<timestamp>.<body>”). The partner system recomputes it, compares it in constant time, rejects "
    "old timestamps (replays) and treats the Idempotency-Key header as the delivery's id: a delivery retried after "
    "a failure carries the same key."
)


def _lead_time_hint(days: int) -> str:
    return _(
        "Letter: “in a timely way”. An entry reaching UNHCR fewer than %(days)d days before departure (the lead time "
        "agreed for this office pair; %(default)d days unless an administrator set another) is marked late, and the "
        "HQ dashboards count it."
    ) % {"days": days, "default": DEFAULT_LEAD_TIME_DAYS}


def _one_button(request, service, **kwargs) -> Any | None:
    """A one-button action: a refusal of the user answers 403; another refused operation, an error message."""
    try:
        return service(**kwargs)
    except PermissionRefused as exc:
        raise PermissionDenied from exc
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return None


def _safe_next(request, url: str, fallback: str) -> str:
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        return url
    return fallback


# --- The inbox ----------------------------------------------------------------------------------------------------


class InboxView(LoginRequiredMixin, ListView):
    """The user's own notices, unread first then newest first."""

    template_name = "notifications/inbox.html"
    paginate_by = INBOX_PAGE_SIZE
    context_object_name = "notices"

    def get_queryset(self) -> QuerySet:
        unread_first = Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField())
        return (
            selectors.inbox_qs_for(user=self.request.user)
            .alias(unread_first=unread_first)
            .order_by("unread_first", "-created_at", "-pk")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        preference = outbox.email_preference(self.request.user)
        context["email_form"] = EmailPreferenceForm(initial={"email_preference": preference})
        return context


class NotificationMixin(LoginRequiredMixin):
    """One of the user's own notices (another's answers 404)."""

    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.notice = jointops_selectors.get_or_404(selectors.inbox_qs_for(user=request.user), kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)


class NotificationOpenView(NotificationMixin, View):
    """Open a notice: it is marked read and the page it names is shown."""

    def post(self, request, *args, **kwargs):
        services.notification_mark_read(user=request.user, ids=[self.notice.pk])
        return redirect(_safe_next(request, self.notice.url, reverse("notifications:inbox")))


class NotificationReadView(NotificationMixin, View):
    def post(self, request, *args, **kwargs):
        services.notification_mark_read(user=request.user, ids=[self.notice.pk])
        return redirect(_safe_next(request, request.POST.get("next", ""), reverse("notifications:inbox")))


class NotificationReadAllView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        marked = services.notification_mark_read(user=request.user)
        messages.success(
            request,
            ngettext("%(count)d notice marked read.", "%(count)d notices marked read.", marked) % {"count": marked},
        )
        return redirect("notifications:inbox")


class EmailPreferenceView(LoginRequiredMixin, FormView):
    """Each notice by e-mail at once, one daily digest, or none (the inbox only)."""

    template_name = "notifications/email_preference.html"
    form_class = EmailPreferenceForm

    def get_initial(self):
        return {"email_preference": outbox.email_preference(self.request.user)}

    def form_valid(self, form):
        choice = form.cleaned_data["email_preference"]
        if _call_service(form, services.notification_settings_set, user=self.request.user, email_preference=choice):
            messages.success(self.request, _("Your e-mail preference is saved."))
            return redirect("notifications:inbox")
        return self.form_invalid(form)


# --- Pre-departure lists: the index and building on demand -------------------------------------------------------


def _build_offices(user) -> QuerySet[Office]:
    """The IOM offices whose list the user may build now (IOM field staff and office managers: IOM sends the lists,
    Letter)."""
    offices = jointops_selectors.office_qs_for(principal=user).filter(organisation__code=IOM, is_active=True)
    return access.restrict(offices, user, RESOURCE, access.ADD, office_field="pk").order_by("code")


def _own_office(user, offices: list[Office]) -> Office | None:
    """The office where the user holds a role, among `offices` (else the first), for pre-selection."""
    own = set(jointops_selectors.membership_qs_for_user(user=user).values_list("office_id", flat=True))
    return next((o for o in offices if o.pk in own), offices[0] if offices else None)


class ListIndexView(FilteredListView):
    """The lists the user's offices sent or received (HQ focal points: their organisation's), newest first, without
    their names (the detail shows them, and logs the read)."""

    template_name = "notifications/list_index.html"
    resource = RESOURCE
    filterset_class = PreDepartureListFilterSet
    paginate_by = LISTS_PAGE_SIZE

    def base_queryset(self):
        # Newest first; the counts group the rows, so the model's default ordering would not apply.
        lists = selectors.pre_departure_list_qs_for(principal=self.request.user).prefetch_related(None)
        return lists.order_by("-created_at", "-pk")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = context["filter_form"]
        # The page filters by office, acknowledgement and lateness; the API by date too (a dashboard's link may set
        # the dates and the country of the offices: they apply, the country shows).
        form.fields.pop("built_since", None)
        form.fields.pop("built_before", None)
        if not self.request.GET.get("office_country"):
            form.fields.pop("office_country", None)
        ids = access.office_ids(user, RESOURCE, access.VIEW)
        offices = jointops_selectors.office_qs_for(principal=user)
        if ids is not access.EVERYTHING:
            offices = offices.filter(pk__in=ids) | offices.filter(counterpart__in=ids)
        form.fields["office"].widget = forms.Select(
            choices=[("", _("Any")), *((o.code, f"{o.code} — {o.name}") for o in offices.distinct().order_by("code"))]
        )
        form.fields["office"].label = _("Office, sending or receiving")
        build_offices = list(_build_offices(user))
        if build_offices:
            build_form = ListBuildForm(
                offices=_build_offices(user), initial={"office": _own_office(user, build_offices)}
            )
            # The offices were read once above; the select shows them without reading them again.
            build_form.fields["office"].choices = [(o.pk, f"{o.code} — {o.name}") for o in build_offices]
            context.update(build_form=build_form, build_office_count=len(build_offices))
        context.update(letter_hint=LETTER_HINT, answer_hint=ANSWER_HINT)
        return context


class ListBuildView(LoginRequiredMixin, View):
    """IOM staff build their office's list now, as the daily schedule would (POST only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        user = request.user
        offices = list(_build_offices(user))
        if not offices:
            raise PermissionDenied  # UNHCR, HQ focal points, administrators: IOM offices send the lists (Letter)
        form = ListBuildForm(data=request.POST, offices=_build_offices(user))
        if not form.is_valid():
            messages.error(
                request,
                " ".join(f"{form.fields['office'].label}: {error}" for error in form.errors.get("office", [])),
            )
            return redirect("notifications:list_index")
        office = form.cleaned_data["office"] or _own_office(user, offices)
        built = _one_button(
            request, services.pre_departure_lists_build, actor=user, trigger=Trigger.BROWSER, iom_office=office
        )
        if built is None:
            return redirect("notifications:list_index")
        if not built:
            messages.info(
                request,
                _(
                    "Nothing new to tell UNHCR: every departure within the horizon and every change were already "
                    "listed. No list was built."
                ),
            )
            return redirect("notifications:list_index")
        counts = dict(
            PreDepartureEntry.objects.filter(list__in=built).values_list("list").annotate(n=Count("pk")).order_by()
        )
        details = ", ".join(
            ngettext("%(reference)s (%(count)d entry)", "%(reference)s (%(count)d entries)", counts.get(p.pk, 0))
            % {"reference": p.reference, "count": counts.get(p.pk, 0)}
            for p in built
        )
        messages.success(
            request,
            ngettext(
                "%(lists)d list built and sent to UNHCR: %(details)s.",
                "%(lists)d lists built and sent to UNHCR: %(details)s.",
                len(built),
            )
            % {"lists": len(built), "details": details},
        )
        return redirect("notifications:list_index")


# --- Pre-departure lists: one list, UNHCR's answers, downloads ---------------------------------------------------


def answers_list(user, pdl: PreDepartureList) -> bool:
    """May the user answer the list (acknowledge, concern, close a record)? The receiving UNHCR office's staff; the
    services decide the same (notifications.services._unhcr_side), this only decides what the page offers."""
    return bool(
        getattr(user, "organisation_id", None) == pdl.unhcr_office.organisation_id
        and access.can(user, access.CHANGE, RESOURCE, office=pdl.unhcr_office_id)
    )


def _log_names_read(request, pdl: PreDepartureList, entries, action: str = "view") -> None:
    """Names were shown: the access log records who, which people (ids only) and why."""
    _log_people_read(request, pdl, [entry.beneficiary_id for entry in entries], action=action)


def _log_people_read(request, pdl: PreDepartureList, people: list[int], action: str = "view") -> None:
    if people:
        log_access(
            actor=request.user,
            action=action,
            resource="beneficiary",
            object_ids=people,
            purpose=f"pre-departure list {pdl.reference}",
            path=request.path,
        )


def entry_rows(entries) -> list[dict]:
    """What the page shows of each entry: the allow-listed fields (ENTRY_FIELDS, in their order), then the late flag
    and UNHCR's answers — never anything else of the person."""
    rows = []
    for entry in entries:
        cells = []
        for name in ENTRY_FIELDS:
            value = entry.get_change_display() if name == "change" else getattr(entry, name)
            cells.append({"name": name, "value": value})
        rows.append(
            {
                "entry": entry,
                "cells": cells,
                "closable": entry.change == ChangeKind.EMBARKED and not entry.record_closed_at,
            }
        )
    return rows


class ListMixin(LoginRequiredMixin):
    """Finds the list of the URL (404 when hidden) and, with `entry_pk`, one of its entries."""

    def get_list(self, principal, pk) -> PreDepartureList:
        return selectors.pre_departure_list_get_for_user(principal=principal, pk=pk)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.pdl = self.get_list(request.user, kwargs["pk"])
            self.entry = None
            if "entry_pk" in kwargs:
                self.entry = selectors.entry_get_for_user(principal=request.user, pdl=self.pdl, pk=kwargs["entry_pk"])
        return super().dispatch(request, *args, **kwargs)


class PreDepartureListDetailView(ListMixin, TemplateView):
    template_name = "notifications/list_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, pdl = self.request.user, self.pdl
        entries = list(pdl.entries.all())  # prefetched by the selector, in departure order
        _log_names_read(self.request, pdl, entries)
        context.update(
            pdl=pdl,
            pdl_entry_fields=[PreDepartureEntry._meta.get_field(name).verbose_name for name in ENTRY_FIELDS],
            pdl_rows=entry_rows(entries),
            can_answer=answers_list(user, pdl),
            links_cases=access.can(user, access.VIEW, "return_case", office=pdl.iom_office_id),
            letter_hint=LETTER_HINT,
            answer_hint=ANSWER_HINT,
            lead_time_hint=_lead_time_hint(pdl.lead_time_days),
        )
        return context


class ListAcknowledgeView(ListMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if _one_button(request, services.pre_departure_list_acknowledge, actor=request.user, pdl=self.pdl):
            messages.success(request, _("List %(reference)s acknowledged.") % {"reference": self.pdl.reference})
        return redirect(self.pdl)


class EntryConcernView(ListMixin, FormView):
    """A voluntariness concern on one entry (Letter); the IOM case owner hears of it at once."""

    template_name = "notifications/entry_concern.html"
    form_class = ConcernForm

    def get(self, request, *args, **kwargs):
        self._require_answer()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        self._require_answer()
        return super().post(request, *args, **kwargs)

    def _require_answer(self) -> None:
        if not answers_list(self.request.user, self.pdl):
            raise PermissionDenied

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        _log_names_read(self.request, self.pdl, [self.entry])
        context.update(
            pdl=self.pdl,
            pdl_entry=self.entry,
            pdl_row=entry_rows([self.entry])[0],
            pdl_entry_fields=[PreDepartureEntry._meta.get_field(name).verbose_name for name in ENTRY_FIELDS],
            concern_hint=CONCERN_HINT,
        )
        return context

    def form_valid(self, form):
        entry = _call_service(
            form,
            services.entry_record_concern,
            actor=self.request.user,
            entry=self.entry,
            concern=form.cleaned_data["concern"],
        )
        if entry is None:
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Concern recorded on %(reference)s; the IOM case owner has been told.")
            % {"reference": entry.iom_case_reference},
        )
        return redirect(f"{self.pdl.get_absolute_url()}#entry-{entry.pk}")


class EntryCloseRecordView(ListMixin, View):
    """Letter: once the list confirms the embarkation, UNHCR closes its record."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        entry = _one_button(request, services.entry_close_record, actor=request.user, entry=self.entry)
        if entry is not None:
            messages.success(
                request, _("UNHCR's record closed for %(reference)s.") % {"reference": entry.iom_case_reference}
            )
        return redirect(f"{self.pdl.get_absolute_url()}#entry-{self.entry.pk}")


class ListDownloadView(ListMixin, View):
    """The list as its e-mail attachments (CSV, PDF): written to the access log as an export."""

    extension = "csv"

    def get_list(self, principal, pk) -> PreDepartureList:
        # The file reads its entries itself (one query of the allow-listed fields): no counts, no prefetch.
        return selectors.pre_departure_list_get_for_download(principal=principal, pk=pk)

    def get(self, request, *args, **kwargs):
        pdl = self.pdl
        if self.extension == "pdf":
            (content, people), content_type = documents.list_pdf_export(pdl), "application/pdf"
        else:
            (content, people), content_type = documents.list_csv_export(pdl), "text/csv; charset=utf-8"
        _log_people_read(request, pdl, people, action="export")
        return HttpResponse(
            content,
            content_type=content_type,
            headers={"Content-Disposition": content_disposition_header(True, f"{pdl.reference}.{self.extension}")},
        )


# --- Administrators: deliveries -----------------------------------------------------------------------------------


class DeliveryListView(FilteredListView):
    """The outbox of the administrator's organisation: e-mails and webhooks, their state, and a retry for the failed
    ones (parked after the last automatic try)."""

    template_name = "notifications/delivery_list.html"
    resource = "delivery"
    filterset_class = DeliveryFilterSet
    paginate_by = DELIVERIES_PAGE_SIZE

    def base_queryset(self):
        return selectors.delivery_qs_for(principal=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        visible = access.office_ids(user, RESOURCE, access.VIEW)
        rows = list(context["page_obj"].object_list) if context.get("page_obj") else list(context["object_list"])
        for delivery in rows:
            pdl = delivery.pre_departure_list
            delivery.list_visible = bool(
                pdl and (visible is access.EVERYTHING or pdl.iom_office_id in visible or pdl.unhcr_office_id in visible)
            )
            delivery.retryable = delivery.status == DeliveryStatus.FAILED
        context.update(
            deliveries=rows,
            can_retry=access.can(user, access.CHANGE, "delivery"),
            can_configure=access.administers(user, user.organisation_id),
        )
        return context


class DeliveryRetryView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        _require(request.user, access.CHANGE, "delivery")
        delivery = selectors.delivery_get_for_user(principal=request.user, pk=kwargs["pk"])
        if _one_button(request, services.delivery_retry, actor=request.user, delivery=delivery):
            messages.success(request, _("The delivery is queued again with a fresh set of attempts."))
        return redirect("notifications:delivery_list")


# --- Administrators: configuration ------------------------------------------------------------------------------
# The configuration rows belong to the offices and partner systems the administrator manages; they are read here
# through the jointops selectors that scope those (offices the user may change, partner systems the user may see).


def _administered_offices(user) -> QuerySet[Office]:
    offices = jointops_selectors.office_changeable_qs_for(principal=user).select_related("organisation", "counterpart")
    if not getattr(user, "is_superuser", False):
        offices = offices.filter(organisation_id=user.organisation_id)
    return offices.order_by("code")


def _lead_time_offices(user) -> QuerySet[Office]:
    """IOM offices with a UNHCR counterpart, of the IOM administrator's organisation."""
    return _administered_offices(user).filter(organisation__code=IOM, counterpart__isnull=False)


def _contacts(user) -> QuerySet[OfficeContact]:
    return OfficeContact.objects.filter(office__in=_administered_offices(user)).select_related("office")


def _partner_systems(user, action: str = access.VIEW):
    return jointops_selectors.api_client_qs_for(principal=user, action=action)


def _subscriptions(user) -> QuerySet[WebhookSubscription]:
    return (
        WebhookSubscription.objects.filter(api_client__in=_partner_systems(user))
        .select_related("api_client__office")
        .order_by("api_client__name", "url", "pk")
    )


class ConfigView(LoginRequiredMixin, TemplateView):
    """An organisation's notification settings: its offices' notification addresses, the lead time of each IOM office
    and its counterpart (IOM administrators), its partner systems' webhook subscriptions."""

    template_name = "notifications/config.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not access.administers(request.user, request.user.organisation_id):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        lead_offices = list(_lead_time_offices(user))
        pairs = {
            p.iom_office_id: p
            for p in OfficePair.objects.filter(iom_office__in=[o.pk for o in lead_offices]).select_related(
                "unhcr_office"
            )
        }
        lead_times = []
        for office in lead_offices:
            pair = pairs.get(office.pk)
            current = pair.lead_time_days if pair and pair.unhcr_office_id == office.counterpart_id else None
            lead_times.append({"office": office, "days": current, "default": DEFAULT_LEAD_TIME_DAYS})
        context.update(
            contacts=list(_contacts(user)),
            lead_times=lead_times,
            subscriptions=list(_subscriptions(user)),
            webhook_hint=WEBHOOK_HINT,
            letter_hint=LETTER_HINT,
            default_lead_time_days=DEFAULT_LEAD_TIME_DAYS,
        )
        context.setdefault("contact_form", ContactAddForm(offices=_administered_offices(user)))
        if lead_offices:
            context.setdefault("lead_time_form", LeadTimeForm(offices=_lead_time_offices(user)))
        context.setdefault(
            "webhook_form", WebhookCreateForm(api_clients=_partner_systems(user, access.CHANGE).filter(revoked_at=None))
        )
        return context


class ContactAddView(ConfigView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        user = request.user
        form = ContactAddForm(data=request.POST, offices=_administered_offices(user))
        if form.is_valid():
            contact = _call_service(form, services.office_contact_add, actor=user, **form.cleaned_data)
            if contact is not None:
                messages.success(
                    request,
                    _("%(office)s now receives its notices at %(email)s.")
                    % {"office": contact.office.code, "email": contact.email},
                )
                return redirect(reverse("notifications:config") + "#addresses")
        return self.render_to_response(self.get_context_data(contact_form=form))


class ContactRemoveView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        user = request.user
        if not access.administers(user, user.organisation_id):
            raise PermissionDenied
        contact = jointops_selectors.get_or_404(_contacts(user), kwargs["pk"])
        try:
            services.office_contact_remove(actor=user, contact=contact)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        messages.success(
            request,
            _("%(email)s no longer receives the notices of %(office)s.")
            % {"email": contact.email, "office": contact.office.code},
        )
        return redirect(reverse("notifications:config") + "#addresses")


class LeadTimeSetView(ConfigView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        user = request.user
        offices = _lead_time_offices(user)
        if not offices.exists():
            raise PermissionDenied  # lead times are set by IOM's administrators, for IOM offices with a counterpart
        form = LeadTimeForm(data=request.POST, offices=offices)
        if form.is_valid():
            pair = _call_service(
                form,
                services.office_pair_set_lead_time,
                actor=user,
                iom_office=form.cleaned_data["iom_office"],
                lead_time_days=form.cleaned_data["lead_time_days"],
            )
            if pair is not None:
                messages.success(
                    request,
                    _("Lead time of %(pair)s set to %(days)d days.") % {"pair": pair, "days": pair.lead_time_days},
                )
                return redirect(reverse("notifications:config") + "#lead-times")
        return self.render_to_response(self.get_context_data(lead_time_form=form))


class WebhookCreateView(ConfigView):
    """Subscribe a partner system; its signing secret is shown on the answer to the POST, once."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        user = request.user
        form = WebhookCreateForm(
            data=request.POST, api_clients=_partner_systems(user, access.CHANGE).filter(revoked_at=None)
        )
        if form.is_valid():
            subscription = _call_service(
                form,
                services.webhook_subscription_create,
                actor=user,
                api_client=form.cleaned_data["api_client"],
                url=form.cleaned_data["url"],
            )
            if subscription is not None:
                return render(
                    request,
                    "notifications/webhook_created.html",
                    {"subscription": subscription, "webhook_hint": WEBHOOK_HINT},
                )
        return self.render_to_response(self.get_context_data(webhook_form=form))


class WebhookSetActiveView(LoginRequiredMixin, View):
    http_method_names = ["post"]
    is_active = True

    def post(self, request, *args, **kwargs):
        user = request.user
        if not access.administers(user, user.organisation_id):
            raise PermissionDenied
        subscription = jointops_selectors.get_or_404(_subscriptions(user), kwargs["pk"])
        done = _one_button(
            request,
            services.webhook_subscription_set_active,
            actor=user,
            subscription=subscription,
            is_active=self.is_active,
        )
        if done is not None:
            if self.is_active:
                message = _("%(url)s receives the lists again.")
            else:
                message = _("%(url)s no longer receives the lists.")
            messages.success(request, message % {"url": subscription.url})
        return redirect(reverse("notifications:config") + "#webhooks")
