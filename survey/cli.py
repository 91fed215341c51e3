"""The command line: `python -m survey ...`, a thin shell over the library.

Each command parses its arguments, calls one library function and prints the result. Bad
arguments, files or databases give a one-line error (several for a file with several faults) and a
non-zero exit status, never a traceback; set SURVEY_DEBUG=1 to see one anyway.
"""

from __future__ import annotations

import argparse
import os
import sys
import inspect
import traceback
from pathlib import Path
from typing import Callable, Sequence

from sqlalchemy.exc import SQLAlchemyError

from survey.storage import db
from survey.collection.csvfiles import DELIMITERS, ImportProblem
from survey.definitions.definition import DefinitionError, dumps_yaml, load_yaml
from survey.followup.settings import FollowUpSettingsError

EXIT_BAD_INPUT = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A failure to report to the user in one line."""


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports bad arguments in one line instead of a usage block."""

    def error(self, message: str):  # noqa: D401 - argparse's signature
        self.exit(EXIT_USAGE, f"error: {message} (see '{self.prog} --help')\n")


def _engine():
    engine = db.make_engine()
    db.upgrade(engine)
    return engine


def cmd_db_upgrade(args) -> None:
    """Apply database migrations up to the newest schema.

    Example:
        python -m survey db upgrade
        SURVEY_DATABASE_URL=postgresql+psycopg://user:pw@host/db python -m survey db upgrade
    """
    engine = db.make_engine()
    db.upgrade(engine)
    print(f"database at {engine.url.render_as_string(hide_password=True)} is up to date")


