"""Opening cases: flagged responses become one open case per customer and survey, with an owner,
a priority and a due date.

Only identified customers who consented to be contacted get a case: a response to an anonymous
survey, without a customer, from a customer without consent or an erased one never does. A new
flagged response of a customer who already has an open case (open or contacted) for that survey
joins that case (a `CaseFlag` and an event) instead of opening another; the database's partial
unique index holds this even under concurrent submissions.

Priority (1 most urgent, 4 least; see `priority_for`): a low score starts at `priority.base` (3),
a case flagged only by a comment or a drop one lower (4); each of these raises it by one: a severe
score (bottom fifth of its scale, "0 before 6"), a high-value customer (annual value or tier), and
a low score within `repeat_days` (90) after an earlier low score of the same customer to the same
survey ("a repeat mistake is rarely forgiven"). A long-tenure customer with a low score is marked
"captive, not loyal". Due: priority 1 after `due.top_priority_hours` (24), the others after
`due.other_working_days` (3) working days, Monday to Friday.

Owner: the customer's field manager (unless disabled), else the region's default owner from the
rules file (`region_owners`), else nobody (admins and managers see it and assign it).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, bindparam, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased
from tqdm import tqdm

from survey.integrations import outbox
from survey.storage import bulk, models
from survey.definitions.definition import Survey
from survey.followup import rules
from survey.followup.settings import FollowUpSettings, load_settings
from survey.storage.models import OPEN_CASE_STATUSES, as_utc, utc_now
from survey.definitions.publishing import version_definition

log = logging.getLogger(__name__)
LOWEST_PRIORITY = 4
CHUNK = 1_000


@dataclass(frozen=True)
class FlagSummary:
    """What a flagging run did: responses looked at, flagged, cases opened and cases joined."""

    evaluated: int = 0
    flagged: int = 0
    opened: int = 0
    joined: int = 0

    def __add__(self, other: FlagSummary) -> FlagSummary:
        return FlagSummary(self.evaluated + other.evaluated, self.flagged + other.flagged,
                           self.opened + other.opened, self.joined + other.joined)


def priority_for(settings: FollowUpSettings, *, low_score: bool, severity: float | None,
                 annual_value: float | None, tier: str | None, repeat: bool) -> tuple[int, list[str]]:
    """The priority (1-4) of a flagged response and the reasons that raised it.

    Example:
        >>> from survey.followup.settings import load_settings
        >>> priority_for(load_settings(), low_score=True, severity=0.0, annual_value=250_000, tier="Gold",
        ...              repeat=False)
        (1, ['severe score', 'high-value customer'])
    """
    priority = settings.priority_base if low_score else settings.priority_base + 1
    why = []
    if severity is not None and severity <= settings.severe_share:
        priority -= 1
        why.append("severe score")
    if (annual_value is not None and annual_value >= settings.high_value) or (tier in settings.high_value_tiers):
        priority -= 1
        why.append("high-value customer")
    if repeat:
        priority -= 1
        why.append(f"second low score within {settings.repeat_days} days")
    return max(1, min(LOWEST_PRIORITY, priority)), why


def add_working_days(moment: datetime, days: int) -> datetime:
    """`moment` plus `days` working days (Monday to Friday), same time of day.

    Example:
        >>> add_working_days(datetime(2026, 5, 1, 10), 3)  # a Friday: Monday, Tuesday, Wednesday
        datetime.datetime(2026, 5, 6, 10, 0)
    """
    counted = 0
    while counted < days:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            counted += 1
    return moment


def due_for(priority: int, opened: datetime, settings: FollowUpSettings) -> datetime:
    """When a case of `priority` opened at `opened` is due."""
    if priority == 1:
        return opened + timedelta(hours=settings.due_hours_top)
    return add_working_days(opened, settings.due_working_days)


def is_captive(tenure_start: date | None, on: datetime, settings: FollowUpSettings) -> bool:
    """A customer of long tenure ("captive, not loyal" when their score is low)."""
    return tenure_start is not None and (on.date() - tenure_start).days >= settings.captive_tenure_years * 365.25


@dataclass
class _Candidate:
    id: int
    survey_id: int
    version_id: int
    customer_id: int
    language: str
    submitted_at: datetime


class _Context:
    """Everything one flagging run reads once: definitions, customers, owners, open cases."""

    def __init__(self, session: Session, settings: FollowUpSettings):
        self.session = session
        self.settings = settings
        self.definitions: dict[int, Survey] = {}
        self.low_score_bounds: dict[int, tuple[dict[str, list[tuple[int, float]]], set[int]]] = {}
        self.owner_by_email: dict[str, int] = {}
        emails = [email for _, email in settings.region_owners]
        if emails:
            self.owner_by_email = dict(session.execute(
                select(models.User.email, models.User.id)
                .where(models.User.email.in_(emails), models.User.disabled_at.is_(None))).all())

    def definition(self, version_id: int) -> Survey:
        if version_id not in self.definitions:
            # Published versions never change: one parse per definition and process, not per
            # flagging run (each web or API submission is one); only the hash is read to find it.
            digest = self.session.connection().execute(_content_hash_query(), {"id": version_id}).scalar_one()
            parsed = _PARSED.get(digest)
            if parsed is None:
                parsed = _PARSED.setdefault(digest, version_definition(self.session.get(models.SurveyVersion, version_id)))
            self.definitions[version_id] = parsed
        return self.definitions[version_id]


_PARSED: dict[str, Survey] = {}  # by the version's content hash (the hash of its whole definition)


@cache
def _content_hash_query():
    return select(models.SurveyVersion.content_hash).where(models.SurveyVersion.id == bindparam("id"))


def _candidates(session: Session, ids: Sequence[int]) -> list[_Candidate]:
    """The responses among `ids` that may open a case: identified, consenting, not anonymous, not erased,
    and not flagged before (evaluating a response again changes nothing)."""
    return [_Candidate(row.id, row.survey_id, row.survey_version_id, row.customer_id, row.language,
                       as_utc(row.submitted_at)) for row in session.connection().execute(_candidates_query(), {"ids": list(ids)}).all()]


@cache
def _candidates_query():
    # Built once: a flagging run of one response (every web or API submission) would otherwise
    # spend more time building its statements than the database spends answering them.
    r, c, s = models.Response, models.Customer, models.Survey
    already = select(models.CaseFlag.response_id).where(models.CaseFlag.response_id == r.id).exists()
    return (select(r.id, r.survey_id, r.survey_version_id, r.customer_id, r.language, r.submitted_at)
            .join(c, c.id == r.customer_id).join(s, s.id == r.survey_id)
            .where(r.id.in_(bindparam("ids", expanding=True)), c.consent_to_contact.is_(True),
                   c.erased_at.is_(None), s.anonymous.is_(False), ~already))


def _newest_earlier_answer(earlier, column, outer, customer_id, survey_id, question_key, submitted_at, response_id,
                           *conditions):
    """`column` of the newest answer `earlier` (an alias of answers) by the same customer to the same
    survey and question before (submitted_at, response_id) and meeting `conditions`, as a scalar
    subquery correlated with `outer`: one seek back in `ix_answers_customer_history`."""
    return (select(column)
            .where(earlier.customer_id == customer_id, earlier.survey_id == survey_id,
                   earlier.question_key == question_key, earlier.customer_id.is_not(None),
                   tuple_(earlier.submitted_at, earlier.response_id) < tuple_(submitted_at, response_id), *conditions)
            .order_by(earlier.submitted_at.desc(), earlier.response_id.desc())
            .limit(1).correlate(outer).scalar_subquery())


def _rated_answers(session: Session, ids: list[int]) -> tuple[dict[int, dict[str, float]], dict[int, dict[str, float]]]:
    """Each response's rated answers, and for each of them the same customer's previous answer to that
    question of the same survey (the newest one before the response in (submitted_at, id) order).

    One statement per chunk; each previous answer is one seek in `ix_answers_customer_history`, so
    the cost per response does not grow with the customer's history. (Flagging reads each result
    with `.all()`: one fetch per statement instead of one driver call per row.)
    """
    numeric: dict[int, dict[str, float]] = defaultdict(dict)
    before: dict[int, dict[str, float]] = defaultdict(dict)
    for start in range(0, len(ids), CHUNK):
        for response_id, key, value, previous_value in session.connection().execute(_rated_answers_query(),
                                                                        {"ids": ids[start:start + CHUNK]}).all():
            numeric[response_id][key] = value
            if previous_value is not None:
                before[response_id][key] = previous_value
    return numeric, before


@cache
def _rated_answers_query():
    a, earlier = models.Answer, aliased(models.Answer)
    previous = _newest_earlier_answer(earlier, earlier.numeric_value, a, a.customer_id, a.survey_id, a.question_key,
                                      a.submitted_at, a.response_id, earlier.numeric_value.is_not(None))
    return (select(a.response_id, a.question_key, a.numeric_value, previous)
            .where(a.response_id.in_(bindparam("ids", expanding=True)), a.numeric_value.is_not(None)))


def _low_score_bounds(context: _Context, survey_id: int) -> tuple[dict[str, list[tuple[int, float]]], set[int]]:
    """Per question key, the (version id, highest low score) of every version of the survey in which
    a score rule applies to it; and the ids of all the survey's versions."""
    if survey_id not in context.low_score_bounds:
        bounds: dict[str, list[tuple[int, float]]] = defaultdict(list)
        versions = set(context.session.scalars(
            select(models.SurveyVersion.id).where(models.SurveyVersion.survey_id == survey_id)))
        for version_id in sorted(versions):
            for question in context.definition(version_id).questions:
                threshold = rules.enabled_low_score_threshold(question, context.settings)
                if threshold is not None:
                    bounds[question.key].append((version_id, threshold[1]))
        context.low_score_bounds[survey_id] = (dict(bounds), versions)
    return context.low_score_bounds[survey_id]


