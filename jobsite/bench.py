"""Measure what jobsite costs upstream and on the wire, with real servers on loopback.

Run it from the project folder:

    python -m jobsite.bench [--seconds 30] [--terminal-seconds 60] [--samples 20] [--json PATH]

The Immuta simulator runs in this process; the site runs as `manage.py runserver` subprocesses
(threaded, no reloader). Every scenario gets a fresh database: SQLite in a temporary folder, or the
PostgreSQL database `jobsite_bench` with Redis db 15 (both emptied first). It prints:

1. Upstream load: requests to `/jobs/statuses` and job IDs asked about during `--seconds` while
   1, 20 and 100 viewers watch the same 1,000-job watchlist (pollInterval 1 s) on SQLite and one
   server process, and while 20 viewers do on PostgreSQL + Redis with one and with two server
   processes (viewers split evenly). A viewer behaves like htmx: it loads the live partial once,
   then every second asks `/live/?since=<cursor>` and keeps the newest cursor it is sent; a tick
   that comes while its request is still out is dropped, as hx-sync does by default. One first
   observation fills the store, then the viewers open the page within the first second; counting
   starts once the last of them has had its first render (the ramp-up, in the table), so the
   figures are those of a steady state, not of a hundred tabs opening in the same second.
2. Sizes and times for 1,000 jobs (SQLite, one process): a full render, an unchanged refresh and a
   refresh in which one job changed. Times are wall time per request measured by this client on
   loopback (the median of `--samples`), each request on a new connection: on a kept-alive
   connection runserver's answers stall about 40 ms (its small header writes meet Nagle's
   algorithm and the client's delayed ACK), which would drown the differences measured here.
3. An all-terminal watchlist: upstream requests during `--terminal-seconds` after its first
   observation, while a viewer keeps polling although a browser would stop at the first 286.
   It runs alongside the load scenarios, on its own simulator, server and database, so that the
   whole run stays under about five minutes.

Then the issue's targets, each PASS or FAIL with its ratio. This is a measurement, not a test: it
exits 0 whether targets pass or not. Nothing but 127.0.0.1 is contacted, and servers, databases,
Redis keys and temporary folders are removed at the end.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis
import requests

from jobsite.simulator import Simulator

PROJECT_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
JOBS = 1000
POLL_SECONDS = 1  # the watched lists' pollInterval, and how often a viewer asks
QUIET_POLL_SECONDS = 3600  # a list whose jobs never fall due during a run: refreshes ask upstream nothing
SQLITE_VIEWERS = (1, 20, 100)
POSTGRES_VIEWERS = 20  # below saturation of this 2-core machine, so the ratio shows coalescing, not overload
SIMULATOR_TOKEN = "jobsite-bench-token"
SECRET_KEY = "jobsite-bench-secret-key-for-a-throwaway-database"
USERNAME, PASSWORD = "bench", "bench-Pa55word-for-a-throwaway-database"
SESSION_COOKIE = "sessionid"  # Django's default SESSION_COOKIE_NAME, which jobsite keeps
POSTGRES_DATABASE = "jobsite_bench"
POSTGRES_ROLES = ("postgres", "root")
REDIS_URL = "redis://127.0.0.1:6379/15"
REQUEST_TIMEOUT = 30.0
RAMP_UP_LIMIT = 60.0  # counting starts when every viewer has its first render, or after this long
SERVER_START_TIMEOUT = 30.0
# Mirrors jobsite.watchlists.live.COMMIT_MARGIN: a refresh re-sends rows revised up to this long
# before its cursor, so a cursor meant to see no change must be rendered this long after the last one.
COMMIT_MARGIN_SECONDS = 2.0
# Settings the site reads that could point a scenario elsewhere or break plain HTTP: the caller's
# values (and their *_FILE forms) are dropped, and the bench sets what it needs.
SITE_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "JOBSITE_ENCRYPTION_KEY",
    "JOBSITE_DATA_DIR",
    "ALLOWED_HOSTS",
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
)
# A run in which the site answered fewer of the refreshes the viewers asked for was saturated:
# fewer refreshes reached the store, so its upstream figure is no steady-state figure.
KEPT_UP_SHARE = 0.9
TARGET_VIEWER_RATIO = 1.1
TARGET_PROCESS_RATIO = 1.1
TARGET_UNCHANGED_BYTES = 300
TARGET_CHEAPER = 20.0

_SINCE = re.compile(r'id="live-since"[^>]*\bvalue="([^"]*)"')
_ROW = re.compile(r'<tr id="job-')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception): ")
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")


class BenchError(Exception):
    """The site could not be set up or started; the message says why."""


class ScenarioSkipped(Exception):
    """A service the scenario needs (PostgreSQL, Redis) is not there; the message says why."""


# Results.


@dataclass
class LoadResult:
    """One scenario: upstream traffic during the run and what the viewers got."""

    scenario: str
    viewers: int
    processes: int
    seconds: float
    first_observation_requests: int | None = None  # upstream requests of the warm-up refresh
    ramp_up_seconds: float | None = None  # until the last viewer had its first render; None: not all did
    upstream_requests: int | None = None  # during the run, after the first observation
    job_ids_requested: int | None = None
    refreshes: int = 0  # site requests the viewers completed
    served_share: float | None = None  # refreshes / the refreshes the viewers would ask for in the run
    answers: dict[str, int] = field(default_factory=dict)  # HTTP status -> count
    failures: dict[str, int] = field(default_factory=dict)  # exception name -> count
    server_errors: dict[str, int] = field(default_factory=dict)  # exceptions in the server logs -> count
    median_ms: float | None = None
    skipped: str | None = None


@dataclass
class SizeResult:
    """One kind of response: medians over the samples."""

    response: str
    answers: dict[str, int]
    rows: int  # job rows in the body
    body_bytes: int
    header_bytes: int  # status line and headers, as sent
    median_ms: float
    samples: int


@dataclass
class Target:
    name: str
    passed: bool | None  # None: not measured (scenario skipped)
    detail: str
    caution: str | None = None  # why the verdict may not mean what it says


@dataclass(frozen=True)
class Sample:
    """One answer from the site."""

    status: int
    body_bytes: int
    header_bytes: int
    seconds: float
    rows: int
    cursor: str | None  # the `live-since` value it carried, if any


@dataclass
class Tally:
    """What one viewer saw, or (merged, without `loaded_at`) all of them."""

    answers: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)
    loaded_at: float | None = None  # time.monotonic() of the first answer that carried a cursor

    def merge(self, other: Tally) -> None:
        self.answers.update(other.answers)
        self.failures.update(other.failures)
        self.seconds.extend(other.seconds)


# The site: a fresh database, seeded, served by runserver processes.


@dataclass(frozen=True)
class WatchlistSpec:
    job_ids: list[str]
    poll_interval: int


@dataclass(frozen=True)
class Site:
    urls: list[str]  # one per server process
    logs: list[Path]  # the servers' output
    watchlists: dict[str, int]  # name -> pk
    session_cookie: str

    def live_url(self, watchlist: str, process: int = 0) -> str:
        return f"{self.urls[process]}/watchlists/{self.watchlists[watchlist]}/live/"

    def viewer_session(self) -> requests.Session:
        """A signed-in browser tab that sends what htmx sends."""
        session = loopback_session()
        session.cookies.set(SESSION_COOKIE, self.session_cookie)
        session.headers["HX-Request"] = "true"
        return session

    def server_errors(self) -> dict[str, int]:
        """What ended each traceback in the servers' logs so far (a 500's cause), by count."""
        found: Counter[str] = Counter()
        for log in self.logs:
            lines = log.read_text(errors="replace").splitlines()
            for index, line in enumerate(lines):
                if not _EXCEPTION_LINE.match(line):
                    continue
                following = next((later for later in islice(lines, index + 1, None) if later.strip()), "")
                if not following.startswith(_CHAINED):  # a chain's last exception is what reached Django
                    found[line[:200]] += 1
        return dict(found)


def loopback_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: everything here is on loopback
    return session


@contextmanager
def fresh_site(
    *, postgres: bool, processes: int, simulator: Simulator, watchlists: dict[str, WatchlistSpec]
) -> Iterator[Site]:
    """A migrated, seeded database and `processes` servers on it; all of it gone afterwards."""
    with tempfile.TemporaryDirectory(prefix="jobsite-bench-") as data_dir, ExitStack() as stack:
        env = site_environment(Path(data_dir))
        if postgres:
            env["DATABASE_URL"] = stack.enter_context(postgres_database())
            env["REDIS_URL"] = stack.enter_context(emptied_redis())
        manage(env, "migrate", "--noinput")
        pks = seed(env, simulator=simulator, watchlists=watchlists)
        logs = [Path(data_dir) / f"server-{number}.log" for number in range(processes)]
        urls = [stack.enter_context(running_server(env, log)) for log in logs]
        yield Site(urls=urls, logs=logs, watchlists=pks, session_cookie=log_in(urls[0]))


def site_environment(data_dir: Path) -> dict[str, str]:
    dropped = {*SITE_VARIABLES, *(f"{name}_FILE" for name in SITE_VARIABLES)}
    env = {name: value for name, value in os.environ.items() if name not in dropped}
    env.update(
        JOBSITE_DATA_DIR=str(data_dir),
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS=HOST,
        DJANGO_SETTINGS_MODULE="jobsite.settings",
        NO_PROXY=f"{HOST},localhost",  # the site's upstream client talks to the simulator directly
        no_proxy=f"{HOST},localhost",
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def postgres_database() -> Iterator[str]:
    """An empty `jobsite_bench` database, as the first role that may create one; dropped after."""
    reasons = []
    for role in POSTGRES_ROLES:
        try:
            admin = psycopg.connect(
                host=HOST, port=5432, user=role, dbname="postgres", autocommit=True, connect_timeout=3
            )
        except psycopg.Error as error:
            reasons.append(f"{role}: {str(error).strip()}")
            continue
        try:
            admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")
        except psycopg.Error as error:
            reasons.append(f"{role}: {str(error).strip()}")
            admin.close()
            continue
        try:
            yield f"postgres://{role}@{HOST}:5432/{POSTGRES_DATABASE}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
            admin.close()
        return
    raise ScenarioSkipped(f"PostgreSQL on {HOST}:5432 is not usable ({'; '.join(reasons)})")


@contextmanager
def emptied_redis() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.flushdb()
    except redis.RedisError as error:
        client.close()
        raise ScenarioSkipped(f"Redis at {REDIS_URL} is not usable ({error})") from None
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


def manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    if done.returncode:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def seed(env: dict[str, str], *, simulator: Simulator, watchlists: dict[str, WatchlistSpec]) -> dict[str, int]:
    """Create the user, the connection to the simulator and the watchlists, in a subprocess with
    the site's environment (this process never configures Django). Returns name -> pk."""
    spec = {
        "username": USERNAME,
        "password": PASSWORD,
        "simulator_url": simulator.url,
        "token": simulator.token,
        "watchlists": {name: asdict(watchlist) for name, watchlist in watchlists.items()},
    }
    done = subprocess.run(
        [sys.executable, "-c", "from jobsite.bench import seed_site; seed_site()"],
        cwd=PROJECT_DIR, env=env, input=json.dumps(spec), capture_output=True, text=True, timeout=120,
    )
    if done.returncode:
        raise BenchError(f"seeding the site failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def seed_site() -> None:
    """The seeding subprocess: reads the spec from stdin, prints {name: pk} as JSON."""
    import django

    django.setup()
    # Django's models can be imported only once it is set up.
    from django.contrib.auth import get_user_model

    from jobsite.upstream.models import Connection
    from jobsite.watchlists.services import watchlist_create

    spec = json.load(sys.stdin)
    owner = get_user_model().objects.create_user(spec["username"], password=spec["password"])
    connection = Connection(name="Bench simulator", base_url=spec["simulator_url"], is_simulator=True)
    connection.token = spec["token"]
    connection.save()
    pks = {
        name: watchlist_create(
            owner=owner,
            name=name,
            connection=connection,
            poll_interval=watchlist["poll_interval"],
            job_ids=watchlist["job_ids"],
        ).pk
        for name, watchlist in spec["watchlists"].items()
    }
    print(json.dumps(pks))


@contextmanager
def running_server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`runserver` on a free loopback port, answering; stopped with SIGINT (then killed) after."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"{HOST}:{port}", "--noreload", "--skip-checks"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_until_answering(url, process, log_path)
            yield url
        finally:
            stop_process(process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    with loopback_session() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(f"the server on {url} exited:\n{log_path.read_text()[-2000:]}")
            try:
                session.get(f"{url}/accounts/login/", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
    raise BenchError(f"the server on {url} did not answer within {SERVER_START_TIMEOUT:.0f} s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_in(url: str) -> str:
    """Sign in through Django's LoginView, as a browser would; returns the session cookie."""
    login_url = f"{url}/accounts/login/"
    with loopback_session() as session:
        form = session.get(login_url, timeout=REQUEST_TIMEOUT)
        token = _CSRF.search(form.text)
        if token is None:
            raise BenchError(f"no CSRF token on {login_url} (HTTP {form.status_code})")
        answer = session.post(
            login_url,
            data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": login_url},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )
        cookie = session.cookies.get(SESSION_COOKIE)
        if answer.status_code != 302 or not cookie:
            raise BenchError(f"signing in failed (HTTP {answer.status_code})")
        return cookie


# Requests and viewers.


def fetch(session: requests.Session, url: str, params: dict[str, Any] | None = None) -> Sample:
    """GET one URL of the site; what came back, and the wall time until the whole body had."""
    started = time.perf_counter()
    response = session.get(url, params=params, timeout=REQUEST_TIMEOUT, allow_redirects=False)
    seconds = time.perf_counter() - started  # the body is read by then: requests does not stream here
    text = response.text
    cursor = _SINCE.search(text)
    status_line = f"HTTP/1.1 {response.status_code} {response.reason}\r\n"
    header_lines = "".join(f"{name}: {value}\r\n" for name, value in response.raw.headers.items())
    return Sample(
        status=response.status_code,
        body_bytes=len(response.content),
        header_bytes=len(status_line) + len(header_lines.encode("latin-1")) + 2,
        seconds=seconds,
        rows=len(_ROW.findall(text)),
        cursor=html.unescape(cursor.group(1)) if cursor else None,
    )


def fetch_on_new_connection(site: Site, url: str, params: dict[str, Any] | None = None) -> Sample:
    """One request on a connection of its own: see the module docstring on runserver and keep-alive."""
    with site.viewer_session() as session:
        return fetch(session, url, params)


def view(
    session: requests.Session,
    url: str,
    *,
    start_after: float,
    stop: threading.Event,
    counting: threading.Event,
    tally: Tally,
) -> None:
    """One tab: the partial once, then a refresh with the newest cursor every POLL_SECONDS.
    Answers count in the tally once `counting` is set; the first render is noted either way."""
    if stop.wait(start_after):
        return
    cursor: str | None = None
    next_tick = time.monotonic()
    while not stop.is_set():
        try:
            sample = fetch(session, url, {"since": cursor} if cursor else None)
        except requests.RequestException as error:
            if counting.is_set():
                tally.failures[type(error).__name__] += 1
        else:
            if counting.is_set():
                tally.answers[str(sample.status)] += 1
                tally.seconds.append(sample.seconds)
            if tally.loaded_at is None and sample.cursor:
                tally.loaded_at = time.monotonic()
            cursor = sample.cursor or cursor
        next_tick += POLL_SECONDS
        now = time.monotonic()
        if now > next_tick:  # ticks that came while the request was out are dropped
            next_tick += math.ceil((now - next_tick) / POLL_SECONDS) * POLL_SECONDS
        stop.wait(next_tick - now)


@dataclass
class Watch:
    tally: Tally  # all viewers together
    upstream: dict[str, int]  # the simulator's counts for the run
    ramp_up_seconds: float | None  # until the last viewer had its first render; None: not all did


def watch(
    site: Site, watchlist: str, *, viewers: int, seconds: float, simulator: Simulator, abort: threading.Event
) -> Watch:
    """`viewers` tabs on the watchlist, opened within the first second and spread over the server
    processes; once every one has had its first render (or RAMP_UP_LIMIT has passed), upstream
    traffic and the viewers' answers are counted for `seconds`."""
    stop, counting = threading.Event(), threading.Event()
    rng = random.Random(viewers)
    tallies = [Tally() for _ in range(viewers)]
    threads = [
        threading.Thread(
            target=view,
            args=(site.viewer_session(), site.live_url(watchlist, number % len(site.urls))),
            kwargs={
                "start_after": rng.uniform(0, POLL_SECONDS),
                "stop": stop,
                "counting": counting,
                "tally": tallies[number],
            },
            name=f"viewer-{number}",
            daemon=True,
        )
        for number in range(viewers)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        while not all(tally.loaded_at for tally in tallies) and time.monotonic() - started < RAMP_UP_LIMIT:
            if abort.wait(0.1):
                break
        simulator.reset_stats()
        counting.set()
        abort.wait(seconds)
        upstream = simulator.stats()
    finally:
        stop.set()
        for thread in threads:
            thread.join(REQUEST_TIMEOUT + 5)
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    loaded = [tally.loaded_at for tally in tallies if tally.loaded_at is not None]
    ramp_up = max(loaded) - started if len(loaded) == viewers else None
    return Watch(tally=total, upstream=upstream, ramp_up_seconds=ramp_up)


# Scenarios.


def measure_load(
    simulator: Simulator,
    *,
    scenario: str,
    lifecycle: str,
    postgres: bool,
    processes: int,
    viewers: int,
    seconds: float,
    abort: threading.Event,
) -> LoadResult:
    """Viewers on a 1,000-job watchlist (pollInterval 1 s) of a fresh site, after a first observation."""
    result = LoadResult(scenario=scenario, viewers=viewers, processes=processes, seconds=seconds)
    progress(f"{scenario}: {viewers} viewer(s) for {seconds:g} s")
    job_ids = simulator.submit(lifecycle, JOBS)
    watchlists = {"watched": WatchlistSpec(job_ids, POLL_SECONDS)}
    try:
        with fresh_site(postgres=postgres, processes=processes, simulator=simulator, watchlists=watchlists) as site:
            simulator.reset_stats()
            fetch(site.viewer_session(), site.live_url("watched"))  # the first observation
            result.first_observation_requests = simulator.stats()["statuses_requests"]
            watched = watch(site, "watched", viewers=viewers, seconds=seconds, simulator=simulator, abort=abort)
            result.server_errors = site.server_errors()
    except ScenarioSkipped as skipped:
        progress(f"{scenario}: skipped, {skipped}")
        result.skipped = str(skipped)
        return result
    tally = watched.tally
    result.ramp_up_seconds = watched.ramp_up_seconds
    result.upstream_requests = watched.upstream["statuses_requests"]
    result.job_ids_requested = watched.upstream["job_ids_requested"]
    result.refreshes = len(tally.seconds)
    result.served_share = result.refreshes / (viewers * seconds / POLL_SECONDS)
    result.answers = dict(sorted(tally.answers.items()))
    result.failures = dict(tally.failures)
    result.median_ms = 1000 * statistics.median(tally.seconds) if tally.seconds else None
    return result


def measure_terminal(seconds: float, abort: threading.Event) -> LoadResult:
    """One viewer that never stops on a watchlist of 1,000 jobs finished upstream, on its own simulator."""
    with Simulator(token=SIMULATOR_TOKEN, port=0, speed=1.0) as simulator:
        return measure_load(
            simulator,
            scenario="SQLite, all-terminal list",
            lifecycle="instant",
            postgres=False,
            processes=1,
            viewers=1,
            seconds=seconds,
            abort=abort,
        )


def measure_sizes(simulator: Simulator, samples: int) -> list[SizeResult]:
    """Bytes and times of a full render, an unchanged refresh and a one-job change, for 1,000 jobs.

    Two lists hold the same 1,000 jobs (so the same store rows): "live" at pollInterval 1 s, and
    "quiet" at 3600 s, whose refreshes never ask upstream, so its renders cost rendering only.
    """
    progress(f"sizes and times for {JOBS:,} jobs, {samples} samples each")
    job_ids = simulator.submit("stay_active", JOBS)
    watchlists = {
        "live": WatchlistSpec(job_ids, POLL_SECONDS),
        "quiet": WatchlistSpec(job_ids, QUIET_POLL_SECONDS),
    }
    with fresh_site(postgres=False, processes=1, simulator=simulator, watchlists=watchlists) as site:
        live_url, quiet_url = site.live_url("live"), site.live_url("quiet")
        fetch_on_new_connection(site, live_url)  # the first observation: every job is now active in the store
        time.sleep(COMMIT_MARGIN_SECONDS + 0.5)  # so that later cursors no longer re-send those rows
        first_page = [fetch_on_new_connection(site, quiet_url) for _ in range(samples)]
        if not first_page[0].rows:
            raise BenchError(f"a full render of {quiet_url} holds no job rows (HTTP {first_page[0].status})")
        page_count = math.ceil(JOBS / first_page[0].rows)
        other_pages = [
            [fetch_on_new_connection(site, quiet_url, {"page": page}) for _ in range(samples)]
            for page in range(2, page_count + 1)
        ]
        cursor = first_page[-1].cursor
        unchanged = [fetch_on_new_connection(site, quiet_url, {"since": cursor}) for _ in range(samples)]
        with_upstream, from_store = measure_one_change(
            simulator, site, live_url=live_url, quiet_url=quiet_url, job_id=job_ids[0],
            quiet_cursor=cursor, samples=samples,
        )
    pages = [summarize("", page) for page in (first_page, *other_pages)]
    return [
        summarize(f"full render (page 1 of {page_count})", first_page),
        SizeResult(
            response=f"full render of all {JOBS:,} rows ({page_count} pages, summed)",
            answers=dict(sum((Counter(page.answers) for page in pages), Counter())),
            rows=sum(page.rows for page in pages),
            body_bytes=sum(page.body_bytes for page in pages),
            header_bytes=sum(page.header_bytes for page in pages),
            median_ms=sum(page.median_ms for page in pages),
            samples=samples,
        ),
        summarize("unchanged refresh", unchanged),
        summarize("1 changed job, incl. asking upstream for 1,000", with_upstream),
        summarize("1 changed job, from the store only", from_store),
    ]


def measure_one_change(
    simulator: Simulator,
    site: Site,
    *,
    live_url: str,
    quiet_url: str,
    job_id: str,
    quiet_cursor: str | None,
    samples: int,
) -> tuple[list[Sample], list[Sample]]:
    """Each round upstream changes one job's output; then the live list (due again after a second)
    asks upstream about all 1,000 jobs and sends the one changed row, and the quiet list sends the
    same row from the store. It is always the same job, so the row a cursor re-sends within the
    commit margin is that one row."""
    # A fresh cursor, rendered more than the commit margin after the first observation.
    live_cursor = fetch_on_new_connection(site, live_url).cursor
    checked = time.monotonic()
    with_upstream, from_store = [], []
    for round_number in range(samples):
        simulator.set_state(job_id, "active", output=f"bench round {round_number}")
        time.sleep(max(0.0, checked + POLL_SECONDS + 0.05 - time.monotonic()))  # every job due again
        sample = fetch_on_new_connection(site, live_url, {"since": live_cursor})
        checked = time.monotonic()
        live_cursor = sample.cursor or live_cursor
        with_upstream.append(sample)
        sample = fetch_on_new_connection(site, quiet_url, {"since": quiet_cursor})
        quiet_cursor = sample.cursor or quiet_cursor
        from_store.append(sample)
    return with_upstream, from_store


def summarize(response: str, samples: list[Sample]) -> SizeResult:
    return SizeResult(
        response=response,
        answers=dict(Counter(str(sample.status) for sample in samples)),
        rows=statistics.median_low(sample.rows for sample in samples),
        body_bytes=statistics.median_low(sample.body_bytes for sample in samples),
        header_bytes=statistics.median_low(sample.header_bytes for sample in samples),
        median_ms=1000 * statistics.median(sample.seconds for sample in samples),
        samples=len(samples),
    )


# Targets and the report.


def ratio(numerator: float, denominator: float) -> float:
    if denominator == 0:
        return 1.0 if numerator == 0 else math.inf
    return numerator / denominator


def evaluate(load: list[LoadResult], sizes: list[SizeResult], terminal: LoadResult) -> list[Target]:
    by_name = {(result.scenario, result.viewers): result for result in load}
    one, hundred = by_name[("SQLite, 1 process", 1)], by_name[("SQLite, 1 process", 100)]
    pg_one = by_name[("PostgreSQL + Redis, 1 process", POSTGRES_VIEWERS)]
    pg_two = by_name[("PostgreSQL + Redis, 2 processes", POSTGRES_VIEWERS)]
    full, all_pages, unchanged = sizes[0], sizes[1], sizes[2]
    twenty = by_name[("SQLite, 1 process", 20)]
    targets = [
        ratio_target(
            f"100 viewers ≤ {TARGET_VIEWER_RATIO} × 1 viewer (upstream requests, SQLite)",
            hundred, one, TARGET_VIEWER_RATIO,
            context=f"20 viewers: {twenty.upstream_requests} / {one.upstream_requests} = "
            f"{ratio(twenty.upstream_requests or 0, one.upstream_requests or 0):.2f}×",
        ),
        ratio_target(
            f"2 processes ≤ {TARGET_PROCESS_RATIO} × 1 process (upstream requests, PostgreSQL + Redis, "
            f"{POSTGRES_VIEWERS} viewers)",
            pg_two, pg_one, TARGET_PROCESS_RATIO,
        ),
        Target(
            f"unchanged refresh ≤ {TARGET_UNCHANGED_BYTES} bytes (body)",
            unchanged.body_bytes <= TARGET_UNCHANGED_BYTES,
            f"body {unchanged.body_bytes:,} B (HTTP {'/'.join(unchanged.answers)}); "
            f"status line + headers {unchanged.header_bytes:,} B",
        ),
    ]
    # The reference is a render of all 1,000 rows; the site now pages them, so that is the sum
    # of its pages. What one full refresh sends (page 1) is shown alongside.
    wire = {size.response: size.body_bytes + size.header_bytes for size in (full, all_pages, unchanged)}
    cheaper_time = ratio(all_pages.median_ms, unchanged.median_ms)
    cheaper_bytes = ratio(wire[all_pages.response], wire[unchanged.response])
    targets.append(
        Target(
            f"unchanged refresh ≥ {TARGET_CHEAPER:g} × cheaper than a full {JOBS:,}-row render: time",
            cheaper_time >= TARGET_CHEAPER,
            f"{all_pages.median_ms:.1f} ms / {unchanged.median_ms:.1f} ms = {cheaper_time:.1f}× "
            f"(vs page 1 alone, {full.rows} rows: {ratio(full.median_ms, unchanged.median_ms):.1f}×)",
        )
    )
    targets.append(
        Target(
            f"unchanged refresh ≥ {TARGET_CHEAPER:g} × cheaper than a full {JOBS:,}-row render: bytes on the wire",
            cheaper_bytes >= TARGET_CHEAPER,
            f"{wire[all_pages.response]:,} B / {wire[unchanged.response]:,} B = {cheaper_bytes:.1f}× "
            f"(vs page 1 alone: {ratio(wire[full.response], wire[unchanged.response]):.1f}×)",
        )
    )
    targets.append(
        Target(
            "all-terminal list: 0 upstream requests after the first observation",
            terminal.upstream_requests == 0 if terminal.upstream_requests is not None else None,
            f"{terminal.upstream_requests} requests in {terminal.seconds:g} s "
            f"(first observation: {terminal.first_observation_requests}); viewer got "
            f"{format_answers(terminal.answers, terminal.failures)}",
        )
    )
    return targets


def ratio_target(name: str, measured: LoadResult, baseline: LoadResult, limit: float, *, context: str = "") -> Target:
    """measured / baseline upstream requests against the limit, with a caution where the site could
    not keep up with its viewers (then fewer refreshes reached upstream than the viewers asked for)."""
    if (
        measured.upstream_requests is None
        or baseline.upstream_requests is None
        or measured.job_ids_requested is None
        or baseline.job_ids_requested is None
    ):
        return Target(name, None, f"not measured: {measured.skipped or baseline.skipped}")
    requests_ratio = ratio(measured.upstream_requests, baseline.upstream_requests)
    ids_ratio = ratio(measured.job_ids_requested, baseline.job_ids_requested)
    detail = (
        f"{measured.upstream_requests} / {baseline.upstream_requests} = {requests_ratio:.2f}× "
        f"(job IDs: {ids_ratio:.2f}×)" + (f"; {context}" if context else "")
    )
    saturated = [
        f"{result.scenario} with {result.viewers} viewers served {result.served_share:.0%}"
        for result in (measured, baseline)
        if result.served_share is not None and result.served_share < KEPT_UP_SHARE
    ]
    caution = (
        "the site could not keep up, so fewer refreshes could ask upstream: "
        + "; ".join(saturated)
        + " of the refreshes its viewers asked for"
        if saturated
        else None
    )
    return Target(name, requests_ratio <= limit, detail, caution)


def format_answers(answers: dict[str, int], failures: dict[str, int]) -> str:
    parts = [f"{status}×{count:,}" for status, count in answers.items()]
    parts += [f"{name}×{count:,}" for name, count in failures.items()]
    return " ".join(parts) or "nothing"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Left-aligned first column, the others right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
    lines = []
    for cells in (headers, *rows):
        first, *rest = cells
        lines.append(
            "  ".join([first.ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(rest, widths[1:]))])
        )
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def ramp_up(result: LoadResult) -> str:
    if result.skipped:
        return "-"
    return f"> {RAMP_UP_LIMIT:g}" if result.ramp_up_seconds is None else f"{result.ramp_up_seconds:.1f}"


def optional(value: float | None, spec: str = ",") -> str:
    return "-" if value is None else format(value, spec)


def report(load: list[LoadResult], sizes: list[SizeResult], terminal: LoadResult, targets: list[Target]) -> str:
    seconds = load[0].seconds
    load_rows = [
        [
            result.scenario,
            str(result.viewers),
            "skipped" if result.skipped else optional(result.upstream_requests),
            optional(result.job_ids_requested),
            optional(result.first_observation_requests),
            ramp_up(result),
            f"{result.refreshes:,}",
            optional(result.served_share, ".0%"),
            optional(result.median_ms, ".1f"),
            format_answers(result.answers, result.failures),
        ]
        for result in load
    ]
    size_rows = [
        [
            size.response,
            "/".join(size.answers),
            f"{size.rows:,}",
            f"{size.body_bytes:,}",
            f"{size.header_bytes:,}",
            f"{size.median_ms:.1f}",
        ]
        for size in sizes
    ]
    failed = [target for target in targets if target.passed is False]
    verdicts = {True: "PASS", False: "FAIL", None: "SKIP"}
    lines = [
        f"Upstream load: one {JOBS:,}-job watchlist (jobs active upstream), pollInterval {POLL_SECONDS} s, "
        f"{seconds:g} s per run",
        "  after one first observation ('1st obs req'), the viewers open the page within the first second;",
        "  'ramp-up s' is when the last of them had its first render, and counting starts then. 'refreshes',",
        "  'median ms' (client wall time per request, kept-alive connections) and 'answers' (HTTP status ×",
        "  count) cover the counted run; 'served' is refreshes / what the viewers ask for in it (viewers ×",
        "  seconds / pollInterval).",
        table(
            ["scenario", "viewers", "upstream req", "job IDs", "1st obs req", "ramp-up s", "refreshes", "served",
             "median ms", "answers"],
            load_rows,
        ),
        *(f"  skipped: {result.scenario}: {result.skipped}" for result in load if result.skipped),
        *(
            f"  server log, {result.scenario}, {result.viewers} viewers: {count} × {error}"
            for result in [*load, terminal]
            for error, count in result.server_errors.items()
        ),
        "",
        f"Responses for {JOBS:,} jobs (SQLite, 1 process): medians of {sizes[0].samples} requests each. Time is",
        "  wall time per request measured by the client on loopback, each on a new connection (not server-side).",
        table(["response", "HTTP", "rows", "body B", "headers B", "median ms"], size_rows),
        "",
        f"All-terminal watchlist ({JOBS:,} jobs completed upstream, pollInterval {POLL_SECONDS} s), "
        f"1 viewer for {terminal.seconds:g} s that keeps polling past 286 (a browser would stop):",
        f"  upstream requests after the first observation: {optional(terminal.upstream_requests)} "
        f"({optional(terminal.job_ids_requested)} job IDs); first observation: "
        f"{optional(terminal.first_observation_requests)} requests; the viewer got "
        f"{format_answers(terminal.answers, terminal.failures)}"
        + (f"; skipped: {terminal.skipped}" if terminal.skipped else ""),
        "",
        "Targets",
        *(
            f"  {verdicts[target.passed]}  {target.name}\n        {target.detail}"
            + (f"\n        CAUTION: {target.caution}" if target.caution else "")
            for target in targets
        ),
        "",
        f"*** {len(failed)} of {len(targets)} TARGETS FAILED: {', '.join(target.name for target in failed)} ***"
        if failed
        else f"All {len(targets)} measured targets pass.",
    ]
    skipped = sum(target.passed is None for target in targets)
    cautioned = sum(target.caution is not None for target in targets)
    if skipped:
        lines.append(f"{skipped} target(s) not measured (SKIP).")
    if cautioned:
        lines.append(f"{cautioned} verdict(s) carry a CAUTION: read it before trusting them.")
    return "\n".join(lines)


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jobsite.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each load run (default 30)")
    parser.add_argument(
        "--terminal-seconds", type=float, default=60.0, help="length of the all-terminal run (default 60)"
    )
    parser.add_argument("--samples", type=int, default=20, help="requests per size/time figure (default 20)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the raw figures here")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.terminal_seconds <= 0 or args.samples < 1:
        parser.error("--seconds and --terminal-seconds must be above 0, --samples at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    abort = threading.Event()  # set when the run ends early, so the background scenario stops too
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="terminal") as background:
        try:
            with Simulator(token=SIMULATOR_TOKEN, port=0, speed=1.0) as simulator:
                sizes = measure_sizes(simulator, args.samples)
                terminal_run = background.submit(measure_terminal, args.terminal_seconds, abort)
                scenarios = [
                    ("SQLite, 1 process", False, 1, viewers) for viewers in SQLITE_VIEWERS
                ] + [
                    ("PostgreSQL + Redis, 1 process", True, 1, POSTGRES_VIEWERS),
                    ("PostgreSQL + Redis, 2 processes", True, 2, POSTGRES_VIEWERS),
                ]
                load = [
                    measure_load(
                        simulator, scenario=scenario, lifecycle="stay_active", postgres=postgres,
                        processes=processes, viewers=viewers, seconds=args.seconds, abort=abort,
                    )
                    for scenario, postgres, processes, viewers in scenarios
                ]
                terminal = terminal_run.result()
        finally:
            abort.set()
    targets = evaluate(load, sizes, terminal)
    print(report(load, sizes, terminal, targets))
    print(f"\nWall time: {time.monotonic() - started:.0f} s")
    if args.json:
        figures = {
            "jobs": JOBS,
            "poll_interval": POLL_SECONDS,
            "load": [asdict(result) for result in load],
            "sizes": [asdict(size) for size in sizes],
            "terminal": asdict(terminal),
            "targets": [asdict(target) for target in targets],
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
