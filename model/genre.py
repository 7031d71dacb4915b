"""Genre: does the text read as news, opinion, satire or a press release?

Information for the reader, never a reason for risk: the genre model is a separate artifact
(`model/artifacts/genre-v1`) and nothing it computes enters the risk score. It is a multinomial
logistic regression over body-word TF-IDF plus the genre cues below, trained by
`python -m misinfo_risk.training.genre` on the sets in ../shared/data that carry a `genre`.

Cues are phrase lists and patterns that mark a genre in any outlet, not one publisher's house
style: press-release boilerplate ("released the following statement", "/PRNewswire/", "About
Acme:"), opinion markers ("Opinion |" headers, "I believe", "we must"), satire markers ("area
man"), and news-agency datelines ("WASHINGTON (Reuters) -"). They are shown as evidence with the genre.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from misinfo_risk.model.document import Doc, as_doc
from misinfo_risk.model.errors import ArtifactError
from misinfo_risk.model.features import TermFeatures
from misinfo_risk.model.heuristics._util import phrases, regex_hits
from misinfo_risk.model.text import Hit
from misinfo_risk.model.types import Article, Evidence, GenreLabel, GenreReading

GENRES: tuple[GenreLabel, ...] = ("news", "opinion", "press_release", "satire")
GENRE_NAMES = {"news": "news reporting", "opinion": "opinion", "press_release": "a press release", "satire": "satire"}
_PLURAL = {"news": "news reports", "opinion": "opinion columns", "press_release": "press releases", "satire": "satire pieces"}
NOT_NEWS_CONFIDENCE = 0.5
"""A `not_news` warning is given when a genre other than news has at least this probability."""


@dataclass(frozen=True)
class Cue:
    name: str
    genre: GenreLabel
    phrase_key: str | None = None
    pattern: re.Pattern[str] | None = None
    sections: tuple[str, ...] = ("title", "text")
    low: bool = True
    at_start: bool = False  # the pattern is tried at the start of the section only
    after: str = ""  # a match must start the section or follow one of these characters and a space


def _phrase_cue(name: str, genre: GenreLabel, templates: list[str], sections: tuple[str, ...] = ("title", "text")) -> Cue:
    return Cue(name, genre, phrase_key=phrases(f"genre:{name}", templates), sections=sections)


def _regex_cue(
    name: str,
    genre: GenreLabel,
    pattern: str,
    sections: tuple[str, ...] = ("title", "text"),
    *,
    low: bool = True,
    at_start: bool = False,
    after: str = "",
) -> Cue:
    return Cue(name, genre, pattern=re.compile(pattern), sections=sections, low=low, at_start=at_start, after=after)


CUES: tuple[Cue, ...] = (
    _phrase_cue(
        "release_header",
        "press_release",
        [
            "(for immediate release|press release|news release|media advisory)",
            "(/prnewswire/|prnewswire|pr newswire|business wire|businesswire|globe newswire|globenewswire|accesswire)",
        ],
    ),
    _phrase_cue(
        "release_boilerplate",
        "press_release",
        [
            "(released|issued|made|gave|delivered) the following (statement|remarks)",
            "(media contact|press contact|press office|contact:|###)",
            "(today|this week|yesterday) (announced|introduced|unveiled|released|launched|reintroduced)",
            "(today|this week|yesterday) (applauded|welcomed|joined|led|urged|called on)",
            "(forward-looking statements|is a leading provider|is a global leader|for more information, visit|learn more at)",
        ],
    ),
    # "About Acme Corp:" as a heading (line breaks are collapsed, so: at the start or after a sentence)
    _regex_cue(
        "about_organisation",
        "press_release",
        r"About [A-Z][\w&.'-]*(?: [A-Z][\w&.'-]*){0,4}:",
        ("text",),
        low=False,
        after='.!?"',
    ),
    _regex_cue("party_state_tag", "press_release", r"\((?:R|D|I)-[A-Z][A-Za-z.]{1,5}(?:-?\d{1,2})?\)", low=False),
    _regex_cue(
        "opinion_header",
        "opinion",
        r"(?:opinion|op-ed|editorial|commentary|column|my view|viewpoint)\s*[|:\-–—]",
        ("title",),
        at_start=True,
    ),
    _phrase_cue(
        "opinion_markers",
        "opinion",
        [
            "(i believe|i think|in my view|in my opinion|i would argue|i'd argue|i am convinced|to my mind|i wanted to)",
            "(we must|we should|we need to|we cannot|we can't afford|it is time for|it's time for)",
            "(let us|let's be clear|make no mistake)",
            "(the writer is|the author is|views expressed|the opinions expressed|is a columnist|is a contributing writer)",
        ],
    ),
    _phrase_cue(
        "satire_markers",
        "satire",
        [
            "(area man|area woman|local man|local woman|area resident|area father|area mother|nation's|sources confirmed that)",
            "(this is satire|satirical|a work of satire|parody)",
        ],
    ),
    _regex_cue(
        "agency_dateline",
        "news",
        r"[A-Z][A-Z .,'’-]{2,40}(?:\((?:Reuters|AP|AFP|CNN|Bloomberg|UPI)\))?\s*[-–—]",
        ("text",),
        low=False,
        at_start=True,
    ),
    _phrase_cue(
        "reporting_markers",
        "news",
        [
            "(reporting by|editing by|told reporters|said in a statement|associated press|contributed to this report)",
            "(reuters)",
            "(ap)",
        ],
        ("text",),
    ),
)
CUE_NAMES = tuple(c.name for c in CUES)
SELF_LABELS: dict[str, GenreLabel] = {"release_header": "press_release", "opinion_header": "opinion"}
"""Cues by which a text labels its own genre ("Opinion | ...", "/PRNewswire/"): when one fires within
SELF_LABEL_CHARS of the start of the title or text (a header or dateline, not "said in a press release"
in a news story), the genre is the one the text declares, whatever the model's probabilities (which
never saw most of these labels: the training sets come without them)."""
SELF_LABEL_CHARS = 150


def cue_hits(doc: Doc) -> dict[str, list[Hit]]:
    """Every genre cue's hits on `doc` (normalised coordinates), cached on the doc."""
    out: dict[str, list[Hit]] = {}
    for cue in CUES:
        cached = doc.cached_hits(f"genre:{cue.name}")
        if cached is not None:
            out[cue.name] = cached
            continue
        hits = _cue_hits(doc, cue)
        doc.store_hits(f"genre:{cue.name}", hits)
        out[cue.name] = hits
    return out


