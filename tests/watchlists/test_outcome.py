"""How a watchlist says how it ended: a finished run with failures reads as failed (its status
line and its bar), never as a success; home puts the most urgent watchlists first."""

import re

import pytest
from django.urls import reverse

from jobsite.watchlists.selectors import summarize
from jobsite.watchlists.templatetags.job_display import attention_of, by_attention, finish_outcome, outcome_segments


def page_of(client, watchlist) -> str:
    return " ".join(client.get(reverse("watchlist", args=[watchlist.pk])).content.decode().split())


def summary_of(html: str) -> str:
    return html[html.index('id="live-summary"') : html.index("</div>", html.index('class="done'))]


def bar_of(html: str) -> dict[str, str]:
    bar = html[html.index('class="bar"') : html.index("</span></span>", html.index('class="bar"'))]
    return dict(re.findall(r'class="bar-(\w+)" style="width: ([\d.]+)%"', bar))


@pytest.fixture
def finished(make_watchlist, simulator):
    def make(*states):
        jobs = simulator.submit(lifecycle="stay_active", count=len(states))
        for job, state in zip(jobs, states, strict=True):
            simulator.set_state(job, state, output="boom" if state == "failed" else None)
        return make_watchlist(jobs)

    return make


def test_a_finished_run_with_a_failure_reads_as_failed(owner_client, finished):
    html = page_of(owner_client, finished("completed", "completed", "completed", "failed"))
    summary = summary_of(html)
    assert 'data-outcome="failed"' in summary and 'class="done done-failed"' in summary
    assert "Every job has finished; 1 of 4 failed." in summary
    assert '<span class="badge badge-failed">Failed</span>' in summary
    assert bar_of(html) == {"completed": "75.000", "failed": "25.000"}
    assert 'aria-label="4 of 4 finished: 3 completed, 1 failed"' in html


def test_a_finished_run_that_all_completed_reads_as_completed(owner_client, finished):
    html = page_of(owner_client, finished("completed", "completed"))
    assert 'data-outcome="completed"' in summary_of(html)
    assert "Every job has finished and completed" in html
    assert bar_of(html) == {"completed": "100.000"}


def test_a_finished_run_with_cancelled_jobs_says_not_all_completed(owner_client, finished):
    html = page_of(owner_client, finished("completed", "cancelled"))
    assert 'data-outcome="mixed"' in summary_of(html)
    assert "not all of them completed" in html
    assert bar_of(html) == {"completed": "50.000", "other": "50.000"}


def test_the_bar_leaves_unfinished_jobs_empty(owner_client, make_watchlist, simulator):
    jobs = simulator.submit(lifecycle="stay_active", count=4)
    simulator.set_state(jobs[0], "failed", output="boom")
    html = page_of(owner_client, make_watchlist(jobs))
    assert bar_of(html) == {"failed": "25.000"}
    assert 'class="done' not in html


def test_home_puts_failed_then_running_then_finished_first(owner_client, make_watchlist, finished, simulator):
    finished("completed").name = "Archive"
    make_watchlist(simulator.submit(lifecycle="stay_active", count=1), name="Billing")
    failed = finished("completed", "failed")
    failed.name = "Customers"
    failed.save()
    html = owner_client.get(reverse("home")).content.decode()
    names = re.findall(r'<h2><a href="/watchlists/\d+/">([^<]+)</a></h2>', html)
    assert names == ["Customers", "Billing", "Nightly loads"]
    assert 'class="card card-failed"' in html and "1 failed" in html


@pytest.mark.parametrize(
    ("groups", "outcome", "attention"),
    [
        ([("completed", True, 2), ("failed", True, 1)], "failed", "failed"),
        ([("failed", True, 1), ("active", False, 1)], None, "failed"),
        ([("completed", True, 2), ("expired", True, 1)], "mixed", "finished"),
        ([("completed", True, 3)], "completed", "finished"),
        ([("completed", True, 1), ("active", False, 1)], None, "running"),
    ],
)
def test_the_outcome_and_the_attention_come_from_the_counts(groups, outcome, attention):
    summary = summarize(groups)
    assert summary.done == (outcome is not None)
    if outcome:
        assert finish_outcome(summary) == outcome
    assert attention_of(summary) == attention


def test_the_attention_order_keeps_the_given_order_within_a_group():
    done, running, failed = (
        summarize([("completed", True, 1)]),
        summarize([("active", False, 1)]),
        summarize([("failed", True, 1)]),
    )
    cards = [("a", done), ("b", running), ("c", failed), ("d", running), ("e", done), ("f", failed)]
    assert [name for name, _summary in by_attention(cards)] == ["c", "f", "b", "d", "a", "e"]


def test_the_segments_are_the_finished_share_of_all_jobs():
    segments = outcome_segments(summarize([("completed", True, 1), ("failed", True, 1), ("active", False, 2)]))
    assert [(s.outcome, s.count, s.width) for s in segments] == [("completed", 1, "25.000"), ("failed", 1, "25.000")]
