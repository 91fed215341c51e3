"""Retention: what customers do after they answer. Survival curves, defection hazards and rates,
revenue at risk, the loyalty continuum and the measured effect of closing the loop.

All functions are pure: they take arrays or a DataFrame of customers (one row per customer, with a
duration in days from a start, e.g. their answer, to defection or to the end of observation, and
whether they defected) and return small frames or result objects, every figure with its n.

Examples
--------
>>> import pandas as pd
>>> curve = retention_curve([5, 10, 10, 20], [1, 1, 0, 1])
>>> curve[["time", "at_risk", "defected", "retained"]].round(3).to_dict("list")
{'time': [5.0, 10.0, 20.0], 'at_risk': [4, 3, 1], 'defected': [1, 1, 1], 'retained': [0.75, 0.5, 0.0]}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis._intervals import wilson_interval, z_value
from analysis._validation import check_columns, check_confidence, describe
from analysis.estimates import Comparison, Estimate

INTERVALS = ("log", "plain")
LEVELS = ("casual", "regular", "loyal")
LEFT = "left"  # a customer who defected: the end of the continuum
PROMOTER_FROM = 9


def _durations_and_events(durations: object, events: object) -> tuple[np.ndarray, np.ndarray]:
    time = pd.to_numeric(pd.Series(np.asarray(durations, dtype=object)), errors="coerce").to_numpy(dtype=float)
    raw = pd.Series(np.asarray(events, dtype=object))
    if len(time) != len(raw):
        raise ValueError(f"durations and events must have the same length, got {len(time)} and {len(raw)}")
    event = pd.to_numeric(raw.map(lambda v: int(v) if isinstance(v, (bool, np.bool_)) else v), errors="coerce")
    bad = ~event.isna() & ~event.isin([0, 1])
    if bad.any():
        raise ValueError(f"events must be 0/1 or True/False, got {describe(raw[bad].iloc[0])}")
    if np.any(time[~np.isnan(time)] < 0):
        raise ValueError(f"durations must be >= 0, got {describe(time[time < 0][0])}")
    keep = ~np.isnan(time) & ~event.isna().to_numpy()
    return time[keep], event.to_numpy(dtype=float)[keep].astype(int)


def _one_curve(time: np.ndarray, event: np.ndarray, z: float, interval: str) -> pd.DataFrame:
    times = np.unique(time[event == 1])
    at_risk = np.array([(time >= t).sum() for t in times], dtype=np.int64)
    died = np.array([((time == t) & (event == 1)).sum() for t in times], dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - died / at_risk)
        # Greenwood: var(S) = S^2 * sum d / (n (n - d)); infinite once S reaches 0
        greenwood = np.cumsum(np.where(at_risk > died, died / (at_risk * (at_risk - died)), np.inf))
        se = survival * np.sqrt(greenwood)
        se = np.where(survival > 0, se, np.nan)
        if interval == "log":
            half = z * np.sqrt(greenwood)
            low, high = survival * np.exp(-half), np.minimum(survival * np.exp(half), 1.0)
        else:
            low, high = np.clip(survival - z * se, 0, 1), np.clip(survival + z * se, 0, 1)
    low = np.where(survival > 0, low, np.nan)
    high = np.where(survival > 0, high, np.nan)
    return pd.DataFrame({"time": times.astype(float), "at_risk": at_risk, "defected": died, "retained": survival,
                         "se": se, "low": low, "high": high})


def retention_curve(durations: object, events: object, groups: object = None, confidence: float = 0.95,
                    interval: str = "log") -> pd.DataFrame:
    """Kaplan-Meier retention (survival) curve with Greenwood intervals and the numbers at risk.

    Parameters
    ----------
    durations : array-like of float
        Days (or any unit) from the start to defection, or to the end of observation.
    events : array-like of 0/1 or bool
        1 when the customer defected at that duration, 0 when still a customer (censored).
    groups : array-like, optional
        A label per customer (e.g. NPS category): one curve per label, in order of appearance
        sorted by label. Rows with a missing duration, event or group are left out.
    confidence : float, default 0.95
    interval : {"log", "plain"}, default "log"
        "log" is R's `survfit` default (`conf.type = "log"`), "plain" is S +/- z * se.

    Returns
    -------
    pandas.DataFrame
        One row per distinct defection time (per group): ``group`` (when grouped), ``time``,
        ``at_risk`` (customers still observed just before it), ``defected``, ``retained`` (the
        survival probability), ``se`` (Greenwood), ``low``, ``high``, and ``n`` (customers in
        the group).

    Notes
    -----
    S(t) = prod over defection times t_i <= t of (1 - d_i / n_i), with n_i the customers at risk
    and d_i those who defected at t_i. Greenwood's variance is
    Var S(t) = S(t)^2 * sum d_i / (n_i (n_i - d_i)); the "log" interval is
    S * exp(+/- z * sqrt(sum d_i / (n_i (n_i - d_i)))), capped at 1.

    References
    ----------
    Kaplan, E. L., & Meier, P. (1958). Nonparametric estimation from incomplete observations.
    JASA, 53(282), 457-481. Greenwood, M. (1926). The natural duration of cancer. Reports on
    Public Health and Medical Subjects, 33. Therneau, T. (2024). survival: Survival Analysis
    (R package; `survfit.formula`).

    Examples
    --------
    >>> curve = retention_curve([2, 3, 3, 6, 7], [1, 1, 0, 1, 0], groups=["a", "a", "a", "b", "b"])
    >>> curve[["group", "time", "at_risk", "retained", "n"]].round(3).values.tolist()
    [['a', 2.0, 3, 0.667, 3], ['a', 3.0, 2, 0.333, 3], ['b', 6.0, 2, 0.5, 2]]
    """
    confidence = check_confidence(confidence)
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, got {describe(interval)}")
    z = z_value(confidence)
    if groups is None:
        time, event = _durations_and_events(durations, events)
        curve = _one_curve(time, event, z, interval)
        curve["n"] = len(time)
        return curve
    labels = pd.Series(np.asarray(groups, dtype=object))
    if len(labels) != len(np.asarray(durations, dtype=object)):
        raise ValueError("groups must have one label per duration")
    frames = []
    for label in sorted(labels.dropna().unique(), key=str):
        mask = (labels == label).to_numpy()
        time, event = _durations_and_events(np.asarray(durations, dtype=object)[mask],
                                            np.asarray(events, dtype=object)[mask])
        curve = _one_curve(time, event, z, interval)
        curve.insert(0, "group", label)
        curve["n"] = len(time)
        frames.append(curve)
    columns = ["group", "time", "at_risk", "defected", "retained", "se", "low", "high", "n"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def retained_at(curve: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    """The curve read at given times (the step function's value: the last row at or before each
    time; 1 with no interval before the first defection).

    Examples
    --------
    >>> retained_at(retention_curve([5, 10, 10, 20], [1, 1, 0, 1]), [1, 12])["retained"].tolist()
    [1.0, 0.5]
    """
    rows = []
    for t in times:
        before = curve[curve["time"] <= t]
        if before.empty:
            rows.append({"time": float(t), "retained": 1.0, "se": 0.0, "low": np.nan, "high": np.nan})
        else:
            last = before.iloc[-1]
            rows.append({"time": float(t), "retained": float(last["retained"]), "se": float(last["se"]),
                         "low": float(last["low"]), "high": float(last["high"])})
    return pd.DataFrame(rows)


def _design(frame: pd.DataFrame, covariates: Sequence[str], reference: dict | None) -> pd.DataFrame:
    columns = []
    for name in covariates:
        values = frame[name]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            columns.append(values.astype(float).rename(name))
            continue
        levels = list(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype) else sorted(
            values.dropna().unique(), key=str)
        base = (reference or {}).get(name, levels[0] if levels else None)
        if base not in levels:
            raise ValueError(f"reference level {describe(base)} of {name!r} is not among its values")
        for level in levels:
            if level != base:
                columns.append((values == level).astype(float).where(values.notna()).rename(f"{name}={level}"))
    return pd.concat(columns, axis=1)


def defection_hazard(frame: pd.DataFrame, duration: str, event: str, covariates: Sequence[str],
                     reference: dict | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """Cox proportional hazards of defection: hazard ratios with intervals (Efron ties).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer.
    duration, event : column names
        Days to defection or censoring, and whether the customer defected (0/1).
    covariates : list of column names
        Numeric columns enter as they are; text or categorical columns as one indicator per level
        against a reference level (the first category, or the first sorted value).
    reference : dict, optional
        Column -> reference level, e.g. ``{"category": "promoter"}``.
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        Indexed by term (``"category=detractor"``): ``hazard_ratio``, ``low``, ``high``, ``coef``,
        ``se``, ``p_value``, plus ``n`` and ``events`` (rows used; rows with a missing value are
        left out).

    Notes
    -----
    h(t | x) = h0(t) exp(x'b), fitted by partial likelihood with Efron's approximation for tied
    defection times (statsmodels `PHReg`, ``ties="efron"``, as R's `coxph` default). The
    interval is exp(b +/- z se); the p-value is the Wald test.

    References
    ----------
    Cox, D. R. (1972). Regression models and life-tables. JRSS B, 34(2), 187-220.
    Efron, B. (1977). The efficiency of Cox's likelihood function for censored data. JASA, 72, 557-565.

    Examples
    --------
    >>> frame = pd.DataFrame({"days": [5, 8, 12, 20, 25, 30, 31, 40], "left": [1, 1, 1, 0, 1, 0, 1, 0],
    ...                       "group": list("aabbabab")})
    >>> result = defection_hazard(frame, "days", "left", ["group"])
    >>> list(result.index), int(result["n"].iloc[0])
    (['group=b'], 8)
    """
    from statsmodels.duration.hazard_regression import PHReg

    confidence = check_confidence(confidence)
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a DataFrame, got {type(frame).__name__}")
    if not covariates:
        raise ValueError("covariates must name at least one column")
    check_columns(frame, [duration, event, *covariates])
    time, status = _durations_and_events(frame[duration], frame[event])
    if len(time) != len(frame):
        raise ValueError(f"{duration} and {event} must have no missing values")
    design = _design(frame, covariates, reference)
    keep = design.notna().all(axis=1).to_numpy()
    design, time, status = design[keep], time[keep], status[keep]
    if status.sum() == 0:
        raise ValueError("no defections: a hazard ratio needs at least one")
    result = PHReg(time, design.to_numpy(), status=status, ties="efron").fit()
    coef, se = np.asarray(result.params), np.asarray(result.bse)
    z = z_value(confidence)
    return pd.DataFrame({"hazard_ratio": np.exp(coef), "low": np.exp(coef - z * se), "high": np.exp(coef + z * se),
                         "coef": coef, "se": se, "p_value": 2 * stats.norm.sf(np.abs(coef / se)),
                         "n": len(time), "events": int(status.sum())}, index=pd.Index(design.columns, name="term"))


def defection_rate_by(frame: pd.DataFrame, duration: str, event: str, by: str | Sequence[str],
                      horizon: float = 365, confidence: float = 0.95) -> pd.DataFrame:
    """Share of customers who defected within `horizon` days, per group, with Wilson intervals.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer.
    duration, event : column names
        Days from the start (e.g. the answer) to defection or to the end of observation, and
        whether the customer defected.
    by : column name or list of names
        The groups (NPS category, satisfaction band, segment ...).
    horizon : float, default 365
        90, 180 or 365 days after the start, for example.
    confidence : float, default 0.95

    Returns
    -------
    pandas.DataFrame
        One row per group: the group columns, ``n`` (customers whose fate over the horizon is
        known), ``defected``, ``value`` (percent), ``low``, ``high``, ``se``, and ``unknown``
        (customers still observed for less than the horizon, left out).

    Notes
    -----
    A customer counts when they defected within the horizon (duration <= horizon) or were
    observed for the whole horizon (duration >= horizon); those observed for less who had not
    defected are left out, so the rate is not diluted by customers who had no time to leave.
    p = defected / n with the Wilson score interval.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    JASA, 22(158), 209-212.

    Examples
    --------
    >>> frame = pd.DataFrame({"days": [30, 400, 100, 500, 50], "left": [1, 0, 1, 0, 0],
    ...                       "category": ["detractor", "detractor", "promoter", "promoter", "promoter"]})
    >>> defection_rate_by(frame, "days", "left", "category")[["category", "n", "defected", "value", "unknown"]]
        category  n  defected  value  unknown
    0  detractor  2         1   50.0        0
    1   promoter  2         1   50.0        1
    """
    confidence = check_confidence(confidence)
    by = [by] if isinstance(by, str) else list(by)
    check_columns(frame, [duration, event, *by])
    if not np.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"horizon must be a positive number of days, got {describe(horizon)}")
    time, status = _durations_and_events(frame[duration], frame[event])
    if len(time) != len(frame):
        raise ValueError(f"{duration} and {event} must have no missing values")
    within = (status == 1) & (time <= horizon)
    known = within | (time >= horizon)
    work = frame[by].copy()
    work["_known"], work["_within"] = known.astype(int), within.astype(int)
    work["_unknown"] = (~known).astype(int)
    table = work.groupby(by, observed=True, sort=True, dropna=True)[["_known", "_within", "_unknown"]].sum()
    table = table.rename(columns={"_known": "n", "_within": "defected", "_unknown": "unknown"}).reset_index()
    low, high = wilson_interval(table["defected"].to_numpy(float), table["n"].to_numpy(float), confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = table["defected"].to_numpy(float) / table["n"].to_numpy(float)
        table["value"] = 100 * p
        table["low"], table["high"] = 100 * low, 100 * high
        table["se"] = 100 * np.sqrt(p * (1 - p) / table["n"].to_numpy(float))
    return table[[*by, "n", "defected", "value", "low", "high", "se", "unknown"]]


def revenue_at_risk(frame: pd.DataFrame, value: str, duration: str, event: str, by: str | Sequence[str],
                    horizon: float = 365, confidence: float = 0.95) -> pd.DataFrame:
    """Annual value each group stands to lose over `horizon`: the value of its remaining customers
    times the group's measured defection rate, with the interval of the rate.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer, with their annual `value`.
    value, duration, event : column names
    by : column name or list of names
    horizon, confidence : as in `defection_rate_by`.

    Returns
    -------
    pandas.DataFrame
        `defection_rate_by`'s columns plus ``customers`` (not defected), ``book`` (their annual
        value), ``at_risk``, ``at_risk_low`` and ``at_risk_high``.

    Notes
    -----
    at_risk = book x p with p the horizon defection rate of the group, and the interval
    book x [p_low, p_high] from the Wilson interval of p (the book is known, not estimated).
    Customers without a value count in the rate but add nothing to the book.

    References
    ----------
    Reichheld, F. F., & Sasser, W. E. (1990). Zero defections: quality comes to services.
    Harvard Business Review, 68(5), 105-111.

    Examples
    --------
    >>> frame = pd.DataFrame({"days": [30, 400, 100, 500], "left": [1, 0, 1, 0], "value": [10., 20., 30., 40.],
    ...                       "tier": ["Gold", "Gold", "Bronze", "Bronze"]})
    >>> revenue_at_risk(frame, "value", "days", "left", "tier")[["tier", "book", "at_risk"]]
         tier  book  at_risk
    0  Bronze  40.0     20.0
    1    Gold  20.0     10.0
    """
    check_columns(frame, [value])
    rates = defection_rate_by(frame, duration, event, by, horizon, confidence)
    by = [by] if isinstance(by, str) else list(by)
    money = pd.to_numeric(frame[value], errors="coerce")
    if (money < 0).any():
        raise ValueError(f"{value} must be >= 0")
    remaining = frame.loc[~frame[event].astype(bool), by].assign(_value=money[~frame[event].astype(bool)].fillna(0))
    book = remaining.groupby(by, observed=True, sort=True)["_value"].agg(["size", "sum"]).rename(
        columns={"size": "customers", "sum": "book"}).reset_index()
    table = rates.merge(book, on=by, how="left").fillna({"customers": 0, "book": 0.0})
    table["customers"] = table["customers"].astype(int)
    table["at_risk"] = table["book"] * table["value"] / 100
    table["at_risk_low"] = table["book"] * table["low"] / 100
    table["at_risk_high"] = table["book"] * table["high"] / 100
    return table


def loyalty_levels(purchase_share: object, scores: object, regular_from: float = 0.5,
                   promoter_from: float = PROMOTER_FROM) -> pd.Series:
    """Place customers on the loyalty continuum casual / regular / loyal for one period.

    Parameters
    ----------
    purchase_share : array-like of float in [0, 1]
        Share of the period's months in which the customer bought (regularity of behaviour).
    scores : array-like of float
        The customer's latest recommendation score (0-10) in the period, NaN when none.
    regular_from : float, default 0.5
        Buying in at least this share of the months is regular behaviour.
    promoter_from : float, default 9
        A score of at least this is a favourable attitude.

    Returns
    -------
    pandas.Series
        "loyal" (regular behaviour and favourable attitude), "regular" (one of the two),
        "casual" (bought, but neither), or NaN (did not buy in the period).

    Notes
    -----
    Loyalty as relative attitude combined with repeat patronage: high on both is true loyalty,
    high on one only a weaker, "regular" tie (spurious or latent loyalty), neither casual.
    A missing score is not a favourable attitude.

    References
    ----------
    Dick, A. S., & Basu, K. (1994). Customer loyalty: toward an integrated conceptual framework.
    Journal of the Academy of Marketing Science, 22(2), 99-113.

    Examples
    --------
    >>> loyalty_levels([0.9, 0.9, 0.2, 0.2, 0.0], [10, 5, 10, None, 9]).tolist()
    ['loyal', 'regular', 'regular', 'casual', nan]
    """
    share = pd.to_numeric(pd.Series(np.asarray(purchase_share, dtype=object)), errors="coerce").to_numpy(float)
    score = pd.to_numeric(pd.Series(np.asarray(scores, dtype=object)), errors="coerce").to_numpy(float)
    if len(share) != len(score):
        raise ValueError("purchase_share and scores must have the same length")
    if np.any((share < 0) | (share > 1)):
        raise ValueError("purchase_share must be between 0 and 1")
    regular = share >= regular_from
    favourable = np.nan_to_num(score, nan=-1) >= promoter_from
    strength = regular.astype(int) + favourable.astype(int)
    levels = np.asarray(LEVELS, dtype=object)[strength]
    levels[~(share > 0)] = np.nan
    return pd.Series(levels, dtype=object)


def loyalty_movement(frame: pd.DataFrame, customer: str, period: str, level: str) -> pd.DataFrame:
    """How customers moved between loyalty levels from each period to the next.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per (customer, period) with the customer's `level` in it ("casual", "regular",
        "loyal", "left"; a missing level is "inactive").
    customer, period, level : column names
        Periods must sort in time order.

    Returns
    -------
    pandas.DataFrame
        ``from_period``, ``to_period``, ``from_level``, ``to_level``, ``customers`` and
        ``share`` (percent of the customers at ``from_level`` in ``from_period``).

    Notes
    -----
    A customer who left stays "left" in later periods; one missing from a period is "inactive".
    Shares are of the customers at each starting level, so each starting level adds up to 100.

    References
    ----------
    Dick, A. S., & Basu, K. (1994). Customer loyalty: toward an integrated conceptual framework.
    Journal of the Academy of Marketing Science, 22(2), 99-113.

    Examples
    --------
    >>> frame = pd.DataFrame({"c": [1, 1, 2, 2, 3], "p": ["y1", "y2", "y1", "y2", "y1"],
    ...                       "level": ["casual", "loyal", "casual", "casual", "loyal"]})
    >>> loyalty_movement(frame, "c", "p", "level")[["from_level", "to_level", "customers", "share"]]
      from_level to_level  customers  share
    0     casual   casual          1   50.0
    1     casual    loyal          1   50.0
    2      loyal inactive          1  100.0
    """
    check_columns(frame, [customer, period, level])
    wide = frame.pivot_table(index=customer, columns=period, values=level, aggfunc="last")
    periods = sorted(wide.columns)
    wide = wide.reindex(columns=periods).fillna("inactive")
    # Once left, always left: a later period's row is not expected for a customer who defected
    left = (wide == LEFT).cummax(axis=1)
    wide = wide.mask(left, LEFT)
    rows = []
    for before, after in zip(periods, periods[1:]):
        pairs = wide[[before, after]].value_counts().rename("customers").reset_index()
        pairs.columns = ["from_level", "to_level", "customers"]
        pairs = pairs[pairs["from_level"] != LEFT]
        pairs.insert(0, "to_period", after)
        pairs.insert(0, "from_period", before)
        rows.append(pairs)
    columns = ["from_period", "to_period", "from_level", "to_level", "customers", "share"]
    if not rows:
        return pd.DataFrame(columns=columns)
    table = pd.concat(rows, ignore_index=True).sort_values(["from_period", "from_level", "to_level"])
    totals = table.groupby(["from_period", "from_level"])["customers"].transform("sum")
    table["share"] = (100 * table["customers"] / totals).round(1)
    return table.reset_index(drop=True)[columns]


@dataclass(frozen=True)
class FollowUpEffect:
    """Defection of customers whose case was resolved in time against those whose case was not.

    `resolved` and `not_resolved` are crude rates (percent, Wilson); `difference` is the
    stratified (Mantel-Haenszel) difference resolved minus not resolved, in points, over the
    `strata` that hold customers of both kinds (`matched` customers).
    """

    resolved: Estimate
    not_resolved: Estimate
    difference: Comparison
    strata: int
    matched: int


def follow_up_effect(frame: pd.DataFrame, resolved: str, defected: str, strata: Sequence[str],
                     confidence: float = 0.95) -> FollowUpEffect:
    """Defection after a follow-up case: resolved in time against not, matched on `strata`.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per flagged customer whose fate over the horizon is known.
    resolved : column name
        True when their case was resolved in time.
    defected : column name
        True when they defected within the horizon after the case was opened.
    strata : list of column names
        What to match on (score band, segment): only strata with customers of both kinds count
        in the difference.
    confidence : float, default 0.95

    Returns
    -------
    FollowUpEffect

    Notes
    -----
    Observational, not an experiment: whether a case is resolved depends on the customer too.
    Within stratum i with n1 resolved (a defected) and n0 not (c defected), w_i = n1 n0 / N and
    RD = sum w_i (a/n1 - c/n0) / sum w_i; Var = sum w_i^2 (p1 (1-p1)/n1 + p0 (1-p0)/n0) /
    (sum w_i)^2, the Greenland-Robins variance of the Mantel-Haenszel risk difference.

    References
    ----------
    Greenland, S., & Robins, J. M. (1985). Estimation of a common effect parameter from sparse
    follow-up data. Biometrics, 41(1), 55-68.

    Examples
    --------
    >>> frame = pd.DataFrame({"resolved": [1, 1, 1, 1, 0, 0, 0, 0], "left": [0, 0, 0, 1, 1, 1, 0, 1],
    ...                       "band": ["low"] * 8})
    >>> effect = follow_up_effect(frame, "resolved", "left", ["band"])
    >>> effect.resolved.value, effect.not_resolved.value, effect.difference.difference
    (25.0, 75.0, -50.0)
    """
    confidence = check_confidence(confidence)
    check_columns(frame, [resolved, defected, *strata])
    work = pd.DataFrame({"treated": frame[resolved].astype(bool), "left": frame[defected].astype(bool)})
    for column in strata:
        work[column] = frame[column].to_numpy()
    z = z_value(confidence)

    def crude(rows: pd.DataFrame) -> Estimate:
        k, n = int(rows["left"].sum()), len(rows)
        low, high = wilson_interval(np.array([k]), np.array([n]), confidence)
        p = k / n if n else np.nan
        return Estimate(100 * p, float(100 * low[0]), float(100 * high[0]),
                        float(100 * np.sqrt(p * (1 - p) / n)) if n else np.nan, n)

    cells = work.groupby([*strata, "treated"], observed=True, dropna=True)["left"].agg(["size", "sum"]).unstack(
        "treated")
    both = cells.dropna()
    if both.empty:
        difference = Comparison(np.nan, np.nan, np.nan, np.nan, np.nan)
    else:
        n1, a = both[("size", True)].to_numpy(float), both[("sum", True)].to_numpy(float)
        n0, c = both[("size", False)].to_numpy(float), both[("sum", False)].to_numpy(float)
        p1, p0 = a / n1, c / n0
        w = n1 * n0 / (n1 + n0)
        rd = float((w * (p1 - p0)).sum() / w.sum())
        se = float(np.sqrt((w ** 2 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)).sum()) / w.sum())
        statistic = rd / se if se > 0 else np.nan
        difference = Comparison(100 * rd, 100 * (rd - z * se), 100 * (rd + z * se), statistic,
                                float(2 * stats.norm.sf(abs(statistic))) if se > 0 else np.nan)
    matched = int(both[[("size", True), ("size", False)]].to_numpy().sum()) if not both.empty else 0
    return FollowUpEffect(crude(work[work["treated"]]), crude(work[~work["treated"]]), difference, len(both), matched)
