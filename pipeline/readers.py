"""Opening untrusted workbooks safely and getting their cell values out.

Every file is first looked at as bytes and as a zip directory, without parsing: what is not
a workbook we can read is refused with a finding. What passes is parsed by python-calamine in
a worker process with a memory cap and a CPU-time budget, because a crafted file can break
the reader itself (a cell at XFD1048576 made calamine abort the whole process). A file that
kills its worker is refused; the other files go on.

The limits are the kernel's where the system has them (``setrlimit``); elsewhere (Windows) a
watchdog in the command ends a worker past them. Workers may be started by ``fork`` or
``spawn``: everything they get is picklable and nothing is inherited.
"""

from __future__ import annotations

import faulthandler
import functools
import html
import io
import itertools
import os
import re
import struct
import tempfile
import threading
import zipfile
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generator, Iterable, Iterator, NamedTuple, TypeVar

from .findings import Finding, finding
from .parallel import cancelling, nothing, worker_started
from .zips import stored_bytes

try:
    import resource  # POSIX: the kernel holds each worker to its limits
except ImportError:  # Windows: the pool's Watchdog does
    resource = None

_T = TypeVar("_T")
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
NOT_WORKBOOK_MAGIC = (
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"BM", "BMP 图片"),
    (b"%PDF", "PDF 文件"),
)
# Archives that cannot be opened here: the unit is asked to send the workbook itself, or a .zip.
OTHER_ARCHIVE_MAGIC = ((b"Rar!", "RAR 压缩包"), (b"7z\xbc\xaf", "7z 压缩包"))
ZIP_KINDS = (("word/", "Word 文档"), ("ppt/", "PowerPoint 演示文稿"))
# An OpenDocument spreadsheet's first member: "mimetype", stored, holding this.
ODS_TYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# XML parts: the prolog (everything before the root element) is where a DOCTYPE with
# entity declarations would sit; we refuse any, and any prolog longer than this.
PROLOG_LIMIT = 64 * 1024
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_DEFINED_NAME = re.compile(rb'<definedName\b[^>]*\bname="([^"]+)"[^>]*>([^<]*)</definedName>')


@dataclass(frozen=True)
class Limits:
    """What a returned file may cost before it is refused."""

    max_bytes: int = 20 * 2**20
    max_members: int = 2000
    max_unzipped: int = 300 * 2**20
    max_ratio: int = 200  # compression ratio, for members of over 1 MiB
    worker_memory: int = 2 * 2**30
    cpu_seconds: int = 30

    @property
    def max_container_bytes(self) -> int:
        """A received .zip or .eml may be larger than a workbook: it carries several."""
        return self.max_bytes * 5


@dataclass
class RawWorkbook:
    """The parts of a workbook the submission reader needs, as plain Python values."""

    sheets: dict[str, list[list[object]]]
    states: dict[str, str]
    defined_names: dict[str, str] = field(default_factory=dict)
    # What the values alone do not tell, by sheet and (row, column) from 0 (.xlsx only): cells shown
    # as a percentage (Excel keeps 100% as 1), and cells holding a formula (its text, and whether
    # a value was calculated and saved).
    percent: dict[str, set[tuple[int, int]]] = field(default_factory=dict)
    formulas: dict[str, dict[tuple[int, int], tuple[str, bool]]] = field(default_factory=dict)


@dataclass
class ReadResult:
    """A workbook, or the finding that says why it was refused."""

    workbook: RawWorkbook | None = None
    refusal: Finding | None = None
    notes: list[Finding] = field(default_factory=list)


