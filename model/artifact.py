"""Artifacts on disk: `model/artifacts/<version>/` with model.joblib, model_card.json, report.md, SHA256SUMS.

An artifact is code: model.joblib is a pickle, and unpickling runs whatever it says. Load only
artifacts from a place you trust. SHA256SUMS lists the sha256 of every other file of the directory
(in `sha256sum` format, by name), so no file, the model card included, can change unnoticed; the
sha256 of SHA256SUMS itself is the artifact's digest, which a user can pin from outside the
directory (`RISK_MODEL_SHA256`, `--model-sha256`) so that a replaced directory is refused too.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import joblib
import sklearn
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import Pipeline

from misinfo_risk.model.errors import ArtifactError
from misinfo_risk.model.heuristics import registered_names
from misinfo_risk.model.types import RiskLevel

SHIPPED_ARTIFACT = "risk-v4"
SHIPPED_GENRE_ARTIFACT = "genre-v4"
PIPELINE_FILE = "model.joblib"
CARD_FILE = "model_card.json"
REPORT_FILE = "report.md"
SUMS_FILE = "SHA256SUMS"
ARTIFACTS_DIR = Path(__file__).parent / "artifacts"


class Thresholds(BaseModel):
    """Score cut-offs chosen on validation data: score >= high -> "high", >= medium -> "medium"."""

    model_config = ConfigDict(frozen=True)

    medium: float = Field(ge=0.0, le=1.0)
    high: float = Field(ge=0.0, le=1.0)

    def level_for(self, score: float) -> RiskLevel:
        if score >= self.high:
            return "high"
        return "medium" if score >= self.medium else "low"


class ArtifactCard(BaseModel):
    """What every artifact's card records: identity, provenance, settings and evaluation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    created_at: datetime
    description: str = ""
    sklearn_version: str
    library_versions: dict[str, str]
    pipeline_sha256: str
    training_data_sha256: dict[str, str]
    hyperparameters: dict[str, Any]
    training_command: str = ""
    evaluation: dict[str, Any] = Field(default_factory=dict)


class ModelCard(ArtifactCard):
    """Everything needed to trust, reproduce and compare a risk artifact; stored beside the pipeline."""

    description: str = "Misinformation-risk triage score: calibrated P(fake or misleading)."
    heuristics: tuple[str, ...]
    thresholds: Thresholds
    short_text_words: int = Field(
        default=0,
        ge=0,
        description="Texts with fewer body words get a short_text warning and at most a medium level (chosen on held-out "
        "data: below it the model flags genuine articles at high more than 1.5x as often as at full length).",
    )
    languages: tuple[str, ...] = Field(
        default=("en",), description="ISO 639-1 codes of the languages the model was trained on; others are not assessed."
    )
    baseline: dict[str, float] = Field(
        default_factory=dict, description="Share of high-risk articles and mean score on the training data (for drift)."
    )
    prevalence: float | None = Field(
        default=None,
        gt=0.0,
        lt=1.0,
        description="Share of fake articles in the training data: the base rate the score is calibrated at. A caller's "
        "own base rate re-expresses the score by Bayes' rule (levels stay those of the calibrated score).",
    )


class GenreCard(ArtifactCard):
    """The genre model's card: what it was trained on and how well it reads held-out groups."""

    description: str = "Genre of a text (news, opinion, satire, press release): information, never a risk factor."
    classes: tuple[str, ...]
    terms_from: str = Field(description="The risk artifact whose term features the genre model reads.")
    terms_sha256: str = Field(description="Digest of those term features (vocabulary and idf), checked at load.")


CardT = TypeVar("CardT", bound=ArtifactCard)


def shipped_artifact_dir() -> Path:
    return ARTIFACTS_DIR / SHIPPED_ARTIFACT


def shipped_genre_dir() -> Path:
    return ARTIFACTS_DIR / SHIPPED_GENRE_ARTIFACT


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pipeline_bytes(pipeline: Pipeline) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    return buffer.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the service may run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_artifact(pipeline: Pipeline, card: CardT, directory: Path, *, blob: bytes | None = None) -> CardT:
    """Write the pipeline and its card (with the pipeline's sha256 filled in). Returns the card."""
    directory.mkdir(parents=True, exist_ok=True)
    blob = blob if blob is not None else pipeline_bytes(pipeline)
    card = card.model_copy(update={"pipeline_sha256": sha256_bytes(blob)})
    _atomic_write(directory / PIPELINE_FILE, blob)
    _atomic_write(directory / CARD_FILE, (card.model_dump_json(indent=2) + "\n").encode())
    return card


def artifact_files(directory: Path) -> list[Path]:
    """The files an artifact's digest covers: every file in the directory but SHA256SUMS and hidden ones, by name."""
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name != SUMS_FILE and not p.name.startswith("."))


def _sums(directory: Path) -> bytes:
    lines = [f"{sha256_bytes(path.read_bytes())}  {path.name}\n" for path in artifact_files(directory)]
    return "".join(lines).encode("utf-8")


def seal_artifact(directory: Path) -> str:
    """Write SHA256SUMS for every file of `directory` (the last step of building an artifact); return the digest.

    Seal only a directory whose files you trust: loading then refuses any change to them.
    """
    sums = _sums(directory)
    _atomic_write(directory / SUMS_FILE, sums)
    return sha256_bytes(sums)


def verify_artifact(directory: Path, sha256: str | None = None) -> str:
    """Check every file of `directory` against its SHA256SUMS (and that against `sha256`); return the digest.

    Raises ArtifactError if SHA256SUMS is missing, its digest is not the pinned `sha256`, or a file
    was added, removed or changed since it was sealed.
    """
    return _verified_files(directory, sha256)[0]


