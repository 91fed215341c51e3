"""Raking: respondent weights that make the sample's margins match known population shares.

Examples
--------
>>> import pandas as pd
>>> sample = pd.DataFrame({"region": ["North", "North", "North", "South"]})
>>> rake(sample, {"region": {"North": 0.5, "South": 0.5}}).round(3).tolist()
[0.667, 0.667, 0.667, 2.0]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis._validation import check_columns, describe

TARGET_SUM_TOLERANCE = 1e-6


def _margins(frame: pd.DataFrame, targets: Mapping[str, Mapping[object, float]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per raking column: each respondent's level code and the target share of every level."""
    margins = []
    for column, shares in targets.items():
        if not isinstance(shares, Mapping) or not shares:
            raise ValueError(f"targets for column {column!r} must be a non-empty mapping of level to share")
        levels = list(shares)
        values = np.array([float(shares[level]) for level in levels])
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            level = levels[int(np.argmax(bad))]
            raise ValueError(f"target share of {column}={level!r} is {describe(shares[level])}; shares must be >= 0")
        if abs(values.sum() - 1) > TARGET_SUM_TOLERANCE:
            raise ValueError(f"target shares for column {column!r} sum to {values.sum():g}, not 1")
        observed = frame[column]
        if observed.isna().any():
            raise ValueError(f"column {column!r} has {int(observed.isna().sum())} missing values; "
                             "every respondent needs a level to be weighted")
        unknown = ~observed.isin(levels).to_numpy()
        if unknown.any():
            level = observed[unknown].iloc[0]
            raise ValueError(f"column {column!r} has level {level!r}, which has no target share")
        codes = pd.Categorical(observed, categories=levels).codes
        counts = np.bincount(codes, minlength=len(levels))
        empty = (counts == 0) & (values > 0)
        if empty.any():
            level = levels[int(np.argmax(empty))]
            raise ValueError(f"target level {column}={level!r} has no respondents, so it cannot be "
                             f"weighted up to {values[int(np.argmax(empty))]:g}")
        margins.append((codes, values))
    return margins


def _margin_error(weights: np.ndarray, margins: list[tuple[np.ndarray, np.ndarray]]) -> float:
    total = weights.sum()
    return max(float(np.abs(np.bincount(codes, weights=weights, minlength=len(shares)) / total - shares).max())
               for codes, shares in margins)


def rake(frame: pd.DataFrame, targets: Mapping[str, Mapping[object, float]], max_iter: int = 100,
         tol: float = 1e-8) -> pd.Series:
    """Raking (iterative proportional fitting) weights, mean 1, matching target shares per column.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per respondent.
    targets : mapping column -> (mapping level -> share)
        Population share of every level of each raking column, e.g.
        ``{"region": {"North": .4, "South": .6}, "tier": {"gold": .2, "standard": .8}}``.
        Shares of a column must sum to 1.
    max_iter : int, default 100
        Maximum number of passes over all columns.
    tol : float, default 1e-8
        Stop when every weighted share is within `tol` of its target.

    Returns
    -------
    pandas.Series
        Weights named ``weight``, aligned with `frame.index`, with mean 1.

    Raises
    ------
    ValueError
        A column is missing or has missing values, a level has no target, a target level with a
        positive share has no respondents, shares do not sum to 1, or the fit does not converge
        (e.g. the combination of targets is impossible for this sample).

    Notes
    -----
    Start from w = 1; for each column c and level l in turn multiply the weights of the
    respondents at level l by T_cl / (sum_{i in l} w_i / sum_i w_i); repeat until
    max_{c,l} |share_cl(w) - T_cl| < tol. Finally rescale to mean 1. Each pass matches one margin
    exactly; the passes converge to the weights closest to 1 (in the raking-ratio sense) that
    match all margins.

    References
    ----------
    Deming, W. E., & Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
    table when the expected marginal totals are known. Annals of Mathematical Statistics, 11(4),
    427-444.

    Examples
    --------
    >>> sample = pd.DataFrame({"region": ["N", "N", "S", "S", "S"], "tier": ["gold", "std", "gold", "std", "std"]})
    >>> w = rake(sample, {"region": {"N": .5, "S": .5}, "tier": {"gold": .4, "std": .6}})
    >>> [round(float(w[sample[c] == level].sum() / w.sum()), 6) for c, level in [("region", "N"), ("tier", "gold")]]
    [0.5, 0.4]
    """
    if not isinstance(targets, Mapping) or not targets:
        raise ValueError("targets must be a non-empty mapping of column -> {level: share}")
    check_columns(frame, targets, what="raking column")
    if len(frame) == 0:
        raise ValueError("the frame has no respondents to weight")
    if int(max_iter) < 1 or not tol > 0:
        raise ValueError(f"max_iter must be >= 1 and tol > 0, got max_iter={max_iter!r}, tol={tol!r}")
    margins = _margins(frame, targets)
    weights = np.ones(len(frame))
    error = _margin_error(weights, margins)
    for _ in range(int(max_iter)):
        if error < tol:
            break
        for codes, shares in margins:
            totals = np.bincount(codes, weights=weights, minlength=len(shares))
            factors = np.divide(shares * weights.sum(), totals, out=np.zeros_like(totals), where=totals > 0)
            weights = weights * factors[codes]
        error = _margin_error(weights, margins)
    if not error < tol:
        raise ValueError(f"raking did not converge in {max_iter} iterations (largest margin error {error:.2g}); "
                         "the targets may be impossible to meet together for this sample")
    return pd.Series(weights / weights.mean(), index=frame.index, name="weight")
