"""Benchmark: response exports (CSV, XLSX, SPSS, Stata) at two sizes, time and peak memory.

Builds one demo database (`survey.demo`, the relationship survey holds about 80% of its
responses), then exports the relationship survey at two sizes: everything up to a date that cuts
the smaller size, and everything. Each export runs in a fresh child process, so its peak resident
memory (VmHWM) is the export's own, the interpreter and imports included. Printed per format
and size: seconds, rows, microseconds per row, peak memory, and the cost per row at the larger
size over that at the smaller one (1 = linear). The in-run reference is `csv.writer` writing as
many rows of the same width from a list already in memory.

Example:
    python bench/bench_export.py --responses 300000
    python bench/bench_export.py --responses 1250000 --customers 5000 --database /tmp/bench_export.db
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from costs import cost_growth  # noqa: E402

SLUG = "relationship-nps"


def child(url: str, fmt: str, until: str | None, out: str) -> None:
    """Run one export and print its figures as JSON (in a child process of its own)."""
    from survey.people.access import Actor
    from survey.response_export import write_export
    from survey.storage import db
    from survey.storage.filters import Filters

    engine = db.make_engine(url)
    filters = Filters(SLUG, end=date.fromisoformat(until) if until else None)
    started = time.perf_counter()
    summary = write_export(engine, Actor.command_line(), filters, fmt, out)
    seconds = time.perf_counter() - started
    peak_mib = peak_memory_mib()
    print(json.dumps({"seconds": seconds, "rows": summary.rows, "columns": summary.columns,
                      "peak_mib": peak_mib, "bytes": Path(out).stat().st_size}))


def peak_memory_mib() -> float:
    """This process's peak resident memory: VmHWM on Linux (ru_maxrss can carry over the parent's
    peak through fork and exec), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(url: str, fmt: str, until: str | None, folder: Path) -> dict:
    command = [sys.executable, __file__, "--child", url, fmt, until or "", str(folder / f"export.{fmt}")]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def reference_seconds(rows: int, width: int, folder: Path) -> float:
    row = ["2026-01-01T00:00:00+00:00", "email", "en", "C000001", "North", *range(width - 5)]
    started = time.perf_counter()
    with open(folder / "reference.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        for _ in range(rows):
            writer.writerow(row)
    return time.perf_counter() - started


def cut_date(url: str, share: float) -> str:
    """The day before which about `share` of the survey's responses were submitted."""
    from sqlalchemy import func, select

    from survey.storage import db, models

    engine = db.make_engine(url)
    with engine.connect() as connection:
        survey_id = connection.execute(select(models.Survey.id).where(models.Survey.slug == SLUG)).scalar_one()
        total = connection.execute(select(func.count()).select_from(models.Response)
                                   .where(models.Response.survey_id == survey_id)).scalar_one()
        moment = connection.execute(select(models.Response.submitted_at).where(models.Response.survey_id == survey_id)
                                    .order_by(models.Response.submitted_at).offset(int(total * share)).limit(1)
                                    ).scalar_one()
    engine.dispose()
    return moment.date().isoformat()


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark; every export's figures (format, rows, seconds, peak_mib, reference)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=300_000, help="demo responses to generate (all surveys)")
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--small-share", type=float, default=1 / 3, help="the smaller size as a share of the larger")
    parser.add_argument("--database", help="reuse (or create) this SQLite file instead of a temporary one")
    parser.add_argument("--formats", nargs="+", default=["csv", "xlsx", "sav", "dta"])
    args = parser.parse_args(argv)
    found: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        path = Path(args.database) if args.database else folder / "bench.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            from survey import demo
            from survey.storage import db

            started = time.perf_counter()
            engine = db.make_engine(url)
            demo.generate(engine, customers=args.customers, responses=args.responses, seed=7, progress=True)
            print(f"demo data: {args.responses:,} responses in {time.perf_counter() - started:.1f} s")
            engine.dispose()
        until = cut_date(url, args.small_share)
        for fmt in args.formats:
            results = [run_child(url, fmt, until, folder), run_child(url, fmt, None, folder)]
            for result in results:
                reference = reference_seconds(result["rows"], result["columns"], folder)
                found.append({**result, "format": fmt, "reference": reference})
                print(f"{fmt:>4}: {result['rows']:>9,} rows x {result['columns']} columns: {result['seconds']:7.1f} s, "
                      f"{result['seconds'] / result['rows'] * 1e6:6.1f} us/row, peak {result['peak_mib']:6.0f} MiB, "
                      f"file {result['bytes'] / 2 ** 20:6.1f} MiB; csv.writer reference {reference:.2f} s "
                      f"({result['seconds'] / reference:.0f}x)")
            print(f"{fmt:>4}: cost per row at {results[1]['rows']:,} / at {results[0]['rows']:,}: "
                  f"{cost_growth(results, 'rows'):.2f}; peak memory growth "
                  f"{results[1]['peak_mib'] - results[0]['peak_mib']:.0f} MiB for "
                  f"{results[1]['rows'] - results[0]['rows']:,} more rows")
    return found


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4] or None, sys.argv[5])
    else:
        main()
