"""Builders for fixture files, made in code: registries, plan tables in .xlsx/.docx/.csv.

A table is given once as rows of cell values (None where a merged cell continues) plus the
merged ranges, and written to any of the formats a plan comes in, so that the same content
can be checked to load the same way whatever the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import cycle, gongwen
from pipeline.ledger import answers_of, packed_answers
from pipeline.progress import Progress
from pipeline.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
SEED_PLAN = REPO / "input" / "2018年政务公开工作要点.txt"
SAMPLE_REGISTRY = REPO / "input" / "示例单位名录"

UNIT_HEADER = ["单位编码", "单位名称", "别名", "分组", "联系人", "联系电话", "邮箱"]
GROUP_HEADER = ["分组名称", "引用写法"]


# ---------------------------------------------------------------------------- tables


@dataclass
class Table:
    """Rows of cell values and merged ranges ``(first_row, first_col, last_row, last_col)``, 0-based.

    A cell covered by a merge (other than its first) holds None.
    """

    width: int
    rows: list[list[object]] = field(default_factory=list)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)

    def add_row(self, values: list[object]) -> int:
        self.rows.append(list(values) + [None] * (self.width - len(values)))
        return len(self.rows) - 1

    def add_spanning_row(self, text: str) -> None:
        """A row whose one cell is merged across the table (title, category, note)."""
        index = self.add_row([text])
        self.merges.append((index, 0, index, self.width - 1))

    def split(self, at: int, header: int | None = None) -> tuple["Table", "Table"]:
        """Rows before ``at`` and the rest, as two tables (no merged range may cross ``at``);
        the second starts with a copy of row ``header`` when given, as a header repeated by hand."""
        assert all(last < at or first >= at for first, _, last, _ in self.merges), "a merge crosses the split"
        head = [list(self.rows[header])] if header is not None else []
        shift = len(head) - at
        first = Table(self.width, self.rows[:at], [m for m in self.merges if m[0] < at])
        rest = Table(self.width, head + self.rows[at:],
                     [(r0 + shift, c0, r1 + shift, c1) for r0, c0, r1, c1 in self.merges if r0 >= at])
        return first, rest


def write_xlsx(path: Path, table: Table) -> Path:
    """The table as a workbook, merged ranges merged; dates become real Excel date cells."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "计划表"
    for r, row in enumerate(table.rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    for first_row, first_col, last_row, last_col in table.merges:
        sheet.merge_cells(
            start_row=first_row + 1, start_column=first_col + 1, end_row=last_row + 1, end_column=last_col + 1
        )
    workbook.save(path)
    return path


def write_docx(path: Path, *parts: Table | str) -> Path:
    """The tables as Word tables, merged ranges merged, between paragraphs of text (the ``str`` parts)."""
    import docx

    document = docx.Document()
    document.add_paragraph("附件")
    for part in parts:
        if isinstance(part, str):
            document.add_paragraph(part)
            continue
        word_table = document.add_table(rows=len(part.rows), cols=part.width)
        for r, row in enumerate(part.rows):
            for c, value in enumerate(row):
                if value is not None:
                    word_table.cell(r, c).text = str(value)
        for first_row, first_col, last_row, last_col in part.merges:
            word_table.cell(first_row, first_col).merge(word_table.cell(last_row, last_col))
    document.add_paragraph("注：本表为测试用示例。")
    document.save(str(path))
    return path


def write_csv(path: Path, table: Table, encoding: str = "utf-8-sig") -> Path:
    """The table as CSV: a merged cell's value in its first cell only, the rest blank."""
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        for row in table.rows:
            writer.writerow(
                ["" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v) for v in row]
            )
    return path


def write_table(path: Path, table: Table) -> Path:
    """The table in the format ``path``'s suffix names: .xlsx, .docx or .csv."""
    return {".xlsx": write_xlsx, ".docx": write_docx, ".csv": write_csv}[path.suffix](path, table)


# ---------------------------------------------------------------------------- the registry


