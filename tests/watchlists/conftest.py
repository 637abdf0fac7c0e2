import uuid

import pytest
from django.urls import reverse

from jobsite.watchlists.services import watchlist_create


def new_ids(count: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(count)]


def polls_every(seconds: int) -> str:
    """The polling attributes of a live element (templates/watchlists/_poll.html)."""
    return f'data-poll-every="{seconds}"\nhx-trigger="jobsite:poll"\nhx-sync="this:drop"'


@pytest.fixture
def make_watchlist(owner, connection):
    def make(job_ids=None, *, name="Nightly loads", user=None, poll_interval=1):
        return watchlist_create(
            owner=user or owner,
            name=name,
            connection=connection,
            poll_interval=poll_interval,
            job_ids=job_ids if job_ids is not None else new_ids(2),
        )

    return make


@pytest.fixture
def watched(make_watchlist, simulator, owner_client):
    """A watchlist of one running job, observed once: (watchlist, job ID)."""
    job = simulator.submit(lifecycle="stay_active", count=1)[0]
    watchlist = make_watchlist([job])
    owner_client.get(reverse("watchlist", args=[watchlist.pk]))  # observe "active"
    return watchlist, job
