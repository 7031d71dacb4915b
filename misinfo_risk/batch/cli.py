"""`misinfo-risk batch INPUT... --output PATH`: score feeds and corpora, resumably, locally or on Dask."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from misinfo_risk.batch.dask_engine import LocalClusterStarter
from misinfo_risk.batch.engines import Engine, EngineError
from misinfo_risk.batch.local_engine import LocalEngine
from misinfo_risk.cli import MODEL_SHA256_HELP, base_rate, sha256_hex
from misinfo_risk.ingest.download import AddressPolicy
from misinfo_risk.ingest.feeds import DEFAULT_MAX_FEED_BYTES
from misinfo_risk.ingest.items import Columns
from misinfo_risk.ingest.sources import FORMATS, ReadOptions
from misinfo_risk.model.errors import ArtifactError, BaseRateError
from misinfo_risk.model.types import MAX_ARTICLE_CHARS
from misinfo_risk.runtime import usable_cpus

if TYPE_CHECKING:
    from misinfo_risk.batch.plan import Job
    from misinfo_risk.batch.state import RunState
    from misinfo_risk.model.scorer import Scorer

# The scoring stack (scikit-learn, pyarrow, Dask) is imported inside main(), after the local
# engine's worker processes (or a LocalCluster, in a background thread) have been started: they
# import it too, and on a multi-core machine the start-ups then overlap instead of following
# each other.

EXIT_OK, EXIT_ITEM_ERRORS, EXIT_USAGE, EXIT_ARTIFACT, EXIT_ENGINE, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_DISK_FULL = 5
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
DEFAULT_CHUNK_SIZE = 500


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="misinfo-risk batch",
        description="Score news feeds and article files in bulk. One output row per input item, in input order. "
        "An interrupted run resumes when restarted with the same arguments.",
        epilog="Exit status: 0 all items scored, 1 some items could not be scored (see the error column), "
        "2 usage error, 3 model artifact error, 4 engine failure, 5 disk full, 130 interrupted (4, 5 and 130: rerun to resume).",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="files, globs (quote them) or http(s) URLs of RSS/Atom feeds")
    parser.add_argument("-o", "--output", type=Path, required=True, help="results file: .jsonl, .csv or .parquet")
    parser.add_argument("--format", choices=("auto", *FORMATS), default="auto", help="input format (default: by extension)")
    parser.add_argument(
        "--column", action="append", metavar="FIELD=COLUMN", default=[],
        help="read article FIELD (text, title, url, source, published_at, language, id) from COLUMN; repeatable",
    )  # fmt: skip
    parser.add_argument("--delimiter", help="CSV delimiter (default ',' for .csv, tab for .tsv)")
    parser.add_argument("--engine", choices=("local", "dask"), default="local", help="where to score (default: local)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, help="worker processes (local engine, LocalCluster); default: all cores")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="items per chunk (unit of work and resume)")
    parser.add_argument("--artifact", type=Path, help="model artifact directory (default: the shipped model)")
    parser.add_argument("--model-sha256", type=sha256_hex, metavar="HEX", help=MODEL_SHA256_HELP)
    parser.add_argument("--max-chars", type=int, default=MAX_ARTICLE_CHARS, help="longest article text accepted")
    parser.add_argument("--max-feed-bytes", type=int, default=DEFAULT_MAX_FEED_BYTES, help="largest feed accepted")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds allowed per feed download")
    parser.add_argument(
        "--allow-private-addresses",
        action="store_true",
        help="let feed downloads (and their redirects) connect to loopback, private and link-local addresses "
        "(default: public addresses only)",
    )
    parser.add_argument(
        "--allow-network",
        action="append",
        default=[],
        metavar="CIDR",
        help="let feed downloads connect to this network only, e.g. 10.1.0.0/16 (repeatable); narrower than the above",
    )
    parser.add_argument("--progress", choices=("auto", "bar", "log", "off"), default="auto", help="progress display")
    parser.add_argument("--log-interval", type=float, default=10.0, help="seconds between progress log lines")
    parser.add_argument("--restart", action="store_true", help="discard an interrupted run of this output and start again")
    parser.add_argument(
        "--base-rate",
        type=base_rate,
        metavar="P",
        help="the share of misleading articles in the inputs, e.g. 0.05: scores are re-expressed for it by Bayes' rule "
        "(levels stay those of the calibrated score, kept in score_calibrated); needs a model card with a prevalence",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `misinfo-risk batch`; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.workers is not None and args.workers < 1:
        return _fail("--workers must be at least 1", EXIT_USAGE)
    local = cluster = None
    if args.engine == "local":
        local = LocalEngine(
            args.artifact, args.max_chars, workers=args.workers, base_rate=args.base_rate, model_sha256=args.model_sha256
        )
        local.start()
    elif not args.scheduler:
        cluster = LocalClusterStarter(args.workers or usable_cpus())
    try:
        return _main(args, local, cluster)
    finally:
        if local is not None:
            local.close()
        if cluster is not None:
            cluster.close()


def _main(args: argparse.Namespace, local: LocalEngine | None, cluster: LocalClusterStarter | None) -> int:
    from misinfo_risk.batch.plan import UsageError
    from misinfo_risk.batch.state import RunState, StateMismatch
    from misinfo_risk.model.scorer import load_scorer

    try:
        job = _job(args)
        scorer = load_scorer(args.artifact, sha256=args.model_sha256)
        scorer.base_rate_shift(args.base_rate)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ArtifactError as exc:
        return _fail(str(exc), EXIT_ARTIFACT)
    except BaseRateError as exc:
        return _fail(f"--base-rate: {exc}", EXIT_USAGE)
    state = RunState(job.output)
    try:
        with _sigterm_as_interrupt():
            return _run(args, job, scorer, state, local, cluster)
    except StateMismatch as exc:
        return _fail(str(exc), EXIT_USAGE)
    except EngineError as exc:
        return _fail(f"{exc}; finished chunks are kept in {state.root}: run the same command again to resume", EXIT_ENGINE)
    except KeyboardInterrupt:
        saved = len(state.done_chunks()) if state.chunks.is_dir() else 0
        message = f"interrupted; {saved} finished chunk(s) kept in {state.root}: run the same command again to resume"
        return _fail(message, EXIT_INTERRUPTED)
    except OSError as exc:
        if exc.errno not in _DISK_FULL:
            raise
        # Every file is written to a temporary name and renamed when complete (state.atomic_write), so
        # a full disk leaves the finished chunks and any previous output intact: only the write failed.
        where = exc.filename or job.output.parent
        return _fail(
            f"{os.strerror(exc.errno or errno.ENOSPC).lower()} writing {where}; finished chunks are kept in {state.root}: "
            "free some space and run the same command again to resume",
            EXIT_DISK_FULL,
        )


def _job(args: argparse.Namespace) -> Job:
    from misinfo_risk.batch.plan import UsageError, build_job

    try:
        columns = Columns.parse(args.column)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    options = ReadOptions(columns=columns, delimiter=args.delimiter, max_feed_bytes=args.max_feed_bytes)
    try:
        addresses = AddressPolicy.parse(args.allow_private_addresses, args.allow_network)
    except ValueError as exc:
        raise UsageError(f"--allow-network: {exc}") from exc
    return build_job(
        args.inputs, args.output, fmt=args.format, options=options,
        chunk_size=args.chunk_size, max_chars=args.max_chars, fetch_timeout=args.timeout, base_rate=args.base_rate,
        addresses=addresses,
    )  # fmt: skip


def _run(
    args: argparse.Namespace,
    job: Job,
    scorer: Scorer,
    state: RunState,
    local: LocalEngine | None,
    cluster: LocalClusterStarter | None,
) -> int:
    from misinfo_risk.batch.plan import prepare_sources
    from misinfo_risk.batch.progress import summary
    from misinfo_risk.batch.runner import run_job

    manifest = job.manifest(scorer)
    resuming = state.open(manifest, restart=args.restart)
    sources = prepare_sources(job, state, resuming=resuming)
    if not resuming:
        state.commit_manifest(manifest)
    else:
        sys.stderr.write(f"batch: resuming the interrupted run in {state.root}\n")
    engine: Engine
    if local is not None:
        engine = local
    else:
        from misinfo_risk.batch.dask_engine import DaskEngine

        engine = DaskEngine(
            scorer,
            job.max_chars,
            scheduler=args.scheduler,
            workers=args.workers,
            artifact=args.artifact,
            starter=cluster,
            base_rate=job.base_rate,
            model_sha256=args.model_sha256,
        )
    outcome = run_job(job, state, sources, engine, progress_mode=args.progress, log_interval=args.log_interval)
    sys.stderr.write(summary(outcome.tally, str(job.output), outcome.processed, outcome.scoring_seconds, outcome.total_seconds))
    return EXIT_ITEM_ERRORS if outcome.tally.errors else EXIT_OK


def _fail(message: str, status: int) -> int:
    sys.stderr.write(f"misinfo-risk batch: {message}\n")
    return status


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Ctrl-C and SIGTERM stop the run cleanly at the next chunk boundary (see runner.StopRequest),
    keeping finished chunks for the resume; a second signal stops at once."""

    from misinfo_risk.batch.runner import STOP

    def interrupt(signum: int, frame: FrameType | None) -> None:
        STOP.request()

    STOP.reset()
    try:
        previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        STOP.reset()