def _last_low_scores(context: _Context, candidates: list[_Candidate]) -> dict[int, datetime]:
    """For each candidate, when the same customer last gave the same survey a low score before it
    (a score rule's threshold under the version then answered); missing when never.

    One statement per survey and chunk, one correlated look-up per low-score question: each walks
    `ix_answers_customer_history` back from the response to the newest low score only.
    """
    session = context.session
    found: dict[int, datetime] = {}
    by_survey: dict[int, list[int]] = defaultdict(list)
    for candidate in candidates:
        by_survey[candidate.survey_id].append(candidate.id)
    for survey_id, ids in by_survey.items():
        bounds, all_versions = _low_score_bounds(context, survey_id)
        if not bounds:
            continue
        query = _last_low_scores_query(tuple((key, tuple(sorted(per_version))) for key, per_version in sorted(bounds.items())),
                                       frozenset(all_versions))
        for start in range(0, len(ids), CHUNK):
            for response_id, *moments in session.connection().execute(query, {"ids": ids[start:start + CHUNK]}).all():
                moments = [as_utc(m) for m in moments if m is not None]
                if moments:
                    found[response_id] = max(moments)
    return found


@cache
def _last_low_scores_query(bounds: tuple[tuple[str, tuple[tuple[int, float], ...]], ...], all_versions: frozenset[int]):
    """The statement of `_last_low_scores` for a survey whose score rules have these `bounds`
    (question key, (version id, highest low score) ...), built once per rules and versions."""
    r, earlier, version = models.Response, aliased(models.Answer), aliased(models.Response)
    looks = []
    for key, per_version in bounds:
        low = []
        for highest in sorted({h for _, h in per_version}):
            versions = {v for v, h in per_version if h == highest}
            condition = earlier.numeric_value <= highest
            if versions != all_versions:  # the rule applied to this question in some versions only
                condition = and_(condition, select(version.id).where(
                    version.id == earlier.response_id, version.survey_version_id.in_(sorted(versions))).exists())
            low.append(condition)
        looks.append(_newest_earlier_answer(earlier, earlier.submitted_at, r, r.customer_id, r.survey_id, key,
                                            r.submitted_at, r.id, or_(*low)))
    return select(r.id, *looks).where(r.id.in_(bindparam("ids", expanding=True)))


