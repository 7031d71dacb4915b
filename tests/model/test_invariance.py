"""CalibratedLinear's `invariance`: weights kept out of what tells the training sets apart."""

from __future__ import annotations

import numpy as np
import pytest

from misinfo_risk.model.pipeline import CalibratedLinear


def _two_sets(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two sets of 400 rows: set B is 80% fake, set A 20%. Column 0 says which set a row is from (a house
    style, no evidence about the row itself); column 1 carries the label within each set; column 2 is the
    last ("signal") column, noise."""
    rng = np.random.default_rng(seed)
    n = 400
    domains = np.array(["a"] * n + ["b"] * n)
    y = np.concatenate([rng.random(n) < 0.2, rng.random(n) < 0.8]).astype(int)
    house = (domains == "b").astype(float) + rng.normal(0, 0.1, 2 * n)
    cue = y + rng.normal(0, 0.8, 2 * n)
    noise = rng.normal(0, 1, 2 * n)
    return np.column_stack([house, cue, noise]), y, domains


def test_without_invariance_the_set_marker_is_learnt_as_its_base_rate() -> None:
    X, y, domains = _two_sets()
    plain = CalibratedLinear(c=1.0, folds=4).fit(X, y, domains=domains)
    assert plain.coef_[0] > 1.0  # "reads like set B" raises the risk


def test_invariance_takes_the_set_marker_out_and_keeps_the_cue() -> None:
    X, y, domains = _two_sets()
    plain = CalibratedLinear(c=1.0, folds=4).fit(X, y)
    kept_out = CalibratedLinear(c=1.0, folds=4).fit(X, y, domains=domains, invariance=1000.0, tail=1)
    assert abs(kept_out.coef_[0]) < 0.2 * abs(plain.coef_[0])
    assert kept_out.coef_[1] > 0.5 * plain.coef_[1] > 0  # the within-set evidence still counts
    # the out-of-fold scores used for thresholds come from folds fitted the same way
    assert np.isfinite(kept_out.oof_log_odds_).all()


def test_the_tail_columns_keep_their_meaning() -> None:
    """The set directions are learnt on the leading columns only: a set marker among the last `tail`
    columns (the signals) is not pushed out."""
    X, y, domains = _two_sets(seed=1)
    moved = X[:, [1, 2, 0]]  # the set marker is now the last column
    fitted = CalibratedLinear(c=1.0, folds=4).fit(moved, y, domains=domains, invariance=1000.0, tail=1)
    assert fitted.coef_[2] > 1.0


def test_the_fitted_model_pickles_as_one_without_invariance() -> None:
    """Fit arguments, not parameters: a model fitted with `invariance` has the same parameters and fitted
    attributes as one fitted without (the real-data gate compares a retrained shipped model attribute by attribute)."""
    X, y, domains = _two_sets()
    plain = CalibratedLinear(c=1.0, folds=4).fit(X, y)
    kept_out = CalibratedLinear(c=1.0, folds=4).fit(X, y, domains=domains, invariance=10.0, tail=1)
    assert plain.get_params() == kept_out.get_params()
    assert sorted(vars(plain)) == sorted(vars(kept_out))


@pytest.mark.parametrize("domains", [None, np.array(["only"] * 800)])
def test_one_set_or_none_fits_as_before(domains: np.ndarray | None) -> None:
    X, y, _ = _two_sets()
    plain = CalibratedLinear(c=1.0, folds=4).fit(X, y)
    same = CalibratedLinear(c=1.0, folds=4).fit(X, y, domains=domains, invariance=1000.0, tail=1)
    np.testing.assert_array_equal(same.coef_, plain.coef_)
