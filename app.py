"""The app's entry point: declares the pages and runs navigation, nothing else.

Start it with `streamlit run app.py`.
"""

import streamlit as st

st.set_page_config(page_title="Satisfaction", layout="wide")
navigation = st.navigation([
    st.Page("app_pages/overview.py", title="Overview", default=True),
])
navigation.run()