def size_words(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"


class Package:
    """A zip's bytes and its members by name, each member taken out of the bytes as it is asked
    for, and a whole one only once: the checks, the reader and ``cell_details`` share one look
    at the zip (opening members through ``zipfile`` costs more than reading a small workbook does)."""

    def __init__(self, data: bytes):
        self.data = data
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.members = archive.infolist()
        self.by_name = {m.filename: m for m in self.members}
        self._parts: dict[str, bytes] = {}

    def part(self, name: str) -> bytes:
        """The member ``name``, whole and uncompressed."""
        if name not in self._parts:
            self._parts[name] = unpacked(self.stored(self.by_name[name]))
        return self._parts[name]

    def stored(self, member: zipfile.ZipInfo) -> Stored:
        """The member as stored, not unpacked."""
        return Stored(stored_bytes(self.data, member), member.compress_type, member.file_size)


class Stored(NamedTuple):
    """A zip member as stored: its bytes (compressed or not), how they are compressed, and its
    size unpacked. The same three always unpack to the same part."""

    data: bytes | memoryview
    compression: int
    size: int


def unpacked(part: Stored, limit: int | None = None) -> bytes:
    """A member uncompressed: whole, or its first ``limit`` bytes."""
    size = part.size if limit is None else limit
    if part.compression == zipfile.ZIP_STORED:
        return bytes(part.data[:size])
    if part.compression == zipfile.ZIP_DEFLATED:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(part.data, size)
    raise NotImplementedError(f"compression {part.compression}")


# What is worked out from parts stored in at most this many bytes, and unpacking to at most this
# many, is remembered (``remembered``): what a worker keeps stays small whatever the files.
REMEMBERED_BYTES, REMEMBERED_UNPACKED = 64 * 1024, 2**20


def remembered(work: Callable[..., _T], *parts: Stored) -> _T:
    """``work(*parts)``, remembered by the parts as stored when they are small. The parts a template
    gives every returned file (theme, styles, relationships) are the same bytes in each, so what is
    worked out from them (their checks, the percent styles) is worked out once per worker, not
    once per file; the same stored bytes always give the same answer, which callers only read."""
    for part in parts:  # (a dozen of these looks per file: written out, not with all() and _replace)
        if len(part.data) > REMEMBERED_BYTES or part.size > REMEMBERED_UNPACKED:
            return work(*parts)
    return _remembered(work, *[Stored(bytes(part.data), part.compression, part.size) for part in parts])


@functools.lru_cache(maxsize=256)
def _remembered(work: Callable[..., _T], *parts: Stored) -> _T:
    return work(*parts)


@dataclass(frozen=True)
class Checked:
    """What a look at a file's bytes and zip directory found, before any parsing: the refusal, or
    the bytes to parse (as looked at: the file is read once), with the workbook's defined names,
    whether it carries macros, and its zip (None for an old binary workbook)."""

    refusal: Finding | None = None
    data: bytes = b""
    defined_names: dict[str, str] = field(default_factory=dict)
    macros: bool = False
    package: Package | None = None


def too_large(size: int, limit: int) -> Finding | None:
    """A file of ``size`` bytes where at most ``limit`` are taken: refused."""
    if size > limit:
        return finding("file-too-large", size=size_words(size), limit=size_words(limit))
    return None


def check_container(path: Path, limits: Limits) -> Checked:
    """Look at the bytes and the zip directory only."""
    size = path.stat().st_size
    if size == 0:
        return Checked(finding("file-empty"))
    if refusal := too_large(size, limits.max_bytes):
        return Checked(refusal)
    data = path.read_bytes()
    if data.startswith(OLE2_MAGIC):  # .xls (Excel 97-2003), .et (WPS): read if the reader can
        if ENCRYPTED_STREAM in data:
            return Checked(finding("file-encrypted"))
        return Checked(data=data, macros=b"_VBA_PROJECT" in data.replace(b"\x00", b""))
    for magic, kind in NOT_WORKBOOK_MAGIC:
        if data.startswith(magic):
            return Checked(finding("file-not-workbook", kind=kind))
    for magic, kind in OTHER_ARCHIVE_MAGIC:
        if data.startswith(magic):
            return Checked(finding("file-archive-unsupported", kind=kind))
    if not data.startswith(b"PK"):
        kind = "文本文件（如 CSV）" if b"\x00" not in data[:4096] else "无法识别的文件"
        return Checked(finding("file-not-workbook", kind=kind))
    try:
        return _check_zip(Package(data), limits)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, struct.error, zlib.error):
        return Checked(finding("file-truncated"))


