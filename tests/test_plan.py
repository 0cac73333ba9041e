"""The plan table (PRODUCT 2.1): every layout and format, roles, deadlines, task IDs, the version."""

from __future__ import annotations

import datetime as dt

import docx
import openpyxl
import pytest

from helpers import (
    CITY,
    COUNTIES,
    SEED_ASSIGNMENTS,
    SEED_IDS,
    SEED_PLAN,
    Table,
    lead_support_table,
    roles,
    seed_rows,
    seed_table,
    write_csv,
    write_docx,
    write_registry,
    write_table,
    write_xlsx,
)
from pipeline.errors import PlanError
from pipeline.plan import parse_deadline, parse_roles, read_plan
from pipeline.text import clean_cell, fold, split_outside_brackets
from pipeline.units import read_registry

FORMATS = [".xlsx", ".docx", ".csv"]
SEED_CATEGORIES = [
    "围绕建设法治政府全面推进政务公开",
    "围绕重点领域加大主动公开力度",
    "围绕稳定市场预期加强政策解读",
    "围绕社会重大关切加强舆情回应",
]


def assignment(task) -> set[tuple[str, str]]:
    return {(unit.name, unit.role) for unit in task.units}


def summary(plan) -> list[tuple]:
    """What must be the same whatever file the plan came from."""
    return [
        (task.id, task.category, task.requirement, task.deadline, task.deadline_date, assignment(task))
        for task in plan.tasks
    ]


def plan_problems(path, registry, year=None) -> list[str]:
    with pytest.raises(PlanError) as caught:
        read_plan(path, registry, year=year)
    return caught.value.problems


@pytest.fixture(scope="module")
def seed(registry):
    return read_plan(SEED_PLAN, registry)


# ---------------------------------------------------------------------------- the seed


def test_seed_has_19_tasks_with_ids_in_plan_order(seed):
    assert [task.id for task in seed.tasks] == SEED_IDS
    assert [task.requirement for task in seed.tasks] == [
        row.requirement.split(".", 1)[1].strip() for row in seed_rows()
    ]
    assert list(dict.fromkeys(task.category for task in seed.tasks)) == SEED_CATEGORIES
    assert seed.title == ""  # copied out of its document without the title above the table
    assert all(task.deadline is None and task.deadline_date is None for task in seed.tasks)


@pytest.mark.parametrize("task_id", sorted(SEED_ASSIGNMENTS))
def test_seed_assignments(seed, task_id):
    task = next(task for task in seed.tasks if task.id == task_id)
    assert assignment(task) == SEED_ASSIGNMENTS[task_id]


def test_a_unit_appears_once_per_task(seed):
    for task in seed.tasks:
        codes = [unit.code for unit in task.units]
        assert len(codes) == len(set(codes)), task.id


def test_reloading_gives_the_same_ids_and_version(seed, registry):
    again = read_plan(SEED_PLAN, registry)
    assert summary(again) == summary(seed)
    assert again.version == seed.version
    assert len(seed.version) == 16


@pytest.mark.parametrize(
    "suffix, retyped",
    [(".xlsx", True), (".xlsx", False), (".docx", True), (".docx", False), (".csv", True)],
    ids=["xlsx-retyped", "xlsx", "docx-retyped", "docx", "csv-blank-categories"],
)
def test_retyped_seed_loads_to_the_same_plan(tmp_path, registry, seed, suffix, retyped):
    path = write_table(tmp_path / f"工作要点{suffix}", seed_table(retyped))
    plan = read_plan(path, registry)
    assert summary(plan) == summary(seed)
    assert plan.version == seed.version


def test_a_changed_assignment_changes_the_version(tmp_path, registry, seed):
    table = seed_table(retyped=False)
    table.rows[-2][2] = table.rows[-2][2].replace(",各县(市、区)人民政府(管委会)负责", "负责")
    plan = read_plan(write_xlsx(tmp_path / "p.xlsx", table), registry)
    assert [task.id for task in plan.tasks] == SEED_IDS
    assert plan.version != seed.version


