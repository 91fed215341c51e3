"""accounts (sign-in lockout, disabling), customer erasure and the audit log

Audit events are append-only like case events. Case events gain one narrow exception: erasing a
customer may replace personal data inside an event's note with the marker `[erased]`; nothing
else in an event can change, and events still cannot be deleted.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

REDACTION_MARKER = "[erased]"


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('failed_sign_ins', server_default=None)
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=320), nullable=False),
        sa.Column('action', sa.String(length=50), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    )
    op.create_index(op.f('ix_audit_events_at'), 'audit_events', ['at'], unique=False)
    _replace_case_event_update_trigger(allow_redaction=True)
    _audit_append_only(create=True)


def downgrade() -> None:
    _audit_append_only(create=False)
    _replace_case_event_update_trigger(allow_redaction=False)
    op.drop_index(op.f('ix_audit_events_at'), table_name='audit_events')
    op.drop_table('audit_events')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('last_sign_in_at')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_sign_ins')


def _replace_case_event_update_trigger(allow_redaction: bool) -> None:
    """Case events refuse UPDATE, except (when allowed) a note change that only redacts personal data."""
    redaction = (f"NEW.id = OLD.id AND NEW.case_id = OLD.case_id AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id "
                 f"AND NEW.at = OLD.at AND NEW.from_status IS NOT DISTINCT FROM OLD.from_status "
                 f"AND NEW.to_status IS NOT DISTINCT FROM OLD.to_status AND NEW.note LIKE '%{REDACTION_MARKER}%'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_events_append_only ON case_events")
        op.execute("DROP FUNCTION IF EXISTS refuse_case_event_change()")
        if not allow_redaction:
            op.execute("CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
                       "FOR EACH ROW EXECUTE FUNCTION refuse_change()")
            return
        op.execute(f"""
            CREATE FUNCTION refuse_case_event_change() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND {redaction} THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'case_events rows are append-only';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_case_event_change()")
    else:
        op.execute("DROP TRIGGER IF EXISTS case_events_no_update")
        condition = f"WHEN NOT ({redaction.replace('IS NOT DISTINCT FROM', 'IS')})" if allow_redaction else ""
        op.execute(f"CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events {condition} "
                   "BEGIN SELECT RAISE(ABORT, 'case_events rows are append-only'); END")


def _audit_append_only(create: bool) -> None:
    """Audit events refuse UPDATE and DELETE in the database itself, as case events do."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    if not create:
        if postgresql:
            op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        else:
            op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
            op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        return
    if postgresql:
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION refuse_change()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action} ON audit_events "
                       "BEGIN SELECT RAISE(ABORT, 'audit_events rows are append-only'); END")
