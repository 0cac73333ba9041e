"""The unit registry (PRODUCT 2.2): reading the contract workbook, every error with its row, resolution."""

from __future__ import annotations

import pytest

from helpers import CITY, COUNTIES, DRAFTERS, KEY_AREAS, UNIT_HEADER, read_sample_csv, write_registry
from pipeline.errors import RegistryError
from pipeline.units import Group, Registry, Unit, abbreviates, read_registry

COUNTY_REFERENCE = "各县(市、区)人民政府(管委会)"


def registry_problems(path) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        read_registry(path)
    return caught.value.problems


# ---------------------------------------------------------------------------- reading


def test_sample_registry_reads_every_unit_and_group(registry):
    sample = read_sample_csv("单位名录")
    assert [unit.code for unit in registry.units] == [row["单位编码"] for row in sample]
    assert [unit.name for unit in registry.units] == [row["单位名称"] for row in sample]
    assert len(registry.units) >= 40
    assert [group.name for group in registry.groups] == [row["分组名称"] for row in read_sample_csv("分组")]


def test_unit_fields_are_split_and_folded(registry):
    assert registry.by_code()["S013"] == Unit(
        code="S013",
        name="市住房城乡建设局",
        aliases=("市住建局", "市住房和城乡建设局"),
        groups=("附件1市有关单位", "附件2重点领域相关单位", "规范性文件起草单位"),
        contact="示例联系人13",
        phone="0000-5550013",
        email="s013@example.gov.cn",
    )
    assert registry.groups[2] == Group(
        name="县(市、区)政府", refs=("各县(市、区)人民政府(管委会)", "各县(市、区)政府", "各县(市、区)")
    )


def test_list_cells_take_every_separator_and_width(tmp_path):
    path = write_registry(
        tmp_path / "r.xlsx",
        units=[["A1", "市甲局", "甲局，甲；市甲 局", "一组;二组", "", "", ""]],
        groups=[["一组", "一组单位（见附件1）、一组"], ["二组", ""]],
    )
    registry = read_registry(path)
    assert registry.units[0].aliases == ("甲局", "甲")
    assert registry.units[0].groups == ("一组", "二组")
    assert registry.groups[0].refs == ("一组单位(见附件1)", "一组")


def test_addresses_are_checked_and_several_kept(tmp_path):
    path = write_registry(tmp_path / "r.xlsx", units=[
        ["A1", "市甲局", "", "", "", "", "a@x.gov.cn；b@y.gov.cn"],
        ["A2", "市乙局", "", "", "", "", "ｃ＠ｚ.gov.cn"],
        ["A3", "市丙局", "", "", "", "", "张三@x.gov.cn"],
        ["A4", "市丁局", "", "", "", "", "电话联系"],
    ], groups=[])
    assert registry_problems(path) == [
        "单位名录!第4行：邮箱“张三@x.gov.cn”不是有效的邮箱地址。请写成 name@example.gov.cn 的样子，多个地址之间用“;”分隔。",
        "单位名录!第5行：邮箱“电话联系”不是有效的邮箱地址。请写成 name@example.gov.cn 的样子，多个地址之间用“;”分隔。",
    ]
    good = write_registry(tmp_path / "good.xlsx", units=[
        ["A1", "市甲局", "", "", "", "", "a@x.gov.cn；b@y.gov.cn"], ["A2", "市乙局", "", "", "", "", "ｃ＠ｚ.gov.cn"]],
        groups=[])
    units = read_registry(good).by_code()
    assert units["A1"].addresses == ("a@x.gov.cn", "b@y.gov.cn") and units["A2"].addresses == ("c@z.gov.cn",)


def test_codes_typed_as_numbers_and_a_title_row_above_the_header(tmp_path):
    path = write_registry(
        tmp_path / "r.xlsx",
        units=[[1001, "市甲局", "", "", "", "", ""], [1002.0, "市乙局", "", "", "", 5550002, ""]],
        groups=[],
        title="示例市单位名录（2019年）",
    )
    registry = read_registry(path)
    assert [(unit.code, unit.name) for unit in registry.units] == [("1001", "市甲局"), ("1002", "市乙局")]
    assert registry.units[1].phone == "5550002"
    assert registry.groups == []


