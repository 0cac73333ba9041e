"""Faults: a full disk, a read-only folder, a file held open, a busy or damaged ledger, a kill.

Each command that meets one ends with a Chinese message and exit status 1, never a traceback,
and the next normal run gives exactly what a run that never saw the fault gives.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from pipeline import consolidate, cycle, guard
from pipeline.cli import cli
from pipeline import collect
from pipeline.demo import simulate_returns
from pipeline.fill import Filling, fill_template, sample_answer, sample_header
from pipeline.templates import template_name, units_with_tasks
from pipeline.workspace import SAMPLE_PLAN, Workspace

PERIOD = "2018-06"
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


@pytest.fixture(scope="module")
def received(tmp_path_factory) -> Path:
    """The sample plan loaded, June's templates issued and the units' files in input/2018-06."""
    workspace = Workspace.init(tmp_path_factory.mktemp("faults") / "ws")
    load = cycle.load_plan(workspace, workspace.input_dir / SAMPLE_PLAN.name)
    issue = cycle.issue_templates(workspace, PERIOD)
    units = [(u.code, u.name, template_name(u, PERIOD)) for u, _ in units_with_tasks(load.plan, load.registry)]
    simulate_returns(issue.folder, workspace.input_dir / PERIOD, workspace.spec(), load.plan, units, PERIOD,
                     workspace.config().deadline_day)
    return workspace.root


def copy_of(received: Path, tmp_path: Path, name: str = "ws") -> Path:
    return Path(shutil.copytree(received, tmp_path / name))


def pipeline(root: Path, *args: str, code: int = 0):
    result = CliRunner().invoke(cli, ["-w", str(root), *map(str, args)])
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    return result


def state(root: Path) -> tuple[dict[str, str], list[tuple], list[tuple]]:
    """Every output file's bytes (by hash), the ledger's decisions and answers: what a run gives."""
    outputs = {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted((root / "output").rglob("*")) if p.is_file()}
    db = sqlite3.connect(root / "ledger.sqlite")
    try:
        decisions = db.execute("SELECT period, sha256, file_name, unit_code, status, report_date, errors, warnings "
                               "FROM submissions ORDER BY period, sha256").fetchall()
        answers = db.execute("SELECT * FROM unit_answers ORDER BY period, unit_code").fetchall()
    finally:
        db.close()
    return outputs, decisions, answers


def leftovers(root: Path) -> list[str]:
    """Temporary files and folders anywhere in the workspace."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".~*"))


# What each command needs done first, and the command ("{root}": the workspace).
COMMANDS = {
    "plan load": ([], ["plan", "load", f"{{root}}/input/{SAMPLE_PLAN.name}"]),
    "templates": ([], ["templates", PERIOD]),
    "collect": ([], ["collect", PERIOD]),
    "merge": ([], ["merge", PERIOD]),
    "report": (["collect", PERIOD], ["report", PERIOD]),
    "remind": (["collect", PERIOD], ["remind", PERIOD]),
}
LEDGER_WRITERS = ("plan load", "collect", "merge")


@pytest.fixture(scope="module")
def clean(received, tmp_path_factory) -> dict[str, tuple]:
    """What each command gives on a workspace that never saw a fault."""
    results = {}
    for name, (first, command) in COMMANDS.items():
        root, command = prepared(received, tmp_path_factory.mktemp("clean"), name)
        pipeline(root, *command)
        results[name] = state(root)
    return results


def prepared(received: Path, tmp_path: Path, name: str) -> tuple[Path, list[str]]:
    """A copy of ``received`` ready for the command ``name``, and the command."""
    root = copy_of(received, tmp_path)
    first, command = COMMANDS[name]
    if first:
        pipeline(root, *first)
    return root, [arg.format(root=root) for arg in command]


# ---------------------------------------------------------------------------- injected faults


def inside(path, folder: Path) -> bool:
    try:
        return Path(os.path.abspath(os.fsdecode(path))).is_relative_to(folder)
    except TypeError:  # a file descriptor
        return False


