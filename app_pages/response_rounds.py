"""The response rate by send and reminder round, shown under the Overview's response rate."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common
from survey.collection.reminders import response_rate_by_round, round_label
from survey.storage import db


@st.cache_data(ttl=60, show_spinner=False)
def _rounds(url: str, survey_slug: str) -> pd.DataFrame:
    return response_rate_by_round(common.engine_for(url), survey_slug)


def show(container, survey_slug: str) -> None:
    """A small table: after the invitation and after each reminder, how many got it, answered, and the
    rate reached (nothing when no reminder was ever sent: the tile above says it all)."""
    rounds = _rounds(db.database_url(), survey_slug)
    if len(rounds) < 2:
        return
    container.dataframe(pd.DataFrame({
        "Email": [round_label(r).capitalize() for r in rounds["round"]],
        "Sent to": rounds["sent"], "Answered after it": rounds["answered"],
        "Response rate by then": [f"{100 * rate:.1f}%" for rate in rounds["rate"]]}),
        hide_index=True, width="stretch")
    container.caption("Invitation emails and reminders (python -m survey invitations remind); the rate counts "
                      "everyone who had answered by the end of that round, over every invitation emailed.")
