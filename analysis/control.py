"""Control charts: is this period's share of unhappy customers unusual, or just noise?

Examples
--------
>>> chart = p_chart([10, 12, 30], [100, 100, 100])
>>> chart["out_of_control"].tolist()
[False, False, True]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._validation import check_counts


def control_limits(events: np.ndarray, totals: np.ndarray, center: np.ndarray,
                   sigma: float) -> dict[str, np.ndarray]:
    """Vectorised p-chart columns for given centre lines (one per period, possibly per segment).

    Periods with no answers get NaN share and limits and are never out of control.

    Examples
    --------
    >>> out = control_limits(np.array([30.0]), np.array([100.0]), np.array([0.2]), 3)
    >>> round(float(out["upper"][0]), 4), bool(out["out_of_control"][0])
    (0.32, False)
    """
    events = np.asarray(events, dtype=float)
    totals = np.asarray(totals, dtype=float)
    center = np.asarray(center, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = events / totals
        width = sigma * np.sqrt(center * (1 - center) / totals)
    lower = np.maximum(center - width, 0)
    upper = np.minimum(center + width, 1)
    return {"p": p, "center": center, "lower": lower, "upper": upper,
            "out_of_control": (p > upper) | (p < lower)}


def p_chart(events: Sequence[int], totals: Sequence[int], sigma: float = 3) -> pd.DataFrame:
    """p control chart of a share per period, e.g. the share of detractors or dissatisfied.

    Parameters
    ----------
    events : array-like of int or Series
        Number of flagged answers (detractors, dissatisfied) per period.
    totals : array-like of int or Series
        Number of answers per period.
    sigma : float, default 3
        Width of the control limits in standard errors.

    Returns
    -------
    pandas.DataFrame
        One row per period (index of `events` if it is a Series, else of `totals`, else 0..k-1)
        with columns ``p``, ``center``, ``lower``, ``upper``, ``out_of_control`` and ``n``.

    Notes
    -----
    p_t = x_t / n_t, centre line p_bar = sum x_t / sum n_t,
    limits p_bar -/+ sigma sqrt(p_bar (1 - p_bar) / n_t), floored at 0 and capped at 1.
    A period is out of control when p_t lies outside its limits: a change larger than chance
    variation explains.

    References
    ----------
    Montgomery, D. C. (2019). Introduction to Statistical Quality Control (8th ed.), section 7.2:
    the control chart for fraction nonconforming. Wiley.

    Examples
    --------
    >>> chart = p_chart([10, 12, 30], [100, 100, 100])
    >>> [round(float(chart[column].iloc[0]), 4) for column in ("center", "upper", "lower")]
    [0.1733, 0.2869, 0.0598]
    """
    x = check_counts(events, "events")
    n = check_counts(totals, "totals")
    if x.ndim != 1 or x.shape != n.shape:
        raise ValueError(f"events and totals must be one-dimensional and of equal length, "
                         f"got {x.shape} and {n.shape}")
    over = x > n
    if over.any():
        period = int(np.argmax(over))
        raise ValueError(f"events exceed totals in period {period}: {x[period]:g} > {n[period]:g}")
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    if n.sum() == 0:
        raise ValueError("totals are all zero: there is nothing to chart")
    center = np.full(len(x), x.sum() / n.sum())
    index = events.index if isinstance(events, pd.Series) else (
        totals.index if isinstance(totals, pd.Series) else pd.RangeIndex(len(x)))
    chart = pd.DataFrame(control_limits(x, n, center, sigma), index=index)
    chart["n"] = n.astype(np.int64)
    return chart
