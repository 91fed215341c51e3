"""Value-weighted NPS from per-category sums, as the database returns them.

Examples
--------
>>> out = value_weighted_nps_from_sums(counts=[1, 0, 3], value=[7.0, 0.0, 3.0], value_squared=[49.0, 0.0, 3.0])
>>> out.plain.value, out.weighted.value, round(out.weighted.n_eff, 2)
(50.0, -40.0, 1.92)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis._validation import check_confidence
from analysis.estimates import Estimate, ValueWeightedNPS
from analysis.nps import nps_arrays, nps_from_counts


def value_weighted_nps_from_sums(counts: Sequence[int], value: Sequence[float], value_squared: Sequence[float],
                                 confidence: float = 0.95) -> ValueWeightedNPS:
    """Plain and value-weighted NPS from the count, sum of value and sum of squared value per category.

    Parameters
    ----------
    counts : three whole numbers
        Customers (or answers) that are detractors (0-6), passives (7-8) and promoters (9-10).
    value : three numbers >= 0
        Sum of the customers' value (e.g. annual revenue) in each category, same order.
    value_squared : three numbers >= 0
        Sum of the squared values in each category (for the standard error and Kish's n_eff).
    confidence : float, default 0.95

    Returns
    -------
    ValueWeightedNPS
        ``plain`` (`nps_from_counts`) and ``weighted`` (value-weighted, with ``n_eff``): the same
        estimates `value_weighted_nps` gives on the individual scores and values.

    Notes
    -----
    With W_c and Q_c the sums of w and w^2 in category c (coded y_c = -1, 0, +1) and W = sum W_c:
    NPS_w = 100 (W_promoters - W_detractors) / W; se = 100 sqrt(sum_c Q_c (y_c - NPS_w/100)^2) / W
    (the Taylor-linearised se of `nps` with weights, grouped by category, since every answer of a
    category has the same y); n_eff = W^2 / sum_c Q_c (Kish); interval: the adjusted Wald
    interval on the effective counts W_c n_eff / W.

    References
    ----------
    Kish, L. (1965). Survey Sampling. New York: Wiley.
    Rocks, B. (2016). Interval estimation for the "net promoter score". The American
    Statistician, 70(4), 365-372.

    Examples
    --------
    >>> r = value_weighted_nps_from_sums([1, 0, 3], [7.0, 0.0, 3.0], [49.0, 0.0, 3.0])
    >>> r.plain.value, r.weighted.value, r.weighted.n
    (50.0, -40.0, 4)
    """
    confidence = check_confidence(confidence)
    arrays = []
    for name, values in (("counts", counts), ("value", value), ("value_squared", value_squared)):
        array = np.asarray(values, dtype=float)
        if array.shape != (3,):
            raise ValueError(f"{name} must hold three numbers (detractors, passives, promoters), got {values!r}")
        if not np.isfinite(array).all() or (array < 0).any():
            raise ValueError(f"{name} must be finite numbers >= 0, got {values!r}")
        arrays.append(array)
    n_array, w, q = arrays
    if not np.equal(n_array, np.round(n_array)).all():
        raise ValueError(f"counts must be whole numbers, got {counts!r}")
    n = int(n_array.sum())
    plain = nps_from_counts(*(int(c) for c in n_array), confidence=confidence)
    total = w.sum()
    if n == 0 or total <= 0:
        return ValueWeightedNPS(plain, Estimate(np.nan, np.nan, np.nan, np.nan, n, 0.0))
    n_eff = total ** 2 / q.sum()
    net = (w[2] - w[0]) / total
    d_eff, q_eff = w[0] * n_eff / total, w[2] * n_eff / total
    weighted = nps_arrays(d_eff, n_eff - d_eff - q_eff, q_eff, confidence)
    coded = np.array([-1.0, 0.0, 1.0])
    se = 100 * np.sqrt(np.sum(q * (coded - net) ** 2)) / total
    estimate = Estimate(float(100 * net), float(weighted["low"]), float(weighted["high"]), float(se), n,
                        float(n_eff))
    return ValueWeightedNPS(plain, estimate)
