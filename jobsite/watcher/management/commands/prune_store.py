"""`manage.py prune_store`: what the watcher does once an hour, on demand."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from jobsite.watcher.prune import job_statuses_prune


class Command(BaseCommand):
    help = (
        "Delete the stored states, and their history, of jobs no watchlist holds and nobody has wanted "
        "lately (see jobsite/watcher/prune.py). `manage.py watch` does this once an hour."
    )

    def handle(self, *args, **options) -> None:
        statuses, changes = job_statuses_prune(now=timezone.now())
        self.stdout.write(f"Pruned {statuses} job statuses and {changes} state changes.")
