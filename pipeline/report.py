"""Laying out the office's workbooks: plan breakdown, validation results, consolidated report, feedback.

Every table sheet is described as data (a ``Sheet``: name, title, columns, rows, the columns
coloured by status), built by one function per sheet, and drawn by one writer, ``write_sheet``.
The one-page 总体情况 is laid out block by block with a running row cursor.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import xlsxwriter

from . import content_hash, program_version
from .consolidate import (DETAIL_SHEET, NOT_REPORTED, Consolidation, UnitFeedback, UnitState, feedback_by_unit,
                          reporting_day, rules, status_order)
from .findings import DUPLICATE, Described, FileStatus, Severity, describe, finding, place
from .form import FormSpec
from .lazy import lazy
from .periods import chinese_date, previous_period
from .plan import ROLES, Plan
from .text import excerpt, short_title
from .units import Registry
from .workspace import unit_file_name
from .xlsxout import (HEADING_FONT, Column, Styles, atomic_workbook, highlight_values, row_height,
                      write_cell, write_table, written_as)

pd = lazy("pandas")  # for the reports' frames; 校验结果 (written by collect) does not wait for it

# The files and folders written; cycle puts them in place.
BREAKDOWN_NAME = "任务分解表.xlsx"
VALIDATION_NAME = "校验结果.xlsx"
REPORT_NAME = "汇总报告.xlsx"  # for leaders: what prints
DETAILS_NAME = "汇总明细.xlsx"  # for filtering and pivoting: every unit's every text
FEEDBACK_FOLDER = "反馈"

# Sheet names (Excel: at most 31 characters). 明细 is named in consolidate, whose texts point to it.
PLAN_TASKS_SHEET, ASSIGNMENTS_SHEET, UNIT_TASKS_SHEET = "任务清单", "任务分工", "单位任务数"
FILES_SHEET, FINDINGS_SHEET = "文件", "问题"
SUMMARY_SHEET = "总体情况"
TASKS_SHEET = "任务进展"
UNITS_SHEET = "单位报送情况"
PROBLEMS_SHEET = "问题清单"
LAGGING_SHEET = "滞后及逾期任务"
MISSING_SHEET = "未报送单位"
CHANGES_SHEET = "较上月变化"
PROGRESS_SHEET = "各单位进展"
UNIT_CHANGES_SHEET = "较上月变化（按单位）"
OWN_SHEET = "本单位情况"
REPORT_SHEETS = (SUMMARY_SHEET, TASKS_SHEET, LAGGING_SHEET, UNITS_SHEET, MISSING_SHEET, CHANGES_SHEET)
DETAILS_SHEETS = (PROGRESS_SHEET, PROBLEMS_SHEET, UNIT_CHANGES_SHEET, DETAIL_SHEET)
LEAD_PROGRESS_LIMIT = 150  # characters of the lead unit's progress in the leaders' 任务进展
FEEDBACK_SHEETS = (OWN_SHEET, TASKS_SHEET, FINDINGS_SHEET)

# Traffic lights: background and text colour by the part a status plays.
LIGHTS = {"done": ("#C6EFCE", "#006100"), "on_track": ("#DDEBF7", "#1F4E78"),
          "lagging": ("#FFC7CE", "#9C0006"), "not_started": ("#FFEB9C", "#9C5700"),
          "not_reported": ("#E7E6E6", "#3A3838")}
YES, NO = "是", "否"
NOT_READ = "未读取"  # 校验结果: the status of a file that could not be read (held open, or gone)
TASK_ID = Column("任务编号", 8, "center")
OVERALL_STATUS = Column("总体状态", 10, "center")


@dataclass(frozen=True)
class Sheet:
    """A table sheet as data; ``write_sheet`` draws it."""

    name: str
    title: str
    columns: list[Column]
    rows: list[list[object]]
    subtitle: str = ""
    lights: tuple[str, ...] = ()  # labels of the columns coloured by status
    landscape: bool = True  # printed across the page; a narrow table, portrait
    hidden: bool = False  # kept to filter, not printed (a hidden sheet does not print)


def write_sheet(workbook, styles: Styles, sheet: Sheet, formats: dict[str, object] | None = None) -> None:
    """Draw a described sheet: a titled, filtered, print-ready table, its status columns coloured
    with the traffic-light ``formats`` (``status_formats``)."""
    worksheet = workbook.add_worksheet(sheet.name)
    top = write_table(worksheet, styles, sheet.columns, sheet.rows, title=sheet.title, subtitle=sheet.subtitle,
                      landscape=sheet.landscape)
    labels = [column.label for column in sheet.columns]
    for label in sheet.lights:
        highlight_values(worksheet, top + 1, top + max(len(sheet.rows), 1), labels.index(label), formats)
    if sheet.hidden:
        worksheet.hide()


def write_sheets(path: Path, created: dt.datetime, sheets: list[Sheet], lights: dict[str, str] | None = None,
                 earlier: Path | None = None) -> None:
    """A workbook of described sheets; their status columns take the traffic lights of ``lights``
    (word -> part, a key of LIGHTS). The workbook at ``earlier`` (the one this replaces), when it
    was written from the same sheets and not saved by anyone since, is copied instead."""
    stamp = content_hash(program_version().encode(), xlsxwriter.__version__.encode(), created.isoformat().encode(),
                         repr((sheets, lights)).encode())  # the sheets hold text, numbers and their descriptions
    if earlier is not None and written_as(earlier, stamp, created):
        shutil.copyfile(earlier, path)
        return
    with atomic_workbook(path, created, stamp) as workbook:
        styles = Styles(workbook)
        formats = light_formats(styles, lights or {})
        for sheet in sheets:
            write_sheet(workbook, styles, sheet, formats)


def _framed(sheets: list[Sheet], subtitle: str, prefix: str = "") -> list[Sheet]:
    """The sheets of one workbook under their shared title prefix and subtitle."""
    return [replace(s, title=prefix + s.title, subtitle=subtitle + s.subtitle) for s in sheets]


def light_formats(styles: Styles, lights: dict[str, str]) -> dict[str, object]:
    """The traffic-light format of every word of ``lights`` (word -> part, a key of LIGHTS)."""
    return {word: styles.add(bordered=False, bg_color=LIGHTS[part][0], font_color=LIGHTS[part][1])
            for word, part in lights.items()}


def status_lights(spec: FormSpec) -> dict[str, str]:
    """The part every status word plays, for its traffic light."""
    return {word: _part(word, spec) for word in status_order(spec)}


def status_formats(styles: Styles, spec: FormSpec) -> dict[str, object]:
    """The traffic-light format of every status word, the same in every sheet."""
    return light_formats(styles, status_lights(spec))


def _part(word: str, spec: FormSpec) -> str:
    return {spec.done: "done", spec.lagging: "lagging", spec.not_started: "not_started",
            NOT_REPORTED: "not_reported"}.get(word, "on_track")


def _yes(flag: bool) -> str:
    return YES if flag else ""


def _answer_columns(spec: FormSpec, text_width: float, text_kind: str) -> list[Column]:
    """A column per input column of the form, under its label: the units' answers."""
    return [Column(col.label, 10 if col.type in ("choice", "percent") else text_width,
                   "number" if col.type == "percent" else text_kind) for col in spec.input_columns]


