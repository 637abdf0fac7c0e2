"""The one HTTP wrapper for all upstream traffic: `POST /jobs/statuses`, batched and typed.

Every requests exception and every non-2xx answer becomes an `UpstreamError` (errors.py); nothing
else escapes `StatusesClient.fetch`. Tokens are never logged and never put in a message. A call
ends by its deadline however upstream paces its bytes, and reads at most `MAX_ANSWER_BYTES`;
answers.py turns what it read into entries both databases can store.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import logging
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from jobsite.upstream import states
from jobsite.upstream.answers import ReportedJob, Unreadable, decode_object, read_statuses
from jobsite.upstream.errors import (
    BadResponse,
    TimedOut,
    TokenRejected,
    Unreachable,
    UpstreamError,
    UpstreamHTTPError,
)
from jobsite.upstream.models import AuthMethod

if TYPE_CHECKING:
    from jobsite.upstream.models import Connection

logger = logging.getLogger(__name__)

STATUSES_PATH = "/jobs/statuses"
EXCHANGE_PATH = "/bim/apikey/authenticate"
SIMULATOR_HEADER = "X-Jobsite-Simulator"
POOL_SIZE = 10  # sockets kept alive per upstream host, shared by the threads of one process
MAX_CONNECT_TIMEOUT = 5.0  # a host that takes longer to accept a connection is down in practice
MAX_DETAIL = 200  # characters of upstream-provided detail shown in a message
MAX_ANSWER_BYTES = 32 * 1024 * 1024  # of one answer's body, decompressed: past it, a BadResponse
MAX_ERROR_BODY_BYTES = 64 * 1024  # of an error answer's body: Immuta's message is short
READ_CHUNK_BYTES = 64 * 1024  # decompressed bytes read at a time (urllib3 inflates no more per read)
MIN_BASE64_CORE = 8  # shorter runs of base64 turn up in ordinary text by chance: not scrubbed
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750: what a Bearer header can carry
# A reason phrase may hold them (NUL, which PostgreSQL refuses, among them); a message never does.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _user_agent() -> str:
    try:
        version = metadata.version("jobsite")
    except metadata.PackageNotFoundError:  # run from a checkout that was never pip-installed
        version = "dev"
    return f"jobsite/{version}"


USER_AGENT = _user_agent()


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


@dataclass(frozen=True)
class _Reply:
    """An HTTP answer read whole; `body` is None when it was larger than the reader's limit."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes | None


_current_deadline: ContextVar[_Deadline | None] = ContextVar("upstream_deadline", default=None)


class _Deadline:
    """Ends a call when its time is up, however upstream paces its bytes.

    A read timeout starts again with every byte that arrives, so an answer trickled a byte at a
    time never trips it. Instead a timer shuts down the sockets the call took from the pool
    (`_WatchedHTTPPool`), which ends the read waiting on them at once.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._connections: list[HTTPConnection] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._context = _current_deadline.set(self)
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _current_deadline.reset(self._context)

    def watch(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            if self.expired:
                _shut_down(connection)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for connection in self._connections:
                _shut_down(connection)


def _shut_down(connection: HTTPConnection) -> None:
    if connection.sock is not None:  # None while connecting, which the connect timeout bounds
        with contextlib.suppress(OSError):
            connection.sock.shutdown(socket.SHUT_RDWR)


def _watched(connection: Any) -> Any:
    deadline = _current_deadline.get()
    if deadline is not None:
        deadline.watch(connection)
    return connection


class _WatchedHTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _watched(super()._get_conn(timeout))


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _watched(super()._get_conn(timeout))


class _DeadlineAdapter(HTTPAdapter):
    """An adapter whose pools hand each connection to the deadline of the call that takes it."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, urllib3.ProxyManager):  # not a SOCKS proxy: those pool their own way
            manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
        return manager


