"""Overview: the selected survey's headline scores with their uncertainty, and its response volume."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from analysis import by_segment, trend
from app_pages import common

ALL = "all responses"


def overall(histogram: pd.DataFrame, metric: str, scale: tuple[int, int]) -> pd.Series:
    """One estimate over every period (value, low, high, n; NaN when under the minimum n)."""
    table = by_segment(histogram.assign(total=ALL), "total", metric=metric, scale=scale)
    return table.loc[ALL]


def estimate_tile(column, label: str, row: pd.Series, unit: str = "", signed: bool = False) -> None:
    """A metric tile with its 95% interval and n; suppressed when the group is too small."""
    if row["suppressed"]:
        column.metric(label, "suppressed")
        column.caption(f"n = {int(row['n']):,}: too few answers to show a figure")
        return
    number = f"{{:{'+' if signed else ''}.1f}}"
    column.metric(label, number.format(row["value"]) + unit)
    column.caption(f"95% interval {number.format(row['low'])}{unit} to {number.format(row['high'])}{unit} · "
                   f"n = {int(row['n']):,}")


def nps_chart(frame: pd.DataFrame) -> alt.Chart:
    """Monthly NPS as a line with its 95% interval as a band; n in the tooltip."""
    base = alt.Chart(frame).encode(x=alt.X("period:T", title="Month"))
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("low:Q", title="NPS (95% interval)"), y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="value:Q", tooltip=[alt.Tooltip("period:T", format="%b %Y"), alt.Tooltip("value:Q", format=".1f", title="NPS"),
                              alt.Tooltip("low:Q", format=".1f"), alt.Tooltip("high:Q", format=".1f"), "n:Q"])
    return band + line


def volume_chart(frame: pd.DataFrame) -> alt.Chart:
    """Responses per month, stacked by channel."""
    frame = frame.assign(period=pd.to_datetime(frame["period"] + "-01"))
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("period:T", title="Month"), y=alt.Y("responses:Q", title="Responses"),
        color=alt.Color("channel:N", title="Channel"), tooltip=["period:T", "channel:N", "responses:Q"])


def render() -> None:
    summary = common.choose_survey()
    if summary is None:
        return
    definition = common.latest_definition(summary.slug)
    st.title(summary.title)
    st.caption(f"Touchpoint: {summary.touchpoint or 'not set'} · version {summary.versions} · "
               f"{summary.responses:,} responses")

    columns = st.columns(4)
    columns[0].metric("Responses", f"{summary.responses:,}")
    nps_questions = definition.metric_questions("nps")
    if nps_questions:
        histogram = common.score_histogram(summary.slug, nps_questions[0].key)
        estimate_tile(columns[1], "NPS, all time", overall(histogram, "nps", (0, 10)), signed=True)
        st.subheader("NPS by month")
        monthly = trend(histogram, period="M", metric="nps").reset_index()
        st.altair_chart(nps_chart(monthly), width="stretch")
    csat_questions = definition.metric_questions("csat")
    if csat_questions:
        question = csat_questions[0]
        histogram = common.score_histogram(summary.slug, question.key)
        estimate_tile(columns[2], "CSAT (top two boxes), all time",
                      overall(histogram, "csat", (question.scale.min, question.scale.max)), unit="%")
    ces_questions = definition.metric_questions("ces")
    if ces_questions:
        question = ces_questions[0]
        histogram = common.score_histogram(summary.slug, question.key)
        estimate_tile(columns[3], f"Effort score (mean, {question.scale.min}-{question.scale.max}), all time",
                      overall(histogram, "ces", (question.scale.min, question.scale.max)))

    st.subheader("Responses by month and channel")
    st.altair_chart(volume_chart(common.response_volume(summary.slug)), width="stretch")

    st.subheader("All surveys")
    st.dataframe(pd.DataFrame([vars(s) for s in common.surveys()]), hide_index=True, width="stretch")


render()
