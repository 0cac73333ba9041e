"""Writing workbooks: one set of styles, safe cell writes, print set-up, atomic saving.

Every workbook the product writes goes through here, so that fonts and print settings are
defined once and no text from a unit can ever become a formula.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import xlsxwriter
import xlsxwriter.worksheet
from xlsxwriter.utility import xl_rowcol_to_cell

from . import zips
from .atomic import replacing
from .errors import OutputError

FONT = "宋体"
HEADING_FONT = "黑体"
FONT_SIZE = 11
# Excel: a row of 11 pt text needs about 15 pt of height per line, plus a little padding.
LINE_HEIGHT = 15.0
# Excel: a row is at most 409 pt high.
MAX_ROW_HEIGHT = 409.0
# Excel: column width is counted in characters of the default font; a Chinese character is
# about two of them.
CJK_WIDTH = 2


@dataclass(frozen=True)
class Column:
    """A table column: its label, width in characters, and how its values are written."""

    label: str
    width: float = 12
    kind: str = "text"  # text | wrap | center | number | percent


class _CharWidths(dict):
    """Each character's display width, looked up once: every row height measures its texts."""

    def __missing__(self, char: str) -> int:
        width = self[char] = CJK_WIDTH if unicodedata.east_asian_width(char) in "WF" else 1
        return width


_CHAR_WIDTHS = _CharWidths()


def text_width(text: str) -> int:
    """Display width in Excel character units: wide (CJK) characters count twice."""
    return len(text) if text.isascii() else sum(map(_CHAR_WIDTHS.__getitem__, text))


