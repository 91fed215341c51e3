"""What every page shares: the engine, cached loaders, and session-state keys (defined once here)."""

from __future__ import annotations

import hashlib
import math
from typing import Any, NamedTuple

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from app_pages import figures
from survey import settings
from survey.people import access, privacy
from survey.storage import db, queries, scope_counts
from survey.people.access import Actor
from survey.storage.filters import DIMENSIONS, Filters
from survey.bootstrap import prepare_database
from survey.definitions.publishing import SurveySummary, latest_version, list_surveys, version_definition

# st.session_state keys for selections that cross pages (the sidebar's global filters).
SELECTED_SURVEY = "selected_survey"
FILTER_VERSIONS = "filter_versions"
FILTER_DATES = "filter_dates"
FILTER_CHANNELS = "filter_channels"
FILTER_SEGMENT = "filter_segment_{}"
SIDEBAR_SEGMENTS = ("region", "tier", "industry")
ACTOR = "actor"  # the signed-in Actor, set by the sign-in page (or from the SSO identity) in app.py
MIN_N_DEFAULT = 30  # a page's minimum n before the floor (see app_pages.figures.page_min_n)


@st.cache_resource(show_spinner="Preparing the database (first start adds demo data)...")
def engine_for(url: str) -> Engine:
    """The engine for `url`, migrated and (on a first start) with demo data; one per URL and process.
    Cached loaders take the URL and call this, so their cache keys name the database."""
    found = db.make_engine(url)
    prepare_database(found)
    return found


def engine() -> Engine:
    """The app's engine for the configured URL, migrated, with demo data on a first start; one per process."""
    return engine_for(db.database_url())


# Cached loaders take the database URL so that a value is never served from another database,
# and those returning people's rows take the Actor, so that a value is never served to another user.


def current_actor() -> Actor | None:
    """The signed-in user of this session, or None."""
    return st.session_state.get(ACTOR)


def page_actor(action: str) -> Actor:
    """The signed-in user when their role allows `action`; otherwise the page says why and stops.

    Every page calls this first, so a page reached by URL refuses as firmly as a hidden one.
    """
    try:
        return access.require(current_actor(), action)
    except access.AccessDenied as refusal:
        st.error(str(refusal))
        st.stop()
        raise  # st.stop() raises; this line is for readers and type checkers


@st.cache_data(ttl=60)
def _surveys(url: str) -> list[SurveySummary]:
    with db.session_scope(engine_for(url)) as session:
        return list_surveys(session)


def surveys() -> list[SurveySummary]:
    """Every survey with its version and response counts (not user-scoped)."""
    return _surveys(db.database_url())


def forget_surveys() -> None:
    """Drop the cached survey list and definitions (after publishing, opening or closing a survey)."""
    _surveys.clear()
    _latest_definition.clear()


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
    with db.session_scope(engine_for(url)) as session:
        return version_definition(latest_version(session, survey_slug))


def latest_definition(survey_slug: str):
    """The Survey definition of the newest version of `survey_slug`."""
    return _latest_definition(db.database_url(), survey_slug)


@st.cache_data(ttl=60)
def _filter_choices(url: str, survey_slug: str) -> dict:
    with engine_for(url).connect() as connection:
        return queries.filter_choices(connection, survey_slug, SIDEBAR_SEGMENTS)


def survey_span(survey_slug: str):
    """(first day, last day) of the survey's responses, or None without responses."""
    choices = _filter_choices(db.database_url(), survey_slug)
    return (choices["first_day"], choices["last_day"]) if choices["first_day"] and choices["last_day"] else None


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
        if FILTER_DATES not in st.session_state or not all(first <= d <= last for d in st.session_state[FILTER_DATES]):
            st.session_state[FILTER_DATES] = (first, last)  # the whole survey, or after switching surveys
        dates = sidebar.date_input("Dates", min_value=first, max_value=last, key=FILTER_DATES)
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


@st.cache_data(ttl=60, show_spinner=False)
def _histogram(url: str, filters: Filters, question_key: str, period: str | None, by: tuple[str, ...]) -> pd.DataFrame:
    return queries.histogram(engine_for(url), filters, question_key, period, by)


def anonymous(survey_slug: str) -> bool:
    """Whether `survey_slug` is anonymous (then no group under 5 responses is shown)."""
    return any(s.anonymous for s in surveys() if s.slug == survey_slug)


