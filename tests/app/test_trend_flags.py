"""Trends flags a falling segment only when both sides of the comparison have the minimum n
(issue 13, finding 7)."""

from __future__ import annotations

import pandas as pd

from analysis import trend
from app_pages.metrics import MetricChoice
from app_pages.trends import flag_falling_segments

NPS = MetricChoice("NPS", "nps", "nps", (0, 10))


def histogram(months: dict[str, tuple[int, int, int]]) -> pd.DataFrame:
    rows = []
    for month, (detractors, passives, promoters) in months.items():
        rows += [("North", month, 3, detractors), ("North", month, 8, passives), ("North", month, 10, promoters)]
    return pd.DataFrame(rows, columns=["region", "period", "score", "count"])


def test_latest_change_from_a_tiny_previous_period_raises_no_alarm():
    # January 60 detractors / 40 passives (NPS -60), February 9 promoters (n = 9 < 10), March
    # 30 / 30 / 0 (NPS -50, n = 60). Recent (March) against earlier (January and February,
    # NPS -46.8) is no fall, March's unhappy share (0.50) sits under its control limit (centre
    # 0.53); only the change from February's 9 answers "falls", and February is under the minimum n.
    counts = histogram({"2026-01": (60, 40, 0), "2026-02": (0, 0, 9), "2026-03": (30, 30, 0)})
    table = trend(counts, period="M", by="region")
    assert table["change_p_value"].iloc[-1] < 0.05  # the raw comparison would have fired
    flagged = flag_falling_segments(counts, table, "region", NPS, "M", 1, min_n=10)
    assert flagged.empty


def test_latest_change_with_both_sides_large_enough_is_flagged():
    counts = histogram({"2026-01": (60, 40, 0), "2026-02": (0, 0, 40), "2026-03": (30, 30, 0)})
    table = trend(counts, period="M", by="region")
    flagged = flag_falling_segments(counts, table, "region", NPS, "M", 1, min_n=10)
    assert flagged["reasons"].str.contains("significant fall in the latest period").all() and len(flagged) == 1
