"""Create a simulator account and print it with its API key."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from b2brouter_sim import backend, serializers
from b2brouter_sim.exceptions import SimError
from b2brouter_sim.views import account_options


class Command(BaseCommand):
    help = "Create a B2Brouter simulator account; --json prints {\"account\": {...}, \"api_key\": \"...\"}."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the account and key as JSON.")
        # The options of POST /sim/_control/accounts; each also answers to its JSON name.
        parser.add_argument("--name")
        parser.add_argument("--tin-value", "--tin_value", dest="tin_value")
        parser.add_argument("--country")
        parser.add_argument("--currency")
        parser.add_argument("--rounding-method", "--rounding_method", dest="rounding_method",
                            choices=["half_up", "bankers", "truncate"])
        for flag in ("round_before_sum", "apply_taxes_per_line", "minimal_answers"):
            # `--round-before-sum false`, `--round-before-sum 0`, or a bare `--round-before-sum` (true).
            parser.add_argument(f"--{flag.replace('_', '-')}", f"--{flag}", dest=flag, nargs="?", const="true",
                                type=str.lower, choices=["true", "false", "1", "0"])
        parser.add_argument("--document-delay-seconds", "--document_delay_seconds", dest="document_delay_seconds",
                            help="Downloads answer 404 until this many seconds after an invoice is created or changed.")

    def handle(self, *args: Any, **options: Any) -> None:
        data = {
            key: options[key]
            for key in ("name", "tin_value", "country", "currency", "rounding_method", "round_before_sum",
                        "apply_taxes_per_line", "minimal_answers", "document_delay_seconds")
            if options.get(key) is not None
        }
        try:
            account, key = backend.create_account(**account_options(data))
        except SimError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps(
                {"account": serializers.account(account), "api_key": key, "options": backend.options_of(account)}
            ))
        else:
            self.stdout.write(f"B2Brouter simulator account: ID {account.pk}, API key {key}")
