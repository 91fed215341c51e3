"""CSAT (top-box share, Wilson interval), CES and plain means (t interval), agree share."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from analysis import agree_share, ces, csat, mean_score


def test_csat_is_the_top_two_box_share_with_wilson_interval_by_hand():
    # hand: 8 of 10 answers are 4 or 5 -> 80%; Wilson with z = 1.96: shrink 1 + 3.8416/10 = 1.38416,
    # centre (.8 + .19208)/1.38416 = .71674, half 1.41602*sqrt(.016 + .009604) = .22658 -> [49.02, 94.33]
    estimate = csat([5, 5, 4, 4, 4, 4, 4, 4, 2, 1])
    assert estimate.value == pytest.approx(80.0)
    assert (estimate.low, estimate.high) == pytest.approx((49.02, 94.33), abs=0.01)
    assert estimate.se == pytest.approx(100 * math.sqrt(0.8 * 0.2 / 10))
    assert estimate.n == 10


def test_csat_interval_agrees_with_statsmodels_wilson():
    rng = np.random.default_rng(5)
    scores = rng.integers(1, 6, 143)
    satisfied = int((scores >= 4).sum())
    low, high = proportion_confint(satisfied, len(scores), alpha=0.1, method="wilson")
    estimate = csat(scores, confidence=0.9)
    assert (estimate.low, estimate.high) == pytest.approx((100 * low, 100 * high))


def test_csat_top_box_follows_the_declared_scale_and_top():
    scores = [10, 9, 8, 1, 5]
    assert csat(scores, scale=(1, 10)).value == pytest.approx(40.0)  # hand: 9 and 10 -> 2 of 5
    assert csat(scores, scale=(1, 10), top=3).value == pytest.approx(60.0)  # hand: 8, 9, 10 -> 3 of 5
    assert csat([5, 4, 4, 3], top=1).value == pytest.approx(25.0)  # hand: only the 5 -> 1 of 4


def test_csat_rejects_answers_off_the_scale_and_bad_top():
    with pytest.raises(ValueError, match="contains 0, outside the declared scale 1..5"):
        csat([5, 0])
    with pytest.raises(ValueError, match="contains 4.5"):
        csat([5, 4.5])
    with pytest.raises(ValueError, match="top must be a whole number from 1 to 5"):
        csat([5], top=6)
    with pytest.raises(ValueError, match="scale"):
        csat([5], scale=(5, 1))


def test_csat_at_zero_and_hundred_percent_keeps_the_interval_inside_the_scale():
    # hand: Wilson upper bound for 0 of 10 = z^2/(n + z^2) = 3.8415/13.8415 = 27.75%
    none = csat([1, 2, 3, 1, 2, 3, 1, 2, 3, 1])
    assert (none.value, none.low) == (0.0, 0.0)
    assert none.high == pytest.approx(27.75, abs=0.01)
    assert csat([5] * 10).high == 100.0


def test_agree_share_counts_the_top_three_of_seven_points():
    assert agree_share([7, 6, 5, 4, 1]).value == pytest.approx(60.0)  # hand: 5, 6, 7 -> 3 of 5


def test_mean_score_t_interval_matches_hand_computation():
    # hand: [2, 4, 4, 6]: mean 4, s = sqrt(8/3) = 1.63299, se = .81650, t(3, .975) = 3.18245,
    # half = 2.59845 -> [1.4016, 6.5984]
    estimate = mean_score([2, 4, 4, 6], scale=(1, 7))
    assert estimate.value == pytest.approx(4.0)
    assert estimate.se == pytest.approx(0.81650, abs=1e-5)
    assert (estimate.low, estimate.high) == pytest.approx((1.4016, 6.5984), abs=1e-4)


def test_mean_score_agrees_with_statsmodels_descriptive_statistics():
    rng = np.random.default_rng(8)
    ratings = rng.integers(1, 11, 87).astype(float)
    reference = DescrStatsW(ratings)
    estimate = mean_score(ratings, scale=(1, 10), confidence=0.9)
    assert estimate.value == pytest.approx(reference.mean)
    assert estimate.se == pytest.approx(reference.std_mean)
    assert (estimate.low, estimate.high) == pytest.approx(reference.tconfint_mean(alpha=0.1))


def test_mean_interval_is_clipped_to_the_scale_and_nan_for_one_answer():
    # hand: [1, 7] -> mean 4, se 3, t(1) = 12.706: raw interval [-34, 42], clipped to [1, 7]
    wide = mean_score([1, 7], scale=(1, 7))
    assert (wide.low, wide.high) == (1.0, 7.0)
    single = mean_score([3], scale=(1, 7))
    assert single.value == 3.0 and math.isnan(single.low) and math.isnan(single.se)


def test_mean_score_accepts_fractional_ratings_but_not_outside_the_scale():
    assert mean_score([1.5, 2.5, None], scale=(1, 5)).value == pytest.approx(2.0)
    with pytest.raises(ValueError, match="contains 5.5, outside the declared scale 1..5"):
        mean_score([1.5, 5.5], scale=(1, 5))


def test_ces_is_the_mean_on_the_one_to_seven_scale():
    estimate = ces([7, 6, 5, 2, None])
    assert (estimate.value, estimate.n) == (5.0, 4)  # hand: 20/4
    with pytest.raises(ValueError, match="contains 8"):
        ces([7, 8])
