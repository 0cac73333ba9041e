"""Plans as real offices publish them (PRODUCT 2.1): each layout written in code with invented
content, in the forms it comes in (.xlsx, .docx, pipe text, prose, .xls, .doc), every task's
units and roles pinned."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import Table, write_csv, write_docx, write_registry, write_table, write_xlsx
from pipeline import plan as plan_module
from pipeline.cli import cli
from pipeline.errors import PlanError
from pipeline.plan import parse_roles, read_plan, read_raw
from pipeline.units import read_registry

UNITS = [
    ["C01", "市发展改革委", "市发改委", "市有关单位"],
    ["C02", "市经济信息化委", "市经信委", ""],
    ["C03", "市规划局", "", ""],
    ["C04", "市财政局", "", "市有关单位"],
    ["C05", "市交通委", "", "市有关单位"],
    ["C06", "市金融办", "", ""],
    ["C07", "人民银行东湖中心支行", "", ""],
    ["C08", "东湖银保监分局", "", ""],
    ["C09", "市政务公开办", "", ""],
    ["C10", "市统计局", "", ""],
    ["C11", "市住房城乡建设委", "市住建委", ""],
    ["C12", "市生态环境局", "", ""],
    ["C13", "市市场监管局", "", ""],
    ["D01", "东湖区政府", "", "区政府"],
    ["D02", "西山区政府", "", "区政府"],
    ["K01", "办公室", "", ""],
    ["K02", "财务科", "", "科室"],
    ["K03", "业务科", "", "科室"],
    ["K04", "信息科", "", "科室"],
    ["K05", "法规科", "", "科室"],
]
GROUPS = [["市有关单位", "市有关单位"], ["区政府", "各区政府"], ["科室", "各科室"]]
SECTIONS = ["财务科", "业务科", "信息科", "法规科"]  # 各科室, in registry order


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return read_registry(write_registry(tmp_path_factory.mktemp("reg") / "单位名录.xlsx", UNITS, GROUPS))


def tasks(plan) -> list[tuple]:
    return [(t.id, t.category, t.requirement, [(a.name, a.role) for a in t.units]) for t in plan.tasks]


def each(names: list[str], role: str) -> list[tuple[str, str]]:
    return [(name, role) for name in names]


def write_text(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def merged(table: Table, col: int, first: int, last: int) -> None:
    """Merge rows ``first``..``last`` of a column: the cells under the first become None."""
    for row in range(first + 1, last + 1):
        table.rows[row][col] = None
    table.merges.append((first, col, last, col))


# ---------------------------------------------------------------------------- a centre's text export

CENTRE_TEXT = [
    "某中心2020年政务公开工作安排",
    "工作任务 | 具体要求 | 责任部门 |",
    "一、做好预算信息公开。 | 1.按时公开部门预算和决算说明。 | 财务科负责 |",
    "2.细化公开“三公”经费的使用情况。 | 财务科牵头,各科室配合 | |",
    "3.及时反馈群众对预算公开的意见。 | 各科室 | |",
    "二、加强办事服务公开。 | 4.更新办事指南并标明办理时限。 | 业务科负责 |",
    "5.在服务大厅公示收费依据和标准。 | 办公室牵头,各科室配合 | |",
    "三、做好公开平台维护。 | 6.每月检查网站栏目，清理过期内容。 | 信息科负责 |",
]
CENTRE_TASKS = [
    ("1-1", "做好预算信息公开", "按时公开部门预算和决算说明。", [("财务科", "负责")]),
    ("1-2", "做好预算信息公开", "细化公开“三公”经费的使用情况。", [("财务科", "牵头"), *each(SECTIONS[1:], "配合")]),
    ("1-3", "做好预算信息公开", "及时反馈群众对预算公开的意见。", each(SECTIONS, "负责")),
    ("2-1", "加强办事服务公开", "更新办事指南并标明办理时限。", [("业务科", "负责")]),
    ("2-2", "加强办事服务公开", "在服务大厅公示收费依据和标准。", [("办公室", "牵头"), *each(SECTIONS, "配合")]),
    ("3-1", "做好公开平台维护", "每月检查网站栏目，清理过期内容。", [("信息科", "负责")]),
]


def test_a_text_export_with_cells_shifted_left_and_numbering_through_the_plan(tmp_path, registry):
    path = write_text(tmp_path / "工作安排.txt", CENTRE_TEXT)
    plan = read_plan(path, registry)
    assert tasks(plan) == CENTRE_TASKS
    assert plan.title == "某中心2020年政务公开工作安排"
    assert [t.source_row for t in plan.tasks] == [3, 4, 5, 6, 7, 8]
    assert plan.tasks[1].responsibility == "财务科牵头,各科室配合"
    assert read_raw(path).layout == (
        "表格：表头在第2行，列：工作任务、具体要求、责任部门；一级类别；3 行因合并单元格左移，已按内容对齐"
    )


# ---------------------------------------------------------------------------- 工作任务 | 序号 | 具体要求 | 责任科室 | 时限要求


def bureau_table() -> Table:
    table = Table(5)
    table.add_spanning_row("某局2021年政务公开工作任务分解表")
    table.add_row(["工作任务", "序号", "具体要求", "责任科室", "时限要求"])
    table.add_row(["（一）推进决策公开", 1, "重大决策草案向社会公开征求意见。", "法规科", "2021年6月底前"])
    table.add_row(["（一）推进决策公开", 2, "公开意见采纳情况及理由。", "法规科牵头，办公室配合", "2021年9月30日"])
    table.add_row(["（二）深化执行公开", 1, "按季度公开重点工作进展。", "办公室", "每季度末"])
    table.add_row(["（二）深化执行公开", 2, "公开审计发现问题整改结果。", "财务科", "年内"])
    merged(table, 0, 2, 3)
    merged(table, 0, 4, 5)
    return table


BUREAU_TASKS = [
    ("1-1", "推进决策公开", "重大决策草案向社会公开征求意见。", "2021-06-30", [("法规科", "负责")]),
    ("1-2", "推进决策公开", "公开意见采纳情况及理由。", "2021-09-30", [("法规科", "牵头"), ("办公室", "配合")]),
    ("2-1", "深化执行公开", "按季度公开重点工作进展。", None, [("办公室", "负责")]),
    ("2-2", "深化执行公开", "公开审计发现问题整改结果。", "2021-12-31", [("财务科", "负责")]),
]


def with_deadlines(plan) -> list[tuple]:
    return [(t.id, t.category, t.requirement, t.deadline_date, [(a.name, a.role) for a in t.units]) for t in plan.tasks]


@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
def test_a_bureau_table_with_seq_after_the_category_and_unit_labels_of_its_own(tmp_path, registry, suffix):
    path = write_table(tmp_path / f"分解表{suffix}", bureau_table())
    plan = read_plan(path, registry, year=2021)
    assert with_deadlines(plan) == BUREAU_TASKS
    assert plan.title == "某局2021年政务公开工作任务分解表"
    assert read_raw(path).layout == "表格：表头在第2行，列：工作任务、序号、具体要求、责任科室、时限要求；一级类别"


# ---------------------------------------------------------------------------- prose


PROSE_DOCX = [
    "2021年政务公开工作要点",
    "为进一步做好政务公开工作，现提出以下要点。",
    "一、围绕稳定预期加强政策公开",
    "（一）加强政策解读。制定发布年度规划信息。（市规划局负责落实）推进重点项目审批信息公开。"
    "（市发展改革委、市经济信息化委分别负责落实）",
    "（二）做好数据开放。分批开放交通出行数据集。（市交通委牵头，会同市统计局落实）",
    "二、围绕重点领域深化信息公开",
    "（一）推进财政信息公开。细化公开部门预决算。（市财政局负责落实）公开政府债务信息。（市财政局牵头，各区政府负责）",
    "各单位要加强组织领导，确保各项任务落到实处。",
]
POLICY = "围绕稳定预期加强政策公开"
PROSE_DOCX_TASKS = [
    ("1-1", f"{POLICY} · 加强政策解读", "制定发布年度规划信息。", [("市规划局", "负责")]),
    ("1-2", f"{POLICY} · 加强政策解读", "推进重点项目审批信息公开。",
     each(["市发展改革委", "市经济信息化委"], "分别负责")),
    ("2-1", f"{POLICY} · 做好数据开放", "分批开放交通出行数据集。", [("市交通委", "牵头"), ("市统计局", "配合")]),
    ("3-1", "围绕重点领域深化信息公开 · 推进财政信息公开", "细化公开部门预决算。", [("市财政局", "负责")]),
    ("3-2", "围绕重点领域深化信息公开 · 推进财政信息公开", "公开政府债务信息。",
     [("市财政局", "牵头"), ("东湖区政府", "负责"), ("西山区政府", "负责")]),
]


def test_prose_work_points_in_word_several_clauses_to_a_paragraph(tmp_path, registry):
    """write_docx starts with a paragraph 附件 and ends with a 注 paragraph: paragraphs 1 and 10."""
    path = write_docx(tmp_path / "要点.docx", *PROSE_DOCX)
    plan = read_plan(path, registry)
    assert tasks(plan) == PROSE_DOCX_TASKS
    assert plan.title == "2021年政务公开工作要点"
    assert [t.source_row for t in plan.tasks] == [5, 5, 6, 8, 8]
    assert plan.tasks[1].responsibility == "市发展改革委、市经济信息化委分别负责落实"
    raw = read_raw(path)
    assert raw.layout == "文字：按括号中的责任单位分条，共 5 条；两级类别"
    assert raw.warnings == ["第9行：“各单位要加强组织领导，确保各项任务落到实…”没有在括号中写明责任单位，未作为任务读入。请核对。"]


PROSE_TEXT = [
    "2022年政务公开工作要点",
    "",
    "（一）推进规划信息公开。1.公开年度规划编制进展。（市规划局负责，6月底前完成）"
    "2.公开重大项目用地审批结果。（市规划局牵头，市住建委配合）",
    "（二）推进生态环境信息公开。3.公开重点排污单位名录。（市生态环境局负责落实）"
    "4.公开空气质量排名（按月）。（市生态环境局、市统计局分别负责落实）",
]


def test_prose_work_points_as_text_with_a_deadline_in_the_clause(tmp_path, registry):
    path = write_text(tmp_path / "要点.txt", PROSE_TEXT)
    plan = read_plan(path, registry, year=2022)
    assert tasks(plan) == [
        ("1-1", "推进规划信息公开", "公开年度规划编制进展。", [("市规划局", "负责")]),
        ("1-2", "推进规划信息公开", "公开重大项目用地审批结果。", [("市规划局", "牵头"), ("市住房城乡建设委", "配合")]),
        ("2-1", "推进生态环境信息公开", "公开重点排污单位名录。", [("市生态环境局", "负责")]),
        ("2-2", "推进生态环境信息公开", "公开空气质量排名（按月）。", each(["市统计局", "市生态环境局"], "分别负责")),
    ]
    assert [(t.deadline, t.deadline_date, t.responsibility) for t in plan.tasks[:2]] == [
        ("6月底前完成", "2022-06-30", "市规划局负责"),
        (None, None, "市规划局牵头，市住建委配合"),
    ]
    assert plan.title == "2022年政务公开工作要点"
    assert [t.source_row for t in plan.tasks] == [3, 3, 4, 4]
    assert read_raw(path).layout == "文字：按括号中的责任单位分条，共 4 条；一级类别"


def test_text_without_tasks_or_table_says_what_it_looks_for(tmp_path, registry):
    path = write_text(tmp_path / "通知.txt", ["关于做好政务公开工作的通知", "请各单位认真落实。"])
    with pytest.raises(PlanError) as caught:
        read_plan(path, registry)
    assert str(caught.value) == (
        "计划表 通知.txt 中既没有任务表格，也没有在括号中写明责任单位的任务段落（如“……。（市财政局负责落实）”）。"
        "请确认文件内容，或把任务整理成表格。"
    )


# ---------------------------------------------------------------------------- 目标 | 任务 | 主要内容 | 责任单位


FINANCE_ROWS = [
    ["提升金融政策透明度", "公开惠企金融政策", "汇编发布惠企金融政策清单。", "市金融办牵头落实"],
    ["提升金融政策透明度", "公开惠企金融政策", "定期解读政策执行情况。",
     "市金融办、人民银行东湖中心支行、东湖银保监分局分别牵头落实"],
    ["提升金融政策透明度", "公开融资对接信息", "发布银企对接活动安排。", "市发改委牵头，会同市金融办落实"],
    ["优化公开服务渠道", "建设政策查询专栏", "在政府网站开设金融政策专栏。", "市政务公开办负责"],
]
GOAL = "提升金融政策透明度"
FINANCE_TASKS = [
    ("1-1", f"{GOAL} · 公开惠企金融政策", "汇编发布惠企金融政策清单。", [("市金融办", "牵头")]),
    ("1-2", f"{GOAL} · 公开惠企金融政策", "定期解读政策执行情况。",
     each(["市金融办", "人民银行东湖中心支行", "东湖银保监分局"], "牵头")),
    ("2-1", f"{GOAL} · 公开融资对接信息", "发布银企对接活动安排。", [("市发展改革委", "牵头"), ("市金融办", "配合")]),
    ("3-1", "优化公开服务渠道 · 建设政策查询专栏", "在政府网站开设金融政策专栏。", [("市政务公开办", "负责")]),
]


def finance_table(merge: bool) -> Table:
    """Two category levels; merged down the groups, or (``merge=False``) repeated on every row."""
    table = Table(4)
    table.add_row(["目标", "任务", "主要内容", "责任单位"])
    for row in FINANCE_ROWS:
        table.add_row(row)
    if merge:
        merged(table, 0, 1, 3)
        merged(table, 1, 1, 2)
    return table


@pytest.mark.parametrize("suffix", [".docx", ".xlsx"])
def test_two_merged_category_levels_with_lead_phrases(tmp_path, registry, suffix):
    path = tmp_path / f"实施方案{suffix}"
    if suffix == ".docx":
        write_docx(path, "金融服务信息公开实施方案", finance_table(merge=True))
    else:
        write_xlsx(path, finance_table(merge=True))
    plan = read_plan(path, registry)
    assert tasks(plan) == FINANCE_TASKS
    assert plan.title == ("金融服务信息公开实施方案" if suffix == ".docx" else "")
    assert read_raw(path).layout == "表格：表头在第1行，列：目标、任务、主要内容、责任单位；两级类别"


def test_two_category_levels_repeated_on_every_row(tmp_path, registry):
    assert tasks(read_plan(write_xlsx(tmp_path / "p.xlsx", finance_table(merge=False)), registry)) == FINANCE_TASKS


def test_two_category_levels_exported_as_text_with_cells_shifted_left(tmp_path, registry):
    lines = ["目标 | 任务 | 主要内容 | 责任单位 |", " | ".join(FINANCE_ROWS[0]) + " |",
             " | ".join(FINANCE_ROWS[1][2:]) + " |", " | ".join(FINANCE_ROWS[2][1:]) + " |",
             " | ".join(FINANCE_ROWS[3]) + " |"]
    assert tasks(read_plan(write_text(tmp_path / "p.txt", lines), registry)) == FINANCE_TASKS


# ---------------------------------------------------------------------------- labels that say nothing


STATISTICS_TASKS = [
    ("1-1", "推进统计信息公开", "按月发布主要经济指标数据。", [("市统计局", "负责")]),
    ("1-2", "推进统计信息公开", "公开统计调查项目目录。", [("市统计局", "牵头"), ("市发展改革委", "配合")]),
    ("2-1", "推进市场监管信息公开", "公开双随机抽查结果。", [("市市场监管局", "负责")]),
    ("2-2", "推进市场监管信息公开", "公开食品抽检不合格信息。", [("市市场监管局", "负责")]),
]
STATISTICS_ROWS = [
    ["推进统计信息公开", "按月发布主要经济指标数据。", "市统计局", "每月15日前"],
    [None, "公开统计调查项目目录。", "市统计局牵头，市发改委配合", "2022年3月底前"],
    ["推进市场监管信息公开", "公开双随机抽查结果。", "市市场监管局", "持续推进"],
    [None, "公开食品抽检不合格信息。", "市市场监管局负责", "2022年12月31日"],
]


def test_columns_whose_labels_are_unusual_are_judged_by_their_cells(tmp_path, registry):
    table = Table(4)
    table.add_row(["重点工作", "工作举措", "承担单位", "办结时点"])
    for row in STATISTICS_ROWS:
        table.add_row(row)
    table.merges += [(1, 0, 2, 0), (3, 0, 4, 0)]
    path = write_xlsx(tmp_path / "p.xlsx", table)
    plan = read_plan(path, registry, year=2022)
    assert tasks(plan) == STATISTICS_TASKS
    assert [t.deadline for t in plan.tasks] == ["每月15日前", "2022年3月底前", "持续推进", "2022年12月31日"]
    assert read_raw(path).layout == (
        "表格：表头在第1行，列：重点工作、工作举措、承担单位（按内容认作责任单位）、办结时点（按内容认作完成时限）；一级类别"
    )


def test_a_header_of_labels_nobody_uses_is_read_from_the_cells(tmp_path, registry):
    table = Table(4)
    table.add_row(["板块", "要点", "承担者", "何时"])
    for row in STATISTICS_ROWS:
        table.add_row(row)
    path = write_csv(tmp_path / "p.csv", table)
    assert tasks(read_plan(path, registry, year=2022)) == STATISTICS_TASKS
    assert read_raw(path).layout == (
        "表格：表头在第1行，列：板块（按内容认作类别）、要点（按内容认作具体要求）、承担者（按内容认作责任单位）、"
        "何时（按内容认作完成时限）；一级类别"
    )


# ---------------------------------------------------------------------------- category rows, two levels


def heading_rows_table() -> Table:
    table = Table(4)
    table.add_row(["序号", "工作任务", "责任单位", "完成时限"])
    table.add_spanning_row("一、深化重点领域信息公开")
    table.add_spanning_row("（一）财政信息")
    table.add_row([1, "公开市级部门预算。", "市财政局", "2022年4月底前"])
    table.add_row([2, "公开政府采购意向。", "市财政局牵头，市有关单位负责", "持续推进"])
    table.add_spanning_row("（二）住房信息")
    table.add_row([1, "公开保障性住房分配结果。", "市住建委", "年内"])
    table.add_spanning_row("二、加强政务公开平台建设")
    table.add_row([1, "整合政务新媒体账号。", "市政务公开办牵头，各区政府配合", "2022年9月30日"])
    return table


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".docx"])
def test_category_rows_of_two_levels(tmp_path, registry, suffix):
    plan = read_plan(write_table(tmp_path / f"p{suffix}", heading_rows_table()), registry, year=2022)
    areas = "深化重点领域信息公开"
    assert tasks(plan) == [
        ("1-1", f"{areas} · 财政信息", "公开市级部门预算。", [("市财政局", "负责")]),
        ("1-2", f"{areas} · 财政信息", "公开政府采购意向。",
         [("市财政局", "牵头"), ("市发展改革委", "负责"), ("市交通委", "负责")]),
        ("2-1", f"{areas} · 住房信息", "公开保障性住房分配结果。", [("市住房城乡建设委", "负责")]),
        ("3-1", "加强政务公开平台建设", "整合政务新媒体账号。",
         [("市政务公开办", "牵头"), ("东湖区政府", "配合"), ("西山区政府", "配合")]),
    ]


# ---------------------------------------------------------------------------- no numbering; repeated cells


def test_no_numbering_and_categories_without_markers(tmp_path, registry):
    table = Table(3)
    table.add_row(["工作任务", "具体要求", "责任单位"])
    table.add_row(["政策解读", "重要政策出台时同步发布解读材料", "市政务公开办"])
    table.add_row([None, "组织政策吹风会", "市发改委、市财政局共同负责"])
    table.add_row(["回应关切", "建立舆情收集回应机制", "市政务公开办牵头，市有关单位配合"])
    table.merges.append((1, 0, 2, 0))
    plan = read_plan(write_xlsx(tmp_path / "p.xlsx", table), registry)
    assert tasks(plan) == [
        ("1-1", "政策解读", "重要政策出台时同步发布解读材料", [("市政务公开办", "负责")]),
        ("1-2", "政策解读", "组织政策吹风会", each(["市发展改革委", "市财政局"], "负责")),
        ("2-1", "回应关切", "建立舆情收集回应机制", [("市政务公开办", "牵头"), *each(["市发展改革委", "市财政局", "市交通委"], "配合")]),
    ]


REPEATED = [
    ["（一）公开办事指南", "1.梳理并公开办事指南。", "市政务公开办负责"],
    ["（一）公开办事指南", "2.标注每个事项的办理时限。", "各区政府分别负责"],
    ["（二）公开收费标准", "3.公开行政事业性收费目录。", "市财政局、市市场监管局负责"],
]


@pytest.mark.parametrize("suffix", [".txt", ".csv"])
def test_merged_cells_exported_repeated_on_every_row(tmp_path, registry, suffix):
    path = tmp_path / f"p{suffix}"
    if suffix == ".txt":
        write_text(path, [" | ".join(row) for row in [["工作任务", "具体要求", "责任单位"], *REPEATED]])
    else:
        table = Table(3)
        for row in [["工作任务", "具体要求", "责任单位"], *REPEATED]:
            table.add_row(row)
        write_csv(path, table)
    assert tasks(read_plan(path, registry)) == [
        ("1-1", "公开办事指南", "梳理并公开办事指南。", [("市政务公开办", "负责")]),
        ("1-2", "公开办事指南", "标注每个事项的办理时限。", each(["东湖区政府", "西山区政府"], "分别负责")),
        ("2-1", "公开收费标准", "公开行政事业性收费目录。", each(["市财政局", "市市场监管局"], "负责")),
    ]


# ---------------------------------------------------------------------------- roles as written


@pytest.mark.parametrize("text, expected", [
    ("市发改委牵头落实", [("市发改委", "牵头")]),
    ("市金融办、东湖支行、东湖分局分别牵头落实", each(["市金融办", "东湖支行", "东湖分局"], "牵头")),
    ("市交通委、市统计局分别负责落实", each(["市交通委", "市统计局"], "分别负责")),
    ("市规划局负责实施", [("市规划局", "负责")]),
    ("市财政局牵头，会同市统计局、市交通委落实", [("市财政局", "牵头"), *each(["市统计局", "市交通委"], "配合")]),
    ("市财政局会同市统计局负责", [("市财政局", "牵头"), ("市统计局", "配合")]),
    ("市财政局牵头，市统计局协助推进", [("市财政局", "牵头"), ("市统计局", "配合")]),
    ("办公室牵头,各科室配合", [("办公室", "牵头"), ("各科室", "配合")]),
    ("市发展改革委等负责", [("市发展改革委", "负责")]),
    ("市统计局、市财政局等单位按职责分工负责", each(["市统计局", "市财政局"], "负责")),
])
def test_role_phrases_as_written(text, expected):
    assert parse_roles(text) == expected


def test_a_list_ending_in_deng_loads_with_a_warning(tmp_path, registry):
    table = Table(2)
    table.add_row(["具体要求", "责任单位"])
    table.add_row(["公开统计年鉴。", "市统计局、市发展改革委等负责"])
    table.add_row(["公开统计公报。", "市统计局负责"])
    path = write_csv(tmp_path / "p.csv", table)
    assert tasks(read_plan(path, registry)) == [
        ("1-1", "工作任务", "公开统计年鉴。", each(["市发展改革委", "市统计局"], "负责")),
        ("1-2", "工作任务", "公开统计公报。", [("市统计局", "负责")]),
    ]
    assert read_raw(path).warnings == [
        "第2行：责任单位“市统计局、市发展改革委等负责”用“等”列举，名单可能不全，只读入了写出的单位。请核对，必要时在计划表中写全。"
    ]


def test_plan_load_prints_the_warnings(tmp_path, workspace):
    table = Table(2)
    table.add_row(["具体要求", "责任单位"])
    table.add_row(["公开审计结果。", "市审计局、市财政局等负责"])
    result = CliRunner().invoke(cli, ["-w", str(workspace), "plan", "load", str(write_csv(tmp_path / "p.csv", table))])
    assert result.exit_code == 0, result.output
    assert ("提醒：第2行：责任单位“市审计局、市财政局等负责”用“等”列举，名单可能不全，只读入了写出的单位。"
            "请核对，必要时在计划表中写全。") in result.stdout.splitlines()


# ---------------------------------------------------------------------------- old formats


def converted(source: Path, target_format: str, tmp_path: Path) -> Path:
    """``source`` saved as ``target_format`` by headless LibreOffice (in a profile of its own)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("LibreOffice (soffice) is not installed; .ci/run installs it.")
    out = tmp_path / "out"
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                    "--convert-to", target_format, "--outdir", str(out), str(source)],
                   capture_output=True, timeout=180, check=True)
    return out / f"{source.stem}.{target_format}"


