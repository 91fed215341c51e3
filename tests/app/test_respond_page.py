"""The respondent web form, driven through the whole app with AppTest on a SQLite file."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update
from streamlit.testing.v1 import AppTest

from survey.storage import db, models
from survey.definitions.definition import load_yaml, loads_yaml
from survey.definitions.publishing import publish
from tests.conftest import ROOT, SAMPLE_SURVEYS

RELATIONSHIP = load_yaml(SAMPLE_SURVEYS / "relationship_nps.yaml")
EVERY_KIND = loads_yaml("""
slug: every-kind
title: Every kind *of* question
anonymous: true
thank_you: Thanks for stopping by.
questions:
  - {key: recommend, kind: nps, text: "Would you recommend the shop?", required: true}
  - {key: csat, kind: csat, text: "How satisfied are you with your visit?"}
  - {key: effort, kind: ces, text: It was easy to find what I needed.}
  - key: stars
    kind: rating
    text: How do you rate the checkout?
    scale: {min: 1, max: 4, labels: [Poor, Great]}
  - {key: overall, kind: index_item, text: Overall satisfaction}
  - key: aspects
    kind: matrix
    text: Rate each aspect
    scale: {min: 1, max: 5, labels: [Bad, Good]}
    attributes:
      - {value: speed, label: Speed}
      - {value: price, label: Price}
  - key: reason
    kind: single_choice
    text: Why did you come?
    choices: [{value: buy, label: To buy}, {value: browse, label: To browse}]
  - key: liked
    kind: multi_choice
    text: What did you like?
    choices: [{value: staff, label: Staff}, {value: prices, label: Prices}]
  - {key: comment, kind: text, text: "Anything else?", max_length: 300}
""")


def widget_key(answer_key: str) -> str:
    """The page's widget key for an answer key (app_pages/respond.py, `widget_key`)."""
    return f"respond.q.{answer_key}"


SUBMIT = "respond.submit"
LANGUAGE = "respond.language"


class Form:
    """The prepared database, and visits to the app with query parameters."""

    def __init__(self, engine):
        self.engine = engine

    def visit(self, **params: str) -> AppTest:
        app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for name, value in params.items():
            app.query_params[name] = value
        app.run()
        assert not app.exception, app.exception
        return app

    def count(self, table) -> int:
        with self.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(table)).scalar_one()

    def invitation(self, token: str) -> models.Invitation:
        with db.session_scope(self.engine) as session:
            return session.scalar(select(models.Invitation).where(models.Invitation.token == token))


@pytest.fixture
def form(tmp_path, monkeypatch):
    """Published surveys (so the app adds no demo data) and invitations to the relationship survey:
    `tok-en` (no language), `tok-fr` (French), `tok-old` (expired)."""
    url = f"sqlite:///{tmp_path / 'respond.db'}"
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    monkeypatch.chdir(ROOT)
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        survey_id = publish(session, RELATIONSHIP).survey_id
        publish(session, EVERY_KIND)
        customer = models.Customer(external_ref="C-1", name="Ann Example")
        session.add(customer)
        session.flush()
        session.add_all([
            models.Invitation(token="tok-en", survey_id=survey_id, customer_id=customer.id),
            models.Invitation(token="tok-fr", survey_id=survey_id, customer_id=customer.id, language="fr"),
            models.Invitation(token="tok-old", survey_id=survey_id, customer_id=customer.id,
                              expires_at=datetime(2020, 1, 1, tzinfo=timezone.utc)),
        ])
    yield Form(engine)
    engine.dispose()


def sequence(app: AppTest) -> list[tuple[str, str]]:
    """The main area's elements in page order, as (type, key or text)."""
    found: list[tuple[str, str]] = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            found.append((type(child).__name__, getattr(child, "key", None) or str(getattr(child, "value", ""))))
            walk(child)

    walk(app.main)
    return found


