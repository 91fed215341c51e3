"""Segments: a metric per segment with its interval and n, tested against the rest, and what changed lately.

One query counts the scores per (segment, month, score) in the database; the table, the recent
window and the month-by-segment heatmap are all `analysis.by_segment` / `analysis.trend` over
that histogram. Every table passes through `app_pages.figures.publish` before it is shown or
downloaded: small segments are suppressed (with complementary suppression over the published
totals, and a field manager's scope) or marked directional.

Multiplicity: each table is one family. The segment table's differences from the rest are
Benjamini-Hochberg adjusted across its segments; the recent-change table's two kinds of test
(against the rest, against its own past) are adjusted together across segments; the heatmap's
cells are adjusted together across every segment and month shown.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from analysis import adjust_p_values, by_segment, trend
from app_pages import charts, common, figures, labels, report
from survey.people import access
from app_pages.metrics import MetricChoice, metric_choices
from app_pages.text import plain
from survey.storage.filters import DIMENSIONS

SIGNIFICANCE = 0.05
HEATMAP_MONTHS = 6
RECENT_MONTHS_DEFAULT = 4


# Every figure of a segment that disclosure control may hide.
FIGURES = ["value", "low", "high", "se", "spread", "difference", "difference_low", "difference_high", "p_value",
           "p_adjusted"]


def status(table: pd.DataFrame) -> pd.Series:
    """The published status ("suppressed ...") or "directional" (n < 2 min n) or "" per segment."""
    published = table["status"] if "status" in table.columns else pd.Series("", index=table.index)
    return pd.Series([p if p.startswith("suppressed") else "suppressed" if s else "directional" if d else ""
                      for p, s, d in zip(published.astype(str), table["suppressed"], table["directional"])],
                     index=table.index)


def published_segments(table: pd.DataFrame, min_n: int, outside: pd.Series | None = None,
                       figures_to_hide: list[str] = FIGURES) -> figures.Published:
    """`by_segment`'s table through the publishing layer: one line (the total over the segments)."""
    published = figures.publish(table.assign(status=""), figures_to_hide, min_n, lines=[[]], outside=outside,
                                hidden=table["suppressed"])
    frame = published.table
    frame["suppressed"] = frame["status"].astype(str).str.startswith("suppressed")
    return published


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


def highlight(shown: pd.DataFrame) -> tuple[object, dict]:
    """Styler of the table as shown (with its column_config): significant differences in colour
    (green above the rest, red below), suppressed in grey."""
    styles = []
    for _, row in shown.iterrows():
        if str(row["status"]).startswith("suppressed"):
            styles.append("color: gray")
        elif row["significant"] == "yes":
            styles.append("background-color: #d8f0d8" if row["difference from rest"] > 0 else "background-color: #f8d7d7")
        else:
            styles.append("")
    table, config = labels.displayable(shown.reset_index(drop=True), digits=2,
                                        headers={"significant": "Significant", "status": "Shown as"},
                                        formats={"significant": lambda v: "Yes" if v == "yes" else ""})
    return table.style.apply(lambda row: [styles[row.name]] * len(row), axis=1), config


def months_of(histogram: pd.DataFrame) -> list[str]:
    """Calendar months ('YYYY-MM') from the first to the last month in the histogram."""
    if histogram.empty:
        return []
    periods = pd.PeriodIndex(histogram["period"].astype(str), freq="M")
    return [str(p) for p in pd.period_range(periods.min(), periods.max(), freq="M")]


def recent_change(histogram: pd.DataFrame, dimension: str, choice: MetricChoice, min_n: int,
                  months: list[str], outside_recent: pd.DataFrame | None = None,
                  outside_before: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str]:
    """Each segment over the recent `months` against the rest and against its own past, published;
    the p-values of both kinds are Benjamini-Hochberg adjusted together (one family). Returns the
    table and the line saying what was hidden."""
    recent = histogram["period"].isin(months)
    counts = histogram[recent].groupby([dimension, "score"], as_index=False)["count"].sum()
    table = by_segment(counts, dimension, metric=choice.metric, scale=choice.scale, min_n=min_n)
    published = published_segments(table, min_n, common.outside_for(table.reset_index(), outside_recent, [dimension]))
    table = published.table
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
    # The months before are a table of their own (their total is published too): small ones and
    # complementary ones are hidden, and a change is shown only when both sides are.
    before_cells = table.reset_index()[[dimension]].assign(n=table["before_n"].to_numpy(),
                                                          before=table["before"].to_numpy())
    before = figures.publish(before_cells, ["before"], min_n, lines=[[]], floor=published.floor,
                             outside=common.outside_for(before_cells, outside_before, [dimension]),
                             status_column=None)
    before_hidden = before.table["before"].isna().to_numpy()
    table["before"] = before.table["before"].to_numpy()
    small = table["suppressed"].to_numpy() | before_hidden
    table.loc[small, ["change", "change_low", "change_high", "change_p_value"]] = float("nan")
    # One family: the differences from the rest and the changes against the own past, together.
    both = adjust_p_values(pd.concat([table["p_value"], table["change_p_value"]], ignore_index=True))
    table["p_adjusted"] = both.iloc[:len(table)].to_numpy()
    table["change_p_adjusted"] = both.iloc[len(table):].to_numpy()
    notes = [note for note in (published.note("segment"), before.note("segment").replace("Hidden:", "Before the window, hidden:")) if note]
    return table, " ".join(notes)


