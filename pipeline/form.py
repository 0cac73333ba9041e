"""The form spec (templates/表单.toml): columns, labels, types, rules, choices and help text.

It is the single source of truth: the template writer, the submission reader, the validator
and the reports all derive their columns from it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from .config import read_toml
from .errors import SpecError

BUNDLED_SPEC = Path(__file__).resolve().parent.parent / "templates" / "表单.toml"
SPEC_NAME = "表单.toml"
COLUMN_KINDS = ("task", "input")
VALUE_TYPES = ("text", "choice", "percent", "date", "url", "phone")
TASK_SOURCES = ("seq", "id", "category", "requirement", "role", "deadline")
HEADER_PREFILLS = ("unit_name", "unit_code")
# What a column or header field means to the program. Keys and labels are the office's to
# change; every stage finds a column by its role. Each role here appears exactly once.
INPUT_ROLES = ("status", "percent", "progress", "problems", "next_steps", "evidence", "remarks")
HEADER_ROLES = ("unit", "reporter", "phone", "report_date")
OPTIONAL_ROLES = ("reviewer",)  # at most once
STATUS_ROLES = ("done", "on_track", "lagging", "not_started")  # the status words, in [status]
TITLE_FIELDS = ("city", "plan_title", "year", "month", "unit")
# Excel: a sheet name has at most 31 characters, none of []:*?/\, and no leading or trailing '.
_BAD_SHEET_NAME = re.compile(r"[\[\]:*?/\\]|^'|'$")


@dataclass(frozen=True)
class Condition:
    """``column`` holds one of ``values``."""

    column: str
    values: tuple[str, ...]

    def holds(self, row: dict[str, str]) -> bool:
        return (row.get(self.column) or "").strip() in self.values


@dataclass(frozen=True)
class HeaderField:
    """A labelled input cell in the header block above the table."""

    key: str
    label: str
    required: bool = False
    type: str = "text"
    prefill: str | None = None
    hint: str = ""
    role: str | None = None


@dataclass(frozen=True)
class FormColumn:
    """A column of the data sheet: a locked task column or an input column."""

    key: str
    label: str
    kind: str
    width: float
    type: str = "text"
    source: str | None = None
    required: bool = False
    required_if: Condition | None = None
    required_unless: Condition | None = None
    hint: str = ""
    role: str | None = None

    def is_required(self, row: dict[str, str]) -> bool:
        """Whether this column must be filled in a row with these values (by column key)."""
        if self.required_if is not None:
            return self.required_if.holds(row)
        if self.required_unless is not None:
            return not self.required_unless.holds(row)
        return self.required

    @property
    def conditional(self) -> bool:
        return self.required_if is not None or self.required_unless is not None


@dataclass(frozen=True)
class FormSpec:
    """The whole form."""

    form_version: str
    title: str
    data_sheet: str
    instructions_sheet: str
    header: tuple[HeaderField, ...]
    columns: tuple[FormColumn, ...]
    choices: tuple[str, ...]
    done: str
    on_track: str
    lagging: str
    not_started: str
    instructions: str

    @functools.cached_property
    def task_columns(self) -> tuple[FormColumn, ...]:
        return tuple(c for c in self.columns if c.kind == "task")

    @functools.cached_property
    def input_columns(self) -> tuple[FormColumn, ...]:
        return tuple(c for c in self.columns if c.kind == "input")

    def column(self, key: str) -> FormColumn:
        return next(c for c in self.columns if c.key == key)

    def role(self, name: str) -> FormColumn | HeaderField:
        """The input column or header field playing ``name`` (one of INPUT_ROLES, HEADER_ROLES);
        checked at load to exist exactly once."""
        return self._roles[name]

    def has_role(self, name: str) -> bool:
        return name in self._roles

    @functools.cached_property
    def _roles(self) -> dict[str, FormColumn | HeaderField]:
        return {item.role: item for item in (*self.columns, *self.header) if item.role}

    @property
    def status_column(self) -> str:
        """The key of the status column."""
        return self.role("status").key

    def column_of_source(self, source: str) -> FormColumn | None:
        return next((c for c in self.columns if c.source == source), None)

    def format_title(self, **fields: object) -> str:
        return self.title.format(**{name: fields.get(name, "") for name in TITLE_FIELDS})


def _require(table: dict, key: str, where: str, kind: type = str):
    if key not in table:
        raise SpecError(f"表单配置 {SPEC_NAME}：{where} 缺少“{key}”。")
    value = table[key]
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise SpecError(f"表单配置 {SPEC_NAME}：{where}.{key} 的值 {value!r} 无效，应为{_KIND_WORDS[kind]}。")
    return value


_KIND_WORDS = {str: "非空文字", list: "列表", dict: "表", bool: "true 或 false", int: "整数"}


def _sheet_name(data: dict, key: str) -> str:
    name = _require(data, key, "顶层")
    if len(name) > 31 or _BAD_SHEET_NAME.search(name):
        raise SpecError(
            f"表单配置 {SPEC_NAME}：{key} 的值“{name}”不能用作工作表名称"
            "（最多 31 个字符，不能含 [ ] : * ? / \\，不能以 ' 开头或结尾）。"
        )
    return name


def _one_of(value: str, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise SpecError(f"表单配置 {SPEC_NAME}：{where} 的值“{value}”无效，应为 {' / '.join(allowed)} 之一。")
    return value


def _condition(raw: object, where: str, keys: dict[str, str]) -> Condition | None:
    """``{ column = ["value", …] }``, the column named by its key or its role."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise SpecError(f"表单配置 {SPEC_NAME}：{where} 应写成 {{ 列键或列的用途 = [\"值\", …] }}。")
    (column, values), = raw.items()
    if column not in keys:
        raise SpecError(f"表单配置 {SPEC_NAME}：{where} 引用了不存在的列“{column}”。")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SpecError(f"表单配置 {SPEC_NAME}：{where}.{column} 应为文字列表。")
    return Condition(keys[column], tuple(values))


def load_spec(path: Path | None = None) -> FormSpec:
    """Read and check a form spec; raise SpecError naming the key that is wrong."""
    return parse_spec(read_toml(path or BUNDLED_SPEC, "表单配置文件", SpecError))


def parse_spec(data: dict) -> FormSpec:
    """A FormSpec from the TOML's data; SpecError names the first key that is wrong."""
    title = _require(data, "title", "顶层")
    try:
        title.format(**{name: "" for name in TITLE_FIELDS})
    except (KeyError, IndexError, ValueError) as exc:
        raise SpecError(f"表单配置 {SPEC_NAME}：title 中的占位 {exc} 无效，可用 {{{'}、{'.join(TITLE_FIELDS)}}}。") from exc
    columns = _parse_columns(_require(data, "columns", "顶层", list))
    header = tuple(_parse_header(raw, index) for index, raw in enumerate(_require(data, "header", "顶层", list)))
    _check_roles(columns, header)
    status = _require(data, "status", "顶层", dict)
    choices = tuple(_require(status, "choices", "status", list))
    if not choices or not all(isinstance(c, str) and c for c in choices):
        raise SpecError(f"表单配置 {SPEC_NAME}：status.choices 应为非空的文字列表。")
    words = {name: _one_of(_require(status, name, "status"), choices, f"status.{name}") for name in STATUS_ROLES}
    if len(set(words.values())) != len(words):
        raise SpecError(f"表单配置 {SPEC_NAME}：status 中 {' / '.join(STATUS_ROLES)} 应各是不同的选项。")
    data_sheet, instructions_sheet = _sheet_name(data, "data_sheet"), _sheet_name(data, "instructions_sheet")
    if data_sheet == instructions_sheet:
        raise SpecError(f"表单配置 {SPEC_NAME}：data_sheet 与 instructions_sheet 不能同名。")
    return FormSpec(
        form_version=str(_require(data, "form_version", "顶层")),
        title=title,
        data_sheet=data_sheet,
        instructions_sheet=instructions_sheet,
        header=header,
        columns=columns,
        choices=choices,
        instructions=_require(_require(data, "instructions", "顶层", dict), "text", "instructions").strip(),
        **words,
    )


def _parse_columns(columns_raw: list) -> tuple[FormColumn, ...]:
    names: dict[str, str] = {}  # what a condition may name a column by (key or role) -> key
    for index, raw in enumerate(columns_raw):
        where = f"columns[{index + 1}]"
        if not isinstance(raw, dict):
            raise SpecError(f"表单配置 {SPEC_NAME}：{where} 应为 [[columns]] 表。")
        key = _require(raw, "key", where)
        if key in names.values():
            raise SpecError(f"表单配置 {SPEC_NAME}：{where}.key “{key}”重复。")
        names[key] = key
    for raw in columns_raw:
        if isinstance(raw.get("role"), str):
            names.setdefault(raw["role"], raw["key"])
    columns = tuple(_parse_column(raw, index, names) for index, raw in enumerate(columns_raw))
    labels = [c.label for c in columns]
    if len(set(labels)) != len(labels):
        raise SpecError(f"表单配置 {SPEC_NAME}：columns 中有重复的 label。")
    if not any(c.source == "id" for c in columns):
        raise SpecError(f"表单配置 {SPEC_NAME}：columns 中必须有一列 source = \"id\"（任务编号，用于按编号读回）。")
    return columns


def _parse_column(raw: dict, index: int, names: dict[str, str]) -> FormColumn:
    where = f"columns[{index + 1}]（{raw['key']}）"
    kind = _one_of(_require(raw, "kind", where), COLUMN_KINDS, f"{where}.kind")
    source = role = None
    if kind == "task":
        source = _one_of(_require(raw, "source", where), TASK_SOURCES, f"{where}.source")
    elif "role" in raw:
        role = _one_of(_require(raw, "role", where), INPUT_ROLES, f"{where}.role")
    width = raw.get("width", 12)
    if not isinstance(width, (int, float)) or not 2 <= width <= 100:
        raise SpecError(f"表单配置 {SPEC_NAME}：{where}.width 应为 2 到 100 之间的数字。")
    return FormColumn(
        key=raw["key"],
        label=_require(raw, "label", where),
        kind=kind,
        width=float(width),
        type=_one_of(raw.get("type", "text"), VALUE_TYPES, f"{where}.type"),
        source=source,
        required=bool(raw.get("required", False)),
        required_if=_condition(raw.get("required_if"), f"{where}.required_if", names),
        required_unless=_condition(raw.get("required_unless"), f"{where}.required_unless", names),
        hint=str(raw.get("hint", "")),
        role=role,
    )


def _parse_header(raw: object, index: int) -> HeaderField:
    where = f"header[{index + 1}]"
    if not isinstance(raw, dict):
        raise SpecError(f"表单配置 {SPEC_NAME}：{where} 应为 [[header]] 表。")
    prefill = raw.get("prefill")
    if prefill is not None:
        _one_of(prefill, HEADER_PREFILLS, f"{where}.prefill")
    role = None
    if "role" in raw:
        role = _one_of(_require(raw, "role", where), HEADER_ROLES + OPTIONAL_ROLES, f"{where}.role")
    return HeaderField(
        key=_require(raw, "key", where),
        label=_require(raw, "label", where),
        required=bool(raw.get("required", False)),
        type=_one_of(raw.get("type", "text"), VALUE_TYPES, f"{where}.type"),
        prefill=prefill,
        hint=str(raw.get("hint", "")),
        role=role,
    )


ROLE_WORDS = {
    "status": "完成状态", "percent": "完成进度", "progress": "工作进展情况", "problems": "存在问题及困难",
    "next_steps": "下一步工作计划", "evidence": "公开网址或佐证材料", "remarks": "备注", "unit": "填报单位",
    "reporter": "填报人", "phone": "联系电话", "report_date": "报送日期", "reviewer": "审核人",
}


def _check_roles(columns: tuple[FormColumn, ...], header: tuple[HeaderField, ...]) -> None:
    """Each role the program needs appears exactly once (an optional one at most once)."""
    for part, needed, items in (("columns", INPUT_ROLES, columns),
                                ("header", HEADER_ROLES + OPTIONAL_ROLES, header)):
        roles = [item.role for item in items if item.role]
        for role in needed:
            count = roles.count(role)
            if count > 1:
                raise SpecError(f"表单配置 {SPEC_NAME}：{part} 中有 {count} 项的 role 都是“{role}”"
                                f"（{ROLE_WORDS[role]}），只能有一项。")
            if count == 0 and role not in OPTIONAL_ROLES:
                raise SpecError(f"表单配置 {SPEC_NAME}：{part} 中缺少 role = \"{role}\" 的一项"
                                f"（{ROLE_WORDS[role]}）。请给相应的一项加上 role = \"{role}\"。")
    status = next(c for c in columns if c.role == "status")
    if status.type != "choice":
        raise SpecError(f"表单配置 {SPEC_NAME}：role = \"status\" 的列“{status.label}”应为 type = \"choice\"。")
