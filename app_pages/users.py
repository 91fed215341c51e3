"""Users (admins): who may sign in, with which role; add people, change roles, disable, unlock,
and reset passwords. Every change is recorded in the audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common, labels
from app_pages.text import plain
from survey.people import access, accounts
from survey.people.access import ROLE_LABELS, ROLES


def render() -> None:
    actor = common.page_actor(access.MANAGE_USERS)
    st.title("Users")
    engine = common.engine()
    users = pd.DataFrame(accounts.list_users(engine, actor))
    users["state"] = ["disabled" if off is not None and off == off else
                      "locked" if locked is not None and locked == locked else "active"
                      for off, locked in zip(users["disabled_at"], users["locked_until"])]
    labels.show_table(users[["email", "name", "role", "region", "state", "last_sign_in_at", "is_demo"]])

    add, change = st.columns(2)
    with add.form("add_user", clear_on_submit=True):
        st.subheader("Add a user")
        email = st.text_input("Email")
        name = st.text_input("Name")
        role = st.selectbox("Role", ROLES, format_func=ROLE_LABELS.get)
        region = st.text_input("Region (field managers)")
        if st.form_submit_button("Add user", type="primary"):
            try:
                user, password = accounts.add_user(engine, actor, email, role, name=name, region=region or None)
            except accounts.AccountError as problem:
                st.error(str(problem))
            else:
                st.success(f"Added {plain(user.email)}. Their password, shown only now: `{password}`")
    with change.form("change_user"):
        st.subheader("Change a user")
        email = st.selectbox("User", list(users["email"]))
        role = st.selectbox("Role", ["(unchanged)", *ROLES], format_func=lambda r: ROLE_LABELS.get(r, r))
        state = st.radio("Access", ["(unchanged)", "enabled", "disabled"], horizontal=True)
        unlock = st.checkbox("Lift a lockout")
        reset = st.checkbox("Reset the password (a new one is shown once)")
        if st.form_submit_button("Apply"):
            try:
                accounts.update_user(engine, actor, email, role=None if role == "(unchanged)" else role,
                                     disabled=None if state == "(unchanged)" else state == "disabled", unlock=unlock)
                if reset:
                    st.success(f"New password for {plain(email)}, shown only now: `{accounts.reset_password(engine, actor, email)}`")
                else:
                    st.success(f"{plain(email)} updated.")
            except accounts.AccountError as problem:
                st.error(str(problem))


render()
