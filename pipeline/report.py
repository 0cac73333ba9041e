"""Laying out the office's workbooks: the plan breakdown (任务分解表) and, later, the reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .findings import SEVERITY_WORDS
from .plan import ROLES, Plan
from .validate import STATUS_WORDS
from .units import Registry
from .xlsxout import Column, Styles, atomic_workbook, write_table

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
                f"通过 {result.count('accepted')}，退回 {result.count('returned')}，拒收 {result.count('rejected')}，"
                f"未报送 {len(result.missing)} 个单位")
    with atomic_workbook(path, created) as workbook:
        styles = Styles(workbook)
        write_table(
            workbook.add_worksheet("文件"),
            styles,
            [Column("单位", 24, "wrap"), Column("文件", 40, "wrap"), Column("状态", 10, "center"),
             Column("错误数", 8, "number"), Column("提醒数", 8, "number"), Column("SHA-256", 20)],
            [[unit_name(f.unit_code), f.file, STATUS_WORDS[f.status],
              sum(x.severity == "error" for x in f.findings), sum(x.severity == "warning" for x in f.findings),
              f.sha256[:16]] for f in result.files],
            title=f"{result.period} 报送文件校验结果",
            subtitle=subtitle,
        )
        write_table(
            workbook.add_worksheet("问题"),
            styles,
            [Column("单位", 20, "wrap"), Column("文件", 30, "wrap"), Column("位置", 18, "wrap"),
             Column("问题", 50, "wrap"), Column("级别", 8, "center"), Column("处理建议", 40, "wrap")],
            [[unit_name(f.unit_code), f.file, x.place, x.message,
              SEVERITY_WORDS[x.severity], x.fix] for f in result.files for x in f.findings],
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
    for number, item in enumerate(sorted(outcome.findings, key=lambda x: x.severity != "error"), start=1):
        lines.append(f"{number}. 【{SEVERITY_WORDS[item.severity]}】{item.place}：{item.message}")
        lines.append(f"   处理建议：{item.fix}")
    lines += ["", "修改时请在原文件上直接改正，不要新建表格；改好后请确认表格上方“自查”格为 0 再报送。"]
    return "\n".join(lines) + "\n"
