"""The My follow-ups and Follow-up pages (AppTest): a field manager sees only their own cases and
works them with one click; managers see the closed-loop figures; field managers cannot open them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from survey.storage import db, models
from tests.conftest import actor_for, run_page
from tests.followup_data import GOOD, RELATIONSHIP, answer, build, utc

NOW = utc(2026, 5, 1, 10)


@pytest.fixture
def small(tmp_path):
    url = f"sqlite:///{tmp_path / 'pages.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    world = build(engine)
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 3, "comment": "x"}, NOW, world.customers["ANNA"])
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 4, "comment": "**bold** [x](http://x)"}, NOW,
           world.customers["BERT"])
    engine.dispose()
    return url, world


def table_refs(app) -> list[str]:
    return list(app.dataframe[0].value["customer_ref"])


def test_a_field_manager_sees_only_their_own_cases(small, monkeypatch):
    url, world = small
    app = run_page("my_followups", url, monkeypatch, actor=world.fm_a)
    assert app.title[0].value == "My follow-ups"
    assert table_refs(app) == ["ANNA"]
    assert all("BERT" not in option for option in app.selectbox(key="my_followups_case").options)
    app = run_page("my_followups", url, monkeypatch, actor=world.fm_b)
    assert table_refs(app) == ["BERT"]
    # a manager owning no case sees none of their own there, and every case when asking for everyone's
    app = run_page("my_followups", url, monkeypatch, actor=world.manager)
    assert not app.dataframe and "You have no open follow-up cases." in app.info[0].value
    app.radio(key="my_followups_whose").set_value("Everyone's").run()
    assert sorted(table_refs(app)) == ["ANNA", "BERT"]


def test_one_click_contact_with_a_note_is_stored_as_an_event(small, monkeypatch):
    url, world = small
    app = run_page("my_followups", url, monkeypatch, actor=world.fm_a)
    case_id = app.selectbox(key="my_followups_case").value
    app.text_area(key=f"note_{case_id}").input("Called, will send a new part")
    app.button(key=f"contacted_{case_id}").click().run()
    assert not app.exception
    assert [s.value for s in app.success] == ["Saved."]
    engine = db.make_engine(url)
    with engine.connect() as connection:
        event = connection.execute(select(models.CaseEvent.actor_id, models.CaseEvent.to_status, models.CaseEvent.note)
                                   .order_by(models.CaseEvent.id.desc()).limit(1)).one()
    engine.dispose()
    assert tuple(event) == (world.fm_a.user_id, "contacted", "Called, will send a new part")


def test_resolving_without_a_note_is_refused_on_the_page(small, monkeypatch):
    url, world = small
    app = run_page("my_followups", url, monkeypatch, actor=world.fm_b)
    case_id = app.selectbox(key="my_followups_case").value
    app.selectbox(key=f"cause_{case_id}").set_value("delivery").run()
    app.button(key=f"resolve_{case_id}").click().run()
    # the refusal is shown in the Resolve section, beside its button, which stays open
    resolve = next(e for e in app.expander if e.label == "Resolve")
    assert [e.value for e in resolve.error] == ["Resolution note: is required"]
    assert [e.value for e in app.main.error] == [e.value for e in resolve.error]


def test_an_untouched_root_cause_is_refused_not_recorded_as_the_first(small, monkeypatch):
    url, world = small
    app = run_page("my_followups", url, monkeypatch, actor=world.fm_b)
    case_id = app.selectbox(key="my_followups_case").value
    assert app.selectbox(key=f"cause_{case_id}").value is None  # nothing preselected
    app.text_area(key=f"note_{case_id}").input("Sorted out on the phone")
    app.button(key=f"resolve_{case_id}").click().run()
    resolve = next(e for e in app.expander if e.label == "Resolve")
    assert [e.value for e in resolve.error] and resolve.error[0].value.startswith("Root cause: is required")
    engine = db.make_engine(url)
    with engine.connect() as connection:
        status = connection.execute(select(models.FollowUpCase.status).where(models.FollowUpCase.id == case_id)).scalar_one()
    engine.dispose()
    assert status != "resolved"


def test_field_managers_cannot_open_the_follow_up_overview(small, monkeypatch):
    url, world = small
    app = run_page("follow_up", url, monkeypatch, actor=world.fm_a)
    assert "does not allow this (follow up overview)" in app.error[0].value
    assert not app.metric


def test_the_follow_up_page_shows_the_figures_on_the_demo(demo_database_url, monkeypatch):
    app = run_page("follow_up", demo_database_url, monkeypatch, actor=actor_for(demo_database_url, "manager"))
    assert app.title[0].value == "Follow-up"
    labels = [m.label for m in app.metric]
    assert labels == ["Open cases", "Overdue", "Resolved", "Median time to first contact",
                      "Contacted within due date", "Recovery rate"]
    assert int(app.metric[2].value.replace(",", "")) > 0
    assert app.metric[5].value.endswith("%")


def test_the_demo_shows_a_field_managers_own_cases(demo_database_url, monkeypatch):
    fm = actor_for(demo_database_url, "field_manager")
    app = run_page("my_followups", demo_database_url, monkeypatch, actor=fm)
    frame = app.dataframe[0].value
    engine = db.make_engine(demo_database_url)
    with engine.connect() as connection:
        own = connection.execute(select(models.FollowUpCase.id).where(
            models.FollowUpCase.owner_id == fm.user_id,
            models.FollowUpCase.status.in_(("open", "contacted")))).scalars().all()
    engine.dispose()
    assert sorted(frame["case"]) == sorted(own) and len(own) > 0
