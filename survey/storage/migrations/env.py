"""Alembic environment: runs migrations on the engine handed over by `survey.storage.db.upgrade`."""

from alembic import context
from sqlalchemy import create_engine

from survey.storage.models import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by copy, drop and rename; with foreign keys on, dropping a
        # referenced table (users, customers...) fails on any populated database. The pragma is a
        # no-op inside a transaction, so it is set on the raw connection before ours begins;
        # foreign_key_check below still refuses a migration that leaves a dangling reference.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    # render_as_batch lets ALTER TABLE work on SQLite by copying tables.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        before = context.get_context().get_current_revision()
        context.run_migrations()
        if sqlite and context.get_context().get_current_revision() != before:
            dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if dangling:
                raise RuntimeError(f"the migration left rows pointing at missing rows: {dangling[:5]}")
    connection.commit()
    if sqlite:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
