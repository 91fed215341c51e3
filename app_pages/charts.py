"""Chart conventions for every page: height, axis titles, zoomed domains, integer count ticks, empty states.

- every chart is at least `HEIGHT` pixels high (`sized`);
- axis titles are short labels; the full question text goes in the tooltip (`short_title`);
- a value axis is zoomed to the data with a margin (`zoomed`), and the caption says where it
  starts when that is not zero (`baseline_note`);
- counts get whole-number ticks (`count_axis`);
- with nothing to draw, a page says so (`empty`) instead of drawing an empty chart.

Example:
    >>> zoomed([6.8, 7.1, 7.6]).domain
    [6.5, 7.9]
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import altair as alt
import pandas as pd

HEIGHT = 320  # pixels: tall enough to read five overlapping lines and their bands
ROW_HEIGHT = 40  # pixels per row of a heatmap or a ranked bar chart, so every row keeps its label
TITLE_LIMIT = 32  # characters of an axis title before it is shortened
# Legends under the plot, in as many columns as fit: on a phone a legend beside the plot leaves it no room.
LEGEND = alt.Legend(orient="bottom", direction="horizontal", columns=3, labelLimit=180)


def sized(chart, height: int = HEIGHT):
    """`chart` at least `height` pixels high (layers and single charts alike)."""
    return chart.properties(height=height)


def short_title(text: str, limit: int = TITLE_LIMIT) -> str:
    """An axis title of at most about `limit` characters, cut at a word with an ellipsis."""
    from app_pages.labels import shorten

    return shorten(text, limit)


def _bounds(values: Iterable) -> tuple[float, float] | None:
    numbers = [float(v) for v in values if v is not None and not pd.isna(v)]
    return (min(numbers), max(numbers)) if numbers else None


def zoomed(values: Iterable, margin: float = 0.15, minimum_span: float = 1.0) -> alt.Scale:
    """A linear scale whose domain covers `values` with `margin` of their range on each side
    (at least `minimum_span` wide), rounded outward to one decimal: zoomed to the data, not to 0."""
    bounds = _bounds(values)
    if bounds is None:
        return alt.Scale(zero=False)
    low, high = bounds
    span = max(high - low, minimum_span)
    pad = margin * span + (minimum_span - (high - low)) / 2 if high - low < minimum_span else margin * span
    return alt.Scale(domain=[math.floor((low - pad) * 10) / 10, math.ceil((high + pad) * 10) / 10], zero=False,
                     nice=False)


def baseline_note(scale: alt.Scale, what: str = "The value axis") -> str:
    """A sentence saying where a zoomed axis starts (empty when it starts at 0)."""
    domain = getattr(scale, "domain", None)
    if isinstance(domain, list) and domain and domain[0] != 0:
        return f"{what} starts at {domain[0]:g}, not 0, to show the differences."
    return ""


def count_axis(title: str) -> alt.Axis:
    """An axis for counts: whole-number ticks with thousands separators."""
    return alt.Axis(title=title, format=",d", tickMinStep=1)


def empty(container, what: str) -> None:
    """Say that there is nothing to draw (instead of an empty chart)."""
    container.info(f"No {what} to draw for these filters: widen the dates or segments.")
