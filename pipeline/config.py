"""The office's settings (配置.toml), and how every TOML file the office edits is read.

The office edits these files in Notepad: they arrive in whatever encoding it saved, with the
slips people make by hand. Each setting is described once, in KEYS (where it lives, what it
holds, how to write it); the checks and their Chinese messages are made from that table, and
every problem is listed at once.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .errors import PipelineError, WorkspaceError
from .text import decode_text
from .units import email_address

CONFIG_NAME = "配置.toml"

CONFIG_TEMPLATE = """\
# 报送系统工作区配置。可以用记事本修改，保存为 UTF-8。

[office]
city = {city}                  # 城市名称，出现在模板和报告标题中
name = {office}      # 收集单位
contact = "示例联系人"             # 办公室联系人（示例，请修改）
phone = "0000-5550000"
email = "office@example.gov.cn"

[plan]
year = {year}                    # 计划年度：没有写年份的完成时限按这一年理解
title = {title}   # 计划名称（示例）：计划表的表格上方没有标题行时，报告和通报用这个名称

[submission]
deadline_day = 25                # 每月几日前报送当月进展
resubmit_days = 3                # 退回修改后几日内重新报送
"""


@dataclass(frozen=True)
class Config:
    """The office's settings from the workspace configuration file."""

    city: str
    office: str
    contact: str
    phone: str
    email: str
    year: int
    deadline_day: int
    resubmit_days: int = 3
    plan_title: str = ""

    @property
    def plan_name(self) -> str:
        """What a plan without a title row is called: the title set here, or the plan year's 工作计划."""
        return self.plan_title or f"{self.year}年工作计划"


@dataclass(frozen=True)
class Key:
    """One setting of 配置.toml: where it is written, the Config field it fills, what it may hold.

    A key without a default is required. A text key's value is stripped; ``normal`` gives the
    form it is kept in, or None when the text is refused. An integer key holds a whole number
    (TOML ``true`` and ``2018.5`` are none) within ``span``, both ends included.
    """

    section: str
    key: str
    field: str
    meaning: str  # what it is, in the office's words
    example: str  # a value as it is written in the file
    kind: type = str
    span: tuple[int, int] | None = None
    normal: Callable[[str], str | None] | None = None
    default: str | int | None = None

    def how(self) -> str:
        """How to write it, for the messages."""
        if self.kind is int:
            return f"{self.key} = {self.example}（{self.meaning}，{self.span[0]} 到 {self.span[1]} 之间的整数，不加引号）"
        return f"{self.key} = {self.example}（{self.meaning}，文字用英文双引号括起来）"


KEYS = (
    Key("office", "city", "city", "城市名称", '"示例市"'),
    Key("office", "name", "office", "收集单位", '"示例市人民政府办公室"', default=""),
    Key("office", "contact", "contact", "办公室联系人", '"张三"', default=""),
    Key("office", "phone", "phone", "办公室联系电话", '"0000-5550000"', default=""),
    Key("office", "email", "email", "办公室邮箱地址", '"office@example.gov.cn"', normal=email_address, default=""),
    # Years as periods are written (check_period): four digits.
    Key("plan", "year", "year", "计划年度", "2018", int, (1900, 2999)),
    Key("plan", "title", "plan_title", "计划名称", '"2018年政务公开工作要点"', default=""),
    # Every month has a 28th.
    Key("submission", "deadline_day", "deadline_day", "每月报送截止日", "25", int, (1, 28)),
    # The 退回通知 asks for the file again within this many days of the later of the deadline and
    # the notice itself: at least the next day, and before next month's deadline comes round.
    Key("submission", "resubmit_days", "resubmit_days", "退回后几日内重新报送", "3", int, (1, 30), default=3),
)
SECTIONS = tuple(dict.fromkeys(key.section for key in KEYS))


def config_text(city: str, year: int, title: str, path: Path) -> str:
    """The 配置.toml of a new workspace at ``path``, checked as it will be read back."""
    # JSON's string syntax is a subset of TOML's: quotes and backslashes in a name are escaped.
    text = CONFIG_TEMPLATE.format(city=json.dumps(city, ensure_ascii=False),
                                  office=json.dumps(f"{city}人民政府办公室", ensure_ascii=False), year=year,
                                  title=json.dumps(title, ensure_ascii=False))
    parse_config(tomllib.loads(text), path)
    return text


def read_config(path: Path) -> Config:
    """The settings in the workspace's 配置.toml; WorkspaceError naming every key that is wrong."""
    return parse_config(read_toml(path, "配置文件", WorkspaceError), path)


