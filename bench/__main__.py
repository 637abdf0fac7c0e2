"""`python -m bench`: build each set-up, run the scenarios on it, print the report."""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench import profiling, report, scenarios, servers
from bench.processes import OTHER, ChildFailed, CpuGroup, cpu_seconds, cpu_share
from bench.results import SetupFigures
from bench.scenarios import POLL_INTERVAL, QUICK, SCENARIOS, WATCHLISTS, Plan, progress

SETUPS = ("watcher", "fallback")
LOCK_FILE = Path(tempfile.gettempdir()) / "jobsite-bench.lock"
BUSY_WARNING_CORES = 0.2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=(__doc__ or "").strip())
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run: 50 viewers, 5 s counts, 5 browser changes"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the raw figures here")
    parser.add_argument(
        "--only",
        action="append",
        choices=SCENARIOS,
        metavar="NAME",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)}",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--no-watcher", action="store_true", help="measure only the fallback (pages ask upstream themselves)"
    )
    which.add_argument("--no-fallback", action="store_true", help="measure only the set-up with `manage.py watch`")
    parser.add_argument("--viewers", metavar="N,N,…", help="viewer steps instead of 50,100,200,500")
    parser.add_argument("--seconds", type=float, help="seconds counted per viewer step and in the slow-upstream run")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="profile gunicorn and the watcher with py-spy during each measurement, into DIR "
        "(costs CPU: for explaining figures, not for quoting them)",
    )
    return parser.parse_args(argv)


def plan_from(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else Plan()
    if args.viewers:
        steps = tuple(sorted({int(step) for step in args.viewers.split(",")}))
        if not steps or steps[0] < 1:
            raise SystemExit("--viewers: whole numbers of at least 1")
        plan = dataclasses.replace(plan, viewer_steps=steps)
    if args.seconds is not None:
        if args.seconds <= 0:
            raise SystemExit("--seconds must be above 0")
        plan = dataclasses.replace(plan, seconds=args.seconds, slow_seconds=args.seconds)
    if args.profile:
        if not profiling.available():
            raise SystemExit("--profile needs py-spy: pip install py-spy")
        plan = dataclasses.replace(plan, profile_dir=args.profile.resolve())
    return plan


def measure(figures: SetupFigures, plan: Plan, names: tuple[str, ...]) -> None:
    """Fill `figures` scenario by scenario, so that an interrupted run still reports what it measured."""
    setup = figures.setup
    if setup == "watcher" and not servers.watcher_available():
        figures.skipped = f"{servers.WATCH_COMMAND.relative_to(servers.PROJECT_DIR)} does not exist yet"
        progress(f"watcher: skipped, {figures.skipped}")
        return
    progress(f"{setup}: setting up (database, migrate, seed, gunicorn{', watcher' if setup == 'watcher' else ''})")
    problems = []
    try:
        with servers.stack(watcher=setup == "watcher", watchlists=WATCHLISTS, poll_interval=POLL_INTERVAL) as site:
            for name in names:
                scenarios.settle(site)
                try:
                    if name == "viewers":
                        scenarios.viewers(site, plan, figures.viewers)
                    elif name == "throughput":
                        figures.throughput = scenarios.throughput(site, plan)
                    elif name == "browser":
                        figures.browser = scenarios.browser(site, plan)
                    elif name == "slow":
                        figures.slow_upstream = scenarios.slow_upstream(site, plan)
                        figures.slow_upstream_seconds = plan.slow_answer_seconds
                except (ChildFailed, servers.SetupFailed):
                    raise
                except Exception as error:  # one scenario's failure does not end the others
                    problems.append(f"{name}: {type(error).__name__}: {error}")
                    progress(f"{setup}: {name} failed: {type(error).__name__}: {error}")
                    site.check_alive()
    except (ChildFailed, servers.SetupFailed) as error:
        problems.append(str(error))
        progress(f"{setup}: {error}")
    figures.failed = "; ".join(problems) or None


def revision() -> str:
    """The commit measured, with "+changes" when the working tree differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=servers.PROJECT_DIR, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine() -> dict[str, str | int]:
    model = ""
    with suppress(OSError, StopIteration):
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    return {"cores": os.cpu_count() or 0, "cpu": model, "python": platform.python_version()}


@contextmanager
def _only_bench() -> Iterator[None]:
    """One bench at a time: two would drop each other's database and empty each other's Redis."""
    with LOCK_FILE.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"another bench is running (it holds {LOCK_FILE})") from None
        yield


def busy_elsewhere(seconds: float = 3.0) -> float:
    """Cores other processes keep busy right now: the bench shares the machine with them."""
    groups = [CpuGroup("bench", pid=os.getpid())]
    before = cpu_seconds(groups)
    time.sleep(seconds)
    return cpu_share(before, cpu_seconds(groups), seconds)[OTHER]


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same cleanup as Ctrl-C: every `with` block stops its processes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = plan_from(args)
    names = tuple(name for name in SCENARIOS if not args.only or name in args.only)
    skipped = {"watcher"} if args.no_watcher else {"fallback"} if args.no_fallback else set()
    results = [SetupFigures(setup=setup) for setup in SETUPS if setup not in skipped]
    started = time.monotonic()
    started_at_revision = revision()
    interrupted = False
    with _only_bench():
        signal.signal(signal.SIGTERM, _terminate)
        elsewhere = busy_elsewhere()
        if elsewhere > BUSY_WARNING_CORES:
            progress(
                f"other processes keep {elsewhere:.1f} cores busy: these figures will be lower than on a quiet machine"
            )
        try:
            for figures in results:
                measure(figures, plan, names)
        except KeyboardInterrupt:
            interrupted = True
            progress("interrupted; everything it started is stopped")
    wall = time.monotonic() - started
    print(report.render(results, poll_interval=POLL_INTERVAL, jobs=WATCHLISTS[scenarios.BIG], seconds=plan.seconds))
    print(
        f"\nRevision {started_at_revision}; wall time {wall:.0f} s; "
        f"other processes kept {elsewhere:.2f} cores busy just before it began."
    )
    if args.json:
        meta = {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "command": " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)]),
            "revision": started_at_revision,
            "machine": machine(),
            "plan": dataclasses.asdict(plan),
            "jobs": WATCHLISTS,
            "poll_interval": POLL_INTERVAL,
            "wall_seconds": round(wall),
            "busy_elsewhere_at_start": round(elsewhere, 2),
        }
        raw = report.as_json(results, meta=meta, poll_interval=POLL_INTERVAL)
        args.json.write_text(json.dumps(raw, indent=2, default=str) + "\n")
    if interrupted:
        return 130
    measured_nothing = all(figures.failed or figures.skipped for figures in results)
    return 1 if measured_nothing else 0


if __name__ == "__main__":
    sys.exit(main())
