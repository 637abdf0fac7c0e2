"""The bench's statistics."""

import math

from bench.results import ThroughputFigures, WrkRun, percentile


def test_it_takes_the_nearest_rank_percentile():
    values = [float(value) for value in range(1, 101)]

    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 100) == 100
    assert percentile([7.0], 95) == 7


def test_it_counts_polls_without_an_answer_as_infinitely_slow():
    values = [0.01] * 94 + [math.inf] * 6

    assert percentile(values, 50) == 0.01
    assert percentile(values, 95) == math.inf


def test_it_has_no_percentile_of_nothing():
    assert percentile([], 50) is None


def _run(rps: float) -> WrkRun:
    return WrkRun(
        url="u",
        seconds=5,
        connections=32,
        requests_per_second=rps,
        requests=0,
        p50_ms=None,
        p99_ms=None,
        socket_errors=0,
        non_2xx=0,
    )


def test_it_compares_mean_throughputs():
    figures = ThroughputFigures(
        plain=[_run(400), _run(600)],
        poll=[_run(300), _run(200)],
        poll_status_before=204,
        poll_status_after=204,
    )

    assert figures.ratio == 0.5