def small_groups_hidden(frame: pd.DataFrame, filters: Filters, groups: list[str], count_column: str) -> pd.DataFrame:
    """For an anonymous survey, `frame` without groups under 5 responses (nor one that could be
    worked out from the total; see `survey.people.privacy.hidden_groups`); other surveys' frames unchanged.
    With a period and segments, the rule applies per period."""
    if not groups or not anonymous(filters.survey):
        return frame
    within = ["period"] if "period" in groups and len(groups) > 1 else []
    return privacy.without_small_groups(frame, groups, count_column, within)


def too_few_to_show(filters: Filters, rows: int) -> bool:
    """For an anonymous survey, whether `rows` (1-4) is too few to list; says so on the page."""
    if 0 < rows < privacy.ANONYMOUS_MIN_GROUP and anonymous(filters.survey):
        st.info(f"Fewer than {privacy.ANONYMOUS_MIN_GROUP} answers match these filters. This survey is anonymous, "
                "so groups this small are not shown: widen the filters.")
        return True
    return False


def histogram(filters: Filters, question_key: str, period: str | None = None, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """Score counts for the filtered responses, grouped by `by` and `period` (aggregate counts only;
    small groups of anonymous surveys hidden)."""
    frame = _histogram(db.database_url(), filters, question_key, period, tuple(by))
    return small_groups_hidden(frame, filters, [*by, *(["period"] if period else [])], "count")


@st.cache_data(ttl=60, show_spinner=False)
def _outside_scope(url: str, filters: Filters, question_key: str | tuple[str, ...], actor: Actor, period: str | None,
                   by: tuple[str, ...]) -> pd.DataFrame:
    return scope_counts.outside_scope(engine_for(url), filters, question_key, actor, period, by,
                                      people_below=settings.min_n_floor())


def outside_scope(filters: Filters, question_key: str | tuple[str, ...], actor: Actor, period: str | None = None,
                  by: tuple[str, ...] = ()) -> pd.DataFrame | None:
    """People outside `actor`'s scope behind each group of `histogram(filters, question_key, period, by)`
    (column `outside`); None for a viewer who sees every customer (nothing to count)."""
    if actor is None or actor.sees_every_customer:
        return None
    return _outside_scope(db.database_url(), filters, question_key, actor, period, tuple(by))


def outside_for(cells: pd.DataFrame, counts: pd.DataFrame | None, keys: list[str]) -> figures.Outside | None:
    """The people outside the viewer's scope behind each row of `cells` (`outside_scope`'s rows
    matched on `keys`; none where the counts have no row), for `figures.publish`."""
    if counts is None:
        return None
    if "people" not in counts.columns:
        counts = counts.assign(people=None)
    if not keys:
        counts = figures.combine_outside(counts.assign(whole=0), ["whole"]) if len(counts) else counts
        total = int(counts["outside"].sum()) if len(counts) else 0
        people = counts["people"].iloc[0] if len(counts) else frozenset()
        return figures.Outside(pd.Series(total, index=cells.index), [people] * len(cells))
    left = cells[keys].astype(str).reset_index(drop=True)
    right = counts.assign(**{key: counts[key].astype(str) for key in keys})
    merged = left.merge(right[[*keys, "outside", "people"]], on=keys, how="left")
    missing = merged["outside"].isna()
    people = [frozenset() if gone else found for gone, found in zip(missing, merged["people"])]
    return figures.Outside(pd.Series(merged["outside"].fillna(0).astype(int).to_numpy(), index=cells.index), people)


def histogram_total(filters: Filters, question_key: str) -> pd.DataFrame:
    """Score counts over the whole filtered period (columns `score`, `count`), summed from the monthly
    histogram: the Overview draws that one anyway, so one query (and one cache entry) serves both, and
    its plan starts from the responses in the date range instead of every answer to the question."""
    monthly = _histogram(db.database_url(), filters, question_key, "month", ())  # the total is not a group
    return (monthly.groupby("score", as_index=False)["count"].sum()
            .astype({"score": int, "count": int})[["score", "count"]])


def run_concurrently(loads, workers: int = 2) -> None:
    """Call the cached loaders `loads` (no-argument callables) on a small thread pool, so that the
    page's independent queries run side by side (SQLite in WAL mode serves parallel readers); the
    page then renders from the warm cache. Errors surface when the page calls the loader itself."""
    from concurrent.futures import ThreadPoolExecutor

    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

    context = get_script_run_ctx()

    def call(load):
        add_script_run_ctx(ctx=context)
        try:
            load()
        except Exception:  # noqa: BLE001 - raised again, in place, when the page calls it
            pass

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(call, loads))