def _answers(row: dict, spec: FormSpec) -> list[object]:
    """A 明细 row's answers, in the order of ``_answer_columns``."""
    return [None if pd.isna(row[col.key]) else row[col.key] for col in spec.input_columns]


# ---------------------------------------------------------------------------- 任务分解表

def write_plan_breakdown(plan: Plan, registry: Registry, path: Path, created: dt.datetime) -> None:
    """Tasks (one row each, their units grouped by role) and per-unit task counts, ready to print;
    the task × unit assignments as a filterable sheet, hidden so that it does not print."""
    layout = f"　{plan.layout}" if plan.layout else ""
    subtitle = f"来源：{plan.source}{layout}　计划版本：{plan.version}　共 {len(plan.tasks)} 项任务"
    write_sheets(path, created, _framed([plan_tasks_sheet(plan), unit_tasks_sheet(plan, registry),
                                         assignments_sheet(plan)], subtitle))


GROUPED_NAMES = 12  # past this many units in a role, a task gives their number, beside the plan's own words
SOURCE_TEXT = Column("责任单位（计划原文）", 30, "wrap")


def _units_by_role(task) -> str:
    """``牵头：市财政局\n配合：市教育局、市民政局``; a role of very many units is given by their
    number (``负责：共 46 个单位``), the plan's words for them (``各区政府``) standing beside it."""
    lines = []
    for role in ROLES:
        names = [a.name for a in task.units if a.role == role]
        if names:
            shown = "、".join(names) if len(names) <= GROUPED_NAMES else f"共 {len(names)} 个单位"
            lines.append(f"{role}：{shown}")
    return "\n".join(lines)


def plan_tasks_sheet(plan: Plan) -> Sheet:
    """One row per task: its units by role, beside the plan's own words they were read from."""
    return Sheet(PLAN_TASKS_SHEET, f"{plan.title} 任务分解表", [
        Column("任务编号", 8, "center"), Column("工作任务", 14, "wrap"), Column("具体要求", 64, "wrap"),
        Column("责任单位", 32, "wrap"), SOURCE_TEXT, Column("完成时限", 10, "wrap"),
    ], [[task.id, task.category, task.requirement, _units_by_role(task), task.responsibility, task.deadline or ""]
        for task in plan.tasks])


def assignments_sheet(plan: Plan) -> Sheet:
    return Sheet(ASSIGNMENTS_SHEET, "任务分工（任务 × 单位，供筛选）", [
        Column("任务编号", 9, "center"), Column("单位编码", 10, "center"), Column("单位名称", 24),
        Column("本单位职责", 11, "center"), replace(SOURCE_TEXT, kind="text"), Column("截止日期", 11, "center"),
        Column("具体要求", 70),
    ], [[t.id, a.code, a.name, a.role, t.responsibility, t.deadline_date or "", t.requirement]
        for t in plan.tasks for a in t.units], hidden=True)


def unit_tasks_sheet(plan: Plan, registry: Registry) -> Sheet:
    counts = {unit.code: dict.fromkeys(ROLES, 0) for unit in registry.units}
    for task in plan.tasks:
        for a in task.units:
            counts[a.code][a.role] += 1
    return Sheet(UNIT_TASKS_SHEET, "各单位承担任务数", [
        Column("单位编码", 10, "center"), Column("单位名称", 24), *(Column(role, 9, "number") for role in ROLES),
        Column("合计", 9, "number"),
    ], [[unit.code, unit.name, *counts[unit.code].values(), sum(counts[unit.code].values())]
        for unit in registry.units], landscape=False)


