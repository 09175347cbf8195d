"""Browser forms of the platform: input shape only. Business rules live in jointops.services.

Views validate a form, call the service, and turn a `DomainError` into a form error with `add_domain_error`.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from jointops import access
from jointops.choices import OfficeLevel, Role
from jointops.exceptions import DomainError
from jointops.models import Office, User

# Where a service names a field the form calls differently.
FIELD_ALIASES = {"password": "password1"}


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a refused operation on the field the service named, or above the form when none fits."""
    field = FIELD_ALIASES.get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, str(exc.message))


def prepare_filter_form(form: forms.Form) -> forms.Form:
    """Friendlier widgets for a FilterSet's form: "Any" instead of "Unknown"/"---------", date-time pickers."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.NullBooleanSelect):
            widget.choices = [("unknown", _("Any")), ("true", _("Yes")), ("false", _("No"))]
        elif isinstance(field, forms.ChoiceField) and getattr(field, "empty_label", None) is not None:
            # django-filter adds the blank choice when iterating; re-setting the choices rebinds the widget's.
            choices = [choice for choice in field.choices if choice[0] != ""]
            field.empty_label = _("Any")
            field.choices = choices
        elif isinstance(field, forms.DateTimeField):
            widget.input_type = "datetime-local"
    return form


class OfficeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Office) -> str:
        return f"{obj.code} — {obj.name}"


def _country_choices() -> list[tuple[str, str]]:
    return [("", _("— none (headquarters) —")), *((code, name) for code, name in countries)]


class OfficeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("Short unique code used in the API, the command line and imports, e.g. IOM-AF-KBL."),
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    level = forms.ChoiceField(label=_("Level"), choices=OfficeLevel.choices, initial=OfficeLevel.COUNTRY)
    country = forms.ChoiceField(label=_("Country"), choices=_country_choices, required=False)
    parent = OfficeChoiceField(
        label=_("Parent office"), queryset=Office.objects.none(), required=False, empty_label=_("— none —")
    )
    counterpart = OfficeChoiceField(
        label=_("Counterpart office"),
        queryset=Office.objects.none(),
        required=False,
        empty_label=_("— none —"),
        help_text=_("The office of the other agency this office works with."),
    )

    def __init__(self, *args, parents=None, counterparts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents if parents is not None else Office.objects.none()
        self.fields["counterpart"].queryset = counterparts if counterparts is not None else Office.objects.none()


class OfficeUpdateForm(OfficeForm):
    is_active = forms.BooleanField(label=_("Active"), required=False)


class UserCreateForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        help_text=_("Letters, digits and @ . + - _ only."),
    )
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password1 = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Optional. Leave empty and the person chooses a password through “Forgot your password?” on the "
            "sign-in page."
        ),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password1", "") != data.get("password2", ""):
            self.add_error("password2", _("The two passwords do not match."))
        return data


class MembershipForm(forms.Form):
    office = OfficeChoiceField(label=_("Office"), queryset=Office.objects.none(), empty_label=_("Choose an office"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices if offices is not None else Office.objects.none()


class ApiClientCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("The partner system, e.g. its product name."))
    office = OfficeChoiceField(
        label=_("Office"),
        queryset=Office.objects.none(),
        empty_label=_("Choose an office"),
        help_text=_("The client sees the records of this office and of the offices beneath it."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=lambda: [(scope, scope) for scope in access.all_scopes()],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the client may read or write."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Optional. After this moment the token no longer works."),
    )

    def __init__(self, *args, offices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = offices if offices is not None else Office.objects.none()


class StaffPasswordResetForm(PasswordResetForm):
    """Django's reset form, also for accounts created without a password (they choose one this way).

    Django skips accounts with an unusable password (meant for outside authentication); here an administrator
    creates accounts without a password on purpose, so the person sets the first one by e-mail.
    """

    def get_users(self, email):
        candidates = User._default_manager.filter(email__iexact=email, is_active=True)
        return (user for user in candidates if user.email and user.email.lower() == email.lower())
