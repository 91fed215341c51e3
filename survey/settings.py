"""Settings read from environment variables, checked once, with the variable named in every error.

| variable                       | meaning                                         | default                |
|--------------------------------|-------------------------------------------------|------------------------|
| `SURVEY_PUBLIC_URL`            | base URL of the app, for personal links         | http://localhost:8501  |
| `SURVEY_SMTP_HOST`             | SMTP server (needed only to send mail)          | (none)                 |
| `SURVEY_SMTP_PORT`             | SMTP port                                       | 25 / 587 / 465 by mode |
| `SURVEY_SMTP_SECURITY`         | `none`, `starttls` or `ssl`                     | starttls               |
| `SURVEY_SMTP_USER`             | user to sign in as (no sign-in when unset)      | (none)                 |
| `SURVEY_SMTP_PASSWORD`         | its password                                    | (none)                 |
| `SURVEY_SMTP_FROM`             | sender address of invitations                   | (none)                 |
| `SURVEY_INVITATION_QUIET_DAYS` | no new invitation to a survey within these days | 90                     |
| `SURVEY_INVITATION_VALID_DAYS` | days a personal link stays valid                | 30                     |
| `SURVEY_RETENTION_DAYS`        | personal data of customers inactive this long is erased by `retention apply` | 1095 (3 years) |
| `SURVEY_DEFECTION_REASONS`    | the reason categories a defection may give, comma-separated | price, product, service, benefit, competitor, personal, other |
| `SURVEY_MIN_N_FLOOR`           | smallest group any figure is published for; no page's "Minimum n" goes under it (at least 5) | 10 |

Example:
    >>> settings = Settings.from_env({"SURVEY_PUBLIC_URL": "https://survey.example.com/"})
    >>> settings.public_url, settings.invitation_quiet_days
    ('https://survey.example.com', 90)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

from survey import messages
from survey.collection.mail import DEFAULT_PORTS, SECURITY_MODES, SmtpSettings

DEFAULT_PUBLIC_URL = "http://localhost:8501"
DEFAULT_SECURITY = "starttls"
DEFAULT_QUIET_DAYS = 90
DEFAULT_VALID_DAYS = 30
DEFAULT_MIN_N_FLOOR = 10
DEFAULT_SESSION_IDLE_MINUTES = 8 * 60  # a working day without a click ends the sign-in
DEFAULT_SESSION_MAX_HOURS = 7 * 24  # and a week after signing in, whatever the activity
SMALLEST_MIN_N_FLOOR = 5  # the anonymous-survey rule (privacy.ANONYMOUS_MIN_GROUP): never lower


@dataclass(frozen=True)
class Settings:
    """The toolkit's settings. `smtp` is None when no SMTP host is configured."""

    public_url: str = DEFAULT_PUBLIC_URL
    smtp: SmtpSettings | None = None
    invitation_quiet_days: int = DEFAULT_QUIET_DAYS
    invitation_valid_days: int = DEFAULT_VALID_DAYS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default: the process environment); ValueError naming a bad variable."""
        env = os.environ if environ is None else environ
        return cls(public_url=public_url(env), smtp=smtp_settings(env),
                   invitation_quiet_days=invitation_quiet_days(env),
                   invitation_valid_days=invitation_valid_days(env))


def public_url(environ: Mapping[str, str] | None = None) -> str:
    """The app's base URL for personal links (`SURVEY_PUBLIC_URL`), without a trailing slash."""
    url = (_get(environ, "SURVEY_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(messages.SETTING_BAD_URL.format(name="SURVEY_PUBLIC_URL", value=url))
    return url


def invitation_quiet_days(environ: Mapping[str, str] | None = None) -> int:
    """Days after an invitation during which the customer is not invited to that survey again."""
    return _whole_number(environ, "SURVEY_INVITATION_QUIET_DAYS", DEFAULT_QUIET_DAYS, minimum=0)


def invitation_valid_days(environ: Mapping[str, str] | None = None) -> int:
    """Days a personal link stays valid after the invitation is created."""
    return _whole_number(environ, "SURVEY_INVITATION_VALID_DAYS", DEFAULT_VALID_DAYS, minimum=1)


def retention_days(environ: Mapping[str, str] | None = None) -> int:
    """Days of inactivity after which `python -m survey retention apply` erases a customer's personal data."""
    from survey.people.privacy import DEFAULT_RETENTION_DAYS

    return _whole_number(environ, "SURVEY_RETENTION_DAYS", DEFAULT_RETENTION_DAYS, minimum=1)


def min_n_floor(environ: Mapping[str, str] | None = None) -> int:
    """The disclosure floor (`SURVEY_MIN_N_FLOOR`): no figure rests on fewer answers, and no figure a
    field manager sees on fewer customers outside their scope, whatever a page's "Minimum n" says."""
    return _whole_number(environ, "SURVEY_MIN_N_FLOOR", DEFAULT_MIN_N_FLOOR, minimum=SMALLEST_MIN_N_FLOOR)


DEFAULT_DEFECTION_REASONS = ("price", "product", "service", "benefit", "competitor", "personal", "other")


def defection_reasons(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The reasons a defection may give (`SURVEY_DEFECTION_REASONS`, comma-separated, lower case)."""
    raw = _get(environ, "SURVEY_DEFECTION_REASONS")
    if raw is None:
        return DEFAULT_DEFECTION_REASONS
    reasons = tuple(dict.fromkeys(word.strip().lower() for word in raw.split(",") if word.strip()))
    if not reasons or any(len(reason) > 50 for reason in reasons):
        raise ValueError(messages.SETTING_BAD_REASONS.format(name="SURVEY_DEFECTION_REASONS", value=raw))
    return reasons


def session_idle_minutes(environ: Mapping[str, str] | None = None) -> int:
    """Minutes without any page run after which a dashboard sign-in ends (`SURVEY_SESSION_IDLE_MINUTES`)."""
    return _whole_number(environ, "SURVEY_SESSION_IDLE_MINUTES", DEFAULT_SESSION_IDLE_MINUTES, minimum=1)


def session_max_hours(environ: Mapping[str, str] | None = None) -> int:
    """Hours after signing in when a dashboard sign-in ends however active (`SURVEY_SESSION_MAX_HOURS`)."""
    return _whole_number(environ, "SURVEY_SESSION_MAX_HOURS", DEFAULT_SESSION_MAX_HOURS, minimum=1)


def positive_number(environ: Mapping[str, str] | None, name: str, default: float) -> float:
    """The number in variable `name`, `default` when it is unset or blank; ValueError naming the
    variable unless it is a finite number above zero (limits and rates: zero or less means nothing)."""
    raw = _get(environ, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")  # refused below with the same message as zero or infinity
    if not (value > 0 and value < float("inf")):
        raise ValueError(messages.SETTING_NOT_A_POSITIVE_NUMBER.format(name=name, value=raw))
    return value


def smtp_settings(environ: Mapping[str, str] | None = None) -> SmtpSettings | None:
    """The SMTP server to send through, or None when `SURVEY_SMTP_HOST` is not set."""
    host = _get(environ, "SURVEY_SMTP_HOST")
    if not host:
        return None
    security = (_get(environ, "SURVEY_SMTP_SECURITY") or DEFAULT_SECURITY).lower()
    if security not in SECURITY_MODES:
        raise ValueError(messages.SETTING_BAD_CHOICE.format(
            name="SURVEY_SMTP_SECURITY", value=security, choices=", ".join(SECURITY_MODES)))
    raw_port = _get(environ, "SURVEY_SMTP_PORT")
    port = DEFAULT_PORTS[security] if raw_port is None else _port(raw_port)
    sender = _get(environ, "SURVEY_SMTP_FROM")
    if not sender:
        raise ValueError(messages.SMTP_NO_SENDER)
    # the password is taken as it is: spaces may belong to it
    password = (os.environ if environ is None else environ).get("SURVEY_SMTP_PASSWORD") or None
    return SmtpSettings(host=host, port=port, sender=sender, security=security,
                        user=_get(environ, "SURVEY_SMTP_USER"), password=password)


def _port(raw: str) -> int:
    port = int(raw) if raw.isdigit() else 0
    if not 1 <= port <= 65535:
        raise ValueError(messages.SETTING_BAD_PORT.format(name="SURVEY_SMTP_PORT", value=raw))
    return port


def _get(environ: Mapping[str, str] | None, name: str) -> str | None:
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or None


def _whole_number(environ: Mapping[str, str] | None, name: str, default: int, minimum: int) -> int:
    raw = _get(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ValueError(messages.SETTING_NOT_A_NUMBER.format(name=name, value=raw, minimum=minimum))
    return value