def _check_zip(package: Package, limits: Limits) -> Checked:
    members, data = package.members, package.data
    if len(members) > limits.max_members:
        return Checked(finding("file-zip-bomb", detail=f"含 {len(members)} 个部件"))
    refusal = unzipped_size_refusal(members, limits) or next(filter(None, (member_refusal(m, limits) for m in members)), None)
    if refusal:
        return Checked(refusal)
    names = package.by_name
    ods = "content.xml" in names and data[30:38] == b"mimetype" and ODS_TYPE in data[:200]
    if "xl/workbook.xml" not in names and not ods:
        kind = next((k for prefix, k in ZIP_KINDS if any(n.startswith(prefix) for n in names)), "ZIP 压缩包")
        return Checked(finding("file-not-workbook", kind=kind))
    for member in members:
        if member.filename.endswith((".xml", ".rels", ".vml")) and not _prolog_is_safe(package, member):
            return Checked(finding("file-xml-entity", part=member.filename))
    if ods:  # an OpenDocument spreadsheet (WPS, LibreOffice): macros live under Basic/
        return Checked(data=data, macros=any(name.startswith("Basic/") for name in names), package=package)
    defined = {
        name.decode("utf-8", "replace"): _xml_text(value)
        for name, value in _DEFINED_NAME.findall(package.part("xl/workbook.xml"))
    }
    return Checked(data=data, defined_names=defined, macros="xl/vbaProject.bin" in names, package=package)


def unzipped_size_refusal(members: list[zipfile.ZipInfo], limits: Limits) -> Finding | None:
    """A zip whose members declare more bytes in all than a file may unpack to: refused."""
    total = sum(m.file_size for m in members)
    return finding("file-zip-bomb", detail=f"声明解压后 {size_words(total)}") if total > limits.max_unzipped else None


def member_refusal(member: zipfile.ZipInfo, limits: Limits) -> Finding | None:
    """A zip member that is not unpacked: one that inflates far beyond its stored size, or one
    with a password."""
    if member.file_size > 2**20 and member.file_size > limits.max_ratio * max(member.compress_size, 1):
        return finding("file-zip-bomb", detail=f"{member.filename} 压缩比超过 {limits.max_ratio} 倍")
    if member.flag_bits & 0x1:
        return finding("file-encrypted")
    return None


def _prolog_is_safe(package: Package, member: zipfile.ZipInfo) -> bool:
    """No DOCTYPE or ENTITY before the root element (UTF-8 or UTF-16 alike)."""
    return remembered(_safe_prolog, package.stored(member))


def _safe_prolog(part: Stored) -> bool:
    # A short look finds the root element of almost every part; else look up to the limit
    # (twice the bytes, for UTF-16).
    for size in (1024, 2 * PROLOG_LIMIT):
        raw = unpacked(part, size)
        seen = raw.replace(b"\x00", b"")
        match = _ROOT_START.search(seen)
        if match:
            prolog = seen[: match.start()].upper()
            return b"<!DOCTYPE" not in prolog and b"<!ENTITY" not in prolog
        if len(raw) < size:  # the whole part, without a root element
            return not seen.strip()
    return False


def _xml_text(raw: bytes) -> str:
    """XML text with its entities and character references (``&amp;``, ``&#26410;``) resolved."""
    return html.unescape(raw.decode("utf-8", "replace"))


# ---------------------------------------------------------------------------- the worker


def _init_worker(memory: int, markers: str, then: Callable[[ReadResult], object] | None, kernel: bool) -> None:
    """Start a reader: ``kernel``, the limits are set here (else the pool's Watchdog keeps them)."""
    worker_started()
    if kernel:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # A reader that aborts prints its own backtrace; the clerk's terminal gets the finding instead.
    faulthandler.disable()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    global _MARKER, _THEN, _KERNEL
    _MARKER = os.open(os.path.join(markers, str(os.getpid())), os.O_WRONLY | os.O_CREAT, 0o600)
    _THEN, _KERNEL = then, kernel


_MARKER: int | None = None  # this worker's marker file, kept open: it is rewritten for every file
_THEN: Callable[[ReadResult], object] | None = None
_KERNEL = False  # whether this worker's CPU budget is the kernel's


