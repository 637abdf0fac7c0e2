"""Child processes: each started in a process group of its own and stopped with its whole group,
and the CPU time processes used, read from /proc.

Every child also gets SIGTERM from the kernel if the bench itself dies without cleaning up
(Linux's parent-death signal), so a killed bench leaves no server behind.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"  # the only address the bench ever talks to
STOP_GRACE_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ChildFailed(Exception):
    """A child exited or never became ready; the message holds the end of its log."""


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path | None
    stop_signal: signal.Signals

    @property
    def pgid(self) -> int:
        return self.popen.pid  # a session leader: its group has its PID

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-chars:]

    def check_alive(self) -> None:
        if not self.alive():
            raise ChildFailed(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the bench goes away."""
    with suppress(OSError, AttributeError):  # not Linux: cleanup relies on the bench's finally blocks
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def running(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    log: Path | None,
    stop_signal: signal.Signals = signal.SIGTERM,
    pipes: bool = False,
) -> Iterator[Child]:
    """Start `argv` in a new session; on leaving, stop its whole process group, whatever happened.

    Output goes to `log`; with `pipes`, stdin and stdout are pipes to this process instead (and
    stderr still goes to `log`)."""
    log_file: IO[bytes] | None = log.open("ab") if log else None
    try:
        popen = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.PIPE if pipes else subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipes else (log_file or subprocess.DEVNULL),
            stderr=log_file or subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    finally:
        if log_file:
            log_file.close()  # the child has its own descriptor
    child = Child(name=name, popen=popen, log=log, stop_signal=stop_signal)
    try:
        yield child
    finally:
        stop(child)


def stop(child: Child, grace: float = STOP_GRACE_SECONDS) -> None:
    """Signal the child's group, wait for the leader and the rest of the group, then kill what is left."""
    for stream in (child.popen.stdin, child.popen.stdout):
        if stream:
            with suppress(OSError):
                stream.close()
    _signal_group(child.pgid, child.stop_signal)
    deadline = time.monotonic() + grace
    with suppress(subprocess.TimeoutExpired):
        child.popen.wait(timeout=grace)
    while _group_exists(child.pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_exists(child.pgid) or child.popen.poll() is None:
        _signal_group(child.pgid, signal.SIGKILL)
        child.popen.wait()


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _group_exists(pgid: int) -> bool:
    """Whether any process still runs in the group (zombies of other parents included, briefly)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_for_port(port: int, child: Child, timeout: float = 30.0) -> None:
    """Until something accepts connections on HOST:port; fails early if the child exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.check_alive()
        with socket.socket() as probe:
            probe.settimeout(1.0)
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise ChildFailed(f"{child.name} did not listen on {HOST}:{port} within {timeout:.0f} s:\n{child.log_tail()}")


# CPU time, from /proc: what each part of the set-up burned during a measurement.


@dataclass(frozen=True)
class _Proc:
    pid: int
    ppid: int
    pgrp: int
    comm: str
    seconds: float  # user + system CPU so far


def _processes() -> dict[int, _Proc]:
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        # After the command name: state, ppid, pgrp, …, utime (12th), stime (13th).
        found[int(entry.name)] = _Proc(
            int(entry.name),
            int(fields[1]),
            int(fields[2]),
            comm,
            (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS,
        )
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def machine_seconds() -> tuple[float, float]:
    """CPU seconds since boot, all cores: in processes (user and system), and in interrupts
    (irq and softirq: on loopback, much of the network stack runs there, for no process)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + steal) / _CLOCK_TICKS, (irq + softirq) / _CLOCK_TICKS


@dataclass(frozen=True)
class CpuGroup:
    """Processes counted together, by the first of these that is set: one process; a process
    group (a child we started, with its own children); the descendants of a process; a command
    name prefix, optionally with a word its command line must hold."""

    label: str
    pid: int | None = None
    pgid: int | None = None
    descendants_of: int | None = None
    comm_prefix: str | None = None
    cmdline_has: str | None = None


def _ancestors(pid: int, processes: Mapping[int, _Proc]) -> Iterator[int]:
    seen = set()
    while pid in processes and pid not in seen and pid > 1:
        seen.add(pid)
        pid = processes[pid].ppid
        yield pid


def _matches(group: CpuGroup, proc: _Proc, processes: Mapping[int, _Proc]) -> bool:
    if group.pid is not None:
        return proc.pid == group.pid
    if group.pgid is not None:
        return proc.pgrp == group.pgid
    if group.descendants_of is not None:
        return group.descendants_of in _ancestors(proc.pid, processes)
    if group.comm_prefix is not None and proc.comm.startswith(group.comm_prefix):
        return group.cmdline_has is None or group.cmdline_has in _cmdline(proc.pid)
    return False


OTHER = "other processes"  # the machine's process time outside every group: someone else's work
INTERRUPTS = "interrupts"


def cpu_seconds(groups: Sequence[CpuGroup]) -> dict[str, float]:
    """CPU seconds used so far by each group's live processes (user + system); a process counts
    in the first group it matches. Also OTHER and INTERRUPTS (see `machine_seconds`)."""
    totals = {group.label: 0.0 for group in groups}
    processes = _processes()
    for proc in processes.values():
        for group in groups:
            if _matches(group, proc, processes):
                totals[group.label] += proc.seconds
                break
    in_processes, in_interrupts = machine_seconds()
    totals[OTHER] = in_processes - sum(totals.values())
    totals[INTERRUPTS] = in_interrupts
    return totals


def cpu_seconds_by_process(pgid: int) -> dict[int, float]:
    """CPU seconds so far of each live process in one process group, by PID."""
    return {proc.pid: proc.seconds for proc in _processes().values() if proc.pgrp == pgid}


def cpu_share(before: Mapping[str, float], after: Mapping[str, float], wall: float) -> dict[str, float]:
    """Cores used on average per group between two readings (1.0 = one core busy all the time)."""
    return {label: max(0.0, after[label] - before.get(label, 0.0)) / wall for label in after} if wall > 0 else {}
