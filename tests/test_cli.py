"""The command line (PRODUCT 6): init, plan load/show, demo, -w anywhere, messages pinned, help."""

from __future__ import annotations

import dataclasses
import json
import os
import pty
import random
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import click
import openpyxl
import pytest

from helpers import (
    SEED_ASSIGNMENTS,
    SEED_IDS,
    SEED_PLAN,
    Table,
    lead_support_table,
    read_sample_csv,
    sample_unit_rows,
    seed_rows,
    seed_table,
    write_csv,
    write_docx,
    write_registry,
    write_xlsx,
)
from pipeline.cli import PARAM_WORDS, cli
from pipeline.errors import PeriodError
from pipeline import cycle
from pipeline.fill import Filling, fill_template, sample_answer
from pipeline import ledger as ledger_module
from pipeline.ledger import Ledger
from pipeline.periods import check_period
from pipeline.plan import read_plan, read_raw
from pipeline.units import read_registry
from pipeline.workspace import NAME_UNITS, Workspace, safe_file_name, unit_file_name

ROLES = {"牵头", "负责", "分别负责", "配合"}
TITLED_BY_CONFIG = ("计划表的表格上方没有标题行，计划名称按 配置.toml 确定；要改名称，请修改其中 [plan] 下的 title，"
                    "或在计划表的表格上方加一行标题。")
ADVICE = "请在单位名录中补充该单位、别名或分组的引用写法，或改正计划表中的写法。"