def _mark(path: str) -> None:
    """Note the file this worker reads ("": none), for the pool to find should the worker die."""
    os.ftruncate(_MARKER, 0)
    os.lseek(_MARKER, 0, os.SEEK_SET)
    os.write(_MARKER, path.encode("utf-8"))


def _cpu_budget(seconds: int) -> None:
    """Allow this process ``seconds`` more CPU time; past it the kernel ends the process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    soft = used + seconds if hard == resource.RLIM_INFINITY else min(used + seconds, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def read_workbook(path: str, wanted: tuple[str, ...], fallback: bool, limits: Limits) -> ReadResult:
    """Check and parse one file (in a worker, which is marked as reading it). Reads the ``wanted``
    sheets that exist; with ``fallback``, every worksheet when one of them is missing (a renamed
    data sheet)."""
    if _MARKER is not None:
        _mark(path)
        if _KERNEL:
            _cpu_budget(limits.cpu_seconds)
    return _read(Path(path), wanted, fallback, limits)


def _read(path: Path, wanted: tuple[str, ...], fallback: bool, limits: Limits) -> ReadResult:
    import python_calamine as calamine

    try:
        checked = check_container(path, limits)
    except OSError as exc:  # gone or unreadable since it was listed
        return _failed(exc)
    if checked.refusal:
        return ReadResult(refusal=checked.refusal)
    notes = [finding("file-macros")] if checked.macros else []
    try:
        book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(checked.data))  # the bytes checked
        try:
            states = {m.name: str(m.visible).rpartition(".")[2].lower() for m in book.sheets_metadata}
            names = [n for n in wanted if n in states]
            if fallback and len(names) < len(wanted):
                names = list(dict.fromkeys([*names, *states]))
            sheets = {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in names}
        finally:
            book.close()
    except calamine.PasswordError:
        return ReadResult(refusal=finding("file-encrypted"))
    except MemoryError:
        return ReadResult(refusal=finding("file-reader-crashed", detail="内存超限"))
    except (calamine.CalamineError, OSError, ValueError) as exc:  # a damaged file, whatever the kind
        if checked.package is None:  # an old format the reader does not know (.et, .doc): the unit can save it anew
            return ReadResult(refusal=finding("file-old-format", kind="旧版 Office/WPS 格式（如 .et、.doc）"))
        return _failed(exc)
    workbook = RawWorkbook(sheets, states, checked.defined_names)
    if checked.package is not None:
        try:
            # The data sheet's (asked for first): the identity sheet holds no answers.
            workbook.percent, workbook.formulas = cell_details(checked.package,
                                                               wanted[:1] if wanted[0] in sheets else list(sheets))
        except (zipfile.BadZipFile, KeyError, ValueError, NotImplementedError, zlib.error, struct.error, MemoryError):
            pass  # not an .xlsx (an .ods) or parts named otherwise: the values stand as read
    return ReadResult(workbook, notes=notes)


_ATTRIBUTE = re.compile(rb'([\w:]+)="([^"]*)"')
_FORMAT_ID = re.compile(rb'\snumFmtId="([^"]*)"')
_SPREADSHEET = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SPREADSHEET_DECLARED = re.compile(rb'xmlns(?::(\w+))?="' + re.escape(_SPREADSHEET) + b'"')
_ANY_PREFIX = b"(?:\\w+:)?"
_LITERAL = re.compile(rb'&quot;.*?&quot;|\\.')  # quoted text and escaped characters of a number format
PERCENT_FORMATS = {9, 10}  # Excel's built-in 0% and 0.00%


def _prefix(xml: bytes) -> bytes:
    """The prefix, as a pattern, of a part's SpreadsheetML elements: the one its namespace is
    declared with in the root element, when it appears nowhere else (none, in what Excel and WPS
    write: then a pattern can start with its ``<c``, which the regular expression engine finds
    fast); else any prefix."""
    root = _ROOT_START.search(xml)
    declared = _SPREADSHEET_DECLARED.search(xml, root.start(), xml.find(b">", root.start())) if root else None
    if declared and xml.count(_SPREADSHEET) == 1:
        return re.escape(declared.group(1) + b":") if declared.group(1) else b""
    return _ANY_PREFIX


@functools.lru_cache(maxsize=256)  # the percent styles of the files read are part of a pattern
def _pattern(template: bytes, prefix: bytes, flags: int = 0) -> re.Pattern:
    """``template`` with its elements' prefix (``P:``) made ``prefix``."""
    return re.compile(template.replace(b"P:", prefix), flags)


