"""Loyalty and value: is the revenue happy? Satisfaction by customer value, value-weighted NPS, and the
high-value customers who score low without saying why.

Each customer counts once, with their latest answer in the filtered responses. Counts and value
sums per (value band, NPS category) come from the database; customer lists are limited and carry
no contact details (need-to-know).
"""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from analysis import nps_from_counts, value_weighted_nps_from_sums
from app_pages import charts, common, figures, labels, report
from survey.storage.filters import VALUE_BANDS, VALUE_TOP_BAND

CATEGORIES = ["detractor", "passive", "promoter"]
BAND_ORDER = [label for _, label in VALUE_BANDS] + [VALUE_TOP_BAND]
HIGH_VALUE_FROM = 50_000  # the two top value bands
HIGH_VALUE_BANDS = [label for limit, label in VALUE_BANDS if limit > HIGH_VALUE_FROM] + [VALUE_TOP_BAND]
LOW_SCORE_MAX = 6  # detractors
LONG_TENURE_YEARS = 5
LIST_LIMIT = 500
QUADRANTS = {(True, True): "advocates", (True, False): "at risk",
             (False, True): "satisfied, lower value", (False, False): "dissatisfied, lower value"}
NO_VALUE = "no annual value"


def quadrant_of(grid: pd.DataFrame) -> list[str]:
    """Each grid cell's quadrant: high value (top two bands) x satisfied (not a detractor), or
    "no annual value" for customers without one."""
    high, satisfied = grid["value_band"].isin(HIGH_VALUE_BANDS), grid["category"] != "detractor"
    return [NO_VALUE if pd.isna(band) else QUADRANTS[(h, s)]
            for band, h, s in zip(grid["value_band"], high, satisfied)]


def published_grid(grid: pd.DataFrame, floor: int) -> tuple[figures.Published, figures.Published]:
    """The value-by-NPS grid and its quadrant totals through the publishing layer.

    Both count customers, so a cell or quadrant needs at least `floor` of them (and, for a field
    manager, none or at least `floor` outside their own customers). The quadrants (with the
    customers without a value as a fifth group) are protected first over their total; a hidden
    quadrant hides all its cells; then the cells are protected along every total the page
    publishes: the whole grid (the tiles), each NPS category (the tiles' counts) and each quadrant.
    """
    cells = grid.assign(quadrant=quadrant_of(grid), n=grid["customers"]).reset_index(drop=True)
    groups = (cells.groupby("quadrant")[["n", "outside", "value"]].sum()
              .reindex([*QUADRANTS.values(), NO_VALUE], fill_value=0).rename_axis("quadrant").reset_index())
    quadrants = figures.publish(groups.assign(status=""), ["n", "value"], floor, lines=[[]],
                                outside=groups["outside"], floor=floor)
    hidden = set(groups.loc[quadrants.table["status"].str.startswith("suppressed"), "quadrant"])
    published = figures.publish(cells.assign(status=""), ["customers", "value", "value_squared"], floor,
                                lines=[[], ["category"], ["quadrant"]], outside=cells["outside"], floor=floor,
                                hidden=cells["quadrant"].isin(hidden))
    return published, quadrants


def quadrant_table(quadrants: figures.Published, total_value: float) -> pd.DataFrame:
    """Customers and revenue per quadrant (customers with a value only), hidden quadrants blank. The
    shares are of `total_value`, which the page prints: hidden quadrants together are its rest."""
    table = quadrants.table.set_index("quadrant").loc[list(QUADRANTS.values())]
    share = (100 * table["value"] / total_value).round(1) if total_value > 0 else table["value"] * float("nan")
    shown = pd.DataFrame({"quadrant": table.index, "customers": table["n"], "annual value": table["value"],
                          "revenue share %": share, "status": table["status"]}).reset_index(drop=True)
    return shown if shown["status"].astype(bool).any() else shown.drop(columns=["status"])