def run(runner, *args: object, code: int = 0):
    result = runner.invoke(cli, [str(arg) for arg in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


@pytest.fixture
def loaded(workspace, runner):
    """A workspace with the seed plan loaded."""
    run(runner, "-w", workspace, "plan", "load", SEED_PLAN)
    return workspace


@pytest.fixture(scope="module")
def seed_version(registry):
    return read_plan(SEED_PLAN, registry).version


def unknown_names_plan(path):
    table = Table(3)
    table.add_row(["工作任务", "具体要求", "责任单位"])
    table.add_row(["（一）公开", "1.甲。", "市不存在局牵头，市有关单位负责"])
    table.add_row(["", "2.乙。", "市财政局、市重点单位（见附件3）分别负责"])
    return write_csv(path, table)


# ---------------------------------------------------------------------------- init


def test_init_makes_a_workspace(tmp_path, runner):
    root = tmp_path / "新工作区"
    result = run(runner, "init", root, "--city", "青州市")
    assert result.stdout.splitlines()[0] == f"已创建工作区：{root}"
    assert (root / "单位名录.xlsx").is_file()
    assert (root / "input" / SEED_PLAN.name).read_bytes() == SEED_PLAN.read_bytes()
    assert 'city = "青州市"' in (root / "配置.toml").read_text(encoding="utf-8")


def test_init_refuses_a_folder_that_is_not_empty(tmp_path, runner):
    root = tmp_path / "已有"
    root.mkdir()
    (root / "别动.txt").write_text("原有内容", encoding="utf-8")
    result = run(runner, "init", root, code=1)
    assert result.stderr == f"错误：{root} 已存在且不是空目录，为避免覆盖，未创建工作区。请换一个新目录。\n"
    assert result.stdout == ""
    assert [path.name for path in root.iterdir()] == ["别动.txt"]


@pytest.mark.parametrize("args, message", [
    (["init", "{file}"], "错误：{file} 已存在且不是空目录，为避免覆盖，未创建工作区。请换一个新目录。"),
    (["demo", "{file}"], "错误：{file} 已存在且不是示例工作区，为避免覆盖，未运行示例。请换一个目录。"),
    (["-w", "{file}", "plan", "show"], "错误：{file} 不是报送工作区（缺少 配置.toml）。"
                                       "请先运行 pipeline init 目录 创建工作区，或用 -w 指定工作区目录。"),
    (["-w", "{ws}", "check", "{missing}"], "错误：找不到要检查的文件：{missing}。请确认文件名和所在文件夹。"),
    (["-w", "{ws}", "check", "{folder}"], "错误：找不到要检查的文件：{folder}。请确认文件名和所在文件夹。"),
    (["-w", "{ws}", "check", "{zip}"], "错误：邮件.zip 是压缩包或邮件，pipeline check 只检查单个填报表。请取出其中的填报表再检查；"
                                     "放进报送期文件夹后运行 pipeline collect 时，其中的每个文件都会被取出并检查。"),
    (["-w", "{ws}", "plan", "load", str(SEED_PLAN), "--units", "{folder}"],
     "错误：找不到单位名录文件：{folder}。请用 --units 指定单位名录 .xlsx 文件。"),
])
def test_a_path_of_the_wrong_kind_is_a_chinese_error_naming_it(workspace, runner, tmp_path, args, message):
    names = {"file": tmp_path / "一个文件.txt", "missing": tmp_path / "无.xlsx", "folder": tmp_path, "ws": workspace,
             "zip": tmp_path / "邮件.zip"}
    names["file"].write_text("内容", encoding="utf-8")
    names["zip"].write_bytes(b"PK\x05\x06" + bytes(18))
    result = run(runner, *(arg.format(**names) for arg in args), code=1)
    assert result.stderr == message.format(**names) + "\n"
    assert names["file"].read_text(encoding="utf-8") == "内容"


def test_init_into_an_empty_folder(tmp_path, runner):
    (tmp_path / "空").mkdir()
    run(runner, "init", tmp_path / "空")
    assert (tmp_path / "空" / "配置.toml").is_file()


def test_init_writes_the_bundled_sample_registry(workspace, registry):
    """The same units and groups as the sample CSV the tests read, each marked 示例."""
    written = read_registry(workspace / "单位名录.xlsx")
    assert written.units == registry.units
    assert written.groups == registry.groups
    assert all("示例" in unit["备注"] for unit in read_sample_csv("单位名录"))


# ---------------------------------------------------------------------------- plan load


def test_plan_load_the_seed(workspace, runner, seed_version):
    result = run(runner, "-w", workspace, "plan", "load", SEED_PLAN)
    assert result.stdout == (
        f"已加载计划“2018年政务公开工作要点”（版本 {seed_version}）：19 项任务，涉及 48 个单位。\n"
        f"{TITLED_BY_CONFIG}\n"
        f"任务分解表：{workspace / 'output' / '任务分解表.xlsx'}\n"
    )
    with Ledger(workspace / "ledger.sqlite") as ledger:
        assert ledger.current_version() == seed_version
        plan = ledger.plan()
    assert [task.id for task in plan.tasks][:3] == ["1-1", "1-2", "1-3"]
    # Known by its stored version, which is what its content hashes to.
    assert plan.version == seed_version == dataclasses.replace(plan).version


def test_the_seed_retyped_in_word_is_the_same_plan(loaded, runner, tmp_path, seed_version):
    retyped = write_docx(tmp_path / "工作要点.docx", seed_table(retyped=True))
    result = run(runner, "-w", loaded, "plan", "load", retyped)
    assert result.stdout.startswith(f"计划内容未变，沿用计划“2018年政务公开工作要点”（版本 {seed_version}）：19 项任务")


def test_plan_load_with_unknown_names_lists_every_one(workspace, runner, tmp_path):
    plan = unknown_names_plan(tmp_path / "未知.csv")
    result = run(runner, "-w", workspace, "plan", "load", plan, code=1)
    assert result.stderr == (
        "错误：计划表 未知.csv 有 2 处问题，未加载：\n"
        f"  - 第2行：单位名录中没有“市不存在局”（原文：市不存在局牵头，市有关单位负责）。{ADVICE}\n"
        f"  - 第3行：单位名录中没有“市重点单位(见附件3)”（原文：市财政局、市重点单位（见附件3）分别负责）。"
        f"您是不是指“重点领域相关单位”或“市有关单位”？{ADVICE}\n"
    )
    assert result.stdout == ""
    assert not (workspace / "output" / "任务分解表.xlsx").exists()
    shown = run(runner, "-w", workspace, "plan", "show", code=1)
    assert shown.stderr == "错误：工作区还没有加载计划。请先运行 pipeline plan load 计划表文件。\n"


def test_plan_load_suggests_the_registry_names_closest_to_an_unknown_one(workspace, runner, tmp_path):
    table = Table(3)
    table.add_row(["工作任务", "具体要求", "责任单位"])
    table.add_row(["（一）公开", "1.甲。", "市人社局牵头，市文广局、市扶贫开发办、市财正局负责"])
    result = run(runner, "-w", workspace, "plan", "load", write_csv(tmp_path / "简称.csv", table), code=1)
    text = "（原文：市人社局牵头，市文广局、市扶贫开发办、市财正局负责）。"
    assert result.stderr == (  # 市人社局 is a registry alias; a shorter abbreviation, a longer name and a slip
        "错误：计划表 简称.csv 有 3 处问题，未加载：\n"
        f"  - 第2行：单位名录中没有“市文广局”{text}您是不是指“市文化广电新闻出版局”？{ADVICE}\n"
        f"  - 第2行：单位名录中没有“市扶贫开发办”{text}您是不是指“市扶贫办”？{ADVICE}\n"
        f"  - 第2行：单位名录中没有“市财正局”{text}您是不是指“市财政局”？{ADVICE}\n"
    )


@pytest.mark.parametrize("command", [["plan", "show"], ["plan", "load", SEED_PLAN]])
def test_a_missing_workspace(tmp_path, runner, command):
    missing = tmp_path / "没有"
    result = run(runner, *command, "-w", missing, code=1)
    assert result.stderr == (
        f"错误：{missing.resolve()} 不是报送工作区（缺少 配置.toml）。"
        "请先运行 pipeline init 目录 创建工作区，或用 -w 指定工作区目录。\n"
    )


def test_the_workspace_defaults_to_the_current_directory(tmp_path, runner, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(runner, "plan", "show", code=1)
    assert result.stderr.startswith(f"错误：{tmp_path.resolve()} 不是报送工作区（缺少 配置.toml）。")
    run(runner, "init", ".")
    run(runner, "plan", "load", Path("input") / SEED_PLAN.name)
    assert Path(tmp_path, "output", "任务分解表.xlsx").is_file()


def test_plan_load_a_missing_file(workspace, runner, tmp_path):
    result = run(runner, "-w", workspace, "plan", "load", tmp_path / "无.xlsx", code=1)
    assert result.stderr == f"错误：找不到计划表文件：{tmp_path / '无.xlsx'}。\n"


def test_plan_load_replaces_only_when_asked(loaded, runner, tmp_path, seed_version):
    again = run(runner, "-w", loaded, "plan", "load", SEED_PLAN)
    assert again.stdout.startswith(f"计划内容未变，沿用计划“2018年政务公开工作要点”（版本 {seed_version}）：19 项任务")

    other = write_csv(tmp_path / "分工.csv", lead_support_table())
    refused = run(runner, "-w", loaded, "plan", "load", other, code=1)
    new_version = re.search(r"新计划内容不同（版本 (\w+)）", refused.stderr).group(1)
    assert refused.stderr == (
        f"错误：工作区已加载计划（版本 {seed_version}，19 项任务），新计划内容不同（版本 {new_version}）。"
        "如确需换成新计划，请加 --replace 重新加载。\n"
    )
    assert json.loads(run(runner, "-w", loaded, "plan", "show", "--json").stdout)["plan_version"] == seed_version

    replaced = run(runner, "-w", loaded, "plan", "load", other, "--replace")
    assert replaced.stdout.startswith(f"已加载计划“2019年政务公开重点工作任务分工”（版本 {new_version}）：7 项任务")
    shown = json.loads(run(runner, "-w", loaded, "plan", "show", "--json").stdout)
    assert shown["plan_version"] == new_version
    assert [task["id"] for task in shown["tasks"]] == ["1-1", "1-2", "2-1", "2-2", "2-3", "3-1", "3-2"]
    with Ledger(loaded / "ledger.sqlite") as ledger:
        assert len(ledger.plan(seed_version).tasks) == 19  # the old plan stays for templates issued from it

    back = run(runner, "-w", loaded, "plan", "load", SEED_PLAN, code=1)
    assert f"工作区已加载计划（版本 {new_version}，7 项任务）" in back.stderr


def test_plan_load_with_another_registry(workspace, runner, tmp_path):
    units = sample_unit_rows() + [["S099", "市档案局", "", "附件1市有关单位", "", "", ""]]
    registry = write_registry(tmp_path / "新名录.xlsx", units=units)
    table = Table(3)
    table.add_row(["序号", "具体要求", "责任单位"])
    table.add_row(["1", "公开档案目录。", "市档案局负责"])
    plan = write_csv(tmp_path / "档案.csv", table)

    refused = run(runner, "-w", workspace, "plan", "load", plan, code=1)
    assert "单位名录中没有“市档案局”" in refused.stderr
    loaded = run(runner, "-w", workspace, "plan", "load", plan, "--units", registry)
    assert "1 项任务，涉及 1 个单位。" in loaded.stdout
    assert (workspace / "单位名录.xlsx").read_bytes() == registry.read_bytes()


def test_plan_load_with_a_bad_registry(workspace, runner, tmp_path):
    registry = write_registry(tmp_path / "坏名录.xlsx", units=[["A1", "市甲局"], ["A1", "市乙局"]], groups=[])
    result = run(runner, "-w", workspace, "plan", "load", SEED_PLAN, "--units", registry, code=1)
    assert result.stderr == (
        "错误：单位名录 坏名录.xlsx 有 1 处问题，请修改后重新加载：\n"
        "  - 单位名录!第3行：单位编码“A1”重复（第2行已使用）。请改为唯一编码。\n"
    )
    assert len(read_registry(workspace / "单位名录.xlsx").units) == 48


# ---------------------------------------------------------------------------- plan show


def test_plan_show_json_is_the_contract(loaded, runner, seed_version):
    result = run(runner, "-w", loaded, "plan", "show", "--json")
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert set(document) == {"plan_version", "tasks"}
    assert document["plan_version"] == seed_version
    codes = {unit["单位名称"]: unit["单位编码"] for unit in read_sample_csv("单位名录")}
    ids = []
    for task in document["tasks"]:
        assert set(task) == {"id", "category", "requirement", "deadline", "units"}
        assert re.fullmatch(r"[1-9]\d*-[1-9]\d*", task["id"])
        assert isinstance(task["category"], str) and isinstance(task["requirement"], str)
        assert task["deadline"] is None
        for unit in task["units"]:
            assert set(unit) == {"code", "name", "role"}
            assert unit["role"] in ROLES
            assert codes[unit["name"]] == unit["code"]
        assert len({unit["code"] for unit in task["units"]}) == len(task["units"])
        ids.append(task["id"])
    assert ids == SEED_IDS
    by_id = {task["id"]: {(unit["name"], unit["role"]) for unit in task["units"]} for task in document["tasks"]}
    for task_id, expected in SEED_ASSIGNMENTS.items():
        assert by_id[task_id] == expected, task_id
    first = document["tasks"][0]
    assert first["category"] == "围绕建设法治政府全面推进政务公开"
    assert first["requirement"].startswith("政府全体会议和常务会议讨论决定的事项")


def test_plan_show_json_deadlines(workspace, runner, tmp_path):
    run(runner, "-w", workspace, "plan", "load", write_csv(tmp_path / "分工.csv", lead_support_table()))
    tasks = json.loads(run(runner, "-w", workspace, "plan", "show", "--json").stdout)["tasks"]
    assert [task["deadline"] for task in tasks] == [
        "2019年6月底前", "2019年9月30日", "2019-08-31", "2019-08-31", "每季度末", "持续推进", "年内"
    ]
    assert {(u["name"], u["role"]) for u in tasks[0]["units"]} == {
        ("市政府办公室", "牵头"), ("市法制局", "配合"), ("市发展改革局", "配合")
    }


def test_plan_show_text(loaded, runner, seed_version):
    lines = run(runner, "-w", loaded, "plan", "show").stdout.splitlines()
    assert lines[0] == f"2018年政务公开工作要点（版本 {seed_version}，19 项任务）"
    assert lines[1] == f"计划表：2018年政务公开工作要点.txt（{read_raw(SEED_PLAN).layout}）"
    assert lines[1].startswith("计划表：2018年政务公开工作要点.txt（表格：表头在第1行")
    assert lines[3] == "1. 围绕建设法治政府全面推进政务公开"
    two_two = lines.index(next(line for line in lines if line.startswith("  [2-2] ")))
    assert lines[two_two + 1] == "        牵头（2）：市发展改革局、市政管办"
    responsible = sum(role == "负责" for _, role in SEED_ASSIGNMENTS["2-2"])
    assert lines[two_two + 2].startswith(f"        负责（{responsible}）：")
    assert lines[two_two + 3] == f"        原文：{seed_rows()[6].responsibility}"  # the text the units were read from
    assert [line for line in lines if line.startswith("        原文：")] == [
        f"        原文：{row.responsibility}" for row in seed_rows()]
    two_five = lines.index(next(line for line in lines if line.startswith("  [2-5] ")))
    assert lines[two_five + 1] == "        分别负责（4）：市民政局、市环境保护局、市食品药品监管局、市扶贫办"
    assert sum(line.startswith("  [") for line in lines) == 19


def test_plan_show_json_with_the_source_text(loaded, runner, seed_version):
    document = json.loads(run(runner, "-w", loaded, "plan", "show", "--json", "--source-text").stdout)
    assert document["plan_version"] == seed_version
    assert {key: document[key] for key in ("title", "source", "layout")} == {
        "title": "2018年政务公开工作要点", "source": "2018年政务公开工作要点.txt", "layout": read_raw(SEED_PLAN).layout}
    assert [task["responsibility"] for task in document["tasks"]] == [row.responsibility for row in seed_rows()]
    contract = json.loads(run(runner, "-w", loaded, "plan", "show", "--json").stdout)
    assert [{key: task[key] for key in contract["tasks"][0]} for task in document["tasks"]] == contract["tasks"]


def test_a_ledger_from_before_the_layout_was_recorded_still_opens(loaded, runner, seed_version):
    with sqlite3.connect(loaded / "ledger.sqlite") as db:  # as the ledger was before the column came
        db.execute("ALTER TABLE plans DROP COLUMN layout")
        db.execute(f"PRAGMA user_version = {ledger_module.SCHEMA_VERSION - 1}")
    lines = run(runner, "-w", loaded, "plan", "show").stdout.splitlines()
    assert lines[:2] == [f"2018年政务公开工作要点（版本 {seed_version}，19 项任务）", "计划表：2018年政务公开工作要点.txt"]
    again = run(runner, "-w", loaded, "plan", "load", SEED_PLAN)  # the layout is no part of the version
    assert again.stdout.startswith(f"计划内容未变，沿用计划“2018年政务公开工作要点”（版本 {seed_version}）")
    assert run(runner, "-w", loaded, "plan", "show").stdout.splitlines()[1].endswith(f"（{read_raw(SEED_PLAN).layout}）")


def test_plan_show_text_with_deadlines(workspace, runner, tmp_path):
    run(runner, "-w", workspace, "plan", "load", write_csv(tmp_path / "分工.csv", lead_support_table()))
    lines = run(runner, "-w", workspace, "plan", "show").stdout.splitlines()
    first = lines.index("  [1-1] 制定重大行政决策事项目录并向社会公开。")
    assert lines[first + 1 : first + 4] == [
        "        完成时限：2019年6月底前",
        "        牵头（1）：市政府办公室",
        "        配合（2）：市发展改革局、市法制局",
    ]


@pytest.mark.parametrize(
    "order",
    [
        ["-w", "{ws}", "plan", "show", "--json"],
        ["plan", "-w", "{ws}", "show", "--json"],
        ["plan", "show", "-w", "{ws}", "--json"],
        ["plan", "show", "--json", "--workspace", "{ws}"],
    ],
)
def test_workspace_option_before_or_after_the_subcommand(loaded, runner, seed_version, order):
    result = run(runner, *[str(loaded) if arg == "{ws}" else arg for arg in order])
    assert json.loads(result.stdout)["plan_version"] == seed_version


def test_workspace_option_after_plan_load(workspace, runner):
    run(runner, "plan", "load", SEED_PLAN, "-w", workspace)
    assert (workspace / "output" / "任务分解表.xlsx").is_file()


# ---------------------------------------------------------------------------- the breakdown workbook


def table_rows(sheet, first_label: str) -> tuple[list[str], list[tuple]]:
    """The header (found by its first label) and the data rows under it."""
    rows = list(sheet.iter_rows(values_only=True))
    header = next(index for index, row in enumerate(rows) if row[0] == first_label)
    return list(rows[header]), [row for row in rows[header + 1 :] if any(v is not None for v in row)]


def test_breakdown_workbook(loaded, runner):
    document = json.loads(run(runner, "-w", loaded, "plan", "show", "--json").stdout)
    workbook = openpyxl.load_workbook(loaded / "output" / "任务分解表.xlsx")
    assert workbook.sheetnames == ["任务清单", "单位任务数", "任务分工"]
    assert [sheet.sheet_state for sheet in workbook] == ["visible", "visible", "hidden"]  # kept to filter, not printed

    sheet = workbook["任务清单"]
    assert sheet["A1"].value == "2018年政务公开工作要点 任务分解表"
    layout = read_raw(SEED_PLAN).layout
    assert sheet["A2"].value.startswith(f"来源：2018年政务公开工作要点.txt　{layout}　计划版本：{document['plan_version']}")
    header, tasks = table_rows(sheet, "任务编号")
    assert header == ["任务编号", "工作任务", "具体要求", "责任单位", "责任单位（计划原文）", "完成时限"]
    assert [row[0] for row in tasks] == [task["id"] for task in document["tasks"]]
    assert len(tasks) == 19
    for row, task, seed in zip(tasks, document["tasks"], seed_rows()):  # every unit, under its role
        roles = {line.partition("：")[0]: line.partition("：")[2] for line in row[3].split("\n")}
        for role in {unit["role"] for unit in task["units"]}:
            names = [unit["name"] for unit in task["units"] if unit["role"] == role]
            assert roles[role] in ("、".join(names), f"共 {len(names)} 个单位")
        assert row[4] == seed.responsibility  # beside the plan's words they were read from

    header, assignments = table_rows(workbook["任务分工"], "任务编号")
    assert header[:4] == ["任务编号", "单位编码", "单位名称", "本单位职责"]
    expected = [(t["id"], u["code"], u["name"], u["role"]) for t in document["tasks"] for u in t["units"]]
    assert [tuple(row[:4]) for row in assignments] == expected
    assert len(assignments) == sum(len(task["units"]) for task in document["tasks"])

    header, counts = table_rows(workbook["单位任务数"], "单位编码")
    assert header == ["单位编码", "单位名称", "牵头", "负责", "分别负责", "配合", "合计"]
    assert [row[0] for row in counts] == [unit["单位编码"] for unit in read_sample_csv("单位名录")]
    by_code = {row[0]: row for row in counts}
    # 市政管办: 2-2 牵头; 2-6, 3-2, 3-3 分别负责; 2-4 and the nine tasks naming 市有关单位 负责.
    assert by_code["S035"][1:] == ("市政管办", 1, 10, 3, 0, 14)
    for code, _name, *by_role, total in counts:
        roles = [u["role"] for t in document["tasks"] for u in t["units"] if u["code"] == code]
        assert by_role == [roles.count(role) for role in ("牵头", "负责", "分别负责", "配合")]
        assert total == len(roles)

    for sheet in workbook.worksheets:  # the narrow 单位任务数 portrait, the others landscape
        assert sheet.page_setup.orientation == ("portrait" if sheet.title == "单位任务数" else "landscape")
        assert sheet.page_setup.paperSize == 9
        assert sheet.print_title_rows


# ---------------------------------------------------------------------------- demo


def test_demo(tmp_path, runner):
    root = tmp_path / "示例"
    result = run(runner, "demo", root)
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"示例工作区：{root.resolve()}",
        "计划：2018年政务公开工作要点，19 项任务，单位名录 48 个单位",
        f"任务分解表：{(root / 'output' / '任务分解表.xlsx').resolve()}",
    ]
    assert (root / "output" / "任务分解表.xlsx").is_file()
    assert run(runner, "demo", root).stdout == result.stdout  # an earlier demo folder is replaced


def test_demo_refuses_a_folder_that_is_not_a_demo(tmp_path, runner):
    (tmp_path / "资料").mkdir()
    (tmp_path / "资料" / "计划.docx").write_bytes(b"")
    result = run(runner, "demo", tmp_path / "资料", code=1)
    assert result.stderr == f"错误：{tmp_path / '资料'} 已存在且不是示例工作区，为避免覆盖，未运行示例。请换一个目录。\n"
    assert [p.name for p in (tmp_path / "资料").iterdir()] == ["计划.docx"]


def test_demo_defaults_to_a_folder_in_the_current_directory(tmp_path, runner, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run(runner, "demo")
    assert Path(tmp_path, "示例工作区", "output", "任务分解表.xlsx").is_file()


# ---------------------------------------------------------------------------- file names from units

ODD_NAME = "../..\\甲/局.."
LONG_NAME = "很长的单位名称" * 40 + "局"
RARE_NAME = "𠀀𪚥" * 150  # beyond the basic plane: 4 bytes in UTF-8, 2 UTF-16 code units each
RARE_CODE = "D3-" + "x" * 29  # as long as a code may be
# Each unit: code, name, the status its file gives (a mistyped one is returned), the file's name.
NAMED_UNITS = [("D1", ODD_NAME, "完成", "D1.xlsx"), ("D2", LONG_NAME, "已完成", "D2.xlsx"),
               (RARE_CODE, RARE_NAME, "完成", "D3.xlsx"), ("D4", "ABC", "已完成", "ABC.xlsx"),
               ("D5", "abc", "已完成", "abc.xlsx")]
RETURNED_FOLDERS = ["催报通知", "反馈", "填报模板", "退回通知", "邮件/下发", "邮件/催报", "邮件/退回"]
ACCEPTED_FOLDERS = ["反馈", "填报模板", "邮件/下发"]


def utf16_units(text: str) -> int:
    """How Windows counts a path's length."""
    return len(text.encode("utf-16-le")) // 2


def test_files_named_for_units_stay_in_their_folders_whatever_the_names(tmp_path, runner, monkeypatch):
    """Odd, very long, rare-character and case-only-different unit names: every file stays in its
    folder, every path below the workspace (staging folders too) is at most 120 UTF-16 units, every
    name at most 255 bytes, and no two names in a folder differ only in case."""
    root = tmp_path / "ws"
    run(runner, "init", root)
    write_registry(root / "单位名录.xlsx", groups=[], units=[
        [code, name, "", "", "张三", "1", f"u{n}@example.gov.cn"] for n, (code, name, _, _) in enumerate(NAMED_UNITS)])
    everyone = "、".join(name for _, name, _, _ in NAMED_UNITS)
    plan = root / "input" / "计划.csv"
    plan.write_text(f'工作任务,具体要求,责任单位\n(一)公开,1.甲。,"{everyone}负责"\n,2.乙。,{ODD_NAME}负责\n',
                    encoding="utf-8")
    run(runner, "-w", root, "plan", "load", plan)
    seen: set[Path] = set()  # every path in a folder the product removes: staging folders, replaced outputs
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):
        seen.update(Path(path).rglob("*"))
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", rmtree)
    for _ in range(2):  # the second time, each output replaces the first's
        run(runner, "-w", root, "templates", "2018-06")
    workspace = Workspace.open(root)
    spec, out = workspace.spec(), root / "output" / "2018-06"
    for code, _name, status, sent_as in NAMED_UNITS:
        [template] = (out / "填报模板").glob(f"{code}_*")
        answers = {task: {"完成状态": status, "完成进度(%)": 100, "工作进展情况": "已公开。"}
                   for task in (("1-1", "1-2") if code == "D1" else ("1-1",))}
        fill_template(template, root / "input" / "2018-06" / sent_as, spec,
                      Filling({"填报人": "张三", "联系电话": "0000-5550000", "报送日期": "2018-06-20"}, answers))
    for _ in range(2):
        collected = run(runner, "-w", root, "collect", "2018-06", "--json")
        run(runner, "-w", root, "remind", "2018-06")
        run(runner, "-w", root, "report", "2018-06")
    assert {f["file"]: f["status"] for f in json.loads(collected.stdout)["files"]} == {
        sent_as: "returned" if status == "完成" else "accepted" for _, _, status, sent_as in NAMED_UNITS}

    assert [p.name for p in tmp_path.iterdir()] == ["ws"]
    files = [p for p in out.rglob("*") if p.is_file()]
    by_unit = sorted((p.parent.relative_to(out).as_posix(), code) for p in files for code, *_ in NAMED_UNITS
                     if p.name.startswith(f"{code}_"))
    assert by_unit == sorted((folder, code) for code, _, status, _ in NAMED_UNITS
                             for folder in (RETURNED_FOLDERS if status == "完成" else ACCEPTED_FOLDERS))
    assert all(p.name.startswith("D1_.._.._甲_局.._") for p in files if p.name.startswith("D1_"))
    long = [p.name for p in files if p.name.startswith(("D2_", RARE_CODE))]
    assert long and all(re.fullmatch(r"(D2_很长的单位名称[很长的单位名称]+|D3-x+_(𠀀𪚥)+𠀀?)_"
                                     r"(2018-06\.xlsx|2018-06反馈\.xlsx|(退回修改通知|催报通知)\.docx|(下发|退回|催报)\.eml)",
                                     name) for name in long), long
    paths = [p.relative_to(root).as_posix() for p in {*seen, *root.rglob("*")} if p.is_relative_to(root)]
    assert any(".~写入中-templates" in path and "邮件/下发/D" in path for path in paths)  # the longest kind
    assert max(map(utf16_units, paths)) <= 120
    assert max(len(part.encode()) for path in paths for part in path.split("/")) <= 255
    for folder in {p.parent for p in files}:
        names = [p.name.casefold() for p in folder.iterdir()]
        assert len(set(names)) == len(names), folder  # Windows compares names ignoring case


@pytest.mark.parametrize("name, safe", [
    (".", "_"), ("..", "_"), (" .. ", "_"), ("", "_"), ("../..", "_"), ("..\\..\\x", "_.._x"),
    ("a/b:c*?<>|\"d", "a_b_c______d"), ("单位. ", "单位"), ("单\t位\x00\x1f", "单_位__"),
    # Windows keeps these names for devices, in any case, with any extension, before spaces and dots
    ("CON", "_CON"), ("con.xlsx", "_con.xlsx"), ("Nul.txt", "_Nul.txt"), ("aux . ", "_aux"),
    ("PRN .tar.gz", "_PRN .tar.gz"), ("com1", "_com1"), ("LPT9.docx", "_LPT9.docx"), ("COM¹.eml", "_COM¹.eml"),
    ("CONOUT$", "_CONOUT$"), ("NUL:", "NUL_"),
    ("CONTRACT.xlsx", "CONTRACT.xlsx"), ("COM10", "COM10"), ("nul_2018-06.xlsx", "nul_2018-06.xlsx"),
])
def test_a_file_name_made_from_a_name_is_never_a_path(name, safe):
    assert safe_file_name(name) == safe


@pytest.mark.parametrize("name", ["长" * 300, "长" * 300 + ".xlsx", "𠀀" * 300, "a" + "𠀀" * 300, "a" * 77 + " . x",
                                  "CON." + "长" * 300])
def test_a_long_name_is_cut_to_fit_windows_and_linux(name):
    safe = safe_file_name(name)
    assert utf16_units(safe) <= NAME_UNITS == 78 and len(safe.encode()) <= 255
    assert name.startswith(safe.removeprefix("_")) and not safe.endswith((" ", "."))


@pytest.mark.parametrize("code, name", [("S009", "长" * 300), ("X" * 32, "长" * 300), ("X" * 32, "𠀀" * 300),
                                        ("S1", "abc" + "𠀀" * 300)])
def test_a_unit_file_name_keeps_the_code_and_what_the_file_is(code, name):
    for tail in ("2018-06.xlsx", "2018-06反馈.xlsx", "退回修改通知.docx", "催报.eml"):
        made = unit_file_name(code, name, tail)
        assert made.startswith(f"{code}_{name[:10]}") and made.endswith(f"_{tail}")
        assert name.startswith(made[len(code) + 1:-len(tail) - 1])
        assert NAME_UNITS - 1 <= utf16_units(made) <= NAME_UNITS and len(made.encode()) <= 255


# ---------------------------------------------------------------------------- help


def walk(group: click.Group, path: list[str]):
    for name, command in group.commands.items():
        yield path + [name], command
        if isinstance(command, click.Group):
            yield from walk(command, path + [name])


COMMANDS = list(walk(cli, []))


def test_the_contract_commands_exist():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"init", "plan", "plan load", "plan show", "templates", "collect", "check", "report", "merge",
            "demo"} <= names


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_every_command_has_help(runner, path, command):
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
    if not isinstance(command, click.Group):
        assert "例：" in command.help, f"{' '.join(path)} has no example"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help text"
    result = run(runner, *path, "--help")
    assert command.help[:10] in result.stdout
    assert "-w, --workspace" in result.stdout


def test_python_dash_m_runs_the_same_cli(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "--help"], capture_output=True, encoding="utf-8", check=True, cwd=tmp_path
    )
    assert "plan" in result.stdout and "-w, --workspace" in result.stdout


