"""Overview: the selected survey's headline scores for the sidebar's period, against the period before.

Each tile shows its 95% interval and n; a change versus the equally long period just before is
marked only when it is statistically significant. Counts come from the database (cached loaders in
`common`), estimates from `analysis`; nothing loads answers. Tiles and the monthly table pass the
publishing layer (`app_pages.figures`): under the minimum n, or (for a field manager) resting on
1 to floor - 1 people outside their customers, a figure is hidden, and the months are one table
with the headline tile as its total (complementary suppression). The response rate and the
follow-up cases are not filtered by the sidebar's segments: their tiles say so.

Multiplicity: each tile's change is one comparison of its own (no family across tiles is claimed);
the monthly table's changes are single, unadjusted comparisons and are labelled so.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from analysis import compare_means, mean_from_moments, trend
from app_pages import charts, common, figures, labels, recent_quarter, report, response_rounds
from survey.people.privacy import ANONYMOUS_MIN_GROUP
from app_pages.text import plain
from survey.storage.filters import Filters

SIGNIFICANCE = 0.05
INDEX_SCALE = (0.0, 100.0)
CURRENT, PREVIOUS = "2 current", "1 previous"  # labels that sort the previous period first


@dataclasses.dataclass(frozen=True)
class Figure:
    """A headline estimate of the current period and its change versus the previous one."""

    label: str
    value: float
    low: float
    high: float
    n: int
    previous_n: int = 0
    change: float = float("nan")
    change_low: float = float("nan")
    change_high: float = float("nan")
    p_value: float = float("nan")
    unit: str = ""
    signed: bool = False
    outside: int = 0  # people outside the viewer's scope behind the figure (field managers)
    previous_outside: int = 0


def previous_period(filters: Filters) -> Filters | None:
    """The same filters over the equally long span just before the selected dates (None without dates)."""
    if filters.start is None or filters.end is None:
        return None
    days = (filters.end - filters.start).days + 1
    return dataclasses.replace(filters, start=filters.start - timedelta(days=days),
                               end=filters.start - timedelta(days=1))


def histogram_figure(label: str, current: pd.DataFrame, previous: pd.DataFrame | None, metric: str,
                     scale: tuple[float, float], unit: str = "", signed: bool = False) -> Figure:
    """A metric of the current period with its change from the previous period (via `analysis.trend`)."""
    frames = [frame.assign(period=name) for name, frame in ((PREVIOUS, previous), (CURRENT, current))
              if frame is not None and frame["count"].sum() > 0]
    if not frames or frames[-1]["period"].iloc[0] != CURRENT:
        return Figure(label, float("nan"), float("nan"), float("nan"), 0, unit=unit, signed=signed)
    table = trend(pd.concat(frames, ignore_index=True), period=None, metric=metric, scale=scale)
    now = table.loc[CURRENT]
    before_n = int(table.loc[PREVIOUS, "n"]) if PREVIOUS in table.index else 0
    return Figure(label, float(now["value"]), float(now["low"]), float(now["high"]), int(now["n"]), before_n,
                  float(now["change"]), float(now["change_low"]), float(now["change_high"]),
                  float(now["change_p_value"]), unit, signed)


def index_figure(label: str, current: pd.DataFrame, previous: pd.DataFrame | None) -> Figure:
    """The 0-100 satisfaction index from moments summed in the database, with its change."""
    def estimate(frame):
        if frame is None or frame.empty:
            return mean_from_moments(0, 0, 0, scale=INDEX_SCALE)
        row = frame.iloc[0]
        return mean_from_moments(int(row["n"]), float(row["total"]), float(row["total_squares"]), scale=INDEX_SCALE)

    now, before = estimate(current), estimate(previous)
    figure = Figure(label, now.value, now.low, now.high, now.n, before.n)
    if now.n and before.n:
        change = compare_means(now, before)
        figure = dataclasses.replace(figure, change=change.difference, change_low=change.low,
                                     change_high=change.high, p_value=change.p_value)
    return figure


def tile_for(figure: Figure, min_n: int, anonymous: bool = False) -> report.Tile:
    """The figure as shown: suppressed below `min_n`; the change only when p < 0.05 on both sides' n.
    For an anonymous survey, an n under 5 is not shown either."""
    small = ANONYMOUS_MIN_GROUP if anonymous else 0
    number = f"{{:{'+' if figure.signed else ''}.1f}}"
    show = lambda value: number.format(value) + figure.unit  # noqa: E731
    floor = figures.floor()
    if 0 < figure.outside < floor:
        return report.Tile(figure.label, "suppressed", f"rests on 1 to {floor - 1} people outside your own customers",
                           figure.n if figure.n >= small or figure.n == 0 else None)
    if figure.n < min_n:
        # In an anonymous survey not even the count of a handful of answers is shown: it could be a person.
        return report.Tile(figure.label, "suppressed", f"too few answers to show a figure (minimum {min_n})",
                           figure.n if figure.n >= small or figure.n == 0 else None)
    detail = f"95% interval {show(figure.low)} to {show(figure.high)}"
    if figure.previous_n == 0:
        return report.Tile(figure.label, show(figure.value), detail, figure.n,
                           note="no answers in the previous period to compare with")
    if figure.previous_n < min_n or 0 < figure.previous_outside < floor:
        return report.Tile(figure.label, show(figure.value), detail, figure.n,
                           note="too few answers in the previous period to compare"
                                + (f" (n = {figure.previous_n:,})" if figure.previous_n >= small else ""))
    change = f"{figure.change:+.1f}{figure.unit}"
    if figure.p_value < SIGNIFICANCE:
        return report.Tile(figure.label, show(figure.value), detail, figure.n, change=change,
                           note=f"significant change versus the previous period: {change} "
                                f"(95% interval {figure.change_low:+.1f} to {figure.change_high:+.1f}, "
                                f"{labels.p_text(figure.p_value)}, previous n = {figure.previous_n:,})")
    return report.Tile(figure.label, show(figure.value), detail, figure.n,
                       note=f"no significant change versus the previous period ({change}, {labels.p_text(figure.p_value)}, "
                            f"previous n = {figure.previous_n:,})")


def render_tile(column, tile: report.Tile) -> None:
    """A metric tile: value with its interval and n; a delta only for a significant change."""
    column.metric(tile.label, tile.value, delta=tile.change)
    column.caption(f"{tile.detail} · n = {tile.n_text}" + (f" · {tile.note}" if tile.note else ""))


def headline_figures(filters: Filters, previous: Filters | None, definition, actor=None) -> list[Figure]:
    """NPS, CSAT, CES and the satisfaction index the survey declares (the first question of each),
    with the people outside `actor`'s scope behind each (0 for a viewer who sees every customer)."""
    found = _headline_figures(filters, previous, definition)
    keys = [*(q.key for metric in ("nps", "csat", "ces") for q in definition.metric_questions(metric)[:1]),
            *([tuple(q.key for q in definition.metric_questions("index"))]
              if definition.metric_questions("index") else [])]  # the index: responses answering every item

    def outside(scope, key):
        counts = common.outside_scope(scope, key, actor) if scope is not None else None
        return int(counts["outside"].sum()) if counts is not None and len(counts) else 0

    return [dataclasses.replace(figure, outside=outside(filters, key), previous_outside=outside(previous, key))
            for figure, key in zip(found, keys)]


