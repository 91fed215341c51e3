"""The publishing layer: every figure a page, the HTML report or a download shows passes through here.

Pages compute their tables with `analysis`, then hand them to `publish` with the lines whose totals
are published elsewhere; what comes back is the only thing they render, chart and download. The
rules (README, "Disclosure control"):

- the minimum n: a page's "Minimum n" input starts at, and cannot go under, the floor
  (`SURVEY_MIN_N_FLOOR`, default 10); a cell with fewer answers than the page's minimum is hidden;
- complementary suppression (`analysis.protect`): more cells are hidden until the hidden cells of
  every published total (the table's, each row's, each column's) reach the minimum, so no hidden
  cell is a total less the others; a change from a hidden period is hidden with it;
- the viewer's scope: for a field manager, a cell with 1 to floor - 1 people outside their own
  customers is hidden (they could subtract what they can read), with the same complementary rule.

Each published table carries one short line saying which rule hid what.

Example:
    >>> cells = pd.DataFrame({"segment": ["a", "b", "c"], "value": [10.0, -80.0, 30.0], "n": [50, 4, 40]})
    >>> published = publish(cells, ["value"], min_n=10, floor=10, lines=[[]])
    >>> published.table["value"].tolist(), published.note("segment")
    ([10.0, nan, nan], 'Hidden: 1 segment under n = 10; 1 more so that it cannot be worked out from the totals.')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import protect
from analysis.disclosure import COMPLEMENTARY, SMALL
from survey import settings

SCOPE = "scope"
MIN_N_DEFAULT = 30
STATUS = {SMALL: "suppressed", COMPLEMENTARY: "suppressed (complementary)", SCOPE: "suppressed (your scope)"}


def floor() -> int:
    """The disclosure floor from the settings (`SURVEY_MIN_N_FLOOR`)."""
    return settings.min_n_floor()


def page_min_n(requested: int | None = None) -> int:
    """The minimum n a page uses: what was asked for (default 30), never under the floor."""
    return max(int(MIN_N_DEFAULT if requested is None else requested), floor())


def min_n_input(container, key: str, help: str) -> int:
    """A "Minimum n" number input that starts at max(30, floor) and cannot go under the floor;
    a value under it (e.g. from an old session) is raised to the floor."""
    lowest = floor()
    value = container.number_input("Minimum n", min_value=lowest, value=page_min_n(), step=1, key=key,
                                   help=f"{help} Never under {lowest} (the disclosure floor).")
    return page_min_n(value)


@dataclass(frozen=True)
class Published:
    """A table as it may leave the system: hidden cells blanked, `status` saying why, and counts."""

    table: pd.DataFrame = field(compare=False)
    hidden: dict[str, int]
    min_n: int
    floor: int

    def note(self, what: str = "cell") -> str:
        """One short line: which rule hid how many (empty when nothing is hidden)."""
        parts = []
        if self.hidden.get(SMALL):
            count = self.hidden[SMALL]
            parts.append(f"{count} {what}{'s' if count > 1 else ''} under n = {self.min_n}")
        if self.hidden.get(SCOPE):
            count = self.hidden[SCOPE]
            parts.append(f"{count} {what}{'s' if count > 1 else ''} with 1 to {self.floor - 1} people outside "
                         "your own customers")
        if self.hidden.get(COMPLEMENTARY):
            count = self.hidden[COMPLEMENTARY]
            it = "they" if sum(self.hidden.values()) - count > 1 else "it"
            parts.append(f"{count} more so that {it} cannot be worked out from the totals")
        return ("Hidden: " + "; ".join(parts) + ".") if parts else ""


@dataclass(frozen=True)
class Outside:
    """The people outside a field manager's scope behind each cell of a table, in the table's order:
    `counts`, and `people` (who they are, a frozenset, for a cell with fewer than the floor; None
    for the others), so that hidden cells together count each person once."""

    counts: pd.Series = field(compare=False)
    people: list = field(compare=False)

    def together(self, positions: np.ndarray) -> float:
        """The people behind the cells at `positions` together: the size of the union of their
        sets when every one is known, else the largest count (a cell of the floor or more)."""
        sets = [self.people[position] for position in positions]
        if any(people is None for people in sets):
            return float(np.asarray(self.counts)[positions].max())
        return float(len(frozenset().union(*sets)))


def combine_outside(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`outside_scope` rows (with `people`) merged into coarser groups by `keys`: the union of who
    they are where every part is known, else the largest part's count (a lower bound of the floor or more)."""
    rows = []
    for key, group in counts.groupby(keys, observed=True, sort=False):
        parts = list(group["people"])
        known = all(part is not None for part in parts)
        people = frozenset().union(*parts) if known else None
        rows.append((*(key if isinstance(key, tuple) else (key,)),
                     len(people) if known else int(group["outside"].max()), people))
    return pd.DataFrame(rows, columns=[*keys, "outside", "people"])


