"""Reading the plan table in every layout it comes in; roles; stable task IDs; the plan version.

A plan file becomes a grid of cleaned cell texts (merged cells filled in), the header row is
found by its labels, and the rows under it become categories and tasks. Nothing here knows
about workbooks we write or the ledger.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import functools
import hashlib
import io
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

from .errors import PlanError
from .text import clean_cell, decode_text, fold, split_outside_brackets
from .units import Registry

ROLES = ("牵头", "负责", "分别负责", "配合")  # strongest first
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
PLAN_FORMATS = (".xlsx", ".docx", ".csv", ".txt")

# Header labels by column kind, folded. The first kind found in a cell wins.
HEADER_LABELS = {
    "seq": ("序号", "编号"),
    "category": ("工作任务", "主要任务", "重点任务", "任务类别", "工作类别", "类别", "任务"),
    "requirement": ("具体要求", "工作要求", "任务内容", "具体任务", "工作内容", "主要内容", "具体措施"),
    "units": ("责任单位", "责任部门", "承办单位"),
    "lead": ("牵头单位", "牵头部门"),
    "support": ("配合单位", "协办单位", "参与单位", "配合部门"),
    "deadline": ("完成时限", "时限", "完成时间", "时间要求", "完成期限", "时限要求"),
}
COLUMN_ROLE = {"units": "负责", "lead": "牵头", "support": "配合"}

# Role words that close a clause of the responsibility text, longest first.
_ROLE_SUFFIXES = (
    ("分别负责", "分别负责"),
    ("牵头负责", "牵头"),
    ("共同负责", "负责"),
    ("负责", "负责"),
    ("牵头", "牵头"),
    ("配合", "配合"),
    ("协助", "配合"),
    ("参与", "配合"),
)
_SUFFIX_ROLE = dict(_ROLE_SUFFIXES)
# A role written in brackets after a name (folded text): 市财政局(牵头), 市教育局(配合单位).
_BRACKETED_ROLE = re.compile(r"(.+?)\((" + "|".join(_SUFFIX_ROLE) + r")(?:单位|部门)?\)")
_CLAUSE_FILLER = re.compile(r"^(?:由)|(?:按职责分工|按照职责分工|按职责|按照职责|共同|等)+$")
_CN_NUM = "一二三四五六七八九十百零〇"
_CATEGORY_PREFIX = re.compile(
    rf"^\s*(?:第[{_CN_NUM}]+[部分项类]?[、.．:：\s]*|[(（][{_CN_NUM}]+[)）]\s*|[{_CN_NUM}]+(?:\s*[、.．]|\s)\s*)"
)
_ITEM_PREFIX = re.compile(r"^\s*(?:[(（]\d{1,3}[)）]|\d{1,3}\s*[.、．)）](?!\d))\s*")
_NOTE_PREFIX = re.compile(r"^(?:注|备注|说明|附件|资料来源|来源|抄送)")


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


# ---------------------------------------------------------------------------- reading grids


class Grid(NamedTuple):
    """A plan file as rows of cleaned cell text, and the lines of text above its table that are
    not rows of it (the paragraphs before a Word table: where such a plan has its title)."""

    rows: list[list[str]]
    above: tuple[str, ...] = ()


def read_grid(path: Path) -> Grid:
    """The plan file as rows of cleaned cell text; merged cells carry their value in every cell.

    Row ``i`` of the grid is row ``i + 1`` of the file as its author sees it (line, table row;
    in a Word plan split into several tables, counted on through them).
    """
    suffix = path.suffix.lower()
    if suffix not in PLAN_FORMATS:
        raise PlanError(
            f"计划表 {path.name} 的格式 {suffix or '（无扩展名）'} 不能读取。"
            "请另存为 .xlsx、.docx、.csv 或以“|”分隔的 .txt 文件。"
        )
    if not path.is_file():
        raise PlanError(f"找不到计划表文件：{path}。")
    try:
        return {".xlsx": _grid_xlsx, ".docx": _grid_docx, ".csv": _grid_csv, ".txt": _grid_text}[
            suffix
        ](path)
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


def _grid_xlsx(path: Path) -> Grid:
    import openpyxl

    workbook = openpyxl.load_workbook(path, data_only=True)
    try:
        sheet = _plan_sheet(workbook)
        grid = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        for merged in sheet.merged_cells.ranges:
            value = grid[merged.min_row - 1][merged.min_col - 1]
            for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
                for c in range(merged.min_col - 1, min(merged.max_col, len(grid[r]))):
                    grid[r][c] = value
        return Grid(grid)
    finally:
        workbook.close()


def _plan_sheet(workbook):
    """The first sheet that has a plan header row; the first sheet otherwise."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(max_row=15, values_only=True):
            if _header_columns([_cell_text(v) for v in row]):
                return sheet
    return workbook.worksheets[0]


