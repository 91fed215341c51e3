"""Timing of the vectorised group tables: `by_segment` and `trend` over 20,000 groups of histograms.

Run: ``python bench/bench_analysis.py``. Prints the best of several runs for each function, in ms
total and µs per group, and the ratio to a plain pandas group-by sum of the same counts measured
in the same run (so the figures can be compared across machines). No pass/fail: the tests own
correctness, this shows speed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import by_segment, trend  # noqa: E402

GROUPS = 20_000
SEGMENTS = 1_000  # trend: 1,000 segments x 20 months = 20,000 (segment, month) groups
MONTHS = GROUPS // SEGMENTS
RUNS = 7


def nps_histograms(rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Long NPS histograms of 20,000 groups x 11 scores: by segment, by segment and month, by day."""
    counts = rng.poisson(rng.uniform(1, 15, size=(GROUPS, 11))).ravel()
    scores = np.tile(np.arange(11), GROUPS)
    group = np.repeat(np.arange(GROUPS), 11)
    segments = pd.DataFrame({"segment": [f"segment-{g:05d}" for g in group], "score": scores, "count": counts})
    months = pd.period_range("2025-01", periods=MONTHS, freq="M").strftime("%Y-%m").to_numpy()
    periods = pd.DataFrame({"region": [f"region-{g // MONTHS:04d}" for g in group],
                            "period": months[group % MONTHS], "score": scores, "count": counts})
    days = pd.date_range("1970-01-01", periods=GROUPS, freq="D").strftime("%Y-%m-%d").to_numpy()
    daily = pd.DataFrame({"period": days[group], "score": scores, "count": counts})
    return segments, periods, daily


def best_ms(function, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main() -> None:
    segments, periods, daily = nps_histograms(np.random.default_rng(7))
    baseline = best_ms(lambda: segments.groupby("segment")["count"].sum())
    rows = [
        ("groupby-sum baseline", baseline),
        ("by_segment nps", best_ms(lambda: by_segment(segments, "segment"))),
        ("by_segment mean 0-10", best_ms(lambda: by_segment(segments, "segment", metric="mean", scale=(0, 10)))),
        ("trend nps, month x segment", best_ms(lambda: trend(periods, period="M", by="region"))),
        ("trend nps, labels as-is", best_ms(lambda: trend(periods, period=None, by="region"))),
        ("trend nps, 20,000 days", best_ms(lambda: trend(daily, period="D"))),
    ]
    print(f"{GROUPS:,} groups, {len(segments):,} histogram rows, best of {RUNS} runs")
    print(f"{'':28} {'ms total':>9} {'µs/group':>9} {'x groupby-sum':>14}")
    for label, ms in rows:
        print(f"{label:28} {ms:9.1f} {1000 * ms / GROUPS:9.2f} {ms / baseline:14.1f}")


if __name__ == "__main__":
    main()
