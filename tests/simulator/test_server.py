"""The simulator over real HTTP on loopback, as a client of Immuta's `/jobs/statuses` sees it."""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from jobsite.simulator import FAULT_MODES, LIFECYCLES, Simulator
from jobsite.simulator.demo import DEMO_JOBS

TOKEN = "test-api-key"
UNKNOWN = "99999999-9999-4999-8999-999999999999"
SPEED = 0.05  # seconds per lifecycle tick: "succeed" completes after 0.15 s
TIME_SCALE = 0.05  # wait=20 holds for at most one second
CLIENT_TIMEOUT = 5  # a guard only: every answer here is expected well before it


@pytest.fixture
def sim():
    with Simulator(token=TOKEN, speed=SPEED, time_scale=TIME_SCALE, slow_seconds=0.5) as sim:
        yield sim


def statuses(
    sim: Simulator,
    job_ids: list[str],
    *,
    authorization: str | None = f"Bearer {TOKEN}",
    timeout: float = CLIENT_TIMEOUT,
    **fields: Any,
) -> requests.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return requests.post(
        f"{sim.url}/jobs/statuses", json={"jobIds": job_ids, **fields}, headers=headers, timeout=timeout
    )


def control(sim: Simulator, method: str, path: str, payload: Any = None) -> requests.Response:
    headers = {"Authorization": TOKEN}
    url = f"{sim.url}/simulator/{path}"
    return requests.request(method, url, json=payload, headers=headers, timeout=CLIENT_TIMEOUT)


def exchange(sim: Simulator, apikey: str) -> requests.Response:
    url = f"{sim.url}/bim/apikey/authenticate"
    return requests.post(url, json={"apikey": apikey}, timeout=CLIENT_TIMEOUT)


def assert_error(response: requests.Response, status: int) -> dict[str, Any]:
    """Immuta's error shape; returns the body for further checks."""
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"statusCode", "error", "message"}
    assert body["statusCode"] == status and body["message"]
    return body


def eventually(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("the condition never held")


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run `call` in a thread; its result (or exception) lands in the returned list."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


# Authentication


def test_it_accepts_the_api_key_as_a_bearer_token(sim):
    assert statuses(sim, [UNKNOWN], authorization=f"Bearer {TOKEN}").status_code == 200


def test_it_accepts_the_raw_api_key_without_a_scheme(sim):
    assert statuses(sim, [UNKNOWN], authorization=TOKEN).status_code == 200


@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", "wrong", "Bearer ", f"Basic {TOKEN}", f"Bearer {TOKEN}x"]
)
def test_it_refuses_a_missing_or_wrong_token_with_a_json_401(sim, authorization):
    body = assert_error(statuses(sim, [UNKNOWN], authorization=authorization), 401)
    assert body["error"] == "Unauthorized"


def test_it_exchanges_the_api_key_for_a_bearer_token_that_it_accepts(sim):
    response = exchange(sim, TOKEN)
    assert response.status_code == 200
    body = response.json()
    assert body["authenticated"] is True and body["token"] != TOKEN
    assert statuses(sim, [UNKNOWN], authorization=f"Bearer {body['token']}").status_code == 200
    assert sim.stats()["exchange_requests"] == 1


def test_it_refuses_to_exchange_a_wrong_api_key(sim):
    assert_error(exchange(sim, "wrong"), 401)


def test_it_refuses_an_exchanged_token_once_it_expires_and_exchanges_again():
    with Simulator(token=TOKEN, exchanged_token_ttl=0.2) as sim:
        first = exchange(sim, TOKEN).json()["token"]
        assert statuses(sim, [UNKNOWN], authorization=f"Bearer {first}").status_code == 200
        time.sleep(0.3)
        assert_error(statuses(sim, [UNKNOWN], authorization=f"Bearer {first}"), 401)
        second = exchange(sim, TOKEN).json()["token"]
        assert statuses(sim, [UNKNOWN], authorization=f"Bearer {second}").status_code == 200


# Validation


