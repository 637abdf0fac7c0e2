"""`manage.py demo` as an analyst runs it: a real process, real ports, Ctrl-C to stop."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.machine import free_port

ROOT = Path(__file__).resolve().parents[2]


def start_demo(data_dir: Path, *extra: str) -> tuple[subprocess.Popen, str, str]:
    """Start the demo, wait for its banner; return the process, the site URL and the password."""
    site_port, simulator_port = free_port(), free_port()
    env = {**os.environ, "JOBSITE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "demo",
            "--port",
            str(site_port),
            "--simulator-port",
            str(simulator_port),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = ""
    deadline = time.monotonic() + 60
    while "Stop" not in banner and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        banner += line
    match = re.search(r"Sign in\s+demo / (\S+)", banner)
    assert match, f"no sign-in line in the demo's output:\n{banner}"
    url = f"http://127.0.0.1:{site_port}"
    for _ in range(100):  # runserver binds just after the banner
        try:
            requests.get(url + "/accounts/login/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    return process, url, match.group(1)


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=15)
    finally:
        process.kill()


def sign_in(url: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(url + "/accounts/login/")
    response = session.post(
        url + "/accounts/login/",
        data={"username": "demo", "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": url + "/accounts/login/"},
    )
    response.raise_for_status()
    return session


def test_it_starts_a_working_demo_and_runs_again_reusing_what_exists(tmp_path):
    process, url, password = start_demo(tmp_path)
    try:
        home = sign_in(url, password).get(url + "/").text
        assert "Nightly loads" in home and "Policy rebuilds" in home
        assert "simulator" in home
    finally:
        assert stop(process) == 0

    process, url, second_password = start_demo(tmp_path)
    try:
        assert second_password == password
        home = sign_in(url, password).get(url + "/").text
        assert home.count("Nightly loads") == 1
    finally:
        assert stop(process) == 0


def observed_states(data_dir: Path) -> dict[str, list[str]]:
    """Each job's observed timeline, read straight from the demo's database."""
    with sqlite3.connect(data_dir / "db.sqlite3", timeout=10) as db:
        rows = db.execute("SELECT job_id, state FROM statuses_statechange ORDER BY observed_at, id").fetchall()
    timelines: dict[str, list[str]] = {}
    for job_id, state in rows:
        timelines.setdefault(job_id, []).append(state)
    return timelines


def test_the_demos_jobs_move_with_no_page_open_and_every_state_is_observed(tmp_path):
    # Three seconds a lifecycle step: longer than the demo's 2 s pollInterval, so nothing is missed.
    process, _url, _password = start_demo(tmp_path, "--speed", "3")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            timelines = observed_states(tmp_path)
            if any("retry" in states and states[-1] == "completed" for states in timelines.values()):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"no retried job finished within 60 s with no page open: {timelines}")
        retried = next(states for states in timelines.values() if "retry" in states)
        assert retried == ["created", "active", "retry", "active", "completed"]
    finally:
        assert stop(process) == 0
