"""Benchmark: the dashboard's Overview at 1,000,000 responses (SQLite), against DuckDB and in a browser.

Generates demo data (`survey.demo.generate`, 5,000 customers, 1,000,000 responses, seed 7; about
40 s) into a temporary SQLite file, or reuses `--database PATH` (generated there when missing,
else migrated to this checkout's schema, timed). Then:

- **cold**: the Overview's aggregates (NPS, CSAT and CES histograms per month, the satisfaction
  index's moments, responses per month and channel) in a new process with a fresh engine;
- **warm**: the same again in that process (best of three);
- **filter change**: the same with a date range and a region (queries Streamlit has not cached).

Reference in the same run: the same tables exported to Parquet (pyarrow) and the same aggregates
computed with DuckDB; ours / DuckDB's is printed. With `--before-root DIR --before-database PATH`
(an earlier checkout and the same data at its schema) the earlier code is measured in the same run
too. Last, `streamlit run app.py` is started on the file and the real Overview is driven in
Chromium (Playwright): the first render after start (cold), the same view in a new tab and in a
new browser profile, and a rerun (warm), a filter change (Region = North, then Tier = Gold,
combinations not cached before), and the server's peak resident memory (VmHWM). `--browser-only`
skips the query section; `--app-root DIR` runs another checkout's app.py; `--repeat N` restarts the
server N times per checkout (alternating) and prints the medians.
Figures only: no pass/fail.
The issue's targets: Overview under 1.5 s warm and 5 s cold, a filter change under 1 s, the app
under 1.5 GB resident. "Cold" here means a new process: the OS file cache stays warm.

Example:
    python bench/bench_dashboard.py                               # ~3 minutes on 2 cores
    python bench/bench_dashboard.py --database /tmp/bench_1m.db   # keeps the data for next time
    python bench/bench_dashboard.py --database /tmp/bench_1m.db --before-root /tmp/before \\
        --before-database /tmp/bench_1m_before.db                 # before/after in one run
    python bench/bench_dashboard.py --responses 100000 --no-browser
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# --measure runs the queries of the checkout named by BENCH_CODE_ROOT (default: this one), so that
# one run can time the same aggregates with an earlier version of the code (--before-root).
sys.path.insert(0, os.environ.get("BENCH_CODE_ROOT") or str(ROOT))

from survey.storage import db, queries  # noqa: E402
from survey.storage.filters import Filters  # noqa: E402

RELATIONSHIP, SUPPORT = "relationship-nps", "post-support"
START, END = date(2026, 1, 1), date(2026, 10, 31)
REGION = "North"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


INDEX_ITEMS = (("satisfaction", 1.0, 10.0), ("expectations", 1.0, 10.0), ("ideal", 1.0, 10.0))


def overview_aggregates(engine, narrowed: bool = False) -> dict[str, float]:
    """Run the Overview's aggregate queries (those of its default view); seconds per query (and `total`)."""
    extra = dict(start=START, end=END, segments=(("region", (REGION,)),)) if narrowed else {}
    relationship, support = Filters(RELATIONSHIP, **extra), Filters(SUPPORT, **extra)
    steps = {
        "nps per month": lambda: queries.histogram(engine, relationship, "recommend", period="month"),
        "satisfaction index": lambda: queries.index_moments(engine, relationship, INDEX_ITEMS),
        "csat per month": lambda: queries.histogram(engine, support, "csat", period="month"),
        "ces per month": lambda: queries.histogram(engine, support, "effort", period="month"),
        "responses per month, channel": lambda: queries.response_counts(engine, relationship, "month"),
    }
    seconds = {}
    for name, step in steps.items():
        began = time.perf_counter()
        step()
        seconds[name] = time.perf_counter() - began
    seconds["total"] = sum(seconds.values())
    return seconds


def measure_in_this_process(url: str) -> dict:
    """Cold (first run, fresh engine), warm (best of 3) and filter-change timings."""
    engine = db.make_engine(url)
    cold = overview_aggregates(engine)
    warm = min((overview_aggregates(engine) for _ in range(3)), key=lambda r: r["total"])
    narrowed = overview_aggregates(engine, narrowed=True)
    engine.dispose()
    return {"cold": cold, "warm": warm, "filter change": narrowed}


