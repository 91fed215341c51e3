"""Segments: a metric per segment with its interval and n, tested against the rest, and what changed lately.

One query counts the scores per (segment, month, score) in the database; the table, the recent
window and the month-by-segment heatmap are all `analysis.by_segment` / `analysis.trend` over
that histogram. Small segments are suppressed or marked directional; differences from the rest
are Benjamini-Hochberg adjusted across segments.
"""

from __future__ import annotations


import altair as alt
import pandas as pd
import streamlit as st

from analysis import adjust_p_values, by_segment, trend
from app_pages import common, report
from survey.people import access
from app_pages.metrics import MetricChoice, metric_choices
from app_pages.text import plain
from survey.storage.filters import DIMENSIONS

SIGNIFICANCE = 0.05
HEATMAP_MONTHS = 6
RECENT_MONTHS_DEFAULT = 4


def status(table: pd.DataFrame) -> pd.Series:
    """"suppressed" (n < min n), "directional" (n < 2 min n) or "" per segment."""
    return pd.Series(["suppressed" if s else "directional" if d else ""
                      for s, d in zip(table["suppressed"], table["directional"])], index=table.index)


def segment_table(histogram: pd.DataFrame, dimension: str, choice: MetricChoice, min_n: int) -> pd.DataFrame:
    """`by_segment` over every period of the histogram, indexed by segment."""
    counts = histogram.groupby([dimension, "score"], as_index=False)["count"].sum()
    return by_segment(counts, dimension, metric=choice.metric, scale=choice.scale, min_n=min_n)


def display_table(table: pd.DataFrame, dimension: str, choice: MetricChoice) -> pd.DataFrame:
    """The table as shown and downloaded: rounded figures, status and significance spelled out."""
    shown = pd.DataFrame({
        DIMENSIONS[dimension].label: table.index.astype(str),
        "value": table["value"].round(2),
        "low (95%)": table["low"].round(2),
        "high (95%)": table["high"].round(2),
    })
    if choice.metric in ("ces", "mean"):
        shown["spread (sd)"] = table["spread"].round(2)
    shown["n"] = table["n"].astype(int).to_numpy()
    shown["status"] = status(table).to_numpy()
    shown["difference from rest"] = table["difference"].round(2).to_numpy()
    shown["p (BH-adjusted)"] = table["p_adjusted"].round(4).to_numpy()
    significant = (table["p_adjusted"] < SIGNIFICANCE).to_numpy()
    shown["significant"] = ["yes" if s else "" for s in significant]
    return shown.reset_index(drop=True)


def highlight(shown: pd.DataFrame):
    """Styler: significant differences in colour (green above the rest, red below), suppressed in grey."""
    def row_style(row: pd.Series) -> list[str]:
        if row["status"] == "suppressed":
            style = "color: gray"
        elif row["significant"] == "yes":
            style = "background-color: #d8f0d8" if row["difference from rest"] > 0 else "background-color: #f8d7d7"
        else:
            style = ""
        return [style] * len(row)
    return shown.style.apply(row_style, axis=1).format(precision=2, na_rep="")


def months_of(histogram: pd.DataFrame) -> list[str]:
    """Calendar months ('YYYY-MM') from the first to the last month in the histogram."""
    if histogram.empty:
        return []
    periods = pd.PeriodIndex(histogram["period"].astype(str), freq="M")
    return [str(p) for p in pd.period_range(periods.min(), periods.max(), freq="M")]


