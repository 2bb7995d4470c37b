"""The simulator and the app never import each other (they must stay independent models)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> list[tuple[str, str]]:
    """Return (file, module) for every import statement under a package."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((str(path.relative_to(ROOT)), node.module))
            elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
                "import_module", "__import__"
            }:
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.append((str(path.relative_to(ROOT)), arg.value))
    return found


def offenders(package: str, forbidden: str) -> list[tuple[str, str]]:
    return [(f, m) for f, m in imported_modules(package) if m == forbidden or m.startswith(forbidden + ".")]


def test_simulator_never_imports_the_app() -> None:
    assert imported_modules("b2brouter_sim"), "the scan found no imports at all: it is not looking at the package"
    assert offenders("b2brouter_sim", "b2binvoice") == []


def test_app_never_imports_the_simulator() -> None:
    assert imported_modules("b2binvoice")
    assert offenders("b2binvoice", "b2brouter_sim") == []


def test_simulator_does_not_use_the_clients_code() -> None:
    # The simulator signs webhooks with its own HMAC code; only tests may use b2brouter.webhooks.
    assert offenders("b2brouter_sim", "b2brouter") == []


def test_scanner_catches_a_forbidden_import(tmp_path: Path, monkeypatch) -> None:
    pkg = tmp_path / "fake"
    pkg.mkdir()
    (pkg / "x.py").write_text("from b2binvoice.invoices import calculations\nimport importlib\nimportlib.import_module('b2binvoice.core')\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert len(offenders("fake", "b2binvoice")) == 2