def read_sample_csv(name: str) -> list[dict[str, str]]:
    """A sheet of the bundled sample registry (``单位名录`` or ``分组``) as dicts."""
    with (SAMPLE_REGISTRY / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def sample_unit_rows() -> list[list[str]]:
    return [[unit[label] for label in UNIT_HEADER] for unit in read_sample_csv("单位名录")]


def sample_group_rows() -> list[list[str]]:
    return [[group[label] for label in GROUP_HEADER] for group in read_sample_csv("分组")]


def group_members(group: str) -> set[str]:
    """Names of the sample units in ``group``, read straight from the sample CSV."""
    # Split at 、 outside brackets: 县(市、区)政府 is one group.
    return {
        unit["单位名称"]
        for unit in read_sample_csv("单位名录")
        if group in re.split(r"、(?![^()]*\))", unit["分组"])
    }


def write_registry(
    path: Path,
    units: list[list[object]] | None = None,
    groups: list[list[object]] | None = None,
    unit_header: list[str] | None = UNIT_HEADER,
    group_header: list[str] | None = GROUP_HEADER,
    title: str | None = None,
) -> Path:
    """A registry workbook in the contract format (sheets 单位名录 and 分组).

    Defaults to the bundled sample data. ``groups=[]`` writes a 分组 sheet with only its
    header; pass ``group_header=None`` to leave the sheet out, ``unit_header=None`` likewise.
    ``title`` puts a title row above the unit sheet's header.
    """
    import xlsxwriter

    units = sample_unit_rows() if units is None else units
    groups = sample_group_rows() if groups is None else groups
    workbook = xlsxwriter.Workbook(str(path))
    for sheet_name, header, rows, top in (
        ("单位名录", unit_header, units, title),
        ("分组", group_header, groups, None),
    ):
        if header is None:
            continue
        sheet = workbook.add_worksheet(sheet_name)
        lines = ([[top]] if top else []) + [header] + rows
        for r, row in enumerate(lines):
            for c, value in enumerate(row):
                if isinstance(value, (int, float)):
                    sheet.write_number(r, c, value)
                elif value:
                    sheet.write_string(r, c, value)
    workbook.close()
    return path


# ---------------------------------------------------------------------------- expected seed assignments

SEED_IDS = [f"{c}-{i}" for c, count in ((1, 5), (2, 6), (3, 5), (4, 3)) for i in range(1, count + 1)]

# From the sample registry's CSV group memberships, not from the code under test.
CITY = group_members("附件1市有关单位")
COUNTIES = group_members("县(市、区)政府")
KEY_AREAS = group_members("附件2重点领域相关单位")
DRAFTERS = group_members("规范性文件起草单位")


def roles(role: str, names: set[str], leads: set[str] = frozenset()) -> set[tuple[str, str]]:
    """``leads`` as 牵头 and every other name of ``names`` with ``role``: one role per unit."""
    return {(name, "牵头") for name in leads} | {(name, role) for name in names - leads}


SEED_ASSIGNMENTS = {
    "1-1": roles("负责", {"市政府办公室"} | CITY | COUNTIES),
    "1-2": roles("负责", CITY | COUNTIES, leads={"市法制局"}),
    "2-2": roles("负责", CITY | COUNTIES, leads={"市发展改革局", "市政管办"}),
    "2-4": {("市政管办", "负责")},
    "2-5": roles("分别负责", {"市扶贫办", "市民政局", "市食品药品监管局", "市环境保护局"}),
    "2-6": roles("分别负责", KEY_AREAS | COUNTIES),
    "3-2": roles("分别负责", CITY | COUNTIES),
    "3-5": roles("负责", DRAFTERS | COUNTIES, leads={"市法制局"}),
    "4-3": roles("负责", {"市新闻办", "市网信办"} | CITY | COUNTIES),
}


# ---------------------------------------------------------------------------- the seed plan


@dataclass(frozen=True)
class SeedRow:
    """One requirement of the seed, as its text file has it."""

    category: str
    requirement: str
    responsibility: str


def seed_rows() -> list[SeedRow]:
    """The seed's 19 requirements, split out of its pipe text by hand (not by the code under test)."""
    rows, category = [], ""
    lines = SEED_PLAN.read_text(encoding="utf-8").splitlines()[1:]
    for line in lines:
        cells = [cell.strip() for cell in line.rstrip().removesuffix("|").split("|")]
        if len(cells) == 3:
            category = cells.pop(0)
        rows.append(SeedRow(category, *cells))
    return rows


def to_full_width(text: str) -> str:
    """Commas and brackets as a Word user types them."""
    return text.translate(str.maketrans({",": "，", "(": "（", ")": "）"}))


def seed_table(retyped: bool) -> Table:
    """The seed plan as a document table: a title row, the header, merged category cells, a note row.

    ``retyped`` spells it the way a clerk re-typing it would: full-width punctuation in the
    category and unit cells, numbers ``1、``, line breaks and stray spaces inside cells.
    """
    table = Table(3)
    table.add_spanning_row("2018年政务公开工作要点")
    table.add_row([])
    table.add_row(["工作任务", "具体\n要求", " 责任单位 "] if retyped else ["工作任务", "具体要求", "责任单位"])
    groups: dict[str, list[int]] = {}
    for row in seed_rows():
        category, requirement, units = row.category, row.requirement, row.responsibility
        if retyped:
            category = to_full_width(category)
            requirement = " " + requirement.replace(".", "、", 1).replace("公开", "公\n开", 1)
            units = to_full_width(units).replace("，", "，\n").replace("负责", " 负责")
        index = table.add_row([None if category in groups else category, requirement, units])
        groups.setdefault(category, []).append(index)
    table.merges += [(rows[0], 0, rows[-1], 0) for rows in groups.values() if len(rows) > 1]
    table.add_spanning_row("注：附件1、附件2所列单位略。")
    return table


# ---------------------------------------------------------------------------- a 序号 / 牵头 / 配合 plan


def lead_support_table() -> Table:
    """A plan with 序号, separate 牵头单位/配合单位 columns, 完成时限, category rows of their own.

    The category and note rows are merged across the table; one deadline is a real date.
    """
    table = Table(5)
    table.add_spanning_row("2019年政务公开重点工作任务分工")
    table.add_row(["序号", "工作任务", "牵头单位", "配合单位", "完成时限"])
    for row in LEAD_SUPPORT_ROWS:
        if isinstance(row, str):
            table.add_spanning_row(row)
        else:
            table.add_row(list(row))
    table.add_spanning_row("注：完成时限未写年份的，均指2019年。")
    return table


LEAD_SUPPORT_ROWS: list[str | tuple[object, ...]] = [
    "一、推进决策公开",
    (1, "制定重大行政决策事项目录并向社会公开。", "市政府办公室", "市法制局、市发改局", "2019年6月底前"),
    (2, "做好重要政策\n文件的解读工作。", "市法制局", "市有关单位（见附件1，下同）", "2019年9月30日"),
    "二、推进管理服务公开",
    (1, "公开财政预决算信息。", "市财政局", "各县（市、区）人民政府（管委会）", "2019-08-31"),
    (2, "公开公共资源交易信息。", "市政管办", " 市电子政务办 ", dt.date(2019, 8, 31)),
    (3, "公开扶贫和社会救助信息。", "市扶贫办、市民政局", "市有关单位", "每季度末"),
    "三、加强舆情回应",
    (1, "及时回应社会关切。", "市新闻办", "市网信办", "持续推进"),
    (2, "公开审计发现问题的整改情况。", "市财政局", "市财政局、市审计局", "年内"),
]


# ---------------------------------------------------------------------------- a hand-made ledger

UNITS = [["U1", "甲局", "", "", "张一", "0000-1111111", "a@example.gov.cn"],
         ["U2", "乙局", "", "", "张二", "0000-2222222", "b@example.gov.cn"],
         ["U3", "丙局", "", "", "张三", "0000-3333333", "c@example.gov.cn"],
         ["U4", "丁区政府", "", "", "张四", "0000-4444444", "d@example.gov.cn"]]
PLAN = """工作任务,具体要求,责任单位,完成时限
(一)类别一,1.任务一,"甲局牵头,乙局、丙局负责",2018年5月底前
,2.任务二,乙局、丙局分别负责,
(二)类别二,1.任务三,甲局、丁区政府负责,2018年12月底前
"""
INJECTION = "=cmd|' /c calc'!A0"
# period, unit, file, status, report date, answers {task: {field: value}}
SUBMISSIONS = [
    ("2018-05", "U1", "甲局5月.xlsx", "accepted", "2018-05-20", {"1-1": {"status": "序时推进"}}),
    ("2018-05", "U2", "乙局5月.xlsx", "accepted", "2018-05-20", {"1-1": {"status": "进度滞后", "problems": "五月"}}),
    ("2018-05", "U3", "丙局5月.xlsx", "accepted", "2018-05-20", {"1-2": {"status": "未启动"}}),
    ("2018-06", "U1", "甲局.xlsx", "accepted", "2018-06-20",
     {"1-1": {"status": "序时推进", "percent": "60", "progress": "甲一进展"},
      "2-1": {"status": "已完成", "percent": "100", "progress": "甲三完成"}}),
    ("2018-06", "U2", "乙局旧.xlsx", "superseded", "2018-06-10", {}),
    ("2018-06", "U2", "乙局.xlsx", "accepted", "2018-06-24",
     {"1-1": {"status": "进度滞后", "progress": "乙一进展", "problems": INJECTION},
      "1-2": {"status": "已完成", "progress": "乙二完成", "problems": "@SUM(1)"}}),
    ("2018-06", "U3", "丙局.xlsx", "accepted", "2018-06-28",
     {"1-1": {"status": "未启动"}, "1-2": {"status": "序时推进", "progress": "丙二进展"}}),
]


def put_answers(db: sqlite3.Connection, period: str, unit: str, answers: dict[str, dict[str, str]],
                sha256: str | None = None) -> None:
    """Answers (task ID -> column key -> text) added to the unit's answers of the month in the
    ledger, as from the file ``sha256`` (else the file they are from already)."""
    row = db.execute("SELECT answers, sha256 FROM unit_answers WHERE period = ? AND unit_code = ?",
                     (period, unit)).fetchone()
    merged = answers_of(row[0]) if row else {}
    for task, values in answers.items():
        merged.setdefault(task, {}).update(values)
    db.execute("INSERT OR REPLACE INTO unit_answers VALUES (?, ?, ?, ?)",
               (period, unit, sha256 or (row[1] if row else None), packed_answers(merged)))


def hand_made_ledger(root: Path) -> Workspace:
    """A workspace whose ledger holds two hand-made months (May and June 2018); U4 never reports."""
    workspace = Workspace.init(root)
    write_registry(workspace.registry_path, units=UNITS, groups=[])
    plan = workspace.input_dir / "plan.csv"
    plan.write_text(PLAN, encoding="utf-8")
    cycle.load_plan(workspace, plan)
    db = sqlite3.connect(workspace.ledger_path)
    for number, (period, unit, name, status, date, answers) in enumerate(SUBMISSIONS):
        sha = f"{number:064d}"
        db.execute("INSERT INTO files VALUES (?, 1, 'x', ?)", (sha, f"{date}T09:00:00"))
        db.execute("INSERT INTO submissions VALUES (?, ?, ?, ?, ?, ?, 0, 0, 'now', ?)",
                   (period, sha, name, unit, status, date, period))
        if answers:
            put_answers(db, period, unit, answers, sha)
    db.executemany("INSERT INTO collections (period, collected_at) VALUES (?, 'now')", [("2018-05",), ("2018-06",)])
    # 乙局's standing file has one warning; its superseded earlier file had three errors.
    columns = "INSERT INTO findings (period, sha256, seq, code, severity, location, message, fix) VALUES "
    db.execute(columns + "(?, ?, 0, 'done-not-100', 'warning', '进展填报!H7', '提醒', '核对')", ("2018-06", f"{5:064d}"))
    db.executemany(columns + "(?, ?, ?, 'status-invalid', 'error', '进展填报!G7', '错', '改')",
                   [("2018-06", f"{4:064d}", seq) for seq in range(3)])
    db.execute("UPDATE submissions SET warnings = 1 WHERE file_name = '乙局.xlsx'")
    db.execute("UPDATE submissions SET errors = 3 WHERE file_name = '乙局旧.xlsx'")
    db.commit()
    db.close()
    return workspace


class Counting(Progress):
    """A Progress that remembers what it was told."""

    def __init__(self):
        self.totals: list[int] = []
        self.steps: list[str] = []

    def start(self, total: int) -> None:
        self.totals.append(total)

    def step(self, name: str) -> None:
        self.steps.append(name)


# Faults put into worker processes by the ``in_workers`` fixture.
def fail(*_args, **_kwargs):
    raise RuntimeError("disk full")


def die(*_args, **_kwargs):
    os._exit(9)  # as the system ends a process out of memory


_SLIM = gongwen._slim


def noted_slim(source: bytes):
    """``gongwen._slim``, the process that called it noted as a line of the file named by
    PIPELINE_TEST_NOTES (put into worker processes by the ``in_workers`` fixture)."""
    with open(os.environ["PIPELINE_TEST_NOTES"], "a", encoding="utf-8") as notes:
        notes.write(f"{os.getpid()}\n")
    return _SLIM(source)
