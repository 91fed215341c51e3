"""trend and by_segment over long score histograms: same numbers as the one-sample estimators."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import by_segment, compare_nps, csat, mean_score, nps, nps_from_counts, trend


def expand(histograms: pd.DataFrame) -> np.ndarray:
    """Individual answers back from a histogram: each score repeated `count` times."""
    return np.repeat(histograms["score"].to_numpy(), histograms["count"].to_numpy())


def monthly(counts_by_month: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    rows = []
    for month, (detractors, passives, promoters) in counts_by_month.items():
        rows += [(month, 3, detractors), (month, 8, passives), (month, 10, promoters)]
    return pd.DataFrame(rows, columns=["period", "score", "count"])


def test_trend_gives_nps_change_and_p_value_by_hand():
    # hand: Jan 60 promoters / 40 detractors -> 20, se 100*sqrt((1 - .04)/100) = 9.798;
    # Feb 70 / 30 -> 40, se 100*sqrt((1 - .16)/100) = 9.165; change 20, se sqrt(96 + 84) = 13.416,
    # the change is tested adjusted-Wald (Rocks 2016 pseudo-observations 0.75/1.5/0.75 per month,
    # variances added as in Agresti & Caffo 2000): Jan d' = 40.75, q' = 60.75 of 103 -> .194175,
    # v' = (.985437 - .037704)/103; Feb d' = 30.75, q' = 70.75 -> .388350, v' = (.985437 - .150815)/103;
    # se' = sqrt(.0092013 + .0081031) = .131546, z = .194175/.131546 = 1.4761, p = .1399
    table = trend(monthly({"2026-01": (40, 0, 60), "2026-02": (30, 0, 70)}))
    assert table.index.tolist() == [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")]
    assert table["value"].tolist() == pytest.approx([20.0, 40.0])
    assert table["se"].tolist() == pytest.approx([9.798, 9.165], abs=1e-3)
    assert math.isnan(table["change"].iloc[0])
    assert table["change"].iloc[1] == pytest.approx(20.0)
    assert table["change_p_value"].iloc[1] == pytest.approx(0.1399, abs=1e-4)


def test_trend_estimates_equal_the_one_sample_functions():
    histograms = monthly({"2026-01": (12, 30, 41), "2026-02": (25, 22, 30), "2026-03": (5, 9, 50)})
    table = trend(histograms)
    for (_period, row), month in zip(table.iterrows(), ["2026-01", "2026-02", "2026-03"]):
        month_rows = histograms[histograms["period"] == month]
        expected = nps(expand(month_rows))
        assert (row["value"], row["low"], row["high"], row["se"], row["n"]) == pytest.approx(
            (expected.value, expected.low, expected.high, expected.se, expected.n))
    march_vs_february = compare_nps(expand(histograms[histograms["period"] == "2026-03"]),
                                    expand(histograms[histograms["period"] == "2026-02"]))
    assert table["change"].iloc[2] == pytest.approx(march_vs_february.difference)
    assert table["change_p_value"].iloc[2] == pytest.approx(march_vs_february.p_value)
    assert (table["change_low"].iloc[2], table["change_high"].iloc[2]) == pytest.approx(
        (march_vs_february.low, march_vs_february.high))


def test_trend_groups_dates_into_calendar_periods():
    histograms = pd.DataFrame({"period": ["2026-01-05", "2026-01-20", "2026-02-03"], "score": [10, 0, 10],
                               "count": [3, 1, 2]})
    table = trend(histograms, period="M")
    assert table.index.tolist() == [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")]
    assert table["n"].tolist() == [4, 2]
    quarterly = trend(histograms.assign(period=pd.to_datetime(histograms["period"])), period="Q")
    assert quarterly["n"].tolist() == [6]
    as_periods = trend(histograms.assign(period=pd.PeriodIndex(histograms["period"], freq="D")), period="M")
    assert as_periods["n"].tolist() == [4, 2]
    as_is = trend(histograms, period=None)
    assert as_is.index.tolist() == ["2026-01-05", "2026-01-20", "2026-02-03"]


def test_trend_flags_a_detractor_spike_on_the_control_chart():
    # hand: detractors 20 of 100 in five months, 50 of 100 in the sixth: p-bar = 150/600 = .25,
    # limits .25 -/+ 3*sqrt(.25*.75/100) = [.1201, .3799]: only the sixth month (.5) is out of control
    months = {f"2026-0{m}": (20, 30, 50) for m in range(1, 6)} | {"2026-06": (50, 20, 30)}
    table = trend(monthly(months))
    assert table["control_center"].tolist() == pytest.approx([0.25] * 6)
    assert table["control_lower"].iloc[0] == pytest.approx(0.1201, abs=1e-4)
    assert table["control_upper"].iloc[0] == pytest.approx(0.3799, abs=1e-4)
    assert table["out_of_control"].tolist() == [False] * 5 + [True]


def test_trend_by_segment_compares_each_period_with_the_same_segment_only():
    north = monthly({"2026-01": (10, 10, 80), "2026-02": (40, 10, 50)}).assign(region="North")
    south = monthly({"2026-01": (30, 30, 40), "2026-02": (30, 30, 40)}).assign(region="South")
    table = trend(pd.concat([south, north]), by="region")
    assert table.index.names == ["region", "period"]
    assert table["change"].isna().tolist() == [True, False, True, False]
    # hand: North 70 -> 10 is a change of -60; South 10 -> 10 is 0
    assert table.loc[("North", pd.Timestamp("2026-02-01")), "change"] == pytest.approx(-60.0)
    assert table.loc[("South", pd.Timestamp("2026-02-01")), "change"] == pytest.approx(0.0)
    # control centre per segment: North 50/200 = .25, South 60/200 = .3
    assert table["control_center"].tolist() == pytest.approx([0.25, 0.25, 0.3, 0.3])


def test_trend_of_a_mean_metric_uses_welch_t_test():
    rng = np.random.default_rng(21)
    rows = []
    for month, shift in (("2026-01", 0), ("2026-02", 1)):
        counts = np.bincount(np.clip(rng.integers(1, 8, 60) + shift, 1, 7), minlength=8)[1:]
        rows += [(month, score, count) for score, count in zip(range(1, 8), counts)]
    histograms = pd.DataFrame(rows, columns=["period", "score", "count"])
    table = trend(histograms, metric="ces")
    january = expand(histograms[histograms["period"] == "2026-01"])
    february = expand(histograms[histograms["period"] == "2026-02"])
    welch = stats.ttest_ind(february, january, equal_var=False)
    assert table["change_p_value"].iloc[1] == pytest.approx(welch.pvalue)
    assert table["value"].iloc[1] == pytest.approx(mean_score(february, (1, 7)).value)
    assert table["spread"].iloc[1] == pytest.approx(np.std(february, ddof=1))


def segments(sizes: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    rows = []
    for segment, (detractors, passives, promoters) in sizes.items():
        rows += [(segment, 2, detractors), (segment, 7, passives), (segment, 9, promoters)]
    return pd.DataFrame(rows, columns=["segment", "score", "count"])


def test_by_segment_suppresses_small_segments_and_marks_directional_ones():
    # n = 29 suppressed; 30 and 59 directional; 60 shown plainly (min_n = 30)
    histograms = segments({"a": (9, 10, 10), "b": (10, 10, 10), "c": (19, 20, 20), "d": (20, 20, 20)})
    table = by_segment(histograms, "segment", min_n=30)
    assert table["n"].tolist() == [29, 30, 59, 60]
    # a alone would be the total minus b, c and d: b (the next smallest) is hidden too
    assert table["suppressed"].tolist() == [True, True, False, False]
    assert table["complementary"].tolist() == [False, True, False, False]
    assert table["directional"].tolist() == [False, True, True, False]
    hidden = table.loc[["a", "b"], ["value", "low", "high", "difference", "p_value", "p_adjusted"]]
    assert hidden.isna().all().all()
    assert table.loc["c", "value"] == pytest.approx(100 / 59)  # hand: (20 promoters - 19 detractors) / 59
    assert table.loc["d", "value"] == pytest.approx(0.0)  # hand: 20 promoters - 20 detractors of 60


def test_by_segment_difference_is_against_the_rest_of_the_population():
    histograms = segments({"North": (40, 20, 40), "South": (10, 30, 60), "East": (25, 25, 50)})
    table = by_segment(histograms, "segment")
    for segment in ["North", "South", "East"]:
        inside = histograms["segment"] == segment
        expected = compare_nps(expand(histograms[inside]), expand(histograms[~inside]))
        assert table.loc[segment, "difference"] == pytest.approx(expected.difference)
        assert table.loc[segment, "p_value"] == pytest.approx(expected.p_value)
        assert (table.loc[segment, "difference_low"], table.loc[segment, "difference_high"]) == pytest.approx(
            (expected.low, expected.high))
    # hand: North 0 vs rest (35 detractors, 110 promoters of 200) = 37.5 -> difference -37.5
    assert table.loc["North", "difference"] == pytest.approx(-37.5)


def brute_force_benjamini_hochberg(p_values: list[float]) -> list[float]:
    """BH by definition: adjusted p_(i) = min over j >= i of p_(j) * m / j, capped at 1."""
    m = len(p_values)
    ordered = sorted(p_values)
    return [min(1.0, min(ordered[j] * m / (j + 1) for j in range(ordered.index(p), m))) for p in p_values]


def test_by_segment_adjusts_p_values_across_shown_segments_by_benjamini_hochberg():
    rng = np.random.default_rng(17)
    sizes = {f"s{i:02d}": tuple(int(x) for x in rng.integers(10, 80, 3)) for i in range(12)}
    sizes["tiny"] = (1, 1, 1)  # suppressed: not part of the family of tests
    table = by_segment(segments(sizes), "segment")
    shown = table[~table["suppressed"]]
    assert shown["p_adjusted"].tolist() == pytest.approx(brute_force_benjamini_hochberg(shown["p_value"].tolist()))
    assert math.isnan(table.loc["tiny", "p_adjusted"])


def test_by_segment_csat_and_mean_agree_with_one_sample_functions_and_report_spread():
    rng = np.random.default_rng(23)
    rows = [(segment, score, int(rng.integers(0, 40))) for segment in "xyz" for score in range(1, 6)]
    histograms = pd.DataFrame(rows, columns=["tier", "score", "count"])
    satisfaction = by_segment(histograms, "tier", metric="csat", min_n=10)
    means = by_segment(histograms, "tier", metric="mean", scale=(1, 5), min_n=10)
    for tier in "xyz":
        answers = expand(histograms[histograms["tier"] == tier])
        expected = csat(answers)
        assert (satisfaction.loc[tier, "value"], satisfaction.loc[tier, "low"], satisfaction.loc[tier, "high"]) == \
            pytest.approx((expected.value, expected.low, expected.high))
        assert means.loc[tier, "value"] == pytest.approx(answers.mean())
        assert means.loc[tier, "spread"] == pytest.approx(np.std(answers, ddof=1))
        rest = expand(histograms[histograms["tier"] != tier])
        assert means.loc[tier, "p_value"] == pytest.approx(stats.ttest_ind(answers, rest, equal_var=False).pvalue)
    assert satisfaction["spread"].isna().all()


def test_by_segment_groups_by_several_columns():
    histograms = segments({"a": (10, 10, 30), "b": (30, 10, 10)})
    histograms["tier"] = ["gold", "gold", "gold", "basic", "basic", "basic"]
    table = by_segment(histograms, ["segment", "tier"], min_n=1)
    assert table.index.names == ["segment", "tier"]
    assert table.loc[("a", "gold"), "value"] == pytest.approx(40.0)  # hand: (30 - 10)/50


def test_group_tables_validate_their_histograms():
    histograms = segments({"a": (1, 2, 3)})
    with pytest.raises(ValueError, match="score column contains 11, outside the declared scale 0..10"):
        by_segment(histograms.assign(score=[2, 7, 11]), "segment")
    with pytest.raises(ValueError, match="count column contains -3"):
        by_segment(histograms.assign(count=[1, -3, 1]), "segment")
    with pytest.raises(ValueError, match="metric must be one of nps, csat, ces, mean, got 'median'"):
        by_segment(histograms, "segment", metric="median")
    with pytest.raises(ValueError, match="needs the rating's declared scale"):
        by_segment(histograms, "segment", metric="mean")
    with pytest.raises(ValueError, match="column 'region' is not in the frame"):
        by_segment(histograms, "region")
    with pytest.raises(ValueError, match="column 'period' is not in the frame"):
        trend(histograms)
    with pytest.raises(ValueError, match="not a date"):
        trend(histograms.assign(period="soon"))


def test_missing_scores_in_a_histogram_are_ignored():
    histograms = pd.DataFrame({"segment": ["a", "a", "a"], "score": [10, None, 0], "count": [3, 5, 1]})
    table = by_segment(histograms, "segment", min_n=1)
    assert table.loc["a", "n"] == 4
    assert table.loc["a", "value"] == pytest.approx(nps_from_counts(1, 0, 3).value)


def test_twenty_thousand_groups_match_one_estimate_per_group():
    # Speed is measured in bench/bench_analysis.py; here: at scale, each row equals nps_from_counts.
    rng = np.random.default_rng(0)
    groups = 20_000
    counts = rng.poisson(5, groups * 11)
    histograms = pd.DataFrame({"segment": np.repeat(np.arange(groups), 11), "score": np.tile(np.arange(11), groups),
                               "count": counts})
    table = by_segment(histograms, "segment", min_n=1)
    assert len(table) == groups
    per_group = counts.reshape(groups, 11)
    for group in rng.choice(groups, 25, replace=False):
        row = per_group[group]
        expected = nps_from_counts(int(row[:7].sum()), int(row[7:9].sum()), int(row[9:].sum()))
        assert table.loc[group, "value"] == pytest.approx(expected.value)
        assert table.loc[group, "low"] == pytest.approx(expected.low)
