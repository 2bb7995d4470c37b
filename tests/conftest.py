"""Shared test configuration."""

import os

# Tests never talk to real B2Brouter hosts; the browser tests need this for live_server + Playwright.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


import pytest  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    """Compile the translation catalogues when a .po is newer than its .mo (scripts/venv.sh does too)."""
    from b2binvoice.core.catalogues import compile_all

    compile_all()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """Give each test run its own test database, so two runs in one checkout never share one.

    A run still cleans up after itself (pytest-django destroys the test database at the end);
    a killed run leaves at most one file under data/ or one ``test_*_run<pid>`` database.
    """
    from django.conf import settings

    suffix = f"run{os.getpid()}"
    for db in settings.DATABASES.values():
        test = db.setdefault("TEST", {})
        name = test.get("NAME")
        if db["ENGINE"] == "django.db.backends.sqlite3":
            if not name or name == ":memory:" or "mode=memory" in str(name):
                continue
            stem, dot, ext = str(name).rpartition(".")
            test["NAME"] = f"{stem}-{suffix}.{ext}" if dot else f"{name}-{suffix}"
        else:
            test["NAME"] = f"{name or 'test_' + db['NAME']}_{suffix}"
