"""Nothing lost: runs interrupted by Ctrl-C or SIGKILL resume to exactly the output of an uninterrupted run."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from misinfo_risk.batch import main
from tests.batch.conftest import Runs, corpus, wait_for_chunks


def test_interrupted_runs_resume_to_identical_output(  # Ctrl-C, SIGKILL, a worker killed
    tmp_path: Path, tiny_artifact: Path, runs: Runs, capsys: pytest.CaptureFixture[str]
) -> None:
    source = corpus(tmp_path / "corpus.jsonl", 1_500)
    common = [str(source), "--artifact", str(tiny_artifact), "--chunk-size", "10", "--workers", "2", "--progress", "off"]
    reference = tmp_path / "reference.parquet"
    assert main([*common, "--output", str(reference)]) == 1  # the malformed lines are error rows

    out = tmp_path / "resumed.parquet"
    chunks = tmp_path / "resumed.parquet.partial" / "chunks"
    first = runs.start([*common, "--output", str(out)])
    saved = wait_for_chunks(chunks, 3, first)
    os.kill(first.pid, signal.SIGINT)  # Ctrl-C
    assert first.wait(timeout=120) == 130, runs.log(first)
    assert "run the same command again to resume" in runs.log(first) and "Traceback" not in runs.log(first)
    assert not out.exists()

    second = runs.start([*common, "--output", str(out)])
    wait_for_chunks(chunks, saved + 3, second)
    os.kill(second.pid, signal.SIGKILL)  # no chance to clean up
    second.wait(timeout=60)
    assert "resuming the interrupted run" in runs.log(second)
    assert not out.exists() and len(list(chunks.glob("*.jsonl"))) < 150

    saved = len(list(chunks.glob("*.jsonl")))
    third = runs.start([*common, "--output", str(out)])
    wait_for_chunks(chunks, saved + 2, third)
    # the pool's workers are forked by the multiprocessing forkserver, a child of the batch process
    forkserver = next(p for p in psutil.Process(third.pid).children() if "multiprocessing.forkserver" in " ".join(p.cmdline()))
    worker = forkserver.children()[0]
    worker.kill()  # e.g. the out-of-memory killer
    assert third.wait(timeout=60) == 4, runs.log(third)
    assert "scoring process died" in runs.log(third) and not out.exists()

    status = main([*common, "--output", str(out), "--chunk-size", "20"])
    assert status == 2 and "--restart" in capsys.readouterr().err  # other arguments: refused, state kept

    assert main([*common, "--output", str(out)]) == 1
    assert out.read_bytes() == reference.read_bytes()
    assert not chunks.parent.exists()


def test_restart_discards_an_interrupted_run(tmp_path: Path, tiny_artifact: Path, runs: Runs) -> None:
    source = corpus(tmp_path / "corpus.jsonl", 1_500)
    common = [str(source), "--artifact", str(tiny_artifact), "--chunk-size", "10", "--workers", "1", "--progress", "off"]
    out = tmp_path / "out.jsonl"
    proc = runs.start([*common, "--output", str(out)])
    wait_for_chunks(tmp_path / "out.jsonl.partial" / "chunks", 2, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    # The input changed after the interruption: resuming would mix two versions of it.
    source.write_text(source.read_text(encoding="utf-8") + '{"text": "one more"}\n', encoding="utf-8")
    assert main([*common, "--output", str(out)]) == 2
    assert main([*common, "--output", str(out), "--restart"]) == 1
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1_501


def test_kill_9_of_the_batch_command_leaves_no_process_behind(tmp_path: Path, tiny_artifact: Path, runs: Runs) -> None:
    """The forkserver, the scoring processes and the resource tracker exit within seconds of the command's death."""
    source = corpus(tmp_path / "corpus.jsonl", 3_000)
    out = tmp_path / "out.jsonl"
    proc = runs.start(
        [
            str(source),
            "--artifact",
            str(tiny_artifact),
            "--chunk-size",
            "10",
            "--workers",
            "2",
            "--progress",
            "off",
            "--output",
            str(out),
        ]
    )
    wait_for_chunks(tmp_path / "out.jsonl.partial" / "chunks", 2, proc)
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) >= 4, children  # forkserver, resource tracker, 2 scoring processes
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    _, alive = psutil.wait_procs(children, timeout=10)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"still running 10 s after the batch command was killed: {[p.cmdline() for p in alive]}"
