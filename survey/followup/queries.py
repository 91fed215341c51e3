"""Reading cases, always through the acting user's scope, and the managers' closed-loop figures.

Scope is part of every query (`case_scope`): a field manager reads only cases they own, admins and
managers read all. A case outside the scope is not returned at all; `case_detail` raises
AccessDenied for it, exactly as for a case that does not exist.

Figures (`figures`, managers and admins):

- open, overdue, resolved (and unreachable, declined) cases per owner and per region;
- median hours from opening to first contact;
- contacted in time: of the cases contacted, and those never contacted whose due date has passed
  (open, or closed as unreachable), the share first contacted by their due date (Wilson interval);
- recovery rate: of resolved cases whose customer answered the flagged question again after the
  case was resolved, the share whose next score is higher than the flagged one (Wilson interval);
- root causes per month (the month still running labelled "to date"), and the categories whose
  latest month's share is above the upper limit of a p control chart (`analysis.p_chart`, the
  logic Trends uses). With few cases in a month the chart's normal approximation fails (Montgomery
  2019, section 7.2), so a jump is also checked exactly: the binomial chance of at least that many
  cases at the centre line's share must be under the 3-sigma limit's one-sided 0.135%. Otherwise
  three of five cases in the first days of a month would be reported as a jump.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from scipy.stats import binom, norm
from sqlalchemy import ColumnElement, Engine, case, false, func, select, true
from sqlalchemy.orm import aliased

from analysis import Estimate, p_chart, share_from_counts
from survey.storage import models
from survey.people.access import FOLLOW_UP_OVERVIEW, READ_FOLLOW_UP_LIST, WORK_CASES, AccessDenied, Actor, require
from survey.storage.models import OPEN_CASE_STATUSES, as_utc, utc_now

CASE_COLUMNS = ["case", "priority", "due_at", "overdue", "status", "customer", "customer_ref", "phone", "email",
                "region", "tier", "industry", "annual_value", "tenure_years", "survey", "flagged_score",
                "reasons", "captive_not_loyal", "escalated", "owner", "opened_at"]


def case_scope(actor: Actor) -> ColumnElement[bool]:
    """A condition on `follow_up_cases` rows the actor may see: all, or the cases they own."""
    if actor.sees_every_customer:
        return true()
    if actor.user_id is None:
        return false()
    return models.FollowUpCase.owner_id == actor.user_id


def _utc(moment):
    if moment is None or pd.isna(moment):
        return None
    return as_utc(pd.Timestamp(moment).to_pydatetime())


def _reason_text(reasons: dict) -> str:
    parts = list(reasons.get("rules", []))
    parts += list(reasons.get("priority", []))
    return "; ".join(parts)


def open_cases(engine: Engine, actor: Actor, survey_slug: str | None = None, owner_id: int | None = None,
               now: datetime | None = None) -> pd.DataFrame:
    """The actor's open cases (open or contacted), most urgent first: priority, then due date.

    With the customer's contact details and context (the owner needs them to call back).
    """
    require(actor, READ_FOLLOW_UP_LIST)
    now = now or utc_now()
    fc, c, s = models.FollowUpCase, models.Customer, models.Survey
    owner = aliased(models.User)
    query = (select(fc.id, fc.priority, fc.due_at, fc.status, c.name, c.external_ref, c.phone, c.email, c.region,
                    c.tier, c.industry, c.annual_value, c.tenure_start, s.slug, fc.flagged_score, fc.reasons,
                    fc.escalated_at, owner.name.label("owner"), fc.created_at)
             .join(c, c.id == fc.customer_id).join(s, s.id == fc.survey_id)
             .outerjoin(owner, owner.id == fc.owner_id)
             .where(fc.status.in_(OPEN_CASE_STATUSES), case_scope(actor))
             .order_by(fc.priority, fc.due_at.is_(None), fc.due_at, fc.id))
    if survey_slug:
        query = query.where(s.slug == survey_slug)
    if owner_id is not None:
        query = query.where(fc.owner_id == owner_id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    today = now.date()
    records = []
    for row in rows:
        due = _utc(row.due_at)
        reasons = row.reasons or {}
        records.append([row.id, row.priority, due, bool(due and due < now), row.status, row.name, row.external_ref,
                        row.phone, row.email, row.region, row.tier, row.industry, row.annual_value,
                        round((today - row.tenure_start).days / 365.25, 1) if row.tenure_start else None,
                        row.slug, row.flagged_score, _reason_text(reasons), bool(reasons.get("captive_not_loyal")),
                        row.escalated_at is not None, row.owner, _utc(row.created_at)])
    return pd.DataFrame(records, columns=CASE_COLUMNS)


@dataclass(frozen=True)
class CaseDetail:
    """One case with what its owner needs to call back: the customer, earlier answers, earlier cases, history."""

    case: dict
    customer: dict
    flags: pd.DataFrame
    events: pd.DataFrame
    earlier_answers: pd.DataFrame
    earlier_cases: pd.DataFrame


def case_detail(engine: Engine, actor: Actor, case_id: int, answers_limit: int = 200) -> CaseDetail:
    """The case and its context; AccessDenied when it is not the actor's (or does not exist)."""
    require(actor, WORK_CASES)
    fc, c, s, u = models.FollowUpCase, models.Customer, models.Survey, models.User
    with engine.connect() as connection:
        row = connection.execute(select(fc, s.slug.label("survey"))
                                 .join(s, s.id == fc.survey_id)
                                 .where(fc.id == case_id, case_scope(actor))).mappings().first()
        if row is None:
            raise AccessDenied(f"case {case_id} is not among the cases you may see")
        record = dict(row)
        record = {key.split(".")[-1] if isinstance(key, str) else key.name: value for key, value in record.items()}
        owner_name = connection.execute(select(u.name).where(u.id == record["owner_id"])).scalar()
        record["owner"] = owner_name
        customer = dict(connection.execute(
            select(c.id, c.external_ref, c.name, c.email, c.phone, c.region, c.tier, c.industry, c.annual_value,
                   c.tenure_start, c.erased_at).where(c.id == record["customer_id"])).mappings().one())
        flags = pd.DataFrame(connection.execute(
            select(models.CaseFlag.flagged_at, models.CaseFlag.response_id, models.CaseFlag.rule,
                   models.CaseFlag.question_key, models.CaseFlag.score, models.CaseFlag.detail)
            .where(models.CaseFlag.case_id == case_id).order_by(models.CaseFlag.id)).all(),
            columns=["flagged_at", "response", "rule", "question", "score", "detail"])
        actor_user = aliased(u)
        events = pd.DataFrame(connection.execute(
            select(models.CaseEvent.at, func.coalesce(actor_user.email, "system"), models.CaseEvent.from_status,
                   models.CaseEvent.to_status, models.CaseEvent.note)
            .outerjoin(actor_user, actor_user.id == models.CaseEvent.actor_id)
            .where(models.CaseEvent.case_id == case_id).order_by(models.CaseEvent.at, models.CaseEvent.id)).all(),
            columns=["at", "by", "from", "to", "note"])
        r, a = models.Response, models.Answer
        earlier = pd.DataFrame(connection.execute(
            select(r.submitted_at, s.slug, a.question_key, a.numeric_value, a.text_value)
            .join(a, a.response_id == r.id).join(s, s.id == r.survey_id)
            .where(r.customer_id == record["customer_id"])
            .order_by(r.submitted_at.desc(), r.id.desc(), a.id).limit(answers_limit)).all(),
            columns=["submitted_at", "survey", "question", "score", "text"])
        other = pd.DataFrame(connection.execute(
            select(fc.id, s.slug, fc.status, fc.created_at, fc.closed_at, fc.root_cause)
            .join(s, s.id == fc.survey_id)
            .where(fc.customer_id == record["customer_id"], fc.id != case_id, case_scope(actor))
            .order_by(fc.created_at.desc())).all(),
            columns=["case", "survey", "status", "opened_at", "closed_at", "root_cause"])
    return CaseDetail(record, customer, flags, events, earlier, other)


