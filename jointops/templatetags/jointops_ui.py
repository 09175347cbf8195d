"""Presentation helpers for the templates: Bootstrap classes on form widgets. No business logic here."""

from django import forms, template

register = template.Library()

_MULTI = (forms.CheckboxSelectMultiple, forms.RadioSelect)
_SELECT = (forms.Select, forms.SelectMultiple, forms.NullBooleanSelect)


@register.filter
def widget_kind(bound_field) -> str:
    """ "checkbox", "multi" (checkboxes or radio buttons), "select" or "input": how the partial lays it out."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, _MULTI):
        return "multi"
    if isinstance(widget, _SELECT):
        return "select"
    return "input"


@register.simple_tag
def form_control(bound_field, size: str = ""):
    """Render the field's widget with Bootstrap's classes, marked invalid when the field has errors."""
    kind = widget_kind(bound_field)
    classes = {"checkbox": "form-check-input", "select": "form-select"}.get(kind, "form-control")
    if size and kind != "checkbox":
        classes += f" {classes.split()[0]}-{size}"
    if bound_field.errors:
        classes += " is-invalid"
    # Django adds aria-invalid and aria-describedby ("<id>_helptext", "<id>_error"), which _field.html uses.
    return bound_field.as_widget(attrs={"class": classes})