def refuse_writes(monkeypatch, folder: Path, number: int) -> None:
    """Every write into ``folder`` (new files, opening for writing, moving into it, new folders)
    fails as the system fails it, with ``number`` (errno). Workers started from here inherit it."""
    folder = Path(os.path.abspath(folder))
    real_open, real_os_open, real_replace, real_rename, real_mkdir = (
        builtins.open, os.open, os.replace, os.rename, os.mkdir)

    def refuse(path):
        raise OSError(number, os.strerror(number), os.fsdecode(path))

    def fake_open(file, mode="r", *args, **kwargs):
        if set(mode) & set("wax+") and inside(file, folder):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if flags & WRITE_FLAGS and inside(path, folder):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    def moving(real):
        def fake(source, target, *args, **kwargs):
            if inside(target, folder):
                refuse(target)
            return real(source, target, *args, **kwargs)
        return fake

    def fake_mkdir(path, *args, **kwargs):
        if inside(path, folder):
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "replace", moving(real_replace))
    monkeypatch.setattr(os, "rename", moving(real_rename))
    monkeypatch.setattr(os, "mkdir", fake_mkdir)


def ledger_connections(monkeypatch, root: Path, adjust) -> None:
    """SQLite connections to the workspace's ledger are ``adjust``ed (their own limits)."""
    real_connect = sqlite3.connect
    ledger = Path(os.path.abspath(root / "ledger.sqlite"))

    def connect(database, *args, **kwargs):
        if isinstance(database, (str, os.PathLike)) and Path(os.path.abspath(database)) == ledger:
            return adjust(real_connect, database, *args, **kwargs)
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)


def ledger_is_full(real_connect, database, *args, **kwargs):
    """A connection that cannot grow the ledger: SQLite's own 'database or disk is full'."""
    db = real_connect(database, *args, **kwargs)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
    return db


def ledger_is_read_only(real_connect, database, *args, **kwargs):
    """A connection to the ledger as on a read-only disk."""
    return real_connect(f"file:{database}?mode=ro", *args, **{**kwargs, "uri": True})


def fault_then_clean_run(root: Path, command: list[str], clean_state: tuple, message: str, monkeypatch) -> None:
    """With the fault injected: a Chinese message, exit 1; then, the fault gone, the next run
    gives what the clean run gave, and nothing temporary is left."""
    failed = pipeline(root, *command, code=1)
    assert failed.output.startswith("错误：") and message in failed.output, failed.output
    monkeypatch.undo()
    pipeline(root, *command)
    assert state(root) == clean_state
    assert leftovers(root) == []


@pytest.mark.parametrize("name", COMMANDS)
def test_a_full_disk_while_writing_outputs(received, clean, tmp_path, monkeypatch, name):
    root, command = prepared(received, tmp_path, name)
    refuse_writes(monkeypatch, root / "output", errno.ENOSPC)
    fault_then_clean_run(root, command, clean[name], "磁盘空间不足，无法写入", monkeypatch)


@pytest.mark.parametrize("name", ["collect", "merge"])
def test_a_full_disk_while_archiving(received, clean, tmp_path, monkeypatch, name):
    root, command = prepared(received, tmp_path, name)
    refuse_writes(monkeypatch, root / ".~工作中", errno.ENOSPC)
    fault_then_clean_run(root, command, clean[name], "磁盘空间不足，无法写入", monkeypatch)
    sent = {p.read_bytes() for p in (root / "input" / PERIOD).iterdir() if collect.received(p.name)}
    assert len(list((root / "archive").rglob("*.xlsx"))) == len(sent)


