"""My follow-ups: the signed-in user's open cases, most urgent first, with the customer's context
and one-click status changes with a note.

Field managers see only cases they own: the scope is applied in `survey.followup.queries`, and the
cached loaders take the Actor, so a cached list is never served to another user. Admins and
managers see every open case and can reassign.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st
from sqlalchemy import select

from app_pages import common, labels
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
def _open_cases(url: str, actor: Actor, everyone: bool = False) -> pd.DataFrame:
    return followup.open_cases(common.engine_for(url), actor, owner_id=None if everyone else actor.user_id)


@st.cache_data(ttl=30, show_spinner=False)
def _detail(url: str, actor: Actor, case_id: int) -> followup.CaseDetail:
    return followup.case_detail(common.engine_for(url), actor, case_id)


@st.cache_data(ttl=300, show_spinner=False)
def _assignees(url: str) -> list[str]:
    with common.engine_for(url).connect() as connection:
        return list(connection.execute(select(models.User.email).where(
            models.User.role == access.FIELD_MANAGER, models.User.disabled_at.is_(None))
            .order_by(models.User.email)).scalars())


def _apply(change, *args, where: str = "status", **kwargs) -> None:
    """Run one change as the signed-in user; keep its outcome, and the control it belongs to
    (`where`: status, resolve or reassign), to show beside that control after the rerun."""
    try:
        with db.session_scope(common.engine()) as session:
            change(session, *args, **kwargs)
    except (ValueError, access.AccessDenied) as problem:
        field, colon, rest = str(problem).partition(": ")  # "root_cause: ..." names its field in words
        text = f"{labels.header(field)}: {rest}" if colon and re.fullmatch(r"[a-z_ ]+", field) else str(problem)
        st.session_state[MESSAGE] = ("error", text, where)
        return
    _open_cases.clear()
    _detail.clear()
    st.session_state[MESSAGE] = ("success", "Saved.", where)


def _show_message(where: str) -> None:
    """The outcome of the last change made with the control `where`, shown where it was made."""
    found = st.session_state.get(MESSAGE)
    if found and found[2] == where:
        kind, text, _ = st.session_state.pop(MESSAGE)
        (st.error if kind == "error" else st.success)(plain(text))


def _change(actor: Actor, case_id: int, to: str) -> None:
    note = st.session_state.get(f"note_{case_id}", "")
    _apply(workflow.change_status, actor, case_id, to, note)


def _resolve(actor: Actor, case_id: int) -> None:
    compensation = st.session_state.get(f"compensation_{case_id}")  # 0 is a recorded "no compensation"
    _apply(workflow.change_status, actor, case_id, "resolved", st.session_state.get(f"note_{case_id}", ""),
           root_cause=st.session_state.get(f"cause_{case_id}"), compensation=compensation, where="resolve")


def _reassign(actor: Actor, case_id: int) -> None:
    _apply(workflow.reassign, actor, case_id, st.session_state.get(f"owner_{case_id}", ""),
           st.session_state.get(f"note_{case_id}", ""), where="reassign")


def _definitions(case) -> object | None:
    """The newest definition of the case's survey (for question labels), or None when unknown."""
    slug = case.get("survey") or case.get("survey_slug")
    try:
        return common.latest_definition(slug) if slug else None
    except Exception:  # noqa: BLE001 - labels fall back to readable keys
        return None


