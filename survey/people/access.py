"""Who may do what: roles, the actions they allow, and the row scope of each user.

Authorisation is enforced where data is read: every query function that returns people's rows
takes the acting `Actor` and narrows its query with `customer_scope`, so a page that forgets a
check still cannot show a field manager another field manager's customers.

| action              | admin | manager | field_manager          |
|---------------------|-------|---------|------------------------|
| read_aggregates     | yes   | yes     | yes                    |
| read_responses      | yes   | yes     | own customers only     |
| export_personal     | yes   | yes     | own customers only     |
| read_follow_up_list | yes   | yes     | own cases only         |
| work_cases          | yes   | yes     | own cases only         |
| reassign_cases      | yes   | yes     | no                     |
| follow_up_overview  | yes   | yes     | no                     |
| import_responses    | yes   | no      | no                     |
| edit_surveys        | yes   | no      | no                     |
| manage_users        | yes   | no      | no                     |
| erase_customers     | yes   | no      | no                     |
| read_audit_log      | yes   | no      | no                     |
| manage_webhooks     | yes   | no      | no                     |

Example:
    >>> fm = Actor(user_id=7, email="fm@example.com", role="field_manager")
    >>> fm.may("read_responses"), fm.may("manage_users"), fm.sees_every_customer
    (True, False, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, true

from survey.storage import models

ADMIN, MANAGER, FIELD_MANAGER = "admin", "manager", "field_manager"
ROLES = (ADMIN, MANAGER, FIELD_MANAGER)
ROLE_LABELS = {ADMIN: "Admin", MANAGER: "Manager", FIELD_MANAGER: "Field manager"}

READ_AGGREGATES = "read_aggregates"
READ_RESPONSES = "read_responses"
EXPORT_PERSONAL = "export_personal"
READ_FOLLOW_UP_LIST = "read_follow_up_list"
WORK_CASES = "work_cases"
REASSIGN_CASES = "reassign_cases"
FOLLOW_UP_OVERVIEW = "follow_up_overview"
IMPORT_RESPONSES = "import_responses"
EDIT_SURVEYS = "edit_surveys"
MANAGE_USERS = "manage_users"
ERASE_CUSTOMERS = "erase_customers"
READ_AUDIT_LOG = "read_audit_log"
MANAGE_WEBHOOKS = "manage_webhooks"

_FIELD_MANAGER_ACTIONS = frozenset({READ_AGGREGATES, READ_RESPONSES, EXPORT_PERSONAL, READ_FOLLOW_UP_LIST,
                                    WORK_CASES})
_MANAGER_ACTIONS = _FIELD_MANAGER_ACTIONS | {REASSIGN_CASES, FOLLOW_UP_OVERVIEW}
_ADMIN_ACTIONS = _MANAGER_ACTIONS | {IMPORT_RESPONSES, EDIT_SURVEYS, MANAGE_USERS, ERASE_CUSTOMERS,
                                     READ_AUDIT_LOG, MANAGE_WEBHOOKS}
PERMISSIONS: dict[str, frozenset[str]] = {
    ADMIN: frozenset(_ADMIN_ACTIONS), MANAGER: frozenset(_MANAGER_ACTIONS), FIELD_MANAGER: _FIELD_MANAGER_ACTIONS}
ACTIONS = tuple(sorted(_ADMIN_ACTIONS))

COMMAND_LINE = "command line"


class AccessDenied(PermissionError):
    """The acting user may not do this; the message says what and why, for showing to them."""


@dataclass(frozen=True)
class Actor:
    """The signed-in user a request acts for. Hashable, so cached loaders can key on it.

    `user_id` is None only for the command line, which acts with an admin's rights: whoever can run
    it already holds the database URL.
    """

    user_id: int | None
    email: str
    role: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r} (expected one of: {', '.join(ROLES)})")

    @classmethod
    def command_line(cls) -> Actor:
        """The operator running `python -m survey`."""
        return cls(user_id=None, email=COMMAND_LINE, role=ADMIN)

    @classmethod
    def of(cls, user: models.User) -> Actor:
        """The actor for a stored user."""
        return cls(user_id=user.id, email=user.email, role=user.role)

    def may(self, action: str) -> bool:
        """Whether this actor's role allows `action` at all (row scope still applies)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        return action in PERMISSIONS[self.role]

    @property
    def sees_every_customer(self) -> bool:
        """Admins and managers see all customers; a field manager only their own."""
        return self.role != FIELD_MANAGER

    @property
    def scope(self) -> str:
        """A short, stable text naming what this actor may see (for cache keys and logs)."""
        return "all" if self.sees_every_customer else f"field_manager:{self.user_id}"


def require(actor: Actor | None, action: str) -> Actor:
    """`actor` when it may do `action`; AccessDenied (with a message for the user) otherwise."""
    if actor is None:
        raise AccessDenied("Sign in first.")
    if not actor.may(action):
        raise AccessDenied(f"Your role ({ROLE_LABELS[actor.role]}) does not allow this "
                           f"({action.replace('_', ' ')}).")
    return actor


def customer_scope(actor: Actor) -> ColumnElement[bool]:
    """A condition on `customers` rows this actor may see: all, or the field manager's own.

    Used by every query that returns individual customers, responses, comments or cases; the query
    must join `customers` (an outer join keeps anonymous responses, which only see-all roles get).
    """
    if actor.sees_every_customer:
        return true()
    if actor.user_id is None:
        return false()
    return models.Customer.field_manager_id == actor.user_id
