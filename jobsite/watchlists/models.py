from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from jobsite.statuses.models import JobStatus
from jobsite.upstream.models import Connection

# Stands in for the job ID when a per-job URL pattern is reversed once, filled in per job.
JOB_ID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private: only me"
    SIGNED_IN = "signed_in", "Everyone signed in to jobsite (read-only)"
    GROUPS = "groups", "Members of chosen groups (read-only)"


class Watchlist(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists")
    name = models.CharField(max_length=120)
    # PROTECT: deleting a connection must not silently delete analysts' lists.
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="watchlists")
    poll_interval = models.PositiveIntegerField(
        "pollInterval (seconds)", validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )
    visibility = models.CharField(max_length=20, choices=Visibility.choices, default=Visibility.PRIVATE)
    shared_groups = models.ManyToManyField(Group, blank=True, related_name="shared_watchlists")
    created_at = models.DateTimeField(auto_now_add=True)
    # Moves when the watchlist itself changes (jobs added or removed, settings): pages render whole.
    updated_at = models.DateTimeField(auto_now=True)
    # Moves when a job it holds changes on screen (the store revised its row): an open page asks
    # for those rows. Read with the watchlist, so an unchanged refresh reads no job rows at all.
    revision = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("watchlist", args=[self.pk])

    def is_owned_by(self, user) -> bool:
        """Only the owner changes a watchlist; those it is shared with read it."""
        return self.owner_id == user.pk

    def job_url(self, view_name: str, job_id: str) -> str:
        """The URL of a per-job view of this watchlist. Each pattern is reversed once per
        instance (so once per request): a 250-row page would otherwise reverse 500 times, and
        every reverse looks up the script prefix through a lock all the server's threads share."""
        pattern = self._job_url_patterns.get(view_name)
        if pattern is None:
            pattern = self._job_url_patterns[view_name] = reverse(view_name, args=[self.pk, JOB_ID_PLACEHOLDER])
        return pattern.replace(JOB_ID_PLACEHOLDER, job_id)

    @cached_property
    def _job_url_patterns(self) -> dict[str, str]:
        return {}


class WatchlistJob(models.Model):
    """A job ID held by a watchlist, linked to the shared store row that knows its state."""

    watchlist = models.ForeignKey(Watchlist, on_delete=models.CASCADE, related_name="jobs")
    status = models.ForeignKey(JobStatus, on_delete=models.PROTECT, related_name="watchlist_entries")
    # What the job is, in the analyst's words ("Snowflake sync"); the same job may differ per list.
    label = models.CharField(max_length=80, blank=True, default="")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["watchlist", "status"], name="job_once_per_watchlist")]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.status.job_id
