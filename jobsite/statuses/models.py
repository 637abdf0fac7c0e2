from __future__ import annotations

from django.db import models

from jobsite.upstream import states
from jobsite.upstream.models import Connection


def display_state(*, state: str, checked: bool) -> str:
    """The state a page shows: one of the seven, or a pseudo-state of jobsite's own."""
    if not checked:
        return states.PENDING
    if not state:
        return states.NOT_FOUND
    if state in states.STATES:
        return state
    return states.UNKNOWN


def is_settled(*, state: str, reported: bool, checked: bool) -> bool:
    """Nothing more to watch: finished, or unknown to upstream (it would never finish)."""
    return states.is_terminal(state) or (checked and not reported)


class JobStatus(models.Model):
    """The last known state of one job on one connection, shared by every watchlist holding it."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="job_statuses")
    job_id = models.CharField(max_length=36)
    # As upstream last said it: one of the seven states, or any other string it invented (cut to
    # fit), or why its entry could not be read (states.unreadable); the last two show as unknown.
    # Empty until upstream has reported the job at least once.
    state = models.CharField(max_length=states.MAX_STATE_LENGTH, blank=True, default="")
    output = models.JSONField(null=True, blank=True)
    # False when the last answer left the job out: unknown to upstream, or purged after retention.
    reported = models.BooleanField(default=False)
    checked_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    # When anything a page shows of this row last changed: live refreshes send rows revised since.
    revised_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A worker asking upstream about this job holds it until then; others wait for its answer.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Someone asked about this job outside any watchlist (a quick look): the watcher keeps it
    # fresh at the connection's pollInterval until then.
    wanted_until = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "job_id"], name="one_status_per_job")]
        verbose_name_plural = "job statuses"

    def __str__(self) -> str:
        return f"{self.job_id} {self.display_state}"

    @property
    def display_state(self) -> str:
        return display_state(state=self.state, checked=self.checked_at is not None)

    @property
    def shows_unknown_state(self) -> bool:
        """Upstream said a state outside the seven: pages show it as unknown, with the string."""
        return self.display_state == states.UNKNOWN

    @property
    def is_settled(self) -> bool:
        return is_settled(state=self.state, reported=self.reported, checked=self.checked_at is not None)

    @property
    def is_live(self) -> bool:
        """Still being watched: reported and not finished, so checked every pollInterval."""
        return self.reported and not states.is_terminal(self.state)

    @property
    def no_longer_reported(self) -> bool:
        """Upstream knew this job once and has since dropped it (purged after retention)."""
        return bool(self.state) and self.checked_at is not None and not self.reported


class StateChange(models.Model):
    """One observed change of a job's state; upstream gives no times, so these are observation times."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    job_id = models.CharField(max_length=36)
    state = models.CharField(max_length=states.MAX_STATE_LENGTH)
    observed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["connection", "job_id", "observed_at"])]
        ordering = ["observed_at", "id"]

    def __str__(self) -> str:
        return f"{self.job_id} → {self.state} at {self.observed_at:%Y-%m-%d %H:%M:%S}"


class ConnectionHealth(models.Model):
    """How a connection's upstream answered last: healthy, or failing since when and retried when.

    Kept in the database, like the store, so that every web process and every watcher agrees on
    it whether or not a shared cache is configured. A row exists once upstream has failed once.
    """

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, primary_key=True, related_name="health")
    kind = models.CharField(max_length=40, blank=True, default="")  # an UpstreamError.kind; "" = healthy
    message = models.TextField(blank=True, default="")
    failures = models.PositiveIntegerField(default=0)  # in a row
    failing_since = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "connection health"

    def __str__(self) -> str:
        return f"{self.connection_id}: {self.kind or 'ok'}"


class Watcher(models.Model):
    """The heartbeat of one `manage.py watch` process: pages read the store while one is alive."""

    name = models.CharField(max_length=200, unique=True)  # host:pid
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    rounds = models.PositiveBigIntegerField(default=0)  # rounds that asked upstream
    last_asked = models.PositiveIntegerField(default=0)  # job IDs in the last such round
    last_changed = models.PositiveIntegerField(default=0)  # jobs whose state moved in it
    last_took_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return self.name