# Row views (Comments, Responses): one page at a time from the database; exports streamed.


@st.cache_data(ttl=60)
def _survey_columns(url: str, survey_slug: str, versions: tuple[int, ...]) -> queries.SurveyColumns:
    return queries.survey_columns(engine_for(url), survey_slug, versions)


def survey_columns(filters: Filters) -> queries.SurveyColumns:
    """The answer keys, text keys and score question of the filtered survey versions."""
    return _survey_columns(db.database_url(), filters.survey, filters.versions)


@st.cache_data(ttl=60)
def _comment_count(url: str, actor: Actor, filters: Filters, band: tuple[float, float] | None,
                   words: tuple[str, ...]) -> int:
    return queries.count_comments(engine_for(url), actor, filters,
                                  _survey_columns(url, filters.survey, filters.versions), band, words)


def comment_count(actor: Actor, filters: Filters, band: tuple[float, float] | None = None,
                  words: tuple[str, ...] = ()) -> int:
    """How many free-text answers `actor` may read match the filters, the score band and every search word."""
    return _comment_count(db.database_url(), actor, filters, band, tuple(words))


@st.cache_data(ttl=60)
def _comment_response_count(url: str, actor: Actor, filters: Filters, band: tuple[float, float] | None,
                            words: tuple[str, ...]) -> int:
    return queries.count_comment_responses(engine_for(url), actor, filters,
                                           _survey_columns(url, filters.survey, filters.versions), band, words)


def comment_response_count(actor: Actor, filters: Filters, band: tuple[float, float] | None = None,
                           words: tuple[str, ...] = ()) -> int:
    """How many responses the matching free-text answers come from."""
    return _comment_response_count(db.database_url(), actor, filters, band, tuple(words))


@st.cache_data(ttl=60, max_entries=200)
def _comments(url: str, actor: Actor, filters: Filters, band: tuple[float, float] | None, words: tuple[str, ...],
              page_size: int, page: int) -> pd.DataFrame:
    return queries.comments(engine_for(url), actor, filters, _survey_columns(url, filters.survey, filters.versions),
                            band, words, limit=page_size, offset=(page - 1) * page_size)


def comments(actor: Actor, filters: Filters, band: tuple[float, float] | None = None, words: tuple[str, ...] = (),
             page_size: int = 50, page: int = 1) -> pd.DataFrame:
    """Page `page` (from 1) of the matching free-text answers `actor` may read, newest first."""
    return _comments(db.database_url(), actor, filters, band, tuple(words), page_size, page)


@st.cache_data(ttl=60)
def _response_count(url: str, actor: Actor, filters: Filters) -> int:
    return queries.count_responses(engine_for(url), actor, filters)


def response_count(actor: Actor, filters: Filters) -> int:
    """How many responses the filters select that `actor` may read."""
    return _response_count(db.database_url(), actor, filters)


@st.cache_data(ttl=60, max_entries=200)
def _responses_page(url: str, actor: Actor, filters: Filters, page_size: int, page: int) -> pd.DataFrame:
    keys = _survey_columns(url, filters.survey, filters.versions).answer_keys
    return queries.responses_page(engine_for(url), actor, filters, keys, limit=page_size,
                                  offset=(page - 1) * page_size)


def responses_page(actor: Actor, filters: Filters, page_size: int = 100, page: int = 1) -> pd.DataFrame:
    """Page `page` (from 1) of the filtered responses `actor` may read, one column per answer key."""
    return _responses_page(db.database_url(), actor, filters, page_size, page)


def csv_bytes(columns, rows) -> bytes:
    """A formula-safe CSV (see `survey.exports`) of `rows`, written to disk as they stream in."""
    import tempfile
    from pathlib import Path

    from survey.exports import write_csv

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        write_csv(path, columns, rows, private=True)
        return path.read_bytes()


def audited_export(actor: Actor, subject: str, columns, rows) -> bytes:
    """`csv_bytes` of `rows`, recorded in the audit log (who, what, how many rows) as it is made.

    For downloads of personal data; call it from the download button's data callable, so the event
    is written when someone actually downloads, not each time the page is drawn.
    """
    from survey.people import audit

    counted = [0]

    def counting(source):
        for row in source:
            counted[0] += 1
            yield row

    data = csv_bytes(columns, counting(rows))
    with db.session_scope(engine()) as session:
        audit.record(session, access.require(actor, access.EXPORT_PERSONAL), "export", subject, rows=counted[0])
    return data


