"""Domain errors. Services raise them; views turn them into form errors/messages, the API into 400/403/409/412."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused the operation. `field` names the input at fault, when there is one."""

    status_code = 400
    default_code = "invalid"
    default_message = _("The operation is not allowed.")

    def __init__(self, message=None, *, field: str | None = None, code: str | None = None):
        self.message = message or self.default_message
        self.field = field
        self.code = code or self.default_code
        super().__init__(str(self.message))

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": str(self.message)}


class ValidationFailed(DomainError):
    default_code = "invalid"


class PermissionRefused(DomainError):
    status_code = 403
    default_code = "permission_denied"
    default_message = _("You are not allowed to do this.")


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"
    default_message = _("The record changed or is in a state that does not allow this.")


class TransitionNotAllowed(Conflict):
    default_code = "transition_not_allowed"


class StaleVersion(DomainError):
    status_code = 412
    default_code = "stale_version"
    default_message = _("Someone else changed this record since you opened it. Reload it and try again.")