def test_title_source_and_the_rows_a_clerk_sees(tmp_path, registry, seed):
    plan = read_plan(write_xlsx(tmp_path / "p.xlsx", seed_table(retyped=True)), registry)
    assert plan.title == "2018年政务公开工作要点"
    assert plan.source == "p.xlsx"
    assert [task.source_row for task in plan.tasks] == list(range(4, 23))
    assert [task.source_row for task in seed.tasks] == list(range(2, 21))


def seed_without_title() -> Table:
    table = seed_table(retyped=False)
    table.rows[0] = [None] * table.width
    return table


@pytest.mark.parametrize("above, title", [
    (["2018年政务公开工作要点"], "2018年政务公开工作要点"),
    (["附件1", "2018年政务公开工作要点", "（2018年3月印发）"], "2018年政务公开工作要点"),
    (["关于印发2018年政务公开工作要点的通知", "各县（市、区）人民政府，市有关单位：",
      "现将《2018年政务公开工作要点》印发给你们，请认真贯彻执行。", "2018年政务公开工作要点"],
     "2018年政务公开工作要点"),
    (["附件：", "注：各单位按月报送。"], ""),
    ([], ""),
])
def test_the_title_of_a_word_plan_is_the_line_above_its_table(tmp_path, registry, above, title):
    """write_docx starts every document with a paragraph 附件, which is no title."""
    plan = read_plan(write_docx(tmp_path / "p.docx", *above, seed_without_title()), registry)
    assert plan.title == title


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_title_of_a_sheet_is_its_row_above_the_header_never_the_file_name(tmp_path, registry, suffix):
    table = seed_without_title()
    table.rows[0][0], table.rows[1][0] = "附件1", "2018年政务公开工作要点"
    assert read_plan(write_table(tmp_path / f"p{suffix}", table), registry).title == "2018年政务公开工作要点"
    assert read_plan(write_table(tmp_path / f"plan_ok{suffix}", seed_without_title()), registry).title == ""


# ---------------------------------------------------------------------------- roles


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "市财政局牵头,市有关单位,各县(市、区)人民政府(管委会)负责",
            [("市财政局", "牵头"), ("市有关单位", "负责"), ("各县(市、区)人民政府(管委会)", "负责")],
        ),
        (
            "市发展改革局、市政管办牵头，市有关单位，各县（市、区）人民政府（管委会）负责",
            [
                ("市发展改革局", "牵头"),
                ("市政管办", "牵头"),
                ("市有关单位", "负责"),
                ("各县(市、区)人民政府(管委会)", "负责"),
            ],
        ),
        (
            "市扶贫办、市民政局、市食品药品监管局、市环境保护局分别负责",
            [("市扶贫办", "分别负责"), ("市民政局", "分别负责"), ("市食品药品监管局", "分别负责"), ("市环境保护局", "分别负责")],
        ),
        ("市政管办负责", [("市政管办", "负责")]),
        ("重点领域相关单位(见附件2)", [("重点领域相关单位(见附件2)", "负责")]),
        ("市有关单位(见附件1,下同)", [("市有关单位(见附件1,下同)", "负责")]),
        ("由市财政局牵头，市民政局配合", [("市财政局", "牵头"), ("市民政局", "配合")]),
        ("市财政局牵头负责；市审计局协助", [("市财政局", "牵头"), ("市审计局", "配合")]),
        ("市财政局、市审计局共同负责", [("市财政局", "负责"), ("市审计局", "负责")]),
        ("市有关单位按职责分工负责", [("市有关单位", "负责")]),
        ("市有关单位等按职责分工负责", [("市有关单位", "负责")]),
        ("市 财政局\n牵头， 市审计局 参与", [("市财政局", "牵头"), ("市审计局", "配合")]),
        ("市财政局（牵头）、市审计局", [("市财政局", "牵头"), ("市审计局", "负责")]),
        ("市民政局、市财政局(牵头单位)，市审计局（配合）", [("市民政局", "负责"), ("市财政局", "牵头"), ("市审计局", "配合")]),
        ("市财政局（牵头）、市民政局、市审计局配合", [("市财政局", "牵头"), ("市民政局", "配合"), ("市审计局", "配合")]),
        ("市政府办公室（市政务公开办）牵头", [("市政府办公室(市政务公开办)", "牵头")]),
        ("", []),
    ],
)
def test_parse_roles(text, expected):
    assert parse_roles(text) == expected


