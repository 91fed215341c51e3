"""Run every benchmark and print one table: figure, target, ratio to the in-run reference, cost growth.

Each benchmark prints its own detail as it goes; the table at the end gathers the figures the
README's performance section records. `--quick` uses small sizes (the whole run takes about three
minutes on 2 cores): its figures show the shape (ratios, cost per row growing or not), not the
targets, which are for the full sizes.

    python bench/run_all.py --quick
    python bench/run_all.py                  # full sizes: about an hour on 2 cores
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_api  # noqa: E402
import bench_dashboard  # noqa: E402
import bench_demo  # noqa: E402
import bench_form  # noqa: E402
import bench_export  # noqa: E402
import bench_first_start  # noqa: E402
import bench_import  # noqa: E402
from costs import cost_growth  # noqa: E402

QUICK = {"import": ["--sizes", "2000", "10000"], "demo": ["--sizes", "10000", "30000"],
         "api": ["--submissions", "1000", "--preload", "30000"],
         "dashboard": ["--responses", "30000", "--no-browser"], "form": ["--repeats", "3", "--respondents", "50"],
         "export": ["--responses", "30000"], "first start": ["--runs", "1"]}
FULL = {"import": ["--sizes", "10000", "100000"], "demo": ["--sizes", "100000", "1000000"],
        "api": ["--submissions", "5000", "--preload", "1000000"],
        "dashboard": ["--responses", "1000000", "--no-browser"], "form": [],
        "export": ["--responses", "1250000", "--customers", "5000"],  # about 1,000,000 in the exported survey
        "first start": ["--runs", "3"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about three minutes")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    began = time.perf_counter()
    rows: list[tuple[str, str, str, str, str]] = []

    print("== import ==", flush=True)
    imports = bench_import.main(sizes["import"])
    for shape in ("few", "many"):
        mine = [r for r in imports if r["shape"] == shape]
        large = mine[-1]
        rows.append((f"CSV import, {large['rows']:,} rows, {bench_import.SHAPES[shape]:,} customers",
                     f"{large['seconds']:.1f} s", "< 20 s at 100,000", f"{large['seconds'] / large['reference']:.0f}x csv read",
                     f"{cost_growth(mine, 'rows'):.2f}"))

    print("\n== demo data ==", flush=True)
    demos = bench_demo.main(sizes["demo"])
    rows.append((f"demo data, {demos[-1]['responses']:,} responses", f"{demos[-1]['seconds']:.1f} s",
                 "< 120 s at 1,000,000", f"{demos[-1]['seconds'] / demos[-1]['reference']:.1f}x bare inserts",
                 f"{cost_growth(demos, 'responses'):.2f}"))

    print("\n== first start ==", flush=True)
    start = bench_first_start.main(sizes["first start"])
    rows.append(("first start: schema and 30,000 demo responses", f"{start['median']:.2f} s", "< 5 s",
                 f"{start['median'] / start['reference']:.1f}x migrations alone", ""))

    print("\n== API ==", flush=True)
    for result in bench_api.main(sizes["api"]):
        rows.append((f"API, 20 clients, {result['label']}", f"{result['rate']:.0f}/s, p99 {result['p99']:.0f} ms",
                     ">= 300/s, p99 < 150 ms" if result["label"] == "SQLite" else "(reported)",
                     f"{result['rate'] / result['reference']:.2f}x health", ""))

    print("\n== dashboard ==", flush=True)
    dashboard = bench_dashboard.main(sizes["dashboard"])
    for column, (mine, duck) in dashboard.items():
        rows.append((f"Overview aggregates, {column}", f"{mine:.3f} s", "<= 2x DuckDB", f"{mine / duck:.1f}x DuckDB", ""))

    print("\n== respondent form ==", flush=True)
    form = bench_form.main(sizes["form"])
    rows.append(("respondent form on a phone, warm", f"{form['html']['warm']:.2f} s", "< 1 s",
                 f"{form['streamlit']['warm'] / form['html']['warm']:.1f}x faster than the Streamlit page", ""))
    load = form["load"]
    rows.append((f"form, {load['respondents']} respondents at once", f"submission p95 {load['submit_p95'] * 1000:.0f} ms",
                 "nothing lost or doubled", f"{load['stored']} stored of {load['respondents']}", ""))
    print("\n== exports ==", flush=True)
    exports = bench_export.main(sizes["export"])
    for fmt in dict.fromkeys(result["format"] for result in exports):
        mine = [result for result in exports if result["format"] == fmt]
        large = mine[-1]
        rows.append((f"export {fmt}, {large['rows']:,} responses", f"{large['seconds']:.1f} s, {large['peak_mib']:.0f} MiB",
                     "peak < 500 MB at 1,000,000", f"{large['seconds'] / large['reference']:.0f}x csv.writer",
                     f"{cost_growth(mine, 'rows'):.2f}"))

    print(f"\nsummary ({'quick' if args.quick else 'full'} sizes, {os.cpu_count()} CPUs, "
          f"{time.perf_counter() - began:.0f} s in all)")
    widths = [max(len(row[i]) for row in rows + [("what", "figure", "target", "ratio", "growth")]) for i in range(5)]
    for row in [("what", "figure", "target", "ratio to reference", "cost growth")] + rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)))


if __name__ == "__main__":
    main()