def measure_in_new_process(url: str, code_root: Path = ROOT) -> dict:
    output = subprocess.run([sys.executable, __file__, "--measure", url], check=True, capture_output=True,
                            text=True, cwd=code_root, env={**os.environ, "BENCH_CODE_ROOT": str(code_root)}).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- DuckDB over Parquet: the same aggregates, as a reference -----------------------------------

_SCOPE = "join responses r on a.response_id = r.id join surveys s on r.survey_id = s.id {customers}"
DUCKDB_STEPS = {
    "nps per month": "select strftime(r.submitted_at, '%Y-%m') p, a.numeric_value, count(*) from answers a " + _SCOPE +
                     " where s.slug = '{relationship}' and a.question_key = 'recommend' and a.numeric_value is not null "
                     "{where} group by 1, 2",
    "satisfaction index": "select count(*), sum(i), sum(i * i) from (select (a.numeric_value - 1) / 9 * 100 / 3 "
                          "+ (b.numeric_value - 1) / 9 * 100 / 3 + (c.numeric_value - 1) / 9 * 100 / 3 i from answers a "
                          "join answers b on b.response_id = a.response_id and b.question_key = 'expectations' "
                          "join answers c on c.response_id = a.response_id and c.question_key = 'ideal' " + _SCOPE +
                          " where s.slug = '{relationship}' and a.question_key = 'satisfaction' and a.numeric_value "
                          "is not null and b.numeric_value is not null and c.numeric_value is not null {where})",
    "csat per month": "select strftime(r.submitted_at, '%Y-%m') p, a.numeric_value, count(*) from answers a " + _SCOPE +
                      " where s.slug = '{support}' and a.question_key = 'csat' and a.numeric_value is not null "
                      "{where} group by 1, 2",
    "ces per month": "select strftime(r.submitted_at, '%Y-%m') p, a.numeric_value, count(*) from answers a " + _SCOPE +
                     " where s.slug = '{support}' and a.question_key = 'effort' and a.numeric_value is not null "
                     "{where} group by 1, 2",
    "responses per month, channel": "select strftime(r.submitted_at, '%Y-%m') p, r.channel, count(*) from responses r "
                                    "join surveys s on r.survey_id = s.id {customers} where s.slug = '{relationship}' "
                                    "{where} group by 1, 2",
}


