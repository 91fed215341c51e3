"""p chart of the share of detractors (or dissatisfied) per period."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import p_chart


def test_p_chart_limits_match_hand_computation_and_flag_the_spike():
    # hand: p-bar = 52/300 = .17333; 3*sqrt(.17333*.82667/100) = .11356 -> limits [.05977, .28690];
    # the third period (.30) lies above the upper limit
    chart = p_chart([10, 12, 30], [100, 100, 100])
    assert chart["center"].tolist() == pytest.approx([52 / 300] * 3)
    assert chart["lower"].iloc[0] == pytest.approx(0.05977, abs=1e-5)
    assert chart["upper"].iloc[0] == pytest.approx(0.28690, abs=1e-5)
    assert chart["p"].tolist() == pytest.approx([0.10, 0.12, 0.30])
    assert chart["out_of_control"].tolist() == [False, False, True]


def test_lower_limit_is_floored_at_zero_and_limits_widen_for_small_periods():
    # hand: p-bar = 3/30 = .1; 3*sqrt(.1*.9/10) = .2846 -> lower .1 - .2846 < 0 -> 0, upper .3846
    chart = p_chart([0, 1, 2], [10, 10, 10])
    assert chart["lower"].tolist() == [0.0, 0.0, 0.0]
    assert chart["upper"].iloc[0] == pytest.approx(0.3846, abs=1e-4)
    uneven = p_chart([5, 50], [20, 500])
    assert uneven["upper"].iloc[0] - uneven["lower"].iloc[0] > uneven["upper"].iloc[1] - uneven["lower"].iloc[1]


def test_p_chart_keeps_the_period_index_of_a_series():
    events = pd.Series([3, 4], index=pd.Index(["2026-01", "2026-02"], name="period"))
    chart = p_chart(events, [40, 50])
    assert chart.index.tolist() == ["2026-01", "2026-02"]
    assert chart["n"].tolist() == [40, 50]


def test_a_period_without_answers_is_never_out_of_control():
    chart = p_chart([5, 0], [50, 0])
    assert math.isnan(chart["p"].iloc[1])
    assert not chart["out_of_control"].iloc[1]


def test_p_chart_rejects_inconsistent_counts():
    with pytest.raises(ValueError, match="events exceed totals in period 1: 11 > 10"):
        p_chart([1, 11], [10, 10])
    with pytest.raises(ValueError, match="totals contains -5"):
        p_chart([1, 1], [10, -5])
    with pytest.raises(ValueError, match="equal length"):
        p_chart([1, 2, 3], [10, 10])
    with pytest.raises(ValueError, match="sigma"):
        p_chart([1], [10], sigma=0)
