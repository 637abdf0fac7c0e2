"""The site as the README's production set-up runs it, on loopback, from scratch each time.

One `Stack` is: the upstream simulator (its own process), the PostgreSQL database `jobsite_bench`
(dropped and created), Redis db 15 (emptied before and after), `manage.py migrate`, a user, a
connection and the watchlists, then gunicorn (2 gthread workers × 16 threads) and, unless the
stack measures the fallback, `manage.py watch`. Leaving the `with` block stops every process it
started and drops the database, on errors and Ctrl-C too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import psycopg
import redis
import requests

from bench import pages
from bench.processes import HOST, Child, ChildFailed, CpuGroup, running, wait_for_port
from bench.upstream import ARGV as UPSTREAM_ARGV
from bench.upstream import TOKEN_VARIABLE as UPSTREAM_TOKEN_VARIABLE
from bench.upstream import Upstream
from tests.machine import free_port

PROJECT_DIR = Path(__file__).resolve().parent.parent
WATCH_COMMAND = PROJECT_DIR / "jobsite" / "watcher" / "management" / "commands" / "watch.py"
POSTGRES_DATABASE = "jobsite_bench"
POSTGRES_USER = "postgres"
REDIS_URL = f"redis://{HOST}:6379/15"
WORKERS, THREADS, POOL_SIZE = 2, 16, 16
UPSTREAM_TOKEN = "jobsite-bench-upstream-token"
SECRET_KEY = "jobsite-bench-secret-key-for-a-throwaway-database-only"
USERNAME, PASSWORD = "bench", "bench-Pa55word-for-a-throwaway-database"
SESSION_COOKIE = "sessionid"  # Django's default, which jobsite keeps
START_TIMEOUT = 60.0
WARM_UP_TIMEOUT = 60.0
# The caller's values of these (and their *_FILE forms) could point the site elsewhere or break
# plain HTTP: they are dropped, and the bench sets what it needs.
SITE_VARIABLES = (
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "REDIS_URL",
    "SECRET_KEY",
    "JOBSITE_ENCRYPTION_KEY",
    "JOBSITE_DATA_DIR",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "BEHIND_PROXY",
    "STATIC_ROOT",
    "LOG_LEVEL",
)
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception): ")
_CHAINED = ("During handling of the above exception", "The above exception was the direct cause")


class SetupFailed(Exception):
    """The site could not be set up; the message says why."""


def watcher_available() -> bool:
    return WATCH_COMMAND.exists()


@dataclass(frozen=True)
class Watchlist:
    pk: int
    job_ids: list[str]


@dataclass
class Stack:
    """A running site: where it answers, what it holds and the processes behind it."""

    setup: str  # "watcher" or "fallback"
    url: str
    poll_interval: int
    upstream: Upstream
    watchlists: dict[str, Watchlist]
    session_cookie: str
    children: dict[str, Child] = field(default_factory=dict)

    def page_url(self, watchlist: str) -> str:
        return f"{self.url}/watchlists/{self.watchlists[watchlist].pk}/"

    def live_url(self, watchlist: str) -> str:
        return f"{self.page_url(watchlist)}live/"

    def cpu_groups(self) -> list[CpuGroup]:
        """The parts whose CPU time the report shows: everything on the machine's two cores."""
        return [
            *(CpuGroup(name, pgid=child.pgid) for name, child in self.children.items()),
            CpuGroup("bench", pid=os.getpid()),
            CpuGroup("py-spy", comm_prefix="py-spy"),
            CpuGroup("browser", descendants_of=os.getpid()),  # Playwright's driver and its Chromium
            CpuGroup("postgres", comm_prefix="postgres", cmdline_has=f" {POSTGRES_DATABASE} "),
            CpuGroup("postgres, shared", comm_prefix="postgres"),  # its background work, other databases
            CpuGroup("redis", comm_prefix="redis-server"),
        ]

    def check_alive(self) -> None:
        for child in self.children.values():
            child.check_alive()

    def server_errors(self) -> dict[str, int]:
        """What ended each traceback in the site's logs so far (a 500's cause), by count."""
        found: Counter[str] = Counter()
        for name in ("gunicorn", "watcher"):
            child = self.children.get(name)
            if child is None or child.log is None or not child.log.exists():
                continue
            lines = child.log.read_text(errors="replace").splitlines()
            for index, line in enumerate(lines):
                if not _EXCEPTION_LINE.match(line):
                    continue
                following = next((later for later in islice(lines, index + 1, None) if later.strip()), "")
                if not following.startswith(_CHAINED):  # a chain's last exception is what reached the top
                    found[f"{name}: {line[:200]}"] += 1
        return dict(found)