@pytest.mark.parametrize(
    ("payload", "complaint"),
    [
        ([UNKNOWN], "JSON object"),
        ({}, '"jobIds" is required'),
        ({"jobIds": UNKNOWN}, '"jobIds" must be an array'),
        ({"jobIds": []}, "at least 1"),
        ({"jobIds": [UNKNOWN, 7]}, '"jobIds[1]" must be a string'),
        ({"jobIds": ["not-a-uuid"]}, "GUID"),
        ({"jobIds": [UNKNOWN, UNKNOWN.upper()]}, "duplicate"),
        ({"jobIds": [UNKNOWN], "wait": True}, '"wait"'),
        ({"jobIds": [UNKNOWN], "wait": 1.5}, '"wait"'),
        ({"jobIds": [UNKNOWN], "wait": "1"}, '"wait"'),
        ({"jobIds": [UNKNOWN], "wait": None}, '"wait"'),
        ({"jobIds": [UNKNOWN], "wait": -2}, '"wait"'),
        ({"jobIds": [UNKNOWN], "pollInterval": 0}, '"pollInterval"'),
        ({"jobIds": [UNKNOWN], "pollInterval": False}, '"pollInterval"'),
        ({"jobIds": [UNKNOWN], "pollInterval": 2.5}, '"pollInterval"'),
    ],
)
def test_it_answers_a_bad_payload_with_a_json_400_saying_what_is_wrong(sim, payload, complaint):
    response = requests.post(
        f"{sim.url}/jobs/statuses", json=payload, headers={"Authorization": TOKEN}, timeout=CLIENT_TIMEOUT
    )
    body = assert_error(response, 400)
    assert body["error"] == "Bad Request"
    assert complaint in body["message"]


@pytest.mark.parametrize("data", [b"", b"{not json", b'{"jobIds": [NaN]}', b"\xff\xfe"])
def test_it_answers_a_body_that_is_not_json_with_a_json_400(sim, data):
    response = requests.post(
        f"{sim.url}/jobs/statuses", data=data, headers={"Authorization": TOKEN}, timeout=CLIENT_TIMEOUT
    )
    assert_error(response, 400)


def test_it_accepts_wait_minus_one_and_the_defaults_of_wait_and_poll_interval(sim):
    [job_id] = sim.submit("instant")
    assert statuses(sim, [job_id]).status_code == 200
    assert statuses(sim, [job_id], wait=-1, pollInterval=3).status_code == 200


# The answer


def test_it_answers_by_job_id_with_state_output_and_extra_fields(sim):
    [job_id] = sim.submit("instant", output={"rows": 3})
    answer = statuses(sim, [job_id]).json()
    assert list(answer) == [job_id]
    job = answer[job_id]
    assert (job["id"], job["state"], job["output"]) == (job_id, "completed", {"rows": 3})
    assert {"name", "priority", "retryCount", "createdOn"} <= set(job)


def test_it_leaves_unknown_ids_out_of_the_answer(sim):
    [known] = sim.submit("stay_active")
    assert list(statuses(sim, [UNKNOWN, known]).json()) == [known]
    assert statuses(sim, [UNKNOWN]).json() == {}


def test_it_keys_the_answer_by_the_lowercase_id(sim):
    [job_id] = sim.submit("instant")
    assert list(statuses(sim, [job_id.upper()]).json()) == [job_id]


def test_every_answer_carries_the_simulator_header(sim):
    responses = [
        statuses(sim, [UNKNOWN]),
        statuses(sim, [UNKNOWN], authorization="wrong"),
        statuses(sim, []),
        exchange(sim, TOKEN),
        control(sim, "GET", "stats"),
        requests.get(f"{sim.url}/nowhere", timeout=CLIENT_TIMEOUT),
        requests.head(f"{sim.url}/jobs/statuses", timeout=CLIENT_TIMEOUT),
    ]
    assert [response.headers.get("X-Jobsite-Simulator") for response in responses] == ["1"] * len(responses)


