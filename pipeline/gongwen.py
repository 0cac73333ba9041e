"""Word documents in 公文 form (GB/T 9704-2012): page set-up, fonts, page numbers, and the
office-editable templates they are rendered from (docxtpl, Jinja placeholders).

The bundled templates are built here with python-docx, once, into a workspace's
``templates/`` folder; from then on they are the office's to edit in Word or WPS.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
import docx
import docxtpl
from docx import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import CONTENT_TYPE
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docxtpl import DocxTemplate

from . import content_hash, program_version, zips
from .atomic import replacing
from .errors import TemplateError

# GB/T 9704: A4; top margin 37 mm, left 28 mm; text block 156 mm × 225 mm.
PAGE_WIDTH, PAGE_HEIGHT = Mm(210), Mm(297)
TOP, LEFT, TEXT_WIDTH, TEXT_HEIGHT = Mm(37), Mm(28), Mm(156), Mm(225)
# Chinese type sizes: 2号 22 pt (title), 3号 16 pt (body), 4号 14 pt (page numbers).
TITLE_SIZE, BODY_SIZE, PAGE_NUMBER_SIZE, TABLE_SIZE = Pt(22), Pt(16), Pt(14), Pt(12)
# 22 lines in the 225 mm text block: 28.95 pt from line to line.
LINE_PITCH = Pt(28.95)
TITLE_FONT, BODY_FONT, HEADING_FONT, SUBHEADING_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"
STYLE_TITLE, STYLE_HEADING, STYLE_SUBHEADING, STYLE_SIGNATURE, STYLE_TABLE = (
    "公文标题", "一级标题", "二级标题", "落款", "表格文字")


def _fonts(element_font, east_asian: str, size) -> None:
    """A style's or run's font: ``east_asian`` for Chinese, Times New Roman for Latin and digits."""
    element_font.name = LATIN_FONT
    element_font.size = size
    fonts = element_font.element.rPr.find(qn("w:rFonts")) if element_font.element.rPr is not None else None
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        element_font.element.get_or_add_rPr().insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asian)


def _paragraph_style(document, name: str, font: str, size, align=None, indent: bool = False,
                     exact: bool = True) -> None:
    style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = document.styles["Normal"]
    _fonts(style.font, font, size)
    layout = style.paragraph_format
    if align is not None:
        layout.alignment = align
    layout.first_line_indent = Pt(32) if indent else Pt(0)
    if not exact:
        layout.line_spacing_rule = WD_LINE_SPACING.SINGLE


def new_document(created: dt.datetime):
    """An empty document with the 公文 page set-up, styles and page numbers."""
    document = Document()
    section = document.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.left_margin = TOP, LEFT
    section.right_margin = PAGE_WIDTH - LEFT - TEXT_WIDTH
    section.bottom_margin = PAGE_HEIGHT - TOP - TEXT_HEIGHT
    section.footer_distance = Mm(28) - Mm(7)  # the page number sits 7 mm below the text block
    normal = document.styles["Normal"]
    _fonts(normal.font, BODY_FONT, BODY_SIZE)
    layout = normal.paragraph_format
    layout.line_spacing_rule, layout.line_spacing = WD_LINE_SPACING.EXACTLY, LINE_PITCH
    layout.space_before = layout.space_after = Pt(0)
    layout.first_line_indent = Pt(32)  # two characters
    layout.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    _paragraph_style(document, STYLE_TITLE, TITLE_FONT, TITLE_SIZE, WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph_style(document, STYLE_HEADING, HEADING_FONT, BODY_SIZE, indent=True)
    _paragraph_style(document, STYLE_SUBHEADING, SUBHEADING_FONT, BODY_SIZE, indent=True)
    _paragraph_style(document, STYLE_SIGNATURE, BODY_FONT, BODY_SIZE, WD_ALIGN_PARAGRAPH.RIGHT)
    _paragraph_style(document, STYLE_TABLE, BODY_FONT, TABLE_SIZE, WD_ALIGN_PARAGRAPH.CENTER, exact=False)
    for style in (STYLE_HEADING, STYLE_SUBHEADING):
        document.styles[style].paragraph_format.keep_with_next = True  # never last on a page
    _page_numbers(document, section)
    properties = document.core_properties
    properties.created = properties.modified = created
    properties.author = properties.last_modified_by = ""
    properties.revision = 1
    return document


def _page_numbers(document, section) -> None:
    """「— 1 —」 in 4号 type: odd pages on the right, even pages on the left, one character in."""
    document.settings.odd_and_even_pages_header_footer = True
    for footer, align, side in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT, "right"),
                                (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT, "left")):
        paragraph = footer.paragraphs[0]
        layout = paragraph.paragraph_format
        layout.alignment, layout.first_line_indent = align, Pt(0)
        layout.line_spacing_rule = WD_LINE_SPACING.SINGLE
        setattr(layout, f"{side}_indent", Pt(14))
        for text in ("— ", None, " —"):
            run = paragraph.add_run(text or "")
            _fonts(run.font, PAGE_NUMBER_FONT, PAGE_NUMBER_SIZE)
            if text is None:
                _page_field(run)


def _page_field(run) -> None:
    """The PAGE field inside ``run`` (python-docx has no API for fields)."""
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText" if text.strip() == "PAGE" else "w:t")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


@dataclass(frozen=True)
class Para:
    """A paragraph of a template: its text (placeholders allowed) and its style."""

    text: str
    style: str | None = None  # None: body text
    flush: bool = False  # no first-line indent
    new_page: bool = False
    keep: bool = False  # on the same page as the next paragraph


@dataclass(frozen=True)
class Loop:
    """What is repeated for each element of ``items``, called ``item``: paragraphs (``lines``,
    docxtpl's ``{%p for %}``), or with ``columns`` (label, field, mm) a bordered table's rows."""

    item: str
    items: str
    lines: tuple[str, ...] = ()
    columns: tuple[tuple[str, str, float], ...] = ()


def heading(text: str) -> Para:
    return Para(text, STYLE_HEADING)


def subheading(text: str) -> Para:
    return Para(text, STYLE_SUBHEADING)


def head(title: str, recipient: str) -> tuple[Para, ...]:
    """The title (2号 小标宋, centred), a blank line, and the 主送 line flush left."""
    return Para(title, STYLE_TITLE), Para(""), Para(recipient, flush=True)


# The issuing office and the date after a blank line, kept on the page of the text before them
# (GB/T 9704 does not let them stand alone); laid out by ``_place_signature``.
SIGNATURE = (Para("", keep=True), Para("{{ office }}", STYLE_SIGNATURE, keep=True), Para("{{ date }}", STYLE_SIGNATURE))


def write_template(path: Path, created: dt.datetime, parts) -> None:
    """A Word template in 公文 form from its parts (Para, Loop), for the office to edit."""
    document = new_document(created)
    for part in parts:
        if isinstance(part, Loop) and part.columns:
            add_loop_table(document, part.columns, part.item, part.items)
        elif isinstance(part, Loop):
            for text in (f"{{%p for {part.item} in {part.items} %}}", *part.lines, "{%p endfor %}"):
                document.add_paragraph(text)
        else:
            layout = document.add_paragraph(part.text, part.style).paragraph_format
            if part.flush:
                layout.first_line_indent = 0
            layout.page_break_before = part.new_page or None
            layout.keep_with_next = part.keep or None
    save_document(document, path, created)


def add_loop_table(document, columns: list[tuple[str, str, float]], item: str, items: str) -> None:
    """A bordered table: a header row of labels, then one row per element of ``items``, each
    cell ``{{ item.field }}`` (columns are ``(label, field, width in mm)``)."""
    rows = [[label for label, _, _ in columns],
            [f"{{%tr for {item} in {items} %}}"] + [""] * (len(columns) - 1),
            [f"{{{{ {item}.{field} }}}}" for _, field, _ in columns],
            ["{%tr endfor %}"] + [""] * (len(columns) - 1)]
    table = document.add_table(rows=len(rows), cols=len(columns))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for column, (_, _, width) in zip(table.columns, columns):
        column.width = Mm(width)  # the grid: LibreOffice and WPS take widths from it
    for row in table.rows:  # a row is never split across pages
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeated on every page
    for row, texts in zip(table.rows, rows):
        for cell, text, (_, _, width) in zip(row.cells, texts, columns):
            cell.width = Mm(width)
            cell.paragraphs[0].text = text
            cell.paragraphs[0].style = document.styles[STYLE_TABLE]


def save_document(document, path: Path, created: dt.datetime, kept: dict[str, zips.Member] | None = None) -> None:
    """Save ``document`` atomically with every stored date pinned to ``created``; a member named
    in ``kept`` is written as given there (its bytes as stored) instead of as the document has it."""
    buffer = io.BytesIO()
    document.save(buffer)
    kept = kept or {}
    data = zips.packed([kept.get(info.filename, (info, stored))
                        for info, stored in zips.members(buffer.getvalue())], created)
    with replacing(path, "Word/WPS") as temp:
        Path(temp).write_bytes(data)


_UNDEFINED = re.compile(r"'(?:[^']*object' has no attribute ')?([^']+)'")


class _Environment(jinja2.Environment):
    """Jinja that compiles each distinct part of a template once: docxtpl asks for the same
    parts (document, headers, footers) again for every document rendered from a template."""

    def __init__(self):
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=True)
        self._compiled: dict[str, jinja2.Template] = {}

    def from_string(self, source, globals=None, template_class=None):
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        if source not in self._compiled:
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]


@dataclass(frozen=True)
class Prepared:
    """A template file as rendering needs it: its bytes and the placeholders it uses."""

    source: bytes
    placeholders: frozenset[str]

    @functools.cached_property
    def slim(self) -> tuple[bytes, dict[str, zips.Member]]:
        """The template to render from, with the parts rendering leaves alone (styles, theme,
        settings, pictures: most of its bytes) emptied; and those parts as the template stores
        them, put into each document unread. A template whose parts cannot be emptied so is
        rendered whole. Made when first rendered from, then kept."""
        return _slim(self.source)


_PREPARED: dict[Path, Prepared] = {}  # by file, as it was when prepared


def prepare(path: Path) -> Prepared:
    """The template file at ``path`` prepared, once in a process while the file holds the same
    bytes: a collect prepares its notice template while its readers work, and the workers it
    starts to write the notices find it prepared. A template that cannot be opened, or whose
    placeholders Jinja cannot read, is a TemplateError."""
    try:
        source = path.read_bytes()
        if path in _PREPARED and _PREPARED[path].source == source:
            return _PREPARED[path]
        placeholders = frozenset(DocxTemplate(io.BytesIO(source)).get_undeclared_template_variables(_Environment()))
    except (OSError, PackageNotFoundError, zipfile.BadZipFile, KeyError, SyntaxError) as exc:  # lxml's XMLSyntaxError too
        raise TemplateError(f"Word 模板 {path} 无法打开（文件已损坏或不是 .docx 文件）。"
                            f"请用 Word/WPS 另存为 .docx，或删除它，系统会重新写出原始模板。") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"Word 模板 {path} 中的占位写法有误（{exc.message}）。"
                            "请对照原始模板修改，占位写成 {{ 名称 }}。") from exc
    _PREPARED[path] = prepared = Prepared(source, placeholders)
    return prepared


def _slim(source: bytes) -> tuple[bytes, dict[str, zips.Member]]:
    """``Prepared.slim``, of a template's bytes."""
    document = Document(io.BytesIO(source))
    main = document.part.partname
    kept = {part.partname.lstrip("/"): part.content_type for part in document.part.package.iter_parts()
            if part.partname != main and part.content_type not in _RENDERED}
    stored, buffer = {}, io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as template, zipfile.ZipFile(buffer, "w") as out:
        for info in template.infolist():
            content_type = kept.get(info.filename) if info.compress_type in zips.COPIED else None
            data = template.read(info) if content_type is None or content_type.endswith("xml") else b""
            emptied = None if content_type is None else _emptied(data, content_type)
            if emptied is not None:
                stored[info.filename], data = (info, zips.stored_bytes(source, info)), emptied
            out.writestr(info.filename, data)
    slim = buffer.getvalue()
    try:
        Document(io.BytesIO(slim))
    except Exception:  # noqa: BLE001 - an unusual part python-docx cannot take emptied
        return source, {}
    return slim, stored


class WordTemplate:
    """An office-editable Word template, checked once against the placeholders the program fills
    (``keys``), then rendered for as many contexts as needed.

    A placeholder the program does not provide, or a template Jinja cannot read, is a
    TemplateError naming it, never a half-filled document.
    """

    def __init__(self, path: Path, keys):
        self.path = Path(path)
        self.environment = _Environment()
        self.prepared = prepare(self.path)
        unknown = sorted(self.prepared.placeholders - set(keys))
        if unknown:
            raise TemplateError(f"Word 模板 {path} 中有系统不认识的占位：{'、'.join(unknown)}。"
                                f"可用的占位有：{'、'.join(sorted(keys))}。")

    @property
    def slim(self) -> tuple[bytes, dict[str, zips.Member]]:
        return self.prepared.slim

    def stamp(self, context: dict, created: dt.datetime) -> str:
        """What the document for ``context`` is made from, as a hash: the program, the template,
        the placeholders and the date. It is kept in the document (its identifier property)."""
        return content_hash(program_version().encode(), docx.__version__.encode(), docxtpl.__version__.encode(),
                            self.prepared.source, created.isoformat().encode(),
                            json.dumps(context, ensure_ascii=False, sort_keys=True, default=str).encode())

    def render(self, context: dict, path: Path, created: dt.datetime) -> None:
        """The document for ``context`` (which has every key the template was checked against)."""
        source, kept = self.slim
        document = DocxTemplate(io.BytesIO(source))
        try:
            document.render(context, self.environment, autoescape=True)
        except jinja2.UndefinedError as exc:
            match = _UNDEFINED.search(str(exc))
            raise TemplateError(f"Word 模板 {self.path} 中的占位“{match.group(1) if match else exc}”无法填写。"
                                "请对照原始模板修改。") from exc
        _place_signature(document.docx, context.get("office", ""), context.get("date", ""))
        properties = document.docx.core_properties
        properties.created = properties.modified = created
        properties.identifier = self.stamp(context, created)
        properties.comments = ""  # the library's own note, which the office did not write
        save_document(document, path, created, kept)


# The parts rendering changes, besides the main part: headers, footers and footnotes hold
# placeholders; the core properties record the document's stamp and dates.
_RENDERED = {CONTENT_TYPE.WML_HEADER, CONTENT_TYPE.WML_FOOTER, CONTENT_TYPE.WML_FOOTNOTES,
             CONTENT_TYPE.OPC_CORE_PROPERTIES}
# An XML part's root element: its start tag (UTF-8), after what may come before it (``_PROLOG``).
_ROOT_ELEMENT = re.compile(rb"<[A-Za-z_][^\s/>]*(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*\s*/?>")
_PROLOG = ((b"<?", b"?>"), (b"<!--", b"-->"))  # the declaration, processing instructions, comments
_SPACE = re.compile(rb"\s*")


def _emptied(data: bytes, content_type: str) -> bytes | None:
    """A part with nothing in it: an XML part's root element alone (python-docx parses it),
    another part's no bytes; None for an XML part whose root element is not found."""
    if not content_type.endswith("xml"):
        return b""
    at = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while True:  # each step goes past one thing before the root element, or stops
        at = _SPACE.match(data, at).end()
        close = next((close for start, close in _PROLOG if data.startswith(start, at)), None)
        if close is None:
            break
        end = data.find(close, at)
        if end < 0:
            return None
        at = end + len(close)
    root = _ROOT_ELEMENT.match(data, at)
    if root is None:
        return None
    element = root.group(0)
    return element if element.endswith(b"/>") else element[:-1] + b"/>"


_IDENTIFIER = re.compile(rb"<dc:identifier\b[^>]*>([^<]*)</")


def written_as(path: Path, stamp: str, created: dt.datetime) -> bool:
    """Whether the document at ``path`` is one WordTemplate.render wrote with ``stamp`` (its
    identifier) and nobody has saved since."""
    return zips.written_as(path, stamp, created, "docProps/core.xml", _IDENTIFIER)


def render_template(template: Path, context: dict, path: Path, created: dt.datetime) -> None:
    """Render an office-editable Word template with ``context`` into ``path`` (one document)."""
    WordTemplate(template, context.keys()).render(context, path, created)


def _width(text: str) -> float:
    """Width in characters of the body font: Latin letters and digits take half a character."""
    return sum(0.5 if char.isascii() else 1 for char in text)


def _place_signature(document, office: str, date: str) -> None:
    """GB/T 9704 7.3.5.2, a document without a seal: the office (the line reading ``office``) two
    characters from the right, the date on the next line starting two characters to the right of
    the office's first character; a date longer than that moves the office left so the date still
    ends two characters in."""
    paragraphs = document.paragraphs
    for line, following in zip(paragraphs, paragraphs[1:]):
        if office and line.text.strip() == office and following.text.strip() == date:
            shift = _width(date) - (_width(office) - 2)
            line.paragraph_format.right_indent = Pt(BODY_SIZE.pt * (2 + max(shift, 0)))
            following.paragraph_format.right_indent = Pt(BODY_SIZE.pt * (2 + max(-shift, 0)))
