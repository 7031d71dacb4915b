"""The spool behind streamed responses: FIFO order across memory and the temporary file."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from service.streaming import Spool


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
            spool.put(block)
            if n % read_every == 0 and block:
                out += await anext(reader)  # the reader catches up part of the way
        spool.close()
        out += b"".join([block async for block in reader])
        return bytes(out)

    assert asyncio.run(run()) == b"".join(blocks)


def test_spool_spills_past_its_memory_limit() -> None:
    spool = Spool(memory_limit=10)
    spool.put(b"0123456789")
    spool.put(b"abc")
    spool.put(b"def")
    spool.close()
    assert spool.spilled_bytes == 6
    assert asyncio.run(drain(spool)) == b"0123456789abcdef"


def test_reader_waits_for_data() -> None:
    async def run() -> bytes:
        spool = Spool(memory_limit=100)
        reading = asyncio.ensure_future(drain(spool))
        await asyncio.sleep(0)
        spool.put(b"late")
        spool.close()
        return await reading

    assert asyncio.run(run()) == b"late"