def _texts(session: Session, ids: list[int]) -> dict[int, dict[str, str]]:
    texts: dict[int, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(ids), CHUNK):
        for response_id, key, value in session.connection().execute(_texts_query(), {"ids": ids[start:start + CHUNK]}).all():
            texts[response_id][key] = texts[response_id].get(key, "") + (" " if key in texts[response_id] else "") + value
    return texts


@cache
def _texts_query():
    a = models.Answer
    return select(a.response_id, a.question_key, a.text_value).where(
        a.response_id.in_(bindparam("ids", expanding=True)), a.text_value.is_not(None))


@dataclass
class _CaseRecord:
    """An open case as flagging changes it: a new one (no id until written) or one read from the database.

    Plain values instead of ORM objects: a chunk opens or joins thousands of cases, written with one
    INSERT and one UPDATE statement each (see `_write_cases`).
    """

    customer_id: int
    survey_id: int
    status: str
    priority: int
    due_at: datetime | None
    reasons: dict
    last_flagged_at: datetime | None
    flagged_question: str | None = None
    flagged_score: float | None = None
    id: int | None = None
    new_values: dict | None = None  # the other columns of a new case
    changed: bool = False


CASE_CHANGES = ("priority", "due_at", "reasons", "last_flagged_at", "flagged_question", "flagged_score")


