"""`manage.py demo`: migrate, seed, start the simulator, a watcher and the site, print where to go.

Safe to run again: it reuses the demo user, connection and watchlists it made before.
"""

from __future__ import annotations

import os
import secrets
import threading

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from jobsite.simulator import Simulator
from jobsite.simulator.demo import DEMO_WATCHLISTS
from jobsite.statuses.models import JobStatus, StateChange
from jobsite.upstream.models import Connection
from jobsite.watcher.loop import Watch
from jobsite.watchlists.models import Watchlist
from jobsite.watchlists.services import watchlist_add_jobs, watchlist_create

DEMO_USERNAME = "demo"
CONNECTION_NAME = "Demo simulator"


def _kept_secret(name: str) -> str:
    """A random secret kept in the data folder, so the next run prints and uses the same one."""
    path = settings.DATA_DIR / name
    if not path.exists():
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Run jobsite against its built-in simulator, with a demo user and two watchlists."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000, help="Port of the site")
        parser.add_argument("--simulator-port", type=int, default=8765)
        parser.add_argument("--speed", type=float, default=6.0, help="Simulator seconds per lifecycle step")

    def handle(self, *args, host: str, port: int, simulator_port: int, speed: float, **options):
        call_command("migrate", interactive=False, verbosity=0)
        password = self._ensure_user()
        token = os.environ.get("JOBSITE_SIMULATOR_TOKEN") or _kept_secret("simulator-token")
        simulator = Simulator(token=token, host=host, port=simulator_port, speed=speed, demo_jobs=True)
        try:
            simulator.start()
        except OSError as error:
            raise CommandError(
                f"The simulator cannot listen on {host}:{simulator_port} ({error.strerror}). "
                "Pass --simulator-port with a free port."
            ) from None
        # The watcher keeps the jobs moving whether or not a page is open, as in production,
        # where it is a process of its own (`manage.py watch`); here a thread keeps it to one command.
        watch = Watch(name=f"demo:{os.getpid()}")
        watcher = threading.Thread(target=watch.run, name="demo-watcher", daemon=True)
        try:
            connection = self._ensure_connection(url=simulator.url, token=token)
            user = get_user_model().objects.get(username=DEMO_USERNAME)
            self._ensure_watchlists(owner=user, connection=connection)
            watcher.start()
            self.stdout.write(
                self.style.SUCCESS("\njobsite demo is running.\n")
                + f"  Open      http://{host}:{port}/\n"
                + f"  Sign in   {DEMO_USERNAME} / {password}\n"
                + f"  Simulator {simulator.url} (simulated Immuta; jobs replay from the start)\n"
                + "  Watcher   keeps the jobs fresh with or without an open page\n"
                + "  Stop      Ctrl-C\n"
            )
            call_command("runserver", f"{host}:{port}", use_reloader=False, skip_checks=True)
        finally:
            watch.stop.set()
            if watcher.is_alive():
                watcher.join(timeout=15)
            simulator.stop()

    def _ensure_user(self) -> str:
        password = _kept_secret("demo-password")
        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created or not user.check_password(password):
            user.set_password(password)
            user.save()
        return password

    def _ensure_connection(self, *, url: str, token: str) -> Connection:
        connection = Connection.objects.filter(name=CONNECTION_NAME).first() or Connection(
            name=CONNECTION_NAME, poll_interval=2
        )
        connection.base_url = url
        connection.token = token
        connection.is_simulator = True
        connection.save()
        # A new simulator replays its jobs from the start: forget what the last run observed.
        JobStatus.objects.filter(connection=connection).update(
            state="", output=None, reported=False, checked_at=None, changed_at=None
        )
        StateChange.objects.filter(connection=connection).delete()
        return connection

    @transaction.atomic
    def _ensure_watchlists(self, *, owner, connection: Connection) -> None:
        for name, jobs in DEMO_WATCHLISTS:
            job_ids = [job[0] for job in jobs]
            watchlist = Watchlist.objects.filter(owner=owner, name=name).first()
            if watchlist is None:
                watchlist_create(owner=owner, name=name, connection=connection, poll_interval=None, job_ids=job_ids)
            elif watchlist.connection_id == connection.pk:
                watchlist_add_jobs(watchlist=watchlist, job_ids=job_ids)