def answer_relationship(app: AppTest, recommend: int = 9, satisfaction: int = 8) -> AppTest:
    app.radio(key=widget_key("recommend")).set_value(recommend)
    app.radio(key=widget_key("satisfaction")).set_value(satisfaction)
    return app.run()


# --- rendering -----------------------------------------------------------------------------------


def test_open_link_renders_every_question_kind_with_real_labels(form):
    app = form.visit(s="every-kind")
    nps = app.radio(key=widget_key("recommend"))
    assert nps.label == "Would you recommend the shop? (required)"
    assert nps.options == [str(point) for point in range(11)] and nps.value is None
    assert nps.proto.horizontal
    captions = [c.value for c in app.caption]
    assert "0 = Not at all likely · 10 = Extremely likely" in captions
    assert app.radio(key=widget_key("csat")).options == ["1", "2", "3", "4", "5"]
    assert "1 = Very dissatisfied · 5 = Very satisfied" in captions
    assert app.radio(key=widget_key("effort")).options == [str(p) for p in range(1, 8)]
    assert app.radio(key=widget_key("stars")).options == ["1", "2", "3", "4"]
    assert "1 = Poor · 4 = Great" in captions
    assert app.radio(key=widget_key("overall")).options == [str(p) for p in range(1, 11)]
    rows = [app.radio(key=widget_key(f"aspects.{a}")) for a in ("speed", "price")]
    assert [(row.label, row.options, row.proto.horizontal) for row in rows] == [
        ("Speed", ["1", "2", "3", "4", "5"], True), ("Price", ["1", "2", "3", "4", "5"], True)]
    assert app.radio(key=widget_key("reason")).options == ["To buy", "To browse"]
    assert app.multiselect(key=widget_key("liked")).options == ["Staff", "Prices"]
    comment = app.text_area(key=widget_key("comment"))
    assert (comment.label, comment.max_chars) == ("Anything else?", 300)
    assert "Up to 300 characters." in captions
    assert app.title[0].value == r"Every kind \*of\* question"  # survey wording is shown literally
    assert not app.selectbox  # one language: no language choice
    assert app.button(key=SUBMIT).label == "Submit"


def test_respondents_see_the_form_and_no_dashboard(form):
    app = form.visit(t="tok-en")
    assert not app.sidebar.selectbox  # the dashboard's survey picker
    assert not app.metric
    assert app.radio(key=widget_key("recommend"))


def test_why_low_appears_only_after_a_detractor_score(form):
    app = form.visit(t="tok-en")
    texts = lambda: [t.key for t in app.text_area]  # noqa: E731
    assert widget_key("why_low") not in texts()
    app.radio(key=widget_key("recommend")).set_value(9).run()
    assert widget_key("why_low") not in texts()
    app.radio(key=widget_key("recommend")).set_value(6).run()
    assert widget_key("why_low") in texts()
    assert app.text_area(key=widget_key("why_low")).label == "What is the main thing we should fix?"


def test_an_answer_hidden_and_shown_again_is_kept(form):
    app = form.visit(t="tok-en")
    app.radio(key=widget_key("recommend")).set_value(3).run()
    app.text_area(key=widget_key("why_low")).input("Late deliveries").run()
    app.radio(key=widget_key("recommend")).set_value(10).run()
    app.radio(key=widget_key("recommend")).set_value(2).run()
    assert app.text_area(key=widget_key("why_low")).value == "Late deliveries"


# --- validation and submission -------------------------------------------------------------------


def test_submit_without_required_answers_shows_messages_next_to_them_and_stores_nothing(form):
    app = form.visit(t="tok-en")
    app.radio(key=widget_key("satisfaction")).set_value(7).run()
    app.button(key=SUBMIT).click().run()
    order = sequence(app)
    after_nps = order[order.index(("Radio", widget_key("recommend"))) + 2]  # after the end-label caption
    assert after_nps == ("Error", "An answer is required.")
    assert ("Error", "An answer is required.") not in order[order.index(("Radio", widget_key("satisfaction"))):
                                                            order.index(("Radio", widget_key("expectations")))]
    assert len(app.error) == 2  # the question, and the note beside the button
    assert form.count(models.Response) == 0
    assert form.invitation("tok-en").responded_at is None


