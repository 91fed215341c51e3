"""People's words for internal names, and how numbers, dates, p-values and missing values are shown.

One place for every page, download and report: column headers, follow-up rule names, roles,
statuses and question keys become words (`header`, `rule`, `role`, `status`, `question_label`);
`readable` turns a table into the strings a person reads (numbers rounded with thousands
separators, p-values as `< 0.001`, dates without a midnight time, missing values as a dash).

Example:
    >>> p_value(0.0004), p_value(0.0312), p_value(float("nan"))
    ('< 0.001', '0.031', '—')
    >>> header("change_p_value"), rule("nps_detractor"), number(63122070, 0)
    ('p (change)', 'NPS detractor (0-6)', '63,122,070')
"""

from __future__ import annotations

import datetime as _dt
import math
import re

import numpy as np
import pandas as pd

from survey.people.access import ROLE_LABELS
from survey.storage.filters import DIMENSIONS

MISSING = "—"  # shown for a missing value (never None, nan or NaT)

# Column names of the pages' tables -> headers. A name not listed is turned into words by `header`.
HEADERS = {
    "period": "Period", "value": "Value", "low": "95% low", "high": "95% high", "n": "n", "status": "Shown as",
    "change": "Change", "change_low": "Change, 95% low", "change_high": "Change, 95% high",
    "change_p_value": "p (change)", "p_value": "p", "p_adjusted": "p (adjusted)",
    "bottom_share": "Unhappy share", "control_center": "Centre line", "control_lower": "Lower limit",
    "control_upper": "Upper limit", "out_of_control": "Out of control", "previous_n": "Previous n",
    "latest_period": "Latest period", "latest_value": "Latest value", "latest_n": "Latest n",
    "latest_change": "Latest change", "recent_value": "Recent value", "recent_n": "Recent n",
    "recent_vs_earlier": "Recent vs earlier", "recent_p_adjusted": "p recent (adjusted)",
    "latest_change_p_adjusted": "p latest (adjusted)", "reasons": "Why flagged",
    "email": "Email", "name": "Name", "role": "Role", "region": "Region", "state": "State",
    "last_sign_in_at": "Last sign-in", "is_demo": "Demo user", "question_key": "Question",
    "question": "Question", "rule": "Rule", "root_cause": "Root cause", "opened_at": "Opened",
    "closed_at": "Closed", "due_at": "Due", "created_at": "Created", "submitted_at": "Submitted",
    "customer": "Customer", "case": "Case", "survey": "Survey", "channel": "Channel", "responses": "Responses",
    "shown_as": "Shown as", "figure": "Figure", "note": "Note", "annual_value": "Annual value",
    "customers": "Customers", "score": "Score", "text": "Text", "language": "Language", "id": "Response",
    "external_ref": "Customer ref", "customer_ref": "Customer ref", "tier": "Tier", "industry": "Industry",
    "priority": "Priority", "overdue": "Overdue", "owner": "Owner", "phone": "Phone", "at": "When", "by": "By",
    "rows": "Rows", "action": "Action", "subject": "Subject", "actor": "Who", "version": "Version",
}
# Follow-up rule names (survey/followup/rules.yaml) -> what they mean.
RULES = {
    "nps_detractor": "NPS detractor (0-6)", "csat_bottom": "Low CSAT", "ces_bottom": "High effort (CES)",
    "index_item_low": "Low satisfaction rating", "score_drop": "Score dropped", "negative_comment": "Negative comment",
    "silent_dissatisfied": "Unhappy and silent",
}
STATUSES = {"open": "Open", "contacted": "Contacted", "resolved": "Resolved", "unreachable": "Unreachable",
            "declined": "Declined", "active": "Active", "disabled": "Disabled", "locked": "Locked", "": ""}
# p-value columns: `p`, `p_value`, `change_p_value`, `recent_p_adjusted`, or headers such as "p (BH-adjusted)".
P_VALUE_COLUMNS = re.compile(r"(^|_)p(_value|_adjusted)?($|_)|(^|\s)p \(")
# Question kinds inside a flag's detail ("index_item 3 (at most 4)").
KINDS = {"nps": "NPS", "csat": "CSAT", "ces": "Effort", "index_item": "Satisfaction rating"}
_KIND_NAMES = re.compile(r"\b(" + "|".join(KINDS) + r")\b")
_RULE_NAMES = re.compile(r"\b(" + "|".join(RULES) + r")\b")  # rule names inside recorded notes
IDENTIFIERS = {"id", "response_id", "case", "response", "Case", "Response"}  # numbers that name a row


