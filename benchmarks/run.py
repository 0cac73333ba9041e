"""The benchmark: a month for N units through the real stages, each against its floor, in one run.

    python benchmarks/run.py --units 2000
    python benchmarks/run.py --units 200 --workdir /tmp/bench200   # keep the generated files

1. A workspace is made as ``pipeline init`` makes it (``cycle.init_workspace``: the office's Word
   templates too). A registry of N units (departments of up to 78 cities; each department is a
   group the plan refers to, as in 各市财政局) and a plan of 25 tasks are written as .xlsx files
   and loaded with ``cycle.load_plan``; each department takes 5-25 of the tasks, led by one of
   its units.
2. Each stage runs through the code the CLI runs, then its floor on the same files:
   - ``templates`` (``cycle.issue_templates``) and ``report`` (``cycle.report_period``) against
     the writing floor: the cells of every workbook the stage wrote (read back beforehand, not
     timed) written again by a bare XlsxWriter loop: no formats, validations, protection, names;
   - ``collect`` (``cycle.collect_period``) against the reading floor: a bare python-calamine
     read of the sheets collect reads (data and identity) of every returned file into lists.
   Before ``collect``, every template is filled as a unit would (``pipeline.fill``, in a
   process pool, not timed): answer texts of 50-300 characters, a few percent of the files with
   a mistake, a few files broken (truncated, empty, a picture).
3. Each floor runs in one process (the baseline of the stage's ratio: the issue's "bare loop")
   and in one process per CPU (what a stage that uses every CPU competes with).
4. What the clerk waits for: the commands as typed, each in its own process, timed by the wall
   clock from starting the process to its exit (interpreter start and imports included):
   - ``pipeline -w WORKSPACE collect PERIOD`` on a copy of the workspace as it was when the
     files had been returned (copied again for each repeat): a first collect, against the
     reading floor in one process; then the same command again on that copy, nothing new
     in the folder, against the first run (a copy replaced is set aside, not deleted: see
     ``copy_workspace``). The first collect's ratio is given two ways, both held to the
     issue's target: its best time over the floor's best, and the median of each repeat's own
     ratio (the command over the same repeat's one-process floor: only the floor in one process
     per CPU and the copy of the workspace come between them), which a machine whose speed drifts
     from minute to minute moves less;
   - its memory: "peak MB" is the most memory its processes (main and workers) held at once,
     sampled every SAMPLE_SECONDS, each process's proportional share (a page that processes
     share is counted once among them), in a run of the commands of its own after the timed
     ones (sampling reads each process's page map: about a tenth of a CPU, which the timed runs
     would lose); "largest MB" is the kernel's peak resident memory of its largest process;
   - ``pipeline --help`` against ``python -c "import click"`` (the least a Click command costs),
     each the best of HELP_RUNS, run in turn.
   These are held to the targets of issue 12 (``targets``), shown in a second table. The
   package's modules are compiled first, as Python keeps them (``__pycache__``) after their first
   import on the clerk's computer: no command is timed compiling them, even where the environment
   stops Python from writing that cache (PYTHONDONTWRITEBYTECODE).

Each stage and floor runs in a fresh process, ``--repeat`` times in turn, the best time kept
(each run of a stage starts from the workspace as the stage first found it): "main MB" is that
process's peak resident memory, "worker MB" the highest peak among the worker processes it
started (pages shared with the main process count in both). The tables are printed and the
results are written to ``benchmarks/results/units-N-<time>.json``.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import itertools
import json
import multiprocessing
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from statistics import median
from typing import Callable

import psutil
import python_calamine as calamine
import xlsxwriter

from pipeline import cycle
from pipeline.fill import MISTAKES, Filling, fill_template, make_mistake, sample_answer, sample_header
from pipeline.identity import IDENTITY_SHEET
from pipeline.ledger import Ledger
from pipeline.report import FEEDBACK_FOLDER, REPORT_NAME
from pipeline.templates import TEMPLATE_FOLDER, template_name, units_with_tasks
from pipeline.workspace import Workspace
from pipeline.xlsxout import Column, Styles, atomic_workbook, write_table

PERIOD = "2018-06"
RESULTS = Path(__file__).resolve().parent / "results"
CITIES = [f"{first}{second}市" for first in "东西南北中新安永平长河清云" for second in "州江阳山宁原"]
DEPARTMENTS = (
    "财政局", "教育局", "公安局", "民政局", "司法局", "人力资源和社会保障局", "自然资源局", "生态环境局",
    "住房和城乡建设局", "交通运输局", "水利局", "农业农村局", "商务局", "文化和旅游局", "卫生健康委员会",
    "应急管理局", "审计局", "市场监督管理局", "统计局", "医疗保障局", "退役军人事务局", "林业局", "体育局",
    "信访局", "行政审批服务局", "发展和改革委员会", "工业和信息化局", "科学技术局", "民族宗教事务委员会",
    "城市管理局", "粮食和物资储备局", "地方金融监督管理局", "大数据管理局", "机关事务管理局",
    "人民防空办公室", "投资促进局", "国有资产监督管理委员会", "外事办公室", "档案局", "气象局",
)
MAX_UNITS = len(CITIES) * len(DEPARTMENTS)
CATEGORIES = ("推进决策和执行公开", "加强政策解读", "回应社会关切", "深化重点领域信息公开", "强化公开平台建设")
TASKS_PER_CATEGORY = 5
TASKS_PER_DEPARTMENT = (5, 25)
REQUIREMENT = "按照年度工作要点要求，细化公开事项，明确责任分工和完成时限，及时在政府门户网站发布相关信息，"
DEADLINES = ("2018年6月底前", "2018年9月底前", "2018年12月底前", "持续推进", "每季度末")
MISTAKE_SHARE = 0.03  # of the units, one mistake each
BROKEN = ("truncated", "empty", "picture")  # one of each per BROKEN_EVERY units, at least one each
BROKEN_EVERY = 500


# ---------------------------------------------------------------------------- the workload


def write_inputs(folder: Path, units: int, rng: random.Random) -> tuple[Path, Path]:
    """A registry of ``units`` units and a plan (.xlsx) in which each unit has 5-25 tasks."""
    names = [CITIES[i // len(DEPARTMENTS)] + DEPARTMENTS[i % len(DEPARTMENTS)] for i in range(units)]
    departments = DEPARTMENTS[:units]
    task_count = len(CATEGORIES) * TASKS_PER_CATEGORY
    takers: list[list[str]] = [[] for _ in range(task_count)]
    for department in departments:
        for task in rng.sample(range(task_count), rng.randint(*TASKS_PER_DEPARTMENT)):
            takers[task].append(department)
    created = dt.datetime(2018, 1, 1)
    registry = folder / "单位名录.xlsx"
    with atomic_workbook(registry, created) as workbook:
        styles = Styles(workbook)
        write_table(workbook.add_worksheet("单位名录"), styles,
                    [Column("单位编码"), Column("单位名称", 30), Column("分组", 24), Column("联系电话", 16)],
                    [[f"U{i + 1:04d}", name, DEPARTMENTS[i % len(DEPARTMENTS)], f"0571-8800{i + 1:04d}"]
                     for i, name in enumerate(names)])
        write_table(workbook.add_worksheet("分组"), styles, [Column("分组名称", 24), Column("引用写法", 30)],
                    [[department, f"各市{department}"] for department in departments])
    rows = []
    for task, groups in enumerate(takers):
        if groups:  # a task no department took is left out of the plan
            category, item = divmod(task, TASKS_PER_CATEGORY)
            rows.append([len(rows) + 1, CATEGORIES[category],
                         f"{item + 1}.{CATEGORIES[category]}：" + REQUIREMENT * rng.randint(1, 4),
                         CITIES[0] + groups[0], "、".join(f"各市{group}" for group in groups),
                         rng.choice(DEADLINES)])
    plan = folder / "计划表.xlsx"
    with atomic_workbook(plan, created) as workbook:
        columns = [Column("序号", 6), Column("工作任务", 20), Column("具体要求", 60), Column("牵头单位", 20),
                   Column("责任单位", 60), Column("完成时限", 14)]
        write_table(workbook.add_worksheet("计划表"), Styles(workbook), columns, rows,
                    title="2018年政务公开工作要点（基准测试）")
    return registry, plan


def fill_returns(workspace: Workspace, rng: random.Random) -> dict[str, int]:
    """Every unit fills its template (in a process pool); a few make a mistake, a few files break."""
    plan, spec = cycle.current_plan(workspace), workspace.spec()
    folder, target = workspace.period_output(PERIOD) / TEMPLATE_FOLDER, workspace.input_dir / PERIOD
    with Ledger(workspace.ledger_path) as ledger:
        units = units_with_tasks(plan, ledger.registry())
    statuses = (spec.done, spec.on_track, spec.on_track, spec.on_track, spec.lagging, spec.not_started)
    order = rng.sample(range(len(units)), len(units))
    broken_count = len(BROKEN) * max(1, len(units) // BROKEN_EVERY)
    wrong_count = round(len(units) * MISTAKE_SHARE)
    broken = dict(zip(order[:broken_count], itertools.cycle(BROKEN)))
    wrong = dict(zip(order[broken_count:broken_count + wrong_count], itertools.cycle(MISTAKES)))
    sources, targets, fillings = [], [], []
    for index, (unit, tasks) in enumerate(units):
        filling = Filling(sample_header(spec, index + 1, f"{PERIOD}-{rng.randint(10, 28):02d}"),
                          {task.id: sample_answer(rng, spec, rng.choice(statuses)) for task, _role in tasks})
        if index in wrong:
            make_mistake(filling, spec, wrong[index])
        sources.append(folder / template_name(unit, PERIOD))
        targets.append(target / f"{unit.name}{PERIOD}进展报送.xlsx")
        fillings.append(filling)
    with ProcessPoolExecutor() as pool:
        list(pool.map(fill_template, sources, targets, itertools.repeat(spec), fillings, chunksize=16))
    for index, kind in broken.items():
        path = targets[index]
        if kind == "truncated":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        elif kind == "empty":
            path.write_bytes(b"")
        else:
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + rng.randbytes(20_000))
    return {"returned": len(targets), "with_mistakes": len(wrong), "broken": len(broken)}


# ---------------------------------------------------------------------------- the floors

WRITING, READING = "bare XlsxWriter", "bare calamine"
PROCESSES = tuple(dict.fromkeys((1, os.cpu_count() or 1)))  # each floor runs in 1 process, then 1 per CPU


def read_cells(paths: list[Path]) -> list[tuple[str, dict[str, list[list[object]]]]]:
    """Every sheet's cell values of every workbook (to be written again by the writing floor)."""
    books = []
    for path in paths:
        book = calamine.CalamineWorkbook.from_path(str(path))
        books.append((path.name, {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}))
        book.close()
    return books