def counts(engine: Engine, survey_slug: str | None = None, now: datetime | None = None,
           actor: Actor | None = None) -> dict[str, int]:
    """Open and overdue cases (aggregate counts, no rows): {"open": n, "overdue": m}; given the acting
    user, only the cases they may see (a field manager: their own)."""
    now = now or utc_now()
    fc = models.FollowUpCase
    is_open = fc.status.not_in(("resolved", "unreachable", "declined"))
    overdue = is_open & fc.due_at.is_not(None) & (fc.due_at < now)
    query = select(func.count(case((is_open, 1))), func.count(case((overdue, 1)))).select_from(fc)
    if actor is not None:
        query = query.where(case_scope(actor))
    if survey_slug is not None:
        query = query.join(models.Survey, fc.survey_id == models.Survey.id).where(models.Survey.slug == survey_slug)
    with engine.connect() as connection:
        open_cases_, overdue_cases = connection.execute(query).one()
    return {"open": int(open_cases_), "overdue": int(overdue_cases)}


@dataclass(frozen=True)
class Figures:
    """The closed-loop figures of the Follow-up page (see the module docstring)."""

    by_owner: pd.DataFrame
    by_region: pd.DataFrame
    median_hours_to_contact: float | None
    contacted_in_time: Estimate
    recovery: Estimate
    root_causes: pd.DataFrame  # month, root_cause, count
    root_cause_alerts: list[str] = field(default_factory=list)