def test_the_top_level_help(runner):
    result = run(runner, "--help")
    assert "政务公开任务进展报送" in result.stdout
    assert "-w, --workspace" in result.stdout


def run_with_terminal(*args: object) -> tuple[str, str]:
    """Run the CLI with stderr on a pseudo-terminal, as a clerk's window is: (stdout, terminal text)."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "pipeline", *map(str, args)], stdout=subprocess.PIPE,
                               stderr=slave, env={**os.environ, "COLUMNS": "100"})
    os.close(slave)
    seen = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal closed with the process
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    stdout, _ = process.communicate(timeout=300)
    reader.join(timeout=30)
    os.close(master)
    assert process.returncode == 0, seen.decode("utf-8", "replace")
    return stdout.decode("utf-8"), seen.decode("utf-8", "replace")


def test_progress_bars_show_on_a_terminal_and_never_under_json(loaded, runner):
    _, terminal = run_with_terminal("-w", loaded, "templates", "2018-06")
    assert "生成填报模板" in terminal
    shutil.copytree(loaded / "output" / "2018-06" / "填报模板", loaded / "input" / "2018-06")  # sent back blank
    _, terminal = run_with_terminal("-w", loaded, "merge", "2018-06")
    assert "读取报送文件" in terminal and "生成汇总报告和反馈表" in terminal
    stdout, terminal = run_with_terminal("-w", loaded, "collect", "2018-06", "--json")
    assert "读取报送文件" not in terminal and json.loads(stdout)["period"] == "2018-06"
    # Not a terminal (a log file, another program): no bar.
    result = run(runner, "-w", loaded, "templates", "2018-06")
    assert "生成填报模板" not in result.output


@pytest.mark.parametrize("args, message", [
    (["collect"], "错误：缺少参数：月份（PERIOD），例如 pipeline collect 2018-06\n"
                  "请运行 pipeline collect --help 查看用法。"),
    (["templates"], "错误：缺少参数：月份（PERIOD），例如 pipeline templates 2018-06\n"
                    "请运行 pipeline templates --help 查看用法。"),
    (["plan", "load"], "错误：缺少参数：计划表文件（PLAN_FILE），例如 pipeline plan load input/2018年政务公开工作要点.txt\n"
                       "请运行 pipeline plan load --help 查看用法。"),
    (["init"], "错误：缺少参数：工作区目录（DIRECTORY），例如 pipeline init 报送工作区 --city 示例市\n"
               "请运行 pipeline init --help 查看用法。"),
    (["check"], "错误：缺少参数：要检查的文件（FILE），例如 pipeline check 市财政局_2018-06.xlsx\n"
                "请运行 pipeline check --help 查看用法。"),
    (["colect", "2018-06"], "错误：没有“colect”这个命令。您是不是要找 pipeline collect？\n请运行 pipeline --help 查看用法。"),
    (["template", "2018-06"], "错误：没有“template”这个命令。您是不是要找 pipeline templates？\n"
                              "请运行 pipeline --help 查看用法。"),
    (["plan", "lod", "计划.xlsx"], "错误：没有“lod”这个命令。您是不是要找 pipeline plan load？\n"
                                  "请运行 pipeline plan --help 查看用法。"),
    (["ledger", "chek"], "错误：没有“chek”这个命令。您是不是要找 pipeline ledger check？\n"
                         "请运行 pipeline ledger --help 查看用法。"),
    (["汇总"], "错误：没有“汇总”这个命令。\n请运行 pipeline --help 查看用法。"),
    (["-w", "."], "错误：缺少命令。可用的命令有 check、collect、demo、init、ledger、merge、plan、remind、report、serve、"
                  "templates、units。\n请运行 pipeline --help 查看用法。"),
    (["units", "draft"], "错误：缺少参数：计划表文件（PLAN_FILE），例如 pipeline units draft input/2018年政务公开工作要点.txt\n"
                         "请运行 pipeline units draft --help 查看用法。"),
    (["plan", "show", "--jsn"], "错误：没有 --jsn 这个选项。您是不是要找 --json？\n请运行 pipeline plan show --help 查看用法。"),
    (["templates", "2018-06", "多余"], "错误：多余的参数：多余。\n请运行 pipeline templates --help 查看用法。"),
    (["-w"], "错误：选项 -w（工作区目录）后面要写一个值。\n请运行 pipeline --help 查看用法。"),
    (["plan", "load", "计划.xlsx", "--units"], "错误：选项 --units（单位名录文件）后面要写一个值。\n"
                                              "请运行 pipeline plan load --help 查看用法。"),
    (["plan", "show", "--json=是"], "错误：选项 --json（以 JSON 输出）后面不用写值。\n请运行 pipeline plan show --help 查看用法。"),
    (["plan", "show", "--help=是"], "错误：选项 --help 后面不用写值。\n请运行 pipeline plan show --help 查看用法。"),
    (["templates", "2018-13"], "错误：月份（PERIOD）：“2018-13”不是一个月份。请写成 年-月，例如 2018-06"
                               "（也可以写 2018-6 或 2018年6月）。\n请运行 pipeline templates --help 查看用法。"),
    (["merge", "六月"], "错误：月份（PERIOD）：“六月”不是一个月份。请写成 年-月，例如 2018-06"
                        "（也可以写 2018-6 或 2018年6月）。\n请运行 pipeline merge --help 查看用法。"),
])
def test_a_mistyped_command_line_is_told_in_chinese(runner, args, message):
    result = run(runner, *args, code=2)
    assert result.stderr == message + "\n" and result.stdout == ""


@pytest.mark.parametrize("path, command", [([], cli), *COMMANDS], ids=["pipeline", *(" ".join(p) for p, _ in COMMANDS)])
def test_every_argument_and_option_has_a_chinese_name(path, command):
    """What a message about the command line calls them (PARAM_WORDS); Click's --help goes by its name."""
    assert {param.name for param in command.params} <= set(PARAM_WORDS), " ".join(path)


