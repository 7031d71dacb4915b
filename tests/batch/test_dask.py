"""The Dask engine on a real LocalCluster (2 single-threaded worker processes): the local engine's bytes, resumably."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import dask
import pytest

from misinfo_risk.batch import main
from tests.batch.conftest import Runs, corpus, entries, rss2, wait_for_chunks


def test_dask_run_interrupted_and_resumed_gives_the_local_output(
    tmp_path: Path, tiny_artifact: Path, runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    source = corpus(tmp_path / "corpus.jsonl", 1_200)
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss2(entries(5)))
    common = [
        str(source),
        str(feed),
        "--artifact",
        str(tiny_artifact),
        "--chunk-size",
        "25",
        "--workers",
        "2",
        "--progress",
        "off",
    ]
    local = tmp_path / "local.parquet"
    assert main([*common, "--output", str(local)]) == 1  # malformed lines in the corpus

    out = tmp_path / "dask.parquet"
    proc = runs.start([*common, "--engine", "dask", "--output", str(out)])
    wait_for_chunks(tmp_path / "dask.parquet.partial" / "chunks", 3, proc)
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=120) == 130, runs.log(proc)
    log = runs.log(proc)
    assert "Traceback" not in log and " ERROR " not in log, log  # a clean stop, nothing reported lost
    assert not out.exists()

    capsys.readouterr()
    assert main([*common, "--engine", "dask", "--output", str(out)]) == 1
    assert "1,205 items" in capsys.readouterr().err
    assert out.read_bytes() == local.read_bytes()


def test_unreachable_scheduler_is_an_engine_error(
    tmp_path: Path, tiny_artifact: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = corpus(tmp_path / "corpus.jsonl", 10)
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{unused.getsockname()[1]}"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        status = main([str(source), "--artifact", str(tiny_artifact), "--engine", "dask", "--scheduler", address,
                       "--output", str(tmp_path / "out.jsonl")])  # fmt: skip
    assert status == 4
    assert f"cannot reach the Dask scheduler {address}" in capsys.readouterr().err


def test_an_existing_cluster_given_by_address_gets_the_scorer_sent_and_gives_the_local_output(
    tmp_path: Path, tiny_artifact: Path
) -> None:
    """--scheduler ADDRESS: workers that may not see the artifact receive the scorer from the client."""
    from distributed import LocalCluster

    source = corpus(tmp_path / "corpus.jsonl", 300)
    common = [str(source), "--artifact", str(tiny_artifact), "--chunk-size", "40", "--progress", "off"]
    local = tmp_path / "local.jsonl"
    assert main([*common, "--output", str(local)]) == 1
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        out = tmp_path / "remote.jsonl"
        assert main([*common, "--engine", "dask", "--scheduler", cluster.scheduler_address, "--output", str(out)]) == 1
    assert out.read_bytes() == local.read_bytes()


def test_a_started_local_cluster_that_is_never_used_is_stopped() -> None:
    from misinfo_risk.batch.dask_engine import LocalClusterStarter

    starter = LocalClusterStarter(1)
    cluster = starter.result()
    assert cluster.status.name == "running"
    starter.close()
    assert cluster.status.name == "closed"


def test_a_worker_refuses_an_artifact_that_changed_since_the_run_was_planned(tiny_artifact: Path) -> None:
    import pickle

    from misinfo_risk.batch.dask_engine import score_with_artifact

    with pytest.raises(RuntimeError, match="changed during the run"):
        score_with_artifact(str(tiny_artifact), "0" * 64, pickle.dumps([]), 1_000)
