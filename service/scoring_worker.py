"""A scoring process: `python -m service.scoring_worker --max-chars N [--artifact DIR]`.

Started by `service.pool.ScoringPool`, never by hand. It loads the model once, answers one
"ready" frame, then reads chunks from stdin and writes results to stdout, one at a time, in
order. Frames are a 4-byte big-endian length followed by a pickle (a private pipe between a
web worker and its own child; nothing from the network is unpickled here).

It ignores SIGINT and SIGTERM: a Ctrl-C or a group-wide SIGTERM must not kill chunks of requests
that the web worker is still draining. It exits when the web worker closes its stdin.
"""

from __future__ import annotations

import argparse
import os
import pickle
import signal
import struct
import sys
import traceback
from pathlib import Path
from typing import IO, Any

from model.errors import ArtifactError
from model.scorer import load_scorer
from service.scoring import WARMUP_ARTICLE, score_items

HEADER = struct.Struct("!I")


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next frame's object, or None at end of input."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)


def write_frame(stream: IO[bytes], obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def serve(scorer_path: Path | None, max_chars: int, inp: IO[bytes], out: IO[bytes], model_sha256: str | None = None) -> int:
    """Load the model, announce readiness, then score chunks until end of input."""
    try:
        scorer = load_scorer(scorer_path, sha256=model_sha256)
        score_items(scorer, [WARMUP_ARTICLE], max_chars=max_chars)
    except ArtifactError as exc:
        write_frame(out, ("error", str(exc)))
        return 3
    write_frame(out, ("ready", {"pid": os.getpid(), "model_version": scorer.version}))
    while (frame := read_frame(inp)) is not None:
        items, start, base_rate = frame
        try:
            result = score_items(scorer, items, start=start, max_chars=max_chars, base_rate=base_rate)
            reply: tuple[str, Any] = ("result", result)
        except Exception:  # a bug in scoring: report it for this chunk and keep serving the others
            reply = ("failed", traceback.format_exc(limit=5))
        write_frame(out, reply)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.scoring_worker")
    parser.add_argument("--artifact", type=Path, default=None)
    parser.add_argument("--max-chars", type=int, required=True)
    parser.add_argument("--model-sha256", default=None)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must never corrupt the frame stream
    return serve(args.artifact, args.max_chars, sys.stdin.buffer, out, args.model_sha256)


if __name__ == "__main__":
    raise SystemExit(main())
