"""NPS: plain value, Rocks adjusted-Wald interval, weights, comparisons and value weighting."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import Estimate, compare_nps, nps, nps_from_counts, value_weighted_nps


def scores_from_counts(detractors: int, passives: int, promoters: int) -> list[int]:
    return [3] * detractors + [8] * passives + [10] * promoters


def rocks_interval_by_hand(d: int, p: int, q: int, z: float = 1.959964) -> tuple[float, float]:
    """The adjusted Wald interval written out from Rocks (2016), independently of the library."""
    n = d + p + q + 3  # 0.75 + 1.5 + 0.75 pseudo-observations
    share_q, share_d = (q + 0.75) / n, (d + 0.75) / n
    centre = share_q - share_d
    half = z * math.sqrt((share_q + share_d - centre ** 2) / n)
    return 100 * (centre - half), 100 * (centre + half)


def test_nps_value_and_standard_error_match_hand_computation():
    # hand: 50 promoters, 30 passives, 20 detractors of 100 -> NPS 30;
    # se = 100*sqrt((.5 + .2 - .3^2)/100) = 100*sqrt(.0061) = 7.8102
    estimate = nps(scores_from_counts(20, 30, 50))
    assert estimate.value == pytest.approx(30.0)
    assert estimate.se == pytest.approx(7.8102, abs=1e-4)
    assert estimate.n == 100
    assert estimate.n_eff is None


def test_nps_interval_matches_rocks_adjusted_wald():
    # hand: n' = 103, p'P = 50.75/103 = .49272, p'D = 20.75/103 = .20146, centre .29126,
    # v' = (.69417 - .08483)/103 = .0059159, half = 1.96*sqrt(v') = .15075 -> [14.05, 44.20]
    estimate = nps_from_counts(20, 30, 50)
    assert estimate.low == pytest.approx(14.05, abs=0.01)
    assert estimate.high == pytest.approx(44.20, abs=0.01)


@pytest.mark.parametrize("counts", [(20, 30, 50), (3, 1, 0), (0, 0, 12), (40, 5, 55), (1, 0, 1)])
def test_nps_interval_matches_rocks_formula_written_out(counts):
    low, high = rocks_interval_by_hand(*counts)
    estimate = nps_from_counts(*counts)
    # truncated to [-100, 100], as the library documents
    assert estimate.low == pytest.approx(max(low, -100), abs=1e-4)
    assert estimate.high == pytest.approx(min(high, 100), abs=1e-4)


def test_nps_agrees_with_brute_force_loop_on_random_answers():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 11, size=537).tolist()
    promoters = detractors = 0
    for score in scores:  # independent implementation: count one answer at a time
        if score >= 9:
            promoters += 1
        elif score <= 6:
            detractors += 1
    n = len(scores)
    coded = [1 if s >= 9 else -1 if s <= 6 else 0 for s in scores]
    mean = sum(coded) / n
    population_variance = sum((c - mean) ** 2 for c in coded) / n
    estimate = nps(scores)
    assert estimate.value == pytest.approx(100 * (promoters - detractors) / n)
    assert estimate.se == pytest.approx(100 * math.sqrt(population_variance / n))
    low, high = rocks_interval_by_hand(detractors, n - promoters - detractors, promoters)
    assert (estimate.low, estimate.high) == pytest.approx((low, high), abs=1e-4)


def test_nps_from_counts_equals_nps_of_the_answers():
    assert nps_from_counts(7, 11, 23) == nps(scores_from_counts(7, 11, 23))


def test_nps_drops_missing_answers_and_does_not_count_them():
    # hand: answers 10 and 0 remain -> one promoter, one detractor -> NPS 0, n 2
    estimate = nps(pd.Series([10, None, 0, np.nan], dtype="Float64"))
    assert (estimate.value, estimate.n) == (0.0, 2)
    assert nps([10, None, float("nan"), 0]).n == 2


@pytest.mark.parametrize("bad, shown", [(11, "11"), (-1, "-1"), (7.5, "7.5"), ("x", "'x'"), (float("inf"), "inf")])
def test_nps_rejects_values_off_the_scale_naming_them(bad, shown):
    with pytest.raises(ValueError, match=f"contains {shown}"):
        nps([10, 9, bad])


def test_nps_of_no_answers_is_nan_with_n_zero():
    estimate = nps([None, None])
    assert estimate.n == 0
    assert all(math.isnan(x) for x in (estimate.value, estimate.low, estimate.high, estimate.se))


def test_single_promoter_interval_is_widened_to_include_the_observed_value():
    # hand: Rocks gives centre (1.75 - .75)/4 = .25, half 1.96*sqrt((.625 - .0625)/4) = .735 -> high 98.5,
    # which would exclude the observed 100; the library widens it to 100.
    low, high = rocks_interval_by_hand(0, 0, 1)
    assert high == pytest.approx(98.5, abs=0.01)
    estimate = nps([10])
    assert estimate.value == 100 and estimate.high == 100
    assert estimate.low == pytest.approx(low, abs=1e-4)


def test_lower_confidence_gives_a_narrower_interval():
    wide, narrow = nps_from_counts(20, 30, 50), nps_from_counts(20, 30, 50, confidence=0.8)
    assert narrow.high - narrow.low < wide.high - wide.low
    # hand: z(0.8) = 1.2816, half = 1.2816*sqrt(.0059159) = .09857 around .29126 -> [19.27, 38.98]
    assert (narrow.low, narrow.high) == pytest.approx((19.27, 38.98), abs=0.01)


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, "high"])
def test_confidence_outside_zero_one_is_rejected(confidence):
    with pytest.raises(ValueError, match="confidence"):
        nps([10], confidence=confidence)


def test_nps_from_counts_rejects_negative_or_fractional_counts():
    with pytest.raises(ValueError, match="detractors contains -1"):
        nps_from_counts(-1, 2, 3)
    with pytest.raises(ValueError, match="promoters contains 2.5"):
        nps_from_counts(1, 2, 2.5)


def test_weighted_nps_matches_hand_computation():
    # hand: scores 10, 10, 0, 8 with weights 1, 2, 3, 4 (sum 10): promoters .3, detractors .3 -> NPS 0;
    # n_eff = 10^2 / (1 + 4 + 9 + 16) = 3.333; Taylor se = 100*sqrt(1*1 + 4*1 + 9*1 + 16*0)/10 = 37.42;
    # interval: effective counts 1 detractor, 1 promoter, n_eff 3.333 -> n' = 6.333, p'P = p'D = 1.75/6.333
    # = .27632, v' = .55263/6.333 = .087258, half = 1.96*.29539 = .5790 -> [-57.90, 57.90]
    estimate = nps([10, 10, 0, 8], weights=[1, 2, 3, 4])
    assert estimate.value == pytest.approx(0.0, abs=1e-12)
    assert estimate.n == 4
    assert estimate.n_eff == pytest.approx(10 / 3)
    assert estimate.se == pytest.approx(37.42, abs=0.01)
    assert (estimate.low, estimate.high) == pytest.approx((-57.90, 57.90), abs=0.01)


def test_integer_weights_give_the_nps_of_the_replicated_answers():
    # independent: replicate each answer `weight` times and take the plain NPS of the result
    scores, weights = [10, 9, 7, 3, 0, 6], [3, 1, 2, 5, 1, 4]
    replicated = [s for s, w in zip(scores, weights) for _ in range(w)]
    assert nps(scores, weights=weights).value == pytest.approx(nps(replicated).value)


def test_unit_weights_reproduce_the_unweighted_estimate():
    scores = [10, 9, 9, 8, 7, 3, 10, 6, 9, 5, None]
    plain, weighted = nps(scores), nps(scores, weights=[1.0] * len(scores))
    assert weighted.n_eff == plain.n
    for field in ("value", "low", "high", "se"):
        assert getattr(weighted, field) == pytest.approx(getattr(plain, field), rel=1e-12)


def test_weights_are_validated_where_the_score_is_present():
    assert nps([10, None], weights=[1, None]).n == 1  # weight of a missing answer is irrelevant
    with pytest.raises(ValueError, match="missing at position 1"):
        nps([10, 0], weights=[1, None])
    with pytest.raises(ValueError, match="contains -2"):
        nps([10, 0], weights=[1, -2])
    with pytest.raises(ValueError, match="2 values but there are 3"):
        nps([10, 0, 9], weights=[1, 2])
    with pytest.raises(ValueError, match="sum to zero"):
        nps([10, 0], weights=[0, 0])


def test_compare_nps_matches_hand_adjusted_wald_test():
    # hand (Rocks 2016 pseudo-observations 0.75 / 1.5 / 0.75 in each sample, Agresti & Caffo 2000
    # sum of adjusted variances): a = 20/30/50 -> d' 20.75, q' 50.75 of 103: NPS' = .291262,
    # v' = (.694175 - .084834)/103 = .0059159; b = 30/30/40 -> d' 30.75, q' 40.75: NPS' = .097087,
    # v' = (.694175 - .009426)/103 = .0066480; se' = 100 sqrt(.0125639) = 11.2089,
    # z = 19.4175 / 11.2089 = 1.7323, p = 2 (1 - Phi(1.7323)) = .0832
    comparison = compare_nps(scores_from_counts(20, 30, 50), scores_from_counts(30, 30, 40))
    assert comparison.difference == pytest.approx(20.0)  # the observed difference, as shown
    assert comparison.z == pytest.approx(1.7323, abs=1e-4)
    assert comparison.p_value == pytest.approx(0.0832, abs=1e-4)
    # interval: 19.4175 -/+ 1.96 * 11.2089 = [-2.55, 41.39]
    assert (comparison.low, comparison.high) == pytest.approx((-2.55, 41.39), abs=0.01)


def test_compare_nps_agrees_with_brute_force_adjusted_variances():
    rng = np.random.default_rng(11)
    a, b = rng.integers(0, 11, 300), rng.integers(3, 11, 250)
    code = lambda s: np.where(s >= 9, 1.0, np.where(s <= 6, -1.0, 0.0))  # noqa: E731
    # brute force: the answers plus 0.75 detractor, 1.5 passive, 0.75 promoter as weighted rows
    def adjusted(sample):
        values = np.r_[code(sample), -1.0, 0.0, 1.0]
        weights = np.r_[np.ones(len(sample)), 0.75, 1.5, 0.75]
        mean = np.average(values, weights=weights)
        return mean, np.average((values - mean) ** 2, weights=weights) / weights.sum()
    (mean_a, var_a), (mean_b, var_b) = adjusted(a), adjusted(b)
    z = (mean_a - mean_b) / math.sqrt(var_a + var_b)
    comparison = compare_nps(a, b)
    assert comparison.difference == pytest.approx(100 * (code(a).mean() - code(b).mean()))
    assert comparison.z == pytest.approx(z)
    assert comparison.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_compare_nps_accepts_estimates_and_refuses_empty_samples():
    a, b = scores_from_counts(20, 30, 50), scores_from_counts(30, 30, 40)
    assert compare_nps(nps(a), nps_from_counts(30, 30, 40)) == compare_nps(a, b)
    with pytest.raises(ValueError, match="sample b has no non-missing scores"):
        compare_nps(a, [None])


def test_compare_identical_degenerate_samples_has_p_one():
    comparison = compare_nps([10, 10], [9, 9])  # both all promoters: se 0, no difference
    assert (comparison.z, comparison.p_value) == (0.0, 1.0)


def test_value_weighted_nps_reports_plain_and_weighted_side_by_side():
    # hand: three promoters worth 1 each, one detractor worth 7 -> plain 50, weighted (3 - 7)/10 = -40
    result = value_weighted_nps([10, 10, 10, 0, None], customer_value=[1, 1, 1, 7, None])
    assert isinstance(result.plain, Estimate) and isinstance(result.weighted, Estimate)
    assert result.plain.value == pytest.approx(50.0)
    assert result.weighted.value == pytest.approx(-40.0)
    assert result.plain.n == result.weighted.n == 4
    # hand: n_eff = 10^2 / (1 + 1 + 1 + 49) = 1.923
    assert result.weighted.n_eff == pytest.approx(100 / 52)
