"""The interface language: a logged-in user's saved preference, else the visitor's choice
(the language cookie), else the browser's Accept-Language (Django's LocaleMiddleware).

``UserLanguageMiddleware`` runs after authentication: it activates the user's preference for the
request and keeps the language cookie in step with it, so the login page and any later visit
without a session speak the same language. ``set_language`` is the header's switcher and the
account page's form: it sets the cookie and, for a logged-in user, saves the preference.
"""

from __future__ import annotations

from typing import Any, Callable

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from b2binvoice.core.models import UserPreference

# The session remembers the user's preference, so a request costs no query once it is known.
SESSION_KEY = "b2binvoice_language"


def language_choices() -> list[tuple[str, str]]:
    """The interface languages, each named in its own language."""
    return [(code, name) for code, name in settings.LANGUAGES]


def stored_language(user: Any) -> str:
    """The language the user saved ("" when they follow the browser)."""
    value = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    return value if value in dict(settings.LANGUAGES) else ""


def user_language(request: HttpRequest) -> str:
    """The logged-in user's preference ("" for none), cached in the session."""
    user = request.user
    cached = request.session.get(SESSION_KEY)
    if isinstance(cached, dict) and cached.get("user") == user.pk:
        return str(cached.get("language") or "")
    language = stored_language(user)
    request.session[SESSION_KEY] = {"user": user.pk, "language": language}
    return language


def save_language(request: HttpRequest, language: str) -> None:
    """Save a logged-in user's preference ("" to follow the browser)."""
    UserPreference.objects.update_or_create(user=request.user, defaults={"language": language})
    request.session[SESSION_KEY] = {"user": request.user.pk, "language": language}


class UserLanguageMiddleware:
    """Activate a logged-in user's saved language and keep the language cookie in step with it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = user_language(request)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        response = self.get_response(request)
        # The view may have logged the user in (the login page): their language from now on.
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            language = user_language(request)
            if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
                set_language_cookie(response, language)
        return response


def set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class LanguageForm(forms.Form):
    """The switcher's and the account page's choice; "" (account page only) follows the browser."""

    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)

    def __init__(self, *args: Any, allow_browser: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = language_choices()
        if allow_browser:
            choices = [("", gettext_lazy("The browser's language")), *choices]
        self.fields["language"].choices = choices
        self.fields["language"].required = not allow_browser


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language; a logged-in user's choice is saved as their preference."""
    logged_in = request.user.is_authenticated
    form = LanguageForm(request.POST, allow_browser=logged_in)
    target = request.POST.get("next") or request.headers.get("Referer") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("core:home")
    response = HttpResponseRedirect(target)
    if not form.is_valid():
        messages.error(request, _("Choose one of the languages offered."))
        return response
    language = form.cleaned_data["language"]
    if logged_in:
        save_language(request, language)
    if language:
        translation.activate(language)
        set_language_cookie(response, language)
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH,
                               domain=settings.LANGUAGE_COOKIE_DOMAIN, samesite=settings.LANGUAGE_COOKIE_SAMESITE)
    if logged_in and request.POST.get("from") == "account":
        messages.success(request, _("Your language is saved."))
    return response


def switcher_context(request: HttpRequest) -> dict[str, Any]:
    """Template context for the header's switcher (context processor)."""
    return {"interface_languages": language_choices()}
