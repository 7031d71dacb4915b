"""Progress while scoring (a tqdm bar on a terminal, periodic log lines otherwise) and the closing summary."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

from misinfo_risk.batch.output import Tally

LEVELS = ("high", "medium", "low")


class Progress:
    """Counts scored items against the total; shows a bar on a TTY, or a log line every `interval` s."""

    def __init__(
        self,
        total: int,
        initial: int,
        *,
        mode: str = "auto",
        interval: float = 10.0,
        stream: TextIO | None = None,
        started: float | None = None,
    ) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.done = initial
        self.started = time.monotonic() if started is None else started  # a time.monotonic() reading
        self.scored_now = 0
        self.interval = interval
        if mode == "auto":
            mode = "bar" if self.stream.isatty() else "log"
        self.mode = mode
        self._last_log = self.started
        self._bar = (
            tqdm(total=total, initial=initial, unit="article", file=self.stream, dynamic_ncols=True, smoothing=0.1)
            if mode == "bar"
            else None
        )

    def advance(self, n: int) -> None:
        self.done += n
        self.scored_now += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "log" and time.monotonic() - self._last_log >= self.interval:
            self._last_log = time.monotonic()
            self.stream.write(self.status() + "\n")
            self.stream.flush()

    def note(self, message: str) -> None:
        """A line of information that does not break the progress bar."""
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        elif self.mode != "off":
            self.stream.write(message + "\n")

    def status(self) -> str:
        """One line: items done of total, rate of this run, ETA."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.scored_now / elapsed
        share = f" ({100 * self.done / self.total:.1f}%)" if self.total else ""
        eta = f", ETA {_duration((self.total - self.done) / rate)}" if rate > 0 and self.total > self.done else ""
        return f"batch: {self.done:,}/{self.total:,} items{share}, {rate:,.1f} articles/s{eta}"

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def summary(tally: Tally, output: str, scored_now: int, scoring_seconds: float, total_seconds: float) -> str:
    """The closing summary: items, errors, counts per level and this run's throughput."""
    levels = ", ".join(f"{level} {tally.levels.get(level, 0):,}" for level in LEVELS)
    rate = scored_now / scoring_seconds if scoring_seconds > 0 else 0.0
    return (
        f"batch: {tally.items:,} items -> {output}\n"
        f"  scored: {tally.items - tally.errors - tally.not_assessed:,} ({levels})\n"
        f"  not assessed: {tally.not_assessed:,} (the model cannot read them: see `reason`)\n"
        f"  errors: {tally.errors:,}\n"
        f"  throughput: {rate:,.1f} articles/s ({scored_now:,} items processed in this run in {_duration(scoring_seconds)};"
        f" {_duration(total_seconds)} with the engine's shutdown and writing the output)\n"
    )


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