def test_it_answers_unknown_paths_with_a_json_404_and_wrong_methods_with_a_json_405(sim):
    assert_error(requests.post(f"{sim.url}/jobs/status", json={}, timeout=CLIENT_TIMEOUT), 404)
    wrong_method = requests.get(f"{sim.url}/jobs/statuses", timeout=CLIENT_TIMEOUT)
    assert_error(wrong_method, 405)
    assert wrong_method.headers["Allow"] == "POST"


# wait and pollInterval


def test_it_answers_at_once_without_wait(sim):
    [job_id] = sim.submit("succeed")
    assert statuses(sim, [job_id], wait=0).json()[job_id]["state"] == "created"


def test_it_holds_the_request_until_all_jobs_are_terminal(sim):
    job_ids = [*sim.submit("succeed"), *sim.submit("fail"), *sim.submit("cancel")]
    answer = statuses(sim, job_ids, wait=-1).json()
    assert [answer[job_id]["state"] for job_id in job_ids] == ["completed", "failed", "cancelled"]


def test_it_answers_as_soon_as_all_jobs_are_terminal_within_a_long_wait(sim):
    [job_id] = sim.submit("succeed")
    # wait=1000 scales to 50 s: only an early answer beats the client's timeout.
    answer = statuses(sim, [job_id], wait=1000, timeout=CLIENT_TIMEOUT).json()
    assert answer[job_id]["state"] == "completed"


def test_it_answers_with_running_jobs_when_wait_runs_out(sim):
    [job_id] = sim.submit("succeed_slowly")
    # Created for 0.05 s, then active for 0.4 s: only a request held to its wait (0.2 s) sees "active".
    assert statuses(sim, [job_id], wait=4).json()[job_id]["state"] == "active"


def test_it_does_not_wait_for_unknown_ids(sim):
    [job_id] = sim.submit("instant")
    assert list(statuses(sim, [job_id, UNKNOWN], wait=-1).json()) == [job_id]


def test_it_rereads_states_only_every_poll_interval(sim):
    [job_id] = sim.submit("succeed")
    # Completed after 0.15 s, but the next re-read is 1000 * 0.05 = 50 s away.
    with pytest.raises(requests.ReadTimeout):
        statuses(sim, [job_id], wait=-1, pollInterval=1000, timeout=0.5)


def test_it_holds_requests_concurrently(sim):
    first, second = sim.submit("stay_active", count=2)
    held = [in_thread(functools.partial(statuses, sim, [job_id], wait=-1)) for job_id in (first, second)]
    eventually(lambda: sim.stats()["statuses_requests"] == 2)

    sim.set_state(first, "completed")
    held[0][0].join(CLIENT_TIMEOUT)
    assert held[0][1][0].json()[first]["state"] == "completed"
    assert held[1][0].is_alive()

    sim.set_state(second, "expired")
    held[1][0].join(CLIENT_TIMEOUT)
    assert held[1][1][0].json()[second]["state"] == "expired"


# Faults


def test_the_error_500_fault_answers_a_json_500_even_without_a_token(sim):
    sim.set_fault("error_500")
    assert_error(statuses(sim, [UNKNOWN], authorization=None), 500)


def test_the_bad_gateway_fault_answers_an_html_502(sim):
    sim.set_fault("bad_gateway_html")
    response = statuses(sim, [UNKNOWN])
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html>" in response.text and "502 Bad Gateway" in response.text


def test_the_unauthorized_fault_refuses_a_good_token(sim):
    sim.set_fault("unauthorized")
    assert_error(statuses(sim, [UNKNOWN]), 401)


def test_the_slow_fault_holds_the_answer_past_a_short_client_timeout(sim):
    sim.set_fault("slow")
    with pytest.raises(requests.ReadTimeout):
        statuses(sim, [UNKNOWN], timeout=0.2)
    [job_id] = sim.submit("instant")
    assert statuses(sim, [job_id], timeout=CLIENT_TIMEOUT).json()[job_id]["state"] == "completed"


