"""Writing outputs whole or not at all.

One file: a temporary file beside it, moved into place (``replacing``). A command's outputs
that belong together (汇总报告, 工作通报 and 反馈/; the templates, 下发通知 and the mails) are
written aside in a staging folder and put in place together once all are written
(``Staging``): a run that fails or is killed before then leaves the earlier outputs as they
were, and one killed while putting them in place is finished by the next run (``recover``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import OutputError

TEMP_PREFIX = ".~"  # a file being written, beside where it goes
OTHERS_LOCK = ".~lock."  # LibreOffice's and WPS's note that a file is open: theirs, never removed
STAGING_PREFIX = f"{TEMP_PREFIX}写入中-"  # a command's outputs being written, in the folder they go to
READY_NAME = "完成.json"  # in a staging folder: every output is written, the entries to put in place
_OLD = ".被替换"  # in a staging folder: the folders its outputs replaced, until they are removed


def _umask() -> int:
    """The process's umask: reading it means setting it, so it is put straight back."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


# The mode an ordinary new file gets. mkstemp makes its file 0600, which colleagues sharing the
# folder could not open; read once, at import, before any worker thread runs.
FILE_MODE = 0o666 & ~_umask()


def move_into_place(temp: Path, path: Path) -> None:
    """Move a finished temporary file to ``path``, with the mode of an ordinary new file."""
    os.chmod(temp, FILE_MODE)
    os.replace(temp, path)


@contextmanager
def replacing(path: Path, application: str) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it replaces ``path``.

    A crash or error leaves any earlier file at ``path`` as it was. ``application`` names what
    may hold the file open on Windows (``Excel/WPS``), for the message.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    os.close(handle)
    try:
        yield Path(temp)
        move_into_place(temp, path)
    except PermissionError as exc:
        raise OutputError(f"无法写入 {path}：文件可能正在 {application} 中打开。请关闭后重试。") from exc
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


class Staging:
    """A command's outputs for ``folder``, written aside and put in place together.

    ``file(name)`` and ``folder_for(name)`` say where to write what belongs at ``folder/name``
    (a folder is written whole: it replaces the earlier one, so nothing of an earlier run is
    left in it). Use as a context manager: on success everything is put in place; on failure
    the staging folder is removed and the earlier outputs stay.
    """

    def __init__(self, folder: Path, command: str):
        self.target = Path(folder)
        self.root = self.target / f"{STAGING_PREFIX}{command}"
        self.entries: list[str] = []

    def __enter__(self) -> "Staging":
        self.new_target = not self.target.exists()
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            if self.new_target:  # a failed first run leaves no empty folder behind
                shutil.rmtree(self.target, ignore_errors=True)
            return
        # Written whole, then renamed: a staging folder with this file is complete.
        writing = self.root / f"{TEMP_PREFIX}{READY_NAME}"
        writing.write_text(json.dumps(self.entries, ensure_ascii=False), encoding="utf-8")
        os.replace(writing, self.root / READY_NAME)
        put_in_place(self.root)

    def file(self, name: str) -> Path:
        """Where to write the file that goes to ``folder/name``."""
        return self._entry(name)

    def folder_for(self, name: str) -> Path:
        """The (new, empty) folder whose contents go to ``folder/name``, replacing what is there."""
        path = self._entry(name)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _entry(self, name: str) -> Path:
        if name not in self.entries:
            self.entries.append(name)
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


def put_in_place(root: Path) -> None:
    """Move every entry of a complete staging folder to where it goes, then remove the staging
    folder. Safe to repeat after an interruption: entries already moved are no longer there."""
    target = root.parent
    for name in json.loads((root / READY_NAME).read_text(encoding="utf-8")):
        new, place = root / name, target / name
        if not new.exists():
            continue
        place.parent.mkdir(parents=True, exist_ok=True)
        if new.is_dir():
            if place.exists():
                old = root / _OLD / name
                old.parent.mkdir(parents=True, exist_ok=True)
                shutil.rmtree(old, ignore_errors=True)
                os.replace(place, old)
            os.replace(new, place)
        else:
            os.replace(new, place)
    shutil.rmtree(root)


def recover(folder: Path) -> None:
    """Put right what a killed run left in ``folder``: finish putting a complete staging folder in
    place, remove an incomplete one, and remove half-written files."""
    for left in sorted(Path(folder).glob(f"{TEMP_PREFIX}*")):
        if left.name.startswith(OTHERS_LOCK):
            continue
        if left.is_dir() and left.name.startswith(STAGING_PREFIX) and (left / READY_NAME).is_file():
            put_in_place(left)
        elif left.is_dir():
            shutil.rmtree(left)
        else:
            left.unlink()
