"""The accept board behind least-connections accepting (service.balance), on a real shared file."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from misinfo_risk.service.balance import BOARD_ENV, BalancedLoop, BalancedServer, Board


@pytest.fixture
def board_path(tmp_path: Path) -> Path:
    path = tmp_path / "board"
    Board.create(path)
    return path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_workers_see_each_others_connection_counts(board_path: Path) -> None:
    me, sibling = Board(board_path), Board(board_path)  # two mappings of one file, as in two workers
    mine = me.claim(os.getpid())
    assert me.fewest_elsewhere(mine) is None  # alone: nobody to defer to
    parent = os.getppid()  # a live process standing in for the sibling worker
    theirs = sibling.claim(parent)
    assert theirs != mine
    sibling.publish(theirs, 3)
    me.publish(mine, 1)
    assert me.fewest_elsewhere(mine) == 3
    assert sibling.fewest_elsewhere(theirs) == 1
    sibling.release(theirs)
    assert me.fewest_elsewhere(mine) is None
    me.close()
    sibling.close()


def test_a_dead_workers_slot_is_ignored_and_reused(board_path: Path) -> None:
    board = Board(board_path)
    mine = board.claim(os.getpid())
    sibling = board.claim(os.getppid())
    board.publish(sibling, 5)
    stale = board.claim(dead_pid())
    board.publish(stale, 0)  # a crashed worker with no connections must not attract new ones
    assert len({mine, stale, sibling}) == 3
    assert board.fewest_elsewhere(mine) == 5
    assert board.claim(1) == stale  # a new worker takes the dead one's slot
    board.close()


class Recorder(asyncio.Protocol):
    """Records what the accepting side saw of its connection."""

    def __init__(self) -> None:
        self.nodelay: int | None = None
        self.data = b""
        self.lost = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        self.nodelay = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.data += data
        self.transport.write(b"echo:" + data)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.set_result(None)


def test_balanced_loop_serves_a_shared_socket_with_nodelay_and_counts_connections(
    board_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loop uvicorn gets with several workers: accepted connections reach the protocol with
    TCP_NODELAY set (the ~40 ms keep-alive stall guard) and are counted on the board while open."""
    monkeypatch.setenv(BOARD_ENV, str(board_path))
    listener = socket.create_server(("127.0.0.1", 0))  # what uvicorn's supervisor binds and shares
    port = listener.getsockname()[1]
    protocols: list[Recorder] = []

    def factory() -> Recorder:
        protocols.append(Recorder())
        return protocols[-1]

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(factory, sock=listener, backlog=16)
        assert isinstance(server, BalancedServer)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping")
        assert await reader.readexactly(9) == b"echo:ping"
        assert protocols[0].nodelay == 1 and server.connections == 1
        writer.close()
        await writer.wait_closed()
        await asyncio.wait_for(protocols[0].lost, 10)
        assert server.connections == 0
        server.close()
        await server.wait_closed()
        assert not server.is_serving()

    runner = asyncio.Runner(loop_factory=BalancedLoop)
    try:
        runner.run(scenario())
    finally:
        runner.close()
        listener.close()


@pytest.mark.parametrize("board", [None, "/nonexistent/misinfo-risk-accept-board"])
def test_without_a_usable_board_the_loop_is_plain_uvloop(board: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """No board (one worker), or a board file that disappeared (a worker restarted after a /tmp
    clean-up): the worker still serves, accepting the plain way."""
    if board is None:
        monkeypatch.delenv(BOARD_ENV, raising=False)
    else:
        monkeypatch.setenv(BOARD_ENV, board)
    listener = socket.create_server(("127.0.0.1", 0))

    async def scenario() -> object:
        server = await asyncio.get_running_loop().create_server(asyncio.Protocol, sock=listener)
        server.close()
        return server

    runner = asyncio.Runner(loop_factory=BalancedLoop)
    try:
        assert not isinstance(runner.run(scenario()), BalancedServer)
    finally:
        runner.close()
        listener.close()
