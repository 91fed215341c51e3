"""Vectorised interval and test kernels shared by the one-sample estimators and the group tables.

Both `csat(scores)` and a per-segment table of CSAT call the same kernel, so the same data gives
the same number wherever it is shown. All functions take numpy arrays (or scalars) and return
arrays; an empty group (n = 0) yields NaN rather than an error.

Examples
--------
>>> low, high = wilson_interval(8, 10, 0.95)
>>> round(float(low), 4), round(float(high), 4)
(0.4902, 0.9433)
"""

from __future__ import annotations

import numpy as np
from scipy import special


def z_value(confidence: float) -> float:
    """Two-sided standard normal critical value for a confidence level.

    Examples
    --------
    >>> round(z_value(0.95), 4)
    1.96
    """
    return float(special.ndtri(0.5 + confidence / 2))


def t_value(confidence: float, df: np.ndarray) -> np.ndarray:
    """Two-sided Student t critical value; NaN where there are no degrees of freedom.

    Examples
    --------
    >>> round(float(t_value(0.95, 9)), 3)
    2.262
    """
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(df >= 1, special.stdtrit(np.maximum(df, 1), 0.5 + confidence / 2), np.nan)


def wilson_interval(successes: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion, as proportions in [0, 1].

    Notes
    -----
    With p = k/n and z the normal critical value,
    centre = (p + z^2/(2n)) / (1 + z^2/n) and
    half-width = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2)).
    The interval always contains p and never leaves [0, 1].

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    Journal of the American Statistical Association, 22(158), 209-212.

    Examples
    --------
    >>> low, high = wilson_interval(0, 10, 0.95)
    >>> float(low), round(float(high), 4)
    (0.0, 0.2775)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        shrink = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / shrink
        half = z / shrink * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # The Wilson interval contains p and lies in [0, 1]; fmin/fmax and clip only remove
    # floating-point crumbs (e.g. a low bound of 1e-15 above p = 0).
    return np.clip(np.fmin(centre - half, p), 0, 1), np.clip(np.fmax(centre + half, p), 0, 1)


def mean_arrays(n: np.ndarray, sum_: np.ndarray, sum_squares: np.ndarray, scale: tuple[float, float],
                confidence: float) -> dict[str, np.ndarray]:
    """Mean, t interval, standard error and standard deviation from sufficient statistics.

    `sum_` and `sum_squares` are sums of ``(x - scale_min)`` and its square: shifting by the
    scale minimum keeps the numbers small, so the variance does not lose digits to cancellation.

    Notes
    -----
    mean = min + S1/n, s^2 = (S2 - S1^2/n) / (n - 1), se = s / sqrt(n),
    interval = mean -/+ t_{n-1, (1+confidence)/2} * se, clipped to the declared scale
    (a mean cannot leave it). With n = 1 the interval is NaN.

    Examples
    --------
    >>> out = mean_arrays(np.array([4.0]), np.array([8.0]), np.array([20.0]), (1, 5), 0.95)
    >>> float(out["value"][0]), round(float(out["spread"][0]), 4)
    (3.0, 1.1547)
    """
    n = np.asarray(n, dtype=float)
    s1 = np.asarray(sum_, dtype=float)
    s2 = np.asarray(sum_squares, dtype=float)
    low_end, high_end = scale
    with np.errstate(divide="ignore", invalid="ignore"):
        value = low_end + s1 / n
        variance = np.where(n > 1, np.maximum(s2 - s1 * s1 / n, 0) / (n - 1), np.nan)
        spread = np.sqrt(variance)
        se = spread / np.sqrt(n)
        half = t_value(confidence, n - 1) * se
    return {"value": value, "low": np.clip(value - half, low_end, high_end),
            "high": np.clip(value + half, low_end, high_end), "se": se, "spread": spread}


