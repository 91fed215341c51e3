"""Alembic environment: runs migrations on the engine handed over by `survey.db.upgrade`."""

from alembic import context
from sqlalchemy import create_engine

from survey.models import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    # render_as_batch lets ALTER TABLE work on SQLite by copying tables.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