@contextmanager
def stack(*, watcher: bool, watchlists: dict[str, int], poll_interval: int) -> Iterator[Stack]:
    """A fresh site with `watchlists` (name -> number of jobs that stay active upstream)."""
    setup = "watcher" if watcher else "fallback"
    with ExitStack() as cleanup:
        data_dir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="jobsite-bench-")))
        upstream_child = cleanup.enter_context(
            running(
                "upstream",
                UPSTREAM_ARGV,
                env={**os.environ, UPSTREAM_TOKEN_VARIABLE: UPSTREAM_TOKEN, "PYTHONUNBUFFERED": "1"},
                cwd=PROJECT_DIR,
                log=data_dir / "upstream.log",
                pipes=True,
            )
        )
        upstream = Upstream.attach(upstream_child.popen, UPSTREAM_TOKEN)
        env = site_environment(data_dir)
        env["DATABASE_URL"] = cleanup.enter_context(postgres_database())
        env["REDIS_URL"] = cleanup.enter_context(emptied_redis())
        manage(env, "migrate", "--noinput")
        job_ids = {name: upstream.submit("stay_active", count) for name, count in watchlists.items()}
        pks = seed(env, upstream=upstream, job_ids=job_ids, poll_interval=poll_interval)
        children = {"upstream": upstream_child}
        port = free_port()
        children["gunicorn"] = cleanup.enter_context(
            running(
                "gunicorn",
                gunicorn_argv(port),
                env=env,
                cwd=PROJECT_DIR,
                log=data_dir / "gunicorn.log",
                stop_signal=signal.SIGINT,  # quick shutdown: SIGTERM waits for held requests
            )
        )
        url = f"http://{HOST}:{port}"
        wait_for_port(port, children["gunicorn"], START_TIMEOUT)
        wait_until_answering(f"{url}/accounts/login/", children["gunicorn"])
        if watcher:
            children["watcher"] = cleanup.enter_context(
                running(
                    "watcher",
                    [sys.executable, "manage.py", "watch", "--name", "bench"],
                    env=env,
                    cwd=PROJECT_DIR,
                    log=data_dir / "watcher.log",
                )
            )
        site = Stack(
            setup=setup,
            url=url,
            poll_interval=poll_interval,
            upstream=upstream,
            watchlists={name: Watchlist(pks[name], job_ids[name]) for name in watchlists},
            session_cookie=sign_in(url),
            children=children,
        )
        warm_up(site)
        yield site


def site_environment(data_dir: Path) -> dict[str, str]:
    """The README's production variables, on loopback, for a throwaway site."""
    dropped = {*SITE_VARIABLES, *(f"{name}_FILE" for name in SITE_VARIABLES)}
    env = {name: value for name, value in os.environ.items() if name not in dropped}
    env.update(
        DJANGO_SETTINGS_MODULE="jobsite.settings",
        JOBSITE_DATA_DIR=str(data_dir),
        SECRET_KEY=SECRET_KEY,
        DEBUG="0",
        ALLOWED_HOSTS=HOST,
        DATABASE_POOL_SIZE=str(POOL_SIZE),
        NO_PROXY=f"{HOST},localhost",  # the site's upstream client talks to the simulator directly
        no_proxy=f"{HOST},localhost",
        PYTHONUNBUFFERED="1",
    )
    return env


def gunicorn_argv(port: int) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "jobsite.wsgi:application",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--worker-class",
        "gthread",
        "--bind",
        f"{HOST}:{port}",
        "--graceful-timeout",
        "5",
    ]
    if _gunicorn_has_option("--no-control-socket"):  # gunicorn 24+ would otherwise open ~/.gunicorn/…
        argv.append("--no-control-socket")
    return argv