def _headline_figures(filters: Filters, previous: Filters | None, definition) -> list[Figure]:
    figures = []

    def histograms(key):
        return common.histogram_total(filters, key), (common.histogram_total(previous, key) if previous else None)

    for question in definition.metric_questions("nps")[:1]:
        figures.append(histogram_figure("NPS", *histograms(question.key), "nps", (0, 10), signed=True))
    for question in definition.metric_questions("csat")[:1]:
        scale = (question.scale.min, question.scale.max)
        figures.append(histogram_figure("CSAT (top two boxes)", *histograms(question.key), "csat", scale, unit="%"))
    for question in definition.metric_questions("ces")[:1]:
        scale = (question.scale.min, question.scale.max)
        figures.append(histogram_figure(f"Effort score (mean, {scale[0]}-{scale[1]})", *histograms(question.key),
                                        "ces", scale))
    items = tuple((q.key, float(q.scale.min), float(q.scale.max)) for q in definition.metric_questions("index"))
    if items:
        current = common.index_moments(filters, items)
        before = common.index_moments(previous, items) if previous else None
        figures.append(index_figure("Satisfaction index (0-100)", current, before))
    return figures


def prefetch(filters: Filters, previous: Filters | None, definition, actor=None) -> None:
    """Warm the cache for every count the page shows, two queries at a time (the slowest ones first)."""
    loads = []
    items = tuple((q.key, float(q.scale.min), float(q.scale.max)) for q in definition.metric_questions("index"))
    if items:
        loads.append(lambda: common.index_moments(filters, items))
    for metric in ("nps", "csat", "ces"):
        for question in definition.metric_questions(metric)[:1]:
            loads.append(lambda key=question.key: common.histogram(filters, key, "month"))
            if previous is not None:
                loads.append(lambda key=question.key: common.histogram(previous, key, "month"))
    if items and previous is not None:
        loads.append(lambda: common.index_moments(previous, items))
    loads += [lambda: common.response_counts(filters, "month"), lambda: common.response_rate(filters.survey),
              lambda: common.follow_up_counts(filters.survey, actor)]
    common.run_concurrently(loads)