def _open_cases(session: Session, candidates: list[_Candidate]) -> dict[tuple[int, int], _CaseRecord]:
    pairs = {(c.customer_id, c.survey_id) for c in candidates}
    customers = sorted({p[0] for p in pairs})
    cases = {}
    for start in range(0, len(customers), CHUNK):
        for row in session.connection().execute(_open_cases_query(), {"ids": customers[start:start + CHUNK]}).all():
            if (row.customer_id, row.survey_id) in pairs:
                cases[(row.customer_id, row.survey_id)] = _CaseRecord(
                    row.customer_id, row.survey_id, row.status, row.priority, as_utc(row.due_at), dict(row.reasons or {}),
                    as_utc(row.last_flagged_at), row.flagged_question, row.flagged_score, id=row.id)
    return cases


@cache
def _open_cases_query():
    f = models.FollowUpCase
    return (select(f.id, f.customer_id, f.survey_id, f.status, *(getattr(f, c) for c in CASE_CHANGES))
            .where(f.customer_id.in_(bindparam("ids", expanding=True)), f.status.in_(OPEN_CASE_STATUSES)))


def _write_cases(session: Session, cases: list[_CaseRecord]) -> None:
    """Insert the new cases (filling in their ids) and update the changed ones, a statement each."""
    table = models.FollowUpCase.__table__
    new = [case for case in cases if case.id is None]
    if new:
        # Read the ids back by (customer, survey): one open case each (a partial unique index).
        # An insert returning ids in row order would run one statement per case on SQLite.
        connection = session.connection()
        bulk.insert_rows(connection, table, [
            dict(customer_id=c.customer_id, survey_id=c.survey_id, status=c.status,
                 **{name: getattr(c, name) for name in CASE_CHANGES}, **c.new_values) for c in new])
        ids = bulk.ids_by_key(connection, table, ["customer_id", "survey_id"],
                              [(c.customer_id, c.survey_id) for c in new], [table.c.status.in_(OPEN_CASE_STATUSES)])
        for case in new:
            case.id = ids[(case.customer_id, case.survey_id)]
    changed = [case for case in cases if case.changed and case.new_values is None]
    if changed:
        session.connection().execute(
            table.update().where(table.c.id == bindparam("case_id")).values(
                {name: bindparam(f"new_{name}") for name in CASE_CHANGES}),
            [{"case_id": c.id, **{f"new_{name}": getattr(c, name) for name in CASE_CHANGES}} for c in changed])
        # ORM objects of these cases loaded earlier in the session would now be stale
        stale = {c.id for c in changed}
        for obj in list(session.identity_map.values()):
            if isinstance(obj, models.FollowUpCase) and obj.id in stale:
                session.expire(obj)


def _customers(session: Session, ids: set[int]) -> dict[int, Any]:
    """What the rules and the owner need of each customer (plain rows: no ORM objects to build)."""
    found, ids = {}, sorted(ids)
    for start in range(0, len(ids), CHUNK):
        for row in session.connection().execute(_customers_query(), {"ids": ids[start:start + CHUNK]}).all():
            found[row.id] = row
    return found


