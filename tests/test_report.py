"""The leaders' report, checked cell by cell against figures worked out by hand for a small ledger."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline import cycle, report, xlsxout
from pipeline.cli import cli
from pipeline.errors import OutputError
from pipeline.ledger import Ledger, packed, unpacked_text
from pipeline.consolidate import consolidate
from pipeline.text import excerpt, short_title
from pipeline.workspace import Workspace

from helpers import INJECTION, PLAN, Counting, put_answers

PERIOD = "2018-06"


def sheet_rows(path: Path, name: str, header: str) -> list[dict[str, object]]:
    """The rows of a table sheet under the header row that starts with ``header``."""
    sheet = openpyxl.load_workbook(path)[name]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(rows) if r[0] == header)
    return [dict(zip(rows[top], r)) for r in rows[top + 1:] if any(v is not None for v in r)]


def test_figures_match_a_hand_worked_ledger(ledger_workspace):
    run = cycle.report_period(ledger_workspace, PERIOD)
    path = run.report
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == list(report.REPORT_SHEETS) == ["总体情况", "任务进展", "滞后及逾期任务", "单位报送情况",
                                                           "未报送单位", "较上月变化"]
    assert openpyxl.load_workbook(run.details).sheetnames == list(report.DETAILS_SHEETS) == [
        "各单位进展", "问题清单", "较上月变化（按单位）", "明细"]
    summary = {}
    for label, value, *_ in book[report.SUMMARY_SHEET].iter_rows(values_only=True):
        summary.setdefault(label, value)
    # 4 units expected; U1, U2, U3 reported (U2's superseded file does not count twice);
    # U3's 报送日期 28 June is after the 25th; U4 sent nothing.
    assert [summary[k] for k in ("应报单位", "已报送", "按时报送", "逾期报送", "退回修改", "未报送")] == [4, 3, 2, 1, 0, 1]
    # 1-1: lead 甲局 says 序时推进 (乙局 lagging and 丙局 not started do not override the lead);
    # deadline 31 May has passed and it is not done -> overdue.
    # 1-2: no lead -> least advanced of 已完成 and 序时推进. 2-1: 甲局 已完成, 丁区政府 silent.
    tasks = {r["任务编号"]: r for r in sheet_rows(path, report.TASKS_SHEET, "任务编号")}
    assert {t: (r["总体状态"], r["逾期"]) for t, r in tasks.items()} == {
        "1-1": ("序时推进", "是"), "1-2": ("序时推进", None), "2-1": ("已完成", None)}
    assert tasks["1-1"]["牵头单位"] == "甲局" and tasks["1-1"]["牵头单位进展"] == "【甲局】甲一进展"
    assert tasks["1-1"]["各单位状态"] == "共3个单位：序时推进1、进度滞后1、未启动1"
    assert tasks["1-2"]["牵头单位"] == "各责任单位" and tasks["1-2"]["各单位状态"] == "共2个单位：已完成1、序时推进1"
    whole = {r["任务编号"]: r for r in sheet_rows(run.details, report.PROGRESS_SHEET, "任务编号")}
    assert whole["1-2"]["各单位进展"] == "共2个单位：已完成1、序时推进1\n【乙局】乙二完成\n【丙局】丙二进展"
    assert [summary[s] for s in ("已完成", "序时推进", "进度滞后", "未启动")] == [1, 2, 0, 0]
    units = {r["单位名称"]: r for r in sheet_rows(path, report.UNITS_SHEET, "单位编码")}
    assert {n: (r["已报送"], r["按时"], r["任务数"]) for n, r in units.items()} == {
        "甲局": ("是", "是", 2), "乙局": ("是", "是", 2), "丙局": ("是", "否", 2), "丁区政府": ("否", None, 1)}
    assert (units["乙局"]["错误数"], units["乙局"]["提醒数"], units["乙局"]["报送文件"]) == (0, 1, "乙局.xlsx")
    assert [r["单位名称"] for r in sheet_rows(path, report.MISSING_SHEET, "单位编码")] == ["丁区政府"]
    lagging = sheet_rows(path, report.LAGGING_SHEET, "任务编号")
    assert [(r["任务编号"], r["报告滞后的单位"], r["连续情况"]) for r in lagging] == [("1-1", "乙局", None)]
    changes = {(r["任务编号"], r["单位"]): (r["上月（2018-05）状态"], r["本期状态"], r["变化"])
               for r in sheet_rows(run.details, report.UNIT_CHANGES_SHEET, "任务编号")}
    assert changes[("1-2", "丙局")] == ("未启动", "序时推进", "前进")
    assert changes[("1-1", "甲局")] == ("序时推进", "序时推进", "未变")
    assert changes[("2-1", "甲局")] == ("未报送", "已完成", "本期新报送")
    detail = sheet_rows(run.details, report.DETAIL_SHEET, "任务编号")
    assert len(detail) == 7  # 3 + 2 + 2 task × unit assignments
    assert {(r["任务编号"], r["单位名称"]): r["来源文件"] for r in detail}[("2-1", "甲局")] == "甲局.xlsx"
    assert {(r["任务编号"], r["单位名称"]): r["完成状态"] for r in detail}[("2-1", "丁区政府")] == "未报送"


def test_unit_text_that_looks_like_a_formula_stays_text(ledger_workspace):
    path = cycle.report_period(ledger_workspace, PERIOD).details
    sheet = openpyxl.load_workbook(path)[report.PROBLEMS_SHEET]
    cells = {c.value: c for row in sheet.iter_rows() for c in row if c.value in (INJECTION, "@SUM(1)")}
    assert set(cells) == {INJECTION, "@SUM(1)"}
    assert all(c.data_type == "s" for c in cells.values())


def own_standing(path: Path) -> dict[str, tuple[object, object]]:
    """本单位情况 of a feedback workbook: 项目 -> (本单位, 全部单位)."""
    return {r["项目"]: (r["本单位"], r["全部单位"]) for r in sheet_rows(path, report.OWN_SHEET, "项目")}


def feedback_path(run, unit: str) -> Path:
    return next(run.feedback.glob(f"*_{unit}_{PERIOD}反馈.xlsx"))


def test_feedback_has_the_units_own_rows_findings_and_comparison(ledger_workspace):
    db = sqlite3.connect(ledger_workspace.ledger_path)  # 完成进度: 甲局 60 and 100, 乙局 40, 丙局 80
    put_answers(db, PERIOD, "U2", {"1-1": {"percent": "40"}}, f"{5:064d}")
    put_answers(db, PERIOD, "U3", {"1-2": {"percent": "80"}}, f"{6:064d}")
    db.commit()
    db.close()
    run = cycle.report_period(ledger_workspace, PERIOD)
    files = sorted(p.name for p in run.feedback.glob("*.xlsx"))
    assert files == [f"U{n}_{name}_{PERIOD}反馈.xlsx" for n, name in enumerate(("甲局", "乙局", "丙局", "丁区政府"), 1)]
    path = run.feedback / files[1]
    assert openpyxl.load_workbook(path).sheetnames == list(report.FEEDBACK_SHEETS)
    rows = sheet_rows(path, report.TASKS_SHEET, "任务编号")
    assert [(r["任务编号"], r["完成状态"], r["任务总体状态"]) for r in rows] == [
        ("1-1", "进度滞后", "序时推进"), ("1-2", "已完成", "序时推进")]
    found = sheet_rows(path, report.FINDINGS_SHEET, "文件")
    assert [(f["文件"], f["位置"], f["级别"]) for f in found] == [  # every file it sent this month
        ("乙局.xlsx", "进展填报!H7", "提醒"), *[("乙局旧.xlsx", "进展填报!G7", "错误")] * 3]
    share = own_standing(path)
    # 乙局 1 of its 2 tasks; of all units, 2 of the 6 rows with data used (丁区政府's one is not).
    assert share["“已完成”的任务"] == ("1 项，占 50.0%", "占 33.3%")
    # Mean 完成进度 by unit: 甲局 80, 乙局 40, 丙局 80; equal figures take equal places.
    assert share["平均完成进度"] == ("40.0%，第 3 名（共 3 个单位）", "各单位平均 66.7%")
    assert [own_standing(feedback_path(run, unit))["平均完成进度"][0] for unit in ("甲局", "丙局")] == [
        "80.0%，第 1 名（共 3 个单位）"] * 2


def test_each_unit_reads_one_standing_and_nothing_where_there_is_nothing(ledger_workspace):
    run = cycle.report_period(ledger_workspace, PERIOD)
    assert {unit: own_standing(feedback_path(run, unit))["报送情况"][0] for unit in ("甲局", "乙局", "丙局", "丁区政府")} == {
        "甲局": "按时报送，已通过校验", "乙局": "按时报送，已通过校验",
        "丙局": "逾期报送（晚于报送截止日），已通过校验", "丁区政府": "未报送"}
    clean = feedback_path(run, "甲局")
    assert own_standing(clean)["文件中的问题"][0] == "无"
    assert [(r["文件"], r["问题"]) for r in sheet_rows(clean, report.FINDINGS_SHEET, "文件")] == [("甲局.xlsx", "无")]
    missing = feedback_path(run, "丁区政府")
    mine = {item: values[0] for item, values in own_standing(missing).items()}
    assert (mine["报送日期"], mine["报送文件"], mine["平均完成进度"]) == ("无", "无", "无（本期未收到本单位的填报表）")
    assert [mine[f"“{word}”的任务"] for word in ("已完成", "序时推进", "进度滞后", "未启动")] == ["无"] * 4
    assert not any("%" in value for item, value in mine.items() if item != "报送情况")  # never "未报送 100%"
    assert [r["问题"] for r in sheet_rows(missing, report.FINDINGS_SHEET, "文件")] == ["无（本期未收到本单位的填报表）"]

    # 丁区政府 sends a file that is returned, and no corrected one.
    db = sqlite3.connect(ledger_workspace.ledger_path)
    sha = f"{99:064d}"
    db.execute("INSERT INTO files VALUES (?, 1, 'x', '2018-06-21T09:00:00')", (sha,))
    db.execute("INSERT INTO submissions VALUES (?, ?, '丁区政府.xlsx', 'U4', 'returned', '2018-06-21', 1, 0, 'now', ?)",
               (PERIOD, sha, PERIOD))
    db.execute("INSERT INTO findings (period, sha256, seq, code, severity, location, message, fix) VALUES "
               "(?, ?, 0, 'required-missing', 'error', '进展填报!H7', '任务 2-1 的“工作进展情况”未填写。', '请填写')",
               (PERIOD, sha))
    db.commit()
    db.close()
    run = cycle.report_period(ledger_workspace, PERIOD)
    returned = feedback_path(run, "丁区政府")
    mine = {item: values[0] for item, values in own_standing(returned).items()}
    assert (mine["报送情况"], mine["报送日期"], mine["文件中的问题"]) == (
        "退回修改（待重新报送）", "2018年6月21日", "错误 1 条，见“问题”表")
    assert mine["平均完成进度"] == "无（报送的文件已退回修改，数据未采用）"
    assert not any("%" in value or "按时" in value for item, value in mine.items() if item != "报送情况")
    subtitle = openpyxl.load_workbook(returned)[report.TASKS_SHEET]["A2"].value
    assert subtitle.endswith("报送的文件已退回修改，数据未采用，各项任务按“未报送”统计")


EXTRA_COLUMN = """
[[columns]]
key = "funds"
label = "落实资金(万元)"
kind = "input"
type = "text"
width = 12
"""


def test_a_column_the_office_adds_without_a_role_reaches_the_detail_and_the_feedback(ledger_workspace):
    with ledger_workspace.spec_path.open("a", encoding="utf-8") as spec:
        spec.write(EXTRA_COLUMN)
    label = ledger_workspace.spec().column("funds").label
    db = sqlite3.connect(ledger_workspace.ledger_path)
    put_answers(db, PERIOD, "U1", {"1-1": {"funds": "已拨付12"}}, f"{3:064d}")
    put_answers(db, PERIOD, "U2", {"1-2": {"funds": "30"}}, f"{5:064d}")
    db.commit()
    db.close()
    run = cycle.report_period(ledger_workspace, PERIOD)
    detail = sheet_rows(run.details, report.DETAIL_SHEET, "任务编号")
    assert {(r["任务编号"], r["单位名称"]): r[label] for r in detail if r[label]} == {
        ("1-1", "甲局"): "已拨付12", ("1-2", "乙局"): "30"}  # as the unit wrote it: text, never a number
    feedback = sheet_rows(run.feedback / f"U2_乙局_{PERIOD}反馈.xlsx", report.TASKS_SHEET, "任务编号")
    assert [(r["任务编号"], r[label]) for r in feedback] == [("1-1", None), ("1-2", "30")]



def test_the_report_takes_keys_labels_and_status_words_from_the_spec(ledger_workspace):
    text = ledger_workspace.spec_path.read_text(encoding="utf-8")
    ledger_workspace.spec_path.write_text(text.replace("进度滞后", "滞后").replace("存在问题及困难", "困难和问题")
                                          .replace('key = "problems"', 'key = "difficulties"'), encoding="utf-8")
    db = sqlite3.connect(ledger_workspace.ledger_path)
    db.create_function("renamed", 1, lambda blob: packed(unpacked_text(blob).replace('"进度滞后"', '"滞后"')
                                                         .replace('"problems":', '"difficulties":')))
    db.execute("UPDATE unit_answers SET answers = renamed(answers)")
    db.commit()
    db.close()
    run = cycle.report_period(ledger_workspace, PERIOD)
    problems = sheet_rows(run.details, report.PROBLEMS_SHEET, "任务编号")
    assert [(r["任务编号"], r["状态"], r["困难和问题"]) for r in problems] == [
        ("1-1", "滞后", INJECTION), ("1-2", "已完成", "@SUM(1)")]
    lagging = sheet_rows(run.report, report.LAGGING_SHEET, "任务编号")
    assert [(r["任务编号"], r["报告滞后的单位"], r["存在问题"]) for r in lagging] == [
        ("1-1", "乙局", f"【乙局】{INJECTION}")]
    summary = openpyxl.load_workbook(run.report)[report.SUMMARY_SHEET]
    texts = {value for row in summary.iter_rows(values_only=True) for value in row if isinstance(value, str)}
    assert {"滞后", "状态由落后到领先依次为：未启动、滞后、序时推进、已完成。"} <= texts
    assert any(text.startswith("其中滞后 0 项，逾期 1 项。") for text in texts)


def test_rerun_gives_the_same_report_and_a_crash_leaves_the_old_one(ledger_workspace, in_workers):
    first = cycle.report_period(ledger_workspace, PERIOD).report.read_bytes()
    assert cycle.report_period(ledger_workspace, PERIOD).report.read_bytes() == first
    feedback = sorted(p.name for p in (ledger_workspace.period_output(PERIOD) / report.FEEDBACK_FOLDER).iterdir())
    assert feedback

    in_workers("pipeline.report", "write_summary_sheet", "fail")
    with pytest.raises(RuntimeError):
        cycle.report_period(ledger_workspace, PERIOD)
    out = ledger_workspace.period_output(PERIOD)
    assert (out / report.REPORT_NAME).read_bytes() == first
    assert not list(out.glob(".*")) and not list(out.glob("*/.~*"))  # no temporary file or folder left
    assert sorted(p.name for p in (out / report.FEEDBACK_FOLDER).iterdir()) == feedback  # the old feedback stays whole

    # The process writing the report killed halfway (out of memory, say): a message, nothing left over.
    in_workers("pipeline.report", "write_summary_sheet", "die")
    with pytest.raises(OutputError, match="写文件的工作进程异常终止"):
        cycle.report_period(ledger_workspace, PERIOD)
    assert (out / report.REPORT_NAME).read_bytes() == first
    assert not list(out.glob(".*")) and sorted(p.name for p in (out / report.FEEDBACK_FOLDER).iterdir()) == feedback


def test_progress_counts_the_report_and_every_feedback_workbook(ledger_workspace):
    counting = Counting()
    run = cycle.report_period(ledger_workspace, PERIOD, progress=counting)
    written = sorted(p.name for p in run.feedback.iterdir())
    assert counting.totals == [len(written) + 2]
    assert sorted(counting.steps) == sorted([run.report.name, run.details.name, *written])


def test_cli_report_and_merge(ledger_workspace):
    runner = CliRunner()
    result = runner.invoke(cli, ["-w", str(ledger_workspace.root), "report", PERIOD])
    assert result.exit_code == 0, result.output
    assert "任务 3 项（已完成 1，序时推进 2；逾期 1）；应报 4 个单位，已报 3，未报 1。" in result.output
    missing = runner.invoke(cli, ["-w", str(ledger_workspace.root), "report", "2018-09"])
    assert missing.exit_code == 1
    assert "错误：台账中没有报送期 2018-09 的收集记录。请先运行 pipeline collect 2018-09。" in missing.output
    (ledger_workspace.input_dir / "2018-07").mkdir()
    merged = runner.invoke(cli, ["-w", str(ledger_workspace.root), "merge", "2018-07"])
    assert merged.exit_code == 0, merged.output
    assert "2018-07：收到文件 0 份" in merged.output and "未报送 4 个" in merged.output
    assert (ledger_workspace.period_output("2018-07") / report.REPORT_NAME).is_file()


def test_libreoffice_prints_the_leaders_workbooks_short_with_page_one_naming_names(tmp_path):
    demo = cycle.run_demo(tmp_path / "demo")
    run = demo.months[-1].merge.report
    breakdown = demo.workspace.output_dir / report.BREAKDOWN_NAME
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(run.report), str(breakdown)],
                   check=True, capture_output=True, timeout=300)
    pdf = tmp_path / "pdf" / Path(report.REPORT_NAME).with_suffix(".pdf").name

    def pages(path: Path) -> int:
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
        return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))

    def page(number: int) -> str:
        return subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(pdf), "-"],
                              check=True, capture_output=True, text=True).stdout

    first, second = page(1), page(2)
    assert "一、报送情况" in first and "需要关注的事项" in first and "说明" in first
    assert report.TASKS_SHEET in second and "一、报送情况" not in second
    # Every unit page 1 names is on it (the PDF's text may break a line anywhere).
    flat = "".join(first.split())
    named = [name for _, names in run.consolidation.named for name in names]
    assert named and all("".join(name.split()) in flat for name in named)
    assert len(run.consolidation.units) == 48 and pages(pdf) <= 15  # 汇总明细 holds every unit's every text
    assert pages(tmp_path / "pdf" / breakdown.with_suffix(".pdf").name) <= 4  # 19 tasks, one row each
    shutil.rmtree(tmp_path / "demo")


def test_joined_text_past_the_excel_cell_limit_is_cut_with_a_mark(tmp_path):
    path = tmp_path / "long.xlsx"
    with xlsxout.atomic_workbook(path, dt.datetime(2018, 6, 1)) as workbook:
        xlsxout.write_cell(workbook.add_worksheet(report.TASKS_SHEET), 0, 0, "【甲局】" + "进展" * 20000)
    value = openpyxl.load_workbook(path)[report.TASKS_SHEET]["A1"].value
    assert len(value) == xlsxout.CELL_TEXT_LIMIT and value.endswith(xlsxout.CUT_MARK)


def test_months_are_calendar_months_and_a_gap_breaks_a_streak(ledger_workspace):
    with Ledger(ledger_workspace.ledger_path) as ledger:
        registry = ledger.registry()
        submissions, answers, findings = ledger.report_inputs(PERIOD)
    plan, spec = cycle.current_plan(ledger_workspace), ledger_workspace.spec()
    lagging = {"period": "2018-04", "unit_code": "U1", "task_id": "1-1", "field": "status", "value": "进度滞后",
               "sha256": "", "file_name": ""}
    moved = answers.assign(period=answers["period"].replace("2018-05", "2018-03"))  # May now empty
    moved = pd.concat([moved, pd.DataFrame([lagging])], ignore_index=True)
    now = moved["period"] == PERIOD
    moved.loc[now & (moved["unit_code"] == "U1") & (moved["field"] == "status") & (moved["task_id"] == "1-1"),
              "value"] = "进度滞后"
    c = consolidate(plan, spec, registry.units, PERIOD, dt.date(2018, 6, 25), submissions, moved, findings,
                    ["2018-03", "2018-04", PERIOD])
    assert list(c.trend["period"]) == ["2018-03", "2018-04", PERIOD]
    assert c.tasks.set_index("task_id").loc["1-1", "status"] == "进度滞后"
    assert c.streaks.empty  # lagging in April and June, but May has no data: no streak
    changes = {(t, u): (p, n, ch) for t, u, p, n, ch in
               c.changes[["task_id", "unit_name", "previous", "current", "change"]].itertuples(index=False)}
    assert changes[("1-1", "甲局")] == ("未报送", "进度滞后", "本期新报送")  # compared with May, not April
    assert changes[("2-1", "丁区政府")] == ("未报送", "未报送", "连续未报送")


def replace_mays_plan(workspace: Workspace) -> tuple[str, str]:
    """Make May collected under a plan that had other work under 1-1 (1-2 the same); (May's, June's) versions."""
    current = cycle.current_plan(workspace).version
    may_plan = workspace.input_dir / "may.csv"
    may_plan.write_text(PLAN.replace("1.任务一", "1.五月的另一项任务"), encoding="utf-8")
    may_version = cycle.load_plan(workspace, may_plan, replace=True).plan.version
    assert cycle.load_plan(workspace, workspace.input_dir / "plan.csv", replace=True).plan.version == current
    db = sqlite3.connect(workspace.ledger_path)
    db.executemany("UPDATE collections SET plan_version = ? WHERE period = ?", [(may_version, "2018-05"),
                                                                               (current, PERIOD)])
    db.commit()
    db.close()
    return may_version, current


def test_after_a_plan_is_replaced_a_task_id_with_other_work_is_not_compared(ledger_workspace):
    workspace = ledger_workspace
    replace_mays_plan(workspace)
    c = cycle.report_period(workspace, PERIOD).consolidation
    changes = {(t, u): (p, n, ch) for t, u, p, n, ch in
               c.changes[["task_id", "unit_name", "previous", "current", "change"]].itertuples(index=False)}
    assert changes[("1-1", "甲局")] == ("任务已调整", "序时推进", "任务已调整")
    assert changes[("1-1", "乙局")] == ("任务已调整", "进度滞后", "任务已调整")
    assert changes[("1-1", "丙局")] == ("任务已调整", "未启动", "任务已调整")  # decided per task, not per answer
    assert changes[("1-2", "丙局")] == ("未启动", "序时推进", "前进")  # the same work: compared
    may = c.trend.set_index("period").loc["2018-05"]
    assert may.sum() == len(c.tasks) - 1  # May's trend leaves out the work it did not have
    rows = sheet_rows(workspace.period_output(PERIOD) / report.DETAILS_NAME, report.UNIT_CHANGES_SHEET, "任务编号")
    assert {(r["任务编号"], r["单位"], r["变化"]) for r in rows} >= {("1-1", "甲局", "任务已调整")}
    tasks = sheet_rows(workspace.period_output(PERIOD) / report.REPORT_NAME, report.CHANGES_SHEET, "任务编号")
    assert {r["任务编号"]: r["变化"] for r in tasks}["1-1"] == "任务已调整"


def test_a_month_reported_again_after_the_plan_was_replaced_keeps_its_own_tasks(ledger_workspace):
    workspace = ledger_workspace
    replace_mays_plan(workspace)
    c = cycle.report_period(workspace, "2018-05").consolidation
    task = c.tasks.set_index("task_id").loc["1-1"]
    assert task["requirement"] == "五月的另一项任务" and task["status"] == "序时推进"  # 甲局 led it in May
    detail = c.detail.set_index(["task_id", "unit_code"])
    assert detail.loc[("1-1", "U2"), "status"] == "进度滞后"


def test_prefilled_answers_are_only_for_the_same_work(ledger_workspace):
    workspace = ledger_workspace
    may_version, _ = replace_mays_plan(workspace)
    db = sqlite3.connect(workspace.ledger_path)
    db.execute("DELETE FROM unit_answers WHERE period = ?", (PERIOD,))  # July's templates prefill from May
    db.execute("DELETE FROM collections WHERE period = ?", (PERIOD,))
    db.commit()
    db.close()
    issue = cycle.issue_templates(workspace, "2018-07")
    sheet = openpyxl.load_workbook(next(p for p in issue.files if "丙局" in p.name))["进展填报"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    rows = {row[1]: row for row in values if row[1] in ("1-1", "1-2")}
    assert "未启动" in rows["1-2"]  # 丙局's May answer to 1-2, the same work
    jia = openpyxl.load_workbook(next(p for p in issue.files if "甲局" in p.name))["进展填报"]
    first = next(row for row in jia.iter_rows(values_only=True) if row[1] == "1-1")
    assert "序时推进" not in first  # May's 1-1 was other work: nothing carried over


def test_an_older_ledger_learns_which_plan_each_period_was_collected_under(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE plans (version TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, "
               "loaded_at TEXT NOT NULL, is_current INTEGER NOT NULL DEFAULT 0)")
    db.executemany("INSERT INTO plans VALUES (?, 't', 's', ?, ?)", [("v1", "2018-01-05T09:00:00", 0),
                                                                   ("v2", "2018-06-10T09:00:00", 1)])
    db.execute("CREATE TABLE collections (period TEXT PRIMARY KEY, collected_at TEXT NOT NULL)")
    db.executemany("INSERT INTO collections VALUES (?, ?)", [("2018-05", "2018-06-03T10:00:00"),
                                                             ("2018-06", "2018-07-02T10:00:00")])
    db.commit()
    db.close()
    with Ledger(path) as ledger:
        assert ledger.db.execute("SELECT period, plan_version FROM collections ORDER BY period").fetchall() == [
            ("2018-05", "v1"), ("2018-06", "v2")]


def test_collect_notes_the_plan_a_period_was_collected_under(ledger_workspace):
    (ledger_workspace.input_dir / PERIOD).mkdir(parents=True, exist_ok=True)
    cycle.collect_period(ledger_workspace, PERIOD)
    with Ledger(ledger_workspace.ledger_path) as ledger:
        noted = ledger.db.execute("SELECT plan_version FROM collections WHERE period = ?", (PERIOD,)).fetchone()
    assert noted == (cycle.current_plan(ledger_workspace).version,)


def test_a_month_without_any_accepted_answer_still_reports(ledger_workspace):
    db = sqlite3.connect(ledger_workspace.ledger_path)
    db.execute("DELETE FROM unit_answers")
    db.commit()
    db.close()
    c = cycle.report_period(ledger_workspace, PERIOD).consolidation
    assert set(c.tasks["status"]) == {"未报送"} and set(c.changes["change"]) == {"连续未报送"}


def test_page_one_names_every_unit_late_returned_rejected_or_missing(ledger_workspace):
    """Page 1's lists, against what the ledger itself says (the deadline is the 25th)."""
    db = sqlite3.connect(ledger_workspace.ledger_path)
    names = dict(db.execute("SELECT code, name FROM units"))
    expected = {code for (code,) in db.execute("SELECT DISTINCT unit_code FROM assignments")}
    standing = dict(db.execute("SELECT unit_code, report_date FROM submissions WHERE period = ? "
                               "AND status IN ('accepted', 'returned') ORDER BY report_date", (PERIOD,)))
    late = sorted(code for code, date in standing.items() if date > f"{PERIOD}-25")
    corrected = sorted(code for (code,) in db.execute(
        "SELECT DISTINCT unit_code FROM submissions WHERE period = ? AND errors > 0", (PERIOD,)))
    missing = sorted(expected - set(standing))
    assert (late, corrected, missing) == (["U3"], ["U2"], ["U4"])  # the hand-made ledger, as documented

    def page_one() -> list[str]:
        path = cycle.report_period(ledger_workspace, PERIOD).report
        sheet = openpyxl.load_workbook(path)[report.SUMMARY_SHEET]
        return [value for row in sheet.iter_rows(values_only=True) for value in row if isinstance(value, str)]

    lines = page_one()
    assert f"逾期报送（1 个）：{names['U3']}（2018年6月28日）。" in lines
    assert f"退回修改（1 个）：{names['U2']}（已改正）。" in lines
    assert f"未报送（1 个）：{names['U4']}。" in lines and not any(line.startswith("拒收") for line in lines)
    # A unit whose only file was refused is named as refused, not as silent.
    db.execute("INSERT INTO files VALUES (?, 1, 'x', '2018-06-21T09:00:00')", ("f" * 64,))
    db.execute("INSERT INTO submissions VALUES (?, ?, '丁区.xlsx', 'U4', 'rejected', NULL, 1, 0, 'now', ?)",
               (PERIOD, "f" * 64, PERIOD))
    db.commit()
    lines = page_one()
    assert f"拒收（1 个）：{names['U4']}。" in lines and not any(line.startswith("未报送（") for line in lines)


def test_urgent_tasks_have_a_short_title_their_lead_and_quotes_cut_at_a_sentence_end(ledger_workspace):
    db = sqlite3.connect(ledger_workspace.ledger_path)
    problem = "网站栏目更新不及时。专业人员不足，图解和视频解读偏少，需要进一步加强培训和考核，确保按期完成。"
    put_answers(db, PERIOD, "U2", {"1-1": {"problems": problem}})
    db.commit()
    c = cycle.report_period(ledger_workspace, PERIOD).consolidation
    [item] = [i for i in c.urgent if i.startswith("任务 1-1")]
    requirement = c.tasks.set_index("task_id").loc["1-1", "requirement"]
    assert f"“{short_title(requirement)}”" in item and "（牵头：甲局；3个单位：" in item
    quoted = item.partition("【乙局】")[2]
    assert quoted.endswith("…") and problem.startswith(quoted[:-1])  # cut at a sentence or clause end
    assert problem[len(quoted) - 1] in "，。" or quoted[-2] in "。"
    assert excerpt(problem, 30) == "网站栏目更新不及时。专业人员不足，图解和视频解读偏少…"
    assert short_title("（一）稳妥做好突发事件舆情回应工作,及时准确发布") == "稳妥做好突发事件舆情回应工作"
