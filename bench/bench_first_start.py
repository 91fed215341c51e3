"""Benchmark: the first start's server time (`bootstrap.prepare_database` on an empty SQLite file).

A first `streamlit run app.py` migrates an empty database and writes 30,000 demo responses with
their follow-up cases and customer events before the first page shows. This times that call in a
process that has already imported what the server imports (pandas, NumPy, SQLAlchemy, Streamlit),
`--runs` times on fresh files, and prints each run, the median and, as the in-run reference, the
migrations alone on an empty file. Target: under 5 s.

    python bench/bench_first_start.py            # three runs
    python bench/bench_first_start.py --runs 1   # what run_all.py --quick runs
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy  # noqa: E402,F401  - imported as the server has, so that the timing is the start's own
import pandas  # noqa: E402,F401
import streamlit  # noqa: E402,F401

from survey import bootstrap  # noqa: E402
from survey.storage import db  # noqa: E402


def first_start(folder: Path, name: str) -> float:
    """Seconds for `prepare_database` on a new file in `folder`."""
    engine = db.make_engine(f"sqlite:///{folder / name}")
    began = time.perf_counter()
    bootstrap.prepare_database(engine, announce=lambda _message: None)
    seconds = time.perf_counter() - began
    engine.dispose()
    return seconds


def migrations_only(folder: Path) -> float:
    engine = db.make_engine(f"sqlite:///{folder / 'schema_only.db'}")
    began = time.perf_counter()
    db.upgrade(engine)
    seconds = time.perf_counter() - began
    engine.dispose()
    return seconds


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        reference = migrations_only(Path(folder))
        runs = [first_start(Path(folder), f"first_{i}.db") for i in range(args.runs)]
    median = statistics.median(runs)
    print("runs (s):", ", ".join(f"{seconds:.2f}" for seconds in runs))
    print(f"first start, median: {median:.2f} s (target: under 5 s); migrations alone: {reference:.2f} s "
          f"({median / reference:.1f}x)")
    return {"median": median, "reference": reference}


if __name__ == "__main__":
    main()