def test_blank_rows_are_skipped(tmp_path):
    path = write_registry(
        tmp_path / "r.xlsx", units=[["A1", "市甲局"], [], ["", "  "], ["A2", "市乙局"]], groups=[]
    )
    assert [unit.code for unit in read_registry(path).units] == ["A1", "A2"]


# ---------------------------------------------------------------------------- errors


def test_every_problem_is_listed_with_its_row(tmp_path):
    path = write_registry(
        tmp_path / "名录.xlsx",
        units=[
            ["A1", "市甲局", "甲局", "一组", "", "", ""],  # row 2
            ["A1", "市乙局", "", "", "", "", ""],  # row 3: duplicate code
            ["A3", "市甲局", "", "", "", "", ""],  # row 4: duplicate name
            ["A4", "市丙局", "甲局", "", "", "", ""],  # row 5: alias shared with row 2
            ["A5", "市丁局", "", "一组、未定义组", "", "", ""],  # row 6: group nobody defines
            ["", "市戊局", "", "", "", "", ""],  # row 7: no code
            ["A7", "", "", "", "", "", ""],  # row 8: no name
        ],
        groups=[["一组", "一组单位"]],
    )
    with pytest.raises(RegistryError) as caught:
        read_registry(path)
    assert str(caught.value).splitlines()[0] == "单位名录 名录.xlsx 有 6 处问题，请修改后重新加载："
    assert caught.value.problems == [
        "单位名录!第3行：单位编码“A1”重复（第2行已使用）。请改为唯一编码。",
        "单位名录!第4行：单位名称“市甲局”与第2行单位（A1）的名称或别名重复。一个名称只能指一个单位，请删去或改写其中一个。",
        "单位名录!第5行：别名“甲局”与第2行单位（A1）的名称或别名重复。一个名称只能指一个单位，请删去或改写其中一个。",
        "单位名录!第7行：单位“市戊局”没有单位编码。请填写唯一的单位编码。",
        "单位名录!第8行：单位编码“A7”没有单位名称。请填写计划中使用的单位名称。",
        "单位名录!第6行：单位“市丁局”（A5）属于分组“未定义组”，但工作表“分组”没有定义它。请在“分组”中添加该分组。",
    ]


def test_codes_are_folded_to_half_width_and_stripped(tmp_path):
    path = write_registry(tmp_path / "r.xlsx", units=[["Ｓ００１ ", "市甲局"], [" s-0_2\u3000", "市乙局"]], groups=[])
    assert [unit.code for unit in read_registry(path).units] == ["S001", "s-0_2"]


def test_a_code_that_could_not_name_a_file_is_refused_with_its_row(tmp_path):
    path = write_registry(tmp_path / "r.xlsx", units=[
        ["S001", "市甲局"],
        ["../../../../tmp/x", "市乙局"],  # row 3
        ["S/009", "市丙局"],
        ["S 001", "市丁局"],
        ["S00１.", "市戊局"],
        ["甲局01", "市己局"],
        ["S" * 33, "市庚局"],
        ["S" * 32, "市辛局"],  # the longest allowed
    ], groups=[])
    rule = "单位编码只能由英文字母、数字、“-”和“_”组成，最多 32 个字符，例如 S001。请改写。"
    assert registry_problems(path) == [
        f"单位名录!第{row}行：单位编码“{code}”不能使用。{rule}"
        for row, code in [(3, "../../../../tmp/x"), (4, "S/009"), (5, "S 001"), (6, "S001."), (7, "甲局01"), (8, "S" * 33)]
    ]


def test_codes_differing_only_in_case_or_width_are_duplicates(tmp_path):
    path = write_registry(tmp_path / "r.xlsx", units=[["S001", "市甲局"], ["s001", "市乙局"], ["Ｓ００１", "市丙局"]],
                          groups=[])
    assert registry_problems(path) == [
        "单位名录!第3行：单位编码“s001”重复（第2行已使用“S001”，大小写不同也算同一编码）。请改为唯一编码。",
        "单位名录!第4行：单位编码“S001”重复（第2行已使用）。请改为唯一编码。",
    ]