@pytest.mark.parametrize("name", LEDGER_WRITERS)
def test_a_full_disk_while_writing_the_ledger(received, clean, tmp_path, monkeypatch, name):
    root, command = prepared(received, tmp_path, name)
    if name == "plan load":  # the same plan again only renames units: make it a new one
        text = (root / "input" / SAMPLE_PLAN.name).read_text(encoding="utf-8")
        (root / "input" / "新计划.txt").write_text(text.replace("推进", "推动", 1), encoding="utf-8")
        command = ["plan", "load", str(root / "input" / "新计划.txt"), "--replace"]
    ledger_connections(monkeypatch, root, ledger_is_full)
    failed = pipeline(root, *command, code=1)
    assert "磁盘空间不足，无法写入台账" in failed.output, failed.output
    monkeypatch.undo()
    pipeline(root, *command)
    if name != "plan load":
        assert state(root) == clean[name]
    assert leftovers(root) == []


@pytest.mark.parametrize("name", COMMANDS)
def test_a_workspace_on_a_read_only_disk(received, clean, tmp_path, monkeypatch, name):
    root, command = prepared(received, tmp_path, name)
    refuse_writes(monkeypatch, root, errno.EROFS)
    ledger_connections(monkeypatch, root, ledger_is_read_only)
    fault_then_clean_run(root, command, clean[name], f"无法写入 {root / guard.LOCK_NAME}：所在的磁盘是只读的",
                         monkeypatch)


@pytest.mark.parametrize("name", ["templates", "merge"])
def test_a_workspace_folder_without_write_permission(received, clean, tmp_path, monkeypatch, name):
    root, command = prepared(received, tmp_path, name)
    refuse_writes(monkeypatch, root, errno.EACCES)
    fault_then_clean_run(root, command, clean[name], f"没有权限读写 {root / guard.LOCK_NAME}", monkeypatch)


def test_a_read_only_ledger(received, clean, tmp_path, monkeypatch):
    root, command = prepared(received, tmp_path, "collect")
    ledger_connections(monkeypatch, root, ledger_is_read_only)
    fault_then_clean_run(root, command, clean["collect"], "没有权限写入台账", monkeypatch)


def test_a_report_held_open_in_excel(received, clean, tmp_path, monkeypatch):
    """Windows refuses to replace a file Excel holds open: the message names it; the next run,
    with the file closed, puts every output in place."""
    root, command = prepared(received, tmp_path, "merge")
    pipeline(root, *command)
    report = root / "output" / PERIOD / "汇总报告.xlsx"
    real_replace = os.replace

    def held_open(source, target, *args, **kwargs):
        if Path(target) == report:
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", held_open)
    failed = pipeline(root, *command, code=1)
    assert f"没有权限读写 {report}" in failed.output and "Excel/WPS" in failed.output
    monkeypatch.undo()
    pipeline(root, *command)
    assert state(root) == clean["merge"] and leftovers(root) == []


def test_a_name_too_long_for_the_system(received, clean, tmp_path, monkeypatch):
    root, command = prepared(received, tmp_path, "report")
    refuse_writes(monkeypatch, root / "output", errno.ENAMETOOLONG)
    fault_then_clean_run(root, command, clean["report"], "文件名或路径太长", monkeypatch)


# ---------------------------------------------------------------------------- the ledger


@pytest.mark.parametrize("damage", ["garbage", "emptied", "deleted"])
def test_a_damaged_ledger_is_told_with_the_backup_and_restored(received, clean, tmp_path, damage):
    root, command = prepared(received, tmp_path, "collect")
    pipeline(root, *command)  # keeps a backup of the ledger as it was before
    [backup] = guard.backups(Workspace(root))
    ledger = root / "ledger.sqlite"
    if damage == "garbage":
        with ledger.open("r+b") as handle:
            handle.seek(100)
            handle.write(b"garbage" * 3000)
    elif damage == "emptied":
        ledger.write_bytes(b"")
    else:
        ledger.unlink()
    for args in (command, ["report", PERIOD], ["plan", "show"]):
        failed = pipeline(root, *args, code=1)
        assert "工作区的历史记录无法读取" in failed.output and backup.path.name in failed.output, failed.output
        assert "ledger restore" in failed.output
    checked = pipeline(root, "ledger", "check", code=1)
    assert backup.path.name in checked.output
    restored = pipeline(root, "ledger", "restore")
    assert backup.path.name in restored.output
    if damage != "deleted":
        assert len(list(root.glob("ledger.sqlite.替换前-*"))) == 1  # the damaged ledger is kept
    assert "完好" in pipeline(root, "ledger", "check").output
    pipeline(root, *command)
    assert state(root) == clean["collect"] and leftovers(root) == []


