"""配置.toml, as the office edits it in Notepad: every encoding Notepad saves, slips told by their
line, every key checked against the table of keys and every problem listed at once."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest

from helpers import SEED_PLAN
from pipeline.cli import cli
from pipeline.config import Config
from pipeline.errors import SpecError, WorkspaceError
from pipeline.form import load_spec
from pipeline.workspace import BUNDLED_SPEC, Workspace

SAMPLE = Config(city="示例市", office="示例市人民政府办公室", contact="示例联系人", phone="0000-5550000",
                email="office@example.gov.cn", year=2018, deadline_day=25, resubmit_days=3,
                plan_title="2018年政务公开工作要点")


@pytest.fixture
def ws(workspace) -> Workspace:
    return Workspace.open(workspace)


def edited(ws: Workspace, *edits: tuple[str, str], encoding: str = "utf-8") -> Path:
    """The workspace's 配置.toml with each ``(old, new)`` text replaced, saved in ``encoding``."""
    text = ws.config_path.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    ws.config_path.write_bytes(text.encode(encoding))
    return ws.config_path


def problems(ws: Workspace) -> list[str]:
    with pytest.raises(WorkspaceError) as caught:
        ws.config()
    assert str(caught.value).splitlines()[0] == (
        f"配置文件 {ws.config_path} 有 {len(caught.value.problems)} 处问题，请修改后重新运行：")
    return caught.value.problems


def test_init_writes_a_config_that_reads_back(ws):
    assert ws.config() == SAMPLE


# ---------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16-le", "utf-16-be"])
def test_every_encoding_notepad_saves_is_read(ws, encoding):
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(encoding, b"")
    text = ws.config_path.read_text(encoding="utf-8").replace('"示例市"', '"青州市"')
    ws.config_path.write_bytes(bom + text.encode(encoding))
    assert ws.config().city == "青州市"


def test_bytes_in_no_known_encoding_are_told_without_codec_words(ws):
    ws.config_path.write_bytes(b"[office]\ncity = \"\x81\xff\"\n")
    with pytest.raises(WorkspaceError) as caught:
        ws.config()
    assert str(caught.value) == f"配置文件 {ws.config_path} 的文字编码无法识别。请用记事本打开，另存为 UTF-8 编码。"


# ---------------------------------------------------------------------------- slips in the TOML

HINT = '请修改这一行。每行写一项 键 = 值；文字用英文双引号括起来，如 "示例市"；数字不加引号，如 2018；# 后面是说明。'


def test_a_slip_names_the_file_the_line_and_shows_it(ws):
    edited(ws, ('city = "示例市"', "city = 示例市"))
    with pytest.raises(WorkspaceError) as caught:
        ws.config()
    assert str(caught.value) == (
        f"配置文件 {ws.config_path} 第 4 行写错了：值的写法不对：文字要用英文双引号括起来，数字不加引号。\n"
        "  第 4 行：city = 示例市                  # 城市名称，出现在模板和报告标题中\n" + HINT)


@pytest.mark.parametrize("old, new, line, slip", [
    ('city = "示例市"', "city = “示例市”", 4, "值的写法不对"),
    ("deadline_day = 25", "deadline_day ＝ 25", 15, "缺少英文等号 ="),
    ("year = 2018", "year = 2018年", 11, "值后面还有多余的内容"),
    ("year = 2018", "计划年度 = 2018", 11, "这一行既不是“键 = 值”也不是“[节名]”"),
    ("[plan]", "[plan", 10, "节名要写在一对英文方括号中"),
    ("resubmit_days = 3                # 退回修改后几日内重新报送", 'resubmit_days = "3', 16, "引号没有成对"),
    ("resubmit_days = 3", "resubmit_days = 3\ndeadline_day = 20", 17, "同一项写了两次"),
    ('phone = "0000-5550000"', 'phone = "0000\\5550000"', 7, "文字中的反斜杠 \\ 要写成两个"),
])
def test_each_slip_is_told_by_its_line(ws, old, new, line, slip):
    edited(ws, (old, new))
    with pytest.raises(WorkspaceError) as caught:
        ws.config()
    head, shown, hint = str(caught.value).splitlines()
    assert head.startswith(f"配置文件 {ws.config_path} 第 {line} 行写错了：{slip}")
    assert shown == f"  第 {line} 行：{ws.config_path.read_text(encoding='utf-8').splitlines()[line - 1].rstrip()}"
    assert hint == HINT and "line" not in head and "Invalid" not in head