def test_parse_roles_takes_the_column_role_for_names_without_one():
    assert parse_roles("市法制局、市发改局", "配合") == [("市法制局", "配合"), ("市发改局", "配合")]
    assert parse_roles("市财政局牵头，市审计局", "配合") == [("市财政局", "牵头"), ("市审计局", "配合")]
    assert parse_roles("市财政局（牵头）、市审计局", "配合") == [("市财政局", "牵头"), ("市审计局", "配合")]


# ---------------------------------------------------------------------------- cell text


@pytest.mark.parametrize(
    "value, expected",
    [
        ("市财政局\n牵头", "市财政局牵头"),
        ("  政务\r\n公开 ", "政务公开"),
        ("see\nhttp://gov.cn", "see http://gov.cn"),
        ("市\u3000财政局\xa0 牵头", "市 财政局 牵头"),
        (None, ""),
        (12, "12"),
    ],
)
def test_clean_cell(value, expected):
    assert clean_cell(value) == expected


def test_fold_and_bracket_aware_splits():
    assert fold("各县（市、区）人民政府（管委会）\n") == "各县(市、区)人民政府(管委会)"
    assert split_outside_brackets(fold("各县（市、区）、市财政局；市审计局"), "、;") == [
        "各县(市、区)", "市财政局", "市审计局"
    ]


# ---------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    "text, year, expected",
    [
        ("2019年6月底前", None, "2019-06-30"),
        ("2019年9月30日", None, "2019-09-30"),
        ("2019年9月30日前完成", None, "2019-09-30"),
        ("2019-08-31", None, "2019-08-31"),
        ("2019/8/31", None, "2019-08-31"),
        ("２０１９年６月底前", None, "2019-06-30"),
        ("2020年2月底前", None, "2020-02-29"),
        ("2019年12月底前", None, "2019-12-31"),
        ("2019年上半年", None, "2019-06-30"),
        ("2019年第三季度", None, "2019-09-30"),
        ("2019年3季度末", None, "2019-09-30"),
        ("2019年底前", None, "2019-12-31"),
        ("6月底前", 2019, "2019-06-30"),
        ("11月15日", 2019, "2019-11-15"),
        ("年内", 2019, "2019-12-31"),
        ("年底前", 2019, "2019-12-31"),
        ("第一季度", 2019, "2019-03-31"),
        ("6月底前", None, None),
        ("年内", None, None),
        ("每季度末", 2019, None),
        ("每月25日前", 2019, None),
        ("持续推进", 2019, None),
        ("长期坚持", 2019, None),
        ("2019年13月", None, None),
        ("2019年2月30日", None, None),
        ("", 2019, None),
    ],
)
def test_parse_deadline(text, year, expected):
    assert parse_deadline(text, year) == expected


# ---------------------------------------------------------------------------- the 序号 / 牵头 / 配合 layout


LEAD_SUPPORT_EXPECTED = [
    ("1-1", "推进决策公开", "制定重大行政决策事项目录并向社会公开。", "2019年6月底前", "2019-06-30",
     {("市政府办公室", "牵头"), ("市法制局", "配合"), ("市发展改革局", "配合")}),
    ("1-2", "推进决策公开", "做好重要政策文件的解读工作。", "2019年9月30日", "2019-09-30",
     roles("配合", CITY, leads={"市法制局"})),
    ("2-1", "推进管理服务公开", "公开财政预决算信息。", "2019-08-31", "2019-08-31",
     roles("配合", COUNTIES, leads={"市财政局"})),
    ("2-2", "推进管理服务公开", "公开公共资源交易信息。", "2019-08-31", "2019-08-31",
     {("市政管办", "牵头"), ("市电子政务办", "配合")}),
    ("2-3", "推进管理服务公开", "公开扶贫和社会救助信息。", "每季度末", None,
     roles("配合", CITY, leads={"市扶贫办", "市民政局"})),
    ("3-1", "加强舆情回应", "及时回应社会关切。", "持续推进", None,
     {("市新闻办", "牵头"), ("市网信办", "配合")}),
    ("3-2", "加强舆情回应", "公开审计发现问题的整改情况。", "年内", "2019-12-31",
     {("市财政局", "牵头"), ("市审计局", "配合")}),
]


