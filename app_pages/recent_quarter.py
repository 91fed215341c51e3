"""The Overview's default view: the last three complete months against the three before, and which
region moved significantly between them.

Until someone picks dates in the sidebar (the sidebar then still spans the whole survey), the
Overview compares the last complete quarter of the data with the one before, so that a newcomer
sees what changed recently instead of a two-year average. "Quarter" is the last three complete
calendar months before the month of the data's last day + 1: with data up to yesterday that is the
three months before the current one, the most recent whole quarter-length window (a calendar
quarter would, in its first month, compare data up to four months old).

Example:
    >>> from datetime import date
    >>> last_three_months(date(2026, 11, 30))
    (datetime.date(2026, 9, 1), datetime.date(2026, 11, 30), datetime.date(2026, 6, 1), datetime.date(2026, 8, 31))
    >>> last_three_months(date(2026, 12, 14))[:2]
    (datetime.date(2026, 9, 1), datetime.date(2026, 11, 30))
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pandas as pd

from analysis import adjust_p_values, trend
from app_pages import common, figures, labels
from survey.storage.filters import Filters

SIGNIFICANCE = 0.05
DIMENSION = "region"
CURRENT, PREVIOUS = "2 current", "1 previous"


def _month_start(day: date, back: int = 0) -> date:
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def last_three_months(last_day: date) -> tuple[date, date, date, date]:
    """(start, end) of the last three complete months of data ending on `last_day`, then (start, end)
    of the three months before them."""
    after = last_day + timedelta(days=1)
    end = _month_start(after) - timedelta(days=1)
    start = _month_start(end, 2)
    return start, end, _month_start(start, 3), start - timedelta(days=1)


def default_comparison(filters: Filters) -> tuple[Filters, Filters] | None:
    """The filters over the last three complete months and the three before, when the sidebar's dates
    are still the survey's whole span (nobody chose a period) and the data covers six months; else None."""
    span = common.survey_span(filters.survey)
    if span is None or (filters.start, filters.end) != span:
        return None
    start, end, previous_start, previous_end = last_three_months(span[1])
    if previous_start < _month_start(span[0]):
        return None
    return (dataclasses.replace(filters, start=start, end=end),
            dataclasses.replace(filters, start=previous_start, end=previous_end))


def region_changes(current: Filters, previous: Filters, question_key: str, metric: str, scale, min_n: int,
                   actor) -> figures.Published:
    """Per region, the metric in both periods and its change, Benjamini-Hochberg adjusted across the
    regions (one family), through the publishing layer (lines: each region, each period, the whole;
    a change is hidden with either of its periods)."""
    frames = []
    for name, scope in ((PREVIOUS, previous), (CURRENT, current)):
        counts = common.histogram(scope, question_key, "month", (DIMENSION,))
        if len(counts):
            frames.append(counts.groupby([DIMENSION, "score"], as_index=False, observed=True)["count"].sum()
                          .assign(period=name))
    if not frames:
        return figures.Published(pd.DataFrame(), {}, min_n, figures.floor())
    table = trend(pd.concat(frames, ignore_index=True), period=None, metric=metric, scale=scale,
                  by=DIMENSION).reset_index()
    outside = None
    if actor is not None and not actor.sees_every_customer:
        parts = []
        for name, scope in ((PREVIOUS, previous), (CURRENT, current)):
            counts = common.outside_scope(scope, question_key, actor, None, (DIMENSION,))
            if counts is not None and len(counts):
                parts.append(counts.assign(period=name))
        outside = common.outside_for(table, pd.concat(parts) if parts else None, [DIMENSION, "period"]) \
            if parts else pd.Series(0, index=table.index)
    published = figures.publish(table.assign(status=""), ["value", "low", "high", "change", "change_low",
                                                          "change_high", "change_p_value"], min_n,
                                lines=[[DIMENSION], ["period"], []], outside=outside)
    shown = published.table
    hidden = shown["status"].astype(str).str.startswith("suppressed")
    shown = figures.hide_changes_from_hidden(shown, hidden, [DIMENSION], ["change", "change_low", "change_high",
                                                                          "change_p_value"])
    now = shown[shown["period"] == CURRENT].copy()
    now["p_adjusted"] = adjust_p_values(now["change_p_value"]).to_numpy()
    before = shown[shown["period"] == PREVIOUS].set_index(DIMENSION)["value"]
    now["before"] = before.reindex(now[DIMENSION]).to_numpy()
    return figures.Published(now.drop(columns=["period"]).reset_index(drop=True), published.hidden, published.min_n,
                             published.floor)


def falls(table: pd.DataFrame) -> pd.DataFrame:
    """The regions whose metric fell significantly (adjusted p < 0.05), largest fall first."""
    if table.empty:
        return table
    found = table[(table["p_adjusted"] < SIGNIFICANCE) & (table["change"] < 0)]
    return found.sort_values("change")


def render(st, current: Filters, previous: Filters, question_key: str, metric: str, scale, name: str,
           min_n: int, actor, format_value) -> pd.DataFrame:
    """The region section of the Overview: a warning per significant fall, then the table. Returns it."""
    published = region_changes(current, previous, question_key, metric, scale, min_n, actor)
    table = published.table
    st.subheader(f"{name} by region: this period against the one before")
    if table.empty:
        st.info("No answers by region in these periods.")
        return table
    for _, row in falls(table).iterrows():
        st.warning(f"**{row[DIMENSION]}**: {name} fell from {format_value(row['before'])} to "
                   f"{format_value(row['value'])} ({row['change']:+.1f}, 95% interval {row['change_low']:+.1f} to "
                   f"{row['change_high']:+.1f}, {labels.p_text(row['p_adjusted'], 'adjusted p')}, n = {int(row['n']):,}).")
    if falls(table).empty:
        st.success(f"No region's {name} changed significantly between the two periods.")
    shown = table[[DIMENSION, "before", "value", "change", "change_low", "change_high", "n", "p_adjusted", "status"]]
    labels.show_table(shown, headers={"before": "Previous period", "value": "This period"})
    st.caption("Each region's change is tested against its own previous period; the p-values are "
               "Benjamini-Hochberg adjusted across the regions (one family). " + (published.note("region")
                                                                                   or "Nothing hidden."))
    return shown
