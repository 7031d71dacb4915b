"""Training and the evaluation protocol: held-out groups, leave-one-dataset-out, within-dataset CV."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from misinfo_risk.model.artifact import ModelCard, Thresholds, library_versions
from misinfo_risk.model.document import Doc
from misinfo_risk.model.features import TermFeatures
from misinfo_risk.model.pipeline import BoundedLogistic, build_pipeline
from misinfo_risk.training.data import Dataset, split_dataset
from misinfo_risk.training.evaluate import (
    by_dataset,
    choose_short_text_words,
    choose_thresholds,
    figures,
    first_words,
    level_report,
    predict,
    reliability,
    roc_points,
    signal_firing,
    truncated_scores,
    truncation_curve,
)

HEURISTICS_V2 = [
    "absent_official_comment.v1",
    "absolutist_language.v2",
    "call_to_share.v1",
    "clickbait_headline.v1",
    "conspiracy_framing.v1",
    "exclamation_marks.v1",
    "hedging.v2",
    "inflated_figures.v1",
    "on_record_statement.v1",
    "sensational_terms.v1",
    "shouting_caps.v3",
    "sought_comment.v1",
    "unanswered_accusation.v1",
    "unnamed_sources.v1",
]

DEFAULT_HYPERPARAMETERS: dict[str, Any] = {
    "heuristics": HEURISTICS_V2,
    "named_floor": 0.1,
    "invariance": 0.0,
    "mask_names": False,
    "norm_floor": 0.75,
    "skip_dateline": True,
    "signal_weight": 1.0,
    "set_weight_power": 0.0,
    "class_balance": 0.0,
    "truncated_copies": 1,
    "stable_terms": 0,
    "c": 3.0,
    "ngram_max": 2,
    "min_df": 10,
    "max_features": 5000,
    "title_terms": True,
    "folds": 5,
    "seed": 0,
}
TEST_FRACTION = 0.25


class Prepared:
    """A dataset with one Doc per article, so every fit reuses tokens and heuristic hits."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.docs = [Doc(a) for a in dataset.articles]

    def part(self, mask: Sequence[bool]) -> tuple[Dataset, list[Doc]]:
        keep = [i for i, m in enumerate(mask) if m]
        return self.dataset.subset(keep), [self.docs[i] for i in keep]


TRAINING_ONLY = ("truncated_copies", "set_weight_power", "class_balance", "invariance", "stable_terms")
"""Hyperparameters of the training procedure, not of the pipeline (the card records both)."""


