"""Small helpers shared by tests of several apps."""

from datetime import timedelta

from django.utils import timezone

from jobsite.statuses.models import ConnectionHealth


def end_back_off() -> None:
    """Move every connection's next try into the past, as if the back-off window had passed."""
    ConnectionHealth.objects.update(retry_at=timezone.now() - timedelta(seconds=1))
