"""Faults of the machine (a full disk, a read-only folder, a damaged ledger) in the clerk's words.

A command that meets one stops with a message saying which file and what to do; what it had
done is undone (the ledger transaction rolls back, staged outputs are dropped), so the next run
after the fault is put right goes as if it had never happened.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from .guard import damage_message
from .ledger import BUSY
from .workspace import Workspace

_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_READ_ONLY = (errno.EACCES, errno.EPERM)
_UNDONE = "本次运行的改动已全部撤销，问题解决后重新运行即可。"


def cause(exc: BaseException) -> BaseException:
    """The OSError or SQLite error behind ``exc``, else ``exc``. A library's own error may carry
    the system's as its argument (XlsxWriter's FileCreateError, also when it comes back from a
    worker process) or as its cause."""
    todo, seen = [exc], set()
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (OSError, sqlite3.Error)):
            return current
        todo += [inner for inner in (*current.args[:1], current.__cause__, current.__context__)
                 if isinstance(inner, BaseException)]
    return exc


def explain(exc: BaseException, root: Path) -> str:
    """What went wrong and what to do, for any exception a command did not expect."""
    fault = cause(exc)
    if isinstance(fault, sqlite3.Error):
        return _ledger_fault(fault, Workspace(root))
    if isinstance(fault, OSError):
        return _file_fault(fault, root)
    if isinstance(fault, MemoryError):
        return "内存不足，命令没有完成。请关闭其他程序后重新运行。" + _UNDONE
    return (f"程序内部出错（{type(fault).__name__}），命令没有完成。{_UNDONE}"
            "如果再次出现，请加 --debug 重新运行（pipeline --debug 命令 …），把显示的内容发给维护人员。")


def _disk_full(what: str) -> str:
    return f"磁盘空间不足，无法写入{what}。请清理该磁盘（或把工作区移到空间更大的磁盘）。" + _UNDONE


def _file_fault(fault: OSError, root: Path) -> str:
    where = fault.filename or root
    if fault.errno in _FULL:
        return _disk_full(f" {where}")
    if fault.errno == errno.ENAMETOOLONG:
        return f"文件名或路径太长，无法写入 {where}。请把工作区放在较短的路径下（如 D:\\报送）。" + _UNDONE
    if fault.errno == errno.EROFS:
        return f"无法写入 {where}：所在的磁盘是只读的。请把工作区放在可以写入的磁盘上。" + _UNDONE
    if isinstance(fault, PermissionError) or fault.errno in _READ_ONLY:
        return (f"没有权限读写 {where}：文件夹是只读的，或文件正在 Excel/WPS 等程序中打开。"
                "请关闭该文件，或把工作区放在可以写入的文件夹中。" + _UNDONE)
    if isinstance(fault, FileNotFoundError):
        return f"找不到 {where}。请确认文件或文件夹没有被移动、删除。" + _UNDONE
    return f"读写 {where} 时出错：{fault.strerror or fault}。请检查磁盘和文件夹。" + _UNDONE


def _ledger_fault(fault: sqlite3.Error, workspace: Workspace) -> str:
    text = str(fault).lower()
    ledger = workspace.ledger_path
    if "full" in text:
        return _disk_full(f"台账 {ledger}")
    if "readonly" in text or "read-only" in text:
        return (f"没有权限写入台账 {ledger}：工作区文件夹或台账文件是只读的。"
                "请把工作区放在可以写入的文件夹中，或取消台账文件的只读属性。" + _UNDONE)
    if "locked" in text or "busy" in text:
        return BUSY
    if "unable to open" in text:
        return f"无法打开台账 {ledger}。请确认工作区文件夹存在、可以写入。"
    return damage_message(workspace, f"已损坏（{fault}）")
