"""`manage.py simulator`: run the Immuta simulator alone, until Ctrl-C.

The token comes from the environment, never the command line (where `ps` and shell history see
it); when it is unset, a fresh one is generated and printed.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from jobsite.simulator import Simulator

TOKEN_VARIABLE = "JOBSITE_SIMULATOR_TOKEN"


class Command(BaseCommand):
    help = f"Run the Immuta-compatible simulator. It accepts the token in ${TOKEN_VARIABLE}."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--speed", type=float, default=6.0, help="Seconds per lifecycle step")
        parser.add_argument("--demo-jobs", action="store_true", help="Preload the demo's jobs")

    def handle(self, *args, port: int, host: str, speed: float, demo_jobs: bool, verbosity: int, **options):
        if verbosity >= 2:
            logging.getLogger("jobsite.simulator").setLevel(logging.DEBUG)  # one line per request
        token = os.environ.get(TOKEN_VARIABLE, "")
        token_line = f"from ${TOKEN_VARIABLE}"
        if not token:
            token = secrets.token_urlsafe(24)
            token_line = f"{token}  (generated; set ${TOKEN_VARIABLE} to choose one)"
        try:
            simulator = Simulator(token=token, host=host, port=port, speed=speed, demo_jobs=demo_jobs)
            simulator.start()
        except ValueError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"The simulator cannot listen on {host}:{port} ({error.strerror}).") from None
        # A plain `kill` stops it as cleanly as Ctrl-C does.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        self.stdout.write(
            self.style.SUCCESS(f"Simulator listening on {simulator.url}\n")
            + f"  Token  {token_line}\n"
            + f"  Speed  {speed:g} s per lifecycle step"
            + (", demo jobs preloaded\n" if demo_jobs else "\n")
            + "  Stop   Ctrl-C\n"
        )
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()
        self.stdout.write("Simulator stopped.")
