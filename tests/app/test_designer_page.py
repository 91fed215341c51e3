"""The Designer page, driven with AppTest on a SQLite file: template -> question -> publish -> answer ->
counted; an edit after responses publishes version 2 and leaves version 1's responses as they were."""

from __future__ import annotations

import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from survey.storage import db, models
from survey.definitions.definition import dumps_yaml, load_yaml
from survey.definitions.publishing import publish
from survey.definitions.xlsform_export import xlsform_bytes
from tests.conftest import ROOT, SAMPLE_SURVEYS, actor_for, signed_in_page


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A migrated SQLite file with one published survey (so the app adds no demo data), two customers
    who consent to contact (North, South) and an admin, a manager and a field manager."""
    from survey.people import accounts
    from survey.people.access import Actor

    url = f"sqlite:///{tmp_path / 'designer.db'}"
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    st.cache_data.clear()
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        publish(session, load_yaml(SAMPLE_SURVEYS / "post_support.yaml"))
        session.add_all([models.Customer(external_ref="C-1", name="Ann", email="ann@example.com", region="North",
                                         consent_to_contact=True),
                         models.Customer(external_ref="C-2", name="Bo", email="bo@example.com", region="South",
                                         consent_to_contact=True)])
    command_line = Actor(user_id=None, email="command line", role="admin")
    for email, role in (("admin@example.com", "admin"), ("manager@example.com", "manager"),
                        ("fm@example.com", "field_manager")):
        accounts.add_user(engine, command_line, email, role, region="North" if role == "field_manager" else None)
    yield url, engine
    engine.dispose()


def designer(url: str, role: str = "admin") -> AppTest:
    app = signed_in_page("designer", actor_for(url, role), url)
    app.run()
    assert not app.exception, app.exception
    return app


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, app.exception
    return app


def click(app: AppTest, key: str) -> AppTest:
    app.button(key=key).click()
    return run(app)


def widget(app: AppTest, kind: str, name: str):
    """The widget of the current draft revision named `name` (keys are `designer.<revision>.<name>`)."""
    matches = [w for w in getattr(app, kind) if w.key and w.key.startswith("designer.") and w.key.endswith("." + name)]
    assert matches, f"no {kind} {name!r}"
    return matches[-1]


def texts(app: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "text", "error", "warning", "success", "info", "caption")
             for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def count(engine, table, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def answer_form(token: str, answers: dict) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.query_params["t"] = token
    run(app)
    for key, value in answers.items():
        app.radio(key=f"respond.q.{key}").set_value(value)
    run(app)
    app.button(key="respond.submit").click()
    return run(app)


def test_template_question_publish_answer_count_then_version_2_keeps_version_1(database):
    url, engine = database
    app = designer(url)
    app.selectbox(key="designer.template").set_value("post_interaction")
    click(app, "designer.use_template")
    assert "Started from the template" in texts(app)

    # add a question
    widget(app, "selectbox", "add_kind").set_value("csat")
    widget(app, "text_input", "add_key").set_value("speed")
    widget(app, "text_input", "add_text").set_value("How satisfied are you with our speed?")
    click(app, "designer.add")
    assert "4. speed" in texts(app)
    assert "fr" in texts(app)  # the new question's French text is listed as missing
    # a draft with a missing translation cannot be published: the error names the question and language
    assert any("'speed'" in e.value and "'fr'" in e.value for e in app.error)
    assert app.button(key="designer.publish").disabled

    # translate it side by side, then publish version 1
    app.selectbox(key="designer.translate_to").set_value("fr")
    run(app)
    french = {"speed: text [fr]": "Êtes-vous satisfait de notre rapidité ?",
              "speed: low end label [fr]": "Très insatisfait", "speed: high end label [fr]": "Très satisfait"}
    for field in app.text_input:
        if field.label in french:
            field.set_value(french.pop(field.label))
    assert french == {}
    app.button[[b.label for b in app.button].index("Save translations")].click()
    run(app)
    assert not app.button(key="designer.publish").disabled
    click(app, "designer.publish")
    assert "Published post-interaction as version 1." in texts(app)
    with engine.connect() as connection:
        events = connection.execute(select(models.AuditEvent.actor, models.AuditEvent.action,
                                           models.AuditEvent.subject)).all()
    assert ("admin@example.com", "survey.publish", "survey post-interaction version 1") in events

    # invitations for the North region, by personal link
    app.multiselect(key="designer.inv_region").set_value(["North"])
    app.selectbox(key="designer.inv_channel").set_value("link")
    click(app, "designer.invite")
    assert "1 invitation(s) created" in texts(app)
    with engine.connect() as connection:
        token = connection.execute(select(models.Invitation.token).join(models.Survey)
                                   .where(models.Survey.slug == "post-interaction")).scalar_one()

    # answer through the respondent form; the response is counted on the designer page
    form = answer_form(token, {"csat": 4, "effort": 6, "speed": 2})
    assert [s.value for s in form.success] == ["Thank you for your feedback."]
    assert count(engine, models.Response.__table__) == 1
    st.cache_data.clear()
    app = run(app)
    assert "Published: version 1, 1 response, open." in texts(app)

    # reword a question: the change is shown with what it means for trends, publishing needs a confirmation
    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".edit.csat")))
    widget(app, "text_area", "text.csat.en").set_value("How satisfied are you with the answer you got?")
    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".save.csat")))
    shown = texts(app)
    assert "question 'csat' reworded [en]" in shown
    assert "read its trend across the version change with care" in shown
    assert app.button(key="designer.publish").disabled
    widget(app, "checkbox", "confirm").check()
    run(app)
    click(app, "designer.publish")
    assert "Published post-interaction as version 2." in texts(app)

    with engine.connect() as connection:
        versions = dict(connection.execute(select(models.SurveyVersion.number, models.SurveyVersion.id)
                                           .join(models.Survey).where(models.Survey.slug == "post-interaction")).all())
        response_version = connection.execute(select(models.Response.survey_version_id)).scalar_one()
        stored = {row.question_key: row for row in connection.execute(select(models.Answer.__table__))}
        first = connection.execute(select(models.SurveyVersion.definition).where(
            models.SurveyVersion.id == versions[1])).scalar_one()
    assert set(versions) == {1, 2}
    assert response_version == versions[1]  # the earlier response still points to version 1
    assert first["questions"][0]["text"]["en"] == "How satisfied are you with the help you received?"
    assert set(stored) >= {"csat", "effort", "speed"}


@pytest.mark.parametrize("role", ["manager", "field_manager"])
def test_only_admins_may_open_the_designer(database, role):
    url, _ = database
    app = designer(url, role)
    assert any("does not allow" in e.value for e in app.error)
    assert not app.title and not app.button


def test_bad_uploads_show_every_problem_and_change_nothing(database):
    url, engine = database
    app = designer(url)
    app.selectbox(key="designer.template").set_value("satisfaction_index")
    click(app, "designer.use_template")
    bad_yaml = (b"slug: broken\ntitle: Broken\nquestions:\n"
                b"  - {key: mood, kind: smiley, text: How are you}\n"
                b"  - {key: mood, kind: csat, text: Again}\n")
    app.file_uploader(key="designer.upload").set_value(("broken.yaml", bad_yaml, "application/yaml"))
    run(app)
    errors = [e.value for e in app.error]
    assert any("question 'mood' (line 4)" in e and "unknown kind 'smiley'" in e for e in errors)
    assert any("duplicate key 'mood'" in e for e in errors)
    assert app.session_state["designer.draft"].slug == "satisfaction-index"  # the draft is unchanged

    from openpyxl import Workbook
    import io

    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label"])
    sheet.append(["integer", "score", "Score?"])
    sheet.append(["txet", "why", "Why?"])
    stream = io.BytesIO()
    book.save(stream)
    app.file_uploader(key="designer.upload").set_value(("form.xlsx", stream.getvalue(), "application/octet-stream"))
    run(app)
    errors = [e.value for e in app.error]
    assert any("form.xlsx: pyxform rejects the form: Unknown question type 'txet'." in e for e in errors)
    assert app.session_state["designer.draft"].slug == "satisfaction-index"
    assert count(engine, models.Survey.__table__) == 1  # nothing was published


def test_upload_of_a_good_file_becomes_the_draft_and_downloads_round_trip(database):
    url, _ = database
    survey = load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml")
    app = designer(url)
    app.file_uploader(key="designer.upload").set_value(("relationship.xlsx", xlsform_bytes(survey), "x"))
    run(app)
    assert "Loaded relationship.xlsx." in texts(app)
    assert app.session_state["designer.draft"] == survey
    yaml_download = app.download_button(key="designer.download_yaml")
    assert yaml_download.proto.label == "Download YAML"
    assert app.session_state["designer.draft"] == load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml")
    assert dumps_yaml(app.session_state["designer.draft"]) == dumps_yaml(survey)


def test_preview_renders_with_the_respondent_renderer_in_each_language_apart_from_the_form(database):
    url, _ = database
    app = designer(url)
    app.selectbox(key="designer.template").set_value("relationship_nps")
    click(app, "designer.use_template")
    nps = app.radio(key="designer.preview.q.recommend")
    assert nps.label == "How likely are you to recommend us to a friend or colleague? (required)"
    assert nps.options == [str(p) for p in range(11)]
    assert not [k for k in app.session_state.keys() if str(k).startswith("respond.")]
    app.selectbox(key="designer.preview_language").set_value("fr")
    run(app)
    assert app.radio(key="designer.preview.q.recommend").label.startswith("Quelle est la probabilité")
    assert "0 = Pas du tout probable · 10 = Très probable" in [c.value for c in app.caption]


def test_display_condition_is_picked_from_earlier_questions_and_open_link_is_shown(database):
    url, engine = database
    app = designer(url)
    app.selectbox(key="designer.template").set_value("post_interaction")
    click(app, "designer.use_template")
    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".edit.comment")))
    target = widget(app, "selectbox", "cond_q.comment")
    assert target.options[0] == "(always shown)" and {o.split(":")[0] for o in target.options[1:]} == {"csat", "effort"}
    target.set_value("csat")
    run(app)
    widget(app, "selectbox", "cond_op.comment.csat").set_value("<=")
    widget(app, "selectbox", "cond_v.comment.csat").set_value(2)
    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".save.comment")))
    assert str(app.session_state["designer.draft"].question("comment").show_if) == "csat <= 2"

    # make it anonymous, publish: the open link is shown to copy, and the survey can be closed
    widget(app, "checkbox", "anonymous").check()
    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".apply_settings")))
    click(app, "designer.publish")
    assert [c.value for c in app.code] == ["http://localhost:8501/?s=post-interaction"]
    click(app, "designer.status")
    with engine.connect() as connection:
        status = connection.execute(select(models.Survey.status).where(models.Survey.slug == "post-interaction")).scalar_one()
    assert status == "closed"


def test_set_status_opens_and_closes_and_refuses_other_states(engine):
    from survey.definitions.publishing import response_count, set_status

    with db.session_scope(engine) as session:
        publish(session, load_yaml(SAMPLE_SURVEYS / "post_support.yaml"))
        assert set_status(session, "post-support", "closed").status == "closed"
        assert response_count(session, "post-support") == 0
        with pytest.raises(ValueError, match="not one of open, closed"):
            set_status(session, "post-support", "paused")
        with pytest.raises(LookupError, match="no survey with slug 'nope'"):
            set_status(session, "nope", "open")
    with engine.connect() as connection:
        assert connection.execute(select(models.Survey.status)).scalar_one() == "closed"


def test_wording_warnings_show_beside_the_question_which_can_be_moved_and_deleted(database):
    url, _ = database
    app = designer(url)
    app.selectbox(key="designer.template").set_value("satisfaction_index")
    click(app, "designer.use_template")
    widget(app, "selectbox", "add_kind").set_value("csat")
    widget(app, "text_input", "add_key").set_value("prices")
    widget(app, "text_input", "add_text").set_value("Don't you agree our prices and delivery are great?")
    click(app, "designer.add")
    warnings = [w.value for w in app.warning]
    assert any("leading wording" in w for w in warnings)
    assert any("'and' in a rated question" in w for w in warnings)
    assert not any("leading wording" in w for w in warnings if "satisfied" in w)

    def order():
        return [q.key for q in app.session_state["designer.draft"].questions]

    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".up.prices")))
    assert order() == ["satisfaction", "expectations", "prices", "ideal"]
    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".delete.prices")))
    assert order() == ["satisfaction", "expectations", "ideal"]
    assert not any("leading wording" in w.value for w in app.warning)


def test_renaming_a_question_to_a_taken_or_bad_key_is_refused_and_changes_nothing(database):
    url, _ = database
    app = designer(url)
    app.selectbox(key="designer.template").set_value("post_interaction")
    click(app, "designer.use_template")
    before = app.session_state["designer.draft"]
    for bad, message in (("csat", "Key: there is already a question csat"), ("2fast", "must start with a letter"),
                         ("", "Key: give the question a key")):
        click(app, next(b.key for b in app.button if b.key and b.key.endswith(".edit.comment")))
        widget(app, "text_input", "key.comment").set_value(bad)
        click(app, next(b.key for b in app.button if b.key and b.key.endswith(".save.comment")))
        assert not app.exception and message in texts(app)
        assert app.session_state["designer.draft"] == before


def test_a_typed_expression_is_the_display_condition_and_a_bad_one_names_its_position(database):
    url, _ = database
    app = designer(url)
    app.selectbox(key="designer.template").set_value("post_interaction")
    click(app, "designer.use_template")
    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".edit.comment")))
    widget(app, "radio", "cond_mode.comment").set_value("type an expression")
    run(app)
    widget(app, "text_input", "cond_text.comment").set_value("${csat} <= 2 and (${effort} > 5")
    run(app)
    assert any("expected ')' but found the end at position 32" in e.value for e in app.error)
    widget(app, "text_input", "cond_text.comment").set_value("${csat} <= 2 or not(${effort} < 5)")
    run(app)
    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".save.comment")))
    condition = app.session_state["designer.draft"].question("comment").show_if
    assert str(condition) == "${csat} <= 2 or not(${effort} < 5)"
    # a complex condition opens in the expression box, not in the pick-lists that cannot hold it
    click(app, next(b.key for b in app.button if b.key and b.key.endswith(".edit.comment")))
    assert widget(app, "radio", "cond_mode.comment").value == "type an expression"
    assert widget(app, "text_input", "cond_text.comment").value == "${csat} <= 2 or not(${effort} < 5)"


def test_upload_shows_each_proposed_metric_with_a_box_and_declares_only_the_ticked(database):
    url, _ = database
    from openpyxl import Workbook
    import io

    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label", "parameters"])
    sheet.append(["range", "rec", "How likely are you to recommend us?", "start=0 end=10"])
    sheet.append(["select_one five", "sat", "How satisfied are you?"])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    for number in range(1, 6):
        choices.append(["five", number, f"{number} stars"])
    stream = io.BytesIO()
    book.save(stream)
    app = designer(url)
    app.file_uploader(key="designer.upload").set_value(("visit.xlsx", stream.getvalue(), "x"))
    run(app)
    assert [q.kind for q in app.session_state["designer.draft"].questions] == ["rating", "rating"]
    boxes = [c for c in app.checkbox if c.key and c.key.startswith("designer.proposal.")]
    assert [c.key for c in boxes] == ["designer.proposal.rec", "designer.proposal.sat"]
    assert "put 'nps' in the metric column of this row" in boxes[0].label
    app.checkbox(key="designer.proposal.rec").check()
    run(app)
    click(app, "designer.accept_proposals")
    assert [q.kind for q in app.session_state["designer.draft"].questions] == ["nps", "rating"]
    assert "Declared 1 proposed metric(s): rec." in texts(app)
    assert not [c for c in app.checkbox if c.key and c.key.startswith("designer.proposal.")]
