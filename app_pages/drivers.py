"""Drivers: which attributes move the overall score, and where to act (importance-performance).

The database reduces the filtered responses to the sufficient statistics of the analysis (n,
sums and cross-products of the outcome and driver answers, one query); analysis turns them
into Johnson's relative weights, coefficients and quadrants, exactly as `key_drivers` would on
the raw rows.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from analysis import key_drivers_from_moments
from app_pages import charts, common, figures, labels, report
from app_pages.text import plain
from survey.people import access
from survey.people.privacy import ANONYMOUS_MIN_GROUP

QUADRANT_ORDER = ["concentrate here", "keep up the good work", "low priority", "possible overkill"]


def driver_questions(definition) -> tuple[object | None, dict[str, str]]:
    """The overall question (role: overall) and {answer key: label} of the driver attributes (role: driver)."""
    overall = next((q for q in definition.questions if q.role == "overall"), None)
    language = definition.languages[0]
    labels: dict[str, str] = {}
    for question in definition.questions:
        if question.role != "driver":
            continue
        if question.kind == "matrix":
            for attribute, key in zip(question.attributes, question.answer_keys):
                labels[key] = attribute.label.get(language) or attribute.value
        else:
            labels[question.key] = question.text.get(language) or question.key
    return overall, labels


def performance_domain(table: pd.DataFrame) -> list[float]:
    """The performance axis: zoomed to the drivers' mean ratings with a margin (they are seldom far apart)."""
    low_x, high_x = float(table["performance"].min()), float(table["performance"].max())
    pad_x = max(0.25, (high_x - low_x) * 0.15)
    return [low_x - pad_x, high_x + pad_x]


def importance_chart(table: pd.DataFrame) -> alt.LayerChart:
    """Importance (share of R^2) against performance (mean rating), split at their means, quadrants named."""
    frame = table.reset_index()
    mean_performance, mean_share = float(frame["performance"].mean()), float(frame["share"].mean())
    x_domain = performance_domain(frame)
    y_domain = [0.0, max(100.0, float(frame["share"].max()) * 1.1)]
    x = alt.X("performance:Q", title="Performance (mean rating)", scale=alt.Scale(domain=x_domain, nice=False))
    y = alt.Y("share:Q", title="Importance (% of explained variance)", scale=alt.Scale(domain=y_domain, nice=False))
    # Drivers often sit within a fraction of a point of each other: names printed beside the points
    # would overlap, so each driver has its colour (named in the legend) and each quadrant its shape.
    points = alt.Chart(frame).mark_point(size=160, filled=True, opacity=0.9).encode(
        x=x, y=y, color=alt.Color("label:N", title="Driver", legend=charts.LEGEND),
        shape=alt.Shape("quadrant:N", scale=alt.Scale(domain=QUADRANT_ORDER), title="Quadrant", legend=charts.LEGEND),
        tooltip=[alt.Tooltip("label:N", title="Driver"), alt.Tooltip("share:Q", format=".1f", title="Importance %"),
                 alt.Tooltip("performance:Q", format=".2f", title="Performance"),
                 alt.Tooltip("coefficient:Q", format=".3f", title="Coefficient"),
                 alt.Tooltip("quadrant:N", title="Quadrant")])
    # The mean lines use the same scales: a layer with its own (zero-based) scale would pull the
    # shared axis back to 0 and squeeze the drivers together again.
    rules = (alt.Chart(pd.DataFrame({"x": [mean_performance]})).mark_rule(strokeDash=[4, 4])
             .encode(x=alt.X("x:Q", scale=alt.Scale(domain=x_domain, nice=False)))
             + alt.Chart(pd.DataFrame({"y": [mean_share]})).mark_rule(strokeDash=[4, 4])
             .encode(y=alt.Y("y:Q", scale=alt.Scale(domain=y_domain, nice=False))))
    return alt.layer(rules, points).properties(height=420)


def published_analysis(n: int, actor, filters, keys: tuple[str, ...]) -> figures.Published:
    """The analysis as one figure through the publishing layer: shown only when its complete
    responses reach the page's minimum n and, for a field manager, none or at least the floor of
    the people behind them are outside their own customers (a mean rating of a handful of other
    customers is theirs)."""
    cells = pd.DataFrame({"n": [n]})
    outside = common.outside_for(cells, common.outside_scope(filters, keys, actor), [])
    return figures.publish(cells, [], figures.page_min_n(), lines=[[]], outside=outside)


