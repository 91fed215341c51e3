"""The Responses page: one row per filtered response with every answer, paginated, downloadable
whole as a formula-safe CSV, and without contact details."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from survey import demo
from survey.storage import db, models, queries
from survey.storage.filters import Filters
from app_pages import labels
from tests.conftest import ROOT, actor_for, signed_in_page

SURVEY = "relationship-nps"
FORMULA = '=HYPERLINK("http://x","click")'
RESPONSES = f"""
    select count(*) from responses r join surveys s on s.id = r.survey_id left join customers c on c.id = r.customer_id
    where s.slug = '{SURVEY}'
"""
ANSWER_KEYS = ["recommend", "satisfaction", "expectations", "ideal", "drivers.product_quality", "drivers.delivery",
               "drivers.support", "drivers.billing", "drivers.value_for_money", "why_low", "comment"]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('responses') / 'demo.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    demo.generate(engine, end=demo.DEMO_END, customers=300, responses=6000, seed=7, progress=False)
    with db.session_scope(engine) as session:  # the newest response carries a formula in its comment
        version = session.scalar(select(models.SurveyVersion).join(models.Survey).where(models.Survey.slug == SURVEY))
        customer = session.scalar(select(models.Customer).order_by(models.Customer.id).limit(1))
        response = models.Response(idempotency_key="formula", content_hash="h", survey_id=version.survey_id,
                                   survey_version_id=version.id, channel="kiosk", customer_id=customer.id,
                                   submitted_at=datetime(2026, 10, 31, 23, 59, tzinfo=timezone.utc))
        response.answers += [models.Answer(question_key="recommend", numeric_value=4),
                             models.Answer(question_key="comment", text_value=FORMULA)]
        session.add(response)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SURVEY_DATABASE_URL", url)
        patch.chdir(ROOT)
        yield engine
    engine.dispose()


@pytest.fixture
def app(database):
    page = signed_in_page("responses")
    page.run()
    assert not page.exception, page.exception
    return page


def count(engine, where: str = "") -> int:
    with engine.connect() as connection:
        return connection.execute(text(RESPONSES + where)).scalar_one()


def shown_total(app) -> int:
    caption = next(c.value for c in app.caption if " responses · " in c.value)
    return int(caption.split(" responses")[0].replace(",", ""))


def test_one_row_per_response_with_a_column_per_answer_key_and_no_contact_details(app, database):
    assert shown_total(app) == count(database) > 4000
    table = app.dataframe[0].value
    assert len(table) == 100 and table["id"].is_unique
    assert list(table.columns) == ["id", "submitted_at", "version", "channel", "language", "customer_ref",
                                   "region", "tier", *ANSWER_KEYS]
    assert not {"name", "email", "phone", "customer_id"} & set(table.columns)


def test_answers_in_a_row_are_the_stored_answers_of_that_response(app, database):
    table = app.dataframe[0].value
    newest = table.iloc[0]
    assert newest["comment"] == FORMULA and newest["recommend"] in (4, "4") and newest["channel"] == "kiosk"
    row = table.iloc[7]
    with database.connect() as connection:
        stored = dict(connection.execute(text(
            "select question_key, coalesce(numeric_value, text_value) from answers where response_id = :id"),
            {"id": int(row["id"])}).all())
        reference = connection.execute(text(
            "select c.external_ref from responses r join customers c on c.id = r.customer_id where r.id = :id"),
            {"id": int(row["id"])}).scalar_one()
    # as shown: whole scores without decimals, a dash for a question not answered
    assert ({key: labels.cell(row[key], key, 0) for key in stored}
            == {key: labels.cell(value, key, 0) for key, value in stored.items()})
    assert all(row[key] == labels.MISSING for key in set(ANSWER_KEYS) - set(stored))
    assert row["customer_ref"] == reference


def test_pages_step_through_every_response(app, database):
    total = count(database)
    last = -(-total // 100)
    assert app.number_input[0].max == last
    first_ids = set(app.dataframe[0].value["id"])
    app.number_input[0].set_value(2).run()
    assert not first_ids & set(app.dataframe[0].value["id"])
    app.number_input[0].set_value(last).run()
    assert len(app.dataframe[0].value) == total - 100 * (last - 1)


def test_sidebar_filters_restrict_the_rows(app, database):
    app.multiselect(key="filter_channels").set_value(["phone"]).run()
    app.multiselect(key="filter_segment_tier").set_value(["Gold"]).run()
    assert shown_total(app) == count(database, " and r.channel = 'phone' and c.tier = 'Gold'") > 0
    table = app.dataframe[0].value
    assert set(table["channel"]) == {"phone"} and set(table["tier"]) == {"Gold"}


def test_the_other_survey_shows_its_own_questions(app, database):
    app.sidebar.selectbox[0].set_value("post-support").run()
    assert not app.exception
    assert list(app.dataframe[0].value.columns)[8:] == ["csat", "effort", "resolved", "comment"]


def test_download_holds_every_filtered_response_formula_safe(app, database):
    from app_pages import common

    assert app.get("download_button")[0].label == f"Download all {count(database):,} responses (CSV)"
    admin = actor_for(str(database.url))
    content = common.responses_csv(admin, Filters(SURVEY)).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == count(database)
    assert len({row["id"] for row in rows}) == len(rows)
    assert rows[0]["comment"] == "'" + FORMULA and rows[0]["recommend"] == "4"
    assert list(rows[0])[:8] == ["id", "submitted_at", "version", "channel", "language", "customer_ref", "region", "tier"]
    in_small_chunks = list(queries.iter_responses(database, admin, Filters(SURVEY), tuple(ANSWER_KEYS), chunk_size=700))
    assert [str(row[0]) for row in in_small_chunks] == [row["id"] for row in rows]
    north = common.responses_csv(admin, Filters(SURVEY, segments=(("region", ("North",)),))).decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(north)))) == count(database, " and c.region = 'North'")


def test_analysis_download_offers_spss_stata_excel_and_csv_and_holds_the_filtered_responses(app, database, tmp_path):
    import pyreadstat

    from app_pages import common
    from survey import response_export

    picker = next(box for box in app.selectbox if box.label == "Format for SPSS, Stata, Excel or R")
    assert list(picker.options) == ["SPSS (.sav)", "Stata (.dta)", "Excel (.xlsx)", "CSV with a column per option (.csv)"]
    assert app.get("download_button")[1].label == f"Download {count(database):,} responses as SPSS (.sav)"
    picker.set_value("dta").run()
    assert app.get("download_button")[1].label == f"Download {count(database):,} responses as Stata (.dta)"
    admin = actor_for(str(database.url))
    north = Filters(SURVEY, segments=(("region", ("North",)),))
    path = tmp_path / "north.sav"
    path.write_bytes(response_export.export_bytes(common.engine(), admin, north, "sav"))
    frame, meta = pyreadstat.read_sav(str(path))
    assert len(frame) == count(database, " and c.region = 'North'") and set(frame["region"]) == {"North"}
    assert meta.column_names_to_labels["recommend"] == "How likely are you to recommend us to a friend or colleague?"
