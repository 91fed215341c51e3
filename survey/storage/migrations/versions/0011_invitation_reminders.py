"""reminders sent for unanswered invitations

One row per reminder (invitation, round, when), so that at most M are sent and the response
rate can be read by send and reminder round.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'invitation_reminders',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invitation_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'],
                                name=op.f('fk_invitation_reminders_invitation_id_invitations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_reminders')),
        sa.UniqueConstraint('invitation_id', 'round', name='uq_invitation_reminders_invitation_round'),
    )
    op.create_index(op.f('ix_invitation_reminders_invitation_id'), 'invitation_reminders', ['invitation_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_invitation_reminders_invitation_id'), table_name='invitation_reminders')
    op.drop_table('invitation_reminders')
