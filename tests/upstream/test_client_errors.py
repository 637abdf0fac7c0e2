"""Every failure becomes a typed error an analyst can read, logged once, never with the token."""

import base64
import logging
import socket
import threading
from urllib.parse import quote, quote_plus

import pytest
import requests
import urllib3.exceptions

from jobsite.upstream.errors import (
    BadResponse,
    TimedOut,
    TokenRejected,
    Unreachable,
    UpstreamError,
    UpstreamHTTPError,
)
from tests.upstream.fakes import NAME, STATUSES_URL, TOKEN, job_id, make_client
from tests.upstream.servers import answering


def fetch_error(**client_options) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        make_client(**client_options).fetch([job_id(1)])
    return caught.value


@pytest.mark.parametrize("status", [401, 403])
def test_it_maps_401_and_403_to_a_rejected_token(rsps, status):
    rsps.post(STATUSES_URL, status=status, json={"statusCode": status, "error": "Unauthorized", "message": "no"})

    error = fetch_error()

    assert isinstance(error, TokenRejected)
    assert (error.kind, error.status) == ("token_rejected", status)
    assert str(error) == (
        f"Immuta rejected the API token for “{NAME}” (HTTP {status}). An admin can update it in Connections."
    )


def test_it_maps_a_500_with_an_immuta_error_body_to_its_message(rsps):
    rsps.post(
        STATUSES_URL,
        status=500,
        json={"statusCode": 500, "error": "Internal Server Error", "message": "Database unavailable."},
    )

    error = fetch_error()

    assert isinstance(error, UpstreamHTTPError)
    assert (error.kind, error.status) == ("upstream_error", 500)
    assert error.message == f"“{NAME}” answered with an error (HTTP 500): Database unavailable."


def test_it_maps_a_502_html_page_to_an_upstream_error(rsps):
    page = "<html><head><title>502</title></head><body>" + "<p>nginx</p>" * 500 + "</body></html>"
    rsps.post(STATUSES_URL, status=502, body=page, content_type="text/html")

    error = fetch_error()

    assert isinstance(error, UpstreamHTTPError)
    assert error.message == f"“{NAME}” answered with an error (HTTP 502): Bad Gateway."
    assert "<" not in error.message


def test_it_keeps_control_characters_of_a_reason_phrase_out_of_the_message():
    answer = b"HTTP/1.1 502 Bad\x00Gate\x1bway\r\nContent-Length: 0\r\n\r\n"
    with answering(answer) as url:
        error = fetch_error(statuses_url=url)

    assert error.message == f"“{NAME}” answered with an error (HTTP 502): Bad Gate way."


def test_it_shortens_a_long_upstream_detail(rsps):
    rsps.post(STATUSES_URL, status=500, json={"message": "x" * 5000})

    error = fetch_error()

    assert len(error.message) < 300
    assert error.message.endswith("….")


def test_it_maps_a_refused_connection_to_unreachable():
    with socket.socket() as probe:  # a loopback port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    error = fetch_error(statuses_url=f"http://127.0.0.1:{port}/jobs/statuses")

    assert isinstance(error, Unreachable)
    assert (error.kind, error.status) == ("unreachable", None)
    assert error.message == f"Could not reach “{NAME}” at 127.0.0.1:{port}: the connection was refused."


def test_it_maps_an_unknown_host_to_unreachable(rsps):
    resolution = urllib3.exceptions.NameResolutionError(
        "immuta.example.com",
        None,  # type: ignore[arg-type]  # the connection is not read when the error is mapped
        socket.gaierror(-2, "unknown"),
    )
    rsps.post(
        STATUSES_URL,
        body=requests.ConnectionError(
            urllib3.exceptions.MaxRetryError(None, STATUSES_URL, resolution)  # type: ignore[arg-type]
        ),
    )

    error = fetch_error()

    assert isinstance(error, Unreachable)
    assert error.message == (
        f"Could not reach “{NAME}” at immuta.example.com:443: the host name could not be resolved."
    )


def test_it_maps_a_read_timeout_to_timed_out():
    with socket.socket() as server:  # accepts connections, never answers
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        error = fetch_error(statuses_url=f"http://127.0.0.1:{port}/jobs/statuses", timeout=0.2)

    assert isinstance(error, TimedOut)
    assert (error.kind, error.message) == ("timed_out", f"“{NAME}” did not answer within 0.2 s.")


@pytest.mark.parametrize(
    ("exception", "seconds"),
    [(requests.ConnectTimeout("connect"), "5"), (requests.ReadTimeout("read"), "12")],
)
def test_it_names_the_limit_that_ran_out(rsps, exception, seconds):
    rsps.post(STATUSES_URL, body=exception)

    error = fetch_error(timeout=12)

    assert isinstance(error, TimedOut)
    assert error.message == f"“{NAME}” did not answer within {seconds} s."


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{not json", "it is not JSON"),
        ("", "it is not JSON"),
        ('["a", "b"]', "it is a JSON list, not an object"),
        ('"ok"', "it is a JSON string, not an object"),
        ("[" * 5000 + "]" * 5000, "it is nested too deep to read"),
    ],
)
def test_it_maps_an_unreadable_answer_to_a_bad_response(rsps, body, why):
    rsps.post(STATUSES_URL, body=body, content_type="application/json")

    error = fetch_error()

    assert isinstance(error, BadResponse)
    assert (error.kind, error.status) == ("bad_response", 200)
    assert error.message == f"“{NAME}” sent an answer jobsite could not read: {why}."


