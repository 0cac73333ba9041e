"""Collecting returned workbooks: identification, validation, decisions, archive and ledger."""

from __future__ import annotations

import builtins
import errno
import io
import json
import datetime as dt
import os
from contextlib import contextmanager
import random
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner

from pipeline import collect as collect_module, cycle, documents, report
from pipeline.collect import FileOutcome, StandingAnswers
from pipeline.errors import InputError, WorkspaceError
from pipeline.findings import Finding
from pipeline.cli import cli
from pipeline.fill import Filling, fill_template, sample_answer
from pipeline.identity import IDENTITY_SHEET, Identity, defined_name
from pipeline.readers import RawWorkbook
from pipeline.submissions import read_identity
from pipeline.xlsxout import formula_text
from pipeline.ledger import SCHEMA_VERSION, Ledger, answers_of, packed_answers
from pipeline.periods import chinese_date
from pipeline.workspace import SAMPLE_PLAN, Workspace, file_hash

from helpers import REPO, Counting
from test_libreoffice import convert
from test_readers import hostile_files

PERIOD = "2018-06"
UNIT = "市财政局"
HEADER = {"填报人": "张三", "联系电话": "0000-5550009", "审核人": "李四", "报送日期": "2018-06-20"}


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A workspace with the sample plan loaded and templates issued for May and June."""
    root = tmp_path_factory.mktemp("ws") / "ws"
    workspace = Workspace.init(root)
    cycle.load_plan(workspace, workspace.input_dir / SAMPLE_PLAN.name)
    cycle.issue_templates(workspace, "2018-05")
    cycle.issue_templates(workspace, PERIOD)
    return workspace


@pytest.fixture
def workspace(issued, tmp_path):
    """A fresh copy of the issued workspace, so each test collects on its own."""
    copy = tmp_path / "ws"
    shutil.copytree(issued.root, copy)
    return Workspace.open(copy)


def template(workspace: Workspace, unit: str = UNIT, period: str = PERIOD) -> Path:
    return next((workspace.period_output(period) / "填报模板").glob(f"*{unit}*.xlsx"))


def task_ids(workspace: Workspace, unit: str = UNIT) -> list[str]:
    plan = cycle.current_plan(workspace)
    code = next(a.code for t in plan.tasks for a in t.units if a.name == unit)
    return [task.id for task, _ in plan.tasks_of(code)]


def good_filling(workspace: Workspace, unit: str = UNIT, seed: int = 1) -> Filling:
    spec, rng = workspace.spec(), random.Random(seed)
    return Filling(dict(HEADER), {t: sample_answer(rng, spec, "序时推进") for t in task_ids(workspace, unit)})


def send(workspace: Workspace, filling: Filling, name: str, unit: str = UNIT, period: str = PERIOD) -> Path:
    target = workspace.input_dir / PERIOD / name
    fill_template(template(workspace, unit, period), target, workspace.spec(), filling)
    return target


def run(workspace: Workspace):
    result = cycle.collect_period(workspace, PERIOD).result
    return result, {f.file: f for f in result.files}


def codes(outcome) -> list[str]:
    return sorted(f.code for f in outcome.findings)


def test_a_correct_file_is_accepted_and_its_answers_recorded(workspace):
    path = send(workspace, good_filling(workspace), "财政局6月.xlsx")
    result, files = run(workspace)
    outcome = files["财政局6月.xlsx"]
    assert outcome.status == "accepted", outcome.findings
    assert outcome.unit_code == "S009"
    assert "S009" not in result.missing and "S009" in result.expected
    with Ledger(workspace.ledger_path) as ledger:
        assert len(ledger.answers("S009", PERIOD)) == len(task_ids(workspace))
    sha, _ = file_hash(path)
    assert (workspace.archive_dir / sha[:2] / f"{sha}.xlsx").read_bytes() == path.read_bytes()
    assert (workspace.period_output(PERIOD) / "校验结果.xlsx").is_file()


def test_what_is_written_and_archived_has_the_mode_of_an_ordinary_file(workspace):
    """Not mkstemp's 0600, which colleagues sharing the folder could not open: under umask 027, 0640."""
    path = send(workspace, good_filling(workspace), "财政局6月.xlsx")
    script = ("import os, sys; os.umask(0o027); from pipeline import cycle; from pipeline.workspace import Workspace; "
              "cycle.collect_period(Workspace.open(sys.argv[1]), sys.argv[2]); print(oct(os.umask(0)))")
    done = subprocess.run([sys.executable, "-c", script, str(workspace.root), PERIOD], cwd=REPO,
                          capture_output=True, encoding="utf-8")
    assert done.stdout == "0o27\n", done.stderr  # the umask was read and left as it was
    sha, _ = file_hash(path)
    written = [workspace.archive_dir / sha[:2] / f"{sha}.xlsx", workspace.period_output(PERIOD) / "校验结果.xlsx"]
    assert [stat.S_IMODE(p.stat().st_mode) for p in written] == [0o640, 0o640]


def test_unit_mistakes_are_findings_with_places_and_fixes(workspace):
    ids = task_ids(workspace)
    filling = good_filling(workspace)
    filling.header["填报人"] = None
    filling.header["联系电话"] = "请问"
    filling.answers[ids[0]]["完成状态"] = "完成"
    filling.answers[ids[1]].update({"完成状态": "进度滞后", "存在问题及困难": None})
    filling.answers[ids[2]]["完成进度(%)"] = "八十"
    filling.answers[ids[3]]["完成进度(%)"] = 120
    filling.answers[ids[4]].update({"完成状态": "已完成", "完成进度(%)": 80})
    filling.answers[ids[5]]["公开网址或佐证材料"] = "http//www.example.gov.cn"
    filling.answers[ids[6]].update({"完成状态": None})
    send(workspace, filling, "mistakes.xlsx")
    result, files = run(workspace)
    outcome = files["mistakes.xlsx"]
    assert outcome.status == "returned"
    found = {(f.code, f.severity) for f in outcome.findings}
    assert found == {
        ("header-field-missing", "error"), ("phone-invalid", "warning"), ("status-invalid", "error"),
        ("conditional-missing", "error"), ("percent-invalid", "error"), ("percent-out-of-range", "error"),
        ("done-not-100", "warning"), ("url-invalid", "warning"), ("required-missing", "error"),
    }
    status = next(f for f in outcome.findings if f.code == "status-invalid")
    assert "已完成" in status.fix and status.location.startswith("进展填报!")
    assert "S009" not in result.missing  # returned still counts as reported
    notice = next((workspace.period_output(PERIOD) / "退回通知").glob("S009_市财政局_*.docx"))
    text = "\n".join(p.text for p in docx.Document(str(notice)).paragraphs)
    assert f"【错误】{status.location}：任务 {ids[0]} 的“完成状态”填的“完成”不在可选项中。处理建议：" in text


@contextmanager
def edited(path: Path):
    """A filled file opened as a unit edits it: the data sheet and its task rows by ID."""
    book = openpyxl.load_workbook(path)
    sheet = book["进展填报"]
    yield sheet, {str(r[1].value): r for r in sheet.iter_rows() if len(r) > 1}
    book.save(path)


def _swap_rows(path: Path, first_id: str, second_id: str) -> None:
    with edited(path) as (_, rows):
        for first, second in zip(rows[first_id], rows[second_id]):
            first.value, second.value = second.value, first.value


def _delete_row(path: Path, task_id: str) -> None:
    with edited(path) as (sheet, rows):
        sheet.delete_rows(rows[task_id][0].row)