def bare_write(books: list[tuple[str, dict[str, list[list[object]]]]], folder: Path) -> None:
    """The writing floor: the cells written by a bare XlsxWriter loop, no formats at all."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, sheets in books:
        workbook = xlsxwriter.Workbook(str(folder / name), {"in_memory": True})
        for sheet_name, rows in sheets.items():
            sheet = workbook.add_worksheet(sheet_name)
            for row, values in enumerate(rows):
                for col, value in enumerate(values):
                    if isinstance(value, str):
                        if value:
                            sheet.write_string(row, col, value)
                    else:
                        sheet.write(row, col, value)
        workbook.close()


def bare_read(paths: list[Path], sheets: tuple[str, ...]) -> None:
    """The reading floor: ``sheets`` of every file into Python lists (what calamine cannot open is skipped)."""
    for path in paths:
        try:
            book = calamine.CalamineWorkbook.from_path(str(path))
        except calamine.CalamineError:
            continue
        for name in sheets:
            if name in book.sheet_names:
                book.get_sheet_by_name(name).to_python()
        book.close()


def in_processes(work: Callable[[list], None], items: list, processes: int) -> int:
    """``work`` on all ``items`` here, or on chunks of them in ``processes`` worker processes, which
    get the items when they start (by fork: not pickled, as the stages hand their workers the
    plan); the number of items."""
    if processes == 1:
        work(items)
    else:
        with ProcessPoolExecutor(processes, initializer=_receive, initargs=(work, items)) as pool:
            size = max(1, len(items) // (processes * 8))
            list(pool.map(_work_on, range(0, len(items), size), itertools.repeat(size)))
    return len(items)


_WORK: tuple[Callable[[list], None], list] | None = None  # in a worker of in_processes


def _receive(work: Callable[[list], None], items: list) -> None:
    global _WORK
    _WORK = work, items


def _work_on(start: int, size: int) -> None:
    work, items = _WORK
    work(items[start:start + size])


# ---------------------------------------------------------------------------- the stages


def issue_templates(workspace: Workspace) -> int:
    return cycle.issue_templates(workspace, PERIOD).units


def issued_templates(workspace: Workspace) -> list[Path]:
    return sorted((workspace.period_output(PERIOD) / TEMPLATE_FOLDER).glob("*.xlsx"))


def collect_returns(workspace: Workspace) -> int:
    result = cycle.collect_period(workspace, PERIOD).result
    return len(result.files)


def returned_files(workspace: Workspace) -> list[Path]:
    return sorted((workspace.input_dir / PERIOD).iterdir())


def write_report(workspace: Workspace) -> int:
    return cycle.report_period(workspace, PERIOD).feedback_files + 1


def report_files(workspace: Workspace) -> list[Path]:
    out = workspace.period_output(PERIOD)
    return [out / REPORT_NAME, *sorted((out / FEEDBACK_FOLDER).glob("*.xlsx"))]


@dataclass(frozen=True)
class Stage:
    """A stage of the month: its real code path, and the files its floor works on."""

    name: str
    run: Callable[[Workspace], int]  # returns the number of files it handled
    files: Callable[[Workspace], list[Path]]
    floor: str  # WRITING: the cells of the files it wrote, written again; READING: the files it read
    prepare: Callable[[Workspace, random.Random], dict[str, int]] | None = None  # not timed
    command: tuple[str, ...] = ()  # its command line after ``pipeline -w WORKSPACE``, run as typed


STAGES = (
    Stage("templates", issue_templates, issued_templates, WRITING),
    Stage("collect", collect_returns, returned_files, READING, prepare=fill_returns, command=("collect", PERIOD)),
    Stage("report", write_report, report_files, WRITING),
)


def measure_floors(stage: Stage, workspace: Workspace, scratch: Path) -> list[Timing]:
    """The stage's floor on its files, in each number of PROCESSES."""
    if stage.floor == WRITING:
        work, prepare = partial(bare_write, folder=scratch), read_cells
    else:
        work, prepare = partial(bare_read, sheets=(workspace.spec().data_sheet, IDENTITY_SHEET)), None
    return [measure(f"floor: {stage.floor}, {n} process{'es' if n > 1 else ''}",
                    partial(in_processes, work, processes=n), stage.files(workspace), prepare)
            for n in PROCESSES]


