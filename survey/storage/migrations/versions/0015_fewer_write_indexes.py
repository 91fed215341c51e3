"""fewer indexes to write: three that other indexes already serve

Every stored answer, response and case flag writes one entry into each index of its table, so an
index no query needs still costs each write. Three are served by others:

- `ix_case_flags_response_id` (response_id) is the first column of the unique
  `uq_case_flags_response_rule` (response_id, rule, question_key), which finds the same rows.
  A flagged response writes about four flags, so this was four index entries per response.
- `ix_responses_survey_submitted` (survey_id, submitted_at) is the start of
  `ix_responses_survey_submitted_channel` and `ix_responses_survey_submitted_customer`.
- `ix_answers_question_value` (question_key, numeric_value): the only queries that chose it were
  a question's histogram counted from the raw answers, which `ix_answers_question_response_value`
  (question_key, response_id, numeric_value) answers from the index alone too; the dashboard
  reads its histograms from the count tables (0014).

Measured with bench/bench_import.py's 5,000-customer shape at 50,000 rows: 13.9 s with them,
12.9 s without.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

DROPPED = (('case_flags', 'ix_case_flags_response_id', ['response_id']),
           ('responses', 'ix_responses_survey_submitted', ['survey_id', 'submitted_at']),
           ('answers', 'ix_answers_question_value', ['question_key', 'numeric_value']))


def upgrade() -> None:
    for table, name, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name, columns in DROPPED:
        op.create_index(name, table, columns, unique=False)
