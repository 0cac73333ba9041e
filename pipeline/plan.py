"""Reading the plan in every form it comes in; roles; stable task IDs; the plan version.

A plan file becomes a grid of cleaned cell texts (merged cells filled in) or, when its tasks are
written as prose, numbered paragraphs. In a grid the header row is found by what its labels mean,
and columns whose labels say nothing are judged by their cells; the rows under it become
categories and tasks. In prose, headings make the categories and each bracketed responsibility
clause ends a task. Nothing here knows about workbooks we write or the ledger.
"""

from __future__ import annotations

import calendar
import contextlib
import csv
import datetime as dt
import functools
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, NamedTuple

from .errors import PlanError
from .text import SENTENCE_END, clean_cell, decode_text, fold, split_outside_brackets
from .units import Registry

ROLES = ("牵头", "负责", "分别负责", "配合")  # strongest first
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
WORKBOOK_FORMATS = (".xlsx", ".xls")
OLD_WORD_FORMATS = (".doc", ".wps")  # read through LibreOffice, converted to .docx
PLAN_FORMATS = (*WORKBOOK_FORMATS, ".docx", *OLD_WORD_FORMATS, ".csv", ".txt")

# Header labels by meaning (folded, bracketed notes dropped), tried in this order: the first
# that matches the whole label gives the column's kind. ``category`` columns are read as the
# requirement when the table has no requirement column.
_LABEL_KINDS = tuple((kind, re.compile(pattern)) for kind, pattern in (
    ("seq", r"序号?|编号|号"),
    ("lead", r"(?:牵头|主责)(?:责任)?(?:单位|部门|科室|处室|领导)?"),
    ("support", r"(?:配合|协办|协助|参与|协同)(?:责任)?(?:单位|部门|科室|处室)?"),
    ("units", r"(?:责任|承办|主办|负责|实施|落实|执行)(?:单位|部门|科室|处室|主体|股室|领导|人|分工)?"),
    ("deadline", r"(?:完成|办结|工作|推进)?(?:时限|时间|期限|时间节点|节点|日期)(?:要求|安排)?|进度安排"),
    ("category", r"(?:工作|主要|重点)?任务(?:类别|名称)?|(?:工作|总体)?目标(?:任务)?|(?:任务|工作)?类别"
                 r"|(?:重点)?领域|项目|重点工作|工作事项"),
    ("requirement", r"(?:具体|工作|主要|任务|推进|实施|落实|重点)?(?:要求|内容|措施|举措)(?:及要求|和要求)?"
                    r"|具体任务|具体工作|事项"),
))
COLUMN_ROLE = {"units": "负责", "lead": "牵头", "support": "配合"}
_HEADER_CHARS = 15  # a header label is short; a longer cell is data
_CN_NUM = "一二三四五六七八九十百零〇"

@dataclass(frozen=True)
class Assignment:
    """One unit's part in a task."""

    code: str
    name: str
    role: str


@dataclass(frozen=True)
class Task:
    """One requirement of the plan, the unit of reporting."""

    id: str
    category_no: int
    category: str
    item_no: int
    requirement: str
    responsibility: str
    deadline: str | None
    deadline_date: str | None
    source_row: int
    units: tuple[Assignment, ...]


@dataclass(frozen=True)
class Plan:
    """A loaded plan: its title, where it came from, its tasks in plan order, and how its file was
    read (``layout``, in words, as ``read_raw`` says; not part of the version)."""

    title: str
    source: str
    tasks: tuple[Task, ...]
    layout: str = ""

    @functools.cached_property
    def version(self) -> str:
        """A content hash: the same tasks and assignments give the same version, whatever the file."""
        content = [
            [t.id, t.category, t.requirement, t.deadline, [[a.code, a.role] for a in t.units]]
            for t in self.tasks
        ]
        digest = hashlib.sha256(json.dumps(content, ensure_ascii=False).encode("utf-8"))
        return digest.hexdigest()[:16]

    @classmethod
    def stored(cls, version: str, **fields) -> "Plan":
        """A plan as the ledger keeps it, known by the version it was stored under: its content is
        not hashed again (a twentieth of a second at 2,000 units, at the start of every command)."""
        plan = cls(**fields)
        plan.__dict__["version"] = version  # where functools.cached_property keeps its value
        return plan

    def to_json(self, source_text: bool = False) -> dict:
        """The ``plan show --json`` document (contract); with ``source_text``, also the plan's
        title, file and layout, and each task's responsibility text as the plan writes it."""
        document: dict = {"plan_version": self.version}
        if source_text:
            document.update(title=self.title, source=self.source, layout=self.layout)
        document["tasks"] = [
            {
                "id": task.id,
                "category": task.category,
                "requirement": task.requirement,
                "deadline": task.deadline,
                "units": [asdict(unit) for unit in task.units],
                **({"responsibility": task.responsibility} if source_text else {}),
            }
            for task in self.tasks
        ]
        return document

    def tasks_of(self, code: str) -> list[tuple[Task, str]]:
        """The tasks a unit takes part in, with its role, in plan order."""
        return self._by_unit.get(code, [])

    @functools.cached_property
    def _by_unit(self) -> dict[str, list[tuple[Task, str]]]:
        by_unit: dict[str, list[tuple[Task, str]]] = {}
        for task in self.tasks:
            for a in task.units:
                by_unit.setdefault(a.code, []).append((task, a.role))
        return by_unit


