"""What the tests and the benchmark (bench/) need of this machine: a free loopback port, and
Debian's Chromium with the flags a closed network wants. No Django here: bench imports it too."""

from __future__ import annotations

import os
import socket
from pathlib import Path

CHROMIUM = Path(os.environ.get("JOBSITE_CHROMIUM", "/usr/bin/chromium"))
# Chromium's own background traffic is refused on a closed network; keep it quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
