"""Shared test configuration."""

import os

# Tests never talk to real B2Brouter hosts; the browser tests need this for live_server + Playwright.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
