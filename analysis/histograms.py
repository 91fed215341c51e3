"""Score histograms (one row per group and score, with a count) turned into per-group estimates.

The database counts answers per group and score; this module reduces such a long frame to the
sufficient statistics of every group with one pandas group-by, then computes all estimates at
once with the same kernels as the one-sample estimators. Nothing loops over groups in Python.

Examples
--------
>>> import pandas as pd
>>> histograms = pd.DataFrame({"segment": ["a", "a", "a", "b"], "score": [10, 8, 3, 9],
...                            "count": [50, 30, 20, 5]})
>>> spec = metric_spec("nps")
>>> statistics = group_statistics(histograms, ["segment"], spec)
>>> statistics["n"].tolist(), estimate_arrays(statistics, spec, 0.95)["value"].tolist()
([100, 5], [30.0, 100.0])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._intervals import (difference_test, mean_arrays, nps_difference_test, share_arrays,
                                 share_difference_test, welch_df)
from analysis._validation import check_columns, check_counts, check_scale, check_top, clean_scores
from analysis.nps import DETRACTOR_MAX, PROMOTER_MIN, nps_arrays

METRICS = ("nps", "csat", "ces", "mean")
DEFAULT_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
DEFAULT_TOP = 2  # CSAT: the top two boxes


@dataclass(frozen=True)
class MetricSpec:
    """A metric with its scale: which statistic a histogram is reduced to.

    `name` is one of "nps", "csat" (top-box share), "ces" (mean effort) or "mean"; `top` is
    the number of top-box points for "csat" (None otherwise).
    """

    name: str
    scale: tuple[float, float]
    top: int | None = None

    @property
    def is_mean(self) -> bool:
        """True for metrics estimated as a mean (ces, mean), which have a spread."""
        return self.name in ("ces", "mean")


def metric_spec(metric: str, scale: Sequence[float] | None = None, top: int | None = None) -> MetricSpec:
    """Validate a metric name with its scale and top-box size, filling in the defaults.

    Examples
    --------
    >>> metric_spec("csat")
    MetricSpec(name='csat', scale=(1.0, 5.0), top=2)
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    if metric == "mean" and scale is None:
        raise ValueError("metric 'mean' needs the rating's declared scale, e.g. scale=(1, 10)")
    declared = check_scale(DEFAULT_SCALES[metric] if scale is None else scale, integer=metric in ("nps", "csat"))
    if metric == "nps" and declared != (0.0, 10.0):
        raise ValueError(f"NPS is defined on the 0-10 scale, got scale={scale!r}")
    if metric != "csat":
        if top is not None:
            raise ValueError(f"top applies to metric 'csat' only, got top={top!r} for {metric!r}")
        return MetricSpec(metric, declared)
    return MetricSpec(metric, declared, check_top(DEFAULT_TOP if top is None else top, declared))


def group_statistics(histograms: pd.DataFrame, keys: Sequence[str], spec: MetricSpec) -> pd.DataFrame:
    """Sufficient statistics per group of a long histogram frame (columns: keys, score, count).

    Rows with a missing score are dropped; rows with a missing group key are dropped by the
    group-by. Scores off the metric's scale, and counts that are missing, negative or not whole,
    raise ValueError naming the value.

    Returns a frame indexed by the sorted group keys with integer column ``n`` (answers),
    ``bottom`` (answers below the scale midpoint; detractors for NPS: the share a control chart
    watches) and, per metric, ``promoters`` and ``detractors`` (nps), ``top`` (csat) or
    ``sum`` and ``sum_squares`` of score - scale minimum (ces, mean).
    """
    keys = list(keys)
    check_columns(histograms, [*keys, "score", "count"])
    scores, kept = clean_scores(histograms["score"], spec.scale, integer=spec.name in ("nps", "csat"),
                                name="score column")
    counts = histograms["count"].to_numpy()[kept]
    if pd.isna(counts).any():
        raise ValueError("count column has missing values where the score is not missing")
    counts = check_counts(counts, "count column").astype(np.int64)
    columns = {key: histograms[key].to_numpy()[kept] for key in keys}
    columns["n"] = counts
    if spec.name == "nps":
        columns["promoters"] = counts * (scores >= PROMOTER_MIN)
        columns["detractors"] = counts * (scores <= DETRACTOR_MAX)
    else:
        columns["bottom"] = counts * (scores < (spec.scale[0] + spec.scale[1]) / 2)
        if spec.name == "csat":
            columns["top"] = counts * (scores >= spec.scale[1] - spec.top + 1)
        else:
            shifted = scores - spec.scale[0]
            columns["sum"] = counts * shifted
            columns["sum_squares"] = counts * shifted * shifted
    frame = pd.DataFrame(columns)
    statistics = frame.groupby(keys, sort=True, observed=True, dropna=True).sum()
    if spec.name == "nps":
        statistics["bottom"] = statistics["detractors"]
    return statistics


def estimate_arrays(statistics: pd.DataFrame, spec: MetricSpec, confidence: float) -> dict[str, np.ndarray]:
    """Estimate, interval, standard error and spread (means only, else NaN) of every group."""
    n = statistics["n"].to_numpy()
    if spec.name == "nps":
        promoters = statistics["promoters"].to_numpy()
        detractors = statistics["detractors"].to_numpy()
        arrays = nps_arrays(detractors, n - promoters - detractors, promoters, confidence)
        arrays["spread"] = np.full(len(n), np.nan)
        return arrays
    if spec.name == "csat":
        return share_arrays(statistics["top"].to_numpy(), n, confidence)
    return mean_arrays(n, statistics["sum"].to_numpy(), statistics["sum_squares"].to_numpy(), spec.scale,
                       confidence)


def counts_of(statistics: pd.DataFrame | dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns of `group_statistics` as plain arrays (so they can be shifted or subtracted)."""
    return {name: np.asarray(statistics[name], dtype=float) for name in
            ("n", "promoters", "detractors", "top", "bottom") if name in statistics}


def difference_arrays(first: dict[str, np.ndarray], first_counts: dict[str, np.ndarray],
                      second: dict[str, np.ndarray], second_counts: dict[str, np.ndarray],
                      spec: MetricSpec, confidence: float) -> dict[str, np.ndarray]:
    """First minus second estimate per group, with interval and two-sided p-value.

    `first` and `second` are `estimate_arrays`, the counts those of `counts_of`. NPS uses the
    adjusted-Wald test of `nps_difference_test` (as `compare_nps`), CSAT the Agresti-Caffo test
    of `share_difference_test`, means Welch's t-test with the interval clipped to the largest
    difference the scale allows (and no test where neither group has any spread).
    """
    if spec.name == "nps":
        def trinomial(counts):
            return (counts["detractors"], counts["n"] - counts["detractors"] - counts["promoters"],
                    counts["promoters"])
        return nps_difference_test(trinomial(first_counts), trinomial(second_counts), confidence)
    if spec.name == "csat":
        return share_difference_test((first_counts["top"], first_counts["n"]),
                                     (second_counts["top"], second_counts["n"]), confidence)
    df = welch_df(first["se"], first_counts["n"], second["se"], second_counts["n"])
    return difference_test(first["value"] - second["value"], first["se"], second["se"], confidence, df,
                           bound=spec.scale[1] - spec.scale[0])
