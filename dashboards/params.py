"""The dashboard's filters (organisation, country, office, period), validated once for the page, the exports and
the API. A bad value is refused with a message naming the field; nothing is computed from it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from jointops.exceptions import ValidationFailed
from jointops.models import Office, Organisation

MAX_PERIOD_DAYS = 5 * 366  # the monthly tables stay readable (at most 60 months)
DEFAULT_PERIOD_MONTHS = 12


def default_period(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last twelve months, whole months: from the first day of the month eleven months ago to today."""
    month = today.month - (DEFAULT_PERIOD_MONTHS - 1)
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return dt.date(year, month, 1), today


class DashboardFilterForm(forms.Form):
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    country = forms.ChoiceField(label=_("Country of the office"), required=False)
    office = forms.CharField(label=_("Office code"), required=False, max_length=32)

    def __init__(self, *args, fixed_office: Office | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_office = fixed_office
        self.fields["organisation"].choices = [("", _("Both organisations"))] + [
            (o.code, o.code) for o in Organisation.objects.order_by("code")
        ]
        self.fields["country"].choices = [("", _("All countries"))] + list(countries)
        if fixed_office is not None:
            for name in ("organisation", "country", "office"):
                del self.fields[name]

    def clean_office(self) -> Office | None:
        code = self.cleaned_data.get("office", "").strip()
        if not code:
            return None
        office = Office.objects.filter(code__iexact=code).first()
        if office is None:
            raise forms.ValidationError(_("No office has the code %(code)s."), params={"code": code})
        return office

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "from" in self.errors or "until" in self.errors:
            return data
        default_start, default_end = default_period(timezone.localdate())
        start, end = data.get("from") or default_start, data.get("until") or default_end
        if start > end:
            self.add_error("until" if data.get("until") else "from", _("The end of the period is before its start."))
        elif (end - start).days > MAX_PERIOD_DAYS:
            self.add_error("from", _("The period may span at most five years."))
        else:
            data["from"], data["until"] = start, end
        return data


# "from" and "until" are the query-string names (the first is a Python keyword, hence set here).
DashboardFilterForm.base_fields["from"] = forms.DateField(label=_("Period from"), required=False)
DashboardFilterForm.base_fields["until"] = forms.DateField(label=_("Period until"), required=False)


@dataclass(frozen=True)
class DashboardParams:
    organisation: Organisation | None
    country: str
    office: Office | None
    date_from: dt.date
    date_until: dt.date
    today: dt.date

    def as_query(self) -> dict[str, str]:
        """The filters as query-string values (for links, exports and the API's echo)."""
        query = {"from": self.date_from.isoformat(), "until": self.date_until.isoformat()}
        if self.organisation:
            query["organisation"] = self.organisation.code
        if self.country:
            query["country"] = self.country
        if self.office:
            query["office"] = self.office.code
        return query


def parse_params(data: Any, *, office: Office | None = None, today: dt.date | None = None) -> DashboardParams:
    """Validate the query string. Raises ValidationFailed naming the first field at fault."""
    form = DashboardFilterForm(data, fixed_office=office)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise ValidationFailed(errors[0], field=None if field == "__all__" else field)
    return params_from_form(form, office=office, today=today)


def params_from_form(form: DashboardFilterForm, *, office: Office | None = None, today=None) -> DashboardParams:
    today = today or timezone.localdate()
    data = form.cleaned_data
    organisation = None
    if data.get("organisation"):
        organisation = Organisation.objects.get(code=data["organisation"])
    return DashboardParams(
        organisation=organisation,
        country=data.get("country") or "",
        office=office or data.get("office"),
        date_from=data["from"],
        date_until=data["until"],
        today=today,
    )
