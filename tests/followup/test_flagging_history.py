"""Flagging's facts from a customer's history, asked of the database set-based, equal those worked out
the old way: reading each customer's whole history in Python (the reference below).

The rules need two facts per flagged response: the customer's previous answer to each rated
question of the same survey (`score_drop`) and when they last gave that survey a low score
(`repeat`, under the thresholds of the version answered then). Random histories cover ties in
time (ordered by response id), several customers and surveys, and a question that a score rule
covers in one version of the survey only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from survey.collection.collect import submit
from survey.definitions.definition import loads_yaml
from survey.definitions.publishing import publish, version_definition
from survey.followup import cases as flagging
from survey.followup import rules
from survey.followup.settings import load_settings
from survey.storage import db, models
from tests.followup_data import utc

VERSION_1 = """
slug: pulse
title: Pulse
questions:
  - {key: recommend, kind: nps, text: "Recommend?"}
  - {key: sat, kind: csat, text: "Satisfied?", scale: {min: 1, max: 5, labels: [No, Yes]}}
  - {key: ease, kind: rating, text: "Easy?", scale: {min: 1, max: 7, labels: [No, Yes]}}
"""
# Version 2: `sat` is no longer a CSAT question (no score rule applies to it), `ease` becomes a CES one
VERSION_2 = VERSION_1.replace("kind: csat", "kind: rating").replace("{key: ease, kind: rating", "{key: ease, kind: ces")
OTHER = """
slug: other
title: Other
questions:
  - {key: recommend, kind: nps, text: "Recommend?"}
"""

response = st.fixed_dictionaries({
    "customer": st.integers(0, 2),
    "survey": st.sampled_from(["pulse-1", "pulse-2", "other"]),
    "day": st.integers(0, 300),
    "hour": st.sampled_from([9, 9, 12]),  # repeated times: ties are ordered by response id
    "recommend": st.one_of(st.none(), st.integers(0, 10)),
    "sat": st.one_of(st.none(), st.integers(1, 5)),
    "ease": st.one_of(st.none(), st.integers(1, 7)),
})


def reference_facts(rows, definitions, follow_up_settings):
    """The old way: per (customer, survey), every earlier response read in Python, oldest first."""
    history = defaultdict(list)
    for row in rows:
        history[(row["customer_id"], row["survey_id"])].append(row)
    previous, last_low = {}, {}
    for row in rows:
        earlier = [e for e in history[(row["customer_id"], row["survey_id"])]
                   if (e["at"], e["id"]) < (row["at"], row["id"])]
        before = {}
        for entry in sorted(earlier, key=lambda e: (e["at"], e["id"])):
            before.update(entry["numeric"])  # the newest earlier answer to each question wins
        previous[row["id"]] = {k: v for k, v in before.items() if k in row["numeric"]}
        lows = [e["at"] for e in earlier
                if rules.low_scores(definitions[e["version_id"]], e["numeric"], follow_up_settings)]
        if lows:
            last_low[row["id"]] = max(lows)
    return previous, last_low


def check_history(engine, history) -> None:
    """Store `history` through `submit` and compare the set-based facts with the reference."""
    follow_up_settings = load_settings()
    with db.session_scope(engine) as session:
        versions = {"pulse-1": publish(session, loads_yaml(VERSION_1)), "pulse-2": publish(session, loads_yaml(VERSION_2)),
                    "other": publish(session, loads_yaml(OTHER))}
        customers = []
        for number in range(3):
            customer = models.Customer(external_ref=f"C{number}", name=f"C{number}", consent_to_contact=True)
            session.add(customer)
            session.flush()
            customers.append(customer.id)
        definitions = {v.id: version_definition(v) for v in versions.values()}
        rows = []
        for number, spec in enumerate(history):
            version = versions[spec["survey"]]
            survey = definitions[version.id]
            answers = {k: spec[k] for k in ("recommend", "sat", "ease")
                       if spec[k] is not None and any(q.key == k for q in survey.questions)}
            at = utc(2026, 1, 1, spec["hour"]) + timedelta(days=spec["day"])
            outcome = submit(session, version, survey, answers, idempotency_key=f"k{number}", channel="web",
                             customer_id=customers[spec["customer"]], submitted_at=at)
            rows.append(dict(id=outcome.response_id, customer_id=customers[spec["customer"]],
                             survey_id=version.survey_id, version_id=version.id, at=at,
                             numeric={k: float(v) for k, v in answers.items()}))
    expected_previous, expected_last_low = reference_facts(rows, definitions, follow_up_settings)

    with db.session_scope(engine) as session:
        ids = [row["id"] for row in rows]
        _, previous = flagging._rated_answers(session, ids)
        context = flagging._Context(session, follow_up_settings)
        # every response as a candidate (submitting flagged some already, which `_candidates` leaves out)
        candidates = [flagging._Candidate(row["id"], row["survey_id"], row["version_id"], row["customer_id"], "en",
                                          row["at"]) for row in rows]
        last_low = flagging._last_low_scores(context, candidates)
    assert {i: previous.get(i, {}) for i in ids} == expected_previous
    assert last_low == expected_last_low


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(response, min_size=1, max_size=14))
def test_set_based_history_facts_equal_reading_the_whole_history(tmp_path_factory, history):
    engine = db.make_engine(f"sqlite:///{tmp_path_factory.mktemp('history')}/flag.db")
    models.Base.metadata.create_all(engine)  # the models' schema (equal to the migrations': test_storage)
    check_history(engine, history)
    engine.dispose()


def test_history_facts_hold_on_both_backends(engine):
    """One history with ties, both versions, two surveys and a low score inside and outside the window."""
    def spec(customer, survey, day, hour, recommend=None, sat=None, ease=None):
        return dict(customer=customer, survey=survey, day=day, hour=hour, recommend=recommend, sat=sat, ease=ease)

    check_history(engine, [
        spec(0, "pulse-1", 0, 9, recommend=3, sat=1), spec(0, "pulse-1", 0, 9, recommend=9, sat=5),
        spec(0, "pulse-2", 10, 9, recommend=10, sat=1, ease=7), spec(0, "pulse-2", 20, 12, ease=1),
        spec(0, "pulse-1", 200, 9, recommend=2), spec(1, "other", 5, 9, recommend=0), spec(1, "pulse-1", 6, 9, sat=2),
        spec(1, "other", 6, 9, recommend=10), spec(2, "pulse-2", 1, 9), spec(0, "pulse-1", 0, 9, recommend=5),
    ])


def test_previous_answer_look_up_is_an_index_seek(sqlite_engine):
    """The look-up uses the customer-history index, not a scan of the customer's answers."""
    with sqlite_engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT numeric_value FROM answers WHERE customer_id = 1 AND survey_id = 1 "
            "AND question_key = 'recommend' AND customer_id IS NOT NULL AND (submitted_at, response_id) < ('2026', 5) "
            "ORDER BY submitted_at DESC, response_id DESC LIMIT 1").all()
    assert any("ix_answers_customer_history" in str(row) for row in plan), plan