def grid_chart(grid: pd.DataFrame) -> alt.LayerChart:
    """Customers per value band (rows) and NPS category (columns), coloured by count; hidden cells say so."""
    data = grid.dropna(subset=["value_band"])
    data = data.assign(category=data["category"].map(str.capitalize),
                       label=[f"{count:,.0f}" if pd.notna(count) else "hidden" for count in data["customers"]])
    base = alt.Chart(data).encode(x=alt.X("category:N", sort=[c.capitalize() for c in CATEGORIES], title="Latest answer"),
                                  y=alt.Y("value_band:N", sort=BAND_ORDER[::-1], title="Annual value"))
    cells = base.mark_rect().encode(color=alt.Color("customers:Q", title="Customers"),
                                    tooltip=[alt.Tooltip("value_band:N", title="Annual value"),
                                             alt.Tooltip("category:N", title="Latest answer"),
                                             alt.Tooltip("label:N", title="Customers"),
                                             alt.Tooltip("value:Q", format=",.0f", title="Their annual value")])
    return (cells + base.mark_text().encode(text="label:N")).properties(height=charts.HEIGHT)


def customer_list(frame: pd.DataFrame, today: date) -> pd.DataFrame:
    """The columns a manager needs (no contact details); tenure in whole years to `today`."""
    tenure = [(today - start).days / 365.25 if isinstance(start, date) else float("nan")
              for start in frame["tenure_start"]]
    return pd.DataFrame({
        "name": frame["name"], "external_ref": frame["external_ref"], "region": frame["region"],
        "tier": frame["tier"], "industry": frame["industry"], "annual value": frame["annual_value"].astype(float).round(0),
        "tenure (years)": pd.Series(tenure, index=frame.index).round(1), "last score": frame["score"],
        "date": pd.to_datetime(frame["submitted_at"]).dt.date,
    })


LIST_HEADERS = {"annual value": "Annual value", "tenure (years)": "Tenure (years)", "last score": "Last score",
                "date": "Date"}


def _comment_names(definition, keys) -> str:
    """The comment questions as people read them: "“What should we fix?” or “Anything else?”"."""
    names = [f"“{labels.question_label(definition, key)}”" for key in keys]
    if not names:
        return "any comment question"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def render() -> None:
    if (started := common.customer_nps_page("Loyalty and value")) is None:
        return
    actor, filters, definition, question = started
    comment_keys = tuple(q.key for q in definition.questions if q.kind == "text")
    grid = common.value_nps_grid(filters, question.key, actor)
    if grid.empty:
        st.info("No customer answered in the selected filters.")
        return
    st.caption("Each customer counts once, with their latest answer in the filtered responses.")
    floor = figures.floor()
    customers, outside = int(grid["customers"].sum()), int(grid["outside"].sum())
    if customers < figures.page_min_n() or 0 < outside < floor:
        why = (f"{customers:,} customers, fewer than {figures.page_min_n()}" if customers < figures.page_min_n()
               else f"1 to {floor - 1} customers outside your own")
        st.info(f"Figures hidden: these filters hold {why}. Widen the filters to see the value figures.")
    else:
        value_figures(grid, floor, filters)
    customer_lists(actor, filters, definition, question, comment_keys)


def value_figures(grid: pd.DataFrame, floor: int, filters) -> None:
    """The tiles, the value-by-NPS grid and the quadrants, through the publishing layer."""
    shown_grid, quadrants = published_grid(grid, floor)
    valued = grid.dropna(subset=["value_band"])
    per_category = valued.groupby("category")[["customers", "value", "value_squared"]].sum().reindex(
        CATEGORIES, fill_value=0)
    all_counts = grid.groupby("category")["customers"].sum().reindex(CATEGORIES, fill_value=0)
    plain = nps_from_counts(*(int(count) for count in all_counts))
    weighted = value_weighted_nps_from_sums(per_category["customers"].to_list(), per_category["value"].to_list(),
                                            per_category["value_squared"].to_list()).weighted
    total_value = float(per_category["value"].sum())
    detractor_share = 100 * float(per_category.loc["detractor", "value"]) / total_value if total_value else float("nan")

    columns = st.columns(3)
    columns[0].metric("NPS (customers)", f"{plain.value:+.1f}")
    columns[0].caption(f"95% interval {plain.low:+.1f} to {plain.high:+.1f} · n = {plain.n:,}")
    if total_value > 0:
        columns[1].metric("Value-weighted NPS", f"{weighted.value:+.1f}")
        columns[1].caption(f"95% interval {weighted.low:+.1f} to {weighted.high:+.1f} · n = {weighted.n:,} · "
                           f"effective n = {weighted.n_eff:,.0f}")
        columns[2].metric("Revenue held by detractors", f"{detractor_share:.1f}%")
        columns[2].caption(f"of {total_value:,.0f} annual value · "
                           f"{int(per_category.loc['detractor', 'customers']):,} detractor customers")
    else:  # customers imported without an annual value
        columns[1].metric("Value-weighted NPS", "no customer values")
        columns[2].metric("Revenue held by detractors", "no customer values")
    if total_value > 0 and weighted.value < plain.value - 10:
        st.warning(f"The value-weighted NPS is {plain.value - weighted.value:.1f} points below the plain NPS: "
                   "the unhappy customers are the valuable ones.")

    st.subheader("Satisfaction by customer value")
    left, right = st.columns(2)
    chart = grid_chart(shown_grid.table)
    left.altair_chart(chart, width="stretch")
    with left:
        report.download_chart(chart, f"{filters.survey}-value-grid", key="loyalty_chart")
        if shown_grid.note():
            st.caption(shown_grid.note() + " Counts of customers, never under "
                       f"{floor} (the disclosure floor).")
    table = quadrant_table(quadrants, float(grid['value'].sum()))
    labels.show_table(table, right, formats={"quadrant": lambda name: str(name).capitalize()},
                      digits={"customers": 0, "annual value": 0, "revenue share %": 1},
                      headers={"quadrant": "Quadrant", "customers": "Customers", "annual value": "Annual value",
                               "revenue share %": "Revenue share %", "status": "Status"})
    with right:
        report.download_table(table, f"{filters.survey}-value-quadrants.csv", key="loyalty_quadrants_csv")
        if quadrants.note():
            st.caption(quadrants.note("quadrant"))
    right.caption(f"High value: annual value of {HIGH_VALUE_FROM:,} or more. Satisfied: latest answer 7-10; "
                  "dissatisfied: 0-6 (detractor).")



