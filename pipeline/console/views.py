"""What the console's pages show, read from the workspace and its ledger: the month's board, a
unit's page, the plan, the outputs to download. Reading never holds the workspace, so the pages
stay usable while a command runs."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import cycle
from ..collect import FileOutcome, received, recorded
from ..consolidate import reporting_day
from ..findings import STANDING, Described, FileStatus, Severity, Worded, describe
from ..guard import check_ledger
from ..ledger import Ledger
from ..plan import ROLES, Plan
from ..report import BREAKDOWN_NAME
from ..units import Unit
from ..workspace import Workspace


FOLDER_PERIOD = re.compile(r"\d{4}-\d{2}")  # a month's folder as the commands name it


class BoardState(Worded):
    """How a unit stands on the month's board, as the clerk chases it."""

    PASSED = "passed", "通过"  # its standing file passed, sent by the deadline
    LATE = "late", "逾期"  # its standing file passed, sent after the deadline
    RETURNED = "returned", "退回修改"  # its standing file was sent back and not yet corrected
    REJECTED = "rejected", "拒收"  # only files that are no usable template came from it
    MISSING = "missing", "未报送"  # nothing from it this month


@dataclass(frozen=True)
class UnitRow:
    """A unit on the month's board."""

    unit: Unit
    tasks: int
    state: BoardState
    file: str = ""
    sent_on: str = ""  # the day its standing file counts as sent
    errors: int = 0
    warnings: int = 0


@dataclass(frozen=True)
class FileView:
    """A received file as a page shows it: its decision and its findings in words."""

    file: str
    status: FileStatus
    findings: tuple[Described, ...]  # errors first

    @classmethod
    def of(cls, outcome: FileOutcome) -> "FileView":
        ordered = sorted(outcome.findings, key=lambda f: f.severity != Severity.ERROR)
        return cls(outcome.file, outcome.status, tuple(describe(f) for f in ordered))


@dataclass(frozen=True)
class Output:
    """A file or folder of ``output/PERIOD/`` to download (a folder as a zip)."""

    name: str
    folder: bool
    count: int  # files in a folder; 1 for a file


@dataclass
class Board:
    """The month at a glance."""

    period: str
    periods: list[str]
    plan_title: str
    deadline: str
    collected: bool
    rows: list[UnitRow]
    others: list[FileView]  # files no unit could be named for
    outputs: list[Output]
    counts: dict[BoardState, int] = field(default_factory=dict)
    waiting: list[str] = field(default_factory=list)  # files in the folder not yet collected

    def __post_init__(self) -> None:
        self.counts = {state: sum(row.state == state for row in self.rows) for state in BoardState}


def periods(workspace: Workspace, ledger: Ledger) -> list[str]:
    """The months the workspace has something for: templates or outputs, received files, a collect."""
    found = {p.name for base in (workspace.output_dir, workspace.input_dir) if base.is_dir()
             for p in base.iterdir() if p.is_dir() and FOLDER_PERIOD.fullmatch(p.name)}
    return sorted(found | set(ledger.collected_periods()))


def reading(workspace: Workspace) -> Ledger:
    """The ledger, to read, after the damage check every command makes: one snapshot, which a
    command committing meanwhile does not change."""
    check_ledger(workspace)
    ledger = Ledger(workspace.ledger_path)
    ledger.db.execute("BEGIN")
    return ledger


def board(workspace: Workspace, period: str | None) -> Board | None:
    """The month at a glance: every unit the plan expects with its state, from the ledger; None
    before a plan is loaded. ``period`` None: the latest month the workspace has something for,
    else this month."""
    with reading(workspace) as ledger:
        if ledger.current_version() is None:
            return None
        known = periods(workspace, ledger)
        period = period or (known[-1] if known else dt.date.today().strftime("%Y-%m"))
        plan = cycle.plan_for(ledger, period)
        units = ledger.registry().units
        result = recorded(ledger, period, plan)
        collected = period in ledger.collected_periods(period)
        receipts = ledger.receipts(period)
    deadline = cycle.letterhead(workspace, plan, period).deadline
    first_seen = {r.sha256: r.first_seen for r in receipts}
    standing = {o.unit_code: o for o in result.files if o.status in STANDING and o.period == period}
    rejected = {o.unit_code for o in result.files if o.status == FileStatus.REJECTED}
    rows = []
    for unit in units:
        tasks = len(plan.tasks_of(unit.code))
        if not tasks:
            continue
        outcome = standing.get(unit.code)
        if outcome is None:
            rows.append(UnitRow(unit, tasks, BoardState.REJECTED if unit.code in rejected else BoardState.MISSING))
            continue
        day, on_time = reporting_day(outcome.report_date, first_seen[outcome.sha256], deadline)
        state = (BoardState.RETURNED if outcome.status == FileStatus.RETURNED
                 else BoardState.PASSED if on_time else BoardState.LATE)
        errors = sum(f.severity == Severity.ERROR for f in outcome.findings)
        rows.append(UnitRow(unit, tasks, state, outcome.file, day, errors, len(outcome.findings) - errors))
    others = [FileView.of(o) for o in result.files if not o.unit_code]
    return Board(period, known, plan.title, deadline.isoformat(), collected, rows, others,
                 outputs(workspace, period), waiting=waiting(workspace, period, {r.file_name for r in receipts}))


