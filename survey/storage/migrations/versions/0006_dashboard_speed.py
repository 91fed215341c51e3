"""dashboard speed: answers carry copies of their response's survey, time and customer

The Overview's histograms and index moments read answers of one survey and question in a date
range (and, with segment filters, of customers in a segment). With the response's `survey_id`,
`submitted_at` and `customer_id` copied onto each answer, one covering index
(survey_id, question_key, submitted_at, numeric_value, customer_id, response_id) serves them as
a range scan in time order, instead of probing the answers index once per response; segment
filters test each entry's customer against the (small) set of customers in the segment. Leading
with customer_id instead made the segment histograms twice as fast again but the index moments
(which probe the other items by response) two to three times slower: their probes lose the time
order that keeps them on neighbouring pages. Measured with bench/bench_dashboard.py on 1,000,000
demo responses (figures in README's performance section).

Every writer fills the copies (survey.collection.collect, survey.collection.response_import, survey.demo; the ORM
through an event in survey.storage.models); `survey_id` and `submitted_at` are NOT NULL, so a writer that
forgets them fails instead of leaving answers the dashboard cannot see (on SQLite this rebuilds
the answers table once). A trigger that filled them on insert cost SQLite about 9 us per answer
row even when it had nothing to do (demo data 3x slower), so there is none. Changing a
response's survey, time or customer changes its answers' copies (a trigger on responses). The
responses index (survey_id, submitted_at, customer_id, channel) serves the response counts the
same way, from the index alone.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COPIES = ("survey_id", "submitted_at", "customer_id")


def upgrade() -> None:
    op.add_column('answers', sa.Column('survey_id', sa.Integer(), nullable=True))
    op.add_column('answers', sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('answers', sa.Column('customer_id', sa.Integer(), nullable=True))
    op.execute("UPDATE answers SET survey_id = responses.survey_id, submitted_at = responses.submitted_at, "
               "customer_id = responses.customer_id FROM responses WHERE responses.id = answers.response_id")
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.alter_column('survey_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('submitted_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    _create_copy_triggers()
    op.create_index('ix_answers_survey_question_submitted', 'answers',
                    ['survey_id', 'question_key', 'submitted_at', 'numeric_value', 'customer_id', 'response_id'],
                    unique=False)
    op.create_index('ix_responses_survey_submitted_customer', 'responses',
                    ['survey_id', 'submitted_at', 'customer_id', 'channel'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_responses_survey_submitted_customer', table_name='responses')
    op.drop_index('ix_answers_survey_question_submitted', table_name='answers')
    _drop_copy_triggers()
    with op.batch_alter_table('answers', schema=None) as batch_op:
        for column in reversed(COPIES):
            batch_op.drop_column(column)


def _create_copy_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION response_copies_to_answers() RETURNS trigger AS $$
            BEGIN
                UPDATE answers SET survey_id = NEW.survey_id, submitted_at = NEW.submitted_at,
                                   customer_id = NEW.customer_id
                WHERE response_id = NEW.id;
                RETURN NULL;
            END $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER responses_copy_to_answers AFTER UPDATE OF survey_id, submitted_at, customer_id "
                   "ON responses FOR EACH ROW WHEN (OLD.survey_id IS DISTINCT FROM NEW.survey_id "
                   "OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at "
                   "OR OLD.customer_id IS DISTINCT FROM NEW.customer_id) "
                   "EXECUTE FUNCTION response_copies_to_answers()")
        return
    op.execute("""
        CREATE TRIGGER responses_copy_to_answers AFTER UPDATE OF survey_id, submitted_at, customer_id ON responses
        WHEN OLD.survey_id IS NOT NEW.survey_id OR OLD.submitted_at IS NOT NEW.submitted_at
             OR OLD.customer_id IS NOT NEW.customer_id
        BEGIN
            UPDATE answers SET survey_id = NEW.survey_id, submitted_at = NEW.submitted_at,
                               customer_id = NEW.customer_id
            WHERE response_id = NEW.id;
        END""")


def _drop_copy_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS responses_copy_to_answers ON responses")
        op.execute("DROP FUNCTION IF EXISTS response_copies_to_answers()")
        return
    op.execute("DROP TRIGGER IF EXISTS responses_copy_to_answers")
