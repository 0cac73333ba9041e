"""The workspace: its folders, file naming, the archive and the bundled sample data."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import itertools
import os
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, NamedTuple, TypeVar

from .atomic import move_into_place
from .config import CONFIG_NAME, Config, config_text, read_config
from .errors import WorkspaceError
from .form import BUNDLED_SPEC, SPEC_NAME, FormSpec, load_spec
from .periods import check_period

BUNDLE = Path(__file__).resolve().parent.parent
BUNDLED_INPUT = BUNDLE / "input"
SAMPLE_PLAN = BUNDLED_INPUT / "2018年政务公开工作要点.txt"
# The sample plan is a table copied out of a document, without the title it was published under.
SAMPLE_PLAN_TITLE = "2018年政务公开工作要点"
SAMPLE_REGISTRY = BUNDLED_INPUT / "示例单位名录"

REGISTRY_NAME = "单位名录.xlsx"
DRAFT_REGISTRY_NAME = "单位名录（草稿）.xlsx"  # pipeline units draft: a registry drawn from a plan, to check
LEDGER_NAME = "ledger.sqlite"
SECRET_NAME = ".secret_key"
CONSOLE_SHORTCUT = "打开报送控制台.bat"
# Windows: these characters cannot appear in a file name (nor control characters).
_UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
# Windows: names kept for devices, in any case, also with an extension or before spaces
# (``nul.txt``, ``Com1 .xlsx``). Microsoft's list also names COM0, LPT0 and the superscript
# digits, which not every Windows keeps; avoiding them costs a ``_``.
_DEVICE_NAME = re.compile(r"CON|PRN|AUX|NUL|CONIN\$|CONOUT\$|(?:COM|LPT)[0-9\u00b9\u00b2\u00b3]", re.IGNORECASE)

_T = TypeVar("_T")


class UnreadableFile(Exception):
    """A received file that is not read: held open by another program (Windows refuses to share a
    file a mail program or Excel is writing), moved away since it was listed, or a link."""

    def __init__(self, path: str | Path, cause: OSError | None = None, link: bool = False):
        super().__init__(str(path))
        self.path = Path(path)
        self.gone = isinstance(cause, FileNotFoundError)
        self.link = link  # a link to a file elsewhere: never followed


def _reading(path: str | Path, read: Callable[[], _T]) -> _T:
    """``read()``, the system's refusal to read ``path`` raised as UnreadableFile."""
    try:
        return read()
    except (PermissionError, FileNotFoundError) as exc:
        raise UnreadableFile(path, exc) from exc


def file_hash(path: str | Path, copy_to: BinaryIO | None = None) -> tuple[str, os.stat_result]:
    """SHA-256 of a file and its ``os.stat`` as opened, streaming it (and copying it to ``copy_to`` if
    given). The system refusing the file raises UnreadableFile; a fault writing ``copy_to`` is
    raised as it is."""
    digest = hashlib.sha256()
    with _reading(path, lambda: Path(path).open("rb")) as handle:
        stat = os.fstat(handle.fileno())
        while block := _reading(path, lambda: handle.read(1 << 20)):
            digest.update(block)
            if copy_to is not None:
                copy_to.write(block)
    return digest.hexdigest(), stat


# How long a file name the product makes may be, in UTF-16 code units (how Windows counts).
# Windows refuses a path of 260 units or more (MAX_PATH, unless long paths are enabled) and
# Linux a single name of more than 255 bytes. The longest path written below a workspace folder
# is a unit's file among the outputs a staging folder replaced (atomic.Staging), e.g.
# ``output/2018-06/.~写入中-templates/.被替换/邮件/下发/NAME``: 42 units and NAME. With NAME at
# most 78 units that part is at most 120, leaving up to 138 for the workspace folder itself
# (``C:\Users\张三\Documents\报送工作区`` is 27). A unit of the basic plane is at most 3 bytes
# in UTF-8 and a character beyond it is 4 bytes for 2 units, so 78 units are at most 234 bytes.
NAME_UNITS = 78


def _utf16_length(text: str) -> int:
    """``text``'s length as Windows counts it: a character beyond the basic plane is two units."""
    return sum(map(_utf16_units, text))


def _utf16_units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _cut(text: str, units: int) -> str:
    """The longest start of ``text`` at most ``units`` UTF-16 code units long."""
    return text[:sum(end <= units for end in itertools.accumulate(map(_utf16_units, text)))]


