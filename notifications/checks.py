"""A system check on the delivery settings: the sweeper must never take back a send that is still running."""

from django.conf import settings
from django.core.checks import Error, register

PDF_AND_MARGIN_SECONDS = 60  # building the attachments of a long list, and a margin


@register()
def delivery_timing_check(app_configs, **kwargs):
    slowest = max(settings.WEBHOOK_TIMEOUT_SECONDS, settings.EMAIL_TIMEOUT or 0) + PDF_AND_MARGIN_SECONDS
    if slowest > settings.DELIVERY_STALE_SECONDS:
        return [
            Error(
                f"DELIVERY_STALE_SECONDS ({settings.DELIVERY_STALE_SECONDS}) must be at least {slowest}: the longest "
                "a send may take (WEBHOOK_TIMEOUT_SECONDS or EMAIL_TIMEOUT, plus 60 s to build the attachments). "
                "Below that, the sweeper would send a message again while the first send is still running.",
                id="notifications.E001",
            )
        ]
    return []
