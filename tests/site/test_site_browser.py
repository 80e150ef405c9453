"""The built course site in a real browser: every chapter page loads, its images render and its
internal links resolve; screenshots are kept under build/site-screenshots/.

Runs against ``COURSE_SITE_DIR`` (default ``build/site``, what ``make site`` writes) and skips
when no site was built or no Chromium is installed; ``make test-site`` builds the site first and
sets ``COURSE_SITE_REQUIRED=1``, which turns those skips into failures.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("COURSE_SITE_DIR", ROOT / "build" / "site"))
SHOTS = Path(os.environ.get("COURSE_SITE_SCREENSHOTS", ROOT / "build" / "site-screenshots"))
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("COURSE_SITE_REQUIRED") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _skip_or_fail(reason: str):
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").is_file():
        _skip_or_fail(f"no site at {SITE}: run `make site`")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api") if not REQUIRED else __import__(
        "playwright.sync_api", fromlist=["sync_playwright"])
    if not os.path.exists(CHROMIUM):
        _skip_or_fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def chapter_pages() -> list[str]:
    return sorted(p.name for p in SITE.glob("[0-9][0-9]_*.html")) if SITE.is_dir() else []


def _check_page(browser, base: str, name: str) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    failed_requests = []
    page.on("requestfailed", lambda r: failed_requests.append(r.url) if r.url.startswith(base) else None)
    response = page.goto(urljoin(base, name), wait_until="load")
    assert response is not None and response.status == 200, f"{name}: HTTP {response and response.status}"
    page.wait_for_load_state("networkidle")
    images = page.eval_on_selector_all(
        "img", "els => els.map(e => ({src: e.currentSrc || e.src, ok: e.complete && e.naturalWidth > 0}))")
    links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{Path(name).stem}.png"), full_page=False)
    internal = sorted({link.split("#")[0] for link in links if link.startswith(base)})
    broken_links = []
    for link in internal:
        status = page.request.get(link).status
        if status != 200:
            broken_links.append(f"{link} ({status})")
    page.close()
    return {"images": images, "broken_links": broken_links, "failed_requests": failed_requests,
            "internal_links": internal}


def test_index_links_every_chapter(server, browser):
    result = _check_page(browser, server, "index.html")
    chapters = chapter_pages()
    assert chapters, f"no chapter pages in {SITE}"
    linked = {urlparse(link).path.lstrip("/") for link in result["internal_links"]}
    assert set(chapters) <= linked, f"chapters missing from the index's navigation: {set(chapters) - linked}"
    assert not result["broken_links"], result["broken_links"]


@pytest.mark.parametrize("name", chapter_pages() or ["(no site built)"])
def test_chapter_page_renders(server, browser, name):
    if name == "(no site built)":
        _skip_or_fail(f"no chapter pages in {SITE}: run `make site`")
    result = _check_page(browser, server, name)
    broken_images = [i["src"] for i in result["images"] if not i["ok"]]
    assert result["images"], f"{name}: no image at all (the Colab badge and the chapter's plots are expected)"
    assert not broken_images, f"{name}: images that do not render: {broken_images}"
    assert not result["broken_links"], f"{name}: internal links that do not resolve: {result['broken_links']}"
    assert not result["failed_requests"], f"{name}: site files that failed to load: {result['failed_requests']}"


def test_screenshots_kept():
    if not chapter_pages():
        _skip_or_fail(f"no site at {SITE}")
    assert SHOTS.is_dir() and any(SHOTS.glob("*.png")), f"no screenshots in {SHOTS}"
