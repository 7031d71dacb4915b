"""The one definition of the model's shape, used by training and (unpickled) by serving."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from misinfo_risk.model.features import SignalFeatures, TermFeatures
from misinfo_risk.model.heuristics import get_heuristic

Matrix: TypeAlias = Any  # ndarray or scipy sparse matrix; sklearn and scipy are untyped


def _mask_columns(X: Matrix, mask: np.ndarray) -> Matrix:
    """X with the columns where mask == 0 zeroed (sparse stays sparse)."""
    if hasattr(X, "tocsr"):  # sparse; scipy-stubs cannot type `matrix @ diags` through sp.issparse
        return X.tocsr() @ sp.diags(mask)
    return np.asarray(X) * mask


class BoundedLogistic(ClassifierMixin, BaseEstimator):
    """L2-regularised logistic regression with a lower and upper bound on chosen coefficients.

    Minimises  c * sum_i log-loss_i + ||w||^2 / 2  (liblinear's convention; the intercept is not
    penalised) by L-BFGS-B, which takes box bounds directly. The objective is strictly convex, so the
    optimum is unique and the tight tolerances below reach it to ~1e-8 on any CPU.

    Parameters
    ----------
    c : float
        Inverse regularisation strength.
    bounds : tuple of (int, float, float)
        (column, lower, upper); negative columns count from the end. Columns not listed are free.
    directions : ndarray (k, n_features) with orthonormal rows, or None
        With `invariance` > 0, the objective adds  invariance * ||directions @ w||^2: the weights are
        pushed out of the span of these directions (see CalibratedLinear.fit, `invariance`).
    invariance : float
    """

    def __init__(
        self,
        c: float = 1.0,
        bounds: tuple[tuple[int, float, float], ...] = (),
        directions: Any = None,
        invariance: float = 0.0,
    ) -> None:
        self.c = c
        self.bounds = bounds
        self.directions = directions
        self.invariance = invariance

    def fit(self, X: Matrix, y: Any, sample_weight: Any = None) -> BoundedLogistic:
        X = sp.csr_matrix(X) if hasattr(X, "tocsr") else np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        n = X.shape[1]
        box: list[tuple[float | None, float | None]] = [(None, None)] * (n + 1)
        for column, lower, upper in self.bounds:
            box[column % n] = (lower, upper)
        c = self.c
        Xt = X.T.tocsr() if hasattr(X, "tocsr") else X.T
        D = np.asarray(self.directions) if self.invariance and self.directions is not None else None
        lam = float(self.invariance)

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:n], theta[n]
            z = np.asarray(X @ w).ravel() + b
            # log(1 + e^z) - y z, stably
            value = c * float(sw @ (np.logaddexp(0.0, z) - y * z)) + 0.5 * float(w @ w)
            r = c * sw * (expit(z) - y)
            grad = np.empty(n + 1)
            grad[:n] = np.asarray(Xt @ r).ravel() + w
            grad[n] = r.sum()
            if D is not None:
                along = D @ w
                value += lam * float(along @ along)
                grad[:n] += 2.0 * lam * (D.T @ along)
            return value, grad

        start = np.array([0.0 if lo is None else max(lo, 0.0) for lo, _ in box])
        start = np.array([min(x, hi) if hi is not None else x for x, (_, hi) in zip(start, box, strict=True)])
        result = minimize(
            loss, start, jac=True, method="L-BFGS-B", bounds=box, options={"maxiter": 20_000, "ftol": 1e-14, "gtol": 1e-9}
        )
        self.coef_ = result.x[:n].copy()
        self.intercept_ = float(result.x[n])
        self.n_iter_ = int(result.nit)
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: Matrix) -> np.ndarray:
        check_is_fitted(self, "coef_")
        return np.asarray(X @ self.coef_).ravel() + self.intercept_

    def predict(self, X: Matrix) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)


class CalibratedLinear(ClassifierMixin, BaseEstimator):
    """Logistic regression followed by Platt scaling fitted on out-of-fold decision values.

    Unlike an ensemble of calibrated folds this keeps ONE linear model, so explanations are
    exact: calibrated log-odds = slope_ * (X @ coef_ + intercept_) + offset_, and each
    feature's share of it is slope_ * coef_[j] * X[:, j].

    Pickled inside model.joblib by import path: do not move or rename this class.

    Parameters
    ----------
    c : float
        Inverse regularisation strength of the logistic regression.
    folds : int
        Folds for the out-of-fold decision values the calibration is fitted on.
    seed : int
        Seed for fold assignment when no groups are given.
    bounds : tuple of (int, float, float)
        (column, lower, upper) bounds on weights, see BoundedLogistic: risk-indicator signals may
        not go below 0 (or a documented floor), practice signals not above 0.

    Attributes
    ----------
    coef_, intercept_ : the linear model fitted on all training data.
    slope_, offset_ : float, the Platt calibration.
    oof_log_odds_ : ndarray, calibrated out-of-fold log-odds of the training rows.
    classes_ : ndarray, [0, 1].
    """

    def __init__(
        self,
        c: float = 1.0,
        folds: int = 5,
        seed: int = 0,
        bounds: tuple[tuple[int, float, float], ...] = (),
    ) -> None:
        self.c = c
        self.folds = folds
        self.seed = seed
        self.bounds = bounds

    def _linear(self, directions: np.ndarray | None = None, invariance: float = 0.0) -> BoundedLogistic:
        if directions is None:
            return BoundedLogistic(c=self.c, bounds=self.bounds)
        return BoundedLogistic(c=self.c, bounds=self.bounds, directions=directions, invariance=invariance)

    def fit(
        self,
        X: Matrix,
        y: Any,
        groups: Any = None,
        sample_weight: Any = None,
        domains: Any = None,
        invariance: float = 0.0,
        tail: int = 0,
    ) -> CalibratedLinear:
        """`domains` (the training set of each row) with `invariance` > 0: the risk weights pay `invariance` x
        ||their component along the directions that tell the sets' genuine rows apart||^2, learnt on the first
        n_features - `tail` columns (the terms; the `tail` last columns, the signals, keep their meaning). A set's
        house style is how it was collected, not evidence: without this, "reads like set S" can stand in for S's
        base rate (docs/model.md, "What we tried"). Fit arguments, not parameters: the fitted model is one linear
        model like any other, and models trained without it pickle exactly as before."""
        y = np.asarray(y, dtype=int)
        directions = _set_directions(X, y, domains, tail) if invariance and domains is not None else None
        params = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight, dtype=float)}
        cv = (
            GroupKFold(n_splits=self.folds)
            if groups is not None
            else StratifiedKFold(self.folds, shuffle=True, random_state=self.seed)
        )
        decision = cross_val_predict(
            self._linear(directions, invariance), X, y, groups=groups, cv=cv, method="decision_function", params=params
        )
        platt = LogisticRegression(C=1.0, max_iter=1000).fit(decision.reshape(-1, 1), y, **params)
        self.slope_ = float(platt.coef_[0, 0])
        self.offset_ = float(platt.intercept_[0])
        self.oof_log_odds_ = self.slope_ * decision + self.offset_  # validation scores for thresholds
        linear = self._linear(directions, invariance).fit(X, y, **params)
        self.coef_ = linear.coef_.copy()
        self.intercept_ = linear.intercept_
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X: Matrix) -> np.ndarray:
        """Calibrated log-odds of risk."""
        check_is_fitted(self, "coef_")
        raw = np.asarray(X @ self.coef_).ravel() + self.intercept_
        return self.slope_ * raw + self.offset_

    def predict_proba(self, X: Matrix) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Matrix) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)


def _set_directions(X: Matrix, y: np.ndarray, domains: Any, tail: int) -> np.ndarray | None:
    """Orthonormal rows spanning the weights of a classifier that tells the `domains` of the genuine rows
    apart (zero on the `tail` last columns); None with fewer than two domains among them."""
    domains = np.asarray(domains)
    genuine = np.flatnonzero(y == 0)  # house style of genuine texts, not the fake/genuine contrast
    if len(np.unique(domains[genuine])) < 2:
        return None
    n = X.shape[1]
    head = X[:, : n - tail] if tail else X
    sets = LogisticRegression(C=1.0, max_iter=2000).fit(head[genuine], domains[genuine])
    q, _ = np.linalg.qr(np.asarray(sets.coef_, dtype=float).T)
    out = np.zeros((q.shape[1], n))
    out[:, : n - tail] = q.T
    return out


# The user's three named heuristics: the product promises they count when they fire.
NAMED_SIGNALS = ("unnamed_sources", "absent_official_comment", "inflated_figures")


def signal_bounds(names: Sequence[str], named_floor: float = 0.0) -> tuple[tuple[int, float, float], ...]:
    """Weight bounds of the signal columns (the last len(names) columns), from each heuristic's sign.

    Risk indicators: >= 0, and >= `named_floor` for NAMED_SIGNALS (an explicit prior, see docs/model.md);
    practice signals (sign -1): <= 0; sign 0: free.
    """
    out = []
    for j, name in enumerate(names):
        heuristic = get_heuristic(name)
        column = j - len(names)
        if heuristic.sign > 0:
            floor = named_floor if heuristic.signal in NAMED_SIGNALS else 0.0
            out.append((column, floor, math.inf))
        elif heuristic.sign < 0:
            out.append((column, -math.inf, 0.0))
    return tuple(out)


def build_pipeline(
    *,
    heuristics: Sequence[str],
    c: float = 1.0,
    ngram_max: int = 2,
    min_df: int = 3,
    max_features: int = 50_000,
    title_terms: bool = True,
    mask_names: bool = False,
    norm_floor: float = 0.0,
    only_terms: Sequence[str] | None = None,
    skip_dateline: bool = False,
    signal_weight: float = 1.0,
    named_floor: float = 0.0,
    folds: int = 5,
    seed: int = 0,
) -> Pipeline:
    """Unfitted pipeline: list[Article | Doc] -> P(misleading). Fit with `classifier__groups=`.

    `heuristics` are the versioned signal names (the card's hyperparameters list them, so registering
    a new version never changes the retrain of a shipped model); their weights are bounded by sign.
    """
    names = tuple(heuristics)
    features = FeatureUnion(
        [
            (
                "terms",
                TermFeatures(
                    ngram_max=ngram_max,
                    min_df=min_df,
                    max_features=max_features,
                    title_terms=title_terms,
                    mask_names=mask_names,
                    norm_floor=norm_floor,
                    only=tuple(only_terms) if only_terms is not None else None,
                    skip_dateline=skip_dateline,
                ),
            ),
            ("signals", SignalFeatures(heuristics=names, weight=signal_weight, skip_dateline=skip_dateline)),
        ]
    )
    classifier = CalibratedLinear(c=c, folds=folds, seed=seed, bounds=signal_bounds(names, named_floor))
    return Pipeline([("features", features), ("classifier", classifier)])