def _verified_files(directory: Path, sha256: str | None) -> tuple[str, dict[str, bytes]]:
    """The digest and the verified contents of every file: loading uses these bytes, never a second read."""
    try:
        sums = (directory / SUMS_FILE).read_bytes()
    except OSError as exc:
        raise ArtifactError(
            f"cannot read {directory / SUMS_FILE} ({exc.strerror or exc}): every artifact lists its files' sha256 there; "
            "rebuild the artifact, or seal one you built yourself with `misinfo-risk model-info --seal --artifact DIR`"
        ) from exc
    digest = sha256_bytes(sums)
    if sha256 is not None and digest != sha256.lower():
        raise ArtifactError(
            f"the artifact at {directory} has sha256 {digest}, not the pinned {sha256.lower()}: refusing to load it "
            "(a model is code: load only the artifact you expect)"
        )
    listed: dict[str, str] = {}
    for line in sums.decode("utf-8", "replace").splitlines():
        hexdigest, _, name = line.partition("  ")
        listed[name] = hexdigest
    present = {path.name: path for path in artifact_files(directory)}
    extra, missing = sorted(present.keys() - listed.keys()), sorted(listed.keys() - present.keys())
    if extra or missing:
        raise ArtifactError(
            f"the files of {directory} are not those its {SUMS_FILE} lists "
            f"(added: {extra or 'none'}, missing: {missing or 'none'})"
        )
    contents = {name: path.read_bytes() for name, path in present.items()}
    for name, data in contents.items():
        if sha256_bytes(data) != listed[name]:
            raise ArtifactError(f"{present[name]} does not match the sha256 in {directory / SUMS_FILE} (corrupt or replaced)")
    return digest, contents


def load_card(directory: Path) -> ModelCard:
    try:
        return ModelCard.model_validate_json((directory / CARD_FILE).read_bytes())
    except (OSError, ValidationError) as exc:
        raise ArtifactError(f"cannot read the model card at {directory / CARD_FILE}: {exc}") from exc


def load_genre_artifact(directory: Path) -> tuple[Pipeline, GenreCard]:
    """Load and check a genre artifact directory (same checks as `load_artifact`). Raises ArtifactError."""
    directory = Path(directory)
    try:
        card = GenreCard.model_validate_json((directory / CARD_FILE).read_bytes())
    except (OSError, ValidationError) as exc:
        raise ArtifactError(f"cannot read the genre model card at {directory / CARD_FILE}: {exc}") from exc
    _, files = _verified_files(directory, None)
    card = _parse_card(GenreCard, directory, files)
    return _checked_pipeline(directory, card.version, card.sklearn_version, card.pipeline_sha256, files.get(PIPELINE_FILE)), card


def load_artifact(directory: Path, *, sha256: str | None = None) -> tuple[Pipeline, ModelCard]:
    """Load and check an artifact directory. Raises ArtifactError, never returns half a model.

    Checks, in order: the card parses; SHA256SUMS has the pinned digest `sha256` (if given) and
    every file matches it (the card too); the card was made with this scikit-learn; the pipeline
    file's sha256 matches the card; it unpickles without version warnings; every heuristic it lists
    exists. Only load artifacts from a place you trust: a pickle is code.
    """
    directory = Path(directory)
    load_card(directory)  # first: for a wrong directory, "cannot read the model card" is the clearest error
    _, files = _verified_files(directory, sha256)
    card = _parse_card(ModelCard, directory, files)
    pipeline = _checked_pipeline(directory, card.version, card.sklearn_version, card.pipeline_sha256, files.get(PIPELINE_FILE))
    missing = [n for n in card.heuristics if n not in registered_names()]
    if missing:
        raise ArtifactError(f"artifact {card.version} needs heuristics this code does not have: {missing}")
    return pipeline, card


def _parse_card(kind: type[CardT], directory: Path, files: dict[str, bytes]) -> CardT:
    """The card from the verified bytes (not a second read: the file could have changed meanwhile)."""
    try:
        return kind.model_validate_json(files[CARD_FILE])
    except (KeyError, ValidationError) as exc:
        raise ArtifactError(f"cannot read the model card at {directory / CARD_FILE}: {exc}") from exc


def _checked_pipeline(directory: Path, version: str, sklearn_version: str, sha256: str, blob: bytes | None = None) -> Pipeline:
    if sklearn_version != sklearn.__version__:
        raise ArtifactError(
            f"artifact {version} was built with scikit-learn {sklearn_version}, "
            f"but {sklearn.__version__} is installed; install scikit-learn=={sklearn_version} or retrain"
        )
    try:
        blob = blob if blob is not None else (directory / PIPELINE_FILE).read_bytes()
    except OSError as exc:
        raise ArtifactError(f"cannot read {directory / PIPELINE_FILE}: {exc}") from exc
    if sha256_bytes(blob) != sha256:
        raise ArtifactError(f"{directory / PIPELINE_FILE} does not match the sha256 in its model card (corrupt or replaced)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", InconsistentVersionWarning)
            pipeline = joblib.load(io.BytesIO(blob))
    except Exception as exc:  # unpickling can raise almost anything; the cause is kept
        raise ArtifactError(f"cannot unpickle {directory / PIPELINE_FILE}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(pipeline, Pipeline):
        raise ArtifactError(f"{directory / PIPELINE_FILE} holds a {type(pipeline).__name__}, not a Pipeline")
    return pipeline


def library_versions() -> dict[str, str]:
    import numpy
    import pydantic
    import scipy

    return {
        "python": ".".join(map(str, __import__("sys").version_info[:3])),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "joblib": joblib.__version__,
        "pydantic": pydantic.__version__,
    }
