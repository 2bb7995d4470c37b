"""Create a simulator account and print it with its API key; ``--demo`` prints the demo account instead."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from b2brouter_sim import backend, serializers
from b2brouter_sim.exceptions import SimError
from b2brouter_sim.views import account_options


class Command(BaseCommand):
    help = ("Create a new, empty B2Brouter simulator account (or, with --demo, print the demo account that "
            "sim_seed_demo made); --json prints {\"account\": {...}, \"api_key\": \"...\"}.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the account and key as JSON.")
        parser.add_argument("--demo", action="store_true",
                            help="Create nothing: print the demo account (Lingua Demo S.L.) and its API key.")
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
        if options["demo"]:
            account, key = self._demo()
        else:
            account, key = self._create(options)
        if options["json"]:
            self.stdout.write(json.dumps(
                {"account": serializers.account(account), "api_key": key, "options": backend.options_of(account)}
            ))
        else:
            self.stdout.write(f"B2Brouter simulator account: ID {account.pk}, API key {key}")

    def _demo(self) -> tuple[Any, str]:
        from b2brouter_sim.management.commands.sim_seed_demo import DEMO_ACCOUNT, demo_api_key  # noqa: PLC0415
        from b2brouter_sim.models import SimAccount, hash_api_key  # noqa: PLC0415

        key = demo_api_key()
        account = SimAccount.objects.filter(tin_value=DEMO_ACCOUNT["tin_value"], name=DEMO_ACCOUNT["name"]).first()
        if account is None:
            raise CommandError("The simulator has no demo account yet: run `sim_seed_demo` (make run does).")
        if account.api_key_hash != hash_api_key(key):
            raise CommandError("The demo account's API key was made with another SECRET_KEY: run `sim_seed_demo` "
                               "again to re-key it.")
        return account, key

    def _create(self, options: dict[str, Any]) -> tuple[Any, str]:
        data = {
            key: options[key]
            for key in ("name", "tin_value", "country", "currency", "rounding_method", "round_before_sum",
                        "apply_taxes_per_line", "minimal_answers", "document_delay_seconds")
            if options.get(key) is not None
        }
        try:
            return backend.create_account(**account_options(data))
        except SimError as error:
            raise CommandError(error.message) from None
