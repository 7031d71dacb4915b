"""Start and stop the real processes the deploy tests need: Prometheus and `misinfo-risk serve`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")

APT_HINT = "install it with `apt-get install -y prometheus` (the Debian package ships prometheus and promtool)"


REQUIRE_BINARIES_ENV = "MISINFO_RISK_REQUIRE_BINARIES"
"""Set by .ci/run: there a missing Prometheus binary fails the test instead of skipping it."""


def require_binary(name: str) -> str:
    """Path of an executable the test needs: skipped with the reason when missing, failed in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"`{name}` is not on PATH: {APT_HINT}"
        if os.environ.get(REQUIRE_BINARIES_ENV):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str, process: ManagedProcess | None = None) -> T:
    """Poll `check` until it returns something other than None; fail after `timeout` seconds.

    Polling for a condition, not sleeping for a guessed time: the result is only as slow as the
    system under test. If `process` exits meanwhile, fail at once with its output.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result is not None:
            return result
        if process is not None and process.exited():
            pytest.fail(f"{process.name} exited with {process.returncode} while waiting for {what}:\n{process.output()}")
        if time.monotonic() > deadline:
            detail = f"\n{process.name} output:\n{process.output()}" if process is not None else ""
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(0.1)


class ManagedProcess:
    """A child process in its own process group, with its output in a log file.

    `stop()` sends SIGTERM to the process (so uvicorn drains and stops its workers), waits,
    then kills whatever is left of *its own* process group.
    """

    def __init__(self, name: str, argv: Sequence[str], log: Path, env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("wb")
        self._popen = subprocess.Popen(
            list(argv),
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
        self.pgid = self._popen.pid  # start_new_session: the child leads a new group

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    def exited(self) -> bool:
        return self._popen.poll() is not None

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")[-5000:]

    def stop(self, timeout: float = 20.0) -> None:
        if self._popen.poll() is None:
            self._popen.send_signal(signal.SIGTERM)
            try:
                self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._popen.kill()
                self._popen.wait(timeout)
        self._kill_group_leftovers(timeout)
        self._log_file.close()

    def group_alive(self) -> bool:
        """Whether any live (non-zombie) process of this process group still exists."""
        return bool(group_members(self.pgid))

    def _kill_group_leftovers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.group_alive():
            os.killpg(self.pgid, signal.SIGKILL)


def group_members(pgid: int) -> list[int]:
    """Pids of the live (not zombie) processes in process group `pgid`, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended while we looked
            continue
        # Fields after the command name (which may contain spaces) start after the last ")".
        fields = text[text.rindex(")") + 2 :].split()
        state, process_group = fields[0], int(fields[2])
        if process_group == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members
