"""The field managers' digest: each one's open cases as CSV and XLSX, and by mail when SMTP is set.

Every cell, headers included, goes through `survey.exports.safe_cell` (a customer called
`=HYPERLINK(...)` arrives as text, never as a formula). Each digest written records an audit
event (who, what, how many rows; no personal data in the subject). Cases without an owner are in
no digest: admins and managers assign them on the Follow-up pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine, select

from survey.people import audit
from survey.storage import db, models
from survey.people.access import READ_FOLLOW_UP_LIST, Actor, require
from survey.exports import write_csv, write_xlsx
from survey.followup.queries import open_cases
from survey.collection.mail import SmtpSettings, connect, send
from survey.storage.models import utc_now

COLUMNS = ["case", "priority", "due_at", "overdue", "status", "customer", "customer_ref", "phone", "email", "region",
           "tier", "annual_value", "survey", "flagged_score", "reasons", "captive_not_loyal"]


@dataclass(frozen=True)
class Digest:
    """One field manager's digest files."""

    owner_id: int
    owner_email: str
    owner_name: str
    rows: int
    csv_path: Path
    xlsx_path: Path


def _file_stem(email: str) -> str:
    return "followups-" + re.sub(r"[^A-Za-z0-9._-]+", "_", email)


def write_digests(engine: Engine, actor: Actor, out_dir: str | Path, now: datetime | None = None,
                  progress: bool = False) -> list[Digest]:
    """Write each owner's open cases (those the actor may read) to `out_dir` as CSV and XLSX."""
    require(actor, READ_FOLLOW_UP_LIST)
    out = Path(out_dir)
    if not out.is_dir():
        raise ValueError(f"--out: {out} is not a directory")
    now = now or utc_now()
    with engine.connect() as connection:
        # a disabled user (someone who left) gets no digest, even while cases still name them
        owners = connection.execute(select(models.User.id, models.User.email, models.User.name)
                                    .where(models.User.disabled_at.is_(None))
                                    .order_by(models.User.email)).all()
    digests = []
    from tqdm import tqdm

    for owner in tqdm(owners, desc="digests", unit="owner", disable=not progress):
        mine = open_cases(engine, actor, owner_id=owner.id, now=now)
        if mine.empty:
            continue
        rows = mine[COLUMNS].astype(object).where(mine[COLUMNS].notna(), None).values.tolist()
        stem = _file_stem(owner.email)
        csv_path, xlsx_path = out / f"{stem}.csv", out / f"{stem}.xlsx"
        write_csv(csv_path, COLUMNS, rows, private=True)
        write_xlsx(xlsx_path, COLUMNS, rows, sheet="follow-ups", private=True)
        with db.session_scope(engine) as session:  # committed per file pair: a later failure keeps it
            audit.record(session, actor, "export", f"follow-up digest of user {owner.id} (CSV and XLSX)", len(rows))
        digests.append(Digest(owner.id, owner.email, owner.name, len(rows), csv_path, xlsx_path))
    return digests


def digest_message(digest: Digest, sender: str, on: datetime) -> EmailMessage:
    """The mail to one field manager with their digest attached."""
    message = EmailMessage()
    message["Subject"] = f"Your follow-ups: {digest.rows} open case{'s' if digest.rows != 1 else ''}"
    message["From"] = sender
    message["To"] = digest.owner_email
    message.set_content(f"Hello {digest.owner_name},\n\nyour {digest.rows} open follow-up case(s) as of "
                        f"{on:%Y-%m-%d %H:%M} UTC are attached, most urgent first (CSV and Excel).\n"
                        "Work them on the 'My follow-ups' page.\n")
    message.add_attachment(digest.csv_path.read_bytes(), maintype="text", subtype="csv",
                           filename=digest.csv_path.name)
    message.add_attachment(digest.xlsx_path.read_bytes(), maintype="application",
                           subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           filename=digest.xlsx_path.name)
    return message


def send_digests(engine: Engine, actor: Actor, digests: list[Digest], smtp: SmtpSettings,
                 now: datetime | None = None) -> list[tuple[str, str]]:
    """Mail each digest to its owner; the refused recipients with the reason. Raises MailError when the
    server cannot be used at all. Each mail sent is an audit event."""
    now = now or utc_now()
    refused = []
    with connect(smtp) as connection, db.session_scope(engine) as session:
        for digest in digests:
            reason = send(connection, digest_message(digest, smtp.sender, now), smtp)
            if reason:
                refused.append((digest.owner_email, reason))
            else:
                audit.record(session, actor, "export", f"follow-up digest mailed to user {digest.owner_id}",
                             digest.rows)
    return refused