@functools.lru_cache(maxsize=4096)  # the same task texts and labels in every unit's workbook
def lines_needed(text: str, width: float) -> int:
    """How many lines a wrapped cell of ``width`` characters takes to show ``text``."""
    usable = max(width - 1, 1)
    total = 0
    for line in str(text).split("\n"):
        total += max(1, -(-text_width(line) // int(usable)))
    return total


def row_height(cells: list[tuple[str, float]], minimum: int = 1) -> float:
    """Explicit height for a row of wrapped cells (text, column width).

    LibreOffice keeps the default 15 pt height for rows without one and cuts wrapped
    text to one line, so every wrapped row gets a computed height.
    """
    lines = max([minimum, *(lines_needed(text, width) for text, width in cells if text)])
    return min(round(lines * LINE_HEIGHT + 3, 1), MAX_ROW_HEIGHT)


class Styles:
    """The formats of one workbook, created once and shared by all its sheets."""

    def __init__(self, workbook: xlsxwriter.Workbook):
        self._workbook = workbook
        self._base = base = {"font_name": FONT, "font_size": FONT_SIZE, "valign": "vcenter"}
        self._cell = cell = {**base, "border": 1}
        self.title = workbook.add_format(
            {**base, "font_name": HEADING_FONT, "font_size": 16, "align": "center"}
        )
        self.subtitle = workbook.add_format({**base, "font_size": 10, "font_color": "#595959"})
        self.header = workbook.add_format(
            {**cell, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#D9E1F2"}
        )
        self.text = workbook.add_format(cell)
        self.wrap = workbook.add_format({**cell, "text_wrap": True, "valign": "top"})
        self.center = workbook.add_format({**cell, "align": "center"})
        self.number = workbook.add_format({**cell, "num_format": "0"})
        self.percent = workbook.add_format({**cell, "num_format": "0.0%"})
        self.note = workbook.add_format({**base, "text_wrap": True, "valign": "top"})
        self.small = workbook.add_format({**base, "text_wrap": True, "valign": "top", "font_size": 9,
                                          "font_color": "#595959"})
        self.by_kind = {
            "text": self.text,
            "wrap": self.wrap,
            "center": self.center,
            "number": self.number,
            "percent": self.percent,
        }

    def add(self, bordered: bool = True, **properties):
        """A further format on the shared font (and cell border), for formats one workbook needs."""
        return self._workbook.add_format({**(self._cell if bordered else self._base), **properties})


class Worksheet(xlsxwriter.worksheet.Worksheet):
    """XlsxWriter's worksheet, remembering how it prepared each formula.

    XlsxWriter runs some 200 regular expressions over every formula of a validation or
    conditional format (to prefix newer functions), and every workbook of a kind has the same
    few formulas.
    """

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        return _prepared_formula(formula, expand_future_functions or self.use_future_functions)


@functools.lru_cache(maxsize=1024)
def _prepared_formula(formula: str, expand_future_functions: bool) -> str:
    return xlsxwriter.worksheet.Worksheet._prepare_formula(_PLAIN_SHEET, formula, expand_future_functions)


_PLAIN_SHEET = xlsxwriter.worksheet.Worksheet()  # use_future_functions off: the flag above decides


class Workbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook with our Worksheet, plus structure protection, for which XlsxWriter
    has no API."""

    worksheet_class = Worksheet
    structure_locked = False

    def protect_structure(self) -> None:
        """Lock the sheets: no adding, deleting, renaming, moving, hiding or unhiding (no password)."""
        self.structure_locked = True

    def _write_workbook_pr(self) -> None:
        super()._write_workbook_pr()
        # OOXML: <workbookProtection> follows <workbookPr> and precedes <bookViews>.
        if self.structure_locked:
            self._xml_empty_tag("workbookProtection", [("lockStructure", 1)])


def new_workbook(path: Path, created: dt.datetime, stamp: str = "") -> Workbook:
    """A workbook whose strings stay strings and whose creation date is pinned (determinism);
    ``stamp``: what it is made from, as a hash, kept in its properties (see ``written_as``)."""
    workbook = Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            # Parts are assembled in memory: no temporary files, much faster for many small books.
            "in_memory": True,
        },
    )
    workbook.set_properties({"created": created})
    if stamp:
        workbook.set_custom_property(STAMP_PROPERTY, stamp)
    return workbook


STAMP_PROPERTY = "内容标识"
_STAMP = re.compile(f'name="{STAMP_PROPERTY}"><vt:lpwstr>([^<]*)<'.encode())


def written_as(path: Path, stamp: str, created: dt.datetime) -> bool:
    """Whether the workbook at ``path`` is one ``new_workbook`` made with ``stamp`` and nobody has
    saved since."""
    return zips.written_as(path, stamp, created, "docProps/custom.xml", _STAMP)


@contextmanager
def atomic_workbook(path: Path, created: dt.datetime, stamp: str = "") -> Iterator[Workbook]:
    """Write a workbook to a temporary file beside ``path`` and move it into place on success.

    A crash or error leaves any earlier file at ``path`` as it was.
    """
    with replacing(path, "Excel/WPS") as temp:
        workbook = new_workbook(temp, created, stamp)
        yield workbook
        workbook.close()


def write_cell(sheet, row: int, col: int, value: object, fmt=None) -> None:
    """Write one value by its type; text is always written as a string, never a formula."""
    if value is None or value == "":
        result = sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        result = sheet.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (int, float)):
        result = sheet.write_number(row, col, value, fmt)
    else:
        result = sheet.write_string(row, col, fit_cell(str(value)), fmt)
    check_result(result, sheet, row, col)


# Excel: a cell holds at most 32,767 characters.
CELL_TEXT_LIMIT = 32767
CUT_MARK = "……（内容超出单元格容量，以下从略）"


def fit_cell(text: str) -> str:
    """Text that fits one cell; longer text (many units' progress joined) is cut with a mark."""
    if len(text) <= CELL_TEXT_LIMIT:
        return text
    return text[: CELL_TEXT_LIMIT - len(CUT_MARK)] + CUT_MARK


def check_result(result: int, sheet, row: int, col: int) -> None:
    """Raise on a failed XlsxWriter call: it returns -1/-2 (range, string too long) instead of raising."""
    if result < 0:
        raise OutputError(f"无法写入单元格 {sheet.name}!{xl_rowcol_to_cell(row, col)}（代码 {result}）。")


# Excel: a text constant inside a formula holds at most 255 characters.
FORMULA_TEXT_LIMIT = 255


def formula_text(text: str) -> str:
    """``text`` as a formula string constant: quoted, quotes doubled, longer text joined with ``&``."""
    pieces = [text[start:start + FORMULA_TEXT_LIMIT] for start in range(0, len(text), FORMULA_TEXT_LIMIT)]
    return "&".join('"' + piece.replace('"', '""') + '"' for piece in pieces or [""])


def highlight_values(sheet, first_row: int, last_row: int, col: int, formats: dict[str, object]) -> None:
    """Colour a column's cells by their exact text, as conditional formats (they survive
    sorting and filtering, and LibreOffice applies them to the cached values)."""
    for text, fmt in formats.items():
        sheet.conditional_format(first_row, col, last_row, col,
                                 {"type": "cell", "criteria": "==", "value": formula_text(text), "format": fmt})


def set_print(sheet, repeat_to_row: int, landscape: bool = True, repeat_from: int = 0) -> None:
    """A4, fit to one page wide, header rows repeated on every page, page numbers in the footer."""
    sheet.set_paper(9)  # A4
    if landscape:
        sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(repeat_from, repeat_to_row)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_footer("&C第 &P 页，共 &N 页")


def write_table(
    sheet,
    styles: Styles,
    columns: list[Column],
    rows: list[list[object]],
    title: str | None = None,
    subtitle: str | None = None,
    landscape: bool = True,
) -> int:
    """A titled, filtered, frozen, print-ready table; returns the header's row index."""
    top = 0
    if title:
        sheet.merge_range(0, 0, 0, len(columns) - 1, title, styles.title)
        sheet.set_row(0, 28)
        top = 1
    if subtitle:
        sheet.merge_range(top, 0, top, len(columns) - 1, subtitle, styles.subtitle)
        top += 1
    for col, column in enumerate(columns):
        sheet.set_column(col, col, column.width)
        sheet.write_string(top, col, column.label, styles.header)
    sheet.set_row(top, row_height([(c.label, c.width) for c in columns]))
    for offset, values in enumerate(rows, start=1):
        wrapped = []
        for col, (column, value) in enumerate(zip(columns, values)):
            write_cell(sheet, top + offset, col, value, styles.by_kind[column.kind])
            if column.kind == "wrap" and isinstance(value, str):
                wrapped.append((value, column.width))
        sheet.set_row(top + offset, row_height(wrapped))
    sheet.freeze_panes(top + 1, 0)
    sheet.autofilter(top, 0, top + max(len(rows), 1), len(columns) - 1)
    set_print(sheet, top, landscape)
    return top
