"""Exports of the Overview and Trends pages: table CSVs, chart SVG/PNG, and a self-contained HTML report.

The report is built from plain values (texts, numbers, small frames and SVG drawn here from the
Altair charts), every text through `html.escape`, and opens offline: styles are inline, charts are
inline SVG (drawn by vl-convert, which bundles Vega: no network), and nothing is loaded from
elsewhere. Without vl-convert the charts' data tables stand in for the pictures.

Example:
    >>> page = build_html("Overview <b>", [("Survey", "a & b")], [Tile("NPS", "+10.0", "95% interval", 120)], [])
    >>> "Overview &lt;b&gt;" in page and "a &amp; b" in page and "n = 120" in page
    True
"""

from __future__ import annotations

import html
import importlib.util
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

import altair as alt
import pandas as pd
import streamlit as st

from survey.storage.filters import DIMENSIONS, Filters

EXPORT_WIDTH = 640
EXPORT_HEIGHT = 260


@dataclass(frozen=True)
class Tile:
    """One headline figure as shown: its label, value text, interval text, n and change note."""

    label: str
    value: str
    detail: str
    n: int | None  # None: too few to say (under 5, where a count alone could point at a person)
    change: str | None = None  # the change versus the previous period, only when significant
    note: str = ""

    @property
    def n_text(self) -> str:
        """n as shown: the count, or "fewer than 5"."""
        return "fewer than 5" if self.n is None else f"{self.n:,}"


@dataclass(frozen=True)
class Section:
    """A chart (as inline SVG when it could be drawn) and/or a table under a heading."""

    heading: str
    svg: str | None = None
    table: pd.DataFrame | None = field(default=None, compare=False)
    note: str = ""


def describe_filters(filters: Filters, survey_title: str, extra: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str]]:
    """The filters of a view as (label, text) pairs a reader without the app understands."""
    described = [("Survey", f"{survey_title} ({filters.survey})"),
                 ("Versions", ", ".join(map(str, filters.versions)) or "all"),
                 ("Dates", f"{filters.start or 'first response'} to {filters.end or 'last response'}"),
                 ("Channels", ", ".join(filters.channels) or "all")]
    for name, values in filters.segments:
        if values:
            described.append((DIMENSIONS[name].label, ", ".join(values)))
    return described + list(extra)


def vl_convert_available() -> bool:
    """Whether charts can be drawn to SVG and PNG here (needs the vl-convert-python package)."""
    return importlib.util.find_spec("vl_convert") is not None


def export_size(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """The chart at a fixed size for files (on the page it stretches to the container)."""
    if isinstance(chart, (alt.FacetChart, alt.VConcatChart, alt.HConcatChart, alt.ConcatChart)):
        return chart
    return chart.properties(width=EXPORT_WIDTH, height=EXPORT_HEIGHT)


def chart_svg(chart: alt.TopLevelMixin) -> str | None:
    """The chart as an SVG document, or None when vl-convert is not installed."""
    if not vl_convert_available():
        return None
    buffer = io.StringIO()
    export_size(chart).save(buffer, format="svg")
    return buffer.getvalue()


def chart_png(chart: alt.TopLevelMixin) -> bytes | None:
    """The chart as a PNG image (twice the pixel density), or None when vl-convert is not installed."""
    if not vl_convert_available():
        return None
    buffer = io.BytesIO()
    export_size(chart).save(buffer, format="png", scale_factor=2)
    return buffer.getvalue()


_ACTIVE_SVG = re.compile(r"<script|<foreignObject|\son\w+\s*=|(?:href|src)\s*=\s*[\"'](?!#)", re.IGNORECASE)


def safe_svg(svg: str | None) -> str | None:
    """The SVG when it is a plain drawing (no script, handler, foreign object or outside link), else None."""
    if not svg:
        return None
    body = svg[svg.find("<svg"):] if "<svg" in svg else ""
    if not body or _ACTIVE_SVG.search(body):
        return None
    return body


def drawn(heading: str, chart: alt.TopLevelMixin | None, table: pd.DataFrame | None = None, note: str = "") -> Section:
    """A report section with the chart drawn as SVG now (slow: call it when the report is built)."""
    return Section(heading, chart_svg(chart) if chart is not None else None, table, note)


def table_html(frame: pd.DataFrame) -> str:
    """An HTML table of a small frame, every header and cell escaped."""
    from app_pages.labels import readable  # headers in words, numbers and p-values as on the page

    frame = readable(frame)
    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933;max-width:60rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem}