def waiting(workspace: Workspace, period: str, received_names: set[str]) -> list[str]:
    """Files of ``input/PERIOD/`` (and its sub-folders) the ledger has not received yet."""
    folder = workspace.input_dir / period
    if not folder.is_dir():
        return []
    names = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and received(p.name))
    return sorted(name for name in names if name not in received_names)


def outputs(workspace: Workspace, period: str) -> list[Output]:
    """What ``output/PERIOD/`` holds, files first, by name."""
    folder = workspace.period_output(period)
    if not folder.is_dir():
        return []
    found = [Output(p.name, p.is_dir(), sum(1 for q in p.rglob("*") if q.is_file()) if p.is_dir() else 1)
             for p in folder.iterdir() if not p.name.startswith(".")]
    return sorted(found, key=lambda o: (o.folder, o.name))


@dataclass(frozen=True)
class Answer:
    """A unit's accepted answer to one of its tasks."""

    task: str  # the task ID and the requirement
    role: str
    values: tuple[tuple[str, str], ...]  # (column label, text)

    @property
    def given(self) -> bool:
        return any(text for _, text in self.values)


@dataclass(frozen=True)
class Month:
    """How a unit's file stood in a month collected."""

    period: str
    state: str  # the word of the unit's standing file's status, or 未报送
    file: str


@dataclass
class UnitPage:
    """A unit's month: its files, its answers, its outputs, and its other months."""

    period: str
    periods: list[str]
    unit: Unit
    files: list[FileView]
    answers: list[Answer]
    history: list[Month]
    outputs: list[str]  # its own files of output/PERIOD/ (反馈, notices, mail drafts), relative paths


def unit_page(workspace: Workspace, period: str, code: str) -> UnitPage | None:
    """A unit's files and findings for ``period``, its answers, and how it stood in each month
    collected; None for a code the registry does not know."""
    spec = workspace.spec()
    with reading(workspace) as ledger:
        unit = ledger.registry().by_code().get(code)
        if unit is None:
            return None
        plan = cycle.plan_for(ledger, period)
        files = [FileView.of(o) for o in recorded(ledger, period, plan).files if o.unit_code == code]
        given = ledger.answers(code, period)
        months = ledger.collected_periods()
        known = periods(workspace, ledger)
        standing = {p: (FileStatus(status).word, name) for p, name, status, claimed in ledger.unit_decisions(code)
                    if p in months and claimed == p and status in STANDING}
    answers = [Answer(f"{task.id} {task.requirement}", role,
                      tuple((c.label, given.get(task.id, {}).get(c.key, "")) for c in spec.input_columns))
               for task, role in plan.tasks_of(code)]
    history = [Month(p, *standing.get(p, (BoardState.MISSING.word, ""))) for p in reversed(months)]
    return UnitPage(period, known, unit, files, answers, history, unit_outputs(workspace, period, code))


def unit_outputs(workspace: Workspace, period: str, code: str) -> list[str]:
    """The files written for one unit in ``output/PERIOD/``: each is named from its code first."""
    folder = workspace.period_output(period)
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob(f"{code}_*")
                  if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts))


@dataclass(frozen=True)
class PlanRow:
    """A task of the plan as its page lists it."""

    number: str
    category: str  # the category's name on its first task, "" on the others
    requirement: str
    deadline: str
    roles: tuple[tuple[str, tuple[str, ...]], ...]  # (role, unit names), strongest role first
    source: str  # the plan's own words its units were read from


def plan_rows(plan: Plan) -> list[PlanRow]:
    """The plan's tasks in order, each category named once, units grouped by role."""
    rows, category = [], None
    for task in plan.tasks:
        roles = tuple((role, tuple(a.name for a in task.units if a.role == role))
                      for role in ROLES if any(a.role == role for a in task.units))
        rows.append(PlanRow(task.id, task.category if task.category != category else "",
                            task.requirement, task.deadline or "", roles, task.responsibility))
        category = task.category
    return rows


def breakdown(workspace: Workspace) -> Path | None:
    """The 任务分解表 written when the plan was loaded, if it is there."""
    path = workspace.output_dir / BREAKDOWN_NAME
    return path if path.is_file() else None
