"""follow-up history index: a customer's answers by survey, question and time

Flagging a response needs two facts of the customer's history with the same survey: the previous
answer to each rated question (for `score_drop`) and whether a low score came within the repeat
window (for the priority). With (customer_id, survey_id, question_key, submitted_at, response_id,
numeric_value) each is one index seek (the newest entry before the response) or a short range
scan (the window), whatever the length of the history; before, flagging read the whole history
of each customer in Python, so an import's cost per row grew with the data. Answers without a
customer (anonymous surveys, open links) are left out of the index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ['customer_id', 'survey_id', 'question_key', 'submitted_at', 'response_id', 'numeric_value']


def upgrade() -> None:
    op.create_index('ix_answers_customer_history', 'answers', COLUMNS, unique=False,
                    sqlite_where=sa.text('customer_id IS NOT NULL'),
                    postgresql_where=sa.text('customer_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_answers_customer_history', table_name='answers')
