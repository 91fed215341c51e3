"""Key drivers: Johnson's relative weights, OLS coefficients and the importance-performance grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis import key_drivers


def correlated_ratings(seed: int = 1, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mood = rng.normal(size=n)
    support = mood + rng.normal(size=n)
    price = 0.5 * mood + rng.normal(size=n)
    speed = 0.3 * support + rng.normal(size=n)
    overall = 2 * support + 0.5 * price + 0.2 * speed + rng.normal(size=n)
    return pd.DataFrame({"overall": overall, "support": support, "price": price, "speed": speed})


def johnson_by_svd(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Johnson (2000) as published: the SVD of the standardised drivers X = P D Q' gives the orthogonal
    counterparts Z = P Q'; regress y on Z, then weight_j = sum_k Lambda_jk^2 beta_k^2 with Lambda = Q D Q'
    / sqrt(n - 1) (the correlations between X and Z)."""
    n = len(y)
    xs = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    ys = (y - y.mean()) / y.std(ddof=1)
    p, d, qt = np.linalg.svd(xs, full_matrices=False)
    z = p @ qt * np.sqrt(n - 1)  # unit-variance orthogonal counterparts
    beta = np.linalg.lstsq(z, ys, rcond=None)[0]
    lam = qt.T @ np.diag(d) @ qt / np.sqrt(n - 1)
    return (lam ** 2) @ (beta ** 2)


def test_relative_weights_agree_with_the_svd_formulation_and_sum_to_statsmodels_r_squared():
    frame = correlated_ratings()
    drivers = ["support", "price", "speed"]
    table = key_drivers(frame, "overall", drivers)
    expected = johnson_by_svd(frame[drivers].to_numpy(), frame["overall"].to_numpy())
    assert table["weight"].to_numpy() == pytest.approx(expected)
    model = sm.OLS(frame["overall"], sm.add_constant(frame[drivers])).fit()
    assert table["weight"].sum() == pytest.approx(model.rsquared)
    assert table.attrs["r_squared"] == pytest.approx(model.rsquared)
    assert table["coefficient"].to_numpy() == pytest.approx(model.params[drivers].to_numpy())
    assert table["share"].sum() == pytest.approx(100.0)
    assert table["weight"].idxmax() == "support"


def test_uncorrelated_drivers_get_their_squared_correlation():
    # Johnson (2000): with orthogonal drivers the relative weight is r^2 with the outcome.
    # Orthogonal contrasts over 8 respondents:
    x1 = np.array([1, -1, 1, -1, 1, -1, 1, -1])
    x2 = np.array([1, 1, -1, -1, 1, 1, -1, -1])
    y = np.array([5, 3, 4, 1, 4, 2, 3, 2])
    # hand: y mean 3, deviations 2, 0, 1, -2, 1, -1, 0, -1 (sum of squares 12);
    # sum x1*dev = 2 - 0 + 1 + 2 + 1 + 1 + 0 + 1 = 8 -> r1^2 = 64/(8*12) = .6667;
    # sum x2*dev = 2 + 0 - 1 + 2 + 1 - 1 - 0 + 1 = 4 -> r2^2 = 16/96 = .1667
    table = key_drivers(pd.DataFrame({"y": y, "x1": x1, "x2": x2}), "y", ["x1", "x2"])
    assert table["weight"].to_numpy() == pytest.approx([2 / 3, 1 / 6])


def test_quadrants_split_importance_and_performance_at_their_means():
    rng = np.random.default_rng(9)
    n = 500
    # "fix": matters a lot, rated low; "proud": matters a lot, rated high;
    # "meh": matters little, rated low; "gold plating": matters little, rated high
    fix, proud = rng.integers(1, 5, n), rng.integers(6, 11, n)
    meh, plating = rng.integers(1, 5, n), rng.integers(6, 11, n)
    overall = 2 * fix + 2 * proud + 0.1 * meh + 0.1 * plating + rng.normal(size=n)
    frame = pd.DataFrame({"overall": overall, "fix": fix, "proud": proud, "meh": meh, "plating": plating})
    table = key_drivers(frame, "overall", ["fix", "proud", "meh", "plating"])
    assert table["quadrant"].to_dict() == {"fix": "concentrate here", "proud": "keep up the good work",
                                           "meh": "low priority", "plating": "possible overkill"}
    assert table.loc["fix", "performance"] == pytest.approx(fix.mean())


def test_rows_with_missing_values_are_dropped_and_counted():
    frame = correlated_ratings(n=50)
    frame.loc[[0, 1], "price"] = np.nan
    frame.loc[[1, 2], "overall"] = np.nan
    table = key_drivers(frame, "overall", ["support", "price"])
    assert table.attrs["dropped_rows"] == 3  # rows 0, 1, 2
    assert table.attrs["n"] == 47
    complete = frame.dropna()
    model = sm.OLS(complete["overall"], sm.add_constant(complete[["support", "price"]])).fit()
    assert table["weight"].sum() == pytest.approx(model.rsquared)


def test_key_drivers_rejects_bad_inputs_naming_them():
    frame = correlated_ratings(n=30)
    with pytest.raises(ValueError, match="'missing' is not in the frame"):
        key_drivers(frame, "overall", ["support", "missing"])
    with pytest.raises(ValueError, match="outcome 'overall' is also listed as a driver"):
        key_drivers(frame, "overall", ["overall", "support"])
    with pytest.raises(ValueError, match="collinear"):
        key_drivers(frame.assign(double=2 * frame["support"]), "overall", ["support", "double"])
    with pytest.raises(ValueError, match="column 'flat' has the same value"):
        key_drivers(frame.assign(flat=3.0), "overall", ["support", "flat"])
    with pytest.raises(ValueError, match="need more than 3 complete rows, got 3"):
        key_drivers(frame.head(3), "overall", ["support", "price"])