def _cue_hits(doc: Doc, cue: Cue) -> list[Hit]:
    if cue.phrase_key is not None:
        return doc.phrases(cue.phrase_key, sections=cue.sections)  # type: ignore[arg-type]  # "title"/"text" literals
    assert cue.pattern is not None
    if not cue.at_start:
        hits = regex_hits(doc, cue.pattern, cue.sections, low=cue.low)  # type: ignore[arg-type]
        if cue.after:
            hits = [h for h in hits if h.start < 2 or doc.section(h.section).norm[h.start - 2] in cue.after]
        return hits
    out = []
    for name in cue.sections:
        section = doc.section(name)  # type: ignore[arg-type]
        m = cue.pattern.match(section.low if cue.low else section.norm)
        if m:
            out.append(Hit(name, m.start(), m.end()))  # type: ignore[arg-type]
    return out


class GenreCueFeatures(TransformerMixin, BaseEstimator):
    """One column per genre cue, log1p of its hit count, plus first-person and reader-address rates.

    Pickled inside the genre artifact by import path: do not move or rename this class.
    """

    def fit(self, X: Sequence[Article | Doc], y: object = None) -> GenreCueFeatures:
        self.cues_ = CUE_NAMES
        return self

    def transform(self, X: Sequence[Article | Doc]) -> np.ndarray:
        check_is_fitted(self, "cues_")
        return self.values(X)

    def values(self, X: Sequence[Article | Doc]) -> np.ndarray:
        """`transform` without scikit-learn's fitted check and output wrapping (for a fitted transformer only)."""
        rows = [self._row(as_doc(x)) for x in X]
        return np.asarray(rows, dtype=float).reshape(len(rows), len(self.cues_) + 3)

    def _row(self, doc: Doc) -> list[float]:
        hits = cue_hits(doc)
        words = max(doc.n_words, 50)
        i_rate = len(doc.phrases(_FIRST_SINGULAR, ("text",))) * 100.0 / words
        we_rate = len(doc.phrases(_FIRST_PLURAL, ("text",))) * 100.0 / words
        you_rate = len(doc.phrases(_SECOND, ("text",))) * 100.0 / words
        return [math.log1p(len(hits[name])) for name in self.cues_] + [
            math.log1p(i_rate),
            math.log1p(we_rate),
            math.log1p(you_rate),
        ]

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "cues_")
        return np.asarray([*self.cues_, "rate:i", "rate:we", "rate:you"], dtype=object)