def test_duplicate_names_match_across_widths_and_spaces(tmp_path):
    path = write_registry(
        tmp_path / "r.xlsx",
        units=[["A1", "县(市、区)办"], ["A2", "县（市、区） 办"]],
        groups=[],
    )
    assert registry_problems(path) == [
        "单位名录!第3行：单位名称“县（市、区） 办”与第2行单位（A1）的名称或别名重复。"
        "一个名称只能指一个单位，请删去或改写其中一个。"
    ]


def test_group_problems_name_their_row(tmp_path):
    path = write_registry(
        tmp_path / "r.xlsx",
        units=[["A1", "市甲局", "", "一组"]],
        groups=[["一组", "有关单位"], ["一组", ""], ["", "无名写法"], ["二组", "有关单位、市甲局"]],
    )
    assert registry_problems(path) == [
        "分组!第3行：分组名称“一组”重复（第2行已定义）。",
        "分组!第4行：有引用写法但没有分组名称。请填写分组名称。",
        "分组!第5行：引用写法“有关单位”同时属于分组“一组”和“二组”。",
        "分组!第5行：分组“二组”的引用写法“市甲局”与某个单位的名称或别名相同。",
    ]


@pytest.mark.parametrize(
    "unit_header, group_header, expected",
    [
        (UNIT_HEADER, None, ["缺少工作表“分组”。请按模板添加该工作表（可只有表头）。"]),
        (None, ["分组名称", "引用写法"], ["缺少工作表“单位名录”。请按模板添加该工作表。"]),
        (
            ["单位编码", "名称", "别名"],
            ["分组名称", "引用写法"],
            ["单位名录：找不到表头列 单位名称。请在前 10 行内放一行表头，含“单位编码”和“单位名称”。"],
        ),
        (
            ["编码", "名称"],
            ["分组名称", "引用写法"],
            ["单位名录：找不到表头列 单位编码、单位名称。请在前 10 行内放一行表头，含“单位编码”和“单位名称”。"],
        ),
        (UNIT_HEADER, ["名称", "写法"], ["分组：找不到表头“分组名称”“引用写法”。请在前 10 行内放一行表头。"]),
    ],
)
def test_missing_sheets_and_columns(tmp_path, unit_header, group_header, expected):
    path = write_registry(
        tmp_path / "r.xlsx", units=[["A1", "市甲局"]], groups=[], unit_header=unit_header, group_header=group_header
    )
    assert registry_problems(path) == expected


