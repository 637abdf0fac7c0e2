"""The issue's targets, as the bench checks them."""

import math

from bench.report import render, targets
from bench.results import BrowserFigures, PollFigures, SetupFigures


def _viewers(count: int, *, answered: int, p95_ms: float, per_job: float) -> PollFigures:
    return PollFigures(
        viewers=count,
        seconds=20,
        ticks=count * 20,
        answered=answered,
        p50_ms=10,
        p95_ms=p95_ms,
        upstream={
            "per_job_per_window": per_job,
            "job_ids": 1,
            "windows": 20,
            "most_in_a_window": 1,
            "close_reasks": 0,
        },
    )


def test_it_checks_the_500_viewer_targets_only_at_500():
    setup = SetupFigures(
        setup="watcher",
        viewers=[
            _viewers(50, answered=10, p95_ms=math.inf, per_job=3.0),
            _viewers(500, answered=9_950, p95_ms=200, per_job=1.0),
        ],
    )

    found = targets(setup, poll_interval=1)

    assert [target.passed for target in found] == [True, True, True]


def test_it_fails_what_misses():
    setup = SetupFigures(setup="fallback", viewers=[_viewers(500, answered=9_000, p95_ms=math.inf, per_job=1.2)])

    found = targets(setup, poll_interval=1)

    assert [target.passed for target in found] == [False, False, False]
    assert "no answer" in found[1].measured


def test_it_allows_the_browser_one_second_over_the_poll_interval():
    within = SetupFigures(setup="watcher", browser=BrowserFigures(samples=20, p50_ms=900, p95_ms=2000))
    over = SetupFigures(setup="watcher", browser=BrowserFigures(samples=20, p50_ms=900, p95_ms=2001))

    assert targets(within, poll_interval=1)[0].passed is True
    assert targets(over, poll_interval=1)[0].passed is False


def test_it_renders_a_set_up_that_was_not_measured():
    text = render([SetupFigures(setup="watcher", skipped="no watch command")], poll_interval=1, jobs=1000, seconds=20)

    assert "watcher: not measured: no watch command" in text
