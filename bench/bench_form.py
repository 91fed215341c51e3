"""Benchmark: the respondent form on a phone, old (Streamlit page) and new (HTML routes), in one run.

Starts `streamlit run app.py` itself over a fresh SQLite database holding a short one_per_screen
survey (NPS first), once with `SURVEY_RESPONDENT_FORM=streamlit` (the Streamlit page answers
`/?s=`) and once with the HTML form, and measures in Debian's Chromium at 390 x 844 the time from
navigation until the first question can be answered (its first scale point is visible):
- first: the first visit after the server started (server and browser cold);
- cold: a new browser context (empty cache) on the running server, median of `--repeats`;
- warm: the same context opening the link again, median of `--repeats`.
Then, on the HTML form only, `--respondents` scripted clients (one thread and keep-alive connection
each, all started together, on 127.0.0.1) each open the form, answer three screens and submit twice
(a double click): prints p50/p95 per step and per submission, the server's resident memory before
and after, and checks that exactly one response per respondent was stored.

The machine is shared: read the figures as measured under whatever else ran, and compare old with
new within one run.

Example:
    python bench/bench_form.py
    python bench/bench_form.py --repeats 3 --respondents 50
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench_api import free_port  # noqa: E402
from survey.definitions.definition import load_yaml, loads_yaml  # noqa: E402
from survey.definitions.publishing import publish  # noqa: E402
from survey.storage import db, models  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
SURVEY = """
slug: bench-form
title: Quick feedback
anonymous: true
layout: one_per_screen
questions:
  - {key: recommend, kind: nps, required: true, text: "How likely are you to recommend us?"}
  - {key: why, kind: text, text: "What should we fix first?", show_if: recommend <= 6}
  - key: channel
    kind: single_choice
    required: true
    text: How did you reach us?
    choices: [{value: phone, label: Phone}, {value: web, label: Web}]
