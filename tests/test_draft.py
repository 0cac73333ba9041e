"""A first start without a registry (issue 16): ``pipeline units draft`` drafts the 单位名录 from a
plan, and the draft, its codes changed and nothing else, loads the plan with the right roles."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from helpers import SEED_PLAN, Table, seed_rows, write_docx
from pipeline.cli import cli
from pipeline.draft import draft_registry
from pipeline.plan import RawPlan, RawTask, parse_roles
from pipeline.units import GROUP_COLUMNS, UNIT_COLUMNS, UNIT_SHEET, read_registry

DRAFT = "单位名录（草稿）.xlsx"


def run(runner, *args: object, code: int = 0):
    result = runner.invoke(cli, [str(arg) for arg in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def invented_plan(path: Path) -> Path:
    """A Word plan that names units by abbreviations and by full names, and groups of units."""
    table = Table(3)
    table.add_row(["工作任务", "具体要求", "责任单位"])
    table.add_row(["（一）做好规划信息公开", "1.公开年度发展规划。", "市发改委牵头，市环境保护局、各市直部门负责"])
    table.add_row([None, "2.公开项目审批结果。", "市发展改革委、市环保局分别负责"])
    table.add_row([None, "3.公开招生和赛事信息。", "市教育局牵头，市体育局配合"])
    table.add_row(["（二）做好基层政务公开", "1.推进基层公开标准化。", "各区县政府负责"])
    table.add_row([None, "2.开展试点。", "东湖区人民政府、西山区政府分别负责"])
    table.merges += [(1, 0, 3, 0), (4, 0, 5, 0)]
    return write_docx(path, "示例市2019年政务公开工作要点", table)


def sheet_rows(path: Path, sheet: str) -> list[dict[str, object]]:
    rows = list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def recode(path: Path, codes: dict[str, str]) -> None:
    """Put the office's own codes in the draft's 单位编码 column, as a clerk would; nothing else."""
    workbook = openpyxl.load_workbook(path)
    sheet = workbook[UNIT_SHEET]
    header = [cell.value for cell in sheet[1]]
    code_col, name_col = header.index(UNIT_COLUMNS["code"]), header.index(UNIT_COLUMNS["name"])
    for row in sheet.iter_rows(min_row=2):
        if row[name_col].value in codes:
            row[code_col].value = codes[row[name_col].value]
    workbook.save(path)


def shown_roles(runner, workspace) -> dict[str, set[tuple[str, str]]]:
    document = json.loads(run(runner, "-w", workspace, "plan", "show", "--json").stdout)
    return {task["id"]: {(unit["name"], unit["role"]) for unit in task["units"]} for task in document["tasks"]}


# ---------------------------------------------------------------------------- the round trip


def test_an_invented_plan_round_trip(workspace, runner, tmp_path):
    plan = invented_plan(tmp_path / "工作要点.docx")
    result = run(runner, "-w", workspace, "units", "draft", plan)
    draft = workspace / DRAFT
    assert result.stdout == (
        f"已起草单位名录：{draft}（6 个单位，2 个分组；2 个简称已写作全称的别名）。\n"
        "请打开草稿，按“核对提示”列核对简称和分组的成员，补上联系人、联系电话和邮箱；单位编码是建议的，"
        "可改为本单位惯用的编码。核对后加载计划：\n"
        f"  pipeline plan load {plan} --units \"{draft}\"\n"  # quoted: （） are no word characters
    )
    units = sheet_rows(draft, "单位名录")
    assert [[unit[UNIT_COLUMNS[key]] for key in ("code", "name", "aliases", "groups")] for unit in units] == [
        ["S001", "市发展改革委", "市发改委", "各市直部门"],
        ["S002", "市环境保护局", "市环保局", "各市直部门"],
        ["S003", "市教育局", None, "各市直部门"],  # 市教育局 and 市体育局: close, but two bureaus
        ["S004", "市体育局", None, "各市直部门"],
        ["X001", "东湖区人民政府", None, "各区县政府"],
        ["X002", "西山区政府", None, "各区县政府"],
    ]
    assert [unit["计划中的行"] for unit in units] == ["2、3", "2、3", "4", "4", "6", "6"]
    assert units[0]["核对提示"] == ("计划中的“市发改委”看作“市发展改革委”的简称，已写作别名。请确认是同一单位；"
                                "不是的，把它移到新的一行，填上单位编码。")
    assert all(unit["核对提示"] is None for unit in units[2:])
    groups = sheet_rows(draft, "分组")
    assert [[group[GROUP_COLUMNS["name"]], group[GROUP_COLUMNS["refs"]], group["计划中的行"]] for group in groups] == [
        ["各市直部门", "各市直部门", "2"], ["各区县政府", "各区县政府", "5"]]
    assert groups[0]["核对提示"].startswith("成员是按单位名称推测的 4 个单位（见“单位名录”的“分组”列）。请核对：")

    recode(draft, {"市发展改革委": "FGW", "市环境保护局": "HBJ", "市教育局": "JYJ", "市体育局": "TYJ",
                   "东湖区人民政府": "DH", "西山区政府": "XS"})
    loaded = run(runner, "-w", workspace, "plan", "load", plan, "--units", draft)
    assert "5 项任务，涉及 6 个单位。" in loaded.stdout
    assert shown_roles(runner, workspace) == {
        "1-1": {("市发展改革委", "牵头"), ("市环境保护局", "负责"), ("市教育局", "负责"), ("市体育局", "负责")},
        "1-2": {("市发展改革委", "分别负责"), ("市环境保护局", "分别负责")},
        "1-3": {("市教育局", "牵头"), ("市体育局", "配合")},
        "2-1": {("东湖区人民政府", "负责"), ("西山区政府", "负责")},
        "2-2": {("东湖区人民政府", "分别负责"), ("西山区政府", "分别负责")},
    }
    assert read_registry(workspace / "单位名录.xlsx").by_code()["FGW"].aliases == ("市发改委",)


def test_the_sample_plan_round_trip(workspace, runner):
    run(runner, "-w", workspace, "units", "draft", SEED_PLAN)
    draft = workspace / DRAFT
    units = sheet_rows(draft, "单位名录")
    named = [unit for unit in units if unit["单位名称"]]
    written = {name for row in seed_rows() for name, _ in parse_roles(row.responsibility)}
    assert {unit["单位名称"] for unit in named} == {name for name in written if name.startswith("市") and
                                                   "单位" not in name}
    assert [unit["单位编码"] for unit in named] == [f"S{number:03d}" for number in range(1, len(named) + 1)]
    assert [group["分组名称"] for group in sheet_rows(draft, "分组")] == [
        "市有关单位", "各县(市、区)人民政府(管委会)", "重点领域相关单位", "市规范性文件起草单位"]
    # The plan names no county: its group waits for members, on a row left for them.
    [waiting] = [unit for unit in units if not unit["单位名称"]]
    assert waiting["分组"] == "各县(市、区)人民政府(管委会)" and waiting["单位编码"] is None

    recode(draft, {unit["单位名称"]: f"D{index:02d}" for index, unit in enumerate(named, start=1)})
    refused = run(runner, "-w", workspace, "plan", "load", SEED_PLAN, "--units", draft, code=1)
    assert set(refused.stderr.splitlines()[1:]) == {  # only the group the clerk must complete
        f"  - 第{row}行：分组“各县(市、区)人民政府(管委会)”在单位名录中没有成员单位。请在单位名录中为单位标上该分组。"
        for row in (2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 17, 20)}

    workbook = openpyxl.load_workbook(draft)  # the clerk fills in the counties on the row left for them
    sheet = workbook["单位名录"]
    last = sheet.max_row
    sheet.cell(last, 1, "X01"), sheet.cell(last, 2, "东湖区人民政府")
    sheet.append(["X02", "西山县人民政府", None, waiting["分组"]])
    workbook.save(draft)
    loaded = run(runner, "-w", workspace, "plan", "load", SEED_PLAN, "--units", draft)
    assert f"19 项任务，涉及 {len(named) + 2} 个单位。" in loaded.stdout
    roles = shown_roles(runner, workspace)
    counties = {("东湖区人民政府", "负责"), ("西山县人民政府", "负责")}
    assert roles["2-4"] == {("市政管办", "负责")}
    assert roles["2-5"] == {(name, "分别负责") for name in ("市扶贫办", "市民政局", "市食品药品监管局", "市环境保护局")}
    assert roles["1-2"] == {(unit["单位名称"], "牵头" if unit["单位名称"] == "市法制局" else "负责")
                            for unit in named} | counties
    assert {name for name, role in roles["2-2"] if role == "牵头"} == {"市发展改革局", "市政管办"}


# ---------------------------------------------------------------------------- pairing and groups


def raw_plan(*responsibilities: str) -> RawPlan:
    return RawPlan("计划", "表格", [RawTask(row, "类别", "要求", [(text, "负责")], "")
                                  for row, text in enumerate(responsibilities, start=2)], [])


def test_abbreviations_go_on_the_row_of_the_name_they_abbreviate():
    draft = draft_registry(raw_plan("市发改委、市教育局", "市体育局、市发展改革委、市人社局",
                                    "市发展和改革委、市人力资源社会保障局、区人社局、市林业局、市农林业局"))
    assert [(unit.name, unit.aliases, unit.rows) for unit in draft.units] == [
        ("市发展和改革委", ("市发改委", "市发展改革委"), (2, 3, 4)),  # a chain of ever longer spellings
        ("市教育局", (), (2,)),
        ("市体育局", (), (3,)),
        ("市人力资源社会保障局", ("市人社局",), (3, 4)),
        ("区人社局", (), (4,)),  # another level
        ("市林业局", (), (4,)),
        ("市农林业局", (), (4,)),
    ]
    assert draft.paired == 3 and draft.groups == []


def test_group_references_and_their_suggested_members():
    draft = draft_registry(raw_plan("办公室牵头，各科室配合", "财务科、信息中心、各县(市、区)政府负责",
                                    "市财政局、市有关单位（见附件1）、重点领域相关单位（见附件2）负责", "高新区管委会负责"))
    assert [(group.name, group.refs, group.members) for group in draft.groups] == [
        ("各科室", ("各科室",), 3),
        ("各县(市、区)政府", ("各县(市、区)政府",), 1),
        ("市有关单位", ("市有关单位(见附件1)",), 1),
        ("重点领域相关单位", ("重点领域相关单位(见附件2)",), 4),
    ]
    assert {unit.name: (unit.code, unit.groups) for unit in draft.units} == {
        "办公室": ("S001", ("各科室", "重点领域相关单位")),
        "财务科": ("S002", ("各科室", "重点领域相关单位")),
        "信息中心": ("S003", ("各科室", "重点领域相关单位")),
        "市财政局": ("S004", ("市有关单位", "重点领域相关单位")),
        "高新区管委会": ("X001", ("各县(市、区)政府",)),
    }
    assert "按附件核对" in draft.groups[2].check and "按附件核对" not in draft.groups[0].check


# ---------------------------------------------------------------------------- the command


def test_the_draft_is_the_same_file_every_time(workspace, runner, tmp_path):
    plan = invented_plan(tmp_path / "工作要点.docx")
    run(runner, "-w", workspace, "units", "draft", plan)
    run(runner, "-w", workspace, "units", "draft", plan, "-o", tmp_path / "again.xlsx")
    assert (workspace / DRAFT).read_bytes() == (tmp_path / "again.xlsx").read_bytes()


def test_an_existing_file_is_never_overwritten(workspace, runner, tmp_path):
    (workspace / DRAFT).write_bytes(b"clerk's work")
    refused = run(runner, "-w", workspace, "units", "draft", SEED_PLAN, code=1)
    assert refused.stderr == (f"错误：{workspace / DRAFT} 已存在，为免覆盖其中已做的修改，没有重新起草。"
                              "要重新起草，请先删除或改名该文件，或用 -o 指定另一个文件名。\n")
    assert (workspace / DRAFT).read_bytes() == b"clerk's work"
    registry = workspace / "单位名录.xlsx"
    before = registry.read_bytes()
    run(runner, "-w", workspace, "units", "draft", SEED_PLAN, "-o", registry, code=1)
    assert registry.read_bytes() == before


@pytest.mark.parametrize("name", ["草稿.xls", "草稿"])
def test_the_draft_is_an_xlsx_file(workspace, runner, tmp_path, name):
    refused = run(runner, "-w", workspace, "units", "draft", SEED_PLAN, "-o", tmp_path / name, code=1)
    assert refused.stderr == f"错误：单位名录草稿要保存为 .xlsx 文件，{name} 不是。请用 -o 指定以 .xlsx 结尾的文件名。\n"


def test_a_plan_naming_no_unit(workspace, runner, tmp_path):
    plan = tmp_path / "空.csv"
    plan.write_text("工作任务,具体要求,责任单位\n（一）公开,1.甲。,\n", encoding="utf-8")
    refused = run(runner, "-w", workspace, "units", "draft", plan, code=1)
    assert refused.stderr == ("错误：计划表 空.csv 中没有读到任何责任单位，没有起草单位名录。\n"
                              "  - 第2行：任务“1.甲。”没有填写责任单位。\n")
    assert not (workspace / DRAFT).exists()


def test_rows_that_keep_the_plan_from_loading_are_told_and_the_rest_drafted(workspace, runner, tmp_path):
    plan = tmp_path / "计划.csv"
    plan.write_text("工作任务,具体要求,责任单位\n（一）公开,1.甲。,市财政局负责\n,2.乙。,\n", encoding="utf-8")
    result = run(runner, "-w", workspace, "units", "draft", plan)
    assert result.stdout.splitlines()[1:3] == ["计划表中另有 1 处问题，加载计划前须改正：",
                                               "  - 第3行：任务“2.乙。”没有填写责任单位。"]
    assert [unit["单位名称"] for unit in sheet_rows(workspace / DRAFT, "单位名录")] == ["市财政局"]
