"""client_for: one shared client per connection, rebuilt when an admin changes the connection."""

from datetime import UTC, datetime, timedelta

import pytest

from jobsite.upstream.client import client_for
from jobsite.upstream.models import Connection
from tests.upstream.fakes import job_id

SAVED_AT = datetime(2025, 1, 1, tzinfo=UTC)


def unsaved_connection(**fields) -> Connection:
    """A Connection as if loaded from the database; no database needed."""
    connection = Connection(
        name="Staging",
        base_url="https://staging.example.com/",
        auth_method="raw",
        timeout=7.5,
        batch_size=50,
        **fields,
    )
    connection.pk = 1
    connection.updated_at = SAVED_AT
    connection.token = "staging-token"
    return connection


def test_it_builds_the_client_from_the_connection(rsps):
    rsps.post("https://staging.example.com/jobs/statuses", json={})

    client = client_for(unsaved_connection())
    client.fetch([job_id(1)])

    assert (client.name, client.statuses_url, client.auth_method, client.timeout, client.batch_size) == (
        "Staging",
        "https://staging.example.com/jobs/statuses",
        "raw",
        7.5,
        50,
    )
    assert rsps.calls[0].request.headers["Authorization"] == "staging-token"


def test_it_reuses_the_client_of_an_unchanged_connection():
    assert client_for(unsaved_connection()) is client_for(unsaved_connection())


@pytest.mark.parametrize(
    "change",
    [
        lambda c: setattr(c, "updated_at", SAVED_AT + timedelta(seconds=1)),
        lambda c: setattr(c, "token", "new-token"),
        lambda c: setattr(c, "base_url", "https://other.example.com"),
        lambda c: setattr(c, "auth_method", "bearer"),
        lambda c: setattr(c, "timeout", 3.0),
        lambda c: setattr(c, "batch_size", 10),
    ],
    ids=["saved again", "token", "url", "auth", "timeout", "batch size"],
)
def test_it_rebuilds_the_client_when_the_connection_changed(change):
    first = client_for(unsaved_connection())
    changed = unsaved_connection()
    change(changed)

    second = client_for(changed)

    assert second is not first
    assert client_for(changed) is second


def test_it_keeps_one_client_per_connection():
    other = unsaved_connection()
    other.pk = 2

    assert client_for(unsaved_connection()) is not client_for(other)


def test_it_does_not_cache_a_connection_that_was_never_saved():
    connection = unsaved_connection()
    connection.pk = None

    assert client_for(connection) is not client_for(connection)
