"""Laying out the office's workbooks: plan breakdown, validation results, consolidated report, feedback."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .findings import FileStatus, Severity, describe, place
from .form import FormSpec
from .merge import NOT_REPORTED, RULES, Consolidation, UnitFeedback, feedback_by_unit, status_order
from .periods import chinese_date, previous_period
from .plan import ROLES, Plan
from .units import Registry
from .workspace import safe_file_name
from .xlsxout import (HEADING_FONT, Column, Styles, atomic_workbook, highlight_values, row_height,
                      write_cell, write_table)

BREAKDOWN_NAME = "任务分解表.xlsx"


def write_plan_breakdown(plan: Plan, registry: Registry, path: Path, created: dt.datetime) -> None:
    """Tasks, task × unit assignments with roles, and per-unit task counts, ready to print."""
    subtitle = f"来源：{plan.source}　计划版本：{plan.version}　共 {len(plan.tasks)} 项任务"
    with atomic_workbook(path, created) as workbook:
        styles = Styles(workbook)
        write_table(
            workbook.add_worksheet("任务清单"),
            styles,
            [
                Column("任务编号", 9, "center"),
                Column("工作任务", 22, "wrap"),
                Column("具体要求", 60, "wrap"),
                Column("责任单位（原文）", 36, "wrap"),
                Column("牵头单位", 16, "wrap"),
                Column("完成时限", 12, "wrap"),
                Column("截止日期", 11, "center"),
                Column("单位数", 8, "number"),
            ],
            [
                [
                    task.id,
                    task.category,
                    task.requirement,
                    task.responsibility,
                    "、".join(a.name for a in task.units if a.role == "牵头"),
                    task.deadline or "",
                    task.deadline_date or "",
                    len(task.units),
                ]
                for task in plan.tasks
            ],
            title=f"{plan.title} 任务分解表",
            subtitle=subtitle,
        )
        write_table(
            workbook.add_worksheet("任务分工"),
            styles,
            [
                Column("任务编号", 9, "center"),
                Column("单位编码", 10, "center"),
                Column("单位名称", 24),
                Column("本单位职责", 11, "center"),
                Column("具体要求", 70, "wrap"),
            ],
            [[t.id, a.code, a.name, a.role, t.requirement] for t in plan.tasks for a in t.units],
            title="任务分工（任务 × 单位）",
            subtitle=subtitle,
        )
        counts = {unit.code: dict.fromkeys(ROLES, 0) for unit in registry.units}
        for task in plan.tasks:
            for a in task.units:
                counts[a.code][a.role] += 1
        write_table(
            workbook.add_worksheet("单位任务数"),
            styles,
            [Column("单位编码", 10, "center"), Column("单位名称", 24)]
            + [Column(role, 9, "number") for role in ROLES]
            + [Column("合计", 9, "number")],
            [
                [unit.code, unit.name, *counts[unit.code].values(), sum(counts[unit.code].values())]
                for unit in registry.units
            ],
            title="各单位承担任务数",
            subtitle=subtitle,
        )


VALIDATION_NAME = "校验结果.xlsx"


def write_validation(result, units: dict, path: Path, created: dt.datetime) -> None:
    """校验结果.xlsx: one row per file, one per finding, and the units that have not reported."""
    def unit_name(code):
        return units[code].name if code in units else "（无法识别）"

    subtitle = (f"报送期 {result.period}：应报 {len(result.expected)} 个单位，收到文件 {len(result.files)} 份，"
                f"通过 {result.count(FileStatus.ACCEPTED)}，退回 {result.count(FileStatus.RETURNED)}，"
                f"拒收 {result.count(FileStatus.REJECTED)}，"
                f"未报送 {len(result.missing)} 个单位")
    with atomic_workbook(path, created) as workbook:
        styles = Styles(workbook)
        write_table(
            workbook.add_worksheet("文件"),
            styles,
            [Column("单位", 24, "wrap"), Column("文件", 40, "wrap"), Column("状态", 10, "center"),
             Column("错误数", 8, "number"), Column("提醒数", 8, "number"), Column("SHA-256", 20)],
            [[unit_name(f.unit_code), f.file, f.status.word,
              sum(x.severity == Severity.ERROR for x in f.findings),
              sum(x.severity == Severity.WARNING for x in f.findings),
              f.sha256[:16]] for f in result.files],
            title=f"{result.period} 报送文件校验结果",
            subtitle=subtitle,
        )
        write_table(
            workbook.add_worksheet("问题"),
            styles,
            [Column("单位", 20, "wrap"), Column("文件", 30, "wrap"), Column("位置", 18, "wrap"),
             Column("问题", 50, "wrap"), Column("级别", 8, "center"), Column("处理建议", 40, "wrap")],
            [[unit_name(f.unit_code), f.file, d.place, d.message, d.level, d.fix]
             for f in result.files for d in map(describe, f.findings)],
            title=f"{result.period} 问题清单",
            subtitle=subtitle,
        )
        write_table(
            workbook.add_worksheet("未报送单位"),
            styles,
            [Column("单位编码", 10, "center"), Column("单位名称", 24), Column("联系人", 14),
             Column("联系电话", 16), Column("邮箱", 26)],
            [[code, unit_name(code), units[code].contact, units[code].phone, units[code].email]
             for code in result.missing if code in units],
            title=f"{result.period} 未报送单位",
            subtitle=subtitle,
        )


def return_notice(outcome, unit_name: str, period: str) -> str:
    """The text sent back to a unit whose file was returned: exactly what to fix, where."""
    lines = [f"{unit_name}：", "",
             f"贵单位报送的 {period} 进展填报表（文件：{outcome.file}）经检查有以下问题，"
             "请修改后重新报送：", ""]
    for number, item in enumerate(sorted(outcome.findings, key=lambda x: x.severity != Severity.ERROR), start=1):
        lines.append(f"{number}. {describe(item)}")
    lines += ["", "修改时请在原文件上直接改正，不要新建表格；改好后请确认表格上方“自查”格为 0 再报送。"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- consolidated report

REPORT_NAME = "汇总报告.xlsx"
FEEDBACK_FOLDER = "反馈"
# Traffic lights: background and text colour by the part a status plays.
LIGHTS = {"done": ("#C6EFCE", "#006100"), "on_track": ("#DDEBF7", "#1F4E78"),
          "lagging": ("#FFC7CE", "#9C0006"), "not_started": ("#FFEB9C", "#9C5700"),
          "not_reported": ("#E7E6E6", "#3A3838")}
SUMMARY_WIDTHS = (34, 10, 10, 10, 10, 10, 10)  # 总体情况: fits one A4 page, portrait


def status_formats(styles: Styles, spec: FormSpec) -> dict[str, object]:
    """The traffic-light format of every status word, the same in every sheet."""
    return {word: styles.add(bordered=False, bg_color=LIGHTS[_part(word, spec)][0],
                             font_color=LIGHTS[_part(word, spec)][1])
            for word in status_order(spec)}


def _lights(sheet, formats, top: int, rows: int, col: int) -> None:
    highlight_values(sheet, top + 1, top + max(rows, 1), col, formats)


def write_summary_sheet(workbook, styles: Styles, c: Consolidation, spec: FormSpec, title: str,
                        deadline: str, formats) -> None:
    """总体情况: the one printable page leaders read first."""
    sheet = workbook.add_worksheet("总体情况")
    last = len(SUMMARY_WIDTHS) - 1
    for col, width in enumerate(SUMMARY_WIDTHS):
        sheet.set_column(col, col, width)
    section = styles.add(bordered=False, bold=True, font_name=HEADING_FONT, font_size=12)
    sheet.merge_range(0, 0, 0, last, title, styles.title)
    sheet.set_row(0, 28)
    sheet.merge_range(1, 0, 1, last, f"报送期：{c.period}　报送截止：{deadline}　"
                      f"数据来源：各单位通过校验的填报表（详见“明细”表）", styles.subtitle)
    s = c.summary
    rate = _share
    order = status_order(spec)

    sheet.write_string(3, 0, "一、报送情况", section)
    rows = [("应报单位", s["expected"], 1.0 if s["expected"] else 0), ("已报送", s["reported"], rate(s["reported"], s["expected"])),
            ("按时报送", s["on_time"], rate(s["on_time"], s["expected"])),
            ("退回修改", s["returned"], rate(s["returned"], s["expected"])),
            ("未报送", s["missing"], rate(s["missing"], s["expected"]))]
    _small_table(sheet, styles, 4, ["项目", "单位数", "比例"], rows, ["text", "number", "percent"])

    sheet.write_string(11, 0, "二、任务总体状态", section)
    status_rows = [(word, int(n), rate(int(n), s["tasks"])) for word, n in c.status_counts.items()]
    status_rows.append(("合计", s["tasks"], 1.0 if s["tasks"] else 0))
    _small_table(sheet, styles, 12, ["总体状态", "任务数", "占比"], status_rows, ["text", "number", "percent"])
    highlight_values(sheet, 13, 13 + len(order) - 1, 0, formats)
    note_row = 13 + len(status_rows)
    sheet.merge_range(note_row, 0, note_row, 2,
                      f"其中进度滞后 {s['lagging']} 项，逾期 {s['overdue']} 项。", styles.note)
    pie = workbook.add_chart({"type": "pie"})
    pie.add_series({
        "name": "任务总体状态",
        "categories": ["总体情况", 13, 0, 12 + len(order), 0],
        "values": ["总体情况", 13, 1, 12 + len(order), 1],
        "points": [{"fill": {"color": LIGHTS[_part(word, spec)][0]}, "border": {"color": "#7F7F7F"}} for word in order],
        "data_labels": {"value": True, "category": True, "leader_lines": True},
    })
    pie.set_title({"name": "任务总体状态", "name_font": {"size": 11}})
    pie.set_legend({"none": True})
    sheet.insert_chart(3, 3, pie, {"x_scale": 0.78, "y_scale": 1.15, "x_offset": 10})

    top = note_row + 2
    sheet.write_string(top, 0, "三、分类别任务状态", section)
    category_rows = [[f"{number}. {name}", *map(int, counts)] for number, name, counts in
                     zip(c.categories["category_no"], c.categories["category"], c.categories[order].values.tolist())]
    header = ["类别", *order]
    _small_table(sheet, styles, top + 1, header, category_rows, ["wrap", *["number"] * len(order)])
    bar = workbook.add_chart({"type": "bar", "subtype": "stacked"})
    first, last_row = top + 2, top + 1 + len(category_rows)
    for offset, word in enumerate(order, start=1):
        bar.add_series({"name": ["总体情况", top + 1, offset], "categories": ["总体情况", first, 0, last_row, 0],
                        "values": ["总体情况", first, offset, last_row, offset],
                        "fill": {"color": LIGHTS[_part(word, spec)][0]}, "border": {"color": "#7F7F7F"}})
    bar.set_title({"name": "各类别任务状态", "name_font": {"size": 11}})
    bar.set_legend({"position": "bottom"})
    bar.set_y_axis({"reverse": True})
    chart_row = last_row + 2
    sheet.insert_chart(chart_row, 0, bar, {"x_scale": 1.45, "y_scale": 0.85})
    row = chart_row + 16
    if len(c.trend) >= 2:
        trend_top = row
        sheet.write_string(trend_top, 0, "四、各期任务数变化", section)
        shown = [spec.done, spec.lagging]  # the two lines of the chart beside the table
        trend_rows = [[p, *map(int, values)] for p, *values in c.trend[["period", *shown]].itertuples(index=False)]
        _small_table(sheet, styles, trend_top + 1, ["报送期", *shown], trend_rows,
                     ["center", "number", "number"])
        line = workbook.add_chart({"type": "line"})
        t_first, t_last = trend_top + 2, trend_top + 1 + len(trend_rows)
        for offset, word in enumerate(shown, start=1):
            line.add_series({"name": word, "categories": ["总体情况", t_first, 0, t_last, 0],
                             "values": ["总体情况", t_first, offset, t_last, offset],
                             "marker": {"type": "circle"}, "line": {"color": LIGHTS[_part(word, spec)][1]}})
        line.set_title({"name": "已完成与滞后任务数的变化", "name_font": {"size": 11}})
        line.set_legend({"position": "bottom"})
        sheet.insert_chart(trend_top + 1, 3, line, {"x_scale": 0.78, "y_scale": 0.75, "x_offset": 10})
        row = max(t_last, trend_top + 12) + 2
    sheet.write_string(row, 0, "需要关注的事项", section)
    width = sum(SUMMARY_WIDTHS)
    for number, item in enumerate(c.urgent or ["本期没有逾期、滞后任务，所有单位均已报送。"], start=1):
        row += 1
        text = f"{number}. {item}"
        sheet.merge_range(row, 0, row, last, text, styles.note)
        sheet.set_row(row, row_height([(text, width)]))
    row += 2
    sheet.write_string(row, 0, "说明", section)
    for rule in RULES:
        row += 1
        sheet.merge_range(row, 0, row, last, rule, styles.small)
        sheet.set_row(row, row_height([(rule, width * 1.2)]))
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 1)
    sheet.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    sheet.hide_gridlines(2)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _part(word: str, spec: FormSpec) -> str:
    return {spec.done: "done", spec.lagging: "lagging", spec.not_started: "not_started",
            NOT_REPORTED: "not_reported"}.get(word, "on_track")


def _small_table(sheet, styles: Styles, top: int, header: list[str], rows, kinds: list[str]) -> None:
    for col, label in enumerate(header):
        sheet.write_string(top, col, label, styles.header)
    for offset, values in enumerate(rows, start=1):
        for col, (value, kind) in enumerate(zip(values, kinds)):
            write_cell(sheet, top + offset, col, value, styles.by_kind[kind])


def write_consolidated(c: Consolidation, spec: FormSpec, title: str, deadline: str, path: Path,
                       created: dt.datetime) -> None:
    """汇总报告.xlsx: 总体情况 first, then detail sheets; unit text always written as strings."""
    status = spec.status_column
    subtitle = f"报送期 {c.period}　任务 {c.summary['tasks']} 项　应报单位 {c.summary['expected']} 个"
    with atomic_workbook(path, created) as workbook:
        styles = Styles(workbook)
        formats = status_formats(styles, spec)
        write_summary_sheet(workbook, styles, c, spec, title, deadline, formats)
        streak = {t: f"{k}（{m}个月）" for t, k, m in zip(c.streaks["task_id"], c.streaks["kind"], c.streaks["months"])}

        sheet = workbook.add_worksheet("任务进展")
        rows = [[t.task_id, t.category, t.requirement, t.lead, t.status, t.lead_progress, t.progress,
                 t.problems, t.next_steps, t.deadline, "是" if t.overdue else "", f"{t.reported}/{t.units}"]
                for t in c.tasks.itertuples()]
        top = write_table(sheet, styles, [
            Column("任务编号", 8, "center"), Column("类别", 14, "wrap"), Column("具体要求", 36, "wrap"),
            Column("牵头单位", 12, "wrap"), Column("总体状态", 10, "center"), Column("牵头单位进展", 36, "wrap"),
            Column("各单位进展", 70, "wrap"), Column("存在问题", 34, "wrap"), Column("下一步计划", 34, "wrap"),
            Column("完成时限", 10, "wrap"), Column("逾期", 6, "center"), Column("已报/应报", 9, "center"),
        ], rows, title=f"{title}　任务进展", subtitle=subtitle)
        _lights(sheet, formats, top, len(rows), 4)

        sheet = workbook.add_worksheet("单位报送情况")
        rows = [[u["unit_code"], u["unit_name"], u["tasks"], "是" if u["reported"] else "否",
                 ("是" if u["on_time"] else "否") if u["reported"] else "",
                 chinese_date(u["report_date"]) if u["report_date"] else "",
                 *(u[choice] for choice in spec.choices),
                 u["errors"], u["warnings"], "是" if u["returned"] else "", u["file_name"], u["contact"], u["phone"]]
                for u in c.units.to_dict("records")]
        write_table(sheet, styles, [
            Column("单位编码", 9, "center"), Column("单位名称", 20, "wrap"), Column("任务数", 7, "number"),
            Column("已报送", 7, "center"), Column("按时", 6, "center"), Column("报送日期", 14, "center"),
            *(Column(choice, 8, "number") for choice in spec.choices),
            Column("错误数", 7, "number"), Column("提醒数", 7, "number"), Column("退回修改", 8, "center"),
            Column("报送文件", 30, "wrap"), Column("联系人", 12), Column("联系电话", 14),
        ], rows, title=f"{title}　单位报送情况", subtitle=subtitle)

        sheet = workbook.add_worksheet("问题清单")
        problems, next_steps = spec.role("problems"), spec.role("next_steps")
        raised = c.detail[c.detail[problems.key] != ""]
        rows = [[d["task_id"], d["unit_name"], d[status], d[problems.key], d[next_steps.key], d["file_name"]]
                for d in raised.to_dict("records")]
        top = write_table(sheet, styles, [
            Column("任务编号", 8, "center"), Column("单位", 18, "wrap"), Column("状态", 10, "center"),
            Column(problems.label, 50, "wrap"), Column(next_steps.label, 40, "wrap"),
            Column("来源文件", 26, "wrap"),
        ], rows, title=f"{title}　各单位反映的问题", subtitle=subtitle)
        _lights(sheet, formats, top, len(rows), 2)

        sheet = workbook.add_worksheet("滞后及逾期任务")
        rows = [[t.task_id, t.requirement, t.lead, t.status, "是" if t.overdue else "", t.deadline,
                 t.lagging_units, streak.get(t.task_id, ""), t.problems]
                for t in c.lagging.itertuples()]
        top = write_table(sheet, styles, [
            Column("任务编号", 8, "center"), Column("具体要求", 40, "wrap"), Column("牵头单位", 12, "wrap"),
            Column("总体状态", 10, "center"), Column("逾期", 6, "center"), Column("完成时限", 10, "wrap"),
            Column("报告滞后的单位", 24, "wrap"), Column("连续情况", 16, "wrap"), Column("存在问题", 40, "wrap"),
        ], rows, title=f"{title}　滞后及逾期任务", subtitle=subtitle)
        _lights(sheet, formats, top, len(rows), 3)

        write_table(workbook.add_worksheet("未报送单位"), styles, [
            Column("单位编码", 9, "center"), Column("单位名称", 22, "wrap"), Column("任务数", 7, "number"),
            Column("联系人", 12), Column("联系电话", 15), Column("邮箱", 26),
        ], [[u.unit_code, u.unit_name, u.tasks, u.contact, u.phone, u.email] for u in c.missing.itertuples()],
            title=f"{title}　未报送单位", subtitle=subtitle)

        sheet = workbook.add_worksheet("较上月变化")
        rows = [[ch.task_id, ch.unit_name, ch.previous, ch.current, ch.change, streak.get(ch.task_id, "")]
                for ch in c.changes.itertuples()]
        previous = previous_period(c.period)
        no_data = (c.changes["previous"] == NOT_REPORTED).all()
        top = write_table(sheet, styles, [
            Column("任务编号", 8, "center"), Column("单位", 20, "wrap"), Column(f"上月（{previous}）状态", 14, "center"),
            Column("本期状态", 10, "center"), Column("变化", 10, "center"), Column("任务连续情况", 18, "wrap"),
        ], rows, title=f"{title}　较上月变化",
            subtitle=subtitle + ("　（台账中没有上月数据）" if no_data else ""))
        _lights(sheet, formats, top, len(rows), 2)
        _lights(sheet, formats, top, len(rows), 3)

        sheet = workbook.add_worksheet("明细")
        keys = [col.key for col in spec.input_columns]
        rows = [[d["task_id"], d["category"], d["requirement"], d["deadline"], d["unit_code"], d["unit_name"],
                 d["role"], *(None if pd.isna(d[k]) else d[k] for k in keys), d["file_name"], d["sha256"][:16]]
                for d in c.detail.to_dict("records")]
        top = write_table(sheet, styles, [
            Column("任务编号", 8, "center"), Column("类别", 14), Column("具体要求", 30), Column("完成时限", 10),
            Column("单位编码", 9, "center"), Column("单位名称", 18), Column("本单位职责", 9, "center"),
            *(Column(col.label, 10 if col.type in ("choice", "percent") else 24,
                     "number" if col.type == "percent" else "text") for col in spec.input_columns),
            Column("来源文件", 26), Column("文件SHA-256", 18),
        ], rows, title=f"{title}　明细（任务 × 单位）", subtitle=subtitle)
        _lights(sheet, formats, top, len(rows), 7 + keys.index(status))


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
        return 1 + len(self.consolidation.units)

    def path(self, unit: dict) -> Path:
        return self.folder / f"{unit['unit_code']}_{safe_file_name(unit['unit_name'])}_{self.consolidation.period}反馈.xlsx"


def write_report_job(batch: ReportBatch, number: int) -> str:
    """Write the batch's report (``number`` 0) or a unit's feedback workbook (a parallel.run_jobs job)."""
    if number == 0:
        write_consolidated(batch.consolidation, batch.spec, batch.report_title, batch.deadline, batch.report,
                           batch.created)
        return batch.report.name
    feedback = batch.units[batch.codes[number - 1]]
    path = batch.path(feedback.unit)
    write_feedback(feedback, batch.consolidation, batch.spec, batch.title, path, batch.created)
    return path.name


def write_feedback(feedback: UnitFeedback, c: Consolidation, spec: FormSpec, title: str, path: Path,
                   created: dt.datetime) -> None:
    """One unit's own rows as consolidated, its findings, and how it compares with the whole."""
    unit = feedback.unit
    overall = dict(zip(c.tasks["task_id"], c.tasks["status"]))
    subtitle = f"{unit['unit_name']}　报送期 {c.period}"
    with atomic_workbook(path, created) as workbook:
        styles = Styles(workbook)
        formats = status_formats(styles, spec)
        state = ("已报送，" + ("退回修改" if unit["returned"] else "已通过")
                 + ("，按时" if unit["on_time"] else "，晚于截止日")) if unit["reported"] else "未报送"
        rows = [["报送情况", state, ""],
                ["报送日期", chinese_date(unit["report_date"]) if unit["report_date"] else "", ""],
                ["承担任务", f"{int(unit['tasks'])} 项", f"{len(c.detail)} 项（单位 × 任务）"]]
        rows += [[f"状态为“{word}”的占比", mine, everyone] for word, mine, everyone in feedback.shares]
        write_table(workbook.add_worksheet("本单位情况"), styles,
                    [Column("项目", 22), Column("本单位", 26, "percent"), Column("全部单位", 22, "percent")],
                    rows, title=f"{title}　反馈", subtitle=subtitle)
        sheet = workbook.add_worksheet("任务进展")
        keys = [col.key for col in spec.input_columns]
        table = [[d["task_id"], d["requirement"], d["role"], *(None if pd.isna(d[k]) else d[k] for k in keys),
                  overall.get(d["task_id"], "")] for d in feedback.rows]
        top = write_table(sheet, styles, [
            Column("任务编号", 8, "center"), Column("具体要求", 36, "wrap"), Column("本单位职责", 9, "center"),
            *(Column(col.label, 10 if col.type in ("choice", "percent") else 28,
                     "number" if col.type == "percent" else "wrap") for col in spec.input_columns),
            Column("任务总体状态", 10, "center"),
        ], table, title=f"{title}　本单位任务进展", subtitle=subtitle)
        _lights(sheet, formats, top, len(table), 3 + keys.index(spec.status_column))
        write_table(workbook.add_worksheet("问题"), styles, [
            Column("文件", 28, "wrap"), Column("位置", 18), Column("问题", 46, "wrap"),
            Column("级别", 8, "center"), Column("处理建议", 40, "wrap"),
        ], [[f["file_name"], place(f["location"]), f["message"], Severity(f["severity"]).word, f["fix"]]
            for f in feedback.findings], title=f"{title}　本单位报送文件的问题", subtitle=subtitle)
