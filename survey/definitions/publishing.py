"""Publishing definitions as immutable survey versions, and reading them back.

Example:
    >>> from survey.storage.db import make_engine, upgrade, session_scope
    >>> from survey.definitions.definition import loads_yaml
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> first = loads_yaml("slug: s\\ntitle: S\\nquestions:\\n- {key: q, kind: nps, text: Recommend}")
    >>> with session_scope(engine) as session:
    ...     publish(session, first).number, publish(session, first).number
    (1, 1)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import messages
from survey.storage import count_upkeep, models
from survey.definitions.definition import Survey, from_dict, to_dict, validate, DefinitionError


def definition_hash(survey: Survey) -> str:
    """A stable fingerprint of a definition's content (what decides whether it changed)."""
    canonical = json.dumps(to_dict(survey), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def publish(session: Session, survey: Survey) -> models.SurveyVersion:
    """Publish a definition and return its version.

    An unchanged definition returns the current version; a changed one becomes version N+1 and
    every earlier version (and the responses that point to it) stays as it was. Survey-level
    fields (title, touchpoint, anonymity) follow the newest version.
    """
    problems = validate(survey, survey.slug)
    if problems:
        raise DefinitionError(problems)
    digest = definition_hash(survey)
    stored = session.scalar(select(models.Survey).where(models.Survey.slug == survey.slug))
    if stored is None:
        stored = models.Survey(slug=survey.slug)
        session.add(stored)
    latest = latest_version(session, survey.slug) if stored.id else None
    if latest is not None and latest.content_hash == digest:
        return latest
    if stored.id and stored.anonymous != survey.anonymous and _has_responses(session, stored.id):
        # Switching would expose earlier anonymous answers, or mix identified and anonymous ones.
        raise DefinitionError([messages.ANONYMITY_FIXED.format(slug=survey.slug)])
    if stored.id and survey.anonymous and not stored.anonymous and _has_invitations(session, stored.id):
        # Personal links already handed out would tie their answers to a customer.
        raise DefinitionError([messages.ANONYMITY_INVITED.format(slug=survey.slug)])
    stored.title = survey.title[survey.languages[0]]
    stored.touchpoint = survey.touchpoint
    stored.anonymous = survey.anonymous
    version = models.SurveyVersion(
        survey=stored,
        number=(latest.number + 1) if latest else 1,
        definition=to_dict(survey),
        content_hash=digest,
    )
    session.add(version)
    session.flush()
    # the dashboard's index counts follow the newest version's items (survey.storage.count_upkeep)
    count_upkeep.use_index_items(session.connection(), stored.id, index_items_of(survey))
    return version


def index_items_of(survey: Survey) -> list[tuple[str, float]]:
    """The satisfaction index's items of a definition: (question key, scale minimum), in order."""
    return [(question.key, question.scale.min) for question in survey.metric_questions("index")
            if question.scale is not None]


def _has_invitations(session: Session, survey_id: int) -> bool:
    return session.scalar(select(models.Invitation.id).where(models.Invitation.survey_id == survey_id).limit(1)) is not None


def _has_responses(session: Session, survey_id: int) -> bool:
    return session.scalar(select(models.Response.id).where(models.Response.survey_id == survey_id).limit(1)) is not None


def latest_version(session: Session, slug: str) -> models.SurveyVersion | None:
    """The newest published version of the survey with `slug`, or None."""
    return session.scalar(
        select(models.SurveyVersion)
        .join(models.Survey)
        .where(models.Survey.slug == slug)
        .order_by(models.SurveyVersion.number.desc())
        .limit(1)
    )


def version_definition(version: models.SurveyVersion) -> Survey:
    """The Survey a stored version holds (validated again on the way out)."""
    return from_dict(version.definition, source=f"version {version.number}")


@dataclass(frozen=True)
class SurveySummary:
    """One line of `survey list`."""

    slug: str
    title: str
    touchpoint: str
    anonymous: bool
    status: str
    versions: int
    responses: int


def list_surveys(session: Session) -> list[SurveySummary]:
    """Every survey with its number of versions and responses, by slug (counted in the database)."""
    versions = (select(models.SurveyVersion.survey_id, func.count().label("n"))
                .group_by(models.SurveyVersion.survey_id).subquery())
    responses = (select(models.Response.survey_id, func.count().label("n"))
                 .group_by(models.Response.survey_id).subquery())
    rows = session.execute(
        select(models.Survey, func.coalesce(versions.c.n, 0), func.coalesce(responses.c.n, 0))
        .outerjoin(versions, versions.c.survey_id == models.Survey.id)
        .outerjoin(responses, responses.c.survey_id == models.Survey.id)
        .order_by(models.Survey.slug)
    ).all()
    return [SurveySummary(s.slug, s.title, s.touchpoint, s.anonymous, s.status, v, r) for s, v, r in rows]


def get_survey(session: Session, slug: str) -> models.Survey:
    """The stored survey with `slug`; LookupError naming it when there is none."""
    stored = session.scalar(select(models.Survey).where(models.Survey.slug == slug))
    if stored is None:
        raise LookupError(messages.UNKNOWN_SURVEY.format(slug=slug))
    return stored


SURVEY_STATUSES = ("open", "closed")


def set_status(session: Session, slug: str, status: str) -> models.Survey:
    """Open or close the survey with `slug`: a closed survey takes no answers and no new invitations.

    Raises LookupError for an unknown survey and ValueError for a status other than open/closed.
    """
    if status not in SURVEY_STATUSES:
        raise ValueError(f"survey status {status!r} is not one of {', '.join(SURVEY_STATUSES)}")
    stored = get_survey(session, slug)
    stored.status = status
    session.flush()
    return stored


def response_count(session: Session, slug: str) -> int:
    """How many responses the survey with `slug` has, over all its versions (0 for an unknown one)."""
    return session.scalar(select(func.count(models.Response.id)).select_from(models.Response)
                          .join(models.Survey, models.Survey.id == models.Response.survey_id)
                          .where(models.Survey.slug == slug)) or 0