def monthly_heatmap_data(histogram: pd.DataFrame, dimension: str, choice: MetricChoice, min_n: int,
                         months: list[str], window: list[str] | None = None,
                         outside: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str]:
    """`by_segment` per month (each month's segments against that month's rest), long format, published
    as a two-way table: each month's total, each segment's total over the months shown and over the
    recent `window` are lines of the complementary suppression. The p-values of every cell shown are
    Benjamini-Hochberg adjusted together (one family: the whole heatmap)."""
    frames = []
    for month in months:
        counts = histogram[histogram["period"] == month]
        if counts.empty:
            continue
        table = by_segment(counts.groupby([dimension, "score"], as_index=False)["count"].sum(), dimension,
                           metric=choice.metric, scale=choice.scale, min_n=min_n)
        frames.append(table.reset_index().assign(month=month))
    if not frames:
        return pd.DataFrame(), ""
    data = pd.concat(frames, ignore_index=True)
    data["in_window"] = data["month"].isin(window or [])
    data, coarser = figures.with_coarser_periods(data, "month", "month", [dimension])
    published = figures.publish(data.assign(status=""), FIGURES, min_n,
                                lines=[["month"], [dimension], [dimension, "in_window"], *coarser],
                                outside=common.outside_for(data.rename(columns={"month": "period"}), outside,
                                                           [dimension, "period"]),
                                hidden=data["suppressed"])
    data = published.table.rename(columns={dimension: "segment"})
    data["suppressed"] = data["status"].astype(str).str.startswith("suppressed")
    data["segment"] = data["segment"].astype(str)
    data["p_adjusted"] = adjust_p_values(data["p_value"]).to_numpy()
    significant = data["p_adjusted"] < SIGNIFICANCE
    data["label"] = [("hidden" if s else choice.format(v) + ("*" if sig else ""))
                     for s, v, sig in zip(data["suppressed"], data["value"], significant)]
    return data.drop(columns=["in_window", *(c for c in data.columns if c.startswith("within_"))]), published.note("cell")


def heatmap(data: pd.DataFrame, choice: MetricChoice, dimension: str) -> alt.LayerChart:
    """Segments (rows) by month (columns), coloured by the metric; * marks a significant difference."""
    title = DIMENSIONS[dimension].label
    base = alt.Chart(data).encode(x=alt.X("month:O", title="Month"), y=alt.Y("segment:N", title=title, axis=alt.Axis(labelOverlap=False)))
    tooltip = [alt.Tooltip("segment:N", title=title), alt.Tooltip("month:O", title="Month"),
               alt.Tooltip("value:Q", format=".2f", title=choice.axis_title), alt.Tooltip("low:Q", format=".2f", title="95% low"),
               alt.Tooltip("high:Q", format=".2f", title="95% high"), alt.Tooltip("n:Q", format=","),
               alt.Tooltip("difference:Q", format=".2f", title="Difference from the rest"),
               alt.Tooltip("p_adjusted:Q", format=".3f", title="p (adjusted)")]
    cells = base.mark_rect().encode(
        color=alt.Color("value:Q", title=choice.axis_title, scale=alt.Scale(scheme="redyellowgreen")),
        tooltip=tooltip)
    text = base.mark_text(fontSize=12).encode(text="label:N")
    # A row per segment at least ROW_HEIGHT high, and every label drawn (Vega hides overlapping ones).
    return (cells + text).properties(height=max(charts.HEIGHT, charts.ROW_HEIGHT * data["segment"].nunique()))


