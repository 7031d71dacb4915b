"""Process metrics for the whole service in multiprocess mode.

prometheus_client's default process collector reports only the process that renders the page; with
several uvicorn workers and scoring pools that would be one arbitrary process. This collector sums
over the service's process tree instead: the process that ran `misinfo-risk serve` (MISINFO_RISK_SERVICE_PID,
set by the command and inherited by every child) and all its descendants, read from /proc.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from service.settings import ROOT_ENV

_PROC = Path("/proc")


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists (signal 0; a process we may not signal still exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stat(pid: int) -> list[str] | None:
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may contain spaces or parentheses: split after its closing ")"
    return raw[raw.rindex(")") + 2 :].split()


def service_pids(root: int) -> list[int]:
    """`root` and every live descendant of it."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


class ServiceProcessCollector(Collector):
    """process_* metrics summed over the service's processes (Linux /proc only; nothing elsewhere)."""

    def collect(self) -> Iterator[Metric]:
        if not _PROC.is_dir():
            return
        root = int(os.environ.get(ROOT_ENV) or os.getpid())
        ticks = os.sysconf("SC_CLK_TCK")
        page = os.sysconf("SC_PAGE_SIZE")
        boot = _boot_time()
        cpu = rss = vsize = fds = 0.0
        pids = [p for p in service_pids(root) if _stat(p) is not None]
        for pid in pids:
            fields = _stat(pid)
            if fields is None:
                continue
            cpu += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
            vsize += int(fields[20])
            rss += int(fields[21]) * page
            try:
                fds += len(os.listdir(_PROC / str(pid) / "fd"))
            except OSError:
                pass
        root_stat = _stat(root)
        yield CounterMetricFamily("process_cpu_seconds", "CPU seconds of all service processes.", value=cpu)
        yield GaugeMetricFamily("process_resident_memory_bytes", "Resident memory of all service processes.", value=rss)
        yield GaugeMetricFamily("process_virtual_memory_bytes", "Virtual memory of all service processes.", value=vsize)
        yield GaugeMetricFamily("process_open_fds", "Open file descriptors of all service processes.", value=fds)
        yield GaugeMetricFamily("risk_service_processes", "Live service processes (workers, pools).", value=len(pids))
        if root_stat is not None and boot is not None:
            started = boot + int(root_stat[19]) / ticks
            yield GaugeMetricFamily("process_start_time_seconds", "Start time of the service (epoch seconds).", value=started)


def _boot_time() -> float | None:
    try:
        for line in (_PROC / "stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None