# ---------------------------------------------------------------------------- 校验结果

WITH_WARNINGS = "通过（有提醒）"  # accepted, with warnings to look at
DUPLICATE_COPY = "重复文件"  # another name the same file came under: counted once, under its first name
UNKNOWN_UNIT = "（无法识别）"
UNVERIFIED = "（表内写的，未核实）"  # after a unit name a file gives but no valid identity confirms
# 校验结果 lists files in this order, those needing attention first, and colours their status so.
FILE_STATES = {FileStatus.RETURNED.word: "lagging", FileStatus.REJECTED.word: "lagging", NOT_READ: "not_started",
               WITH_WARNINGS: "not_started", FileStatus.ACCEPTED.word: "done",
               FileStatus.SUPERSEDED.word: "not_reported", DUPLICATE_COPY: "not_reported"}


@dataclass(frozen=True)
class FileLine:
    """A line of 校验结果's 文件 sheet (a file, a duplicate name of one, or a file not read) and
    its problems, the 问题 sheet's lines."""

    state: str  # a word of FILE_STATES
    unit: str
    file: str
    seq: int  # its unit's place in the registry: within a state, files go by unit
    day: str = ""  # 报送日期, as shown
    on_time: str = ""  # 是/否 for a unit's report of the period
    errors: int | None = None
    warnings: int | None = None
    problems: tuple[Described, ...] = ()

    @property
    def order(self) -> tuple:
        return list(FILE_STATES).index(self.state), self.seq, self.file

    @property
    def main_problem(self) -> str:
        """Its first problem, and how many there are."""
        if not self.problems:
            return ""
        more = f"（共 {len(self.problems)} 条，见“{FINDINGS_SHEET}”表）" if len(self.problems) > 1 else ""
        return self.problems[0].message + more


def file_lines(result, units: dict, deadline: dt.date) -> list[FileLine]:
    """Every file received for the period (each name of a duplicate) and every file not read, in
    the order of FILE_STATES. 按时 is the report's rule (``reporting_day``), told for a unit's report
    of the period; a date not written in the file is the day it was received (收到)."""
    seqs = {code: n for n, code in enumerate(units)}
    lines = []
    for o in result.files:
        unit = (units[o.unit_code].name if o.unit_code in units
                else f"{o.written_unit}{UNVERIFIED}" if o.written_unit else UNKNOWN_UNIT)
        seq = seqs.get(o.unit_code, len(seqs))
        errors = sum(f.severity == Severity.ERROR for f in o.findings)
        warnings = len(o.findings) - errors
        day, on_time = reporting_day(o.report_date, o.first_seen, deadline)
        reported = o.status != FileStatus.REJECTED and o.period == result.period
        # What decided a superseded file's fate first, then errors before warnings.
        problems = sorted(o.findings, key=lambda f: (f.code != "superseded", f.severity != Severity.ERROR))
        lines.append(FileLine(WITH_WARNINGS if o.status == FileStatus.ACCEPTED and warnings else o.status.word,
                              unit, o.file, seq, chinese_date(day) + ("" if o.report_date else "（收到）"),
                              (YES if on_time else NO) if reported else "", errors, warnings,
                              tuple(map(describe, problems))))
        lines += [FileLine(DUPLICATE_COPY, unit, copy, seq, problems=(describe(finding(DUPLICATE, other=o.file)),))
                  for copy in o.copies]
    lines += [FileLine(NOT_READ, "", u.file, len(seqs),
                       problems=(Described(Severity.ERROR.word, place(""), u.message, u.fix),))
              for u in result.unread]
    return sorted(lines, key=lambda line: line.order)


def write_validation(result, units: dict, deadline: dt.date, path: Path, created: dt.datetime,
                     earlier: Path | None = None) -> None:
    """校验结果.xlsx: one line per file (those needing attention first), one per problem, and the
    units that have not reported; ``earlier``: as for ``write_sheets``."""
    lines = file_lines(result, units, deadline)
    counts = {state: sum(line.state == state for line in lines) for state in FILE_STATES}
    subtitle = (f"报送期 {result.period}：应报 {len(result.expected)} 个单位，未报送 {len(result.missing)} 个；"
                f"文件 {len(lines)} 份，依次为：" + "、".join(f"{state} {n}" for state, n in counts.items() if n))
    files = Sheet(FILES_SHEET, "报送文件校验结果", [
        Column("单位", 22, "wrap"), Column("文件", 40, "wrap"), Column("状态", 15, "center"),
        Column("报送日期", 20, "center"), Column("按时", 6, "center"), Column("错误数", 7, "number"),
        Column("提醒数", 7, "number"), Column("主要问题", 44, "wrap"),
    ], [[line.unit, line.file, line.state, line.day, line.on_time, line.errors, line.warnings, line.main_problem]
        for line in lines], lights=("状态", "按时"))
    findings = Sheet(FINDINGS_SHEET, "问题清单", [
        Column("单位", 20, "wrap"), Column("文件", 30, "wrap"), Column("位置", 18, "wrap"),
        Column("问题", 50, "wrap"), Column("级别", 8, "center"), Column("处理建议", 40, "wrap"),
    ], [[line.unit, line.file, d.place, d.message, d.level, d.fix] for line in lines for d in line.problems])
    missing = Sheet(MISSING_SHEET, "未报送单位", [
        Column("单位编码", 10, "center"), Column("单位名称", 24), Column("联系人", 14), Column("联系电话", 16),
        Column("邮箱", 26),
    ], [[code, units[code].name, units[code].contact, units[code].phone, units[code].email]
        for code in result.missing if code in units])
    write_sheets(path, created, _framed([files, findings, missing], subtitle, f"{result.period} "),
                 {**FILE_STATES, NO: "lagging"}, earlier)


