"""Disclosure control of tables of groups: primary and complementary suppression.

A figure on a handful of answers can point at a person, and a hidden figure can often be worked
out from those around it: a segment's value from the total and the other segments, a cell of a
segment-by-month table from its row or column sum. `protect` decides which cells of a table may
be published, given the measures that must reach a threshold (answers per cell, customers the
viewer may not see, ...) and the lines whose totals are published elsewhere.

Examples
--------
Two regions, one of them small: hiding only the small one would let total - North reveal it,
so North is hidden too (complementary suppression).

>>> import pandas as pd
>>> cells = pd.DataFrame({"region": ["North", "South"], "n": [40, 4]})
>>> protect(cells, [("n", 10)], lines=[[]]).tolist()
['complementary', 'small']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

SMALL = "small"  # the cell's own measure is under its threshold (primary suppression)
COMPLEMENTARY = "complementary"  # hidden so that a hidden cell cannot be worked out from a total
REASONS = (SMALL, COMPLEMENTARY)


def protect(cells: pd.DataFrame, measures: Sequence[tuple[str, int] | tuple[str, int, str]],
            lines: Sequence[Sequence[str]] = ((),), hidden: Sequence[bool] | None = None,
            unions: Mapping[str, Callable[[np.ndarray], float]] | None = None) -> pd.Series:
    """Which cells of a table to hide, and why ("" for a cell that may be published).

    Parameters
    ----------
    cells : pandas.DataFrame
        One row per cell, with a column per measure and the columns that name the lines.
    measures : list of (column, threshold) or (column, threshold, reason)
        A cell is hidden when 0 < measure < threshold (primary suppression, reason "small" or the
        one given, e.g. "scope" for customers outside what the viewer may see). A cell with a
        measure of 0 holds nothing of that kind and is not hidden for it.
    lines : list of lists of column names, default one line over the whole table
        Each distinct combination of values of the named columns is a line whose total is
        published (for example ``[]`` for the grand total, ``["month"]`` for each month's total
        over the segments, ``["segment"]`` for each segment's total over the months).
    hidden : per cell, True for a cell already hidden by an earlier rule (e.g. a group whose total
        is under the threshold elsewhere); it is hidden here too ("complementary" unless a primary
        reason applies) and counts towards the lines' hidden totals.
    unions : {measure column: function of an array of cell positions -> the measure of those cells
        together}, for a measure that does not add up: the people outside a viewer's scope behind
        two months are fewer than the sum when the same person answered in both. Default: the sum.

    Returns
    -------
    pandas.Series
        Per cell: "" (publish), the primary reason, or "complementary".

    Notes
    -----
    Complementary suppression, by lines: while some line has hidden cells whose measure adds up
    to more than 0 and less than its threshold, hide the cell of that line with the smallest
    positive measure (then the next smallest answer count) among those still shown, and look
    again, until no line changes. The hidden cells of every line then together reach every
    threshold, so subtracting the published cells from the line's published total gives at most
    a group as large as the threshold allows. It is the line rule of Hundepool et al. (2012,
    ch. 4.3), a greedy heuristic rather than the minimum-loss pattern, and it protects linear
    combinations through the lines it is told about.

    References
    ----------
    Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Nordholt, E. S., Spicer, K.,
    & de Wolf, P.-P. (2012). Statistical Disclosure Control. Wiley (ch. 4: magnitude and
    frequency tables, primary and secondary cell suppression).

    Examples
    --------
    >>> cells = pd.DataFrame({"segment": list("aabb"), "month": [1, 2, 1, 2], "n": [3, 50, 60, 70]})
    >>> protect(cells, [("n", 10)], lines=[["segment"], ["month"]]).tolist()
    ['small', 'complementary', 'complementary', '']

    One person outside the viewer's scope behind two months: the two months together still rest on
    one person, so a third month is hidden too.

    >>> months = pd.DataFrame({"month": [1, 2, 3], "outside": [1, 1, 20]})
    >>> people = [{"p"}, {"p"}, None]
    >>> def together(positions):
    ...     sets = [people[i] for i in positions]
    ...     return max(months["outside"][positions]) if None in sets else len(set().union(*sets))
    >>> protect(months, [("outside", 2, "scope")], unions={"outside": together}).tolist()
    ['scope', 'scope', 'complementary']
    """
    if not isinstance(cells, pd.DataFrame):
        raise ValueError(f"cells must be a DataFrame, got {type(cells).__name__}")
    rules = []
    for measure in measures:
        column, threshold, *reason = measure
        if column not in cells.columns:
            raise ValueError(f"cells has no measure column {column!r}")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)) or threshold < 0:
            raise ValueError(f"the threshold of {column!r} must be a whole number >= 0, got {threshold!r}")
        values = pd.to_numeric(cells[column], errors="coerce").fillna(0).to_numpy(dtype=float)
        together = (unions or {}).get(column)
        rules.append((values, int(threshold), reason[0] if reason else SMALL,
                      together or (lambda positions, values=values: values[positions].sum())))
    for line in lines:
        missing = [column for column in line if column not in cells.columns]
        if missing:
            raise ValueError(f"cells has no line column {missing[0]!r}")

    reasons = np.full(len(cells), "", dtype=object)
    for values, threshold, reason, _ in rules:
        reasons[(reasons == "") & (values > 0) & (values < threshold)] = reason
    if hidden is not None:
        reasons[(reasons == "") & np.asarray(hidden, dtype=bool)] = COMPLEMENTARY
    groups = [np.zeros(len(cells), dtype=np.int64) if not line else
              cells.groupby(list(line), sort=False, observed=True, dropna=False).ngroup().to_numpy()
              for line in lines]
    tie_break = rules[0][0] if rules else np.zeros(len(cells))
    changed = True
    while changed:
        changed = False
        for group in groups:
            for label in np.unique(group):
                members = group == label
                for values, threshold, _, together in rules:
                    total = together(np.flatnonzero(members & (reasons != "")))
                    if not 0 < total < threshold:
                        continue
                    candidates = np.flatnonzero(members & (reasons == "") & (values > 0))
                    if not len(candidates):
                        candidates = np.flatnonzero(members & (reasons == "") & (tie_break > 0))
                    if not len(candidates):
                        continue  # the line's total is itself under the threshold: hidden where published
                    order = np.lexsort((tie_break[candidates], values[candidates]))
                    reasons[candidates[order[0]]] = COMPLEMENTARY
                    changed = True
    return pd.Series(reasons, index=cells.index, dtype=object)
