"""Optional two-factor login with a TOTP authenticator app (django-otp), for users who turn it on.

- ``/account/two-factor/`` turns it on: a QR code (segno) and the secret for the app, and a code from
  the app to confirm; with it on, the same page turns it off (a current code again).
- After the password, a user with a confirmed device is logged in but *unverified*:
  ``RequireTwoFactorMiddleware`` answers every request except the code page and logout with a
  redirect to ``/login/verify/`` until a code from the app is accepted. This covers every page,
  the admin included, without each view having to ask.
- Wrong codes are throttled per device by django-otp (1 s, 2 s, 4 s, ... between attempts), and a
  code is accepted once only.
- ``b2binvoice twofactor_disable <user>`` turns it off for a user who lost the device.
- The secret is stored encrypted (``AuthenticatorDevice.key``, Fernet with ``FIELD_ENCRYPTION_KEYS``)
  and shown only on the page that turns it on, before it is confirmed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from .models import AuthenticatorDevice

DEVICE_NAME = "Authenticator app"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}",
                                      "autofocus": True}),
    )

    def __init__(self, *args: object, device: AuthenticatorDevice | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.device = device

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits your app shows."), code="format")
        return code

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        code = cleaned.get("code")
        if code is None or self.device is None:
            return cleaned
        allowed, details = self.device.verify_is_allowed()
        if not allowed:
            wait = 1
            if details and details.get("locked_until"):
                wait = max(1, int((details["locked_until"] - timezone.now()).total_seconds() + 0.999))
            raise forms.ValidationError(
                _("Too many wrong codes: wait %(seconds)d seconds before the next try.") % {"seconds": wait},
                code="throttled")
        if not self.device.verify_token(code):
            raise forms.ValidationError(_("That code is not valid (or was already used). Try the current one."),
                                        code="invalid")
        return cleaned


def confirmed_device(user: object) -> AuthenticatorDevice | None:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return fallback


class RequireTwoFactorMiddleware:
    """Send a user who turned two-factor login on, and has not entered a code yet, to the code page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and request.path_info not in _open_paths()
            and AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()
        ):
            target = reverse("core:otp_verify")
            if request.method == "GET" and not request.headers.get("HX-Request"):
                target += "?" + urlencode({"next": request.get_full_path()})
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return HttpResponseRedirect(target)
        return self.get_response(request)


def _open_paths() -> set[str]:
    return {reverse("core:otp_verify"), reverse("logout"), "/healthz", "/readyz"}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of the login: a code from the authenticator app."""
    device = confirmed_device(request.user)
    home = reverse("invoices:list")
    if device is None or request.user.is_verified():  # type: ignore[union-attr]
        return redirect(_safe_next(request, home))
    form = CodeForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        request.session.cycle_key()
        otp_login(request, device)
        return redirect(_safe_next(request, home))
    return render(request, "registration/otp_verify.html", {"form": form, "next": _safe_next(request, "")},
                  status=_status(form))


def _status(form: CodeForm) -> int:
    if form.has_error(forms.forms.NON_FIELD_ERRORS, "throttled"):
        return 429
    return 400 if form.errors else 200


def _qr_data_uri(device: AuthenticatorDevice) -> str:
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)


def _secret_for_humans(device: AuthenticatorDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Turn two-factor login on (scan, confirm with a code) or off (with a current code)."""
    user = request.user
    device = confirmed_device(user)
    if device is not None:
        form = CodeForm(request.POST or None, device=device)
        if request.method == "POST" and request.POST.get("action") == "disable" and form.is_valid():
            AuthenticatorDevice.objects.filter(user=user).delete()
            messages.success(request, _("Two-factor login is off. Your password alone logs you in."))
            return redirect("core:two_factor")
        return render(request, "registration/two_factor.html", {"enabled": True, "form": form}, status=_status(form))

    pending = AuthenticatorDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if pending is None:
        pending = AuthenticatorDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST or None, device=pending)
    if request.method == "POST" and request.POST.get("action") == "enable" and form.is_valid():
        pending.confirmed = True
        pending.save(update_fields=["confirmed"])
        AuthenticatorDevice.objects.filter(user=user, confirmed=False).delete()
        otp_login(request, pending)
        messages.success(request, _("Two-factor login is on. From now on you log in with your password and a "
                                    "code from your app."))
        return redirect("core:two_factor")
    return render(request, "registration/two_factor.html", {
        "enabled": False, "form": form, "qr": _qr_data_uri(pending), "secret": _secret_for_humans(pending),
        "issuer": settings.OTP_TOTP_ISSUER,
    }, status=_status(form))