def test_an_empty_ledger_in_a_new_workspace_is_not_damage(tmp_path):
    root = Workspace.init(tmp_path / "ws").root
    (root / "ledger.sqlite").write_bytes(b"")
    pipeline(root, "plan", "load", root / "input" / SAMPLE_PLAN.name)


def test_backups_are_kept_only_when_the_ledger_changed_and_only_the_newest(received, tmp_path, monkeypatch):
    root, command = prepared(received, tmp_path, "collect")
    workspace = Workspace(root)
    pipeline(root, *command)
    pipeline(root, "templates", PERIOD)  # writes no ledger: no backup
    assert len(guard.backups(workspace)) == 1
    pipeline(root, *command)  # the ledger changed since the last backup
    assert len(guard.backups(workspace)) == 2
    monkeypatch.setattr(guard, "KEEP_BACKUPS", 2)
    for _ in range(3):
        pipeline(root, *command)
    kept = guard.backups(workspace)
    assert len(kept) == 2 and kept[0].taken <= kept[1].taken
    for backup in kept:
        assert guard.ledger_problem(backup.path) is None


# ---------------------------------------------------------------------------- one command at a time

HOLDER = """
import sys, time
from pipeline import guard
from pipeline.workspace import Workspace
with guard.holding(Workspace(sys.argv[1]), "merge 2018-06"):
    print("holding", flush=True)
    time.sleep(60)
"""


def test_a_second_command_waits_then_names_the_one_holding_the_workspace(received, clean, tmp_path, monkeypatch):
    root, command = prepared(received, tmp_path, "collect")
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout.readline().strip() == "holding"
            monkeypatch.setattr(guard, "WAIT_SECONDS", 0.5)
            failed = pipeline(root, *command, code=1)
            assert "工作区正被另一个 pipeline 命令使用：pipeline merge 2018-06" in failed.output
            assert f"进程 {holder.pid}" in failed.output
        finally:
            holder.kill()
    pipeline(root, *command)  # the killed holder's lock is taken over at once
    assert state(root) == clean["collect"]


# ---------------------------------------------------------------------------- killed


def start(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pipeline", "-w", str(root), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_after(process: subprocess.Popen, seconds: float, root: Path) -> None:
    """SIGKILL the command after ``seconds``; then no process it started may be left a few
    seconds later (those seen as its children, and any whose command line names ``root``)."""
    parent, started = psutil.Process(process.pid), set()
    end = time.monotonic() + seconds
    while time.monotonic() < end and process.poll() is None:
        try:
            started.update(parent.children(recursive=True))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    process.kill()
    process.wait()
    started.update(p for p in psutil.process_iter(["cmdline"]) if str(root) in " ".join(p.info["cmdline"] or ()))
    _, alive = psutil.wait_procs(started, timeout=5)
    assert not alive, alive


def timed(root: Path, *args: str) -> float:
    began = time.monotonic()
    assert start(root, *args).wait() == 0
    return time.monotonic() - began


def feedback_state(root: Path) -> dict[str, str]:
    out = root / "output" / PERIOD
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted([out / "汇总报告.xlsx", out / "工作通报.docx", *(out / "反馈").iterdir()])}


def late_file(root: Path) -> None:
    """A unit that had not reported sends its file."""
    workspace = Workspace(root)
    plan = cycle.current_plan(workspace)
    db = sqlite3.connect(root / "ledger.sqlite")
    reported = {code for (code,) in db.execute("SELECT unit_code FROM submissions WHERE unit_code IS NOT NULL")}
    db.close()
    code = next(a.code for t in plan.tasks for a in t.units if a.code not in reported)
    template = next((root / "output" / PERIOD / "填报模板").glob(f"{code}_*.xlsx"))
    spec, rng = workspace.spec(), random.Random(7)
    answers = {task.id: sample_answer(rng, spec, "序时推进") for task, _ in plan.tasks_of(code)}
    fill_template(template, root / "input" / PERIOD / "迟到的文件.xlsx", spec,
                  Filling(sample_header(spec, 1, f"{PERIOD}-27"), answers))


