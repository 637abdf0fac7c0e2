"""The one HTTP wrapper for all upstream traffic: `POST /jobs/statuses`, batched and typed.

Every requests exception and every non-2xx answer becomes an `UpstreamError` (errors.py); nothing
else escapes `StatusesClient.fetch`. Tokens are never logged and never put in a message.
"""

from __future__ import annotations

import http.client
import logging
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from jobsite.upstream.errors import (
    BadResponse,
    TimedOut,
    TokenRejected,
    Unreachable,
    UpstreamError,
    UpstreamHTTPError,
)
from jobsite.upstream.models import AuthMethod
from jobsite.upstream.states import normalize_state

if TYPE_CHECKING:
    from jobsite.upstream.models import Connection

logger = logging.getLogger(__name__)

STATUSES_PATH = "/jobs/statuses"
EXCHANGE_PATH = "/bim/apikey/authenticate"
SIMULATOR_HEADER = "X-Jobsite-Simulator"
POOL_SIZE = 10  # sockets kept alive per upstream host, shared by the threads of one process
MAX_CONNECT_TIMEOUT = 5.0  # a host that takes longer to accept a connection is down in practice
MAX_DETAIL = 200  # characters of upstream-provided detail shown in a message
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _user_agent() -> str:
    try:
        version = metadata.version("jobsite")
    except metadata.PackageNotFoundError:  # run from a checkout that was never pip-installed
        version = "dev"
    return f"jobsite/{version}"


USER_AGENT = _user_agent()


@dataclass(frozen=True)
class ReportedJob:
    id: str
    # A string (maybe not one of the seven: the caller shows it as unknown) or None if unreadable.
    state: str | None
    output: Any  # as sent: a string, None or any JSON value


@dataclass(frozen=True)
class StatusesAnswer:
    # Only jobs upstream reported with an object; a requested ID absent here is "not found".
    jobs: dict[str, ReportedJob]
    from_simulator: bool  # some answer carried the X-Jobsite-Simulator header


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    kind: str  # "ok" or an UpstreamError.kind
    message: str


def _clean_job_ids(job_ids: Iterable[str]) -> list[str]:
    """Lower-case, drop repeats (first wins) and non-UUIDs: upstream declares jobIds unique GUIDs."""
    cleaned = (str(job_id).strip().lower() for job_id in job_ids)
    return list(dict.fromkeys(job_id for job_id in cleaned if _UUID.fullmatch(job_id)))


