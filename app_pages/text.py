"""Showing text that came from outside (survey wording, customer fields) literally.

Streamlit reads Markdown in titles, labels, captions and alerts; `plain` escapes it so that
`**bold**`, `[link](http://x)` or `![](http://x)` show as typed and never load anything.
Tables (st.dataframe) show text as it is and need no escaping.
"""

from __future__ import annotations

import re

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$!])")
LIST_MARKER = re.compile(r"^(\s*)(?:([-+=])|(\d+)([.)]))(?=\s|$)", re.MULTILINE)


def plain(text: str) -> str:
    """`text` escaped so that Streamlit's Markdown shows it literally.

    Example:
        >>> plain("**Gold** [tier](http://x)")
        '\\\\*\\\\*Gold\\\\*\\\\* \\\\[tier\\\\](http://x)'
    """
    escaped = MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
    return LIST_MARKER.sub(lambda m: m[1] + (f"\\{m[2]}" if m[2] else f"{m[3]}\\{m[4]}"), escaped)
