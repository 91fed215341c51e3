"""The Comments page: free-text answers with their score and segment, filtered in the database and
shown (and exported) as plain, formula-safe text."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from survey import demo
from survey.people import audit
from survey.storage import db, models
from survey.storage.filters import Filters
from tests.conftest import ROOT, actor_for, signed_in_page

MARKUP = "<script>alert(1)</script> **bold** [link](http://x) <b>x</b>"
FORMULA = '=HYPERLINK("http://x","click") was 100%_done'
SURVEY = "relationship-nps"
COMMENTS = f"""
    select count(*) from answers a join responses r on r.id = a.response_id join surveys s on s.id = r.survey_id
    left join answers score on score.response_id = r.id and score.question_key = 'recommend'
    left join customers c on c.id = r.customer_id
    where s.slug = '{SURVEY}' and a.question_key in ('comment', 'why_low') and a.text_value <> ''
"""


def _add_comment(session, version, key: str, score: int, comment: str, at: datetime) -> None:
    response = models.Response(idempotency_key=key, content_hash="h", survey_id=version.survey_id,
                               survey_version_id=version.id, channel="web", submitted_at=at)
    response.answers += [models.Answer(question_key="recommend", numeric_value=score),
                         models.Answer(question_key="comment", text_value=comment)]
    session.add(response)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('comments') / 'demo.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    demo.generate(engine, end=demo.DEMO_END, customers=300, responses=6000, seed=7, progress=False)
    with db.session_scope(engine) as session:  # the two newest comments: markup and a formula
        version = session.scalar(select(models.SurveyVersion).join(models.Survey).where(models.Survey.slug == SURVEY))
        _add_comment(session, version, "formula", 2, FORMULA, datetime(2026, 10, 31, 23, 58, tzinfo=timezone.utc))
        _add_comment(session, version, "markup", 3, MARKUP, datetime(2026, 10, 31, 23, 59, tzinfo=timezone.utc))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SURVEY_DATABASE_URL", url)
        patch.chdir(ROOT)
        yield engine
    engine.dispose()


@pytest.fixture
def app(database):
    page = signed_in_page("comments")
    page.run()
    assert not page.exception, page.exception
    return page


def count(engine, where: str = "", **parameters) -> int:
    with engine.connect() as connection:
        return connection.execute(text(COMMENTS + where), parameters).scalar_one()


def shown_total(app) -> int:
    caption = next(c.value for c in app.caption if " comments · " in c.value)
    return int(caption.split(" comments")[0].replace(",", ""))


def test_the_page_counts_every_free_text_answer_of_the_survey(app, database):
    assert app.sidebar.selectbox[0].value == SURVEY
    assert shown_total(app) == count(database) > 1000
    table = app.dataframe[0].value
    assert len(table) == 50
    # questions by their words, never their keys (comment, why_low)
    assert set(table["question"]) <= {"Anything else you would like to tell us?", "What is the main thing we should fix?"}
    assert list(table["submitted_at"]) == sorted(table["submitted_at"], reverse=True)  # newest first


def test_markup_in_a_comment_shows_literally_never_rendered(app):
    table = app.dataframe[0].value
    assert table["comment"].iloc[0] == MARKUP
    assert table["score"].iloc[0] == 3
    rendered = [element.value for element in [*app.markdown, *app.caption, *app.get("html")]]
    assert not any("alert(1)" in str(value) for value in rendered)  # only the table shows it, as text


def test_search_words_must_all_appear_whatever_their_case(app, database):
    app.text_input(key="comments_search").set_value("SUPPORT  quick").run()
    expected = count(database, " and lower(a.text_value) like '%support%' and lower(a.text_value) like '%quick%'")
    assert 0 < shown_total(app) == expected < count(database, " and lower(a.text_value) like '%support%'")
    for comment in app.dataframe[0].value["comment"]:
        assert "support" in comment.lower() and "quick" in comment.lower()


def test_percent_and_underscore_in_search_words_are_literal(app, database):
    app.text_input(key="comments_search").set_value("100%_done").run()
    assert shown_total(app) == 1
    assert app.dataframe[0].value["comment"].tolist() == [FORMULA]
    app.text_input(key="comments_search").set_value("_").run()
    assert shown_total(app) == count(database, " and instr(a.text_value, '_') > 0") == 1


def test_score_band_keeps_only_detractors(app, database):
    assert app.selectbox(key="comments_band").options == [
        "All scores", "Detractors (0-6)", "Passives (7-8)", "Promoters (9-10)"]
    app.selectbox(key="comments_band").set_value("Detractors (0-6)").run()
    assert shown_total(app) == count(database, " and score.numeric_value <= 6")
    assert app.dataframe[0].value["score"].max() <= 6
    app.selectbox(key="comments_band").set_value("Promoters (9-10)").run()
    assert shown_total(app) == count(database, " and score.numeric_value >= 9") > 0
    assert app.dataframe[0].value["score"].min() >= 9


def test_csat_surveys_band_scores_low_mid_high(app):
    app.sidebar.selectbox[0].set_value("post-support").run()
    assert not app.exception, app.exception
    assert app.selectbox(key="comments_band").options == ["All scores", "Low (1-2)", "Mid (3)", "High (4-5)"]
    app.selectbox(key="comments_band").set_value("Low (1-2)").run()
    assert set(app.dataframe[0].value["score"]) <= {1, 2}
    app.sidebar.selectbox[0].set_value(SURVEY).run()


def test_sidebar_segment_filter_restricts_the_comments(app, database):
    app.multiselect(key="filter_segment_region").set_value(["North"]).run()
    assert shown_total(app) == count(database, " and c.region = 'North'")
    assert set(app.dataframe[0].value["region"]) == {"North"}
    app.multiselect(key="filter_segment_region").set_value([]).run()


def test_pages_step_through_the_comments_newest_first(app, database):
    total = count(database)
    first = app.dataframe[0].value
    app.number_input[0].set_value(2).run()
    second = app.dataframe[0].value
    pairs = lambda table: set(zip(table["response_id"], table["question"]))  # noqa: E731
    assert len(second) == 50 and not pairs(second) & pairs(first)
    assert first["submitted_at"].min() >= second["submitted_at"].max()
    last = -(-total // 50)
    assert app.number_input[0].max == last
    app.number_input[0].set_value(last).run()
    assert len(app.dataframe[0].value) == total - 50 * (last - 1)


def test_download_holds_every_match_and_is_formula_safe(app, database):
    from app_pages import common

    assert app.get("download_button")[0].label == "Download all matching comments (CSV)"
    admin = actor_for(str(database.url))
    rows = list(csv.DictReader(io.StringIO(common.comments_csv(admin, Filters(SURVEY), (0, 6)).decode("utf-8-sig"))))
    assert len(rows) == count(database, " and score.numeric_value <= 6")
    logged = audit.events(database, admin, limit=1).iloc[0]  # the export is in the audit log
    assert (logged["actor"], logged["action"], logged["rows"]) == (admin.email, "export", len(rows))
    assert rows[0]["comment"] == MARKUP and rows[1]["comment"] == "'" + FORMULA  # newest first, no formula
    assert list(rows[0]) == ["response_id", "submitted_at", "question", "comment", "score", "region", "tier", "channel"]
