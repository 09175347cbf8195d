from django import forms
from django.utils.translation import gettext_lazy as _


class CodeForm(forms.Form):
    """One code: the 6 digits of the authenticator app (or, on the verify page, one recovery code)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}),
    )

    def __init__(self, *args, recovery_allowed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if recovery_allowed:
            self.fields["code"].help_text = _(
                "The 6-digit code of your authenticator app, or one of your recovery codes (e.g. ABCD-EFGH-IJKL-MNOP)."
            )
        else:
            self.fields["code"].max_length = 8
            self.fields["code"].help_text = _("The 6-digit code your authenticator app shows now.")

    def clean_code(self):
        code = self.cleaned_data["code"]
        if "\x00" in code:
            raise forms.ValidationError(_("The code contains a character that is not allowed."))
        return code