@cache
def _customers_query():
    c, manager = models.Customer, aliased(models.User)
    return (select(c.id, c.region, c.tier, c.annual_value, c.tenure_start, c.field_manager_id,
                   manager.disabled_at.label("manager_disabled_at"))
            .outerjoin(manager, manager.id == c.field_manager_id).where(c.id.in_(bindparam("ids", expanding=True))))


def _owner(context: _Context, customer: Any) -> int | None:
    if customer.field_manager_id is not None and customer.manager_disabled_at is None:
        return customer.field_manager_id
    email = context.settings.owner_email(customer.region)
    return context.owner_by_email.get(email) if email else None


def flag_responses(session: Session, response_ids: Iterable[int], settings: FollowUpSettings | None = None, *,
                   now: datetime | None = None, opened_at_submission: bool = False,
                   progress: bool = False, announce: bool = True) -> FlagSummary:
    """Evaluate the rules on stored responses and open or join cases; idempotent per response.

    Cases open at `now` (default: the current time), or at each response's submission time with
    `opened_at_submission` (for replaying history, as the demo does). Each opened case is announced
    to the webhooks that take `case.opened` (one outbox statement per chunk) unless `announce` is
    False (the demo's replayed history). Writes into `session`; the caller commits.
    """
    settings = settings or load_settings()
    ids = sorted(set(response_ids))
    # Flagging reads and writes through the session's connection (Core: no ORM work per statement);
    # what the session still holds for the database goes there first.
    session.flush()
    context = _Context(session, settings)
    summary = FlagSummary()
    with tqdm(total=len(ids), desc="flagging", unit="response", disable=not progress) as bar:
        for start in range(0, len(ids), CHUNK * 5):
            chunk = ids[start:start + CHUNK * 5]
            summary += _flag_chunk(context, chunk, now, opened_at_submission, announce)
            bar.update(len(chunk))
    return summary


