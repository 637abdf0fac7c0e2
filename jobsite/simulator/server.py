"""The simulator's HTTP side: Immuta's `POST /jobs/statuses`, its API key exchange, fault modes
for tests and a small `/simulator/` control API, on a stdlib threading server.

Every answer carries `X-Jobsite-Simulator: 1` so that the site can tell it is not Immuta.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
import secrets
import socket
import socketserver
import struct
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from jobsite.simulator.demo import DEMO_JOBS
from jobsite.simulator.engine import LIFECYCLES, STATES, JobSnapshot, JobStore

logger = logging.getLogger(__name__)

FAULT_MODES: tuple[str, ...] = (
    "error_500",
    "bad_gateway_html",
    "unauthorized",
    "slow",
    "reset",
    "malformed_json",
    "unknown_state",
)
SIMULATOR_HEADER = "X-Jobsite-Simulator"
UNKNOWN_STATE = "paused"  # what the unknown_state fault reports: a string outside the seven
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_SUBMIT = 1000  # jobs per control request
STOP_GRACE_SECONDS = 2.0  # how long stop() lets handlers finish their answers
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class Simulator:
    """An Immuta-compatible `/jobs/statuses` server, run in a background thread.

    `speed`: seconds per lifecycle tick. `time_scale` multiplies the `wait` and `pollInterval`
    seconds that clients send (1.0 is contract-exact; tests shrink it). `slow_seconds`: how long the
    `slow` fault holds a request. Exchanged tokens stop working after `exchanged_token_ttl` seconds.
    """

    def __init__(
        self,
        *,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        exchanged_token_ttl: float = 3600.0,
        demo_jobs: bool = False,
        time_scale: float = 1.0,
        slow_seconds: float = 30.0,
    ) -> None:
        if not token:
            raise ValueError("token must not be empty")
        if not time_scale > 0 or slow_seconds < 0 or exchanged_token_ttl < 0:
            raise ValueError("time_scale must be above 0; slow_seconds and the token ttl 0 or more")
        self.token = token
        self.host = host
        self.port = port
        self.time_scale = float(time_scale)
        self.slow_seconds = float(slow_seconds)
        self.engine = JobStore(speed=speed)
        self._demo_jobs = demo_jobs
        self._exchanged_token_ttl = exchanged_token_ttl
        self._exchanged: dict[str, float] = {}  # token -> monotonic expiry
        self._fault: str | None = None
        self._fault_left: int | None = None  # None: until cleared
        self._stats = _zero_stats()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        """Listen and serve in a daemon thread; demo jobs (if asked for) start their timelines now."""
        if self._server is not None:
            raise RuntimeError("a Simulator starts once")
        self._server = _Server(self)
        self.port = self._server.server_address[1]
        if self._demo_jobs:
            for job in DEMO_JOBS:
                self.engine.add(job.id, job.lifecycle, output=job.output, delay=job.delay, name=job.name)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="simulator", daemon=True
        ).start()
        logger.debug("Simulator listening on %s", self.url)

    def stop(self) -> None:
        """Stop serving and close every connection; requests held by wait or slow end at once, with
        a 503."""
        if self._server is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._server.shutdown()  # accepts no more connections
        self._server.close_connections()
        self._server.server_close()
        logger.debug("Simulator on %s stopped", self.url)

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def submit(self, lifecycle: str = "succeed", count: int = 1, output: Any = None) -> list[str]:
        return self.engine.submit(lifecycle, count=count, output=output)

    def set_state(self, job_id: str, state: str, output: Any = None) -> None:
        self.engine.set_state(job_id, state, output=output)

    def set_fault(self, mode: str, count: int | None = None) -> None:
        """Misbehave on `/jobs/statuses`: for the next `count` requests, or until cleared."""
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {', '.join(FAULT_MODES)}")
        if count is not None and (type(count) is not int or count < 1):
            raise ValueError("count must be None or a whole number of at least 1")
        with self._lock:
            self._fault, self._fault_left = mode, count

    def clear_fault(self) -> None:
        with self._lock:
            self._fault, self._fault_left = None, None

    def stats(self) -> dict[str, int]:
        with self._lock:
            return dict(self._stats)

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = _zero_stats()

    # Called by request handlers.

    def _count(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._stats[name] += by

    def _take_fault(self) -> str | None:
        """The fault for this statuses request, used up if it was counted."""
        with self._lock:
            fault = self._fault
            if self._fault_left is not None:
                self._fault_left -= 1
                if self._fault_left == 0:
                    self._fault, self._fault_left = None, None
            return fault

    def _exchange(self, apikey: Any) -> str | None:
        """A new bearer token for the right API key, else None."""
        if not (isinstance(apikey, str) and hmac.compare_digest(apikey.encode(), self.token.encode())):
            return None
        token = secrets.token_hex(24)
        now = time.monotonic()
        with self._lock:
            self._exchanged = {known: until for known, until in self._exchanged.items() if until > now}
            self._exchanged[token] = now + self._exchanged_token_ttl
        return token

    def _authorized(self, header: str | None) -> bool:
        """The three forms Immuta accepts: `Bearer <API key>`, the raw API key, `Bearer <exchanged>`."""
        if not header:
            return False
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != "bearer" or not credential:
            return hmac.compare_digest(header.encode(), self.token.encode())
        credential = credential.strip()
        if hmac.compare_digest(credential.encode(), self.token.encode()):
            return True
        with self._lock:
            until = self._exchanged.get(credential)
        return until is not None and time.monotonic() < until


def _zero_stats() -> dict[str, int]:
    return {"statuses_requests": 0, "job_ids_requested": 0, "exchange_requests": 0}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, simulator: Simulator) -> None:
        if ":" in simulator.host:
            self.address_family = socket.AF_INET6
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_changed = threading.Condition()
        super().__init__((simulator.host, simulator.port), _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the host, which can stall a start."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.simulator.host, self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_changed:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self._connections_changed:
            self._connections.discard(request)
            self._connections_changed.notify_all()

    def close_connections(self) -> None:
        """Wait for every connection to close, once no new ones are accepted.

        A keep-alive connection waiting for its next request sees end of file, while a handler that
        is answering can still write its answer; any that linger past a grace period are cut.
        """
        with self._connections_changed:
            for connection in self._connections:
                _shut(connection, socket.SHUT_RD)
            if not self._connections_changed.wait_for(lambda: not self._connections, STOP_GRACE_SECONDS):
                for connection in self._connections:
                    _shut(connection, socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-answer is routine (tests time out on purpose); anything else is a bug."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            logger.debug("Simulator: the client at %s hung up", client_address[0])
        else:
            logger.exception("Simulator: a request from %s failed", client_address[0])


def _shut(connection: socket.socket, how: int) -> None:
    with contextlib.suppress(OSError):  # already closed
        connection.shutdown(how)


class _HTTPError(Exception):
    def __init__(self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class _Stopping(Exception):
    """The simulator is stopping while it holds a request."""


def _error_body(status: int, message: str) -> dict[str, Any]:
    """Immuta's error shape."""
    return {"statusCode": status, "error": HTTPStatus(status).phrase, "message": message}


