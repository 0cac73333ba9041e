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

PROGRESS_PHRASES = (
    "已在政府门户网站政务公开专栏发布相关信息{n}条，",
    "本月召开专题会议研究部署，明确分管领导和具体责任人，",
    "按照计划要求梳理公开事项清单，完成{n}项目录编制，",
    "通过政务新媒体同步发布政策解读材料{n}篇，阅读量较上月有所增长，",
    "对照年度工作要点逐项检查落实情况，整改问题{n}个，",
    "组织业务培训{n}场，覆盖各科室信息公开联络员，",
)
PROBLEM_PHRASES = (
    "部分业务科室对公开时限把握不准，",
    "专业人员不足，信息更新频率偏低，",
    "跨部门数据共享机制尚未完全理顺，",
)
NEXT_PHRASES = (
    "下月将继续完善公开目录并加强督促检查。",
    "下一步将加快系统对接，按时完成年度任务。",
    "继续做好政策解读和舆情回应工作。",
)


@dataclass
class Filling:
    """What a unit writes: header fields and answers by column label, per task ID."""

    header: dict[str, object] = field(default_factory=dict)
    answers: dict[str, dict[str, object]] = field(default_factory=dict)
    insert_after: dict[str, dict[str, object]] = field(default_factory=dict)  # task ID -> inserted row


def sample_answer(rng: random.Random, spec: FormSpec, status: str) -> dict[str, object]:
    """A plausible answer for one task in a given status, by column label."""
    labels = {c.key: c.label for c in spec.input_columns}
    percent = {spec.done: 100, spec.not_started: 0}.get(status, rng.randrange(30, 95, 5))
    answer = {labels["status"]: status, labels["percent"]: percent}
    if status != spec.not_started:
        answer[labels["progress"]] = "".join(
            rng.choice(PROGRESS_PHRASES).format(n=rng.randint(2, 30)) for _ in range(rng.randint(1, 3))
        ).rstrip("，") + "。"
        answer[labels["next_steps"]] = rng.choice(NEXT_PHRASES)
        answer[labels["evidence"]] = f"https://www.example.gov.cn/zwgk/{rng.randint(1000, 9999)}.html"
    if status == spec.lagging:
        answer[labels["problems"]] = rng.choice(PROBLEM_PHRASES).rstrip("，") + "。"
    return answer


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
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)


def simulate_returns(template_folder: Path, target: Path, spec: FormSpec, plan, units, period: str,
                     seed: int = 2018) -> list[Path]:
    """Fill a month's issued templates as units would and drop them into ``target``.

    Most units answer correctly, two make typical mistakes (a mistyped status, a lagging task
    without its reason, no 填报人), two send nothing, one sends its file twice, and an
    Office temp file lands in the folder too. ``units`` are (code, name, file name) triples.
    """
    rng = random.Random(seed)
    statuses = (spec.done, "序时推进", "序时推进", "序时推进", spec.lagging, spec.not_started)
    sent = []
    for index, (code, name, file_name) in enumerate(units):
        if index in (3, 11):
            continue  # these units do not report this month
        header = {"填报人": f"示例填报人{index + 1:02d}", "联系电话": f"0000-55500{index + 1:02d}",
                  "审核人": f"示例审核人{index + 1:02d}", "报送日期": f"{period}-{rng.randint(15, 28):02d}"}
        answers = {task.id: sample_answer(rng, spec, rng.choice(statuses)) for task, _ in plan.tasks_of(code)}
        filling = Filling(header, answers)
        first = next(iter(answers))
        if index == 5:
            answers[first][spec.column(spec.status_column).label] = "完成"
        if index == 8:
            filling.header["填报人"] = None
            answers[first].update({spec.column(spec.status_column).label: spec.lagging,
                                   spec.column("problems").label: None})
        path = target / f"{name}{period}进展报送.xlsx"
        fill_template(template_folder / file_name, path, spec, filling)
        sent.append(path)
        if index == 1:
            resent = target / f"{name}{period}进展报送（再次发送）.xlsx"
            resent.write_bytes(path.read_bytes())
            sent.append(resent)
    (target / f"~${units[0][1]}{period}进展报送.xlsx").write_bytes(b"\x00" * 165)
    return sent