def _grid_docx(path: Path) -> Grid:
    """The Word table with the plan header, read on through the tables that continue it, and the
    paragraphs between it and the table before.

    A plan table split in two (by hand at a page end, or one table per part) goes on in the
    following tables of the same width that repeat the header, or that follow with no text
    between but a 续表 note. Rows are counted on from one table to the next.
    """
    import docx
    from docx.table import Table

    document = docx.Document(str(path))
    tables: list[tuple[list[list[str]], tuple[str, ...]]] = []  # (rows, the text that stands before it)
    before: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            # python-docx gives a vertically merged cell's text on every row it spans.
            tables.append(([[clean_cell(cell.text) for cell in row.cells] for row in block.rows], tuple(before)))
            before = []
        elif not _CONTINUED_NOTE.fullmatch(fold(block.text)):
            before.append(clean_cell(block.text))
    if not tables:
        raise PlanError(f"计划表 {path.name} 中没有表格。请确认任务是以 Word 表格形式排版的。")
    for index, (grid, above) in enumerate(tables):
        found = _find_header(grid)
        if found is None:
            continue
        header = [fold(value) for value in grid[found[0]]]
        for rows, text_before in tables[index + 1:]:
            repeats_header = any([fold(value) for value in row] == header for row in rows[:3])
            if any(len(row) != len(header) for row in rows) or (text_before and not repeats_header):
                break
            grid = grid + rows
        return Grid(grid, above)
    return Grid(tables[0][0])


# Nothing, or a note that the table goes on (folded): 续表, (续上表), 续表一, 续表(1), 续表2-1:
_CONTINUED_NOTE = re.compile(rf"(?:\(?续上?表?[{_CN_NUM}\d-]*(?:\([{_CN_NUM}\d-]+\))?\)?[:.。]?)?")


def _decode(path: Path) -> str:
    text = decode_text(path.read_bytes())
    if text is not None:
        return text
    raise PlanError(f"计划表 {path.name} 的文字编码无法识别。请另存为 UTF-8 编码。")


def _grid_csv(path: Path) -> Grid:
    text = _decode(path)
    # Read as one stream: a quoted cell may hold line breaks (a cell typed on several lines).
    return Grid([[clean_cell(cell) for cell in row] for row in csv.reader(io.StringIO(text, newline=""))])


def _grid_text(path: Path) -> Grid:
    """Pipe-separated text copied out of a document table.

    A merged cell is written only on the first row of its group, so a short row lacks its
    leading cells: they are padded back in once the header's width is known.
    """
    rows = []
    for line in _decode(path).splitlines():
        cells = [clean_cell(cell) for cell in line.split("|")]
        if cells and not cells[-1] and line.rstrip().endswith("|"):
            cells.pop()
        rows.append(cells)
    found = _find_header(rows)
    width = len(rows[found[0]]) if found else max((len(r) for r in rows), default=0)
    return Grid([[""] * (width - len(row)) + row if any(row) else row for row in rows])


# ---------------------------------------------------------------------------- structure


