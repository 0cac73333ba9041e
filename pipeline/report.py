"""Laying out the office's workbooks: the plan breakdown (任务分解表) and, later, the reports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .plan import ROLES, Plan
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
