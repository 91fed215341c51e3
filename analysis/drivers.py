"""Key-driver analysis: which ratings move the overall score, and where to act.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"overall": [3, 4, 5, 4, 2, 5, 3, 4], "support": [2, 4, 5, 4, 1, 5, 3, 3],
...                       "price": [3, 3, 4, 2, 3, 4, 4, 3]})
>>> table = key_drivers(frame, "overall", ["support", "price"])
>>> table.index.tolist(), table.attrs["n"]
(['support', 'price'], 8)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._validation import check_columns, to_numbers

QUADRANTS = {  # (important, performs well) -> label of the importance-performance grid
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}
# Eigenvalues below this fraction of the largest mean the drivers are (nearly) linearly dependent.
COLLINEARITY_TOLERANCE = 1e-10


def relative_weights(correlations: np.ndarray) -> np.ndarray:
    """Johnson's relative weights from the correlation matrix of [outcome, drivers...].

    Notes
    -----
    With R_xx = Q diag(lambda) Q^T the driver correlation matrix and r_xy the correlations with
    the outcome: Lambda = Q diag(sqrt(lambda)) Q^T (the correlations between the drivers and
    their closest orthogonal counterparts), beta = Lambda^{-1} r_xy (regression of the outcome on
    the orthogonal counterparts) and epsilon_j = sum_k Lambda_jk^2 beta_k^2. The weights sum to
    the R^2 of the regression of the outcome on all drivers.

    References
    ----------
    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. Multivariate Behavioral Research, 35(1), 1-19.

    Examples
    --------
    >>> r = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.0], [0.3, 0.0, 1.0]])
    >>> relative_weights(r).round(2).tolist()  # uncorrelated drivers: weight = r^2
    [0.36, 0.09]
    """
    r_xx = correlations[1:, 1:]
    r_xy = correlations[1:, 0]
    eigenvalues, eigenvectors = np.linalg.eigh(r_xx)
    if eigenvalues.min() <= COLLINEARITY_TOLERANCE * eigenvalues.max():
        raise ValueError("the drivers are (nearly) perfectly collinear: one is a linear combination of others")
    lam = eigenvectors @ np.diag(np.sqrt(eigenvalues)) @ eigenvectors.T
    beta = np.linalg.solve(lam, r_xy)
    return (lam ** 2) @ (beta ** 2)


def key_drivers(frame: pd.DataFrame, outcome: str, drivers: Sequence[str]) -> pd.DataFrame:
    """Relative importance of each driver rating for an outcome, with an importance-performance grid.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per respondent with the outcome (e.g. overall satisfaction) and driver ratings.
    outcome : str
        Column of the outcome.
    drivers : list of str
        Columns of the driver ratings, best on a common scale (performance is compared across them).

    Returns
    -------
    pandas.DataFrame
        Indexed by `driver` in the given order, columns:

        - ``weight``: Johnson's relative weight; the weights sum to the model R^2.
        - ``share``: weight as a percentage of R^2 (sums to 100).
        - ``coefficient``: OLS coefficient of the driver (outcome on all drivers plus intercept).
        - ``performance``: mean rating of the driver.
        - ``quadrant``: "concentrate here" (weight >= mean weight, performance < mean
          performance), "keep up the good work" (important, performance >= mean),
          "low priority" (unimportant, under-performing), "possible overkill" (unimportant,
          performing well).

        ``attrs``: ``n`` (complete rows used), ``dropped_rows`` (rows dropped because the outcome
        or a driver was missing), ``r_squared`` and ``outcome``.

    Notes
    -----
    Relative weights: see `relative_weights`. They split R^2 among correlated drivers, unlike
    squared standardised coefficients. The quadrants split importance and performance at their
    means across the drivers (importance-performance analysis).

    References
    ----------
    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. Multivariate Behavioral Research, 35(1), 1-19.
    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. Journal of
    Marketing, 41(1), 77-79.

    Examples
    --------
    >>> frame = pd.DataFrame({"overall": [3, 4, 5, 4, 2, 5, 3, None],
    ...                       "support": [2, 4, 5, 4, 1, 5, 3, 3], "price": [3, 3, 4, 2, 3, 4, 4, 3]})
    >>> table = key_drivers(frame, "overall", ["support", "price"])
    >>> bool(np.isclose(table["weight"].sum(), table.attrs["r_squared"])), table.attrs["dropped_rows"]
    (True, 1)
    >>> table.loc["support", "quadrant"]
    'keep up the good work'
    """
    if isinstance(drivers, str):
        drivers = [drivers]
    drivers = list(drivers)
    if not drivers:
        raise ValueError("drivers must name at least one column")
    if len(set(drivers)) != len(drivers):
        raise ValueError(f"drivers name a column more than once: {drivers}")
    if outcome in drivers:
        raise ValueError(f"outcome {outcome!r} is also listed as a driver")
    check_columns(frame, [outcome, *drivers])
    columns = [outcome, *drivers]
    data = np.column_stack([to_numbers(frame[column], f"column {column!r}") for column in columns])
    complete = np.isfinite(data).all(axis=1)
    data = data[complete]
    n, k = len(data), len(drivers)
    if n <= k + 1:
        raise ValueError(f"key drivers of {k} drivers need more than {k + 1} complete rows, got {n}")
    constant = data.std(axis=0) == 0
    if constant.any():
        raise ValueError(f"column {columns[int(np.argmax(constant))]!r} has the same value in every complete "
                         "row, so its importance is undefined")
    correlations = np.corrcoef(data, rowvar=False)
    weights = relative_weights(correlations)
    r_squared = float(correlations[1:, 0] @ np.linalg.solve(correlations[1:, 1:], correlations[1:, 0]))
    design = np.column_stack([np.ones(n), data[:, 1:]])
    coefficients = np.linalg.lstsq(design, data[:, 0], rcond=None)[0][1:]
    performance = data[:, 1:].mean(axis=0)
    important = weights >= weights.mean()
    performs = performance >= performance.mean()
    table = pd.DataFrame({
        "weight": weights,
        "share": 100 * weights / weights.sum() if weights.sum() > 0 else np.full(k, np.nan),
        "coefficient": coefficients,
        "performance": performance,
        "quadrant": [QUADRANTS[(bool(i), bool(p))] for i, p in zip(important, performs)],
    }, index=pd.Index(drivers, name="driver"))
    table.attrs.update({"n": n, "dropped_rows": int((~complete).sum()), "r_squared": r_squared,
                        "outcome": outcome})
    return table
