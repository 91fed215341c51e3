"""Trends: a metric per week, month or quarter with its interval, a control chart of the unhappy
share, an optional target, and one segment dimension at a time, with falling segments flagged.

Counts come from the database per day or month (cached loaders in `common`); `analysis.trend`
aggregates them to the chosen period and computes intervals, changes and control limits. The
table goes through `app_pages.figures.publish` (segment-by-period cells, with each period's,
each segment's and each segment's recent total as lines) before anything is drawn or downloaded.

Multiplicity: the family is the flagged-segments table, every test that can flag a segment. The
p-values of "recent below earlier" and "latest change" of all segments are Benjamini-Hochberg
adjusted together; the control chart's 3-sigma limits (false alarm rate about 0.27% per point)
are shown and listed but do not by themselves flag a segment. Period-on-period p-values in the
table are single comparisons, unadjusted, and are labelled so.
"""

from __future__ import annotations


import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from analysis import adjust_p_values, trend
from analysis.groups import period_starts
from app_pages import charts, common, figures, labels, report
from app_pages.text import plain
from app_pages.metrics import MetricChoice, metric_choices
from survey.storage.filters import DIMENSIONS, Filters

# Period shown -> (pandas alias for analysis.trend, the period the database counts by).
PERIODS = {"week": ("W", "day"), "month": ("M", "month"), "quarter": ("Q", "day")}
# "Recent" for flagging: about the last quarter, compared with everything before it.
RECENT_PERIODS = {"week": 13, "month": 3, "quarter": 1}
SIGNIFICANCE = 0.05
NO_SPLIT = "none"
OUT_OF_CONTROL_COLOUR = "#d62728"


def flag_falling_segments(histogram: pd.DataFrame, table: pd.DataFrame, split: str, choice: MetricChoice,
                          alias: str, recent_periods: int, min_n: int) -> pd.DataFrame:
    """Segments where satisfaction is falling, with the reasons.

    A segment is flagged when (a) its recent periods (the last `recent_periods`) are significantly
    below its earlier periods, or (c) its latest change versus the period before is significantly
    negative; (b) its latest period's unhappy share above the upper control limit is added as a
    reason to a flagged segment but does not flag one alone (it is an unadjusted test). The p-values
    of (a) and (c) of all segments are Benjamini-Hochberg adjusted together (one family). Groups under `min_n` are not judged,
    and a comparison is made only when both of its sides have at least `min_n` answers.
    """
    periods = np.sort(table.index.get_level_values("period").unique())
    if len(periods) <= recent_periods:
        return pd.DataFrame()
    cutoff = periods[-recent_periods]
    recent = period_starts(histogram["period"], alias) >= cutoff
    pooled = histogram.assign(period=np.where(recent, "2 recent", "1 earlier"))
    shift = trend(pooled, period=None, metric=choice.metric, scale=choice.scale, by=split)
    # Every comparison needs the minimum n on both of its sides, not only on the latest one.
    shift = shift.assign(before_n=shift["n"].groupby(level=split, observed=True).shift(1))
    shift = shift.xs("2 recent", level="period") if "2 recent" in shift.index.get_level_values("period") else shift.iloc[:0]
    shift = shift[(shift["n"] >= min_n) & (shift["before_n"] >= min_n) & shift["change_p_value"].notna()]
    table = table.assign(previous_n=table["n"].groupby(level=split, observed=True).shift(1))
    latest = table.groupby(level=split, observed=True).tail(1).reset_index(level="period")
    latest = latest[latest["n"] >= min_n]
    latest.loc[~(latest["previous_n"] >= min_n), ["change", "change_p_value"]] = np.nan

    rows = pd.DataFrame(index=sorted(set(latest.index) | set(shift.index)))
    rows.index.name = split
    rows["latest_period"] = latest["period"]
    rows["latest_value"] = latest["value"]
    rows["latest_n"] = latest["n"]
    rows["latest_change"] = latest["change"]
    rows["recent_value"] = shift["value"]
    rows["recent_n"] = shift["n"]
    rows["recent_vs_earlier"] = shift["change"]
    # One family: both tests of every segment, adjusted together.
    tests = pd.concat([shift["change_p_value"].rename(lambda key: ("recent", key)),
                       latest["change_p_value"].dropna().rename(lambda key: ("latest", key))])
    adjusted = adjust_p_values(tests.reset_index(drop=True))
    adjusted.index = tests.index
    rows["recent_p_adjusted"] = pd.Series({key: value for (kind, key), value in adjusted.items()
                                           if kind == "recent"}, dtype=float).reindex(rows.index)
    rows["latest_change_p_adjusted"] = pd.Series({key: value for (kind, key), value in adjusted.items()
                                                  if kind == "latest"}, dtype=float).reindex(rows.index)
    above = (latest["bottom_share"] > latest["control_upper"]).reindex(rows.index, fill_value=False)
    reasons = []
    for segment, row in rows.iterrows():
        found = []
        if row["recent_p_adjusted"] < SIGNIFICANCE and row["recent_vs_earlier"] < 0:
            found.append(f"last {recent_periods} period(s) below the earlier ones")
        if row["latest_change_p_adjusted"] < SIGNIFICANCE and row["latest_change"] < 0:
            found.append("significant fall in the latest period")
        if found and bool(above.get(segment, False)):
            # The control chart confirms; alone, one of many points beyond 3 sigma is no finding.
            found.append("latest period's unhappy share above the control limit")
        reasons.append("; ".join(found))
    rows["reasons"] = reasons
    flagged = rows[rows["reasons"] != ""].reset_index()
    return flagged.sort_values("recent_vs_earlier").reset_index(drop=True)


