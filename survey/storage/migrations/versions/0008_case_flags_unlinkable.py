"""case flags may lose their response: erasure breaks the link from kept answers to the erased customer

A case flag names the response that fired a rule, and its case names the customer: together they
linked an erased customer's kept (anonymous) answers back to them. Erasure now sets the flag's
`response_id` to NULL, so the column becomes nullable. Nothing else changes; the unique
constraint on (response_id, rule, question_key) still stops a response being flagged twice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_flags', schema=None) as batch_op:
        batch_op.alter_column('response_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # flags of erased customers have no response any more: they cannot be kept under NOT NULL
    op.execute("DELETE FROM case_flags WHERE response_id IS NULL")
    with op.batch_alter_table('case_flags', schema=None) as batch_op:
        batch_op.alter_column('response_id', existing_type=sa.Integer(), nullable=False)
