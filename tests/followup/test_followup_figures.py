"""The managers' closed-loop figures on a small hand-built history, expected values worked by hand."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from survey.storage import db
from survey.followup import cases as cases_module
from survey.followup import queries
from survey.followup.workflow import change_status
from tests.followup_data import GOOD, RELATIONSHIP, SUPPORT, answer, build, cases, utc

NOW = utc(2026, 5, 1, 10)  # Friday: cases of priority 2-3 are due Wednesday 6 May 10:00
LATER = utc(2026, 5, 20, 10)


@pytest.fixture
def history(engine, monkeypatch):
    clock = [NOW]
    monkeypatch.setattr(cases_module, "utc_now", lambda: clock[0])
    world = build(engine)
    c = world.customers
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 3, "comment": "x"}, NOW, c["ANNA"])   # case 1, A
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 4, "comment": "x"}, NOW, c["BERT"])   # case 2, B
    answer(engine, SUPPORT, {"csat": 2, "effort": 5, "comment": "meh"}, NOW, c["EMIL"])      # case 3, A
    answer(engine, SUPPORT, {"csat": 1, "effort": 5, "comment": "x"}, NOW, c["DORA"])       # case 4, nobody's
    ids = {case.customer_id: case.id for case in cases(engine)}

    def step(actor, customer, status, hours, **kwargs):
        with db.session_scope(engine) as session:
            change_status(session, actor, ids[c[customer]], status, "note", now=NOW + timedelta(hours=hours), **kwargs)

    step(world.fm_a, "ANNA", "contacted", 4)                               # 4 h, in time
    step(world.fm_a, "ANNA", "resolved", 24, root_cause="delivery")
    step(world.fm_b, "BERT", "contacted", 10)                              # 10 h, in time
    step(world.fm_b, "BERT", "resolved", 48, root_cause="price")
    step(world.fm_a, "EMIL", "contacted", 144)                             # 144 h: Thursday 7 May, a day late
    step(world.fm_a, "EMIL", "resolved", 168, root_cause="delivery")
    clock[0] = LATER  # the customers answer again on 20 May
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 8, "comment": "thanks"}, LATER, c["ANNA"])  # 3 -> 8: up
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 7, "comment": "ok"}, LATER, c["BERT"])      # 4 -> 7: up
    answer(engine, SUPPORT, {"csat": 2, "effort": 5, "comment": "still meh"}, LATER, c["EMIL"])    # 2 -> 2: not up,
    return world                                                             # and case 5 opens (due Mon 25 May)


def test_closed_loop_figures(engine, history):
    figures = queries.figures(engine, history.manager, now=utc(2026, 5, 21, 10))
    assert figures.by_owner.to_dict("records") == [
        # nobody's: DORA's case, never contacted, due 6 May: open and overdue
        {"owner": "(unassigned)", "open": 1, "overdue": 1, "resolved": 0, "unreachable": 0, "declined": 0},
        # A: ANNA and EMIL resolved; EMIL's new case open, due 25 May
        {"owner": "Alice Field (a@x.example)", "open": 1, "overdue": 0, "resolved": 2, "unreachable": 0, "declined": 0},
        {"owner": "Bob Field (b@x.example)", "open": 0, "overdue": 0, "resolved": 1, "unreachable": 0, "declined": 0}]
    assert figures.by_region[["region", "open", "overdue", "resolved"]].to_dict("records") == [
        {"region": "East", "open": 1, "overdue": 1, "resolved": 0},
        {"region": "North", "open": 1, "overdue": 0, "resolved": 2},
        {"region": "South", "open": 0, "overdue": 0, "resolved": 1}]
    # first contacts after 4, 10 and 144 hours: the median is 10
    assert figures.median_hours_to_contact == 10.0
    # judged: the 3 contacted cases and DORA's (never contacted, past due); EMIL's new case is not due yet.
    # In time: ANNA and BERT, 2 of 4 = 50%; Wilson 95%: centre (0.5 + 1.96²/8) / (1 + 1.96²/4) = 0.5,
    # half-width 1.96 / 1.9604 * sqrt(0.0625 + 0.0600) = 0.350 -> 15.0% to 85.0%
    in_time = figures.contacted_in_time
    assert (in_time.value, round(in_time.low, 1), round(in_time.high, 1), in_time.n) == (50.0, 15.0, 85.0, 4)
    # recovery: ANNA 3 -> 8 and BERT 4 -> 7 recovered, EMIL 2 -> 2 did not: 2 of 3;
    # Wilson: centre (0.6667 + 0.6403) / 2.2805 = 0.5731, half-width 0.8595 * 0.4252 = 0.3654 -> 20.8% to 93.9%
    recovery = figures.recovery
    assert (round(recovery.value, 1), round(recovery.low, 1), round(recovery.high, 1), recovery.n) == (
        66.7, 20.8, 93.9, 3)
    assert figures.root_causes.to_dict("records") == [  # May is still running on the 21st
        {"month": "2026-05 (to date)", "root_cause": "delivery", "count": 2},
        {"month": "2026-05 (to date)", "root_cause": "price", "count": 1}]
    assert figures.root_cause_alerts == []  # one month: nothing to compare with


def test_a_field_manager_gets_no_figures_and_the_overview_tile_counts_open_cases(engine, history):
    from survey.people.access import AccessDenied
    from survey.storage.queries import follow_up_counts

    with pytest.raises(AccessDenied):
        queries.figures(engine, history.fm_b)
    # open: DORA's and EMIL's new case; overdue: DORA's (due 6 May)
    assert follow_up_counts(engine, SUPPORT, now=utc(2026, 5, 21, 10)) == {"open": 2, "overdue": 1}
    assert follow_up_counts(engine, RELATIONSHIP, now=utc(2026, 5, 21, 10)) == {"open": 0, "overdue": 0}


def test_a_root_cause_jump_raises_an_alert():
    # delivery in 1 of 10 resolved cases each month from January to April, then 8 of 10 in May.
    # p-chart: centre 12/50 = 0.24; May's upper limit 0.24 + 3 sqrt(0.24 * 0.76 / 10) = 0.645 < 0.8;
    # exactly, P(X >= 8 | n = 10, p = 0.24) = 45 p^8 (1-p)^2 + 10 p^9 (1-p) + p^10 = 0.00031 < 0.00135
    rows = []
    for month in range(1, 6):
        delivery = 8 if month == 5 else 1
        for k in range(10):
            rows.append({"status": "resolved", "closed_at": pd.Timestamp(2026, month, 10, tz="UTC"),
                         "root_cause": "delivery" if k < delivery else "price"})
    table, alerts = queries._root_causes(pd.DataFrame(rows), pd.Timestamp(2026, 6, 1, tz="UTC"))
    assert alerts == ["delivery: 80% of the cases resolved in 2026-05 (control limit 65%, usual 24%)"]
    assert int(table[(table["month"] == "2026-05") & (table["root_cause"] == "delivery")]["count"].iloc[0]) == 8


def _resolved(month_counts):
    """Resolved cases: {(month "YYYY-MM", root cause): how many}, closed on the 2nd of the month."""
    rows = [{"status": "resolved", "root_cause": cause, "closed_at": pd.Timestamp(f"{month}-02 09:00", tz="UTC")}
            for (month, cause), count in month_counts.items() for _ in range(count)]
    return pd.DataFrame(rows)


def test_a_root_cause_jump_needs_enough_cases_and_the_running_month_says_to_date():
    usual = {(f"2026-0{m}", cause): count for m in range(1, 7) for cause, count in (("price", 10), ("delivery", 90))}
    now = pd.Timestamp("2026-07-03 12:00", tz="UTC")
    # Three of five cases in the first days of July name price. Centre line (60 + 3) / 605 = 0.104;
    # 3-sigma limit 0.104 + 3 sqrt(0.104 * 0.896 / 5) = 0.514, so 60% is above it; but exactly,
    # P(X >= 3 | n = 5, p = 0.104) = 10 p^3 (1-p)^2 + 5 p^4 (1-p) + p^5 = 0.0096, above 0.00135.
    table, alerts = queries._root_causes(_resolved({**usual, ("2026-07", "price"): 3, ("2026-07", "delivery"): 2}), now)
    assert alerts == []
    assert sorted(set(table["month"]))[-1] == "2026-07 (to date)"
    # 30 of 100: centre (60 + 30) / 700 = 0.129, limit 0.129 + 3 sqrt(0.129 * 0.871 / 100) = 0.229;
    # exactly, 30 or more when 12.9 are expected is far rarer than 0.00135 (about 5e-6).
    _, alerts = queries._root_causes(_resolved({**usual, ("2026-07", "price"): 30, ("2026-07", "delivery"): 70}), now)
    assert alerts == ["price: 30% of the cases resolved in 2026-07 so far (control limit 23%, usual 13%)"]
    _, alerts = queries._root_causes(_resolved({**usual, ("2026-07", "price"): 30, ("2026-07", "delivery"): 70}),
                                     pd.Timestamp("2026-08-01", tz="UTC"))
    assert alerts == ["price: 30% of the cases resolved in 2026-07 (control limit 23%, usual 13%)"]  # a whole month