def test_messages_go_away_as_the_respondent_answers(form):
    app = form.visit(t="tok-en")
    app.button(key=SUBMIT).click().run()
    assert len(app.error) == 3
    app.radio(key=widget_key("recommend")).set_value(8).run()
    assert len(app.error) == 2
    app.radio(key=widget_key("satisfaction")).set_value(8).run()
    assert not app.error


def test_a_valid_submit_stores_one_response_and_shows_the_thank_you_text(form):
    app = answer_relationship(form.visit(t="tok-en"), recommend=4)
    app.radio(key=widget_key("drivers.delivery")).set_value(3)
    app.text_area(key=widget_key("why_low")).input("Late deliveries")
    app.run()
    app.button(key=SUBMIT).click().run()
    assert [s.value for s in app.success] == [
        "Thank you. If something went wrong, your account manager will call you back."]
    assert not app.radio and not app.button
    with db.session_scope(form.engine) as session:
        response = session.scalars(select(models.Response)).one()
        answers = {a.question_key: a.numeric_value or a.text_value for a in response.answers}
        assert answers == {"recommend": 4, "satisfaction": 8, "drivers.delivery": 3, "why_low": "Late deliveries"}
        assert (response.channel, response.language) == ("email", "en")
    assert form.invitation("tok-en").responded_at is not None
    assert form.count(models.ResponseDraft) == 0


def test_submitting_again_or_rerunning_stores_one_response(form):
    app = answer_relationship(form.visit(t="tok-en"))
    app.button(key=SUBMIT).click().run()
    app.run()  # a rerun
    app.session_state["respond.submit_requested"] = True  # a second click that arrives late
    app.run()
    assert form.count(models.Response) == 1
    assert [s.value for s in app.success] == [
        "Thank you. If something went wrong, your account manager will call you back."]


def test_a_retried_submission_of_the_same_visit_reuses_its_key(form):
    # An open link has no invitation to say "already answered": only the visit's key prevents a twin.
    app = form.visit(s="every-kind")
    app.radio(key=widget_key("recommend")).set_value(7).run()
    app.button(key=SUBMIT).click().run()
    del app.session_state["respond.result"]  # as if the first answer never reached the browser
    app.session_state["respond.submit_requested"] = True
    app.run()
    assert not app.exception
    assert form.count(models.Response) == 1
    assert [s.value for s in app.success] == ["Thanks for stopping by."]


def test_a_new_visit_after_submitting_says_already_answered_with_the_date(form):
    app = answer_relationship(form.visit(t="tok-en"))
    app.button(key=SUBMIT).click().run()
    again = form.visit(t="tok-en")  # refresh, back button, or the link opened later
    answered = form.invitation("tok-en").responded_at
    assert [s.value for s in again.success] == [
        f"You already answered this survey on {answered:%Y-%m-%d}. Thank you!"]
    assert not again.radio and not again.button
    assert form.count(models.Response) == 1


def test_open_link_stores_an_anonymous_response(form):
    app = form.visit(s="every-kind")
    app.radio(key=widget_key("recommend")).set_value(10)
    app.multiselect(key=widget_key("liked")).set_value(["staff", "prices"])
    app.radio(key=widget_key("aspects.price")).set_value(2)
    app.run()
    app.button(key=SUBMIT).click().run()
    assert [s.value for s in app.success] == ["Thanks for stopping by."]
    with db.session_scope(form.engine) as session:
        response = session.scalars(select(models.Response)).one()
        assert (response.customer_id, response.invitation_id, response.channel) == (None, None, "web")
        assert sorted((a.question_key, a.numeric_value or a.text_value) for a in response.answers) == [
            ("aspects.price", 2), ("liked", "prices"), ("liked", "staff"), ("recommend", 10)]
    assert form.count(models.ResponseDraft) == 0


