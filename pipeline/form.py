"""The form spec (templates/表单.toml): columns, labels, types, rules, choices and help text.

It is the single source of truth: the template writer, the submission reader, the validator
and the reports all derive their columns from it.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import SpecError

BUNDLED_SPEC = Path(__file__).resolve().parent.parent / "templates" / "表单.toml"
SPEC_NAME = "表单.toml"
COLUMN_KINDS = ("task", "input")
VALUE_TYPES = ("text", "choice", "percent", "date", "url", "phone")
TASK_SOURCES = ("seq", "id", "category", "requirement", "role", "deadline")
HEADER_PREFILLS = ("unit_name", "unit_code")
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
    status_column: str
    choices: tuple[str, ...]
    done: str
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


def _condition(raw: object, where: str, keys: set[str]) -> Condition | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or len(raw) != 1:
        raise SpecError(f"表单配置 {SPEC_NAME}：{where} 应写成 {{ 列键 = [\"值\", …] }}。")
    (column, values), = raw.items()
    if column not in keys:
        raise SpecError(f"表单配置 {SPEC_NAME}：{where} 引用了不存在的列“{column}”。")
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SpecError(f"表单配置 {SPEC_NAME}：{where}.{column} 应为文字列表。")
    return Condition(column, tuple(values))


def load_spec(path: Path | None = None) -> FormSpec:
    """Read and check a form spec; raise SpecError naming the key that is wrong."""
    path = Path(path or BUNDLED_SPEC)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"找不到表单配置文件 {path}。")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"表单配置 {path.name} 格式有误：{exc}。请按 TOML 格式修改（可对照原始 {SPEC_NAME}）。") from exc
    return parse_spec(data)


def parse_spec(data: dict) -> FormSpec:
    columns_raw = _require(data, "columns", "顶层", list)
    header_raw = _require(data, "header", "顶层", list)
    status = _require(data, "status", "顶层", dict)
    instructions = _require(data, "instructions", "顶层", dict)
    title = _require(data, "title", "顶层")
    try:
        title.format(**{name: "" for name in TITLE_FIELDS})
    except (KeyError, IndexError, ValueError) as exc:
        raise SpecError(f"表单配置 {SPEC_NAME}：title 中的占位 {exc} 无效，可用 {{{'}、{'.join(TITLE_FIELDS)}}}。") from exc

    keys = set()
    for index, raw in enumerate(columns_raw):
        where = f"columns[{index + 1}]"
        if not isinstance(raw, dict):
            raise SpecError(f"表单配置 {SPEC_NAME}：{where} 应为 [[columns]] 表。")
        key = _require(raw, "key", where)
        if key in keys:
            raise SpecError(f"表单配置 {SPEC_NAME}：{where}.key “{key}”重复。")
        keys.add(key)
    columns = []
    for index, raw in enumerate(columns_raw):
        where = f"columns[{index + 1}]（{raw['key']}）"
        kind = _one_of(_require(raw, "kind", where), COLUMN_KINDS, f"{where}.kind")
        source = None
        if kind == "task":
            source = _one_of(_require(raw, "source", where), TASK_SOURCES, f"{where}.source")
        width = raw.get("width", 12)
        if not isinstance(width, (int, float)) or not 2 <= width <= 100:
            raise SpecError(f"表单配置 {SPEC_NAME}：{where}.width 应为 2 到 100 之间的数字。")
        columns.append(
            FormColumn(
                key=raw["key"],
                label=_require(raw, "label", where),
                kind=kind,
                width=float(width),
                type=_one_of(raw.get("type", "text"), VALUE_TYPES, f"{where}.type"),
                source=source,
                required=bool(raw.get("required", False)),
                required_if=_condition(raw.get("required_if"), f"{where}.required_if", keys),
                required_unless=_condition(raw.get("required_unless"), f"{where}.required_unless", keys),
                hint=str(raw.get("hint", "")),
            )
        )
    labels = [c.label for c in columns]
    if len(set(labels)) != len(labels):
        raise SpecError(f"表单配置 {SPEC_NAME}：columns 中有重复的 label。")
    if not any(c.kind == "input" for c in columns):
        raise SpecError(f"表单配置 {SPEC_NAME}：columns 中至少要有一列 kind = \"input\"（由单位填写的列）。")
    if not any(c.source == "id" for c in columns):
        raise SpecError(f"表单配置 {SPEC_NAME}：columns 中必须有一列 source = \"id\"（任务编号，用于按编号读回）。")

    header = []
    for index, raw in enumerate(header_raw):
        where = f"header[{index + 1}]"
        if not isinstance(raw, dict):
            raise SpecError(f"表单配置 {SPEC_NAME}：{where} 应为 [[header]] 表。")
        prefill = raw.get("prefill")
        if prefill is not None:
            _one_of(prefill, HEADER_PREFILLS, f"{where}.prefill")
        header.append(
            HeaderField(
                key=_require(raw, "key", where),
                label=_require(raw, "label", where),
                required=bool(raw.get("required", False)),
                type=_one_of(raw.get("type", "text"), VALUE_TYPES, f"{where}.type"),
                prefill=prefill,
                hint=str(raw.get("hint", "")),
            )
        )

    choices = tuple(_require(status, "choices", "status", list))
    if not choices or not all(isinstance(c, str) and c for c in choices):
        raise SpecError(f"表单配置 {SPEC_NAME}：status.choices 应为非空的文字列表。")
    status_column = _one_of(_require(status, "column", "status"), tuple(keys), "status.column")
    named = {name: _require(status, name, "status") for name in ("done", "lagging", "not_started")}
    data_sheet, instructions_sheet = _sheet_name(data, "data_sheet"), _sheet_name(data, "instructions_sheet")
    if data_sheet == instructions_sheet:
        raise SpecError(f"表单配置 {SPEC_NAME}：data_sheet 与 instructions_sheet 不能同名。")
    for name, value in named.items():
        _one_of(value, choices, f"status.{name}")
    return FormSpec(
        form_version=str(_require(data, "form_version", "顶层")),
        title=title,
        data_sheet=data_sheet,
        instructions_sheet=instructions_sheet,
        header=tuple(header),
        columns=tuple(columns),
        status_column=status_column,
        choices=choices,
        instructions=_require(instructions, "text", "instructions").strip(),
        **named,
    )