def _case_rows(engine: Engine, actor: Actor, survey_slug: str | None) -> pd.DataFrame:
    fc, c, s = models.FollowUpCase, models.Customer, models.Survey
    owner = aliased(models.User)
    query = (select(fc.id, fc.status, fc.due_at, fc.created_at, fc.first_contacted_at, fc.closed_at, fc.root_cause,
                    fc.customer_id, fc.survey_id, fc.flagged_question, fc.flagged_score,
                    # with the email: two field managers of the same name stay two rows
                    func.coalesce(owner.name + " (" + owner.email + ")", "(unassigned)").label("owner"),
                    func.coalesce(c.region, "(no region)").label("region"))
             .join(c, c.id == fc.customer_id).join(s, s.id == fc.survey_id)
             .outerjoin(owner, owner.id == fc.owner_id).where(case_scope(actor)))
    if survey_slug:
        query = query.where(s.slug == survey_slug)
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).all(),
                             columns=["id", "status", "due_at", "created_at", "first_contacted_at", "closed_at",
                                      "root_cause", "customer_id", "survey_id", "flagged_question", "flagged_score",
                                      "owner", "region"])
    for column in ("due_at", "created_at", "first_contacted_at", "closed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def _status_counts(frame: pd.DataFrame, by: str, now: pd.Timestamp) -> pd.DataFrame:
    is_open = frame["status"].isin(OPEN_CASE_STATUSES)
    counted = pd.DataFrame({
        by: frame[by],
        "open": is_open,
        "overdue": is_open & frame["due_at"].notna() & (frame["due_at"] < now),
        "resolved": frame["status"] == "resolved",
        "unreachable": frame["status"] == "unreachable",
        "declined": frame["status"] == "declined",
    })
    table = counted.groupby(by, as_index=False).sum(numeric_only=True)
    return table.astype({c: int for c in ("open", "overdue", "resolved", "unreachable", "declined")}).sort_values(by)


def _recovery(engine: Engine, cases: pd.DataFrame) -> Estimate:
    resolved = cases[(cases["status"] == "resolved") & cases["flagged_question"].notna() & cases["closed_at"].notna()]
    if resolved.empty:
        return share_from_counts(0, 0)
    r, a = models.Response, models.Answer
    customers = sorted(set(resolved["customer_id"].astype(int)))
    rows = []
    with engine.connect() as connection:
        for start in range(0, len(customers), 1000):
            rows += connection.execute(
                select(r.customer_id, r.survey_id, r.submitted_at, r.id, a.question_key, a.numeric_value)
                .join(a, a.response_id == r.id)
                .where(r.customer_id.in_(customers[start:start + 1000]), a.numeric_value.is_not(None))).all()
    answers = pd.DataFrame(rows, columns=["customer_id", "survey_id", "submitted_at", "response_id", "question",
                                          "score"])
    answers["submitted_at"] = pd.to_datetime(answers["submitted_at"], utc=True)
    merged = resolved.merge(answers, on=["customer_id", "survey_id"])
    merged = merged[(merged["question"] == merged["flagged_question"]) & (merged["submitted_at"] > merged["closed_at"])]
    following = merged.sort_values(["submitted_at", "response_id"]).groupby("id").head(1)
    recovered = int((following["score"] > following["flagged_score"]).sum())
    return share_from_counts(recovered, len(following))


TO_DATE = " (to date)"  # after the month still running
ALERT_TAIL = float(norm.sf(3))  # 0.00135: how often a 3-sigma limit is crossed by chance, one-sided


def _root_causes(cases: pd.DataFrame, now: pd.Timestamp) -> tuple[pd.DataFrame, list[str]]:
    resolved = cases[(cases["status"] == "resolved") & cases["root_cause"].notna()].copy()
    if resolved.empty:
        return pd.DataFrame(columns=["month", "root_cause", "count"]), []
    resolved["month"] = resolved["closed_at"].dt.strftime("%Y-%m")
    running = now.strftime("%Y-%m")
    resolved.loc[resolved["month"] == running, "month"] = running + TO_DATE
    table = resolved.groupby(["month", "root_cause"]).size().rename("count").reset_index()
    totals = resolved.groupby("month").size()
    alerts = []
    if len(totals) >= 2:
        for cause, group in table.groupby("root_cause"):
            events = group.set_index("month")["count"].reindex(totals.index, fill_value=0)
            chart = p_chart(events, totals)
            latest = chart.iloc[-1]
            # P(X >= x) for X ~ Binomial(n, centre): exact where the normal approximation is not
            chance = float(binom.sf(events.iloc[-1] - 1, totals.iloc[-1], latest["center"]))
            if bool(latest["out_of_control"]) and latest["p"] > latest["upper"] and chance < ALERT_TAIL:
                month = totals.index[-1].replace(TO_DATE, " so far")
                alerts.append(f"{cause}: {100 * latest['p']:.0f}% of the cases resolved in {month} "
                              f"(control limit {100 * latest['upper']:.0f}%, usual {100 * latest['center']:.0f}%)")
    return table, alerts


def figures(engine: Engine, actor: Actor, survey_slug: str | None = None, now: datetime | None = None) -> Figures:
    """The managers' closed-loop figures for one survey (all surveys without a slug)."""
    require(actor, FOLLOW_UP_OVERVIEW)
    now_ts = pd.Timestamp(now or utc_now())
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    cases = _case_rows(engine, actor, survey_slug)
    contacted = cases[cases["first_contacted_at"].notna()]
    hours = (contacted["first_contacted_at"] - contacted["created_at"]).dt.total_seconds() / 3600
    median = float(hours.median()) if len(hours) else None
    in_time = contacted["due_at"].isna() | (contacted["first_contacted_at"] <= contacted["due_at"])
    # judged: every contacted case, and every case never contacted whose due date has passed
    missed = cases["first_contacted_at"].isna() & cases["due_at"].notna() & (cases["due_at"] < now_ts)
    judged = len(contacted) + int(missed.sum())
    root_causes, alerts = _root_causes(cases, now_ts)
    return Figures(by_owner=_status_counts(cases, "owner", now_ts), by_region=_status_counts(cases, "region", now_ts),
                   median_hours_to_contact=median, contacted_in_time=share_from_counts(int(in_time.sum()), judged),
                   recovery=_recovery(engine, cases), root_causes=root_causes, root_cause_alerts=alerts)
