"""The runtime's chunk pool: real scoring processes, order kept, a dead process breaks only the chunks it had, the pool is rebuilt."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from misinfo_risk.runtime import ChunkPool, PoolStartError, Rejected, Scored, score_chunk
from tests.service.conftest import article_dict


def test_chunks_come_back_in_order_with_absolute_indices(tiny_artifact: Path) -> None:
    pool = ChunkPool(2, tiny_artifact)
    pool.start()
    try:
        chunks = [[article_dict(10 * c + i) for i in range(10)] for c in range(6)]
        chunks[3][4] = {"text": "x" * 1_001}
        futures = [pool.submit(score_chunk, chunk, 10 * c, max_chars=1_000) for c, chunk in enumerate(chunks)]
        results = [f.result(timeout=120) for f in futures]
        ids = [o.assessment().id for r in results for o in r.outcomes if isinstance(o, Scored)]
        assert ids == [f"a-{n}" for n in range(60) if n != 34]
        rejected = results[3].outcomes[4]
        assert isinstance(rejected, Rejected) and (rejected.index, rejected.reason) == (34, "too_long")
        assert len(set(pool.pids)) == 2
    finally:
        pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(score_chunk, [article_dict(0)], 0, max_chars=1_000)


def test_a_dead_process_breaks_its_chunks_and_the_pool_is_rebuilt(tiny_artifact: Path) -> None:
    pool = ChunkPool(1, tiny_artifact)
    pool.start()
    try:
        (victim,) = pool.pids
        os.kill(victim, signal.SIGSTOP)  # cannot finish the chunk before it is killed
        doomed = pool.submit(score_chunk, [article_dict(1)], 0, max_chars=1_000)
        os.kill(victim, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            doomed.result(timeout=60)
        result = pool.submit(score_chunk, [article_dict(2)], 0, max_chars=1_000).result(timeout=120)
        assert isinstance(result.outcomes[0], Scored)
        assert pool.restarts == 1 and victim not in pool.pids
    finally:
        pool.close()


def test_a_corrupt_artifact_stops_the_pool_with_the_reason(tiny_artifact: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_artifact, broken)
    (broken / "model.joblib").write_bytes(b"not a pickle")
    with pytest.raises(PoolStartError, match="sha256"):
        ChunkPool(2, broken).start()


def test_an_item_that_cannot_be_sent_to_a_process_fails_alone(tiny_artifact: Path) -> None:
    """pickle gives up on a deeply nested value (RecursionError): the future says so, the pool goes on."""
    pool = ChunkPool(1, tiny_artifact)
    pool.start()
    try:
        deep: object = []
        for _ in range(2_000):
            deep = [deep]
        with pytest.raises(RecursionError):
            pool.submit(score_chunk, [{"text": "A report.", "extra": deep}], 0, max_chars=1_000).result(timeout=60)
        assert isinstance(pool.submit(score_chunk, [article_dict(1)], 0, max_chars=1_000).result(timeout=60).outcomes[0], Scored)
        assert pool.restarts == 0
    finally:
        pool.close()


def test_scoring_processes_do_not_load_the_web_stack_or_metrics() -> None:
    code = (
        "import sys, misinfo_risk.runtime, misinfo_risk.batch.rows; "
        "print(sorted({'prometheus_client', 'fastapi', 'starlette', 'uvicorn'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pool_processes_exit_when_their_owner_is_killed(tiny_artifact: Path, tmp_path: Path) -> None:
    """kill -9 of the process that owns a pool: its scoring processes, the forkserver and the resource
    tracker all exit within a few seconds (defect 5 of issue 12)."""
    pids_file = tmp_path / "pids"
    code = (
        "import os, sys, time, psutil\n"
        "from pathlib import Path\n"
        "from misinfo_risk.runtime import ChunkPool\n"
        "if __name__ == '__main__':\n"
        f"    pool = ChunkPool(2, Path({str(tiny_artifact)!r}))\n"
        "    pool.start()\n"
        "    kids = [p.pid for p in psutil.Process().children(recursive=True)]\n"
        f"    Path({str(pids_file)!r}).write_text(' '.join(map(str, kids)))\n"
        "    time.sleep(600)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 120
        while not pids_file.exists() or not pids_file.read_text():
            assert owner.poll() is None and time.monotonic() < deadline, "the pool did not start"
            time.sleep(0.1)
        children = [int(p) for p in pids_file.read_text().split()]
        assert len(children) >= 4  # forkserver, resource tracker, 2 scoring processes
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 10
    while (alive := [pid for pid in children if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive == [], f"still running 10 s after their owner was killed: {alive}"


def _running(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
