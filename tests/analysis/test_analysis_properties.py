"""Invariants that must hold for any data (hypothesis)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import by_segment, csat, key_drivers, nps, nps_from_counts, rake

answers = st.lists(st.integers(0, 10), min_size=1, max_size=200)
confidences = st.floats(0.5, 0.999)


@given(answers, confidences)
def test_nps_lies_in_range_and_inside_its_interval(scores, confidence):
    estimate = nps(scores, confidence=confidence)
    assert -100 <= estimate.low <= estimate.value <= estimate.high <= 100
    assert estimate.se >= 0 and estimate.n == len(scores)


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500), confidences)
def test_nps_from_counts_lies_in_range_and_inside_its_interval(detractors, passives, promoters, confidence):
    estimate = nps_from_counts(detractors, passives, promoters, confidence)
    if estimate.n == 0:
        assert np.isnan(estimate.value)
    else:
        assert -100 <= estimate.low <= estimate.value <= estimate.high <= 100


@given(answers, st.floats(0.1, 10))
def test_equal_weights_give_the_unweighted_result(scores, weight):
    plain, weighted = nps(scores), nps(scores, weights=[weight] * len(scores))
    assert weighted.n_eff == pytest.approx(plain.n)
    for field in ("value", "low", "high", "se"):
        assert getattr(weighted, field) == pytest.approx(getattr(plain, field), abs=1e-9)


@given(st.lists(st.integers(1, 5), min_size=1, max_size=200), st.integers(1, 5), confidences)
def test_csat_lies_in_range_and_inside_its_interval(scores, top, confidence):
    estimate = csat(scores, top=top, confidence=confidence)
    assert 0 <= estimate.low <= estimate.value <= estimate.high <= 100


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.integers(1, 5), st.integers(0, 30))
def test_relative_weights_sum_to_r_squared(seed, drivers, extra_rows):
    rng = np.random.default_rng(seed)
    n = drivers + 3 + extra_rows
    mixing = rng.normal(size=(drivers, drivers))
    x = rng.normal(size=(n, drivers)) @ mixing
    y = x @ rng.normal(size=drivers) + rng.normal(size=n)
    names = [f"d{i}" for i in range(drivers)]
    frame = pd.DataFrame(x, columns=names).assign(overall=y)
    try:
        table = key_drivers(frame, "overall", names)
    except ValueError as error:  # a random mixing can be (nearly) singular: refused, not miscomputed
        assert "collinear" in str(error)
        return
    r_squared = sm.OLS(y, sm.add_constant(x)).fit().rsquared
    assert table["weight"].sum() == pytest.approx(r_squared, abs=1e-8)
    assert (table["weight"] >= -1e-12).all()


shares = st.lists(st.floats(0.05, 1), min_size=2, max_size=4).map(lambda xs: [x / sum(xs) for x in xs])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shares, shares, st.integers(0, 2 ** 32 - 1))
def test_raking_reproduces_its_target_margins(region_shares, tier_shares, seed):
    rng = np.random.default_rng(seed)
    regions = [f"r{i}" for i in range(len(region_shares))]
    tiers = [f"t{i}" for i in range(len(tier_shares))]
    cells = list(itertools.product(regions, tiers))
    picks = np.r_[np.arange(len(cells)), rng.integers(0, len(cells), 100)]  # every cell present
    sample = pd.DataFrame([cells[i] for i in picks], columns=["region", "tier"])
    targets = {"region": dict(zip(regions, region_shares)), "tier": dict(zip(tiers, tier_shares))}
    weights = rake(sample, targets, max_iter=2000, tol=1e-10)
    assert weights.mean() == pytest.approx(1.0)
    assert (weights >= 0).all()
    for column, target in targets.items():
        achieved = (weights.groupby(sample[column]).sum() / weights.sum()).to_dict()
        assert achieved == pytest.approx(target, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60)), min_size=1, max_size=8))
def test_by_segment_estimates_equal_nps_from_counts_per_segment(sizes):
    rows = [(segment, score, count) for segment, counts in enumerate(sizes)
            for score, count in zip((0, 7, 10), counts)]
    table = by_segment(pd.DataFrame(rows, columns=["segment", "score", "count"]), "segment", min_n=0)
    for segment, counts in enumerate(sizes):
        if sum(counts) == 0:
            continue
        expected = nps_from_counts(*counts)
        row = table.loc[segment]
        assert (row["value"], row["low"], row["high"], row["se"]) == pytest.approx(
            (expected.value, expected.low, expected.high, expected.se))
