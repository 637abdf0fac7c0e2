"""Watchlists in known shapes for the browser tests: every state at once, an upstream outage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from jobsite.statuses.models import JobStatus
from jobsite.watchlists import services
from jobsite.watchlists.models import Watchlist, WatchlistJob
from jobsite.watchlists.services import watchlist_create

# The seven states upstream reports, each pinned on one job of the scene.
SEVEN = ("created", "retry", "active", "completed", "cancelled", "expired", "failed")
LONG_OUTPUT = {
    "dataSource": "snowflake.sales",
    "error": "KeyError: 'customer_region' while applying policy 'Mask PII by region' to column "
    "sales.customers.customer_region (policy version 14)",
    "rowsSynced": 48213,
    "steps": ["fetch", "profile", "apply", "publish"],
}


@dataclass
class Scene:
    watchlist: Watchlist
    by_state: dict[str, str]  # state (or "unknown", "not_found") -> job ID
    labelled: str  # the job that carries a label


def age_store() -> None:
    """Every stored check is old: the next refresh asks upstream about every job."""
    JobStatus.objects.update(checked_at=datetime(2000, 1, 1, tzinfo=UTC))


def every_state(owner, connection, simulator, *, name: str = "Nightly loads", poll_interval: int = 1) -> Scene:
    """A watchlist with a job in each of the seven states, one in a state outside them
    ("paused": unknown), one upstream has never heard of, and a labelled job; states are in the
    store already, so the first render shows them."""
    jobs = simulator.submit(lifecycle="stay_active", count=len(SEVEN) + 1)
    by_state = dict(zip((*SEVEN, "unknown"), jobs, strict=True))
    for state in SEVEN:
        output = LONG_OUTPUT if state in ("failed", "completed") else None
        simulator.set_state(by_state[state], state, output=output)
    by_state["not_found"] = str(uuid.uuid4())
    watchlist = watchlist_create(
        owner=owner, name=name, connection=connection, poll_interval=poll_interval, job_ids=list(by_state.values())
    )
    services.watchlist_refresh(watchlist=watchlist)
    # Upstream invents a state outside the seven for one job: the page shows it as unknown.
    JobStatus.objects.filter(job_id=by_state["unknown"]).update(state="paused")
    labelled = by_state["failed"]
    job = WatchlistJob.objects.get(watchlist=watchlist, status__job_id=labelled)
    services.watchlist_job_label_set(job=job, label="Snowflake sync")
    return Scene(watchlist=watchlist, by_state=by_state, labelled=labelled)


def upstream_failing(simulator) -> None:
    """Upstream answers 500 from now on, and every stored state is due: the next page or refresh
    meets the failure and shows the last known states as stale."""
    simulator.set_fault("error_500")
    age_store()
