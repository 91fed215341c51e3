"""annual values are finite: the infinite ones earlier customer imports accepted are cleared

Customer imports used to store `1e999`, `inf` or `Infinity` in `customers.annual_value` as +inf
(and `-inf` is below the minimum of 0), and one such value made the Loyalty and value page fail
for every user. Imports now refuse them; this clears the ones already stored (to NULL: the value
is unknown), so existing databases are fixed too. `> 1e308` catches +inf and, on PostgreSQL, NaN
(which sorts above every number there); SQLite stores NaN as NULL already.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE customers SET annual_value = NULL WHERE annual_value > 1e308 OR annual_value < 0")


def downgrade() -> None:
    pass  # the cleared values were not numbers: nothing to restore