def test_the_form_spec_is_read_the_same_way(tmp_path):
    spec = tmp_path / "表单.toml"
    spec.write_bytes(codecs.BOM_UTF8 + BUNDLED_SPEC.read_bytes())
    assert load_spec(spec) == load_spec(BUNDLED_SPEC)
    spec.write_text(BUNDLED_SPEC.read_text(encoding="utf-8").replace('title = "', "title = “", 1), encoding="utf-8")
    with pytest.raises(SpecError, match=rf"^表单配置文件 {re.escape(str(spec))} 第 \d+ 行写错了：值的写法不对"):
        load_spec(spec)
    with pytest.raises(SpecError, match=rf"^无法读取表单配置文件 {re.escape(str(tmp_path / '无.toml'))}。"):
        load_spec(tmp_path / "无.toml")


# ---------------------------------------------------------------------------- keys and values


def test_every_wrong_key_is_listed_at_once(ws):
    edited(ws, ('city = "示例市"', 'city = ["a"]'), ('email = "office@example.gov.cn"', 'email = "电话联系"'),
           ("year = 2018", "year = 2018.5"), ("deadline_day = 25", 'deadline_day = "25日"'),
           ("resubmit_days = 3", "resubmit_days = true\nresubmit_day = 5"))
    assert problems(ws) == [
        '[office] city：值 ["a"] 不是文字。请写成 city = "示例市"（城市名称，文字用英文双引号括起来）。',
        '[office] email：值 "电话联系" 不是有效的办公室邮箱地址。'
        '请写成 email = "office@example.gov.cn"（办公室邮箱地址，文字用英文双引号括起来）。',
        "[plan] year：值 2018.5 不是整数。请写成 year = 2018（计划年度，1900 到 2999 之间的整数，不加引号）。",
        '[submission] deadline_day：值 "25日" 不是整数。请写成 deadline_day = 25（每月报送截止日，1 到 28 之间的整数，不加引号）。',
        "[submission] resubmit_days：值 true 不是整数。"
        "请写成 resubmit_days = 3（退回后几日内重新报送，1 到 30 之间的整数，不加引号）。",
        "[submission] resubmit_day：不认识这一项，可能写错了。[submission] 下可写的项有 deadline_day、resubmit_days。",
    ]


@pytest.mark.parametrize("old, new, key, found", [
    ("year = 2018", "year = 0", "[plan] year", "值 0 不在 1900 到 2999 之间。"),
    ("year = 2018", "year = 3000", "[plan] year", "值 3000 不在 1900 到 2999 之间。"),
    ("year = 2018", 'year = "2018"', "[plan] year", '值 "2018" 不是整数。'),
    ("deadline_day = 25", "deadline_day = 0", "[submission] deadline_day", "值 0 不在 1 到 28 之间。"),
    ("deadline_day = 25", "deadline_day = 31", "[submission] deadline_day", "值 31 不在 1 到 28 之间。"),
    ("resubmit_days = 3", "resubmit_days = 0", "[submission] resubmit_days", "值 0 不在 1 到 30 之间。"),
    ("resubmit_days = 3", "resubmit_days = -2", "[submission] resubmit_days", "值 -2 不在 1 到 30 之间。"),
    ('city = "示例市"', 'city = "  "', "[office] city", "不能为空。"),
    ('city = "示例市"', "# 城市", "[office] city", "缺少这一项。"),
    ('phone = "0000-5550000"', "phone = 5550000", "[office] phone", "值 5550000 不是文字。"),
    ('email = "office@example.gov.cn"', 'email = "张三@x.gov.cn"', "[office] email", '值 "张三@x.gov.cn" 不是有效的办公室邮箱地址。'),
])
def test_a_value_of_the_wrong_type_or_out_of_range_is_refused(ws, old, new, key, found):
    edited(ws, (old, new))
    [problem] = problems(ws)
    assert problem.startswith(f"{key}：{found}请写成 {key.split()[1]} = ")


