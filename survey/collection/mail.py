"""Sending mail through SMTP: connection settings, one connection per run, one message per recipient.

The connection follows `SmtpSettings.security`: `none` (plain SMTP, for a relay on the same
host or a test server), `starttls` (upgrade a plain connection, usually port 587) or `ssl` (TLS
from the first byte, usually port 465). Credentials are sent only when a user is set, and only
after the connection is encrypted unless security is `none`.

A failure to connect, to encrypt or to sign in is a `MailError` naming `host:port`; a recipient the
server refuses is returned by `send`, not raised, so that one bad address never stops a run.

Example:
    >>> settings = SmtpSettings(host="127.0.0.1", port=1, sender="survey@example.com", timeout=2)
    >>> try:
    ...     with connect(settings):
    ...         pass
    ... except MailError as error:
    ...     print(str(error).split(":")[0] + ":" + str(error).split(":")[1])
    cannot connect to the SMTP server 127.0.0.1:1
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Iterator

from survey import messages

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class MailError(RuntimeError):
    """The SMTP server cannot be used at all (unreachable, TLS or sign-in failure, sender refused)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail. The password never appears in the repr (nor in logs of it)."""

    host: str
    port: int
    sender: str
    security: str = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(messages.SMTP_BAD_SECURITY.format(value=self.security,
                                                               modes=", ".join(SECURITY_MODES)))
        if not self.host:
            raise ValueError(messages.SMTP_NO_HOST)
        if not self.sender:
            raise ValueError(messages.SMTP_NO_SENDER)

    @property
    def address(self) -> str:
        """`host:port`, as error messages name the server."""
        return f"{self.host}:{self.port}"


@contextmanager
def connect(settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
    """An open, encrypted (as configured) and signed-in SMTP connection; closed on exit."""
    context = ssl.create_default_context()
    try:
        if settings.security == "ssl":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                        context=context)
        else:
            connection = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(messages.SMTP_CANNOT_CONNECT.format(address=settings.address, problem=_reason(error))) from None
    try:
        try:
            connection.ehlo()
            if settings.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
            if settings.user:
                connection.login(settings.user, settings.password or "")
        except smtplib.SMTPAuthenticationError as error:
            raise MailError(messages.SMTP_LOGIN_FAILED.format(address=settings.address, user=settings.user,
                                                              problem=_reason(error))) from None
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(messages.SMTP_CANNOT_CONNECT.format(address=settings.address,
                                                                problem=_reason(error))) from None
        yield connection
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


def send(connection: smtplib.SMTP, message: EmailMessage, settings: SmtpSettings) -> str | None:
    """Send one message; None when the server accepted it, else why the recipient was refused.

    Raises MailError when the server refuses the sender or drops the connection: every later
    message would fail the same way.
    """
    try:
        refused = connection.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        return "; ".join(_reason(reply) for reply in error.recipients.values())
    except smtplib.SMTPSenderRefused as error:
        raise MailError(messages.SMTP_SENDER_REFUSED.format(address=settings.address, sender=settings.sender,
                                                            problem=_reason(error))) from None
    except smtplib.SMTPDataError as error:
        if 500 <= error.smtp_code < 600:  # permanent: this message, not the connection
            return _reason(error)
        raise MailError(messages.SMTP_SEND_FAILED.format(address=settings.address, problem=_reason(error))) from None
    except smtplib.SMTPNotSupportedError as error:  # e.g. a non-ASCII address and no SMTPUTF8
        return _reason(error)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(messages.SMTP_SEND_FAILED.format(address=settings.address, problem=_reason(error))) from None
    if refused:
        return "; ".join(_reason(reply) for reply in refused.values())
    return None


def _reason(error: object) -> str:
    """A short, one-line reason from an smtplib error, an OSError or an SMTP (code, message) reply."""
    if isinstance(error, tuple) and len(error) == 2:
        code, text = error
        return f"{code} {_text(text)}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, socket.timeout):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())
