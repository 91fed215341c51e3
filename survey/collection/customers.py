"""Customers: importing them from a CSV export of the company's CRM.

The file format (see sample_data/csv/customers.csv):

| column | meaning |
|---|---|
| external_ref | required; the CRM's id, unique; an existing customer with it is updated |
| name | required |
| email, phone | contact details (optional); an email must be a valid address (syntax only, no look-up) |
| consent_to_contact | yes/no (default no: nobody is called without consent) |
| region, tier, industry | segment fields |
| annual_value | revenue per year, a finite number from 0 to 10^15 |
| tenure_start | customer since, YYYY-MM-DD |
| field_manager_email | the owning field manager; must be a known user |
| any other column | kept as a free attribute |

The file may be comma-, semicolon- or tab-separated (detected from the header, and stated in the
summary); it is read strictly: see `survey.collection.csvfiles`.

Example:
    >>> from survey.storage.db import make_engine, upgrade, session_scope
    >>> engine = make_engine("sqlite://"); upgrade(engine)
    >>> with session_scope(engine) as session:
    ...     import_customers(session, "sample_data/csv/customers.csv")
    ImportSummary(created=12, updated=0, delimiter=',')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.storage import models
from survey.collection.csvfiles import RowParser, read_rows

MAX_ANNUAL_VALUE = 1e15  # beyond any company's revenue: a larger figure is a typo or a unit error
KNOWN_COLUMNS = ("external_ref", "name", "email", "phone", "consent_to_contact", "region", "tier",
                 "industry", "annual_value", "tenure_start", "field_manager_email")


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote."""

    created: int
    updated: int
    delimiter: str = ","  # the file's delimiter as detected: ",", ";" or "\t"


def import_customers(session: Session, path: str | Path) -> ImportSummary:
    """Create or update customers from a CSV file; write nothing unless every row is valid.

    Raises `ImportProblem` listing each faulty row and column.
    """
    table = read_rows(path, required=("external_ref", "name"))
    parse = RowParser(table)
    managers = dict(session.execute(select(models.User.email, models.User.id)).all())
    seen: dict[str, int] = {}
    records = []
    for number, row in table.rows:
        ref = parse.text(number, "external_ref", row.get("external_ref", ""), required=True, max_length=100)
        if ref in seen:
            parse.fail(number, "external_ref", f"{ref!r} appears more than once in the file")
        seen.setdefault(ref, number)
        manager_email = row.get("field_manager_email", "")
        records.append(dict(
            external_ref=ref,
            name=parse.text(number, "name", row.get("name", ""), required=True, max_length=200),
            email=parse.email(number, "email", row.get("email", "")),
            phone=parse.text(number, "phone", row.get("phone", ""), max_length=50),
            consent_to_contact=parse.boolean(number, "consent_to_contact", row.get("consent_to_contact", "")),
            region=parse.text(number, "region", row.get("region", ""), max_length=100),
            tier=parse.text(number, "tier", row.get("tier", ""), max_length=50),
            industry=parse.text(number, "industry", row.get("industry", ""), max_length=100),
            annual_value=parse.number(number, "annual_value", row.get("annual_value", ""), minimum=0,
                                      maximum=MAX_ANNUAL_VALUE),
            tenure_start=parse.day(number, "tenure_start", row.get("tenure_start", "")),
            field_manager_id=managers.get(manager_email),
            attributes={k: v for k, v in row.items() if k not in KNOWN_COLUMNS and k and v},
        ))
        if manager_email and manager_email not in managers:
            parse.fail(number, "field_manager_email", f"no user with email {manager_email!r}")
    parse.raise_if_any()
    existing = {c.external_ref: c for c in session.scalars(
        select(models.Customer).where(models.Customer.external_ref.in_(list(seen))))}
    for record in records:
        customer = existing.get(record["external_ref"])
        if customer is None:
            session.add(models.Customer(**record))
        else:
            for field, value in record.items():
                setattr(customer, field, value)
    session.flush()
    return ImportSummary(created=len(records) - len(existing), updated=len(existing), delimiter=table.delimiter)
