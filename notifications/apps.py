from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # The returns app asks two questions the notifications app answers (returns never imports notifications):
        # has this departure reached UNHCR on a pre-departure list (Letter) — embarkation waits for it — and who
        # hears of a repatriation operation UNHCR records (MOU §31).
        from notifications import checks, listing, reminders  # noqa: F401 - checks registers the system check
        from returns import flow
        from returns import services as returns_services

        flow.LISTED_CHECK = listing.departure_listed
        if reminders.operation_recorded not in returns_services.OPERATION_RECORDED_HOOKS:
            returns_services.OPERATION_RECORDED_HOOKS.append(reminders.operation_recorded)