def comments_csv(actor: Actor, filters: Filters, band: tuple[float, float] | None = None,
                 words: tuple[str, ...] = ()) -> bytes:
    """Every matching comment `actor` may read (not just the page shown) as a formula-safe CSV; audited."""
    url = db.database_url()
    columns = _survey_columns(url, filters.survey, filters.versions)
    return audited_export(actor, f"comments of survey {filters.survey}", queries.COMMENT_COLUMNS,
                          queries.iter_comments(engine_for(url), actor, filters, columns, band, tuple(words)))


def responses_csv(actor: Actor, filters: Filters) -> bytes:
    """Every filtered response `actor` may read, with its answers, as a formula-safe CSV; audited."""
    url = db.database_url()
    keys = _survey_columns(url, filters.survey, filters.versions).answer_keys
    return audited_export(actor, f"responses of survey {filters.survey}", [*queries.RESPONSE_COLUMNS, *keys],
                          queries.iter_responses(engine_for(url), actor, filters, keys))


# Segments, Drivers, Loyalty and value: aggregates counted in the database, keyed by URL + Filters.


@st.cache_data(ttl=60)
def _key_driver_moments(url: str, filters: Filters, outcome: str, drivers: tuple[str, ...]) -> dict:
    return queries.driver_moments(engine_for(url), filters, outcome, drivers)


def key_driver_moments(filters: Filters, outcome: str, drivers: tuple[str, ...]) -> dict:
    """n, sums and cross-products of the outcome and driver answers per response (one SQL query)."""
    return _key_driver_moments(db.database_url(), filters, outcome, tuple(drivers))


@st.cache_data(ttl=60)
def _value_nps_grid(url: str, filters: Filters, question_key: str, actor: Actor | None) -> pd.DataFrame:
    return queries.value_nps_grid(engine_for(url), filters, question_key, actor)


def value_nps_grid(filters: Filters, question_key: str, actor: Actor | None = None) -> pd.DataFrame:
    """Customers and their annual value per value band and NPS category of their latest answer, with
    the customers outside `actor`'s scope per cell (column `outside`)."""
    scoped = None if actor is None or actor.sees_every_customer else actor  # one cache entry for all managers
    return _value_nps_grid(db.database_url(), filters, question_key, scoped)


@st.cache_data(ttl=60, max_entries=100)
def _low_scoring_customers(url: str, actor: Actor, filters: Filters, question_key: str, max_score: float,
                           comment_keys: tuple[str, ...], min_value: float | None, tenure_before,
                           silent: bool, limit: int) -> pd.DataFrame:
    return queries.low_scoring_customers(engine_for(url), actor, filters, question_key, max_score, comment_keys,
                                         min_value=min_value, tenure_before=tenure_before, silent=silent,
                                         limit=limit)


def low_scoring_customers(actor: Actor, filters: Filters, question_key: str, max_score: float,
                          comment_keys: tuple[str, ...] = (), min_value: float | None = None, tenure_before=None,
                          silent: bool = False, limit: int = 500) -> pd.DataFrame:
    """Customers `actor` may see whose latest score is at most `max_score` (no contact details)."""
    return _low_scoring_customers(db.database_url(), actor, filters, question_key, max_score, tuple(comment_keys),
                                  min_value, tenure_before, silent, limit)


class SurveyPage(NamedTuple):
    """What a page of figures about the sidebar's survey starts from (see `survey_page`)."""

    actor: Actor
    filters: Filters
    summary: SurveySummary
    definition: Any  # the newest version's Survey
    min_n: int


def survey_page() -> SurveyPage | None:
    """Start a page of figures about the sidebar's survey (Overview, Trends): the viewer, who must be
    allowed to read aggregates, the filters, the survey's summary and newest definition, and the
    page's minimum n; None when no survey is published yet (the sidebar says so)."""
    actor = page_actor(access.READ_AGGREGATES)
    filters = global_filters()
    if filters is None:
        return None
    summary = next(s for s in surveys() if s.slug == filters.survey)
    return SurveyPage(actor, filters, summary, latest_definition(filters.survey), figures.page_min_n())