def share_arrays(successes: np.ndarray, n: np.ndarray, confidence: float) -> dict[str, np.ndarray]:
    """A share in percent with its Wilson interval and Wald standard error 100*sqrt(p(1-p)/n).

    Examples
    --------
    >>> out = share_arrays(np.array([80]), np.array([100]), 0.95)
    >>> float(out["value"][0]), float(out["se"][0])
    (80.0, 4.0)
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    low, high = wilson_interval(k, n, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        se = 100 * np.sqrt(p * (1 - p) / n)
    return {"value": 100 * p, "low": 100 * low, "high": 100 * high, "se": se,
            "spread": np.full(np.shape(p), np.nan)}


def difference_test(difference: np.ndarray, se_a: np.ndarray, se_b: np.ndarray, confidence: float,
                    df: np.ndarray | None = None, bound: float | None = None) -> dict[str, np.ndarray]:
    """Interval and two-sided test of a difference between two independent estimates.

    Notes
    -----
    se = sqrt(se_a^2 + se_b^2), statistic = difference / se, interval = difference -/+ c * se,
    where c and the p-value come from the standard normal, or from Student t with `df` degrees
    of freedom when given (Welch); with `bound` the interval is clipped to [-bound, bound]. A zero standard error (both groups without spread) gives no
    test at all: statistic, interval and p-value are NaN. An estimated variance of 0 says
    nothing about the true one, so it must not turn into z = inf and p = 0.

    Examples
    --------
    >>> out = difference_test(np.array([10.0]), np.array([3.0]), np.array([4.0]), 0.95)
    >>> float(out["statistic"][0]), round(float(out["p_value"][0]), 4)
    (2.0, 0.0455)
    """
    difference = np.asarray(difference, dtype=float)
    se = np.sqrt(np.asarray(se_a, dtype=float) ** 2 + np.asarray(se_b, dtype=float) ** 2)
    se = np.where(se > 0, se, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = difference / se
    if df is None:
        critical = z_value(confidence)
        p_value = 2 * special.ndtr(-np.abs(statistic))
    else:
        df = np.asarray(df, dtype=float)
        critical = t_value(confidence, df)
        with np.errstate(invalid="ignore"):
            p_value = np.where(df > 0, 2 * special.stdtr(np.where(df > 0, df, 1), -np.abs(statistic)), np.nan)
    low, high = difference - critical * se, difference + critical * se
    if bound is not None:  # e.g. two means on a 1-5 scale differ by at most 4
        low, high = np.clip(low, -bound, bound), np.clip(high, -bound, bound)
    return {"difference": difference, "low": low, "high": high, "statistic": statistic, "p_value": p_value}


def welch_df(se_a: np.ndarray, n_a: np.ndarray, se_b: np.ndarray, n_b: np.ndarray) -> np.ndarray:
    """Welch-Satterthwaite degrees of freedom of a difference of two means.

    Notes
    -----
    df = (v_a + v_b)^2 / (v_a^2/(n_a-1) + v_b^2/(n_b-1)) with v = se^2.

    Examples
    --------
    >>> float(welch_df(np.array([1.0]), np.array([11]), np.array([1.0]), np.array([11]))[0])
    20.0
    """
    va = np.asarray(se_a, dtype=float) ** 2
    vb = np.asarray(se_b, dtype=float) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return (va + vb) ** 2 / (va * va / (np.asarray(n_a) - 1) + vb * vb / (np.asarray(n_b) - 1))


# Agresti & Caffo (2000): one pseudo-success and one pseudo-failure added to each sample.
CAFFO_SUCCESSES, CAFFO_FAILURES = 1.0, 1.0


def _adjusted_test(observed: np.ndarray, adjusted: np.ndarray, variance: np.ndarray, bound: float,
                   confidence: float, empty: np.ndarray) -> dict[str, np.ndarray]:
    """Interval and z-test of a difference centred on its adjusted value with an adjusted variance.

    The interval is clipped to [-bound, bound] (the range the difference can take) and then
    widened to include the observed difference shown beside it, as the one-sample intervals do.
    """
    z = z_value(confidence)
    se = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        statistic = adjusted / se
    low = np.clip(adjusted - z * se, -bound, bound)
    high = np.clip(adjusted + z * se, -bound, bound)
    low, high = np.fmin(low, observed), np.fmax(high, observed)
    p_value = 2 * special.ndtr(-np.abs(statistic))
    return {name: np.where(empty, np.nan, array) for name, array in
            {"difference": observed, "low": low, "high": high, "statistic": statistic,
             "p_value": p_value, "se": se}.items()}


def nps_difference_test(first: tuple[np.ndarray, np.ndarray, np.ndarray],
                        second: tuple[np.ndarray, np.ndarray, np.ndarray],
                        confidence: float) -> dict[str, np.ndarray]:
    """First minus second NPS (in points) with an adjusted-Wald interval and z-test.

    `first` and `second` are (detractors, passives, promoters) counts, possibly effective
    (weighted) counts. Returns arrays `difference`, `low`, `high`, `statistic`, `p_value`, `se`;
    NaN where either sample is empty.

    Notes
    -----
    Each sample is adjusted as its own interval is (Rocks 2016): 0.75 detractor, 1.5 passive and
    0.75 promoter pseudo-observations, p'_X = (X + 0.75) / (n + 3),
    v' = (p'P + p'D - (p'P - p'D)^2) / (n + 3). Following Agresti & Caffo (2000), the adjusted
    variances of the two samples are added:
    d' = NPS'_1 - NPS'_2, se' = sqrt(v'_1 + v'_2), z = d' / se', p = 2 (1 - Phi(|z|)),
    interval d' -/+ z_{(1+confidence)/2} se', clipped to [-200, 200] and widened to include the
    observed difference. The adjusted variance is never 0, so a sample all in one category
    (one promoter, say) never yields z = inf or p = 0; and the test rejects exactly when the
    adjusted interval excludes 0.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". The American
    Statistician, 70(4), 365-372.
    Agresti, A., & Caffo, B. (2000). Simple and effective confidence intervals for proportions
    and differences of proportions result from adding two successes and two failures.
    The American Statistician, 54(4), 280-288.

    Examples
    --------
    One promoter against one detractor: d' = 25 - (-25) = 50, se' = 100 sqrt(2 * 0.5625 / 4) = 53.03.

    >>> out = nps_difference_test((0, 0, 1), (1, 0, 0), 0.95)
    >>> float(out["difference"]), round(float(out["statistic"]), 4), round(float(out["low"]), 2)
    (200.0, 0.9428, -53.94)
    """
    from analysis.nps import PSEUDO_DETRACTORS, PSEUDO_PASSIVES, PSEUDO_PROMOTERS

    pseudo = PSEUDO_DETRACTORS + PSEUDO_PASSIVES + PSEUDO_PROMOTERS
    observed, adjusted, variance, empty = [], [], 0.0, False
    for d, p, q in (first, second):
        d, p, q = (np.asarray(x, dtype=float) for x in (d, p, q))
        n = d + p + q
        with np.errstate(divide="ignore", invalid="ignore"):
            observed.append((q - d) / n)
        n_adjusted = n + pseudo
        share_d = (d + PSEUDO_DETRACTORS) / n_adjusted
        share_q = (q + PSEUDO_PROMOTERS) / n_adjusted
        adjusted.append(share_q - share_d)
        variance = variance + (share_q + share_d - (share_q - share_d) ** 2) / n_adjusted
        empty = empty | (n <= 0)
    out = _adjusted_test(100 * (observed[0] - observed[1]), 100 * (adjusted[0] - adjusted[1]),
                         1e4 * variance, 200.0, confidence, empty)
    return out


def share_difference_test(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray],
                          confidence: float) -> dict[str, np.ndarray]:
    """First minus second share (in points) with the Agresti-Caffo interval and its z-test.

    `first` and `second` are (successes, n). Returns the arrays of `nps_difference_test`.

    Notes
    -----
    Add one success and one failure to each sample: p'_i = (k_i + 1) / (n_i + 2),
    se' = sqrt(p'_1 (1 - p'_1) / (n_1 + 2) + p'_2 (1 - p'_2) / (n_2 + 2)),
    interval (p'_1 - p'_2) -/+ z se', clipped to [-100, 100] points and widened to include the
    observed difference; z = (p'_1 - p'_2) / se'. Never z = inf or p = 0 when a sample is all
    successes or all failures.

    References
    ----------
    Agresti, A., & Caffo, B. (2000). Simple and effective confidence intervals for proportions
    and differences of proportions result from adding two successes and two failures.
    The American Statistician, 54(4), 280-288.

    Examples
    --------
    None of 3 satisfied against all of 3: p' = 0.2 and 0.8, se' = sqrt(2 * 0.16 / 5) = 0.2530.

    >>> out = share_difference_test((0, 3), (3, 3), 0.95)
    >>> float(out["difference"]), round(float(out["statistic"]), 4), round(float(out["high"]), 2)
    (-100.0, -2.3717, -10.42)
    """
    observed, adjusted, variance, empty = [], [], 0.0, False
    for k, n in (first, second):
        k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            observed.append(k / n)
        n_adjusted = n + CAFFO_SUCCESSES + CAFFO_FAILURES
        share = (k + CAFFO_SUCCESSES) / n_adjusted
        adjusted.append(share)
        variance = variance + share * (1 - share) / n_adjusted
        empty = empty | (n <= 0)
    return _adjusted_test(100 * (observed[0] - observed[1]), 100 * (adjusted[0] - adjusted[1]),
                          1e4 * variance, 100.0, confidence, empty)