# ---------------------------------------------------------------------------- the commands

PIPELINE = (sys.executable, "-m", "pipeline")
CLICK = (sys.executable, "-c", "import click")
HELP_RUNS = 10  # ``pipeline --help`` and its baseline each take a fraction of a second: the best of these
SAMPLE_SECONDS = 0.1  # how often a command's memory is looked at (each look reads each process's page map)


SET_ASIDE = "set-aside"  # the copies replaced during a run, removed when it ends


def copy_workspace(source: Path, target: Path) -> Path:
    """``target`` made a copy of the workspace folder ``source``. What it held before is moved into
    SET_ASIDE beside it, not deleted (``run_benchmark`` removes them at its end): measured here, the
    command timed next, which archives every returned file, spent up to three times as much system
    time creating files when thousands had just been deleted (ext4 passes over inodes freed
    recently when it allocates one)."""
    if target.exists():
        aside = target.parent / SET_ASIDE
        aside.mkdir(exist_ok=True)
        target.rename(aside / f"{target.name}-{sum(1 for _ in aside.iterdir())}")
    shutil.copytree(source, target, symlinks=True)
    return target


def measure_command(stage: Stage, before: Path, scratch: Path, watch: bool = False) -> list[CommandTiming]:
    """The stage's command on a fresh copy of the workspace as the stage found it, then the
    same command again on that copy (nothing new); with ``watch``, their memory sampled."""
    workspace = copy_workspace(before, scratch)
    argv = [*PIPELINE, "-w", str(workspace), *stage.command]
    name = "pipeline " + " ".join(stage.command)
    return [run_command(name, argv, watch), run_command(f"{name}, run again", argv, watch)]


