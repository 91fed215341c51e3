"""Estimates over many groups at once from score histograms: trends over time and segment tables.

Both functions take the long histogram frame described in `analysis` (group columns, ``score``,
``count``) and are vectorised: one group-by and array arithmetic, no Python loop per group.

Examples
--------
>>> import pandas as pd
>>> histograms = pd.DataFrame({"period": ["2026-01", "2026-01", "2026-02", "2026-02"],
...                            "score": [10, 3, 10, 3], "count": [60, 40, 70, 30]})
>>> trend(histograms)["value"].tolist()
[20.0, 40.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from analysis._validation import check_columns, check_confidence
from analysis.control import control_limits
from analysis.disclosure import COMPLEMENTARY, protect
from analysis.histograms import counts_of, difference_arrays, estimate_arrays, group_statistics, metric_spec

ESTIMATE_COLUMNS = ["value", "low", "high", "se", "spread"]


def _key_list(by: str | Sequence[str] | None, what: str = "by") -> list[str]:
    if by is None:
        return []
    keys = [by] if isinstance(by, str) else list(by)
    reserved = [key for key in keys if key in ("score", "count")]
    if reserved:
        raise ValueError(f"{what} cannot group by the {reserved[0]!r} column of the histogram")
    if len(set(keys)) != len(keys):
        raise ValueError(f"{what} names a column more than once: {keys}")
    return keys


def period_starts(labels: pd.Series, period: str, column: str = "period") -> np.ndarray:
    """The start of the calendar period each label falls in; parses each distinct label once."""
    codes, uniques = pd.factorize(labels)
    try:
        uniques = pd.Index(uniques)
        moments = uniques.to_timestamp() if isinstance(uniques, pd.PeriodIndex) else pd.to_datetime(uniques)
    except (ValueError, TypeError) as error:
        raise ValueError(f"period column {column!r} holds a value that is not a date: {error}") from None
    if moments.tz is not None:
        moments = moments.tz_convert("UTC").tz_localize(None)
    try:
        starts = moments.to_period(period).to_timestamp()
    except ValueError as error:
        raise ValueError(f"period must be a pandas period alias such as 'D', 'W', 'M', 'Q' or 'Y', "
                         f"got {period!r} ({error})") from None
    return np.where(codes >= 0, starts.to_numpy()[np.maximum(codes, 0)], np.datetime64("NaT"))


def trend(histograms: pd.DataFrame, period: str | None = "M", metric: str = "nps",
          scale: Sequence[float] | None = None, top: int | None = None, by: str | Sequence[str] | None = None,
          period_column: str = "period", confidence: float = 0.95, sigma: float = 3) -> pd.DataFrame:
    """A metric per period with intervals, change versus the previous period, and control flags.

    Parameters
    ----------
    histograms : pandas.DataFrame
        Long score histogram: `period_column`, any `by` columns, ``score`` and ``count``.
    period : str or None, default "M"
        Calendar period to aggregate to ("D", "W", "M", "Q", "Y"): the period column is parsed
        as dates (strings like "2026-03" or Timestamps) and each period is labelled by its start
        Timestamp. None uses the period column's values as they are (any sortable labels).
    metric : {"nps", "csat", "ces", "mean"}, default "nps"
        "csat" is the top-box share (scale default (1, 5), `top` default 2), "ces" the mean
        effort (scale default (1, 7)), "mean" the mean of a rating (`scale` required).
    scale : (min, max), optional
        Declared scale; scores outside raise ValueError.
    top : int, optional
        Top-box size for "csat".
    by : str or list of str, optional
        Segment columns: one trend per segment (e.g. per region), all computed at once.
    period_column : str, default "period"
    confidence : float, default 0.95
    sigma : float, default 3
        Width of the control limits.

    Returns
    -------
    pandas.DataFrame
        Indexed by (`by`..., `period_column`), sorted, one row per period with answers:

        - ``value``, ``low``, ``high``, ``se``, ``n``: the estimate (as `nps`, `csat`, `ces`,
          `mean_score`); ``spread``: standard deviation of the answers for mean metrics, else NaN.
        - ``change``, ``change_low``, ``change_high``, ``change_p_value``: difference from the
          previous period present in the data (of the same segment), its interval and two-sided
          p-value; NaN for the first period.
        - ``bottom_share``, ``control_center``, ``control_lower``, ``control_upper``,
          ``out_of_control``: p-chart of the share of unhappy answers (detractors 0-6 for NPS,
          answers below the scale midpoint otherwise), centre line per segment over all periods.

    Notes
    -----
    Estimates as in the one-sample functions. change = value_t - value_{t-1}; its interval and
    test are adjusted-Wald for NPS (`compare_nps`: Rocks's pseudo-observations in each period,
    Agresti & Caffo's sum of variances), Agresti-Caffo for CSAT, Welch's t for means; never
    z = inf or p = 0 from a period whose answers all fall in one category; intervals stay within
    the range a difference can take.
    Control limits: p_bar -/+ sigma sqrt(p_bar (1 - p_bar) / n_t) (see `p_chart`).

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". The American
    Statistician, 70(4), 365-372.
    Agresti, A., & Caffo, B. (2000). Simple and effective confidence intervals for proportions
    and differences of proportions result from adding two successes and two failures.
    The American Statistician, 54(4), 280-288.
    Montgomery, D. C. (2019). Introduction to Statistical Quality Control (8th ed.). Wiley.

    Examples
    --------
    >>> histograms = pd.DataFrame({"period": ["2026-01", "2026-01", "2026-02", "2026-02"],
    ...                            "score": [10, 3, 10, 3], "count": [60, 40, 70, 30]})
    >>> table = trend(histograms)
    >>> table.index[1], float(table["change"].iloc[1]), round(float(table["change_p_value"].iloc[1]), 3)
    (Timestamp('2026-02-01 00:00:00'), 20.0, 0.14)
    """
    confidence = check_confidence(confidence)
    spec = metric_spec(metric, scale, top)
    keys = _key_list(by)
    if period_column in keys:
        raise ValueError(f"period column {period_column!r} is also listed in by")
    check_columns(histograms, [*keys, period_column], what="column")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    if period is not None:
        starts = period_starts(histograms[period_column], period, period_column)
        histograms = histograms.assign(**{period_column: starts})
    statistics = group_statistics(histograms, [*keys, period_column], spec)
    n = statistics["n"].to_numpy()
    estimates = estimate_arrays(statistics, spec, confidence)

    # Rows are sorted by segment then period, so the previous period is the previous row when
    # both rows belong to the same segment.
    if keys:
        segment = statistics.groupby(level=keys, sort=False, observed=True).ngroup().to_numpy()
    else:
        segment = np.zeros(len(statistics), dtype=np.int64)
    has_previous = np.r_[False, segment[1:] == segment[:-1]]
    previous = {name: np.where(has_previous, np.roll(array, 1), np.nan) for name, array in estimates.items()}
    counts = counts_of(statistics)
    previous_counts = {name: np.where(has_previous, np.roll(array, 1), 0) for name, array in counts.items()}
    change = difference_arrays(estimates, counts, previous, previous_counts, spec, confidence)

    bottom = statistics["bottom"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        center = (np.bincount(segment, weights=bottom) / np.bincount(segment, weights=n))[segment]
    chart = control_limits(bottom, n, center, sigma)

    table = pd.DataFrame({**{name: estimates[name] for name in ESTIMATE_COLUMNS}, "n": n}, index=statistics.index)
    table["change"] = change["difference"]
    table["change_low"] = change["low"]
    table["change_high"] = change["high"]
    table["change_p_value"] = change["p_value"]
    table["bottom_share"] = chart["p"]
    table["control_center"] = chart["center"]
    table["control_lower"] = chart["lower"]
    table["control_upper"] = chart["upper"]
    table["out_of_control"] = chart["out_of_control"]
    return table


def by_segment(histograms: pd.DataFrame, by: str | Sequence[str], metric: str = "nps",
               scale: Sequence[float] | None = None, top: int | None = None, min_n: int = 30,
               confidence: float = 0.95) -> pd.DataFrame:
    """A metric per segment with interval, small-sample flags, and a test against the rest.

    Parameters
    ----------
    histograms : pandas.DataFrame
        Long score histogram: the `by` columns, ``score`` and ``count``.
    by : str or list of str
        Segment columns (e.g. "region", or ["region", "tier"]).
    metric : {"nps", "csat", "ces", "mean"}, default "nps"
        As in `trend`.
    scale : (min, max), optional
    top : int, optional
    min_n : int, default 30
        Segments with fewer answers are suppressed; below 2 * min_n they are directional.
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Indexed by the segment columns, sorted, columns:

        - ``value``, ``low``, ``high``, ``se``, ``spread`` (standard deviation of the answers for
          mean metrics, else NaN) and ``n``.
        - ``suppressed``: n < min_n, or hidden by complementary suppression (``complementary``
          True) because otherwise the total and the other segments would give a small one away
          (see `analysis.disclosure.protect`: the hidden segments together reach min_n). Value,
          interval, se, spread and every comparison are NaN, since a figure on a handful of
          answers misleads (and the difference would reveal it).
        - ``directional``: min_n <= n < 2 min_n, shown but to be read as a hint only.
        - ``difference``, ``difference_low``, ``difference_high``: segment minus the rest of the
          population (all other segments together) with its interval.
        - ``p_value``: two-sided p-value of that difference; ``p_adjusted``: Benjamini-Hochberg
          adjusted across the segments that are not suppressed.

    Notes
    -----
    The rest of the population is the total histogram minus the segment's, so each test is
    between two disjoint samples: adjusted-Wald for NPS and Agresti-Caffo for CSAT (as in
    `trend`), Welch t-test for means. BH: sort the m p-values, p_(i) m / i, then a running minimum from the
    largest down, capped at 1; it controls the false discovery rate across segments.

    References
    ----------
    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. Journal of the Royal Statistical Society B, 57(1),
    289-300.

    Examples
    --------
    >>> histograms = pd.DataFrame({"region": ["N", "N", "S", "S", "E", "E"],
    ...                            "score": [10, 0, 10, 0, 10, 0], "count": [30, 70, 70, 30, 5, 5]})
    >>> table = by_segment(histograms, "region", min_n=30)
    >>> table[["value", "n", "suppressed", "complementary"]]
            value    n  suppressed  complementary
    region
    E         NaN   10        True          False
    N         NaN  100        True           True
    S        40.0  100       False          False
    """
    confidence = check_confidence(confidence)
    spec = metric_spec(metric, scale, top)
    keys = _key_list(by)
    if not keys:
        raise ValueError("by must name at least one segment column")
    if isinstance(min_n, bool) or not isinstance(min_n, (int, np.integer)) or min_n < 0:
        raise ValueError(f"min_n must be a whole number >= 0, got {min_n!r}")
    statistics = group_statistics(histograms, keys, spec)
    rest = statistics.sum() - statistics  # everyone outside the segment, still one row per segment
    n = statistics["n"].to_numpy()
    estimates = estimate_arrays(statistics, spec, confidence)
    difference = difference_arrays(estimates, counts_of(statistics), estimate_arrays(rest, spec, confidence),
                                   counts_of(rest), spec, confidence)

    table = pd.DataFrame({**{name: estimates[name] for name in ESTIMATE_COLUMNS}, "n": n}, index=statistics.index)
    # Hiding only the small segments would let the total (or any segment's rest) give them away:
    # complementary suppression hides more until the hidden ones together reach min_n.
    reasons = protect(table[["n"]].reset_index(drop=True), [("n", min_n)], lines=[[]]).to_numpy()
    suppressed = (reasons != "") | (n < min_n)
    table["suppressed"] = suppressed
    table["complementary"] = reasons == COMPLEMENTARY
    table["directional"] = (n >= min_n) & (n < 2 * min_n)
    table["difference"] = difference["difference"]
    table["difference_low"] = difference["low"]
    table["difference_high"] = difference["high"]
    table["p_value"] = difference["p_value"]
    hidden = ["value", "low", "high", "se", "spread", "difference", "difference_low", "difference_high", "p_value"]
    table.loc[suppressed, hidden] = np.nan
    table["p_adjusted"] = adjust_p_values(table["p_value"])
    return table


def adjust_p_values(p_values: pd.Series) -> pd.Series:
    """Benjamini-Hochberg adjusted p-values; missing ones stay missing and are not counted.

    Parameters
    ----------
    p_values : Series or array-like
        p-values of the tests made together (e.g. one per segment); NaN for groups not tested.

    Returns
    -------
    Series
        The adjusted p-values, on the same index.

    Notes
    -----
    With the m finite p-values sorted, p_(i) becomes min over j >= i of m p_(j) / j, capped at 1:
    the false discovery rate among the results called significant is then at most the level.

    References
    ----------
    Benjamini, Y., & Hochberg, Y. (1995). Controlling the false discovery rate. Journal of the
    Royal Statistical Society B, 57(1), 289-300.

    Examples
    --------
    >>> adjust_p_values(pd.Series([0.01, 0.04, None, 0.03], index=list("abcd"))).round(3).tolist()
    [0.03, 0.04, nan, 0.04]
    """
    p_values = pd.Series(p_values, dtype=float)
    tested = np.isfinite(p_values.to_numpy())
    adjusted = pd.Series(np.nan, index=p_values.index)
    if tested.any():
        adjusted[tested] = multipletests(p_values[tested].to_numpy(), method="fdr_bh")[1]
    return adjusted
