"""A command's hold on the workspace, and the ledger's protection.

One command at a time: a lock file is held for the command's life (the system lets go of it
when the process ends, however it ends, so a killed command's lock is simply taken over), and
a note beside it names the command for anyone who has to wait. On taking the workspace, what a
killed run left is put right and the ledger is checked; before a command that writes the
ledger, a consistent copy is kept in 台账备份/.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import re
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .atomic import TEMP_PREFIX, recover
from .errors import WorkspaceError
from .ledger import BUSY
from .workspace import LEDGER_NAME, Workspace

LOCK_NAME = ".pipeline.lock"
HOLDER_NAME = ".pipeline-running.json"  # who holds the lock, for the message of one who waits
# How long a command waits for another one to finish with the workspace before it gives up.
WAIT_SECONDS = 10
BACKUP_FOLDER = "台账备份"
KEEP_BACKUPS = 7
_STAMP = "%Y%m%d-%H%M%S"
_BACKUP_NAME = re.compile(r"ledger-(\d{8}-\d{6})(?:-(\d+))?\.sqlite")


@contextmanager
def holding(workspace: Workspace, command: str, writes_ledger: bool = False,
            check: bool = True) -> Iterator[None]:
    """Hold the workspace for ``command`` (``collect 2018-06``): wait up to WAIT_SECONDS for
    another command to finish, put right what a killed run left, check the ledger (unless
    ``check`` is off) and, for a command that ``writes_ledger``, back it up first."""
    from filelock import FileLock, Timeout  # only commands that hold the workspace wait for it

    lock = FileLock(workspace.root / LOCK_NAME, timeout=WAIT_SECONDS)
    try:
        lock.acquire()
    except Timeout:
        raise WorkspaceError(busy_message(workspace)) from None
    holder = workspace.root / HOLDER_NAME
    try:
        since = dt.datetime.now().isoformat(sep=" ", timespec="seconds")
        holder.write_text(json.dumps({"command": command, "pid": os.getpid(), "since": since},
                                     ensure_ascii=False), encoding="utf-8")
        tidy(workspace)
        if check:
            check_ledger(workspace)
        if writes_ledger:
            back_up(workspace)
        yield
    finally:
        shutil.rmtree(workspace.scratch_dir, ignore_errors=True)
        holder.unlink(missing_ok=True)
        lock.release()


def busy_message(workspace: Workspace) -> str:
    """Which command holds the workspace and since when, as far as its note tells."""
    try:
        holder = json.loads((workspace.root / HOLDER_NAME).read_text(encoding="utf-8"))
        who = f"：pipeline {holder['command']}（进程 {holder['pid']}，{holder['since']} 开始）"
    except (OSError, ValueError, KeyError, TypeError):
        who = ""
    return f"工作区正被另一个 pipeline 命令使用{who}。请等它结束后再运行（已等候 {WAIT_SECONDS} 秒）。"


def tidy(workspace: Workspace) -> None:
    """Finish or remove what a killed run left: staging folders, half-written files, the
    scratch folder (the readers' notes, files being archived)."""
    folders = [workspace.root, workspace.templates_dir, workspace.root / BACKUP_FOLDER, workspace.output_dir]
    if workspace.output_dir.is_dir():
        folders += sorted(p for p in workspace.output_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in folders:
        if folder.is_dir():
            recover(folder)


# ---------------------------------------------------------------------------- the ledger


def ledger_problem(path: Path) -> str | None:
    """What is wrong with a ledger file (in the clerk's words), or None when it reads whole."""
    if not path.is_file():
        return "不存在"
    if path.stat().st_size == 0:
        return "是空文件（0 字节）"
    try:
        db = sqlite3.connect(path)
        try:
            rows = db.execute("PRAGMA quick_check").fetchall()
        finally:
            db.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc):  # another command writes it: busy, not damaged
            raise WorkspaceError(BUSY) from exc
        return f"已损坏（{exc}）"
    except sqlite3.DatabaseError as exc:
        return f"已损坏（{exc}）"
    if rows != [("ok",)]:
        return f"已损坏（{rows[0][0]}）"
    return None


def has_history(workspace: Workspace) -> bool:
    """Whether the workspace has been used: archived files, outputs or ledger backups."""
    return any(folder.is_dir() and any(p.name[0] != "." for p in folder.iterdir())
               for folder in (workspace.archive_dir, workspace.output_dir, workspace.root / BACKUP_FOLDER))


def check_ledger(workspace: Workspace) -> None:
    """A damaged ledger, or an empty or missing one where the workspace has a history, is a
    WorkspaceError naming the newest backup and how to restore it."""
    problem = ledger_problem(workspace.ledger_path)
    if problem is None or (problem in ("不存在", "是空文件（0 字节）") and not has_history(workspace)):
        return
    raise WorkspaceError(damage_message(workspace, problem))


def damage_message(workspace: Workspace, problem: str) -> str:
    """The ledger ``problem`` and what the clerk does about it."""
    head = f"台账 {workspace.ledger_path} {problem}，工作区的历史记录无法读取。"
    newest = backups(workspace)[-1:]
    if not newest:
        return (head + f"工作区中没有台账备份（{workspace.root / BACKUP_FOLDER}）。"
                "请不要删除 archive/ 和 output/ 中的文件，并联系维护人员。")
    return (head + f"最新的台账备份是 {newest[0].path}（{newest[0].taken:%Y-%m-%d %H:%M}）。"
            f"请运行 pipeline -w {workspace.root} ledger restore 用它恢复台账，"
            "再对此后收集过的报送期重新运行 pipeline collect（收到的文件仍在 input/ 和 archive/ 中）。")


@dataclass(frozen=True)
class Backup:
    path: Path
    taken: dt.datetime


def backups(workspace: Workspace) -> list[Backup]:
    """The ledger backups kept in the workspace, oldest first."""
    found = []
    for path in (workspace.root / BACKUP_FOLDER).glob("ledger-*.sqlite"):
        match = _BACKUP_NAME.fullmatch(path.name)
        try:
            found.append((Backup(path, dt.datetime.strptime(match[1], _STAMP)), int(match[2] or 1)))
        except (TypeError, ValueError):  # not a name given here
            continue
    return [backup for backup, _ in sorted(found, key=lambda item: (item[0].taken, item[1]))]


def back_up(workspace: Workspace) -> Path | None:
    """A consistent copy of the ledger (SQLite's backup API) into 台账备份/, unless the newest
    copy is of the ledger as it is; only the newest KEEP_BACKUPS are kept."""
    ledger = workspace.ledger_path
    if not ledger.is_file() or ledger.stat().st_size == 0:
        return None
    kept = backups(workspace)
    state = ledger.stat()
    if kept and kept[-1].path.stat().st_mtime_ns == state.st_mtime_ns:
        return None
    folder = workspace.root / BACKUP_FOLDER
    folder.mkdir(exist_ok=True)
    stamp = f"{dt.datetime.now():{_STAMP}}"
    target = next(path for n in itertools.count(1)
                  if not (path := folder / f"ledger-{stamp}{f'-{n}' if n > 1 else ''}.sqlite").exists())
    temp = folder / f"{TEMP_PREFIX}{target.name}"
    copy_database(ledger, temp)
    os.utime(temp, ns=(state.st_atime_ns, state.st_mtime_ns))  # the copy is of the ledger as of then
    os.replace(temp, target)
    for old in backups(workspace)[:-KEEP_BACKUPS]:
        old.path.unlink()
    return target


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database with SQLite's backup API (consistent even while it is read)."""
    target.unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


@dataclass(frozen=True)
class Restored:
    backup: Backup
    kept: Path | None  # where the ledger it replaced was put


def restore(workspace: Workspace, chosen: Path | None = None) -> Restored:
    """Put a backup (the newest by default) in place of the ledger; the ledger it replaces is
    kept beside it, renamed, never deleted."""
    with holding(workspace, "ledger restore", check=False):
        kept_backups = backups(workspace)
        if chosen is not None:
            matches = [b for b in kept_backups if b.path.resolve() == Path(chosen).resolve()
                       or b.path.name == Path(chosen).name]
            if not matches:
                raise WorkspaceError(f"{chosen} 不是 {workspace.root / BACKUP_FOLDER} 中的台账备份。"
                                     "请运行 pipeline ledger check 查看有哪些备份。")
            backup = matches[0]
        elif kept_backups:
            backup = kept_backups[-1]
        else:
            raise WorkspaceError(f"工作区中没有台账备份（{workspace.root / BACKUP_FOLDER}），无从恢复。")
        problem = ledger_problem(backup.path)
        if problem:
            raise WorkspaceError(f"台账备份 {backup.path} {problem}，不能用来恢复。请换一份较早的备份。")
        stamp = f"{dt.datetime.now():{_STAMP}}"
        ledger, kept = workspace.ledger_path, None
        temp = ledger.with_name(f"{TEMP_PREFIX}{LEDGER_NAME}")
        copy_database(backup.path, temp)  # first: a full disk stops here, with the ledger untouched
        if ledger.exists():
            kept = ledger.with_name(f"{LEDGER_NAME}.替换前-{stamp}")
            os.replace(ledger, kept)
        journal = ledger.with_name(f"{LEDGER_NAME}-journal")
        if journal.exists():  # belongs to the replaced ledger: applied to the restored one it would damage it
            os.replace(journal, ledger.with_name(f"{LEDGER_NAME}.替换前-{stamp}-journal"))
        os.replace(temp, ledger)
        return Restored(backup, kept)
