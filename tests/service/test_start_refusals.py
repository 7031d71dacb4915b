"""Settings that must stop `misinfo-risk serve` before it listens: checked on a real process start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

START_TIMEOUT = 90.0  # a server that starts instead of refusing is killed after this and the test fails


def start_serve(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m misinfo_risk serve` to completion; a server that keeps running fails the test."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RISK_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    argv = [sys.executable, "-m", "misinfo_risk", "serve", "--host", "127.0.0.1", "--port", "0", "--pool-workers", "0", *args]
    try:
        return subprocess.run(argv, env=clean | env, capture_output=True, text=True, timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the server started instead of refusing to:\n{exc.stderr!r}")


@pytest.mark.parametrize("keys", [",", " , ", " ", ",,,", "\t,\n"])
def test_blank_api_keys_refuse_to_start(tiny_artifact: Path, keys: str) -> None:
    """RISK_API_KEYS set to something with no key in it must not silently switch authentication off."""
    done = start_serve(["--artifact", str(tiny_artifact)], {"RISK_API_KEYS": keys})
    assert done.returncode == 2, done.stderr
    assert "API keys must not be blank" in done.stderr
    assert "Uvicorn running" not in done.stderr


def test_a_settings_error_never_prints_the_keys(tiny_artifact: Path) -> None:
    done = start_serve(["--artifact", str(tiny_artifact)], {"RISK_API_KEYS": "a-good-key-0123456789,short"})
    assert done.returncode == 2 and "at least 16 characters" in done.stderr, done.stderr
    assert "a-good-key" not in done.stderr and "short" not in done.stderr.replace("shorter", "")


def test_a_port_in_use_is_refused_in_one_line_before_loading(tiny_artifact: Path) -> None:
    """uvicorn found out only after loading the model, logged it as a JSON line and exited 3 (a bad artifact here)."""
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        argv = ["--artifact", str(tiny_artifact), "--port", str(port), "--workers", "1"]
        done = start_serve(argv, {})
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"misinfo-risk serve: cannot start: cannot listen on 127.0.0.1:{port}: ")
    assert "choose another --port" in done.stderr and done.stderr.count("\n") == 1, done.stderr


def test_an_address_not_on_this_machine_is_refused_before_loading_even_with_port_0(tiny_artifact: Path) -> None:
    """Port 0 picks a free port, but the host must still be one to listen on (203.0.113.1: TEST-NET-3, documentation only)."""
    done = start_serve(["--artifact", str(tiny_artifact), "--host", "203.0.113.1", "--workers", "1"], {})
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("misinfo-risk serve: cannot start: cannot listen on 203.0.113.1:0: ")
    assert done.stderr.count("\n") == 1 and "Uvicorn running" not in done.stderr, done.stderr