def run_command(name: str, argv: list[str], watch: bool = False) -> CommandTiming:
    """``argv`` run from a fresh process, so that the kernel's count of its children is the command's alone."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        seconds, peak, largest = pool.submit(_run_and_watch, argv, watch).result()
    return CommandTiming(name, seconds, peak / 2**20 if watch else None, largest / 2**20)


def _run_and_watch(argv: list[str], watch: bool) -> tuple[float, int, int]:
    """Wall-clock seconds from starting ``argv`` to its exit; with ``watch``, the most memory
    (bytes) its processes held at once, sampled; the peak resident memory of its largest process."""
    peak = 0
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finished = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            main = psutil.Process(process.pid)
        except psutil.NoSuchProcess:  # already ended
            return
        while True:
            try:
                tree = [main, *main.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            held = 0
            for member in tree:
                try:
                    held += member.memory_full_info().pss
                except psutil.NoSuchProcess:  # a worker that has just ended
                    pass
            peak = max(peak, held)
            if finished.wait(SAMPLE_SECONDS):
                return

    watcher = threading.Thread(target=sample)
    if watch:
        watcher.start()
    _, errors = process.communicate()
    seconds = time.perf_counter() - started
    finished.set()
    if watch:
        watcher.join()
    if process.returncode:
        raise RuntimeError(f"{' '.join(argv)} ended with {process.returncode}:\n{errors.decode(errors='replace')}")
    # Linux: ru_maxrss in KiB; for children, the largest of the finished ones (the command and
    # the workers it waited for).
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return seconds, peak, largest


def wall_clock(argv: tuple[str, ...]) -> float:
    """Seconds from starting ``argv`` to its exit."""
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} ended with {done.returncode}:\n{done.stderr.decode(errors='replace')}")
    return seconds


def measure_help() -> list[CommandTiming]:
    """``pipeline --help`` and ``python -c "import click"``, in turn, HELP_RUNS times each, the best kept."""
    runs = [(wall_clock((*PIPELINE, "--help")), wall_clock(CLICK)) for _ in range(HELP_RUNS)]
    helps, clicks = (min(column) for column in zip(*runs))
    click = CommandTiming('python -c "import click"', clicks)
    return [CommandTiming("pipeline --help", helps, ratio=helps / click.seconds, over=click.name), click]


# ---------------------------------------------------------------------------- measuring


@dataclass
class Timing:
    """One measurement; ``files`` is how many files the stage handled or the floor worked on."""

    name: str
    seconds: float
    files: int
    main_mb: float
    worker_mb: float
    ratio: float | None = None  # a stage's time over its first floor's; a floor's: the stage's over its own


@dataclass
class CommandTiming:
    """A command run as the clerk runs it, in its own process; memory is None where not measured."""

    name: str
    seconds: float
    peak_mb: float | None = None  # its processes at once (proportional set sizes), sampled
    largest_mb: float | None = None  # its largest process (peak resident set size)
    ratio: float | None = None  # its time over the time of ``over``
    over: str | None = None
    paired: list[float] | None = None  # in each repeat, its time over that repeat's ``over``


@dataclass(frozen=True)
class Target:
    """A target of issue 12: ``value`` (a ratio, or MB) is to be at most ``limit``."""

    name: str
    value: float
    limit: float
    unit: str  # "×" or "MB"

    @property
    def met(self) -> bool:
        return self.value <= self.limit


def targets(commands: dict[str, CommandTiming]) -> list[Target]:
    """The issue's targets, from the commands measured (by name)."""
    collect, again = commands[f"pipeline collect {PERIOD}"], commands[f"pipeline collect {PERIOD}, run again"]
    helps = commands["pipeline --help"]
    return [Target(f"{collect.name} / {collect.over}", collect.ratio, 2.0, "×"),
            Target(f"  the same, median of each repeat's own ratio ({len(collect.paired)})", median(collect.paired),
                   2.0, "×"),
            Target(f"{again.name} / first run", again.ratio, 0.3, "×"),
            Target(f"{collect.name}: peak memory, all its processes", max(collect.peak_mb, again.peak_mb), 500, "MB"),
            Target(f"{helps.name} / {helps.over}", helps.ratio, 3.0, "×")]