def render() -> None:
    actor = common.page_actor(access.READ_AGGREGATES)
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
    min_n = figures.min_n_input(right, "segments_min_n",
                                "Segments with fewer answers are suppressed; under twice this, directional.")
    histogram = common.histogram(filters, choice.key, period="month", by=(dimension,))
    if histogram.empty:
        st.info("No answers to this question in the selected filters.")
        return
    histogram = histogram.assign(period=histogram["period"].astype(str))

    table = segment_table(histogram, dimension, choice, min_n)
    published = published_segments(table, min_n, common.outside_for(
        table.reset_index(), common.outside_scope(filters, choice.key, actor, None, (dimension,)), [dimension]))
    table = published.table
    shown = display_table(table, dimension, choice)
    st.subheader(f"{plain(choice.label)} by {DIMENSIONS[dimension].label.lower()}")
    styled, config = highlight(shown)
    st.dataframe(styled, hide_index=True, width="stretch", column_config=config)
    st.caption(f"95% intervals; difference from all other segments together. One family: Benjamini-Hochberg "
               f"adjusted across the segments of this table (highlighted when p < {SIGNIFICANCE}). "
               f"Suppressed: n < {min_n}; directional: n < {2 * min_n}. "
               + (published.note("segment") or "Nothing hidden."))
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
        window_start = pd.Period(window[0], freq="M").start_time.date()
        recent_filters = dataclasses.replace(filters, start=max(filters.start or window_start, window_start))
        before_filters = (dataclasses.replace(filters, end=window_start - timedelta(days=1))
                          if not filters.start or filters.start < window_start else None)
        recent, recent_note = recent_change(
            histogram, dimension, choice, min_n, window,
            common.outside_scope(recent_filters, choice.key, actor, None, (dimension,)),
            common.outside_scope(before_filters, choice.key, actor, None, (dimension,)) if before_filters else None)
        differs = recent["p_adjusted"] < SIGNIFICANCE
        moved = recent["change_p_adjusted"] < SIGNIFICANCE
        flagged = recent[(differs | moved) & ~recent["suppressed"]]
        for segment, row in flagged.iterrows():
            direction = "below" if row["difference"] < 0 else "above"
            own = "" if pd.isna(row["change"]) else (
                f"against its own months before: {choice.format(row['change'], signed=True)} "
                f"(95% interval {choice.format(row['change_low'], signed=True)} to "
                f"{choice.format(row['change_high'], signed=True)}, {labels.p_text(row['change_p_adjusted'], 'adjusted p')})")
            # With a single segment left there is no rest to compare with: say only what can be said.
            rest = "" if pd.isna(row["difference"]) or pd.isna(row["p_adjusted"]) else (
                f"{choice.format_gap(row['difference'])} {direction} the rest ({labels.p_text(row['p_adjusted'], 'adjusted p')})")
            st.warning(f"{DIMENSIONS[dimension].label} {plain(segment)}, {span}: {choice.format(row['value'])} "
                       f"(n = {int(row['n']):,}), " + "; ".join(part for part in (rest, own) if part) + ".")
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
        labels.show_table(recent_shown, digits=2)
        st.caption("One family: the differences from the rest and the changes against the own months before, "
                   "Benjamini-Hochberg adjusted together across segments. " + (recent_note or "Nothing hidden."))
        report.download_table(recent_shown, f"{filters.survey}-{choice.key}-{dimension}-recent-change.csv",
                              key="segments_recent_csv")

    heat_months = months[-HEATMAP_MONTHS:]
    window = months[-recent_months:] if len(months) > recent_months else []
    data, heat_note = monthly_heatmap_data(histogram, dimension, choice, min_n, heat_months, window,
                                           common.outside_scope(filters, choice.key, actor, "month", (dimension,)))
    if not data.empty and data["suppressed"].all():
        st.subheader(f"Month by month, last {len(heat_months)} months")
        st.info(f"Every cell of the month-by-segment table is hidden. {heat_note} Widen the filters or choose a "
                "coarser split.")
    elif not data.empty:
        st.subheader(f"Month by month, last {len(heat_months)} months")
        chart = heatmap(data, choice, dimension)
        st.altair_chart(chart, width="stretch")
        report.download_chart(chart, f"{filters.survey}-{choice.key}-{dimension}-by-month", key="segments_chart")
        st.caption(f"A cell marked with an asterisk differs from the other segments that month (p < {SIGNIFICANCE}, one family: "
                   f"Benjamini-Hochberg adjusted across every cell of the heatmap). "
                   + (heat_note or "Nothing hidden."))


if __name__ == "__main__":  # Streamlit runs a page as __main__; importing it (tests) renders nothing
    render()