def test_an_empty_unit_sheet_is_an_error(tmp_path):
    path = write_registry(tmp_path / "r.xlsx", units=[], groups=[], unit_header=[])
    assert registry_problems(path) == [
        "单位名录：找不到表头列 单位编码、单位名称。请在前 10 行内放一行表头，含“单位编码”和“单位名称”。"
    ]


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(RegistryError) as missing:
        read_registry(tmp_path / "无.xlsx")
    assert str(missing.value) == f"找不到单位名录文件：{tmp_path / '无.xlsx'}。请用 --units 指定单位名录 .xlsx 文件。"
    not_xlsx = tmp_path / "名录.xlsx"
    not_xlsx.write_text("单位编码,单位名称\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"^无法打开单位名录 名录\.xlsx：.*。请确认它是 Excel \.xlsx 文件。$"):
        read_registry(not_xlsx)


# ---------------------------------------------------------------------------- resolution


def names(units) -> set[str]:
    return {unit.name for unit in units}


@pytest.mark.parametrize(
    "reference, expected",
    [
        ("市有关单位", CITY),
        ("市有关单位(见附件1,下同)", CITY),
        ("市有关单位（见附件1，下同）", CITY),
        ("市直有关单位（详见附件1）", CITY),
        (COUNTY_REFERENCE, COUNTIES),
        ("各县（市、区）人民政府（管委会）", COUNTIES),
        ("各县 (市、区)\n政府", COUNTIES),
        ("重点领域相关单位(见附件2)", KEY_AREAS),
        ("市规范性文件起草单位", DRAFTERS),
        ("附件1市有关单位", CITY),
        ("市财政局", {"市财政局"}),
        ("市 财政局", {"市财政局"}),
        ("市发改局", {"市发展改革局"}),
        ("市政务服务管理办公室", {"市政管办"}),
    ],
)
def test_resolve_names_aliases_and_group_references(registry, reference, expected):
    assert names(registry.resolve(reference)) == expected


def test_resolve_unknown_is_none_and_an_empty_group_is_empty(tmp_path):
    registry = read_registry(
        write_registry(tmp_path / "r.xlsx", units=[["A1", "市甲局"]], groups=[["空组", "无成员单位"]])
    )
    assert registry.resolve("市乙局") is None
    assert registry.resolve("市甲局(附件3)") == registry.units
    assert registry.resolve("无成员单位（见附件3）") == []


@pytest.mark.parametrize("reference", ["一组单位", "一组单位(见附件1,下同)", "一组单位（附件1）"])
def test_a_reference_written_with_its_note_in_the_registry_still_matches(tmp_path, reference):
    registry = read_registry(
        write_registry(tmp_path / "r.xlsx", units=[["A1", "市甲局", "", "一组"]], groups=[["一组", "一组单位（见附件1）"]])
    )
    assert registry.resolve(reference) == registry.units


def test_the_sample_groups_are_not_trivial():
    assert len(CITY) > 30 and len(COUNTIES) >= 8
    assert "市政府办公室" not in CITY


# ---------------------------------------------------------------------------- close names


@pytest.mark.parametrize("short, long", [
    ("市发改委", "市发展改革委"), ("市环保局", "市环境保护局"), ("市人社局", "市人力资源社会保障局"),
    ("市住建局", "市住房城乡建设局"), ("市食药监局", "市食品药品监督管理局"), ("区发改委", "区发展和改革委"),
    ("市发改委", "市发展改革委 "), ("市国土局", "市国土资源局"),
])
def test_abbreviations(short, long):
    assert abbreviates(short, long)
    assert not abbreviates(long, short)


@pytest.mark.parametrize("short, long", [
    ("市教育局", "市体育局"),  # the same length, one character apart: two bureaus
    ("市教育局", "区教育局"),  # another level
    ("市发改委", "市发展改革局"),  # 委 and 局
    ("市林业局", "市农林业局"),  # the name begins otherwise
    ("市财政局", "市财政局机关服务中心"),  # a body of the bureau, not the bureau
    ("市局", "市公安局"),  # too short to be a name
    ("市财政局", "市财政局"),
])
def test_near_misses_are_no_abbreviations(short, long):
    assert not abbreviates(short, long) and not abbreviates(long, short)


def test_suggestions_for_unknown_names(registry):
    assert registry.suggest("市文广局") == ["市文化广电新闻出版局"]  # abbreviation of the name and of its alias
    assert registry.suggest("市扶贫开发办") == ["市扶贫办"]  # the registry has the short name
    assert registry.suggest("市财正局") == ["市财政局"]  # a slip
    assert registry.suggest("市城管委")[0] == "市城市综合管理局"  # closest first
    assert registry.suggest("各县(市、区)人民政府（管委）") == ["各县(市、区)人民政府(管委会)"]  # a group by its 引用写法
    assert registry.suggest("市有关单位（见附件9）")[0] == "市有关单位"
    assert registry.suggest("省气象局") == []


def test_suggestions_are_offered_by_name_once_each():
    registry = Registry([Unit("A1", "市发展改革委", aliases=("市发展和改革委员会",)), Unit("A2", "市体育局")],
                        [Group("市直", ("市直各部门", "市直单位"))])
    assert registry.suggest("市发改委") == ["市发展改革委"]
    assert registry.suggest("市教育局") == ["市体育局"]  # not an alias: a close spelling to check
    assert registry.suggest("市直各单位") == ["市直各部门"]
