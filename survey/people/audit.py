"""The audit log: every export of personal data, every erasure and every account change.

Events never hold personal data themselves (the subject says what, e.g. "responses of survey
relationship-nps", never a name or email of a customer), and they cannot be edited or deleted.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from survey.storage import models
from survey.people.access import READ_AUDIT_LOG, Actor, require


def record(session: Session, actor: Actor, action: str, subject: str = "", rows: int | None = None) -> None:
    """Add an audit event to `session` (it is stored when the session commits, with the work it records)."""
    session.add(models.AuditEvent(actor_id=actor.user_id, actor=actor.email, action=action,
                                  subject=subject[:300], rows=rows))


def events(engine: Engine, actor: Actor, limit: int = 500) -> pd.DataFrame:
    """The newest audit events first (admins only)."""
    require(actor, READ_AUDIT_LOG)
    table = models.AuditEvent.__table__
    query = (select(table.c.at, table.c.actor, table.c.action, table.c.subject, table.c.rows)
             .order_by(table.c.at.desc(), table.c.id.desc()).limit(limit))
    with engine.connect() as connection:
        return pd.DataFrame(connection.execute(query).all(), columns=["at", "actor", "action", "subject", "rows"])
