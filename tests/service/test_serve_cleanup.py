"""`misinfo-risk serve` removes the metrics directory (and accept board) it created when SIGTERM stops it: real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.service.server import ServeProcess


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_leaves_nothing_in_the_temporary_directory(tiny_artifact: Path, tmp_path: Path, workers: int) -> None:
    server = ServeProcess(
        ["--artifact", str(tiny_artifact), "--pool-workers", "0"], workers=workers, env={"TMPDIR": str(tmp_path)}
    )
    try:
        server.wait_ready()
        created = list(tmp_path.glob("misinfo-risk-metrics-*"))
        assert len(created) == 1 and any(created[0].glob("*.db")), "the serve command keeps its metrics here"
        server.terminate()
        assert server.proc.wait(timeout=60) == 0, "\n".join(server.stderr[-20:])
    finally:
        server.stop()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
