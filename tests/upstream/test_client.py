"""The statuses request (batching, IDs, payload, timeouts, headers) and how its answer is read."""

import json

import pytest
import responses
from requests.adapters import HTTPAdapter

from jobsite.upstream.errors import UpstreamHTTPError
from tests.upstream.fakes import STATUSES_URL, job_id, make_client, sent_json


def echo_completed(request):
    """A fake upstream that reports every requested job as completed."""
    ids = json.loads(request.body)["jobIds"]
    return 200, {}, json.dumps({i: {"id": i, "state": "completed", "output": None} for i in ids})


def test_it_splits_ids_into_batches_and_merges_the_answers(rsps):
    rsps.add_callback(responses.POST, STATUSES_URL, callback=echo_completed)
    ids = [job_id(n) for n in range(250)]

    answer = make_client(batch_size=100).fetch(ids)

    assert [sent_json(call)["jobIds"] for call in rsps.calls] == [ids[:100], ids[100:200], ids[200:]]
    assert list(answer.jobs) == ids
    assert {job.state for job in answer.jobs.values()} == {"completed"}


def test_it_lowercases_dedupes_and_drops_what_is_not_a_uuid(rsps):
    rsps.post(STATUSES_URL, json={})
    upper = job_id(1).upper()

    make_client().fetch([upper, job_id(2), job_id(1), " " + job_id(3) + " ", "not-a-job", "", job_id(2) + "x"])

    assert sent_json(rsps.calls[0])["jobIds"] == [job_id(1), job_id(2), job_id(3)]


@pytest.mark.parametrize("ids", [[], ["nope", "1234"]])
def test_it_makes_no_request_without_valid_ids(rsps, ids):
    rsps.post(STATUSES_URL, json={})

    answer = make_client().fetch(ids)

    assert len(rsps.calls) == 0
    assert (answer.jobs, answer.from_simulator) == ({}, False)


def test_it_always_sends_wait_and_poll_interval_as_integers(rsps):
    rsps.post(STATUSES_URL, json={})
    client = make_client()

    client.fetch([job_id(1)])
    client.fetch([job_id(1)], wait=30, poll_interval=2)

    assert sent_json(rsps.calls[0]) == {"jobIds": [job_id(1)], "wait": 0, "pollInterval": 1}
    assert sent_json(rsps.calls[1]) == {"jobIds": [job_id(1)], "wait": 30, "pollInterval": 2}


@pytest.mark.parametrize(
    ("timeout", "wait", "expected"),
    [(10.0, 0, (5.0, 10.0)), (10.0, 30, (5.0, 40.0)), (2.0, 0, (2.0, 2.0))],
)
def test_it_passes_explicit_timeouts_and_reads_longer_by_the_wait(rsps, timeout, wait, expected):
    rsps.post(STATUSES_URL, json={})

    make_client(timeout=timeout).fetch([job_id(1)], wait=wait)

    assert rsps.calls[0].request.req_kwargs["timeout"] == expected


def test_it_refuses_to_wait_indefinitely(rsps):
    with pytest.raises(ValueError, match="indefinitely"):
        make_client().fetch([job_id(1)], wait=-1)
    assert len(rsps.calls) == 0


def test_it_refuses_a_poll_interval_below_one_second(rsps):
    with pytest.raises(ValueError, match="poll_interval"):
        make_client().fetch([job_id(1)], poll_interval=0)


def test_it_sends_json_with_its_own_user_agent(rsps):
    rsps.post(STATUSES_URL, json={})

    make_client().fetch([job_id(1)])

    headers = rsps.calls[0].request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("jobsite/")


def test_its_session_pools_connections_and_never_retries_by_itself():
    adapter = make_client()._session.get_adapter(STATUSES_URL)
    assert isinstance(adapter, HTTPAdapter)

    assert adapter.max_retries.total == 0
    assert adapter.poolmanager.connection_pool_kw["maxsize"] == 10


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("active", "active"),
        (["failed"], "failed"),
        ("paused", "paused"),  # not one of the seven: the caller shows it as unknown
        (["active", "failed"], None),
        ([], None),
        (42, None),
        ({"state": "active"}, None),
        (None, None),
    ],
)
def test_it_reads_the_state_as_a_string_or_a_one_element_list(rsps, sent, expected):
    rsps.post(STATUSES_URL, json={job_id(1): {"id": job_id(1), "state": sent, "output": None}})

    assert make_client().fetch([job_id(1)]).jobs[job_id(1)].state == expected


