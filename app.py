"""The app's entry point: declares the pages and API routes and runs navigation, nothing else.

Start it with `streamlit run app.py`. Respondents arrive with `/?t=<token>` (personal invitation)
or `/?s=<survey-slug>` (open link) and see only the survey form.
"""

import streamlit as st

from survey.api import routes

app = st.App(__file__, routes=routes())

if st.runtime.exists():
    st.set_page_config(page_title="Satisfaction", layout="wide")
    navigation = st.navigation([
        st.Page("app_pages/overview.py", title="Overview", default=True),
    ])
    navigation.run()
