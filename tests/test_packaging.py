"""One distribution namespace (issue 12): the install puts only `misinfo_risk` at the top of site-packages.

The repository keeps its top-level model/, service/, training/ and ingest/ folders; misinfo_risk/<name> links to
each. From a checkout the bare names still import (the working directory is on sys.path), so these tests look
from outside it: the built wheel's contents, and a process started elsewhere.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_installs_one_top_level_package_with_the_shipped_artifacts(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        cwd=tmp_path,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("misinfo_risk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {"misinfo_risk"}
    for package in ("model", "model/heuristics", "service", "training", "ingest", "batch", "client"):
        assert f"misinfo_risk/{package}/__init__.py" in names
    from misinfo_risk.model.artifact import SHIPPED_ARTIFACT, SHIPPED_GENRE_ARTIFACT

    for artifact in (SHIPPED_ARTIFACT, SHIPPED_GENRE_ARTIFACT):
        for file in ("model.joblib", "model_card.json", "SHA256SUMS"):
            assert f"misinfo_risk/model/artifacts/{artifact}/{file}" in names
    assert "misinfo_risk/service/ui/index.html" in names


def test_outside_the_checkout_the_public_api_scores_and_no_generic_package_exists(tmp_path: Path) -> None:
    """A user's own model.py beside their script must not be shadowed by ours, nor shadow ours (the pickles
    name misinfo_risk.model.*, so the shipped model loads whatever the user's folder holds)."""
    (tmp_path / "model.py").write_text("raise SystemExit('the user model.py was imported')\n")
    script = (
        "import importlib.util, sys\n"
        "from misinfo_risk import load_scorer, parse_article\n"
        "result = load_scorer().score(parse_article({'title': 'Council vote', 'text': 'The council voted on Tuesday. ' * 20}))\n"
        "print(result.assessed, result.level)\n"
        "print([name for name in ('service', 'training', 'ingest') if importlib.util.find_spec(name) is not None])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assessed, found = done.stdout.splitlines()
    assert assessed.startswith("True ")
    assert found == "[]"
