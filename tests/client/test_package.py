"""The package's shape: standalone import, one httpx importer, public names, typing marker."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import b2brouter

PACKAGE = Path(b2brouter.__file__).parent


def test_import_does_not_pull_in_django():
    code = (
        "import sys, b2brouter, b2brouter.webhooks\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'b2binvoice', 'b2brouter_sim'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    assert result.stdout.strip() == ""


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_client_module_imports_httpx():
    importers = sorted(p.name for p in PACKAGE.glob("*.py") if "httpx" in imported_modules(p))
    assert importers == ["_client.py"]


def test_only_httpx_and_the_standard_library_are_imported():
    third_party = set()
    for path in PACKAGE.glob("*.py"):
        third_party |= {m for m in imported_modules(path) if m not in sys.stdlib_module_names}
    assert third_party == {"httpx"}


def test_public_names_are_sorted_and_exist():
    assert b2brouter.__all__ == sorted(b2brouter.__all__)
    for name in b2brouter.__all__:
        assert hasattr(b2brouter, name), name


def test_py_typed_marker_is_shipped():
    assert (PACKAGE / "py.typed").exists()


def test_exception_hierarchy():
    assert issubclass(b2brouter.APIConnectionError, b2brouter.B2BRouterError)
    assert issubclass(b2brouter.APITimeoutError, b2brouter.APIConnectionError)
    for name in ("InvalidRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
                 "ConflictError", "RateLimitError", "ServerError"):
        assert issubclass(getattr(b2brouter, name), b2brouter.APIStatusError)
    assert issubclass(b2brouter.APIStatusError, b2brouter.B2BRouterError)
    assert issubclass(b2brouter.WebhookSignatureError, b2brouter.B2BRouterError)
    assert issubclass(b2brouter.ResponseTooLargeError, b2brouter.APIConnectionError)
    assert issubclass(b2brouter.AccountNotEnabledError, b2brouter.PermissionDeniedError)
    assert issubclass(b2brouter.DocumentNotReadyError, b2brouter.NotFoundError)
    # The module docstring draws the tree.
    from b2brouter import _exceptions

    tree = _exceptions.__doc__ or ""
    assert "└── WebhookSignatureError" in tree
    for name in ("ResponseTooLargeError", "AccountNotEnabledError", "DocumentNotReadyError"):
        assert name in tree