def safe_file_name(name: str) -> str:
    """``name`` as one file name on every system: path separators, control characters and what
    Windows forbids become ``_``; leading and trailing dots and spaces go, so it is never ``.``,
    ``..`` or empty; a name Windows keeps for a device (``CON``, ``nul.txt``) gets ``_`` in front;
    and it is cut to NAME_UNITS (``fitted_file_name`` cuts the middle instead, keeping the end)."""
    name = _cut(_UNSAFE_FILE_CHARS.sub("_", name).strip(" ."), NAME_UNITS).rstrip(" .") or "_"
    if _DEVICE_NAME.fullmatch(name.partition(".")[0].rstrip(" ")):
        name = _cut("_" + name, NAME_UNITS).rstrip(" .")
    return name


def fitted_file_name(head: str, name: str, tail: str) -> str:
    """``safe_file_name(head + name + tail)``, ``name`` cut so that the whole fits NAME_UNITS:
    ``head`` and ``tail`` (a unit code, a month, an extension) stay whole."""
    return safe_file_name(head + _cut(name, NAME_UNITS - _utf16_length(head + tail)) + tail)


def unit_file_name(code: str, name: str, tail: str) -> str:
    """``S009_市财政局_2018-06.xlsx``: the code keeps names unique (unit codes differ also when
    case is ignored, as Windows compares names), the name (cut to fit) tells the clerk, ``tail``
    says what the file is (``2018-06.xlsx``, ``退回修改通知.docx``)."""
    return fitted_file_name(f"{code}_", name, f"_{tail}")


@functools.lru_cache(maxsize=256)
def _archive_suffix(suffix: str) -> str:
    """The sender's suffix of a received file, as its archived copy (named by hash) ends: made
    safe and short like any name."""
    return safe_file_name("0" * 64 + suffix.lower())[64:]


def _in_folder(path: str, write: Callable[[], _T]) -> _T:
    """``write()``, which makes ``path``; when the write finds its folder missing, the folder is
    made and the write tried again (the folder is asked for only then: there are 256 archive
    folders, and a collect archives thousands of files)."""
    try:
        return write()
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return write()


def _into_archive(temp: str, target: str) -> None:
    """A finished copy moved to ``target`` in the archive, its folder made if it is the first."""
    _in_folder(target, lambda: move_into_place(temp, target))


# A received file up to this size is archived from memory; a larger one is streamed.
IN_MEMORY_BYTES = 32 * 2**20


class Archived(NamedTuple):
    """A received file as archived: its hash, where the copy is (relative to the workspace, as the
    ledger keeps it), and the file's modification time and size."""

    sha256: str
    stored_as: str
    mtime: float
    size: int