def parse_config(data: dict, path: Path) -> Config:
    """The Config in the parsed file ``path``; WorkspaceError listing every problem, section by section."""
    values, problems = {}, []
    for section in SECTIONS:
        keys = [key for key in KEYS if key.section == section]
        table = data.get(section)
        if not isinstance(table, dict):
            problems.append(f"[{section}]：缺少这一节。请加上一行 [{section}]，在它下面写 "
                            + "、".join(key.how() for key in keys if key.default is None) + "。")
            continue
        for key in keys:
            value, problem = _value(table, key)
            if problem:
                problems.append(f"[{section}] {key.key}：{problem}请写成 {key.how()}。")
            values[key.field] = value
        known = [key.key for key in keys]
        problems += [f"[{section}] {name}：不认识这一项，可能写错了。[{section}] 下可写的项有 {'、'.join(known)}。"
                     for name in table if name not in known]
    sections = "、".join(f"[{section}]" for section in SECTIONS)
    problems += [f"[{name}]：不认识这一节。可写的节有 {sections}。" if isinstance(value, dict) else
                 f"{name}：这一项不在任何一节下。可写的节有 {sections}，每一项写在它所属的节下面。"
                 for name, value in data.items() if name not in SECTIONS]
    if problems:
        raise WorkspaceError(f"配置文件 {path} 有 {len(problems)} 处问题，请修改后重新运行：", problems)
    return Config(**values)


def _value(table: dict, key: Key) -> tuple[object, str | None]:
    """The key's value in its section, or what is wrong with it."""
    if key.key not in table:
        return key.default, "缺少这一项。" if key.default is None else None
    value = table[key.key]
    shown = json.dumps(value, ensure_ascii=False, default=str)  # as the file writes it
    if key.kind is int:
        if type(value) is not int:
            return None, f"值 {shown} 不是整数。"
        if not key.span[0] <= value <= key.span[1]:
            return None, f"值 {shown} 不在 {key.span[0]} 到 {key.span[1]} 之间。"
        return value, None
    if not isinstance(value, str):
        return None, f"值 {shown} 不是文字。"
    text = value.strip()
    if not text:
        return key.default, "不能为空。" if key.default is None else None
    normal = key.normal(text) if key.normal else text
    return normal, None if normal else f"值 {shown} 不是有效的{key.meaning}。"


# ---------------------------------------------------------------------------- TOML files the office edits

# Where tomllib's message says the slip is: a line, or the end of the file (an unclosed quote
# or bracket, a key written twice on the last line).
_AT = re.compile(r"\(at (?:line (\d+), column \d+|end of document)\)$")
# tomllib's words for a slip, and what it means to someone editing in Notepad.
_SLIPS = (
    ("Invalid value", "值的写法不对：文字要用英文双引号括起来，数字不加引号"),
    ("Expected newline or end of document", "值后面还有多余的内容：数字后面不能跟文字，说明要写在 # 之后"),
    ("Expected '=' after a key", "缺少英文等号 =，应写成 键 = 值"),
    ("Invalid statement", "这一行既不是“键 = 值”也不是“[节名]”：键名只用英文字母、数字和下划线"),
    ("Invalid initial character for a key", "键名的写法不对：键名只用英文字母、数字和下划线"),
    ("Cannot overwrite a value", "同一项写了两次"),
    ("Cannot declare", "同一节写了两次"),
    ("Unterminated string", "引号没有成对：文字要用一对英文双引号括起来，写在同一行"),
    ("Illegal character", "引号没有成对，或有不能出现的控制字符：文字要用一对英文双引号括起来，写在同一行"),
    ("Unescaped '\\'", "文字中的反斜杠 \\ 要写成两个 \\\\"),
    ("Expected ']'", "节名要写在一对英文方括号中，如 [office]"),
    ("Unclosed array", "方括号 [ ] 没有成对"),
)
_HINT = "每行写一项 键 = 值；文字用英文双引号括起来，如 \"示例市\"；数字不加引号，如 2018；# 后面是说明。"


def read_toml(path: Path, what: str, error: type[PipelineError]) -> dict:
    """A TOML file the office edits, in any encoding Notepad saves (decode_text); a file that
    cannot be read or parsed is ``error``, its message naming the file (``what`` says which kind)
    and, for a slip, the line and its text."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise error(f"无法读取{what} {path}。请确认文件存在，并有读取权限。") from exc
    text = decode_text(raw)
    if text is None:
        raise error(f"{what} {path} 的文字编码无法识别。请用记事本打开，另存为 UTF-8 编码。")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        lines = text.split("\n")
        at = _AT.search(str(exc))
        number = int(at[1]) if at and at[1] else len(text.rstrip().split("\n"))
        slip = next((words for start, words in _SLIPS if str(exc).startswith(start)), "不符合 TOML 写法")
        raise error(f"{what} {path} 第 {number} 行写错了：{slip}。\n"
                    f"  第 {number} 行：{lines[number - 1].rstrip()}\n"
                    f"请修改这一行。{_HINT}") from exc