@pytest.mark.parametrize("old, new, field, value", [
    ("year = 2018", "year = 1900", "year", 1900),
    ("year = 2018", "year = 2999", "year", 2999),
    ("deadline_day = 25", "deadline_day = 1", "deadline_day", 1),
    ("deadline_day = 25", "deadline_day = 28", "deadline_day", 28),
    ("resubmit_days = 3", "resubmit_days = 30", "resubmit_days", 30),
    ("resubmit_days = 3", "", "resubmit_days", 3),
    ('city = "示例市"', 'city = "  青州市 "', "city", "青州市"),
    ('contact = "示例联系人"', "", "contact", ""),
    ('email = "office@example.gov.cn"', 'email = ""', "email", ""),
    ('email = "office@example.gov.cn"', 'email = "ｏｆｆｉｃｅ＠ｑｚ.gov.cn "', "email", "office@qz.gov.cn"),
    ('title = "2018年政务公开工作要点"', 'title = " 2019年政务公开重点工作 "', "plan_title", "2019年政务公开重点工作"),
    ('title = "2018年政务公开工作要点"', "", "plan_title", ""),
])
def test_values_at_the_ends_of_their_range_blanks_and_left_out_keys(ws, old, new, field, value):
    edited(ws, (old, new))
    assert getattr(ws.config(), field) == value


@pytest.mark.parametrize("title, name", [("2019年政务公开重点工作", "2019年政务公开重点工作"), ("", "2018年工作计划")])
def test_a_plan_without_a_title_row_is_named_by_the_configuration(ws, title, name):
    edited(ws, ('title = "2018年政务公开工作要点"', f'title = "{title}"'))
    assert ws.config().plan_name == name


def test_missing_sections_and_keys_out_of_place_are_named(ws):
    ws.config_path.write_text('city = "示例市"\n[office]\nname = "办公室"\n[plan]\nyear = 2018\n[other]\na = 1\n',
                              encoding="utf-8")
    assert problems(ws) == [
        '[office] city：缺少这一项。请写成 city = "示例市"（城市名称，文字用英文双引号括起来）。',
        "[submission]：缺少这一节。请加上一行 [submission]，在它下面写 "
        "deadline_day = 25（每月报送截止日，1 到 28 之间的整数，不加引号）。",
        "city：这一项不在任何一节下。可写的节有 [office]、[plan]、[submission]，每一项写在它所属的节下面。",
        "[other]：不认识这一节。可写的节有 [office]、[plan]、[submission]。",
    ]


# ---------------------------------------------------------------------------- the command line


def test_a_command_stops_with_the_problems_and_no_traceback(ws, runner):
    edited(ws, ("year = 2018", "year = 0"), ("deadline_day = 25", 'deadline_day = "25日"'), encoding="utf-8-sig")
    result = runner.invoke(cli, ["-w", str(ws.root), "plan", "load", str(SEED_PLAN)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"错误：配置文件 {ws.config_path} 有 2 处问题，请修改后重新运行：\n"
        "  - [plan] year：值 0 不在 1900 到 2999 之间。请写成 year = 2018（计划年度，1900 到 2999 之间的整数，不加引号）。\n"
        '  - [submission] deadline_day：值 "25日" 不是整数。'
        "请写成 deadline_day = 25（每月报送截止日，1 到 28 之间的整数，不加引号）。\n")


def test_init_writes_any_city_name_as_toml_text(tmp_path, runner):
    city = '青州"市\\新区'
    result = runner.invoke(cli, ["init", str(tmp_path / "ws"), "--city", city])
    assert result.exit_code == 0, result.output
    config = Workspace.open(tmp_path / "ws").config()
    assert (config.city, config.office) == (city, f"{city}人民政府办公室")


def test_init_refuses_a_blank_city_before_writing_anything(tmp_path, runner):
    result = runner.invoke(cli, ["init", str(tmp_path / "ws"), "--city", " "])
    assert result.exit_code == 1
    assert '[office] city：不能为空。请写成 city = "示例市"' in result.stderr
    assert not (tmp_path / "ws").exists()