def _is_int(value: Any) -> bool:
    return type(value) is int  # bool is an int subclass, and JSON true is no integer


def _job_answer(job: JobSnapshot, state: str) -> dict[str, Any]:
    """One job as `/jobs/statuses` reports it; the fields after `output` are undocumented extras."""
    return {
        "id": job.id,
        "state": state,
        "output": job.output,
        "name": job.name,
        "priority": 0,
        "retryCount": job.retry_count,
        "createdOn": job.created_on.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections
    server_version = "jobsite-simulator"

    @property
    def simulator(self) -> Simulator:
        return self.server.simulator

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        try:
            if self.simulator._stopping.is_set():  # a request that came in on a kept-alive connection
                raise _Stopping
            body = self._read_body()
            for pattern, methods in _ROUTES:
                match = pattern.fullmatch(path)
                if match is None:
                    continue
                handler = methods.get(self.command)
                if handler is None:
                    allowed = ", ".join(methods)
                    message = f"{self.command} {path}: use {allowed}"
                    raise _HTTPError(HTTPStatus.METHOD_NOT_ALLOWED, message, {"Allow": allowed})
                handler(self, body, **match.groupdict())
                return
            raise _HTTPError(HTTPStatus.NOT_FOUND, f"Not found: {path}")
        except _HTTPError as error:
            self._send_json(error.status, _error_body(error.status, error.message), error.headers)
        except _Stopping:
            self.close_connection = True
            self._send_json(
                HTTPStatus.SERVICE_UNAVAILABLE,
                _error_body(HTTPStatus.SERVICE_UNAVAILABLE, "The simulator is stopping"),
            )

    # The contract.

    def _post_statuses(self, body: bytes) -> None:
        self.simulator._count("statuses_requests")
        fault = self.simulator._take_fault()
        if fault == "reset":
            self._reset()
            return
        if fault in _IMMEDIATE_FAULTS:
            _IMMEDIATE_FAULTS[fault](self)
            return
        if fault == "slow":
            self._hold(self.simulator.slow_seconds)
        self._require_auth()
        job_ids, wait, poll_interval = _statuses_payload(_json_object(body))
        self.simulator._count("job_ids_requested", len(job_ids))
        jobs = self._read_until_settled(job_ids, wait=wait, poll_interval=poll_interval)
        self._send_json(
            HTTPStatus.OK,
            {
                job.id: _job_answer(job, state=UNKNOWN_STATE if fault == "unknown_state" else job.state)
                for job in jobs.values()
            },
        )

    def _read_until_settled(self, job_ids: list[str], *, wait: int, poll_interval: int) -> dict[str, JobSnapshot]:
        """Re-read the jobs every pollInterval until all known ones are terminal or `wait` is up."""
        scale = self.simulator.time_scale
        deadline = None if wait == -1 else time.monotonic() + wait * scale
        while True:
            jobs = self.simulator.engine.read(job_ids)
            left = None if deadline is None else deadline - time.monotonic()
            if all(job.terminal for job in jobs.values()) or (left is not None and left <= 0):
                return jobs
            self._hold(poll_interval * scale if left is None else min(poll_interval * scale, left))

    def _post_exchange(self, body: bytes) -> None:
        self.simulator._count("exchange_requests")
        payload = _json_object(body)
        if "apikey" not in payload:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, '"apikey" is required')
        token = self.simulator._exchange(payload["apikey"])
        if token is None:
            raise _HTTPError(HTTPStatus.UNAUTHORIZED, "Invalid API key")
        self._send_json(HTTPStatus.OK, {"authenticated": True, "token": token})

    # Control API, for the demo and for tests in another process.

    def _post_jobs(self, body: bytes) -> None:
        self._require_auth()
        payload = _json_object(body)
        lifecycle = payload.get("lifecycle", "succeed")
        count = payload.get("count", 1)
        if not isinstance(lifecycle, str) or lifecycle not in LIFECYCLES:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f'"lifecycle" must be one of {", ".join(LIFECYCLES)}')
        if not _is_int(count) or not 1 <= count <= MAX_SUBMIT:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f'"count" must be an integer from 1 to {MAX_SUBMIT}')
        job_ids = self.simulator.submit(lifecycle, count=count, output=payload.get("output"))
        self._send_json(HTTPStatus.CREATED, {"jobIds": job_ids})

    def _post_job_state(self, body: bytes, *, job_id: str) -> None:
        self._require_auth()
        payload = _json_object(body)
        state = payload.get("state")
        if state not in STATES:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f'"state" must be one of {", ".join(STATES)}')
        try:
            self.simulator.set_state(job_id, state, output=payload.get("output"))
        except KeyError:
            raise _HTTPError(HTTPStatus.NOT_FOUND, f"No job {job_id}") from None
        self._send_json(HTTPStatus.OK, {"id": job_id.lower(), "state": state})

    def _put_fault(self, body: bytes) -> None:
        self._require_auth()
        payload = _json_object(body)
        mode, count = payload.get("mode"), payload.get("count")
        try:
            # Anything but one of the mode names (a number, null) is refused there with the list.
            self.simulator.set_fault(mode if isinstance(mode, str) else "", count)
        except ValueError as error:
            raise _HTTPError(HTTPStatus.BAD_REQUEST, str(error)) from None
        self._send_json(HTTPStatus.OK, {"mode": mode, "count": count})

    def _delete_fault(self, body: bytes) -> None:
        self._require_auth()
        self.simulator.clear_fault()
        self._send_json(HTTPStatus.OK, {"mode": None, "count": None})

    def _get_stats(self, body: bytes) -> None:
        self._require_auth()
        self._send_json(HTTPStatus.OK, self.simulator.stats())

    # Faults.

    def _fail_500(self) -> None:
        self._send_json(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            _error_body(HTTPStatus.INTERNAL_SERVER_ERROR, "An internal server error occurred"),
        )

    def _fail_bad_gateway(self) -> None:
        self._send(HTTPStatus.BAD_GATEWAY, _BAD_GATEWAY_PAGE, "text/html")

    def _fail_unauthorized(self) -> None:
        self._send_json(HTTPStatus.UNAUTHORIZED, _error_body(HTTPStatus.UNAUTHORIZED, "Invalid token"))

    def _fail_malformed(self) -> None:
        self._send(HTTPStatus.OK, b'{"jobs": [', "application/json; charset=utf-8")

    def _reset(self) -> None:
        """Close with a TCP reset and no answer, as a crashing proxy does."""
        logger.debug("Simulator %s %s -> connection reset", self.command, self.path)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    # Plumbing.

    def _hold(self, seconds: float) -> None:
        if self.simulator._stopping.wait(seconds):
            raise _Stopping

    def _require_auth(self) -> None:
        if not self.simulator._authorized(self.headers.get("Authorization")):
            raise _HTTPError(HTTPStatus.UNAUTHORIZED, "Missing or invalid token")

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise _HTTPError(HTTPStatus.LENGTH_REQUIRED, "Send the body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.close_connection = True
            raise _HTTPError(HTTPStatus.BAD_REQUEST, f"Content-Length must be from 0 to {MAX_BODY_BYTES}")
        return self.rfile.read(length)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.simulator._stopping.is_set():
            self.close_connection = True
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header(SIMULATOR_HEADER, "1")
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the base class raises itself (a bad request line, an unsupported method)."""
        self.close_connection = True
        self._send_json(code, _error_body(code, message or HTTPStatus(code).phrase))

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request line holds no secret: tokens travel in headers and bodies only.
        logger.debug("Simulator %s %s -> %s", self.command, self.path, int(code))

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("Simulator: " + format, *args)


_IMMEDIATE_FAULTS: dict[str, Callable[[_Handler], None]] = {
    "error_500": _Handler._fail_500,
    "bad_gateway_html": _Handler._fail_bad_gateway,
    "unauthorized": _Handler._fail_unauthorized,
    "malformed_json": _Handler._fail_malformed,
}

_ROUTES: tuple[tuple[re.Pattern[str], dict[str, Callable[..., None]]], ...] = (
    (re.compile(r"/jobs/statuses"), {"POST": _Handler._post_statuses}),
    (re.compile(r"/bim/apikey/authenticate"), {"POST": _Handler._post_exchange}),
    (re.compile(r"/simulator/jobs"), {"POST": _Handler._post_jobs}),
    (re.compile(r"/simulator/jobs/(?P<job_id>[^/]+)/state"), {"POST": _Handler._post_job_state}),
    (re.compile(r"/simulator/fault"), {"PUT": _Handler._put_fault, "DELETE": _Handler._delete_fault}),
    (re.compile(r"/simulator/stats"), {"GET": _Handler._get_stats}),
)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise _HTTPError(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise _HTTPError(HTTPStatus.BAD_REQUEST, "The request body must be a JSON object")
    return payload


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _statuses_payload(payload: dict[str, Any]) -> tuple[list[str], int, int]:
    """jobIds, wait and pollInterval, checked as Immuta's published schema declares them."""

    def bad(message: str) -> _HTTPError:
        return _HTTPError(HTTPStatus.BAD_REQUEST, message)

    if "jobIds" not in payload:
        raise bad('"jobIds" is required')
    job_ids = payload["jobIds"]
    if not isinstance(job_ids, list):
        raise bad('"jobIds" must be an array')
    if not job_ids:
        raise bad('"jobIds" must contain at least 1 items')
    seen: set[str] = set()
    for index, job_id in enumerate(job_ids):
        if not isinstance(job_id, str):
            raise bad(f'"jobIds[{index}]" must be a string')
        if not _GUID.fullmatch(job_id):
            raise bad(f'"jobIds[{index}]" must be a valid GUID')
        if job_id.lower() in seen:
            raise bad(f'"jobIds[{index}]" contains a duplicate value')
        seen.add(job_id.lower())
    wait = payload.get("wait", 0)
    if not _is_int(wait) or wait < -1:
        raise bad('"wait" must be an integer greater than or equal to -1')
    poll_interval = payload.get("pollInterval", 1)
    if not _is_int(poll_interval) or poll_interval < 1:
        raise bad('"pollInterval" must be an integer greater than or equal to 1')
    return job_ids, wait, poll_interval