def test_help_and_version_still_exit_cleanly(runner):
    assert "计划表" in run(runner, "plan", "--help").stdout
    assert run(runner, "--version").stdout.startswith("pipeline, version ")


@pytest.mark.parametrize("args", [[], ["plan"]])
def test_a_bare_command_group_shows_its_help(runner, args):
    result = run(runner, *args, code=2)
    assert "错误" not in result.output and "Commands:" in result.output


@pytest.mark.parametrize("written", ["2018-06", "2018-6", "2018年6月", "2018年06月", "２０１８-０６", "２０１８年６月",
                                     " 2018 年 6 月 ", "2018/6", "2018.6"])
def test_a_period_written_any_usual_way_means_the_same_month(written):
    assert check_period(written) == "2018-06"


@pytest.mark.parametrize("written", ["0000-01", "2018-13", "2018-00", "六月", "201806", ""])
def test_a_period_that_is_no_month_is_refused_in_chinese(written):
    with pytest.raises(PeriodError) as caught:
        check_period(written)
    assert str(caught.value) == f"“{written}”不是一个月份。请写成 年-月，例如 2018-06（也可以写 2018-6 或 2018年6月）。"


def test_the_command_line_takes_the_period_as_written(loaded, runner):
    run(runner, "-w", loaded, "templates", "2018年6月")
    assert (loaded / "output" / "2018-06" / "填报模板").is_dir()
    assert [p.name for p in (loaded / "output").iterdir() if p.is_dir()] == ["2018-06"]