@pytest.mark.parametrize("suffix", FORMATS)
def test_lead_support_layout(tmp_path, registry, suffix):
    plan = read_plan(write_table(tmp_path / f"分工{suffix}", lead_support_table()), registry, year=2019)
    assert summary(plan) == LEAD_SUPPORT_EXPECTED
    assert plan.tasks[0].responsibility == "市政府办公室；市法制局、市发改局"


def test_lead_support_layout_is_the_same_plan_in_every_format(tmp_path, registry):
    versions = {
        read_plan(write_table(tmp_path / f"p{suffix}", lead_support_table()), registry, year=2019).version
        for suffix in FORMATS
    }
    assert len(versions) == 1


def test_the_excel_date_cell_is_a_real_date(tmp_path):
    path = write_xlsx(tmp_path / "p.xlsx", lead_support_table())
    sheet = openpyxl.load_workbook(path).active
    assert sheet["E8"].value == dt.datetime(2019, 8, 31)
    assert sheet["E8"].is_date


def test_category_row_with_the_numeral_in_its_own_cell(tmp_path, registry):
    table = Table(4)
    table.add_row(["序号", "工作任务", "责任单位", "完成时限"])
    table.add_row(["一", "推进决策公开"])
    table.add_row(["1", "制定目录。", "市政府办公室负责", "2019年6月底前"])
    table.add_row(["二", "推进管理服务公开"])
    table.add_row(["1", "公开预算。", "市财政局负责", "2019年6月底前"])
    plan = read_plan(write_csv(tmp_path / "p.csv", table), registry)
    assert [(t.id, t.category) for t in plan.tasks] == [("1-1", "推进决策公开"), ("2-1", "推进管理服务公开")]


def test_a_header_repeated_on_a_new_page_and_a_gbk_csv(tmp_path, registry):
    table = Table(3)
    table.add_row(["工作任务", "具体要求", "责任单位"])
    table.add_row(["（一）公开", "1.甲。", "市财政局负责"])
    table.add_row(["工作任务", "具体要求", "责任单位"])
    table.add_row(["", "2.乙。", "市审计局负责"])
    plan = read_plan(write_csv(tmp_path / "p.csv", table, encoding="gb18030"), registry)
    assert [(t.id, t.category, t.requirement) for t in plan.tasks] == [("1-1", "公开", "甲。"), ("1-2", "公开", "乙。")]


def test_a_csv_saved_as_unicode_text_by_excel_or_notepad(tmp_path, registry):
    table = Table(3)
    table.add_row(["工作任务", "具体要求", "责任单位"])
    table.add_row(["（一）公开", "1.甲。", "市财政局负责"])
    plan = read_plan(write_csv(tmp_path / "p.csv", table, encoding="utf-16"), registry)
    assert [(t.id, t.requirement, t.units[0].name) for t in plan.tasks] == [("1-1", "甲。", "市财政局")]


def test_a_csv_cell_typed_on_several_lines_stays_one_cell_and_rows_count_as_records(tmp_path, registry):
    table = Table(3)
    table.add_row(["工作任务", "具体要求", "责任单位"])
    table.add_row(["（一）公开", "1.Open data\nportal。", "市财政局、\n市审计局负责"])
    table.add_row(["", "2.乙。", "市审计局负责"])
    plan = read_plan(write_csv(tmp_path / "p.csv", table), registry)
    assert [t.requirement for t in plan.tasks] == ["Open data portal。", "乙。"]
    assert [a.name for a in plan.tasks[0].units] == ["市财政局", "市审计局"]
    table.rows[2][2] = "市不存在局负责"
    with pytest.raises(PlanError) as caught:
        read_plan(write_csv(tmp_path / "q.csv", table), registry)
    assert "第3行：单位名录中没有“市不存在局”" in str(caught.value)  # the third row, not the fourth line


def test_tasks_before_any_category_get_a_default_one(tmp_path, registry):
    table = Table(2)
    table.add_row(["具体要求", "责任单位"])
    table.add_row(["公开预算。", "市财政局负责"])
    plan = read_plan(write_csv(tmp_path / "p.csv", table), registry)
    assert [(t.id, t.category) for t in plan.tasks] == [("1-1", "工作任务")]


