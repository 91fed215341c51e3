"""Reading a page's table back as numbers: tables show words (`app_pages.labels`), so a column with a
gap is text such as "1,234.5", "12.3%", "< 0.001" or "—" (hidden or missing)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd


def numbers(column: pd.Series) -> pd.Series:
    """The column's numbers as shown (NaN for a dash; `< 0.001` as 0.0005, below the shown bound)."""
    def one(value):
        if not isinstance(value, str):
            return value
        text = value.replace(",", "").replace("%", "").strip()
        if text.startswith("< "):
            return float(text[2:]) / 2
        return np.nan if text in ("—", "") else float(text)
    return column.map(one).astype(float)


def period_starts(column: pd.Series) -> pd.Series:
    """Period names ("Nov 2024", "Q4 2024", "Week of 2024-11-04") as their first days."""
    def one(text: str) -> pd.Timestamp:
        quarter = re.fullmatch(r"Q(\d) (\d{4})", text)
        if quarter:
            return pd.Timestamp(int(quarter[2]), 3 * int(quarter[1]) - 2, 1)
        if text.startswith("Week of "):
            return pd.Timestamp(text[8:])
        return pd.to_datetime(text, format="%b %Y")
    return column.map(one)
