"""The Overview shows the response rate after the invitation and after each reminder, under the response rate."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select, update

from survey import demo
from survey.collection.invitations import create_invitations
from survey.storage import db, models
from tests.conftest import run_page

NOW = datetime(2026, 6, 1, 9, tzinfo=timezone.utc)


def test_the_overview_lists_each_round_with_its_rate(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'rounds.db'}"
    engine = db.make_engine(url)
    demo.generate(engine, customers=80, responses=900, seed=5)
    with db.session_scope(engine) as session:
        create_invitations(session, "relationship-nps", now=NOW)
        ids = session.scalars(select(models.Invitation.id).order_by(models.Invitation.id)).all()
        session.execute(update(models.Invitation).values(sent_at=NOW))
        # 2 answered after the invitation; 3 reminded, of whom 1 answered after the reminder
        session.execute(update(models.Invitation).where(models.Invitation.id.in_(ids[:2]))
                        .values(responded_at=NOW + timedelta(days=1)))
        session.execute(insert(models.InvitationReminder), [
            dict(invitation_id=i, round=1, sent_at=NOW + timedelta(days=7)) for i in ids[2:5]])
        session.execute(update(models.Invitation).where(models.Invitation.id == ids[2])
                        .values(responded_at=NOW + timedelta(days=8)))
    engine.dispose()
    app = run_page("overview", url, monkeypatch)
    table = next(frame.value for frame in app.dataframe if "Email" in frame.value.columns)
    invited = len(ids)
    assert table.to_dict("records") == [
        {"Email": "Invitation", "Sent to": invited, "Answered after it": 2,
         "Response rate by then": f"{100 * 2 / invited:.1f}%"},
        {"Email": "Reminder 1", "Sent to": 3, "Answered after it": 1,
         "Response rate by then": f"{100 * 3 / invited:.1f}%"}]