def _truncated_copies(docs: Sequence[Doc], copies: int, seed: int) -> list[Doc]:
    """`copies` cuts of every article to its first 15-200 words (log-uniform), in a fixed order."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(copies):
        for doc in docs:
            n = int(np.exp(rng.uniform(np.log(15), np.log(200))))
            out.append(Doc(first_words(doc.article, n)))
    return out


def stable_terms(dataset: Dataset, docs: Sequence[Doc], hp: dict[str, Any], min_sets: int = 1) -> list[str]:
    """Terms whose weight keeps its sign across the training sets (generalisation over domain artefacts).

    One L2 logistic regression per two-class set (terms only, same C); a term is kept when it occurs in
    at least 3 articles of at least `min_sets` of those sets and its weight has the same sign in every
    set where it occurs that often. A term that means "fake" in one set and "genuine" in another is a
    publisher's or an era's habit, not a sign of fabrication.
    """
    terms = TermFeatures(
        ngram_max=hp.get("ngram_max", 2), min_df=hp.get("min_df", 3), max_features=10**9, title_terms=hp.get("title_terms", True)
    ).fit(docs)
    x = terms.transform(docs).tocsr()
    names = terms.get_feature_names_out()
    sources = np.asarray(dataset.sources)
    signs = []
    present = []
    for name in sorted(set(dataset.sources)):
        rows = np.flatnonzero(sources == name)
        y = dataset.labels[rows]
        if len(rows) < 50 or y.min() == y.max():
            continue
        part = x[rows]
        linear = BoundedLogistic(c=float(hp.get("c", 1.0))).fit(part, y)
        signs.append(np.sign(linear.coef_))
        present.append(np.asarray((part > 0).sum(axis=0)).ravel() >= 3)
    s, p = np.array(signs), np.array(present)
    positive = ((s > 0) & p).sum(axis=0)
    negative = ((s < 0) & p).sum(axis=0)
    keep = (p.sum(axis=0) >= min_sets) & ((positive == 0) | (negative == 0))
    return [str(t) for t in names[keep]]


def fit(dataset: Dataset, docs: Sequence[Doc], hyperparameters: dict[str, Any]) -> Pipeline:
    """Fit the one pipeline shape on `docs`; calibration folds never split a group.

    With `truncated_copies` = k, k cut copies of every article join the training rows (same label,
    same group, so a fold never splits an article from its cuts): the model sees that length is not
    evidence. The out-of-fold scores of the full articles come first (see validation_scores).
    """
    hp = dict(hyperparameters)
    copies = int(hp.pop("truncated_copies", 0) or 0)
    power = float(hp.pop("set_weight_power", 0.0) or 0.0)
    balance = float(hp.pop("class_balance", 0.0) or 0.0)
    invariance = float(hp.pop("invariance", 0.0) or 0.0)
    stable = int(hp.pop("stable_terms", 0) or 0)
    if stable:
        hp["only_terms"] = stable_terms(dataset, docs, hp, min_sets=stable)
    pipeline = build_pipeline(**hp)
    rows = list(docs) + _truncated_copies(docs, copies, int(hp.get("seed", 0)))
    repeat = copies + 1
    labels = np.tile(dataset.labels, repeat)
    groups = list(dataset.groups) * repeat
    # the training set of each row: the classifier keeps its weights out of what tells the sets apart (`invariance`)
    domains = (
        {
            "classifier__domains": list(dataset.sources) * repeat,
            "classifier__invariance": invariance,
            "classifier__tail": len(hp["heuristics"]),
        }
        if invariance
        else {}
    )
    if not power and not balance:
        return pipeline.fit(rows, labels, classifier__groups=groups, **domains)
    sizes = dict(zip(*np.unique(dataset.sources, return_counts=True), strict=True))
    weight = np.array([sizes[s] ** -power for s in dataset.sources])
    if balance:
        weight *= _class_balance(dataset) ** balance
    weight *= len(weight) / weight.sum()
    return pipeline.fit(rows, labels, classifier__groups=groups, classifier__sample_weight=np.tile(weight, repeat), **domains)


def _class_balance(dataset: Dataset) -> np.ndarray:
    """Per-article weight that gives both classes of each two-class set the same total weight (a set's share
    of fakes is a fact about how it was collected, not a cue: without this the model learns "reads like
    set S" as S's base rate). One-class sets keep weight 1."""
    sources = np.asarray(dataset.sources)
    out = np.ones(len(sources))
    for name in np.unique(sources):
        rows = sources == name
        y = dataset.labels[rows]
        if 0 < y.sum() < len(y):
            share = np.where(y == 1, y.mean(), 1.0 - y.mean())
            out[rows] = 0.5 / share
    return out


def validation_scores(pipeline: Pipeline, n: int) -> np.ndarray:
    """Calibrated out-of-fold scores of the `n` training articles (never seen by the model that made them);
    their truncated copies, if any, follow them and are left out."""
    log_odds = np.asarray(pipeline.named_steps["classifier"].oof_log_odds_)[:n]
    scores: np.ndarray = 1.0 / (1.0 + np.exp(-log_odds))
    return scores


def _fit_and_threshold(dataset: Dataset, docs: Sequence[Doc], hp: dict[str, Any]) -> tuple[Pipeline, Thresholds]:
    pipeline = fit(dataset, docs, hp)
    return pipeline, choose_thresholds(dataset.labels, validation_scores(pipeline, len(dataset)))


def held_out_evaluation(pipeline: Pipeline, thresholds: Thresholds, test: Dataset, docs: Sequence[Doc]) -> dict[str, Any]:
    """Figures of a fitted pipeline on the held-out split, overall, per dataset and on subsets."""
    p = predict(pipeline, docs)
    out: dict[str, Any] = by_dataset(test, p, thresholds.high)
    hyper = np.array([s.endswith((":left", ":right")) for s in test.strata])
    if hyper.any():
        out["buzzfeed_webis (hyperpartisan publishers only)"] = figures(test.labels[hyper], p[hyper], thresholds.high)
    return out


def leave_one_dataset_out(prepared: Prepared, hp: dict[str, Any]) -> dict[str, Any]:
    """Train on every dataset but one, test on that one (domain shift, the honest number)."""
    out: dict[str, Any] = {}
    names = prepared.dataset.names
    if len(names) < 2:
        return out
    for name in names:
        train, train_docs = prepared.part([s != name for s in prepared.dataset.sources])
        test, test_docs = prepared.part([s == name for s in prepared.dataset.sources])
        pipeline, thresholds = _fit_and_threshold(train, train_docs, hp)
        p = predict(pipeline, test_docs)
        row: dict[str, Any] = figures(test.labels, p, thresholds.high)
        genuine = test.labels == 0
        if genuine.any():
            row["genuine_high_share"] = round(float((p[genuine] >= thresholds.high).mean()), 6)
            row["genuine_medium_or_high_share"] = round(float((p[genuine] >= thresholds.medium).mean()), 6)
        out[name] = row
    return out


def within_dataset_cv(prepared: Prepared, hp: dict[str, Any], folds: int = 5) -> dict[str, Any]:
    """Grouped k-fold CV inside each dataset: the protocol of the published baselines, minus the leaks."""
    out: dict[str, Any] = {}
    parts = [(name, prepared.dataset.sources) for name in prepared.dataset.names]
    subsets = sorted(set(prepared.dataset.subsets) - set(prepared.dataset.names))
    parts += [(name, prepared.dataset.subsets) for name in subsets]  # e.g. FakeNewsAMT and Celebrity apart
    for name, labels_of in parts:
        data, docs = prepared.part([s == name for s in labels_of])
        n_groups = len(set(data.groups))
        if n_groups < folds or len(set(data.labels.tolist())) < 2:
            continue  # too few groups, or one class only (satire, editorials, press releases)
        p = np.zeros(len(data))
        predicted = np.zeros(len(data), dtype=int)
        for train_idx, test_idx in GroupKFold(n_splits=folds).split(docs, data.labels, data.groups):
            train = data.subset(train_idx)
            pipeline, thresholds = _fit_and_threshold(train, [docs[i] for i in train_idx], hp)
            p[test_idx] = predict(pipeline, [docs[i] for i in test_idx])
            predicted[test_idx] = p[test_idx] >= thresholds.high
        row = figures(data.labels, p, 0.5)
        # F1/accuracy at each fold model's own validated threshold, not at a fixed 0.5
        row["f1"] = round(float(_f1(data.labels, predicted)), 6)
        row["accuracy"] = round(float((predicted == data.labels).mean()), 6)
        out[name] = row
    return out


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = int(((pred == 1) & (y == 1)).sum())
    denom = int((pred == 1).sum() + (y == 1).sum())
    return 2 * tp / denom if denom else 0.0


def run_protocol(dataset: Dataset, hp: dict[str, Any], *, full: bool = True) -> tuple[Pipeline, ModelCard, dict[str, Any]]:
    """Split, fit the shipped pipeline on the training part, evaluate everything.

    Returns the pipeline, a card (pipeline sha256 still empty) and plot data for the report.
    """
    prepared = Prepared(dataset)
    train, test = split_dataset(dataset, test_fraction=TEST_FRACTION, seed=int(hp.get("seed", 0)))
    in_test = set(map(id, test.articles))
    train, train_docs = prepared.part([id(a) not in in_test for a in dataset.articles])
    test, test_docs = prepared.part([id(a) in in_test for a in dataset.articles])
    pipeline, thresholds = _fit_and_threshold(train, train_docs, hp)
    validation = validation_scores(pipeline, len(train))
    prevalence = float(train.labels.mean())
    test_scores = predict(pipeline, test_docs)
    evaluation: dict[str, Any] = {
        "protocol": (
            f"Grouped split: {TEST_FRACTION:.0%} of groups per stratum held out, by the grouping key of each set's "
            "meta.jsonl (publisher or publisher domain, congress member, fake/real or human/machine pair; the article "
            "itself where a set has none). Thresholds and calibration are fitted on grouped out-of-fold scores of the "
            "training part only."
        ),
        "split": {"train": len(train), "test": len(test)},
        "thresholds": thresholds.model_dump(),
        "validation": figures(train.labels, validation, thresholds.high),
        "held_out": held_out_evaluation(pipeline, thresholds, test, test_docs),
        "levels": level_report(test, test_scores, thresholds, prevalence),
    }
    if full:
        evaluation["leave_one_dataset_out"] = leave_one_dataset_out(prepared, hp)
        evaluation["within_dataset_cv"] = within_dataset_cv(prepared, hp)
    names = tuple(pipeline.named_steps["features"].transformer_list[1][1].heuristics_)
    evaluation["signal_firing_rate"] = signal_firing(prepared.docs, dataset.labels, names)
    cuts = truncated_scores(pipeline, test, test_docs)
    short_words = choose_short_text_words(truncation_curve(cuts, test.labels, thresholds, 0))
    evaluation["truncation"] = {
        "short_text_words": short_words,
        "rule": f"Fewer than {short_words} words: a short_text warning, and the level stops at medium.",
        "cuts": truncation_curve(cuts, test.labels, thresholds, short_words),
    }
    short_train = np.array([doc.n_words < short_words for doc in train_docs])
    card = ModelCard(
        version="unset",
        created_at=datetime.now(UTC).replace(microsecond=0),
        sklearn_version=library_versions()["scikit-learn"],
        library_versions=library_versions(),
        pipeline_sha256="",
        heuristics=names,
        thresholds=thresholds,
        short_text_words=short_words,
        prevalence=round(prevalence, 6),
        training_data_sha256=dataset.files,
        hyperparameters=hp,
        baseline={
            # as served: below short_text_words the level stops at medium
            "high_share": round(float(((validation >= thresholds.high) & ~short_train).mean()), 6),
            "mean_score": round(float(validation.mean()), 6),
        },
        evaluation=evaluation,
    )
    plots = {
        "roc": roc_points(test.labels, test_scores),
        "reliability": reliability(test.labels, test_scores),
    }
    return pipeline, card, plots


__all__ = ["DEFAULT_HYPERPARAMETERS", "fit", "run_protocol"]
