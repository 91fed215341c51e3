"""The app's entry point: declares the pages and API routes and runs navigation, nothing else.

Start it with `streamlit run app.py`. Respondents arrive with `/?t=<token>` (personal invitation)
or `/?s=<survey-slug>` (open link) and see only the survey form, without signing in. Everyone else
signs in first and sees the pages their role allows (each page checks again when it runs).
"""

import streamlit as st

from survey import settings
from survey.collection.api import routes
from survey.collection.form.pages import middleware
from survey.people import access, session_routes

app = st.App(__file__, routes=[*routes(), *session_routes.routes(max_age=settings.session_max_hours() * 3600)],
             middleware=middleware())


def pages_for(actor: access.Actor) -> dict[str, list]:
    """The navigation of `actor`'s role by section: the pages it may open, Overview first."""
    from app_pages.navigation import visible_sections

    sections = visible_sections(actor)
    first = next(iter(sections.values()))[0][0]
    return {section: [st.Page(path, title=title, default=(path == first)) for path, title in pages]
            for section, pages in sections.items()}


if st.runtime.exists():
    from app_pages import common, identity

    st.set_page_config(page_title="Satisfaction", layout="wide")
    common.engine()  # the first start migrates, adds demo data and creates the first admin, before anything else
    from survey.integrations.delivery import start_worker

    start_worker(common.db.database_url())  # webhook deliveries: one thread per server process
    if "t" in st.query_params or "s" in st.query_params:
        # Respondents (personal or open link) see the survey form only, never a dashboard page.
        navigation = st.navigation([st.Page("app_pages/respond.py", title="Survey")], position="hidden")
    elif (actor := identity.signed_in_actor()) is None:
        navigation = identity.sign_in_navigation()  # at any page's address, which it opens after sign-in
    else:
        identity.sidebar_account(actor)
        sections = pages_for(actor)
        navigation = st.navigation(sections, expanded=True)
        identity.open_wanted_page(sections)  # a deep link followed before signing in
    navigation.run()