def test_it_treats_a_missing_state_as_unreadable(rsps):
    rsps.post(STATUSES_URL, json={job_id(1): {"id": job_id(1)}})

    job = make_client().fetch([job_id(1)]).jobs[job_id(1)]

    assert (job.state, job.output) == (None, None)


def test_it_treats_null_and_missing_entries_as_not_found(rsps):
    rsps.post(STATUSES_URL, json={job_id(1): None, job_id(3): {"id": job_id(3), "state": "created"}})

    answer = make_client().fetch([job_id(1), job_id(2), job_id(3)])

    assert list(answer.jobs) == [job_id(3)]


def test_it_ignores_extra_fields_and_unrequested_keys(rsps):
    rsps.post(
        STATUSES_URL,
        json={
            job_id(1): {"id": job_id(1), "state": "active", "output": None, "priority": 3, "_internal": {"a": 1}},
            job_id(9): {"id": job_id(9), "state": "failed"},
            "meta": "not a job",
        },
    )

    answer = make_client().fetch([job_id(1)])

    assert list(answer.jobs) == [job_id(1)]
    assert answer.jobs[job_id(1)].state == "active"


def test_it_matches_upper_case_keys_to_the_requested_ids(rsps):
    rsps.post(STATUSES_URL, json={job_id(1).upper(): {"state": "completed"}})

    answer = make_client().fetch([job_id(1)])

    assert answer.jobs[job_id(1)].id == job_id(1)


@pytest.mark.parametrize(
    "output",
    [
        "done",
        None,
        {"value": 42},
        {"name": "Error", "message": "boom", "stack": "Error: boom\n    at x"},
        [1, "two", None],
        3.5,
        True,
    ],
)
def test_it_keeps_the_output_as_sent(rsps, output):
    rsps.post(STATUSES_URL, json={job_id(1): {"id": job_id(1), "state": "completed", "output": output}})

    assert make_client().fetch([job_id(1)]).jobs[job_id(1)].output == output


def test_it_notices_the_simulator_header(rsps):
    rsps.post(STATUSES_URL, json={}, headers={"X-Jobsite-Simulator": "1"})

    assert make_client().fetch([job_id(1)]).from_simulator is True


def test_it_notices_the_simulator_header_on_any_batch(rsps):
    rsps.post(STATUSES_URL, json={}, headers={"X-Jobsite-Simulator": "1"})
    rsps.post(STATUSES_URL, json={})

    assert make_client(batch_size=1).fetch([job_id(1), job_id(2)]).from_simulator is True


def test_it_does_not_claim_a_simulator_without_the_header(rsps):
    rsps.post(STATUSES_URL, json={})

    assert make_client().fetch([job_id(1)]).from_simulator is False


def test_it_does_not_follow_redirects(rsps):
    rsps.post(STATUSES_URL, status=302, headers={"Location": "https://elsewhere.example.com/jobs/statuses"})

    with pytest.raises(UpstreamHTTPError) as caught:
        make_client().fetch([job_id(1)])

    assert caught.value.status == 302
    assert len(rsps.calls) == 1


def test_its_check_reports_ok_with_one_request_for_one_uuid(rsps):
    rsps.post(STATUSES_URL, json={})

    result = make_client().check()

    assert (result.ok, result.kind) == (True, "ok")
    assert result.message.startswith("Connected: Immuta answered in ")
    (sent_id,) = sent_json(rsps.calls[0])["jobIds"]
    assert len(sent_id) == 36


def test_its_check_says_when_it_reached_the_simulator(rsps):
    rsps.post(STATUSES_URL, json={}, headers={"X-Jobsite-Simulator": "1"})

    result = make_client().check()

    assert result.ok
    assert result.message.startswith("Connected to the jobsite simulator")


def test_its_check_reports_a_failure_instead_of_raising(rsps):
    rsps.post(STATUSES_URL, status=401)

    result = make_client().check()

    assert (result.ok, result.kind) == (False, "token_rejected")
    assert "rejected the API token" in result.message
