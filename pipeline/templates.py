"""Writing the per-unit fill-in workbooks (填报模板); every column, label, hint and rule comes from the form spec.

The data sheet's layout, which the submission reader relies on:

- row 1: the title;
- the header block: each header label in its own (unmerged) cell, its input cell right next
  to it (merged further right when the column is narrow), and the self-check among them;
- one blank row, then the table header carrying the spec's column labels;
- one row per task of the unit, in plan order.

Beside it: the 填报说明 sheet, a hidden list sheet feeding the status drop-down, and the
identity in a very-hidden sheet mirrored in defined names.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from xlsxwriter.utility import quote_sheetname, xl_range, xl_range_abs, xl_rowcol_to_cell

from .config import Config
from .form import FormColumn, FormSpec, HeaderField
from .identity import IDENTITY_SHEET, Identity, defined_name
from .parallel import run_jobs
from .periods import split_period
from .plan import Plan, Task
from .progress import SILENT, Progress
from .units import Registry, Unit
from .workspace import unit_file_name
from .xlsxout import (
    Styles,
    atomic_workbook,
    check_result,
    formula_text,
    row_height,
    set_print,
    text_width,
    write_cell,
)

TEMPLATE_FOLDER = "填报模板"
LIST_SHEET = "_lists"
CHECK_LABEL = "自查：未填必填项"
# Unit names are cut to this many characters in file names (file systems allow 255 bytes).
# Header block input cells narrower than this many characters are merged rightwards.
HEADER_INPUT_WIDTH = 20
INSTRUCTIONS_WIDTH = 80
# Excel: a data validation title holds at most 32 characters, its message at most 255.
VALIDATION_TITLE_LIMIT = 32
VALIDATION_MESSAGE_LIMIT = 255
TASK_FILL = "#F2F2F2"
CENTERED = ("seq", "id", "role", "choice", "percent")  # task sources and input types

UnitTasks = list[tuple[Task, str]]


@dataclass(frozen=True)
class TemplateContext:
    """What every unit's workbook of one issue shares."""

    spec: FormSpec
    config: Config
    plan_title: str
    plan_version: str
    period: str
    key: bytes = field(repr=False)

    @property
    def year_month(self) -> tuple[int, int]:
        return split_period(self.period)

    def identity(self, unit: Unit, tasks: UnitTasks) -> Identity:
        """The signed identity of a unit's workbook; generated_at is pinned to the period."""
        return Identity(
            form_version=self.spec.form_version,
            plan_version=self.plan_version,
            unit_code=unit.code,
            unit_name=unit.name,
            period=self.period,
            generated_at=f"{self.period}-01T00:00:00",
            task_ids=tuple(task.id for task, _role in tasks),
        ).signed(self.key)


def units_with_tasks(plan: Plan, registry: Registry) -> list[tuple[Unit, UnitTasks]]:
    """Every unit with at least one task, in registry order, with its tasks and roles in plan order."""
    assigned = {a.code: a.name for task in plan.tasks for a in task.units}
    units = [unit for unit in registry.units if unit.code in assigned]
    known = {unit.code for unit in units}
    # A unit the plan assigns but the registry no longer lists still gets its template.
    units += [Unit(code, name) for code, name in assigned.items() if code not in known]
    return [(unit, plan.tasks_of(unit.code)) for unit in units]


def template_name(unit: Unit, period: str) -> str:
    """``S009_市财政局_2018-06.xlsx``."""
    return unit_file_name(unit.code, unit.name, f"{period}.xlsx")


@dataclass(frozen=True)
class TemplateJob:
    """One unit's workbook to write: where, for whom, its tasks and the answers to prefill."""

    path: Path
    unit: Unit
    tasks: UnitTasks
    prefill: dict[str, dict[str, str]]


def write_templates(context: TemplateContext, jobs: list[TemplateJob],
                    progress: Progress = SILENT, workers: int | None = None) -> None:
    """Write every job's workbook as ``write_template`` does, on every CPU."""
    run_jobs(_write_job, (context, jobs), len(jobs), progress, workers)


