"""Take the README's sign-in and respondent screenshots: start the app on a fresh demo database and
photograph the sign-in page and the respondent form. The dashboard pages' screenshots are written
by tests/app/test_readable_pages.py, which checks each page as it photographs it.

    python docs/take_screenshots.py      # needs Debian's chromium at /usr/bin/chromium and playwright
    python docs/take_screenshots.py --respondent-only   # the respondent form only, desktop and phone
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
RESPONDENT_PAGES = {"respond.png": "/?s=store-visit"}
PHONE = {"width": 390, "height": 844}
# On a phone: the relationship survey (one group a screen), its first screen with a score chosen and
# the drivers' screen; (address, the scale point to press on each screen before the next one).
PHONE_PAGES = {"respond_phone.png": ("/?s=how-are-we-doing", ["9"]),
               "respond_phone_drivers.png": ("/?s=how-are-we-doing", ["9", "8", "7"])}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def publish_anonymous_store_visit(url: str, demo_data: bool = True) -> None:
    """Demo data on first start, plus the XLSForm store-visit survey and the relationship survey as
    anonymous open-link surveys."""
    from dataclasses import replace

    from survey.storage import db
    from survey.bootstrap import prepare_database
    from survey.definitions.definition import load_yaml
    from survey.definitions.publishing import publish
    from survey.definitions.xlsform import read_xlsform

    engine = db.make_engine(url)
    if demo_data:
        prepare_database(engine)
    else:
        db.upgrade(engine)
    survey = read_xlsform(ROOT / "sample_data" / "surveys" / "store_visit.xlsx").survey
    relationship = load_yaml(ROOT / "sample_data" / "surveys" / "relationship_nps.yaml")
    with db.session_scope(engine) as session:
        publish(session, replace(survey, slug="store-visit", anonymous=True))
        publish(session, replace(relationship, slug="how-are-we-doing", anonymous=True))


def photograph_phone(browser, base: str) -> None:
    """The respondent form at 390 x 844, as a person answers it."""
    for name, (path, presses) in PHONE_PAGES.items():
        page = browser.new_page(viewport=PHONE)
        page.goto(base + path)
        for number, point in enumerate(presses):
            if number:
                page.get_by_role("button", name="Next").click()
            for scale in page.locator(".scale").all():
                scale.locator("label", has_text=point).first.click()
        page.screenshot(path=str(ROOT / "docs" / name), full_page=True)
        print(f"wrote docs/{name}")
        page.close()


def main() -> None:
    respondent_only = "--respondent-only" in sys.argv[1:]
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "SURVEY_DATABASE_URL": f"sqlite:///{folder}/demo.db"}
        publish_anonymous_store_visit(env["SURVEY_DATABASE_URL"], demo_data=not respondent_only)
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(60):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.5)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
                def photograph(name: str) -> None:
                    page.locator("h1").first.wait_for(timeout=120_000)
                    page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')",
                                           timeout=120_000)
                    time.sleep(4)  # let the charts draw
                    page.screenshot(path=str(ROOT / "docs" / name), full_page=True)
                    print(f"wrote docs/{name}")

                photograph_phone(browser, f"http://127.0.0.1:{port}")
                for name, path in RESPONDENT_PAGES.items():
                    page.goto(f"http://127.0.0.1:{port}{path}")
                    photograph(name)
                if respondent_only:
                    browser.close()
                    return
                page.goto(f"http://127.0.0.1:{port}/")
                photograph("sign_in.png")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
