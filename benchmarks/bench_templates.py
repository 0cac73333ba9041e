"""Benchmark: issuing the monthly templates for N units against a bare XlsxWriter loop.

A synthetic registry of N units and a plan giving each unit 5-25 tasks are loaded into a
temporary workspace; then, in the same run, ``cycle.issue_templates`` writes every unit's
workbook, and a bare loop writes the same cells (title, header labels, column labels, task
cells, instructions, identity) with no formats, validations, protection or names (both
assemble the parts in memory, as ``xlsxout.new_workbook`` does).

    python benchmarks/bench_templates.py            # 2000 units
    python benchmarks/bench_templates.py --units 200
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

import xlsxwriter

from pipeline import cycle
from pipeline.identity import IDENTITY_SHEET
from pipeline.ledger import Ledger
from pipeline.templates import TemplateContext, template_name, units_with_tasks
from pipeline.workspace import Workspace
from pipeline.xlsxout import Column, Styles, atomic_workbook, write_table

PERIOD = "2018-06"
TASKS_PER_UNIT = (5, 25)
TASKS_PER_CATEGORY = 10
FILLER = "按照年度工作要点要求，细化公开事项，明确责任分工和完成时限，及时在政府门户网站发布相关信息，"


def write_synthetic_inputs(folder: Path, units: int, seed: int = 7) -> tuple[Path, Path]:
    """A registry of ``units`` units and a plan (CSV) in which each has 5-25 tasks."""
    rng = random.Random(seed)
    names = [f"测试{i:04d}局" for i in range(1, units + 1)]
    task_count = max(TASKS_PER_UNIT[1] * 2, units // 5)
    members: list[list[str]] = [[] for _ in range(task_count)]
    for name in names:
        for task in rng.sample(range(task_count), rng.randint(*TASKS_PER_UNIT)):
            members[task].append(name)
    registry = folder / "单位名录.xlsx"
    with atomic_workbook(registry, dt.datetime(2018, 1, 1)) as workbook:
        styles = Styles(workbook)
        write_table(workbook.add_worksheet("单位名录"), styles, [Column("单位编码"), Column("单位名称")],
                    [[f"U{i:04d}", name] for i, name in enumerate(names, start=1)])
        write_table(workbook.add_worksheet("分组"), styles, [Column("分组名称"), Column("引用写法")], [])
    plan = folder / "合成计划.csv"
    with plan.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["工作任务", "具体要求", "责任单位"])
        for index, units_of_task in enumerate(u for u in members if u):
            category, item = divmod(index, TASKS_PER_CATEGORY)
            lead, *others = units_of_task
            responsibility = f"{lead}牵头" + (f",{'、'.join(others)}负责" if others else "")
            out.writerow([
                f"({category + 1})第{category + 1}类工作任务" if item == 0 else "",
                f"{item + 1}.第{index + 1}项要求：" + FILLER * rng.randint(1, 4),
                responsibility,
            ])
    return registry, plan


def bare_loop(workspace: Workspace, folder: Path) -> int:
    """The same cells as the templates, written with no formatting at all; returns the file count."""
    plan = cycle.current_plan(workspace)
    with Ledger(workspace.ledger_path) as ledger:
        registry = ledger.registry()
    spec, config = workspace.spec(), workspace.config()
    context = TemplateContext(spec, config, plan.title, plan.version, PERIOD, workspace.secret_key())
    folder.mkdir(parents=True)
    units = units_with_tasks(plan, registry)
    for unit, tasks in units:
        workbook = xlsxwriter.Workbook(str(folder / template_name(unit, PERIOD)), {"in_memory": True})
        sheet = workbook.add_worksheet(spec.data_sheet)
        sheet.write_string(0, 0, spec.format_title(city=config.city, plan_title=plan.title, unit=unit.name))
        for row, field in enumerate(spec.header, start=1):
            sheet.write_string(row, 2, field.label)
            sheet.write_string(row, 3, unit.name if field.prefill else "")
        top = len(spec.header) + 2
        for col, column in enumerate(spec.columns):
            sheet.write_string(top, col, column.label)
        for row, (task, role) in enumerate(tasks, start=top + 1):
            values = [row - top, task.id, task.category, task.requirement, role, task.deadline or ""]
            for col, value in enumerate(values):
                sheet.write(row, col, value)
        notes = workbook.add_worksheet(spec.instructions_sheet)
        for row, line in enumerate(spec.instructions.splitlines()):
            notes.write_string(row, 0, line)
        identity = workbook.add_worksheet(IDENTITY_SHEET)
        for row, (name, text) in enumerate(context.identity(unit, tasks).rows()):
            identity.write_string(row, 0, name)
            identity.write_string(row, 1, text)
        workbook.close()
    return len(units)


def run(units: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench_templates_") as temp:
        root = Path(temp)
        workspace = Workspace.init(root / "ws")
        registry, plan = write_synthetic_inputs(root, units)
        started = time.perf_counter()
        load = cycle.load_plan(workspace, plan, registry)
        load_seconds = time.perf_counter() - started
        counts = [len(load.plan.tasks_of(u.code)) for u in load.registry.units]

        started = time.perf_counter()
        issue = cycle.issue_templates(workspace, PERIOD)
        templates_seconds = time.perf_counter() - started

        started = time.perf_counter()
        files = bare_loop(workspace, root / "bare")
        bare_seconds = time.perf_counter() - started
    assert files == issue.units == units, (files, issue.units, units)
    print(f"units: {units}, tasks: {len(load.plan.tasks)}, task rows: {issue.rows} "
          f"(per unit {min(counts)}-{max(counts)}); plan load {load_seconds:.2f} s (setup, not compared)")
    print(f"templates (cycle.issue_templates): {templates_seconds:.2f} s "
          f"({templates_seconds / units * 1000:.1f} ms per unit)")
    print(f"bare XlsxWriter loop, same cells:  {bare_seconds:.2f} s ({bare_seconds / units * 1000:.1f} ms per unit)")
    print(f"ratio templates / bare: {templates_seconds / bare_seconds:.2f}")
    return {"templates": templates_seconds, "bare": bare_seconds}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000, help="number of units (default 2000)")
    return run(parser.parse_args(argv).units)


if __name__ == "__main__":
    main()