def _gunicorn_has_option(option: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    if done.returncode:
        raise SetupFailed(f"gunicorn is not installed: pip install -e '.[bench]'\n{done.stderr[-500:]}")
    return option in done.stdout


@contextmanager
def postgres_database() -> Iterator[str]:
    """An empty database `jobsite_bench`; dropped afterwards."""
    try:
        admin = psycopg.connect(
            host=HOST, port=5432, user=POSTGRES_USER, dbname="postgres", autocommit=True, connect_timeout=5
        )
    except psycopg.Error as error:
        raise SetupFailed(f"PostgreSQL on {HOST}:5432 is not usable: {str(error).strip()}") from None
    try:
        admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")
        yield f"postgres://{POSTGRES_USER}@{HOST}:5432/{POSTGRES_DATABASE}"
    finally:
        try:
            admin.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE} WITH (FORCE)")
        finally:
            admin.close()


@contextmanager
def emptied_redis() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.flushdb()
    except redis.RedisError as error:
        client.close()
        raise SetupFailed(f"Redis at {REDIS_URL} is not usable: {error}") from None
    try:
        yield REDIS_URL
    finally:
        try:
            client.flushdb()
        finally:
            client.close()


def _run_python(env: dict[str, str], args: list[str], *, what: str, stdin: str | None = None) -> str:
    """Run a Python step of the set-up in the project folder; its output, or SetupFailed."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode:
        raise SetupFailed(f"{what} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def manage(env: dict[str, str], *args: str) -> None:
    _run_python(env, ["manage.py", *args], what=f"manage.py {' '.join(args)}")


def seed(
    env: dict[str, str], *, upstream: Upstream, job_ids: dict[str, list[str]], poll_interval: int
) -> dict[str, int]:
    spec = {
        "username": USERNAME,
        "password": PASSWORD,
        "upstream_url": upstream.url,
        "token": upstream.token,
        "poll_interval": poll_interval,
        "watchlists": job_ids,
    }
    output = _run_python(env, ["-m", "bench.seed"], what="seeding the site", stdin=json.dumps(spec))
    return json.loads(output.splitlines()[-1])


def loopback_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: everything here is on loopback
    return session


def wait_until_answering(url: str, child: Child, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    with loopback_session() as session:
        while time.monotonic() < deadline:
            child.check_alive()
            try:
                if session.get(url, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
    raise ChildFailed(f"{url} did not answer 200 within {timeout:.0f} s:\n{child.log_tail()}")


def sign_in(url: str) -> str:
    """Sign in through Django's login form, as a browser would; returns the session cookie."""
    login_url = f"{url}/accounts/login/"
    with loopback_session() as session:
        form = session.get(login_url, timeout=30)
        token = pages.csrf_token(form.text)
        if token is None:
            raise SetupFailed(f"no CSRF token on {login_url} (HTTP {form.status_code})")
        answer = session.post(
            login_url,
            data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token},
            headers={"Referer": login_url},
            allow_redirects=False,
            timeout=30,
        )
        cookie = session.cookies.get(SESSION_COOKIE)
        if answer.status_code != 302 or not cookie:
            raise SetupFailed(f"signing in failed (HTTP {answer.status_code})")
        return cookie


def warm_up(site: Stack) -> None:
    """Until upstream has been asked about every job once, so the store holds every state: the
    watcher does that by itself; in the fallback, opening each watchlist's page does it."""
    job_ids = [job_id for watchlist in site.watchlists.values() for job_id in watchlist.job_ids]
    deadline = time.monotonic() + WARM_UP_TIMEOUT
    with loopback_session() as session:
        session.cookies.set(SESSION_COOKIE, site.session_cookie)
        while time.monotonic() < deadline:
            site.check_alive()
            if site.setup == "fallback":
                for name in site.watchlists:
                    session.get(site.live_url(name), headers={"HX-Request": "true"}, timeout=60)
            asks = site.upstream.asks(start=0, end=time.time() + 1, job_ids=job_ids, window=site.poll_interval)
            if asks["never_asked"] == 0:
                time.sleep(site.poll_interval)  # the last answers are written
                return
            time.sleep(0.5)
    raise SetupFailed(f"upstream was not asked about every job within {WARM_UP_TIMEOUT:.0f} s")
