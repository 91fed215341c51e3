"""Benchmark: importing a responses CSV into a fresh SQLite database.

Prints seconds and rows/second for the import (validation + bulk insert) and, as an in-run
reference, for merely reading the same file with the csv module. Target: 100,000 rows in under 20 s.

    python bench/bench_import.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from survey.storage import db  # noqa: E402
from survey.collection.customers import import_customers  # noqa: E402
from survey.definitions.definition import load_yaml  # noqa: E402
from survey.definitions.publishing import publish  # noqa: E402
from survey.collection.response_import import import_responses  # noqa: E402

DRIVERS = ["product_quality", "delivery", "support", "billing", "value_for_money"]


def write_file(path: Path, rows: int) -> None:
    """A realistic relationship-survey export: scores, driver ratings, some comments."""
    rng = random.Random(1)
    header = ["survey", "submitted_at", "customer_ref", "channel", "recommend", "satisfaction", "expectations",
              "ideal", *[f"drivers.{d}" for d in DRIVERS], "why_low", "comment"]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(rows):
            recommend = rng.randint(0, 10)
            writer.writerow(["relationship-nps", f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{i % 59:02d}",
                             f"C9000{1 + i % 12:02d}", "phone", recommend, *[rng.randint(1, 10) for _ in range(8)],
                             "Too slow" if recommend <= 6 and i % 3 == 0 else "", "Fine" if i % 4 == 0 else ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "responses.csv"
        write_file(path, args.rows)
        engine = db.make_engine(f"sqlite:///{folder}/bench.db")
        db.upgrade(engine)
        with db.session_scope(engine) as session:
            publish(session, load_yaml(ROOT / "sample_data/surveys/relationship_nps.yaml"))
            import_customers(session, ROOT / "sample_data/csv/customers.csv")

        start = time.perf_counter()
        with path.open(newline="") as handle:
            read = sum(1 for _ in csv.DictReader(handle))
        reference = time.perf_counter() - start

        start = time.perf_counter()
        with db.session_scope(engine) as session:
            summary = import_responses(session, path)
        first = time.perf_counter() - start
        start = time.perf_counter()
        with db.session_scope(engine) as session:
            again = import_responses(session, path)
        second = time.perf_counter() - start
    assert summary.stored == read == args.rows and again.already_stored == args.rows
    print(f"rows: {args.rows:,}")
    print(f"csv.DictReader only (reference): {reference:6.2f} s")
    print(f"import (validate + store):       {first:6.2f} s  {args.rows / first:9,.0f} rows/s  "
          f"{first / reference:5.1f}x reference")
    print(f"re-import (all already stored):  {second:6.2f} s  {args.rows / second:9,.0f} rows/s  "
          f"{second / reference:5.1f}x reference")


if __name__ == "__main__":
    main()
