"""Retention: do unhappy customers leave, why, and what is it costing? Satisfaction linked to what
customers did after they answered (purchases, renewals, defections).

Each customer counts once: from their first answer in the filtered responses to their defection,
or to the last day with data. Every figure carries its n; groups under the page's minimum n are
hidden through the publishing layer (`app_pages.figures`), and a field manager's figures rest on
their own customers only.
"""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from analysis import (defection_hazard, defection_rate_by, follow_up_effect, loyalty_levels, loyalty_movement,
                      retention_curve, revenue_at_risk)
from analysis.retention import retained_at
from app_pages import charts, common, figures, report
from survey.people.access import Actor
from survey.retention import queries
from survey.storage import db
from survey.storage.filters import Filters

CATEGORY_LABELS = {"detractor": "Detractors (0-6)", "passive": "Passives (7-8)", "promoter": "Promoters (9-10)"}
CATEGORY_COLOURS = ["#d62728", "#bcbd22", "#2ca02c"]
HORIZONS = {"90 days": 90, "180 days": 180, "a year": 365}
SEGMENT_LABELS = {"tier": "Tier", "region": "Region", "industry": "Industry", "score_band": "Score band"}
REASON_LABELS = {"service": "Service", "price": "Price", "product": "Product", "benefit": "Benefit",
                 "competitor": "Competitor", "personal": "Personal", "other": "Other"}
LEVEL_ORDER = ["loyal", "regular", "casual", "inactive", "left"]
LEVEL_LABELS = {"loyal": "Loyal", "regular": "Regular", "casual": "Casual", "inactive": "Bought nothing",
                "left": "Left"}
AFTER_CASE_DAYS = 30  # the follow-up comparison: defection within this many days of the case opening
SCORE_BANDS = ((0, 2, "0-2"), (3, 4, "3-4"), (5, 6, "5-6"), (7, 8, "7-8"), (9, 10, "9-10"))
HIDDEN = "hidden (small group)"


# --- loaders: cached per database, viewer and filters -------------------------------------------

@st.cache_data(ttl=60, show_spinner=False)
def _outcomes(url: str, actor: Actor, filters: Filters, question_key: str) -> tuple[pd.DataFrame, date | None]:
    engine = common.engine_for(url)
    return queries.customer_outcomes(engine, actor, filters, question_key), queries.data_end(engine)


@st.cache_data(ttl=60, show_spinner=False)
def _purchase_months(url: str, actor: Actor, since: date) -> pd.DataFrame:
    return queries.purchase_months(common.engine_for(url), actor, since)


@st.cache_data(ttl=60, show_spinner=False)
def _cases(url: str, actor: Actor, survey_slug: str) -> pd.DataFrame:
    return queries.follow_up_cases(common.engine_for(url), actor, survey_slug)


@st.cache_data(ttl=60, show_spinner=False)
def _period_scores(url: str, actor: Actor, filters: Filters, question_key: str) -> pd.DataFrame:
    frame = queries.customer_outcomes(common.engine_for(url), actor, filters, question_key, latest=True)
    return frame[["customer_id", "score"]]


# --- the figures, from the frames ---------------------------------------------------------------

def category_of(score: pd.Series) -> pd.Series:
    """NPS category of a 0-10 score."""
    return pd.Series(np.where(score <= 6, "detractor", np.where(score <= 8, "passive", "promoter")), index=score.index)


