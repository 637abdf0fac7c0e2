"""Limits on a call: a deadline for the whole of it, however upstream paces its bytes, and a cap on
what it reads, however well the answer compresses."""

import gzip
import json
import time

import pytest

from jobsite.upstream import client as client_module
from jobsite.upstream.client import MAX_ANSWER_BYTES
from jobsite.upstream.errors import BadResponse, TimedOut, UpstreamHTTPError
from tests.upstream.fakes import NAME, STATUSES_URL, job_id, make_client
from tests.upstream.servers import answering, http_answer

TIMEOUT = 1.0
# Generous on purpose: the point is "about the timeout", not "forty seconds later".
MARGIN = 1.5
TRICKLED = http_answer(json.dumps({job_id(1): {"state": "active", "output": "x" * 200}}).encode())


@pytest.mark.parametrize(
    "at_once",
    [0, TRICKLED.index(b"\r\n\r\n") + 4],
    ids=["headers and body trickled", "body trickled"],
)
def test_it_gives_up_on_a_trickled_answer_at_the_deadline(at_once):
    with answering(TRICKLED, at_once=at_once, byte_every=0.2) as url:
        started = time.monotonic()
        with pytest.raises(TimedOut) as caught:
            make_client(statuses_url=url, timeout=TIMEOUT).fetch([job_id(1)])
        took = time.monotonic() - started

    assert caught.value.message == f"“{NAME}” did not answer within 1 s."
    assert took < TIMEOUT + MARGIN


def test_its_deadline_grows_by_the_wait_it_asks_for():
    with answering(TRICKLED, at_once=0, byte_every=0.2) as url, pytest.raises(TimedOut) as caught:
        make_client(statuses_url=url, timeout=0.5).fetch([job_id(1)], wait=1)

    assert caught.value.message == f"“{NAME}” did not answer within 1.5 s."


def test_it_reads_an_answer_that_arrives_in_time_byte_by_byte():
    body = json.dumps({job_id(1): {"state": "completed"}}).encode()
    answer = http_answer(body)
    with answering(answer, at_once=len(answer) - len(body), byte_every=0.005) as url:
        reported = make_client(statuses_url=url, timeout=5).fetch([job_id(1)])

    assert reported.jobs[job_id(1)].state == "completed"


def test_it_stops_reading_a_gzip_bomb_at_the_cap():
    inflated = MAX_ANSWER_BYTES + 1024 * 1024
    bomb = gzip.compress(b"{" + b" " * inflated + b"}", compresslevel=9)
    assert len(bomb) < 100 * 1024  # a small answer on the wire

    with answering(http_answer(bomb, "Content-Encoding: gzip")) as url, pytest.raises(BadResponse) as caught:
        make_client(statuses_url=url, timeout=5).fetch([job_id(1)])

    assert caught.value.message == (
        f"“{NAME}” sent an answer jobsite could not read: it is larger than 32 MB (a smaller batch size would help)."
    )


def test_it_reads_a_gzip_answer_below_the_cap():
    body = gzip.compress(json.dumps({job_id(1): {"state": "failed", "output": "boom"}}).encode())

    with answering(http_answer(body, "Content-Encoding: gzip")) as url:
        job = make_client(statuses_url=url, timeout=5).fetch([job_id(1)]).jobs[job_id(1)]

    assert (job.state, job.output) == ("failed", "boom")


def test_it_refuses_an_answer_larger_than_the_cap(rsps, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_ANSWER_BYTES", 1024 * 1024)
    rsps.post(STATUSES_URL, body=json.dumps({job_id(1): {"state": "active", "output": "x" * 2 * 1024 * 1024}}))

    with pytest.raises(BadResponse, match="larger than 1 MB"):
        make_client().fetch([job_id(1)])


def test_it_reads_only_the_start_of_a_huge_error_answer(rsps):
    rsps.post(STATUSES_URL, status=500, body=json.dumps({"message": "x" * 100_000}))

    with pytest.raises(UpstreamHTTPError) as caught:
        make_client().fetch([job_id(1)])

    assert caught.value.message == f"“{NAME}” answered with an error (HTTP 500): Internal Server Error."
