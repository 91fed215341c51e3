"""The publishing layer counts each person outside a field manager's scope once, and Drivers and
Loyalty and value publish through it (issue 13: the pages the first round left out).

Why once: two hidden months with the same five outside customers add up to ten, yet together they
still rest on five people. A published total over the months less the shown months gives those
five people's answers back, so a further month must be hidden.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from app_pages import figures
from app_pages.common import FILTER_SEGMENT
from app_pages.loyalty import CATEGORIES, NO_VALUE, QUADRANTS, published_grid
from survey.definitions.definition import loads_yaml
from survey.definitions.publishing import publish
from survey.people.access import Actor
from survey.storage import db, models, scope_counts
from survey.storage.filters import VALUE_BANDS, VALUE_TOP_BAND, Filters
from tests.conftest import actor_for, run_page

PULSE = """
slug: pulse
title: Pulse
questions:
  - {key: recommend, kind: nps, required: true, text: "How likely are you to recommend us?"}
"""


def test_one_person_behind_two_hidden_months_counts_once():
    # The same five outside customers in January and February (5 answers each), forty in March.
    months = pd.DataFrame({"period": ["2026-01", "2026-02", "2026-03"], "n": [5, 5, 40], "value": [1.0, 2.0, 3.0]})
    five = frozenset(range(5))
    who = figures.Outside(pd.Series([5, 5, 40]), [five, five, None])
    published = figures.publish(months, ["value"], min_n=10, floor=10, lines=[[]], outside=who)
    # hidden January and February hold 10 answers but 5 people: March is hidden too
    assert published.table["status"].tolist() == ["suppressed", "suppressed", "suppressed (complementary)"]
    # counted as a sum (each month's people added up) the same table would have shown March
    summed = figures.publish(months, ["value"], min_n=10, floor=10, lines=[[]], outside=pd.Series([5, 5, 40]))
    assert summed.table["status"].tolist()[2] == ""


def test_outside_scope_says_who_is_behind_the_small_groups(engine):
    with db.session_scope(engine) as session:
        version = publish(session, loads_yaml(PULSE))
        manager = models.User(email="fm@example.com", name="FM", role="field_manager")
        session.add(manager)
        session.flush()
        customers = [models.Customer(external_ref=f"c{i}", name=f"C {i}", region="South",
                                     field_manager_id=manager.id if i >= 45 else None) for i in range(50)]
        session.add_all(customers)
        session.flush()
        plan = [(c, 1) for c in customers[:5]] + [(c, 2) for c in customers[:5]] + [(c, 3) for c in customers[5:50]]
        plan.append((None, 1))  # one anonymous answer in January: could be anyone
        for number, (customer, month) in enumerate(plan):
            response = models.Response(idempotency_key=f"k{number}", content_hash="x", survey_id=version.survey_id,
                                       survey_version_id=version.id, channel="web",
                                       customer_id=customer.id if customer else None,
                                       submitted_at=datetime(2026, month, 10, 9, tzinfo=timezone.utc))
            response.answers.append(models.Answer(question_key="recommend", numeric_value=7))
            session.add(response)
        fm = Actor(manager.id, manager.email, "field_manager")
        outside_ids = {c.id for c in customers[:5]}
    found = scope_counts.outside_scope(engine, Filters("pulse"), "recommend", fm, "month", people_below=10)
    found = found.assign(month=found["period"].astype(str).str[:7]).set_index("month")
    assert found.loc["2026-01", "outside"] == 6 and found.loc["2026-02", "outside"] == 5
    january = found.loc["2026-01", "people"]
    assert {p for p in january if p > 0} == outside_ids and len([p for p in january if p < 0]) == 1
    assert found.loc["2026-02", "people"] == frozenset(outside_ids)
    assert found.loc["2026-03", "outside"] == 40 and found.loc["2026-03", "people"] is None  # 40 of them
    # without people_below the frame has the counts only, as before
    assert "people" not in scope_counts.outside_scope(engine, Filters("pulse"), "recommend", fm, "month").columns


BANDS = [label for _, label in VALUE_BANDS] + [VALUE_TOP_BAND, None]


def line_totals_safe(cells: pd.DataFrame, hidden: pd.Series, line: str | None, measure: str, floor: int) -> bool:
    groups = cells.groupby(line) if line else [((), cells)]
    for _, members in groups:
        shut = hidden.loc[members.index]
        total = members.loc[shut, measure].sum()
        if not (total == 0 or total >= floor or shut[members[measure] > 0].all()):
            return False
    return True


@pytest.mark.parametrize("seed", range(30))
def test_the_value_grid_and_its_quadrants_leave_no_small_group_recoverable(seed):
    rng = np.random.default_rng(seed)
    grid = pd.DataFrame([(band, category) for band in BANDS for category in CATEGORIES],
                        columns=["value_band", "category"])
    grid["customers"] = rng.choice([0, 1, 2, 4, 9, 10, 15, 40, 120], size=len(grid))
    grid["outside"] = np.minimum(grid["customers"], rng.choice([0, 0, 1, 3, 12], size=len(grid)))
    grid["value"] = grid["customers"] * 1000.0
    grid["value_squared"] = grid["customers"] * 1e6
    grid = grid[grid["customers"] > 0].reset_index(drop=True)
    floor = 10
    shown, quadrants = published_grid(grid, floor)
    hidden = shown.table["status"].str.startswith("suppressed")
    assert hidden[(grid["customers"] < floor) | ((grid["outside"] > 0) & (grid["outside"] < floor))].all()
    assert shown.table.loc[hidden, "customers"].isna().all() and shown.table.loc[hidden, "value"].isna().all()
    cells = grid.assign(quadrant=shown.table["quadrant"])
    for line in (None, "category", "quadrant"):
        for measure in ("customers", "outside"):
            assert line_totals_safe(cells, hidden, line, measure, floor), (line, measure, shown.table)
    table = quadrants.table.set_index("quadrant")
    shut = table["status"].str.startswith("suppressed")
    assert set(table.index) == {*QUADRANTS.values(), NO_VALUE}
    for measure in ("n", "outside"):
        # the hidden quadrants together: none, or at least the floor (the total is published)
        total = cells.groupby("quadrant")[measure if measure == "outside" else "customers"].sum().reindex(
            table.index, fill_value=0)[shut].sum()
        assert total == 0 or total >= floor or shut[table["n"].fillna(0) >= 0].all()
    for quadrant in table.index[shut]:  # a hidden quadrant shows none of its cells
        assert hidden[cells["quadrant"] == quadrant].all()


def narrow(app, segments: dict[str, str]):
    for dimension, value in segments.items():
        app.sidebar.multiselect(key=FILTER_SEGMENT.format(dimension)).set_value([value])
    app.run()
    assert not app.exception, app.exception


# In the shared demo data (600 customers, seed 7): South/Bronze/Legal holds 27 complete relationship
# responses (under the minimum n of 30), South/Silver/Retail 94 responses from 5 customers, none of
# them a North field manager's; South/Gold 19 customers with an NPS answer.
CASES = {
    "drivers, 27 responses": ("drivers", "manager", {"region": "South", "tier": "Bronze", "industry": "Legal"}, True),
    "drivers, 5 people outside the scope": ("drivers", "field_manager",
                                            {"region": "South", "tier": "Silver", "industry": "Retail"}, True),
    "drivers, the same 94 responses for a manager": ("drivers", "manager",
                                                     {"region": "South", "tier": "Silver", "industry": "Retail"}, False),
    "loyalty, 19 customers": ("loyalty", "manager", {"region": "South", "tier": "Gold"}, True),
    "loyalty, 19 customers for a field manager": ("loyalty", "field_manager", {"region": "South", "tier": "Gold"}, True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_drivers_and_loyalty_show_nothing_of_a_handful(demo_database_url, monkeypatch, case):
    page, role, segments, hidden = CASES[case]
    app = run_page(page, demo_database_url, monkeypatch, actor_for(demo_database_url, role))
    assert app.metric, f"{page} shows its figures for the whole survey"
    narrow(app, segments)
    if not hidden:
        assert app.metric and app.get("vega_lite_chart")
        return
    assert not app.metric and not app.get("vega_lite_chart"), f"{page} published a handful"
    said = [element.value for element in (*app.info, *app.warning)]
    assert any("Widen the filters" in text for text in said), said


def test_a_hidden_month_is_not_its_quarter_less_the_months_shown():
    # Trends by quarter publishes Q1's total; with February hidden (5 answers), hiding April (the
    # smallest other month) would leave Q1 - January - March = February. The quarter is a line.
    from app_pages.overview import published_months

    months = pd.DataFrame({"period": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"]),
                           "n": [40, 5, 41, 35], "value": [10.0, -42.9, 12.0, 11.0], "low": 0.0, "high": 0.0,
                           "change": 0.0, "change_p_value": 0.5})
    table = published_months(months, min_n=30, outside=None).table
    hidden = table["status"].str.startswith("suppressed").tolist()
    assert hidden[1] and (hidden[0] or hidden[2]), table
    assert "within_quarter" not in table.columns
