"""Who upstream was asked about, and when."""

from bench.upstream import AskLog

A, B = "aaaaaaaa-0000-0000-0000-000000000000", "bbbbbbbb-0000-0000-0000-000000000000"


def test_it_counts_asks_per_job_and_window():
    log = AskLog()
    for second in range(100, 110):
        log.record([A, B], at=second + 0.3)

    summary = log.summary(start=100, end=110, job_ids=[A, B], window=1)

    assert summary["requests"] == 10
    assert summary["job_ids"] == 20
    assert summary["windows"] == 10
    assert summary["per_job_per_window"] == 1.0
    assert summary["most_in_a_window"] == 1
    assert summary["close_reasks"] == 0
    assert summary["never_asked"] == 0


def test_it_leaves_out_asks_outside_the_count_and_jobs_not_followed():
    log = AskLog()
    log.record([A], at=99.9)
    log.record([A, B], at=100.5)
    log.record([A], at=110.0)

    summary = log.summary(start=100, end=110, job_ids=[A], window=1)

    assert summary["job_ids"] == 1
    assert summary["requests"] == 1
    assert summary["per_job_per_window"] == 0.1


def test_it_notices_a_job_asked_twice_in_one_window():
    log = AskLog()
    log.record([A], at=100.1)
    log.record([A], at=100.2)
    log.record([B], at=100.1)

    summary = log.summary(start=100, end=102, job_ids=[A, B], window=1)

    assert summary["most_in_a_window"] == 2
    assert summary["close_reasks"] == 1


def test_it_notices_a_close_reask_across_a_window_edge_and_the_count_start():
    log = AskLog()
    log.record([A], at=99.95)
    log.record([A], at=100.05)

    summary = log.summary(start=100, end=101, job_ids=[A], window=1)

    assert summary["most_in_a_window"] == 1
    assert summary["close_reasks"] == 1


def test_it_matches_job_ids_whatever_their_case():
    log = AskLog()
    log.record([A.upper()], at=100.5)

    assert log.summary(start=100, end=101, job_ids=[A], window=1)["job_ids"] == 1