def test_it_raises_the_failing_batch_error_and_stops(rsps):
    rsps.post(STATUSES_URL, json={})
    rsps.post(STATUSES_URL, status=503)

    with pytest.raises(UpstreamHTTPError) as caught:
        make_client(batch_size=2).fetch([job_id(n) for n in range(6)])

    assert caught.value.status == 503
    assert len(rsps.calls) == 2


def test_it_blanks_out_a_token_that_upstream_echoes(rsps):
    rsps.post(STATUSES_URL, status=500, json={"message": f"bad header Bearer {TOKEN}"})

    error = fetch_error()

    assert TOKEN not in error.message
    assert error.message.endswith("bad header Bearer [token].")


ODD_TOKEN = "k3y/with+odd chars=&é~?"


def b64(text: str, *, url_safe: bool = False, padded: bool = True) -> str:
    encoded = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(text.encode()).decode()
    return encoded if padded else encoded.rstrip("=")


@pytest.mark.parametrize(
    "echoed",
    [
        quote(ODD_TOKEN, safe=""),
        quote(ODD_TOKEN),
        quote_plus(ODD_TOKEN),
        quote(ODD_TOKEN, safe="").lower(),  # some servers write percent-escapes in lower case
        b64(ODD_TOKEN),
        b64(ODD_TOKEN, url_safe=True, padded=False),
        b64(f"user:{ODD_TOKEN}"),  # inside a longer base64 text, at each alignment
        b64(f"Bearer {ODD_TOKEN}"),
        b64(f"xx{ODD_TOKEN}yy", url_safe=True),
    ],
)
def test_it_blanks_out_a_token_echoed_url_encoded_or_in_base64(rsps, echoed):
    rsps.post(STATUSES_URL, status=500, json={"message": f"bad header {echoed} here"})

    error = fetch_error(token=ODD_TOKEN)

    assert echoed not in error.message
    assert "[token]" in error.message
    assert error.message.startswith(f"“{NAME}” answered with an error (HTTP 500): bad header ")


@pytest.mark.parametrize("auth_method", ["bearer", "raw"])
@pytest.mark.parametrize(
    "failure",
    [
        {"status": 401},
        {"status": 500, "json": {"message": f"token {TOKEN} is bad"}},
        {"status": 200, "body": f"<html>{TOKEN}</html>"},
        {"body": requests.ConnectionError(f"refused for {TOKEN}")},
        {"body": requests.ReadTimeout()},
    ],
)
def test_it_never_logs_or_shows_the_token(rsps, caplog, auth_method, failure):
    caplog.set_level(logging.DEBUG)
    rsps.post(STATUSES_URL, **failure)

    error = fetch_error(auth_method=auth_method)

    assert TOKEN not in error.message
    assert TOKEN not in repr(error)
    assert caplog.records
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_it_logs_one_warning_per_failure_with_name_and_kind(rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="jobsite.upstream.client")
    rsps.post(STATUSES_URL, status=403)

    fetch_error()

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert NAME in warnings[0].getMessage()
    assert "token_rejected" in warnings[0].getMessage()


def test_it_logs_each_request_at_debug_with_its_size_and_duration(rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="jobsite.upstream.client")
    rsps.post(STATUSES_URL, json={})

    make_client(batch_size=2).fetch([job_id(n) for n in range(3)])

    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) == 2
    assert "2 job IDs" in debug[0] and "1 job IDs" in debug[1]
    assert all(" ms" in line for line in debug)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_it_lets_no_other_exception_escape(rsps):
    rsps.post(STATUSES_URL, body=requests.exceptions.ChunkedEncodingError("Connection broken"))

    assert isinstance(fetch_error(), Unreachable)


def test_its_errors_read_as_their_message():
    error = TimedOut("“X” did not answer within 3 s.")

    assert (str(error), error.kind, error.status) == ("“X” did not answer within 3 s.", "timed_out", None)


def test_it_maps_an_answer_that_stalls_midway_to_timed_out():
    done = threading.Event()

    def serve_headers_then_stall(server: socket.socket) -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            done.wait(5)

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        thread = threading.Thread(target=serve_headers_then_stall, args=(server,))
        thread.start()
        try:
            error = fetch_error(statuses_url=f"http://127.0.0.1:{server.getsockname()[1]}/jobs/statuses", timeout=0.2)
        finally:
            done.set()
            thread.join()

    assert isinstance(error, TimedOut)
