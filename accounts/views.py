"""Two-factor sign-in, the account's security page, and administrators' actions on a staff account (issue 8).

Views parse the input, call accounts.services and render; a refused operation (DomainError) becomes a form error or
a message. Pending set-up secrets live in the session only until confirmed; recovery codes are shown once, in the
answer to the request that made them, and stored hashed only.
"""

from __future__ import annotations

import django_otp
import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from accounts import selectors, services
from accounts.forms import CodeForm
from jointops import selectors as jointops_selectors
from jointops.exceptions import DomainError, PermissionRefused
from jointops.forms import add_domain_error

PENDING_KEY = "accounts_pending_totp_key"


def _safe_next(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _mark_verified(request, device) -> None:
    """The session has passed the second factor: a new session key (privilege change), then django-otp's marker."""
    request.session.cycle_key()
    django_otp.login(request, device)


class TwoFactorVerifyView(LoginRequiredMixin, FormView):
    template_name = "accounts/two_factor_verify.html"
    form_class = CodeForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_verified():
            return redirect(_safe_next(request))
        if request.user.is_authenticated and selectors.confirmed_device(user=request.user) is None:
            return redirect(reverse("home"))  # nothing to verify: the middleware says what (if anything) is needed
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "recovery_allowed": True}

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=_safe_next(self.request), **kwargs)

    def form_valid(self, form):
        try:
            device = services.two_factor_verify(user=self.request.user, code=form.cleaned_data["code"])
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.render_to_response(self.get_context_data(form=form), status=exc.status_code)
        if device is None:
            form.add_error("code", _("This code is not valid. Check your app and try again."))
            return self.form_invalid(form)
        _mark_verified(self.request, device)
        return redirect(_safe_next(self.request))


class TwoFactorSetupView(LoginRequiredMixin, FormView):
    """Set up (or replace) the authenticator: QR code and secret for manual entry, then confirm with a code."""

    template_name = "accounts/two_factor_setup.html"
    form_class = CodeForm

    def pending_key(self) -> str:
        key = self.request.session.get(PENDING_KEY)
        if not key:
            key = services.totp_new_key()
            self.request.session[PENDING_KEY] = key
        return key

    def get_context_data(self, **kwargs):
        key = self.pending_key()
        state = selectors.two_factor_state(user=self.request.user)
        return super().get_context_data(
            secret=services.totp_key_base32(key),
            state=state,
            next=_safe_next(self.request),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            device, codes = services.two_factor_enrol(
                actor=self.request.user, key=self.request.session.get(PENDING_KEY, ""), code=form.cleaned_data["code"]
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        self.request.session.pop(PENDING_KEY, None)
        _mark_verified(self.request, device)
        return render(
            self.request,
            "accounts/recovery_codes.html",
            {"codes": codes, "next": _safe_next(self.request), "just_enrolled": True},
        )


class TwoFactorQrView(LoginRequiredMixin, View):
    """The pending secret as a QR code: an SVG of its own (no inline image or script, so a strict CSP holds)."""

    def get(self, request, *args, **kwargs):
        key = request.session.get(PENDING_KEY)
        if not key:
            raise Http404
        url = services.totp_config_url(user=request.user, key=key)
        image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
        return HttpResponse(image.to_string(), content_type="image/svg+xml")


class SecurityView(LoginRequiredMixin, TemplateView):
    template_name = "accounts/security.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            state=selectors.two_factor_state(user=user), device=selectors.confirmed_device(user=user), **kwargs
        )


class _SecurityAction(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def refused(self, exc: DomainError):
        messages.error(self.request, str(exc.message))
        return redirect("accounts:security")


class RecoveryCodesRegenerateView(_SecurityAction):
    def post(self, request, *args, **kwargs):
        try:
            codes = services.recovery_codes_regenerate(actor=request.user)
        except DomainError as exc:
            return self.refused(exc)
        return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("accounts:security")})


class TwoFactorDisableView(_SecurityAction):
    def post(self, request, *args, **kwargs):
        try:
            services.two_factor_disable(actor=request.user)
        except DomainError as exc:
            return self.refused(exc)
        messages.success(request, _("Two-factor sign-in is switched off for your account."))
        return redirect("accounts:security")


class SignOutEverywhereView(_SecurityAction):
    def post(self, request, *args, **kwargs):
        services.user_sign_out_everywhere(actor=request.user, user=request.user, request=request)
        messages.success(request, _("Every other session of your account is signed out. This one continues."))
        return redirect("accounts:security")


class _StaffAction(LoginRequiredMixin, View):
    """An administrator's action on a staff account: 404 when hidden, 403 when not administered by the actor."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        target = jointops_selectors.user_get_for_user(principal=request.user, pk=kwargs["pk"])
        try:
            self.act(request, target)
        except PermissionRefused as exc:
            raise PermissionDenied from exc
        except DomainError as exc:
            messages.error(request, str(exc.message))
        return redirect(target.get_absolute_url())


class StaffTwoFactorResetView(_StaffAction):
    def act(self, request, target) -> None:
        services.two_factor_reset(actor=request.user, user=target, request=request)
        messages.success(
            request,
            _("Two-factor sign-in of %(username)s is reset and the account is signed out everywhere.")
            % {"username": target.get_username()},
        )


class StaffSignOutEverywhereView(_StaffAction):
    def act(self, request, target) -> None:
        if target.pk == request.user.pk:
            raise DomainError(_("Use your own security page to sign yourself out everywhere."), field="user")
        services.user_sign_out_everywhere(actor=request.user, user=target)
        messages.success(request, _("%(username)s is signed out everywhere.") % {"username": target.get_username()})


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer once a username is locked out from an address (AXES_LOCKOUT_CALLABLE): a translated page,
    429 Too Many Requests, never a 500."""
    from django.conf import settings

    return render(
        request,
        "accounts/locked_out.html",
        {"lockout_minutes": settings.SIGNIN_LOCKOUT_MINUTES},
        status=429,
    )
