"""Sampling profiles of the site's processes during a measurement, with py-spy (`--profile DIR`).

py-spy attaches to gunicorn's master and its workers (`--subprocesses`) and to the watcher, without
pausing them (`--nonblocking`), and writes collapsed stacks ("frame;frame;… count" per line) when
the measurement ends. Only threads holding the GIL are sampled (`--gil`): a worker's Python CPU
time, which on two shared cores is what runs out. `summarize` turns one file into the lines the
report prints.
Profiling costs CPU on a machine that has little to spare: figures from a profiled run are for
explaining, not for quoting.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from bench.processes import running
from bench.servers import PROJECT_DIR, Stack

RATE = 100  # samples per second per thread
_PREFIX = re.compile(r"\((?:[^()]*/(?:site-packages|lib/python3\.\d+)/|" + re.escape(str(PROJECT_DIR)) + "/)")


def available() -> bool:
    return shutil.which("py-spy") is not None


class Profiler:
    """Profiles of every site process between start() and stop(); does nothing without a directory."""

    def __init__(self, directory: Path | None, site: Stack, label: str) -> None:
        self.directory = directory
        self.site = site
        self.label = label
        self.files: list[Path] = []
        self._stack = ExitStack()

    def start(self) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        for name in ("gunicorn", "watcher"):
            child = self.site.children.get(name)
            if child is None or not child.alive():
                continue
            output = self.directory / f"{self.site.setup}-{self.label}-{name}.txt"
            argv = [
                "py-spy",
                "record",
                "--pid",
                str(child.popen.pid),
                "--subprocesses",
                "--nonblocking",
                "--gil",
                "--rate",
                str(RATE),
                "--format",
                "raw",
                "--output",
                str(output),
            ]
            self._stack.enter_context(
                running(
                    f"py-spy {name}",
                    argv,
                    env=os.environ,
                    cwd=PROJECT_DIR,
                    log=self.directory / f"{output.stem}.log",
                    stop_signal=signal.SIGINT,
                )
            )
            self.files.append(output)

    def stop(self) -> None:
        self._stack.close()  # SIGINT: py-spy writes its file and exits


def summarize(path: Path, top: int = 6) -> list[str]:
    """One profile in a few lines: the share of samples per package (where each sample ended),
    the heaviest functions, and the innermost line of the site's own code in each sample (the
    line that called into Django or a driver; an outer middleware alone means Django's request
    handling around the view)."""
    if not path.exists():
        return [f"{path.name}: no profile written"]
    packages: Counter[str] = Counter()
    own: Counter[str] = Counter()
    innermost: Counter[str] = Counter()  # the deepest line of jobsite's own code in each sample
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [_short(frame) for frame in stack.split(";") if not frame.startswith(("process ", "thread "))]
        if not count.isdigit() or not frames:
            continue
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        packages[_package(frames[-1])] += samples
        site_frames = [frame for frame in frames if "(jobsite/" in frame]
        innermost[site_frames[-1] if site_frames else "(no site code)"] += samples
    if not total:
        return [f"{path.name}: no samples"]

    def shares(counter: Counter[str], sep: str) -> str:
        return sep.join(f"{count / total:.0%} {name}" for name, count in counter.most_common(top))

    return [
        f"{path.name}: {total:,} samples holding the GIL",
        f"  by package: {shares(packages, ', ')}",
        "  heaviest functions: " + shares(own, "; "),
        "  innermost jobsite line: " + shares(innermost, "; "),
    ]


def _short(frame: str) -> str:
    """`function (/…/site-packages/package/module.py:12)` → `function (package/module.py:12)`."""
    return _PREFIX.sub("(", frame)


def _package(frame: str) -> str:
    where = frame[frame.rfind("(") + 1 :]
    return where.split("/", 1)[0] if "/" in where else "stdlib"
