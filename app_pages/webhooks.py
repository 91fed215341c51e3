"""Webhooks (admins): the systems told of new responses and of follow-up cases opened and resolved,
their deliveries (waiting, delivered, failed), and a retry for the failed ones. Adding, disabling
and retrying are recorded in the audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common
from app_pages.text import plain
from survey.integrations import webhooks
from survey.integrations.outbox import EVENTS
from survey.people import access, audit
from survey.storage import db

EVENT_LABELS = {"response.created": "New response", "case.opened": "Follow-up case opened",
                "case.resolved": "Follow-up case resolved"}
SHOWN = 200


def event_label(code: str) -> str:
    """An event as people say it, with its code for the receiving system's developers."""
    return f"{EVENT_LABELS.get(code, code)} ({code})"


def last_answer(row: dict) -> str:
    """What the receiver last said, in words."""
    if row["status"] == "delivered":
        return f"accepted (HTTP {row['last_status']})"
    if row["last_error"]:
        return row["last_error"]
    return "not tried yet"


def render() -> None:
    actor = common.page_actor(access.MANAGE_WEBHOOKS)
    st.title("Webhooks")
    st.caption("Other systems (a CRM, a ticket system) are told when a response arrives and when a follow-up "
               "case is opened or resolved: a signed JSON message to their address, sent again until they "
               "accept it (up to 10 tries over about 4 hours), then marked failed here.")
    engine = common.engine()
    hooks = webhooks.list_webhooks(engine)
    if hooks:
        st.dataframe(pd.DataFrame([{
            "Address": hook["url"], "Sent when": ", ".join(EVENT_LABELS.get(e, e) for e in hook["events"]),
            "Description": hook["description"] or "", "State": "disabled" if hook["disabled_at"] else "enabled",
            "Waiting": hook["pending"], "Delivered": hook["delivered"], "Failed": hook["failed"]} for hook in hooks]),
            hide_index=True, width="stretch")
    else:
        st.info("No webhook yet: add one below.")

    add, disable = st.columns(2)
    with add.form("add_webhook", clear_on_submit=True):
        st.subheader("Add a webhook")
        url = st.text_input("Address (https://...)")
        events = st.multiselect("Send when", list(EVENTS), format_func=event_label)
        description = st.text_input("Description (what receives them)")
        if st.form_submit_button("Add webhook", type="primary"):
            try:
                with db.session_scope(engine) as session:
                    added = webhooks.add_webhook(session, url, events, description)
                    audit.record(session, actor, "webhook.add", f"webhook {added.id}: {', '.join(added.events)}")
            except ValueError as problem:
                st.error(str(problem))
            else:
                st.success(f"Added webhook {added.id} for {plain(added.url)}. Its signing secret, shown only now "
                           f"(give it to the receiving system): `{added.secret}`")
    enabled = [hook for hook in hooks if not hook["disabled_at"]]
    with disable.form("disable_webhook"):
        st.subheader("Disable a webhook")
        chosen = st.selectbox("Webhook", [hook["id"] for hook in enabled],
                              format_func=lambda i: next(h["url"] for h in enabled if h["id"] == i))
        if st.form_submit_button("Disable", disabled=not enabled) and chosen is not None:
            with db.session_scope(engine) as session:
                webhooks.disable_webhook(session, chosen)
                audit.record(session, actor, "webhook.disable", f"webhook {chosen}")
            st.success("Disabled: it gets no new events (those waiting are still sent).")

    st.subheader("Deliveries")
    status = st.radio("Show", ["all", *webhooks.STATUS_LABELS], horizontal=True,
                      format_func=lambda s: "All" if s == "all" else webhooks.STATUS_LABELS[s])
    rows = webhooks.deliveries(engine, status=None if status == "all" else status, limit=SHOWN)
    if not rows:
        st.info("No delivery to show.")
        return
    st.caption(f"The newest {len(rows):,} deliveries, newest first." if len(rows) == SHOWN
               else f"{len(rows):,} {'delivery' if len(rows) == 1 else 'deliveries'}, newest first.")
    st.dataframe(pd.DataFrame([{
        "Delivery": row["id"], "Event": EVENT_LABELS.get(row["event_type"], row["event_type"]),
        "Address": row["url"], "Status": webhooks.STATUS_LABELS[row["status"]], "Tries": row["attempts"],
        "Receiver's last answer": last_answer(row), "Created": row["created_at"],
        "Next try": row["next_attempt_at"] if row["status"] == "pending" else None} for row in rows]),
        hide_index=True, width="stretch", column_config={
            "Delivery": st.column_config.NumberColumn(format="%d"),
            "Created": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss"),
            "Next try": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
    failed = [row for row in rows if row["status"] == "failed"]
    if failed:
        picked = st.multiselect("Failed deliveries to send again", [row["id"] for row in failed],
                                format_func=lambda i: next(f"{i}: {EVENT_LABELS.get(r['event_type'])} to {r['url']}"
                                                           for r in failed if r["id"] == i))
        chosen_count = len(picked) or len(failed)
        if st.button(f"Retry {chosen_count} failed {'delivery' if chosen_count == 1 else 'deliveries'}",
                     type="primary"):
            ids = picked or [row["id"] for row in failed]
            with db.session_scope(engine) as session:
                queued = webhooks.retry(session, ids)
                audit.record(session, actor, "webhook.retry", f"{queued} deliveries", rows=queued)
            st.success(f"{queued} {'delivery' if queued == 1 else 'deliveries'} will be sent again within a few "
                       "seconds.")


render()
