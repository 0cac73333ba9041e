"""Turning a returned workbook into an identity, header values with their places, and rows with
each column's text (a cell's place is made when a finding names it).

Rows are found by the task ID written in them, not by position, so rows a unit reordered,
inserted or deleted are handled. Nothing here decides whether the file is acceptable.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .form import FormSpec
from .identity import IDENTITY_SHEET, Identity, NAME_PREFIX
from .readers import RawWorkbook
from .text import fold


class Cell(NamedTuple):
    """A value as text and where a clerk finds it (``进展填报!H7``). A tuple: cheap to make."""

    text: str
    sheet: str
    row: int  # from 0, as XlsxWriter counts
    col: int

    @property
    def location(self) -> str:
        from xlsxwriter.utility import xl_rowcol_to_cell  # XlsxWriter is loaded only to name a cell

        return f"{self.sheet}!{xl_rowcol_to_cell(self.row, self.col)}"


@dataclass
class DataRow:
    """A row under the table header: its task ID as written (empty for an inserted row) and the
    text in each column of the form found. A cell with its place is made when asked for
    (``cell``): every row is read, and few cells are ever named in a finding."""

    row: int  # as Excel counts, from 1
    task_id: str
    texts: dict[str, str]  # column key -> text
    sheet: str
    columns: dict[str, int]  # column key -> column, from 0 (the same for every row of the sheet)
    other: list[Cell] = field(default_factory=list)  # text in columns the form does not have

    def cell(self, key: str) -> Cell:
        """The cell of the column ``key`` in this row."""
        return Cell(self.texts[key], self.sheet, self.row - 1, self.columns[key])


@dataclass
class Submission:
    """What a workbook says, before any judgement."""

    identity: Identity | None
    sheet: str | None
    header: dict[str, Cell] = field(default_factory=dict)
    header_row: int | None = None
    missing_columns: list[str] = field(default_factory=list)
    rows: list[DataRow] = field(default_factory=list)
    formulas: dict[tuple[int, int], tuple[str, bool]] = field(default_factory=dict)  # of the data sheet


def cell_text(value: object) -> str:
    """A stored cell value as the text a unit sees; a formula's cached value, never the formula."""
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_identity(raw: RawWorkbook) -> Identity | None:
    """From the identity sheet (whatever its visibility), else from the mirrored defined names."""
    rows = raw.sheets.get(IDENTITY_SHEET)
    if rows:
        values = {cell_text(r[0]): cell_text(r[1]) for r in rows if len(r) >= 2 and r[0]}
        identity = Identity.from_rows(values)
        if identity:
            return identity
    names = {
        name[len(NAME_PREFIX):].lower(): _name_constant(value)
        for name, value in raw.defined_names.items()
        if name.startswith(NAME_PREFIX)
    }
    return Identity.from_rows(names)


_QUOTED = re.compile(r'"((?:[^"]|"")*)"')


def _name_constant(formula: str) -> str:
    """The text of a defined name's constant: ``="S009"``, or ``="…"&"…"`` past 255 characters."""
    text = formula.strip().removeprefix("=")
    pieces = _QUOTED.findall(text)
    if pieces and "&".join(f'"{piece}"' for piece in pieces) == text:
        return "".join(piece.replace('""', '"') for piece in pieces)
    return text


HEADER_SEARCH_ROWS = 50  # the table header is looked for this far down a sheet


def sheet_texts(rows: list[list[object]]) -> list[list[str]]:
    """Every cell of a sheet as ``cell_text`` gives it (most cells are strings: those inline)."""
    return [[v.strip() if v.__class__ is str else cell_text(v) for v in row] for row in rows]


def _find_header(texts: list[list[str]], spec: FormSpec) -> tuple[int, dict[str, int]] | None:
    by_label = {fold(c.label): c.key for c in spec.columns}
    id_key = spec.column_of_source("id").key
    for index, row in enumerate(texts[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for col, text in enumerate(row):
            key = by_label.get(fold(text))
            if key and key not in found:
                found[key] = col
        if id_key in found and len(found) * 2 >= len(spec.columns):
            return index, found
    return None


def _data_sheet(raw: RawWorkbook, spec: FormSpec) -> tuple[str, list[list[str]], int, dict[str, int]] | None:
    """The sheet holding the table (the spec's by name, else any sheet with the header labels),
    as text, with its header row and the columns found."""
    names = [spec.data_sheet] + sorted(n for n in raw.sheets if n not in (spec.data_sheet, IDENTITY_SHEET))
    for name in names:
        rows = raw.sheets.get(name) or []
        texts = sheet_texts(rows[:HEADER_SEARCH_ROWS])
        found = _find_header(texts, spec)
        if found:
            texts += sheet_texts(rows[HEADER_SEARCH_ROWS:])
            for r, c in raw.percent.get(name, ()):  # Excel keeps 100% as 1: the text is what the unit sees
                value = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    texts[r][c] = f"{value * 100:g}%"
            return name, texts, *found
    return None


def parse_submission(raw: RawWorkbook, spec: FormSpec) -> Submission:
    """Identity, header block and data rows of a returned workbook."""
    submission = Submission(identity=read_identity(raw), sheet=None)
    located = _data_sheet(raw, spec)
    if located is None:
        return submission
    sheet, texts, header_index, cols = located
    submission.sheet = sheet
    submission.formulas = raw.formulas.get(sheet, {})
    submission.header_row = header_index + 1
    submission.missing_columns = [c.label for c in spec.columns if c.key not in cols]
    labels = {fold(f.label): f.key for f in spec.header}
    for r in range(header_index):
        row = texts[r]
        for c, text in enumerate(row):
            key = labels.get(fold(text))
            # Contract: a header field's input cell is the nearest cell to its label's right.
            if key and key not in submission.header:
                submission.header[key] = Cell(row[c + 1] if c + 1 < len(row) else "", sheet, r, c + 1)
    id_key = spec.column_of_source("id").key
    columns = list(cols.items())
    widest = max(len(row) for row in texts)
    form_cols = set(cols.values())
    others = [c for c in range(widest) if c not in form_cols]  # columns the form does not have
    for r in range(header_index + 1, len(texts)):
        row = texts[r]
        if not any(row):
            continue
        width = len(row)
        values = {key: row[c] if c < width else "" for key, c in columns}
        other = [Cell(row[c], sheet, r, c) for c in others if c < width and row[c]]
        submission.rows.append(DataRow(r + 1, values[id_key], values, sheet, cols, other))
    return submission
