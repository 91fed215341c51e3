"""Input checks shared by the estimators: every bad input becomes a ValueError naming the culprit.

Examples
--------
>>> values, kept = clean_scores([1, None, 5], (1, 5), integer=True)
>>> values.tolist(), kept.tolist()
([1.0, 5.0], [True, False, True])
>>> clean_scores([1, 6], (1, 5), integer=True)
Traceback (most recent call last):
...
ValueError: scores contains 6, outside the declared scale 1..5
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd


def describe(value: object) -> str:
    """A short, readable rendering of an offending value for error messages.

    >>> describe(np.float64(11.0)), describe("x")
    ('11', "'x'")
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def check_confidence(confidence: float) -> float:
    """The confidence level as a float strictly between 0 and 1.

    >>> check_confidence(0.9)
    0.9
    """
    try:
        level = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(f"confidence must be a number between 0 and 1, got {confidence!r}") from None
    if not 0 < level < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    return level


def check_scale(scale: Sequence[float], *, integer: bool = False, name: str = "scale") -> tuple[float, float]:
    """A declared scale as ``(low, high)`` with low < high; integer end points if `integer`.

    >>> check_scale((1, 5))
    (1.0, 5.0)
    """
    try:
        low, high = (float(end) for end in scale)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (min, max) of numbers, got {scale!r}") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low >= high:
        raise ValueError(f"{name} must be a pair (min, max) with min < max, got {scale!r}")
    if integer and not (low.is_integer() and high.is_integer()):
        raise ValueError(f"{name} must have whole-number end points for counting boxes, got {scale!r}")
    return low, high


def check_top(top: int, scale: tuple[float, float]) -> int:
    """The number of top-box points: a whole number from 1 to the number of points on the scale.

    >>> check_top(2, (1.0, 5.0))
    2
    """
    points = int(scale[1] - scale[0]) + 1
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or not 1 <= top <= points:
        raise ValueError(f"top must be a whole number from 1 to {points} for scale "
                         f"{describe(scale[0])}..{describe(scale[1])}, got {top!r}")
    return int(top)


def check_columns(frame: pd.DataFrame, columns: Iterable[str], *, what: str = "column") -> None:
    """Raise unless `frame` is a DataFrame holding every one of `columns`."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    for column in columns:
        if column not in frame.columns:
            raise ValueError(f"{what} {column!r} is not in the frame (columns: {list(frame.columns)})")


def as_series(values: object, name: str) -> pd.Series:
    """Any one-dimensional array-like as a Series (its index kept when it already is one)."""
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, pd.DataFrame) or np.ndim(values) != 1:
        raise ValueError(f"{name} must be one-dimensional (a list, array or Series)")
    return pd.Series(values)


def to_numbers(values: pd.Series, name: str) -> np.ndarray:
    """Non-missing values as floats; raise naming the first value that is not a number."""
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=float)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        raise ValueError(f"{name} contains {describe(values[bad].tolist()[0])}, which is not a number")
    return numbers.to_numpy(dtype=float)


def clean_scores(scores: object, scale: tuple[float, float], *, integer: bool,
                 name: str = "scores") -> tuple[np.ndarray, np.ndarray]:
    """Scores with missing values dropped, checked against the declared scale.

    Returns the kept scores as floats and a boolean mask of which input positions were kept.
    Anything that is neither missing nor a point of the scale (a whole number when `integer`)
    raises ValueError naming the value.
    """
    series = as_series(scores, name)
    kept = ~series.isna().to_numpy()
    present = series[kept]
    values = to_numbers(present, name)
    low, high = scale
    outside = ~np.isfinite(values) | (values < low) | (values > high)
    if integer:
        outside |= values != np.round(values)
    if outside.any():
        raise ValueError(f"{name} contains {describe(present[outside].tolist()[0])}, outside the declared "
                         f"scale {describe(low)}..{describe(high)}")
    return values, kept


def clean_weights(weights: object, kept: np.ndarray, name: str = "weights") -> np.ndarray:
    """Weights of the kept positions: finite and non-negative, with a positive sum."""
    series = as_series(weights, name)
    if len(series) != len(kept):
        raise ValueError(f"{name} has {len(series)} values but there are {len(kept)} scores")
    present = series[kept]
    missing = present.isna().to_numpy()
    if missing.any():
        position = int(np.flatnonzero(kept)[np.argmax(missing)])
        raise ValueError(f"{name} is missing at position {position}, where the score is not")
    values = to_numbers(present, name)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise ValueError(f"{name} contains {describe(present[bad].tolist()[0])}; weights must be finite and >= 0")
    if len(values) and values.sum() <= 0:
        raise ValueError(f"{name} sum to zero over the non-missing scores")
    return values


def check_counts(counts: object, name: str) -> np.ndarray:
    """Histogram counts as floats: whole numbers >= 0, none missing.

    >>> check_counts([3, 0], "count column").tolist()
    [3.0, 0.0]
    """
    originals = np.asarray(counts, dtype=object).ravel()
    try:
        values = np.asarray(counts, dtype=float)
    except (TypeError, ValueError):
        bad_value = next(v for v in originals if not isinstance(v, (int, float, np.number)))
        raise ValueError(f"{name} contains {describe(bad_value)}, which is not a count") from None
    bad = (~np.isfinite(values) | (values < 0) | (values != np.round(values))).ravel()
    if bad.any():
        raise ValueError(f"{name} contains {describe(originals[np.argmax(bad)])}; counts must be whole numbers >= 0")
    return values