class Workspace:
    """A folder holding the office's configuration, registry, inputs, outputs, archive and ledger."""

    def __init__(self, root: Path):
        self.root = root = Path(root)
        self.config_path = root / CONFIG_NAME
        self.registry_path = root / REGISTRY_NAME
        self.draft_registry_path = root / DRAFT_REGISTRY_NAME
        self.ledger_path = root / LEDGER_NAME
        self.templates_dir = root / "templates"  # the office's form spec and Word templates
        self.spec_path = self.templates_dir / SPEC_NAME
        self.input_dir = root / "input"
        self.output_dir = root / "output"
        self.archive_dir = root / "archive"
        # A command's temporary files (removed by the next command at the latest).
        self.scratch_dir = root / ".~工作中"

    def period_output(self, period: str) -> Path:
        return self.output_dir / check_period(period)

    # -- opening
    @classmethod
    def open(cls, root: Path) -> "Workspace":
        """An existing workspace, or a WorkspaceError saying how to make one."""
        workspace = cls(root)
        if not workspace.config_path.is_file():
            raise WorkspaceError(
                f"{Path(root).resolve()} 不是报送工作区（缺少 {CONFIG_NAME}）。"
                "请先运行 pipeline init 目录 创建工作区，或用 -w 指定工作区目录。"
            )
        return workspace

    def config(self) -> Config:
        return read_config(self.config_path)

    def spec(self) -> FormSpec:
        """The office's form spec: the workspace's own copy, else the bundled default."""
        return load_spec(self._spec_file())

    def spec_source(self) -> bytes:
        """The text the form spec is read from, as bytes."""
        return self._spec_file().read_bytes()

    def _spec_file(self) -> Path:
        return self.spec_path if self.spec_path.is_file() else BUNDLED_SPEC

    def secret_key(self) -> bytes:
        """The key that signs issued templates; it never leaves the workspace."""
        try:
            return bytes.fromhex(self.root.joinpath(SECRET_NAME).read_text().strip())
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"工作区缺少签名密钥文件 {SECRET_NAME} 或其内容损坏。") from exc

    def archive(self, path: str | Path) -> Archived:
        """Copy a received file, bytes unchanged, into the archive under its SHA-256.

        The copy is hashed as it is written, so the hash is that of the archived bytes. The same
        bytes twice are stored once (a file archived before is only read). A file the system will
        not let be read raises UnreadableFile and leaves the archive as it was.
        """
        with _reading(path, lambda: open(path, "rb")) as handle:
            stat = os.fstat(handle.fileno())
            if stat.st_size <= IN_MEMORY_BYTES:  # most files: read once, written only if new
                data = _reading(path, handle.read)
                return self.archive_bytes(data, os.path.splitext(path)[1], stat.st_mtime)
        handle, temp = self._scratch_file()
        try:
            with os.fdopen(handle, "wb") as out:
                sha256, stat = file_hash(path, out)
        except UnreadableFile:
            os.unlink(temp)
            raise
        stored_as = self._archived_as(sha256, os.path.splitext(path)[1])
        self._keep(temp, os.path.join(self.root, stored_as))
        return Archived(sha256, stored_as, stat.st_mtime, stat.st_size)

    def archive_bytes(self, data: bytes, suffix: str, mtime: float) -> Archived:
        """Archive a file's bytes (a received file, a zip's member, a mail's attachment)."""
        sha256 = hashlib.sha256(data).hexdigest()
        stored_as = self._archived_as(sha256, suffix)
        target = os.path.join(self.root, stored_as)
        if not os.path.exists(target):
            # Named by its hash: the command holds the workspace, so no other writer is there,
            # and a random name costs more (a collect's own main work is archiving thousands).
            temp = os.path.join(self.scratch_dir, f"归档中-{sha256}")
            with _in_folder(temp, lambda: open(temp, "wb")) as out:
                out.write(data)
            _into_archive(temp, target)
        return Archived(sha256, stored_as, mtime, len(data))

    def _scratch_file(self) -> tuple[int, str]:
        """A new file in the scratch folder, where an archived copy is written before it is moved:
        for a file streamed (too large to hold), whose hash is known only once it is written."""
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix="归档中-", dir=self.scratch_dir)

    def _archived_as(self, sha256: str, suffix: str) -> str:
        """Where the file of these bytes is archived, relative to the workspace (paths as text:
        archiving thousands, the command's main work in a collect, is cheaper without Path objects)."""
        return os.path.join(self.archive_dir.name, sha256[:2], sha256 + _archive_suffix(suffix))

    def _keep(self, temp: str, target: str) -> None:
        """``target``, an archived copy: ``temp`` moved into place, or dropped if it is there."""
        if os.path.exists(target):
            os.unlink(temp)
        else:
            _into_archive(temp, target)

    # -- creating
    @classmethod
    def init(cls, root: Path, city: str = "示例市", year: int = 2018) -> "Workspace":
        """Create a workspace with a sample registry, the sample plan and a fresh secret key."""
        root = Path(root)
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise WorkspaceError(f"{root} 已存在且不是空目录，为避免覆盖，未创建工作区。请换一个新目录。")
        workspace = cls(root)
        config = config_text(city, year, SAMPLE_PLAN_TITLE, workspace.config_path)
        for folder in (root, workspace.input_dir, workspace.output_dir, workspace.archive_dir,
                       workspace.spec_path.parent):
            folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUNDLED_SPEC, workspace.spec_path)
        workspace.config_path.write_text(config, encoding="utf-8")
        root.joinpath(SECRET_NAME).write_text(secrets.token_hex(32) + "\n")
        write_sample_registry(workspace.registry_path)
        shutil.copy2(SAMPLE_PLAN, workspace.input_dir / SAMPLE_PLAN.name)
        root.joinpath(CONSOLE_SHORTCUT).write_bytes(console_shortcut(sys.executable).encode("utf-8"))
        return workspace


def console_shortcut(python: str) -> str:
    """A Windows batch file that opens the workspace it sits in in the console (``pipeline
    serve``) with the Python it was made by: the clerk double-clicks it, no terminal needed."""
    return "\r\n".join([
        "@echo off",
        "chcp 65001 >nul",
        "rem 双击打开报送控制台（浏览器中的月度看板）。关闭本窗口即停止控制台。",
        f'"{python}" -m pipeline -w "%~dp0." serve',
        "if errorlevel 1 pause",
        "",
    ])


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_sample_registry(path: Path) -> None:
    """The bundled sample registry (CSV text in the repo) as the contract workbook."""
    from .xlsxout import Column, Styles, atomic_workbook, write_table  # XlsxWriter only when writing

    created = dt.datetime(2018, 1, 1)
    with atomic_workbook(path, created) as workbook:
        styles = Styles(workbook)
        for sheet_name, widths in (("单位名录", (10, 24, 28, 44, 14, 14, 24, 36)), ("分组", (24, 56, 36))):
            header, *rows = _read_csv(SAMPLE_REGISTRY / f"{sheet_name}.csv")
            columns = [Column(label, width) for label, width in zip(header, widths)]
            write_table(workbook.add_worksheet(sheet_name), styles, columns, rows)
