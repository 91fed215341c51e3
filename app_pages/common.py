"""What every page shares: the engine, cached loaders, and session-state keys (defined once here)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from survey import db, queries
from survey.filters import DIMENSIONS, Filters
from survey.bootstrap import prepare_database
from survey.publishing import SurveySummary, latest_version, list_surveys, version_definition

# st.session_state keys for selections that cross pages (the sidebar's global filters).
SELECTED_SURVEY = "selected_survey"
FILTER_VERSIONS = "filter_versions"
FILTER_DATES = "filter_dates"
FILTER_CHANNELS = "filter_channels"
FILTER_SEGMENT = "filter_segment_{}"
SIDEBAR_SEGMENTS = ("region", "tier", "industry")
MIN_N_DEFAULT = 30


@st.cache_resource(show_spinner="Preparing the database (first start adds demo data)...")
def _engine_for(url: str) -> Engine:
    found = db.make_engine(url)
    prepare_database(found)
    return found


def engine() -> Engine:
    """The app's engine for the configured URL, migrated, with demo data on a first start; one per process."""
    return _engine_for(db.database_url())


# Cached loaders take the database URL so that a value is never served from another database.


@st.cache_data(ttl=60)
def _surveys(url: str) -> list[SurveySummary]:
    with db.session_scope(_engine_for(url)) as session:
        return list_surveys(session)


def surveys() -> list[SurveySummary]:
    """Every survey with its version and response counts (not user-scoped)."""
    return _surveys(db.database_url())


@st.cache_data(ttl=60)
def _score_histogram(url: str, survey_slug: str, question_key: str, period: str) -> pd.DataFrame:
    return queries.score_histogram(_engine_for(url), survey_slug, question_key, period)


def score_histogram(survey_slug: str, question_key: str, period: str = "month") -> pd.DataFrame:
    """Score counts per period from the database (aggregate counts only, not user-scoped)."""
    return _score_histogram(db.database_url(), survey_slug, question_key, period)


@st.cache_data(ttl=60)
def _response_volume(url: str, survey_slug: str, period: str) -> pd.DataFrame:
    return queries.response_volume(_engine_for(url), survey_slug, period)


def response_volume(survey_slug: str, period: str = "month") -> pd.DataFrame:
    """Responses per period and channel from the database."""
    return _response_volume(db.database_url(), survey_slug, period)


def choose_survey() -> SurveySummary | None:
    """The sidebar survey picker; the choice persists across pages."""
    found = surveys()
    if not found:
        st.info("No survey has been published yet. Publish one with "
                "`python -m survey survey publish FILE`.")
        return None
    slugs = [s.slug for s in found]
    if st.session_state.get(SELECTED_SURVEY) not in slugs:  # start with the survey most answered
        st.session_state[SELECTED_SURVEY] = max(found, key=lambda s: s.responses).slug
    slug = st.sidebar.selectbox("Survey", slugs, key=SELECTED_SURVEY,
                                format_func=lambda s: next(x.title for x in found if x.slug == s))
    return next(s for s in found if s.slug == slug)


@st.cache_data(ttl=60)
def _latest_definition(url: str, survey_slug: str):
    with db.session_scope(_engine_for(url)) as session:
        return version_definition(latest_version(session, survey_slug))


def latest_definition(survey_slug: str):
    """The Survey definition of the newest version of `survey_slug`."""
    return _latest_definition(db.database_url(), survey_slug)


@st.cache_data(ttl=60)
def _filter_choices(url: str, survey_slug: str) -> dict:
    with _engine_for(url).connect() as connection:
        return queries.filter_choices(connection, survey_slug, SIDEBAR_SEGMENTS)


def _keep_filter_state() -> None:
    # Streamlit forgets a page's widget values when another page is shown; re-assigning them
    # keeps the sidebar filters as the user left them when moving between pages.
    keys = [SELECTED_SURVEY, FILTER_VERSIONS, FILTER_DATES, FILTER_CHANNELS,
            *(FILTER_SEGMENT.format(name) for name in SIDEBAR_SEGMENTS)]
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def global_filters() -> Filters | None:
    """The sidebar filters every dashboard page shares (survey, versions, dates, channel, segments).

    The selection persists across pages. None when no survey is published yet.
    """
    _keep_filter_state()
    summary = choose_survey()
    if summary is None:
        return None
    choices = _filter_choices(db.database_url(), summary.slug)
    sidebar = st.sidebar
    versions = sidebar.multiselect("Versions", choices["versions"], key=FILTER_VERSIONS,
                                   placeholder="All versions")
    first, last = choices["first_day"], choices["last_day"]
    dates = ()
    if first and last:
        if FILTER_DATES in st.session_state and not all(first <= d <= last for d in st.session_state[FILTER_DATES]):
            del st.session_state[FILTER_DATES]  # a date range from another survey
        dates = sidebar.date_input("Dates", value=st.session_state.get(FILTER_DATES, (first, last)),
                                   min_value=first, max_value=last, key=FILTER_DATES)
    channels = sidebar.multiselect("Channels", choices["channels"], key=FILTER_CHANNELS, placeholder="All channels")
    segments = []
    for name in SIDEBAR_SEGMENTS:
        picked = sidebar.multiselect(DIMENSIONS[name].label, choices[name], key=FILTER_SEGMENT.format(name),
                                     placeholder="All")
        if picked:
            segments.append((name, tuple(picked)))
    start, end = (dates if isinstance(dates, tuple) and len(dates) == 2 else (None, None))
    return Filters(summary.slug, versions=tuple(versions), start=start, end=end, channels=tuple(channels),
                   segments=tuple(segments))


@st.cache_data(ttl=60)
def _histogram(url: str, filters: Filters, question_key: str, period: str | None, by: tuple[str, ...]) -> pd.DataFrame:
    return queries.histogram(_engine_for(url), filters, question_key, period, by)


def histogram(filters: Filters, question_key: str, period: str | None = None, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Score counts for the filtered responses, grouped by `by` and `period` (aggregate counts only)."""
    return _histogram(db.database_url(), filters, question_key, period, tuple(by))