# ---------------------------------------------------------------------------- reading files


class Grid(NamedTuple):
    """A plan file as rows of cleaned cell text, the lines of text above its table that are not
    rows of it (the paragraphs before a Word table: where such a plan has its title), and its
    paragraphs as (number, text) for a plan written as prose.

    A text export's rows may be short: its merged cells are left out, so the cells that follow
    moved left; ``_aligned`` puts them back once the columns are known.
    """

    rows: list[list[str]]
    above: tuple[str, ...] = ()
    paragraphs: tuple[tuple[int, str], ...] = ()
    layout: Layout | None = None  # its header, when the reader already found it in these rows


def read_grid(path: Path) -> Grid:
    """The plan file as rows of cleaned cell text (merged cells carry their value in every cell),
    or as paragraphs when it has no table.

    Row ``i`` of the grid is row ``i + 1`` of the file as its author sees it (line, table row;
    in a Word plan split into several tables, counted on through them).
    """
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        raise PlanError(
            f"计划表 {path.name} 是 PDF 文件，无法从中读出任务和责任单位。请向发文单位索取 Word 或 Excel "
            "原件，或把任务表复制到 Excel 中另存为 .xlsx 后再加载。"
        )
    if suffix not in PLAN_FORMATS:
        raise PlanError(
            f"计划表 {path.name} 的格式 {suffix or '（无扩展名）'} 不能读取。"
            "请另存为 .xlsx、.xls、.docx、.doc、.csv 或 .txt 文件。"
        )
    if not path.is_file():
        raise PlanError(f"找不到计划表文件：{path}。")
    try:
        if suffix in OLD_WORD_FORMATS:
            with _as_docx(path) as converted:
                return _grid_docx(converted)
        reader = _grid_workbook if suffix in WORKBOOK_FORMATS else {
            ".docx": _grid_docx, ".csv": _grid_csv, ".txt": _grid_text}[suffix]
        return reader(path)
    except PlanError:
        raise
    except Exception as exc:  # a damaged file: any reader error means the same to the clerk
        raise PlanError(f"计划表 {path.name} 无法读取（{type(exc).__name__}: {exc}）。请确认文件完整、未加密。") from exc


def _cell_text(value: object) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_cell(value)


