"""Streaming responses whose server memory stays flat whatever the client does.

`SpooledStreamResponse(produce, spool)` runs `produce(spool)` in its own task and sends whatever it puts in
the spool as the response body. Producing (reading the request, scoring) is not blocked by a client
that does not read while it is still uploading (most HTTP clients send the whole body before reading
the response): results wait in the `Spool`, in memory up to a limit and in a temporary file beyond
it, up to a total bound. Past that bound `put` waits for the client to read (backpressure): the
server stops reading the request until then. A client that reads as it sends never touches the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import IO, Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

READ_BLOCK = 256 * 1024
logger = logging.getLogger("misinfo_risk.streaming")


class Spool:
    """A FIFO of byte blocks: in memory up to `memory_limit` bytes, then in a temporary file, `total_limit` in all.

    Once blocks go to the file, later ones follow them there until the reader has drained it (order is kept)."""

    def __init__(self, memory_limit: int, total_limit: int | None = None) -> None:
        self._limit = memory_limit
        self._total_limit = total_limit
        self._drained = asyncio.Event()
        self._memory: deque[bytes] = deque()
        self._memory_bytes = 0
        self._file: IO[bytes] | None = None
        self._written = 0
        self._read = 0
        self._closed = False
        self._wakeup = asyncio.Event()
        self.spilled_bytes = 0  # all bytes that went through the file
        self.peak_bytes = 0  # the most bytes waiting at once: what the bound holds to total_limit + one block

    @property
    def waiting_bytes(self) -> int:
        """Bytes put and not yet read."""
        return self._memory_bytes + self._written - self._read

    async def put(self, data: bytes) -> None:
        """Add a block, after waiting (backpressure) while more than `total_limit` bytes are unread."""
        while self._total_limit is not None and self.waiting_bytes > self._total_limit and not self._closed:
            self._drained.clear()
            await self._drained.wait()
        self.put_nowait(data)

    def put_nowait(self, data: bytes) -> None:
        """Add a block whatever the bound (for the last line of a stream)."""
        if not data:
            return
        if self._file is None and self._memory_bytes + len(data) <= self._limit:
            self._memory.append(data)
            self._memory_bytes += len(data)
        else:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="misinfo-risk-stream-")
            self._file.seek(self._written)
            self._file.write(data)
            self._written += len(data)
            self.spilled_bytes += len(data)
        self.peak_bytes = max(self.peak_bytes, self.waiting_bytes)
        self._wakeup.set()

    def close(self) -> None:
        """No more data will be put."""
        self._closed = True
        self._wakeup.set()
        self._drained.set()

    def discard(self) -> None:
        self._memory.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    def _take(self) -> bytes | None:
        self._drained.set()
        if self._memory:
            data = self._memory.popleft()
            self._memory_bytes -= len(data)
            return data
        if self._file is not None:
            self._file.seek(self._read)
            data = self._file.read(READ_BLOCK)
            self._read += len(data)
            if self._read >= self._written:
                self._file.close()
                self._file, self._read, self._written = None, 0, 0
            return data
        return None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            data = self._take()
            if data is not None:
                yield data
            elif self._closed:
                return
            else:
                self._wakeup.clear()
                await self._wakeup.wait()


class SpooledStreamResponse(Response):
    """A 200 response streamed from a spool filled by `produce`. Unlike Starlette's StreamingResponse it
    never calls `receive` itself, so `produce` may read the request body while the response is sent."""

    def __init__(self, produce: Callable[[Spool], Coroutine[Any, Any, None]], spool: Spool, *, media_type: str) -> None:
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers()
        self._produce, self._spool = produce, spool

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spool = self._spool
        producer = asyncio.create_task(self._produce(spool))
        producer.add_done_callback(lambda _: spool.close())  # however it ends: the reader below then stops
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for data in spool:
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            await producer  # re-raise a producer failure (it already ended the stream)
            logger.info(
                "stream finished",
                extra={
                    "request_id": scope.get("state", {}).get("request_id"),
                    "spilled_bytes": spool.spilled_bytes,
                    "peak_bytes": spool.peak_bytes,
                },
            )
        finally:
            if not producer.done():
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await producer
            spool.discard()
