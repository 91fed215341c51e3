"""Customer events for the demo data: purchases, renewals and defections with planted effects.

Run by `survey.demo.generate` after the responses and the follow-up cases, and derived from them
and the seed only (never the clock), so the same demo gives the same events:

1. **Detractors defect about three times as often as promoters within a year.** Each customer's
   defection time is drawn from their first relationship NPS answer with a yearly defection
   probability of `YEARLY_DEFECTION` by NPS category (promoters 8%, passives 14%, detractors 25%).
2. **About seven in ten defections give a service reason** (`REASON_WEIGHTS`), rather than price or
   product.
3. **Customers whose case was resolved in time defect less.** A customer with a follow-up case who
   had not left when it opened leaves within 30 days with probability 4% when the case was
   resolved by its due time, and 22% otherwise (`AFTER_CASE_30_DAYS`).

Purchases follow the customer's mood (their first score) and value: promoters buy in more months,
so the loyalty continuum has its "loyal" customers; the yearly value adds up to about the annual
value. Renewals fall on the anniversary of the customer's start; 12% of the customers who left buy
again later (win-back). A defected customer's responses stay as generated (the demo's answers are
drawn before its events), so a few answer after leaving.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from survey.storage import models

RELATIONSHIP_SLUG = "relationship-nps"
NPS_KEY = "recommend"
YEARLY_DEFECTION = {"promoter": 0.08, "passive": 0.14, "detractor": 0.25}
NO_ANSWER_DEFECTION = 0.12
AFTER_CASE_30_DAYS = {True: 0.04, False: 0.22}  # resolved by its due time or not
REASONS = ("service", "price", "product", "competitor", "benefit", "personal", "other")
REASON_WEIGHTS = (0.70, 0.08, 0.08, 0.06, 0.03, 0.03, 0.02)
REASON_TEXTS = {
    "service": ("Nobody called back when we had a problem.", "Support kept us waiting for days.",
                "We were passed from one person to the next."),
    "price": ("Found the same for less.", "The renewal price went up too much."),
    "product": ("The product no longer fits what we need.", "Too many faults in the last deliveries."),
    "competitor": ("A competitor made us a better offer.",),
    "benefit": ("We did not use enough of it to justify the cost.",),
    "personal": ("Our contact retired and the new team chose another supplier.",),
    "other": ("Company reorganised.",),
}
WIN_BACK_SHARE = 0.12
WIN_BACK_DAYS = (30, 240)
CHUNK = 20_000


def _category(score: np.ndarray) -> np.ndarray:
    return np.where(score <= 6, "detractor", np.where(score <= 8, "passive", "promoter"))


def _read(engine: Engine, customer_ids: range) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers with their first relationship NPS answer, and the follow-up cases."""
    answer = models.Answer
    with engine.connect() as connection:
        survey_id = connection.execute(select(models.Survey.id).where(models.Survey.slug == RELATIONSHIP_SLUG)).scalar()
        first = (select(answer.customer_id, func.min(answer.submitted_at).label("first_at"))
                 .where(answer.survey_id == survey_id, answer.question_key == NPS_KEY,
                        answer.customer_id.is_not(None), answer.numeric_value.is_not(None))
                 .group_by(answer.customer_id).subquery())
        scores = pd.DataFrame(connection.execute(
            select(first.c.customer_id, first.c.first_at, func.min(answer.numeric_value))
            .join(answer, (answer.customer_id == first.c.customer_id) & (answer.submitted_at == first.c.first_at))
            .where(answer.survey_id == survey_id, answer.question_key == NPS_KEY)
            .group_by(first.c.customer_id, first.c.first_at)).all(), columns=["id", "first_at", "score"])
        customer = models.Customer
        # Only the demo's own customers: customers already in the database get no invented events
        customers = pd.DataFrame(connection.execute(
            select(customer.id, customer.annual_value, customer.tenure_start)
            .where(customer.id.between(customer_ids.start, customer_ids.stop - 1))
            .order_by(customer.id)).all(), columns=["id", "value", "tenure_start"])
        case = models.FollowUpCase
        cases = pd.DataFrame(connection.execute(
            select(case.customer_id, case.created_at, case.status, case.closed_at, case.due_at).order_by(case.id)).all(),
            columns=["customer_id", "created_at", "status", "closed_at", "due_at"])
    return customers.merge(scores, on="id", how="left"), cases[cases["customer_id"].isin(customers["id"])]


