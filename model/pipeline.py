"""The one definition of the model's shape, used by training and (unpickled) by serving."""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted

from model.features import SignalFeatures, TermFeatures
from model.heuristics import get_heuristic, registered_names

Matrix: TypeAlias = Any  # ndarray or scipy sparse matrix; sklearn and scipy are untyped


def _mask_columns(X: Matrix, mask: np.ndarray) -> Matrix:
    """X with the columns where mask == 0 zeroed (sparse stays sparse)."""
    if hasattr(X, "tocsr"):  # sparse; scipy-stubs cannot type `matrix @ diags` through sp.issparse
        return X.tocsr() @ sp.diags(mask)
    return np.asarray(X) * mask


class NonNegativeLogistic(ClassifierMixin, BaseEstimator):
    """Logistic regression whose coefficients on chosen columns may not be negative.

    Active-set refits: a constrained column that comes out negative is fixed at 0 and the model
    is refitted, until no constrained coefficient is negative (at most one pass per column).

    Parameters
    ----------
    c : float
        Inverse regularisation strength.
    nonnegative : tuple of int
        Column indices (negative counts from the end) whose coefficients must be >= 0.
    seed : int

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    classes_ : ndarray
    """

    def __init__(self, c: float = 1.0, nonnegative: tuple[int, ...] = (), seed: int = 0) -> None:
        self.c = c
        self.nonnegative = nonnegative
        self.seed = seed

    def fit(self, X: Matrix, y: Any) -> NonNegativeLogistic:
        n = X.shape[1]
        constrained = {i % n for i in self.nonnegative} if n else set()
        mask = np.ones(n)
        for _ in range(len(constrained) + 1):
            linear = LogisticRegression(C=self.c, max_iter=2000, solver="liblinear", random_state=self.seed)
            linear.fit(_mask_columns(X, mask), y)
            coef = linear.coef_[0] * mask
            negative = [i for i in constrained if coef[i] < 0]
            if not negative:
                break
            mask[negative] = 0.0
        self.coef_ = coef
        self.intercept_ = float(linear.intercept_[0])
        self.classes_ = linear.classes_
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
    nonnegative : tuple of int
        Columns whose weights may not be negative (risk-indicator signals), see NonNegativeLogistic.

    Attributes
    ----------
    coef_, intercept_ : the linear model fitted on all training data.
    slope_, offset_ : float, the Platt calibration.
    oof_log_odds_ : ndarray, calibrated out-of-fold log-odds of the training rows.
    classes_ : ndarray, [0, 1].
    """

    def __init__(self, c: float = 1.0, folds: int = 5, seed: int = 0, nonnegative: tuple[int, ...] = ()) -> None:
        self.c = c
        self.folds = folds
        self.seed = seed
        self.nonnegative = nonnegative

    def _linear(self) -> NonNegativeLogistic:
        return NonNegativeLogistic(c=self.c, nonnegative=self.nonnegative, seed=self.seed)

    def fit(self, X: Matrix, y: Any, groups: Any = None) -> CalibratedLinear:
        y = np.asarray(y, dtype=int)
        cv = (
            GroupKFold(n_splits=self.folds)
            if groups is not None
            else StratifiedKFold(self.folds, shuffle=True, random_state=self.seed)
        )
        decision = cross_val_predict(self._linear(), X, y, groups=groups, cv=cv, method="decision_function")
        platt = LogisticRegression(C=1.0, max_iter=1000).fit(decision.reshape(-1, 1), y)
        self.slope_ = float(platt.coef_[0, 0])
        self.offset_ = float(platt.intercept_[0])
        self.oof_log_odds_ = self.slope_ * decision + self.offset_  # validation scores for thresholds
        linear = self._linear().fit(X, y)
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


def build_pipeline(
    *,
    c: float = 1.0,
    ngram_max: int = 2,
    min_df: int = 3,
    max_features: int = 50_000,
    title_terms: bool = True,
    folds: int = 5,
    seed: int = 0,
) -> Pipeline:
    """Unfitted pipeline: list[Article | Doc] -> P(misleading). Fit with `classifier__groups=`.

    Uses every heuristic registered now; signals marked as risk indicators get non-negative weights.
    """
    names = tuple(registered_names())
    risk = tuple(j - len(names) for j, name in enumerate(names) if get_heuristic(name).risk)
    features = FeatureUnion(
        [
            ("terms", TermFeatures(ngram_max=ngram_max, min_df=min_df, max_features=max_features, title_terms=title_terms)),
            ("signals", SignalFeatures(heuristics=names)),
        ]
    )
    classifier = CalibratedLinear(c=c, folds=folds, seed=seed, nonnegative=risk)
    return Pipeline([("features", features), ("classifier", classifier)])
