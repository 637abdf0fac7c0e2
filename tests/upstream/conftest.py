"""Fixtures for the upstream client tests: every HTTP call goes to `responses`, never the network."""

import pytest
import responses

from jobsite.upstream import client as client_module


@pytest.fixture
def rsps():
    # Unused registrations are allowed: some tests prove that no request was made.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture(autouse=True)
def empty_client_cache(monkeypatch):
    monkeypatch.setattr(client_module, "_clients", {})