def test_reloading_an_open_link_after_submitting_stores_nothing_more(form):
    """The visit's key lives in the address (`v=`): a reload is the same visit, not a new response;
    the next person on a shared device starts a new answer with one click."""
    app = form.visit(s="every-kind")
    visit = app.query_params["v"]
    app.radio(key=widget_key("recommend")).set_value(10)
    app.run()
    app.button(key=SUBMIT).click().run()
    reloaded = form.visit(s="every-kind", v=visit)  # a new session with the same address
    assert [s.value for s in reloaded.success] == ["Thanks for stopping by."]
    assert not reloaded.radio and form.count(models.Response) == 1
    reloaded.button[0].click().run()  # "Someone else answering on this device? Start a new answer"
    assert "v" not in reloaded.query_params or reloaded.query_params["v"] != visit
    reloaded.radio(key=widget_key("recommend")).set_value(3)
    reloaded.run()
    reloaded.button(key=SUBMIT).click().run()
    assert form.count(models.Response) == 2
    assert form.visit(s="every-kind", v="not-a-key").radio  # a mangled key just starts a new visit


# --- links ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, message", [
    ({"t": "no-such-token"}, "We could not find a survey for this link."),
    ({"s": "no-such-survey"}, "We could not find a survey for this link."),
    ({"t": "tok-old"}, "This survey link expired on 2020-01-01."),
    ({"s": "relationship-nps"}, "This survey can only be answered from your personal invitation link."),
])
def test_links_that_cannot_answer_get_a_friendly_message(form, params, message):
    app = form.visit(**params)
    assert len(app.info) == 1 and app.info[0].value.startswith(message)
    assert not app.radio and not app.button and not app.error


def test_closed_survey_says_so(form):
    with db.session_scope(form.engine) as session:
        session.execute(update(models.Survey).values(status="closed"))
    for params in ({"t": "tok-en"}, {"s": "every-kind"}):
        app = form.visit(**params)
        assert [i.value for i in app.info] == [
            "This survey is closed and no longer accepts answers. Thank you for your interest."]


# --- drafts and languages ------------------------------------------------------------------------


def test_leaving_half_way_and_coming_back_restores_the_answers(form):
    first = form.visit(t="tok-en")
    first.radio(key=widget_key("recommend")).set_value(3).run()
    first.text_area(key=widget_key("why_low")).input("Late deliveries").run()
    first.radio(key=widget_key("drivers.support")).set_value(7).run()
    first.selectbox(key=LANGUAGE).set_value("fr").run()
    assert form.count(models.Response) == 0

    later = form.visit(t="tok-en")  # a new browser session
    assert later.radio(key=widget_key("recommend")).value == 3
    assert later.text_area(key=widget_key("why_low")).value == "Late deliveries"
    assert later.radio(key=widget_key("drivers.support")).value == 7
    assert later.radio(key=widget_key("satisfaction")).value is None
    assert later.selectbox(key=LANGUAGE).value == "fr"
    later.radio(key=widget_key("satisfaction")).set_value(5).run()
    later.button(key=SUBMIT).click().run()
    assert later.success[0].value.startswith("Merci.")
    assert form.count(models.Response) == 1 and form.count(models.ResponseDraft) == 0


def test_switching_language_shows_french_texts_and_keeps_answers(form):
    app = form.visit(t="tok-en")
    assert app.selectbox(key=LANGUAGE).value == "en"
    app.radio(key=widget_key("recommend")).set_value(5).run()
    app.selectbox(key=LANGUAGE).set_value("fr").run()
    assert app.title[0].value == "Comment nous trouvez-vous ?"
    nps = app.radio(key=widget_key("recommend"))
    assert nps.label == ("Quelle est la probabilité que vous nous recommandiez à un ami ou un collègue ? "
                         "(obligatoire)")
    assert nps.value == 5
    assert "0 = Pas du tout probable · 10 = Très probable" in [c.value for c in app.caption]
    assert app.radio(key=widget_key("drivers.delivery")).label == "Livraison à l'heure"
    assert app.button(key=SUBMIT).label == "Envoyer"
    app.button(key=SUBMIT).click().run()
    assert app.error[0].value == "Une réponse est obligatoire."