def _elements(tag: bytes, xml: bytes, prefix: bytes = _ANY_PREFIX) -> list[dict[bytes, bytes]]:
    """The attributes of every ``<tag …>`` element, whatever their order."""
    return [dict(_ATTRIBUTE.findall(element)) for element in _pattern(b"<P:" + tag + rb"\b[^>]*>", prefix).findall(xml)]


def cell_details(package: Package, names: list[str]) -> tuple[dict, dict]:
    """Percent-formatted cells and formula cells of the sheets ``names`` of an .xlsx file.

    Only the cells that matter are looked at: those of a percent style, those holding a formula.
    """
    members, part = package.by_name, package.part
    targets = remembered(_targets, package.stored(members["xl/_rels/workbook.xml.rels"]))
    styles = package.stored(members["xl/styles.xml"]) if "xl/styles.xml" in members else NO_PART
    percent_styles = remembered(_percent_styles, styles)
    styled = rb'<P:c\s[^>]*?\bs="(?:' + b"|".join(percent_styles) + rb')"[^>]*>' if percent_styles else None
    percent, formulas = {}, {}
    book = part("xl/workbook.xml")
    for entry in _elements(b"sheet", book, _prefix(book)):
        sheet = _xml_text(entry.get(b"name", b""))
        rid = next((value for key, value in entry.items() if key.endswith(b":id")), b"")
        target = targets.get(rid, b"").decode("utf-8").lstrip("/").removeprefix("xl/")
        if sheet not in names or f"xl/{target}" not in members:
            continue
        xml = part(f"xl/{target}")
        prefix = _prefix(xml)
        if styled:
            percent[sheet] = {_place(element) for element in _pattern(styled, prefix).findall(xml)} - {None}
        shared: dict[bytes, str] = {}  # a shared formula's text, by its index, from the cell that holds it
        cell_start, value = _pattern(rb"<P:c\s[^>]*>", prefix), _pattern(rb"<P:v>[^<]", prefix)
        for formula in _pattern(rb"<P:f\b([^>]*?)(?:/>|>(.*?)</P:f>)", prefix, re.S).finditer(xml):
            cell = _enclosing(cell_start, xml, formula.start())
            place = _place(cell) if cell else None
            if place is None:
                continue
            attributes = dict(_ATTRIBUTE.findall(formula.group(1)))
            text = _xml_text(formula.group(2) or b"")
            if attributes.get(b"si") is not None:
                text = shared.setdefault(attributes[b"si"], text) or shared[attributes[b"si"]]
            end = xml.find(b"</", formula.end())
            close = xml.find(b"c>", end) if end >= 0 else len(xml)
            # A saved result: a value, or an empty text result (t="str"); a file written by a program
            # that does not calculate leaves an empty value of no type.
            saved = (value.search(xml, formula.end(), close) is not None
                     or dict(_ATTRIBUTE.findall(cell)).get(b"t") == b"str")
            formulas.setdefault(sheet, {})[place] = (text, saved)
    return percent, formulas


def _targets(relationships: Stored) -> dict[bytes, bytes]:
    """The workbook's relationships: the part each ID names."""
    return {r.get(b"Id"): r.get(b"Target", b"") for r in _elements(b"Relationship", unpacked(relationships))}


NO_PART = Stored(b"", zipfile.ZIP_STORED, 0)


