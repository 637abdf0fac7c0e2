"""`manage.py simulator` as someone runs it: a real process, a real port, Ctrl-C to stop."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests

from jobsite.simulator.demo import DEMO_JOBS
from tests.machine import free_port

ROOT = Path(__file__).resolve().parents[2]


def start(data_dir: Path, *arguments: str, token: str | None = None) -> tuple[subprocess.Popen, str]:
    """Start the command and read its banner, up to the Ctrl-C line."""
    env = {**os.environ, "JOBSITE_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("JOBSITE_SIMULATOR_TOKEN", None)
    if token:
        env["JOBSITE_SIMULATOR_TOKEN"] = token
    process = subprocess.Popen(
        [sys.executable, "manage.py", "simulator", "--port", str(free_port()), *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    banner = ""
    while "Ctrl-C" not in banner:
        line = process.stdout.readline()
        if not line:
            break
        banner += line
    return process, banner


def interrupt(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=15)
        return process.returncode, output
    finally:
        process.kill()


def ask(url: str, token: str, job_ids: list[str]) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.post(f"{url}/jobs/statuses", json={"jobIds": job_ids}, headers=headers, timeout=5)


def test_it_serves_with_the_token_from_the_environment_without_printing_it_and_stops_on_ctrl_c(tmp_path):
    token = "token-from-the-environment"
    process, banner = start(tmp_path, "--demo-jobs", token=token)
    try:
        url = re.search(r"listening on (http://\S+)", banner).group(1)
        assert token not in banner
        answer = ask(url, token, [job.id for job in DEMO_JOBS]).json()
        assert set(answer) == {job.id for job in DEMO_JOBS}
    finally:
        returncode, output = interrupt(process)
    assert returncode == 0, output
    assert "Simulator stopped." in output


def test_it_generates_and_prints_a_token_when_none_is_set(tmp_path):
    process, banner = start(tmp_path)
    try:
        url = re.search(r"listening on (http://\S+)", banner).group(1)
        token = re.search(r"Token\s+(\S+)\s+\(generated", banner).group(1)
        assert ask(url, token, [str(DEMO_JOBS[0].id)]).json() == {}  # no demo jobs unless asked
    finally:
        returncode, output = interrupt(process)
    assert returncode == 0, output