def measure(name: str, run: Callable, data: object, prepare: Callable | None = None) -> Timing:
    """``run(data)`` timed in a fresh process, with ``data = prepare(data)`` there first, not timed."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        files, seconds, main_kb, worker_kb = pool.submit(_timed, run, data, prepare).result()
    return Timing(name, seconds, files, main_kb / 1024, worker_kb / 1024)


def _timed(run: Callable, data: object, prepare: Callable | None) -> tuple[int, float, int, int]:
    # A spawned process starts its own workers by spawning too; a fresh interpreter would not.
    multiprocessing.set_start_method(None, force=True)
    if prepare is not None:
        data = prepare(data)
    started = time.perf_counter()
    files = run(data)
    seconds = time.perf_counter() - started
    # Linux: ru_maxrss in KiB; for children, the largest of the finished ones.
    return (files, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def best_of(runs: list[Timing]) -> Timing:
    """The fastest of a measurement's runs, with the most memory any of them took."""
    return replace(min(runs, key=lambda run: run.seconds), main_mb=max(run.main_mb for run in runs),
                   worker_mb=max(run.worker_mb for run in runs))


def best_command(runs: list[CommandTiming], watched: CommandTiming) -> CommandTiming:
    """The fastest of a command's runs, with the most memory any of them took; its memory at once
    as ``watched`` (the same command, run for that) saw it."""
    return replace(min(runs, key=lambda run: run.seconds), peak_mb=watched.peak_mb,
                   largest_mb=max(run.largest_mb for run in (*runs, watched)))


