"""First start: an up-to-date schema, and demo data when the database holds no survey yet.

This is what lets `streamlit run app.py` work on a fresh machine with no other step.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from survey import db, models

FIRST_START_CUSTOMERS = 1_500
FIRST_START_RESPONSES = 30_000
FIRST_START_SEED = 7


def prepare_database(engine: Engine, with_demo_data: bool = True) -> bool:
    """Migrate to the newest schema; on an empty database, add demo data. True when demo data was added."""
    db.upgrade(engine)
    if not with_demo_data:
        return False
    with engine.connect() as connection:
        if connection.execute(select(func.count()).select_from(models.Survey)).scalar_one():
            return False
    from survey import demo  # only needed on the very first start

    demo.generate(engine, customers=FIRST_START_CUSTOMERS, responses=FIRST_START_RESPONSES,
                  seed=FIRST_START_SEED, progress=False)
    return True
