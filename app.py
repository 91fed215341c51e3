"""The app's entry point: declares the pages and API routes and runs navigation, nothing else.

Start it with `streamlit run app.py`. Respondents arrive with `/?t=<token>` (personal invitation)
or `/?s=<survey-slug>` (open link) and see only the survey form.
"""

import streamlit as st

from survey.api import routes

app = st.App(__file__, routes=routes())

if st.runtime.exists():
    st.set_page_config(page_title="Satisfaction", layout="wide")
    if "t" in st.query_params or "s" in st.query_params:
        # Respondents (personal or open link) see the survey form only, never a dashboard page.
        navigation = st.navigation([st.Page("app_pages/respond.py", title="Survey")], position="hidden")
    else:
        navigation = st.navigation([
            st.Page("app_pages/overview.py", title="Overview", default=True),
            st.Page("app_pages/trends.py", title="Trends"),
            st.Page("app_pages/segments.py", title="Segments"),
            st.Page("app_pages/drivers.py", title="Drivers"),
            st.Page("app_pages/loyalty.py", title="Loyalty and value"),
            st.Page("app_pages/comments.py", title="Comments"),
            st.Page("app_pages/responses.py", title="Responses"),
            st.Page("app_pages/import_answers.py", title="Import answers"),
            st.Page("app_pages/my_followups.py", title="My follow-ups"),
            st.Page("app_pages/follow_up.py", title="Follow-up"),
        ])
    navigation.run()
