"""customer events: purchases, renewals and defections, for retention

One table, `customer_events`, unique on the sender's event id (`event_ref`) so that an import or
an API call repeated stores each event once. Indexed by customer, kind and day (a customer's
history) and by kind and day (the defections of a period).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_ref', sa.String(length=200), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('occurred_on', sa.Date(), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('reason', sa.String(length=50), nullable=True),
        sa.Column('reason_text', sa.Text(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_customer_events_customer_id_customers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_events')),
        sa.UniqueConstraint('event_ref', name=op.f('uq_customer_events_event_ref')),
    )
    op.create_index('ix_customer_events_customer_kind_day', 'customer_events',
                    ['customer_id', 'kind', 'occurred_on'], unique=False)
    op.create_index('ix_customer_events_kind_day', 'customer_events', ['kind', 'occurred_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_customer_events_kind_day', table_name='customer_events')
    op.drop_index('ix_customer_events_customer_kind_day', table_name='customer_events')
    op.drop_table('customer_events')
