"""``b2binvoice twofactor_disable <user> ...``: turn two-factor login off for users who lost their device."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from b2binvoice.core.models import AuthenticatorDevice


class Command(BaseCommand):
    help = "Turn two-factor login off for the given users (their password alone logs them in again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        for username in options["username"]:
            user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
            count, _ = AuthenticatorDevice.objects.filter(user=user).delete()
            if count:
                self.stdout.write(f"Two-factor login turned off for {username}.")
            else:
                self.stdout.write(f"{username} had no two-factor login.")