"""
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def prepare(url: str) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as session:
        publish(session, loads_yaml(SURVEY))
        for path in sorted((ROOT / "sample_data" / "surveys").glob("*.yaml")):  # no demo data on first start
            publish(session, load_yaml(path))
    engine.dispose()


class App:
    """`streamlit run app.py` on a free 127.0.0.1 port."""

    def __init__(self, url: str, folder: Path, form: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "SURVEY_DATABASE_URL": url, "SURVEY_RESPONDENT_FORM": form,
               "SURVEY_FORM_RATE_PER_ADDRESS": "100000"}  # every scripted respondent shares 127.0.0.1
        self.log = open(folder / f"server-{form}.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(self.port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/api/v1/health", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start, see {folder}") from None
                time.sleep(0.2)

    def memory_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def time_to_first_answer(page, address: str) -> float:
    start = time.perf_counter()
    page.goto(address, wait_until="commit")
    # the first scale point's label, the part a finger presses, in either form
    page.locator('[data-testid="stRadio"] label, .scale label').first.wait_for(state="visible", timeout=120_000)
    return time.perf_counter() - start


def measure_browser(browser, app: App, repeats: int) -> dict[str, float]:
    address = f"{app.base}/?s=bench-form"
    first_context = browser.new_context(viewport=PHONE)
    first = time_to_first_answer(first_context.new_page(), address)
    first_context.close()
    colds, warms = [], []
    for _ in range(repeats):
        context = browser.new_context(viewport=PHONE)
        page = context.new_page()
        colds.append(time_to_first_answer(page, address))
        warms.append(time_to_first_answer(page, address))
        context.close()
    return {"first": first, "cold": statistics.median(colds), "warm": statistics.median(warms)}


def respondent(base_port: int, number: int, start: threading.Event, steps: list, submits: list,
               failures: list) -> None:
    """One scripted respondent: open, answer three screens (a low score shows the follow-up), submit twice."""
    connection = http.client.HTTPConnection("127.0.0.1", base_port, timeout=120)
    path = "/respond?s=bench-form"

    def request(method: str, body: dict | None = None) -> tuple[int, str, float]:
        began = time.perf_counter()
        data = urlencode(body).encode() if body is not None else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, text, time.perf_counter() - began

    try:
        start.wait()
        status, page, took = request("GET")
        steps.append(took)
        fields = dict(HIDDEN.findall(page))
        for answer in ({"q.recommend": str(number % 11)}, {"q.why": f"respondent {number}"}):
            status, page, took = request("POST", {**fields, **answer, "action": "next"})
            steps.append(took)
            fields = dict(HIDDEN.findall(page))
            if "q.why" in answer or int(answer["q.recommend"]) > 6:
                break  # a high score skips the follow-up screen
        final = {**fields, "q.channel": "web", "action": "submit"}
        for _ in range(2):  # a double click
            status, _, took = request("POST", final)
            submits.append(took)
            if status != 303:
                failures.append((number, status))
    except Exception as error:  # noqa: BLE001 - counted and reported
        failures.append((number, repr(error)))
    finally:
        connection.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


def load(app: App, url: str, respondents: int) -> dict:
    before = app.memory_mib()
    start = threading.Event()
    steps: list[float] = []
    submits: list[float] = []
    failures: list = []
    threads = [threading.Thread(target=respondent, args=(app.port, n, start, steps, submits, failures))
               for n in range(respondents)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    engine = db.make_engine(url)
    with engine.connect() as connection:
        survey_id = connection.execute(select(models.Survey.id).where(models.Survey.slug == "bench-form")).scalar_one()
        stored = connection.execute(select(func.count()).select_from(models.Response)
                                    .where(models.Response.survey_id == survey_id)).scalar_one()
    engine.dispose()
    return {"respondents": respondents, "seconds": elapsed, "stored": stored, "failures": failures,
            "step_p50": percentile(steps, 0.5), "step_p95": percentile(steps, 0.95),
            "submit_p50": percentile(submits, 0.5), "submit_p95": percentile(submits, 0.95),
            "memory_before": before, "memory_after": app.memory_mib()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--respondents", type=int, default=200)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-form-") as temporary, sync_playwright() as playwright:
        folder = Path(temporary)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for form in ("streamlit", "html"):  # one server at a time: they would compete for the two cores
            url = f"sqlite:///{folder / f'{form}.db'}"
            prepare(url)
            app = App(url, folder, form)
            try:
                results[form] = measure_browser(browser, app, args.repeats)
                if form == "html" and args.respondents:
                    results["load"] = load(app, url, args.respondents)
            finally:
                app.stop()
        browser.close()
    print(f"time until a 390 px Chromium can answer the first question (s), {os.cpu_count()} CPUs, shared machine")
    print(f"{'form':<24}{'first':>8}{'cold':>8}{'warm':>8}")
    for form, name in (("streamlit", "Streamlit page (old)"), ("html", "HTML form (new)")):
        r = results[form]
        print(f"{name:<24}{r['first']:>8.2f}{r['cold']:>8.2f}{r['warm']:>8.2f}")
    print(f"warm ratio old/new: {results['streamlit']['warm'] / results['html']['warm']:.1f}x")
    if "load" in results:
        r = results["load"]
        print(f"\n{r['respondents']} respondents at once on the HTML form: {r['seconds']:.1f} s in all; "
              f"per step p50 {r['step_p50'] * 1000:.0f} ms, p95 {r['step_p95'] * 1000:.0f} ms; "
              f"per submission p50 {r['submit_p50'] * 1000:.0f} ms, p95 {r['submit_p95'] * 1000:.0f} ms")
        print(f"server memory {r['memory_before']:.0f} MiB before, {r['memory_after']:.0f} MiB after; "
              f"stored {r['stored']} responses for {r['respondents']} respondents who each submitted twice "
              f"({'nothing lost or doubled' if r['stored'] == r['respondents'] and not r['failures'] else 'MISMATCH'})")
        if r["failures"]:
            print(f"failures: {r['failures'][:10]}")
    return results


if __name__ == "__main__":
    main()