def _write_job(shared: tuple[TemplateContext, list[TemplateJob]], number: int) -> str:
    context, jobs = shared
    job = jobs[number]
    write_template(job.path, context, job.unit, job.tasks, job.prefill)
    return job.path.name


def write_template(path: Path, context: TemplateContext, unit: Unit, tasks: UnitTasks,
                   prefill: dict[str, dict[str, str]]) -> None:
    """Write one unit's fill-in workbook; ``prefill`` is task ID -> input column key -> text."""
    year, month = context.year_month
    # Pinned creation date: the same inputs give a byte-identical file.
    with atomic_workbook(path, dt.datetime(year, month, 1)) as workbook:
        styles = Styles(workbook)
        _DataSheet(workbook, styles, context, unit, tasks, prefill).write()
        _write_instructions(workbook.add_worksheet(context.spec.instructions_sheet), styles, context)
        lists = workbook.add_worksheet(LIST_SHEET)
        for row, choice in enumerate(context.spec.choices):
            write_cell(lists, row, 0, choice)
        lists.hide()
        lists.protect()
        _write_identity(workbook, context.identity(unit, tasks))
        workbook.protect_structure()


def _write_identity(workbook, identity: Identity) -> None:
    """Field names in column A, texts in column B, all strings; each also a defined name."""
    sheet = workbook.add_worksheet(IDENTITY_SHEET)
    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 70)
    for row, (name, text) in enumerate(identity.rows()):
        check_result(sheet.write_string(row, 0, name), sheet, row, 0)
        check_result(sheet.write_string(row, 1, text), sheet, row, 1)
        if workbook.define_name(defined_name(name), "=" + formula_text(text)) < 0:
            raise ValueError(f"invalid defined name for identity field {name!r}")
    sheet.very_hidden()
    sheet.protect()


def _write_instructions(sheet, styles: Styles, context: TemplateContext) -> None:
    """The spec's instructions, then the deadline and the office's contact."""
    config, spec = context.config, context.spec
    year, month = context.year_month
    contact = "　".join(
        f"{label}：{value}"
        for label, value in (("联系人", config.contact), ("电话", config.phone), ("邮箱", config.email))
        if value
    )
    office = [
        f"报送截止：{year}年{month}月{config.deadline_day}日前",
        f"报送至：{config.office}" if config.office else "",
        contact,
        f"计划版本：{context.plan_version}　表单版本：{spec.form_version}",
    ]
    lines = [*(line.strip() for line in spec.instructions.splitlines() if line.strip()), "",
             *filter(None, office)]
    sheet.set_column(0, 0, INSTRUCTIONS_WIDTH)
    write_cell(sheet, 0, 0, spec.instructions_sheet, styles.title)
    sheet.set_row(0, 28)
    for row, line in enumerate(lines, start=1):
        write_cell(sheet, row, 0, line, styles.note)
        sheet.set_row(row, row_height([(line, INSTRUCTIONS_WIDTH)]))
    sheet.hide_gridlines(2)
    set_print(sheet, 0, landscape=False)
    sheet.protect()


@dataclass(frozen=True)
class _HeaderCell:
    """Where a header field (None: the self-check) sits: label at (row, col), input from col + 1 to last."""

    item: HeaderField | None
    row: int
    col: int
    last: int


