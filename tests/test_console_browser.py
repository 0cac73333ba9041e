"""The console in a real browser: Debian's Chromium driven by Playwright, against the console
served on a loopback port as ``pipeline serve`` serves it.

Chromium must be installed (``.ci/run`` installs Debian's ``chromium``): without it these tests
fail, never skip. Screenshots of each step are written to ``PIPELINE_SCREENSHOTS`` when set.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from pipeline.console.app import Console, create_app

from test_collect import PERIOD, issued, workspace  # noqa: F401 (fixtures)
from test_console import filled

# Chromium as the machine runs it: no sandbox for root, and none of its calls home (the network
# here is closed, and a console needs none).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed; .ci/run installs Debian's chromium package.")
    return path


@pytest.fixture
def served(workspace):
    """The console on a free loopback port, as ``pipeline serve`` runs it; its address."""
    console = Console(workspace)
    server = make_server("127.0.0.1", 0, create_app(console), threaded=True)
    console.listening("127.0.0.1", server.port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join()
    console.jobs.wait()


@pytest.fixture
def page():
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True,
                                      locale="zh-CN")
        page = context.new_page()
        page.script_errors = []
        page.on("pageerror", lambda error: page.script_errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and page.script_errors.append(message.text))
        yield page
        browser.close()


def snap(page, name: str) -> None:
    folder = os.environ.get("PIPELINE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_the_clerk_receives_files_merges_and_downloads_the_report(workspace, served, page, tmp_path):
    page.goto(f"{served}/")
    expect(page.locator("h1")).to_have_text(f"{PERIOD} 报送情况")
    finance = page.locator('#units tr[data-unit="S009"]')
    expect(finance).to_contain_text("未报送")
    snap(page, "1-board")

    good = tmp_path / "upload" / "财政局6月报送.xlsx"
    good.parent.mkdir()
    good.write_bytes(filled(workspace, tmp_path))
    page.set_input_files("#file-input", str(good))
    result = page.locator("#upload-results li").first
    expect(result).to_contain_text("财政局6月报送.xlsx", timeout=60_000)
    expect(result.locator(".badge")).to_have_text("通过")
    expect(result).to_contain_text("市财政局")
    expect(finance).to_contain_text("通过")  # the board is refreshed in place
    snap(page, "2-accepted")

    bad = tmp_path / "upload" / "教育局报送.xlsx"
    bad.write_bytes(filled(workspace, tmp_path, "市教育局", mistake=True))
    page.set_input_files("#file-input", str(bad))
    result = page.locator("#upload-results li").first
    expect(result).to_contain_text("教育局报送.xlsx", timeout=60_000)
    expect(result.locator(".badge")).to_have_text("退回修改")
    expect(result.locator(".finding.error")).to_contain_text("120")
    expect(page.locator('#units tr[data-unit="S004"]')).to_contain_text("退回修改")
    snap(page, "3-returned")

    page.get_by_role("button", name="合并汇总").click()
    expect(page.locator("#job-message")).to_contain_text("已合并汇总", timeout=120_000)
    link = page.locator("#outputs a", has_text="汇总报告.xlsx")
    expect(link).to_be_visible()
    snap(page, "4-merged")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "汇总报告.xlsx"
    assert openpyxl.load_workbook(saved).sheetnames

    page.locator('#units tr[data-unit="S004"] a').click()
    expect(page.locator("h1")).to_have_text("市教育局")
    expect(page.locator("table.findings")).to_contain_text("120")
    snap(page, "5-unit")
    page.get_by_role("link", name="工作计划").click()
    expect(page.locator("table.plan")).to_contain_text("牵头")
    snap(page, "6-plan")
    assert page.script_errors == []


def test_files_dropped_on_the_board_are_received(workspace, served, page, tmp_path):
    page.goto(f"{served}/periods/{PERIOD}")
    data = filled(workspace, tmp_path)
    dropped = page.evaluate_handle("""(bytes) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], "拖进来的.xlsx"));
        return transfer;
    }""", list(data))
    page.dispatch_event("#drop", "drop", {"dataTransfer": dropped})
    result = page.locator("#upload-results li").first
    expect(result).to_contain_text("拖进来的.xlsx", timeout=60_000)
    expect(result.locator(".badge")).to_have_text("通过")
    assert (workspace.input_dir / PERIOD / "拖进来的.xlsx").read_bytes() == data
    assert page.script_errors == []


def test_an_operation_that_cannot_run_says_why_on_the_page(served, page):
    page.goto(f"{served}/periods/2018-09")
    page.get_by_role("button", name="生成催报通知").click()
    expect(page.locator("#job-message")).to_contain_text("还没有下发报送期 2018-09 的填报表", timeout=60_000)
    expect(page.get_by_role("button", name="生成催报通知")).to_be_enabled()
    snap(page, "7-failed")
    assert page.script_errors == []
