"""Sessions that end with the browser or after ``SESSION_IDLE_SECONDS`` without a request.

The session cookie has no expiry date (``SESSION_EXPIRE_AT_BROWSER_CLOSE``), so closing the
browser ends the session. On the server a session expires ``SESSION_COOKIE_AGE`` (set to
``SESSION_IDLE_SECONDS``) after it was last saved. Saving on every request would cost a database
write per page; this middleware saves a logged-in user's session at most once per
``SESSION_TOUCH_SECONDS`` instead, which keeps an active session alive, and logs out a session that
has been idle for longer than ``SESSION_IDLE_SECONDS`` (whatever the session store does).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

LAST_SEEN_KEY = "_b2binvoice_last_seen"


class IdleSessionMiddleware:
    """Log out sessions idle for longer than ``SESSION_IDLE_SECONDS``; keep active ones alive."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only requests that carry a session cookie can belong to a logged-in user; others (health
        # probes, static files, anonymous visitors) do not touch the session at all.
        user = getattr(request, "user", None) if settings.SESSION_COOKIE_NAME in request.COOKIES else None
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if isinstance(last_seen, int) and now - last_seen > settings.SESSION_IDLE_SECONDS:
                logout(request)  # flushes the session; the login page follows and says why
                messages.info(request, _("You were logged out after %(hours)s without activity.")
                              % {"hours": _idle_text(settings.SESSION_IDLE_SECONDS)}, fail_silently=True)
            elif not isinstance(last_seen, int) or now - last_seen >= settings.SESSION_TOUCH_SECONDS:
                request.session[LAST_SEEN_KEY] = now  # marks the session modified: saved with a new expiry
        return self.get_response(request)


def _idle_text(seconds: int) -> str:
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    minutes = max(1, seconds // 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
