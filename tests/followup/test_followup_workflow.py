"""Working cases: every status transition, the refused ones, append-only events, reassignment,
escalation, re-invitation, and scoping (field manager A never reaches B's cases)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from survey.storage import db, models
from survey.people.access import AccessDenied
from survey.followup import cases as cases_module
from survey.followup import queries, workflow
from survey.followup.workflow import CaseChangeError, change_status
from tests.followup_data import GOOD, RELATIONSHIP, SUPPORT, answer, build, cases, utc

NOW = utc(2026, 5, 1, 10)


@pytest.fixture
def world(engine, monkeypatch):
    monkeypatch.setattr(cases_module, "utc_now", lambda: NOW)
    found = build(engine)
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 3, "comment": "x"}, NOW, found.customers["ANNA"])  # A's, case 1
    answer(engine, RELATIONSHIP, {**GOOD, "recommend": 4, "comment": "x"}, NOW, found.customers["BERT"])  # B's, case 2
    return found


def case_ids(engine):
    return {c.customer_id: c.id for c in cases(engine)}


def change(engine, actor, case_id, to, note="", **kwargs):
    with db.session_scope(engine) as session:
        return change_status(session, actor, case_id, to, note, **kwargs)


def events(engine, case_id):
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(
            select(models.CaseEvent.actor_id, models.CaseEvent.from_status, models.CaseEvent.to_status,
                   models.CaseEvent.note).where(models.CaseEvent.case_id == case_id).order_by(models.CaseEvent.id))]


@pytest.mark.parametrize("path", [
    ["contacted", "resolved"], ["contacted", "unreachable"], ["contacted", "declined"],
    ["resolved"], ["unreachable"], ["declined"],
])
def test_every_allowed_transition_is_an_event(engine, world, path):
    case = case_ids(engine)[world.customers["ANNA"]]
    at = NOW
    for status in path:
        at += timedelta(hours=5)
        extra = {"root_cause": "delivery", "compensation": 50} if status == "resolved" else {}
        change(engine, world.fm_a, case, status, f"to {status}", now=at, **extra)
    stored = events(engine, case)
    previous = ["open"] + path[:-1]
    assert stored[1:] == [(world.fm_a.user_id, before, after, f"to {after}") for before, after in zip(previous, path)]
    [found] = [c for c in cases(engine) if c.id == case]
    assert found.status == path[-1]
    assert found.closed_at is not None
    # first contact: the first change that reached the customer (not 'unreachable')
    reached = next((i for i, s in enumerate(path) if s in ("contacted", "resolved", "declined")), None)
    expected = None if reached is None else (NOW + timedelta(hours=5 * (reached + 1))).replace(tzinfo=None)
    assert (found.first_contacted_at.replace(tzinfo=None) if found.first_contacted_at else None) == expected


@pytest.mark.parametrize("to, kwargs, message", [
    ("resolved", {}, "root_cause: is required to resolve"),
    ("resolved", {"root_cause": "weather"}, "root_cause: 'weather' is not in the list"),
    ("resolved", {"root_cause": "price", "note": ""}, "resolution note: is required"),
    ("resolved", {"root_cause": "price", "compensation": -5}, "compensation: must be zero or more"),
    ("contacted", {"root_cause": "price"}, "root_cause: only a resolution has a root cause"),
    ("closed", {}, "status: 'closed' is not a status"),
    ("open", {}, "status: a case that is open cannot become open"),
])
def test_refused_changes_name_the_field_and_write_nothing(engine, world, to, kwargs, message):
    case = case_ids(engine)[world.customers["ANNA"]]
    kwargs = dict(kwargs)  # the parameters are shared by both backends
    note = kwargs.pop("note", "called, sorted out")
    with pytest.raises(CaseChangeError) as caught:
        change(engine, world.fm_a, case, to, note, **kwargs)
    assert str(caught.value).startswith(message)
    assert len(events(engine, case)) == 1
    assert [c.status for c in cases(engine) if c.id == case] == ["open"]


def test_a_closed_case_stays_closed(engine, world):
    case = case_ids(engine)[world.customers["ANNA"]]
    change(engine, world.fm_a, case, "declined", "does not want a call")
    with pytest.raises(CaseChangeError, match="a case that is declined cannot become contacted"):
        change(engine, world.fm_a, case, "contacted")


def test_events_cannot_be_edited_or_deleted(engine, world):
    case = case_ids(engine)[world.customers["ANNA"]]
    with pytest.raises(models.ImmutableRowError):
        with db.session_scope(engine) as session:
            session.scalar(select(models.CaseEvent).where(models.CaseEvent.case_id == case)).note = "rewritten"
    for statement in ("UPDATE case_events SET note = 'rewritten'", "DELETE FROM case_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    assert events(engine, case)[0][3].startswith("opened for response")


def test_field_manager_a_cannot_read_or_change_bs_cases(engine, world):
    ids = case_ids(engine)
    bert_case = ids[world.customers["BERT"]]
    assert list(queries.open_cases(engine, world.fm_a)["customer_ref"]) == ["ANNA"]
    assert list(queries.open_cases(engine, world.fm_b)["customer_ref"]) == ["BERT"]
    assert sorted(queries.open_cases(engine, world.manager)["customer_ref"]) == ["ANNA", "BERT"]
    with pytest.raises(AccessDenied):
        queries.case_detail(engine, world.fm_a, bert_case)
    with pytest.raises(AccessDenied):
        change(engine, world.fm_a, bert_case, "contacted", "trying")
    with pytest.raises(AccessDenied):
        with db.session_scope(engine) as session:
            workflow.add_note(session, world.fm_a, bert_case, "peek")
    with pytest.raises(AccessDenied):  # a case that does not exist looks the same
        queries.case_detail(engine, world.fm_a, 999)
    with pytest.raises(AccessDenied):  # field managers see no overview figures at all
        queries.figures(engine, world.fm_a)
    assert len(events(engine, bert_case)) == 1
    assert queries.case_detail(engine, world.fm_b, bert_case).customer["external_ref"] == "BERT"


def test_earlier_cases_in_the_detail_are_scoped_too(engine, world):
    anna = world.customers["ANNA"]
    answer(engine, SUPPORT, {"csat": 1, "effort": 5, "comment": "x"}, NOW, anna)
    anna_cases = [c for c in cases(engine) if c.customer_id == anna]
    with db.session_scope(engine) as session:  # the support case goes to B
        workflow.reassign(session, world.manager, anna_cases[1].id, "b@x.example", "B knows them")
    detail = queries.case_detail(engine, world.fm_a, anna_cases[0].id)
    assert detail.earlier_cases.empty
    assert len(queries.case_detail(engine, world.manager, anna_cases[0].id).earlier_cases) == 1


def test_only_admins_and_managers_reassign(engine, world):
    case = case_ids(engine)[world.customers["ANNA"]]
    with pytest.raises(AccessDenied):
        with db.session_scope(engine) as session:
            workflow.reassign(session, world.fm_a, case, "b@x.example")
    with pytest.raises(CaseChangeError, match="owner: no active user"):
        with db.session_scope(engine) as session:
            workflow.reassign(session, world.manager, case, "nobody@x.example")
    with db.session_scope(engine) as session:
        workflow.reassign(session, world.manager, case, "b@x.example", "holiday cover")
    assert sorted(queries.open_cases(engine, world.fm_b)["customer_ref"]) == ["ANNA", "BERT"]
    assert events(engine, case)[-1] == (world.manager.user_id, "open", "open",
                                        "reassigned from a@x.example to b@x.example: holiday cover")


def test_overdue_cases_escalate_once_to_the_owners_manager(engine, world):
    ids = case_ids(engine)
    # ANNA's case: NPS 3 (0.3, not severe), Gold: 3 - 1 = 2 -> due 3 working days later, Wed 6 May 10:00
    [anna_case] = [c for c in cases(engine) if c.id == ids[world.customers["ANNA"]]]
    assert anna_case.due_at.replace(tzinfo=None) == utc(2026, 5, 6, 10).replace(tzinfo=None)
    change(engine, world.fm_b, ids[world.customers["BERT"]], "contacted", "called")
    with db.session_scope(engine) as session:  # 23 hours past due: not yet (escalation after 24 hours)
        assert workflow.escalate_overdue(session, world.admin, now=utc(2026, 5, 7, 9)) == []
    with db.session_scope(engine) as session:  # 30 hours past due: both open cases escalate
        done = workflow.escalate_overdue(session, world.admin, now=utc(2026, 5, 7, 16))
    assert [(e.case_id, e.manager_email, e.hours_overdue) for e in done] == [
        (ids[world.customers["ANNA"]], "manager@x.example", 30.0),
        (ids[world.customers["BERT"]], "manager@x.example", 30.0)]
    with db.session_scope(engine) as session:
        assert workflow.escalate_overdue(session, world.admin, now=utc(2026, 5, 8, 16)) == []
    assert {c.escalated_to_id for c in cases(engine)} == {world.manager.user_id}


def test_a_resolved_customer_is_reinvited_after_the_set_days(engine, world):
    case = case_ids(engine)[world.customers["ANNA"]]
    change(engine, world.fm_a, case, "resolved", "replaced the parts", root_cause="product", now=NOW)
    with db.session_scope(engine) as session:  # 29 days later: too early (30 by default)
        assert workflow.reinvite_recovered(session, world.admin, now=NOW + timedelta(days=29)) == 0
    with db.session_scope(engine) as session:
        assert workflow.reinvite_recovered(session, world.admin, now=NOW + timedelta(days=30)) == 1
    with db.session_scope(engine) as session:
        assert workflow.reinvite_recovered(session, world.admin, now=NOW + timedelta(days=40)) == 0
    with engine.connect() as connection:
        assert connection.execute(select(models.Invitation.customer_id)).scalars().all() == [world.customers["ANNA"]]
        assert connection.execute(select(func.count()).select_from(models.Invitation)).scalar_one() == 1
