"""Import answers: upload a CSV of phone, paper or kiosk answers; all rows or none by default."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from app_pages import common, labels
from survey.people import access
from survey.storage import db
from survey.collection.csvfiles import DELIMITERS, ImportProblem
from survey.collection.response_import import import_responses

FROM_FILE = "(the file's 'survey' column)"
SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "csv" / "responses.csv"  # answers to the demo surveys


def run_import(name: str, content: bytes, survey_slug: str | None, skip_invalid: bool):
    """Import the uploaded bytes under their own file name (messages name it); summary or ImportProblem."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(content)
        with db.session_scope(common.engine()) as session:
            return import_responses(session, path, survey_slug=survey_slug, skip_invalid=skip_invalid)


def fault_table(faults) -> pd.DataFrame:
    """The row-by-row report: row number, column and problem."""
    return pd.DataFrame([vars(f) for f in faults], columns=["row", "column", "problem"])


def render() -> None:
    common.page_actor(access.IMPORT_RESPONSES)
    st.title("Import answers")
    st.write("Answers collected by phone, on paper or at a kiosk, as a CSV file: one row per response, "
             "columns `submitted_at`, `customer_ref` or `token`, `channel`, and one column per question key, "
             "separated by commas, semicolons or tabs. "
             "Every row is checked with the same rules as the web form. Importing a file twice stores "
             "nothing twice.")
    if SAMPLE.exists():
        st.download_button("Download a sample file (CSV)", SAMPLE.read_bytes(), file_name="sample-responses.csv",
                           mime="text/csv", help="Answers to the demo surveys in the expected layout: a starting point.",
                           on_click="ignore")
    slugs = [s.slug for s in common.surveys()]
    chosen = st.selectbox("Survey", [FROM_FILE, *slugs])
    skip_invalid = st.checkbox("Store the good rows even if some rows are bad",
                               help="By default a file with any bad row stores nothing.")
    upload = st.file_uploader("CSV file", type=["csv"])
    if upload is None or not st.button("Import", type="primary"):
        return
    try:
        summary = run_import(upload.name, upload.getvalue(), None if chosen == FROM_FILE else chosen, skip_invalid)
    except SQLAlchemyError:
        st.error("Nothing was imported: the database could not store the file. Try again; if it keeps "
                 "failing, ask an administrator to check the server log.")
        return
    except ImportProblem as problem:
        st.error(f"Nothing was imported: {len(problem.problems)} problem(s) in the file.")
        if problem.faults:
            labels.show_table(fault_table(problem.faults))
        else:
            for line in problem.problems:
                st.text(line)
        return
    st.success(f"{summary.stored:,} responses stored, {summary.already_stored:,} already stored"
               + (f", {summary.skipped:,} rows skipped" if summary.skipped else "")
               + f" (read as {DELIMITERS[summary.delimiter]}-separated).")
    if summary.faults:
        st.warning("Skipped rows:")
        labels.show_table(fault_table(summary.faults))
    st.cache_data.clear()  # counts on other pages change


render()