def _header_columns(row: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for col, value in enumerate(row):
        label = fold(value)
        for kind, labels in HEADER_LABELS.items():
            if label in labels and kind not in found:
                found[kind] = col
                break
    text_col = "requirement" in found or "category" in found
    unit_col = any(kind in found for kind in COLUMN_ROLE)
    return found if text_col and unit_col else {}


def _find_header(grid: list[list[str]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(grid[:30]):
        cols = _header_columns(row)
        if cols:
            if "requirement" not in cols:
                cols["requirement"] = cols.pop("category")
            return index, cols
    return None


def strip_category_prefix(text: str) -> str:
    return _CATEGORY_PREFIX.sub("", text, count=1).strip()


def strip_item_prefix(text: str) -> str:
    return _ITEM_PREFIX.sub("", text, count=1).strip()


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


@dataclass
class RawTask:
    """A task as the plan writes it, before its units are looked up in the registry."""

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
    """The tasks of a plan file as written, with its title and layout; no registry needed."""
    path = Path(path)
    title, tasks, problems = _raw_tasks(read_grid(path), path)
    return RawPlan(title, "表格", tasks, problems)


def _raw_tasks(plan_grid: Grid, path: Path) -> tuple[str, list[RawTask], list[str]]:
    grid = plan_grid.rows
    found = _find_header(grid)
    if found is None:
        raise PlanError(
            f"计划表 {path.name} 中找不到表头行。表头应含“工作任务”或“具体要求”，以及“责任单位”"
            "（或“牵头单位”“配合单位”）。"
        )
    header, cols = found
    title = _title([*plan_grid.above, *(text for row in grid[:header] for text in _distinct(row))])
    header_key = [fold(v) for v in grid[header]]
    problems: list[str] = []
    tasks: list[RawTask] = []
    category = ""

    def cell(row: list[str], kind: str) -> str:
        col = cols.get(kind)
        return row[col] if col is not None and col < len(row) else ""

    for index in range(header + 1, len(grid)):
        row, line = grid[index], index + 1
        texts = _distinct(row)
        if not texts or [fold(v) for v in row] == header_key:
            continue  # blank, or the header repeated on a new page
        requirement = cell(row, "requirement")
        # A cell merged across the row (a category or note row) repeats its text in the unit columns.
        spanning = {requirement, cell(row, "category")}
        unit_texts = [
            (cell(row, kind), role)
            for kind, role in COLUMN_ROLE.items()
            if cell(row, kind) and cell(row, kind) not in spanning
        ]
        if cols.get("category") is not None and cell(row, "category"):
            category = cell(row, "category")
        if not unit_texts:
            if _NOTE_PREFIX.match(texts[0]):
                continue
            if _is_category_row(row, requirement, cell(row, "seq")):
                category = " ".join(texts)
                continue
            problems.append(f"第{line}行：任务“{_short(requirement)}”没有填写责任单位。")
            continue
        if not requirement:
            requirement = cell(row, "category")
        if not requirement:
            problems.append(f"第{line}行：有责任单位但没有任务内容。请补上具体要求。")
            continue
        tasks.append(RawTask(line, category, requirement, unit_texts, cell(row, "deadline")))
    return title, tasks, problems


# A title is a short line with Chinese in it; a note (附件1, 注：…), a sentence (with a colon,
# a semicolon or a full stop) or a line wholly in brackets (（2018年3月印发）) is none (folded text).
_TITLE_CHARS = 60
_NOT_TITLE = re.compile(r"\(.*\)|.*[:;。,].*")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _title(lines: list[str]) -> str:
    """The plan's title: of the lines above its table, the nearest one that reads as a title; ''
    when none does."""
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


def parse_roles(text: str, default_role: str = "负责") -> list[tuple[str, str]]:
    """Split a responsibility text into (name, role) pairs.

    Clauses are separated by commas; a clause ending in a role word gives that role to its
    names and to those of the clauses before it that had none (``A牵头,B,C负责``: A 牵头,
    B and C 负责). A role in brackets after a name is that name's own (``A(牵头)、B``: A 牵头).
    Names left without a role word take ``default_role`` (the column's).
    """
    pairs: list[tuple[str, str | None]] = []  # in the order written; None: a role still to come
    for clause in split_outside_brackets(fold(text), ",;。"):
        role = None
        for suffix, suffix_role in _ROLE_SUFFIXES:
            if clause.endswith(suffix):
                clause, role = clause[: -len(suffix)], suffix_role
                break
        clause = _CLAUSE_FILLER.sub("", clause)
        for name in split_outside_brackets(clause, "、"):
            marked = _BRACKETED_ROLE.fullmatch(name)  # 市财政局(牵头): the role is the unit's own
            pairs.append((marked.group(1), _SUFFIX_ROLE[marked.group(2)]) if marked else (name, None))
        if role:
            pairs = [(name, own or role) for name, own in pairs]
    return [(name, own or default_role) for name, own in pairs]


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
    """Read a plan table, resolve every unit and group; raise PlanError listing every problem.

    The plan's title is its title row (the line above its table), never its file name; '' when
    it has none.
    """
    path = Path(path)
    raw = read_raw(path)
    title, layout, raw_tasks, problems = raw.title, raw.layout, raw.tasks, raw.problems
    if not raw_tasks and not problems:
        problems.append("表头下面没有任何任务行。")
    category_numbers: dict[str, int] = {}
    item_counts: dict[int, int] = {}
    tasks = []
    for raw in raw_tasks:
        category = strip_category_prefix(raw.category) or "工作任务"
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
        raise PlanError(f"计划表 {path.name} 有 {len(problems)} 处问题，未加载：", problems)
    return Plan(title=title, source=path.name, tasks=tuple(tasks), layout=layout)


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
