"""Key drivers from sufficient statistics: correlations computed from counts, sums and cross-products.

The database can reduce any number of respondents to ``n``, the sum of each variable and the sum
of each product of two variables over the complete rows (the SSCP matrix). Means, standard
deviations, correlations, regression coefficients and Johnson's relative weights are all
functions of those few numbers, so a key-driver analysis never needs the answers in memory.

Examples
--------
>>> import pandas as pd
>>> sums = pd.Series({"overall": 10.0, "support": 10.0})
>>> cross = pd.DataFrame([[30.0, 29.0], [29.0, 30.0]], index=sums.index, columns=sums.index)
>>> moments_to_correlations(4, sums, cross)["correlations"].round(2).to_numpy().tolist()
[[1.0, 0.8], [0.8, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.drivers import QUADRANTS, relative_weights

# A variance this small relative to the squared mean is rounding noise of a constant column.
CONSTANT_TOLERANCE = 1e-12


def moments_to_correlations(n: int, sums: pd.Series, cross_products: pd.DataFrame) -> dict:
    """Means, standard deviations, covariances and correlations from n, sums and cross-products.

    Parameters
    ----------
    n : int
        Number of complete rows the sums run over.
    sums : pandas.Series
        Sum of each variable over those rows, indexed by variable name.
    cross_products : pandas.DataFrame
        Square, symmetric: entry (a, b) is the sum of a * b over the rows (the diagonal holds the
        sums of squares), indexed and labelled by the same names as `sums`.

    Returns
    -------
    dict
        ``means`` and ``sds`` (Series; sample standard deviation, n - 1 denominator),
        ``covariances`` and ``correlations`` (DataFrames), all labelled by variable.

    Notes
    -----
    With S_a the sum of a and C_ab the sum of a b over n rows: mean_a = S_a / n,
    cov_ab = (C_ab - S_a S_b / n) / (n - 1), sd_a = sqrt(cov_aa) and
    r_ab = cov_ab / (sd_a sd_b), the same values `numpy.corrcoef` gives on the raw rows.

    References
    ----------
    Rencher, A. C., & Christensen, W. F. (2012). Methods of Multivariate Analysis (3rd ed.).
    Wiley, section 3.8 (the sums of squares and cross-products matrix).

    Examples
    --------
    >>> sums = pd.Series({"y": 10.0, "x": 10.0})  # y = [1, 3, 2, 4], x = [1, 2, 3, 4]
    >>> cross = pd.DataFrame([[30.0, 29.0], [29.0, 30.0]], index=sums.index, columns=sums.index)
    >>> out = moments_to_correlations(4, sums, cross)
    >>> float(out["covariances"].loc["y", "x"]), float(out["correlations"].loc["y", "x"])
    (1.3333333333333333, 0.8)
    """
    names = list(sums.index)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be a whole number of at least 2 rows, got {n!r}")
    if list(cross_products.index) != names or list(cross_products.columns) != names:
        raise ValueError("cross_products must be square and labelled by the same variables as sums, "
                         f"in the same order: {names}")
    s = sums.to_numpy(dtype=float)
    c = cross_products.to_numpy(dtype=float)
    if not (np.isfinite(s).all() and np.isfinite(c).all()):
        raise ValueError("sums and cross_products must be finite numbers")
    if not np.allclose(c, c.T):
        raise ValueError("cross_products must be symmetric (entry a, b is the sum of a * b)")
    means = s / n
    covariances = (c - np.outer(s, s) / n) / (n - 1)
    variances = np.diag(covariances).copy()
    variances[variances < CONSTANT_TOLERANCE * np.maximum(1.0, means ** 2)] = 0.0
    sds = np.sqrt(variances)
    with np.errstate(divide="ignore", invalid="ignore"):
        correlations = covariances / np.outer(sds, sds)
    np.fill_diagonal(correlations, np.where(sds > 0, 1.0, np.nan))
    return {
        "means": pd.Series(means, index=names),
        "sds": pd.Series(sds, index=names),
        "covariances": pd.DataFrame(covariances, index=names, columns=names),
        "correlations": pd.DataFrame(correlations, index=names, columns=names),
    }


def key_drivers_from_moments(n: int, sums: pd.Series, cross_products: pd.DataFrame, outcome: str,
                             drivers: Sequence[str], dropped_rows: int = 0) -> pd.DataFrame:
    """Key-driver analysis from sufficient statistics, the same table as `key_drivers` on raw rows.

    Parameters
    ----------
    n : int
        Number of complete rows (outcome and every driver answered).
    sums : pandas.Series
        Sum of each variable over the complete rows, indexed by name; must hold `outcome` and
        every driver (other variables are ignored).
    cross_products : pandas.DataFrame
        Sum of each product of two variables over the complete rows (see
        `moments_to_correlations`).
    outcome : str
        The outcome variable (e.g. overall satisfaction).
    drivers : list of str
        The driver ratings, best on a common scale.
    dropped_rows : int, default 0
        Rows left out because a value was missing; reported in ``attrs`` only.

    Returns
    -------
    pandas.DataFrame
        Indexed by `driver` in the given order, with the columns of `key_drivers`: ``weight``
        (Johnson's relative weight, summing to R^2), ``share`` (percent of R^2), ``coefficient``
        (unstandardised OLS coefficient), ``performance`` (mean rating), ``quadrant``; plus
        ``sd`` (standard deviation of the driver) and ``correlation`` (with the outcome).
        ``attrs``: ``n``, ``dropped_rows``, ``r_squared``, ``outcome``.

    Notes
    -----
    From the correlation matrix R of [outcome, drivers] (see `moments_to_correlations`):
    standardised coefficients beta = R_xx^{-1} r_xy, R^2 = r_xy' R_xx^{-1} r_xy, unstandardised
    coefficients b_j = beta_j sd_y / sd_j (the intercept does not change the slopes), relative
    weights as in `analysis.drivers.relative_weights`. Quadrants split weight and performance at
    their means across the drivers.

    References
    ----------
    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. Multivariate Behavioral Research, 35(1), 1-19.
    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. Journal of
    Marketing, 41(1), 77-79.

    Examples
    --------
    >>> # y = 1.5 x1 + x2 + 0.5 exactly, x1 = [1, 1, -1, -1] and x2 = [1, -1, 1, -1] uncorrelated
    >>> names = ["y", "x1", "x2"]
    >>> sums = pd.Series([2.0, 0.0, 0.0], index=names)
    >>> cross = pd.DataFrame([[14.0, 6.0, 4.0], [6.0, 4.0, 0.0], [4.0, 0.0, 4.0]], index=names, columns=names)
    >>> table = key_drivers_from_moments(4, sums, cross, "y", ["x1", "x2"])
    >>> (table["weight"] * 13).round(6).tolist(), table["coefficient"].round(6).tolist()
    ([9.0, 4.0], [1.5, 1.0])
    """
    if isinstance(drivers, str):
        drivers = [drivers]
    drivers = list(drivers)
    if not drivers:
        raise ValueError("drivers must name at least one variable")
    if len(set(drivers)) != len(drivers):
        raise ValueError(f"drivers name a variable more than once: {drivers}")
    if outcome in drivers:
        raise ValueError(f"outcome {outcome!r} is also listed as a driver")
    columns = [outcome, *drivers]
    missing = [name for name in columns if name not in sums.index or name not in cross_products.index
               or name not in cross_products.columns]
    if missing:
        raise ValueError(f"no sums or cross-products for {', '.join(map(repr, missing))}")
    k = len(drivers)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= k + 1:
        raise ValueError(f"key drivers of {k} drivers need more than {k + 1} complete rows, got {n}")
    moments = moments_to_correlations(int(n), sums[columns], cross_products.loc[columns, columns])
    sds = moments["sds"].to_numpy()
    if (sds == 0).any():
        raise ValueError(f"column {columns[int(np.argmax(sds == 0))]!r} has the same value in every complete "
                         "row, so its importance is undefined")
    correlations = moments["correlations"].to_numpy()
    weights = relative_weights(correlations)
    r_xx, r_xy = correlations[1:, 1:], correlations[1:, 0]
    standardised = np.linalg.solve(r_xx, r_xy)
    r_squared = float(r_xy @ standardised)
    coefficients = standardised * sds[0] / sds[1:]
    performance = moments["means"].to_numpy()[1:]
    important = weights >= weights.mean()
    performs = performance >= performance.mean()
    table = pd.DataFrame({
        "weight": weights,
        "share": 100 * weights / weights.sum() if weights.sum() > 0 else np.full(k, np.nan),
        "coefficient": coefficients,
        "performance": performance,
        "quadrant": [QUADRANTS[(bool(i), bool(p))] for i, p in zip(important, performs)],
        "sd": sds[1:],
        "correlation": r_xy,
    }, index=pd.Index(drivers, name="driver"))
    table.attrs.update({"n": int(n), "dropped_rows": int(dropped_rows), "r_squared": r_squared,
                        "outcome": outcome})
    return table