def publish(cells: pd.DataFrame, value_columns: Sequence[str], min_n: int, lines: Sequence[Sequence[str]],
            outside: pd.Series | Outside | None = None, floor: int | None = None, hidden: pd.Series | None = None,
            status_column: str | None = "status") -> Published:
    """`cells` with every figure of a cell that may not be shown blanked (NaN).

    Parameters
    ----------
    cells : DataFrame
        One row per cell with column ``n`` (answers) and the columns that name the `lines`.
    value_columns : columns to blank in hidden cells (values, intervals, differences, p-values).
    min_n : the page's minimum n (already at or above the floor).
    lines : the groupings whose totals are published elsewhere (see `analysis.protect`).
    outside : per cell, people outside the viewer's scope (None or all 0 for a manager); an `Outside`
        also says who they are in the small cells, so hidden cells together count each person once.
    hidden : cells already hidden upstream (e.g. by `by_segment`), kept hidden.
    status_column : column that gets "suppressed", "suppressed (complementary)" or
        "suppressed (your scope)" for hidden cells (other text already there is kept).
    """
    floor = globals()["floor"]() if floor is None else floor
    frame = cells.reset_index(drop=True).copy()
    measures = pd.DataFrame({"n": pd.to_numeric(frame["n"], errors="coerce").fillna(0)})
    for line in lines:
        for column in line:
            measures[column] = frame[column].to_numpy()
    rules: list = [("n", int(min_n))]
    unions = {}
    if outside is not None:
        counts = outside.counts if isinstance(outside, Outside) else outside
        measures["outside"] = pd.to_numeric(pd.Series(np.asarray(counts)), errors="coerce").fillna(0).to_numpy()
        rules.append(("outside", int(floor), SCOPE))
        if isinstance(outside, Outside):
            unions["outside"] = outside.together
    # Cells hidden upstream (e.g. by `by_segment`) take part in the lines' totals from the start.
    reasons = protect(measures, rules, lines, hidden=hidden, unions=unions)
    blank = (reasons != "").to_numpy()
    for column in value_columns:
        if column in frame.columns:
            frame[column] = frame[column].astype(float)
            frame.loc[blank, column] = np.nan
    if status_column is not None:
        previous = frame[status_column].astype(str) if status_column in frame.columns else ""
        frame[status_column] = np.where(blank, reasons.map(STATUS).fillna(""), previous)
    frame.index = cells.index
    counts = {reason: int((reasons == reason).sum()) for reason in STATUS if (reasons == reason).any()}
    return Published(frame, counts, int(min_n), int(floor))


# Each period the pages publish -> the coarser periods other views publish totals of, which hold it
# whole (a quarter is three months; weeks straddle months, so they have none).
COARSER = {"month": ("quarter", "year"), "quarter": ("year",), "week": ()}


def with_coarser_periods(frame: pd.DataFrame, period_column: str, granularity: str,
                         by: Sequence[str] = ()) -> tuple[pd.DataFrame, list[list[str]]]:
    """`frame` with a column per coarser period holding each of its `period_column` periods, and the
    lines those totals make (each coarser period, alone and within each group of `by`): Trends by
    quarter publishes a quarter's total, so a hidden month must not be that total less its shown
    months."""
    starts = pd.to_datetime(frame[period_column].astype(str))
    added, lines = {}, []
    for coarse in COARSER[granularity]:
        name = f"within_{coarse}"
        added[name] = starts.dt.to_period("Q" if coarse == "quarter" else "Y").astype(str).to_numpy()
        lines += [[name]] + ([[*by, name]] if by else [])
    return frame.assign(**added), lines


def hide_changes_from_hidden(frame: pd.DataFrame, hidden: pd.Series, by: Sequence[str],
                             change_columns: Sequence[str]) -> pd.DataFrame:
    """Blank a period's change when the period before it (in the same group) is hidden: value minus
    change would give the hidden value back. `frame` is sorted by `by` then period."""
    hidden = pd.Series(np.asarray(hidden, dtype=bool), index=frame.index)
    if by:
        before = hidden.groupby([frame[column] for column in by], observed=True, sort=False).shift(1)
    else:
        before = hidden.shift(1)
    mask = before.fillna(False).astype(bool).to_numpy() | hidden.to_numpy()
    frame = frame.copy()
    for column in change_columns:
        if column in frame.columns:
            frame[column] = frame[column].astype(float)
            frame.loc[mask, column] = np.nan
    return frame
