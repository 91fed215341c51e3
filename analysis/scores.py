"""Rating-scale scores: CSAT (top-box share), CES (mean effort), agree share and plain means.

Examples
--------
>>> csat([5, 4, 3, 5, 1]).value
60.0
>>> ces([7, 6, 5, 2]).value
5.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis._intervals import mean_arrays, share_arrays
from analysis._validation import check_confidence, check_scale, check_top, clean_scores, describe
from analysis.estimates import Estimate


def _estimate(arrays: dict[str, np.ndarray], n: int) -> Estimate:
    return Estimate(float(arrays["value"]), float(arrays["low"]), float(arrays["high"]),
                    float(arrays["se"]), int(n))


def _whole_count(value: object, name: str) -> int:
    """A count given as a whole number >= 0 (2.0 is accepted, 2.5, NaN, True or "2" are not)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a whole number >= 0, got {describe(value)}")
    if not (np.isfinite(value) and value >= 0 and float(value).is_integer()):
        raise ValueError(f"{name} must be a whole number >= 0, got {describe(value)}")
    return int(value)


def csat(scores: Sequence[float], scale: tuple[int, int] = (1, 5), top: int = 2,
         confidence: float = 0.95) -> Estimate:
    """Customer satisfaction: percentage of answers in the top `top` points of the scale.

    Parameters
    ----------
    scores : array-like of int
        Answers on the declared scale; missing values are dropped and not counted in `n`,
        anything else off the scale raises ValueError naming the value.
    scale : (int, int), default (1, 5)
        Lowest and highest point of the scale.
    top : int, default 2
        Number of top points that count as satisfied (4 and 5 on a 1-5 scale).
    confidence : float, default 0.95

    Returns
    -------
    Estimate
        Percentage 0-100 with its Wilson interval; NaN when there are no answers.

    Notes
    -----
    CSAT = 100 k / n with k the answers >= max - top + 1; se = 100 sqrt(p(1-p)/n);
    interval: Wilson score interval (see `analysis._intervals.wilson_interval`), which stays in
    [0, 100] and behaves well near 0% and 100%, unlike the Wald interval.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    Journal of the American Statistical Association, 22(158), 209-212.

    Examples
    --------
    >>> e = csat([5, 5, 4, 4, 4, 4, 4, 4, 2, 1])
    >>> e.value, round(e.low, 1), round(e.high, 1)
    (80.0, 49.0, 94.3)
    """
    confidence = check_confidence(confidence)
    scale = check_scale(scale, integer=True)
    top = check_top(top, scale)
    values, _ = clean_scores(scores, scale, integer=True)
    satisfied = int(np.sum(values >= scale[1] - top + 1))
    return _estimate(share_arrays(satisfied, len(values), confidence), len(values))


def agree_share(scores: Sequence[float], scale: tuple[int, int] = (1, 7), top: int = 3,
                confidence: float = 0.95) -> Estimate:
    """Share of effort answers that agree (top three points of 1-7: 5, 6, 7), in percent.

    The companion of `ces`: "the company made it easy for me to handle my issue", agree.

    Notes
    -----
    share = 100 k / n with k the answers >= max - top + 1, Wilson interval (as `csat`).

    References
    ----------
    Dixon, M., Freeman, K., & Toman, N. (2010). Stop trying to delight your customers.
    Harvard Business Review, 88(7/8), 116-122 (the Customer Effort Score).

    Examples
    --------
    >>> agree_share([7, 6, 5, 4, 1]).value
    60.0
    """
    return csat(scores, scale=scale, top=top, confidence=confidence)


def mean_score(scores: Sequence[float], scale: tuple[float, float], confidence: float = 0.95) -> Estimate:
    """Mean of a rating on a declared scale, with a Student t interval.

    Parameters
    ----------
    scores : array-like of float
        Ratings within the scale (not necessarily whole numbers); missing values are dropped.
    scale : (float, float)
        Lowest and highest possible rating; values outside raise ValueError naming the value.
    confidence : float, default 0.95

    Returns
    -------
    Estimate
        Mean with interval; the interval is NaN with a single answer.

    Notes
    -----
    mean = sum x / n, s = sample standard deviation (n - 1), se = s / sqrt(n),
    interval = mean -/+ t_{n-1, (1+confidence)/2} se, clipped to the scale.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika, 6(1), 1-25.

    Examples
    --------
    >>> e = mean_score([2, 4, 4, 6], scale=(1, 7))
    >>> e.value, round(e.se, 4), round(e.low, 3), round(e.high, 3)
    (4.0, 0.8165, 1.402, 6.598)
    """
    confidence = check_confidence(confidence)
    scale = check_scale(scale)
    values, _ = clean_scores(scores, scale, integer=False)
    shifted = values - scale[0]
    arrays = mean_arrays(len(values), shifted.sum(), (shifted * shifted).sum(), scale, confidence)
    return _estimate(arrays, len(values))


def ces(scores: Sequence[float], scale: tuple[float, float] = (1, 7), confidence: float = 0.95) -> Estimate:
    """Customer Effort Score: mean answer on the effort scale (1-7 agree, higher = easier).

    Notes
    -----
    The mean with its t interval, exactly as `mean_score`: mean -/+ t_{n-1} s / sqrt(n).
    See `agree_share` for the share of answers 5-7.

    References
    ----------
    Dixon, M., Freeman, K., & Toman, N. (2010). Stop trying to delight your customers.
    Harvard Business Review, 88(7/8), 116-122.

    Examples
    --------
    >>> e = ces([7, 6, 5, 2])
    >>> e.value, e.n
    (5.0, 4)
    """
    return mean_score(scores, scale=scale, confidence=confidence)


def share_from_counts(successes: int, n: int, confidence: float = 0.95) -> Estimate:
    """A share in percent of `n` events with its Wilson interval (NaN when `n` is 0).

    Used for shares that are counted rather than scored, such as the share of follow-up cases
    contacted in time or of customers who recovered.

    Parameters
    ----------
    successes : int
        Number of events counted (0 to `n`).
    n : int
        Number of cases judged.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    Estimate
        value, low and high in percent; se = 100 sqrt(p(1-p)/n); n.

    Notes
    -----
    p = k/n; Wilson interval: centre (p + z^2/(2n)) / (1 + z^2/n),
    half-width z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/(4n^2)).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    Journal of the American Statistical Association, 22(158), 209-212.

    Examples
    --------
    >>> estimate = share_from_counts(3, 4)
    >>> estimate.value, round(estimate.low, 1), round(estimate.high, 1), estimate.n
    (75.0, 30.1, 95.4, 4)
    """
    confidence = check_confidence(confidence)
    successes, n = _whole_count(successes, "successes"), _whole_count(n, "n")
    if successes > n:
        raise ValueError(f"successes must be between 0 and n, got {successes} of {n}")
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    return _estimate(share_arrays(np.array(float(successes)), np.array(float(n)), confidence), n)
