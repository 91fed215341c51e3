"""Follow-up cases for the demo data: the rules applied to the last weeks of demo responses as if
live, and the cases worked the way a field team would, so that every page has something to show.

Deterministic like the rest of the demo: times come from the responses and the seed, never the clock.
The follow-up programme "starts" `PROGRAMME_DAYS` before the demo's last day; older responses are
history (they still count for score drops and repeats).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import numpy as np
from sqlalchemy import Engine, bindparam, select

from survey.storage import bulk, db, models
from survey.people.access import FIELD_MANAGER, Actor
from survey.followup.cases import flag_responses
from survey.followup.settings import DEFAULT_FILE, load_settings
from survey.followup.workflow import CLOSED, REACHED, check_change

PROGRAMME_DAYS = 56
CAUSES = ("product", "delivery", "billing", "staff attitude", "customer did not understand how to use the product",
          "price", "other")
CAUSE_WEIGHTS = (0.22, 0.24, 0.14, 0.10, 0.12, 0.12, 0.06)
RECENT_CAUSE_WEIGHTS = (0.14, 0.14, 0.10, 0.36, 0.10, 0.10, 0.06)  # the last month: staff attitude jumps
NOTES = {"contacted": "Called; customer explained the problem.", "unreachable": "Three calls, no answer.",
         "declined": "Customer did not want to talk about it."}


def add_demo_cases(engine: Engine, end, seed: int) -> int:
    """Flag the demo responses of the programme's weeks and work the cases; returns the cases made.

    The work is planned in Python and written in bulk, a statement per week for the cases and one
    for their events, with the same checks a field manager's change meets (`workflow.check_change`).
    Working them one ORM object at a time took about 23 s of the 1,000,000-response demo.
    """
    settings = load_settings(DEFAULT_FILE)
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(99,)))
    last = datetime.combine(end, time(18), tzinfo=timezone.utc)
    start = datetime.combine(end - timedelta(days=PROGRAMME_DAYS), time(0), tzinfo=timezone.utc)
    case = models.FollowUpCase
    worked: set[int] = set()
    week = start
    with db.session_scope(engine) as session:
        owners = {u.id: Actor(u.id, u.email, u.role) for u in session.scalars(
            select(models.User).where(models.User.role == FIELD_MANAGER))}
        while week < last:
            following = min(week + timedelta(days=7), last)
            ids = session.scalars(select(models.Response.id).where(
                models.Response.submitted_at >= week, models.Response.submitted_at < following)).all()
            # replayed history: announced to no webhook (see survey.integrations.outbox)
            flag_responses(session, ids, settings, opened_at_submission=True, announce=False)
            cases = session.execute(select(case.id, case.owner_id, case.created_at).where(
                case.status == "open", case.created_at < following - timedelta(days=2)).order_by(case.id)).all()
            changes, events = [], []
            for row in cases:
                if row.id in worked:
                    continue  # left open by an earlier week's work
                worked.add(row.id)
                actor = owners.get(row.owner_id) or Actor.command_line()
                _work(row, actor, rng, last, settings, changes, events)
            _write_work(session, changes, events)
            week = following
        return session.query(models.FollowUpCase).count()


def _work(case, actor: Actor, rng, last: datetime, settings, changes: list[dict], events: list[dict]) -> None:
    """Plan the demo's work on one open case: its final values into `changes`, its steps into `events`."""
    status = "open"
    values = dict(case_id=case.id, first_contacted_at=None, closed_at=None, root_cause=None,
                  resolution_note=None, compensation=None)

    def step(to: str, note: str, at: datetime, **resolution) -> None:
        nonlocal status
        change = check_change(actor, status, to, note, settings=settings, **resolution)
        if to in REACHED and values["first_contacted_at"] is None:
            values["first_contacted_at"] = at
        if to in CLOSED:
            values["closed_at"] = at
        if to == "resolved":
            values.update(root_cause=change.root_cause, resolution_note=change.note, compensation=change.compensation)
        events.append(dict(case_id=case.id, actor_id=actor.user_id, at=at, from_status=status, to_status=to,
                           note=change.note or None))
        status = to

    opened = case.created_at if case.created_at.tzinfo else case.created_at.replace(tzinfo=timezone.utc)
    draw = rng.random()
    contact = opened + timedelta(hours=float(rng.gamma(2.0, 14.0)) + 1)  # median about a day
    if draw < 0.12 or contact >= last:
        return  # left open: overdue by the demo's last day
    if draw < 0.20:
        step("unreachable", NOTES["unreachable"], contact)
    elif draw < 0.25:
        step("declined", NOTES["declined"], contact)
    else:
        step("contacted", NOTES["contacted"], contact)
        resolved = contact + timedelta(hours=float(rng.uniform(2, 96)))
        if draw >= 0.35 and resolved < last:  # otherwise contacted, still being worked
            weights = RECENT_CAUSE_WEIGHTS if resolved >= last - timedelta(days=30) else CAUSE_WEIGHTS
            cause = CAUSES[int(rng.choice(len(CAUSES), p=weights))]
            compensation = float(rng.choice([50, 100, 250])) if rng.random() < 0.2 else None
            step("resolved", f"Root cause: {cause}. Agreed next steps with the customer.", resolved,
                 root_cause=cause, compensation=compensation)
    changes.append(dict(values, status=status))


def _write_work(session, changes: list[dict], events: list[dict]) -> None:
    """The planned work: the cases' new values in one update, their events in one insert."""
    if not changes:
        return
    table = models.FollowUpCase.__table__
    names = [name for name in changes[0] if name != "case_id"]
    session.connection().execute(
        table.update().where(table.c.id == bindparam("case_id")).values({name: bindparam(f"new_{name}") for name in names}),
        [{"case_id": change["case_id"], **{f"new_{name}": change[name] for name in names}} for change in changes])
    bulk.insert_rows(session.connection(), models.CaseEvent.__table__, events)