def _day_numbers(values: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 of timestamps or dates (NaN for missing)."""
    stamps = pd.to_datetime(values, utc=True)
    return ((stamps - pd.Timestamp(0, tz="UTC")).dt.total_seconds() / 86_400).to_numpy(dtype=float)


def plan_events(customers: pd.DataFrame, cases: pd.DataFrame, first_day: date, last_day: date,
                seed: int) -> pd.DataFrame:
    """The demo's events as a frame (customer_id, kind, day, value, reason, reason_text): pure."""
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(18,)))
    epoch = date(1970, 1, 1)
    start, end = (first_day - epoch).days, (last_day - epoch).days
    n = len(customers)
    ids = customers["id"].to_numpy()
    answered = customers["first_at"].notna().to_numpy()
    origin = np.where(answered, np.floor(_day_numbers(customers["first_at"])), start)
    score = customers["score"].to_numpy(dtype=float)
    yearly = np.where(answered, pd.Series(_category(np.nan_to_num(score, nan=7))).map(YEARLY_DEFECTION).to_numpy(),
                      NO_ANSWER_DEFECTION)
    rate = -np.log1p(-yearly) / 365.0  # exponential: P(leave within a year) = yearly
    leave = origin + rng.exponential(1.0, n) / rate

    # A follow-up case changes the odds from its opening on (memoryless, so re-drawing is fair)
    if len(cases):
        first_case = cases.drop_duplicates("customer_id")
        opened = np.floor(_day_numbers(first_case["created_at"]))
        closed, due = _day_numbers(first_case["closed_at"]), _day_numbers(first_case["due_at"])
        in_time = ((first_case["status"] == "resolved").to_numpy() & ~np.isnan(closed)
                   & (np.isnan(due) | (closed <= np.nan_to_num(due, nan=np.inf))))
        position = pd.Index(ids).get_indexer(first_case["customer_id"].to_numpy())
        p30 = np.where(in_time, AFTER_CASE_30_DAYS[True], AFTER_CASE_30_DAYS[False])
        redrawn = opened + rng.exponential(1.0, len(opened)) / (-np.log1p(-p30) / 30.0)
        still = leave[position] > opened
        leave[position[still]] = redrawn[still]
    leave = np.floor(leave)
    defected = leave <= end

    value = customers["value"].fillna(0).to_numpy(dtype=float)
    # Purchases: each month a customer buys with a probability that follows their mood and value
    months = pd.period_range(first_day, last_day, freq="M")
    month_start = np.array([(m.start_time.date() - epoch).days for m in months])
    month_length = np.array([m.days_in_month for m in months])
    mood = np.where(answered, (np.nan_to_num(score, nan=7) - 7) / 3, 0.0)
    buy = np.clip(0.45 + 0.18 * mood + 0.04 * np.log10(np.maximum(value, 1) / 18_000), 0.08, 0.95)
    draws = rng.random((n, len(months)))
    days = month_start[None, :] + np.floor(rng.random((n, len(months))) * month_length[None, :])
    bought = (draws < buy[:, None]) & (days < leave[:, None]) & (days <= end)
    amount = np.round(value[:, None] / (12 * buy[:, None]) * rng.lognormal(0, 0.25, (n, len(months))), 2)
    who, when = np.nonzero(bought)
    purchases = pd.DataFrame({"customer_id": ids[who], "kind": "purchase", "day": days[who, when],
                              "value": amount[who, when]})
    # Renewals on the anniversary of the start, while still a customer
    renewals = []
    tenure = customers["tenure_start"]
    for year in range(first_day.year, last_day.year + 1):
        anniversary = np.array([(_anniversary(t, year) - epoch).days if isinstance(t, date) else np.nan for t in tenure])
        due_now = (~np.isnan(anniversary) & (anniversary >= start) & (anniversary <= end)
                   & (anniversary < leave))
        renewals.append(pd.DataFrame({"customer_id": ids[due_now], "kind": "renewal",
                                      "day": anniversary[due_now], "value": value[due_now]}))
    # Defections with a reason, and the win-back purchases of some who left
    left = np.flatnonzero(defected & (leave >= start))
    reason = np.asarray(REASONS)[rng.choice(len(REASONS), size=len(left), p=REASON_WEIGHTS)]
    texts = [REASON_TEXTS[r][k % len(REASON_TEXTS[r])] for r, k in zip(reason, rng.integers(0, 6, len(left)))]
    defections = pd.DataFrame({"customer_id": ids[left], "kind": "defection", "day": leave[left],
                               "reason": reason, "reason_text": texts})
    back_day = leave[left] + rng.integers(*WIN_BACK_DAYS, len(left))
    back = (rng.random(len(left)) < WIN_BACK_SHARE) & (back_day <= end)
    win_back = pd.DataFrame({"customer_id": ids[left][back], "kind": "purchase", "day": back_day[back],
                             "value": np.round(value[left][back] / 12, 2)})
    events = pd.concat([purchases, *renewals, defections, win_back], ignore_index=True)
    events["day"] = events["day"].astype(int)
    return events.sort_values(["day", "customer_id", "kind"], kind="stable").reset_index(drop=True)