def export_parquet(path: Path, folder: Path) -> dict[str, float]:
    """responses, answers (numbers only), surveys and customers (segments only) as Parquet files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = {
        "responses": ("select id, survey_id, survey_version_id, customer_id, channel, language, submitted_at "
                      "from responses", {"submitted_at": pa.timestamp("us")}),
        "answers": ("select response_id, question_key, numeric_value from answers", {}),
        "surveys": ("select id, slug from surveys", {}),
        "customers": ("select id, region, tier, industry from customers", {}),
    }
    seconds = {}
    connection = sqlite3.connect(path)
    for name, (sql, casts) in tables.items():
        began = time.perf_counter()
        cursor = connection.execute(sql)
        columns = [d[0] for d in cursor.description]
        writer = None
        while rows := cursor.fetchmany(500_000):
            arrays = [pa.array(values) for values in zip(*rows)]
            arrays = [a.cast(casts[c]) if c in casts else a for a, c in zip(arrays, columns)]
            batch = pa.table(arrays, names=columns)
            writer = writer or pq.ParquetWriter(folder / f"{name}.parquet", batch.schema)
            writer.write_table(batch)
        writer.close()
        seconds[name] = time.perf_counter() - began
    connection.close()
    return seconds


def measure_duckdb(folder: Path) -> dict:
    import duckdb

    def run(connection, narrowed: bool) -> dict[str, float]:
        where = (f"and r.submitted_at >= '{START}' and r.submitted_at < '{date(END.year, END.month + 1, 1)}' "
                 f"and c.region = '{REGION}'") if narrowed else ""
        seconds = {}
        for name, sql in DUCKDB_STEPS.items():
            customers = "left join customers c on r.customer_id = c.id" if narrowed else ""
            query = sql.format(relationship=RELATIONSHIP, support=SUPPORT, customers=customers, where=where)
            began = time.perf_counter()
            connection.execute(query).fetchall()
            seconds[name] = time.perf_counter() - began
        seconds["total"] = sum(seconds.values())
        return seconds

    connection = duckdb.connect()
    for name in ("responses", "answers", "surveys", "customers"):
        connection.execute(f"create view {name} as select * from read_parquet('{folder / name}.parquet')")
    cold = run(connection, False)
    warm = min((run(connection, False) for _ in range(3)), key=lambda r: r["total"])
    narrowed = run(connection, True)
    connection.close()
    return {"cold": cold, "warm": warm, "filter change": narrowed}


# --- The real app: render time in a browser and the server's peak memory -------------------------


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


SETTLED_JS = """([metrics, charts]) => {
    const status = document.querySelector('[data-testid="stStatusWidget"]');
    const running = status !== null && status.offsetParent !== null;
    const stale = document.querySelectorAll('[data-stale="true"]').length > 0;
    const drawn = document.querySelectorAll('[data-testid="stMetric"]').length >= metrics
        && document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= charts;
    return !running && !stale && drawn;
}"""


def _first_caption(page) -> str:
    captions = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]')
    return captions.nth(1).inner_text() if captions.count() > 1 else ""


class _Frames:
    """Arrival times of the websocket messages the server sends to a page (Streamlit's deltas)."""

    def __init__(self, page):
        self.times: list[float] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda _: self.times.append(time.perf_counter())))

    def since(self, began: float) -> int:
        return sum(1 for t in self.times if t >= began)

    def last(self) -> float:
        return self.times[-1] if self.times else 0.0


def _settle(page, frames: _Frames, began: float, metrics: int = 4, charts: int = 2,
            changed_from: str | None = None) -> float:
    """Seconds from `began` until the server has sent something, the tiles and charts are drawn, no
    element is stale (from the run before), the running indicator is gone, and all of that holds
    for 250 ms with no further message from the server; with `changed_from`, also until the first
    tile's caption differs. A cached rerun can finish before the running indicator ever shows, so
    the server's messages, not the indicator, say that a run happened."""
    settled_at = None
    deadline = began + 300
    while time.perf_counter() < deadline:
        done = frames.since(began) > 0 and page.evaluate(SETTLED_JS, [metrics, charts])
        if done and changed_from is not None:
            done = _first_caption(page) != changed_from
        now = time.perf_counter()
        if done:
            settled_at = max(settled_at or now, frames.last())
            if now - settled_at >= 0.25:
                return settled_at - began
        else:
            settled_at = None
        page.wait_for_timeout(25)
    raise TimeoutError("the Overview did not settle within 300 s")


BENCH_USER = "admin@demo.example"
BENCH_PASSWORD = "bench-password-1"  # set on the database by `_bench_account` before the app starts


def _sign_in(page) -> tuple[float | None, float | None]:
    """When the sign-in form shows (checkouts with accounts), sign in as the bench user; the moments
    the form was shown and the button clicked (None, None when there is no form)."""
    page.locator('input[aria-label="Email"], [data-testid="stMetric"]').first.wait_for(timeout=300_000)
    email = page.locator('input[aria-label="Email"]')
    if not email.count():
        return None, None
    shown = time.perf_counter()
    email.fill(BENCH_USER)
    page.locator('input[aria-label="Password"]').fill(BENCH_PASSWORD)
    button = page.get_by_role("button", name="Sign in")
    clicked = time.perf_counter()
    button.click()
    return clicked, shown


def _bench_account(url: str) -> None:
    """Give the demo admin the bench's password (this checkout's schema has accounts)."""
    from survey.people import accounts
    from survey.people.access import Actor

    engine = db.make_engine(url)
    try:
        accounts.reset_password(engine, Actor.command_line(), BENCH_USER, BENCH_PASSWORD)
    finally:
        engine.dispose()