def render() -> None:
    actor = common.page_actor(access.READ_AGGREGATES)
    filters = common.global_filters()
    st.title("Drivers")
    if filters is None:
        return
    definition = common.latest_definition(filters.survey)
    overall, names = driver_questions(definition)
    if overall is None or not names:
        missing = " and ".join(part for part, absent in (("no overall question (`role: overall`)", overall is None),
                                                         ("no driver attributes (`role: driver`)", not names))
                               if absent)
        st.info(f"This survey declares {missing}, so there is no key-driver analysis to show. "
                "Declare them in the survey definition to see which attributes move the overall score.")
        return
    drivers = tuple(names)
    st.caption(f"Outcome: {plain(overall.text.get(definition.languages[0], overall.key))} · "
               f"{len(drivers)} driver attributes · responses answering all of them in the filters")
    moments = common.key_driver_moments(filters, overall.key, drivers)
    try:
        table = key_drivers_from_moments(moments["n"], moments["sums"], moments["cross_products"], overall.key,
                                         drivers, moments["dropped_rows"])
    except ValueError as error:
        st.warning("No key-driver analysis for these filters: "
                   + ("too few complete responses." if common.anonymous(filters.survey) else f"{error}."))
        return
    n, r_squared = table.attrs["n"], table.attrs["r_squared"]
    if common.anonymous(filters.survey) and min(n, table.attrs["dropped_rows"] or ANONYMOUS_MIN_GROUP) < ANONYMOUS_MIN_GROUP:
        st.info(f"Fewer than {ANONYMOUS_MIN_GROUP} responses in a group here: this survey is anonymous, so the "
                "analysis is not shown. Widen the filters.")
        return
    published = published_analysis(n, actor, filters, (overall.key, *drivers))
    if published.hidden:
        why = (f"{n:,} complete responses, fewer than {published.min_n}" if n < published.min_n
               else f"answers of 1 to {published.floor - 1} people outside your own customers")
        st.info(f"Not shown: the analysis would rest on {why}. Widen the filters.")
        return
    if n < common.MIN_N_DEFAULT * len(drivers):
        st.warning(f"Only {n:,} complete responses for {len(drivers)} drivers: read the ranking as a hint.")
    columns = st.columns(3)
    columns[0].metric("Complete responses (n)", f"{n:,}")
    columns[1].metric("R² (all drivers together)", f"{r_squared:.2f}")
    columns[2].metric("Left out (some answers missing)", f"{table.attrs['dropped_rows']:,}")

    table = table.assign(label=[names[key] for key in table.index])
    st.subheader("Importance and performance")
    chart = importance_chart(table)
    st.altair_chart(chart, width="stretch")
    report.download_chart(chart, f"{filters.survey}-drivers", key="drivers_chart")
    st.caption("Importance: Johnson's relative weight as a share of R². Performance: mean rating (the axis "
               f"starts at {performance_domain(table)[0]:.2f}, not 0, to separate the drivers). "
               "Dashed lines: means across the drivers; the shape names the quadrant.")

    st.subheader("Ranking")
    ranked = table.sort_values("weight", ascending=False).reset_index()
    shown = pd.DataFrame({
        "rank": range(1, len(ranked) + 1),
        "driver": ranked["label"],
        "answer key": ranked["driver"],
        "importance %": ranked["share"].round(1),
        "relative weight": ranked["weight"].round(4),
        "coefficient": ranked["coefficient"].round(3),
        "correlation": ranked["correlation"].round(3),
        "performance": ranked["performance"].round(2),
        "quadrant": ranked["quadrant"],
        "n": n,
        "R²": round(r_squared, 4),
    })
    # the answer key stays in the data and the download (for analysts), not on the page
    labels.show_table(shown, column_order=[column for column in shown.columns if column != "answer key"], digits={"importance %": 1, "relative weight": 4,
                                                                 "coefficient": 3, "correlation": 3, "performance": 2,
                                                                 "R²": 4},
                      headers={"rank": "Rank", "driver": "Driver", "importance %": "Importance %",
                               "relative weight": "Relative weight", "coefficient": "Coefficient",
                               "correlation": "Correlation", "performance": "Performance", "quadrant": "Quadrant"})
    st.download_button("Download the ranking (CSV)", common.table_csv(shown), file_name=f"{filters.survey}-drivers.csv",
                       mime="text/csv")


if __name__ == "__main__":  # Streamlit runs a page as __main__; importing it (tests) renders nothing
    render()