def monthly_metric(filters: Filters, definition) -> tuple[str, pd.DataFrame] | None:
    """The survey's headline metric per month (NPS, else CSAT, else CES) with intervals and n."""
    for metric, name in (("nps", "NPS"), ("csat", "CSAT (%)"), ("ces", "Effort score")):
        questions = definition.metric_questions(metric)
        if questions:
            question = questions[0]
            histogram = common.histogram(filters, question.key, "month")
            if histogram.empty:
                return None
            table = trend(histogram, period="M", metric=metric, scale=(question.scale.min, question.scale.max))
            frame = table.reset_index()[["period", "value", "low", "high", "n", "change", "change_p_value"]]
            # Every month of the span is a row, those without answers too (n = 0), so none is skipped.
            months = pd.date_range(frame["period"].min(), frame["period"].max(), freq="MS")
            frame = frame.set_index("period").reindex(months).rename_axis("period").reset_index()
            frame["n"] = frame["n"].fillna(0).astype(int)
            return name, frame
    return None


MONTHLY_FIGURES = ["value", "low", "high", "change", "change_p_value"]


def published_months(frame: pd.DataFrame, min_n: int, outside: pd.Series | None) -> figures.Published:
    """The monthly table through the publishing layer: the lines are the whole (the headline tile)
    and the quarters and years Trends publishes; a month's change is hidden with the month before it."""
    cells, coarser = figures.with_coarser_periods(frame, "period", "month")
    published = figures.publish(cells.assign(status=""), MONTHLY_FIGURES, min_n, lines=[[], *coarser],
                                outside=outside)
    table = published.table.drop(columns=[column for column in cells.columns if column.startswith("within_")])
    table.loc[table["n"] == 0, "status"] = "no answers"
    hidden = table["status"].astype(str).str.startswith("suppressed") | (table["n"] == 0)
    table = figures.hide_changes_from_hidden(table, hidden, [], ["change", "change_p_value"])
    return figures.Published(table, published.hidden, published.min_n, published.floor)


