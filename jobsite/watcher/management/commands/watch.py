"""`manage.py watch`: keep the status store fresh, beside the web server (Healthchecks' `sendalerts`)."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from jobsite.watcher.loop import Watch


class Command(BaseCommand):
    help = "Keep every watched job's state fresh, so that pages only read the store. Stops on SIGTERM or Ctrl-C."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", help="Name in the heartbeat (default: host:pid)")

    def handle(self, *args, name: str | None, **options) -> None:
        watch = Watch(name=name)

        def stop(signum, frame) -> None:
            watch.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        watch.run()
