"""`{% two_factor_of person as two_factor %}` for the staff page: the account's two-factor state, and whether the
viewer may reset it or sign the account out everywhere (an administrator of its organisation, not themselves)."""

from django import template

from accounts.selectors import two_factor_state
from jointops import access

register = template.Library()


@register.simple_tag(takes_context=True)
def two_factor_of(context, person) -> dict:
    viewer = context.get("user")
    if person is None or not getattr(person, "pk", None):
        return {}
    can_manage = bool(
        viewer is not None
        and getattr(viewer, "pk", None) != person.pk
        and access.administers(viewer, person.organisation_id)
        and (viewer.is_superuser or not person.is_superuser)
    )
    return {"state": two_factor_state(user=person), "can_manage": can_manage}