# ---------------------------------------------------------------------------- errors


def test_unknown_units_and_groups_are_all_listed_with_their_rows(tmp_path, registry):
    table = seed_table(retyped=False)
    table.rows[3][2] = "市政府办公室、市不存在局,市有关单位(见附件1,下同)负责"  # row 4
    table.rows[9][2] = "市财政局牵头,市重点单位(见附件3),各县(市、区)人民政府(管委会)负责"  # row 10
    table.rows[14][2] = "市发展改革局牵头,市虚构局、市规范性文件起草单位负责"  # row 15: one known group, one unknown unit
    path = write_xlsx(tmp_path / "计划.xlsx", table)
    with pytest.raises(PlanError) as caught:
        read_plan(path, registry)
    assert str(caught.value).splitlines()[0] == "计划表 计划.xlsx 有 3 处问题，未加载："
    advice = "请在单位名录中补充该单位、别名或分组的引用写法，或改正计划表中的写法。"
    assert caught.value.problems == [
        f"第4行：单位名录中没有“市不存在局”（原文：市政府办公室、市不存在局,市有关单位(见附件1,下同)负责）。{advice}",
        f"第10行：单位名录中没有“市重点单位(见附件3)”（原文：市财政局牵头,市重点单位(见附件3),各县(市、区)人民政府(管委会)负责）。"
        f"您是不是指“重点领域相关单位”或“市有关单位”？{advice}",
        f"第15行：单位名录中没有“市虚构局”（原文：市发展改革局牵头,市虚构局、市规范性文件起草单位负责）。{advice}",
    ]


def test_unknown_names_in_the_lead_and_support_columns(tmp_path, registry):
    table = lead_support_table()
    table.rows[3][2] = "市未知局"
    table.rows[3][3] = "市有关单位、未知分组（见附件9）"
    problems = plan_problems(write_csv(tmp_path / "p.csv", table), registry, year=2019)
    assert [problem.split("（原文")[0] for problem in problems] == [
        "第4行：单位名录中没有“市未知局”",
        "第4行：单位名录中没有“未知分组(见附件9)”",
    ]


def test_a_group_with_no_members_is_an_error(tmp_path):
    registry = read_registry(
        write_registry(tmp_path / "r.xlsx", units=[["A1", "市甲局"]], groups=[["空组", "空组单位"]])
    )
    table = Table(2)
    table.add_row(["具体要求", "责任单位"])
    table.add_row(["甲。", "市甲局牵头，空组单位负责"])
    assert plan_problems(write_csv(tmp_path / "p.csv", table), registry) == [
        "第2行：分组“空组单位”在单位名录中没有成员单位。请在单位名录中为单位标上该分组。"
    ]


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_task_row_without_units_is_an_error(tmp_path, registry, suffix):
    table = seed_table(retyped=False)
    table.rows[4][2] = ""  # 1-2, sheet row 5, under a merged category cell
    table.rows[15][2] = "  "  # 3-2, sheet row 16
    assert plan_problems(write_table(tmp_path / f"p{suffix}", table), registry) == [
        "第5行：任务“2. 制定出台涉及公共利益、公众权益的政…”没有填写责任单位。",
        "第16行：任务“2.加强制度建设,落实信息发布的主体责任…”没有填写责任单位。",
    ]


def test_a_task_row_without_units_in_the_lead_support_layout(tmp_path, registry):
    table = lead_support_table()
    table.rows[6][2] = None
    table.rows[6][3] = None
    assert plan_problems(write_xlsx(tmp_path / "p.xlsx", table), registry, year=2019) == [
        "第7行：任务“公开财政预决算信息。”没有填写责任单位。"
    ]


def test_a_seed_text_row_without_units(tmp_path, registry):
    lines = SEED_PLAN.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].split("|")[0] + "|  |"
    path = tmp_path / "计划.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert plan_problems(path, registry) == ["第3行：任务“2. 制定出台涉及公共利益、公众权益的政…”没有填写责任单位。"]


