"""Responses: the filtered responses of the selected survey and versions, one row each with every answer.

For analysts: paginated here, downloadable whole as a CSV streamed from the database in chunks, and
for SPSS, Stata, Excel or R with labels (`survey.response_export`).
Customers appear by reference, region and tier only: no names or contact details (need-to-know).
"""

from __future__ import annotations


import streamlit as st

from app_pages import common, labels
from survey.people import access

PAGE_SIZE = 100


def render() -> None:
    actor = common.page_actor(access.READ_RESPONSES)
    filters = common.global_filters()
    st.title("Responses")
    if filters is None:
        return
    total = common.response_count(actor, filters)
    if common.too_few_to_show(filters, total):
        return
    page = common.pager(total, PAGE_SIZE, filters, "responses")
    if total == 0:
        st.info("No response matches these filters.")
        return
    frame = common.responses_page(actor, filters, PAGE_SIZE, page)
    definition = common.latest_definition(filters.survey)
    keys = common.survey_columns(filters).answer_keys
    labels.show_table(frame, digits=0, headers={key: labels.question_label(definition, key) for key in keys})
    st.download_button(f"Download all {total:,} responses (CSV)", data=lambda: common.responses_csv(actor, filters),
                       file_name=f"{filters.survey}-responses.csv", mime="text/csv", on_click="ignore")
    analysis_download(actor, filters, total)


EXPORT_LABELS = {"sav": "SPSS (.sav)", "dta": "Stata (.dta)", "xlsx": "Excel (.xlsx)",
                 "csv": "CSV with a column per option (.csv)"}


def analysis_download(actor: access.Actor, filters, total: int) -> None:
    """The filtered responses in an analyst's format, with labels (`survey.response_export`); audited."""
    from survey import response_export

    fmt = st.selectbox("Format for SPSS, Stata, Excel or R", list(EXPORT_LABELS), format_func=EXPORT_LABELS.get)
    st.download_button(f"Download {total:,} responses as {EXPORT_LABELS[fmt]}",
                       data=lambda: response_export.export_bytes(common.engine(), actor, filters, fmt),
                       file_name=response_export.file_name(filters, fmt), mime=response_export.MEDIA_TYPES[fmt],
                       on_click="ignore")


render()
