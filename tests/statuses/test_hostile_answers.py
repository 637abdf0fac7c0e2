"""Whatever upstream answers, asking about claimed jobs never raises, releases every claim and
stores every job it can, on SQLite and PostgreSQL alike; a failure to store is a value too."""

import json
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import responses
from django.db import DatabaseError
from django.template.loader import render_to_string
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from jobsite.statuses import health, services
from jobsite.statuses.models import ConnectionHealth, JobStatus, StateChange
from jobsite.statuses.services import job_statuses_ask_upstream, job_statuses_ensure
from jobsite.upstream.answers import read_statuses
from jobsite.upstream.client import StatusesClient
from jobsite.upstream.models import Connection
from jobsite.watchlists.templatetags.job_display import output_cell
from tests.upstream.fakes import job_id
from tests.upstream.hostile import CONTROL, HostileAnswer, answers, hostile_settings


@pytest.fixture
def upstream(db) -> Connection:
    connection = Connection(name="Hostile", base_url="https://immuta.example.com", timeout=5)
    connection.token = "hostile-token"
    connection.save()
    return connection


def claimed_jobs(connection: Connection, job_ids: list[str]) -> list[JobStatus]:
    """Fresh rows for these jobs, last seen active, claimed as a refresh or a watcher would."""
    job_statuses_ensure(connection=connection, job_ids=job_ids)
    earlier = timezone.now() - timedelta(minutes=1)
    JobStatus.objects.update(state="active", checked_at=earlier, claimed_until=timezone.now() + timedelta(minutes=1))
    return list(JobStatus.objects.filter(job_id__in=job_ids))


def ask(connection: Connection, claimed: list[JobStatus], body: bytes | str) -> services.RefreshOutcome:
    with responses.RequestsMock() as mock:
        mock.post(connection.statuses_url, body=body, content_type="application/json")
        return job_statuses_ask_upstream(connection=connection, claimed=claimed)


def as_numbers_compare(value: Any) -> Any:
    """`value` with every number exact: PostgreSQL gives 1e16 back as 10000000000000000."""
    return json.loads(json.dumps(value), parse_float=Decimal, parse_int=Decimal)


@settings(hostile_settings, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(answer=answers())
def test_any_answer_is_stored_without_a_crash_and_releases_every_claim(upstream, answer: HostileAnswer):
    StateChange.objects.all().delete()
    JobStatus.objects.all().delete()
    ConnectionHealth.objects.all().delete()
    claimed = claimed_jobs(upstream, answer.asked)
    asked_at = timezone.now()

    outcome = ask(upstream, claimed, answer.body)

    assert outcome.problem is None  # stored, not merely survived
    rows = {row.job_id: row for row in JobStatus.objects.all()}
    assert all(row.claimed_until is None for row in rows.values())
    assert all(row.checked_at >= asked_at for row in rows.values())
    assert (rows[CONTROL].state, rows[CONTROL].output) == ("completed", {"ok": True})
    reported = read_statuses(answer.body, set(answer.asked))
    for key, row in rows.items():
        job = reported.get(key)
        if job is None:
            assert (row.reported, row.state) == (False, "active")  # not found: the last known state stays
        else:
            assert row.reported
            assert row.state == (job.state or "unknown")
            assert as_numbers_compare(row.output) == as_numbers_compare(job.output)
        output_cell(row.output).encode()  # as every page shows it, in UTF-8


def test_it_stores_every_other_job_when_one_entry_is_unreadable(upstream):
    claimed = claimed_jobs(upstream, [job_id(1), job_id(2)])
    body = json.dumps({job_id(1): ["completed"], job_id(2): {"state": "completed", "output": "done"}})

    outcome = ask(upstream, claimed, body)

    assert (outcome.problem, outcome.changed) == (None, 2)
    unreadable, fine = JobStatus.objects.order_by("job_id")
    assert (fine.state, fine.output, fine.claimed_until) == ("completed", "done", None)
    assert unreadable.state == "unreadable entry: a list, not an object or null"
    assert (unreadable.display_state, unreadable.output, unreadable.claimed_until) == ("unknown", None, None)
    # The page shows it as it shows any state outside the seven: unknown, with the text.
    badge = render_to_string("watchlists/_state.html", {"status": unreadable})
    assert "Unknown" in badge and "unreadable entry: a list, not an object or null" in badge
    assert StateChange.objects.filter(state=unreadable.state).count() == 1


def test_a_database_failure_while_storing_is_logged_released_and_shown(upstream, monkeypatch, caplog):
    claimed = claimed_jobs(upstream, [job_id(1)])

    def failing_store(**kwargs):
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(services, "_store_answer", failing_store)

    outcome = ask(upstream, claimed, json.dumps({job_id(1): {"state": "completed"}}))

    assert outcome.problem.kind == "not_stored"
    assert outcome.problem.message == "jobsite could not store what “Hostile” answered; the log says why."
    assert JobStatus.objects.get().claimed_until is None
    assert ConnectionHealth.objects.get().kind == "not_stored"  # the back-off keeps it from asking again at once
    (record,) = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert record.getMessage() == "Could not ask “Hostile” about 1 jobs and store the answer"
    assert "disk I/O error" in str(record.exc_info[1])


def test_it_still_releases_and_returns_the_problem_when_recording_it_fails_too(upstream, monkeypatch):
    claimed = claimed_jobs(upstream, [job_id(1)])

    def buggy_fetch(self, job_ids):
        raise RuntimeError("a bug in the client")

    def database_gone(*args, **kwargs):
        raise DatabaseError("the database went away")

    monkeypatch.setattr(StatusesClient, "fetch", buggy_fetch)
    monkeypatch.setattr(health, "problem_record", database_gone)

    outcome = job_statuses_ask_upstream(connection=upstream, claimed=claimed)

    assert outcome.problem.kind == "not_stored"
    assert outcome.problem.retry_at > timezone.now()
    assert JobStatus.objects.get().claimed_until is None
