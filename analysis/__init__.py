"""Honest satisfaction statistics: every figure with its interval and its n.

A pure library (pandas, numpy, scipy, statsmodels) shared by the dashboard, the follow-up rules
and notebooks, so a number is computed by the same code wherever it is shown.

One sample (array-likes of answers; missing values are dropped and not counted in ``n``, anything
else off the declared scale raises ValueError naming the value):

- ``nps(scores, weights=None, confidence=0.95) -> Estimate``
- ``nps_from_counts(detractors, passives, promoters, confidence=0.95) -> Estimate``
- ``compare_nps(a, b, confidence=0.95) -> Comparison``
- ``value_weighted_nps(scores, customer_value, confidence=0.95) -> ValueWeightedNPS``
- ``csat(scores, scale=(1, 5), top=2, confidence=0.95) -> Estimate``
- ``agree_share(scores, scale=(1, 7), top=3, confidence=0.95) -> Estimate``
- ``ces(scores, scale=(1, 7), confidence=0.95) -> Estimate``
- ``mean_score(scores, scale, confidence=0.95) -> Estimate``
- ``share_from_counts(successes, n, confidence=0.95) -> Estimate`` (Wilson)
- ``mean_from_moments(n, total, total_squares, scale=None, confidence=0.95) -> Estimate``
- ``compare_means(first, second, confidence=0.95) -> Comparison``

Frames of respondents:

- ``satisfaction_index(frame, items, weights=None, scale=(1, 10), confidence=0.95) -> Estimate``
- ``cronbach_alpha(frame, items=None, confidence=0.95) -> Reliability``
- ``key_drivers(frame, outcome, drivers) -> DataFrame``
- ``rake(frame, targets, max_iter=100, tol=1e-8) -> Series``

Sufficient statistics counted by the database (no answer rows needed):

- ``key_drivers_from_moments(n, sums, cross_products, outcome, drivers, dropped_rows=0) -> DataFrame``
  (with ``moments_to_correlations``)
- ``value_weighted_nps_from_sums(counts, value, value_squared, confidence=0.95) -> ValueWeightedNPS``

Over periods and groups:

- ``p_chart(events, totals, sigma=3) -> DataFrame``
- ``adjust_p_values(p_values) -> Series`` (Benjamini-Hochberg, as `by_segment` applies it)
- ``trend(histograms, period="M", metric="nps", scale=None, top=None, by=None,
  period_column="period", confidence=0.95, sigma=3) -> DataFrame``
- ``by_segment(histograms, by, metric="nps", scale=None, top=None, min_n=30,
  confidence=0.95) -> DataFrame`` (small segments suppressed, with complementary suppression)

Retention (one row per customer: days from a start, e.g. an answer, to defection or censoring):

- ``retention_curve(durations, events, groups=None, confidence=0.95, interval="log") -> DataFrame``
  (Kaplan-Meier with Greenwood intervals and numbers at risk)
- ``defection_hazard(frame, duration, event, covariates, reference=None) -> DataFrame`` (Cox, Efron ties)
- ``defection_rate_by(frame, duration, event, by, horizon=365) -> DataFrame`` (Wilson)
- ``revenue_at_risk(frame, value, duration, event, by, horizon=365) -> DataFrame``
- ``loyalty_levels(purchase_share, scores) -> Series`` and ``loyalty_movement(frame, customer, period, level)``
- ``follow_up_effect(frame, resolved, defected, strata) -> FollowUpEffect`` (Mantel-Haenszel, matched)

Disclosure control:

- ``protect(cells, measures, lines) -> Series``: primary and complementary suppression of a
  table whose line totals are published (one-way and two-way tables alike)

Score histograms
----------------
`trend` and `by_segment` take answers already counted by the database: a long DataFrame with
one row per (group, score) and

- one or more grouping columns: ``period`` (a string such as "2026-03" or "2026-03-14", or a
  Timestamp) for `trend`, segment columns such as ``region`` or ``tier`` for `by_segment`
  (and optionally for `trend`, as `by`);
- ``score``: the answer, an integer on the metric's scale (0-10 for NPS);
- ``count``: how many answers in the group gave that score, an integer >= 0.

Scores that were never given may be absent. Rows with a missing score are ignored, rows with a
missing group label are left out of every group. This is exactly what
``survey.storage.queries.histogram`` returns (grouping columns, then ``score`` and ``count``).

>>> import pandas as pd
>>> histograms = pd.DataFrame({"period": ["2026-01"] * 3 + ["2026-02"] * 3,
...                            "score": [10, 8, 3] * 2, "count": [50, 30, 20, 45, 30, 25]})
>>> trend(histograms, period="M")[["value", "n"]]
            value    n
period
2026-01-01   30.0  100
2026-02-01   20.0  100

Metrics (`metric=`): "nps"; "csat" (top-box share in percent, scale (1, 5), top 2 by default);
"ces" (mean effort, scale (1, 7) by default); "mean" (mean of a rating; `scale` required).
"""

from analysis.control import p_chart
from analysis.correlations import key_drivers_from_moments, moments_to_correlations
from analysis.disclosure import protect
from analysis.drivers import key_drivers
from analysis.estimates import Comparison, Estimate, Reliability, ValueWeightedNPS
from analysis.groups import adjust_p_values, by_segment, trend
from analysis.index import cronbach_alpha, satisfaction_index
from analysis.moments import compare_means, mean_from_moments
from analysis.nps import compare_nps, nps, nps_from_counts, value_weighted_nps
from analysis.retention import (FollowUpEffect, defection_hazard, defection_rate_by, follow_up_effect,
                                loyalty_levels, loyalty_movement, retention_curve, revenue_at_risk)
from analysis.scores import agree_share, ces, csat, mean_score, share_from_counts
from analysis.value_weighted import value_weighted_nps_from_sums
from analysis.weighting import rake

__all__ = [
    "Comparison", "Estimate", "FollowUpEffect", "Reliability", "ValueWeightedNPS",
    "defection_hazard", "defection_rate_by", "follow_up_effect", "loyalty_levels", "loyalty_movement",
    "retention_curve", "revenue_at_risk",
    "adjust_p_values", "agree_share", "by_segment", "ces", "compare_means", "compare_nps", "cronbach_alpha", "csat",
    "key_drivers", "key_drivers_from_moments", "mean_from_moments", "mean_score", "moments_to_correlations",
    "nps", "nps_from_counts", "p_chart", "protect", "rake", "satisfaction_index", "share_from_counts", "trend", "value_weighted_nps",
    "value_weighted_nps_from_sums",
]
