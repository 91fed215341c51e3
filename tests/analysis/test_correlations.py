"""Key drivers from sufficient statistics equal key drivers on the raw rows; value-weighted NPS from sums
equals the one from individual answers. Hand-worked values say where they come from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import (key_drivers, key_drivers_from_moments, moments_to_correlations, value_weighted_nps,
                      value_weighted_nps_from_sums)


def moments(frame: pd.DataFrame, columns: list[str]):
    """n, sums and cross-products over the complete rows, as the database computes them."""
    data = frame[columns].dropna().to_numpy(dtype=float)
    return (len(data), pd.Series(data.sum(axis=0), index=columns),
            pd.DataFrame(data.T @ data, index=columns, columns=columns))


def test_one_driver_weight_is_r_squared_and_coefficient_is_the_slope():
    # y = [1, 3, 2, 4], x = [1, 2, 3, 4]: Sxx = Syy = 5, Sxy = 4 -> r = 0.8, slope = 0.8 (by hand)
    n, sums, cross = moments(pd.DataFrame({"y": [1, 3, 2, 4], "x": [1, 2, 3, 4]}), ["y", "x"])
    assert (n, cross.loc["x", "y"]) == (4, 29.0)
    table = key_drivers_from_moments(n, sums, cross, "y", ["x"])
    assert table.loc["x", "weight"] == pytest.approx(0.64)
    assert table.loc["x", "share"] == pytest.approx(100.0)
    assert table.loc["x", "coefficient"] == pytest.approx(0.8)
    assert table.loc["x", "performance"] == pytest.approx(2.5)
    assert table.attrs["r_squared"] == pytest.approx(0.64)


def test_uncorrelated_drivers_split_r_squared_by_their_squared_correlations():
    # y = 1.5 x1 + x2 + 0.5 with x1, x2 orthogonal: r1^2 = 36/52 = 9/13, r2^2 = 16/52 = 4/13, R^2 = 1
    frame = pd.DataFrame({"y": [3, 1, 0, -2], "x1": [1, 1, -1, -1], "x2": [1, -1, 1, -1]})
    table = key_drivers_from_moments(*moments(frame, ["y", "x1", "x2"]), "y", ["x1", "x2"])
    assert table["weight"].tolist() == pytest.approx([9 / 13, 4 / 13])
    assert table["coefficient"].tolist() == pytest.approx([1.5, 1.0])
    assert table.attrs["r_squared"] == pytest.approx(1.0)


def test_moments_give_the_same_table_as_key_drivers_on_raw_rows():
    rng = np.random.default_rng(3)
    mood = rng.normal(size=400)
    frame = pd.DataFrame({name: np.clip(np.round(6 + 1.5 * mood + rng.normal(scale=s, size=400)), 1, 10)
                          for name, s in (("a", 1.0), ("b", 2.0), ("c", 3.0))})
    frame["overall"] = np.clip(np.round(0.8 * frame["a"] + 0.2 * frame["c"] + rng.normal(size=400)), 1, 10)
    frame.loc[[3, 50, 77], "b"] = np.nan
    expected = key_drivers(frame, "overall", ["a", "b", "c"])
    n, sums, cross = moments(frame, ["overall", "a", "b", "c"])
    table = key_drivers_from_moments(n, sums, cross, "overall", ["a", "b", "c"], dropped_rows=3)
    pd.testing.assert_frame_equal(table[expected.columns], expected, check_exact=False, rtol=1e-9)
    assert table.attrs["r_squared"] == pytest.approx(expected.attrs["r_squared"], rel=1e-9)
    assert (table.attrs["n"], table.attrs["dropped_rows"]) == (397, 3)


def test_correlations_match_numpy_on_the_rows():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.integers(1, 11, size=(50, 3)), columns=["x", "y", "z"]).astype(float)
    out = moments_to_correlations(*moments(frame, ["x", "y", "z"]))
    np.testing.assert_allclose(out["correlations"].to_numpy(), np.corrcoef(frame.to_numpy(), rowvar=False))
    np.testing.assert_allclose(out["sds"].to_numpy(), frame.std(ddof=1).to_numpy())


def test_constant_driver_and_too_few_rows_are_refused_with_the_reason():
    frame = pd.DataFrame({"y": [1, 2, 3, 4, 5], "x": [2, 2, 2, 2, 2], "z": [1, 3, 2, 5, 4]})
    with pytest.raises(ValueError, match="'x' has the same value"):
        key_drivers_from_moments(*moments(frame, ["y", "x", "z"]), "y", ["x", "z"])
    with pytest.raises(ValueError, match="need more than 3 complete rows"):
        key_drivers_from_moments(*moments(frame.head(3), ["y", "z", "x"]), "y", ["z", "x"])
    with pytest.raises(ValueError, match="no sums or cross-products for 'w'"):
        key_drivers_from_moments(*moments(frame, ["y", "z"]), "y", ["z", "w"])


def test_value_weighted_nps_from_sums_equals_the_one_from_answers():
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 11, size=300)
    values = rng.lognormal(10, 1.5, size=300)
    expected = value_weighted_nps(scores, values)
    category = np.digitize(scores, [7, 9])  # 0 detractor, 1 passive, 2 promoter
    sums = value_weighted_nps_from_sums(np.bincount(category, minlength=3),
                                        np.bincount(category, weights=values, minlength=3),
                                        np.bincount(category, weights=values ** 2, minlength=3))
    assert sums.plain == expected.plain
    for field in ("value", "low", "high", "se", "n_eff"):
        assert getattr(sums.weighted, field) == pytest.approx(getattr(expected.weighted, field), rel=1e-9)
    assert sums.weighted.n == 300


def test_value_weighted_nps_by_hand():
    # one detractor worth 7, three promoters worth 1: plain (3 - 1)/4 = +50, weighted (3 - 7)/10 = -40,
    # n_eff = 10^2 / (49 + 3) = 1.923
    result = value_weighted_nps_from_sums([1, 0, 3], [7.0, 0.0, 3.0], [49.0, 0.0, 3.0])
    assert (result.plain.value, result.weighted.value) == (50.0, -40.0)
    assert result.weighted.n_eff == pytest.approx(100 / 52)
    with pytest.raises(ValueError, match="three numbers"):
        value_weighted_nps_from_sums([1, 2], [1.0, 2.0], [1.0, 4.0])
