"""Responses: the filtered responses of the selected survey and versions, one row each with every answer.

For analysts: paginated here, downloadable whole as a CSV streamed from the database in chunks.
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


render()
