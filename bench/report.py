"""The issue's targets, checked against the figures, and the report: tables for people, JSON for
scripts. This is a measurement, not a test: a FAIL is printed, not raised."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from bench.processes import OTHER
from bench.results import PollFigures, SetupFigures, WrkRun

TARGET_VIEWERS = 500
TARGET_ANSWERED = 0.99
TARGET_P95_MS = 250.0
TARGET_ASKS_PER_JOB_PER_WINDOW = 1.0
TARGET_THROUGHPUT_RATIO = 0.5
TARGET_SLOW_P95_MS = 300.0
TARGET_BROWSER_SLACK_MS = 1000.0  # on top of the pollInterval
VERDICTS = {True: "PASS", False: "FAIL", None: "-"}
DISTURBED_CORES = 0.3  # other processes busier than this during a count: its row is marked *


@dataclass(frozen=True)
class Target:
    setup: str
    name: str
    passed: bool | None  # None: not measured
    measured: str


def viewer_checks(figures: PollFigures) -> dict[str, bool | None]:
    """The 500-viewer targets, applied to any number of viewers."""
    share = figures.answered_share
    return {
        "answered": None if share is None else share >= TARGET_ANSWERED,
        "p95": None if figures.p95_ms is None else figures.p95_ms <= TARGET_P95_MS,
        "upstream": _upstream_check(figures),
    }


def _upstream_check(figures: PollFigures) -> bool | None:
    per_job = figures.upstream.get("per_job_per_window")
    return None if per_job is None else per_job <= TARGET_ASKS_PER_JOB_PER_WINDOW


def targets(setup: SetupFigures, poll_interval: float) -> list[Target]:
    found: list[Target] = []
    at_target = next((figures for figures in setup.viewers if figures.viewers == TARGET_VIEWERS), None)
    if at_target is not None:
        checks = viewer_checks(at_target)
        found += [
            Target(
                setup.setup,
                f"{TARGET_VIEWERS} viewers: ≥ {TARGET_ANSWERED:.0%} of polls answered",
                checks["answered"],
                _share(at_target.answered_share),
            ),
            Target(
                setup.setup,
                f"{TARGET_VIEWERS} viewers: poll p95 ≤ {TARGET_P95_MS:g} ms",
                checks["p95"],
                _ms(at_target.p95_ms),
            ),
            Target(
                setup.setup,
                f"{TARGET_VIEWERS} viewers: upstream asked ≤ {TARGET_ASKS_PER_JOB_PER_WINDOW:g}× per job per window",
                checks["upstream"],
                _asks(at_target),
            ),
        ]
    if setup.throughput is not None:
        result = setup.throughput
        ratio = result.ratio
        measured = f"{result.poll_rps:,.0f} / {result.plain_rps:,.0f} req/s = {ratio or 0:.2f}×"
        if result.poll_status_before != 204:
            measured += f" (but the poll answered {result.poll_status_before}, not 204)"
        found.append(
            Target(
                setup.setup,
                f"unchanged poll ≥ {TARGET_THROUGHPUT_RATIO:g} × the sign-in page's throughput",
                None if ratio is None else ratio >= TARGET_THROUGHPUT_RATIO and result.poll_status_before == 204,
                measured,
            )
        )
    if setup.slow_upstream is not None:
        p95 = setup.slow_upstream.p95_ms
        found.append(
            Target(
                setup.setup,
                f"upstream answering in {setup.slow_upstream_seconds:g} s: poll p95 < {TARGET_SLOW_P95_MS:g} ms",
                None if p95 is None else p95 < TARGET_SLOW_P95_MS,
                f"{_ms(p95)}, {_share(setup.slow_upstream.answered_share)} answered",
            )
        )
    if setup.browser is not None:
        limit = poll_interval * 1000 + TARGET_BROWSER_SLACK_MS
        p95 = setup.browser.p95_ms
        found.append(
            Target(
                setup.setup,
                f"change upstream → row in Chromium, p95 ≤ pollInterval + 1 s ({limit:g} ms)",
                None if p95 is None else p95 <= limit,
                f"{_ms(p95)} (p50 {_ms(setup.browser.p50_ms)}, {setup.browser.samples} changes)",
            )
        )
    return found


# Formatting.


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return "no answer" if math.isinf(value) else f"{value:,.0f} ms"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _asks(figures: PollFigures) -> str:
    upstream = figures.upstream
    if not upstream:
        return "-"
    return (
        f"{upstream['per_job_per_window']:.2f} ({upstream['job_ids']:,} IDs in {upstream['windows']:g} windows; "
        f"most in one window {upstream['most_in_a_window']}, close re-asks {upstream['close_reasks']})"
    )


def _counts(counts: dict[str, int]) -> str:
    return " ".join(f"{name}×{count:,}" for name, count in counts.items()) or "-"


def _cores(cores: dict[str, float]) -> str:
    return " ".join(f"{label} {value:.2f}" for label, value in sorted(cores.items(), key=lambda item: -item[1])) or "-"


def table(headers: list[str], rows: Iterable[list[str]]) -> str:
    """First column left-aligned, the last one too (free text), the others right-aligned."""
    rows = list(rows)
    widths = [max(len(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    last = len(headers) - 1
    lines = []
    for cells in (headers, *rows):
        out = [
            cell.ljust(width) if index in (0, last) else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        lines.append("  ".join(out).rstrip())
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


POLL_HEADERS = [
    "setup", "viewers", "answered", "p50", "p95", "p99", "asks/job/window", "max/window", "close re-asks",
    "ramp-up s", "client lag p95", "answers",
]  # fmt: skip


def _poll_row(setup: str, figures: PollFigures) -> list[str]:
    checks = viewer_checks(figures)
    upstream = figures.upstream
    answers = _counts(figures.statuses)
    if figures.failures:
        answers += f"; unanswered: {_counts(figures.failures)}"
    if figures.skipped:
        answers += f"; skipped ticks ×{figures.skipped:,}"
    if figures.first_render_failures:
        answers += f"; first renders failed: {_counts(figures.first_render_failures)}"
    disturbed = figures.cpu_cores.get(OTHER, 0.0) > DISTURBED_CORES
    return [
        setup,
        f"{figures.viewers}{'*' if disturbed else ''}",
        f"{_share(figures.answered_share)} {VERDICTS[checks['answered']]}",
        _ms(figures.p50_ms),
        f"{_ms(figures.p95_ms)} {VERDICTS[checks['p95']]}",
        _ms(figures.p99_ms),
        f"{upstream['per_job_per_window']:.2f} {VERDICTS[checks['upstream']]}" if upstream else "-",
        str(upstream.get("most_in_a_window", "-")),
        str(upstream.get("close_reasks", "-")),
        _ramp_up(figures),
        _ms(figures.loop_lag_p95_ms),
        answers,
    ]


def _ramp_up(figures: PollFigures) -> str:
    if figures.ramp_up_seconds is not None:
        return f"{figures.ramp_up_seconds:.1f}"
    return f"{figures.loaded}/{figures.viewers} loaded"


def _viewers_section(setups: list[SetupFigures], seconds: float) -> list[str]:
    rows = [_poll_row(setup.setup, figures) for setup in setups for figures in setup.viewers]
    if not rows:
        return []
    return [
        f"Viewers polling like htmx, {seconds:g} s counted per row. Latencies are over every poll sent, one",
        "without an answer counting as infinite; 'answered' is over every tick, skipped ones included.",
        f"*: other people's processes used more than {DISTURBED_CORES:g} cores during the count.",
        table(POLL_HEADERS, rows),
        "",
    ]


def _throughput_section(setups: list[SetupFigures]) -> list[str]:
    rows = []
    connections = None
    for setup in setups:
        result = setup.throughput
        if result is None or not result.plain:
            continue
        connections = result.plain[0].connections
        errors = sum(run.socket_errors + run.non_2xx for run in [*result.plain, *result.poll])
        verdict = VERDICTS[None if result.ratio is None else result.ratio >= TARGET_THROUGHPUT_RATIO]
        plain_cost = result.cpu_ms_per_request(result.plain_cpu_cores, result.plain_rps)
        poll_cost = result.cpu_ms_per_request(result.poll_cpu_cores, result.poll_rps)
        rows.append(
            [
                setup.setup,
                f"{result.plain_rps:,.0f} ({_runs(result.plain)})",
                f"{result.poll_rps:,.0f} ({_runs(result.poll)})",
                f"{result.ratio or 0:.2f}× {verdict}",
                f"{_cost(plain_cost)} / {_cost(poll_cost)}",
                f"{result.poll_status_before} → {result.poll_status_after}",
                str(errors),
            ]
        )
    if not rows:
        return []
    headers = ["setup", "sign-in page", "unchanged poll", "ratio", "CPU ms/req", "poll HTTP", "errors"]
    return [
        f"Throughput with wrk, {connections} connections, a new one per request: req/s, the mean of the runs",
        "(each run in brackets). CPU ms/req: gunicorn's and PostgreSQL's CPU per request, sign-in page / poll.",
        table(headers, rows),
        "",
    ]


def _cost(ms: float | None) -> str:
    return "-" if ms is None else f"{ms:.1f}"


def _runs(runs: list[WrkRun]) -> str:
    return " / ".join(f"{run.requests_per_second:,.0f}" for run in runs)


def _slow_section(setups: list[SetupFigures]) -> list[str]:
    rows = [_poll_row(setup.setup, setup.slow_upstream) for setup in setups if setup.slow_upstream]
    if not rows:
        return []
    seconds = next(setup.slow_upstream_seconds for setup in setups if setup.slow_upstream)
    return [f"Upstream taking {seconds:g} s per answer (* as above)", table(POLL_HEADERS, rows), ""]


def _browser_section(setups: list[SetupFigures]) -> list[str]:
    rows = [
        [
            setup.setup,
            str(setup.browser.samples),
            _ms(setup.browser.p50_ms),
            _ms(setup.browser.p95_ms),
            _ms(setup.browser.max_ms),
            str(setup.browser.timeouts),
            _counts(setup.browser.page_polls),
        ]
        for setup in setups
        if setup.browser
    ]
    if not rows:
        return []
    misses = [
        f"  {setup.setup}: never shown: {miss}" for setup in setups if setup.browser for miss in setup.browser.misses
    ]
    return [
        "Change upstream → row on screen in Chromium (a 50-job watchlist, same pollInterval)",
        table(["setup", "changes", "p50", "p95", "max", "never shown", "the page's polls meanwhile"], rows),
        *misses[:6],
        "",
    ]


def _cpu_section(setups: list[SetupFigures]) -> list[str]:
    rows = []
    for setup in setups:
        runs = [(f"{figures.viewers} viewers", figures.cpu_cores, figures.worker_cores) for figures in setup.viewers]
        if setup.throughput:
            result = setup.throughput
            runs.append(("wrk, sign-in page", result.plain_cpu_cores, result.plain_worker_cores))
            runs.append(("wrk, unchanged poll", result.poll_cpu_cores, result.poll_worker_cores))
        if setup.slow_upstream:
            runs.append(("slow upstream", setup.slow_upstream.cpu_cores, setup.slow_upstream.worker_cores))
        if setup.browser:
            runs.append(("browser", setup.browser.cpu_cores, setup.browser.worker_cores))
        rows += [
            [setup.setup, run, " + ".join(f"{cores:.2f}" for cores in workers) or "-", _cores(cores)]
            for run, cores, workers in runs
        ]
    if not rows:
        return []
    return [
        "Where the CPU went (cores on average; 'other processes' is work that is not the bench's;",
        "wrk's own CPU is not counted)",
        table(["setup", "run", "gunicorn workers", "cores"], rows),
        "",
    ]


def _problems_section(setups: list[SetupFigures]) -> list[str]:
    lines = []
    for setup in setups:
        if setup.skipped:
            lines.append(f"{setup.setup}: not measured: {setup.skipped}")
        if setup.failed:
            lines.append(f"{setup.setup}: ERROR: {setup.failed}")
        runs = [(f"{figures.viewers} viewers", figures) for figures in setup.viewers]
        if setup.slow_upstream:
            runs.append(("slow upstream", setup.slow_upstream))
        for run, figures in runs:
            lines += [
                f"{setup.setup}, {run}: {count} × {error} in the logs" for error, count in figures.server_errors.items()
            ]
    return [*lines, ""] if lines else []


def _profile_section(setups: list[SetupFigures]) -> list[str]:
    lines = [
        f"  {line}"
        for setup in setups
        for figures in [*setup.viewers, setup.throughput, setup.slow_upstream, setup.browser]
        if figures is not None
        for line in figures.profile
    ]
    return ["Profiles (py-spy)", *lines, ""] if lines else []


def _targets_section(setups: list[SetupFigures], poll_interval: float) -> list[str]:
    found = [target for setup in setups for target in targets(setup, poll_interval)]
    if not found:
        return []
    passed = sum(target.passed is True for target in found)
    return [
        "Targets",
        *(f"  {VERDICTS[target.passed]}  [{target.setup}] {target.name}: {target.measured}" for target in found),
        f"{passed} of {len(found)} targets pass.",
    ]


def render(setups: list[SetupFigures], *, poll_interval: float, jobs: int, seconds: float) -> str:
    header = [
        "jobsite bench: gunicorn (2 gthread workers × 16 threads) + PostgreSQL + Redis, the upstream simulator,",
        f"one {jobs:,}-job watchlist of running jobs, pollInterval {poll_interval:g} s. Load generator, servers",
        "and simulator share this machine's cores. PASS/FAIL in every row of a poll table applies the",
        f"{TARGET_VIEWERS}-viewer targets (answered ≥ {TARGET_ANSWERED:.0%}, p95 ≤ {TARGET_P95_MS:g} ms, "
        f"≤ {TARGET_ASKS_PER_JOB_PER_WINDOW:g} ask per job per window).",
        "",
    ]
    return "\n".join(
        [
            *header,
            *_problems_section(setups),
            *_viewers_section(setups, seconds),
            *_throughput_section(setups),
            *_slow_section(setups),
            *_browser_section(setups),
            *_cpu_section(setups),
            *_profile_section(setups),
            *_targets_section(setups, poll_interval),
        ]
    ).rstrip()


def as_json(setups: list[SetupFigures], *, meta: dict[str, Any], poll_interval: float) -> dict[str, Any]:
    """The raw figures; a latency with no answer (infinite) is written as the string "inf"."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and math.isinf(value):
            return "inf"
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    return clean(
        {
            **meta,
            "setups": [asdict(setup) for setup in setups],
            "targets": [asdict(target) for setup in setups for target in targets(setup, poll_interval)],
        }
    )