def customer_lists(actor, filters, definition, question, comment_keys: tuple[str, ...]) -> None:
    """The silent detractors and the captive customers the viewer may see, by name (no contact details)."""
    today = date.today()
    st.subheader("Silent detractors: high value, low score, no comment")
    min_value = float(st.number_input("High value from (annual value)", min_value=0, value=HIGH_VALUE_FROM,
                                      step=10_000, key="loyalty_min_value"))
    silent = common.low_scoring_customers(actor, filters, question.key, LOW_SCORE_MAX, comment_keys, min_value=min_value,
                                          silent=True, limit=LIST_LIMIT)
    silent_list = customer_list(silent, today)
    show_customer_list(actor, filters, silent_list, "silent detractors", "silent",
                       f"Latest answer 0-{LOW_SCORE_MAX}, annual value {min_value:,.0f} or more, and no text in "
                       f"{_comment_names(definition, comment_keys)} in the filtered responses: "
                       f"{len(silent_list):,} customers{_first_note(silent_list)}, highest value first.")

    st.subheader(f"Captive, not loyal: customers for {LONG_TENURE_YEARS}+ years with low scores")
    tenure_before = today - timedelta(days=round(365.25 * LONG_TENURE_YEARS))
    captive = common.low_scoring_customers(actor, filters, question.key, LOW_SCORE_MAX, comment_keys,
                                           tenure_before=tenure_before, limit=LIST_LIMIT)
    captive_list = customer_list(captive, today)
    show_customer_list(actor, filters, captive_list, "captive customers", "captive",
                       f"Customers since {tenure_before.isoformat()} or earlier whose latest answer is 0-{LOW_SCORE_MAX}: "
                       f"{len(captive_list):,}{_first_note(captive_list)}, highest value first.")


def _first_note(shown: pd.DataFrame) -> str:
    # a list cut at LIST_LIMIT says so, so that nobody takes it for all the customers there are
    return f" (first {LIST_LIMIT})" if len(shown) == LIST_LIMIT else ""


def show_customer_list(actor, filters, shown: pd.DataFrame, what: str, key: str, caption: str) -> None:
    """A list of customers by name under `caption`, and its CSV download (named after `what`, e.g.
    "silent detractors", and recorded in the audit log as `what` of the survey)."""
    st.caption(caption)
    labels.show_table(shown, digits={"annual value": 0, "tenure (years)": 1, "last score": 0}, headers=LIST_HEADERS)
    st.download_button(f"Download {what} (CSV)",
                       lambda: common.audited_table_csv(actor, shown, f"{what} of {filters.survey}"),
                       file_name=f"{filters.survey}-{what.replace(' ', '-')}.csv", mime="text/csv",
                       key=f"download_{key}", on_click="ignore")


if __name__ == "__main__":  # Streamlit runs a page as __main__; importing it (tests) renders nothing
    render()