def run_benchmark(units: int, root: Path, repeats: int = 1, seed: int = 2018) -> dict:
    """Build the workload in ``root`` (an empty folder) and measure every stage and its floors,
    each ``repeats`` times, keeping the best time."""
    started = dt.datetime.now().isoformat(timespec="seconds")
    compileall.compile_dir(Path(cycle.__file__).parent, quiet=1)
    rng = random.Random(seed)
    workspace = cycle.init_workspace(root / "ws")  # as ``pipeline init`` makes it: the Word templates too
    registry, plan = write_inputs(root, units, rng)
    load = cycle.load_plan(workspace, plan, registry)
    counts = [len(load.plan.tasks_of(unit.code)) for unit in load.registry.units]
    workload = {"units": units, "tasks": len(load.plan.tasks), "task_rows": sum(counts),
                "tasks_per_unit": [min(counts), max(counts)]}
    stages, commands = [], []
    try:
        for stage in STAGES:
            if stage.prepare is not None:
                workload |= stage.prepare(workspace, rng)
            kept = repeats > 1 or stage.command
            before = copy_workspace(workspace.root, root / f"before-{stage.name}") if kept else None
            runs, command_runs = [], []
            for repeat in range(repeats):  # the stage, its floors, its command, in turn: a slow spell hits all
                if repeat:
                    copy_workspace(before, workspace.root)
                timing = measure(stage.name, stage.run, workspace)
                runs.append([timing, *measure_floors(stage, workspace, root / f"floor-{stage.name}")])
                if stage.command:
                    command_runs.append(measure_command(stage, before, root / f"command-{stage.name}"))
            timing, *floors = (best_of(column) for column in zip(*runs))
            for floor in floors:
                floor.ratio = timing.seconds / floor.seconds
            timing.ratio = floors[0].ratio
            stages.append({"stage": asdict(timing), "floors": [asdict(floor) for floor in floors]})
            if command_runs:
                # Its memory in a run of its own: sampling it costs the command time.
                watched = measure_command(stage, before, root / f"command-{stage.name}", watch=True)
                first, again = (best_command(column, seen) for column, seen in zip(zip(*command_runs), watched))
                first.ratio, first.over = first.seconds / floors[0].seconds, floors[0].name
                first.paired = [command.seconds / floor.seconds
                                for (command, _), (_, floor, *_) in zip(command_runs, runs)]
                again.ratio, again.over = again.seconds / first.seconds, first.name
                commands += [first, again]
        commands += measure_help()
    finally:  # the copies set aside, however the run ends
        shutil.rmtree(root / SET_ASIDE, ignore_errors=True)
    return {"started": started, "cpus": os.cpu_count(), "python": platform.python_version(), "repeats": repeats,
            "workload": workload, "stages": stages, "commands": [asdict(command) for command in commands],
            "targets": [{**asdict(target), "met": target.met}
                        for target in targets({command.name: command for command in commands})]}


