"""Follow-up: how well the loop is closed, for managers and admins.

Open, overdue and resolved cases per field manager and region; the median time to first contact;
the share contacted within the due date and the recovery rate, each with its interval and n; root
causes over time, with an alert when a category jumps above its control limit (the p-chart logic
of Trends). Figures come from `survey.followup.queries.figures`, scoped to the signed-in user.
"""

from __future__ import annotations

import altair as alt
import streamlit as st

from app_pages import charts, common, labels
from app_pages.text import plain
from survey.people import access
from survey.storage import db
from survey.people.access import Actor
from survey.followup import queries as followup

ALL = "(all surveys)"


@st.cache_data(ttl=60, show_spinner=False)
def _figures(url: str, actor: Actor, survey_slug: str | None) -> followup.Figures:
    return followup.figures(common.engine_for(url), actor, survey_slug)


def _share(estimate) -> tuple[str, str]:
    if estimate.n == 0:
        return "-", "no cases yet"
    return f"{estimate.value:.0f}%", f"95% interval {estimate.low:.0f}-{estimate.high:.0f}%, n = {estimate.n:,}"


def render() -> None:
    actor = common.page_actor(access.FOLLOW_UP_OVERVIEW)
    st.title("Follow-up")
    common.engine()
    slugs = [s.slug for s in common.surveys()]
    chosen = st.selectbox("Survey", [ALL, *slugs], key="follow_up_survey")
    figures = _figures(db.database_url(), actor, None if chosen == ALL else chosen)
    totals = figures.by_owner[["open", "overdue", "resolved"]].sum()
    tiles = st.columns(6)
    tiles[0].metric("Open cases", f"{int(totals['open']):,}")
    tiles[1].metric("Overdue", f"{int(totals['overdue']):,}")
    tiles[2].metric("Resolved", f"{int(totals['resolved']):,}")
    median = figures.median_hours_to_contact
    tiles[3].metric("Median time to first contact", "-" if median is None else f"{median:.1f} h")
    value, caption = _share(figures.contacted_in_time)
    tiles[4].metric("Contacted within due date", value)
    tiles[4].caption(caption)
    value, caption = _share(figures.recovery)
    tiles[5].metric("Recovery rate", value, help="Resolved cases whose customer's next score is higher than the "
                                                 "flagged one, of those who answered again")
    tiles[5].caption(caption)

    for message in figures.root_cause_alerts:
        st.warning(plain(f"Root cause jump: {message}"))

    st.subheader("Per field manager")
    owners = figures.by_owner
    if not owners.empty:
        long = owners.melt(id_vars="owner", value_vars=["open", "overdue"], var_name="cases", value_name="count")
        long["cases"] = long["cases"].map({"open": "Open", "overdue": "Overdue"})
        chart = (alt.Chart(long).mark_bar()
                 .encode(x=alt.X("count:Q", axis=charts.count_axis("Cases")), y=alt.Y("owner:N", sort="-x", title=None),
                         color=alt.Color("cases:N", title="Cases", scale=alt.Scale(domain=["Open", "Overdue"],
                                                                                   range=["#4c78a8", "#d62728"])),
                         yOffset="cases:N", tooltip=[alt.Tooltip("owner:N", title="Owner"),
                                                     alt.Tooltip("cases:N", title="Cases"),
                                                     alt.Tooltip("count:Q", title="Count", format=",")])
                 .properties(height=max(charts.HEIGHT, charts.ROW_HEIGHT * len(owners))))
        st.altair_chart(chart, width="stretch")
    labels.show_table(owners)
    st.subheader("Per region")
    labels.show_table(figures.by_region)

    st.subheader("Root causes over time")
    causes = figures.root_causes
    if causes.empty:
        st.info("No resolved case with a root cause yet.")
        return
    causes = causes.assign(root_cause=causes["root_cause"].map(labels.header))
    chart = (alt.Chart(causes).mark_bar()
             .encode(x=alt.X("month:O", title="Month resolved"), y=alt.Y("count:Q", axis=charts.count_axis("Cases")),
                     color=alt.Color("root_cause:N", title="Root cause"),
                     tooltip=[alt.Tooltip("month:O", title="Month"), alt.Tooltip("root_cause:N", title="Root cause"),
                              alt.Tooltip("count:Q", title="Cases", format=",")])
             .properties(height=charts.HEIGHT))
    st.altair_chart(chart, width="stretch")
    labels.show_table(causes.pivot_table(index="month", columns="root_cause", values="count", aggfunc="sum",
                                         fill_value=0)
                      .reset_index(), headers={"month": "Month"})


render()
