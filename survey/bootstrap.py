"""First start: an up-to-date schema, demo data when the database holds no survey yet, and an
admin account (its random password printed once) when the database holds no user.

This is what lets `streamlit run app.py` work on a fresh machine with no other step.
"""

from __future__ import annotations

import sys
from typing import Callable

from sqlalchemy import Engine, func, select

from survey.people import accounts
from survey.storage import bulk, counts, db, models

FIRST_START_CUSTOMERS = 1_500
FIRST_START_RESPONSES = 30_000
FIRST_START_SEED = 7


def _to_console(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def prepare_database(engine: Engine, with_demo_data: bool = True,
                     announce: Callable[[str], None] = _to_console) -> bool:
    """Migrate to the newest schema; on an empty database, add demo data (with its demo users); when
    there is still no user, create an admin and `announce` its random password, once. True when demo
    data was added."""
    db.upgrade(engine)
    bulk.restore_missing_indexes(engine)  # a bulk load killed half-way leaves its table's indexes dropped
    counts.restore_upkeep(engine)  # ... and the count tables' triggers
    added = False
    if with_demo_data:
        with engine.connect() as connection:
            empty = not connection.execute(select(func.count()).select_from(models.Survey)).scalar_one()
        if empty:
            from survey import demo  # only needed on the very first start

            demo.generate(engine, customers=FIRST_START_CUSTOMERS, responses=FIRST_START_RESPONSES,
                          seed=FIRST_START_SEED, progress=False)
            added = True
    with engine.begin() as connection:  # data may have grown since the last start
        db.refresh_statistics(connection)
    first_admin = accounts.ensure_first_admin(engine)
    if first_admin:
        email, password = first_admin
        announce(f"Created the first admin account: {email} with password {password}\n"
                 "This password is shown only now. Sign in and add your own accounts "
                 "(python -m survey user add --role admin EMAIL).")
    return added
