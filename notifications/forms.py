"""Browser forms of the notifications app: input shape only. The rules (who may answer a list, the lead-time bound,
https for webhooks...) live in notifications.services; views turn their `DomainError` into form errors."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jointops.forms import OfficeChoiceField
from jointops.models import ApiClient, Office
from notifications.choices import EmailPreference

CONCERN_MAX_LENGTH = 4000
# The model's bound on an office pair's lead time (OfficePair.lead_time_days, MaxValueValidator(90)).
LEAD_TIME_MAX_DAYS = 90


class EmailPreferenceForm(forms.Form):
    email_preference = forms.ChoiceField(
        label=_("E-mail me"),
        choices=EmailPreference.choices,
        widget=forms.RadioSelect,
        help_text=_("A voluntariness concern is e-mailed at once even to those who chose the daily digest."),
    )


class ListBuildForm(forms.Form):
    """IOM staff build their office's list now (the daily schedule does it anyway)."""

    office = OfficeChoiceField(label=_("IOM office"), queryset=Office.objects.none(), required=False, empty_label=None)

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices if offices is not None else Office.objects.none()


class ConcernForm(forms.Form):
    concern = forms.CharField(
        label=_("Voluntariness concern"),
        max_length=CONCERN_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What makes UNHCR doubt that the return is voluntary. The IOM case owner is told at once; name the case, "
            "not other people."
        ),
    )


class ContactAddForm(forms.Form):
    office = OfficeChoiceField(label=_("Office"), queryset=Office.objects.none())
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("A UNHCR office receives its pre-departure lists here, as CSV and PDF attachments."),
    )

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices if offices is not None else Office.objects.none()


class LeadTimeForm(forms.Form):
    iom_office = OfficeChoiceField(label=_("IOM office"), queryset=Office.objects.none())
    lead_time_days = forms.IntegerField(
        label=_("Lead time (days)"),
        min_value=0,
        max_value=LEAD_TIME_MAX_DAYS,
        help_text=_(
            "Letter: UNHCR is informed “in a timely way”. An entry reaching UNHCR fewer days than this before "
            "departure is marked late and counted on the HQ dashboards."
        ),
    )

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["iom_office"].queryset = offices if offices is not None else Office.objects.none()


class ApiClientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ApiClient) -> str:
        return f"{obj.name} ({obj.office.code})"


class WebhookCreateForm(forms.Form):
    api_client = ApiClientChoiceField(label=_("Partner system"), queryset=ApiClient.objects.none())
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("An https:// address of the partner system; the lists it receives carry people's names."),
    )

    def __init__(self, *args, api_clients=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["api_client"].queryset = api_clients if api_clients is not None else ApiClient.objects.none()
