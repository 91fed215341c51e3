"""My follow-ups: the signed-in user's open cases, most urgent first, with the customer's context
and one-click status changes with a note.

Field managers see only cases they own: the scope is applied in `survey.followup.queries`, and the
cached loaders take the Actor, so a cached list is never served to another user. Admins and
managers see every open case and can reassign.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import select

from app_pages import common
from app_pages.text import plain
from survey.people import access
from survey.storage import db, models
from survey.people.access import Actor
from survey.followup import queries as followup
from survey.followup import workflow
from survey.followup.settings import FollowUpSettingsError, load_settings

MESSAGE = "my_followups_message"
SHOWN = ["case", "priority", "due_at", "overdue", "status", "customer", "customer_ref", "phone", "region", "tier",
         "annual_value", "tenure_years", "survey", "flagged_score", "reasons", "captive_not_loyal", "owner"]


@st.cache_data(ttl=30, show_spinner=False)
def _open_cases(url: str, actor: Actor) -> pd.DataFrame:
    return followup.open_cases(common.engine_for(url), actor)


@st.cache_data(ttl=30, show_spinner=False)
def _detail(url: str, actor: Actor, case_id: int) -> followup.CaseDetail:
    return followup.case_detail(common.engine_for(url), actor, case_id)


@st.cache_data(ttl=300, show_spinner=False)
def _assignees(url: str) -> list[str]:
    with common.engine_for(url).connect() as connection:
        return list(connection.execute(select(models.User.email).where(
            models.User.role == access.FIELD_MANAGER, models.User.disabled_at.is_(None))
            .order_by(models.User.email)).scalars())


def _apply(change, *args, **kwargs) -> None:
    """Run one change as the signed-in user; keep its outcome to show after the rerun."""
    try:
        with db.session_scope(common.engine()) as session:
            change(session, *args, **kwargs)
    except (ValueError, access.AccessDenied) as problem:
        st.session_state[MESSAGE] = ("error", str(problem))
        return
    _open_cases.clear()
    _detail.clear()
    st.session_state[MESSAGE] = ("success", "Saved.")


def _change(actor: Actor, case_id: int, to: str) -> None:
    note = st.session_state.get(f"note_{case_id}", "")
    _apply(workflow.change_status, actor, case_id, to, note)


def _resolve(actor: Actor, case_id: int) -> None:
    compensation = st.session_state.get(f"compensation_{case_id}")  # 0 is a recorded "no compensation"
    _apply(workflow.change_status, actor, case_id, "resolved", st.session_state.get(f"note_{case_id}", ""),
           root_cause=st.session_state.get(f"cause_{case_id}"), compensation=compensation)


def _reassign(actor: Actor, case_id: int) -> None:
    _apply(workflow.reassign, actor, case_id, st.session_state.get(f"owner_{case_id}", ""),
           st.session_state.get(f"note_{case_id}", ""))


def render() -> None:
    actor = common.page_actor(access.WORK_CASES)
    st.title("My follow-ups")
    common.engine()
    url = db.database_url()
    if MESSAGE in st.session_state:
        kind, text = st.session_state.pop(MESSAGE)
        (st.error if kind == "error" else st.success)(plain(text))
    cases = _open_cases(url, actor)
    if cases.empty:
        st.info("No open follow-up cases." if actor.sees_every_customer else "You have no open follow-up cases.")
        return
    overdue = int(cases["overdue"].sum())
    st.caption(f"{len(cases):,} open cases, most urgent first (priority 1 is the most urgent)"
               + (f" · {overdue:,} overdue" if overdue else ""))
    if overdue:
        st.warning(f"{overdue} overdue case{'s' if overdue != 1 else ''}: call these first.")
    styled = cases[SHOWN].style.apply(
        lambda row: ["background-color: #fde2e1" if row["overdue"] else "" for _ in row], axis=1)
    st.dataframe(styled, hide_index=True, width="stretch", column_config={
        "case": st.column_config.NumberColumn("case", format="%d"),
        "due_at": st.column_config.DatetimeColumn("due", format="YYYY-MM-DD HH:mm"),
        "annual_value": st.column_config.NumberColumn("annual value", format="%.0f"),
    })
    labels = {row.case: f"#{row.case} · P{row.priority} · {row.customer} ({row.customer_ref})"
              for row in cases.itertuples()}
    case_id = st.selectbox("Case", list(labels), format_func=labels.get, key="my_followups_case")
    if case_id is None:
        return
    try:
        detail = _detail(url, actor, int(case_id))
    except access.AccessDenied as refusal:
        st.error(str(refusal))
        return
    case, customer = detail.case, detail.customer
    st.subheader(plain(f"Case {case['id']}: {customer['name']}"))
    context = pd.DataFrame([{
        "customer": customer["external_ref"], "phone": customer["phone"], "email": customer["email"],
        "region": customer["region"], "tier": customer["tier"], "industry": customer["industry"],
        "annual value": customer["annual_value"], "customer since": customer["tenure_start"],
        "status": case["status"], "priority": case["priority"], "due": case["due_at"],
        "captive, not loyal": bool((case.get("reasons") or {}).get("captive_not_loyal")),
    }])
    st.dataframe(context, hide_index=True, width="stretch")
    st.markdown("**Why it was flagged**")
    st.dataframe(detail.flags, hide_index=True, width="stretch")
    st.markdown("**Earlier scores and comments**")
    st.dataframe(detail.earlier_answers, hide_index=True, width="stretch")
    if not detail.earlier_cases.empty:
        st.markdown("**Earlier cases**")
        st.dataframe(detail.earlier_cases, hide_index=True, width="stretch")
    st.markdown("**History**")
    st.dataframe(detail.events, hide_index=True, width="stretch")

    st.text_area("Note", key=f"note_{case_id}", placeholder="What happened, what was agreed")
    columns = st.columns(3)
    allowed = workflow.TRANSITIONS[case["status"]]
    for column, (status, label) in zip(columns, (("contacted", "Mark contacted"), ("unreachable", "Unreachable"),
                                                 ("declined", "Declined"))):
        column.button(label, key=f"{status}_{case_id}", disabled=status not in allowed,
                      on_click=_change, args=(actor, int(case_id), status))
    try:
        causes = load_settings().root_causes
    except FollowUpSettingsError as problem:
        st.error(plain(str(problem)))
        return
    with st.expander("Resolve", expanded=False):
        st.selectbox("Root cause", causes, key=f"cause_{case_id}")
        st.number_input("Compensation (optional)", min_value=0.0, value=None, step=10.0, key=f"compensation_{case_id}")
        st.button("Resolve", key=f"resolve_{case_id}", on_click=_resolve, args=(actor, int(case_id)),
                  help="Needs a root cause and a note")
    if actor.may(access.REASSIGN_CASES):
        with st.expander("Reassign", expanded=False):
            st.selectbox("Field manager", _assignees(url), key=f"owner_{case_id}")
            st.button("Reassign", key=f"reassign_{case_id}", on_click=_reassign, args=(actor, int(case_id)))


render()
