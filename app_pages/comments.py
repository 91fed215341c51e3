"""Comments: the free-text answers of the filtered responses with their score, segment, date and channel.

Filter by score band and by search words (all must appear, case-insensitively; matched in the
database). Comments are shown as plain text in a table, never as Markdown or HTML: a customer's
`<script>` or `**bold**` reads exactly as they typed it.
"""

from __future__ import annotations


import streamlit as st

from app_pages import common, labels
from survey.people import access
from survey.storage.queries import score_bands

PAGE_SIZE = 50
ALL_SCORES = "All scores"


def band_label(name: str, bounds: tuple[float, float]) -> str:
    low, high = (int(b) for b in bounds)
    return f"{name.capitalize()} ({low}-{high})" if low != high else f"{name.capitalize()} ({low})"


def render() -> None:
    actor = common.page_actor(access.READ_RESPONSES)
    filters = common.global_filters()
    st.title("Comments")
    if filters is None:
        return
    columns = common.survey_columns(filters)
    if not columns.text_keys:
        st.info("This survey has no free-text question.")
        return
    bands = score_bands(columns.score_metric, columns.score_scale)
    left, right = st.columns([1, 2])
    bands_shown = {ALL_SCORES: None} | {band_label(name, bounds): bounds for name, bounds in bands.items()}
    definition = common.latest_definition(filters.survey)
    score_name = labels.question_label(definition, columns.score_key) if columns.score_key else "Score"
    picked = left.selectbox(f"Score ({score_name})" if columns.score_key else "Score", list(bands_shown),
                            key="comments_band", disabled=not bands)
    band = bands_shown[picked]
    search = right.text_input("Search words (every word must appear)", key="comments_search")
    words = tuple(dict.fromkeys(word.lower() for word in search.split()))

    total = common.comment_count(actor, filters, band, words)
    # an anonymous survey's small groups are counted in responses (one may hold several comments)
    if total and common.anonymous(filters.survey) and common.too_few_to_show(
            filters, common.comment_response_count(actor, filters, band, words)):
        return
    page = common.pager(total, PAGE_SIZE, (filters, band, words), "comments")
    if total == 0:
        st.info("No comment matches these filters.")
        return
    frame = common.comments(actor, filters, band, words, PAGE_SIZE, page)
    labels.show_table(frame, digits={"score": 0}, formats={"question": lambda key: labels.question_label(definition, key)}, headers={"response_id": "Response", "submitted_at": "Date",
                                                           "comment": "Comment", "score": score_name},
                      column_config={"comment": st.column_config.TextColumn("Comment", width="large")})
    st.download_button("Download all matching comments (CSV)", data=lambda: common.comments_csv(actor, filters, band, words),
                       file_name=f"{filters.survey}-comments.csv", mime="text/csv", on_click="ignore")


render()