def test_the_reset_fault_resets_the_connection_without_an_answer(sim):
    sim.set_fault("reset")
    with pytest.raises(requests.ConnectionError, match="reset"):
        statuses(sim, [UNKNOWN])


def test_the_malformed_json_fault_answers_200_json_that_does_not_parse(sim):
    sim.set_fault("malformed_json")
    response = statuses(sim, [UNKNOWN])
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        response.json()


def test_the_unknown_state_fault_reports_a_state_outside_the_seven(sim):
    job_ids = sim.submit("instant", count=2)
    sim.set_fault("unknown_state")
    answer = statuses(sim, job_ids).json()
    assert [answer[job_id]["state"] for job_id in job_ids] == ["paused", "paused"]


def test_a_counted_fault_affects_only_the_next_requests(sim):
    sim.set_fault("error_500", count=2)
    assert [statuses(sim, [UNKNOWN]).status_code for _ in range(3)] == [500, 500, 200]


def test_an_uncounted_fault_lasts_until_cleared(sim):
    sim.set_fault("error_500")
    assert [statuses(sim, [UNKNOWN]).status_code for _ in range(3)] == [500, 500, 500]
    sim.clear_fault()
    assert statuses(sim, [UNKNOWN]).status_code == 200


def test_faults_leave_the_other_endpoints_alone(sim):
    sim.set_fault("error_500")
    assert exchange(sim, TOKEN).status_code == 200
    assert control(sim, "GET", "stats").status_code == 200


@pytest.mark.parametrize(("mode", "count"), [("explode", None), ("error_500", 0), ("error_500", True)])
def test_it_refuses_an_unknown_fault_mode_or_a_bad_count(sim, mode, count):
    with pytest.raises(ValueError):
        sim.set_fault(mode, count=count)


def test_it_names_its_fault_modes_and_lifecycles():
    assert set(FAULT_MODES) == {
        "error_500",
        "bad_gateway_html",
        "unauthorized",
        "slow",
        "reset",
        "malformed_json",
        "unknown_state",
    }
    assert {"succeed", "fail", "expire", "cancel", "stay_active", "instant"} <= set(LIFECYCLES)


# Stopping


def test_stop_promptly_ends_a_request_held_by_wait(sim):
    [job_id] = sim.submit("stay_active")
    thread, outcome = in_thread(lambda: statuses(sim, [job_id], wait=-1))
    eventually(lambda: sim.stats()["statuses_requests"] == 1)
    sim.stop()
    thread.join(CLIENT_TIMEOUT)
    assert_error(outcome[0], 503)


def test_stop_promptly_ends_a_request_held_by_the_slow_fault():
    with Simulator(token=TOKEN, slow_seconds=60) as sim:
        sim.set_fault("slow")
        thread, outcome = in_thread(lambda: statuses(sim, [UNKNOWN]))
        eventually(lambda: sim.stats()["statuses_requests"] == 1)
    thread.join(CLIENT_TIMEOUT)
    assert_error(outcome[0], 503)


def test_stop_closes_kept_alive_connections(sim):
    session = requests.Session()
    url, headers = f"{sim.url}/jobs/statuses", {"Authorization": TOKEN}
    assert session.post(url, json={"jobIds": [UNKNOWN]}, headers=headers, timeout=CLIENT_TIMEOUT).ok
    sim.stop()
    with pytest.raises(requests.ConnectionError):
        session.post(url, json={"jobIds": [UNKNOWN]}, headers=headers, timeout=CLIENT_TIMEOUT)


# The Python API


def test_it_listens_on_a_free_loopback_port_and_says_where():
    with Simulator(token=TOKEN, port=0) as sim:
        assert sim.port != 0
        assert sim.url == f"http://127.0.0.1:{sim.port}"
        assert sim.token == TOKEN


def test_it_serves_the_demo_jobs_when_asked(sim):
    assert statuses(sim, [DEMO_JOBS[0].id]).json() == {}
    with Simulator(token=TOKEN, demo_jobs=True) as demo:
        answer = statuses(demo, [job.id for job in DEMO_JOBS]).json()
    assert set(answer) == {job.id for job in DEMO_JOBS}
    assert answer[DEMO_JOBS[0].id]["output"] == DEMO_JOBS[0].output


