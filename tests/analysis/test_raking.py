"""Raking weights: margins reproduced, agreement with classic cell-based IPF, clear refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from analysis import rake


def test_single_margin_raking_matches_hand_computation():
    # hand: 3 North, 1 South, targets .5/.5 -> North weight .5/.75 = 2/3, South .5/.25 = 2; mean already 1
    sample = pd.DataFrame({"region": ["North", "North", "South", "North"]}, index=[10, 11, 12, 13])
    weights = rake(sample, {"region": {"North": 0.5, "South": 0.5}})
    assert weights.to_numpy() == pytest.approx([2 / 3, 2 / 3, 2, 2 / 3])
    assert weights.index.tolist() == [10, 11, 12, 13]
    assert weights.name == "weight"


def deming_stephan_cells(table: np.ndarray, row_targets: np.ndarray, column_targets: np.ndarray,
                         sweeps: int = 2000) -> np.ndarray:
    """Classic IPF on a two-way table of counts, one cell at a time (Deming & Stephan, 1940)."""
    fitted = table.astype(float).copy()
    total = fitted.sum()
    for _ in range(sweeps):
        for i in range(fitted.shape[0]):
            row_sum = sum(fitted[i, j] for j in range(fitted.shape[1]))
            for j in range(fitted.shape[1]):
                fitted[i, j] *= row_targets[i] * total / row_sum
        for j in range(fitted.shape[1]):
            column_sum = sum(fitted[i, j] for i in range(fitted.shape[0]))
            for i in range(fitted.shape[0]):
                fitted[i, j] *= column_targets[j] * total / column_sum
    return fitted


def test_two_margin_raking_agrees_with_cell_based_ipf():
    rng = np.random.default_rng(12)
    regions, tiers = ["North", "South", "East"], ["gold", "silver", "bronze", "basic"]
    cells = list(itertools.product(regions, tiers))
    picks = rng.choice(len(cells), size=400, p=rng.dirichlet(np.ones(len(cells))))
    picks = np.r_[np.arange(len(cells)), picks]  # every cell present at least once
    sample = pd.DataFrame([cells[i] for i in picks], columns=["region", "tier"])
    region_targets = {"North": 0.5, "South": 0.3, "East": 0.2}
    tier_targets = {"gold": 0.1, "silver": 0.2, "bronze": 0.3, "basic": 0.4}
    weights = rake(sample, {"region": region_targets, "tier": tier_targets}, tol=1e-12, max_iter=1000)

    table = pd.crosstab(sample["region"], sample["tier"]).loc[regions, tiers].to_numpy()
    fitted = deming_stephan_cells(table, np.array(list(region_targets.values())), np.array(list(tier_targets.values())))
    expected_cell_weight = fitted / table  # every respondent of a cell gets the cell's fitted/observed ratio
    expected = np.array([expected_cell_weight[regions.index(r), tiers.index(t)]
                         for r, t in zip(sample["region"], sample["tier"])])
    assert weights.to_numpy() == pytest.approx(expected / expected.mean(), rel=1e-8)
    assert weights.mean() == pytest.approx(1.0)
    for column, targets in (("region", region_targets), ("tier", tier_targets)):
        achieved = weights.groupby(sample[column]).sum() / weights.sum()
        assert achieved.to_dict() == pytest.approx(targets, abs=1e-10)


def test_raking_refuses_a_target_level_without_respondents():
    sample = pd.DataFrame({"region": ["North", "North"]})
    with pytest.raises(ValueError, match="region='South' has no respondents"):
        rake(sample, {"region": {"North": 0.6, "South": 0.4}})


def test_raking_refuses_targets_that_do_not_sum_to_one():
    sample = pd.DataFrame({"region": ["North", "South"]})
    with pytest.raises(ValueError, match="column 'region' sum to 0.9, not 1"):
        rake(sample, {"region": {"North": 0.5, "South": 0.4}})


def test_raking_refuses_levels_without_target_missing_values_and_unknown_columns():
    sample = pd.DataFrame({"region": ["North", "West", None]})
    with pytest.raises(ValueError, match="1 missing values"):
        rake(sample, {"region": {"North": 0.5, "West": 0.5}})
    with pytest.raises(ValueError, match="level 'West', which has no target share"):
        rake(sample.dropna(), {"region": {"North": 1.0}})
    with pytest.raises(ValueError, match="raking column 'tier' is not in the frame"):
        rake(sample, {"tier": {"gold": 1.0}})


def test_raking_reports_impossible_target_combinations():
    # gold customers are all in the North, yet gold must be 50% while the North is 10%: no weights exist
    sample = pd.DataFrame({"region": ["North", "South", "South"], "tier": ["gold", "basic", "basic"]})
    with pytest.raises(ValueError, match="did not converge"):
        rake(sample, {"region": {"North": 0.1, "South": 0.9}, "tier": {"gold": 0.5, "basic": 0.5}})
