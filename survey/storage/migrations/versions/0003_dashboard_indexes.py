"""covering indexes for the dashboard's score histograms and response volume

Measured with bench/bench_dashboard.py on 1,000,000 demo responses (SQLite): the overview's
histograms read (question_key, response_id, numeric_value) from the index alone instead of
visiting each answer row; response volume per month and channel reads the responses index alone.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_answers_question_response_value', 'answers',
                    ['question_key', 'response_id', 'numeric_value'], unique=False)
    op.create_index('ix_responses_survey_submitted_channel', 'responses',
                    ['survey_id', 'submitted_at', 'channel'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_responses_survey_submitted_channel', table_name='responses')
    op.drop_index('ix_answers_question_response_value', table_name='answers')