OUT_OF_YEAR = ("提醒：2019-01 不在计划年度（2018 年）内，仍按 2019-01 运行。如果月份写错了，请改正后重新运行；"
               "如果已换成新一年的计划，请修改 配置.toml 中的 year。\n")


def test_a_month_outside_the_plan_year_is_warned_of_and_the_command_runs(loaded, runner):
    result = run(runner, "-w", loaded, "templates", "2019年1月")
    assert result.stderr == OUT_OF_YEAR
    assert result.stdout.startswith("已生成 2019-01 填报模板：48 个单位")
    (loaded / "input" / "2019-01").mkdir()
    collected = run(runner, "-w", loaded, "collect", "2019-1", "--json")
    assert collected.stderr == OUT_OF_YEAR and json.loads(collected.stdout)["period"] == "2019-01"
    assert run(runner, "-w", loaded, "templates", "2018-12").stderr == ""


def test_the_plan_is_named_by_its_title_row_never_its_file_name(workspace, runner):
    """The title row names the reports; the file name names nothing."""
    plan = write_xlsx(workspace / "input" / "plan_ok.xlsx", lead_support_table())
    loaded = run(runner, "-w", workspace, "plan", "load", plan)
    assert loaded.stdout.splitlines()[0].startswith("已加载计划“2019年政务公开重点工作任务分工”（版本 ")
    assert TITLED_BY_CONFIG not in loaded.stdout
    run(runner, "-w", workspace, "templates", "2018-06")
    (workspace / "input" / "2018-06").mkdir()
    run(runner, "-w", workspace, "merge", "2018-06")
    report = openpyxl.load_workbook(workspace / "output" / "2018-06" / "汇总报告.xlsx", read_only=True)
    try:
        title = next(report.worksheets[0].iter_rows(max_row=1, values_only=True))[0]
    finally:
        report.close()
    assert title == "示例市2019年政务公开重点工作任务分工落实情况汇总报告（2018年6月）"


