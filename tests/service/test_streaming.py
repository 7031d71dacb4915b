"""The spool behind streamed responses: FIFO order across memory and the temporary file."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from misinfo_risk.service.streaming import Spool


async def drain(spool: Spool) -> bytes:
    return b"".join([block async for block in spool])


@settings(max_examples=60, deadline=None)
@given(
    blocks=st.lists(st.binary(min_size=0, max_size=300), max_size=40),
    limit=st.integers(min_value=0, max_value=1_000),
    read_every=st.integers(min_value=1, max_value=7),
)
def test_spool_keeps_order_whatever_the_limit_and_interleaving(blocks: list[bytes], limit: int, read_every: int) -> None:
    async def run() -> bytes:
        spool = Spool(limit)
        out = bytearray()
        reader = spool.__aiter__()
        for n, block in enumerate(blocks, start=1):
            spool.put_nowait(block)
            if n % read_every == 0 and block:
                out += await anext(reader)  # the reader catches up part of the way
        spool.close()
        out += b"".join([block async for block in reader])
        return bytes(out)

    assert asyncio.run(run()) == b"".join(blocks)


def test_spool_spills_past_its_memory_limit() -> None:
    spool = Spool(memory_limit=10)
    spool.put_nowait(b"0123456789")
    spool.put_nowait(b"abc")
    spool.put_nowait(b"def")
    spool.close()
    assert spool.spilled_bytes == 6 and spool.peak_bytes == 16
    assert asyncio.run(drain(spool)) == b"0123456789abcdef"


def test_reader_waits_for_data() -> None:
    async def run() -> bytes:
        spool = Spool(memory_limit=100)
        reading = asyncio.ensure_future(drain(spool))
        await asyncio.sleep(0)
        spool.put_nowait(b"late")
        spool.close()
        return await reading

    assert asyncio.run(run()) == b"late"


def test_put_waits_while_the_bound_is_exceeded() -> None:
    async def run() -> list[str]:
        spool = Spool(memory_limit=4, total_limit=10)
        events: list[str] = []

        async def produce() -> None:
            for block in (b"0123456789", b"abcdefghij", b"KLMNOPQRST"):
                await spool.put(block)
                events.append(f"put {len(events)} waiting={spool.waiting_bytes}")
            spool.close()

        producer = asyncio.ensure_future(produce())
        await asyncio.sleep(0.05)
        assert len(events) == 2 and spool.waiting_bytes == 20  # the third put waits: 20 > 10 unread
        out = b"".join([block async for block in spool])
        await producer
        assert out == b"0123456789abcdefghijKLMNOPQRST"
        assert spool.peak_bytes == 20  # the bound (10) plus the one block put while at it
        return events

    assert len(asyncio.run(run())) == 3
