"""Quick look's limits: so many looks a minute per user, so many IDs a look."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from jobsite.statuses.models import JobStatus
from jobsite.watchlists.services import QUICK_LOOKS_PER_MINUTE

from .conftest import new_ids


@pytest.fixture
def minute_start():
    """The clock at the top of the current minute, so that a test's looks all fall in one minute."""
    with time_machine.travel(datetime.now(UTC).replace(second=0, microsecond=0), tick=True) as traveller:
        yield traveller


def look(client, connection, job_ids):
    return client.post(reverse("quick_look"), {"connection": connection.pk, "job_ids": "\n".join(job_ids)})


def use_up_the_minute(client, connection) -> list[list[str]]:
    pastes = [new_ids(1) for _ in range(QUICK_LOOKS_PER_MINUTE)]
    for paste in pastes:
        assert look(client, connection, paste).status_code == 200
    return pastes


def test_it_refuses_a_look_past_the_minutes_limit_with_429(owner_client, connection, minute_start):
    use_up_the_minute(owner_client, connection)
    refused = new_ids(1)
    response = look(owner_client, connection, refused)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    page = response.content.decode()
    assert f"You have had {QUICK_LOOKS_PER_MINUTE} quick looks this minute" in page
    assert 'action="/quick-look/"' in page  # the form, paste kept, to send again later
    assert not JobStatus.objects.filter(job_id=refused[0]).exists()


def test_it_does_not_count_the_same_paste_looked_at_again(owner_client, connection, minute_start):
    """The results page looks again until the watcher has checked every job: one look, not many."""
    pastes = use_up_the_minute(owner_client, connection)
    assert look(owner_client, connection, pastes[0]).status_code == 200
    assert look(owner_client, connection, list(reversed(pastes[0] + new_ids(1)))).status_code == 429


def test_it_counts_each_user_apart(owner_client, other_client, connection, minute_start):
    use_up_the_minute(owner_client, connection)
    assert look(other_client, connection, new_ids(1)).status_code == 200


def test_it_lets_looks_through_again_the_next_minute(owner_client, connection, minute_start):
    use_up_the_minute(owner_client, connection)
    minute_start.shift(60)
    assert look(owner_client, connection, new_ids(1)).status_code == 200


def test_it_refuses_a_paste_of_more_ids_than_a_look_takes(owner_client, connection, settings):
    settings.JOBSITE_MAX_JOBS_PER_QUICK_LOOK = 3
    paste = new_ids(4)
    response = look(owner_client, connection, paste)
    assert response.status_code == 400
    page = response.content.decode()
    assert "A quick look takes at most 3 jobs; this paste has 4." in page
    assert "Paste up to 3 job IDs" in page
    assert not JobStatus.objects.filter(job_id__in=paste).exists()
    assert look(owner_client, connection, paste[:3]).status_code == 200