def _pick(page, label: str, option: str) -> float:
    """Open the sidebar multiselect `label` and click `option`; the time of the click that changes it."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text=label)
    box.locator("input").click()
    choice = page.locator('[role="option"]', has_text=option).first
    choice.wait_for(state="visible")
    began = time.perf_counter()
    choice.click()
    return began


def measure_app(url: str, app_root: Path = ROOT) -> dict:
    """`streamlit run app.py` on `url`, the Overview in Chromium: cold, warm, filter changes, peak RSS.

    - cold: the first load after the server starts (no cache; the OS file cache may be warm);
    - warm: the same view in a new tab of the same browser (a new session on the server's warm
      cache; the browser has Streamlit's scripts cached, as for anyone who opened the app before),
      in a new browser profile (empty HTTP cache: every script of the frontend is fetched and
      parsed again), and a rerun ("r") of the new tab;
    - filter change: Region = North in the sidebar, then Tier = Gold added (combinations not cached
      before), timed from the click on the option until the tiles show new figures and the page
      has settled.

    Every new session signs in first (the demo admin, given the bench's password): the Overview is
    timed from the click on "Sign in", and the time until the sign-in form showed is reported apart.
    """
    from playwright.sync_api import sync_playwright

    from bench_api import free_port  # this folder is on the path when a bench runs

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=app_root, env={**os.environ, "SURVEY_DATABASE_URL": url}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    found = {}
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        found["rss after start"] = _status(server.pid, "VmRSS")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                 args=CHROMIUM_ARGS)
            profile = browser.new_context(viewport={"width": 1400, "height": 1800})

            def open_page(context, name: str):
                page = context.new_page()
                frames = _Frames(page)
                began = time.perf_counter()
                page.goto(base + "/")
                # With accounts, a new session shows the sign-in form first: the Overview is timed
                # from the click on "Sign in" (the form's own load is reported apart).
                clicked, form_shown = _sign_in(page)
                if clicked is not None:
                    found[f"{name} (sign-in form)"] = form_shown - began
                    began = clicked
                found[name] = _settle(page, frames, began)
                return page, frames

            page, _ = open_page(profile, "cold: first render after start")
            page.close()
            fresh = browser.new_context(viewport={"width": 1400, "height": 1800})
            page, _ = open_page(fresh, "warm: new browser profile")
            fresh.close()
            page, frames = open_page(profile, "warm: new tab")
            page.locator("h1").first.click()
            began = time.perf_counter()
            page.keyboard.press("r")
            found["warm: rerun"] = _settle(page, frames, began)

            for label, option in (("Region", "North"), ("Tier", "Gold")):
                before = _first_caption(page)
                began = _pick(page, label, option)  # timed from the click on the option
                found[f"filter change: {label} {option}"] = _settle(page, frames, began, changed_from=before)
                page.keyboard.press("Escape")
            browser.close()
        found["peak rss (VmHWM)"] = _status(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return found


# --- Driver --------------------------------------------------------------------------------------

def _print_table(title: str, rows: dict[str, dict], columns: list[str]) -> None:
    print(f"\n{title}")
    names = list(next(iter(rows.values()))[columns[0]])
    width = max(len(n) for n in names) + 2
    print(" " * width + "".join(f"{label:>26}" for label in rows for _ in [0]))
    for column in columns:
        print(f"  [{column}]")
        for name in names:
            print(f"{name:<{width}}" + "".join(f"{rows[label][column][name]:>26.3f}" for label in rows))


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="SQLite file to use (generated there when missing)")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--no-browser", action="store_true", help="skip the streamlit + Chromium measurement")
    parser.add_argument("--browser-only", action="store_true",
                        help="only the streamlit + Chromium measurement on --database (no DuckDB)")
    parser.add_argument("--app-root", default=str(ROOT), help="checkout whose app.py is run (default: this one)")
    parser.add_argument("--before-root", help="an earlier checkout, measured in the same run for a before/after")
    parser.add_argument("--before-database", help="the same data at the schema --before-root expects")
    parser.add_argument("--repeat", type=int, default=1,
                        help="browser measurements per checkout (server restarted each time, before and "
                             "this checkout alternating); the median is printed")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # internal: one cold/warm run in this process
    arguments = parser.parse_args(argv)
    if arguments.measure:
        print(json.dumps(measure_in_this_process(arguments.measure)))
        return
    before = None
    if arguments.before_root or arguments.before_database:
        if not (arguments.before_root and arguments.before_database):
            parser.error("--before-root and --before-database go together")
        before = (Path(arguments.before_root).resolve(), f"sqlite:///{Path(arguments.before_database).resolve()}")
    if arguments.browser_only:
        url = f"sqlite:///{Path(arguments.database).resolve()}"
        _print_apps(_measure_apps(before, url, Path(arguments.app_root), arguments.repeat))
        return

    from survey import demo

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = Path(arguments.database) if arguments.database else folder / "bench.db"
        url = f"sqlite:///{path.resolve()}"
        engine = db.make_engine(url)
        fresh = not path.exists() or path.stat().st_size < 100_000
        began = time.perf_counter()
        db.upgrade(engine)  # an existing file is migrated to this checkout's schema (timed)
        if not fresh:
            print(f"schema brought up to date in {time.perf_counter() - began:.1f} s")
        else:
            began = time.perf_counter()
            print(demo.generate(engine, customers=arguments.customers, responses=arguments.responses, seed=7,
                                progress=True))
            print(f"generated in {time.perf_counter() - began:.1f} s")
        with engine.connect() as connection:
            counts = connection.exec_driver_sql("select (select count(*) from responses), (select count(*) from answers)").one()
        engine.dispose()
        print(f"database {path} ({path.stat().st_size / 2**30:.2f} GiB): {counts[0]:,} responses, {counts[1]:,} answers")

        results = {}
        if before:
            results["sqlite, before"] = measure_in_new_process(before[1], before[0])
        ours = results["sqlite, this checkout"] = measure_in_new_process(url)
        export = export_parquet(path, folder)
        print("parquet export: " + ", ".join(f"{k} {v:.1f} s" for k, v in export.items()))
        duck = results["duckdb/parquet"] = measure_duckdb(folder)

        _print_table("seconds per Overview aggregate", results, ["cold", "warm", "filter change"])
        print("\nsummary (seconds; ratio = ours / DuckDB)")
        for column in ("cold", "warm", "filter change"):
            mine, reference = ours[column]["total"], duck[column]["total"]
            earlier = (f"  before {results['sqlite, before'][column]['total']:7.3f} "
                       f"(speed-up {results['sqlite, before'][column]['total'] / mine:4.1f}x)") if before else ""
            print(f"  {column:<14} ours {mine:7.3f}  duckdb {reference:7.3f}  ratio {mine / reference:6.1f}x{earlier}")
        summary = {column: (ours[column]["total"], duck[column]["total"]) for column in ("cold", "warm", "filter change")}

        if not arguments.no_browser:
            _print_apps(_measure_apps(before, url, Path(arguments.app_root), arguments.repeat))
        return summary


def _measure_apps(before: tuple[Path, str] | None, url: str, app_root: Path, repeat: int) -> dict[str, dict]:
    """The browser measurement of this checkout (and of `before`), `repeat` times alternating; medians."""
    import statistics

    _bench_account(url)
    runs: dict[str, list[dict]] = {"before": [], "this checkout": []} if before else {"this checkout": []}
    for _ in range(repeat):
        if before:
            runs["before"].append(measure_app(before[1], before[0]))
        runs["this checkout"].append(measure_app(url, app_root))
    return {label: {name: statistics.median(run[name] for run in found) for name in found[0]}
            for label, found in runs.items()}


def _print_apps(apps: dict[str, dict]) -> None:
    print("\nthe app (streamlit run app.py + Chromium, Overview)")
    print(" " * 41 + "".join(f"{label:>16}" for label in apps))
    for name in next(iter(apps.values())):
        print(f"  {name:<38} " + "".join(
            (f"{app[name] / 2**20:12.0f} MiB" if "rss" in name else f"{app[name]:14.2f} s") for app in apps.values()))


if __name__ == "__main__":
    main()
