"""Segments (being built)."""

import streamlit as st

from app_pages import common

filters = common.global_filters()
st.title("Segments")