def _header_layout(spec: FormSpec) -> list[_HeaderCell]:
    """Label columns wide enough for the labels: one over the task columns, one over the inputs.

    Fields fill the label columns top to bottom; the self-check heads the last one, so with
    two columns it sits top right.
    """
    widths = [column.width for column in spec.columns]
    need = max(text_width(label) for label in [*(f.label for f in spec.header), CHECK_LABEL]) + 2
    candidates = range(len(widths) - 1)  # a label needs a column to its right
    fits = [col for col in candidates if widths[col] >= need]
    left = fits[0] if fits else max(candidates, key=widths.__getitem__)
    first_input = next(col for col, column in enumerate(spec.columns) if column.kind == "input")
    slots = [left, *[col for col in fits if col >= max(first_input, left + 2)][:1]]
    bounds = [*slots[1:], len(widths)]  # an input never runs into the next label column
    lasts = []
    for slot, bound in zip(slots, bounds):
        last = slot + 1
        while sum(widths[slot + 1:last + 1]) < HEADER_INPUT_WIDTH and last + 1 < bound:
            last += 1
        lasts.append(last)
    rows = -(-(len(spec.header) + 1) // len(slots))
    split = rows * (len(slots) - 1)
    items = [*spec.header[:split], None, *spec.header[split:]]
    return [
        _HeaderCell(item, 1 + index % rows, slots[index // rows], lasts[index // rows])
        for index, item in enumerate(items)
    ]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _empty(ref: str) -> str:
    """1 where the cell(s) hold nothing but spaces."""
    return f'(TRIM({ref})="")'


def _missing(column: FormColumn, ref: Callable[[str], str]) -> str | None:
    """A 0/1 formula expression: the cell of ``column`` is required by the spec's rules and empty.

    ``ref(key)`` addresses a column's cell (conditional formatting) or cells (SUMPRODUCT).
    None when the column is never required.
    """
    empty = _empty(ref(column.key))
    if column.required_if is not None:
        rule = column.required_if
        # Distinct values: at most one comparison holds, so the sum is 0 or 1.
        holds = "+".join(f"(TRIM({ref(rule.column)})={formula_text(v)})" for v in dict.fromkeys(rule.values))
        return f"{empty}*({holds})"
    if column.required_unless is not None:
        rule = column.required_unless
        return "*".join([empty, *(f"(TRIM({ref(rule.column)})<>{formula_text(v)})" for v in rule.values)])
    return empty if column.required else None


def _validation(value_type: str, label: str, hint: str, choices: tuple[str, ...]) -> dict | None:
    """Data validation options for an input cell of ``value_type``; the hint is its input message."""
    title = _clip(label, VALIDATION_TITLE_LIMIT)
    if value_type == "choice":
        options = {
            "validate": "list",
            # A range on the hidden list sheet, not an inline list: inline lists are limited to
            # 255 characters and their separators differ between Excel, WPS and LibreOffice.
            "source": "=" + quote_sheetname(LIST_SHEET) + "!" + xl_range_abs(0, 0, len(choices) - 1, 0),
            "error_title": title,
            "error_message": _clip(f"请从下拉列表中选择：{'、'.join(choices)}。", VALIDATION_MESSAGE_LIMIT),
        }
    elif value_type == "percent":
        options = {
            "validate": "decimal",
            "criteria": "between",
            "minimum": 0,
            "maximum": 100,
            "error_title": title,
            "error_message": _clip(f"“{label}”应填 0 到 100 之间的数字，如 80。", VALIDATION_MESSAGE_LIMIT),
        }
    elif hint:
        options = {"validate": "any"}
    else:
        return None
    if hint:
        # Input messages, not cell comments: LibreOffice re-saves comments without their author.
        options |= {"input_title": title, "input_message": _clip(hint, VALIDATION_MESSAGE_LIMIT)}
    return options


def _input_value(column: FormColumn, text: str) -> object:
    """A prefilled answer as written: percentages as numbers when they are numbers, else text."""
    if column.type == "percent":
        try:
            number = float(text)
        except ValueError:
            return text
        return number if math.isfinite(number) else text
    return text


class _DataSheet:
    """The data sheet of one unit's workbook: title, header block, self-check, task table."""

    def __init__(self, workbook, styles: Styles, context: TemplateContext, unit: Unit,
                 tasks: UnitTasks, prefill: dict[str, dict[str, str]]):
        self.spec = spec = context.spec
        self.context, self.unit, self.tasks, self.prefill = context, unit, tasks, prefill
        self.styles = styles
        self.sheet = workbook.add_worksheet(spec.data_sheet)
        self.header = _header_layout(spec)
        self.table_row = max(cell.row for cell in self.header) + 2  # one blank row above the table
        self.first = self.table_row + 1
        self.last = self.table_row + len(tasks)
        self.col = {column.key: col for col, column in enumerate(spec.columns)}
        self.formats = {
            "label": styles.add(bordered=False, bold=True, align="right", text_wrap=True),
            "input": styles.add(locked=False, text_wrap=True),
            "task": styles.add(bg_color=TASK_FILL, text_wrap=True, valign="top"),
            "task_center": styles.add(bg_color=TASK_FILL, text_wrap=True, align="center"),
            "cell": styles.add(locked=False, text_wrap=True, valign="top"),
            "cell_center": styles.add(locked=False, text_wrap=True, align="center"),
            "check": styles.add(bold=True, align="center"),
            # Conditional formats: fill and font colour only (Excel ignores fonts and sizes there).
            "missing": workbook.add_format({"bg_color": "#FFC7CE"}),
            "bad": workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
            "good": workbook.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"}),
        }

    def write(self) -> None:
        sheet, spec = self.sheet, self.spec
        for col, column in enumerate(spec.columns):
            sheet.set_column(col, col, column.width)
        year, month = self.context.year_month
        title = spec.format_title(city=self.context.config.city, plan_title=self.context.plan_title,
                                  year=year, month=month, unit=self.unit.name)
        self._merged(0, 0, len(spec.columns) - 1, title, self.styles.title)
        sheet.set_row(0, 28)
        rows = self._task_rows()
        header_values = self._write_header_block()
        self._write_table(rows)
        self._write_check(header_values, rows)
        sheet.freeze_panes(self.first, 0)
        sheet.hide_gridlines(2)
        set_print(sheet, self.table_row, repeat_from=self.table_row)
        # No password: the protection keeps clerks off the task cells, not out of the file.
        # Rows and columns may be resized, for answers longer than the row shows.
        sheet.protect("", {"format_rows": True, "format_columns": True})

    def _merged(self, row: int, first: int, last: int, value: object, fmt) -> None:
        if last > first:
            check_result(self.sheet.merge_range(row, first, row, last, "", fmt), self.sheet, row, first)
        write_cell(self.sheet, row, first, value, fmt)

    def _write_header_block(self) -> dict[str, str]:
        """Labels and input cells; returns the header values as written, by field key."""
        values = {}
        heights: dict[int, list[tuple[str, float]]] = {}
        widths = [column.width for column in self.spec.columns]
        for cell in self.header:
            label = CHECK_LABEL if cell.item is None else cell.item.label
            write_cell(self.sheet, cell.row, cell.col, label, self.formats["label"])
            heights.setdefault(cell.row, []).append((label, widths[cell.col]))
            if cell.item is None:
                continue
            header_field = cell.item
            value = {"unit_name": self.unit.name, "unit_code": self.unit.code}.get(header_field.prefill or "", "")
            values[header_field.key] = value
            heights[cell.row].append((value, sum(widths[cell.col + 1:cell.last + 1])))
            # Prefilled fields are the office's, locked like the task cells.
            self._merged(cell.row, cell.col + 1, cell.last, value,
                         self.formats["task" if header_field.prefill else "input"])
            self._validate(cell.row, cell.col + 1, cell.row, cell.col + 1,
                           _validation(header_field.type, header_field.label, header_field.hint,
                                       self.spec.choices))
            if header_field.required:
                self._mark_missing(cell.row, cell.col + 1, cell.row, cell.col + 1,
                                   _empty(xl_rowcol_to_cell(cell.row, cell.col + 1)))
        for row, cells in heights.items():
            self.sheet.set_row(row, row_height(cells))
        return values

    def _task_rows(self) -> list[dict[str, object]]:
        """Each task row's values by column key: task columns from the plan, inputs from the prefill."""
        rows = []
        for seq, (task, role) in enumerate(self.tasks, start=1):
            source = {"seq": seq, "id": task.id, "category": task.category,
                      "requirement": task.requirement, "role": role, "deadline": task.deadline or ""}
            answers = self.prefill.get(task.id, {})
            rows.append({
                column.key: source[column.source] if column.kind == "task"
                else _input_value(column, answers.get(column.key, ""))
                for column in self.spec.columns
            })
        return rows

    def _write_table(self, rows: list[dict[str, object]]) -> None:
        sheet, spec = self.sheet, self.spec
        for col, column in enumerate(spec.columns):
            write_cell(sheet, self.table_row, col, column.label, self.styles.header)
        sheet.set_row(self.table_row, row_height([(c.label, c.width) for c in spec.columns]))
        formats = [
            self.formats[("task" if column.kind == "task" else "cell")
                         + ("_center" if {column.source, column.type} & set(CENTERED) else "")]
            for column in spec.columns
        ]
        # Task rows get no height of their own: Excel and WPS fit a row without one to its wrapped
        # text on opening and grow it as a unit types, and so does LibreOffice when a cell is
        # edited. A set height would stay fixed and cut a longer answer off, on screen and on paper.
        for row, values in enumerate(rows, start=self.first):
            for col, column in enumerate(spec.columns):
                write_cell(sheet, row, col, values[column.key], formats[col])
        for column in spec.input_columns:
            col = self.col[column.key]
            self._validate(self.first, col, self.last, col,
                           _validation(column.type, column.label, column.hint, spec.choices))
            rule = _missing(column, lambda key: xl_rowcol_to_cell(self.first, self.col[key], col_abs=True))
            if rule is not None:
                self._mark_missing(self.first, col, self.last, col, rule)

    def _write_check(self, header_values: dict[str, str], rows: list[dict[str, object]]) -> None:
        """The self-check: a formula counting required cells still empty, with its value cached."""
        spec = self.spec
        place = next(cell for cell in self.header if cell.item is None)
        refs = {cell.item.key: xl_rowcol_to_cell(cell.row, cell.col + 1)
                for cell in self.header if cell.item is not None}
        terms = [_empty(refs[f.key]) for f in spec.header if f.required]
        terms += filter(None, (
            _missing(column, lambda key: xl_range(self.first, self.col[key], self.last, self.col[key]))
            for column in spec.input_columns
        ))
        formula = "=" + ("+".join(f"SUMPRODUCT(--{term})" for term in terms) or "0")
        # LibreOffice does not recalculate on load: write the cached value, by the same rules.
        missing = sum(1 for f in spec.header if f.required and not header_values[f.key].strip())
        for values in rows:
            texts = {key: str(value) for key, value in values.items()}
            missing += sum(1 for c in spec.input_columns if c.is_required(texts) and not texts[c.key].strip())
        row, col = place.row, place.col + 1
        self._merged(row, col, place.last, "", self.formats["check"])
        check_result(self.sheet.write_formula(row, col, formula, self.formats["check"], missing),
                     self.sheet, row, col)
        for criteria, fmt in ((">", "bad"), ("=", "good")):
            self._conditional(row, col, row, col, {"type": "cell", "criteria": criteria, "value": 0,
                                                  "format": self.formats[fmt]})

    def _validate(self, first_row: int, first_col: int, last_row: int, last_col: int,
                  options: dict | None) -> None:
        if options is not None:
            check_result(self.sheet.data_validation(first_row, first_col, last_row, last_col, options),
                         self.sheet, first_row, first_col)

    def _mark_missing(self, first_row: int, first_col: int, last_row: int, last_col: int, rule: str) -> None:
        """Colour a required cell while it is empty; ``rule`` is relative to the range's first cell."""
        self._conditional(first_row, first_col, last_row, last_col,
                          {"type": "formula", "criteria": "=" + rule, "format": self.formats["missing"]})

    def _conditional(self, first_row: int, first_col: int, last_row: int, last_col: int, options: dict) -> None:
        check_result(self.sheet.conditional_format(first_row, first_col, last_row, last_col, options),
                     self.sheet, first_row, first_col)
