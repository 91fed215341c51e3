"""count tables: score_counts and response_counts, kept by triggers, filled from the stored answers

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

from survey.storage import count_upkeep

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'score_counts',
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('question_key', sa.String(length=200), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('survey_id', 'question_key', 'month', 'value', name=op.f('pk_score_counts')),
    )
    op.create_table(
        'response_counts',
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('survey_id', 'month', 'channel', name=op.f('pk_response_counts')),
    )
    connection = op.get_bind()
    count_upkeep.install(connection)
    count_upkeep.recount(connection)


def downgrade() -> None:
    count_upkeep.drop(op.get_bind())
    op.drop_table('response_counts')
    op.drop_table('score_counts')