# ---------------------------------------------------------------------------- 汇总报告: 总体情况

SUMMARY_WIDTHS = (34, 10, 10, 10, 10, 10, 10)  # 总体情况: fits one A4 page, portrait
LAST_COL = len(SUMMARY_WIDTHS) - 1
GAP = 1  # blank rows between blocks
BAR_CHART_ROWS = 15  # rows the category chart covers
TREND_CHART_ROWS = 12  # rows the trend chart beside its table covers
CHART_BORDER = {"color": "#7F7F7F"}


@dataclass(frozen=True)
class SummaryPage:
    """The 总体情况 sheet being laid out; each block draws from a row and returns the next free one."""

    workbook: object
    sheet: object
    styles: Styles
    spec: FormSpec
    formats: dict[str, object]  # traffic lights
    section: object  # the format of a block's heading

    def heading(self, row: int, text: str) -> int:
        self.sheet.write_string(row, 0, text, self.section)
        return row + 1

    def table(self, top: int, header: list[str], rows: list, kinds: list[str]) -> range:
        """A small bordered table, its header at ``top``; returns the rows of its data."""
        for col, label in enumerate(header):
            self.sheet.write_string(top, col, label, self.styles.header)
        for row, values in enumerate(rows, start=top + 1):
            for col, (value, kind) in enumerate(zip(values, kinds)):
                write_cell(self.sheet, row, col, value, self.styles.by_kind[kind])
        return range(top + 1, top + 1 + len(rows))

    def paragraphs(self, row: int, texts: list[str], fmt, width: float) -> int:
        """One text per row across the page, each row as high as its text needs."""
        for text in texts:
            self.sheet.merge_range(row, 0, row, LAST_COL, text, fmt)
            self.sheet.set_row(row, row_height([(text, width)]))
            row += 1
        return row

    def cells(self, rows: range, col: int) -> list:
        """A chart's reference to the cells of ``rows`` in column ``col``."""
        return [SUMMARY_SHEET, rows.start, col, rows.stop - 1, col]

    def colour(self, word: str, which: int = 0) -> str:
        """The traffic-light background (0) or text (1) colour of a status word."""
        return LIGHTS[_part(word, self.spec)][which]


def write_summary_sheet(workbook, styles: Styles, c: Consolidation, spec: FormSpec, title: str,
                        deadline: str, formats: dict[str, object]) -> None:
    """总体情况: the one printable page leaders read first, its blocks laid out top to bottom."""
    sheet = workbook.add_worksheet(SUMMARY_SHEET)
    for col, width in enumerate(SUMMARY_WIDTHS):
        sheet.set_column(col, col, width)
    section = styles.add(bordered=False, bold=True, font_name=HEADING_FONT, font_size=12)
    page = SummaryPage(workbook, sheet, styles, spec, formats, section)
    first = row = _title_block(page, c, 0, title, deadline) + GAP
    row = _reporting_block(page, c, row) + GAP
    row = _names_block(page, c, row) + GAP
    row = _status_block(page, c, row, chart_row=first) + GAP
    row = _categories_block(page, c, row) + GAP
    if len(c.trend) >= 2:
        row = _trend_block(page, c, row) + GAP
    row = _urgent_block(page, c, row) + GAP
    page.paragraphs(page.heading(row, "说明"), list(rules(spec)), styles.small, sum(SUMMARY_WIDTHS) * 1.2)
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 1)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.hide_gridlines(2)


def _title_block(page: SummaryPage, c: Consolidation, row: int, title: str, deadline: str) -> int:
    page.sheet.merge_range(row, 0, row, LAST_COL, title, page.styles.title)
    page.sheet.set_row(row, 28)
    page.sheet.merge_range(row + 1, 0, row + 1, LAST_COL, f"报送期：{c.period}　报送截止：{deadline}　"
                           f"数据来源：各单位通过校验的填报表（各单位原文见 {DETAILS_NAME}）", page.styles.subtitle)
    return row + 2


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _reporting_block(page: SummaryPage, c: Consolidation, row: int) -> int:
    """一、报送情况: units expected and reported, then each unit in exactly one state (UnitState)."""
    s = c.summary
    rows = [(label, s[key], _share(s[key], s["expected"])) for label, key in
            (("应报单位", "expected"), ("已报送", "reported"), *((state.word, state.value) for state in UnitState))]
    return page.table(page.heading(row, "一、报送情况"), ["项目", "单位数", "比例"], rows,
                      ["text", "number", "percent"]).stop


