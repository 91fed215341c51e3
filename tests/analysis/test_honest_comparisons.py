"""Comparisons never claim certainty they lack (issue 13, findings 5, 6, 8 and 9).

Hand-worked values use the adjusted-Wald test of `compare_nps` (Rocks 2016 pseudo-observations
0.75 / 1.5 / 0.75 in each sample, variances added as in Agresti & Caffo 2000) and the
Agresti-Caffo test for shares (one success and one failure added to each sample).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import (Estimate, by_segment, compare_means, compare_nps, mean_from_moments, nps_from_counts,
                      share_from_counts, trend)


def test_one_promoter_against_one_detractor_is_not_certain():
    # finding 5: was z = inf, p = 0, interval [200, 200].
    # hand: each sample adjusted to n' = 4: promoter side d' .75, q' 1.75 -> NPS' .25,
    # v' = (.625 - .0625)/4 = .140625; the detractor side mirrors it -> NPS' -.25.
    # se' = 100 sqrt(.28125) = 53.033, z = 50 / 53.033 = .9428, p = 2 (1 - Phi(.9428)) = .3458
    comparison = compare_nps([10], [0])
    assert comparison.difference == 200.0
    assert comparison.z == pytest.approx(0.9428, abs=1e-4)
    assert comparison.p_value == pytest.approx(0.3458, abs=1e-4)
    # 50 - 1.96 * 53.033 = -53.94; the high end is clipped to 200, the most a difference can be
    assert comparison.low == pytest.approx(-53.94, abs=0.01)
    assert comparison.high == 200.0


def test_difference_interval_stays_within_the_possible_range():
    # finding 6: compare_nps([10, 10], [0, 10]) gave [-38.6, 238.6].
    comparison = compare_nps([10, 10], [0, 10])
    assert -200 <= comparison.low <= comparison.difference <= comparison.high <= 200
    # hand: a: d' .75, q' 2.75 of 5 -> .4, v' = (.7 - .16)/5 = .108;
    # b: d' 1.75, q' 1.75 of 5 -> 0, v' = .7/5 = .14; se' = 100 sqrt(.248) = 49.80, z = 40/49.80 = .8032
    assert comparison.z == pytest.approx(0.8032, abs=1e-4)


def test_csat_trend_from_all_satisfied_to_none_has_a_finite_honest_p_value():
    # finding 5: 3 answers all satisfied, then 3 none: was p = 0.
    # hand (Agresti & Caffo 2000): p' = (0 + 1)/5 = .2 now, (3 + 1)/5 = .8 before,
    # se' = sqrt(.2*.8/5 + .8*.2/5) = .25298, z = -.6/.25298 = -2.3717, p = .0177;
    # interval -60 -/+ 1.96 * 25.298 = [-109.6, -10.42], clipped to [-100, -10.42]
    histograms = pd.DataFrame({"period": ["2026-01", "2026-02"], "score": [5, 1], "count": [3, 3]})
    row = trend(histograms, metric="csat").iloc[1]
    assert row["change"] == -100.0
    assert row["change_p_value"] == pytest.approx(0.0177, abs=1e-4)
    assert (row["change_low"], row["change_high"]) == pytest.approx((-100.0, -10.42), abs=0.01)


def test_two_promoters_against_fifty_answers_is_not_significant():
    # finding 5: a previous period of 2 promoters against n = 50 at NPS 60 gave p = 2e-5.
    # hand: before d' .75, q' 2.75 of 5 -> .4, v' .108; now 5/10/35 -> d' 5.75, q' 35.75 of 53:
    # NPS' = 30/53 = .566038, v' = (.674528 + .108491 - .320399)/53 = .0087287;
    # se' = sqrt(.108 + .0087287) = .341656, z = .166038 / .341656 = .4860, p = .6270
    histograms = pd.DataFrame({"period": ["2026-01", "2026-02", "2026-02", "2026-02"], "score": [10, 0, 8, 10],
                               "count": [2, 5, 10, 35]})
    row = trend(histograms).iloc[1]
    assert row["change"] == pytest.approx(-40.0)
    assert row["change_p_value"] == pytest.approx(0.6270, abs=1e-4)


def test_segment_all_in_one_category_is_never_certain():
    # finding 5 in by_segment: a segment of 40 promoters against a rest of 40 detractors
    histograms = pd.DataFrame({"segment": ["a", "b"], "score": [10, 0], "count": [40, 40]})
    table = by_segment(histograms, "segment", min_n=10)
    assert np.isfinite(table["difference_low"]).all() and (table["p_value"] > 0).all()
    assert (table["difference_high"] <= 200).all() and (table["difference_low"] >= -200).all()
    # hand: 40 promoters -> d' .75, q' 40.75 of 43: NPS' .930233, v' = (.965116 - .865333)/43 = .0023205;
    # twice that (mirror image): se' = .068125, z = 1.860465/.068125 = 27.31: p tiny but not 0
    assert table.loc["a", "p_value"] == pytest.approx(2 * stats.norm.sf(27.31), rel=0.05)


def test_compare_means_of_constant_groups_claims_nothing():
    # finding 8: two constant groups gave z = -inf with p and interval NaN.
    constant_five = mean_from_moments(2, 10, 50)  # 5, 5
    constant_three = mean_from_moments(2, 6, 18)  # 3, 3
    comparison = compare_means(constant_three, constant_five)
    assert comparison.difference == -2.0
    assert all(math.isnan(x) for x in (comparison.z, comparison.p_value, comparison.low, comparison.high))
    # one group with spread still gives a test (Welch df = n - 1 of that group)
    spread = compare_means(Estimate(4.0, 2.0, 6.0, 1.0, 5), constant_five)
    assert spread.z == pytest.approx(-1.0) and spread.p_value == pytest.approx(2 * stats.t.sf(1, 4))


def test_constant_mean_groups_in_a_trend_are_not_tested():
    histograms = pd.DataFrame({"period": ["2026-01", "2026-02"], "score": [7, 1], "count": [4, 4]})
    row = trend(histograms, metric="ces").iloc[1]
    assert row["change"] == -6.0 and math.isnan(row["change_p_value"])


@pytest.mark.parametrize(("successes", "n", "message"), [
    (float("nan"), 10, "successes must be a whole number >= 0, got nan"),
    (2.5, 10, "successes must be a whole number >= 0, got 2.5"),
    (3, 4.7, "n must be a whole number >= 0, got 4.7"),
    (True, 3, "successes must be a whole number >= 0, got True"),
    ("2", 3, "successes must be a whole number >= 0, got '2'"),
    (3, -1, "n must be a whole number >= 0, got -1"),
    (5, 3, "successes must be between 0 and n, got 5 of 3"),
])
def test_share_from_counts_names_the_bad_input(successes, n, message):
    # finding 9: int() let 2.5 through as 25%, made 4.7 into n = 4, and failed on NaN naming no input
    with pytest.raises(ValueError) as raised:
        share_from_counts(successes, n)
    assert str(raised.value) == message


def test_share_from_counts_accepts_whole_floats():
    # hand: 2 of 4 = 50%, Wilson (see wilson_interval) [15.00, 85.00]
    estimate = share_from_counts(2.0, 4.0)
    assert (estimate.value, estimate.n) == (50.0, 4)
    assert (estimate.low, estimate.high) == pytest.approx((15.004, 84.996), abs=1e-3)


def test_compare_nps_of_a_weighted_estimate_uses_its_effective_size():
    # An Estimate carries shares through value and se: 20/30/50 rebuilt exactly
    assert compare_nps(nps_from_counts(20, 30, 50), nps_from_counts(30, 30, 40)) == compare_nps(
        [0] * 20 + [8] * 30 + [10] * 50, [0] * 30 + [8] * 30 + [10] * 40)


def test_a_suppressed_segment_cannot_be_recovered_from_the_others_difference():
    # finding 3: with two segments, x's value minus x's difference from the rest was y's NPS (-80)
    histograms = pd.DataFrame({"segment": ["x", "x", "y", "y"], "score": [10, 0, 10, 0], "count": [30, 20, 1, 9]})
    table = by_segment(histograms, "segment", min_n=30)
    shown = table.drop(columns=["n", "suppressed", "complementary", "directional"])
    assert shown.isna().all().all()  # with y hidden, x is the total less y: both hidden
    # with three segments, the hidden ones together reach min_n, so no figure isolates y
    histograms = pd.concat([histograms, pd.DataFrame({"segment": ["z", "z"], "score": [10, 0], "count": [25, 15]})])
    table = by_segment(histograms, "segment", min_n=30)
    assert table["suppressed"].tolist() == [False, True, True]
    assert table.loc[table["suppressed"], "n"].sum() >= 30
