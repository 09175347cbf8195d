"""Session rules on every request (issue 8), after AuthenticationMiddleware and django-otp's OTPMiddleware:

- an absolute session lifetime: a session older than SESSION_MAX_HOURS since its sign-in ends, however active
  (the idle expiry is Django's SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST);
- two-factor sign-in: a signed-in user whose session has not passed the second factor reaches only the verify page
  (if they have an authenticator) or the set-up page (if their role requires one and they have none), plus sign-out,
  language switching and /healthz. Browser pages redirect; /api/ answers 403 in the API's error format. Partner
  systems (API tokens) never have a session here and are not concerned.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import two_factor_state

SIGNED_IN_AT = "accounts_signed_in_at"


def remember_sign_in_time(sender, request, user, **kwargs) -> None:
    """user_logged_in receiver: the start of the session's absolute lifetime."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SIGNED_IN_AT] = timezone.now().timestamp()


def _always_open(path: str) -> bool:
    return path == "/healthz" or path.startswith(("/static/", "/i18n/", "/accounts/logout/"))


class AccountSecurityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or getattr(user, "is_api_client", False):
            return self.get_response(request)
        if self._past_max_age(request):
            logout(request)
            return self._answer(request, reverse("login"), _("Your session has ended. Sign in again."))
        if user.is_verified() or _always_open(request.path):
            return self.get_response(request)
        state = two_factor_state(user=user)
        if state.has_device:
            target = reverse("accounts:two_factor_verify")
            open_paths = (target,)
            message = _("Enter the code of your authenticator app to finish signing in.")
        elif state.required:
            # Issue 8: two-factor sign-in required for office managers, HQ focal points, administrators, superusers.
            target = reverse("accounts:two_factor_setup")
            open_paths = (target, reverse("accounts:two_factor_qr"))
            message = _("Your role requires two-factor sign-in: set it up to continue.")
        else:
            return self.get_response(request)  # two-factor sign-in is optional for this account and not set up
        if request.path in open_paths:
            return self.get_response(request)
        return self._answer(request, target, message, code="two_factor_required")

    @staticmethod
    def _past_max_age(request) -> bool:
        started = request.session.get(SIGNED_IN_AT)
        if started is None:  # a session from before this rule: its lifetime starts now
            request.session[SIGNED_IN_AT] = timezone.now().timestamp()
            return False
        age = timezone.now() - dt.datetime.fromtimestamp(started, tz=dt.UTC)
        return age > dt.timedelta(hours=settings.SESSION_MAX_HOURS)

    @staticmethod
    def _answer(request, target: str, message: str, code: str = "not_authenticated"):
        if request.path.startswith("/api/"):
            from jointops.api.exception_handler import error_body

            return JsonResponse(error_body(message, code), status=403 if code == "two_factor_required" else 401)
        query = ""
        if request.method == "GET" and request.path != target:
            query = "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target + query)