def test_rows_are_read_by_task_id_reordered_inserted_and_deleted(workspace):
    ids = task_ids(workspace)
    filling = good_filling(workspace)
    filling.answers[ids[0]]["工作进展情况"] = "第一项的进展"
    filling.answers[ids[-1]]["工作进展情况"] = "最后一项的进展"
    filling.insert_after[ids[1]] = {"工作进展情况": "补充说明：另有三项工作已完成"}
    path = send(workspace, filling, "reordered.xlsx")
    _swap_rows(path, ids[0], ids[-1])
    _, files = run(workspace)
    outcome = files["reordered.xlsx"]
    assert codes(outcome) == ["row-inserted"] and outcome.status == "accepted"
    answers = answers_of(outcome.answers)
    assert answers[ids[0]]["progress"] == "第一项的进展"
    assert answers[ids[-1]]["progress"] == "最后一项的进展"
    assert "补充说明：另有三项工作已完成" in answers[ids[1]]["progress"]

    deleted = path.with_name("deleted.xlsx")
    shutil.copy(path, deleted)
    _delete_row(deleted, ids[2])
    later = path.stat().st_mtime + 60
    os.utime(deleted, (later, later))
    _, files = run(workspace)
    assert codes(files["deleted.xlsx"]) == ["row-inserted", "task-row-missing"]
    assert files["deleted.xlsx"].status == "returned"
    assert files["reordered.xlsx"].status == "superseded"


def test_changed_task_text_is_a_warning_showing_the_original(workspace):
    ids = task_ids(workspace)
    path = send(workspace, good_filling(workspace), "edited.xlsx")
    with edited(path) as (_, rows):
        original = rows[ids[0]][3].value
        rows[ids[0]][3].value = "改过的要求"
    _, files = run(workspace)
    changed = [f for f in files["edited.xlsx"].findings if f.code == "task-text-changed"]
    assert len(changed) == 1 and original in changed[0].message
    assert files["edited.xlsx"].status == "accepted"


def test_formula_like_text_is_kept_as_text(workspace):
    ids = task_ids(workspace)
    path = send(workspace, good_filling(workspace), "formula.xlsx")
    texts = ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "+86 进展", "-已公开"]
    with edited(path) as (_, rows):
        for task_id, text in zip(ids, texts):
            cell = rows[task_id][8]
            cell.value, cell.data_type = text, "s"  # a unit typing text that starts with =
    _, files = run(workspace)
    outcome = files["formula.xlsx"]
    assert [answers_of(outcome.answers)[t]["progress"] for t in ids[:4]] == texts