def test_a_plan_without_a_title_row_is_named_by_the_configuration(workspace, runner):
    table = lead_support_table()
    table.rows[0] = [None] * table.width  # no title row
    plan = write_csv(workspace / "input" / "plan_ok.csv", table)
    loaded = run(runner, "-w", workspace, "plan", "load", plan)
    assert loaded.stdout.splitlines()[:2] == [
        f"已加载计划“2018年政务公开工作要点”（版本 {read_plan(plan, read_registry(workspace / '单位名录.xlsx')).version}）"
        "：7 项任务，涉及 48 个单位。", TITLED_BY_CONFIG]
    config = workspace / "配置.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('title = "2018年政务公开工作要点"',
                                                                  'title = "2019年政务公开重点工作"'), encoding="utf-8")
    again = run(runner, "-w", workspace, "plan", "load", plan)
    assert again.stdout.startswith("计划内容未变，沿用计划“2019年政务公开重点工作”")
    assert run(runner, "-w", workspace, "plan", "show").stdout.startswith("2019年政务公开重点工作（版本 ")


# ---------------------------------------------------------------------------- the commands a clerk is shown


def run_lines(runner, lines: list[str], monkeypatch, after: dict | None = None) -> None:
    """Run command lines as a clerk types them: ``cd`` moves, ``pipeline …`` runs (``check`` too
    must pass), a ``# …`` comment is nothing; ``after`` maps a line to what happens once it has run."""
    for line in lines:
        words = shlex.split(line, comments=True)
        if words[:1] == ["cd"]:
            monkeypatch.chdir(words[1])
        elif words:
            assert words[0] == "pipeline", line
            run(runner, *words[1:])
        (after or {}).get(line.split("#")[0].strip(), lambda: None)()


