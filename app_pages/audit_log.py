"""Audit log (admins): every export of personal data, erasure, retention run and account change:
who, when, what and how many rows. Events cannot be edited or deleted."""

from __future__ import annotations

import streamlit as st

from app_pages import common, labels
from survey.people import access, audit

LIMIT = 1000


def render() -> None:
    actor = common.page_actor(access.READ_AUDIT_LOG)
    st.title("Audit log")
    events = audit.events(common.engine(), actor, limit=LIMIT)
    st.caption(f"The newest {LIMIT:,} events, newest first." if len(events) == LIMIT else
               f"{len(events):,} events, newest first.")
    if events.empty:
        st.info("Nothing recorded yet.")
        return
    labels.show_table(events)


render()