_FIRST_SINGULAR = phrases("genre:first_singular", ["(i|me|my|mine|myself|i'm|i've|i'd)"])
_FIRST_PLURAL = phrases("genre:first_plural", ["(we|us|our|ours|ourselves|we're|we've)"])
_SECOND = phrases("genre:second", ["(you|your|yours|yourself|you're|you've)"])


def terms_digest(terms: TermFeatures) -> str:
    """sha256 of a fitted TermFeatures' settings, vocabulary and idf: equal digests, equal term matrices."""
    settings: tuple[Any, ...] = (terms.ngram_max, terms.title_terms)
    if getattr(terms, "skip_dateline", False):  # added to the digest only when set, so older digests stay valid
        settings += ("skip_dateline",)
    digest = hashlib.sha256(repr((*settings, sorted(terms.vocabulary_.items()))).encode())
    digest.update(np.ascontiguousarray(terms.idf_, dtype=np.float64).tobytes())
    return digest.hexdigest()


class GenreReader:
    """A fitted genre pipeline -> a `GenreReading` per document, with cues as evidence.

    Computes the pipeline's probabilities itself (TF-IDF and cue features, one matrix product, a
    softmax): the same numbers as `pipeline.predict_proba`, without scikit-learn's per-call
    overhead, which for one article costs more than the arithmetic. The genre model reads the risk
    model's term features; a scorer whose risk model has the same ones (`reads_terms_of`) passes
    its term matrix in instead of counting twice.
    """

    def __init__(self, pipeline: Pipeline, version: str) -> None:
        try:
            steps = dict(pipeline.named_steps["features"].transformer_list)
            self._terms, self._cues = steps["terms"], steps["cues"]
            classifier = pipeline.named_steps["classifier"]
            n_terms = len(self._terms.vocabulary_)
            coef = np.asarray(classifier.coef_)
            check_is_fitted(self._cues, "cues_")  # once here: scoring calls `values`, which does not check
        except (KeyError, AttributeError, TypeError) as exc:
            raise ArtifactError(f"genre artifact {version} does not have the expected steps: {exc}") from exc
        if not isinstance(self._cues, GenreCueFeatures):
            raise ArtifactError(f"genre artifact {version} has unexpected cue features: {type(self._cues).__name__}")
        self._term_weights = np.ascontiguousarray(coef[:, :n_terms].T)  # (n_terms, n_classes)
        self._cue_weights = np.ascontiguousarray(coef[:, n_terms:].T)
        self._intercept = np.asarray(classifier.intercept_)
        self._classes: list[GenreLabel] = [str(c) for c in classifier.classes_]  # type: ignore[misc]
        self._terms_digest = terms_digest(self._terms)
        self._pipeline = pipeline
        self.version = version

    @property
    def pipeline(self) -> Pipeline:
        return self._pipeline

    def reads_terms_of(self, terms: TermFeatures) -> bool:
        """Whether `terms` computes exactly the term features this genre model reads."""
        return terms_digest(terms) == self._terms_digest

    def probabilities(self, docs: Sequence[Doc], term_x: Any = None) -> np.ndarray:
        """(n_docs, n_classes) genre probabilities, classes in the classifier's order.

        `term_x`: the docs' term matrix, if the caller has it from a TermFeatures that `reads_terms_of`.
        """
        if term_x is None:
            term_x = self._terms.transform(docs)
        logits = np.asarray(term_x @ self._term_weights)
        cues = self._cues.values(docs)
        # summed term by term, not by BLAS: one article must get the same numbers alone as in a batch
        logits += (cues[:, :, None] * self._cue_weights[None, :, :]).sum(axis=1) + self._intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        out: np.ndarray = p / p.sum(axis=1, keepdims=True)
        return out

    def read(self, docs: Sequence[Doc], term_x: Any = None) -> list[GenreReading]:
        if not docs:
            return []
        proba = self.probabilities(docs, term_x)
        return [self._reading(doc, row) for doc, row in zip(docs, proba, strict=True)]

    def _reading(self, doc: Doc, row: np.ndarray) -> GenreReading:
        hits = cue_hits(doc)
        heads = {name: [h for h in hits[name] if h.start < SELF_LABEL_CHARS] for name in SELF_LABELS}
        declared = next((genre for name, genre in SELF_LABELS.items() if heads[name]), None)
        if declared is not None:
            own = [h for name, genre in SELF_LABELS.items() if genre == declared for h in heads[name]]
            evidence = tuple(doc.evidence(sorted(own)[:10]))
            explanation = f"Labels itself as {GENRE_NAMES[declared]}: {_quoted(evidence)}."
            return GenreReading(
                label=declared, confidence=1.0, model_version=self.version, explanation=explanation, cues=evidence
            )
        k = int(np.argmax(row))
        label: GenreLabel = self._classes[k]
        confidence = round(float(row[k]), 4)
        own = [h for cue in CUES if cue.genre == label for h in hits[cue.name]]
        evidence = tuple(doc.evidence(sorted(own)[:10]))
        return GenreReading(
            label=label,
            confidence=confidence,
            model_version=self.version,
            explanation=explain(label, confidence, evidence),
            cues=evidence,
        )