def test_an_xls_workbook(tmp_path, registry):
    source = write_xlsx(tmp_path / "分解表.xlsx", bureau_table())
    plan = read_plan(converted(source, "xls", tmp_path), registry, year=2021)
    assert with_deadlines(plan) == BUREAU_TASKS
    assert plan.title == "某局2021年政务公开工作任务分解表"


def test_an_old_word_document_through_libreoffice(tmp_path, registry):
    source = write_docx(tmp_path / "实施方案.docx", "金融服务信息公开实施方案", finance_table(merge=True))
    plan = read_plan(converted(source, "doc", tmp_path), registry)
    assert tasks(plan) == FINANCE_TASKS
    assert plan.title == "金融服务信息公开实施方案"


def test_an_old_word_document_without_libreoffice(tmp_path, registry, monkeypatch):
    monkeypatch.setattr(plan_module, "_soffice", lambda: None)
    path = tmp_path / "要点.wps"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(PlanError) as caught:
        read_plan(path, registry)
    assert str(caught.value) == (
        "计划表 要点.wps 是旧版 Word/WPS 格式，需要用 LibreOffice 转换后才能读取，本机没有找到 LibreOffice。"
        "请安装 LibreOffice（免费），或在 Word/WPS 中打开该文件，另存为 .docx 后再加载。"
    )


def test_a_pdf_is_refused_with_what_to_ask_for(tmp_path, registry):
    path = tmp_path / "要点.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(PlanError, match=r"^计划表 要点\.pdf 是 PDF 文件，无法从中读出任务和责任单位。请向发文单位索取 Word 或 Excel 原件"):
        read_plan(path, registry)
