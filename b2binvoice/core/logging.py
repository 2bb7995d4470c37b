"""Logging filters: keep the webhook receiver's per-company token out of log lines."""

from __future__ import annotations

import logging
import re

_WEBHOOK_TOKEN = re.compile(r"(/webhooks/b2brouter/)[^/\s\"'?]+")


class RedactWebhookTokens(logging.Filter):
    """Replace the token of ``/webhooks/b2brouter/<token>/`` in a record's message by ``[redacted]``.

    Django logs the path of every 4xx/5xx answer (``django.request``) and of every request under
    ``runserver`` (``django.server``); the token in that path names a company's receiver.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logged as it is
            return True
        redacted = _WEBHOOK_TOKEN.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
