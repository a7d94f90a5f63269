"""The weekly report opened in a real browser: headless Chromium (Debian's package) through
Playwright. It renders with no console message and no page error, fetches nothing but its own
file, shows every chart with a size, and reads on a phone without sideways scrolling.

Without Chromium or Playwright the test is skipped with its reason, unless
CSOPS_REQUIRE_BROWSER=1 (as in CI), where it fails. ``python -m tests.test_report_browser``
writes docs/report.png through the same code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def missing_browser() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


def require_browser() -> None:
    why = missing_browser()
    if why is None:
        return
    if os.environ.get("CSOPS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CSOPS_REQUIRE_BROWSER=1 but {why}")
    pytest.skip(f"browser test skipped: {why}")


def write_report(folder: Path) -> Path:
    """``csops report sample_data --out report.html``, run in ``folder`` (its history store
    lands there)."""
    out = folder / "report.html"
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-m", "csops_cli", "report", str(SAMPLE), "--out", str(out),
                    "--quiet"], cwd=folder, env=environment, check=True)
    return out


@dataclass
class Visit:
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    charts: list[dict] = field(default_factory=list)  # per svg: visible, width, height
    scroll_width: int = 0
    viewport_width: int = 0


def visit(page_file: Path, viewport: dict, screenshot: Path | None = None) -> Visit:
    """Open ``page_file`` in headless Chromium at ``viewport``; what it logged, fetched and
    showed; a full-page screenshot when asked."""
    from playwright.sync_api import sync_playwright

    seen = Visit()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            page.on("console", lambda message: seen.console.append(
                f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: seen.errors.append(str(error)))
            page.on("request", lambda request: seen.requests.append(request.url))
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            for chart in page.locator("svg").all():
                box = chart.bounding_box()
                seen.charts.append({"visible": chart.is_visible(),
                                    "width": box["width"] if box else 0,
                                    "height": box["height"] if box else 0})
            seen.scroll_width = page.evaluate("document.documentElement.scrollWidth")
            seen.viewport_width = page.evaluate("window.innerWidth")
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen


def check(seen: Visit, page_file: Path) -> None:
    assert seen.console == []
    assert seen.errors == []
    own = page_file.resolve().as_uri()
    assert [url for url in seen.requests if url != own and not url.startswith("data:")] == []
    assert len(seen.charts) >= 6
    for chart in seen.charts:
        assert chart["visible"] and chart["width"] > 0 and chart["height"] > 0, chart
    assert seen.scroll_width <= seen.viewport_width  # no sideways scrolling


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory) -> Path:
    require_browser()
    return write_report(tmp_path_factory.mktemp("report"))


def test_report_renders_in_chromium(sample_report, tmp_path):
    screenshot = tmp_path / "report.png"
    check(visit(sample_report, DESKTOP, screenshot), sample_report)
    print(f"screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000


def test_report_reads_on_a_phone(sample_report, tmp_path):
    screenshot = tmp_path / "report-phone.png"
    seen = visit(sample_report, PHONE, screenshot)
    check(seen, sample_report)
    print(f"screenshot: {screenshot}")
    assert seen.viewport_width == PHONE["width"]
    # one column: each chart takes the width of the page, less its margins
    assert min(chart["width"] for chart in seen.charts) > PHONE["width"] * 0.75


def outcome_of_require_browser() -> str:
    try:
        require_browser()
    except pytest.fail.Exception as error:
        return f"failed: {error}"
    except pytest.skip.Exception as error:
        return f"skipped: {error}"
    return "ran"


def test_a_missing_browser_is_skipped_or_fails_as_asked(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("CSOPS_REQUIRE_BROWSER", raising=False)
    assert outcome_of_require_browser() == ("skipped: browser test skipped: "
                                            "/nonexistent/chromium is missing (apt-get install "
                                            "chromium)")
    monkeypatch.setenv("CSOPS_REQUIRE_BROWSER", "1")
    assert outcome_of_require_browser().startswith(
        "failed: CSOPS_REQUIRE_BROWSER=1 but /nonexistent/chromium is missing")


def write_docs_screenshot(target: Path = ROOT / "docs" / "report.png") -> Path:
    """The README's screenshot, made the way the test makes its own."""
    import tempfile

    if why := missing_browser():
        raise SystemExit(f"cannot make {target}: {why}")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        page_file = write_report(Path(folder))
        check(visit(page_file, DESKTOP, target), page_file)
    return target


if __name__ == "__main__":
    print(write_docs_screenshot())