def render() -> None:
    actor = common.page_actor(access.WORK_CASES)
    st.title("My follow-ups")
    common.engine()
    url = db.database_url()
    everyone = False
    if actor.sees_every_customer:  # admins and managers: their own cases first, everybody's on request
        everyone = st.radio("Cases", ["Mine", "Everyone's"], horizontal=True, key="my_followups_whose") != "Mine"
    cases = _open_cases(url, actor, everyone)
    if cases.empty:
        st.info("No open follow-up cases." if everyone else "You have no open follow-up cases."
                + (" Choose \"Everyone's\" to work any case; the Follow-up page has the figures."
                   if actor.sees_every_customer else ""))
        return
    overdue = int(cases["overdue"].sum())
    st.caption(f"{len(cases):,} open cases, most urgent first (priority 1 is the most urgent)"
               + (f" · {overdue:,} overdue" if overdue else ""))
    if overdue:
        st.warning(f"{overdue} overdue case{'s' if overdue != 1 else ''}: call these first.")
    shown, config = labels.displayable(cases[SHOWN].reset_index(drop=True), digits={"annual_value": 0, "tenure_years": 1, "flagged_score": 0},
                            headers={"case": "Case", "priority": "Priority", "overdue": "Overdue",
                                     "customer_ref": "Customer ref", "phone": "Phone", "tier": "Tier",
                                     "tenure_years": "Tenure (years)", "flagged_score": "Flagged score",
                                     "captive_not_loyal": "Captive, not loyal", "owner": "Owner",
                                     "status": "Status"})
    overdue_rows = cases["overdue"].astype(bool).to_numpy()
    styled = shown.style.apply(lambda row: ["background-color: #fde2e1" if overdue_rows[row.name] else ""
                                       for _ in row], axis=1)
    st.dataframe(styled, hide_index=True, width="stretch", column_config=config)
    choices = {row.case: f"#{row.case} · P{row.priority} · {row.customer} ({row.customer_ref})"
              for row in cases.itertuples()}
    case_id = st.selectbox("Case", list(choices), format_func=choices.get, key="my_followups_case")
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
    labels.show_table(context, digits={"annual value": 0}, headers={"customer": "Customer ref", "status": "Status"})
    definition = _definitions(case)
    st.markdown("**Why it was flagged**")
    question = {"question": lambda key: labels.question_label(definition, key)}
    labels.show_table(detail.flags, digits=0, headers={"detail": "Detail"}, formats=question)
    st.markdown("**Earlier scores and comments**")
    labels.show_table(detail.earlier_answers, digits=0, formats=question)
    if not detail.earlier_cases.empty:
        st.markdown("**Earlier cases**")
        labels.show_table(detail.earlier_cases)
    st.markdown("**History**")
    labels.show_table(detail.events, headers={"at": "When", "by": "By", "from": "From", "to": "To"})

    st.text_area("Note", key=f"note_{case_id}", placeholder="What happened, what was agreed")
    columns = st.columns(3)
    allowed = workflow.TRANSITIONS[case["status"]]
    for column, (status, label) in zip(columns, (("contacted", "Mark contacted"), ("unreachable", "Unreachable"),
                                                 ("declined", "Declined"))):
        column.button(label, key=f"{status}_{case_id}", disabled=status not in allowed,
                      on_click=_change, args=(actor, int(case_id), status))
    _show_message("status")
    try:
        causes = load_settings().root_causes
    except FollowUpSettingsError as problem:
        st.error(plain(str(problem)))
        return
    # Keyed expanders stay open across reruns (typing the note, a refused try); nothing is
    # preselected that the person must choose, so an untouched root cause is refused, not recorded.
    with st.expander("Resolve", key=f"resolve_open_{case_id}"):
        st.selectbox("Root cause", causes, index=None, placeholder="Choose the root cause", key=f"cause_{case_id}")
        st.number_input("Compensation (optional)", min_value=0.0, value=None, step=10.0, key=f"compensation_{case_id}")
        st.button("Resolve", key=f"resolve_{case_id}", on_click=_resolve, args=(actor, int(case_id)),
                  help="Needs a root cause and a note")
        _show_message("resolve")
    if actor.may(access.REASSIGN_CASES):
        with st.expander("Reassign", key=f"reassign_open_{case_id}"):
            st.selectbox("Field manager", _assignees(url), index=None, placeholder="Choose a field manager",
                         key=f"owner_{case_id}")
            st.button("Reassign", key=f"reassign_{case_id}", on_click=_reassign, args=(actor, int(case_id)))
            _show_message("reassign")


render()
