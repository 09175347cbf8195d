"""django-axes hooks (issue 8: lock-out of repeated failed sign-ins)."""

from __future__ import annotations

from django.contrib.auth import get_user_model


def username_for_lockout(request, credentials: dict | None = None) -> str | None:
    """The username a failed sign-in is counted against (AXES_USERNAME_CALLABLE).

    Bad input must never turn a failed sign-in into a 500: cut to the longest username an account can have (axes
    stores 255 characters; a longer one matches no account anyway) and drop NUL characters, which PostgreSQL refuses.
    """
    field = get_user_model().USERNAME_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        username = data.get(field)
    if username is None:
        return None
    max_length = get_user_model()._meta.get_field(field).max_length or 150
    return str(username).replace("\x00", "")[:max_length]
