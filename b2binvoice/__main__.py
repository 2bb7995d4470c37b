"""Run Django management commands: ``python -m b2binvoice <command>`` or ``b2binvoice <command>``."""

import os
import sys


def main() -> None:
    """Dispatch the command line to Django's management utility."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "b2binvoice.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    argv[0] = "b2binvoice"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