def _flag_chunk(context: _Context, ids: list[int], now: datetime | None, opened_at_submission: bool,
                announce: bool = True) -> FlagSummary:
    session, settings = context.session, context.settings
    candidates = _candidates(session, ids)
    if not candidates:
        return FlagSummary()
    candidates.sort(key=lambda c: (c.submitted_at, c.id))
    numeric_answers, previous_answers = _rated_answers(session, [c.id for c in candidates])
    texts = _texts(session, [c.id for c in candidates])
    open_cases = _open_cases(session, candidates)
    customers = _customers(session, {c.customer_id for c in candidates})
    evaluated = []
    for candidate in candidates:
        survey = context.definition(candidate.version_id)
        numeric = numeric_answers.get(candidate.id, {})
        flags = rules.evaluate(survey, numeric, texts.get(candidate.id, {}), previous_answers.get(candidate.id, {}),
                               candidate.language, settings)
        if flags:
            evaluated.append((candidate, survey, numeric, flags))
    last_low = _last_low_scores(context, [c for c, _, _, flags in evaluated if any(f.is_low_score for f in flags)])
    flagged = opened = joined = 0
    events: list[dict] = []  # written in bulk after the loop: one statement per chunk, not per response
    flag_rows: list[dict] = []
    for candidate, survey, numeric, flags in evaluated:
        flagged += 1
        low = any(f.is_low_score for f in flags)
        window = candidate.submitted_at - timedelta(days=settings.repeat_days)
        repeat = low and candidate.id in last_low and last_low[candidate.id] >= window
        customer = customers[candidate.customer_id]
        priority, why = priority_for(settings, low_score=low, severity=rules.severity(survey, flags),
                                     annual_value=customer.annual_value, tier=customer.tier, repeat=repeat)
        moment = candidate.submitted_at if opened_at_submission else (now or utc_now())
        headline = rules.headline(survey, numeric, flags)
        captive = low and is_captive(customer.tenure_start, candidate.submitted_at, settings)
        case = open_cases.get((candidate.customer_id, candidate.survey_id))
        names = sorted({f.rule for f in flags})
        if case is None:
            case = _CaseRecord(
                candidate.customer_id, candidate.survey_id, "open", priority, due_for(priority, moment, settings),
                {"rules": names, "priority": why, "captive_not_loyal": captive, "repeat": repeat},
                candidate.submitted_at, *(headline or (None, None)),
                new_values=dict(response_id=candidate.id, owner_id=_owner(context, customer), created_at=moment))
            open_cases[(candidate.customer_id, candidate.survey_id)] = case
            events.append(dict(case_id=case, actor_id=None, at=moment, from_status=None, to_status="open",
                               note=f"opened for response {candidate.id}: {', '.join(names)}"))
            opened += 1
        else:
            reasons = case.reasons
            reasons["rules"] = sorted(set(reasons.get("rules", [])) | set(names))
            reasons["priority"] = sorted(set(reasons.get("priority", [])) | set(why))
            reasons["captive_not_loyal"] = bool(reasons.get("captive_not_loyal")) or captive
            reasons["repeat"] = bool(reasons.get("repeat")) or repeat
            if priority < case.priority:
                case.priority = priority
                due = due_for(priority, moment, settings)
                case.due_at = min(case.due_at, due) if case.due_at else due
            case.last_flagged_at = candidate.submitted_at
            if headline:
                case.flagged_question, case.flagged_score = headline
            case.changed = True
            events.append(dict(case_id=case, actor_id=None, at=moment, from_status=case.status,
                               to_status=case.status, note=f"response {candidate.id} added: {', '.join(names)}"))
            joined += 1
        flag_rows += [{"case_id": case, "response_id": candidate.id, "rule": f.rule, "question_key": f.question_key,
                       "score": f.score, "detail": f.detail[:300], "flagged_at": moment} for f in flags]
    _write_cases(session, list(open_cases.values()))
    if announce:  # in the flagging's transaction (and savepoint): a case rolled back is never announced
        outbox.cases_opened(session, [dict(
            case_id=case.id, survey_id=case.survey_id, customer_id=case.customer_id,
            response_id=case.new_values["response_id"], priority=case.priority, due_at=case.due_at,
            opened_at=case.new_values["created_at"]) for case in open_cases.values() if case.new_values is not None])
    for row in (*events, *flag_rows):
        row["case_id"] = row["case_id"].id  # the rows named the case record until it had an id
    bulk.insert_rows(session.connection(), models.CaseEvent.__table__, events)
    bulk.insert_rows(session.connection(), models.CaseFlag.__table__, flag_rows)
    return FlagSummary(len(candidates), flagged, opened, joined)


def flag_safely(session: Session, *, response_ids: Sequence[int], progress: bool = False) -> FlagSummary | None:
    """Flag just-stored responses without ever failing their storage.

    Runs in a savepoint of the caller's transaction, so the response and its case commit together;
    when flagging fails (a bad rules file, a concurrent case for the same customer, a bug), the
    savepoint is rolled back, the error is logged and the response is stored all the same: running
    `python -m survey followup flag` later flags it (flagging is idempotent). Returns None then.
    """
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                return flag_responses(session, response_ids, progress=progress)
        except IntegrityError:
            # another transaction opened this customer's case first: once more, joining it
            if attempt == 2:
                log.exception("follow-up flagging failed twice for responses %s; run 'followup flag'",
                              list(response_ids)[:10])
        except Exception:  # noqa: BLE001 - the response is stored; never fail the submission
            log.exception("follow-up flagging failed for responses %s; run 'followup flag'", list(response_ids)[:10])
            return None
    return None


def flag_survey(session: Session, survey_slug: str | None = None, since: datetime | None = None,
                settings: FollowUpSettings | None = None, progress: bool = False) -> FlagSummary:
    """(Re)evaluate stored responses of a survey (all surveys without a slug), optionally since a moment."""
    query = select(models.Response.id)
    if survey_slug is not None:
        survey_id = session.scalar(select(models.Survey.id).where(models.Survey.slug == survey_slug))
        if survey_id is None:
            raise LookupError(f"survey: no survey {survey_slug!r}")
        query = query.where(models.Response.survey_id == survey_id)
    if since is not None:
        query = query.where(models.Response.submitted_at >= since)
    return flag_responses(session, session.scalars(query).all(), settings, progress=progress)
