"""System checks for what would otherwise fail later, at the first upstream call."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import DatabaseError

from jobsite.upstream.crypto import UnreadableSecret


@register(Tags.security, deploy=True)
def check_encryption_key(app_configs, **kwargs):
    if settings.JOBSITE_ENCRYPTION_KEY:
        return []
    return [
        Warning(
            "API tokens are encrypted under a key derived from SECRET_KEY.",
            hint="Set JOBSITE_ENCRYPTION_KEY so that rotating SECRET_KEY does not make stored tokens unreadable.",
            id="jobsite.W001",
        )
    ]


@register(Tags.database)
def check_tokens_readable(app_configs, databases=None, **kwargs):
    """Stored tokens sealed under another key (the key changed) would fail every refresh."""
    if not databases:
        return []
    from jobsite.upstream.models import Connection

    problems = []
    try:
        connections = list(Connection.objects.exclude(sealed_token=""))
    except DatabaseError:
        return []  # not migrated yet
    for connection in connections:
        try:
            _ = connection.token  # decrypting is the check
        except UnreadableSecret:
            problems.append(
                Error(
                    f"The API token of connection “{connection.name}” cannot be decrypted.",
                    hint="The encryption key changed. Enter the token again in admin, or restore "
                    "the old SECRET_KEY / JOBSITE_ENCRYPTION_KEY.",
                    obj=connection,
                    id="jobsite.E001",
                )
            )
    return problems