def _day(text: str):
    """A YYYY-MM-DD date argument (argparse names the option when it is not one)."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def cmd_demo(args) -> None:
    """Fill the database with deterministic, realistic demo data (surveys, customers, responses).

    Example:
        python -m survey demo --customers 5000 --responses 1000000 --seed 7 --end 2026-10-31
    """
    for name in ("customers", "responses"):
        if getattr(args, name) < 1:
            raise CommandError(f"--{name} must be at least 1")
    from survey import demo

    summary = demo.generate(_engine(), customers=args.customers, responses=args.responses,
                            seed=args.seed, progress=True, end=args.end)
    print(summary)


def cmd_survey_publish(args) -> None:
    """Publish a YAML survey definition (a changed survey becomes its next version).

    Example:
        python -m survey survey publish sample_data/surveys/post_support.yaml
    """
    from survey.definitions.publishing import publish

    definition = load_yaml(args.file)
    with db.session_scope(_engine()) as session:
        version = publish(session, definition)
        print(f"published {definition.slug} version {version.number}")


def cmd_survey_import_xlsform(args) -> None:
    """Import an XLSForm (.xlsx, .xls, .csv, .md): publish it, or write it out as YAML with --yaml.

    Metrics the import proposes (an NPS-like 0-10 question, ...) are printed as warnings; with
    --accept-proposed-metrics they are declared.

    Example:
        python -m survey survey import-xlsform sample_data/surveys/store_visit.xlsx
        python -m survey survey import-xlsform form.xls --yaml form.yaml --accept-proposed-metrics
    """
    from survey.definitions.publishing import publish
    from survey.definitions.xlsform import read_xlsform

    result = read_xlsform(args.file, accept_proposed_metrics=args.accept_proposed_metrics)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.yaml:
        Path(args.yaml).write_text(dumps_yaml(result.survey), encoding="utf-8")
        print(f"wrote {args.yaml}")
        return
    with db.session_scope(_engine()) as session:
        version = publish(session, result.survey)
        print(f"published {result.survey.slug} version {version.number}")


def cmd_survey_list(args) -> None:
    """List surveys with their versions and response counts.

    Example:
        python -m survey survey list
    """
    from survey.definitions.publishing import list_surveys

    with db.session_scope(_engine()) as session:
        summaries = list_surveys(session)
    if not summaries:
        print("no surveys yet: publish one with 'python -m survey survey publish FILE'")
    for s in summaries:
        print(f"{s.slug:<24} {s.status:<7} v{s.versions:<3} {s.responses:>9} responses  {s.title}")


def _import_csv(importer: Callable, path: str, **options):
    """`importer(session, path, **options)` in one transaction (all rows stored or none); its summary."""
    with db.session_scope(_engine()) as session:
        return importer(session, path, **options)


def _read_as(summary) -> str:
    """The end of an import's summary line: how the file's columns were told apart."""
    return f"(read as {DELIMITERS[summary.delimiter]}-separated)"


def cmd_customers_import(args) -> None:
    """Create or update customers from a CSV file (all rows or none).

    Example:
        python -m survey customers import sample_data/csv/customers.csv
    """
    from survey.collection.customers import import_customers

    summary = _import_csv(import_customers, args.file)
    print(f"{summary.created} customers created, {summary.updated} updated {_read_as(summary)}")


def cmd_events_import(args) -> None:
    """Store customer events (purchases, renewals, defections) from a CSV file (all rows or none).

    Re-importing stores nothing twice (idempotent on the event_id column).

    Example:
        python -m survey events import sample_data/csv/customer_events.csv
    """
    from survey.retention.events import import_events

    summary = _import_csv(import_events, args.file)
    print(f"{summary.created} events stored, {summary.unchanged} already stored {_read_as(summary)}")


def cmd_responses_import(args) -> None:
    """Import phone, paper or kiosk answers from a CSV file; re-importing stores nothing twice.

    With any bad row nothing is written and every fault is listed, unless --skip-invalid.

    Example:
        python -m survey responses import sample_data/csv/responses.csv
        python -m survey responses import kiosk.csv --survey post-support --skip-invalid
    """
    from survey.collection.response_import import import_responses

    summary = _import_csv(import_responses, args.file, survey_slug=args.survey, skip_invalid=args.skip_invalid,
                          progress=True)
    for problem in summary.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    print(f"{summary.stored} responses stored, {summary.already_stored} already stored"
          + (f", {summary.skipped} rows skipped" if summary.skipped else "")
          + f" {_read_as(summary)}")


def cmd_invitations_create(args) -> None:
    """Create personal invitations to a survey for all customers, or those in the given segments.

    Customers without consent to be contacted, invited to the survey within the quiet period
    (SURVEY_INVITATION_QUIET_DAYS, default 90) or, for email, without an address are skipped.
    Links stay valid for SURVEY_INVITATION_VALID_DAYS (default 30).

    Example:
        python -m survey invitations create relationship-nps
        python -m survey invitations create relationship-nps --region North --region East --tier Gold
        python -m survey invitations create post-support --channel link
    """
    from survey.collection.invitations import create_invitations

    filters = {name: getattr(args, name) for name in ("region", "tier", "industry", "field_manager")
               if getattr(args, name)}
    with db.session_scope(_engine()) as session:
        batch = create_invitations(session, args.slug, filters, channel=args.channel)
    print(f"{batch.created} invitations created; skipped {batch.skipped_no_consent} without consent, "
          f"{batch.skipped_quiet_period} invited recently, {batch.skipped_no_email} without an email address")


def cmd_invitations_export(args) -> None:
    """Write a survey's open invitations (customer, email, personal link, expiry) to a CSV file.

    The file holds personal links: anyone with a link can answer as that customer. Links start
    with SURVEY_PUBLIC_URL (default http://localhost:8501).

    Example:
        SURVEY_PUBLIC_URL=https://survey.example.com python -m survey invitations export relationship-nps links.csv
    """
    from survey.people import audit
    from survey.people.access import Actor
    from survey.collection.invitations import export_invitations

    with db.session_scope(_engine()) as session:
        count = export_invitations(session, args.slug, args.out)
        audit.record(session, Actor.command_line(), "export", f"invitations of survey {args.slug}", rows=count)
    print(f"wrote {count} invitations to {args.out}")


def cmd_invitations_send(args) -> None:
    """Email a survey's unsent invitations through the SMTP server in the settings.

    Settings: SURVEY_SMTP_HOST, SURVEY_SMTP_PORT, SURVEY_SMTP_SECURITY (none, starttls or ssl),
    SURVEY_SMTP_USER, SURVEY_SMTP_PASSWORD, SURVEY_SMTP_FROM, SURVEY_PUBLIC_URL. Running it again
    sends only what was not sent; refused recipients are listed and tried again next time.

    Example:
        SURVEY_SMTP_HOST=smtp.example.com SURVEY_SMTP_USER=survey SURVEY_SMTP_PASSWORD=... \\
        SURVEY_SMTP_FROM=survey@example.com python -m survey invitations send relationship-nps
    """
    from survey.collection.invitations import send_invitations
    from survey.collection.mail import MailError
    from survey.settings import Settings

    settings = Settings.from_env()
    try:
        with db.session_scope(_engine()) as session:
            report = send_invitations(session, args.slug, settings, progress=True)
    except MailError as error:
        raise CommandError(f"{error} (invitations sent before this are recorded; run again to continue)") from None
    print(_mailing_summary(report, "invitations"))


def _mailing_summary(report, what: str) -> str:
    """Each refused address on stderr; the one line of what was sent, refused and skipped."""
    for refusal in report.refused:
        print(f"refused: {refusal.email}: {refusal.reason}", file=sys.stderr)
    skipped = report.skipped_no_consent + report.skipped_no_email
    return (f"{report.sent} {what} sent, {len(report.refused)} refused"
            + (f", {skipped} skipped (consent withdrawn or no email address)" if skipped else ""))


def cmd_apikey_create(args) -> None:
    """Create a key for the JSON API; it is printed once and stored only as a hash.

    Send it as `X-API-Key: <key>` (or `Authorization: Bearer <key>`); NAME says who uses it.

    Example:
        python -m survey apikey create "kiosk in Lyon"
    """
    from survey.collection.apikeys import create_key

    with db.session_scope(_engine()) as session:
        created = create_key(session, args.name)
    print(f"API key {created.name!r} (prefix {created.prefix}); copy it now, it is not shown again:")
    print(created.key)


def cmd_apikey_revoke(args) -> None:
    """Revoke an API key by its prefix (as `apikey create` printed it); requests with it get 401.

    A running server may accept the key for a few more seconds (verified keys are cached briefly).

    Example:
        python -m survey apikey revoke sk_Ab3dEf9h
    """
    from survey.collection.apikeys import revoke_key

    with db.session_scope(_engine()) as session:
        revoke_key(session, args.prefix)
    print(f"API key {args.prefix} revoked")


def cmd_user_add(args) -> None:
    """Add a user who signs in to the dashboard; a random password is printed once.

    Roles: admin (everything), manager (dashboard and follow-up overview, all segments),
    field_manager (their own customers' cases and responses, and the aggregate pages).

    Example:
        python -m survey user add --role field_manager --name "Ann Lee" --region North ann@example.com
    """
    from survey.people.accounts import add_user
    from survey.people.access import Actor

    user, password = add_user(_engine(), Actor.command_line(), args.email, args.role, name=args.name or "",
                              region=args.region)
    print(f"added {user.email} as {user.role}; password (shown once, ask them to keep it safe):")
    print(password)


def cmd_user_reset_password(args) -> None:
    """Give a user a new random password (printed once) and lift any lockout.

    Example:
        python -m survey user reset-password ann@example.com
    """
    from survey.people.accounts import reset_password
    from survey.people.access import Actor

    password = reset_password(_engine(), Actor.command_line(), args.email)
    print(f"new password for {args.email.strip().lower()} (shown once):")
    print(password)


def cmd_user_list(args) -> None:
    """List users with their role, region and sign-in state.

    Example:
        python -m survey user list
    """
    from survey.people.accounts import list_users
    from survey.people.access import Actor

    for user in list_users(_engine(), Actor.command_line()):
        state = ("disabled" if user["disabled_at"] else "locked" if user["locked_until"] else "active")
        print(f"{user['email']}\t{user['role']}\t{user['region'] or ''}\t{state}"
              + ("\tdemo" if user["is_demo"] else ""))


def cmd_customer_erase(args) -> None:
    """Erase a customer's personal data; their responses stay as anonymous answers (or go, with
    --delete-responses), their open cases are closed, and the audit log records that it happened.

    Example:
        python -m survey customer erase C000042
        python -m survey customer erase C000042 --delete-responses
    """
    from survey.people.access import Actor
    from survey.people.privacy import erase_customer

    done = erase_customer(_engine(), Actor.command_line(), args.ref, delete_responses=args.delete_responses)
    kept = (f"{done.responses_deleted} response(s) deleted" if args.delete_responses
            else f"{done.responses_unlinked} response(s) kept as anonymous answers")
    print(f"customer {args.ref} erased: {kept}, {done.cases_closed} open case(s) closed, "
          f"{done.texts_redacted} text(s) redacted")
    if not done.purged:
        print("warning: old copies of the erased values may stay in the database files until the next "
              "checkpoint (SQLite: readers kept the WAL busy) or vacuum (PostgreSQL: VACUUM was refused)",
              file=sys.stderr)


def cmd_retention_apply(args) -> None:
    """Erase the personal data of customers inactive longer than the retention period
    (SURVEY_RETENTION_DAYS, default 1095 days; or --days). --dry-run only lists them.

    Example:
        python -m survey retention apply --dry-run
        SURVEY_RETENTION_DAYS=730 python -m survey retention apply
    """
    from tqdm import tqdm

    from survey.people.access import Actor
    from survey.people.privacy import apply_retention
    from survey.settings import retention_days

    days = args.days if args.days is not None else retention_days()
    found = apply_retention(_engine(), Actor.command_line(), days, dry_run=args.dry_run,
                            progress=lambda rows: tqdm(rows, desc="erasing", unit="customer"))
    if args.dry_run:
        for inactive in found:
            print(f"would erase {inactive.external_ref} (last activity {inactive.last_activity:%Y-%m-%d})")
        print(f"{len(found)} customer(s) inactive for more than {days} days; nothing changed (dry run)")
    else:
        print(f"{len(found)} customer(s) inactive for more than {days} days erased")


def cmd_audit_list(args) -> None:
    """Show the newest audit events: exports of personal data, erasures, account changes.

    Example:
        python -m survey audit list --limit 50
    """
    from survey.people.access import Actor
    from survey.people.audit import events

    for row in events(_engine(), Actor.command_line(), limit=args.limit).itertuples(index=False):
        print(f"{row.at:%Y-%m-%d %H:%M:%S}\t{row.actor}\t{row.action}\t{row.subject}"
              + (f"\t{int(row.rows)} rows" if row.rows == row.rows and row.rows is not None else ""))


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {value!r}")
    return int(value)


def cmd_followup_flag(args) -> None:
    """Evaluate the follow-up rules on stored responses and open or join cases (idempotent).

    Submissions and imports are flagged as they are stored; run this after changing the rules file
    or when flagging failed (the log says so). Responses flagged before are left as they are.

    Example:
        python -m survey followup flag --survey relationship-nps --since 2026-10-01
    """
    from survey.followup.cases import flag_survey
    from survey.followup.settings import load_settings

    settings = load_settings()
    since = _date_argument("--since", args.since) if args.since else None
    with db.session_scope(_engine()) as session:
        summary = flag_survey(session, args.survey, since=since, settings=settings, progress=True)
    print(f"{summary.evaluated} responses evaluated, {summary.flagged} flagged: "
          f"{summary.opened} cases opened, {summary.joined} added to open cases")


def cmd_followup_digest(args) -> None:
    """Write each field manager's open follow-up cases as CSV and XLSX; with --send, mail them.

    Files are named followups-<email>.csv/.xlsx and readable by their owner only; every cell is
    formula-safe. Mail uses the SMTP settings (see 'invitations send'). Each digest is audited.

    Example:
        python -m survey followup digest --out digests/
        SURVEY_SMTP_HOST=smtp.example.com SURVEY_SMTP_FROM=survey@example.com \\
            python -m survey followup digest --out digests/ --send
    """
    from survey.people.access import Actor
    from survey.followup.digest import send_digests, write_digests
    from survey.collection.mail import MailError
    from survey.settings import smtp_settings

    smtp = smtp_settings() if args.send else None
    if args.send and smtp is None:
        raise CommandError("--send: SMTP is not configured (set SURVEY_SMTP_HOST and SURVEY_SMTP_FROM)")
    engine = _engine()
    actor = Actor.command_line()
    digests = write_digests(engine, actor, args.out, progress=True)
    for digest in digests:
        print(f"{digest.owner_email}: {digest.rows} open cases -> {digest.csv_path.name}, {digest.xlsx_path.name}")
    print(f"{len(digests)} digests written to {args.out}")
    if smtp is not None and digests:
        try:
            refused = send_digests(engine, actor, digests, smtp)
        except MailError as error:
            raise CommandError(str(error)) from None
        for email, reason in refused:
            print(f"refused: {email}: {reason}", file=sys.stderr)
        print(f"{len(digests) - len(refused)} digests mailed, {len(refused)} refused")


def cmd_followup_escalate(args) -> None:
    """Escalate open cases overdue by more than escalate_after_hours to the owner's manager (once each).

    Example:
        python -m survey followup escalate
    """
    from survey.people.access import Actor
    from survey.followup.workflow import escalate_overdue

    with db.session_scope(_engine()) as session:
        done = escalate_overdue(session, Actor.command_line())
    for escalation in done:
        print(f"case {escalation.case_id}: {escalation.hours_overdue:.0f} hours overdue -> "
              f"{escalation.manager_email or 'no manager on record'}")
    print(f"{len(done)} cases escalated")


def cmd_followup_reinvite(args) -> None:
    """Invite customers whose case was resolved reinvite_after_days ago to the same survey again.

    The new invitations are sent like any other ('invitations send SLUG'); each case once.

    Example:
        python -m survey followup reinvite && python -m survey invitations send relationship-nps
    """
    from survey.people.access import Actor
    from survey.followup.workflow import reinvite_recovered

    with db.session_scope(_engine()) as session:
        count = reinvite_recovered(session, Actor.command_line())
    print(f"{count} customers re-invited")


def cmd_followup_check_settings(args) -> None:
    """Check a follow-up rules file (default: the one in use) and say what it sets.

    Example:
        python -m survey followup check-settings my-rules.yaml
        SURVEY_FOLLOWUP_SETTINGS=my-rules.yaml python -m survey followup check-settings
    """
    from survey.followup.settings import load_settings, settings_path

    path = args.file or settings_path()
    settings = load_settings(path)
    print(f"{path}: valid; rules on: {', '.join(sorted(settings.enabled)) or 'none'}; "
          f"{len(settings.root_causes)} root causes; {len(settings.region_owners)} region owners")

# --- exports, webhooks and reminders (issue 17) --------------------------------------------------


def cmd_export(args) -> None:
    """Export a survey's responses for SPSS, Stata, Excel or R: one row per response, one column per answer.

    Formats: csv, xlsx (with a "columns" sheet describing each column), sav (SPSS) and dta (Stata),
    both with variable and value labels. No contact details; recorded in the audit log. Without
    --out the file is SLUG-responses-DATE.FORMAT in the current folder.

    Example:
        python -m survey export relationship-nps --format sav
        python -m survey export relationship-nps --format xlsx --since 2026-01-01 --until 2026-03-31 --out q1.xlsx
    """
    from survey.people.access import Actor
    from survey.response_export import ExportProblem, file_name, write_export
    from survey.storage.filters import Filters

    since = _date_argument("--since", args.since).date() if args.since else None
    until = _date_argument("--until", args.until).date() if args.until else None
    if since and until and since > until:
        raise CommandError(f"--since {since} is after --until {until}")
    filters = Filters(args.slug, versions=(args.version,) if args.version else (), start=since, end=until)
    out = args.out or file_name(filters, args.format)
    try:
        summary = write_export(_engine(), Actor.command_line(), filters, args.format, out, progress=True)
    except ExportProblem as error:
        raise CommandError(str(error)) from None
    print(f"wrote {summary.rows} responses ({summary.columns} columns) to {summary.path}")


def cmd_webhook_add(args) -> None:
    """Add a webhook: events are POSTed to URL as signed JSON; its signing secret is printed once.

    Events: response.created, case.opened, case.resolved. Each delivery carries the headers
    X-Survey-Event-Id, X-Survey-Timestamp and X-Survey-Signature (sha256=HMAC-SHA256 of the raw
    body under the secret); see the README's "Webhooks" for checking them.

    Example:
        python -m survey webhook add https://crm.example.com/hooks/survey --events response.created case.opened
    """
    from survey.integrations.webhooks import add_webhook

    with db.session_scope(_engine()) as session:
        added = add_webhook(session, args.url, [e for item in args.events for e in item.split(",")],
                            args.description or "")
    print(f"webhook {added.id} added for {', '.join(added.events)} at {added.url}")
    print(f"signing secret (shown once, keep it with the receiver): {added.secret}")


def cmd_webhook_list(args) -> None:
    """List the webhooks with their deliveries: waiting, delivered and failed.

    Example:
        python -m survey webhook list
    """
    from survey.integrations.webhooks import list_webhooks

    for hook in list_webhooks(_engine()):
        state = "disabled" if hook["disabled_at"] else "enabled"
        print(f"{hook['id']}\t{state}\t{hook['url']}\t{','.join(hook['events'])}\t"
              f"{hook['pending']} waiting, {hook['delivered']} delivered, {hook['failed']} failed")


def cmd_webhook_disable(args) -> None:
    """Stop sending new events to a webhook (what is already waiting is still sent).

    Example:
        python -m survey webhook disable 3
    """
    from survey.integrations.webhooks import disable_webhook

    with db.session_scope(_engine()) as session:
        disable_webhook(session, args.id)
    print(f"webhook {args.id} disabled")


def cmd_webhook_deliver(args) -> None:
    """Send every webhook delivery that is due now, with retries and backoff; for a scheduled job.

    The app server sends them too (every SURVEY_WEBHOOK_INTERVAL_SECONDS); both can run at once.
    Settings: SURVEY_WEBHOOK_MAX_ATTEMPTS, SURVEY_WEBHOOK_BACKOFF_SECONDS,
    SURVEY_WEBHOOK_TIMEOUT_SECONDS, SURVEY_WEBHOOK_LEASE_SECONDS.

    Example:
        python -m survey webhook deliver
    """
    from survey.integrations.delivery import DeliverySettings, deliver_due

    report = deliver_due(_engine(), DeliverySettings.from_env())
    print(f"{report.delivered} delivered, {report.failed_tries} tries failed (to be retried)"
          + (f", {report.gave_up} given up after the last try" if report.gave_up else ""))


def cmd_webhook_retry(args) -> None:
    """Queue failed webhook deliveries again, from the first try.

    Example:
        python -m survey webhook retry 41 42
    """
    from survey.integrations.webhooks import retry

    with db.session_scope(_engine()) as session:
        queued = retry(session, args.ids)
    print(f"{queued} deliveries queued again")


def cmd_invitations_remind(args) -> None:
    """Email a reminder to invitees who have not answered, at most --max times (default 2) each.

    Only invitations whose last email is at least --after-days days old get one; never those who
    answered, withdrew their consent, were erased or have no email address. Each reminder is
    recorded; the Overview shows the response rate after the invitation and after each reminder.
    Uses the same SMTP settings as 'invitations send'.

    Example:
        python -m survey invitations remind relationship-nps --after-days 7 --max 2
    """
    from survey.collection.mail import MailError
    from survey.collection.reminders import send_reminders
    from survey.settings import Settings

    settings = Settings.from_env()
    try:
        with db.session_scope(_engine()) as session:
            report = send_reminders(session, args.slug, settings, after_days=args.after_days,
                                    max_reminders=args.max, progress=True)
    except MailError as error:
        raise CommandError(f"{error} (reminders sent before this are recorded; run again to continue)") from None
    print(_mailing_summary(report, "reminders")
          + (f", {report.at_most_reminded} already reminded {args.max} times" if report.at_most_reminded else ""))


def _add_issue_17_commands(groups, command, invitations) -> None:
    """The parsers of the export, webhook and reminder commands."""
    from survey.response_export import FORMATS

    exporting = command(groups, "export", cmd_export)
    exporting.add_argument("slug")
    exporting.add_argument("--format", choices=FORMATS, default="csv", help="csv, xlsx, sav (SPSS) or dta (Stata)")
    exporting.add_argument("--out", metavar="FILE", help="where to write (default: SLUG-responses-DATE.FORMAT)")
    exporting.add_argument("--since", metavar="DATE", help="only responses submitted on or after DATE (YYYY-MM-DD)")
    exporting.add_argument("--until", metavar="DATE", help="only responses submitted on or before DATE (YYYY-MM-DD)")
    exporting.add_argument("--version", type=_positive, metavar="N", help="only answers to version N")

    reminding = command(invitations, "remind", cmd_invitations_remind)
    reminding.add_argument("slug")
    reminding.add_argument("--after-days", type=_positive, required=True, metavar="N",
                           help="remind when the last email is at least N days old")
    reminding.add_argument("--max", type=_positive, default=2, metavar="M", help="reminders per invitee at most (default 2)")

    from survey.integrations.outbox import EVENTS

    webhook = groups.add_parser("webhook", help="event notifications to other systems").add_subparsers(
        dest="command", required=True)
    adding = command(webhook, "add", cmd_webhook_add)
    adding.add_argument("url")
    adding.add_argument("--events", nargs="+", required=True, metavar="EVENT", help=f"one or more of: {', '.join(EVENTS)}")
    adding.add_argument("--description", help="what receives them, e.g. 'CRM'")
    command(webhook, "list", cmd_webhook_list)
    command(webhook, "disable", cmd_webhook_disable).add_argument("id", type=_positive)
    command(webhook, "deliver", cmd_webhook_deliver)
    command(webhook, "retry", cmd_webhook_retry).add_argument("ids", type=_positive, nargs="+", metavar="ID")


def _date_argument(name: str, value: str):
    from datetime import datetime, timezone

    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _directory(value: str) -> str:
    if not Path(value).is_dir():
        raise argparse.ArgumentTypeError(f"no such directory: {value}")
    return value


def _existing_file(value: str) -> str:
    if not Path(value).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command; each command's help carries an example."""
    # the `survey` command of `pip install .` (pyproject.toml) names itself; otherwise `python -m survey`
    prog = "survey" if Path(sys.argv[0]).name == "survey" else "python -m survey"
    parser = OneLineParser(prog=prog, description="Survey and satisfaction toolkit.")
    groups = parser.add_subparsers(dest="group", required=True, parser_class=OneLineParser)

    def command(sub, name: str, function: Callable) -> argparse.ArgumentParser:
        doc = inspect.cleandoc(function.__doc__ or "")
        summary = doc.strip().splitlines()[0]
        found = sub.add_parser(name, help=summary, description=doc,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        found.set_defaults(handler=function)
        return found

    db_group = groups.add_parser("db", help="database schema").add_subparsers(dest="command", required=True)
    command(db_group, "upgrade", cmd_db_upgrade)

    demo = command(groups, "demo", cmd_demo)
    demo.add_argument("--customers", type=int, default=2000, help="number of customers (default 2000)")
    demo.add_argument("--responses", type=int, default=50_000, help="number of responses (default 50000)")
    demo.add_argument("--seed", type=int, default=7, help="random seed: same seed, same data (default 7)")
    demo.add_argument("--end", type=_day, default=None,
                      help="last day of the data, YYYY-MM-DD (default: yesterday); same seed and end, same data")

    survey_group = groups.add_parser("survey", help="survey definitions").add_subparsers(dest="command", required=True)
    command(survey_group, "publish", cmd_survey_publish).add_argument("file", type=_existing_file)
    xlsform = command(survey_group, "import-xlsform", cmd_survey_import_xlsform)
    xlsform.add_argument("file", type=_existing_file)
    xlsform.add_argument("--yaml", metavar="OUT", help="write the definition as YAML instead of publishing")
    xlsform.add_argument("--accept-proposed-metrics", action="store_true",
                         help="declare the metrics the import proposes (printed as warnings otherwise)")
    command(survey_group, "list", cmd_survey_list)

    customers = groups.add_parser("customers", help="customer records").add_subparsers(dest="command", required=True)
    command(customers, "import", cmd_customers_import).add_argument("file", type=_existing_file)

    events = groups.add_parser("events", help="customer events: purchases, renewals, defections").add_subparsers(
        dest="command", required=True)
    command(events, "import", cmd_events_import).add_argument("file", type=_existing_file)

    responses = groups.add_parser("responses", help="survey responses").add_subparsers(dest="command", required=True)
    importing = command(responses, "import", cmd_responses_import)
    importing.add_argument("file", type=_existing_file)
    importing.add_argument("--survey", metavar="SLUG", help="the survey answered (else a 'survey' column)")
    importing.add_argument("--skip-invalid", action="store_true", help="store the good rows, report the bad")

    invitations = groups.add_parser("invitations", help="personal invitations").add_subparsers(
        dest="command", required=True)
    creating = command(invitations, "create", cmd_invitations_create)
    creating.add_argument("slug")
    for option, name in (("--region", "region"), ("--tier", "tier"), ("--industry", "industry")):
        creating.add_argument(option, action="append", metavar=name.upper(),
                              help=f"only customers in this {name} (repeatable)")
    creating.add_argument("--field-manager", action="append", metavar="EMAIL",
                          help="only customers of this field manager (repeatable)")
    creating.add_argument("--channel", choices=("email", "link"), default="email",
                          help="email (sent by 'invitations send') or link (handed out from the export)")
    exporting = command(invitations, "export", cmd_invitations_export)
    exporting.add_argument("slug")
    exporting.add_argument("out", metavar="OUT.csv")
    command(invitations, "send", cmd_invitations_send).add_argument("slug")
    _add_issue_17_commands(groups, command, invitations)

    apikey = groups.add_parser("apikey", help="keys for the JSON API").add_subparsers(dest="command", required=True)
    command(apikey, "create", cmd_apikey_create).add_argument("name", help="who uses the key, e.g. 'kiosk in Lyon'")
    command(apikey, "revoke", cmd_apikey_revoke).add_argument("prefix", help="the key's prefix, e.g. sk_Ab3dEf9h")

    from survey.people.access import ROLES

    user = groups.add_parser("user", help="dashboard accounts").add_subparsers(dest="command", required=True)
    adding = command(user, "add", cmd_user_add)
    adding.add_argument("email")
    adding.add_argument("--role", required=True, choices=ROLES)
    adding.add_argument("--name", help="the name shown in the app (default: from the email)")
    adding.add_argument("--region", help="a field manager's region")
    command(user, "reset-password", cmd_user_reset_password).add_argument("email")
    command(user, "list", cmd_user_list)

    customer = groups.add_parser("customer", help="one customer's personal data").add_subparsers(
        dest="command", required=True)
    erasing = command(customer, "erase", cmd_customer_erase)
    erasing.add_argument("ref", help="the customer's reference (external_ref)")
    erasing.add_argument("--delete-responses", action="store_true",
                         help="delete their responses too (default: keep them as anonymous answers)")

    retention = groups.add_parser("retention", help="keeping personal data no longer than needed").add_subparsers(
        dest="command", required=True)
    applying = command(retention, "apply", cmd_retention_apply)
    applying.add_argument("--dry-run", action="store_true", help="list what would be erased, change nothing")
    applying.add_argument("--days", type=_positive, help="override SURVEY_RETENTION_DAYS")

    audit_group = groups.add_parser("audit", help="the audit log").add_subparsers(dest="command", required=True)
    command(audit_group, "list", cmd_audit_list).add_argument("--limit", type=_positive, default=100)

    followup = groups.add_parser("followup", help="follow-up cases").add_subparsers(dest="command", required=True)
    flagging = command(followup, "flag", cmd_followup_flag)
    flagging.add_argument("--survey", metavar="SLUG", help="only this survey's responses")
    flagging.add_argument("--since", metavar="DATE", help="only responses submitted on or after DATE (YYYY-MM-DD)")
    digest = command(followup, "digest", cmd_followup_digest)
    digest.add_argument("--out", metavar="DIR", type=_directory, default=".", help="folder for the files (default .)")
    digest.add_argument("--send", action="store_true", help="also mail each digest to its field manager")
    command(followup, "escalate", cmd_followup_escalate)
    command(followup, "reinvite", cmd_followup_reinvite)
    command(followup, "check-settings", cmd_followup_check_settings).add_argument(
        "file", nargs="?", type=_existing_file, help="the rules file (default: the one in use)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except (DefinitionError, ImportProblem, FollowUpSettingsError) as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (CommandError, LookupError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SQLAlchemyError as error:
        print(f"error: database problem: {str(error.orig if hasattr(error, 'orig') and error.orig else error).splitlines()[0]}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: still one line for the user, the trace on request
        if os.environ.get("SURVEY_DEBUG"):
            traceback.print_exc()
        print(f"error: unexpected {type(error).__name__}: {error} (set SURVEY_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0