def with_durations(frame: pd.DataFrame, end: date) -> pd.DataFrame:
    """Days from each customer's first answer to their defection (left = 1) or to `end` (left = 0).
    A defection before the answer does not count: the customer had left already."""
    start = frame["answered_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    left_on = pd.to_datetime(frame["defected_on"])
    left = left_on.notna() & (left_on >= start)
    stop = left_on.where(left, pd.Timestamp(end))
    out = frame.assign(duration=(stop - start).dt.days.clip(lower=0), left=left.astype(int),
                       category=category_of(frame["score"]))
    return out[(frame["defected_on"].isna()) | left]


def published_rates(table: pd.DataFrame, min_n: int, key: str) -> tuple[pd.DataFrame, str]:
    """A rate table through the publishing layer: groups under min n (and those that would reveal
    them from the total) hidden."""
    # Every figure of a hidden group goes, its outcome counts and book included: "0 customers remain"
    # of a group of one says as much as its defection rate
    published = figures.publish(table.assign(status=""), ["value", "low", "high", "se", "at_risk", "at_risk_low",
                                                          "at_risk_high", "defected", "unknown", "customers", "book"],
                                min_n, lines=[[]])
    return published.table, published.note(key)


def downloadable(published: pd.DataFrame) -> pd.DataFrame:
    """A published rate table as downloaded: the figures rounded, hidden ones blank, with n and status."""
    columns = [c for c in published.columns if c not in ("se",)]
    return published[columns].round({"value": 2, "low": 2, "high": 2, "at_risk": 0, "at_risk_low": 0,
                                     "at_risk_high": 0, "book": 0})


def percent(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:.1f}%"


def money(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:,.0f}"


def rate_table(published: pd.DataFrame, label: str, column: str, names: dict | None = None) -> pd.DataFrame:
    """The table as shown: people's words, formatted figures, a dash where a figure is hidden."""
    hidden = published["status"].astype(str).str.startswith("suppressed")
    return pd.DataFrame({
        label: [(names or {}).get(v, str(v)) for v in published[column]],
        "customers (n)": published["n"].astype(int),
        "left": ["—" if h else f"{int(v)}" for h, v in zip(hidden, published["defected"].fillna(0))],
        "defection rate": [percent(v) for v in published["value"]],
        "95% interval": ["—" if pd.isna(lo) else f"{lo:.1f}% to {hi:.1f}%"
                         for lo, hi in zip(published["low"], published["high"])],
        "shown": [("hidden: would reveal a small group" if "complementary" in status else "hidden: under the minimum n")
                  if h else "" if n else "nobody followed for the whole horizon yet"
                  for h, n, status in zip(hidden, published["n"], published["status"].astype(str))],
    })


def curve_chart(curve: pd.DataFrame) -> alt.LayerChart:
    """Retention curves by NPS category with their 95% bands."""
    data = curve.assign(category=curve["group"].map(CATEGORY_LABELS), retained_pct=100 * curve["retained"],
                        low_pct=100 * curve["low"].fillna(0), high_pct=100 * curve["high"].fillna(0))
    colour = alt.Color("category:N", title="First answer", sort=list(CATEGORY_LABELS.values()),
                       scale=alt.Scale(domain=list(CATEGORY_LABELS.values()), range=CATEGORY_COLOURS),
                       legend=alt.Legend(orient="bottom", columns=3))
    x = alt.X("time:Q", title="Days after the answer")
    band = alt.Chart(data).mark_area(opacity=0.18, interpolate="step-after").encode(
        x=x, y=alt.Y("low_pct:Q", title="Still customers (%)", scale=alt.Scale(zero=False)), y2="high_pct:Q",
        color=colour)
    line = alt.Chart(data).mark_line(interpolate="step-after").encode(
        x=x, y="retained_pct:Q", color=colour,
        tooltip=[alt.Tooltip("category:N", title="First answer"), alt.Tooltip("time:Q", title="day"),
                 alt.Tooltip("retained_pct:Q", title="still customers (%)", format=".1f"),
                 alt.Tooltip("at_risk:Q", title="customers followed")])
    return (band + line).properties(height=320)


def rate_chart(published: pd.DataFrame, column: str, title: str, names: dict | None = None) -> alt.LayerChart:
    """Defection rates with their 95% intervals, one bar per group (hidden groups left out)."""
    data = published[~published["status"].astype(str).str.startswith("suppressed")].copy()
    data["group"] = [(names or {}).get(v, str(v)) for v in data[column]]
    return interval_bars(data, "value", "low", "high", title, "Left within the horizon (%)", "#4c78a8",
                         [alt.Tooltip("value:Q", title="rate (%)", format=".1f"), alt.Tooltip("n:Q", title="customers")])


def rows_height(rows: int) -> int:
    """A bar chart's height: a row of `charts.ROW_HEIGHT` per bar, and never under 240 px (a chart of
    two or three bars stays readable beside the page's other charts)."""
    return max(240, charts.ROW_HEIGHT * rows)


def interval_bars(data: pd.DataFrame, value: str, low: str, high: str, title: str, axis_title: str, colour: str,
                  tooltip: list) -> alt.LayerChart:
    """Horizontal bars with a 95% interval line each; the axis reaches the highest interval end."""
    highs = pd.to_numeric(data[high], errors="coerce").dropna()
    top = float(highs.max()) * 1.05 if len(highs) and highs.max() > 0 else 1.0
    base = alt.Chart(data).encode(y=alt.Y("group:N", title=title, sort=list(data["group"]),
                                          axis=alt.Axis(labelOverlap=False, labelLimit=200)))
    bars = base.mark_bar(color=colour, size=18).encode(
        x=alt.X(f"{value}:Q", title=axis_title, scale=alt.Scale(domain=[0, top])),
        tooltip=[alt.Tooltip("group:N", title=title), *tooltip])
    rule = base.mark_rule(color="#222", strokeWidth=1.5).encode(x=f"{low}:Q", x2=f"{high}:Q")
    return (bars + rule).properties(height=rows_height(data["group"].nunique()))


def half_year(days: pd.Series) -> pd.Series:
    return days.dt.year.astype(str) + np.where(days.dt.month <= 6, " H1", " H2")


PERIODS = {"quarter": lambda days: pd.PeriodIndex(days, freq="Q").astype(str).str.replace("Q", " Q"),
           "half-year": half_year, "year": lambda days: days.dt.year.astype(str)}


def reasons_by_period(frame: pd.DataFrame, min_n: int) -> tuple[pd.DataFrame, str, int]:
    """Share of each reason among a period's defections, by quarter when most quarters have min n
    defections, else by half-year, else by year; periods with fewer than min n defections are left
    out (their number is returned)."""
    left = frame[frame["left"] == 1].dropna(subset=["reason"])
    if left.empty:
        return pd.DataFrame(columns=["period", "reason", "share", "count", "n"]), "quarter", 0
    days = pd.Series(pd.to_datetime(left["defected_on"]).to_numpy(), index=left.index)
    for name, label in PERIODS.items():
        period = pd.Series(np.asarray(label(days)), index=left.index)
        if period.value_counts().median() >= min_n or name == "year":
            break
    counts = left.assign(period=period).groupby(["period", "reason"]).size().rename("count").reset_index()
    totals = counts.groupby("period")["count"].transform("sum")
    counts["n"], counts["share"] = totals, 100 * counts["count"] / totals
    counts["reason"] = counts["reason"].map(lambda r: REASON_LABELS.get(r, str(r).capitalize()))
    small = counts.loc[counts["n"] < min_n, "period"].nunique()
    return counts[counts["n"] >= min_n], name, small


def loyalty_frame(outcomes: pd.DataFrame, months: pd.DataFrame, scores: dict[str, pd.DataFrame],
                  periods: dict[str, tuple[date, date]]) -> pd.DataFrame:
    """Each customer's level per period: casual / regular / loyal from the share of the period's
    months they bought in and their latest score in it; "left" once they defected."""
    rows = []
    for name, (first, last) in periods.items():
        span = pd.period_range(first, last, freq="M").astype(str)
        bought = months[months["month"].isin(span)].groupby("customer_id").size() / len(span)
        frame = outcomes[["customer_id", "defected_on"]].copy()
        frame["share"] = frame["customer_id"].map(bought).fillna(0.0)
        frame["score"] = frame["customer_id"].map(scores[name].set_index("customer_id")["score"])
        frame["level"] = loyalty_levels(frame["share"], frame["score"]).to_numpy()
        gone = (pd.to_datetime(frame["defected_on"]) <= pd.Timestamp(last)).fillna(False).astype(bool)
        frame.loc[gone, "level"] = "left"
        frame["period"] = name
        rows.append(frame[["customer_id", "period", "level"]])
    return pd.concat(rows, ignore_index=True)


def movement_chart(moves: pd.DataFrame) -> alt.Chart:
    """Where each level of the earlier period went in the later one (stacked shares)."""
    data = moves.assign(start=moves["from_level"].map(LEVEL_LABELS), now=moves["to_level"].map(LEVEL_LABELS))
    order = [LEVEL_LABELS[level] for level in LEVEL_ORDER]
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y("start:N", title="Previous year", sort=order, axis=alt.Axis(labelOverlap=False)),
        x=alt.X("share:Q", title="Share of the level's customers this year (%)", stack="normalize",
                axis=alt.Axis(format="%")),
        color=alt.Color("now:N", title="This year", sort=order, legend=alt.Legend(orient="bottom", columns=3),
                        scale=alt.Scale(domain=order, range=["#2ca02c", "#98df8a", "#ffbb78", "#c7c7c7", "#d62728"])),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("start:N", title="previous year"), alt.Tooltip("now:N", title="this year"),
                 alt.Tooltip("customers:Q"), alt.Tooltip("share:Q", title="share (%)", format=".1f")],
    ).transform_calculate(order=f"indexof({order}, datum.now)").properties(height=rows_height(data["start"].nunique()))