def table(results: dict) -> str:
    """The results as a text table: each stage, its ratio to its first floor, then its floors and
    the stage's ratio to each."""
    lines = [f"{'stage':<36}{'seconds':>9}{'files/s':>9}{'ms/file':>9}{'main MB':>9}{'worker MB':>11}{'ratio':>7}"]
    for entry in results["stages"]:
        for timing in (entry["stage"], *entry["floors"]):
            worker = f"{timing['worker_mb']:.0f}" if timing["worker_mb"] else "-"
            lines.append(f"{timing['name']:<36}{timing['seconds']:>9.2f}{timing['files'] / timing['seconds']:>9.1f}"
                         f"{timing['seconds'] / timing['files'] * 1000:>9.2f}{timing['main_mb']:>9.0f}{worker:>11}"
                         f"{timing['ratio']:>7.2f}")
    return "\n".join(lines)


def command_table(results: dict) -> str:
    """The commands as the clerk runs them, each with its ratio; then the issue's targets."""
    lines = [f"{'command (own process, wall clock)':<40}{'seconds':>9}{'peak MB':>9}{'largest MB':>12}"
             f"{'ratio':>7}  over"]
    for command in results["commands"]:
        memory = (f"{command['peak_mb']:>9.0f}{command['largest_mb']:>12.0f}" if command["peak_mb"] is not None
                  else f"{'-':>9}{'-':>12}")
        ratio = f"{command['ratio']:>7.2f}  {command['over']}" if command["ratio"] is not None else f"{'-':>7}"
        lines.append(f"{command['name']:<40}{command['seconds']:>9.2f}{memory}{ratio}")
    lines += ["", f"{'target (issue 12)':<64}{'value':>10}{'limit':>10}  met"]
    for target in results["targets"]:
        value, limit = (f"{number:.2f}×" if target["unit"] == "×" else f"{number:.0f} MB"
                        for number in (target["value"], target["limit"]))
        lines.append(f"{target['name']:<64}{value:>10}{limit:>10}  {'yes' if target['met'] else 'NO'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000, help=f"number of units, 1 to {MAX_UNITS} (default 2000)")
    parser.add_argument("--workdir", type=Path,
                        help="a new folder to build the workload in and keep (default: a temporary one)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement, the best kept (default 3)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)
    if not 1 <= args.units <= MAX_UNITS:
        parser.error(f"--units must be 1 to {MAX_UNITS}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.workdir:
        args.workdir.mkdir(parents=True)
        results = run_benchmark(args.units, args.workdir, args.repeat)
    else:
        with tempfile.TemporaryDirectory(prefix="pipeline-benchmark-") as temp:
            results = run_benchmark(args.units, Path(temp), args.repeat)
    workload = results["workload"]
    print(f"{workload['units']} units, {workload['tasks']} tasks, {workload['task_rows']} task rows "
          f"({workload['tasks_per_unit'][0]}-{workload['tasks_per_unit'][1]} per unit); "
          f"{workload['returned']} files returned, {workload['with_mistakes']} with a mistake, "
          f"{workload['broken']} broken; {results['cpus']} CPUs")
    print(table(results))
    print()
    print(command_table(results))
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"units-{args.units}-{results['started'].replace(':', '')}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
