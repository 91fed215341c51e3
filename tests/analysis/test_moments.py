"""Means from database moments: hand-worked values, agreement with the answer-level functions, validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import Estimate, compare_means, mean_from_moments, mean_score, satisfaction_index


def test_mean_of_two_four_six_by_hand():
    # n = 3, S1 = 12, S2 = 56: mean 4, s^2 = (56 - 144/3) / 2 = 4, se = 2/sqrt(3) = 1.1547,
    # t_{2, 0.975} = 4.3027 (tables), half-width 4.9683.
    estimate = mean_from_moments(3, 12, 56)
    assert estimate.value == 4.0 and estimate.n == 3
    assert estimate.se == pytest.approx(1.154701, abs=1e-6)
    assert (estimate.low, estimate.high) == pytest.approx((-0.96828, 8.96828), abs=1e-5)


def test_interval_is_clipped_to_the_declared_scale():
    estimate = mean_from_moments(3, 12, 56, scale=(0, 10))
    assert (estimate.low, estimate.high) == pytest.approx((0.0, 8.96828), abs=1e-5)


def test_agrees_with_satisfaction_index_computed_from_answers():
    rng = np.random.default_rng(3)
    answers = pd.DataFrame(rng.integers(1, 11, size=(250, 3)), columns=["a", "b", "c"])
    per_respondent = ((answers - 1) / 9 * 100).mean(axis=1)
    from_moments = mean_from_moments(len(per_respondent), per_respondent.sum(), (per_respondent ** 2).sum(),
                                     scale=(0, 100))
    direct = satisfaction_index(answers, ["a", "b", "c"])
    assert (from_moments.value, from_moments.low, from_moments.high, from_moments.n) == pytest.approx(
        (direct.value, direct.low, direct.high, direct.n))


def test_agrees_with_mean_score_on_a_rating():
    scores = pd.Series([1, 2, 2, 5, 7, 7, 6, 3])
    expected = mean_score(scores, scale=(1, 7))
    got = mean_from_moments(len(scores), scores.sum(), (scores ** 2).sum(), scale=(1, 7))
    assert (got.value, got.low, got.high, got.se) == pytest.approx((expected.value, expected.low, expected.high,
                                                                    expected.se))


def test_no_values_give_nan_and_one_value_has_no_interval():
    empty = mean_from_moments(0, 0, 0)
    assert empty.n == 0 and math.isnan(empty.value)
    single = mean_from_moments(1, 7, 49)
    assert single.value == 7 and math.isnan(single.low) and math.isnan(single.se)


@pytest.mark.parametrize("n, total, squares, match", [
    (-1, 0, 0, "whole number"), (2.5, 5, 13, "whole number"), (True, 1, 1, "whole number"),
    (3, 12, 40, "not the moments"), (0, 1, 1, "must be 0"), (3, float("nan"), 56, "finite"),
])
def test_impossible_moments_are_refused(n, total, squares, match):
    with pytest.raises(ValueError, match=match):
        mean_from_moments(n, total, squares)


def test_a_mean_off_the_declared_scale_is_refused():
    with pytest.raises(ValueError, match="outside the declared scale"):
        mean_from_moments(2, 300, 45000, scale=(0, 100))


def test_compare_means_by_hand():
    # d = 2, se = sqrt(2) = 1.41421, t = 1.41421, Welch df = 20; t_{20, 0.975} = 2.08596 (tables),
    # so the interval is 2 -/+ 2.95 and p = 2 P(T_20 > 1.41421) = 0.1727.
    c = compare_means(Estimate(5.0, 3.0, 7.0, 1.0, 11), Estimate(3.0, 1.0, 5.0, 1.0, 11))
    assert c.difference == 2.0
    assert (c.low, c.high) == pytest.approx((-0.94996, 4.94996), abs=1e-4)
    assert c.p_value == pytest.approx(0.1727, abs=1e-4)


def test_compare_means_equals_welch_t_test_on_the_samples():
    a = np.array([3.0, 4, 5, 6, 6, 7, 8, 9])
    b = np.array([1.0, 2, 2, 3, 5, 4, 3])
    first = mean_from_moments(len(a), a.sum(), (a ** 2).sum())
    second = mean_from_moments(len(b), b.sum(), (b ** 2).sum())
    welch = stats.ttest_ind(a, b, equal_var=False)
    c = compare_means(first, second)
    assert (c.z, c.p_value) == pytest.approx((welch.statistic, welch.pvalue))


def test_compare_means_without_spread_gives_nan_not_an_error():
    c = compare_means(mean_from_moments(1, 5, 25), mean_from_moments(3, 12, 56))
    assert c.difference == 1.0 and math.isnan(c.p_value)
