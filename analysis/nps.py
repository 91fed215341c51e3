"""Net Promoter Score with an honest interval: plain, from counts, weighted, compared, value-weighted.

Answers are on the 0-10 "how likely are you to recommend" scale: promoters 9-10, passives 7-8,
detractors 0-6. NPS = % promoters - % detractors, in points from -100 to 100.

Examples
--------
>>> estimate = nps_from_counts(detractors=20, passives=30, promoters=50)
>>> estimate.value, round(estimate.se, 2), estimate.n
(30.0, 7.81, 100)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis._intervals import nps_difference_test, z_value
from analysis._validation import check_confidence, check_counts, clean_scores, clean_weights
from analysis.estimates import Comparison, Estimate, ValueWeightedNPS

SCALE = (0.0, 10.0)
DETRACTOR_MAX = 6
PROMOTER_MIN = 9
# Rocks (2016): 3 pseudo-observations spread 1/4, 1/2, 1/4 over detractors, passives, promoters.
PSEUDO_DETRACTORS, PSEUDO_PASSIVES, PSEUDO_PROMOTERS = 0.75, 1.5, 0.75


def nps_arrays(detractors: np.ndarray, passives: np.ndarray, promoters: np.ndarray,
               confidence: float) -> dict[str, np.ndarray]:
    """Vectorised NPS, adjusted-Wald interval and standard error from (possibly effective) counts.

    The kernel behind `nps`, `nps_from_counts` and the group tables. Returns arrays `value`,
    `low`, `high`, `se` in points; groups with no answers get NaN throughout.

    Notes
    -----
    See `nps` for the formulas.

    Examples
    --------
    >>> out = nps_arrays(np.array([20]), np.array([30]), np.array([50]), 0.95)
    >>> round(float(out["low"][0]), 2), round(float(out["high"][0]), 2)
    (14.05, 44.2)
    """
    d = np.asarray(detractors, dtype=float)
    p = np.asarray(passives, dtype=float)
    q = np.asarray(promoters, dtype=float)
    n = d + p + q
    z = z_value(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        # (q - d) / n rather than q/n - d/n: exact for whole counts, e.g. 20.0 and not 19.999...
        net = (q - d) / n
        se = 100 * np.sqrt(np.maximum((q + d) / n - net * net, 0) / n)
        n_adjusted = n + PSEUDO_DETRACTORS + PSEUDO_PASSIVES + PSEUDO_PROMOTERS
        adjusted_d = (d + PSEUDO_DETRACTORS) / n_adjusted
        adjusted_q = (q + PSEUDO_PROMOTERS) / n_adjusted
        adjusted_net = adjusted_q - adjusted_d
        half = z * np.sqrt((adjusted_q + adjusted_d - adjusted_net ** 2) / n_adjusted)
    value = 100 * net
    low = 100 * np.clip(adjusted_net - half, -1, 1)
    high = 100 * np.clip(adjusted_net + half, -1, 1)
    # The adjusted interval is centred on the shrunken estimate; for extreme samples (a single
    # promoter) it can exclude the observed NPS. Widen it to include the value shown beside it.
    low, high = np.fmin(low, value), np.fmax(high, value)
    empty = n <= 0
    return {name: np.where(empty, np.nan, array)
            for name, array in {"value": value, "low": low, "high": high, "se": se}.items()}


def _estimate(arrays: dict[str, np.ndarray], n: int, n_eff: float | None = None) -> Estimate:
    return Estimate(float(arrays["value"]), float(arrays["low"]), float(arrays["high"]),
                    float(arrays["se"]), int(n), n_eff)


def nps_from_counts(detractors: int, passives: int, promoters: int, confidence: float = 0.95) -> Estimate:
    """NPS with its adjusted-Wald interval from the number of detractors, passives and promoters.

    This is what the dashboard uses: the database counts, this turns counts into an estimate.

    Parameters
    ----------
    detractors, passives, promoters : int
        Numbers of answers 0-6, 7-8 and 9-10 (whole numbers >= 0).
    confidence : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    Estimate
        NPS in points; NaN value, interval and se when all counts are zero.

    Notes
    -----
    Same formulas as `nps`: value = 100 (P - D)/n, se = 100 sqrt((pP + pD - (pP - pD)^2)/n),
    interval = the adjusted Wald interval of Rocks (2016).

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". The American
    Statistician, 70(4), 365-372.

    Examples
    --------
    >>> e = nps_from_counts(20, 30, 50)
    >>> e.value, round(e.low, 1), round(e.high, 1)
    (30.0, 14.1, 44.2)
    """
    confidence = check_confidence(confidence)
    d, p, q = (check_counts(count, name) for count, name in
               ((detractors, "detractors"), (passives, "passives"), (promoters, "promoters")))
    if d.ndim or p.ndim or q.ndim:
        raise ValueError("detractors, passives and promoters must be single counts")
    return _estimate(nps_arrays(d, p, q, confidence), d + p + q)


def _categories(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return values <= DETRACTOR_MAX, values >= PROMOTER_MIN


def nps(scores: Sequence[float], weights: Sequence[float] | None = None, confidence: float = 0.95) -> Estimate:
    """Net Promoter Score of 0-10 answers, with the Rocks adjusted-Wald interval.

    Parameters
    ----------
    scores : array-like of int
        Answers on the 0-10 scale. Missing values (None, NaN, pd.NA) are dropped and not counted
        in `n`; anything else off the scale (11, 7.5, "x") raises ValueError naming the value.
    weights : array-like of float, optional
        One non-negative weight per answer (e.g. from `rake`), matched by position, not by index.
        Weights of missing answers are ignored.
    confidence : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    Estimate
        `value`, `low`, `high`, `se` in points (-100..100), `n` answers; `n_eff` when weighted.

    Notes
    -----
    With pP and pD the shares of promoters (9-10) and detractors (0-6) among n answers,
    value = 100 (pP - pD) and se = 100 sqrt((pP + pD - (pP - pD)^2) / n), the population
    variance of the +1/0/-1 coding divided by n.

    The interval is the adjusted Wald interval of Rocks (2016): add 0.75 detractor, 1.5 passive
    and 0.75 promoter pseudo-observations, p'_X = (X + 0.75)/(n + 3) for X in {P, D},
    v' = (p'P + p'D - (p'P - p'D)^2) / (n + 3) and interval = 100 ((p'P - p'D) -/+ z sqrt(v')),
    truncated to [-100, 100]. Being centred on the shrunken estimate, that interval can exclude
    the plain value for extreme samples (at 95%: only a single answer; at lower confidence levels
    also small all-promoter or all-detractor samples); it is then widened to include the value.

    With weights w: pP and pD are weighted shares, se is Taylor-linearised,
    se = 100 sqrt(sum w_i^2 (y_i - NPS/100)^2) / sum w_i with y = +1/0/-1, and the interval is
    the adjusted Wald interval applied to the weighted shares with the Kish effective sample
    size n_eff = (sum w)^2 / sum w^2 in place of n. Weights of 1 reproduce the unweighted result.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". The American
    Statistician, 70(4), 365-372.
    Kish, L. (1965). Survey Sampling. New York: Wiley (effective sample size).

    Examples
    --------
    >>> e = nps([10, 9, 9, 8, 7, 3, 10, 6, 9, 5, None])
    >>> e.value, e.n
    (20.0, 10)
    >>> w = nps([10, 0], weights=[3, 1])
    >>> w.value, round(w.n_eff, 2)
    (50.0, 1.6)
    """
    confidence = check_confidence(confidence)
    values, kept = clean_scores(scores, SCALE, integer=True, name="scores")
    detractor, promoter = _categories(values)
    n = len(values)
    if weights is None:
        d, q = detractor.sum(), promoter.sum()
        return _estimate(nps_arrays(d, n - d - q, q, confidence), n)
    w = clean_weights(weights, kept, name="weights")
    if n == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0, 0.0)
    total = w.sum()
    n_eff = total ** 2 / (w * w).sum()
    weight_d, weight_q = w[detractor].sum(), w[promoter].sum()
    # Effective counts: multiply before dividing so that weights of 1 give the exact counts.
    d_eff, q_eff = weight_d * n_eff / total, weight_q * n_eff / total
    arrays = nps_arrays(d_eff, n_eff - d_eff - q_eff, q_eff, confidence)
    net = (weight_q - weight_d) / total
    arrays["value"] = 100 * net
    coded = promoter.astype(float) - detractor.astype(float)
    arrays["se"] = 100 * np.sqrt(np.sum(w * w * (coded - net) ** 2)) / total
    return _estimate(arrays, n, float(n_eff))


def compare_nps(a: Sequence[float] | Estimate, b: Sequence[float] | Estimate,
                confidence: float = 0.95) -> Comparison:
    """Difference between the NPS of two independent samples (a minus b), with an adjusted-Wald test.

    Parameters
    ----------
    a, b : array-like of 0-10 scores, or Estimate
        The two samples, or their estimates from `nps` / `nps_from_counts` (possibly weighted:
        the Kish effective sample size then stands for n).
    confidence : float, default 0.95
        Confidence level of the interval of the difference.

    Returns
    -------
    Comparison
        `difference` (observed, in points), its adjusted-Wald interval (within [-200, 200]),
        the statistic `z` and the two-sided normal `p_value`.

    Notes
    -----
    Each sample's shares of promoters and detractors are adjusted with Rocks's (2016)
    pseudo-observations (0.75 detractor, 1.5 passive, 0.75 promoter), as the one-sample interval
    is, and the two adjusted variances added (Agresti & Caffo 2000):
    d' = NPS'_a - NPS'_b, se' = sqrt(v'_a / (n_a + 3) + v'_b / (n_b + 3)),
    z = d' / se', p = 2 (1 - Phi(|z|)), interval d' -/+ z_{(1+confidence)/2} se', clipped to
    [-200, 200] and widened to include the observed difference. The adjusted variance is
    never 0, so samples all in one category never give z = inf or p = 0. An Estimate is turned
    back into shares: pP + pD = (se/100)^2 n + (NPS/100)^2 and pP - pD = NPS/100.

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "net promoter score". The American
    Statistician, 70(4), 365-372.
    Agresti, A., & Caffo, B. (2000). Simple and effective confidence intervals for proportions
    and differences of proportions result from adding two successes and two failures.
    The American Statistician, 54(4), 280-288.

    Examples
    --------
    >>> c = compare_nps(nps_from_counts(20, 30, 50), nps_from_counts(30, 30, 40))
    >>> c.difference, round(c.z, 2), round(c.p_value, 3)
    (20.0, 1.73, 0.083)
    """
    confidence = check_confidence(confidence)
    counts = []
    for label, sample in (("a", a), ("b", b)):
        estimate = sample if isinstance(sample, Estimate) else nps(sample)
        if estimate.n == 0:
            raise ValueError(f"sample {label} has no non-missing scores to compare")
        counts.append(_counts_of(estimate))
    out = nps_difference_test(counts[0], counts[1], confidence)
    return Comparison(float(out["difference"]), float(out["low"]), float(out["high"]),
                      float(out["statistic"]), float(out["p_value"]))


def _counts_of(estimate: Estimate) -> tuple[float, float, float]:
    """(Effective) detractors, passives and promoters behind an NPS estimate, from value, se and n."""
    n = estimate.n if estimate.n_eff is None else estimate.n_eff
    net = estimate.value / 100
    either = min(max((estimate.se / 100) ** 2 * n + net * net, abs(net)), 1.0)
    promoters, detractors = n * (either + net) / 2, n * (either - net) / 2
    # Round to whole counts when they are whole up to floating-point crumbs (unweighted estimates).
    promoters, detractors = (float(np.round(x)) if abs(x - np.round(x)) < 1e-9 else x for x in (promoters, detractors))
    return detractors, n - detractors - promoters, promoters


def value_weighted_nps(scores: Sequence[float], customer_value: Sequence[float],
                       confidence: float = 0.95) -> ValueWeightedNPS:
    """The plain NPS beside the NPS weighted by what each customer brings (e.g. annual revenue).

    Parameters
    ----------
    scores : array-like of int
        0-10 answers; missing answers are dropped from both estimates.
    customer_value : array-like of float
        Value of the customer behind each answer, >= 0; must not be missing where the score is not.
    confidence : float, default 0.95

    Returns
    -------
    ValueWeightedNPS
        `plain` and `weighted` Estimates over the same respondents.

    Notes
    -----
    weighted = 100 (sum_promoters v - sum_detractors v) / sum v, with the weighted-NPS standard
    error and interval of `nps` (Kish n_eff). A weighted NPS far below the plain one means the
    unhappy customers are the valuable ones.

    References
    ----------
    Kish, L. (1965). Survey Sampling. New York: Wiley.

    Examples
    --------
    >>> r = value_weighted_nps([10, 10, 10, 0], customer_value=[1, 1, 1, 7])
    >>> r.plain.value, r.weighted.value
    (50.0, -40.0)
    """
    return ValueWeightedNPS(plain=nps(scores, confidence=confidence),
                            weighted=nps(scores, weights=customer_value, confidence=confidence))
