"""The scoring pool: real child processes, order kept, a dead child fails only its chunks and is replaced."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from service.pool import PoolStartError, PoolUnavailable, ScoringPool, WorkerLost
from service.scoring import Rejected, Scored
from tests.service.conftest import article_dict


async def wait_until(condition: object, timeout: float = 120.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]  # a zero-argument callable
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


def test_chunks_come_back_in_order_with_absolute_indices(tiny_artifact: Path) -> None:
    async def run() -> None:
        pool = ScoringPool(size=2, artifact_path=tiny_artifact, max_chars=1_000)
        await pool.start()
        try:
            chunks = [[article_dict(10 * c + i) for i in range(10)] for c in range(6)]
            chunks[3][4] = {"text": "x" * 1_001}
            results = await asyncio.gather(*(pool.submit(chunk, 10 * c) for c, chunk in enumerate(chunks)))
            ids = [o.assessment().id for r in results for o in r.outcomes if isinstance(o, Scored)]
            assert ids == [f"a-{n}" for n in range(60) if n != 34]
            rejected = results[3].outcomes[4]
            assert isinstance(rejected, Rejected) and (rejected.index, rejected.reason) == (34, "too_long")
            assert len(set(pool.pids)) == 2
        finally:
            await pool.close()
        assert pool.alive == 0
        with pytest.raises(PoolUnavailable):
            pool.submit([article_dict(0)], 0)

    asyncio.run(run())


def test_a_dead_process_fails_its_chunk_and_is_replaced(tiny_artifact: Path) -> None:
    async def run() -> None:
        pool = ScoringPool(size=1, artifact_path=tiny_artifact, max_chars=1_000)
        await pool.start()
        try:
            (victim,) = pool.pids
            os.kill(victim, signal.SIGSTOP)  # cannot finish the chunk before it is killed
            doomed = pool.submit([article_dict(1)], 0)
            os.kill(victim, signal.SIGKILL)
            with pytest.raises(WorkerLost):
                await doomed
            await wait_until(lambda: pool.alive == 1 and pool.pids != [victim])
            result = await pool.submit([article_dict(2)], 0)
            assert isinstance(result.outcomes[0], Scored)
        finally:
            await pool.close()

    asyncio.run(run())


def test_a_corrupt_artifact_stops_the_pool_with_the_reason(tiny_artifact: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_artifact, broken)
    (broken / "model.joblib").write_bytes(b"not a pickle")

    async def run() -> None:
        pool = ScoringPool(size=2, artifact_path=broken, max_chars=1_000)
        with pytest.raises(PoolStartError, match="sha256"):
            await pool.start()

    asyncio.run(run())


def test_scoring_processes_do_not_load_the_web_stack_or_metrics() -> None:
    code = (
        "import sys, service.scoring_worker; "
        "print(sorted({'prometheus_client', 'fastapi', 'starlette', 'uvicorn'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
