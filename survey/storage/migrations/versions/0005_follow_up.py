"""follow-up cases: flags linking responses to cases, contact and escalation times, one open case per customer

Cases gain the times the manager figures need (first contact, newest flag, escalation, re-invitation),
the score recovery is measured on, and the escalation target. `case_flags` records every rule that
fired on a response and the case it joined. A partial unique index keeps at most one open case
(status open or contacted) per customer and survey, even under concurrent submissions.

Only nullable columns are added to `follow_up_cases`, and `case_events` is not touched, so its
append-only triggers stay as migration 0004 left them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OPEN = "status IN ('open', 'contacted')"
CASE_COLUMNS = ('first_contacted_at', 'last_flagged_at', 'flagged_question', 'flagged_score', 'escalated_at',
                'escalated_to_id', 'reinvited_at')


def upgrade() -> None:
    with op.batch_alter_table('follow_up_cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_contacted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_flagged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('flagged_question', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('flagged_score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('escalated_to_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reinvited_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_follow_up_cases_escalated_to_id_users'), 'users',
                                    ['escalated_to_id'], ['id'])
    op.create_index('uq_follow_up_cases_one_open_per_customer_survey', 'follow_up_cases',
                    ['customer_id', 'survey_id'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_table(
        'case_flags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=40), nullable=False),
        sa.Column('question_key', sa.String(length=200), nullable=False),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('detail', sa.String(length=300), nullable=False),
        sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['follow_up_cases.id'], name=op.f('fk_case_flags_case_id_follow_up_cases')),
        sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_case_flags_response_id_responses')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_flags')),
        sa.UniqueConstraint('response_id', 'rule', 'question_key', name='uq_case_flags_response_rule'),
    )
    op.create_index(op.f('ix_case_flags_case_id'), 'case_flags', ['case_id'], unique=False)
    op.create_index(op.f('ix_case_flags_response_id'), 'case_flags', ['response_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_case_flags_response_id'), table_name='case_flags')
    op.drop_index(op.f('ix_case_flags_case_id'), table_name='case_flags')
    op.drop_table('case_flags')
    op.drop_index('uq_follow_up_cases_one_open_per_customer_survey', table_name='follow_up_cases')
    with op.batch_alter_table('follow_up_cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_follow_up_cases_escalated_to_id_users'), type_='foreignkey')
        for column in reversed(CASE_COLUMNS):
            batch_op.drop_column(column)