def score_band(score: pd.Series) -> pd.Series:
    """The flagged score's band (0-2, 3-4, ...), for matching."""
    labels = pd.Series("", index=score.index, dtype=object)
    for low, high, label in SCORE_BANDS:
        labels[(score >= low) & (score <= high)] = label
    return labels


def case_outcomes(cases: pd.DataFrame, outcomes: pd.DataFrame, end: date) -> pd.DataFrame:
    """Flagged customers whose first case opened at least AFTER_CASE_DAYS before `end` and who had
    not left when it opened: whether it was resolved by its due time, and whether they left within
    AFTER_CASE_DAYS of its opening."""
    if cases.empty:
        return pd.DataFrame(columns=["resolved", "left", "band", "tier"])
    frame = cases.merge(outcomes[["customer_id", "tier", "defected_on"]], on="customer_id", how="inner")
    opened = frame["opened_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    frame = frame[opened <= pd.Timestamp(end) - pd.Timedelta(days=AFTER_CASE_DAYS)]
    opened = opened[frame.index]
    left_on = pd.to_datetime(frame["defected_on"])
    frame = frame[left_on.isna() | (left_on >= opened)]
    left_on, opened = left_on[frame.index], opened[frame.index]
    in_time = (frame["status"] == "resolved") & frame["closed_at"].notna() & (
        frame["due_at"].isna() | (frame["closed_at"] <= frame["due_at"]))
    return pd.DataFrame({"resolved": in_time.astype(bool),
                         "left": (left_on.notna() & ((left_on - opened).dt.days <= AFTER_CASE_DAYS)).astype(bool),
                         "band": score_band(frame["flagged_score"]), "tier": frame["tier"].fillna("(not set)")})


# --- the page -----------------------------------------------------------------------------------

def render() -> None:
    if (started := common.customer_nps_page("Retention")) is None:
        return
    actor, filters, definition, question = started
    min_n = figures.min_n_input(st.sidebar, "retention_min_n", "Groups of fewer customers are not shown.")
    url = db.database_url()
    outcomes, end = _outcomes(url, actor, filters, question.key)
    if outcomes.empty or end is None:
        st.info("No customer answered in the selected filters.")
        return
    frame = with_durations(outcomes, end)
    frame["score_band"] = score_band(frame["score"])  # satisfaction bands finer than the NPS categories
    if frame["left"].sum() == 0:
        st.info("No customer events yet: import purchases, renewals and defections with "
                "`python -m survey events import FILE` or the API (POST /api/v1/customer-events).")
        return
    scope = "of your customers" if not actor.sees_every_customer else "customers"
    st.caption(f"{len(frame):,} {scope} answered; each is followed from their first answer in the selected "
               f"responses to when they left or to {end:%d %B %Y} (the last day with data). "
               f"{int(frame['left'].sum()):,} left.")
    if len(frame) < min_n:
        st.info(f"Fewer than {min_n} customers in the selection: no figure is shown.")
        return

    # The headline figures: one per planted question a manager asks
    year = defection_rate_by(frame, "duration", "left", "category", horizon=365)
    year_published, year_note = published_rates(year, min_n, "group")
    by_category = year_published.set_index("category")
    tiles = st.columns(4)
    detractors, promoters = (by_category["value"].get(c, np.nan) for c in ("detractor", "promoter"))
    tiles[0].metric("Detractors who left in a year", percent(detractors))
    tiles[0].caption(f"promoters: {percent(promoters)}"
                     + (f" · {detractors / promoters:.1f} times as often" if promoters and promoters > 0
                        and not pd.isna(detractors) else "")
                     + f" · n = {int(by_category['n'].get('detractor', 0)):,} and "
                       f"{int(by_category['n'].get('promoter', 0)):,}")
    counts = frame["category"].value_counts()
    hazard = None
    if all(counts.get(c, 0) >= min_n for c in CATEGORY_LABELS):
        covariates = ["category"] + (["tier"] if frame["tier"].notna().all() and frame["tier"].nunique() > 1 else [])
        hazard = defection_hazard(frame, "duration", "left", covariates, reference={"category": "promoter"})
        ratio = hazard.loc["category=detractor"]
        tiles[1].metric("Detractors' hazard ratio", f"{ratio['hazard_ratio']:.2f}")
        tiles[1].caption(f"against promoters · 95% interval {ratio['low']:.2f} to {ratio['high']:.2f} · Cox model"
                         + (" adjusted for tier" if "tier" in covariates else "") + f" · n = {int(ratio['n']):,}")
    else:
        tiles[1].metric("Detractors' hazard ratio", "—")
        tiles[1].caption(f"needs {min_n} customers in each NPS category")
    reasons = frame.loc[frame["left"] == 1, "reason"].dropna()
    if len(reasons) >= min_n:
        service = 100 * float((reasons == "service").mean())
        tiles[2].metric("Service as the reason for leaving", percent(service))
        top = reasons.value_counts().index[0]
        tiles[2].caption(f"of {len(reasons):,} defections · most given: {REASON_LABELS.get(top, top).lower()}")
    else:
        tiles[2].metric("Service as the reason for leaving", "—")
        tiles[2].caption(f"fewer than {min_n} defections with a reason")
    risk_total = revenue_at_risk(frame.assign(all="all"), "annual_value", "duration", "left", "all", horizon=365)
    risk_total_published, _ = published_rates(risk_total, min_n, "group")
    total = risk_total_published.iloc[0]
    tiles[3].metric("Revenue at risk, next year", money(total["at_risk"]))
    if pd.isna(total["at_risk"]):
        tiles[3].caption(f"needs {min_n} customers followed for a year or more")
    else:
        tiles[3].caption(f"95% interval {money(total['at_risk_low'])} to {money(total['at_risk_high'])} · "
                         f"{int(total['customers']):,} remaining customers")

    st.subheader("Who stays: retention by NPS category")
    curve = retention_curve(frame["duration"], frame["left"], groups=frame["category"])
    # Each curve ends where fewer customers than the floor are still followed: a step there is one person
    curve = curve[curve["group"].map(lambda c: counts.get(c, 0) >= min_n) & (curve["at_risk"] >= figures.floor())]
    hidden_curves = [CATEGORY_LABELS[c] for c in CATEGORY_LABELS if 0 < counts.get(c, 0) < min_n]
    st.altair_chart(curve_chart(curve), width="stretch")
    at_year = [f"{CATEGORY_LABELS[c].split(' ')[0].lower()} {100 * retained_at(curve[curve['group'] == c], [365])['retained'].iloc[0]:.0f}%"
               f" (n = {counts.get(c, 0):,})" for c in CATEGORY_LABELS if counts.get(c, 0) >= min_n]
    st.caption("Kaplan-Meier curves with 95% Greenwood bands"
               + ("; still customers after a year: " + ", ".join(at_year) if at_year else "")
               + (f". Not shown (under n = {min_n}): {', '.join(hidden_curves)}." if hidden_curves else "."))
    if hazard is not None:
        st.caption(f"Cox proportional hazards: detractors leave at {hazard.loc['category=detractor', 'hazard_ratio']:.2f} "
                   f"times the promoters' rate at any time, passives at "
                   f"{hazard.loc['category=passive', 'hazard_ratio']:.2f} times"
                   + (", with tier held equal." if "tier=" in " ".join(hazard.index) else "."))

    st.subheader("Defection rates")
    left_column, right_column = st.columns(2)
    horizon_label = left_column.selectbox("Within", list(HORIZONS), index=2, key="retention_horizon")
    horizon = HORIZONS[horizon_label]
    segment = right_column.selectbox("By segment", list(SEGMENT_LABELS), format_func=SEGMENT_LABELS.get,
                                     key="retention_segment")
    rates = defection_rate_by(frame, "duration", "left", "category", horizon=horizon)
    rates_published, rates_note = published_rates(rates, min_n, "group")
    left_column.altair_chart(rate_chart(rates_published, "category", "First answer", CATEGORY_LABELS), width="stretch")
    left_column.dataframe(rate_table(rates_published, "first answer", "category", CATEGORY_LABELS), hide_index=True,
                          width="stretch")
    with left_column:
        report.download_table(downloadable(rates_published), f"{filters.survey}-defection-by-category.csv",
                              key="retention_rates_csv")
    by_segment = defection_rate_by(frame.dropna(subset=[segment]), "duration", "left", segment, horizon=horizon)
    segment_published, segment_note = published_rates(by_segment, min_n, "segment")
    right_column.altair_chart(rate_chart(segment_published, segment, SEGMENT_LABELS[segment]), width="stretch")
    right_column.dataframe(rate_table(segment_published, SEGMENT_LABELS[segment].lower(), segment), hide_index=True,
                           width="stretch")
    with right_column:
        report.download_table(downloadable(segment_published), f"{filters.survey}-defection-by-{segment}.csv",
                              key="retention_segment_csv")
    unknown = int(rates["unknown"].sum())
    st.caption(f"Share who left within {horizon_label} of their first answer, with 95% Wilson intervals. "
               f"{unknown:,} customers answered less than {horizon_label} before the last day and had not left: "
               "they are not counted yet. " + " ".join(n for n in (rates_note, segment_note) if n))

    st.subheader("Why customers leave")
    shares, period_name, small_periods = reasons_by_period(frame, min_n)
    if shares.empty:
        st.info(f"No year has {min_n} or more defections with a reason yet.")
    else:
        order = [label for label in REASON_LABELS.values() if label in set(shares["reason"])]
        chart = alt.Chart(shares).mark_bar().encode(
            x=alt.X("period:N", title=f"{period_name.capitalize()} they left"),
            y=alt.Y("share:Q", title="Share of defections (%)"),
            color=alt.Color("reason:N", title="Reason", sort=order, legend=alt.Legend(orient="bottom", columns=4)),
            order=alt.Order("share:Q", sort="descending"),
            tooltip=[alt.Tooltip("period:N", title=period_name), "reason:N", alt.Tooltip("share:Q", format=".1f", title="share (%)"),
                     alt.Tooltip("count:Q", title="defections"), alt.Tooltip("n:Q", title="in the quarter")],
        ).properties(height=280)
        st.altair_chart(chart, width="stretch")
        st.caption(f"Each bar is one {period_name}'s defections by the reason given"
                   + (f"; {small_periods} {period_name}{'s' if small_periods > 1 else ''} with fewer than {min_n} "
                      "defections not shown." if small_periods else "."))

    st.subheader("Revenue at risk")
    risk = revenue_at_risk(frame.dropna(subset=[segment]), "annual_value", "duration", "left", segment, horizon=365)
    risk_published, risk_note = published_rates(risk, min_n, "segment")
    shown = risk_published[~risk_published["status"].astype(str).str.startswith("suppressed")].sort_values(
        "at_risk", ascending=False)
    if not shown.empty:
        chart = interval_bars(shown.assign(group=shown[segment].astype(str)), "at_risk", "at_risk_low", "at_risk_high",
                              SEGMENT_LABELS[segment], "Annual revenue at risk over the next year", "#e45756",
                              [alt.Tooltip("at_risk:Q", format=",.0f", title="at risk"),
                               alt.Tooltip("book:Q", format=",.0f", title="annual value of remaining customers"),
                               alt.Tooltip("value:Q", format=".1f", title="defection rate (%)")])
        st.altair_chart(chart, width="stretch")
    risk_published = risk_published.sort_values("at_risk", ascending=False, na_position="last")
    hidden = risk_published["status"].astype(str).str.startswith("suppressed")
    st.dataframe(pd.DataFrame({
        SEGMENT_LABELS[segment].lower(): risk_published[segment].astype(str),
        "customers (n)": risk_published["n"].astype(int),
        "annual value of remaining customers": [money(v) for v in risk_published["book"]],
        "defection rate within a year": [percent(v) for v in risk_published["value"]],
        "revenue at risk": [money(v) for v in risk_published["at_risk"]],
        "95% interval": ["—" if h or pd.isna(lo) else f"{money(lo)} to {money(hi)}" for h, lo, hi in zip(
            hidden, risk_published["at_risk_low"], risk_published["at_risk_high"])],
    }), hide_index=True, width="stretch")
    report.download_table(downloadable(risk_published), f"{filters.survey}-revenue-at-risk-by-{segment}.csv",
                          key="retention_risk_csv")
    st.caption("The annual value of the customers still with us, times the share of the segment who left within "
               "a year of answering (its 95% interval gives the range). " + risk_note)

    st.subheader("Loyalty: casual, regular, loyal")
    periods = {"previous year": (end - timedelta(days=729), end - timedelta(days=365)),
               "this year": (end - timedelta(days=364), end)}
    months = _purchase_months(url, actor, periods["previous year"][0])
    scores = {name: _period_scores(url, actor, Filters(filters.survey, filters.versions, first, last, filters.channels,
                                                       filters.segments), question.key)
              for name, (first, last) in periods.items()}
    levels = loyalty_frame(outcomes, months, scores, periods)
    moves = loyalty_movement(levels, "customer_id", "period", "level")
    starting = moves.groupby("from_level")["customers"].sum()
    moves = moves[moves["from_level"].map(lambda level: starting.get(level, 0) >= min_n)]
    if moves.empty:
        st.info(f"No loyalty level had {min_n} or more customers in the previous year.")
    else:
        st.altair_chart(movement_chart(moves), width="stretch")
        now = levels[levels["period"] == "this year"]["level"].fillna("inactive").value_counts()
        st.caption("Loyal: bought in at least half the months and a promoter (9-10); regular: one of the two; "
                   "casual: bought, but neither. Previous year "
                   f"{periods['previous year'][0]:%b %Y} to {periods['previous year'][1]:%b %Y}; this year to "
                   f"{end:%b %Y}. This year: " + ", ".join(
                       f"{LEVEL_LABELS[level].lower()} {int(now.get(level, 0)):,}" for level in LEVEL_ORDER)
                   + ". Levels with fewer than the minimum n customers in the previous year are not shown.")

    st.subheader("Closing the loop: does resolving a case keep the customer?")
    cases = case_outcomes(_cases(url, actor, filters.survey), outcomes, end)
    groups = cases["resolved"].value_counts() if not cases.empty else pd.Series(dtype=int)
    if groups.get(True, 0) < min_n or groups.get(False, 0) < min_n:
        st.info(f"Needs {min_n} or more flagged customers with a case resolved in time and as many without, "
                f"whose case opened at least {AFTER_CASE_DAYS} days before the last day.")
    else:
        effect = follow_up_effect(cases, "resolved", "left", ["band", "tier"])
        columns = st.columns(3)
        columns[0].metric(f"Left within {AFTER_CASE_DAYS} days: case resolved in time", percent(effect.resolved.value))
        columns[0].caption(f"95% interval {percent(effect.resolved.low)} to {percent(effect.resolved.high)} · "
                           f"n = {effect.resolved.n:,}")
        columns[1].metric(f"Left within {AFTER_CASE_DAYS} days: not resolved in time", percent(effect.not_resolved.value))
        columns[1].caption(f"95% interval {percent(effect.not_resolved.low)} to {percent(effect.not_resolved.high)} · "
                           f"n = {effect.not_resolved.n:,}")
        difference = effect.difference
        columns[2].metric("Difference, matched on score band and tier", "—" if pd.isna(difference.difference)
                          else f"{difference.difference:+.1f} points")
        columns[2].caption("—" if pd.isna(difference.difference) else
                           f"95% interval {difference.low:+.1f} to {difference.high:+.1f} · "
                           f"{effect.matched:,} customers in {effect.strata} matched groups")
        recovered_left = int((cases["resolved"] & cases["left"]).sum())
        st.warning("Observational, not an experiment: customers whose case was resolved in time may differ from "
                   "the others in ways the matching on score band and tier does not capture (an unreachable "
                   "customer may have decided already). Read it as a strong hint, not as proof.")
        st.caption(f"Flagged customers whose first case opened at least {AFTER_CASE_DAYS} days before the last day "
                   "and who had not left by then. Resolved in time: resolved by the case's due time. "
                   f"{recovered_left:,} customers left within {AFTER_CASE_DAYS} days although their case was "
                   "resolved in time.")
    won = frame[(frame["left"] == 1)]
    came_back = won[pd.to_datetime(won["last_bought_on"]) > pd.to_datetime(won["defected_on"])]
    if len(won) >= min_n:
        st.caption(f"Win-back: {len(came_back):,} of the {len(won):,} customers who left bought again later "
                   f"({100 * len(came_back) / len(won):.1f}%).")


render()
