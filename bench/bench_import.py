"""Benchmark: importing a responses CSV into a fresh SQLite database, at two sizes and two shapes.

For each shape (`few`: the 12 sample customers with thousands of answers each; `many`: 5,000
customers) and each size, prints the seconds the import takes (validation, bulk insert and the
follow-up flagging that runs with it), rows per second, the ratio to an in-run reference (reading
the same file with the csv module) and the time per row; then the ratio of the time per row at
the larger size to the smaller one, which stays near 1 when the cost is linear.
Target: 100,000 rows in under 20 s, per-row ratio under 1.3.

    python bench/bench_import.py                      # 10,000 and 100,000 rows, both shapes
    python bench/bench_import.py --sizes 2000 10000   # what run_all.py --quick runs
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

from costs import cost_growth  # noqa: E402
from survey.collection.customers import import_customers  # noqa: E402
from survey.collection.response_import import import_responses  # noqa: E402
from survey.definitions.definition import load_yaml  # noqa: E402
from survey.definitions.publishing import publish  # noqa: E402
from survey.storage import db  # noqa: E402

DRIVERS = ["product_quality", "delivery", "support", "billing", "value_for_money"]
SHAPES = {"few": 12, "many": 5_000}  # customers answering


def write_customers(path: Path, count: int) -> list[str]:
    """`count` consenting customers across regions and tiers; their references."""
    refs = [f"B{i:06d}" for i in range(1, count + 1)]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_ref", "name", "consent_to_contact", "region", "tier", "annual_value"])
        for i, ref in enumerate(refs):
            writer.writerow([ref, f"Customer {i}", "yes", ("North", "South", "East", "West")[i % 4],
                             ("Gold", "Silver", "Bronze")[i % 3], 1_000 + (i * 37) % 200_000])
    return refs


def write_responses(path: Path, rows: int, refs: list[str]) -> None:
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
                             refs[i % len(refs)], "phone", recommend, *[rng.randint(1, 10) for _ in range(8)],
                             "Too slow" if recommend <= 6 and i % 3 == 0 else "", "Fine" if i % 4 == 0 else ""])


def measure(folder: Path, shape: str, rows: int) -> dict:
    """Import `rows` rows of `shape` into a fresh database; seconds for the import, a re-import and the reference."""
    engine = db.make_engine(f"sqlite:///{folder}/bench_{shape}_{rows}.db")
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        publish(session, load_yaml(ROOT / "sample_data/surveys/relationship_nps.yaml"))
        if shape == "few":
            import_customers(session, ROOT / "sample_data/csv/customers.csv")
            refs = [f"C9000{i:02d}" for i in range(1, 13)]
        else:
            refs = write_customers(folder / "customers.csv", SHAPES[shape])
            import_customers(session, folder / "customers.csv")
    path = folder / f"responses_{shape}_{rows}.csv"
    write_responses(path, rows, refs)

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
    engine.dispose()
    if not (summary.stored == read == rows and again.already_stored == rows):
        raise SystemExit(f"import stored {summary.stored} of {rows} rows, re-import found {again.already_stored}")
    return dict(shape=shape, rows=rows, seconds=first, again=second, reference=reference)


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[10_000, 100_000], metavar=("SMALL", "LARGE"))
    parser.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    args = parser.parse_args(argv)
    print(f"{'shape':>5} {'rows':>8} {'import s':>9} {'rows/s':>8} {'x ref':>6} {'us/row':>7} "
          f"{'re-import s':>12}", flush=True)
    results = []
    for shape in args.shapes:
        for rows in args.sizes:
            with tempfile.TemporaryDirectory(prefix="bench_import_") as folder:
                result = measure(Path(folder), shape, rows)
            results.append(result)
            print(f"{shape:>5} {rows:>8,} {result['seconds']:>9.2f} {rows / result['seconds']:>8,.0f} "
                  f"{result['seconds'] / result['reference']:>6.0f} {1e6 * result['seconds'] / rows:>7.0f} "
                  f"{result['again']:>12.2f}", flush=True)
        small, large = results[-2], results[-1]
        print(f"{shape:>5} cost per row at {large['rows']:,} / at {small['rows']:,}: "
              f"{cost_growth([small, large], 'rows'):.2f} (linear: about 1)", flush=True)
    return results


if __name__ == "__main__":
    main()
