"""The three ways to send the token: Bearer, raw key, and exchange of the key for a bearer token."""

import base64
import json
import threading
import time

import pytest
import responses
from responses import matchers

from jobsite.upstream.errors import BadResponse, TokenRejected, UpstreamHTTPError
from tests.upstream.fakes import EXCHANGE_URL, STATUSES_URL, TOKEN, job_id, make_client, sent_json
from tests.upstream.servers import answering, http_answer


def statuses_for(bearer: str, **reply):
    """Registration kwargs: answer `reply` only to requests carrying this bearer token."""
    return {"match": [matchers.header_matcher({"Authorization": f"Bearer {bearer}"})], **reply}


def add_exchanges(rsps, *tokens: str) -> None:
    """The exchange endpoint hands out these tokens, one per call, in order."""
    for token in tokens:
        rsps.post(EXCHANGE_URL, json={"authenticated": True, "token": token})


def calls_to(rsps, url: str) -> list:
    return [call for call in rsps.calls if call.request.url == url]


@pytest.mark.parametrize(("auth_method", "header"), [("bearer", f"Bearer {TOKEN}"), ("raw", TOKEN)])
def test_it_sends_the_token_as_configured(rsps, auth_method, header):
    rsps.post(STATUSES_URL, json={})

    make_client(auth_method=auth_method).fetch([job_id(1)])

    assert rsps.calls[0].request.headers["Authorization"] == header
    assert len(calls_to(rsps, EXCHANGE_URL)) == 0


def test_it_exchanges_the_api_key_once_and_reuses_the_bearer_token(rsps):
    add_exchanges(rsps, "exchanged-1")
    rsps.post(STATUSES_URL, **statuses_for("exchanged-1", json={job_id(1): {"state": "active"}}))
    client = make_client(auth_method="exchange")

    client.fetch([job_id(1)])
    answer = client.fetch([job_id(1)])

    exchanges = calls_to(rsps, EXCHANGE_URL)
    assert len(exchanges) == 1
    assert sent_json(exchanges[0]) == {"apikey": TOKEN}
    assert "Authorization" not in exchanges[0].request.headers
    assert len(calls_to(rsps, STATUSES_URL)) == 2
    assert answer.jobs[job_id(1)].state == "active"


def test_it_exchanges_at_the_base_url_when_immuta_lives_under_a_path(rsps):
    rsps.post("https://corp.example.com/immuta/bim/apikey/authenticate", json={"token": "t1"})
    rsps.post("https://corp.example.com/immuta/jobs/statuses", **statuses_for("t1", json={}))

    make_client(auth_method="exchange", statuses_url="https://corp.example.com/immuta/jobs/statuses").fetch([job_id(1)])

    assert len(rsps.calls) == 2


def test_it_exchanges_again_once_after_a_401_and_retries_the_batch(rsps):
    add_exchanges(rsps, "exchanged-1", "exchanged-2")
    rsps.post(STATUSES_URL, **statuses_for("exchanged-1", status=401))
    rsps.post(STATUSES_URL, **statuses_for("exchanged-2", json={job_id(1): {"state": "completed"}}))

    answer = make_client(auth_method="exchange").fetch([job_id(1)])

    assert answer.jobs[job_id(1)].state == "completed"
    assert len(calls_to(rsps, EXCHANGE_URL)) == 2
    statuses = calls_to(rsps, STATUSES_URL)
    assert len(statuses) == 2
    assert sent_json(statuses[0]) == sent_json(statuses[1])


def test_it_reports_a_rejected_token_after_the_second_401(rsps):
    add_exchanges(rsps, "exchanged-1", "exchanged-2", "exchanged-3")
    rsps.post(STATUSES_URL, status=401)

    with pytest.raises(TokenRejected) as caught:
        make_client(auth_method="exchange").fetch([job_id(1)])

    assert caught.value.status == 401
    assert len(calls_to(rsps, EXCHANGE_URL)) == 2
    assert len(calls_to(rsps, STATUSES_URL)) == 2


@pytest.mark.parametrize("auth_method", ["bearer", "raw"])
def test_it_does_not_retry_a_401_without_an_exchange(rsps, auth_method):
    rsps.post(STATUSES_URL, status=401)

    with pytest.raises(TokenRejected):
        make_client(auth_method=auth_method).fetch([job_id(1)])

    assert len(rsps.calls) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_it_reports_a_refused_exchange_as_a_rejected_token(rsps, status):
    rsps.post(EXCHANGE_URL, status=status)

    with pytest.raises(TokenRejected) as caught:
        make_client(auth_method="exchange").fetch([job_id(1)])

    assert caught.value.status == status
    assert len(calls_to(rsps, STATUSES_URL)) == 0


def test_it_maps_other_exchange_failures_like_any_request(rsps):
    rsps.post(EXCHANGE_URL, status=500, json={"statusCode": 500, "message": "LDAP is down"})

    with pytest.raises(UpstreamHTTPError, match="LDAP is down"):
        make_client(auth_method="exchange").fetch([job_id(1)])


@pytest.mark.parametrize(
    "reply",
    [
        {"authenticated": False},
        {"authenticated": True, "token": ""},
        {"token": 7},
        {"token": "two words"},  # no header could carry it
        {"token": "t\u20ac1"},
    ],
)
def test_it_reports_an_exchange_answer_without_a_token_as_unreadable(rsps, reply):
    rsps.post(EXCHANGE_URL, json=reply)

    with pytest.raises(BadResponse, match="gave no token"):
        make_client(auth_method="exchange").fetch([job_id(1)])


def test_it_exchanges_once_for_many_threads_at_once(rsps):
    exchanges = []

    def slow_exchange(request):
        exchanges.append(request)
        time.sleep(0.05)  # long enough for every thread to arrive while the first one exchanges
        return 200, {}, json.dumps({"authenticated": True, "token": "shared"})

    rsps.add_callback(responses.POST, EXCHANGE_URL, callback=slow_exchange)
    rsps.post(STATUSES_URL, **statuses_for("shared", json={}))
    client = make_client(auth_method="exchange")
    threads = [threading.Thread(target=client.fetch, args=([job_id(n)],)) for n in range(8)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(exchanges) == 1
    assert len(calls_to(rsps, STATUSES_URL)) == 8


def test_it_keeps_the_exchanged_token_out_of_messages(rsps):
    add_exchanges(rsps, "exchanged-secret-1")
    rsps.post(STATUSES_URL, status=500, json={"message": "stale exchanged-secret-1"})

    with pytest.raises(UpstreamHTTPError) as caught:
        make_client(auth_method="exchange").fetch([job_id(1)])

    assert "exchanged-secret-1" not in caught.value.message


def test_it_keeps_the_exchanged_token_out_of_messages_in_base64_too(rsps):
    add_exchanges(rsps, "exchanged-secret-1")
    echoed = base64.b64encode(b"Bearer exchanged-secret-1").decode()
    rsps.post(STATUSES_URL, status=500, json={"message": f"stale {echoed}"})

    with pytest.raises(UpstreamHTTPError) as caught:
        make_client(auth_method="exchange").fetch([job_id(1)])

    assert echoed not in caught.value.message
    assert "[token]" in caught.value.message


def test_it_reports_a_token_no_header_can_carry_as_rejected():
    with answering(http_answer(b"{}")) as url, pytest.raises(TokenRejected) as caught:
        make_client(statuses_url=url, token="t€ken").fetch([job_id(1)])

    assert caught.value.message == (
        "The API token for “Production” has characters an HTTP header cannot carry. "
        "An admin can update it in Connections."
    )
