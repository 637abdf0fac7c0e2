"""With Redis unreachable the cache misses instead of failing: every page still answers."""

import socket

import pytest
from django.core.cache import cache
from django.urls import reverse

from jobsite import cache as resilient
from jobsite.watchlists.services import watchlist_create


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens here once the socket closes


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "jobsite.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    yield
    resilient._outage.recovered()


def test_pages_answer_while_redis_is_unreachable(redis_down, owner, owner_client, connection, simulator, caplog):
    watchlist = watchlist_create(
        owner=owner,
        name="Nightly",
        connection=connection,
        poll_interval=1,
        job_ids=simulator.submit(lifecycle="stay_active", count=2),
    )
    for url in (reverse("home"), watchlist.get_absolute_url(), reverse("watchlist_live", args=[watchlist.pk])):
        assert owner_client.get(url).status_code == 200, url
    assert resilient.cache_degraded()
    records = caplog.get_records("setup") + caplog.records  # the session was first written while signing in
    warnings = [record for record in records if "unreachable" in record.getMessage()]
    assert len(warnings) == 1  # logged once for the outage, not once per lookup


def test_staff_are_warned_while_the_cache_is_down(redis_down, admin_client):
    cache.get("anything")
    page = admin_client.get(reverse("home")).content.decode()
    assert 'data-degraded="cache"' in page


def test_a_cache_that_answers_again_is_used_again(redis_down, settings):
    cache.get("anything")
    assert resilient.cache_degraded()
    settings.CACHES = {
        "default": {"BACKEND": "jobsite.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:6379/13"}
    }
    resilient._outage.failed_at = 0.0  # the skip window has passed
    cache.set("key", "value")
    if not resilient.cache_degraded():  # Redis runs here: the write went through
        assert cache.get("key") == "value"
