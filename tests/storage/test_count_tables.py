"""The count tables: after random writes, imports, edits, erasures and retention runs, every
dashboard count read through them equals counting the raw answers (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from survey.collection.collect import submit
from survey.collection.customers import import_customers
from survey.collection.response_import import import_responses
from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish
from survey.people.access import Actor
from survey.people.privacy import apply_retention, erase_customer
from survey.storage import count_upkeep, counts, db, models, queries
from survey.storage.filters import Filters

ROOT = Path(__file__).resolve().parents[2]
SURVEY = "relationship-nps"
QUESTIONS = ("recommend", "satisfaction", "expectations", "ideal")
INDEX_ITEMS = (("satisfaction", 1.0, 10.0), ("expectations", 1.0, 10.0), ("ideal", 1.0, 10.0))
CHANNELS = ("web", "phone", "email")
FIRST_DAY = date(2025, 1, 1)
DAYS = 600


def _moment(rng: random.Random) -> datetime:
    return datetime.combine(FIRST_DAY + timedelta(days=rng.randrange(DAYS)), datetime.min.time(),
                            timezone.utc) + timedelta(seconds=rng.randrange(86_400))


def _answers(rng: random.Random) -> dict:
    answers = {"recommend": rng.randint(0, 10), "satisfaction": rng.randint(1, 10)}
    for key in ("expectations", "ideal"):
        if rng.random() < 0.8:  # sometimes unanswered: no row, so no count
            answers[key] = rng.randint(1, 10)
    return answers


def _submit_some(engine, rng: random.Random, refs: dict[str, int], count: int, round_: int) -> None:
    survey = load_yaml(ROOT / "sample_data/surveys/relationship_nps.yaml")
    with db.session_scope(engine) as session:
        version = session.scalars(select(models.SurveyVersion).join(models.Survey)
                                  .where(models.Survey.slug == SURVEY)).first()
        for i in range(count):
            ref = rng.choice([*refs, None])
            submit(session, version, survey, _answers(rng), idempotency_key=f"round{round_}-{i}",
                   channel=rng.choice(CHANNELS), customer_id=refs.get(ref), submitted_at=_moment(rng))


def _import_some(engine, rng: random.Random, refs: dict[str, int], count: int, folder: Path, round_: int) -> None:
    path = folder / f"import_{round_}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["survey", "submitted_at", "customer_ref", "channel", *QUESTIONS])
        for _ in range(count):
            answers = _answers(rng)
            writer.writerow([SURVEY, _moment(rng).strftime("%Y-%m-%dT%H:%M:%S"), rng.choice(list(refs)),
                             rng.choice(CHANNELS), *(answers.get(key, "") for key in QUESTIONS)])
    with db.session_scope(engine) as session:
        import_responses(session, path)


def _edit_some(engine, rng: random.Random) -> None:
    """Corrections made directly in the database: a response moved to another time (migration
    0006's trigger carries it to its answers), a score changed, a score cleared, an answer removed."""
    with db.session_scope(engine) as session:
        ids = session.scalars(select(models.Response.id)).all()
        for response_id in rng.sample(ids, min(5, len(ids))):
            session.execute(update(models.Response).where(models.Response.id == response_id)
                            .values(submitted_at=_moment(rng), channel=rng.choice(CHANNELS)))
        answer_ids = session.scalars(select(models.Answer.id).where(models.Answer.numeric_value.is_not(None))).all()
        chosen = rng.sample(answer_ids, min(9, len(answer_ids)))
        for answer_id in chosen[:5]:
            session.execute(update(models.Answer).where(models.Answer.id == answer_id)
                            .values(numeric_value=rng.randint(0, 10)))
        for answer_id in chosen[5:7]:
            session.execute(update(models.Answer).where(models.Answer.id == answer_id).values(numeric_value=None))
        for answer_id in chosen[7:]:
            session.execute(text("DELETE FROM answers WHERE id = :id"), {"id": answer_id})
        if rng.random() < 0.5:  # a score the index counts cannot pack: views meeting it count raw answers
            session.execute(update(models.Answer).where(models.Answer.id == rng.choice(answer_ids),
                                                        models.Answer.question_key == "ideal").values(numeric_value=7.5))
        twin = session.execute(select(models.Answer).where(models.Answer.question_key == "satisfaction")
                               .order_by(models.Answer.id).offset(rng.randrange(20))).scalars().first()
        # The first index item's answer edited, then its response moved: on PostgreSQL the edited
        # row's new version lies after the others, and migration 0006's trigger moves all of the
        # response's answers in one statement (whose AFTER row triggers would run only at its end).
        first = session.execute(select(models.Answer).where(models.Answer.question_key == "satisfaction")
                                .order_by(models.Answer.id).offset(rng.randrange(30))).scalars().first()
        if first is not None:
            session.execute(update(models.Answer).where(models.Answer.id == first.id)
                            .values(numeric_value=rng.randint(1, 10)))
            session.execute(update(models.Response).where(models.Response.id == first.response_id)
                            .values(submitted_at=_moment(rng)))
        if twin is not None:  # an item answered twice (no entry point does this; the counts must still agree)
            session.add(models.Answer(response_id=twin.response_id, question_key="satisfaction", numeric_value=3,
                                      survey_id=twin.survey_id, submitted_at=twin.submitted_at,
                                      customer_id=twin.customer_id))


def _raw_filters(rng: random.Random) -> list[Filters]:
    found = [Filters(SURVEY)]
    for _ in range(6):
        start = FIRST_DAY + timedelta(days=rng.randrange(-20, DAYS))
        end = start + timedelta(days=rng.randrange(0, 200))
        found.append(Filters(SURVEY, start=rng.choice([start, None]), end=end))
        found.append(Filters(SURVEY, start=start, end=rng.choice([end, None])))
    found.append(Filters(SURVEY, start=date(2025, 3, 1), end=date(2025, 3, 31)))  # one whole month
    found.append(Filters(SURVEY, channels=("web",)))
    return found


def _stored(connection, table) -> list[tuple]:
    return sorted(tuple(row) for row in connection.execute(select(table)))


def _assert_counts_match_raw(engine, rng: random.Random) -> int:
    """Compare; returns how many index views the index counts served (the rest met an unpackable score)."""
    served = 0
    with engine.connect() as connection:
        stored_index = _stored(connection, models.IndexCount.__table__)
        stored = sorted(connection.execute(select(
            models.ScoreCount.survey_id, models.ScoreCount.question_key, models.ScoreCount.month,
            models.ScoreCount.value, models.ScoreCount.n)).all())
        stored_responses = sorted(connection.execute(select(
            models.ResponseCount.survey_id, models.ResponseCount.month, models.ResponseCount.channel,
            models.ResponseCount.n)).all())
        count_upkeep.recount(connection)  # inside this connection's transaction, rolled back at the end
        assert sorted(connection.execute(select(
            models.ScoreCount.survey_id, models.ScoreCount.question_key, models.ScoreCount.month,
            models.ScoreCount.value, models.ScoreCount.n)).all()) == stored
        assert sorted(connection.execute(select(
            models.ResponseCount.survey_id, models.ResponseCount.month, models.ResponseCount.channel,
            models.ResponseCount.n)).all()) == stored_responses
        assert _stored(connection, models.IndexCount.__table__) == stored_index
        connection.rollback()
    for filters in _raw_filters(rng):
        for period in (None, "month", "year"):
            for key in QUESTIONS:
                through_counts = queries.histogram(engine, filters, key, period)
                raw = queries._raw_histogram(engine, filters, key, period, ()).astype({"score": int, "count": int})
                assert through_counts.equals(raw), (filters, period, key)
            through_counts = queries.index_moments(engine, filters, INDEX_ITEMS, period)
            served += counts.index_moments(engine, filters, INDEX_ITEMS, period, lambda narrowed, period=period: (
                queries._raw_index_moments(engine, narrowed, INDEX_ITEMS, period, ()))) is not None
            raw = queries._raw_index_moments(engine, filters, INDEX_ITEMS, period, ())
            assert list(through_counts.columns) == list(raw.columns) and len(through_counts) == len(raw)
            for column in through_counts.columns:  # sums of fractions: equal up to the order of addition
                expected = raw[column].tolist()
                assert through_counts[column].tolist() == pytest.approx(expected, rel=1e-12) if column in (
                    "total", "total_squares") else through_counts[column].tolist() == expected, (filters, period)
            if period is not None:
                through_counts = queries.response_counts(engine, filters, period)
                raw = queries._raw_response_counts(engine, filters, period).astype(
                    {"period": str, "channel": str, "responses": int})
                assert through_counts.equals(raw), (filters, period)
    return served


def test_dashboard_counts_equal_raw_counts_after_random_writes_imports_edits_and_erasures(engine, tmp_path):
    rng = random.Random(20261202)
    with db.session_scope(engine) as session:
        publish(session, load_yaml(ROOT / "sample_data/surveys/relationship_nps.yaml"))
        import_customers(session, ROOT / "sample_data/csv/customers.csv")
    with engine.connect() as connection:
        refs = dict(connection.execute(select(models.Customer.external_ref, models.Customer.id)).all())
    admin = Actor.command_line()
    served = 0
    for round_ in range(3):
        _submit_some(engine, rng, refs, 25, round_)
        _import_some(engine, rng, refs, 60, tmp_path, round_)
        _edit_some(engine, rng)
        ref = rng.choice(list(refs))
        erase_customer(engine, admin, ref, delete_responses=round_ % 2 == 0)
        refs.pop(ref)
        served += _assert_counts_match_raw(engine, rng)
    # a retention run erases everyone inactive: responses stay as anonymous answers, counts unchanged
    before = queries.histogram(engine, Filters(SURVEY), "recommend", "month")
    apply_retention(engine, admin, days=1, now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert queries.histogram(engine, Filters(SURVEY), "recommend", "month").equals(before)
    _assert_counts_match_raw(engine, rng)
    with engine.connect() as connection:  # the test wrote enough to mean something
        assert connection.scalar(select(func.sum(models.ScoreCount.n))) > 500
        assert connection.scalar(select(func.sum(models.IndexCount.n))) > 100
    assert served > 20  # and the index counts answered most views (not always the raw fallback)


def test_a_bulk_load_recounts_and_a_start_repairs_missing_upkeep(engine):
    with db.session_scope(engine) as session:
        publish(session, load_yaml(ROOT / "sample_data/surveys/relationship_nps.yaml"))
    survey = load_yaml(ROOT / "sample_data/surveys/relationship_nps.yaml")
    with counts.upkept_afterwards(engine):
        with engine.connect() as connection:
            assert not count_upkeep.installed(connection)
        with db.session_scope(engine) as session:
            version = session.scalars(select(models.SurveyVersion)).first()
            submit(session, version, survey, {"recommend": 3, "satisfaction": 4}, idempotency_key="bulk",
                   channel="web", submitted_at=datetime(2026, 5, 2, tzinfo=timezone.utc))
    assert queries.histogram(engine, Filters(SURVEY), "recommend")["count"].tolist() == [1]
    with engine.begin() as connection:  # a load killed between the drop and the rebuild
        count_upkeep.drop(connection)
        connection.execute(text("DELETE FROM score_counts"))
    assert counts.restore_upkeep(engine) is True
    assert counts.restore_upkeep(engine) is False  # nothing left to repair
    assert queries.histogram(engine, Filters(SURVEY), "recommend")["count"].tolist() == [1]
    with db.session_scope(engine) as session:  # and the triggers count again
        submit(session, session.scalars(select(models.SurveyVersion)).first(), survey,
               {"recommend": 3, "satisfaction": 4}, idempotency_key="after", channel="web",
               submitted_at=datetime(2026, 5, 3, tzinfo=timezone.utc))
    assert queries.histogram(engine, Filters(SURVEY), "recommend")["count"].tolist() == [2]


def test_a_bulk_writer_goes_without_the_triggers_only_in_its_own_transaction(engine):
    with db.session_scope(engine) as session:
        publish(session, load_yaml(ROOT / "sample_data/surveys/relationship_nps.yaml"))
    survey = load_yaml(ROOT / "sample_data/surveys/relationship_nps.yaml")
    postgresql = engine.dialect.name == "postgresql"

    def one(session, key: str, day: int) -> int:
        version = session.scalars(select(models.SurveyVersion)).first()
        return submit(session, version, survey, {"recommend": 3, "satisfaction": 4}, idempotency_key=key,
                      channel="web", submitted_at=datetime(2026, 5, day, tzinfo=timezone.utc)).response_id

    def bulk_submit(key: str, fail: bool) -> None:
        with db.session_scope(engine) as session:
            with counts.counted_in_bulk(session.connection(), "test") as written:
                written([one(session, key, 2)])
                with engine.connect() as other:  # another connection sees the triggers and no pause
                    assert count_upkeep.installed(other)
                    assert other.scalar(select(func.count()).select_from(models.CountPause)) == 0
                if postgresql:  # and its writes are counted meanwhile (SQLite: it waits for the lock)
                    with db.session_scope(engine) as concurrent:
                        one(concurrent, f"{key}-concurrent", 3)
                if fail:
                    raise RuntimeError("the import fails")

    with pytest.raises(RuntimeError):
        bulk_submit("rolled-back", fail=True)
    with engine.connect() as connection:  # the rollback took the missing triggers and the pause with it
        assert count_upkeep.installed(connection)
        assert connection.scalar(select(func.count()).select_from(models.CountPause)) == 0
    stored = 1 if postgresql else 0  # the concurrent response committed
    assert queries.histogram(engine, Filters(SURVEY), "recommend")["count"].sum() == stored
    bulk_submit("kept", fail=False)
    stored += 2 if postgresql else 1
    assert queries.histogram(engine, Filters(SURVEY), "recommend")["count"].sum() == stored  # each once
    with db.session_scope(engine) as session:  # the triggers count the next write
        one(session, "after", 4)
    assert queries.histogram(engine, Filters(SURVEY), "recommend")["count"].sum() == stored + 1
    assert queries.histogram(engine, Filters(SURVEY), "recommend").equals(
        queries._raw_histogram(engine, Filters(SURVEY), "recommend", None, ()).astype({"score": int, "count": int}))


@pytest.mark.parametrize(("start", "end", "months", "edges"), [
    (None, None, (None, None), []),
    (date(2026, 1, 1), date(2026, 3, 31), ("2026-01", "2026-03"), []),
    (date(2026, 1, 15), None, ("2026-02", None), [(date(2026, 1, 15), date(2026, 1, 31))]),
    (None, date(2026, 2, 27), (None, "2026-01"), [(date(2026, 2, 1), date(2026, 2, 27))]),
    (date(2024, 2, 10), date(2024, 3, 10), None, [(date(2024, 2, 10), date(2024, 2, 29)),
                                                   (date(2024, 3, 1), date(2024, 3, 10))]),
    (date(2026, 12, 31), date(2026, 12, 31), None, [(date(2026, 12, 31), date(2026, 12, 31))]),
])
def test_split_months_covers_every_day_once(start, end, months, edges):
    assert counts.split_months(start, end) == (months, edges)