def load_genre_reader(directory: Path | None = None) -> GenreReader:
    """The genre model at `directory`, or the shipped one. Raises ArtifactError."""
    from misinfo_risk.model.artifact import load_genre_artifact, shipped_genre_dir

    pipeline, card = load_genre_artifact(directory if directory is not None else shipped_genre_dir())
    reader = GenreReader(pipeline, card.version)
    if reader._terms_digest != card.terms_sha256:
        raise ArtifactError(f"genre artifact {card.version}: its term features do not match the digest in its card")
    return reader


def explain(label: GenreLabel, confidence: float, cues: Sequence[Evidence]) -> str:
    """One sentence: what the text reads as, how sure, and the cues that say so."""
    head = f"Reads as {GENRE_NAMES[label]} ({confidence:.2f})"
    if cues:
        return f"{head}: {_quoted(cues)}."
    if label == "news":
        return f"{head}."
    return f"{head}: its wording resembles the {_PLURAL[label]} the genre model was trained on."


def _quoted(cues: Sequence[Evidence], most: int = 3) -> str:
    """The first `most` different cue words, quoted: a cue that recurs ("said in a statement" in every
    paragraph) is quoted once, so the sentence names up to three different cues, not one cue three times."""
    seen: dict[str, str] = {}
    for cue in cues:
        seen.setdefault(" ".join(cue.text.lower().split()), cue.text)
        if len(seen) == most:
            break
    return ", ".join(f'"{text}"' for text in seen.values())