def _names_block(page: SummaryPage, c: Consolidation, row: int) -> int:
    """Each unit late, returned, rejected or not reporting, by name, however many."""
    lines = [f"{what}（{len(names)} 个）：{'、'.join(names)}。" for what, names in c.named if names]
    return page.paragraphs(row, lines or ["所有单位均已按时报送，没有退回修改的。"], page.styles.note, sum(SUMMARY_WIDTHS))


def _status_block(page: SummaryPage, c: Consolidation, row: int, chart_row: int) -> int:
    """二、任务总体状态: tasks by overall status, coloured, with a pie beside the blocks from ``chart_row``."""
    s, order = c.summary, status_order(page.spec)
    rows = [(word, int(n), _share(int(n), s["tasks"])) for word, n in c.status_counts.items()]
    rows.append(("合计", s["tasks"], _share(s["tasks"], s["tasks"])))
    data = page.table(page.heading(row, "二、任务总体状态"), ["总体状态", "任务数", "占比"], rows,
                      ["text", "number", "percent"])
    words = range(data.start, data.start + len(order))
    highlight_values(page.sheet, words.start, words.stop - 1, 0, page.formats)
    note = (f"其中{page.spec.lagging} {s['lagging']} 项，逾期 {s['overdue']} 项。"
            "总体状态看牵头单位；没有牵头单位的，看各责任单位中最落后的。")
    page.sheet.merge_range(data.stop, 0, data.stop, 2, note, page.styles.note)
    page.sheet.set_row(data.stop, row_height([(note, sum(SUMMARY_WIDTHS[:3]))]))
    pie = page.workbook.add_chart({"type": "pie"})
    pie.add_series({
        "name": "任务总体状态", "categories": page.cells(words, 0), "values": page.cells(words, 1),
        "points": [{"fill": {"color": page.colour(word)}, "border": CHART_BORDER} for word in order],
        "data_labels": {"value": True, "category": True, "leader_lines": True},
    })
    pie.set_title({"name": "任务总体状态", "name_font": {"size": 11}})
    pie.set_legend({"none": True})
    page.sheet.insert_chart(chart_row, 3, pie, {"x_scale": 0.78, "y_scale": 1.15, "x_offset": 10})
    return data.stop + 1


def _categories_block(page: SummaryPage, c: Consolidation, row: int) -> int:
    """三、分类别任务状态: tasks by category and overall status, and a stacked bar chart below."""
    order = status_order(page.spec)
    rows = [[f"{number}. {name}", *map(int, counts)] for number, name, counts in
            zip(c.categories["category_no"], c.categories["category"], c.categories[order].values.tolist())]
    top = page.heading(row, "三、分类别任务状态")
    data = page.table(top, ["类别", *order], rows, ["wrap", *["number"] * len(order)])
    bar = page.workbook.add_chart({"type": "bar", "subtype": "stacked"})
    for col, word in enumerate(order, start=1):
        bar.add_series({"name": [SUMMARY_SHEET, top, col], "categories": page.cells(data, 0),
                        "values": page.cells(data, col), "fill": {"color": page.colour(word)},
                        "border": CHART_BORDER})
    bar.set_title({"name": "各类别任务状态", "name_font": {"size": 11}})
    bar.set_legend({"position": "bottom"})
    bar.set_y_axis({"reverse": True})
    chart_row = data.stop + GAP
    page.sheet.insert_chart(chart_row, 0, bar, {"x_scale": 1.45, "y_scale": 0.85})
    return chart_row + BAR_CHART_ROWS


def _trend_block(page: SummaryPage, c: Consolidation, row: int) -> int:
    """四、各期任务数变化: done and lagging tasks per collected period, with a line chart beside."""
    shown = [page.spec.done, page.spec.lagging]
    rows = [[p, *map(int, values)] for p, *values in c.trend[["period", *shown]].itertuples(index=False)]
    top = page.heading(row, "四、各期任务数变化")
    data = page.table(top, ["报送期", *shown], rows, ["center", "number", "number"])
    line = page.workbook.add_chart({"type": "line"})
    for col, word in enumerate(shown, start=1):
        line.add_series({"name": word, "categories": page.cells(data, 0), "values": page.cells(data, col),
                         "marker": {"type": "circle"}, "line": {"color": page.colour(word, 1)}})
    line.set_title({"name": f"{page.spec.done}与滞后任务数的变化", "name_font": {"size": 11}})
    line.set_legend({"position": "bottom"})
    page.sheet.insert_chart(top, 3, line, {"x_scale": 0.78, "y_scale": 0.75, "x_offset": 10})
    return max(data.stop, top + TREND_CHART_ROWS)


def _urgent_block(page: SummaryPage, c: Consolidation, row: int) -> int:
    items = c.urgent or ["本期没有逾期或滞后的任务。"]
    texts = [f"{number}. {item}" for number, item in enumerate(items, start=1)]
    return page.paragraphs(page.heading(row, "需要关注的事项"), texts, page.styles.note, sum(SUMMARY_WIDTHS))


# ---------------------------------------------------------------------------- 汇总报告: table sheets