def _new_session() -> requests.Session:
    """Keep-alive sockets pooled per host. No automatic retries: a retry would hide a slow or
    failing upstream from the analyst and multiply the load on it."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: requests and urllib3 nest the socket error deep."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = (getattr(current, "reason", None), current.__cause__, current.__context__, *current.args)
        pending.extend(item for item in wrapped if isinstance(item, BaseException))


def _wraps(error: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    return any(isinstance(cause, kinds) for cause in _causes(error))


# First match wins: the most specific explanation for an analyst or admin.
_REASONS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((socket.gaierror, urllib3.exceptions.NameResolutionError), "the host name could not be resolved"),
    ((ConnectionRefusedError,), "the connection was refused"),
    ((ConnectionResetError,), "the connection was reset"),
    ((ssl.SSLCertVerificationError,), "its TLS certificate could not be verified"),
    ((ssl.SSLError, requests.exceptions.SSLError), "the TLS handshake failed"),
    ((requests.exceptions.ProxyError,), "the proxy refused the connection"),
    (
        (
            http.client.RemoteDisconnected,
            urllib3.exceptions.ProtocolError,
            requests.exceptions.ChunkedEncodingError,
        ),
        "the connection closed before a full answer",
    ),
)


def _short_reason(error: requests.RequestException) -> str:
    for kinds, reason in _REASONS:
        if _wraps(error, kinds):
            return reason
    return f"the request failed ({type(error).__name__})"


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {dict: "object", list: "list", str: "string", type(None): "null"}.get(type(value), "value")


class StatusesClient:
    """Speaks `/jobs/statuses` for one connection. Safe to share between threads."""

    def __init__(
        self,
        *,
        name: str,
        statuses_url: str,
        token: str,
        auth_method: str,
        timeout: float,
        batch_size: int,
        session: requests.Session | None = None,
    ) -> None:
        if auth_method not in AuthMethod.values:
            raise ValueError(f"auth_method must be one of {', '.join(AuthMethod.values)}")
        if batch_size < 1 or timeout <= 0:
            raise ValueError("batch_size must be at least 1 and timeout above 0")
        self.name = name
        self.statuses_url = statuses_url
        self.auth_method = auth_method
        self.timeout = float(timeout)
        self.batch_size = batch_size
        self._token = token
        self._session = session or _new_session()
        self._exchange_url = statuses_url.removesuffix(STATUSES_PATH) + EXCHANGE_PATH
        self._exchanged: str | None = None  # bearer token from the API key exchange
        self._exchange_lock = threading.Lock()
        parts = urlsplit(statuses_url)
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
        self._address = f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"

    def fetch(self, job_ids: Iterable[str], *, wait: int = 0, poll_interval: int = 1) -> StatusesAnswer:
        """Ask upstream for these jobs, at most `batch_size` IDs per request.

        IDs are lower-cased, repeats and non-UUIDs dropped; no IDs, no request. With `wait` > 0
        upstream may hold each request that long while jobs run, so the read timeout grows by
        `wait`; batches go one after another. `wait=-1` (hold until every job ends) is refused:
        the site never holds a request indefinitely. Batches stop at the first failure and that
        batch's error is raised, since a partial answer would make the rest look "not found".
        """
        if wait < 0:
            raise ValueError("wait must be 0 or more seconds: jobsite never holds a request indefinitely")
        if poll_interval < 1:
            raise ValueError("poll_interval must be at least 1 second")
        ids = _clean_job_ids(job_ids)
        wait, poll_interval = int(wait), int(poll_interval)  # the contract's types, explicitly
        jobs: dict[str, ReportedJob] = {}
        from_simulator = False
        try:
            for start in range(0, len(ids), self.batch_size):
                batch = ids[start : start + self.batch_size]
                reported, simulated = self._fetch_batch(batch, wait=wait, poll_interval=poll_interval)
                jobs.update(reported)
                from_simulator = from_simulator or simulated
        except UpstreamError as error:
            logger.warning("Upstream “%s” failed: %s (HTTP %s)", self.name, error.kind, error.status)
            raise
        return StatusesAnswer(jobs=jobs, from_simulator=from_simulator)

    def check(self) -> CheckResult:
        """Ask once about a random job ID: proves address, token and contract together. Never raises."""
        started = time.perf_counter()
        try:
            answer = self.fetch([str(uuid.uuid4())])
        except UpstreamError as error:
            return CheckResult(ok=False, kind=error.kind, message=error.message)
        elapsed = round((time.perf_counter() - started) * 1000)
        if answer.from_simulator:
            message = f"Connected to the jobsite simulator, not Immuta: it answered in {elapsed} ms."
        else:
            message = f"Connected: Immuta answered in {elapsed} ms."
        return CheckResult(ok=True, kind="ok", message=message)

    def close(self) -> None:
        self._session.close()

    def _fetch_batch(self, batch: list[str], *, wait: int, poll_interval: int) -> tuple[dict[str, ReportedJob], bool]:
        payload = {"jobIds": batch, "wait": wait, "pollInterval": poll_interval}
        timeout = (min(self.timeout, MAX_CONNECT_TIMEOUT), self.timeout + wait)
        label = f"statuses request for {len(batch)} job IDs"
        authorization = self._authorization()
        retry_401 = self.auth_method == AuthMethod.EXCHANGE
        response = self._post(self.statuses_url, payload, timeout, authorization, label, allow_401=retry_401)
        if response.status_code == 401:
            # An exchanged token is used until upstream refuses it; then exchange again, once.
            authorization = self._authorization(refused=authorization)
            response = self._post(self.statuses_url, payload, timeout, authorization, label)
        return self._read_jobs(response, batch), SIMULATOR_HEADER in response.headers

    def _authorization(self, *, refused: str | None = None) -> str:
        """The Authorization header; `refused` is the one upstream just answered 401 to."""
        if self.auth_method == AuthMethod.RAW:
            return self._token
        if self.auth_method == AuthMethod.BEARER:
            return f"Bearer {self._token}"
        with self._exchange_lock:
            # Another thread may have exchanged since `refused` was sent: then use its token.
            if self._exchanged is None or refused == f"Bearer {self._exchanged}":
                self._exchanged = self._exchange()
            return f"Bearer {self._exchanged}"

    def _exchange(self) -> str:
        """Trade the API key for a bearer token. Immuta gives it no expiry: it lasts until a 401."""
        timeout = (min(self.timeout, MAX_CONNECT_TIMEOUT), self.timeout)
        response = self._post(self._exchange_url, {"apikey": self._token}, timeout, None, "API key exchange")
        token = self._json_object(response).get("token")
        if not isinstance(token, str) or not token:
            why = "the API key exchange gave no token"
            raise BadResponse(self._unreadable(why), status=response.status_code)
        return token

    def _post(
        self,
        url: str,
        payload: dict[str, Any],
        timeout: tuple[float, float],
        authorization: str | None,
        label: str,
        *,
        allow_401: bool = False,
    ) -> requests.Response:
        """POST JSON; any failure becomes a typed error, except a 401 when the caller can retry it.

        Redirects are not followed: a redirected POST turns into a GET and, across hosts, loses
        its token; the admin should fix the base URL instead.
        """
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
        if authorization is not None:
            headers["Authorization"] = authorization
        started = time.perf_counter()
        outcome = "no answer"
        try:
            response = self._session.post(url, json=payload, headers=headers, timeout=timeout, allow_redirects=False)
            outcome = f"HTTP {response.status_code}"
        except requests.RequestException as error:
            raise self._error_for(error, timeout) from error
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            logger.debug("%s to “%s”: %s in %.0f ms", label, self.name, outcome, elapsed)
        if not 200 <= response.status_code < 300 and not (allow_401 and response.status_code == 401):
            raise self._error_for(response, timeout)
        return response

    def _error_for(
        self,
        failure: requests.Response | requests.RequestException,
        timeout: tuple[float, float],
    ) -> UpstreamError:
        """The one mapping from a failed request (a non-2xx answer or an exception) to a typed error."""
        if isinstance(failure, requests.Response):
            status = failure.status_code
            if status in (401, 403):
                return TokenRejected(
                    f"Immuta rejected the API token for “{self.name}” (HTTP {status}). "
                    "An admin can update it in Connections.",
                    status=status,
                )
            return UpstreamHTTPError(
                f"“{self.name}” answered with an error (HTTP {status}): {self._detail(failure)}.",
                status=status,
            )
        # A read that times out mid-body arrives as a ConnectionError wrapping urllib3's timeout.
        # (Not urllib3's ConnectTimeoutError: a refused connection is one of those too.)
        if isinstance(failure, requests.Timeout) or _wraps(failure, urllib3.exceptions.ReadTimeoutError):
            limit = timeout[0] if isinstance(failure, requests.ConnectTimeout) else timeout[1]
            return TimedOut(f"“{self.name}” did not answer within {limit:g} s.")
        return Unreachable(f"Could not reach “{self.name}” at {self._address}: {_short_reason(failure)}.")

    def _detail(self, response: requests.Response) -> str:
        """Immuta's `message` from a JSON error body, else the reason phrase; never an HTML page."""
        try:
            body = response.json()
        except ValueError:
            body = None
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message.strip():
            message = response.reason or "no details"
        detail = " ".join(self._scrub(message).split()).rstrip(".")
        return detail if len(detail) <= MAX_DETAIL else detail[: MAX_DETAIL - 1] + "…"

    def _json_object(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise BadResponse(self._unreadable("it is not JSON"), status=response.status_code) from None
        if not isinstance(body, dict):
            why = f"it is a JSON {_json_type(body)}, not an object"
            raise BadResponse(self._unreadable(why), status=response.status_code)
        return body

    def _read_jobs(self, response: requests.Response, batch: list[str]) -> dict[str, ReportedJob]:
        """Requested jobs reported with an object; null means not found, other keys are ignored."""
        requested = set(batch)
        jobs: dict[str, ReportedJob] = {}
        for key, entry in self._json_object(response).items():
            job_id = key.lower()
            if job_id not in requested or entry is None:
                continue
            if not isinstance(entry, dict):
                why = f"the entry for job {job_id} is a {_json_type(entry)}, not an object or null"
                raise BadResponse(self._unreadable(why), status=response.status_code)
            jobs[job_id] = ReportedJob(id=job_id, state=normalize_state(entry.get("state")), output=entry.get("output"))
        return jobs

    def _unreadable(self, why: str) -> str:
        return f"“{self.name}” sent an answer jobsite could not read: {why}."

    def _scrub(self, text: str) -> str:
        """Upstream-provided text with any token blanked out, in case upstream echoes one."""
        for secret in (self._token, self._exchanged):
            if secret:
                text = text.replace(secret, "[token]")
        return text


_clients: dict[int, tuple[tuple[Any, ...], StatusesClient]] = {}
_clients_lock = threading.Lock()


def _build_client(connection: Connection) -> StatusesClient:
    return StatusesClient(
        name=connection.name,
        statuses_url=connection.statuses_url,
        token=connection.token,
        auth_method=connection.auth_method,
        timeout=connection.timeout,
        batch_size=connection.batch_size,
    )


def client_for(connection: Connection) -> StatusesClient:
    """The shared client of this connection, so pooled sockets and exchanged tokens are reused
    across requests and threads; rebuilt when an admin changed the connection."""
    if connection.pk is None:
        return _build_client(connection)
    fingerprint = (
        connection.updated_at,
        connection.name,
        connection.statuses_url,
        connection.token,  # decrypted: sealing the same token twice gives different text
        connection.auth_method,
        connection.timeout,
        connection.batch_size,
    )
    with _clients_lock:
        cached = _clients.get(connection.pk)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        client = _build_client(connection)
        _clients[connection.pk] = (fingerprint, client)
    if cached is not None:
        cached[1].close()  # requests in flight on it still finish; its idle sockets are freed
    return client