def trend_chart(frame: pd.DataFrame, choice: MetricChoice, split: str | None, target: float | None,
                period: str) -> alt.LayerChart:
    """The metric per period as lines with 95% interval bands, n in tooltips, the target as a rule."""
    colour = [alt.Color(f"{split}:N", title=DIMENSIONS[split].label, legend=charts.LEGEND)] if split else []
    frame = frame.assign(metric=choice.label)  # the full question text, for the tooltip
    tooltip = [alt.Tooltip("metric:N", title="Metric"), alt.Tooltip("period:T", title=period.capitalize()),
               *([alt.Tooltip(f"{split}:N", title=DIMENSIONS[split].label)] if split else []),
               alt.Tooltip("value:Q", format=".1f", title="Value"), alt.Tooltip("low:Q", format=".1f", title="95% low"),
               alt.Tooltip("high:Q", format=".1f", title="95% high"), alt.Tooltip("n:Q", format=",")]
    base = alt.Chart(frame).encode(x=alt.X("period:T", title=period.capitalize()))
    values = [*frame["low"], *frame["high"], *([target] if target is not None else [])]
    band = base.mark_area(opacity=0.15 if split else 0.25).encode(
        *colour, y=alt.Y("low:Q", title=choice.axis_title, scale=charts.zoomed(values)), y2="high:Q")
    line = base.mark_line(point=True).encode(*colour, y="value:Q", tooltip=tooltip)
    layers = [band, line]
    if target is not None:
        layers.append(alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(strokeDash=[6, 4], color="black")
                      .encode(y="target:Q", tooltip=[alt.Tooltip("target:Q", title="Target")]))
    return charts.sized(alt.layer(*layers), charts.HEIGHT + (80 if split else 0))


def control_chart(frame: pd.DataFrame, split: str | None, period: str) -> alt.TopLevelMixin:
    """p-chart of the unhappy share: centre line, limits, and out-of-control periods in red."""
    frame = frame.assign(**{column: 100 * frame[column] for column in
                            ("bottom_share", "control_center", "control_lower", "control_upper")})
    frame = frame.assign(state=np.where(frame["out_of_control"].astype(bool), "Out of control", "Within limits"))
    base = alt.Chart().encode(x=alt.X("period:T", title=period.capitalize()))
    limits = base.mark_area(opacity=0.15, color="grey").encode(
        y=alt.Y("control_lower:Q", title="Unhappy share (%)"), y2="control_upper:Q")
    center = base.mark_line(color="grey", strokeDash=[4, 3]).encode(y="control_center:Q")
    share = base.mark_line(color="#4c78a8").encode(y="bottom_share:Q")
    points = base.mark_point(filled=True, size=50).encode(
        y="bottom_share:Q",
        color=alt.Color("state:N", title="Point",
                        scale=alt.Scale(domain=["Within limits", "Out of control"],
                                        range=["#4c78a8", OUT_OF_CONTROL_COLOUR])),
        tooltip=[alt.Tooltip("period:T", title=period.capitalize()),
                 *([alt.Tooltip(f"{split}:N", title=DIMENSIONS[split].label)] if split else []),
                 alt.Tooltip("bottom_share:Q", format=".1f", title="Unhappy %"),
                 alt.Tooltip("control_lower:Q", format=".1f", title="Lower limit"),
                 alt.Tooltip("control_upper:Q", format=".1f", title="Upper limit"), alt.Tooltip("n:Q", format=","),
                 alt.Tooltip("state:N", title="Point")])
    layered = alt.layer(limits, center, share, points, data=frame)
    if split:
        return layered.properties(width=600, height=140).facet(row=alt.Row(f"{split}:N", title=DIMENSIONS[split].label))
    return charts.sized(layered)


