"""Shared fixtures: users and clients for the access matrix, a live simulator, a connection to it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from hypothesis.configuration import set_hypothesis_home_dir

from jobsite.simulator import Simulator
from jobsite.upstream.models import Connection

SIMULATOR_TOKEN = "simulator-test-token"

# Hypothesis keeps what it learns about the code beside the test database, not in the checkout.
set_hypothesis_home_dir(str(Path(settings.DATA_DIR) / "hypothesis"))


@pytest.fixture(scope="session")
def running_simulator():
    """One simulator on a free loopback port for the whole run; fast lifecycles and waits."""
    with Simulator(token=SIMULATOR_TOKEN, port=0, speed=0.2, time_scale=0.05, slow_seconds=5) as sim:
        yield sim


@pytest.fixture
def simulator(running_simulator):
    """The simulator, with faults cleared and counters zeroed before and after each test."""
    running_simulator.clear_fault()
    running_simulator.reset_stats()
    yield running_simulator
    running_simulator.clear_fault()


@pytest.fixture
def hour_ahead():
    """Start the clock at the top of the current hour, so that no freshness window of up to an
    hour ends while the test runs. Tests that count upstream requests or queries per window would
    otherwise fail whenever a window boundary fell between two of their requests."""
    top = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with time_machine.travel(top, tick=True):
        yield


@pytest.fixture
def connection(db, simulator) -> Connection:
    connection = Connection(
        name="Test simulator", base_url=simulator.url, timeout=2.0, poll_interval=1, is_simulator=True
    )
    connection.token = simulator.token
    connection.save()
    return connection


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", password="owner-pass-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("other", password="other-pass-123")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner_client(owner) -> Client:
    return _client_for(owner)


@pytest.fixture
def other_client(other_user) -> Client:
    return _client_for(other_user)


@pytest.fixture
def anon_client() -> Client:
    return Client()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """No test inherits another's cached figures or remembered watcher heartbeat."""
    from django.core.cache import cache

    from jobsite.statuses import watchers

    cache.clear()
    watchers.forget()
    yield
    cache.clear()
    watchers.forget()


@pytest.fixture
def live_watcher(db):
    """A watcher's heartbeat, fresh: pages take it that the store is kept fresh for them."""
    from django.utils import timezone

    from jobsite.statuses import watchers
    from jobsite.statuses.models import Watcher

    now = timezone.now()
    heartbeat = Watcher.objects.create(name="test-watcher", started_at=now, seen_at=now)
    watchers.forget()
    return heartbeat
