"""The console (``pipeline serve``) through its HTTP interface: the JSON API, uploads, the
operations, downloads, and the rules every request passes."""

from __future__ import annotations

import errno
import io
import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from pipeline import cycle, guard
from pipeline.cli import cli
from pipeline.console import jobs as jobs_module
from pipeline.console.app import Console, create_app, is_loopback, store_upload
from pipeline.console.server import shown_address
from pipeline.fill import fill_template
from pipeline.workspace import CONSOLE_SHORTCUT

from helpers import REPO

from test_collect import PERIOD, good_filling, issued, template, workspace  # noqa: F401 (fixtures)

HOST = "127.0.0.1:8765"
OWN = {"Origin": f"http://{HOST}"}


@pytest.fixture
def console(workspace):
    served = Console(workspace)
    served.listening("127.0.0.1", 8765)
    return served


class Browser(FlaskClient):
    """A client that reaches the console as a browser does, at the address it listens on."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", f"http://{HOST}")
        return super().open(*args, **kwargs)


def client_of(console):
    app = create_app(console)
    app.test_client_class = Browser
    return app.test_client()


@pytest.fixture
def client(console):
    return client_of(console)


def filled(workspace, tmp_path, unit: str = "市财政局", mistake: bool = False) -> bytes:
    filling = good_filling(workspace, unit)
    if mistake:
        filling.answers[next(iter(filling.answers))]["完成进度(%)"] = 120
    target = tmp_path / f"{unit}.xlsx"
    fill_template(template(workspace, unit), target, workspace.spec(), filling)
    return target.read_bytes()


def upload(client, *files: tuple[str, bytes], headers=OWN):
    return client.post(f"/api/periods/{PERIOD}/files", headers=headers,
                       data={"file": [(io.BytesIO(data), name) for name, data in files]},
                       content_type="multipart/form-data")


def finish(client, response) -> dict:
    """The job a 202 answer started, followed until it ends."""
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    for _ in range(600):
        if job["state"] != "running":
            return job
        time.sleep(0.1)
        job = client.get(f"/api/jobs/{job['id']}").get_json()
    raise AssertionError(f"the job did not end: {job}")


def test_the_period_document_is_exactly_what_collect_json_printed(workspace, client, tmp_path):
    (workspace.input_dir / PERIOD).mkdir(parents=True, exist_ok=True)
    (workspace.input_dir / PERIOD / "财政局.xlsx").write_bytes(filled(workspace, tmp_path))
    (workspace.input_dir / PERIOD / "教育局.xlsx").write_bytes(filled(workspace, tmp_path, "市教育局", mistake=True))
    (workspace.input_dir / PERIOD / "截图.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
    printed = CliRunner().invoke(cli, ["-w", str(workspace.root), "collect", PERIOD, "--json"])
    assert printed.exit_code == 0, printed.output
    served = client.get(f"/api/periods/{PERIOD}")
    assert served.status_code == 200
    assert json.loads(served.get_data(as_text=True)) == json.loads(printed.stdout)
    assert list(served.get_json()) == list(json.loads(printed.stdout))  # the same keys, in the same order
    statuses = {f["file"]: f["status"] for f in served.get_json()["files"]}
    assert statuses == {"财政局.xlsx": "accepted", "教育局.xlsx": "returned", "截图.xlsx": "rejected"}
    others = client.get(f"/periods/{PERIOD}").get_data(as_text=True).split('id="others"')[1]
    assert "无法确定单位的文件" in others and "截图.xlsx" in others and "拒收" in others


def test_a_month_never_collected_expects_every_unit_of_the_plan(client):
    document = client.get(f"/api/periods/{PERIOD}").get_json()
    assert document["files"] == [] and document["missing"] == document["expected"] and "S009" in document["expected"]


def test_an_uploaded_template_is_stored_collected_and_its_verdict_returned(workspace, client, tmp_path):
    answer = upload(client, ("财政局6月.xlsx", filled(workspace, tmp_path)))
    assert answer.status_code == 200, answer.get_json()
    [entry] = answer.get_json()["files"]
    assert (entry["file"], entry["status"], entry["unit_code"]) == ("财政局6月.xlsx", "accepted", "S009")
    assert set(entry) == {"file", "sha256", "unit_code", "status", "findings"}
    assert (workspace.input_dir / PERIOD / "财政局6月.xlsx").is_file()
    board = client.get(f"/periods/{PERIOD}").get_data(as_text=True)
    row = board[board.index('data-unit="S009"'):].split("</tr>")[0]
    assert "市财政局" in row and "通过" in row and "财政局6月.xlsx" in row
    page = client.get(f"/periods/{PERIOD}/units/S009").get_data(as_text=True)
    history = page[page.index('<table class="history">'):].split("</table>")[0]
    assert re.search(rf"{PERIOD}</a></td><td>通过</td><td class=\"file\">财政局6月.xlsx</td>", history)


def test_a_file_with_errors_comes_back_with_its_findings(workspace, client, tmp_path):
    [entry] = upload(client, ("教育局.xlsx", filled(workspace, tmp_path, "市教育局", mistake=True))).get_json()["files"]
    assert entry["status"] == "returned"
    [error] = [f for f in entry["findings"] if f["severity"] == "error"]
    assert error["location"].startswith(f"{workspace.spec().data_sheet}!") and "120" in error["message"] and error["fix"]
    page = client.get(f"/periods/{PERIOD}/units/{entry['unit_code']}").get_data(as_text=True)
    assert "退回修改" in page and error["location"] in page and error["fix"] in page


def test_uploads_never_overwrite_and_names_never_leave_the_folder(workspace, client, tmp_path):
    first, second = filled(workspace, tmp_path), filled(workspace, tmp_path, "市教育局")
    upload(client, ("报送.xlsx", first))
    answer = upload(client, ("报送.xlsx", second), ("../../x.xlsx", b"not a workbook"),
                    ("..\\..\\y.xlsx", b"not a workbook either"))
    folder = workspace.input_dir / PERIOD
    assert (folder / "报送.xlsx").read_bytes() == first
    assert (folder / "报送（2）.xlsx").read_bytes() == second
    assert (folder / "x.xlsx").read_bytes() == b"not a workbook" and (folder / "y.xlsx").is_file()
    assert not (workspace.root / "x.xlsx").exists() and not (workspace.input_dir / "x.xlsx").exists()
    assert sorted(e["file"] for e in answer.get_json()["files"]) == ["x.xlsx", "y.xlsx", "报送（2）.xlsx"]


def test_store_upload_makes_odd_names_safe(tmp_path):
    assert store_upload(tmp_path, "C:\\Users\\张三\\桌面\\报送.xlsx", b"1").name == "报送.xlsx"
    assert store_upload(tmp_path, "con.xlsx", b"2").name == "_con.xlsx"
    assert store_upload(tmp_path, "", b"3").name == "_"
    assert store_upload(tmp_path, "a:b?.xlsx", b"4").name == "a_b_.xlsx"


def test_a_zip_upload_returns_each_file_inside(workspace, client, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("财政局.xlsx", filled(workspace, tmp_path))
        archive.writestr("说明.xlsx", b"not a workbook")
    entries = upload(client, ("来信.zip", buffer.getvalue())).get_json()["files"]
    assert {e["file"]: e["status"] for e in entries} == {"来信.zip › 财政局.xlsx": "accepted",
                                                         "来信.zip › 说明.xlsx": "rejected"}


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},  # a sandboxed page, or one opened from a file
    {"Origin": "http://127.0.0.1:9999"},  # another program on this computer
    {"Referer": "http://evil.example/page"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": f"http://{HOST}"},
])
def test_a_request_from_elsewhere_is_refused_and_changes_nothing(workspace, client, tmp_path, headers):
    answer = upload(client, ("财政局.xlsx", filled(workspace, tmp_path)), headers=headers)
    assert answer.status_code == 403
    assert "不是从本控制台的页面发出的" in answer.get_json()["error"]
    assert not (workspace.input_dir / PERIOD).exists()
    assert client.post(f"/api/periods/{PERIOD}/actions/templates", headers=headers).status_code == 403


def test_the_console_pages_own_requests_and_scripts_pass(client, workspace, tmp_path):
    page = {"Referer": f"http://{HOST}/periods/{PERIOD}", "Sec-Fetch-Site": "same-origin"}
    assert upload(client, ("a.xlsx", filled(workspace, tmp_path)), headers=page).status_code == 200
    assert upload(client, ("b.xlsx", filled(workspace, tmp_path)), headers={"Origin": f"http://{HOST}"}).status_code == 200
    script = upload(client, ("c.xlsx", filled(workspace, tmp_path, "市教育局")), headers={})  # no page behind it
    assert script.status_code == 200 and script.get_json()["files"][0]["unit_code"] == "S004"


def test_a_request_through_another_host_name_is_refused(client):
    """A page of another site that points its own name at 127.0.0.1 reads nothing."""
    answer = client.get(f"/api/periods/{PERIOD}", headers={"Host": "evil.example:8765"})
    assert answer.status_code == 403
    assert client.get(f"/api/periods/{PERIOD}", headers={"Host": "localhost:8765"}).status_code == 200


def test_listening_elsewhere_needs_the_access_token_on_every_request(workspace):
    console = Console(workspace, access_token="s3cret-token")
    console.listening("0.0.0.0", 8765)
    client = client_of(console)
    assert client.get(f"/api/periods/{PERIOD}", headers={"Host": "10.0.0.5:8765"}).status_code == 401
    assert client.get(f"/api/periods/{PERIOD}?token=wrong").status_code == 401
    first = client.get(f"/periods/{PERIOD}?token=s3cret-token")
    assert first.status_code == 200 and "pipeline_token=s3cret-token" in first.headers["Set-Cookie"]
    assert client.get(f"/api/periods/{PERIOD}").status_code == 200  # the cookie now carries it
    fresh = client_of(console)
    assert fresh.get(f"/api/periods/{PERIOD}", headers={"X-Access-Token": "s3cret-token"}).status_code == 200
    assert not is_loopback("0.0.0.0") and is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")


def test_oversized_and_too_many_uploads_are_refused_and_nothing_is_stored(workspace, tmp_path):
    console = Console(workspace, max_upload_files=2, max_upload_bytes=10_000)
    console.listening("127.0.0.1", 8765)
    client = client_of(console)
    big = upload(client, ("大.xlsx", b"x" * 10_001))
    assert big.status_code == 413 and "太大" in big.get_json()["error"]
    many = upload(client, ("1.xlsx", b"1"), ("2.xlsx", b"2"), ("3.xlsx", b"3"))
    assert many.status_code == 413 and "最多上传 2 个文件" in many.get_json()["error"]
    assert not (workspace.input_dir / PERIOD).exists()


def test_a_request_over_the_size_limit_is_refused_before_it_is_read(client, monkeypatch):
    client.application.config["MAX_CONTENT_LENGTH"] = 1000
    answer = upload(client, ("大.xlsx", b"x" * 5000))
    assert answer.status_code == 413 and "上传的文件太大" in answer.get_json()["error"]


def test_an_upload_without_files_says_so(client):
    answer = client.post(f"/api/periods/{PERIOD}/files", headers=OWN, data={}, content_type="multipart/form-data")
    assert answer.status_code == 400 and "没有收到文件" in answer.get_json()["error"]


def test_while_a_command_holds_the_workspace_the_console_says_who(workspace, client, tmp_path, monkeypatch):
    monkeypatch.setattr(guard, "WAIT_SECONDS", 0.5)
    with guard.holding(workspace, f"collect {PERIOD}"):
        answer = upload(client, ("财政局.xlsx", filled(workspace, tmp_path)))
    assert answer.status_code == 409
    assert "工作区正被另一个 pipeline 命令使用" in answer.get_json()["error"] and f"collect {PERIOD}" in answer.get_json()["error"]
    assert f"文件已放入 input/{PERIOD}/" in answer.get_json()["error"]
    assert (workspace.input_dir / PERIOD / "财政局.xlsx").is_file()  # kept for the next collect
    board = client.get(f"/periods/{PERIOD}").get_data(as_text=True)
    assert "1 份文件还没有收取" in board
    again = client.post(f"/api/periods/{PERIOD}/actions/merge", headers=OWN)
    assert finish(client, again)["state"] == "done"
    assert "还没有收取" not in client.get(f"/periods/{PERIOD}").get_data(as_text=True)


def test_one_operation_at_a_time(console, client):
    blocker = console.jobs._take("合并汇总", PERIOD, ("读取报送文件",))
    answer = client.post(f"/api/periods/{PERIOD}/actions/templates", headers=OWN)
    assert answer.status_code == 409 and "控制台正在合并汇总" in answer.get_json()["error"]
    assert client.get("/api/jobs/current").get_json()["id"] == blocker.id


def test_operations_run_with_progress_and_their_outputs_download(workspace, client, tmp_path):
    (workspace.input_dir / PERIOD).mkdir(parents=True, exist_ok=True)
    (workspace.input_dir / PERIOD / "财政局.xlsx").write_bytes(filled(workspace, tmp_path))
    merged = finish(client, client.post(f"/api/periods/{PERIOD}/actions/merge", headers=OWN))
    assert merged["state"] == "done" and "收到文件 1 份" in merged["message"]
    assert merged["label"] == "生成汇总报告和反馈表" and merged["done"] == merged["total"] > 0
    report = download(client, "汇总报告.xlsx")
    assert report.status_code == 200 and "attachment" in report.headers["Content-Disposition"]
    assert report.data == (workspace.period_output(PERIOD) / "汇总报告.xlsx").read_bytes()
    assert openpyxl.load_workbook(io.BytesIO(report.data)).sheetnames
    reminded = finish(client, client.post(f"/api/periods/{PERIOD}/actions/remind", headers=OWN))
    assert reminded["state"] == "done" and "需要催报" in reminded["message"]
    notices = download(client, "催报通知")
    names = zipfile.ZipFile(io.BytesIO(notices.data)).namelist()
    assert notices.headers["Content-Disposition"].endswith(".zip") or "zip" in notices.headers["Content-Type"]
    assert names and all(name.endswith("催报通知.docx") for name in names) and not any("S009" in n for n in names)
    templates_zip = zipfile.ZipFile(io.BytesIO(download(client, "填报模板").data))
    assert len(templates_zip.namelist()) == len(list((workspace.period_output(PERIOD) / "填报模板").glob("*.xlsx")))
    assert download(client, "../../ledger.sqlite").status_code == 404
    assert download(client, "..%2F..%2Fledger.sqlite").status_code == 404


def download(client, name: str):
    """An output of the month, read whole (the file it was sent from is closed)."""
    response = client.get(f"/periods/{PERIOD}/outputs/{name}")
    response.get_data()
    response.close()
    return response


def test_a_failed_operation_says_why_in_words(client):
    failed = finish(client, client.post("/api/periods/2018-09/actions/remind", headers=OWN))
    assert failed["state"] == "failed" and "还没有下发报送期 2018-09 的填报表" in failed["message"]


def test_a_month_written_otherwise_and_an_unknown_unit_get_chinese_answers(client):
    answer = client.get("/api/periods/2018-6")
    assert answer.status_code == 400 and "2018-06" in answer.get_json()["error"]
    page = client.get(f"/periods/{PERIOD}/units/NOPE")
    assert page.status_code == 404 and "找不到这个页面" in page.get_data(as_text=True)
    assert "Traceback" not in page.get_data(as_text=True)


def test_the_pages_show_the_month_the_unit_and_the_plan(client):
    board = client.get("/").get_data(as_text=True)  # the latest month with templates
    assert f"{PERIOD} 报送情况" in board and '<input type="file"' in board
    for word in ("应报单位", "通过", "逾期", "退回修改", "拒收", "未报送", "生成填报表", "合并汇总", "生成催报通知"):
        assert word in board
    assert "市财政局" in board and "0000-5550009" in board
    plan = client.get("/plan").get_data(as_text=True)
    assert "牵头" in plan and "市财政局" in plan and "读取方式：表格：表头在第1行" in plan and "计划原文：" in plan
    unit = client.get(f"/periods/{PERIOD}/units/S009").get_data(as_text=True)
    assert "市财政局" in unit and "本月没有收到这个单位的文件" in unit and "历月报送" in unit


def started(workspace, *options: str) -> tuple[subprocess.Popen, str]:
    """``pipeline serve`` as the clerk starts it, and the address it says to open."""
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "-w", str(workspace.root), "serve", "--no-browser",
                                *options], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8")
    while line := process.stdout.readline():
        if line.startswith("请在浏览器中打开："):
            return process, line.removeprefix("请在浏览器中打开：").strip()
    raise AssertionError(process.stderr.read())


def stopped(process: subprocess.Popen) -> tuple[str, str]:
    """Ctrl-C, as the clerk stops it."""
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    with process.stdout, process.stderr:  # what the lines already read left in the buffer, too
        return process.stdout.read(), process.stderr.read()


def test_pipeline_serve_serves_the_board_until_ctrl_c(workspace):
    process, url = started(workspace, "--port", "0")
    try:
        assert url.startswith("http://127.0.0.1:") and "token" not in url
        with urllib.request.urlopen(url) as answer:
            page = answer.read().decode("utf-8")
        assert f"{PERIOD} 报送情况" in page and '<input type="file"' in page
    finally:
        out, err = stopped(process)
    assert process.returncode == 0, err
    assert "控制台已停止" in out and "Traceback" not in err + out


def test_listening_on_another_address_prints_the_token_it_requires(workspace):
    process, url = started(workspace, "--port", "0", "--host", "0.0.0.0")
    try:
        assert "?token=" in url
        port = urllib.parse.urlsplit(url).port
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/periods/{PERIOD}")
        assert refused.value.code == 401
        refused.value.close()
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/periods/{PERIOD}?token={token}") as answer:
            assert json.load(answer)["period"] == PERIOD
    finally:
        out, _ = stopped(process)
    assert "含访问令牌" in out


def test_a_port_in_use_is_told_in_chinese(workspace):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "pipeline", "-w", str(workspace.root), "serve", "--no-browser",
                               "--port", str(port)], cwd=REPO, capture_output=True, encoding="utf-8", timeout=60)
    assert done.returncode == 1
    assert f"端口 {port} 已被占用" in done.stderr and "Traceback" not in done.stderr


def test_a_new_workspace_has_a_double_click_shortcut_to_the_console(tmp_path):
    root = cycle.init_workspace(tmp_path / "新工作区").root
    text = (root / CONSOLE_SHORTCUT).read_bytes().decode("utf-8")
    assert text.startswith("@echo off\r\nchcp 65001") and text.endswith("\r\n")
    assert f'"{sys.executable}" -m pipeline -w "%~dp0." serve' in text


def test_the_address_to_open_is_one_a_browser_here_reaches():
    assert [shown_address(host) for host in ("127.0.0.1", "localhost", "0.0.0.0", "::1", "::", "192.168.1.20")] == [
        "127.0.0.1", "127.0.0.1", "127.0.0.1", "[::1]", "[::1]", "192.168.1.20"]


def test_a_ledger_from_before_findings_kept_their_fields_still_serves(workspace, client, tmp_path):
    (workspace.input_dir / PERIOD).mkdir(parents=True, exist_ok=True)
    (workspace.input_dir / PERIOD / "教育局.xlsx").write_bytes(filled(workspace, tmp_path, "市教育局", mistake=True))
    before = CliRunner().invoke(cli, ["-w", str(workspace.root), "collect", PERIOD, "--json"]).stdout
    db = sqlite3.connect(workspace.ledger_path)
    with db:
        db.execute("UPDATE findings SET fields_json = NULL")
    db.close()
    served = client.get(f"/api/periods/{PERIOD}")
    assert served.status_code == 200 and served.get_json() == json.loads(before)
    assert "120" in client.get(f"/periods/{PERIOD}/units/S004").get_data(as_text=True)


def test_a_resent_zip_and_names_collect_skips_are_answered(workspace, client, tmp_path):
    data = filled(workspace, tmp_path)
    upload(client, ("财政局.xlsx", data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("财政局再次发送.xlsx", data)
    [entry] = upload(client, ("转发.zip", buffer.getvalue())).get_json()["files"]  # named by the file first received
    assert entry["file"] == "财政局.xlsx"
    assert [f["message"] for f in entry["findings"] if f["code"] == "file-duplicate"] != []
    answer = upload(client, ("~$财政局.xlsx", data), ("Thumbs.db", b"x")).get_json()
    assert answer["files"] == [] and [s["file"] for s in answer["skipped"]] == ["~$财政局.xlsx", "Thumbs.db"]
    assert "不是单位报送的文件" in answer["skipped"][0]["message"]
    assert not (workspace.input_dir / PERIOD / "~$财政局.xlsx").exists()


def test_a_full_disk_while_storing_leaves_none_of_the_batch(workspace, client, tmp_path, monkeypatch):
    from pipeline.console import app as console_app

    real, calls = console_app.store_upload, []

    def store(folder, name, data):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(folder, name, data)

    monkeypatch.setattr(console_app, "store_upload", store)
    answer = upload(client, ("一.xlsx", b"1"), ("二.xlsx", b"2"), ("三.xlsx", b"3"))
    assert answer.status_code == 500 and "磁盘" in answer.get_json()["error"]
    assert list((workspace.input_dir / PERIOD).iterdir()) == []


def test_a_long_name_keeps_its_extension_and_a_clash_its_number(tmp_path):
    long = "长" * 300 + ".xlsx"
    first, second = store_upload(tmp_path, long, b"1"), store_upload(tmp_path, long, b"2")
    assert first.suffix == ".xlsx" and second.name.endswith("（2）.xlsx") and first != second
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no hidden leftovers


def test_a_script_may_ask_for_an_operation_but_a_form_of_another_site_may_not(client):
    assert client.post("/api/periods/2018-09/actions/remind").status_code == 202  # no body: a script
    form = client.post("/api/periods/2018-09/actions/remind", data={"a": "1"})  # what a form sends
    assert form.status_code == 403
    multipart = client.post("/api/periods/2018-09/actions/remind", data={"a": "1"}, content_type="multipart/form-data")
    assert multipart.status_code == 403


def test_an_interrupted_operation_is_told_and_the_console_waits_for_it(console):
    def interrupted(workspace, period, progress):
        raise KeyboardInterrupt

    monkey = jobs_module.ACTIONS["remind"]
    jobs_module.ACTIONS["remind"] = jobs_module.Action(monkey.word, monkey.labels, interrupted)
    try:
        job = console.jobs.start("remind", PERIOD)
        console.jobs.wait()
    finally:
        jobs_module.ACTIONS["remind"] = monkey
    assert job.state == "failed" and "被中断" in job.message and console.jobs.running is None


def test_the_unit_page_offers_the_files_written_for_the_unit(workspace, client):
    assert client.get("/api/jobs/current").get_json() is None
    finish(client, client.post(f"/api/periods/{PERIOD}/actions/remind", headers=OWN))
    page = client.get(f"/periods/{PERIOD}/units/S009").get_data(as_text=True)
    assert "S009_市财政局_催报通知.docx" in page and "写给本单位的文件" in page
    assert download(client, ".").status_code == 404
    assert client.get("/periods?period=2018年8月").headers["Location"].endswith("/periods/2018-08")


def test_before_a_plan_is_loaded_the_pages_say_how_to_load_one(tmp_path):
    console = Console(cycle.init_workspace(tmp_path / "新工作区"))
    console.listening("127.0.0.1", 8765)
    client = client_of(console)
    for page in ("/", "/plan"):
        answer = client.get(page)
        assert answer.status_code == 200 and "工作区还没有加载工作计划" in answer.get_data(as_text=True)
