"""analysis.protect: after complementary suppression no published line total isolates a small cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import protect


def line_is_safe(cells: pd.DataFrame, reasons: pd.Series, line: list[str], measure: str, threshold: int) -> bool:
    groups = cells.groupby(line) if line else [((), cells)]
    for _, members in groups:
        hidden = reasons.loc[members.index] != ""
        total = members.loc[hidden, measure].sum()
        everything_hidden = hidden[members[measure] > 0].all()
        if not (total == 0 or total >= threshold or everything_hidden):
            return False
    return True


@pytest.mark.parametrize("seed", range(40))
def test_every_line_of_a_random_two_way_table_is_protected(seed):
    rng = np.random.default_rng(seed)
    rows, columns = rng.integers(2, 7), rng.integers(2, 7)
    cells = pd.DataFrame([(r, c) for r in range(rows) for c in range(columns)], columns=["segment", "month"])
    cells["n"] = rng.choice([0, 1, 3, 8, 12, 25, 40, 90], size=len(cells))
    cells["outside"] = np.minimum(cells["n"], rng.choice([0, 0, 1, 4, 20], size=len(cells)))
    lines = [["segment"], ["month"], []]
    reasons = protect(cells, [("n", 30), ("outside", 10, "scope")], lines)
    small = (cells["n"] > 0) & (cells["n"] < 30)
    assert (reasons[small] != "").all()  # every small cell hidden
    assert (reasons[(cells["outside"] > 0) & (cells["outside"] < 10)] != "").all()
    for line in lines:
        assert line_is_safe(cells, reasons, line, "n", 30)
        assert line_is_safe(cells, reasons, line, "outside", 10)


def test_a_table_without_small_cells_hides_nothing():
    cells = pd.DataFrame({"segment": list("abc"), "n": [30, 31, 400]})
    assert (protect(cells, [("n", 30)]) == "").all()


def test_bad_arguments_name_the_column():
    cells = pd.DataFrame({"segment": list("ab"), "n": [3, 40]})
    with pytest.raises(ValueError, match="no measure column 'count'"):
        protect(cells, [("count", 10)])
    with pytest.raises(ValueError, match="no line column 'month'"):
        protect(cells, [("n", 10)], lines=[["month"]])
    with pytest.raises(ValueError, match="threshold of 'n' must be a whole number"):
        protect(cells, [("n", 2.5)])