def fast_content_hash(ref: str, kind: str, day: date, value: float | None, reason: str | None,
                      text: str | None) -> str:
    """`CheckedEvent.content_hash` of a demo event, without building the object: the same JSON text
    (json.dumps of the same list), so that importing the demo's events again finds them unchanged."""
    tail = ", ".join("null" if v is None else json.dumps(v, ensure_ascii=False) for v in (reason, text))
    number = "null" if value is None else repr(value)
    canonical = f'[{json.dumps(ref, ensure_ascii=False)}, "{kind}", "{day.isoformat()}", {number}, {tail}]'
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _anniversary(start: date, year: int) -> date:
    return start.replace(year=year) if not (start.month == 2 and start.day == 29) else date(year, 2, 28)


def add_demo_events(engine: Engine, first_day: date, last_day: date, seed: int, customer_ids: range) -> int:
    """Write the events of the demo's customers (ids `customer_ids`) from `first_day` to `last_day`
    (see the module docstring); returns how many."""
    customers, cases = _read(engine, customer_ids)
    if customers.empty:
        return 0
    events = plan_events(customers, cases, first_day, last_day, seed)
    with engine.connect() as connection:
        refs = dict(connection.execute(select(models.Customer.id, models.Customer.external_ref)).all())
    epoch = date(1970, 1, 1)
    created = datetime.combine(last_day, time(23), tzinfo=timezone.utc)
    rows = []
    kinds, customer_ids = events["kind"].tolist(), events["customer_id"].tolist()
    day_numbers, values = events["day"].tolist(), events["value"].tolist()
    reasons, texts = events["reason"].tolist(), events["reason_text"].tolist()
    for number, (kind, customer_id, day_number, value, reason, text) in enumerate(
            zip(kinds, customer_ids, day_numbers, values, reasons, texts), start=1):
        day = epoch + timedelta(days=day_number)
        leaving = kind == "defection"
        value = None if leaving or value != value else float(value)  # NaN != NaN: no value
        reason, text = (reason, text) if leaving else (None, None)
        ref = refs[customer_id]
        rows.append((f"demo-{seed}-{number}", fast_content_hash(ref, kind, day, value, reason, text), customer_id,
                     kind, day, value, reason, text, "demo", created))
    columns = ("event_ref", "content_hash", "customer_id", "kind", "occurred_on", "value", "reason", "reason_text",
               "source", "created_at")
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # The driver's executemany with SQLAlchemy's own text forms of dates and times: several
            # times faster than Core, which processes every value of every row
            stamp = created.strftime("%Y-%m-%d %H:%M:%S.000000")
            cursor = connection.connection.driver_connection.cursor()
            try:
                cursor.executemany(
                    f"INSERT INTO customer_events ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    [(*row[:4], row[4].isoformat(), *row[5:9], stamp) for row in rows])
            finally:
                cursor.close()
        else:
            table = models.CustomerEvent.__table__
            for start in range(0, len(rows), CHUNK):
                connection.execute(table.insert(), [dict(zip(columns, row)) for row in rows[start:start + CHUNK]])
    return len(rows)
