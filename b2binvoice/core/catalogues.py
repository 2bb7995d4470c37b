"""Compile the translation catalogues (b2binvoice/locale/*/LC_MESSAGES/*.po) into .mo files.

The .mo files are build products, not in git: ``scripts/venv.sh`` (so ``make run``, ``make test``,
``make bench``) runs ``python -m b2binvoice.core.catalogues``, which uses babel (a dependency)
rather than GNU gettext's msgfmt, so an install needs no system package. Only catalogues whose
.po is newer than their .mo are compiled; ``--force`` compiles all. Fuzzy entries are left out,
as msgfmt does. The app also compiles stale catalogues when it starts (``CoreConfig.ready``), so
an installation made with a plain ``pip install`` speaks its languages too.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def stale_catalogues(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """The .po files whose .mo is missing or older."""
    stale = []
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale.append(po)
    return stale


def compile_catalogue(po: Path) -> Path:
    """Write the .mo beside one .po (atomically) and return its path."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    locale = po.parent.parent.name
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=po.stem)
    mo = po.with_suffix(".mo")
    tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")  # several processes may compile at once
    with tmp.open("wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)
    tmp.replace(mo)
    return mo


def compile_all(locale_dir: Path = LOCALE_DIR, force: bool = False) -> list[Path]:
    """Compile the stale catalogues (every catalogue with ``force``); return the .mo files written."""
    pos = sorted(locale_dir.glob("*/LC_MESSAGES/*.po")) if force else stale_catalogues(locale_dir)
    return [compile_catalogue(po) for po in pos]


def compile_if_stale() -> None:
    """At start-up: compile missing or outdated catalogues, so any install speaks its languages.

    An installation whose package folder is read-only keeps what it has and says so in the log.
    """
    try:
        compile_all()
    except OSError as exc:
        logging.getLogger("b2binvoice").warning(
            "Could not compile the translations (%s): run python -m b2binvoice.core.catalogues", exc)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    written = compile_all(force="--force" in args)
    if written and "--quiet" not in args:
        print(f"Compiled {len(written)} translation catalogue(s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
