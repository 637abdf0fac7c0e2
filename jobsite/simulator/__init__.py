"""Simulator: an Immuta-compatible `POST /jobs/statuses` server for the demo and the tests.

It owns simulated jobs and their lifecycles (engine.py), the HTTP server with the contract, the API
key exchange, fault modes and a `/simulator/` control API (server.py), the demo's fixed jobs
(demo.py) and `manage.py simulator`. Standard library only; it imports nothing from the site.
"""

from jobsite.simulator.engine import LIFECYCLES
from jobsite.simulator.server import FAULT_MODES, Simulator

__all__ = ["FAULT_MODES", "LIFECYCLES", "Simulator"]
