from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models

from jobsite.upstream import crypto


class AuthMethod(models.TextChoices):
    BEARER = "bearer", "Authorization: Bearer <token> (as in Immuta's example)"
    RAW = "raw", "Authorization: <API key> (raw key, no scheme)"
    EXCHANGE = "exchange", "Exchange the API key at /bim/apikey/authenticate for a bearer token"


class Connection(models.Model):
    """An upstream Immuta endpoint (or the simulator), configured in admin."""

    name = models.CharField(max_length=100, unique=True)
    base_url = models.CharField(
        "base URL",
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Where Immuta answers, e.g. https://immuta.example.com (jobsite calls <base URL>/jobs/statuses).",
    )
    sealed_token = models.TextField(editable=False, default="")
    auth_method = models.CharField(
        "how the token is sent",
        max_length=20,
        choices=AuthMethod.choices,
        default=AuthMethod.BEARER,
    )
    timeout = models.FloatField(
        "request timeout (seconds)",
        default=10.0,
        validators=[MinValueValidator(0.5), MaxValueValidator(300)],
        help_text="Upper bound for connecting and for reading one answer.",
    )
    poll_interval = models.PositiveIntegerField(
        "default pollInterval (seconds)",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text="How often a watchlist page refreshes, unless the watchlist says otherwise.",
    )
    batch_size = models.PositiveIntegerField(
        default=200,
        validators=[MinValueValidator(1), MaxValueValidator(5000)],
        help_text="At most this many job IDs go in one upstream request.",
    )
    terminal_recheck = models.PositiveIntegerField(
        "re-check finished jobs every (seconds)",
        default=600,
        validators=[MinValueValidator(10), MaxValueValidator(7 * 24 * 3600)],
        help_text="A finished job can in principle move again upstream (a failed job retried), "
        "so it is asked about again, rarely.",
    )
    is_simulator = models.BooleanField(
        "is a simulator",
        default=False,
        help_text="Set for jobsite's built-in simulator. Pages using it say so, so that "
        "simulated states are never mistaken for Immuta's.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} (simulator)" if self.is_simulator else self.name

    def needs_token_for(self, base_url: str) -> bool:
        """Whether saving with this base URL takes a token typed anew: a new connection has none,
        and one that moves to another address never takes its stored token along (an admin who
        can edit the address could otherwise send it anywhere)."""
        if not self.sealed_token:
            return True
        stored = Connection.objects.filter(pk=self.pk).values_list("base_url", flat=True).first()
        return stored is not None and stored.rstrip("/") != base_url.rstrip("/")

    @property
    def statuses_url(self) -> str:
        return self.base_url.rstrip("/") + "/jobs/statuses"

    @property
    def token(self) -> str:
        return crypto.unseal(self.sealed_token) if self.sealed_token else ""

    @token.setter
    def token(self, value: str) -> None:
        self.sealed_token = crypto.seal(value) if value else ""