def metric_chart(frame: pd.DataFrame, name: str) -> alt.Chart:
    """The metric per month as a line with its 95% interval as a band; n in the tooltip."""
    base = alt.Chart(frame).encode(x=alt.X("period:T", title="Month"))
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("low:Q", title=f"{name} (95% interval)", scale=charts.zoomed([*frame["low"], *frame["high"]])),
        y2="high:Q")
    line = base.mark_line(point=True).encode(
        y="value:Q", tooltip=[alt.Tooltip("period:T", format="%b %Y", title="Month"),
                              alt.Tooltip("value:Q", format=".1f", title=name),
                              alt.Tooltip("low:Q", format=".1f", title="95% low"),
                              alt.Tooltip("high:Q", format=".1f", title="95% high"), alt.Tooltip("n:Q", format=",")])
    return charts.sized(band + line)


def volume_chart(frame: pd.DataFrame) -> alt.Chart:
    """Responses per month, stacked by channel."""
    frame = frame.assign(period=pd.to_datetime(frame["period"] + "-01"))
    return charts.sized(alt.Chart(frame).mark_bar().encode(
        x=alt.X("period:T", title="Month"), y=alt.Y("responses:Q", axis=charts.count_axis("Responses")),
        color=alt.Color("channel:N", title="Channel"),
        tooltip=[alt.Tooltip("period:T", format="%b %Y", title="Month"), alt.Tooltip("channel:N", title="Channel"),
                 alt.Tooltip("responses:Q", format=",", title="Responses")]))


def tiles_table(figures: list[Figure], tiles: list[report.Tile], anonymous: bool = False) -> pd.DataFrame:
    """The tiles as a table for download: numbers rounded as shown, suppressed ones left empty."""
    rows = []
    for figure, tile in zip(figures, tiles):
        shown = tile.value != "suppressed"
        rows.append({"figure": figure.label, "value": round(figure.value, 1) if shown else None,
                     "low": round(figure.low, 1) if shown else None, "high": round(figure.high, 1) if shown else None,
                     "n": tile.n, "previous_n": (figure.previous_n if not anonymous or figure.previous_n >= ANONYMOUS_MIN_GROUP
                                                   else None),
                     "change": round(figure.change, 1) if shown and figure.previous_n else None,
                     "change_p_value": round(figure.p_value, 4) if shown and figure.previous_n else None,
                     "shown_as": tile.value, "note": tile.note})
    return pd.DataFrame(rows)