def trend_table(filters: Filters, choice: MetricChoice, period: str, split: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The counted histogram and `analysis.trend` of it for the chosen metric, period and split."""
    alias, counted_by = PERIODS[period]
    histogram = common.histogram(filters, choice.key, counted_by, (split,) if split else ())
    if histogram.empty:
        return histogram, pd.DataFrame()
    table = trend(histogram, period=alias, metric=choice.metric, scale=choice.scale, by=split)
    return histogram, table


HIDDEN_FIGURES = ["value", "low", "high", "se", "spread", "bottom_share", "control_center", "control_lower",
                  "control_upper", "change", "change_low", "change_high", "change_p_value"]
CHANGES = ["change", "change_low", "change_high", "change_p_value"]


def published_trend(table: pd.DataFrame, split: str | None, min_n: int, outside: pd.Series | None,
                    recent_periods: int, period: str = "month") -> figures.Published:
    """The trend table through the publishing layer: per segment and period, with the lines whose
    totals other views publish (each period over the segments, each segment over all periods and
    over its recent periods, the whole, and the quarters and years that hold the periods, alone
    and per segment); a change is hidden when either of its periods is."""
    frame = table.reset_index()
    periods = np.sort(frame["period"].unique())
    frame["recent"] = frame["period"] >= periods[-min(recent_periods, len(periods))] if len(periods) else False
    frame, coarser = figures.with_coarser_periods(frame, "period", period, [split] if split else [])
    lines = [[split], ["period"], [split, "recent"], [], *coarser] if split else [[], *coarser]
    published = figures.publish(frame.assign(status=""), HIDDEN_FIGURES, min_n, lines, outside=outside)
    hidden = published.table["status"].astype(str).str.startswith("suppressed")
    shown = figures.hide_changes_from_hidden(published.table, hidden, [split] if split else [], CHANGES)
    shown["out_of_control"] = shown["out_of_control"].where(~hidden, False)
    helpers = ["recent", *(column for column in shown.columns if column.startswith("within_"))]
    return figures.Published(shown.drop(columns=helpers), published.hidden, published.min_n, published.floor)


def outside_per_period(filters: Filters, choice: MetricChoice, actor, period: str, split: str | None,
                       frame: pd.DataFrame) -> pd.Series | None:
    """People outside a field manager's scope in each (segment, period) of `frame`. Counted per month
    for months; for weeks and quarters from the days or months: exactly (the union of who they are)
    where each part has fewer than the floor, else the most in any one part, a lower bound of the
    floor or more, so a period is hidden whenever it might hold fewer than the floor."""
    alias, counted_by = PERIODS[period]
    counted_by = "month" if period == "quarter" else counted_by  # the tightest bound the counts allow
    counts = common.outside_scope(filters, choice.key, actor, counted_by, (split,) if split else ())
    if counts is None:
        return None
    counts = counts.assign(period=period_starts(counts["period"], alias)) if len(counts) else counts
    keys = [*([split] if split else []), "period"]
    if len(counts):
        counts = figures.combine_outside(counts, keys)
    cells = frame.assign(period=pd.to_datetime(frame["period"]).astype(str))
    counts = counts.assign(period=pd.to_datetime(counts["period"]).astype(str)) if len(counts) else counts
    return common.outside_for(cells, counts if len(counts) else None, keys) if len(counts) else pd.Series(
        0, index=frame.index)


def render() -> None:
    page = common.survey_page()
    if page is None:
        return
    actor, filters, summary, definition, min_n = page
    st.title("Trends")
    choices = metric_choices(definition)
    if not choices:
        st.info("This survey declares no NPS, CSAT, CES or rating question to follow over time.")
        return
    left, middle, right = st.columns(3)
    choice = left.selectbox("Metric", choices, format_func=lambda c: c.label, key="trends_metric")
    period = middle.radio("Period", list(PERIODS), index=1, horizontal=True, key="trends_period")
    split_name = right.selectbox("Split by", [NO_SPLIT, *DIMENSIONS], key="trends_split",
                                 format_func=lambda name: "nothing" if name == NO_SPLIT else DIMENSIONS[name].label)
    split = None if split_name == NO_SPLIT else split_name
    target = st.number_input(f"Target ({plain(choice.label)})", value=None, placeholder="no target", key="trends_target",
                             min_value=float(-100 if choice.metric == "nps" else 0),
                             max_value=float(100 if choice.metric in ("nps", "csat") else choice.scale[1]))

    histogram, table = trend_table(filters, choice, period, split)
    if table.empty:
        st.info("No answers to this question in the selected filters.")
        return
    outside = outside_per_period(filters, choice, actor, period, split, table.reset_index())
    published = published_trend(table, split, min_n, outside, RECENT_PERIODS[period], period)
    frame = published.table
    shown = frame[~frame["status"].astype(str).str.startswith("suppressed")]
    note = (published.note("point") + " Hidden points are not drawn.") if published.hidden else ""
    pending = []  # report sections; charts are drawn only when the report is asked for

    st.subheader(f"{plain(choice.label)} by {period}")
    chart = trend_chart(shown, choice, split, target, period)
    st.altair_chart(chart, width="stretch")
    st.caption("Bands are 95% intervals; hover a point for its n." + (f" {note}" if note else ""))
    report.download_chart(chart, f"{filters.survey}-trend", key="trends_chart")
    pending.append((f"{choice.label} by {period}", chart, None, note))

    st.subheader("Control chart of the unhappy share")
    bottom = "detractors (0-6)" if choice.metric == "nps" else "answers below the scale midpoint"
    controlled = shown.dropna(subset=["bottom_share"])
    chart = control_chart(controlled, split, period)
    st.altair_chart(chart, width="stretch" if not split else "content")
    out = controlled[controlled["out_of_control"]]
    out_text = (", ".join(labels.period(row["period"], period) + (f" ({row[split]})" if split else "")
                          for _, row in out.iterrows())
                or "none")
    control_note = (f"Share of {bottom}; centre line and 3-sigma limits per "
                    f"{'segment' if split else 'series'}. Out of control (red): {out_text}.")
    st.caption(control_note)
    report.download_chart(chart, f"{filters.survey}-control", key="trends_control_chart")
    pending.append(("Control chart of the unhappy share", chart, None, control_note))

    if split:
        st.subheader("Flagged segments")
        judged = frame.set_index([split, "period"])
        flagged = flag_falling_segments(histogram, judged, split, choice, PERIODS[period][0],
                                        RECENT_PERIODS[period], min_n)
        if not flagged.empty and outside is not None:
            # The pooled windows are not counted per person outside the viewer's scope: values withheld.
            flagged[["recent_value", "recent_vs_earlier"]] = np.nan
        explanation = (f"Falling: the last {RECENT_PERIODS[period]} {period}(s) significantly below the earlier "
                       f"ones, or a significant fall in the latest period (p < {SIGNIFICANCE}; one family: both tests "
                       "of every segment Benjamini-Hochberg adjusted together). The control limit is named when it "
                       f"agrees but flags nothing alone. Comparisons need n = {min_n} on both sides.")
        if flagged.empty:
            st.success(f"No {DIMENSIONS[split].label.lower()} is flagged. " + explanation)
        else:
            labels.show_table(flagged, freq=period, percent=("bottom_share",))
            st.caption(explanation)
            report.download_table(flagged, f"{filters.survey}-flagged.csv", key="trends_flagged_csv")
        pending.append(("Flagged segments", None, flagged, explanation))

    st.subheader("Table")
    columns = [*([split] if split else []), "period", "value", "low", "high", "n", "status", "change",
               "change_p_value", "bottom_share", "control_lower", "control_upper", "out_of_control"]
    labels.show_table(frame[columns], freq=period, percent=("bottom_share", "control_lower", "control_upper"))
    st.caption("p (change): each period against the one before, a single comparison (not adjusted). "
               + (published.note("point") or "Nothing hidden."))
    report.download_table(frame[columns], f"{filters.survey}-trend.csv", key="trends_table_csv")
    pending.append(("Table", None, frame[columns], ""))

    latest = shown.groupby(split, observed=True).tail(1) if split else shown.tail(1)
    number = "{:+.1f}" if choice.metric == "nps" else "{:.1f}"
    tiles = [report.Tile(f"{choice.label}, {labels.period(row['period'], period)}" + (f", {row[split]}" if split else ""),
                         number.format(row["value"]) + choice.unit,
                         f"95% interval {number.format(row['low'])} to {number.format(row['high'])}", int(row["n"]))
             for _, row in latest.iterrows()]
    described = report.describe_filters(filters, summary.title, (
        ("Metric", choice.label), ("Period", period), ("Split by", DIMENSIONS[split].label if split else "nothing"),
        ("Target", "none" if target is None else f"{target:g}")))

    def build() -> str:
        return report.build_html(f"Trends: {summary.title}", described, tiles,
                                 [report.drawn(*section) for section in pending])

    report.download_report(build, f"{filters.survey}-trends.html", key="trends_report")


if __name__ == "__main__":  # Streamlit runs a page as __main__; importing it (tests) renders nothing
    render()