def customer_nps_page(title: str):
    """Start a page about known customers' NPS answers (Loyalty and value, Retention): the title, then
    (actor, filters, definition, NPS question), or None after saying why when the survey is anonymous
    or has no NPS question."""
    actor = page_actor(access.READ_AGGREGATES)
    filters = global_filters()
    st.title(title)
    if filters is None:
        return None
    definition = latest_definition(filters.survey)
    questions = definition.metric_questions("nps")
    if not questions or definition.anonymous:
        st.info(f"{title} needs an NPS question answered by known customers: this survey "
                + ("is anonymous." if definition.anonymous else "declares no NPS question."))
        return None
    return actor, filters, definition, questions[0]


def audited_table_csv(actor: Actor, frame: pd.DataFrame, subject: str) -> bytes:
    """A table of personal data (e.g. customers by name) as formula-safe CSV, recorded in the audit log."""
    return audited_export(actor, subject, list(frame.columns), frame.itertuples(index=False, name=None))


def table_csv(frame: pd.DataFrame) -> bytes:
    """A small table as formula-safe CSV bytes (`survey.exports.safe_cell` on every cell, header too)."""
    import csv
    import io

    from survey.exports import safe_cell

    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow([safe_cell(str(name)) for name in frame.columns])
    for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
        writer.writerow([safe_cell(cell.item() if hasattr(cell, "item") else cell) for cell in row])
    return stream.getvalue().encode("utf-8-sig")


# Overview and Trends: index moments, filtered response counts, response rate and follow-up counts.


@st.cache_data(ttl=60, show_spinner=False)
def _index_moments(url: str, filters: Filters, items: tuple[tuple[str, float, float], ...], period: str | None,
                   by: tuple[str, ...]) -> pd.DataFrame:
    return queries.index_moments(engine_for(url), filters, items, period, by)


def index_moments(filters: Filters, items: tuple[tuple[str, float, float], ...], period: str | None = None,
                  by: tuple[str, ...] = ()) -> pd.DataFrame:
    """n, sum and sum of squares of the 0-100 satisfaction index per group (counted in the database;
    small groups of anonymous surveys hidden)."""
    frame = _index_moments(db.database_url(), filters, tuple(items), period, tuple(by))
    return small_groups_hidden(frame, filters, [*by, *(["period"] if period else [])], "n")


@st.cache_data(ttl=60, show_spinner=False)
def _response_counts(url: str, filters: Filters, period: str) -> pd.DataFrame:
    return queries.response_counts(engine_for(url), filters, period)


def response_counts(filters: Filters, period: str = "month") -> pd.DataFrame:
    """Filtered responses per period and channel (counted in the database; small groups of anonymous
    surveys hidden)."""
    return small_groups_hidden(_response_counts(db.database_url(), filters, period), filters,
                               ["period", "channel"], "responses")


@st.cache_data(ttl=60, show_spinner=False)
def _response_rate(url: str, survey_slug: str) -> pd.DataFrame:
    return queries.response_rate(engine_for(url), survey_slug)


def response_rate(survey_slug: str) -> pd.DataFrame:
    """Invitations of the survey and the responses to them (one row: invited, responded, rate)."""
    return _response_rate(db.database_url(), survey_slug)


@st.cache_data(ttl=30, show_spinner=False)
def _follow_up_counts(url: str, survey_slug: str, actor: Actor | None) -> dict[str, int]:
    return queries.follow_up_counts(engine_for(url), survey_slug, actor=actor)


def follow_up_counts(survey_slug: str, actor: Actor | None = None) -> dict[str, int]:
    """Open and overdue follow-up cases of the survey that `actor` may see (cached for 30 s: overdue
    depends on the clock)."""
    return _follow_up_counts(db.database_url(), survey_slug, actor)


def pager(total: int, page_size: int, selection: object, name: str) -> int:
    """A page-number input over `total` rows, newest first; a new `selection` starts again at page 1
    (the widget key follows it). Shows what is on the page and returns the page number."""
    pages = max(1, math.ceil(total / page_size))
    digest = hashlib.sha1(repr(selection).encode()).hexdigest()[:12]
    page = st.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, step=1,
                           key=f"{name}_page_{digest}")
    first = (page - 1) * page_size
    st.caption(f"{total:,} {name} · showing {min(first + 1, total):,}-{min(first + page_size, total):,}, newest first")
    return page
