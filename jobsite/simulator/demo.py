"""The demo's jobs: two watchlists whose jobs pass through all seven states in a few minutes.

IDs are uuid5 of a fixed namespace, so every run of the demo watches the same jobs, and each
simulator start replays their timelines from the beginning. Delays (in ticks spent in `created`)
stagger the jobs: at the demo's 6 seconds per tick, the last one ends after about three minutes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

DEMO_NAMESPACE = uuid.UUID("5b0f3c1e-7a43-4d1f-9c55-0e6b2a9d7f10")
NIGHTLY_LOADS = "Nightly loads"
POLICY_REBUILDS = "Policy rebuilds"


@dataclass(frozen=True)
class DemoJob:
    watchlist: str
    index: int
    lifecycle: str
    delay: int
    name: str  # the pg-boss queue, reported as an undocumented extra field
    output: Any = None  # None: the lifecycle's default

    @property
    def id(self) -> str:
        return str(uuid.uuid5(DEMO_NAMESPACE, f"{self.watchlist}/{self.index}"))


def _sync(index: int, lifecycle: str, delay: int, source: str, rows: int | None = None) -> DemoJob:
    """A data-source sync; `rows` is the result it reports if it completes."""
    output = None if rows is None else {"dataSource": source, "rowsSynced": rows}
    return DemoJob(NIGHTLY_LOADS, index, lifecycle, delay, "datasource-sync", output)


def _rebuild(index: int, lifecycle: str, delay: int, policy: str, updated: int | None = None) -> DemoJob:
    """A policy rebuild; `updated` is the result it reports if it completes."""
    output = None if updated is None else {"policy": policy, "dataSourcesUpdated": updated}
    return DemoJob(POLICY_REBUILDS, index, lifecycle, delay, "policy-rebuild", output)


_LEDGER_ERROR = {
    "name": "Error",
    "message": "Permission denied for table databricks.finance.ledger",
    "stack": "Error: Permission denied for table databricks.finance.ledger\n"
    "    at syncDataSource (/opt/immuta/worker/sync.js:212:15)\n"
    "    at async runJob (/opt/immuta/worker/jobs.js:118:11)",
}

DEMO_JOBS: tuple[DemoJob, ...] = (
    _sync(0, "instant", 0, "snowflake.sales", 48213),
    _sync(1, "succeed", 0, "snowflake.customers", 120544),
    _sync(2, "succeed_slowly", 1, "databricks.events", 9311207),
    _sync(3, "retry_succeed", 2, "redshift.orders", 730118),
    DemoJob(NIGHTLY_LOADS, 4, "fail", 4, "datasource-sync", _LEDGER_ERROR),
    _sync(5, "expire", 6, "postgres.audit_log"),
    _sync(6, "succeed", 8, "bigquery.web_sessions", 2204981),
    _sync(7, "cancel", 10, "snowflake.marketing_spend"),
    _sync(8, "succeed_slowly", 14, "postgres.inventory", 58310),
    _sync(9, "retry_succeed", 18, "s3.clickstream", 15022760),
    _sync(10, "succeed", 24, "snowflake.finance_daily", 3915),
    _rebuild(0, "instant", 0, "Mask PII for analysts", 37),
    _rebuild(1, "succeed", 1, "Row access by region", 12),
    _rebuild(2, "succeed_slowly", 2, "Minimize HR data", 8),
    _rebuild(3, "cancel", 3, "Purpose: fraud detection"),
    _rebuild(4, "retry_succeed", 5, "Mask card numbers", 21),
    _rebuild(5, "expire", 7, "Time-limited access for contractors"),
    _rebuild(6, "succeed", 9, "Hash customer emails", 16),
    _rebuild(7, "succeed_slowly", 12, "Differential privacy on payroll", 4),
    _rebuild(8, "cancel", 16, "Legacy marketing subscription"),
    _rebuild(9, "succeed", 20, "Restrict EU residents' data", 29),
)

# What `manage.py demo` saves as watchlists: (watchlist name, [(job ID, lifecycle), ...]).
DEMO_WATCHLISTS: list[tuple[str, list[tuple[str, str]]]] = [
    (watchlist, [(job.id, job.lifecycle) for job in DEMO_JOBS if job.watchlist == watchlist])
    for watchlist in (NIGHTLY_LOADS, POLICY_REBUILDS)
]