@pytest.mark.parametrize("folder, typed", [("报送工作区", "报送工作区"), ("报送 工作区", '"报送 工作区"')])
def test_init_prints_the_next_commands_and_they_run(tmp_path, runner, monkeypatch, folder, typed):
    monkeypatch.chdir(tmp_path)
    result = run(runner, "init", folder)
    lines = result.stdout.splitlines()
    steps = lines[lines.index("下一步，先用示例数据试一遍：") + 1:]
    assert steps == [f"  cd {typed}",
                     f"  pipeline plan load {Path('input', SEED_PLAN.name)}", "  pipeline plan show",
                     "  pipeline templates 2018-06"]
    assert f"  计划表：{Path('input', SEED_PLAN.name)}（示例，本地计划表也放在 input 中）" in lines
    run_lines(runner, [step.strip() for step in steps], monkeypatch)
    assert len(list((tmp_path / folder / "output" / "2018-06" / "填报模板").glob("*.xlsx"))) == 48


def test_init_in_the_current_folder_needs_no_cd(tmp_path, runner, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = run(runner, "init", ".").stdout.splitlines()
    assert lines[lines.index("下一步，先用示例数据试一遍：") + 1] == f"  pipeline plan load {Path('input', SEED_PLAN.name)}"


def readme_block(heading: str) -> list[str]:
    """The lines of the first ``bash`` block under a heading of the README."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1]
    return section.split("```bash\n", 1)[1].split("```", 1)[0].splitlines()


def units_send_back(period: str, names: list[str]) -> None:
    """The named units fill in their templates (in the current workspace) and send them back,
    each as ``<unit name>.xlsx`` in input/PERIOD/."""
    workspace = Workspace.open(Path("."))
    plan, spec, rng = cycle.current_plan(workspace), workspace.spec(), random.Random(1)
    for name in names:
        code = next(a.code for t in plan.tasks for a in t.units if a.name == name)
        [template] = (workspace.period_output(period) / "填报模板").glob(f"{code}_*.xlsx")
        answers = {task.id: sample_answer(rng, spec, "序时推进") for task, _ in plan.tasks_of(code)}
        fill_template(template, workspace.input_dir / period / f"{name}.xlsx", spec,
                      Filling({"填报人": "张三", "联系电话": "0000-5550009", "报送日期": f"{period}-20"}, answers))


def test_the_readme_daily_commands_run_as_written(tmp_path, runner, monkeypatch):
    """The README's 日常使用 block, line by line, in a new folder; the units send their files back
    once the templates are out."""
    monkeypatch.chdir(tmp_path)
    lines = readme_block("日常使用")
    assert "pipeline plan load input/2018年政务公开工作要点.txt" in [line.split("#")[0].strip() for line in lines]
    run_lines(runner, lines, monkeypatch,
              after={"pipeline templates 2018-06": lambda: units_send_back("2018-06", ["市财政局", "市政府办公室"])})
    assert (tmp_path / "报送工作区" / "output" / "2018-06" / "汇总报告.xlsx").is_file()


def test_while_another_command_writes_a_reader_runs_and_a_writer_is_told_to_wait(loaded, runner, monkeypatch):
    monkeypatch.setattr(ledger_module, "BUSY_SECONDS", 0.2)
    other = sqlite3.connect(loaded / "ledger.sqlite")
    other.execute("BEGIN IMMEDIATE")  # another command in the middle of its writes
    try:
        assert run(runner, "-w", loaded, "plan", "show").stdout.startswith("2018年政务公开工作要点")
        result = run(runner, "-w", loaded, "plan", "load", SEED_PLAN, code=1)
        assert result.stderr == "错误：工作区正被另一个 pipeline 命令使用（台账已锁定）。请等那个命令结束后再运行。\n"
    finally:
        other.rollback()
        other.close()
    assert run(runner, "-w", loaded, "plan", "load", SEED_PLAN).stdout.startswith("计划内容未变")


def test_help_and_a_mistyped_command_do_not_wait_for_pandas():
    """The command line answers before the heavy stages are imported: they load when a command
    runs (cli.lazy)."""
    script = ("import sys\nfrom pipeline.cli import cli\n"
              "for args in (['--help'], ['colect']):\n"
              "    try:\n        cli(args)\n    except SystemExit:\n        pass\n"
              "print(sorted(m for m in ('pandas', 'xlsxwriter', 'docxtpl', 'openpyxl') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "没有“colect”这个命令" in done.stderr
