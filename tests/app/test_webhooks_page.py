"""The Webhooks page (admins): add a webhook (its secret shown once), see deliveries in words, retry failed ones."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from survey.definitions.definition import load_yaml
from survey.definitions.publishing import publish
from survey.integrations.webhooks import STATUS_LABELS
from survey.people.access import Actor
from survey.storage import db, models
from tests.conftest import SAMPLE_SURVEYS, signed_in_page


@pytest.fixture
def database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:  # a survey: no demo data on this first start
        publish(session, load_yaml(SAMPLE_SURVEYS / "post_support.yaml"))
        admin = models.User(email="admin@example.com", name="Admin", role="admin")
        session.add(admin)
        session.flush()
        actor = Actor.of(admin)
    monkeypatch.setenv("SURVEY_DATABASE_URL", url)
    import streamlit as st

    st.cache_data.clear()
    yield engine, actor
    engine.dispose()


def page(actor):
    app = signed_in_page("webhooks", actor)
    app.run()
    assert not app.exception, app.exception
    return app


def test_adding_a_webhook_shows_its_secret_once_and_lists_it_in_words(database):
    engine, actor = database
    app = page(actor)
    assert app.info[0].value == "No webhook yet: add one below."
    app.text_input[0].set_value("https://crm.example.com/hooks")
    app.multiselect[0].set_value(["response.created", "case.opened"])
    assert app.multiselect[0].options == ["New response (response.created)", "Follow-up case opened (case.opened)",
                                          "Follow-up case resolved (case.resolved)"]
    app.button[0].click().run()
    assert not app.exception, app.exception
    with engine.connect() as connection:
        secret = connection.execute(select(models.Webhook.secret)).scalar_one()
        actions = connection.execute(select(models.AuditEvent.action)).scalars().all()
    assert f"`{secret}`" in app.success[0].value and actions == ["webhook.add"]
    app.run()  # the list is drawn above the form: the next run shows the new webhook
    table = app.dataframe[0].value
    assert table.iloc[0]["Sent when"] == "New response, Follow-up case opened"
    assert secret not in table.to_string()
    assert not table.isna().any().any()


def test_a_bad_address_is_named_and_nothing_is_added(database):
    engine, actor = database
    app = page(actor)
    app.text_input[0].set_value("crm.example.com")
    app.multiselect[0].set_value(["case.opened"])
    app.button[0].click().run()
    assert app.error[0].value == "url: 'crm.example.com' must be an http:// or https:// address with a host"
    with engine.connect() as connection:
        assert connection.execute(select(models.Webhook.id)).first() is None


def test_failed_deliveries_show_in_words_and_an_admin_retries_them(database):
    engine, actor = database
    with db.session_scope(engine) as session:
        hook = models.Webhook(url="http://127.0.0.1:9/hook", events=["case.opened"], secret="s")
        session.add(hook)
        session.flush()
        session.execute(insert(models.WebhookDelivery.__table__), [
            dict(webhook_id=hook.id, event_id=f"e{i}", event_type="case.opened", payload={}, status=status,
                 attempts=10 if status == "failed" else 1, last_status=500 if status == "failed" else 204,
                 last_error="the receiver answered HTTP 500" if status == "failed" else None,
                 created_at=models.utc_now(), next_attempt_at=models.utc_now())
            for i, status in enumerate(["failed", "failed", "delivered"])])
    app = page(actor)
    deliveries = app.dataframe[1].value
    assert set(deliveries["Status"]) == {STATUS_LABELS["failed"], STATUS_LABELS["delivered"]}
    assert set(deliveries["Event"]) == {"Follow-up case opened"}
    assert set(deliveries["Receiver's last answer"]) == {"the receiver answered HTTP 500", "accepted (HTTP 204)"}
    retry = next(b for b in app.button if b.label.startswith("Retry"))
    assert retry.label == "Retry 2 failed deliveries"
    retry.click().run()
    assert app.success[0].value == "2 deliveries will be sent again within a few seconds."
    with engine.connect() as connection:
        statuses = connection.execute(select(models.WebhookDelivery.status, models.WebhookDelivery.attempts)
                                      .order_by(models.WebhookDelivery.id)).all()
    assert [tuple(s) for s in statuses] == [("pending", 0), ("pending", 0), ("delivered", 1)]
