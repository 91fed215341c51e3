"""Benchmark: JSON API submissions through a real `streamlit run app.py` server on 127.0.0.1.

Starts the server itself on a fresh database (a SQLite file, and PostgreSQL when
SURVEY_TEST_POSTGRES_URL or --postgres is given), publishes the sample surveys, creates an API
key, then has `--clients` threads (keep-alive connections) send `--submissions` valid responses
in total. Prints submissions per second and p50/p95/p99 latency, and, as an in-run reference for
this machine, the same figures for `GET /api/v1/health` (no database work) with the same clients;
the ratio is what to compare between machines and commits. The issue asks for at least 300
submissions/s with p99 under 150 ms on SQLite, 20 clients, 2 cores.

Example:
    python bench/bench_api.py                        # into a database of 1,000,000 demo responses
    python bench/bench_api.py --preload 0 --submissions 2000
    python bench/bench_api.py --submissions 20000 --clients 20
    python bench/bench_api.py --postgres postgresql+psycopg://survey:survey@127.0.0.1:5432/survey_test
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from survey.collection import apikeys  # noqa: E402
from survey.storage import db  # noqa: E402
from survey.definitions.definition import load_yaml  # noqa: E402
from survey.definitions.publishing import publish  # noqa: E402

SURVEYS = ROOT / "sample_data" / "surveys"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(url: str, preload: int = 0) -> str:
    """Migrate, fill with `preload` demo responses, publish the sample surveys, return a new API key."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    if preload:
        from survey import demo

        started = time.perf_counter()
        demo.generate(engine, customers=5_000, responses=preload, seed=7, progress=True)
        print(f"  preloaded {preload:,} demo responses in {time.perf_counter() - started:.0f} s", flush=True)
    with db.session_scope(engine) as session:
        for name in ("post_support.yaml", "relationship_nps.yaml"):
            publish(session, load_yaml(SURVEYS / name))
        key = apikeys.create_key(session, "bench").key
    engine.dispose()
    return key


def start_server(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "SURVEY_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--global.developmentMode", "false",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def run_clients(port: int, clients: int, total: int, request) -> tuple[float, list[float], dict[int, int]]:
    """`total` requests from `clients` threads; (seconds, latencies in ms, count per status)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(n: int, count: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, codes = [], {}
        barrier.wait()
        for i in range(count):
            method, path, body, headers = request(n, i)
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append((time.perf_counter() - started) * 1000)
            codes[response.status] = codes.get(response.status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for code, k in codes.items():
                statuses[code] = statuses.get(code, 0) + k

    per_client = [total // clients + (1 if n < total % clients else 0) for n in range(clients)]
    threads = [threading.Thread(target=client, args=(n, per_client[n])) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, sorted(latencies), statuses


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def report(label: str, seconds: float, latencies: list[float], statuses: dict[int, int]) -> float:
    rate = len(latencies) / seconds
    print(f"  {label:<12} {rate:8.0f}/s   p50 {percentile(latencies, .5):6.1f} ms   "
          f"p95 {percentile(latencies, .95):6.1f} ms   p99 {percentile(latencies, .99):6.1f} ms   "
          f"statuses {dict(sorted(statuses.items()))}")
    return rate


def bench(label: str, url: str, clients: int, submissions: int, preload: int = 0) -> dict:
    """Submissions and the health reference through a fresh server; figures as a dict."""
    key = prepare(url, preload)
    port = free_port()
    server = start_server(url, port)
    phase = iter(range(1_000_000))

    def submissions_():
        run = f"bench-{next(phase)}"

        def submission(n: int, i: int):
            rng = random.Random(f"{run}-{n}-{i}")
            answers = {"csat": rng.randint(1, 5), "effort": rng.randint(1, 7), "resolved": "yes",
                       "comment": "Quick and friendly, thank you."}
            body = json.dumps({"idempotency_key": f"{run}-{n}-{i}", "channel": "kiosk", "answers": answers})
            return "POST", "/api/v1/surveys/post-support/responses", body, {
                "Content-Type": "application/json", "X-API-Key": key}
        return submission

    def health(n: int, i: int):
        return "GET", "/api/v1/health", None, {}

    try:
        print(f"{label}: {clients} clients, {submissions} submissions into {preload:,} stored responses")
        run_clients(port, clients, min(1000, submissions), submissions_())  # warm-up: threads, caches, pools
        seconds, latencies, statuses = run_clients(port, clients, submissions, submissions_())
        rate = report("submissions", seconds, latencies, statuses)
        latencies_of_submissions = latencies
        seconds, latencies, statuses = run_clients(port, clients, submissions, health)
        reference = report("health", seconds, latencies, statuses)
        print(f"  ratio submissions/health throughput: {rate / reference:.2f}")
        return dict(label=label, rate=rate, p99=percentile(latencies_of_submissions, .99), reference=reference)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def postgres_database(base_url: str) -> tuple[str, callable]:
    name = f"survey_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False), drop


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("SURVEY_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server URL (default: SURVEY_TEST_POSTGRES_URL)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--preload", type=int, default=1_000_000,
                        help="demo responses stored before the run (the target is for a database of 1,000,000)")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs; clients and server share them")
    results = []
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            results.append(bench("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args.clients, args.submissions,
                                 args.preload))
    if args.postgres:
        url, drop = postgres_database(args.postgres)
        try:
            results.append(bench("PostgreSQL", url, args.clients, args.submissions, args.preload))
        finally:
            drop()
    return results


if __name__ == "__main__":
    main()