def render() -> None:
    page = common.survey_page()
    if page is None:
        return
    actor, filters, summary, definition, min_n = page
    whole = filters  # the sidebar's choice: the monthly charts show it
    default = recent_quarter.default_comparison(filters)
    filters, previous = default if default else (filters, previous_period(filters))
    st.title(plain(summary.title))
    period_text = (f"{filters.start} to {filters.end}, compared with {previous.start} to {previous.end}"
                   if previous else "all responses")
    if default:
        period_text += (" (the last three complete months against the three before; choose dates in the "
                        "sidebar for another period)")
    st.caption(f"Touchpoint: {plain(summary.touchpoint) or 'not set'} · period {period_text} · "
               f"figures under n = {min_n} are suppressed (never under the floor of {figures.floor()})")

    prefetch(filters, previous, definition, actor)
    headline = headline_figures(filters, previous, definition, actor)
    anonymous = common.anonymous(filters.survey)
    tiles = [tile_for(figure, min_n, anonymous) for figure in headline]
    columns = st.columns(max(len(tiles), 1))
    for column, tile in zip(columns, tiles):
        render_tile(column, tile)

    rate = common.response_rate(filters.survey).iloc[0]
    cases = common.follow_up_counts(filters.survey, actor)
    left, right = st.columns(2)
    if rate["invited"]:
        left.metric("Response rate (whole survey)", f"{100 * rate['rate']:.1f}%")
        left.caption(f"{int(rate['responded']):,} answered of {int(rate['invited']):,} invited: every invitation of "
                     "the survey, not filtered by the sidebar")
        response_rounds.show(left, filters.survey)  # after the invitation and after each reminder
    else:
        left.metric("Response rate (whole survey)", "no invitations")
        left.caption("No personal invitations were sent for this survey (open link or imported answers).")
    right.metric("Open follow-up cases (whole survey)" if actor.sees_every_customer
                 else "Your open follow-up cases (whole survey)", f"{cases['open']:,}")
    right.caption(f"{cases['overdue']:,} overdue (past their due date) · not filtered by the sidebar · open means "
                  "not resolved, unreachable or declined")

    table = tiles_table(headline, tiles, anonymous)
    report.download_table(table, f"{filters.survey}-overview.csv", key="overview_tiles_csv",
                          label="Download figures (CSV)")

    pending = []  # report sections; their charts are drawn only when the report is asked for
    headline = next(((metric, q) for metric in ("nps", "csat", "ces") for q in definition.metric_questions(metric)[:1]),
                    None)
    if previous is not None and headline is not None and not common.anonymous(filters.survey):
        metric, question = headline
        name = {"nps": "NPS", "csat": "CSAT (%)", "ces": "Effort score"}[metric]
        number = {"nps": "{:+.1f}", "csat": "{:.1f}%", "ces": "{:.2f}"}[metric]
        regions = recent_quarter.render(st, filters, previous, question.key, metric,
                                        (question.scale.min, question.scale.max), name, min_n, actor, number.format)
        if not regions.empty:
            pending.append((f"{name} by region", None, regions, ""))
    current, filters = filters, whole
    monthly = monthly_metric(filters, definition)
    if monthly is not None:
        name, frame = monthly
        st.subheader(f"{name} by month")
        key = next(q.key for metric in ("nps", "csat", "ces") for q in definition.metric_questions(metric)[:1])
        counts = common.outside_scope(filters, key, actor, "month")
        cells = frame.assign(period=frame["period"].dt.strftime("%Y-%m"))
        published = published_months(frame, min_n, common.outside_for(cells, counts, ["period"]))
        frame = published.table
        shown = frame[frame["status"] == ""]
        note = ((published.note("month") + " Hidden months are not drawn. ") if published.hidden else "Nothing hidden. ") \
            + "Changes are single comparisons with the month before (not adjusted)."
        chart = metric_chart(shown, name)
        if shown.empty:
            charts.empty(st, f"month with enough answers (n = {min_n} or more)")
        else:
            st.altair_chart(chart, width="stretch")
        if note:
            st.caption(note)
        report.download_chart(chart, f"{filters.survey}-by-month", key="overview_metric_chart")
        report.download_table(frame, f"{filters.survey}-by-month.csv", key="overview_metric_csv")
        pending.append((f"{name} by month", chart, frame, note))

    volume = common.response_counts(filters, "month")
    if not volume.empty:
        st.subheader("Responses by month and channel")
        chart = volume_chart(volume)
        st.altair_chart(chart, width="stretch")
        report.download_chart(chart, f"{filters.survey}-responses", key="overview_volume_chart")
        report.download_table(volume, f"{filters.survey}-responses.csv", key="overview_volume_csv")
        pending.append(("Responses by month and channel", chart, volume, ""))

    described = report.describe_filters(filters, summary.title, (
        ("Tiles", f"{current.start} to {current.end}" if current.start else "all responses"),
        ("Compared with", f"{previous.start} to {previous.end}" if previous else "no previous period"),
        ("Response rate", f"{100 * rate['rate']:.1f}% ({int(rate['responded']):,} of {int(rate['invited']):,})"
         if rate["invited"] else "no invitations"),
        ("Follow-up cases", f"{cases['open']:,} open, {cases['overdue']:,} overdue")))

    def build() -> str:
        sections = [report.drawn(*section) for section in pending]
        return report.build_html(f"Overview: {summary.title}", described, tiles, sections)

    report.download_report(build, f"{filters.survey}-overview.html", key="overview_report")


if __name__ == "__main__":  # Streamlit runs a page as __main__; importing it (tests) renders nothing
    render()
