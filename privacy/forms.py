"""Browser forms of the person's requests about their data: input shape only. The rules (dates, outcome required,
versions, anonymisation of a granted deletion) live in privacy.services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from privacy.choices import CLOSED_STATUSES, RequestChannel, RequestKind, RequestStatus
from privacy.services import DETAILS_MAX, OUTCOME_MAX


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Request"), choices=RequestKind.choices)
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())
    channel = forms.ChoiceField(label=_("Received by"), choices=RequestChannel.choices)
    details = forms.CharField(
        label=_("What is asked"),
        required=False,
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("e.g. the fields to correct and the right values; no more (data minimisation)."),
    )


class DecideForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Decision"),
        choices=[(value, label) for value, label in RequestStatus.choices if value in CLOSED_STATUSES],
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=OUTCOME_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What was done, or why it was refused; required when refused or partly granted (the person is told why)."
        ),
    )
    decided_on = forms.DateField(
        label=_("Decided on"), required=False, widget=DateInput(), help_text=_("Leave empty for today.")
    )
    # The version the decider loaded: a decision over someone else's is refused (privacy.services.request_decide).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
