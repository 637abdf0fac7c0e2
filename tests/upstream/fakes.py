"""A client against a fake Immuta, and job IDs to ask it about."""

from __future__ import annotations

import json
from typing import Any

from jobsite.upstream.client import StatusesClient

TOKEN = "tok-5ecret-a1b2c3d4e5f6"
NAME = "Production"
BASE_URL = "https://immuta.example.com"
STATUSES_URL = f"{BASE_URL}/jobs/statuses"
EXCHANGE_URL = f"{BASE_URL}/bim/apikey/authenticate"


def make_client(**overrides: Any) -> StatusesClient:
    options: dict[str, Any] = {
        "name": NAME,
        "statuses_url": STATUSES_URL,
        "token": TOKEN,
        "auth_method": "bearer",
        "timeout": 10.0,
        "batch_size": 100,
    }
    options.update(overrides)
    return StatusesClient(**options)


def job_id(number: int) -> str:
    return f"0000cafe-0000-4000-8000-{number:012d}"


def sent_json(call) -> dict[str, Any]:
    return json.loads(call.request.body)
