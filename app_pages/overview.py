"""Overview: the selected survey's headline scores with their uncertainty, and its response volume."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from analysis import csat, nps_from_counts
from app_pages import common


def monthly_nps(histogram: pd.DataFrame) -> pd.DataFrame:
    """NPS with its interval and n per month, from score counts."""
    rows = []
    for period, counts in histogram.groupby("period"):
        by_score = counts.set_index("score")["count"]
        estimate = nps_from_counts(int(by_score[by_score.index <= 6].sum()),
                                   int(by_score[(by_score.index >= 7) & (by_score.index <= 8)].sum()),
                                   int(by_score[by_score.index >= 9].sum()))
        rows.append({"period": pd.Timestamp(period + "-01"), "nps": estimate.value, "low": estimate.low,
                     "high": estimate.high, "n": estimate.n})
    return pd.DataFrame(rows)


def nps_chart(frame: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(frame).encode(x=alt.X("period:T", title="Month"))
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("low:Q", title="NPS (95% interval)"), y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="nps:Q", tooltip=[alt.Tooltip("period:T", format="%b %Y"), alt.Tooltip("nps:Q", format=".1f"),
                            alt.Tooltip("low:Q", format=".1f"), alt.Tooltip("high:Q", format=".1f"), "n:Q"])
    return band + line


def volume_chart(frame: pd.DataFrame) -> alt.Chart:
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

    nps_questions = definition.metric_questions("nps")
    csat_questions = definition.metric_questions("csat")
    columns = st.columns(3)
    columns[0].metric("Responses", f"{summary.responses:,}")
    if nps_questions:
        histogram = common.score_histogram(summary.slug, nps_questions[0].key)
        totals = histogram.groupby("score")["count"].sum()
        estimate = nps_from_counts(int(totals[totals.index <= 6].sum()),
                                   int(totals[(totals.index >= 7) & (totals.index <= 8)].sum()),
                                   int(totals[totals.index >= 9].sum()))
        columns[1].metric("NPS, all time", f"{estimate.value:+.1f}",
                          help=f"95% interval {estimate.low:+.1f} to {estimate.high:+.1f}, n = {estimate.n:,}")
        columns[1].caption(f"95% interval {estimate.low:+.1f} to {estimate.high:+.1f} · n = {estimate.n:,}")
        st.subheader("NPS by month")
        st.altair_chart(nps_chart(monthly_nps(histogram)), width="stretch")
    if csat_questions:
        question = csat_questions[0]
        histogram = common.score_histogram(summary.slug, question.key)
        scores = histogram.groupby("score")["count"].sum()
        estimate = csat(scores.index.repeat(scores.to_numpy()),
                        scale=(question.scale.min, question.scale.max))
        columns[2].metric("CSAT (top two boxes), all time", f"{estimate.value:.1f}%")
        columns[2].caption(f"95% interval {estimate.low:.1f}% to {estimate.high:.1f}% · n = {estimate.n:,}")

    st.subheader("Responses by month and channel")
    st.altair_chart(volume_chart(common.response_volume(summary.slug)), width="stretch")

    st.subheader("All surveys")
    st.dataframe(pd.DataFrame([vars(s) for s in common.surveys()]), hide_index=True, width="stretch")


render()