.meta{color:#52606d;font-size:.9rem} dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}
dt{font-weight:600} .tiles{display:flex;flex-wrap:wrap;gap:1rem}
.tile{border:1px solid #cbd2d9;border-radius:.5rem;padding:.8rem 1rem;min-width:12rem}
.tile .label{font-size:.85rem;color:#52606d} .tile .value{font-size:1.8rem;font-weight:600}
.tile .detail,.tile .note{font-size:.8rem;color:#52606d} .tile .change{font-weight:600}
table{border-collapse:collapse;font-size:.85rem} th,td{border:1px solid #e4e7eb;padding:.2rem .5rem;text-align:right}
th{background:#f5f7fa} svg{max-width:100%;height:auto}
"""


def build_html(title: str, filters: list[tuple[str, str]], tiles: list[Tile], sections: list[Section],
               generated: datetime | None = None) -> str:
    """A self-contained HTML report: the filters described, the tiles with intervals and n, and the
    sections (inline SVG charts and tables). Every text is escaped; only SVG that `safe_svg` accepts
    is embedded, otherwise the section's table stands alone."""
    escape = html.escape
    generated = generated or datetime.now(timezone.utc)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(title)}</h1>",
             f'<p class="meta">Generated {escape(generated.strftime("%Y-%m-%d %H:%M UTC"))}. Every figure shows '
             "its 95% interval and the number of answers (n) it rests on.</p>",
             "<h2>Filters</h2><dl>",
             *(f"<dt>{escape(label)}</dt><dd>{escape(text)}</dd>" for label, text in filters), "</dl>"]
    if tiles:
        parts.append('<h2>Headline figures</h2><div class="tiles">')
        for tile in tiles:
            parts.append(f'<div class="tile"><div class="label">{escape(tile.label)}</div>'
                         f'<div class="value">{escape(tile.value)}</div>'
                         f'<div class="detail">{escape(tile.detail)}</div>'
                         f'<div class="detail">n = {tile.n_text}</div>')
            if tile.change:
                parts.append(f'<div class="change">Change: {escape(tile.change)}</div>')
            if tile.note:
                parts.append(f'<div class="note">{escape(tile.note)}</div>')
            parts.append("</div>")
        parts.append("</div>")
    for section in sections:
        parts.append(f"<h2>{escape(section.heading)}</h2>")
        if section.note:
            parts.append(f'<p class="meta">{escape(section.note)}</p>')
        svg = safe_svg(section.svg)
        if svg:
            parts.append(f"<figure>{svg}</figure>")
        if section.table is not None and len(section.table):
            parts.append(table_html(section.table))
    parts.append("</body></html>")
    return "\n".join(parts)


# Streamlit download widgets shared by the two pages (the heavy conversions run only when clicked).


def download_table(frame: pd.DataFrame, file_name: str, key: str, label: str = "Download table (CSV)") -> None:
    """A formula-safe CSV download of a table (see `survey.exports.safe_cell`)."""
    from app_pages.common import table_csv

    st.download_button(label, table_csv(frame), file_name=file_name, mime="text/csv", key=key, on_click="ignore")


def download_chart(chart: alt.TopLevelMixin, stem: str, key: str) -> None:
    """SVG and PNG downloads of a chart; without vl-convert, its Vega-Lite JSON instead."""
    if vl_convert_available():
        left, right = st.columns(2)
        with left:
            st.download_button("Download chart (SVG)", lambda: chart_svg(chart), file_name=f"{stem}.svg",
                               mime="image/svg+xml", key=f"{key}_svg", on_click="ignore")
        with right:
            st.download_button("Download chart (PNG)", lambda: chart_png(chart), file_name=f"{stem}.png",
                               mime="image/png", key=f"{key}_png", on_click="ignore")
        return
    st.download_button("Download chart (Vega-Lite JSON)", chart.to_json(), file_name=f"{stem}.vl.json",
                       mime="application/json", key=f"{key}_json", on_click="ignore")
    st.caption("PNG and SVG need the vl-convert-python package, which is not installed here.")


def download_report(build, file_name: str, key: str) -> None:
    """The HTML report of the current view; `build()` makes it when the button is clicked."""
    st.download_button("Download HTML report", build, file_name=file_name, mime="text/html", key=key,
                       on_click="ignore", type="primary",
                       help="A single file that opens offline: filters, figures with intervals and n, charts.")