def _grid_workbook(path: Path) -> Grid:
    """An .xlsx or .xls workbook's plan sheet: the first sheet with a plan header, else the first."""
    import python_calamine as calamine

    book = calamine.CalamineWorkbook.from_path(str(path))
    try:
        first = None
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            grid = [[_cell_text(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
            for (first_row, first_col), (last_row, last_col) in sheet.merged_cell_ranges or ():
                value = grid[first_row][first_col] if first_row < len(grid) and first_col < len(grid[first_row]) else ""
                for r in range(first_row, min(last_row + 1, len(grid))):
                    for c in range(first_col, min(last_col + 1, len(grid[r]))):
                        grid[r][c] = value
            if (layout := _find_header(grid)) is not None:
                return Grid(grid, layout=layout)
            first = grid if first is None else first
        return Grid(first or [])
    finally:
        book.close()


def _grid_docx(path: Path) -> Grid:
    """The Word table with the plan header, read on through the tables that continue it, and the
    paragraphs between it and the table before; and every paragraph, numbered, for a plan
    written as prose.

    A plan table split in two (by hand at a page end, or one table per part) goes on in the
    following tables of the same width that repeat the header, or that follow with no text
    between but a 续表 note. Rows are counted on from one table to the next.
    """
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    tables: list[tuple[list[list[str]], tuple[str, ...]]] = []  # (rows, the text that stands before it)
    before: list[str] = []
    paragraphs: list[tuple[int, str]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            # python-docx gives a vertically merged cell's text on every row it spans.
            tables.append(([[clean_cell(cell.text) for cell in row.cells] for row in block.rows], tuple(before)))
            before = []
            continue
        text = clean_cell(block.text)
        paragraphs.append((len(paragraphs) + 1, text))
        if not _CONTINUED_NOTE.fullmatch(fold(block.text)):
            before.append(text)
    for index, (grid, above) in enumerate(tables):
        found = _find_header(grid)
        if found is None:
            continue
        header = [fold(value) for value in grid[found.header]]
        for rows, text_before in tables[index + 1:]:
            repeats_header = any([fold(value) for value in row] == header for row in rows[:3])
            if any(len(row) != len(header) for row in rows) or (text_before and not repeats_header):
                break
            grid = grid + rows
        return Grid(grid, above, tuple(paragraphs))
    return Grid(tables[0][0] if tables else [], (), tuple(paragraphs))


# Nothing, or a note that the table goes on (folded): 续表, (续上表), 续表一, 续表(1), 续表2-1:
_CONTINUED_NOTE = re.compile(rf"(?:\(?续上?表?[{_CN_NUM}\d-]*(?:\([{_CN_NUM}\d-]+\))?\)?[:.。]?)?")
_CONVERT_SECONDS = 180


@contextlib.contextmanager
def _as_docx(path: Path) -> Iterator[Path]:
    """An old Word or WPS document converted to .docx by headless LibreOffice, in a temporary
    folder with a LibreOffice profile of its own (a running LibreOffice, or another conversion,
    would otherwise hold the shared one)."""
    office = _soffice()
    if office is None:
        raise PlanError(
            f"计划表 {path.name} 是旧版 Word/WPS 格式，需要用 LibreOffice 转换后才能读取，本机没有找到 "
            "LibreOffice。请安装 LibreOffice（免费），或在 Word/WPS 中打开该文件，另存为 .docx 后再加载。"
        )
    with tempfile.TemporaryDirectory(prefix="plan-") as name:
        folder = Path(name)
        command = [office, f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless",
                   "--convert-to", "docx", "--outdir", str(folder / "out"), str(path.resolve())]
        # Its own session, so that a conversion that hangs is ended with every process it started.
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) as process:
            try:
                process.wait(timeout=_CONVERT_SECONDS)
            except subprocess.TimeoutExpired:
                _end(process)
        converted = folder / "out" / f"{path.stem}.docx"
        if not converted.is_file():
            raise PlanError(
                f"计划表 {path.name} 无法用 LibreOffice 转换为 .docx。请确认文件完整、未加密，或在 Word/WPS "
                "中打开该文件，另存为 .docx 后再加载。"
            )
        yield converted


def _soffice() -> str | None:
    """LibreOffice's program: on the PATH, or where its Windows installer puts it."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    for variable in ("ProgramFiles", "ProgramFiles(x86)"):
        program = Path(os.environ.get(variable) or "/nonexistent") / "LibreOffice" / "program" / "soffice.exe"
        if program.is_file():
            return str(program)
    return None


def _end(process: subprocess.Popen) -> None:
    """End a process and, where the system allows, the processes of its session."""
    if hasattr(os, "killpg"):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.kill()
    process.wait()


def _decode(path: Path) -> str:
    text = decode_text(path.read_bytes())
    if text is not None:
        return text
    raise PlanError(f"计划表 {path.name} 的文字编码无法识别。请另存为 UTF-8 编码。")


def _grid_csv(path: Path) -> Grid:
    text = _decode(path)
    # Read as one stream: a quoted cell may hold line breaks (a cell typed on several lines).
    return Grid([[clean_cell(cell) for cell in row] for row in csv.reader(io.StringIO(text, newline=""))])


_RULE_LINE = re.compile(r"[\s|:：\-—=+]*")  # a ruled line between table rows (|---|---|)


def _grid_text(path: Path) -> Grid:
    """Text: pipe-separated, copied out of a document table; or, without any ``|``, prose.

    A merged cell is written only on the first row of its group, and the line may end in empty
    cells: trailing empty cells are dropped, and the row is aligned once the columns are known.
    """
    lines = _decode(path).splitlines()
    if not any("|" in line for line in lines):
        return Grid([], (), tuple((number, clean_cell(line)) for number, line in enumerate(lines, start=1)))
    rows = []
    for line in lines:
        cells = [] if _RULE_LINE.fullmatch(line) else [clean_cell(cell) for cell in line.split("|")]
        while cells and not cells[-1]:
            cells.pop()
        rows.append(cells)
    return Grid(rows)


# ---------------------------------------------------------------------------- what cells hold


_CATEGORY_PREFIX = re.compile(
    rf"^\s*(?:第[{_CN_NUM}]+[部分项类]?[、.．:：\s]*|[(（][{_CN_NUM}]+[)）]\s*|[{_CN_NUM}]+(?:\s*[、.．]|\s)\s*)"
)
_ITEM_PREFIX = re.compile(r"^\s*(?:[(（]\d{1,3}[)）]|\d{1,3}\s*[.、．)）](?!\d))\s*")
_NOTE_PREFIX = re.compile(r"^(?:注|备注|说明|附件|资料来源|来源|抄送)")
_SEQ = re.compile(rf"\(?[\d{_CN_NUM}]{{1,3}}[).、]?")  # a 序号 cell (folded): 3, 一, (一), 3.
# What a unit's name ends with (folded, a bracketed note after it dropped): 局, 委, 办公室, 人民政府 …
_UNIT_END = re.compile(r"(?:局|委|办|室|科|处|厅|部|院|会|所|队|站|行|社|县|中心|政府|单位|部门|公司|集团|小组)$")
_TRAILING_NOTE = re.compile(r"(?:\([^()]*\))+$")
_DEADLINE_WORDS = re.compile(r"每(?:月|季|年|周|半年)|持续|长期|常态|年底|年末|年内|季度|半年|月底|月末|月\d+日|前$")
_UNIT_CHARS = 30
_DEADLINE_CHARS = 25
_ANY_YEAR = 2000  # to ask parse_deadline whether a text names a date at all


def _is_units(text: str) -> bool:
    """Whether a cell reads as a list of units with their roles (``办公室牵头,各科室配合``)."""
    folded = fold(text).rstrip("。")
    if not folded or "。" in folded:
        return False
    names = [name for name, _ in parse_roles(folded)]
    return bool(names) and all(
        len(name) <= _UNIT_CHARS
        and (_UNIT_END.search(_TRAILING_NOTE.sub("", name)) or (name.startswith("各") and len(name) <= 12))
        for name in names
    )


def _is_deadline(text: str) -> bool:
    """Whether a cell reads as a deadline: short, no sentence, a date or a time word in it."""
    folded = fold(text)
    if len(folded) > _DEADLINE_CHARS or re.search(r"[,;。]", folded) or _ITEM_PREFIX.match(folded):
        return False
    return bool(parse_deadline(folded, _ANY_YEAR) or _DEADLINE_WORDS.search(folded))


@functools.lru_cache(maxsize=4096)  # a merged cell's text recurs down its rows, and every shift is tried
def _cell_kind(text: str) -> str:
    """What a cell holds by its content: units, deadline, seq, text, or '' when empty."""
    if not text:
        return ""
    if _SEQ.fullmatch(fold(text)):
        return "seq"
    if _is_deadline(text):
        return "deadline"
    return "units" if _is_units(text) else "text"


def _label_kind(label: str) -> str | None:
    folded = _TRAILING_NOTE.sub("", fold(label))
    if len(folded) > _HEADER_CHARS:
        return None
    return next((kind for kind, pattern in _LABEL_KINDS if pattern.fullmatch(folded)), None)


# ---------------------------------------------------------------------------- table layout


@dataclass(frozen=True)
class Layout:
    """Which column holds what, found from the header row and, where its labels say nothing,
    from the cells under it. Columns are 0-based; ``categories`` outer level first."""

    header: int  # the header's row in the grid
    width: int
    requirement: int
    categories: tuple[int, ...]
    units: tuple[tuple[int, str], ...]  # (column, the role of names written without one)
    seq: int | None
    deadline: int | None
    inferred: frozenset[int]  # columns judged by their cells

    def kind(self, col: int) -> str | None:
        """The kind of cell expected in a column, for aligning a short row."""
        if col == self.requirement:
            return "requirement"
        if col in self.categories:
            return "category"
        if any(col == unit_col for unit_col, _ in self.units):
            return "units"
        return {self.seq: "seq", self.deadline: "deadline"}.get(col)


_CONTENT_SHARE = 0.6  # of a column's cells that must read alike for it to be judged by them
_TEXT_CHARS = 6  # mean length of a column of task text


def _find_header(grid: list[list[str]]) -> Layout | None:
    """The first row that reads as the plan's header: its labels by meaning, and columns with no
    known label judged by their cells. A row with known labels is preferred; one with none is
    taken only when none of its own cells reads as data."""
    for labelled in (True, False):
        for index, row in enumerate(grid[:30]):
            cells = _distinct(row)
            if len(cells) < 2 or any(len(fold(cell)) > _HEADER_CHARS for cell in cells):
                continue
            kinds = {col: _label_kind(value) for col, value in enumerate(row) if value}
            if labelled != any(kinds.values()):
                continue
            if not labelled and any(_cell_kind(cell) != "text" for cell in cells):
                continue
            layout = _layout(index, row, kinds, grid[index + 1:])
            if layout is not None:
                return layout
    return None


def _layout(index: int, header: list[str], labelled: dict[int, str | None], below: list[list[str]]) -> Layout | None:
    """The layout under a header row whose labels gave ``labelled``, or None when it has no text
    column or no unit column. A column without a known label takes the kind most of its cells
    read as; the requirement is the column so labelled, else the text column of the longest
    cells; the (at most two) text columns before it are the category levels."""
    width = len(header)
    rows = [row for row in below if len(row) == width and len(_distinct(row)) > 1]  # whole task rows
    kinds = {col: kind for col, kind in labelled.items() if kind}
    lengths = {}
    for col in range(width):
        values = [row[col] for row in rows if row[col]]
        lengths[col] = sum(map(len, values)) / len(values) if values else 0
        if col in kinds or len(values) < 2:
            continue
        counts = Counter(_cell_kind(value) for value in values)
        kind, count = counts.most_common(1)[0]
        if kind == "text" and lengths[col] >= _TEXT_CHARS:
            kinds[col] = "text"
        elif kind in ("units", "deadline", "seq") and count >= _CONTENT_SHARE * len(values):
            kinds[col] = kind
    texts = [col for col, kind in sorted(kinds.items()) if kind in ("category", "requirement", "text")]
    units = tuple((col, COLUMN_ROLE[kind]) for col, kind in sorted(kinds.items()) if kind in COLUMN_ROLE)
    if not texts or not units:
        return None
    named = [col for col in texts if kinds[col] == "requirement"]
    requirement = named[0] if named else max(reversed(texts), key=lambda col: lengths[col])
    first = {kind: col for col, kind in sorted(kinds.items(), reverse=True)}  # the leftmost of each kind
    return Layout(
        header=index,
        width=width,
        requirement=requirement,
        categories=tuple(col for col in texts if col < requirement)[-2:],
        units=units,
        seq=first.get("seq"),
        deadline=first.get("deadline"),
        inferred=frozenset(col for col in kinds if not labelled.get(col)),
    )


def _aligned(row: list[str], layout: Layout) -> list[str]:
    """A short row of a text export put back under its columns: the cells that moved left where
    merged cells were left out go where their content fits best (further right on a tie)."""
    missing = layout.width - len(row)
    if missing <= 0:
        return row
    best = max(range(missing + 1), key=lambda shift: (
        sum(_fit(cell, layout.kind(shift + col)) for col, cell in enumerate(row)), shift))
    return [""] * best + row + [""] * (missing - best)


def _fit(cell: str, kind: str | None) -> int:
    """How well a cell's content suits a column kind: positive fits, negative does not."""
    found = _cell_kind(cell)
    if not found or kind is None:
        return 0
    if kind in ("units", "deadline", "seq"):
        return 2 if found == kind else -2
    if found != "text":
        return -2
    headed = bool(_CATEGORY_PREFIX.match(cell))
    numbered = bool(_ITEM_PREFIX.match(cell))
    if kind == "category":
        return 1 + 2 * headed - 2 * numbered
    return 1 + numbered - headed


# ---------------------------------------------------------------------------- categories


def strip_category_prefix(text: str) -> str:
    return _CATEGORY_PREFIX.sub("", text, count=1).strip()


def strip_item_prefix(text: str) -> str:
    return _ITEM_PREFIX.sub("", text, count=1).strip()


def _category_name(text: str) -> str:
    """A category as shown: its marker and a closing full stop dropped (``一、做好公开。`` -> 做好公开)."""
    return strip_category_prefix(text).rstrip("。.;；:：").strip()


_HEADING_STYLES = (
    ("第一", re.compile(rf"第[{_CN_NUM}]+")),
    ("(一)", re.compile(rf"[(（][{_CN_NUM}]+[)）]")),
    ("一、", re.compile(rf"[{_CN_NUM}]+")),
)


class Headings:
    """The category headings met so far, by level: a heading's level is the order in which its
    marker style (``一、``, ``（一）``, ``第一部分``, none) first appeared in the plan, so that a
    plan of ``一、`` and ``（一）`` headings has two levels, whatever styles it uses."""

    def __init__(self):
        self.styles: list[str] = []
        self.names: list[str] = []

    def add(self, text: str) -> None:
        style = next((name for name, pattern in _HEADING_STYLES if pattern.match(text.strip())), "")
        if style not in self.styles:
            self.styles.append(style)
        level = self.styles.index(style)
        self.names = self.names[:level] + [""] * (level - len(self.names)) + [_category_name(text)]


def _category(*levels: str) -> str:
    """A task's category: its levels, outer first, joined by `` · ``."""
    return " · ".join(level for level in levels if level)


def _is_category_row(row: list[str], requirement: str, seq: str) -> bool:
    """Whether a row without units heads a category, rather than being a task that lacks them.

    It does when its requirement cell is empty (the category is in another column), merged
    across the row, numbered like a category (``一、``, ``(一)``), or its 序号 is ``一``.
    """
    return (
        not requirement
        or row.count(requirement) > 1
        or bool(_CATEGORY_PREFIX.match(requirement))
        or bool(seq and set(seq) <= set(_CN_NUM))
    )


# ---------------------------------------------------------------------------- raw tasks


@dataclass
class RawTask:
    """A task as the plan writes it, before its units are looked up in the registry.

    ``category`` is its headings' names, outer level first, joined by `` · ``; ``responsibility``
    the texts its units are read from (the cells of its unit columns; in prose, the bracketed
    clause), each with the role of names written without one.
    """

    row: int
    category: str
    requirement: str
    responsibility: list[tuple[str, str]]  # (text, default role) per unit column
    deadline: str


@dataclass
class RawPlan:
    """A plan file as read, before any unit is looked up: what ``units draft`` starts from and
    ``read_plan`` resolves. ``layout`` says in words how the file was read."""

    title: str
    layout: str
    tasks: list[RawTask]
    problems: list[str]  # what keeps the plan from loading, by line
    warnings: list[str] = field(default_factory=list)  # what loads but should be checked


def read_raw(path: Path) -> RawPlan:
    """The tasks of a plan file as written, with its title and layout; no registry needed.

    A table with a plan header is read as a table; a file whose paragraphs end in bracketed
    responsibility clauses, as prose; a table whose header is not found, as neither.
    """
    path = Path(path)
    grid = read_grid(path)
    layout = grid.layout or _find_header(grid.rows)
    if layout is not None:
        raw = _table_plan(grid, layout)
    elif any(_clauses(text) for _, text in grid.paragraphs):
        raw = _prose_plan(grid.paragraphs)
    elif grid.rows:
        raise PlanError(
            f"计划表 {path.name} 中找不到表头行。表头应含“工作任务”或“具体要求”，以及“责任单位”"
            "（或“牵头单位”“配合单位”）。"
        )
    else:
        raise PlanError(
            f"计划表 {path.name} 中既没有任务表格，也没有在括号中写明责任单位的任务段落（如“……。（市财政局负责落实）”）。"
            "请确认文件内容，或把任务整理成表格。"
        )
    for task in raw.tasks:
        for text, _ in task.responsibility:
            if _read_roles(text, "负责")[1]:
                raw.warnings.append(
                    f"第{task.row}行：责任单位“{text}”用“等”列举，名单可能不全，只读入了写出的单位。"
                    "请核对，必要时在计划表中写全。"
                )
    return raw


def _levels(tasks: list[RawTask]) -> str:
    depth = max((len(task.category.split(" · ")) for task in tasks if task.category), default=0)
    return {0: "无类别", 1: "一级类别", 2: "两级类别"}.get(depth, f"{depth}级类别")


def _table_plan(plan_grid: Grid, layout: Layout) -> RawPlan:
    grid = plan_grid.rows
    header_row = grid[layout.header]
    title = _title([*plan_grid.above, *(text for row in grid[:layout.header] for text in _distinct(row))])
    header_key = [fold(v) for v in header_row]
    problems: list[str] = []
    tasks: list[RawTask] = []
    headings = Headings()
    columns = [""] * len(layout.categories)  # the category columns' current values
    shifted = 0

    for index in range(layout.header + 1, len(grid)):
        line = index + 1
        if not _distinct(grid[index]) or [fold(v) for v in grid[index]] == header_key:
            continue  # blank, or the header repeated on a new page
        row = _aligned(grid[index], layout)
        shifted += row is not grid[index]
        texts = _distinct(row)
        if _NOTE_PREFIX.match(texts[0]):
            continue
        if len(texts) == 1 and row.count(texts[0]) == len(row) > 1:  # merged across: a heading
            headings.add(texts[0])
            columns = [""] * len(columns)
            continue
        requirement = row[layout.requirement]
        # A cell merged over several columns repeats its text in the unit columns.
        spanning = {requirement, *(row[col] for col in layout.categories)}
        unit_texts = [(row[col], role) for col, role in layout.units if row[col] and row[col] not in spanning]
        for level, col in enumerate(layout.categories):
            if row[col] and row[col] != columns[level]:
                columns[level:] = [row[col]] + [""] * (len(columns) - level - 1)
        if not unit_texts:
            seq = row[layout.seq] if layout.seq is not None else ""
            if _is_category_row(row, requirement, seq):
                if not any(row[col] for col in layout.categories):
                    headings.add(" ".join(texts))
                continue
            problems.append(f"第{line}行：任务“{_short(requirement)}”没有填写责任单位。")
            continue
        if not requirement:
            requirement = next((value for value in reversed(columns) if value), "")
        if not requirement:
            problems.append(f"第{line}行：有责任单位但没有任务内容。请补上具体要求。")
            continue
        category = _category(*headings.names, *map(_category_name, columns))
        deadline = row[layout.deadline] if layout.deadline is not None else ""
        tasks.append(RawTask(line, category, requirement, unit_texts, deadline))
    labels = "、".join(
        f"{header_row[col]}（按内容认作{_KIND_NAMES[layout.kind(col)]}）" if col in layout.inferred else header_row[col]
        for col in range(layout.width) if layout.kind(col) and (header_row[col] or col in layout.inferred)
    )
    described = f"表格：表头在第{layout.header + 1}行，列：{labels}；{_levels(tasks)}"
    if shifted:
        described += f"；{shifted} 行因合并单元格左移，已按内容对齐"
    return RawPlan(title, described, tasks, problems)


_KIND_NAMES = {"requirement": "具体要求", "category": "类别", "units": "责任单位", "seq": "序号", "deadline": "完成时限"}


# A bracketed clause that names who does a task (folded): …负责, …牵头落实, …分别负责落实, …配合.
_RESPONSIBILITY = re.compile(r".*(?:负责|牵头|配合|协助|参与|会同|承办|主办).*")


def _clauses(text: str) -> list[tuple[int, int]]:
    """The spans of a paragraph's bracketed responsibility clauses, brackets included."""
    spans, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char in "(（":
            depth += 1
            start = position if depth == 1 else start
        elif char in ")）" and depth:
            depth -= 1
            if not depth and _RESPONSIBILITY.fullmatch(fold(text[start + 1:position])):
                spans.append((start, position + 1))
    return spans


def _prose_plan(paragraphs: tuple[tuple[int, str], ...]) -> RawPlan:
    """Work points written as prose: headings (``一、…``, ``（一）…``, alone or as a paragraph's
    first sentence) make the categories; each task is the text up to a bracketed clause naming
    its units, so a paragraph with several clauses is several tasks. A deadline written in the
    clause (``（市财政局负责，6月底前完成）``) is the task's."""
    headings = Headings()
    tasks: list[RawTask] = []
    problems: list[str] = []
    warnings: list[str] = []
    preamble: list[str] = []
    for number, text in paragraphs:
        spans = _clauses(text)
        first = spans[0][0] if spans else len(text)
        end = next((i for i, char in enumerate(text[:first]) if char in SENTENCE_END + ":："), None)
        # A heading is marked (一、, （一）) and ends before the first clause; its paragraph's
        # first sentence when tasks follow in the same paragraph.
        heading = bool(_CATEGORY_PREFIX.match(text)) and (not spans or end is not None)
        if heading:
            headings.add(text[:end])
        position = end + 1 if heading and spans else 0
        if not spans:
            if not heading and not tasks and not headings.names:
                preamble.append(text)
            elif not heading and tasks and text and not _NOTE_PREFIX.match(text):
                warnings.append(f"第{number}行：“{_short(text)}”没有在括号中写明责任单位，未作为任务读入。请核对。")
            continue
        for start, stop in spans:
            requirement = text[position:start].strip().lstrip("。；;，,、 ").strip()
            clause = text[start + 1:stop - 1].strip()
            parts = split_outside_brackets(clause, "，,；;")
            dated = [_is_deadline(part) for part in parts]
            deadline = "，".join(part for part, is_date in zip(parts, dated) if is_date)
            units = "，".join(part for part, is_date in zip(parts, dated) if not is_date) if deadline else clause
            position = stop
            if requirement:
                tasks.append(RawTask(number, _category(*headings.names), requirement, [(units, "负责")], deadline))
            elif tasks and tasks[-1].row == number:  # a second clause right after the first
                tasks[-1].responsibility.append((units, "负责"))
            else:
                problems.append(f"第{number}行：括号中的责任单位“{clause}”前面没有任务内容。")
        rest = text[position:].strip().lstrip("。；;，,、 ").strip()
        if rest:
            warnings.append(f"第{number}行：“{_short(rest)}”后面没有在括号中写明责任单位，未作为任务读入。请核对。")
    described = f"文字：按括号中的责任单位分条，共 {len(tasks)} 条；{_levels(tasks)}"
    return RawPlan(_title(preamble), described, tasks, problems, warnings)


# A title is a short line with Chinese in it; a note (附件1, 注：…), a sentence (with a colon,
# a semicolon or a full stop) or a line wholly in brackets (（2018年3月印发）) is none (folded text).
_TITLE_CHARS = 60
_NOT_TITLE = re.compile(r"\(.*\)|.*[:;。,].*")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _title(lines: list[str]) -> str:
    """The plan's title: of the lines above its table (or its first heading), the nearest one that
    reads as a title; '' when none does."""
    for line in reversed(lines):
        folded = fold(line)
        if (len(line) <= _TITLE_CHARS and _CHINESE.search(line) and not _NOTE_PREFIX.match(folded)
                and not _NOT_TITLE.fullmatch(folded)):
            return line
    return ""


def _distinct(row: list[str]) -> list[str]:
    seen: list[str] = []
    for value in row:
        if value and value not in seen:
            seen.append(value)
    return seen


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# ---------------------------------------------------------------------------- roles


# The role words that close a clause (folded): 分别/共同 before them, and what is done after them
# (牵头落实, 分别负责落实, 分别牵头, 配合实施). 分别牵头: each leads its own part.
_ROLE_END = re.compile(r"(分别|共同)?(牵头负责|牵头|负责|配合|协助|参与)(?:落实|实施|推进|完成|办理)?$")
_ACTION_END = re.compile(r"(?:落实|实施|推进|完成|办理)$")  # 会同B、C落实: no role word at the end
_SUPPORT_START = re.compile(r"^(?:会同|协助|参与|配合|协同)")  # 会同B、C: B and C support
_WORD_ROLE = {"牵头负责": "牵头", "牵头": "牵头", "负责": "负责", "分别负责": "分别负责",
              "配合": "配合", "协助": "配合", "参与": "配合"}
# A role written in brackets after a name (folded text): 市财政局(牵头), 市教育局(配合单位).
_BRACKETED_ROLE = re.compile(r"(.+?)\((" + "|".join(_WORD_ROLE) + r")(?:单位|部门)?\)")
# What stands around the names of a clause: 由 before; 等 (the list goes on), 按职责分工, 共同 after.
_CLAUSE_TAIL = re.compile(r"(等(?:有关)?(?:单位|部门)?)?(?:按照?职责(?:分工)?|共同)*$")


def parse_roles(text: str, default_role: str = "负责") -> list[tuple[str, str]]:
    """Split a responsibility text into (name, role) pairs.

    Clauses are separated by commas; a clause ending in a role word gives that role to its
    names and to those of the clauses before it that had none (``A牵头,B,C负责``: A 牵头,
    B and C 负责). The role word may be followed by what is done (``A牵头落实``, ``A、B分别负责
    落实``); ``分别牵头`` makes each a lead. Names after 会同/协助/参与/配合 support
    (``A牵头，会同B、C落实``: B and C 配合; ``A会同B负责``: A 牵头, B 配合). A role in brackets
    after a name is that name's own (``A(牵头)、B``: A 牵头). Names left without a role word take
    ``default_role`` (the column's).
    """
    return _read_roles(text, default_role)[0]


def _read_roles(text: str, default_role: str) -> tuple[list[tuple[str, str]], bool]:
    """``parse_roles``, and whether a list of names ends in 等 (there may be more than written)."""
    pairs: list[tuple[str, str | None]] = []  # in the order written; None: a role still to come
    more = False
    for clause in split_outside_brackets(fold(text), ",;。"):
        role = None
        end = _ROLE_END.search(clause)
        if end:
            clause, role = clause[:end.start()], _WORD_ROLE["分别负责" if end.group(1) == "分别" and
                                                            end.group(2) == "负责" else end.group(2)]
        else:
            clause = _ACTION_END.sub("", clause)
        start = _SUPPORT_START.match(clause)
        own = "配合" if start else None
        clause = clause[start.end():] if start else clause.removeprefix("由")
        tail = _CLAUSE_TAIL.search(clause)
        more |= bool(tail.group(1))
        clause = clause[:tail.start()]
        leads, joined, supporters = clause.partition("会同")
        for names, name_role in ((leads, "牵头" if joined else own), (supporters, "配合")):
            for name in split_outside_brackets(names, "、"):
                marked = _BRACKETED_ROLE.fullmatch(name)  # 市财政局(牵头): the role is the unit's own
                pairs.append((marked.group(1), _WORD_ROLE[marked.group(2)]) if marked else (name, name_role))
        if role:
            pairs = [(name, own_role or role) for name, own_role in pairs]
    return [(name, own_role or default_role) for name, own_role in pairs], more


# ---------------------------------------------------------------------------- deadlines


def parse_deadline(text: str, year: int | None = None) -> str | None:
    """The last day a deadline text allows, as ISO date, or None when it names no date.

    ``2019年6月底前`` -> 2019-06-30, ``2019年9月30日`` -> 2019-09-30, ``2019-08-31``,
    ``年底前``/``年内`` -> the plan year's 31 December; ``每季度末``, ``持续推进`` -> None.
    """
    folded = fold(text)
    if not folded or re.search(r"每|持续|长期|常态|定期|随时|及时", folded):
        return None
    match = re.search(r"(\d{4})[-/.年](\d{1,2})(?![\d季])(?:[-/.月](\d{1,2})日?)?", folded)
    month_only = re.search(r"(?<!\d)(\d{1,2})月(?:(\d{1,2})日)?", folded)
    year_match = re.search(r"(\d{4})年", folded)
    y = int(year_match.group(1)) if year_match else year
    try:
        if match:
            y, m = int(match.group(1)), int(match.group(2))
            return _day(y, m, match.group(3))
        if month_only and y:
            return _day(y, int(month_only.group(1)), month_only.group(2))
        if y and re.search(r"上半年", folded):
            return dt.date(y, 6, 30).isoformat()
        quarter = re.search(r"第?([一二三四1-4])季度", folded)
        if y and quarter:
            q = "一二三四".find(quarter.group(1)) + 1 or int(quarter.group(1))
            return _day(y, q * 3, None)
        if y and re.search(r"年底|年末|年内|全年|下半年|今年", folded):
            return dt.date(y, 12, 31).isoformat()
    except ValueError:
        return None
    return None


def _day(year: int, month: int, day: str | None) -> str:
    """The given day of the month, or its last; ValueError when there is no such date."""
    return dt.date(year, month, int(day) if day else calendar.monthrange(year, month)[1]).isoformat()


# ---------------------------------------------------------------------------- the plan


def read_plan(path: Path, registry: Registry, year: int | None = None) -> Plan:
    """Read a plan file, resolve every unit and group; raise PlanError listing every problem.

    The plan's title is its title row (the line above its table), never its file name; '' when
    it has none.
    """
    path = Path(path)
    return resolve_plan(read_raw(path), path.name, registry, year)


def resolve_plan(raw_plan: RawPlan, source: str, registry: Registry, year: int | None = None) -> Plan:
    """The plan of a file read by ``read_raw`` (named ``source``), every unit and group resolved;
    PlanError listing every problem. Task IDs number the categories in the order they first
    appear, and the tasks within each."""
    problems = list(raw_plan.problems)
    if not raw_plan.tasks and not problems:
        problems.append("表头下面没有任何任务行。")
    category_numbers: dict[str, int] = {}
    item_counts: dict[int, int] = {}
    tasks = []
    for raw in raw_plan.tasks:
        category = raw.category or "工作任务"
        category_no = category_numbers.setdefault(category, len(category_numbers) + 1)
        item_no = item_counts[category_no] = item_counts.get(category_no, 0) + 1
        units = _assign(raw, registry, problems)
        tasks.append(
            Task(
                id=f"{category_no}-{item_no}",
                category=category,
                category_no=category_no,
                item_no=item_no,
                requirement=strip_item_prefix(raw.requirement),
                responsibility="；".join(text for text, _ in raw.responsibility),
                deadline=raw.deadline or None,
                deadline_date=parse_deadline(raw.deadline, year) if raw.deadline else None,
                source_row=raw.row,
                units=units,
            )
        )
    if problems:
        raise PlanError(f"计划表 {source} 有 {len(problems)} 处问题，未加载：", problems)
    return Plan(title=raw_plan.title, source=source, tasks=tuple(tasks), layout=raw_plan.layout)


def _assign(raw: RawTask, registry: Registry, problems: list[str]) -> tuple[Assignment, ...]:
    order = {unit.code: index for index, unit in enumerate(registry.units)}
    roles: dict[str, str] = {}
    names: dict[str, str] = {}
    for text, default_role in raw.responsibility:
        for name, role in parse_roles(text, default_role):
            units = registry.resolve(name)
            if units is None:
                close = registry.suggest(name)
                guess = f"您是不是指{'或'.join(f'“{c}”' for c in close)}？" if close else ""
                problems.append(
                    f"第{raw.row}行：单位名录中没有“{name}”（原文：{text}）。{guess}"
                    "请在单位名录中补充该单位、别名或分组的引用写法，或改正计划表中的写法。"
                )
                continue
            if not units:
                problems.append(f"第{raw.row}行：分组“{name}”在单位名录中没有成员单位。请在单位名录中为单位标上该分组。")
            for unit in units:
                names[unit.code] = unit.name
                if unit.code not in roles or ROLE_RANK[role] < ROLE_RANK[roles[unit.code]]:
                    roles[unit.code] = role
    ordered = sorted(roles, key=lambda code: (ROLE_RANK[roles[code]], order[code]))
    return tuple(Assignment(code, names[code], roles[code]) for code in ordered)
