"""Who is using the dashboard: local sign-in, or single sign-on when Streamlit's `[auth]` is configured.

With SSO (OpenID Connect through `st.login`), the provider's verified email maps to a user in the
database and that user's role; an email with no user gets no access. Without it, people sign in
with the local accounts of `survey.people.accounts`. Either way the session holds an `Actor`, which is
re-read from the database on every run, so a disabled user or a changed role takes effect at once.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from app_pages import common
from app_pages.text import plain
from survey import settings
from survey.people import accounts, sessions
from survey.people.access import ROLE_LABELS, Actor

# st.session_state keys of signing in (with common.ACTOR)
SESSION_TOKEN = "session_token"  # the session this browser tab signed in with (newer than its cookie)
HAND_OFF = "session_hand_off"  # a session made by the sign-in form, still to be handed to the browser
SIGNED_OUT = "signed_out"  # the sign-in page asks the server to clear the revoked cookie once
WANTED_PAGE = "wanted_page"  # the page a signed-out visitor asked for, opened once they sign in


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
    elif (token := session_token()) is not None:
        # The server-side session decides: revoked, idle, too old, user disabled or password changed
        # all sign the browser out, in this tab and in every other.
        actor = sessions.actor_for(common.engine(), token, idle=timedelta(minutes=settings.session_idle_minutes()),
                                   longest=timedelta(hours=settings.session_max_hours()))
    else:  # no session at all: only a test that put an Actor in the session state gets here
        actor = common.current_actor()
        actor = (accounts.actor_for_user_id(common.engine(), actor.user_id)
                 if actor is not None and actor.user_id is not None else None)
    if actor is None:
        st.session_state.pop(SESSION_TOKEN, None)
        st.session_state.pop(common.ACTOR, None)
    else:
        st.session_state[common.ACTOR] = actor
    return actor


def session_token() -> str | None:
    """The session of this tab: the one it just signed in with, else the browser's session cookie."""
    token = st.session_state.get(SESSION_TOKEN)
    if token:
        return token
    try:
        found = st.context.cookies.get(sessions.COOKIE)
    except Exception:  # noqa: BLE001 - no request context (bare script runs): no cookie
        return None
    return found if isinstance(found, str) and found else None


def _hand_to_browser(token: str) -> None:
    """Have the browser take the new session's cookie: the page posts a one-time code (not the
    token) to `/auth/session`, whose answer sets the HttpOnly cookie; reloads and new tabs then
    arrive signed in. Without JavaScript the tab stays signed in until it is closed."""
    _post_from_the_browser("/auth/session", sessions.hand_off(token))


# The only script the dashboard puts in a page: a POST to one of the session routes, from constants
# and (for /auth/session) the server-made one-time code. Never any text a person typed or stored.
SESSION_ROUTES = ("/auth/session", "/auth/sign-out")


def _post_from_the_browser(route: str, code: str | None = None) -> None:
    """Have the browser POST to the session route `route` (with the one-time `code`), so that the
    route's answer sets or clears the HttpOnly cookie the script cannot touch."""
    import json
    import re

    if route not in SESSION_ROUTES or (code is not None and not re.fullmatch(r"[A-Za-z0-9_-]{20,100}", code)):
        raise ValueError(f"route: not a session route or code: {route!r}")
    body = f", headers: {{'Content-Type': 'application/x-www-form-urlencoded'}}, body: 'code={code}'" if code else ""
    st.html(f"<script>fetch({json.dumps(route)}, {{method: 'POST', credentials: 'same-origin'{body}}});</script>",
            unsafe_allow_javascript=True, width=1)


def sign_in_navigation():
    """The navigation of a visitor not signed in: the sign-in form, at the start and at every page's
    address (so that a deep link such as /users shows the form, not "page not found"), remembering
    which page was asked for."""
    from app_pages.navigation import SECTIONS

    paths = [st.Page(path).url_path for pages in SECTIONS.values() for path, _title, _action in pages]
    navigation = st.navigation([st.Page(sign_in_page, title="Sign in", default=True),
                                *(st.Page(sign_in_page, title="Sign in", url_path=path) for path in paths if path)],
                               position="hidden")
    if WANTED_PAGE not in st.session_state:
        st.session_state[WANTED_PAGE] = navigation.url_path
    return navigation


def open_wanted_page(sections: dict[str, list]) -> None:
    """Right after signing in, go to the page the visitor first asked for, when their role may see it."""
    wanted = st.session_state.pop(WANTED_PAGE, None)
    if not wanted:
        return
    for page in (page for pages in sections.values() for page in pages):
        if page.url_path == wanted:
            st.switch_page(page)


def sign_in_page() -> None:
    """The page shown to someone not signed in: a local sign-in form, or the SSO button."""
    st.title("Sign in")
    if st.session_state.pop(SIGNED_OUT, False):  # clear the revoked cookie (it signs nobody in anyway)
        _post_from_the_browser("/auth/sign-out")
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
            token = sessions.start(common.engine(), outcome.actor.user_id)
            st.session_state[common.ACTOR] = outcome.actor
            st.session_state[SESSION_TOKEN] = token
            st.session_state[HAND_OFF] = token
            st.rerun()


def sign_out() -> None:
    """End this browser's session server-side and forget its user (and end the SSO session too).
    The revoked cookie no longer signs anyone in; the page also asks the server to clear it."""
    sessions.end(common.engine(), session_token())
    st.session_state.pop(SESSION_TOKEN, None)
    st.session_state[SIGNED_OUT] = True
    st.session_state.pop(common.ACTOR, None)
    if sso_configured():
        st.logout()


def sidebar_account(actor: Actor) -> None:
    """Who is signed in, with the sign-out button, at the foot of the sidebar (and, just after
    signing in, the hand-over of the new session to the browser)."""
    if HAND_OFF in st.session_state:
        _hand_to_browser(st.session_state.pop(HAND_OFF))
    st.sidebar.caption(f"Signed in as {plain(actor.email)} ({ROLE_LABELS[actor.role]})")
    st.sidebar.button("Sign out", on_click=sign_out, key="sign_out")