def write_consolidated(c: Consolidation, spec: FormSpec, title: str, deadline: str, path: Path,
                       created: dt.datetime) -> None:
    """汇总报告.xlsx, what leaders read and print: 总体情况 first, then short table sheets."""
    with atomic_workbook(path, created) as workbook:
        styles = Styles(workbook)
        formats = status_formats(styles, spec)
        write_summary_sheet(workbook, styles, c, spec, title, deadline, formats)
        for sheet in _framed([tasks_sheet(c), lagging_sheet(c), units_sheet(c, spec), missing_sheet(c),
                              task_changes_sheet(c)], _subtitle(c), f"{title}　"):
            write_sheet(workbook, styles, sheet, formats)


def write_details(c: Consolidation, spec: FormSpec, title: str, path: Path, created: dt.datetime) -> None:
    """汇总明细.xlsx, for those who filter and pivot: every unit's progress by task, every problem,
    every unit's change, and the long form (task × unit)."""
    sheets = [progress_sheet(c), problems_sheet(c, spec), changes_sheet(c), detail_sheet(c, spec)]
    write_sheets(path, created, _framed(sheets, _subtitle(c), f"{title}　"), status_lights(spec))


def _subtitle(c: Consolidation) -> str:
    return f"报送期 {c.period}　任务 {c.summary['tasks']} 项　应报单位 {c.summary['expected']} 个"


def tasks_sheet(c: Consolidation) -> Sheet:
    """Per task, what a leader reads: a short title, the lead unit, the overall status and how the
    units' statuses spread, and the lead unit's progress shortened (whole in 汇总明细)."""
    return Sheet(TASKS_SHEET, TASKS_SHEET, [
        TASK_ID, Column("任务", 22, "wrap"), Column("牵头单位", 14, "wrap"), OVERALL_STATUS,
        Column("各单位状态", 22, "wrap"), Column("牵头单位进展", 48, "wrap"), Column("完成时限", 11, "wrap"),
        Column("逾期", 6, "center"), Column("已报/应报", 9, "center"),
    ], [[t.task_id, short_title(t.requirement, 30), t.lead or "各责任单位", t.status, t.spread,
         excerpt(t.lead_progress, LEAD_PROGRESS_LIMIT), t.deadline, _yes(t.overdue), f"{t.reported}/{t.units}"]
        for t in c.tasks.itertuples()], lights=(OVERALL_STATUS.label,))


def progress_sheet(c: Consolidation) -> Sheet:
    return Sheet(PROGRESS_SHEET, "各单位进展（按任务）", [
        TASK_ID, Column("类别", 14, "wrap"), Column("具体要求", 36, "wrap"), Column("牵头单位", 12, "wrap"),
        OVERALL_STATUS, Column("牵头单位进展", 36, "wrap"), Column("各单位进展", 70, "wrap"),
        Column("存在问题", 34, "wrap"), Column("下一步计划", 34, "wrap"), Column("完成时限", 10, "wrap"),
        Column("逾期", 6, "center"), Column("已报/应报", 9, "center"),
    ], [[t.task_id, t.category, t.requirement, t.lead, t.status, t.lead_progress, t.progress, t.problems,
         t.next_steps, t.deadline, _yes(t.overdue), f"{t.reported}/{t.units}"] for t in c.tasks.itertuples()],
        lights=(OVERALL_STATUS.label,))


def units_sheet(c: Consolidation, spec: FormSpec) -> Sheet:
    return Sheet(UNITS_SHEET, UNITS_SHEET, [
        Column("单位编码", 9, "center"), Column("单位名称", 20, "wrap"), Column("任务数", 7, "number"),
        Column("已报送", 7, "center"), Column("按时", 6, "center"), Column("报送日期", 14, "center"),
        *(Column(choice, 8, "number") for choice in spec.choices),
        Column("错误数", 7, "number"), Column("提醒数", 7, "number"), Column("退回修改", 8, "center"),
        Column("报送文件", 30, "wrap"), Column("联系人", 12), Column("联系电话", 14),
    ], [[u["unit_code"], u["unit_name"], u["tasks"], YES if u["reported"] else NO,
         (YES if u["on_time"] else NO) if u["reported"] else "",
         chinese_date(u["report_date"]) if u["report_date"] else "", *(u[choice] for choice in spec.choices),
         u["errors"], u["warnings"], _yes(u["state"] == UnitState.RETURNED), u["file_name"], u["contact"], u["phone"]]
        for u in c.units.to_dict("records")])


def problems_sheet(c: Consolidation, spec: FormSpec) -> Sheet:
    problems, next_steps = spec.role("problems"), spec.role("next_steps")
    raised = c.detail[c.detail[problems.key] != ""]
    return Sheet(PROBLEMS_SHEET, "各单位反映的问题", [
        TASK_ID, Column("单位", 18, "wrap"), Column("状态", 10, "center"), Column(problems.label, 50, "wrap"),
        Column(next_steps.label, 40, "wrap"), Column("来源文件", 26, "wrap"),
    ], [[d["task_id"], d["unit_name"], d[spec.status_column], d[problems.key], d[next_steps.key], d["file_name"]]
        for d in raised.to_dict("records")], lights=("状态",))


def _streaks(c: Consolidation) -> dict[str, str]:
    """Per task lagging or not started two months or more running: ``连续进度滞后（3个月）``."""
    return {t: f"{k}（{m}个月）" for t, k, m in zip(c.streaks["task_id"], c.streaks["kind"], c.streaks["months"])}


