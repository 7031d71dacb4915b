"""`misinfo-risk serve` (also `python -m misinfo_risk.service`): run the HTTP service under uvicorn.

    misinfo-risk serve --host 0.0.0.0 --port 8000 --workers 2

Options override RISK_* environment variables (service/settings.py). Before any worker starts, the
artifact is checked (a missing or corrupt one exits 3 with a one-line reason instead of crash-looping
workers) and PROMETHEUS_MULTIPROC_DIR points at a fresh directory so /metrics is right with several
workers. uvloop, not asyncio's loop: with several workers asyncio leaves Nagle's algorithm on for the
shared socket's connections and every keep-alive response stalls ~40 ms (docs/service.md).
"""

from __future__ import annotations

import argparse
import errno
import importlib.util
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError

from misinfo_risk.model.errors import ArtifactError, BaseRateError
from misinfo_risk.service.logs import log_config
from misinfo_risk.service.settings import ROOT_ENV, Settings

EXIT_OK, EXIT_USAGE, EXIT_ARTIFACT = 0, 2, 3
APP = "misinfo_risk.service.app:create_app"


SERVE_OPTIONS = ("host", "port", "workers", "artifact_path", "model_sha256", "pool_workers", "log_level", "base_rate")
"""The Settings fields serve takes as options: `--<field-name>` (`--artifact` for artifact_path), help from the field."""
_FLAGS, _METAVARS = {"artifact_path": "--artifact"}, {"artifact_path": "DIR", "model_sha256": "HEX"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="misinfo-risk serve",
        description="Run the misinfo-risk HTTP API. Every option can also be set as a RISK_* environment variable.",
    )
    for name in SERVE_OPTIONS:
        field = Settings.model_fields[name]
        default = "" if field.default is None or field.default_factory else f", default {field.default}"
        parser.add_argument(
            _FLAGS.get(name, "--" + name.replace("_", "-")),
            dest=name,
            metavar=_METAVARS.get(name),
            choices=get_args(field.annotation) if get_origin(field.annotation) is Literal else None,
            help=f"{field.description} (RISK_{name.upper()}{default})".replace("%", "%%"),
        )
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings from the environment with the given options on top; exports the options as RISK_*."""
    overrides = {field: value for field, value in vars(args).items() if value is not None}
    settings = Settings(**overrides)
    for field, value in overrides.items():
        os.environ[f"RISK_{field.upper()}"] = str(value)  # spawned workers build their Settings from these
    return settings


def settings_problems(exc: ValidationError) -> str:
    """One line per bad setting, named as the operator sets it (RISK_PORT), without pydantic's class name, error
    codes and documentation links ("1 validation error for Settings ... For further information visit https://...")."""
    lines = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in error["loc"])
        where = f"{field} (RISK_{field.upper()})" if field else "settings"
        lines.append(f"  {where}: {str(error['msg']).removeprefix('Value error, ')}")
    return "\n".join(lines)


def prepare_metrics_dir() -> Path | None:
    """Use PROMETHEUS_MULTIPROC_DIR (emptied of old *.db files) or create a temporary one; return it if created."""
    os.environ[ROOT_ENV] = str(os.getpid())  # workers and pools inherit it: process metrics sum the tree
    existing = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if existing:
        directory = Path(existing)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return None
    created = Path(tempfile.mkdtemp(prefix="misinfo-risk-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(created)
    return created


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run; with several workers, uvloop with least-connections accepting."""
    loop = "asyncio"  # only where uvloop does not install (Windows)
    if importlib.util.find_spec("uvloop") is not None:
        loop = "misinfo_risk.service.balance:BalancedLoop" if settings.workers > 1 else "uvloop"
    return {
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "workers": settings.workers,
        "loop": loop,
        "http": "misinfo_risk.service.protocol:HeadTimeoutProtocol",
        "lifespan": "on",
        "log_config": log_config(settings.log_level),
        "access_log": False,  # ours is structured and written by service.middleware
        "server_header": False,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        "timeout_keep_alive": settings.keep_alive_timeout,
    }


def prepare_accept_board(settings: Settings) -> Path | None:
    """With several workers, create the shared board service.balance deals out connections with."""
    if settings.workers < 2:
        return None
    from misinfo_risk.service.balance import BOARD_ENV, Board

    handle, name = tempfile.mkstemp(prefix="misinfo-risk-accept-")
    os.close(handle)
    Board.create(Path(name))
    os.environ[BOARD_ENV] = name
    return Path(name)


def cannot_listen(host: str, port: int) -> str | None:
    """Why uvicorn would fail to listen on host:port (in use, no such address), or None.

    Checked before anything loads: uvicorn finds out only after a worker has loaded the model, logs it as a JSON
    line among the others and exits with 3, the status that means a bad artifact here. The same bind as uvicorn's
    (`Config.bind_socket`: IPv6 if the host has a colon, SO_REUSEADDR), then released at once.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        hint = "another process is listening there; choose another --port (RISK_PORT)" if exc.errno == errno.EADDRINUSE else ""
        return f"cannot listen on {host}:{port}: {reason}{f' ({hint})' if hint else ''}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        settings = settings_from(args)
    except ValidationError as exc:
        sys.stderr.write(f"misinfo-risk serve: invalid settings:\n{settings_problems(exc)}\n")
        return EXIT_USAGE
    problem = cannot_listen(settings.host, settings.port)
    if problem is not None:
        sys.stderr.write(f"misinfo-risk serve: cannot start: {problem}\n")
        return EXIT_USAGE
    try:
        from misinfo_risk.model.scorer import load_scorer

        # fail here, once, rather than in every worker
        load_scorer(settings.artifact_path, sha256=settings.model_sha256).base_rate_shift(settings.base_rate)
    except ArtifactError as exc:
        sys.stderr.write(f"misinfo-risk serve: cannot start: {exc}\n")
        return EXIT_ARTIFACT
    except BaseRateError as exc:
        sys.stderr.write(f"misinfo-risk serve: invalid settings: base rate {settings.base_rate}: {exc}\n")
        return EXIT_USAGE

    import uvicorn

    created = prepare_metrics_dir()
    board = prepare_accept_board(settings)
    # A single-worker uvicorn re-raises the SIGTERM it handled once it has shut down; with the default
    # handler the process would then die at once and leave its metrics directory in /tmp. Exit into the finally below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(EXIT_OK))
    try:
        uvicorn.run(APP, **uvicorn_options(settings))
    except SystemExit as exc:  # uvicorn exits with 3 when the app fails to start
        return exc.code if isinstance(exc.code, int) else EXIT_ARTIFACT
    finally:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        if board is not None:
            board.unlink(missing_ok=True)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