def test_units_without_a_requirement_is_an_error(tmp_path, registry):
    table = Table(3)
    table.add_row(["序号", "具体要求", "责任单位"])
    table.add_row(["1", "", "市财政局负责"])
    assert plan_problems(write_csv(tmp_path / "p.csv", table), registry) == [
        "第2行：有责任单位但没有任务内容。请补上具体要求。"
    ]


def test_no_header_row(tmp_path, registry):
    table = Table(2)
    table.add_row(["任务", "单位"])
    table.add_row(["甲。", "市财政局负责"])
    with pytest.raises(PlanError) as caught:
        read_plan(write_csv(tmp_path / "p.csv", table), registry)
    assert str(caught.value) == (
        "计划表 p.csv 中找不到表头行。表头应含“工作任务”或“具体要求”，以及“责任单位”（或“牵头单位”“配合单位”）。"
    )


def test_a_header_without_tasks(tmp_path, registry):
    table = Table(2)
    table.add_row(["具体要求", "责任单位"])
    assert plan_problems(write_csv(tmp_path / "p.csv", table), registry) == ["表头下面没有任何任务行。"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("计划.pdf", b"%PDF", "计划表 计划.pdf 是 PDF 文件，无法从中读出任务和责任单位。请向发文单位索取 Word 或 Excel "
                             "原件，或把任务表复制到 Excel 中另存为 .xlsx 后再加载。"),
        ("计划", b"", "计划表 计划 的格式 （无扩展名） 不能读取。请另存为 .xlsx、.xls、.docx、.doc、.csv 或 .txt 文件。"),
    ],
)
def test_unreadable_formats(tmp_path, registry, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(PlanError) as caught:
        read_plan(path, registry)
    assert str(caught.value) == message


def test_missing_damaged_and_tableless_files(tmp_path, registry):
    with pytest.raises(PlanError, match="^找不到计划表文件："):
        read_plan(tmp_path / "无.xlsx", registry)
    damaged = tmp_path / "坏.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(PlanError, match=r"^计划表 坏\.xlsx 无法读取（.*）。请确认文件完整、未加密。$"):
        read_plan(damaged, registry)
    document = docx.Document()
    document.add_paragraph("2019年政务公开工作要点")
    document.save(str(tmp_path / "无表.docx"))
    with pytest.raises(PlanError) as caught:
        read_plan(tmp_path / "无表.docx", registry)
    assert str(caught.value) == (
        "计划表 无表.docx 中既没有任务表格，也没有在括号中写明责任单位的任务段落（如“……。（市财政局负责落实）”）。"
        "请确认文件内容，或把任务整理成表格。"
    )


# ---------------------------------------------------------------------------- Word plans in several tables


def _seed_split(header: bool):
    """The seed table split in two at the start of its third category."""
    table = seed_table(retyped=False)
    categories = [r for r, row in enumerate(table.rows) if r > 2 and row[0] and row[1]]  # a category's first row
    return table.split(categories[2], header=2 if header else None)


@pytest.mark.parametrize("between, header", [
    ((), False),                 # split by hand: the next table follows at once
    (("续表",), False),           # with a 续表 note
    (("续表：", ""), False),       # however it is written
    (("（续表一）",), False),
    (("续表（1）。",), False),
    (("第二部分",), True),         # text between, but the header repeated
])
def test_a_word_plan_split_into_tables_is_read_whole(tmp_path, registry, between, header):
    first, rest = _seed_split(header)
    appendix = Table(2)
    appendix.add_row(["附件1", "市有关单位名单"])
    path = write_docx(tmp_path / "p.docx", first, *between, rest, "附件1：市有关单位", appendix)
    plan = read_plan(path, registry)
    assert [t.id for t in plan.tasks] == SEED_IDS
    assert plan.version == read_plan(SEED_PLAN, registry).version


def test_a_table_after_text_without_the_header_is_not_part_of_the_plan(tmp_path, registry):
    first, rest = _seed_split(header=False)
    plan = read_plan(write_docx(tmp_path / "p.docx", first, "附件：往年任务（仅供参考）", rest), registry)
    assert len(plan.tasks) < len(SEED_IDS)
    assert [t.id for t in plan.tasks] == SEED_IDS[:len(plan.tasks)]
