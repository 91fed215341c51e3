"""Result types returned by the estimators: small frozen dataclasses, in the style of pingouin.

Every estimator returns one of these instead of a bare number, so the uncertainty and the sample
size travel with the value to wherever it is shown.

Examples
--------
>>> estimate = Estimate(value=30.0, low=17.1, high=41.6, se=7.81, n=100)
>>> estimate.value, estimate.n, estimate.n_eff is None
(30.0, 100, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval, standard error and sample size.

    Attributes
    ----------
    value : float
        The point estimate (NaN when there are no answers).
    low, high : float
        Bounds of the confidence interval (95% unless the estimator was given `confidence=`).
    se : float
        Standard error of `value`, in the same unit.
    n : int
        Number of non-missing answers used.
    n_eff : float or None
        Kish effective sample size ``(sum w)^2 / sum w^2`` when weights were used, else None.

    Examples
    --------
    >>> Estimate(1.0, 0.5, 1.5, 0.25, 10).high
    1.5
    """

    value: float
    low: float
    high: float
    se: float
    n: int
    n_eff: float | None = None


@dataclass(frozen=True)
class Comparison:
    """A difference between two estimates (first minus second) with its interval and test.

    Attributes
    ----------
    difference : float
        First estimate minus second.
    low, high : float
        Confidence interval of the difference.
    z : float
        Test statistic, difference divided by its standard error.
    p_value : float
        Two-sided p-value of the null hypothesis "no difference".

    Examples
    --------
    >>> Comparison(difference=10.0, low=-1.0, high=21.0, z=1.78, p_value=0.075).difference
    10.0
    """

    difference: float
    low: float
    high: float
    z: float
    p_value: float


@dataclass(frozen=True, eq=False)  # eq=False: pandas Series fields cannot be compared as a tuple
class Reliability:
    """Internal consistency of a set of items (Cronbach's alpha) and per-item diagnostics.

    Attributes
    ----------
    alpha : float
        Cronbach's alpha.
    low, high : float
        Feldt confidence interval of alpha.
    item_total : pandas.Series
        Corrected item-total correlation per item (item against the sum of the other items).
    alpha_if_deleted : pandas.Series
        Alpha of the remaining items when each item is left out (NaN with only two items).
    n : int
        Number of complete respondents used.

    Examples
    --------
    >>> r = Reliability(0.8, 0.7, 0.9, pd.Series(dtype=float), pd.Series(dtype=float), 50)
    >>> r.alpha, r.n
    (0.8, 50)
    """

    alpha: float
    low: float
    high: float
    item_total: pd.Series
    alpha_if_deleted: pd.Series
    n: int


@dataclass(frozen=True)
class ValueWeightedNPS:
    """The plain NPS beside the NPS weighted by customer value, over the same respondents.

    Attributes
    ----------
    plain : Estimate
        Every respondent counts once.
    weighted : Estimate
        Each respondent counts in proportion to their customer value (has `n_eff`).

    Examples
    --------
    >>> plain = Estimate(10.0, 0.0, 20.0, 5.0, 100)
    >>> ValueWeightedNPS(plain=plain, weighted=plain).plain.value
    10.0
    """

    plain: Estimate
    weighted: Estimate
