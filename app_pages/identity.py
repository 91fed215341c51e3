"""Who is using the dashboard: local sign-in, or single sign-on when Streamlit's `[auth]` is configured.

With SSO (OpenID Connect through `st.login`), the provider's verified email maps to a user in the
database and that user's role; an email with no user gets no access. Without it, people sign in
with the local accounts of `survey.people.accounts`. Either way the session holds an `Actor`, which is
re-read from the database on every run, so a disabled user or a changed role takes effect at once.
"""

from __future__ import annotations

import streamlit as st

from app_pages import common
from app_pages.text import plain
from survey.people import accounts
from survey.people.access import ROLE_LABELS, Actor


def sso_configured() -> bool:
    """Whether `[auth]` is set in Streamlit's secrets (then `st.login` replaces local sign-in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all: no SSO
        return False


def sso_email() -> str | None:
    """The signed-in SSO identity's email when the provider vouches for it, else None."""
    user = st.user
    if not user.get("is_logged_in"):
        return None
    if user.get("email_verified") is False:  # providers that report it must have verified the address
        return None
    return user.get("email")


def signed_in_actor() -> Actor | None:
    """The session's actor (checked against the database on every run), or None when nobody is signed in."""
    if sso_configured():
        actor = accounts.actor_for_email(common.engine(), sso_email())
    else:
        actor = common.current_actor()
        actor = (accounts.actor_for_user_id(common.engine(), actor.user_id)
                 if actor is not None and actor.user_id is not None else None)
    if actor is None:
        st.session_state.pop(common.ACTOR, None)
    else:
        st.session_state[common.ACTOR] = actor
    return actor


def sign_in_page() -> None:
    """The page shown to someone not signed in: a local sign-in form, or the SSO button."""
    st.title("Sign in")
    if sso_configured():
        email = sso_email()
        if email:  # signed in with the provider, but no user here
            st.error(f"{plain(email)} has no access to this dashboard. Ask an admin to add you.")
            st.button("Sign out", on_click=st.logout)
        else:
            st.button("Sign in with your company account", type="primary", on_click=st.login)
        return
    with st.form("sign_in"):
        email = st.text_input("Email", key="sign_in_email")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        # the client's address throttles guessing across accounts (Streamlit gives None for localhost)
        outcome = accounts.sign_in(common.engine(), email, password, client=st.context.ip_address)
        if outcome.actor is None:
            st.error(outcome.message)
        else:
            st.session_state[common.ACTOR] = outcome.actor
            st.rerun()


def sign_out() -> None:
    """Forget this session's user (and end the SSO session too)."""
    st.session_state.pop(common.ACTOR, None)
    if sso_configured():
        st.logout()


def sidebar_account(actor: Actor) -> None:
    """Who is signed in, with the sign-out button, at the foot of the sidebar."""
    st.sidebar.caption(f"Signed in as {plain(actor.email)} ({ROLE_LABELS[actor.role]})")
    st.sidebar.button("Sign out", on_click=sign_out, key="sign_out")
