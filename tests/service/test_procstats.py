"""Process metrics in multiprocess mode cover the whole process tree, not one arbitrary worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from service import metrics
from service.procstats import ROOT_ENV, ServiceProcessCollector, service_pids


def test_service_pids_include_children() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pids = service_pids(os.getpid())
        assert os.getpid() in pids and child.pid in pids
    finally:
        child.kill()
        child.wait()


def test_collector_sums_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ROOT_ENV, str(os.getpid()))
    values = {m.name: m.samples[0].value for m in ServiceProcessCollector().collect()}
    assert values["process_resident_memory_bytes"] > 10 * 1024 * 1024
    assert values["process_cpu_seconds"] > 0 and values["process_open_fds"] >= 3
    assert values["risk_service_processes"] >= 1
    assert values["process_start_time_seconds"] > 1_600_000_000


def test_multiprocess_exposition_has_process_and_python_metrics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    body, _ = metrics.exposition(None)
    text = body.decode()
    assert "\nprocess_resident_memory_bytes " in text
    assert "\nprocess_cpu_seconds_total " in text
    assert "python_info{" in text