def lagging_sheet(c: Consolidation) -> Sheet:
    streak = _streaks(c)
    return Sheet(LAGGING_SHEET, LAGGING_SHEET, [
        TASK_ID, Column("具体要求", 40, "wrap"), Column("牵头单位", 12, "wrap"), OVERALL_STATUS,
        Column("逾期", 6, "center"), Column("完成时限", 10, "wrap"), Column("报告滞后的单位", 24, "wrap"),
        Column("连续情况", 16, "wrap"), Column("存在问题", 40, "wrap"),
    ], [[t.task_id, t.requirement, t.lead, t.status, _yes(t.overdue), t.deadline, t.lagging_units,
         streak.get(t.task_id, ""), t.problems] for t in c.lagging.itertuples()], lights=(OVERALL_STATUS.label,))


def missing_sheet(c: Consolidation) -> Sheet:
    return Sheet(MISSING_SHEET, MISSING_SHEET, [
        Column("单位编码", 9, "center"), Column("单位名称", 22, "wrap"), Column("任务数", 7, "number"),
        Column("联系人", 12), Column("联系电话", 15), Column("邮箱", 26),
    ], [[u.unit_code, u.unit_name, u.tasks, u.contact, u.phone, u.email] for u in c.missing.itertuples()])


def task_changes_sheet(c: Consolidation) -> Sheet:
    """Per task: its overall status last month and now (each unit's change is in 汇总明细)."""
    streak = _streaks(c)
    before = f"上月（{previous_period(c.period)}）总体状态"
    no_data = (c.task_changes["previous"] == NOT_REPORTED).all()
    titles = dict(zip(c.tasks["task_id"], c.tasks["requirement"]))
    return Sheet(CHANGES_SHEET, CHANGES_SHEET, [
        TASK_ID, Column("任务", 30, "wrap"), Column(before, 16, "center"), Column("本期总体状态", 12, "center"),
        Column("变化", 12, "center"), Column("连续情况", 18, "wrap"),
    ], [[ch.task_id, short_title(titles.get(ch.task_id, ""), 30), ch.previous, ch.current, ch.change.word,
         streak.get(ch.task_id, "")] for ch in c.task_changes.itertuples()],
        subtitle="　（台账中没有上月数据）" if no_data else "", lights=(before, "本期总体状态"))


def changes_sheet(c: Consolidation) -> Sheet:
    streak = _streaks(c)
    before = f"上月（{previous_period(c.period)}）状态"
    no_data = (c.changes["previous"] == NOT_REPORTED).all()
    return Sheet(UNIT_CHANGES_SHEET, "较上月变化（按单位）", [
        TASK_ID, Column("单位", 20, "wrap"), Column(before, 14, "center"), Column("本期状态", 10, "center"),
        Column("变化", 10, "center"), Column("任务连续情况", 18, "wrap"),
    ], [[ch.task_id, ch.unit_name, ch.previous, ch.current, ch.change, streak.get(ch.task_id, "")]
        for ch in c.changes.itertuples()],
        subtitle="　（台账中没有上月数据）" if no_data else "", lights=(before, "本期状态"))


def detail_sheet(c: Consolidation, spec: FormSpec) -> Sheet:
    return Sheet(DETAIL_SHEET, f"{DETAIL_SHEET}（任务 × 单位）", [
        TASK_ID, Column("类别", 14), Column("具体要求", 30), Column("完成时限", 10),
        Column("单位编码", 9, "center"), Column("单位名称", 18), Column("本单位职责", 9, "center"),
        *_answer_columns(spec, 24, "text"), Column("来源文件", 26), Column("文件SHA-256", 18),
    ], [[d["task_id"], d["category"], d["requirement"], d["deadline"], d["unit_code"], d["unit_name"], d["role"],
         *_answers(d, spec), d["file_name"], d["sha256"][:16]] for d in c.detail.to_dict("records")],
        lights=(spec.role("status").label,))


# ---------------------------------------------------------------------------- 反馈

@dataclass(frozen=True)
class ReportBatch:
    """Everything a period's report and feedback workbooks are written from, sent once to each
    worker: job 0 is 汇总报告.xlsx (the largest, so it starts first), job n the feedback workbook
    of the n-th unit."""

    consolidation: Consolidation
    spec: FormSpec
    title: str  # the city and the plan
    report_title: str
    deadline: str  # as a clerk writes it
    report: Path
    details: Path
    folder: Path  # of the feedback workbooks
    created: dt.datetime

    @functools.cached_property
    def units(self) -> dict[str, UnitFeedback]:
        return feedback_by_unit(self.consolidation, self.spec)

    @functools.cached_property
    def codes(self) -> list[str]:
        return list(self.consolidation.units["unit_code"])

    @property
    def jobs(self) -> int:
        return 2 + len(self.consolidation.units)

    def path(self, unit: dict) -> Path:
        return self.folder / unit_file_name(unit["unit_code"], unit["unit_name"], f"{self.consolidation.period}反馈.xlsx")


