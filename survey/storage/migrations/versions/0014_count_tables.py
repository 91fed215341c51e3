"""count tables: score_counts, response_counts and index_counts, kept by triggers, filled from the stored answers

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""
import json

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
    op.create_table(
        'index_items',
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('question_key', sa.String(length=200), nullable=False),
        sa.Column('low', sa.Integer(), nullable=False),
        sa.Column('place', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('survey_id', 'position', name=op.f('pk_index_items')),
        sa.UniqueConstraint('survey_id', 'question_key', name='uq_index_items_survey_question'),
    )
    op.create_table(
        'index_counts',
        sa.Column('survey_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('packed', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('survey_id', 'month', 'packed', name=op.f('pk_index_counts')),
    )
    op.create_table(
        'count_pauses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_count_pauses')),
    )
    connection = op.get_bind()
    _index_items_of_published_surveys(connection)
    count_upkeep.install(connection)
    count_upkeep.recount(connection)


def downgrade() -> None:
    count_upkeep.drop(op.get_bind())
    op.drop_table('count_pauses')
    op.drop_table('index_counts')
    op.drop_table('index_items')
    op.drop_table('response_counts')
    op.drop_table('score_counts')


def _index_items_of_published_surveys(connection) -> None:
    """Each survey's index items, from its newest version's definition (as publishing sets them)."""
    from survey.definitions.definition import DefinitionError, from_dict
    from survey.definitions.publishing import index_items_of

    newest = connection.execute(sa.text(
        "SELECT v.survey_id, v.definition FROM survey_versions v WHERE v.number = "
        "(SELECT max(w.number) FROM survey_versions w WHERE w.survey_id = v.survey_id)")).all()
    for survey_id, definition in newest:
        try:
            survey = from_dict(definition if isinstance(definition, dict) else json.loads(definition))
        except DefinitionError:
            continue  # a definition this code cannot read: its index is counted from the raw answers
        count_upkeep.use_index_items(connection, survey_id, index_items_of(survey), recount=False)
