"""Which dashboard pages each role sees: the page list in one place, filtered by the role's actions.

A page missing from a role's navigation cannot be opened by its URL either (Streamlit only serves
pages in the navigation), and each page checks the role again when it runs (`common.page_actor`).
"""

from __future__ import annotations

from survey.people import access

# (page file, title, the action a role needs to see it), by navigation section; the first is the default page.
SECTIONS = {
    "Dashboard": (
        ("app_pages/overview.py", "Overview", access.READ_AGGREGATES),
        ("app_pages/trends.py", "Trends", access.READ_AGGREGATES),
        ("app_pages/segments.py", "Segments", access.READ_AGGREGATES),
        ("app_pages/drivers.py", "Drivers", access.READ_AGGREGATES),
        ("app_pages/loyalty.py", "Loyalty and value", access.READ_AGGREGATES),
        ("app_pages/retention.py", "Retention", access.READ_AGGREGATES),
        ("app_pages/comments.py", "Comments", access.READ_RESPONSES),
        ("app_pages/responses.py", "Responses", access.READ_RESPONSES),
    ),
    "Follow-up": (
        ("app_pages/my_followups.py", "My follow-ups", access.WORK_CASES),
        ("app_pages/follow_up.py", "Follow-up", access.FOLLOW_UP_OVERVIEW),
    ),
    "Admin": (
        ("app_pages/designer.py", "Designer", access.EDIT_SURVEYS),
        ("app_pages/import_answers.py", "Import answers", access.IMPORT_RESPONSES),
        ("app_pages/users.py", "Users", access.MANAGE_USERS),
        ("app_pages/audit_log.py", "Audit log", access.READ_AUDIT_LOG),
        ("app_pages/webhooks.py", "Webhooks", access.MANAGE_WEBHOOKS),
    ),
}


def visible_sections(actor: access.Actor) -> dict[str, list[tuple[str, str]]]:
    """Section -> (page file, title) of every page `actor`'s role may open, in navigation order
    (sections without such a page are left out)."""
    found = {section: [(path, title) for path, title, action in pages if actor.may(action)]
             for section, pages in SECTIONS.items()}
    return {section: pages for section, pages in found.items() if pages}


def visible_pages(actor: access.Actor) -> list[tuple[str, str]]:
    """(page file, title) of every page `actor`'s role may open, in navigation order."""
    return [page for pages in visible_sections(actor).values() for page in pages]