def write_report_job(batch: ReportBatch, number: int) -> str:
    """Write the batch's report (``number`` 0), its details (1) or a unit's feedback workbook (a
    parallel.run_jobs job)."""
    if number == 0:
        write_consolidated(batch.consolidation, batch.spec, batch.report_title, batch.deadline, batch.report,
                           batch.created)
        return batch.report.name
    if number == 1:
        write_details(batch.consolidation, batch.spec, batch.title, batch.details, batch.created)
        return batch.details.name
    feedback = batch.units[batch.codes[number - 2]]
    path = batch.path(feedback.unit)
    write_feedback(feedback, batch.consolidation, batch.spec, batch.title, batch.deadline, path, batch.created)
    return path.name


# How a unit stands, told to the unit: one phrase, never a pair that contradicts itself.
STANDING_WORDS = {UnitState.ON_TIME: "按时报送，已通过校验", UnitState.LATE: "逾期报送（晚于报送截止日），已通过校验",
                  UnitState.RETURNED: "退回修改（待重新报送）", UnitState.MISSING: "未报送"}
# Why none of a unit's data is used, by its state.
NO_DATA = {UnitState.RETURNED: "报送的文件已退回修改，数据未采用", UnitState.MISSING: "本期未收到本单位的填报表"}
NOTHING = "无"


def write_feedback(feedback: UnitFeedback, c: Consolidation, spec: FormSpec, title: str, deadline: str, path: Path,
                   created: dt.datetime) -> None:
    """One unit's standing, how it compares with all units, its own rows as consolidated, and its findings."""
    sheets = [own_sheet(feedback, c, deadline), own_tasks_sheet(feedback, c, spec), own_findings_sheet(feedback)]
    write_sheets(path, created, _framed(sheets, f"{feedback.unit['unit_name']}　报送期 {c.period}", f"{title}　"),
                 status_lights(spec))


def own_sheet(feedback: UnitFeedback, c: Consolidation, deadline: str) -> Sheet:
    """本单位情况: the unit's one standing, its file's problems, and its tasks beside all units'."""
    unit, s = feedback.unit, c.summary
    state = unit["state"]
    none = f"{NOTHING}（{NO_DATA[state]}）" if state in NO_DATA else NOTHING
    levels = [Severity(f["severity"]) for f in feedback.findings]
    problems = ("、".join(f"{level.word} {levels.count(level)} 条" for level in Severity if level in levels)
                + f"，见“{FINDINGS_SHEET}”表" if levels else NOTHING)
    rows = [["报送情况", STANDING_WORDS[state],
             f"共 {s['expected']} 个单位：" + "、".join(f"{x.word} {s[x.value]}" for x in UnitState)],
            ["报送日期", chinese_date(unit["report_date"]) if unit["report_date"] else NOTHING, f"报送截止：{deadline}"],
            ["报送文件", unit["file_name"] or NOTHING, ""],
            ["文件中的问题", problems, ""],
            ["承担任务", f"{int(unit['tasks'])} 项", f"共 {len(c.detail)} 项（单位 × 任务）"],
            ["平均完成进度", f"{feedback.progress:.1f}%，第 {feedback.rank} 名（共 {feedback.ranked} 个单位）"
             if feedback.progress is not None else none,
             f"各单位平均 {feedback.average:.1f}%" if feedback.average is not None else NOTHING]]
    rows += [[f"“{word}”的任务", NOTHING if n is None else f"{n} 项，占 {share:.1%}", f"占 {everyone:.1%}"]
             for word, n, share, everyone in feedback.statuses]
    return Sheet(OWN_SHEET, "本单位报送情况反馈", [Column("项目", 20, "wrap"), Column("本单位", 40, "wrap"),
                                                  Column("全部单位", 48, "wrap")], rows,
                 subtitle="　完成进度和任务状态只统计通过校验的填报表；排名按平均完成进度由高到低")


def own_tasks_sheet(feedback: UnitFeedback, c: Consolidation, spec: FormSpec) -> Sheet:
    overall = dict(zip(c.tasks["task_id"], c.tasks["status"]))
    state = feedback.unit["state"]
    return Sheet(TASKS_SHEET, "本单位任务进展", [
        TASK_ID, Column("具体要求", 36, "wrap"), Column("本单位职责", 9, "center"), *_answer_columns(spec, 28, "wrap"),
        Column("任务总体状态", 10, "center"),
    ], [[d["task_id"], d["requirement"], d["role"], *_answers(d, spec), overall.get(d["task_id"], "")]
        for d in feedback.rows], lights=(spec.role("status").label, "任务总体状态"),
        subtitle=f"　{NO_DATA[state]}，各项任务按“{NOT_REPORTED}”统计" if state in NO_DATA else "")


def own_findings_sheet(feedback: UnitFeedback) -> Sheet:
    """问题: every problem of every file the unit sent this period; a line saying 无 when there is none."""
    rows = [[f["file_name"], place(f["location"]), f["message"], Severity(f["severity"]).word, f["fix"]]
            for f in feedback.findings]
    if not rows:
        rows = [[feedback.unit["file_name"], "", NOTHING if feedback.unit["file_name"]
                 else f"{NOTHING}（{NO_DATA[UnitState.MISSING]}）", "", ""]]
    return Sheet(FINDINGS_SHEET, "本单位报送文件的问题", [
        Column("文件", 28, "wrap"), Column("位置", 18), Column("问题", 46, "wrap"), Column("级别", 8, "center"),
        Column("处理建议", 40, "wrap"),
    ], rows)
