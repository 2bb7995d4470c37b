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
        parser.add_argument("--name")
        parser.add_argument("--tin-value")
        parser.add_argument("--country")
        parser.add_argument("--currency")
        parser.add_argument("--rounding-method", choices=["half_up", "bankers", "truncate"])
        parser.add_argument("--round-before-sum", choices=["true", "false"])
        parser.add_argument("--apply-taxes-per-line", choices=["true", "false"])

    def handle(self, *args: Any, **options: Any) -> None:
        data = {
            key: options[key]
            for key in ("name", "tin_value", "country", "currency", "rounding_method", "round_before_sum", "apply_taxes_per_line")
            if options.get(key) is not None
        }
        try:
            account, key = backend.create_account(**account_options(data))
        except SimError as error:
            raise CommandError(error.message) from None
        if options["json"]:
            self.stdout.write(json.dumps({"account": serializers.account(account), "api_key": key}))
        else:
            self.stdout.write(f"B2Brouter simulator account: ID {account.pk}, API key {key}")