def _percent_styles(part: Stored) -> tuple[bytes, ...]:
    """The cell styles (as a cell's ``s="…"`` names them: their places in cellXfs) that show a
    number as a percentage, by a built-in format or a custom one with ``%`` outside its quotes."""
    styles = unpacked(part)
    prefix = _prefix(styles)
    percent = PERCENT_FORMATS | {int(f[b"numFmtId"]) for f in _elements(b"numFmt", styles, prefix)
                                 if b"%" in _LITERAL.sub(b"", f.get(b"formatCode", b""))}
    # The cell styles (cellXfs), found by their start and then their end: one pattern for both
    # would try the end at every byte between them.
    start = _pattern(rb"<P:cellXfs\b", prefix).search(styles)
    end = _pattern(rb"</P:cellXfs>", prefix).search(styles, start.end()) if start else None
    if end is None:
        return ()
    formats = (_FORMAT_ID.search(xf) for xf in _pattern(rb"<P:xf\b[^>]*>", prefix).findall(styles, start.end(), end.start()))
    return tuple(str(n).encode() for n, number in enumerate(formats)
                 if int(number.group(1) if number else b"0") in percent)


def _enclosing(cell_start: re.Pattern, xml: bytes, formula: int) -> bytes | None:
    """The start tag of the cell a formula element (at ``formula``) is in: a formula is a cell's
    first child, so it is the tag before it, or a few tags back past comments and processing
    instructions; None past the end of another element."""
    at = formula
    for _ in range(_TAGS_BACK):
        at = xml.rfind(b"<", 0, at)
        if at < 0 or xml.startswith(b"</", at):
            return None
        if match := cell_start.match(xml, at):
            return match.group(0)
    return None


_TAGS_BACK = 8


def _place(cell: bytes) -> tuple[int, int] | None:
    reference = dict(_ATTRIBUTE.findall(cell)).get(b"r")
    return _cell_place(reference.decode("ascii")) if reference else None


def _cell_place(reference: str) -> tuple[int, int]:
    """``F7`` -> (6, 5)."""
    letters = reference.rstrip("0123456789")
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - 64
    return int(reference[len(letters):]) - 1, column - 1


def _failed(exc: Exception) -> ReadResult:
    return ReadResult(refusal=finding("file-reader-failed", detail=f"{type(exc).__name__}: {exc}"[:200]))


# ---------------------------------------------------------------------------- the pool

# Files go to the workers in chunks of at most this many: one hand-over per file costs about as
# much as reading a small workbook.
CHUNK_FILES = 16


def _read_chunk(paths: list[str], wanted: tuple[str, ...], fallback: bool,
                limits: Limits) -> list[tuple[str, object]]:
    """Read files one after another in a worker, each result passed through the pool's ``then``."""
    results = []
    for path in paths:
        result = read_workbook(path, wanted, fallback, limits)
        results.append((path, result if _THEN is None else _THEN(result)))
        _mark("")  # the file is done with, judged too: a crash from here on is not its fault
    return results


