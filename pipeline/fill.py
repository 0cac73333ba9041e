"""Filling an issued template the way a unit does in Excel: for the demo and the benchmarks.

Finds cells by the form's labels (never by fixed positions), like the reader does, so it keeps
working when the layout changes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from .form import FormSpec
from .text import fold
from .xlsxout import row_height

PROGRESS_PHRASES = (
    "已在政府门户网站政务公开专栏发布相关信息{n}条，",
    "本月召开专题会议研究部署，明确分管领导和具体责任人，",
    "按照计划要求梳理公开事项清单，完成{n}项目录编制，",
    "通过政务新媒体同步发布政策解读材料{n}篇，阅读量较上月有所增长，",
    "对照年度工作要点逐项检查落实情况，整改问题{n}个，",
    "组织业务培训{n}场，覆盖各科室信息公开联络员，",
    "及时回应社会关切，办理依申请公开事项{n}件，均在法定时限内答复，",
    "更新完善基层政务公开标准目录，新增公开事项{n}项，",
)
PROBLEM_PHRASES = (
    "部分业务科室对公开时限把握不准，",
    "专业人员不足，信息更新频率偏低，",
    "跨部门数据共享机制尚未完全理顺，",
    "政策解读形式较为单一，图解和视频解读偏少，",
    "基层单位对公开标准理解不一，发布内容详略不一，",
)
NEXT_PHRASES = (
    "下月将继续完善公开目录并加强督促检查，",
    "下一步将加快系统对接，按时完成年度任务，",
    "继续做好政策解读和舆情回应工作，",
    "组织开展专项自查，对发现的问题限期整改，",
    "加强与上级主管部门沟通，争取业务指导和技术支持，",
)
# A unit's answer texts run from a phrase or two to a long paragraph (characters).
TEXT_CHARS = (50, 300)
# Typical mistakes of a unit, each of which collect returns the file for.
MISTAKES = ("status-typo", "lagging-without-reason", "no-reporter", "percent-in-words")


@dataclass
class Filling:
    """What a unit writes: header fields and answers by column label, per task ID."""

    header: dict[str, object] = field(default_factory=dict)
    answers: dict[str, dict[str, object]] = field(default_factory=dict)
    insert_after: dict[str, dict[str, object]] = field(default_factory=dict)  # task ID -> inserted row


def sample_header(spec: FormSpec, number: int, report_date: str) -> dict[str, object]:
    """The header block a unit fills in, by label; ``number`` tells the units apart."""
    values = {"reporter": f"示例填报人{number:02d}", "phone": f"0000-5550{number:04d}",
              "reviewer": f"示例审核人{number:02d}", "report_date": report_date}
    return {spec.role(role).label: value for role, value in values.items() if spec.has_role(role)}


def sample_answer(rng: random.Random, spec: FormSpec, status: str) -> dict[str, object]:
    """A plausible answer for one task in a given status, by column label."""
    percent = {spec.done: 100, spec.not_started: 0}.get(status, rng.randrange(30, 95, 5))
    values = {"status": status, "percent": percent}
    if status != spec.not_started:
        values["progress"] = sample_text(rng, PROGRESS_PHRASES)
        values["next_steps"] = sample_text(rng, NEXT_PHRASES)
        values["evidence"] = f"https://www.example.gov.cn/zwgk/{rng.randint(1000, 9999)}.html"
    if status == spec.lagging:
        values["problems"] = sample_text(rng, PROBLEM_PHRASES)
    return {spec.role(role).label: value for role, value in values.items()}


def sample_text(rng: random.Random, phrases: tuple[str, ...], length: int | None = None) -> str:
    """Phrases strung together to ``length`` characters (drawn from TEXT_CHARS if not given),
    ending with a full stop."""
    length = length or rng.randint(*TEXT_CHARS)
    text = ""
    while len(text) < length:
        text += rng.choice(phrases).format(n=rng.randint(2, 30))
    return text[:length - 1].rstrip("，") + "。"


def make_mistake(filling: Filling, spec: FormSpec, mistake: str) -> None:
    """Put one of MISTAKES into a unit's filling: into its header or its first task's answer."""
    first = next(iter(filling.answers.values()))
    status = spec.role("status").label
    if mistake == "status-typo":
        first[status] = spec.done[1:] or f"{spec.done}了"  # 完成 for 已完成
    elif mistake == "lagging-without-reason":
        first.update({status: spec.lagging, spec.role("problems").label: None})
    elif mistake == "no-reporter":
        filling.header[spec.role("reporter").label] = None
    elif mistake == "percent-in-words":
        first[spec.role("percent").label] = "八十"
    else:
        raise ValueError(f"unknown mistake {mistake!r}, expected one of {MISTAKES}")


def fill_template(source: Path, target: Path, spec: FormSpec, filling: Filling) -> None:
    """Write ``filling`` into a copy of an issued template, as a unit would in Excel."""
    import openpyxl

    workbook = openpyxl.load_workbook(source)
    sheet = workbook[spec.data_sheet]
    labels = {fold(c.label): c for c in spec.columns}
    header_labels = {fold(f.label) for f in spec.header}
    id_label = spec.column_of_source("id").label
    table_row, columns = None, {}
    for row in sheet.iter_rows():
        for cell in row:
            text = fold(str(cell.value or ""))
            if text in header_labels and text != fold(id_label):
                label = next(f.label for f in spec.header if fold(f.label) == text)
                if label in filling.header:
                    sheet.cell(cell.row, cell.column + 1, filling.header[label])
            elif text in labels:
                table_row = cell.row
                columns[labels[text].label] = cell.column
        if table_row:
            break
    rows = {
        str(sheet.cell(r, columns[id_label]).value): r for r in range(table_row + 1, sheet.max_row + 1)
    }
    for task_id, answer in filling.answers.items():
        for label, value in answer.items():
            sheet.cell(rows[task_id], columns[label], value)
    for task_id, extra in sorted(filling.insert_after.items(), key=lambda item: -rows[item[0]]):
        at = rows[task_id] + 1
        sheet.insert_rows(at)
        for label, value in extra.items():
            sheet.cell(at, columns[label], value)
    _fit_rows(sheet, table_row + 1, set(columns.values()))
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)


def _fit_rows(sheet, first: int, table_columns: set[int]) -> None:
    """Give each table row the height that shows its wrapped text, as Excel does for a row
    without a set height when a unit types in it (openpyxl saves any height as a set one)."""
    widths = {col: dimension.width for dimension in sheet.column_dimensions.values()
              for col in range(dimension.min, dimension.max + 1)}
    for row in sheet.iter_rows(min_row=first):
        texts = [(str(cell.value), widths[cell.column]) for cell in row
                 if cell.column in table_columns and cell.value is not None]
        sheet.row_dimensions[row[0].row].height = row_height(texts)
