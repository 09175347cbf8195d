"""Browser pages to import people from CSV/XLSX (upload, template, job page with a progress bar and the report)
and to export the filtered list. The work is done by beneficiaries.importing and beneficiaries.exporting;
jointops.access decides who may do what (another user's import job answers 404)."""

from __future__ import annotations

import csv
import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView

from beneficiaries import exporting, importing, selectors
from beneficiaries.filters import BeneficiaryFilterSet
from beneficiaries.models import ImportJob
from jointops import access
from jointops.exceptions import DomainError, PermissionRefused
from jointops.forms import add_domain_error

REPORT_ROWS_SHOWN = 500  # the page lists this many errors and warnings; the CSV report has them all (as stored)
FORMATS = ("csv", "xlsx")


class OfficeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} — {obj.name}"


class ImportForm(forms.Form):
    office = OfficeChoiceField(
        label=gettext_lazy("Office"),
        queryset=None,
        help_text=gettext_lazy("People are registered at this office unless a row names another in its office column."),
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy("CSV (UTF-8, comma or semicolon) or XLSX, with the columns of the template."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices
        only = list(offices[:2])
        if len(only) == 1:
            self.fields["office"].initial = only[0].pk

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            importing.check_size(size=upload.size)  # before reading it into memory
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message)) from exc
        return upload


class BeneficiaryImportView(LoginRequiredMixin, FormView):
    """Upload a file; small files are imported at once, large ones in the background (the job page follows)."""

    template_name = "beneficiaries/import_form.html"
    form_class = ImportForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.offices = importing.import_offices_for(principal=request.user)
            if not self.offices.exists():
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "offices": self.offices}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            columns=importing.COLUMNS,
            inline_rows=settings.IMPORT_INLINE_ROWS,
            recent_jobs=importing.import_job_qs_for(principal=self.request.user)[:10],
        )
        return context

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            job = importing.import_job_create(
                actor=self.request.user,
                office=form.cleaned_data["office"],
                file_name=upload.name,
                content=upload.read(),
                content_type=upload.content_type or "",
            )
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        if job.status == ImportJob.Status.DONE:
            messages.success(self.request, _("%(count)d people imported.") % {"count": job.created_count})
        elif job.status == ImportJob.Status.FAILED:
            messages.error(self.request, _("The file has errors: nothing was imported. See the report below."))
        return redirect(reverse("beneficiaries:import_job_detail", args=[job.pk]))


class BeneficiaryImportTemplateView(LoginRequiredMixin, View):
    """The empty import file: ?format=csv (default) or xlsx."""

    def get(self, request):
        if not access.can(request.user, access.ADD, "beneficiary"):
            raise PermissionDenied
        file_format = request.GET.get("format", "csv")
        if file_format not in FORMATS:
            return HttpResponse(_("Choose the format csv or xlsx."), status=400, content_type="text/plain")
        if file_format == "xlsx":
            return _attachment(importing.import_template_xlsx(), exporting.XLSX_CONTENT_TYPE, "people-import.xlsx")
        return _attachment(importing.import_template_csv(), exporting.CSV_CONTENT_TYPE, "people-import.csv")


def _job_context(job: ImportJob) -> dict:
    running = job.status not in importing.FINISHED
    percent = 0
    if job.status == ImportJob.Status.IMPORTING:
        percent = 100
    elif job.total_rows:
        percent = min(100, round(100 * job.processed_rows / job.total_rows))
    return {
        "job": job,
        "running": running,
        "validating": job.status == ImportJob.Status.VALIDATING,
        "importing": job.status == ImportJob.Status.IMPORTING,
        "done": job.status == ImportJob.Status.DONE,
        "failed": job.status == ImportJob.Status.FAILED,
        "percent": percent,
        "errors_shown": job.errors[:REPORT_ROWS_SHOWN],
        "duplicates_shown": job.duplicates[:REPORT_ROWS_SHOWN],
        "report_rows_shown": REPORT_ROWS_SHOWN,
    }


class ImportJobDetailView(LoginRequiredMixin, View):
    """The job: a progress bar polled by htmx every second while it runs, then the report."""

    def get(self, request, pk):
        job = importing.import_job_get_for_user(principal=request.user, pk=pk)
        context = _job_context(job)
        if request.headers.get("HX-Request") == "true":
            return render(request, "beneficiaries/_import_job_status.html", context)
        return render(request, "beneficiaries/import_job_detail.html", context)


class ImportJobReportView(LoginRequiredMixin, View):
    """The job's report as CSV: every error (row, column, message) and every likely duplicate kept."""

    def get(self, request, pk):
        job = importing.import_job_get_for_user(principal=request.user, pk=pk)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([_("kind"), _("row"), _("column"), _("message"), _("other row"), _("person id"), _("score")])
        for entry in job.errors:
            writer.writerow(
                [
                    _("error"),
                    entry.get("row") or "",
                    exporting.neutralise(entry.get("column", "")),  # a header cell of the file may be anything
                    exporting.neutralise(entry["message"]),
                ]
            )
        for entry in job.duplicates:
            writer.writerow(
                [
                    _("possible duplicate"),
                    entry.get("row"),
                    "",
                    "",
                    entry.get("other_row", ""),
                    entry.get("beneficiary_id", ""),
                    entry.get("score", ""),
                ]
            )
        content = ("\ufeff" + out.getvalue()).encode()
        return _attachment(content, exporting.CSV_CONTENT_TYPE, f"import-{job.pk}-report.csv")


class BeneficiaryExportView(LoginRequiredMixin, View):
    """The list of people as filtered on the list page, as ?format=csv or xlsx; recorded in the access log."""

    def get(self, request):
        user = request.user
        if not access.can(user, exporting.EXPORT, "beneficiary"):
            raise PermissionDenied
        file_format = request.GET.get("format", "csv")
        params = request.GET.copy()
        params.pop("format", None)
        params.pop("page", None)
        filterset = BeneficiaryFilterSet(params, queryset=selectors.beneficiary_qs_for(principal=user))
        if file_format not in FORMATS or not filterset.is_valid():
            messages.error(request, _("The export could not be made: check the filters and the format (csv or xlsx)."))
            return redirect(reverse("beneficiaries:beneficiary_list") + (f"?{params.urlencode()}" if params else ""))
        export = exporting.export_xlsx if file_format == "xlsx" else exporting.export_csv
        try:
            content = export(principal=user, queryset=filterset.qs, path=request.path)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        content_type = exporting.XLSX_CONTENT_TYPE if file_format == "xlsx" else exporting.CSV_CONTENT_TYPE
        return _attachment(content, content_type, exporting.export_file_name(file_format))


def _attachment(content: bytes, content_type: str, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response