def _read_at_most(response: requests.Response, limit: int, deadline: _Deadline) -> bytes | None:
    """The decompressed body, read in chunks so that neither its size nor a gzip bomb can outgrow
    `limit` (None past it); stops early when the deadline has shut the connection."""
    body = bytearray()
    for chunk in response.iter_content(READ_CHUNK_BYTES):
        body += chunk
        if len(body) > limit:
            return None
        if deadline.expired:
            break
    return bytes(body)


_URL_SAFE_BASE64 = str.maketrans("+/", "-_")


def _encoded_forms(secret: str) -> list[str]:
    """How a token may come back in upstream's text, longest first: as it is; URL-encoded (either
    case of hex, a space as %20 or +); in base64, standard or URL-safe, even inside a longer base64
    text (say of "user:token"): there, at each of the three alignments, the characters that only
    the token's own bytes decide."""
    quoted = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    lower_hex = {re.sub("%[0-9A-F]{2}", lambda match: match.group().lower(), form) for form in quoted}
    forms = {secret, *quoted, *lower_hex}
    raw = secret.encode()
    for offset in range(3):
        encoded = base64.b64encode(bytes(offset) + raw).decode()
        # A character holds 6 bits: skip those mixing in the bytes before the token or after it.
        core = encoded[-(-8 * offset // 6) : 8 * (offset + len(raw)) // 6]
        if len(core) >= MIN_BASE64_CORE:
            forms.update({core, core.translate(_URL_SAFE_BASE64)})
    return sorted(forms, key=len, reverse=True)


def _new_session() -> requests.Session:
    """Keep-alive sockets pooled per host. No automatic retries: a retry would hide a slow or
    failing upstream from the analyst and multiply the load on it."""
    session = requests.Session()
    adapter = _DeadlineAdapter(pool_maxsize=POOL_SIZE, max_retries=0)
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
        upstream may hold each request that long while jobs run, so each request's deadline grows
        by `wait`; batches go one after another. `wait=-1` (hold until every job ends) is refused:
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
        seconds = self.timeout + wait
        label = f"statuses request for {len(batch)} job IDs"
        authorization = self._authorization()
        retry_401 = self.auth_method == AuthMethod.EXCHANGE
        reply = self._post(self.statuses_url, payload, seconds, authorization, label, allow_401=retry_401)
        if reply.status == 401:
            # An exchanged token is used until upstream refuses it; then exchange again, once.
            authorization = self._authorization(refused=authorization)
            reply = self._post(self.statuses_url, payload, seconds, authorization, label)
        return self._read_jobs(reply, batch), SIMULATOR_HEADER in reply.headers

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
        reply = self._post(self._exchange_url, {"apikey": self._token}, self.timeout, None, "API key exchange")
        token = self._json_object(reply).get("token")
        if not isinstance(token, str) or not _BEARER_TOKEN.fullmatch(token):
            why = "the API key exchange gave no token"
            raise BadResponse(self._unreadable(why), status=reply.status)
        return token

    def _post(
        self,
        url: str,
        payload: dict[str, Any],
        seconds: float,
        authorization: str | None,
        label: str,
        *,
        allow_401: bool = False,
    ) -> _Reply:
        """POST JSON and read the answer whole within `seconds` in all, connecting included (at
        most MAX_CONNECT_TIMEOUT of it). Any failure becomes a typed error, except a 401 when the
        caller can retry it.

        Redirects are not followed: a redirected POST turns into a GET and, across hosts, loses
        its token; the admin should fix the base URL instead.
        """
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
        if authorization is not None:
            headers["Authorization"] = authorization
        timeout = (min(self.timeout, MAX_CONNECT_TIMEOUT), seconds)
        started = time.perf_counter()
        outcome = "no answer"
        deadline = _Deadline(seconds)
        try:
            with (
                deadline,
                self._session.post(
                    url, json=payload, headers=headers, timeout=timeout, allow_redirects=False, stream=True
                ) as response,
            ):
                outcome = f"HTTP {response.status_code}"
                ok = 200 <= response.status_code < 300
                body = _read_at_most(response, MAX_ANSWER_BYTES if ok else MAX_ERROR_BODY_BYTES, deadline)
        except UnicodeEncodeError:  # http.client sends header values as Latin-1
            raise TokenRejected(
                f"The API token for “{self.name}” has characters an HTTP header cannot carry. "
                "An admin can update it in Connections."
            ) from None
        except requests.RequestException as error:
            raise self._error_for(error, timeout, expired=deadline.expired) from error
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            logger.debug("%s to “%s”: %s in %.0f ms", label, self.name, outcome, elapsed)
        if deadline.expired:  # the shut-down socket may have looked like the end of the body
            raise TimedOut(f"“{self.name}” did not answer within {seconds:g} s.")
        reply = _Reply(status=response.status_code, reason=response.reason, headers=response.headers, body=body)
        if not ok and not (allow_401 and reply.status == 401):
            raise self._error_for(reply, timeout)
        if body is None:
            why = f"it is larger than {MAX_ANSWER_BYTES // 2**20} MB (a smaller batch size would help)"
            raise BadResponse(self._unreadable(why), status=reply.status)
        return reply

    def _error_for(
        self,
        failure: _Reply | requests.RequestException,
        timeout: tuple[float, float],
        *,
        expired: bool = False,
    ) -> UpstreamError:
        """The one mapping from a failed request (a non-2xx answer or an exception) to a typed
        error; `expired` when the call's deadline cut it short."""
        if isinstance(failure, _Reply):
            status = failure.status
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
        if expired or isinstance(failure, requests.Timeout) or _wraps(failure, urllib3.exceptions.ReadTimeoutError):
            limit = timeout[0] if isinstance(failure, requests.ConnectTimeout) else timeout[1]
            return TimedOut(f"“{self.name}” did not answer within {limit:g} s.")
        return Unreachable(f"Could not reach “{self.name}” at {self._address}: {_short_reason(failure)}.")

    def _detail(self, reply: _Reply) -> str:
        """Immuta's `message` from a JSON error body, else the reason phrase; never an HTML page."""
        try:
            body = decode_object(reply.body or b"")
        except Unreadable:
            body = {}
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            message = reply.reason or "no details"
        detail = " ".join(_CONTROL_CHARACTERS.sub(" ", self._scrub(message)).split()).rstrip(".")
        return detail if len(detail) <= MAX_DETAIL else detail[: MAX_DETAIL - 1] + "…"

    def _json_object(self, reply: _Reply) -> dict[str, Any]:
        try:
            return decode_object(reply.body or b"")
        except Unreadable as error:
            raise BadResponse(self._unreadable(str(error)), status=reply.status) from None

    def _read_jobs(self, reply: _Reply, batch: list[str]) -> dict[str, ReportedJob]:
        """The requested jobs the answer reports (see answers.read_statuses); an entry jobsite
        cannot read costs that job alone, and is logged."""
        try:
            jobs = read_statuses(reply.body or b"", set(batch))
        except Unreadable as error:
            raise BadResponse(self._unreadable(str(error)), status=reply.status) from None
        unreadable = [job for job in jobs.values() if states.is_unreadable(job.state)]
        if unreadable:
            first = unreadable[0]
            why = f"job {first.id}: {first.state}"
            logger.warning("“%s” sent %d entries jobsite could not read; %s", self.name, len(unreadable), why)
        return jobs

    def _unreadable(self, why: str) -> str:
        return f"“{self.name}” sent an answer jobsite could not read: {why}."

    def _scrub(self, text: str) -> str:
        """Upstream-provided text with any token blanked out, in case upstream echoes one, as it
        is or encoded (`_encoded_forms`)."""
        for secret in (self._token, self._exchanged):
            if secret:
                for form in _encoded_forms(secret):
                    text = text.replace(form, "[token]")
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