def read_files(
    paths: Iterable[str | Path],
    wanted: tuple[str, ...],
    limits: Limits = Limits(),
    workers: int | None = None,
    fallback: bool = True,
    then: Callable[[ReadResult], object] | None = None,
    expected: int | None = None,
    scratch: Path | None = None,
    meanwhile: Callable[[], object] = nothing,
) -> Iterator[tuple[str, object]]:
    """Read many files in worker processes, yielding ``(path, result)`` as each is done, in no
    set order; a file that kills its worker gets a refusal.

    A result is a ReadResult, or with ``then``, what ``then`` makes of it: it runs in the
    worker, so a caller that only needs a verdict per file never holds the workbooks.
    ``paths`` may be a generator: files are handed to the workers as it produces them, so the
    caller's own work on the next files (archiving them) overlaps the reading; ``expected``
    (how many it will produce, at most) then sizes the hand-overs. The workers' notes go in a
    temporary folder in ``scratch`` (the system's by default). ``meanwhile()``: the caller's own
    work, done once, when the files are handed over to the first pool (all of them, unless a
    worker died meanwhile), while the workers read: the time the caller would wait.
    When a worker dies, the files it was reading (known from a marker each worker writes) are
    retried one at a time in a pool of their own; the rest go on in a fresh pool.
    """
    if expected is None:
        paths = list(paths)
        expected = len(paths)
    if scratch is not None:
        Path(scratch).mkdir(parents=True, exist_ok=True)
    workers = max(1, min(workers or os.cpu_count() or 1, expected or 1))
    # Chunks small enough that every worker gets several: the last ones finish close together.
    size = max(1, min(CHUNK_FILES, expected // (workers * 4)))
    todo: Iterable[str] = (str(p) for p in paths)
    suspects: list[str] = []
    while True:
        crash = yield from _run_pool(todo, size, wanted, fallback, limits, workers, then, scratch, meanwhile)
        meanwhile = nothing  # done once
        if crash is None:
            break
        unfinished, reading = crash
        crashed = reading or unfinished
        suspects += crashed
        todo = [p for p in unfinished if p not in crashed]
    for path in suspects:
        if (yield from _run_pool([path], 1, wanted, fallback, limits, 1, then, scratch)) is not None:
            refusal = ReadResult(refusal=finding("file-reader-crashed", detail="异常终止（崩溃、超时或内存超限）"))
            yield path, refusal if then is None else then(refusal)


def _run_pool(todo: Iterable[str], size: int, wanted, fallback, limits, workers, then, scratch,
              meanwhile: Callable[[], object] = nothing) -> Generator[tuple[str, object], None, tuple[list[str], list[str]] | None]:
    """Read ``todo`` in a pool, yielding results; returns None when all finished, else (the files
    not finished, the files being read at the crash)."""
    submitted: list[str] = []
    finished: set[str] = set()
    pending = iter(todo)
    with tempfile.TemporaryDirectory(prefix="readers-", dir=scratch) as markers:
        with ProcessPoolExecutor(workers, initializer=_init_worker,
                                 initargs=(limits.worker_memory, markers, then, resource is not None)) as pool, \
                (Watchdog(markers, limits) if resource is None else nullcontext()), \
                cancelling(pool):  # the limits are kept while cancelling
            futures = []
            broken = False
            try:
                while chunk := list(itertools.islice(pending, size)):
                    submitted += chunk
                    futures.append(pool.submit(_read_chunk, chunk, wanted, fallback, limits))
            except BrokenProcessPool:
                broken = True
            meanwhile()
            for future in as_completed(futures):
                try:
                    chunk = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                for path, result in chunk:
                    finished.add(path)
                    yield path, result
        if not broken:
            return None
        reading = [m.read_text(encoding="utf-8") for m in Path(markers).iterdir()]
        unfinished = [p for p in submitted if p not in finished] + list(pending)
        return unfinished, [p for p in reading if p and p not in finished]


class Watchdog:
    """The readers' limits where the kernel does not keep them: several times a second, each
    worker's memory and the CPU time it has spent on the file it reads now (from its marker) are
    looked at, and a worker past a limit is ended, as the kernel would end it; the pool then
    treats the file as one that killed its worker."""

    PERIOD = 0.1  # seconds between looks

    def __init__(self, markers: str, limits: Limits):
        self.markers, self.limits = Path(markers), limits
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True, name="readers-watchdog")

    def __enter__(self) -> "Watchdog":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stopped.set()
        self.thread.join()

    def _watch(self) -> None:
        import psutil

        workers: dict[int, psutil.Process] = {}
        started: dict[int, tuple[str, float]] = {}  # pid -> (file, CPU seconds used before it)
        while not self.stopped.wait(self.PERIOD):
            for marker in self.markers.iterdir():
                try:
                    pid = int(marker.name)
                    reading = marker.read_text(encoding="utf-8")
                    worker = workers.setdefault(pid, psutil.Process(pid))
                    times = worker.cpu_times()
                    used = times.user + times.system
                    if started.get(pid, ("",))[0] != reading:
                        started[pid] = (reading, used)
                    if reading and (used - started[pid][1] > self.limits.cpu_seconds
                                    or worker.memory_info().rss > self.limits.worker_memory):
                        worker.kill()
                except (ValueError, OSError, psutil.Error):  # a worker starting or gone
                    continue