def header(name: str) -> str:
    """The column header a person reads for the column `name`."""
    name = str(name)
    if name in HEADERS:
        return HEADERS[name]
    if name in DIMENSIONS:
        return DIMENSIONS[name].label
    if not re.fullmatch(r"[a-z0-9_.]+", name):  # already words: a capital, but n and p stay symbols
        return name if name.startswith(("n (", "p (")) else name[:1].upper() + name[1:]
    return name.replace("_", " ").replace(".", ": ").strip().capitalize()


def rule(name: str) -> str:
    """A follow-up rule's name in words (unknown names made readable)."""
    return RULES.get(name) or str(name).replace("_", " ").capitalize()


def role(name: str) -> str:
    """A role code in words (`field_manager` -> `Field manager`)."""
    return ROLE_LABELS.get(name) or str(name).replace("_", " ").capitalize()


def status(name: str) -> str:
    """A case or account status in words."""
    return STATUSES.get(name, str(name))  # other statuses ("suppressed", "directional") are words already


def missing(value) -> bool:
    """Whether `value` is missing (None, NaN, NaT, pd.NA)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value) is True)
    except (TypeError, ValueError):
        return False


def p_value(p) -> str:
    """A p-value as read: `< 0.001` under a thousandth, else three decimals; a dash when missing."""
    if missing(p):
        return MISSING
    return "< 0.001" if float(p) < 0.001 else f"{float(p):.3f}"


def p_text(p, name: str = "p") -> str:
    """A p-value in a sentence: `p < 0.001` or `p = 0.012` (`name` for e.g. "adjusted p")."""
    shown = p_value(p)
    return f"{name} {shown}" if shown.startswith("<") else f"{name} = {shown}"


def number(value, digits: int = 1, signed: bool = False, unit: str = "") -> str:
    """A number with thousands separators and `digits` decimals (a dash when missing)."""
    if missing(value):
        return MISSING
    return f"{float(value):{'+' if signed else ''},.{digits}f}{unit}"


def count(value) -> str:
    """A count with thousands separators (a dash when missing)."""
    return MISSING if missing(value) else f"{int(value):,}"


def day(value) -> str:
    """A date or moment: `2024-11-01`, or `2024-11-01 14:05` when it has a time of day."""
    if missing(value):
        return MISSING
    moment = pd.Timestamp(value)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return f"{moment:%Y-%m-%d}"
    return f"{moment:%Y-%m-%d %H:%M}"


def period(value, freq: str = "month") -> str:
    """A period start as its name: `Nov 2024` (month), `Q4 2024` (quarter), `Week of 2024-11-04`."""
    if missing(value):
        return MISSING
    start = pd.Timestamp(value)
    if freq.startswith("q"):
        return f"Q{start.quarter} {start.year}"
    if freq.startswith("w"):
        return f"Week of {start:%Y-%m-%d}"
    if freq.startswith("m"):
        return f"{start:%b %Y}"
    return day(start)


def question_label(definition, key: str) -> str:
    """A short label for the answer key `key` of `definition`: a matrix attribute's label, the
    metric's name for NPS, CSAT and CES, else the question text cut at about 40 characters."""
    if definition is None:
        return header(key)
    language = definition.languages[0]
    for question in definition.questions:
        if question.kind == "matrix" and key in question.answer_keys:
            attribute = question.attributes[list(question.answer_keys).index(key)]
            return attribute.label.get(language) or attribute.value
        if question.key == key:
            if question.metric in ("nps", "csat", "ces"):
                return {"nps": "NPS", "csat": "CSAT", "ces": "Effort"}[question.metric]
            return shorten(question.text.get(language) or key)
    return header(key)


