"""Means from moments the database summed: count, sum and sum of squares, never the answers.

A mean over a million answers needs three numbers, which SQL computes in one pass
(``COUNT(x)``, ``SUM(x)``, ``SUM(x * x)``). These functions turn them into an `Estimate` with its
t interval, and compare two such estimates, so a dashboard never loads answers to show a mean.

Examples
--------
>>> e = mean_from_moments(3, 12.0, 56.0)
>>> e.value, round(e.se, 4), e.n
(4.0, 1.1547, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from analysis._intervals import difference_test, t_value, welch_df
from analysis._validation import check_confidence, check_scale, describe
from analysis.estimates import Comparison, Estimate

# Relative slack allowed when checking sum of squares >= sum^2 / n (rounding in a database sum).
MOMENT_TOLERANCE = 1e-9


def _whole_count(n: object) -> int:
    if isinstance(n, bool):
        raise ValueError(f"n must be a whole number >= 0, got {n!r}")
    try:
        value = float(n)
    except (TypeError, ValueError):
        raise ValueError(f"n must be a whole number >= 0, got {describe(n)}") from None
    if not math.isfinite(value) or value < 0 or not value.is_integer():
        raise ValueError(f"n must be a whole number >= 0, got {describe(n)}")
    return int(value)


def _finite(value: object, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number, got {describe(value)}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {describe(value)}")
    return number


def mean_from_moments(n: int, total: float, total_squares: float, scale: Sequence[float] | None = None,
                      confidence: float = 0.95) -> Estimate:
    """Mean with its t interval from the count, sum and sum of squares of the values.

    Parameters
    ----------
    n : int
        Number of values (``COUNT(x)``), a whole number >= 0.
    total : float
        Sum of the values (``SUM(x)``); 0 (or None-like 0) when n is 0.
    total_squares : float
        Sum of the squared values (``SUM(x * x)``).
    scale : (min, max), optional
        Declared range of the values (for example (0, 100) for a satisfaction index): the mean
        must lie in it and the interval is clipped to it.
    confidence : float, default 0.95

    Returns
    -------
    Estimate
        `value` (the mean), `low`/`high` (t interval), `se`, `n`. With n = 0 every number is NaN;
        with n = 1 the interval and se are NaN (no spread can be estimated from one value).

    Notes
    -----
    mean = S1 / n, s^2 = (S2 - S1^2 / n) / (n - 1), se = s / sqrt(n),
    interval = mean -/+ t_{n-1, (1 + confidence)/2} se (Student). The moments must satisfy
    S2 >= S1^2 / n (Cauchy-Schwarz); a tiny negative variance from rounding is taken as 0.
    For values far from 0 relative to their spread, sum (x - c) for a constant c near the mean
    (e.g. the scale minimum) to keep digits; the variance does not depend on c.

    References
    ----------
    Welford, B. P. (1962). Note on a method for calculating corrected sums of squares and
    products. Technometrics, 4(3), 419-420 (on the cancellation the shift avoids).
    Student (1908). The probable error of a mean. Biometrika, 6(1), 1-25.

    Examples
    --------
    Values 2, 4 and 6: n = 3, S1 = 12, S2 = 56, mean 4, s = 2, se = 2 / sqrt(3),
    t_{2, 0.975} = 4.303:

    >>> e = mean_from_moments(3, 12, 56)
    >>> e.value, round(e.low, 3), round(e.high, 3)
    (4.0, -0.968, 8.968)
    >>> round(mean_from_moments(3, 12, 56, scale=(0, 10)).low, 3)
    0.0
    """
    confidence = check_confidence(confidence)
    count = _whole_count(n)
    s1 = _finite(total, "total")
    s2 = _finite(total_squares, "total_squares")
    declared = None if scale is None else check_scale(scale)
    if count == 0:
        if s1 != 0 or s2 != 0:
            raise ValueError(f"with n = 0 the sums must be 0, got total={s1:g}, total_squares={s2:g}")
        return Estimate(math.nan, math.nan, math.nan, math.nan, 0)
    if s2 < 0:
        raise ValueError(f"total_squares must be >= 0, got {s2:g}")
    if s2 < s1 * s1 / count - MOMENT_TOLERANCE * max(1.0, s2):
        raise ValueError(f"total_squares {s2:g} is below total^2 / n = {s1 * s1 / count:g}: "
                         "these are not the moments of real values")
    mean = s1 / count
    low_end, high_end = declared if declared else (-math.inf, math.inf)
    if declared and not (low_end - 1e-9 <= mean <= high_end + 1e-9):
        raise ValueError(f"the mean {mean:g} lies outside the declared scale {declared}")
    variance = max(s2 - s1 * s1 / count, 0.0) / (count - 1) if count > 1 else math.nan
    se = math.sqrt(variance / count)
    half = float(t_value(confidence, count - 1)) * se
    low, high = mean - half, mean + half
    if declared:
        low, high = max(low, low_end), min(high, high_end)
    return Estimate(float(mean), float(low), float(high), se, count)


def compare_means(first: Estimate, second: Estimate, confidence: float = 0.95) -> Comparison:
    """Difference between two independent means (first minus second), with Welch's t-test.

    Parameters
    ----------
    first, second : Estimate
        Means with their standard errors and n, e.g. from `mean_from_moments` or `mean_score`.
    confidence : float, default 0.95
        Confidence level of the interval of the difference.

    Returns
    -------
    Comparison
        `difference`, its interval, the statistic `z` (here Welch's t) and the two-sided `p_value`.
        NaN throughout when either estimate has fewer than two values, and the interval, `z` and
        `p_value` NaN when neither group has any spread (two constant groups): a variance
        estimated as 0 says nothing about the true one, so no certainty is claimed.

    Notes
    -----
    d = m_1 - m_2, se = sqrt(se_1^2 + se_2^2), t = d / se with Welch-Satterthwaite degrees of
    freedom df = (v_1 + v_2)^2 / (v_1^2 / (n_1 - 1) + v_2^2 / (n_2 - 1)), v = se^2;
    interval d -/+ t_{df, (1 + confidence)/2} se; p = 2 P(T_df > |t|).

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. Biometrika, 34(1-2), 28-35.

    Examples
    --------
    Two means 2 apart, each with se 1 and n 11: se of the difference sqrt(2), df = 20:

    >>> c = compare_means(Estimate(5.0, 3.0, 7.0, 1.0, 11), Estimate(3.0, 1.0, 5.0, 1.0, 11))
    >>> c.difference, round(c.z, 4), round(c.p_value, 4)
    (2.0, 1.4142, 0.1727)
    """
    confidence = check_confidence(confidence)
    for label, estimate in (("first", first), ("second", second)):
        if not isinstance(estimate, Estimate):
            raise ValueError(f"{label} must be an Estimate, got {type(estimate).__name__}")
    if first.n < 2 or second.n < 2 or not (math.isfinite(first.se) and math.isfinite(second.se)):
        return Comparison(first.value - second.value, math.nan, math.nan, math.nan, math.nan)
    df = welch_df(np.array([first.se]), np.array([first.n]), np.array([second.se]), np.array([second.n]))
    out = difference_test(np.array([first.value - second.value]), np.array([first.se]), np.array([second.se]),
                          confidence, df)
    return Comparison(float(out["difference"][0]), float(out["low"][0]), float(out["high"][0]),
                      float(out["statistic"][0]), float(out["p_value"][0]))
