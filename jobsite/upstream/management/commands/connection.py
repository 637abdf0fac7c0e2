"""Create or update a connection from a script. The token comes from the environment only."""

from __future__ import annotations

import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jobsite.upstream.models import AuthMethod, Connection

TOKEN_VARIABLE = "JOBSITE_UPSTREAM_TOKEN"


class Command(BaseCommand):
    help = f"Create or update an upstream connection. The API token is read from ${TOKEN_VARIABLE}."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("--url", required=True, help="Base URL, e.g. https://immuta.example.com")
        parser.add_argument("--timeout", type=float, help="Request timeout in seconds")
        parser.add_argument("--poll-interval", type=int, help="Default pollInterval in seconds (≥ 1)")
        parser.add_argument("--batch-size", type=int, help="Job IDs per upstream request")
        parser.add_argument("--auth", choices=AuthMethod.values, help="How the token is sent")
        parser.add_argument("--simulator", action="store_true", help="Mark it as a simulator")

    def handle(self, *args, name: str, url: str, **options) -> None:
        connection = Connection.objects.filter(name=name).first() or Connection(name=name)
        created = connection.pk is None
        token = os.environ.get(TOKEN_VARIABLE, "")
        if not token and created:
            raise CommandError(f"Set {TOKEN_VARIABLE} to the API token of a new connection.")
        if not token and connection.needs_token_for(url):
            raise CommandError(
                f"The URL changed: set {TOKEN_VARIABLE} to the API token again. "
                "jobsite never sends a stored token to a new address."
            )
        if token:
            connection.token = token
        connection.base_url = url
        for option, field in [
            ("timeout", "timeout"),
            ("poll_interval", "poll_interval"),
            ("batch_size", "batch_size"),
            ("auth", "auth_method"),
        ]:
            if options[option] is not None:
                setattr(connection, field, options[option])
        if options["simulator"]:
            connection.is_simulator = True
        try:
            connection.full_clean()
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
            raise CommandError(problems) from None
        connection.save()
        self.stdout.write(f"{'Created' if created else 'Updated'} connection “{name}” → {connection.base_url}")
