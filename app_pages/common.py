"""What every page shares: the engine, cached loaders, and session-state keys (defined once here)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from survey import db, queries
from survey.bootstrap import prepare_database
from survey.publishing import SurveySummary, list_surveys

# st.session_state keys for selections that cross pages.
SELECTED_SURVEY = "selected_survey"


@st.cache_resource(show_spinner="Preparing the database (first start adds demo data)...")
def engine() -> Engine:
    """The app's engine, migrated, with demo data on a first start; one per process."""
    found = db.make_engine()
    prepare_database(found)
    return found


@st.cache_data(ttl=60)
def surveys() -> list[SurveySummary]:
    """Every survey with its version and response counts (not user-scoped)."""
    with db.session_scope(engine()) as session:
        return list_surveys(session)


@st.cache_data(ttl=60)
def score_histogram(survey_slug: str, question_key: str, period: str = "month") -> pd.DataFrame:
    """Score counts per period from the database (not user-scoped: aggregate counts only)."""
    return queries.score_histogram(engine(), survey_slug, question_key, period)


@st.cache_data(ttl=60)
def response_volume(survey_slug: str, period: str = "month") -> pd.DataFrame:
    """Responses per period and channel from the database."""
    return queries.response_volume(engine(), survey_slug, period)


def choose_survey() -> SurveySummary | None:
    """The sidebar survey picker; the choice persists across pages."""
    found = surveys()
    if not found:
        st.info("No survey has been published yet. Publish one with "
                "`python -m survey survey publish FILE`.")
        return None
    slugs = [s.slug for s in found]
    if st.session_state.get(SELECTED_SURVEY) not in slugs:
        st.session_state[SELECTED_SURVEY] = slugs[0]
    slug = st.sidebar.selectbox("Survey", slugs, key=SELECTED_SURVEY,
                                format_func=lambda s: next(x.title for x in found if x.slug == s))
    return next(s for s in found if s.slug == slug)


@st.cache_data(ttl=60)
def latest_definition(survey_slug: str):
    """The Survey definition of the newest version of `survey_slug`."""
    from survey.publishing import latest_version, version_definition

    with db.session_scope(engine()) as session:
        return version_definition(latest_version(session, survey_slug))
