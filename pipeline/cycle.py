"""The office's operations, each composed from the stage modules; the CLI calls one per command."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import PlanError, WorkspaceError
from .ledger import Ledger
from .plan import Plan, read_plan
from .report import BREAKDOWN_NAME, write_plan_breakdown
from .units import Registry, read_registry
from .workspace import SAMPLE_PLAN, Workspace

DEMO_MARKER = ".demo-workspace"


@dataclass(frozen=True)
class PlanLoad:
    """What ``plan load`` did."""

    plan: Plan
    registry: Registry
    changed: bool
    breakdown: Path


def load_plan(workspace: Workspace, plan_file: Path, units_file: Path | None = None,
              replace: bool = False) -> PlanLoad:
    """Read the registry and the plan, store both in the ledger, write the 任务分解表."""
    config = workspace.config()
    registry = read_registry(units_file or workspace.registry_path)
    plan = read_plan(Path(plan_file), registry, year=config.year)
    with Ledger(workspace.ledger_path) as ledger:
        changed = ledger.save_plan(plan, replace=replace)
        ledger.save_registry(registry)
    if units_file and Path(units_file).resolve() != workspace.registry_path.resolve():
        shutil.copy2(units_file, workspace.registry_path)
    breakdown = workspace.output_dir / BREAKDOWN_NAME
    write_plan_breakdown(plan, registry, breakdown, dt.datetime(config.year, 1, 1))
    return PlanLoad(plan, registry, changed, breakdown)


def current_plan(workspace: Workspace) -> Plan:
    """The plan in force, or a PlanError telling the clerk to load one."""
    with Ledger(workspace.ledger_path) as ledger:
        plan = ledger.plan()
    if plan is None:
        raise PlanError("工作区还没有加载计划。请先运行 pipeline plan load 计划表文件。")
    return plan


@dataclass(frozen=True)
class DemoRun:
    """Where the demo put its workspace and what it produced."""

    workspace: Workspace
    plan_load: PlanLoad


def run_demo(root: Path) -> DemoRun:
    """The whole cycle, as far as it is built, on the bundled sample data in a fresh workspace.

    A folder left by an earlier demo is replaced; any other non-empty folder is refused.
    """
    root = Path(root)
    if root.joinpath(DEMO_MARKER).is_file():
        shutil.rmtree(root)
    elif root.exists() and any(root.iterdir()):
        raise WorkspaceError(f"{root} 已存在且不是示例工作区，为避免覆盖，未运行示例。请换一个目录。")
    workspace = Workspace.init(root)
    root.joinpath(DEMO_MARKER).write_text("pipeline demo\n", encoding="utf-8")
    plan_load = load_plan(workspace, workspace.input_dir / SAMPLE_PLAN.name)
    return DemoRun(workspace, plan_load)