def test_forged_identity_is_rejected(workspace):
    path = send(workspace, good_filling(workspace), "forged.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book[IDENTITY_SHEET]
    for row in sheet.iter_rows():
        if row[0].value == "unit_code":
            row[1].value = "S010"
    book.save(path)
    result, files = run(workspace)
    assert files["forged.xlsx"].status == "rejected"
    assert codes(files["forged.xlsx"]) == ["signature-invalid"]
    assert "S009" in result.missing


def test_another_periods_file_is_returned_and_the_unit_still_missing(workspace):
    send(workspace, good_filling(workspace), "五月的表.xlsx", period="2018-05")
    result, files = run(workspace)
    assert files["五月的表.xlsx"].status == "returned"
    assert codes(files["五月的表.xlsx"]) == ["wrong-period"]
    assert "S009" in result.missing


def test_resubmission_supersedes_by_report_date_and_duplicates_are_one_file(workspace):
    first = good_filling(workspace)
    later = good_filling(workspace, seed=2)
    later.header["报送日期"] = "2018-06-25"
    send(workspace, later, "b_second.xlsx")
    path = send(workspace, first, "a_first.xlsx")
    shutil.copy(path, workspace.input_dir / PERIOD / "a_first_copy.xlsx")
    (workspace.input_dir / PERIOD / "~$a_first.xlsx").write_bytes(b"\x00" * 165)
    result, files = run(workspace)
    assert files["a_first.xlsx"].status == "superseded"
    assert "b_second.xlsx" in files["a_first.xlsx"].findings[-1].message
    assert "报送日期" in files["a_first.xlsx"].findings[-1].message
    assert files["b_second.xlsx"].status == "accepted"
    assert "a_first_copy.xlsx" not in files and "file-duplicate" in codes(files["a_first.xlsx"])
    assert "~$a_first.xlsx" not in files  # Office's lock file is not a file received
    # Whichever of the two accepted files was judged first, the ledger keeps the standing one's answers.
    db = sqlite3.connect(workspace.ledger_path)
    (source, blob), = db.execute("SELECT sha256, answers FROM unit_answers WHERE period = ? AND unit_code = 'S009'",
                                 (PERIOD,))
    assert source == files["b_second.xlsx"].sha256
    stored = {task: values["progress"] for task, values in answers_of(blob).items()}
    assert stored == {task: answer["工作进展情况"] for task, answer in later.answers.items()}
    assert stored != {task: answer["工作进展情况"] for task, answer in first.answers.items()}


def test_progress_counts_every_received_file_once(workspace):
    path = send(workspace, good_filling(workspace), "a.xlsx")
    shutil.copy(path, workspace.input_dir / PERIOD / "a_copy.xlsx")
    (workspace.input_dir / PERIOD / "~$a.xlsx").write_bytes(b"\x00" * 165)
    # The lock file is not counted; again: the folder's two files and the one distinct file received before.
    for expected in (2, 2 + 1):
        counting = Counting()
        cycle.collect_period(workspace, PERIOD, progress=counting)
        assert counting.totals == [expected] and len(counting.steps) == expected


def test_the_same_bytes_as_a_temp_name_and_a_real_name_count_under_the_real_name(workspace):
    path = send(workspace, good_filling(workspace), "财政局b.xlsx")
    shutil.copy(path, workspace.input_dir / PERIOD / "~$b.xlsx")  # sorts before the Chinese name
    result, files = run(workspace)
    assert files["财政局b.xlsx"].status == "accepted" and "~$b.xlsx" not in files
    assert "S009" not in result.missing
    db = sqlite3.connect(workspace.ledger_path)
    assert db.execute("SELECT COUNT(*) FROM unit_answers WHERE unit_code = 'S009'").fetchone()[0] > 0


def test_a_file_named_as_the_folder_is_refused(workspace):
    (workspace.input_dir / PERIOD).mkdir(parents=True, exist_ok=True)
    not_a_folder = workspace.input_dir / "收件.xlsx"
    not_a_folder.write_bytes(b"PK")
    with pytest.raises(InputError, match="是一个文件，不是文件夹"):
        cycle.collect_period(workspace, PERIOD, not_a_folder)


def test_hostile_files_never_stop_the_batch(workspace, tmp_path):
    send(workspace, good_filling(workspace), "good.xlsx")
    hostile = hostile_files(tmp_path)
    for name, (path, _) in hostile.items():
        shutil.copy(path, workspace.input_dir / PERIOD / name)
    shutil.copy(tmp_path / "ok.xlsx", workspace.input_dir / PERIOD / "unrelated.xlsx")
    result, files = run(workspace)
    assert files["good.xlsx"].status == "accepted"
    assert files["unrelated.xlsx"].status == "rejected" and codes(files["unrelated.xlsx"]) == ["not-template"]
    for name, (_, code) in hostile.items():
        assert files[name].status == "rejected" and codes(files[name]) == [code]
    db = sqlite3.connect(workspace.ledger_path)  # the ledger says what happened to every file
    recorded = db.execute("SELECT sha256, period, status, unit_code FROM submissions").fetchall()
    assert sorted(recorded) == sorted((o.sha256, PERIOD, o.status, o.unit_code) for o in result.files)


def test_rerun_is_stable_and_picks_up_late_files_and_forgets_nothing(workspace):
    first = send(workspace, good_filling(workspace), "first.xlsx")
    once, _ = run(workspace)
    again, _ = run(workspace)
    assert once.to_json() == again.to_json()
    first.unlink()
    send(workspace, good_filling(workspace, "市民政局"), "late.xlsx", unit="市民政局")
    result, files = run(workspace)
    assert files["first.xlsx"].status == "accepted"  # archived, so still part of the month
    assert files["late.xlsx"].status == "accepted"
    db = sqlite3.connect(workspace.ledger_path)
    assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 2
    assert len(list(workspace.archive_dir.glob("*/*.xlsx"))) == 2


def refuse_reading(monkeypatch, path: Path, fault: str) -> None:
    """``path`` cannot be read: held open by another program (Windows refuses to open it), or
    ``gone`` (deleted between collect listing the folder and reading it)."""
    if fault == "held open":
        real_open = io.open

        def held_open(file, *args, **kwargs):
            if isinstance(file, (str, os.PathLike)) and Path(file) == path:
                raise PermissionError(errno.EACCES, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(io, "open", held_open)
        monkeypatch.setattr(builtins, "open", held_open)
    else:
        real_archive = Workspace.archive

        def vanishing(self, received: str):
            if Path(received) == path:
                path.unlink()
            return real_archive(self, received)

        monkeypatch.setattr(Workspace, "archive", vanishing)


UNREAD = {
    "held open": ("held.xlsx 无法读取：文件正被其他程序（如邮件程序、Excel/WPS）打开，或没有读取权限；本次没有收取。",
                  "请关闭该文件后重新运行 pipeline collect 2018-06（或 merge）。"),
    "gone": ("held.xlsx 在读取前被移走或删除了，本次没有收取。",
             "如仍要收取，请把它放回 {folder} 后重新运行 pipeline collect 2018-06（或 merge）。"),
}


@pytest.mark.parametrize("fault", UNREAD)
def test_a_file_that_cannot_be_read_is_left_for_the_next_run_and_the_others_go_through(workspace, monkeypatch, fault):
    send(workspace, good_filling(workspace), "good.xlsx")
    held = send(workspace, good_filling(workspace, "市民政局"), "held.xlsx", unit="市民政局")
    sent = held.read_bytes()
    message, fix = UNREAD[fault]
    fix = fix.format(folder=held.parent)
    refuse_reading(monkeypatch, held, fault)
    runner = CliRunner()

    collected = runner.invoke(cli, ["-w", str(workspace.root), "collect", PERIOD, "--json"])
    assert collected.exit_code == 0, collected.output
    document = json.loads(collected.stdout)
    assert document["unread"] == [{"file": "held.xlsx", "message": message, "fix": fix}]
    assert [(f["file"], f["status"]) for f in document["files"]] == [("good.xlsx", "accepted")]
    assert "S007" in document["missing"]
    if not held.exists():  # gone: put back, to go again
        held.write_bytes(sent)
    told = runner.invoke(cli, ["-w", str(workspace.root), "collect", PERIOD])
    assert told.exit_code == 0, told.output
    assert f"有 1 份文件未能读取，本次没有收取：\n  {message}{fix}\n" in told.stdout
    # Not archived, not in the ledger, no copy left half-made: the next run takes it as new.
    archived = [p.read_bytes() for p in workspace.archive_dir.rglob("*") if p.is_file()]
    assert sent not in archived and len(archived) == 1
    assert [r.file_name for r in Ledger(workspace.ledger_path).receipts(PERIOD)] == ["good.xlsx"]
    assert not list(workspace.scratch_dir.glob("归档中-*"))
    book = openpyxl.load_workbook(workspace.period_output(PERIOD) / "校验结果.xlsx", read_only=True)
    assert ["held.xlsx", "未读取"] in [list(row[1:3]) for row in book["文件"].values]
    assert [None, "held.xlsx", "（整个文件）", message, "错误", fix] in [list(row) for row in book["问题"].values]
    assert book["文件"]["A2"].value.endswith("文件 2 份，依次为：未读取 1、通过 1")
    book.close()

    monkeypatch.undo()
    if not held.exists():
        held.write_bytes(sent)
    collected = runner.invoke(cli, ["-w", str(workspace.root), "collect", PERIOD, "--json"])
    document = json.loads(collected.stdout)
    assert "unread" not in document
    assert [(f["file"], f["status"]) for f in document["files"]] == [("good.xlsx", "accepted"), ("held.xlsx", "accepted")]
    assert "S007" not in document["missing"]


def test_a_findings_fields_survive_the_ledger(workspace):
    ids = task_ids(workspace)
    filling = good_filling(workspace)
    filling.answers[ids[2]]["完成进度(%)"] = "八十"
    send(workspace, filling, "percent.xlsx")
    _, files = run(workspace)
    [found] = [f for f in files["percent.xlsx"].findings if f.code == "percent-invalid"]
    assert found.fields == {"task_id": ids[2], "label": "完成进度(%)", "value": "八十"}
    db = sqlite3.connect(workspace.ledger_path)
    code, location, fields, message, fix = db.execute(
        "SELECT code, location, fields_json, message, fix FROM findings WHERE code = 'percent-invalid'").fetchone()
    stored = Finding(code, location, json.loads(fields))
    assert stored == found and (stored.message, stored.fix) == (message, fix) == (found.message, found.fix)
    with Ledger(workspace.ledger_path) as ledger:  # the reports read the findings as before
        _, _, findings = ledger.report_inputs(PERIOD)
    assert list(findings.columns) == ["unit_code", "file_name", "code", "severity", "location", "message", "fix"]
    assert findings[findings["code"] == "percent-invalid"]["message"].tolist() == [found.message]


def ledger_rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table of a ledger."""
    db = sqlite3.connect(path)
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    rows = {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in tables}
    db.close()
    return rows


def test_a_collect_that_fails_part_way_leaves_the_ledger_as_it_was(workspace, monkeypatch):
    send(workspace, good_filling(workspace), "first.xlsx")
    run(workspace)
    before = ledger_rows(workspace.ledger_path)
    send(workspace, good_filling(workspace, "市民政局"), "late.xlsx", unit="市民政局")
    send(workspace, good_filling(workspace, seed=2), "second.xlsx")
    record_outcomes = Ledger.record_outcomes

    def fail(ledger, period, outcomes):
        record_outcomes(ledger, period, outcomes)
        # Files, receipts, the new unit's answers and the decisions are written, not yet committed.
        assert ledger.db.in_transaction
        assert ledger.db.execute("SELECT COUNT(*) FROM receipts").fetchone()[0] == 3
        assert ledger.db.execute("SELECT COUNT(*) FROM unit_answers WHERE unit_code != 'S009'").fetchone()[0] > 0
        raise OSError("磁盘已满")

    monkeypatch.setattr(Ledger, "record_outcomes", fail)
    with pytest.raises(OSError, match="磁盘已满"):
        cycle.collect_period(workspace, PERIOD)
    assert ledger_rows(workspace.ledger_path) == before
    monkeypatch.undo()
    _, files = run(workspace)  # the next run does the work
    assert {name: f.status for name, f in files.items()} == {
        "first.xlsx": "superseded", "late.xlsx": "accepted", "second.xlsx": "accepted"}
    assert ledger_rows(workspace.ledger_path) != before


def test_a_merge_whose_report_fails_leaves_the_ledger_as_it_was(workspace, monkeypatch):
    before = ledger_rows(workspace.ledger_path)
    send(workspace, good_filling(workspace), "first.xlsx")

    def fail(*_args):
        raise OSError("磁盘已满")

    monkeypatch.setattr(documents, "write_bulletin", fail)  # the last thing the report writes
    with pytest.raises(OSError, match="磁盘已满"):
        cycle.merge_period(workspace, PERIOD)
    assert ledger_rows(workspace.ledger_path) == before
    monkeypatch.undo()
    merged = cycle.merge_period(workspace, PERIOD)
    assert merged.report.bulletin.is_file() and ledger_rows(workspace.ledger_path) != before


def test_cli_collect_json_and_check(workspace):
    good = send(workspace, good_filling(workspace), "good.xlsx")
    runner = CliRunner()
    result = runner.invoke(cli, ["-w", str(workspace.root), "collect", PERIOD, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"period", "expected", "missing", "files"}
    assert document["files"][0]["status"] == "accepted"
    assert set(document["files"][0]) == {"file", "sha256", "unit_code", "status", "findings"}
    checked = runner.invoke(cli, ["check", str(good), "--json", "-w", str(workspace.root)])
    assert checked.exit_code == 0 and json.loads(checked.stdout)["status"] == "accepted"
    bad = good_filling(workspace)
    bad.header["填报人"] = None
    returned = send(workspace, bad, "bad.xlsx")
    checked = runner.invoke(cli, ["check", str(returned), "-w", str(workspace.root)])
    assert checked.exit_code == 1 and "【错误】进展填报!" in checked.output
    assert "表头“填报人”未填写。 处理建议：请在“填报人”右侧的单元格中填写。" in checked.output
    checked = runner.invoke(cli, ["check", str(returned), "--json", "-w", str(workspace.root)])
    [finding] = json.loads(checked.stdout)["findings"]
    assert finding["fix"] == "请在“填报人”右侧的单元格中填写。" and finding["severity"] == "error"
    collected = runner.invoke(cli, ["-w", str(workspace.root), "collect", PERIOD, "--json"])
    [entry] = [f for f in json.loads(collected.stdout)["files"] if f["file"] == "bad.xlsx"]
    assert entry["findings"][0] == finding  # collect --json gives the same fields, fix included
    missing = runner.invoke(cli, ["collect", "2018-09", "-w", str(workspace.root)])
    assert missing.exit_code == 1 and "找不到报送期 2018-09 的文件夹" in missing.output


def test_check_does_not_wait_for_pandas_or_the_writers(workspace):
    """``pipeline check`` reads and judges one file: pandas, XlsxWriter and python-docx, which
    only the writing stages use, are never imported (cycle loads those stages lazily)."""
    good = send(workspace, good_filling(workspace), "good.xlsx")
    script = ("import sys\nfrom pipeline.cli import cli\n"
              "try:\n    cli(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in ('pandas', 'numpy', 'xlsxwriter', 'docx', 'docxtpl', 'openpyxl')"
              " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script, "-w", str(workspace.root), "check", str(good)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["good.xlsx：通过", "[]"]


def test_a_template_filled_and_resaved_by_libreoffice_is_accepted(workspace, tmp_path):
    filled = send(workspace, good_filling(workspace), "filled.xlsx")
    out = tmp_path / "lo"
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(filled)],
        check=True, capture_output=True, timeout=180,
    )
    filled.unlink()
    shutil.copy(out / "filled.xlsx", workspace.input_dir / PERIOD / "resaved.xlsx")
    _, files = run(workspace)
    outcome = files["resaved.xlsx"]
    assert outcome.status == "accepted", outcome.findings
    ids = task_ids(workspace)
    expected = good_filling(workspace).answers
    answers = answers_of(outcome.answers)
    assert answers[ids[0]]["progress"] == expected[ids[0]]["工作进展情况"]
    assert answers[ids[0]]["percent"] == str(expected[ids[0]]["完成进度(%)"])


def test_identity_falls_back_to_defined_names_even_past_255_characters():
    identity = Identity("1", "v1", "S009", "市财政局", PERIOD, f"{PERIOD}-01T00:00:00",
                        tuple(f"{c}-{n}" for c in range(1, 9) for n in range(1, 40))).signed(b"k")
    names = {defined_name(key): "=" + formula_text(value) for key, value in identity.rows()}
    assert len(names[defined_name("task_ids")]) > 300
    raw = RawWorkbook(sheets={}, states={}, defined_names=names)  # identity sheet deleted
    assert read_identity(raw) == identity and read_identity(raw).verify(b"k")


@pytest.mark.parametrize("with_files", [False, True], ids=["answers before their files", "answers with their files"])
def test_a_ledger_from_before_new_columns_is_brought_up_to_date(tmp_path, with_files):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE answers (period TEXT NOT NULL, unit_code TEXT NOT NULL, task_id TEXT NOT NULL, "
               "field TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (period, unit_code, task_id, field))")
    db.executemany("INSERT INTO answers VALUES (?, ?, ?, ?, ?)", [
        ("2018-05", "S009", "1-1", "status", "已完成"), ("2018-05", "S009", "1-1", "progress", "已办结"),
        ("2018-05", "S009", "1-2", "status", "序时推进"), ("2018-05", "S010", "1-1", "status", "未启动"),
        ("2018-06", "S009", "1-1", "status", "序时推进")])
    if with_files:  # the table as the version before this one left it
        db.execute("ALTER TABLE answers ADD COLUMN sha256 TEXT")
        db.execute("UPDATE answers SET sha256 = unit_code || period")
    db.execute("CREATE TABLE collections (period TEXT PRIMARY KEY, collected_at TEXT NOT NULL)")
    db.execute("INSERT INTO collections VALUES ('2018-05', 'then')")
    db.execute("CREATE TABLE findings (period TEXT NOT NULL, sha256 TEXT NOT NULL, seq INTEGER NOT NULL, "
               "code TEXT NOT NULL, severity TEXT NOT NULL, location TEXT NOT NULL, message TEXT NOT NULL, "
               "fix TEXT NOT NULL, PRIMARY KEY (period, sha256, seq))")
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        # Answers kept one row per field are moved, one row per unit and month; the old table goes.
        assert not ledger.db.execute("PRAGMA table_info(answers)").fetchall()
        assert "fields_json" in {row[1] for row in ledger.db.execute("PRAGMA table_info(findings)")}
        assert ledger.answers("S009", "2018-05") == {"1-1": {"progress": "已办结", "status": "已完成"},
                                                     "1-2": {"status": "序时推进"}}
        assert ledger.answers("S010", "2018-05") == {"1-1": {"status": "未启动"}}
        assert ledger.latest_answers_before("S009", "2018-07") == ("2018-06", {"1-1": {"status": "序时推进"}})
        sources = {"S009": "S0092018-05", "S010": "S0102018-05"} if with_files else {"S009": None, "S010": None}
        assert ledger.answer_sources("2018-05") == sources
        assert ledger.collected_periods("2018-12") == ["2018-05"]
        ledger.clear_outcomes("2018-06", "v2")  # the plan a period is collected under, noted from now on
        assert ledger.db.execute("SELECT period, plan_version FROM collections ORDER BY period").fetchall() == [
            ("2018-05", None), ("2018-06", "v2")]


def test_a_ledger_with_answers_as_text_has_them_packed(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)  # unit_answers and verdicts as the version before this one made them
    db.execute("CREATE TABLE unit_answers (period TEXT NOT NULL, unit_code TEXT NOT NULL, sha256 TEXT, "
               "answers_json TEXT NOT NULL, PRIMARY KEY (period, unit_code))")
    db.execute("CREATE INDEX unit_answers_by_unit ON unit_answers (unit_code, period)")
    db.execute("CREATE TABLE verdicts (period TEXT NOT NULL, sha256 TEXT NOT NULL, context TEXT NOT NULL, "
               "verdict BLOB NOT NULL, PRIMARY KEY (period, sha256))")
    db.execute("INSERT INTO verdicts VALUES ('2018-05', 'a', 'then', x'00')")
    answers = {("2018-05", "S009"): {"1-1": {"progress": "已办结" * 300}}, ("2018-06", "S009"): {"1-2": {"status": "序时推进"}}}
    db.executemany("INSERT INTO unit_answers VALUES (?, ?, ?, ?)",
                   [(period, unit, f"{unit}{period}", json.dumps(values, ensure_ascii=False))
                    for (period, unit), values in answers.items()])
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 2}")
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        assert ledger.answers("S009", "2018-05") == answers[("2018-05", "S009")]
        assert ledger.latest_answers_before("S009", "2018-07") == ("2018-06", answers[("2018-06", "S009")])
        assert ledger.answer_sources("2018-06") == {"S009": "S0092018-06"}
        kept = ledger.db.execute("SELECT answers FROM unit_answers WHERE period = '2018-05'").fetchone()[0]
        assert isinstance(kept, bytes) and len(kept) < 100  # 2,700 bytes of text, packed
        assert ledger.db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'unit_answers' "
                                 "AND name NOT LIKE 'sqlite_%'").fetchall() == [("unit_answers_by_unit",)]
        assert ledger.db.execute("SELECT COUNT(*) FROM verdicts").fetchone() == (0,)  # kept the old way: dropped
        assert "unit_answers_text" not in {row[0] for row in ledger.db.execute("SELECT name FROM sqlite_master")}


def test_a_ledger_a_newer_version_has_used_is_not_opened(workspace):
    db = sqlite3.connect(workspace.ledger_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(WorkspaceError, match="已由更新版本的 pipeline 使用过"):
        Ledger(workspace.ledger_path)
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "collect", PERIOD])
    assert result.exit_code == 1 and "请继续使用新版本的 pipeline" in result.stderr
    assert sqlite3.connect(workspace.ledger_path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


@pytest.mark.parametrize("order", ["older first", "newer first"])
def test_answers_written_early_end_as_those_of_the_standing_file(tmp_path, order):
    older = FileOutcome("a.xlsx", "a" * 64, "accepted", "S009", answers=packed_answers({"1-1": {"progress": "旧"}}))
    newer = FileOutcome("b.xlsx", "b" * 64, "accepted", "S009", answers=packed_answers({"1-1": {"progress": "新"}}))
    other = FileOutcome("c.xlsx", "c" * 64, "accepted", "S010", answers=packed_answers({"1-1": {"progress": "另"}}))
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        answers = StandingAnswers(ledger, PERIOD)
        for outcome in ([older, newer] if order == "older first" else [newer, older]) + [other]:
            answers.add(outcome.unit_code, outcome.sha256, outcome.answers)
        older.status = "superseded"
        answers.settle([older, newer, other])
        stored = [(unit, ledger.answers(unit, PERIOD)["1-1"]["progress"], sha256)
                  for unit, sha256 in sorted(ledger.answer_sources(PERIOD).items())]
    assert stored == [("S009", "新", "b" * 64), ("S010", "另", "c" * 64)]


def test_an_earlier_month_collected_again_after_a_plan_change_keeps_its_plan(workspace, tmp_path):
    may_folder = workspace.input_dir / "2018-05"
    may_folder.mkdir(parents=True)
    shutil.move(send(workspace, good_filling(workspace), "五月.xlsx", period="2018-05"), may_folder / "五月.xlsx")
    june = good_filling(workspace)
    assert run_period(workspace, "2018-05")["五月.xlsx"].status == "accepted"
    send(workspace, june, "六月.xlsx")
    assert run_period(workspace, PERIOD)["六月.xlsx"].status == "accepted"
    changed = tmp_path / "新计划.txt"
    changed.write_text(SAMPLE_PLAN.read_text(encoding="utf-8").replace("政务公开", "政务公开工作", 1), encoding="utf-8")
    cycle.load_plan(workspace, changed, replace=True)
    may = run_period(workspace, "2018-05")["五月.xlsx"]  # a late look at May: May's own plan
    assert may.status == "accepted", may.findings
    db = sqlite3.connect(workspace.ledger_path)
    assert db.execute("SELECT COUNT(*) FROM unit_answers WHERE period = '2018-05'").fetchone()[0] > 0
    june_again = run_period(workspace, PERIOD)["六月.xlsx"]  # the latest month: the plan in force
    assert june_again.status == "returned" and "wrong-plan" in codes(june_again)
    assert cycle.check_file(workspace, may_folder / "五月.xlsx").status == "accepted"  # check agrees with collect
    assert codes(cycle.check_file(workspace, workspace.input_dir / PERIOD / "六月.xlsx")) == ["wrong-plan"]


def run_period(workspace: Workspace, period: str) -> dict:
    result = cycle.collect_period(workspace, period).result
    return {f.file: f for f in result.files}


@pytest.mark.parametrize("written, other", [("市审计局", ""), ("审计局", "（即单位名录中的市审计局）"),
                                            ("西山区人民政府", "")])
def test_a_file_naming_another_unit_is_never_taken_as_the_signed_ones(workspace, written, other):
    filling = good_filling(workspace)
    filling.header["填报单位"] = written
    send(workspace, filling, "财政局6月.xlsx")
    _, files = run(workspace)
    outcome = files["财政局6月.xlsx"]
    assert outcome.status == "returned" and codes(outcome) == ["unit-mismatch"]
    [mismatch] = outcome.findings
    assert mismatch.location == "进展填报!E2"  # the 填报单位 cell
    assert mismatch.message == (f"“填报单位”写的是“{written}”{other}，但这份填报表是发给市财政局的（表内标识），"
                                "不能确定是哪个单位的报送。")
    with Ledger(workspace.ledger_path) as ledger:
        assert ledger.answers("S009", PERIOD) == {}  # nothing of it counts for 市财政局


@pytest.mark.parametrize("written", ["市财政局", "市财政局（盖章）", "财政局", " 市财政局 "])
def test_the_signed_units_own_name_in_any_usual_form_is_accepted(workspace, written):
    filling = good_filling(workspace)
    filling.header["填报单位"] = written
    send(workspace, filling, "财政局6月.xlsx")
    _, files = run(workspace)
    assert files["财政局6月.xlsx"].status == "accepted", files["财政局6月.xlsx"].findings


def dated_filling(workspace: Workspace, date: str, seed: int = 1) -> Filling:
    filling = good_filling(workspace, seed=seed)
    filling.header["报送日期"] = date
    return filling


def sent_at(path: Path, when: str) -> Path:
    stamp = dt.datetime.fromisoformat(when).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_a_mistyped_report_date_never_decides_which_file_stands(workspace):
    """A first file dated 2081 (a typo for 2018) does not beat the one sent after it; the warning
    quotes the date as the unit typed it."""
    sent_at(send(workspace, dated_filling(workspace, "2081年6月10日"), "第一次.xlsx"), "2018-06-10 09:00")
    sent_at(send(workspace, dated_filling(workspace, "2018-06-12", seed=2), "更正.xlsx"), "2018-06-12 09:00")
    for _ in range(2):  # the second run takes both verdicts as the first one kept them
        _, files = run(workspace)
        assert files["更正.xlsx"].status == "accepted"
        first = files["第一次.xlsx"]
        assert first.status == "superseded"
        typo, superseded = first.findings[-2:]
        assert typo.code == "report-date-implausible"
        assert typo.message.startswith("“报送日期”写的是 2081年6月10日，晚于收到文件的日期")
        assert superseded.message == ("本单位后来又报送了 更正.xlsx，本文件不再使用"
                                      "（按文件修改时间判断先后；有的文件报送日期空白或不可信，未用报送日期）。")


def test_an_unreadable_report_date_leaves_the_order_to_when_files_came(workspace):
    sent_at(send(workspace, dated_filling(workspace, "2018-06-20"), "第一次.xlsx"), "2018-06-20 09:00")
    sent_at(send(workspace, dated_filling(workspace, "7月25日", seed=2), "更正.xlsx"), "2018-06-25 09:00")
    _, files = run(workspace)
    assert files["更正.xlsx"].status == "accepted" and "date-invalid" in codes(files["更正.xlsx"])
    assert files["第一次.xlsx"].status == "superseded"


def test_plausible_report_dates_decide_even_against_modification_times(workspace):
    sent_at(send(workspace, dated_filling(workspace, "2018-06-24"), "晚.xlsx"), "2018-06-20 09:00")
    sent_at(send(workspace, dated_filling(workspace, "2018-06-20", seed=2), "早.xlsx"), "2018-06-24 09:00")
    _, files = run(workspace)
    assert (files["晚.xlsx"].status, files["早.xlsx"].status) == ("accepted", "superseded")
    assert "按报送日期判断先后" in files["早.xlsx"].findings[-1].message


def test_files_in_sub_folders_are_read_and_named_by_their_path(workspace):
    send(workspace, good_filling(workspace), "张三的邮件/附件/财政局.xlsx")
    result, files = run(workspace)
    assert files["张三的邮件/附件/财政局.xlsx"].status == "accepted"
    assert "S009" not in result.missing


def test_links_are_never_followed_and_files_the_system_keeps_are_not_received(workspace, tmp_path):
    send(workspace, good_filling(workspace), "财政局.xlsx")
    folder = workspace.input_dir / PERIOD
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the archive", encoding="utf-8")
    (folder / "链接.xlsx").symlink_to(secret)
    (folder / "链接文件夹").symlink_to(tmp_path, target_is_directory=True)
    # A Windows shortcut (.lnk) is an ordinary file holding the target's path.
    (folder / "财政局报表 - 快捷方式.lnk").write_bytes(b"L\x00\x00\x00\x01\x14\x02\x00" + str(secret).encode())
    for name in ("~$财政局.xlsx", ".DS_Store", "Thumbs.db", "desktop.ini"):
        (folder / name).write_bytes(b"\x00" * 165)
    result, files = run(workspace)
    assert sorted(files) == ["财政局.xlsx"] and files["财政局.xlsx"].status == "accepted"
    assert [(u.file, u.message) for u in result.unread] == [
        ("财政局报表 - 快捷方式.lnk", "财政局报表 - 快捷方式.lnk 是快捷方式（链接），不是文件本身，没有读取。"),
        ("链接.xlsx", "链接.xlsx 是快捷方式（链接），不是文件本身，没有读取。"),
        ("链接文件夹", "链接文件夹 是快捷方式（链接），不是文件本身，没有读取。")]
    archived = [p.read_bytes() for p in workspace.archive_dir.rglob("*") if p.is_file()]
    assert len(archived) == 1 and b"not for the archive" not in archived[0]


def test_a_very_long_file_name_is_received_like_any_other(workspace):
    name = "单位名." + "关于报送二〇一八年政务公开工作要点落实情况月度进展的函件附件填报表" * 2 + ".xlsx"
    send(workspace, good_filling(workspace), name)
    _, files = run(workspace)
    assert files[name].status == "accepted"


def test_a_folder_named_on_the_command_line_must_exist_even_after_earlier_files(workspace):
    send(workspace, good_filling(workspace), "财政局.xlsx")
    run(workspace)
    missing = workspace.root / "没有这个文件夹"
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "collect", PERIOD, str(missing)])
    assert result.exit_code == 1 and f"找不到文件夹 {missing}" in result.output


def test_a_blank_template_sent_back_is_one_finding(workspace):
    (workspace.input_dir / PERIOD).mkdir(parents=True)
    shutil.copy(template(workspace), workspace.input_dir / PERIOD / "财政局.xlsx")
    _, files = run(workspace)
    outcome = files["财政局.xlsx"]
    assert outcome.status == "returned" and codes(outcome) == ["template-blank"]
    assert outcome.findings[0].message == "填报表是空白的：各项任务都没有填写。"


def test_a_template_from_another_workspace_says_it_may_be_one(workspace, tmp_path):
    other = Workspace.init(tmp_path / "另一个工作区")  # its own signing key
    cycle.load_plan(other, other.input_dir / SAMPLE_PLAN.name)
    cycle.issue_templates(other, PERIOD)
    send_from = workspace.input_dir / PERIOD / "财政局.xlsx"
    send_from.parent.mkdir(parents=True)
    fill_template(template(other), send_from, workspace.spec(), good_filling(workspace))
    _, files = run(workspace)
    outcome = files["财政局.xlsx"]
    assert outcome.status == "rejected" and codes(outcome) == ["signature-invalid"]
    assert "另一个报送系统（其他年度、其他办公室）下发的表" in outcome.findings[0].message


@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_a_filled_template_saved_as_xls_or_ods_is_read_like_the_xlsx(workspace, tmp_path, kind):
    """Excel's 97-2003 format and WPS/LibreOffice's OpenDocument keep the hidden identity sheet."""
    filled = tmp_path / "财政局.xlsx"
    fill_template(template(workspace), filled, workspace.spec(), good_filling(workspace))
    saved = convert(filled, kind, tmp_path)
    (workspace.input_dir / PERIOD).mkdir(parents=True)
    shutil.copy(saved, workspace.input_dir / PERIOD / saved.name)
    _, files = run(workspace)
    outcome = files[saved.name]
    assert outcome.status == "accepted" and outcome.unit_code == "S009", outcome.findings
    with Ledger(workspace.ledger_path) as ledger:
        assert len(ledger.answers("S009", PERIOD)) == len(task_ids(workspace))


def edit_answer(path: Path, spec, task_id: str, role: str, value, number_format: str | None = None) -> str:
    """Change one answer cell of a filled file as a unit would in Excel; its address."""
    book = openpyxl.load_workbook(path)
    sheet = book[spec.data_sheet]
    label = spec.role(role).label
    header = next(c for row in sheet.iter_rows() for c in row if c.value == label)
    id_column = next(c.column for c in sheet[header.row] if c.value == spec.column_of_source("id").label)
    row = next(r for r in range(header.row + 1, sheet.max_row + 1) if sheet.cell(r, id_column).value == task_id)
    cell = sheet.cell(row, header.column, value)
    if number_format:
        cell.number_format = number_format
    book.save(path)
    return cell.coordinate


def test_100_percent_typed_in_excel_is_read_as_100_not_1(workspace):
    spec, task = workspace.spec(), task_ids(workspace)[0]
    filling = good_filling(workspace)
    filling.answers[task][spec.role("status").label] = spec.done
    path = send(workspace, filling, "财政局.xlsx")
    edit_answer(path, spec, task, "percent", 1, "0%")  # Excel keeps "100%" as 1 shown as a percentage
    _, files = run(workspace)
    assert files["财政局.xlsx"].status == "accepted" and "done-not-100" not in codes(files["财政局.xlsx"])
    with Ledger(workspace.ledger_path) as ledger:
        assert ledger.answers("S009", PERIOD)[task][spec.role("percent").key] == "100"


def test_a_formula_with_no_saved_value_is_named_and_one_with_a_value_is_read_with_a_warning(workspace, tmp_path):
    spec, task = workspace.spec(), task_ids(workspace)[0]
    path = send(workspace, good_filling(workspace), "财政局.xlsx")
    where = edit_answer(path, spec, task, "progress", '="已公开"&"12条"')  # openpyxl saves no calculated value
    _, files = run(workspace)
    [formula] = [f for f in files["财政局.xlsx"].findings if f.code == "formula-no-value"]
    assert formula.location == f"进展填报!{where}" and '="已公开"&"12条"' in formula.message
    assert files["财政局.xlsx"].status == "returned"
    resaved = convert(path, "xlsx", tmp_path)  # LibreOffice calculates and saves the value, as Excel does
    path.unlink()
    shutil.copy(resaved, path.with_name("财政局（另存）.xlsx"))
    _, files = run(workspace)
    outcome = files["财政局（另存）.xlsx"]
    assert outcome.status == "accepted" and "formula-value" in codes(outcome), outcome.findings
    with Ledger(workspace.ledger_path) as ledger:
        assert ledger.answers("S009", PERIOD)[task][spec.role("progress").key] == "已公开12条"


def test_the_unit_named_most_exactly_is_the_one_meant(workspace):
    from pipeline.submissions import Cell, Submission
    from pipeline.units import Unit
    from pipeline.validate import check_unit

    spec = workspace.spec()
    units = {"A": Unit("A", "东湖区"), "B": Unit("B", "东湖区教育局", ("区教育局",))}

    def told(written: str) -> list[str]:
        submission = Submission(None, spec.data_sheet, {spec.role("unit").key: Cell(written, spec.data_sheet, 1, 3)})
        return [f.message for f in check_unit(submission, spec, units["A"], units)]

    assert told("东湖区人民政府") == [] and told("东湖") == []
    assert told("东湖区教育局") == ["“填报单位”写的是“东湖区教育局”，但这份填报表是发给东湖区的（表内标识），"
                                "不能确定是哪个单位的报送。"]
    assert "（即单位名录中的东湖区教育局）" in told("区教育局")[0]


def test_a_later_file_naming_another_unit_never_replaces_the_units_accepted_one(workspace):
    sent_at(send(workspace, good_filling(workspace), "财政局.xlsx"), "2018-06-10 09:00")
    other = good_filling(workspace, seed=2)
    other.header["填报单位"] = "市审计局"
    sent_at(send(workspace, other, "审计局用错的表.xlsx"), "2018-06-20 09:00")
    _, files = run(workspace)
    assert files["财政局.xlsx"].status == "accepted"
    assert files["审计局用错的表.xlsx"].status == "returned"


def reads(monkeypatch) -> list[str]:
    """The files collect reads from now on (their archived copies' names)."""
    seen: list[str] = []
    real = collect_module.read_files

    def counting(paths, *args, **kwargs):
        def noted():
            for path in paths:
                seen.append(Path(path).name)
                yield path
        return real(noted(), *args, **kwargs)

    monkeypatch.setattr(collect_module, "read_files", counting)
    return seen


def state(workspace: Workspace, result) -> tuple:
    """What a collection concluded: every file's JSON entry and the ledger's answers and findings."""
    db = sqlite3.connect(workspace.ledger_path)
    answers = db.execute("SELECT unit_code, answers FROM unit_answers WHERE period = ? ORDER BY 1",
                         (PERIOD,)).fetchall()
    findings = db.execute("SELECT * FROM findings WHERE period = ? ORDER BY 1, 2, 3, 4", (PERIOD,)).fetchall()
    return result.to_json(), answers, findings


def test_a_file_judged_before_is_not_read_again_and_its_verdict_is_the_same(workspace, monkeypatch):
    ids = task_ids(workspace)
    mistaken = good_filling(workspace, "市教育局", seed=3)
    mistaken.answers[task_ids(workspace, "市教育局")[0]]["完成进度(%)"] = "八十"
    send(workspace, good_filling(workspace), "财政局.xlsx")
    send(workspace, mistaken, "教育局.xlsx", "市教育局")
    (workspace.input_dir / PERIOD / "图片.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    seen = reads(monkeypatch)
    first = state(workspace, run(workspace)[0])
    assert len(seen) == 3  # archived copies, named by hash
    seen.clear()
    again = state(workspace, run(workspace)[0])
    assert seen == [] and again == first
    # A new file is the only one read; the unit's earlier file is superseded as before.
    later = good_filling(workspace, seed=2)
    later.header["报送日期"] = "2018-06-25"
    later.answers[ids[0]]["完成进度(%)"] = 90
    send(workspace, later, "财政局更正.xlsx")
    result, files = run(workspace)
    assert len(seen) == 1 and files["财政局.xlsx"].status == "superseded"
    assert files["财政局更正.xlsx"].status == "accepted"
    assert Ledger(workspace.ledger_path).answers("S009", PERIOD)[ids[0]]["percent"] == "90"


@pytest.mark.parametrize("change", ["spec", "registry", "program"])
def test_every_file_is_read_again_when_what_it_was_judged_against_changes(workspace, monkeypatch, change):
    send(workspace, good_filling(workspace), "财政局.xlsx")
    send(workspace, good_filling(workspace, "市教育局"), "教育局.xlsx", "市教育局")
    seen = reads(monkeypatch)
    run(workspace)
    seen.clear()
    if change == "spec":
        with workspace.spec_path.open("a", encoding="utf-8") as spec:
            spec.write("\n# 办公室修改过说明文字\n")
    elif change == "registry":
        with Ledger(workspace.ledger_path) as ledger:
            registry = ledger.registry()
            ledger.db.execute("UPDATE units SET aliases = ? WHERE code = 'S009'", (json.dumps(["财政"]),))
        assert registry.by_code()["S009"].aliases != ("财政",)
    else:
        monkeypatch.setattr(collect_module, "program_version", lambda: "a newer program")
    _, files = run(workspace)
    assert len(seen) == 2
    assert {o.status for o in files.values()} == {"accepted"}


def validation_rows(workspace: Workspace, sheet: str) -> tuple[str, list[dict[str, object]]]:
    """A sheet of 校验结果.xlsx: its subtitle and its rows under the header."""
    rows = list(openpyxl.load_workbook(workspace.period_output(PERIOD) / "校验结果.xlsx")[sheet].values)
    return rows[1][0], [dict(zip(rows[2], row)) for row in rows[3:]]


def without_identity(path: Path) -> Path:
    """The file as a unit makes it by copying a template's contents to a new workbook: no identity."""
    book = openpyxl.load_workbook(path)
    del book[IDENTITY_SHEET]
    for name in [n for n in book.defined_names if n.startswith("BS_")]:
        del book.defined_names[name]
    book.save(path)
    return path


def test_the_validation_results_show_problems_first_with_dates_twins_and_the_names_files_give(workspace):
    send(workspace, good_filling(workspace), "财政局.xlsx")  # 报送日期 2018-06-20: on time
    late = good_filling(workspace, "市审计局")
    late.header["报送日期"] = "2018-06-28"  # after the 25th
    send(workspace, late, "审计局.xlsx", "市审计局")
    twin = send(workspace, good_filling(workspace, "市教育局"), "教育局.xlsx", "市教育局")
    shutil.copy(twin, twin.with_name("教育局（再次发送）.xlsx"))
    wrong = good_filling(workspace, "市统计局")
    wrong.answers[task_ids(workspace, "市统计局")[0]]["完成状态"] = "完成"
    send(workspace, wrong, "统计局.xlsx", "市统计局")  # returned, never sent again
    forged = send(workspace, good_filling(workspace, "市公安局"), "公安局.xlsx", "市公安局")
    book = openpyxl.load_workbook(forged)
    next(row for row in book[IDENTITY_SHEET].iter_rows() if row[0].value == "unit_code")[1].value = "S001"
    book.save(forged)
    without_identity(send(workspace, good_filling(workspace, "市民政局"), "民政局.xlsx", "市民政局"))
    result, files = run(workspace)

    assert [f.message for f in files["教育局.xlsx"].findings] == ["与 教育局（再次发送）.xlsx 内容完全相同，只按一份处理。"]
    assert (files["公安局.xlsx"].unit_code, files["民政局.xlsx"].unit_code) == (None, None)  # nothing decided on it
    subtitle, rows = validation_rows(workspace, "文件")
    assert subtitle.endswith("文件 7 份，依次为：退回修改 1、拒收 2、通过（有提醒） 1、通过 2、重复文件 1")
    assert list(rows[0]) == ["单位", "文件", "状态", "报送日期", "按时", "错误数", "提醒数", "主要问题"]  # no hash
    received = chinese_date(files["公安局.xlsx"].first_seen[:10]) + "（收到）"
    assert [(r["单位"], r["文件"], r["状态"], r["报送日期"], r["按时"], r["错误数"], r["提醒数"]) for r in rows] == [
        ("市统计局", "统计局.xlsx", "退回修改", "2018年6月20日", "是", 1, 0),
        ("市公安局（表内写的，未核实）", "公安局.xlsx", "拒收", received, None, 1, 0),
        ("市民政局（表内写的，未核实）", "民政局.xlsx", "拒收", received, None, 1, 0),
        ("市教育局", "教育局.xlsx", "通过（有提醒）", "2018年6月20日", "是", 0, 1),
        ("市财政局", "财政局.xlsx", "通过", "2018年6月20日", "是", 0, 0),
        ("市审计局", "审计局.xlsx", "通过", "2018年6月28日", "否", 0, 0),
        ("市教育局", "教育局（再次发送）.xlsx", "重复文件", None, None, None, None)]
    assert rows[0]["主要问题"] == "任务 {} 的“完成状态”填的“完成”不在可选项中。".format(task_ids(workspace, "市统计局")[0])
    _, problems = validation_rows(workspace, "问题")
    assert [(p["文件"], p["问题"]) for p in problems if "内容完全相同" in p["问题"]] == [
        ("教育局.xlsx", "与 教育局（再次发送）.xlsx 内容完全相同，只按一份处理。"),
        ("教育局（再次发送）.xlsx", "与 教育局.xlsx 内容完全相同，只按一份处理。")]
    assert [p["文件"] for p in problems] == ["统计局.xlsx", "公安局.xlsx", "民政局.xlsx", "教育局.xlsx",
                                           "教育局（再次发送）.xlsx"]


def with_prefix(path: Path, twice: bool = False) -> None:
    """The workbook's SpreadsheetML elements written with the prefix ``x:``, as some programs
    write them; ``twice``: the namespace declared as the default too."""
    namespace = b'="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    with zipfile.ZipFile(path) as book:
        parts = [(info, book.read(info)) for info in book.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for info, data in parts:
            if info.filename in ("xl/workbook.xml", "xl/styles.xml") or info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<(/?)([A-Za-z]\w*)(?=[\s/>])", rb"<\1x:\2", data)
                data = data.replace(b"xmlns" + namespace, b"xmlns:x" + namespace + (b" xmlns" + namespace if twice else b""))
            book.writestr(info, data)


@pytest.mark.parametrize("twice", [False, True], ids=["prefixed", "declared twice"])
def test_percent_and_formula_cells_are_found_whatever_prefix_the_elements_carry(workspace, twice):
    spec, task = workspace.spec(), task_ids(workspace)[0]
    filling = good_filling(workspace)
    filling.answers[task][spec.role("status").label] = spec.done
    path = send(workspace, filling, "财政局.xlsx")
    edit_answer(path, spec, task, "percent", 1, "0%")
    with_prefix(path, twice)
    assert b"<x:c " in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    _, files = run(workspace)
    assert files["财政局.xlsx"].status == "accepted", files["财政局.xlsx"].findings
    with Ledger(workspace.ledger_path) as ledger:
        assert ledger.answers("S009", PERIOD)[task][spec.role("percent").key] == "100"
    path = send(workspace, good_filling(workspace), "财政局（公式）.xlsx")
    where = edit_answer(path, spec, task, "progress", '="已公开"&"12条"')
    with_prefix(path, twice)
    _, files = run(workspace)
    [formula] = [f for f in files[path.name].findings if f.code == "formula-no-value"]
    assert formula.location == f"进展填报!{where}"


def test_validation_results_written_before_from_the_same_contents_are_kept_unless_someone_saved_them(
        workspace, monkeypatch):
    send(workspace, good_filling(workspace), "财政局.xlsx")
    path = cycle.collect_period(workspace, PERIOD).validation
    written = path.read_bytes()
    made = []
    real = report.atomic_workbook
    monkeypatch.setattr(report, "atomic_workbook",
                        lambda target, created, stamp="": (made.append(target.name), real(target, created, stamp))[1])
    assert cycle.collect_period(workspace, PERIOD).validation.read_bytes() == written and made == []
    # Saved again in Excel or WPS (which record when): written anew, as it was first.
    with zipfile.ZipFile(path) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts["docProps/core.xml"] = re.sub(rb"[^>]*</dcterms:modified>", b"2026-06-27T09:15:00Z</dcterms:modified>",
                                        parts["docProps/core.xml"])
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    assert cycle.collect_period(workspace, PERIOD).validation.read_bytes() == written
    assert made == [path.name]
    # Another file received: its line is in it.
    send(workspace, good_filling(workspace, "市教育局"), "教育局.xlsx", unit="市教育局")
    cycle.collect_period(workspace, PERIOD)
    assert len(made) == 2 and "教育局.xlsx" in [row["文件"] for row in validation_rows(workspace, report.FILES_SHEET)[1]]


def test_a_formula_is_found_past_a_comment_before_it_in_its_cell(workspace):
    spec, task = workspace.spec(), task_ids(workspace)[0]
    path = send(workspace, good_filling(workspace), "财政局.xlsx")
    where = edit_answer(path, spec, task, "progress", '="已公开"&"12条"')
    with zipfile.ZipFile(path) as book:
        parts = [(info, book.read(info)) for info in book.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for info, data in parts:
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'(<c r="' + where.encode() + rb'"[^>]*>)(<f>)', rb"\1<!-- a <note> --><?pi?>\2", data)
            book.writestr(info, data)
    assert b"<!-- " in zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    _, files = run(workspace)
    [formula] = [f for f in files["财政局.xlsx"].findings if f.code == "formula-no-value"]
    assert formula.location == f"进展填报!{where}"
