"""Many viewers, one upstream call: concurrent refreshes against the live server, over real HTTP."""

import threading
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.test import Client
from django.urls import reverse

from jobsite.statuses.models import JobStatus
from jobsite.watchlists.services import watchlist_create

VIEWERS = 12


def viewer_session(user) -> requests.Session:
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return session


def refresh_together(url: str, sessions: list[requests.Session]) -> list[int]:
    """Every viewer asks at the same instant; returns their status codes."""
    barrier = threading.Barrier(len(sessions))
    codes: list[int] = []

    def view(session: requests.Session) -> None:
        barrier.wait()
        codes.append(session.get(url, headers={"HX-Request": "true"}, timeout=30).status_code)

    threads = [threading.Thread(target=view, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return codes


def test_it_asks_upstream_once_however_many_viewers_refresh_at_once(
    hour_ahead, live_server, owner, connection, simulator
):
    connection.batch_size = 100
    connection.save()
    jobs = simulator.submit(lifecycle="stay_active", count=300)
    watchlist = watchlist_create(owner=owner, name="Nightly", connection=connection, poll_interval=3600, job_ids=jobs)
    url = live_server.url + reverse("watchlist_live", args=[watchlist.pk])
    sessions = [viewer_session(owner) for _ in range(VIEWERS)]
    sessions[0].get(url, timeout=30)  # first observation

    for _ in range(3):  # three freshness windows
        JobStatus.objects.update(checked_at=datetime(2000, 1, 1, tzinfo=UTC))
        simulator.reset_stats()
        codes = refresh_together(url, sessions)
        assert codes == [200] * VIEWERS
        stats = simulator.stats()
        assert stats["job_ids_requested"] == 300  # each job once, not once per viewer
        assert stats["statuses_requests"] == 3  # 300 jobs in batches of 100
    assert JobStatus.objects.filter(claimed_until__isnull=False).count() == 0


def test_a_waiting_viewer_gets_the_answer_another_fetched(hour_ahead, live_server, owner, connection, simulator):
    jobs = simulator.submit(lifecycle="stay_active", count=20)
    watchlist = watchlist_create(owner=owner, name="Nightly", connection=connection, poll_interval=3600, job_ids=jobs)
    simulator.set_state(jobs[0], "failed", output="boom")
    url = live_server.url + reverse("watchlist_live", args=[watchlist.pk])
    bodies = []
    sessions = [viewer_session(owner) for _ in range(4)]
    barrier = threading.Barrier(len(sessions))

    def view(session):
        barrier.wait()
        bodies.append(session.get(url, timeout=30).text)

    threads = [threading.Thread(target=view, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert simulator.stats()["job_ids_requested"] == 20
    assert len(bodies) == len(sessions)  # every viewer got an answer, so the check below is not vacuous
    assert all(f'data-job-id="{jobs[0]}" data-state="failed"' in " ".join(body.split()) for body in bodies)