def recent_change(histogram: pd.DataFrame, dimension: str, choice: MetricChoice, min_n: int,
                  months: list[str]) -> pd.DataFrame:
    """Each segment over the recent `months` against the rest (BH-adjusted) and against its own past."""
    recent = histogram["period"].isin(months)
    counts = histogram[recent].groupby([dimension, "score"], as_index=False)["count"].sum()
    table = by_segment(counts, dimension, metric=choice.metric, scale=choice.scale, min_n=min_n)
    windows = (histogram.assign(window=recent.map({True: "recent", False: "before"}))
               .groupby([dimension, "window", "score"], as_index=False)["count"].sum())
    change = trend(windows, period=None, metric=choice.metric, scale=choice.scale, by=dimension,
                   period_column="window").reset_index()
    before = change[change["window"] == "before"].set_index(dimension)
    after = change[change["window"] == "recent"].set_index(dimension)
    table["before"] = before["value"].reindex(table.index)
    table["before_n"] = before["n"].reindex(table.index).fillna(0).astype(int)
    table["change"] = after["change"].reindex(table.index)
    table["change_low"] = after["change_low"].reindex(table.index)
    table["change_high"] = after["change_high"].reindex(table.index)
    table["change_p_value"] = after["change_p_value"].reindex(table.index)
    small = table["suppressed"] | (table["before_n"] < min_n)
    table.loc[small, ["before", "change", "change_low", "change_high", "change_p_value"]] = float("nan")
    # Against its own past, adjusted across segments like the difference from the rest.
    table["change_p_adjusted"] = adjust_p_values(table["change_p_value"])
    return table


def monthly_heatmap_data(histogram: pd.DataFrame, dimension: str, choice: MetricChoice, min_n: int,
                         months: list[str]) -> pd.DataFrame:
    """`by_segment` per month (each month's segments against that month's rest), long format."""
    frames = []
    for month in months:
        counts = histogram[histogram["period"] == month]
        if counts.empty:
            continue
        table = by_segment(counts.groupby([dimension, "score"], as_index=False)["count"].sum(), dimension,
                           metric=choice.metric, scale=choice.scale, min_n=min_n)
        frames.append(table.reset_index().assign(month=month))
    if not frames:
        return pd.DataFrame()
    data = pd.concat(frames, ignore_index=True).rename(columns={dimension: "segment"})
    data["segment"] = data["segment"].astype(str)
    significant = data["p_adjusted"] < SIGNIFICANCE
    data["label"] = [("n<" + str(min_n)) if s else choice.format(v) + ("*" if sig else "")
                     for s, v, sig in zip(data["suppressed"], data["value"], significant)]
    return data


def heatmap(data: pd.DataFrame, choice: MetricChoice, dimension: str) -> alt.LayerChart:
    """Segments (rows) by month (columns), coloured by the metric; * marks a significant difference."""
    title = DIMENSIONS[dimension].label
    base = alt.Chart(data).encode(x=alt.X("month:O", title="Month"), y=alt.Y("segment:N", title=title))
    tooltip = ["segment:N", "month:O", alt.Tooltip("value:Q", format=".2f"), alt.Tooltip("low:Q", format=".2f"),
               alt.Tooltip("high:Q", format=".2f"), "n:Q", alt.Tooltip("difference:Q", format=".2f"),
               alt.Tooltip("p_adjusted:Q", format=".4f")]
    cells = base.mark_rect().encode(
        color=alt.Color("value:Q", title=choice.label.split(":")[0], scale=alt.Scale(scheme="redyellowgreen")),
        tooltip=tooltip)
    text = base.mark_text(fontSize=12).encode(text="label:N")
    return (cells + text).properties(height=max(160, 36 * data["segment"].nunique()))