def test_the_invitations_language_is_the_default(form):
    app = form.visit(t="tok-fr")
    assert app.selectbox(key=LANGUAGE).value == "fr"
    assert app.title[0].value == "Comment nous trouvez-vous ?"


def test_the_already_answered_message_speaks_the_invitations_language(form):
    app = answer_relationship(form.visit(t="tok-fr"))
    app.button(key=SUBMIT).click().run()
    assert app.success[0].value.startswith("Merci.")
    again = form.visit(t="tok-fr")
    assert again.success[0].value.startswith("Vous avez déjà répondu à ce questionnaire le ")


def test_answers_on_an_open_link_are_not_kept_as_drafts(form):
    app = form.visit(s="every-kind")
    app.radio(key=widget_key("recommend")).set_value(10).run()
    assert form.count(models.ResponseDraft) == 0


def test_a_draft_is_saved_after_each_change(form):
    invitation_id = form.invitation("tok-en").id
    app = form.visit(t="tok-en")
    assert form.count(models.ResponseDraft) == 0  # nothing answered, nothing kept
    app.radio(key=widget_key("recommend")).set_value(3).run()
    app.radio(key=widget_key("drivers.billing")).set_value(6).run()
    with db.session_scope(form.engine) as session:
        draft = session.scalars(select(models.ResponseDraft)).one()
        assert draft.answers == {"recommend": 3, "drivers": {"billing": 6}}
        assert draft.invitation_id == invitation_id


def test_expiry_is_checked_when_the_link_is_opened(form):
    with db.session_scope(form.engine) as session:
        session.execute(update(models.Invitation).where(models.Invitation.token == "tok-en")
                        .values(expires_at=datetime.now(timezone.utc) + timedelta(days=1)))
    assert form.visit(t="tok-en").radio


PLAIN_INPUTS = loads_yaml("""
slug: stay
title: Your stay
anonymous: true
questions:
  - {key: welcome, kind: note, text: "Welcome back"}
  - {key: name, kind: text, text: "Your name?"}
  - {key: nights, kind: integer, text: "${name}, how many nights?", required: true}
  - {key: spend, kind: decimal, text: "Spend?"}
  - {key: day, kind: date, text: "Arrival day?"}
  - {key: at, kind: time, text: "Arrival time?", show_if: "${nights} >= 2 and ${day} != ''"}
""")


def test_numbers_dates_times_and_notes_are_asked_and_stored_from_the_form(form):
    from datetime import date, time

    with db.session_scope(form.engine) as session:
        publish(session, PLAIN_INPUTS)
    app = form.visit(s="stay")
    assert "Welcome back" in [m.value for m in app.markdown]
    assert app.number_input(key=widget_key("nights")).label == "..., how many nights? (required)"
    assert not app.time_input  # hidden until nights >= 2 and a day is given
    app.text_area(key=widget_key("name")).set_value("Ann")
    app.number_input(key=widget_key("nights")).set_value(3)
    app.number_input(key=widget_key("spend")).set_value(42.5)
    app.date_input(key=widget_key("day")).set_value(date(2026, 9, 2))
    app.run()
    assert app.number_input(key=widget_key("nights")).label == "Ann, how many nights? (required)"  # piped
    app.time_input(key=widget_key("at")).set_value(time(14, 30))
    app.run()
    app.button(key=SUBMIT).click().run()
    assert not app.exception, app.exception
    with db.session_scope(form.engine) as session:
        response = session.scalars(select(models.Response)).one()
        assert sorted((a.question_key, a.numeric_value if a.numeric_value is not None else a.text_value)
                      for a in response.answers) == [
            ("at", "14:30"), ("day", "2026-09-02"), ("name", "Ann"), ("nights", 3), ("spend", 42.5)]
