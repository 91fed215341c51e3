"""Streamlit pages, one module each: widgets -> cached loader -> analysis -> render."""