@pytest.fixture(scope="module")
def report_states(received, tmp_path_factory):
    """A month merged (the old report), a late file collected since, and the report it makes (new)."""
    root = copy_of(received, tmp_path_factory.mktemp("kill"))
    pipeline(root, "merge", PERIOD)
    late_file(root)
    pipeline(root, "collect", PERIOD)
    old = feedback_state(root)
    newer = copy_of(root, tmp_path_factory.mktemp("kill"), "newer")
    duration = timed(newer, "report", PERIOD)
    new = feedback_state(newer)
    assert old != new
    return root, old, new, duration


@pytest.mark.parametrize("moment", [0.3, 0.6, 0.9])
def test_a_killed_report_leaves_no_worker_and_the_report_and_feedback_together(report_states, tmp_path, moment):
    base, old, new, duration = report_states
    root = copy_of(base, tmp_path)
    kill_after(start(root, "report", PERIOD), duration * moment, root)
    assert feedback_state(root) in (old, new)
    pipeline(root, "report", PERIOD)  # the next run accepts the workspace
    assert feedback_state(root) == new and leftovers(root) == []


@pytest.mark.parametrize("moment", [0.3, 0.6, 0.9])
def test_a_killed_collect_leaves_no_worker_and_the_next_run_as_if_never_killed(received, clean, tmp_path, moment):
    root = copy_of(received, tmp_path)
    duration = timed(copy_of(received, tmp_path, "timing"), "collect", PERIOD)
    kill_after(start(root, "collect", PERIOD), duration * moment, root)
    pipeline(root, "collect", PERIOD)
    assert state(root) == clean["collect"] and leftovers(root) == []


# ---------------------------------------------------------------------------- for maintainers


def test_debug_shows_the_traceback_that_the_clerk_never_sees(received, tmp_path, monkeypatch):
    root, command = prepared(received, tmp_path, "report")

    def broken(*_args, **_kwargs):
        raise RuntimeError("a fault in the program")

    monkeypatch.setattr(consolidate, "consolidate", broken)
    told = pipeline(root, *command, code=1)
    assert "程序内部出错（RuntimeError）" in told.output and "--debug" in told.output
    result = CliRunner().invoke(cli, ["--debug", "-w", str(root), *command])
    assert isinstance(result.exception, RuntimeError)
    monkeypatch.setenv("PIPELINE_DEBUG", "1")
    assert isinstance(CliRunner().invoke(cli, ["-w", str(root), *command]).exception, RuntimeError)


def test_another_programs_lock_file_is_left_alone(received, tmp_path):
    """WPS and LibreOffice note an open file as .~lock.NAME#: it is theirs, not a leftover of ours."""
    root, command = prepared(received, tmp_path, "templates")
    lock = root / "output" / PERIOD / ".~lock.下发通知.docx#"
    lock.write_text("WPS,clerk", encoding="utf-8")
    pipeline(root, *command)
    assert lock.read_text(encoding="utf-8") == "WPS,clerk"


@pytest.mark.parametrize("existing", [False, True])
def test_init_on_a_full_disk_leaves_nothing_and_runs_again(tmp_path, monkeypatch, existing):
    root = tmp_path / "新工作区"
    if existing:
        root.mkdir()  # an empty folder made for it
    refuse_writes(monkeypatch, root / "templates", errno.ENOSPC)
    failed = CliRunner().invoke(cli, ["init", str(root)])
    assert failed.exit_code == 1 and "磁盘空间不足，无法写入" in failed.output, failed.output
    assert root.is_dir() == existing and (not existing or not any(root.iterdir()))
    monkeypatch.undo()
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    assert (root / "templates" / "表单.toml").is_file()
