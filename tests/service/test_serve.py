"""`misinfo-risk serve` without starting a server: options, environment, artifact checks, uvicorn settings."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from misinfo_risk.cli import main as cli_main
from misinfo_risk.service.__main__ import build_parser, main, prepare_metrics_dir, settings_from, uvicorn_options
from misinfo_risk.service.settings import ROOT_ENV, Settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith("RISK_"):
            monkeypatch.delenv(key)
    # `serve` writes these two into os.environ itself (for its workers): recorded here first, so that the
    # test's end restores them to what they were, unset included, and no later test inherits them
    for key in ("PROMETHEUS_MULTIPROC_DIR", ROOT_ENV):
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    return monkeypatch


def test_options_override_the_environment_and_are_exported_for_workers(
    clean_env: pytest.MonkeyPatch, tiny_artifact: Path
) -> None:
    clean_env.setenv("RISK_PORT", "9001")
    clean_env.setenv("RISK_WORKERS", "3")
    args = build_parser().parse_args(["--workers", "2", "--artifact", str(tiny_artifact), "--pool-workers", "0"])
    settings = settings_from(args)
    assert (settings.port, settings.workers, settings.artifact_path, settings.pool_workers) == (9001, 2, tiny_artifact, 0)
    assert os.environ["RISK_WORKERS"] == "2"
    assert Settings() == settings  # what each spawned worker will build


def test_uvicorn_runs_uvloop_and_httptools(clean_env: pytest.MonkeyPatch) -> None:
    """Guards the ~40 ms keep-alive stall: asyncio's loop does not set TCP_NODELAY on sockets that
    several workers inherit, so every keep-alive response waits for a delayed ACK. uvloop always sets it."""
    options = uvicorn_options(Settings(workers=2))
    # several workers: uvloop with least-connections accepting (it sets TCP_NODELAY itself, see test_balance)
    assert (options["loop"], options["http"], options["factory"], options["workers"]) == (
        "misinfo_risk.service.balance:BalancedLoop",
        "misinfo_risk.service.protocol:HeadTimeoutProtocol",  # uvicorn's httptools protocol with a request-head timeout
        True,
        2,
    )
    assert uvicorn_options(Settings(workers=1))["loop"] == "uvloop"
    assert options["timeout_graceful_shutdown"] == 30.0
    assert options["access_log"] is False  # the structured access log replaces uvicorn's


def test_missing_artifact_stops_start_up_with_a_clear_message(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--artifact", str(tmp_path / "nowhere")]) == 3
    err = capsys.readouterr().err
    assert err.startswith("misinfo-risk serve: cannot start:") and "nowhere" in err


def test_corrupt_artifact_stops_start_up_with_a_clear_message(
    clean_env: pytest.MonkeyPatch, tiny_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_artifact, broken)
    (broken / "model.joblib").write_bytes((broken / "model.joblib").read_bytes()[:-100])
    assert cli_main(["serve", "--artifact", str(broken)]) == 3
    assert "does not match the sha256" in capsys.readouterr().err


def test_invalid_settings_exit_2(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "not-a-port"]) == 2
    assert "invalid settings" in capsys.readouterr().err
    clean_env.setenv("RISK_API_KEYS", "too-short")
    assert main([]) == 2


def test_invalid_settings_are_named_one_per_line(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """As the operator sets them (RISK_PORT), without pydantic's "validation error for Settings" and documentation links."""
    assert main(["--port", "99999"]) == 2
    err = capsys.readouterr().err
    assert err == "misinfo-risk serve: invalid settings:\n  port (RISK_PORT): Input should be less than or equal to 65535\n"
    clean_env.setenv("RISK_API_KEYS", "a-good-key-0123456789,short")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "api_keys (RISK_API_KEYS): API keys must have at least 16 characters" in err, err
    assert "errors.pydantic.dev" not in err and "a-good-key" not in err


def test_metrics_dir_is_created_or_emptied(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    created = prepare_metrics_dir()
    assert created is not None and created.is_dir() and os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(created)
    shutil.rmtree(created)
    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_123.db").write_bytes(b"old")
    (given / "keep.txt").write_text("not ours")
    clean_env.setenv("PROMETHEUS_MULTIPROC_DIR", str(given))
    assert prepare_metrics_dir() is None
    assert sorted(p.name for p in given.iterdir()) == ["keep.txt"]