def render() -> None:
    common.page_actor(access.READ_AGGREGATES)
    filters = common.global_filters()
    st.title("Segments")
    if filters is None:
        return
    definition = common.latest_definition(filters.survey)
    choices = metric_choices(definition)
    if not choices:
        st.info("This survey declares no metric (NPS, CSAT, effort, index items or ratings) to compare.")
        return
    left, middle, right = st.columns([2, 3, 1])
    dimension = left.selectbox("Split by", list(DIMENSIONS), format_func=lambda name: DIMENSIONS[name].label,
                               key="segments_dimension")
    choice = middle.selectbox("Metric", choices, format_func=lambda c: c.label, key="segments_metric")
    min_n = int(right.number_input("Minimum n", min_value=1, value=common.MIN_N_DEFAULT, step=1,
                                   key="segments_min_n",
                                   help="Segments with fewer answers are suppressed; under twice this, directional."))
    histogram = common.histogram(filters, choice.key, period="month", by=(dimension,))
    if histogram.empty:
        st.info("No answers to this question in the selected filters.")
        return
    histogram = histogram.assign(period=histogram["period"].astype(str))

    table = segment_table(histogram, dimension, choice, min_n)
    shown = display_table(table, dimension, choice)
    st.subheader(f"{plain(choice.label)} by {DIMENSIONS[dimension].label.lower()}")
    st.dataframe(highlight(shown), hide_index=True, width="stretch")
    st.caption(f"95% intervals; difference from all other segments together, Benjamini-Hochberg adjusted "
               f"across segments (highlighted when p < {SIGNIFICANCE}). Suppressed: n < {min_n}; "
               f"directional: n < {2 * min_n}.")
    st.download_button("Download the table (CSV)", common.table_csv(shown),
                       file_name=f"{filters.survey}-{choice.key}-by-{dimension}.csv", mime="text/csv")

    months = months_of(histogram)
    st.subheader("Recent change")
    recent_months = int(st.number_input("Recent window (months)", min_value=1, max_value=12,
                                        value=RECENT_MONTHS_DEFAULT, step=1, key="segments_recent_months"))
    if len(months) <= recent_months:
        st.info(f"The filtered dates cover {len(months)} month(s): widen them to compare the last "
                f"{recent_months} months with the months before.")
    else:
        window = months[-recent_months:]
        span = f"{window[0]} to {window[-1]}"
        recent = recent_change(histogram, dimension, choice, min_n, window)
        differs = recent["p_adjusted"] < SIGNIFICANCE
        moved = recent["change_p_adjusted"] < SIGNIFICANCE
        flagged = recent[(differs | moved) & ~recent["suppressed"]]
        for segment, row in flagged.iterrows():
            direction = "below" if row["difference"] < 0 else "above"
            own = "" if pd.isna(row["change"]) else (
                f"; against its own months before: {choice.format(row['change'], signed=True)} "
                f"(95% interval {choice.format(row['change_low'], signed=True)} to "
                f"{choice.format(row['change_high'], signed=True)}, adjusted p = {row['change_p_adjusted']:.4f})")
            st.warning(f"{DIMENSIONS[dimension].label} {plain(segment)}, {span}: {choice.format(row['value'])} "
                       f"(n = {int(row['n']):,}), {choice.format_gap(row['difference'])} {direction} the rest "
                       f"(adjusted p = {row['p_adjusted']:.4f}){own}.")
        if flagged.empty:
            st.success(f"No {DIMENSIONS[dimension].label.lower()} differs significantly from the rest or from "
                       f"its own earlier months over {span}.")
        recent_shown = pd.DataFrame({
            DIMENSIONS[dimension].label: recent.index.astype(str),
            f"before {window[0]}": recent["before"].round(2).to_numpy(),
            span: recent["value"].round(2).to_numpy(),
            "n (recent)": recent["n"].astype(int).to_numpy(),
            "status": status(recent).to_numpy(),
            "change": recent["change"].round(2).to_numpy(),
            "change low (95%)": recent["change_low"].round(2).to_numpy(),
            "change high (95%)": recent["change_high"].round(2).to_numpy(),
            "difference from rest": recent["difference"].round(2).to_numpy(),
            "p (BH-adjusted)": recent["p_adjusted"].round(4).to_numpy(),
            "change p (BH-adjusted)": recent["change_p_adjusted"].round(4).to_numpy(),
        })
        st.dataframe(recent_shown, hide_index=True, width="stretch")
        report.download_table(recent_shown, f"{filters.survey}-{choice.key}-{dimension}-recent-change.csv",
                              key="segments_recent_csv")

    heat_months = months[-HEATMAP_MONTHS:]
    data = monthly_heatmap_data(histogram, dimension, choice, min_n, heat_months)
    if not data.empty:
        st.subheader(f"Month by month, last {len(heat_months)} months")
        chart = heatmap(data, choice, dimension)
        st.altair_chart(chart, width="stretch")
        report.download_chart(chart, f"{filters.survey}-{choice.key}-{dimension}-by-month", key="segments_chart")
        st.caption(f"* differs from the other segments that month (BH-adjusted p < {SIGNIFICANCE}); "
                   f"n<{min_n}: suppressed.")


render()
