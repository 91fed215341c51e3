"""Multi-item scores: a 0-100 satisfaction index and Cronbach's alpha for its items.

Examples
--------
>>> import pandas as pd
>>> answers = pd.DataFrame({"quality": [10, 8, 6], "value": [9, 7, 5]})
>>> round(satisfaction_index(answers, ["quality", "value"]).value, 2)
72.22
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._intervals import mean_arrays
from analysis._validation import check_columns, check_confidence, check_scale, clean_scores, describe, to_numbers
from analysis.estimates import Estimate, Reliability

WEIGHT_SUM_TOLERANCE = 1e-6


def _item_list(items: Sequence[str], what: str = "items") -> list[str]:
    if isinstance(items, str):
        items = [items]
    items = list(items)
    if not items:
        raise ValueError(f"{what} must name at least one column")
    duplicates = sorted({item for item in items if items.count(item) > 1}, key=str)
    if duplicates:
        raise ValueError(f"{what} names {duplicates[0]!r} more than once")
    return items


def _item_weights(items: list[str], weights: Mapping[str, float] | None) -> np.ndarray:
    if weights is None:
        return np.full(len(items), 1 / len(items))
    unknown = [key for key in weights if key not in items]
    if unknown:
        raise ValueError(f"weights name {unknown[0]!r}, which is not one of the items {items}")
    missing = [item for item in items if item not in weights]
    if missing:
        raise ValueError(f"weights give no weight for item {missing[0]!r}")
    values = np.array([float(weights[item]) for item in items])
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        item = items[int(np.argmax(bad))]
        raise ValueError(f"weight of item {item!r} is {describe(weights[item])}; weights must be >= 0")
    if abs(values.sum() - 1) > WEIGHT_SUM_TOLERANCE:
        raise ValueError(f"weights must sum to 1, they sum to {values.sum():g}")
    return values


def satisfaction_index(frame: pd.DataFrame, items: Sequence[str], weights: Mapping[str, float] | None = None,
                       scale: tuple[float, float] = (1, 10), confidence: float = 0.95) -> Estimate:
    """A 0-100 satisfaction index: weighted mean of items rescaled from their scale to 0-100.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per respondent.
    items : list of str
        Columns holding the item ratings (e.g. overall satisfaction, expectations, ideal).
    weights : mapping item -> float, optional
        Weights summing to 1; equal weights by default.
    scale : (float, float), default (1, 10)
        Scale of every item; values outside raise ValueError naming the column and value.
    confidence : float, default 0.95

    Returns
    -------
    Estimate
        Index 0-100 with a t interval from the per-respondent index values; `n` counts
        respondents who answered every item (respondents missing an item are dropped).

    Notes
    -----
    index = sum_i w_i (mean_i - min) / (max - min) * 100, computed over complete respondents.
    It equals the mean of the per-respondent indices I_r = sum_i w_i (x_ri - min)/(max - min)*100,
    whose standard deviation s gives se = s / sqrt(n) and the interval
    index -/+ t_{n-1} se, clipped to [0, 100].

    This is the customer satisfaction index in the style of the American Customer
    Satisfaction Index (which weights items from a latent-variable model); here weights are
    declared, not estimated.

    References
    ----------
    Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J., & Bryant, B. E. (1996). The American
    Customer Satisfaction Index: nature, purpose, and findings. Journal of Marketing, 60(4), 7-18.

    Examples
    --------
    >>> answers = pd.DataFrame({"overall": [10, 7, 4], "expectations": [10, 4, 1]})
    >>> e = satisfaction_index(answers, ["overall", "expectations"], weights={"overall": .5, "expectations": .5})
    >>> round(e.value, 2), e.n
    (55.56, 3)
    """
    confidence = check_confidence(confidence)
    items = _item_list(items)
    check_columns(frame, items, what="item")
    scale = check_scale(scale)
    w = _item_weights(items, weights)
    rescaled = np.empty((len(frame), len(items)))
    for position, item in enumerate(items):
        values, kept = clean_scores(frame[item], scale, integer=False, name=f"column {item!r}")
        column = np.full(len(frame), np.nan)
        column[kept] = (values - scale[0]) / (scale[1] - scale[0]) * 100
        rescaled[:, position] = column
    per_respondent = rescaled @ w  # NaN for anyone missing an item: dropped below
    per_respondent = per_respondent[np.isfinite(per_respondent)]
    n = len(per_respondent)
    arrays = mean_arrays(n, per_respondent.sum(), (per_respondent ** 2).sum(), (0.0, 100.0), confidence)
    return Estimate(float(arrays["value"]), float(arrays["low"]), float(arrays["high"]), float(arrays["se"]), n)


def _alpha(item_variance_sum: np.ndarray, total_variance: np.ndarray, k: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return k / (k - 1) * (1 - item_variance_sum / total_variance)


def cronbach_alpha(frame: pd.DataFrame, items: Sequence[str] | None = None, confidence: float = 0.95) -> Reliability:
    """Cronbach's alpha with the Feldt interval, item-total correlations and alpha-if-deleted.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per respondent, one numeric column per item.
    items : list of str, optional
        Columns to use; all columns by default.
    confidence : float, default 0.95

    Returns
    -------
    Reliability
        `alpha`, its Feldt interval `low`/`high`, `item_total` and `alpha_if_deleted` (Series
        indexed by item) and `n`, the number of respondents who answered every item (the others
        are dropped).

    Notes
    -----
    With k items, item variances s_i^2 and the variance s_T^2 of the summed score,
    alpha = k/(k-1) (1 - sum s_i^2 / s_T^2).
    Feldt interval with n respondents: df1 = n - 1, df2 = (n - 1)(k - 1),
    low = 1 - (1 - alpha) F_{(1+c)/2}(df1, df2), high = 1 - (1 - alpha) F_{(1-c)/2}(df1, df2).
    Corrected item-total correlation: corr(x_i, T - x_i). Alpha-if-deleted: alpha of the other
    k - 1 items (NaN when only two items are given).

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16(3), 297-334.
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for coefficient
    alpha. Applied Psychological Measurement, 11(1), 93-103.

    Examples
    --------
    >>> items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, 4]})
    >>> r = cronbach_alpha(items)
    >>> round(r.alpha, 3), r.n
    (0.954, 5)
    """
    confidence = check_confidence(confidence)
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    items = _item_list(frame.columns if items is None else items)
    check_columns(frame, items, what="item")
    k = len(items)
    if k < 2:
        raise ValueError(f"Cronbach's alpha needs at least two items, got {k}")
    data = np.column_stack([to_numbers(frame[item], f"column {item!r}") for item in items])
    data = data[np.isfinite(data).all(axis=1)]
    n = len(data)
    if n < 2:
        raise ValueError(f"Cronbach's alpha needs at least two complete respondents, got {n}")
    covariance = np.cov(data, rowvar=False, ddof=1)
    item_variance = np.diag(covariance)
    total_variance = covariance.sum()
    if total_variance <= 0:
        raise ValueError("the summed score has no variance, so alpha is undefined")
    alpha = float(_alpha(item_variance.sum(), total_variance, k))
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - confidence) / 2
    low = 1 - (1 - alpha) * stats.f.isf(tail, df1, df2)
    high = 1 - (1 - alpha) * stats.f.isf(1 - tail, df1, df2)
    # Leaving item i out: the rest-score variance is s_T^2 - 2 cov(x_i, T) + s_i^2.
    covariance_with_total = covariance.sum(axis=1)
    rest_variance = total_variance - 2 * covariance_with_total + item_variance
    with np.errstate(divide="ignore", invalid="ignore"):
        item_total = (covariance_with_total - item_variance) / np.sqrt(item_variance * rest_variance)
    if_deleted = _alpha(item_variance.sum() - item_variance, rest_variance, k - 1) if k > 2 else np.full(k, np.nan)
    index = pd.Index(items, name="item")
    return Reliability(alpha, float(low), float(high), pd.Series(item_total, index=index, name="item_total"),
                       pd.Series(if_deleted, index=index, name="alpha_if_deleted"), n)