def test_submit_refuses_an_unknown_lifecycle(sim):
    with pytest.raises(ValueError, match="lifecycle"):
        sim.submit("explode")


def test_it_counts_requests_and_job_ids_until_reset(sim):
    statuses(sim, [UNKNOWN])
    statuses(sim, [str(uuid.uuid4()), str(uuid.uuid4())])
    exchange(sim, TOKEN)
    assert sim.stats() == {"statuses_requests": 2, "job_ids_requested": 3, "exchange_requests": 1}
    sim.reset_stats()
    assert sim.stats() == {"statuses_requests": 0, "job_ids_requested": 0, "exchange_requests": 0}


def test_it_logs_one_line_per_request_and_never_the_token(sim, caplog):
    caplog.set_level(logging.DEBUG, logger="jobsite.simulator")
    statuses(sim, [UNKNOWN])
    statuses(sim, [UNKNOWN], authorization=TOKEN)
    exchange(sim, TOKEN)
    lines = [record.getMessage() for record in caplog.records]
    assert len([line for line in lines if "/jobs/statuses -> 200" in line]) == 2
    assert TOKEN not in caplog.text


# The control API


def test_its_control_api_submits_jobs(sim):
    response = control(sim, "POST", "jobs", {"lifecycle": "instant", "count": 2, "output": {"rows": 1}})
    assert response.status_code == 201
    job_ids = response.json()["jobIds"]
    answer = statuses(sim, job_ids).json()
    assert [answer[job_id]["output"] for job_id in job_ids] == [{"rows": 1}, {"rows": 1}]


def test_its_control_api_sets_a_state(sim):
    [job_id] = sim.submit("stay_active")
    payload = {"state": "failed", "output": {"message": "boom"}}
    response = control(sim, "POST", f"jobs/{job_id}/state", payload)
    assert response.status_code == 200
    job = statuses(sim, [job_id]).json()[job_id]
    assert (job["state"], job["output"]) == ("failed", {"message": "boom"})


def test_its_control_api_sets_and_clears_a_fault(sim):
    assert control(sim, "PUT", "fault", {"mode": "error_500", "count": None}).status_code == 200
    assert statuses(sim, [UNKNOWN]).status_code == 500
    assert control(sim, "DELETE", "fault").status_code == 200
    assert statuses(sim, [UNKNOWN]).status_code == 200


def test_its_control_api_reports_stats(sim):
    statuses(sim, [UNKNOWN])
    assert control(sim, "GET", "stats").json() == {
        "statuses_requests": 1,
        "job_ids_requested": 1,
        "exchange_requests": 0,
    }


@pytest.mark.parametrize(
    ("method", "path", "payload", "status"),
    [
        ("POST", "jobs", {"lifecycle": "explode"}, 400),
        ("POST", "jobs", {"lifecycle": ["succeed"]}, 400),
        ("POST", "jobs", {"lifecycle": "succeed", "count": 0}, 400),
        ("POST", "jobs", [], 400),
        ("POST", f"jobs/{UNKNOWN}/state", {"state": "completed"}, 404),
        ("POST", f"jobs/{UNKNOWN}/state", {"state": "paused"}, 400),
        ("PUT", "fault", {"mode": "explode"}, 400),
        ("PUT", "fault", {"mode": "error_500", "count": -1}, 400),
    ],
)
def test_its_control_api_answers_bad_input_with_json_errors(sim, method, path, payload, status):
    assert_error(control(sim, method, path, payload), status)


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "jobs"), ("PUT", "fault"), ("DELETE", "fault"), ("GET", "stats")]
)
def test_its_control_api_needs_the_token(sim, method, path):
    response = requests.request(method, f"{sim.url}/simulator/{path}", json={}, timeout=CLIENT_TIMEOUT)
    assert_error(response, 401)
