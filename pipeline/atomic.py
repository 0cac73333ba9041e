"""Writing an output file whole or not at all: a temporary file beside it, moved into place."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import OutputError

TEMP_PREFIX = ".~"  # a file being written, beside where it goes


def _umask() -> int:
    """The process's umask: reading it means setting it, so it is put straight back."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


# The mode an ordinary new file gets. mkstemp makes its file 0600, which colleagues sharing the
# folder could not open; read once, at import, before any worker thread runs.
FILE_MODE = 0o666 & ~_umask()


def put_in_place(temp: Path, path: Path) -> None:
    """Move a finished temporary file to ``path``, with the mode of an ordinary new file."""
    os.chmod(temp, FILE_MODE)
    os.replace(temp, path)


def prune(folder: Path, pattern: str, keep) -> None:
    """Remove the files of ``folder`` matching ``pattern`` whose names are not in ``keep``: the
    outputs of an earlier run that this run does not make again."""
    if Path(folder).is_dir():
        for old in Path(folder).glob(pattern):
            if old.name not in keep:
                old.unlink()


@contextmanager
def replacing(path: Path, application: str) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it replaces ``path``.

    A crash or error leaves any earlier file at ``path`` as it was. ``application`` names what
    may hold the file open on Windows (``Excel/WPS``), for the message.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
        os.close(handle)
    except OSError as exc:
        raise OutputError(f"无法写入 {path}：{exc.strerror}。请检查文件夹是否存在、是否有写权限。") from exc
    try:
        yield Path(temp)
        put_in_place(temp, path)
    except PermissionError as exc:
        raise OutputError(f"无法写入 {path}：文件可能正在 {application} 中打开。请关闭后重试。") from exc
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
