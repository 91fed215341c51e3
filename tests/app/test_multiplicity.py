"""Each page controls the family it states (issue 13, finding 10): the whole heatmap is one family,
and the flagged-segments table's two tests of every segment are adjusted together."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import adjust_p_values, trend
from app_pages.metrics import MetricChoice
from app_pages.segments import monthly_heatmap_data
from app_pages.trends import flag_falling_segments

NPS = MetricChoice("NPS", "nps", "nps", (0, 10))


def histogram(seed: int, segments=("A", "B", "C"), months=("2026-01", "2026-02", "2026-03")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(segment, month, score, int(rng.integers(5, 40))) for segment in segments for month in months
            for score in (2, 8, 10)]
    return pd.DataFrame(rows, columns=["region", "period", "score", "count"])


def test_heatmap_adjusts_across_every_cell_not_within_each_month():
    counts = histogram(3)
    data, _ = monthly_heatmap_data(counts, "region", NPS, 30, ["2026-01", "2026-02", "2026-03"])
    shown = data.dropna(subset=["p_value"])
    assert len(shown) > 3  # more than one month's worth of tests
    np.testing.assert_allclose(shown["p_adjusted"], adjust_p_values(shown["p_value"]))


def test_trend_flags_adjust_both_tests_of_every_segment_together():
    counts = histogram(5)
    # A falls in March: 300 more detractors
    counts = pd.concat([counts, pd.DataFrame({"region": ["A"], "period": ["2026-03"], "score": [2], "count": [300]})])
    counts = counts.groupby(["region", "period", "score"], as_index=False)["count"].sum()
    table = trend(counts, period="M", by="region")
    flagged = flag_falling_segments(counts, table, "region", NPS, "M", 1, min_n=10)
    rows = flagged.set_index("region") if not flagged.empty else flagged
    # recompute the family by hand: the recent-vs-earlier tests and the latest-change tests together
    pooled = counts.assign(period=np.where(counts["period"] == "2026-03", "2 recent", "1 earlier"))
    recent = trend(pooled, period=None, by="region").xs("2 recent", level="period")["change_p_value"]
    latest = table.groupby(level="region").tail(1).reset_index(level="period")["change_p_value"]
    family = adjust_p_values(pd.concat([recent, latest], ignore_index=True))
    assert "A" in rows.index
    for segment in rows.index:
        position = list(recent.index).index(segment)
        assert rows.loc[segment, "recent_p_adjusted"] == family.iloc[position]
        assert rows.loc[segment, "latest_change_p_adjusted"] == family.iloc[len(recent) + position]