def shorten(text: str, limit: int = 40) -> str:
    """`text` cut at a word boundary to at most about `limit` characters, with an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:?")
    return cut + "…"


def cell(value, column: str = "", digits: int = 1, freq: str | None = None) -> str:
    """One table cell as shown, chosen by its type and column name."""
    if missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return "Yes" if value else "No"
    if P_VALUE_COLUMNS.search(column) and isinstance(value, (float, np.floating, int, np.integer)):
        return p_value(value)
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
        return period(value, freq) if freq and column in ("period", "latest_period") else day(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value)) if column in IDENTIFIERS else f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):,.0f}" if float(value).is_integer() and column in ("n", "count", "customers") \
            else f"{float(value):,.{digits}f}"
    text = str(value)
    if column in ("rule", "rules", "reasons", "flag"):
        return "; ".join(rule(part.strip()) for part in re.split(r"[;,]", text) if part.strip())
    if column == "role":
        return role(text)
    if column in ("status", "state", "from", "to"):
        return status(text)
    if column in ("note", "detail"):
        text = _RULE_NAMES.sub(lambda found: rule(found.group(0)), text)
        return _KIND_NAMES.sub(lambda found: KINDS[found.group(0)], text)
    return text


def readable(frame: pd.DataFrame, digits: int | dict = 1, freq: str | None = None, headers: dict | None = None,
             percent: tuple[str, ...] = ()) -> pd.DataFrame:
    """`frame` as a person reads it: every cell a string (see `cell`), headers in words.

    `digits` is one number of decimals for all float columns or a mapping per column; `freq`
    names periods (`month` -> `Nov 2024`); `headers` overrides headers per column; columns in
    `percent` hold shares 0-1 shown as percentages.
    """
    shown = {}
    for column in frame.columns:
        name = str(column)
        places = digits.get(name, 1) if isinstance(digits, dict) else digits
        values = frame[column]
        if name in percent:
            shown[name] = [number(100 * v, places, unit="%") if not missing(v) else MISSING for v in values]
        else:
            shown[name] = [cell(v, name, places, freq) for v in values]
    names = {name: (headers or {}).get(name) or header(name) for name in shown}
    return pd.DataFrame({names[name]: values for name, values in shown.items()}, index=frame.index)


def displayable(frame: pd.DataFrame, digits: int | dict = 1, freq: str | None = None, headers: dict | None = None,
                percent: tuple[str, ...] = (), formats: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """`frame` for st.dataframe, its column names kept, and a column_config giving each column its
    header in words.

    A numeric column without a missing value stays numbers (sortable, drawn with thousands
    separators and `digits` decimals). Every other column becomes the text of `cell` (or of its own
    function in `formats`, e.g. question labels): Streamlit draws a missing value as "None" and a
    boolean as a checkbox whatever a Styler says, so dates, p-values, booleans, coded words and
    columns with a gap are shown as the words a person reads, a dash for a missing value.
    """
    import streamlit as st

    shown, config = frame.copy(), {}
    for column in frame.columns:
        name = str(column)
        label = (headers or {}).get(name) or header(name)
        places = digits.get(name, 1) if isinstance(digits, dict) else digits
        values = frame[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if (numeric and values.notna().all() and name not in percent and not P_VALUE_COLUMNS.search(name)
                and not (formats and name in formats)):
            integral = pd.api.types.is_integer_dtype(values)
            number_format = "%d" if name in IDENTIFIERS else "%,d" if integral else f"%,.{places}f"
            config[column] = st.column_config.NumberColumn(label, format=number_format)
            continue
        if formats and name in formats:
            own = formats[name]
            shown[column] = [MISSING if missing(v) else own(v) for v in values]
        elif name in percent:
            shown[column] = [MISSING if missing(v) else number(100 * v, places, unit="%") for v in values]
        else:
            shown[column] = [cell(v, name, places, freq) for v in values]
        config[column] = st.column_config.TextColumn(label)
    return shown, config


def show_table(frame: pd.DataFrame, container=None, digits: int | dict = 1, freq: str | None = None,
               headers: dict | None = None, percent: tuple[str, ...] = (), column_config: dict | None = None,
               formats: dict | None = None, **options) -> None:
    """`frame` in an st.dataframe the width of the page, without the index, as `displayable` shows it
    (`column_config` entries, keyed by column name, override the ones made here)."""
    import streamlit as st

    shown, config = displayable(frame.reset_index(drop=True), digits, freq, headers, percent, formats)
    config.update(column_config or {})
    (container or st).dataframe(shown, hide_index=True, width="stretch", column_config=config, **options)
