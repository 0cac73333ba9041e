"""The 工作通报: facts from a hand-made ledger found in the document's text, 公文 page set-up read
back, the office's template edits honoured, and LibreOffice Writer able to print it."""

from __future__ import annotations

import datetime as dt
import re
import struct
import subprocess
import zipfile
import zlib

import docx
import pytest
from click.testing import CliRunner
from docx.shared import Mm, Pt
from docxtpl import DocxTemplate

from pipeline import cycle, gongwen, zips
from pipeline.cli import cli
from pipeline.documents import BULLETIN_NAME, BULLETIN_TEMPLATE, notice_name, shorten
from pipeline.periods import issue_date

from test_libreoffice import convert
from helpers import INJECTION, SUBMISSIONS, UNITS

PERIOD = "2018-06"
DEADLINE = "2018-06-25"  # the sample config's deadline day for June


def expected_units() -> dict[str, list[str]]:
    """Worked out from the fixture's rows, not by the code: each unit's standing June file."""
    standing = {unit: date for period, unit, _name, status, date, _ in SUBMISSIONS
                if period == PERIOD and status == "accepted"}
    names = {code: name for code, name, *_ in UNITS}
    return {
        "on_time": [names[c] for c in names if c in standing and standing[c] <= DEADLINE],
        "late": [names[c] for c in names if c in standing and standing[c] > DEADLINE],
        "missing": [names[c] for c in names if c not in standing],
    }


def paragraphs(path) -> list[str]:
    return [p.text for p in docx.Document(str(path)).paragraphs]


def after(lines: list[str], heading: str) -> str:
    """The paragraph that follows the one starting with ``heading``."""
    return lines[next(i for i, line in enumerate(lines) if line.startswith(heading)) + 1]


def test_every_count_and_unit_of_the_ledger_is_in_the_bulletin(ledger_workspace):
    run = cycle.report_period(ledger_workspace, PERIOD)
    assert run.bulletin == ledger_workspace.period_output(PERIOD) / BULLETIN_NAME
    lines = paragraphs(run.bulletin)
    units = expected_units()
    reported = len(units["on_time"]) + len(units["late"])
    assert (f"本期应报送单位{len(UNITS)}个，已报送{reported}个，其中按时报送{len(units['on_time'])}个、"
            f"逾期报送{len(units['late'])}个，退回修改0个；未报送{len(units['missing'])}个。"
            "报送截止日为2018年6月25日。") in lines
    for heading, key in (("（一）按时报送的单位", "on_time"), ("（二）逾期报送的单位", "late"),
                         ("（四）未报送的单位", "missing")):
        assert after(lines, heading) == "、".join(units[key]) + "。"
    assert after(lines, "（三）退回修改的单位") == "无。"
    # Task 1-1 (deadline end of May, lead 甲局 序时推进) is overdue; 乙局's problem is quoted as written.
    overdue = next(line for line in lines if line.startswith("1. 任务1-1"))
    assert overdue.startswith("1. 任务1-1“任务一”（牵头单位：甲局），总体状态为“序时推进”，已过完成时限（2018年5月底前）。")
    assert f"乙局反映：{INJECTION}" in overdue
    assert "计划共3项任务，按总体状态：已完成1项，序时推进2项。" in " ".join(lines)
    # Overall status May -> June: 1-1 序时推进 both months (lead 甲局); 1-2 未启动 (丙局 alone) -> 序时推进;
    # 2-1 had no report in May, so it is not compared.
    assert after(lines, "三、较上月变化") == ("与上月相比，2项可比较的任务中，总体状态前进1项（任务1-2由“未启动”到“序时推进”），"
                                          "未变1项。")
    table = docx.Document(str(run.bulletin)).tables[0]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["序号", "单位名称", "报送情况", "报送日期", "承担任务", "已完成", "进度滞后"]
    assert [(r[1], r[2]) for r in rows[1:]] == [("甲局", "按时报送"), ("乙局", "按时报送"), ("丙局", "逾期报送"),
                                               ("丁区政府", "未报送")]


def test_the_bulletin_is_laid_out_as_gongwen(ledger_workspace):
    document = docx.Document(str(cycle.report_period(ledger_workspace, PERIOD).bulletin))
    section = document.sections[0]
    def mm(length: int) -> float:  # EMU; Word stores twentieths of a point
        return round(length / 36000, 1)

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert (mm(section.top_margin), mm(section.left_margin)) == (37, 28)
    assert mm(section.page_width - section.left_margin - section.right_margin) == 156
    assert mm(section.page_height - section.top_margin - section.bottom_margin) == 225
    normal = document.styles["Normal"]
    assert normal.font.size == Pt(16) and normal.paragraph_format.line_spacing == Pt(28.95)
    assert normal.element.rPr.rFonts.get(docx.oxml.ns.qn("w:eastAsia")) == "仿宋_GB2312"
    title = document.paragraphs[0]
    assert title.style.name == gongwen.STYLE_TITLE and title.style.font.size == Pt(22)
    assert document.styles[gongwen.STYLE_HEADING].element.rPr.rFonts.get(docx.oxml.ns.qn("w:eastAsia")) == "黑体"
    footer = section.footer.paragraphs[0]
    assert footer.text.startswith("— ") and footer.text.endswith(" —") and "PAGE" in footer._p.xml
    assert document.settings.odd_and_even_pages_header_footer


def test_the_same_ledger_gives_the_same_document(ledger_workspace):
    first = cycle.report_period(ledger_workspace, PERIOD).bulletin.read_bytes()
    assert cycle.report_period(ledger_workspace, PERIOD).bulletin.read_bytes() == first


def edit_template(path, old: str, new: str) -> None:
    """Change the text of the template's paragraphs as an office would in Word."""
    document = docx.Document(str(path))
    for paragraph in document.paragraphs:
        if old in paragraph.text:
            paragraph.runs[0].text = paragraph.text.replace(old, new)
            for run in paragraph.runs[1:]:
                run.text = ""
    document.save(str(path))


def test_the_offices_edits_to_the_template_are_its_wording(ledger_workspace):
    cycle.report_period(ledger_workspace, PERIOD)
    template = ledger_workspace.templates_dir / BULLETIN_TEMPLATE
    edit_template(template, "各有关单位：", "各县（市、区）人民政府，市直各单位（截止{{ deadline }}）：")
    edit_template(template, "被退回修改的单位要按照退回通知逐项改正", "退回修改的单位请三日内改正")
    lines = paragraphs(cycle.report_period(ledger_workspace, PERIOD).bulletin)
    assert "各县（市、区）人民政府，市直各单位（截止2018年6月25日）：" in lines
    assert any(line.startswith("（二）退回修改的单位请三日内改正") for line in lines)


def test_an_unknown_placeholder_is_named_in_chinese(ledger_workspace):
    cycle.report_period(ledger_workspace, PERIOD)
    template = ledger_workspace.templates_dir / BULLETIN_TEMPLATE
    edit_template(template, "各有关单位：", "{{ 主送单位 }}：")
    result = CliRunner().invoke(cli, ["-w", str(ledger_workspace.root), "report", PERIOD])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"错误：Word 模板 {template} 中有系统不认识的占位：主送单位。可用的占位有：")
    edit_template(template, "{{ 主送单位 }}：", "{{ title ：")
    result = CliRunner().invoke(cli, ["-w", str(ledger_workspace.root), "report", PERIOD])
    assert result.exit_code == 1 and "中的占位写法有误" in result.stderr


def test_a_damaged_template_is_told_and_a_deleted_one_comes_back(ledger_workspace):
    template = ledger_workspace.templates_dir / BULLETIN_TEMPLATE
    cycle.report_period(ledger_workspace, PERIOD)
    template.write_bytes(b"not a document")
    result = CliRunner().invoke(cli, ["-w", str(ledger_workspace.root), "report", PERIOD])
    assert result.exit_code == 1
    assert result.stderr == (f"错误：Word 模板 {template} 无法打开（文件已损坏或不是 .docx 文件）。"
                             "请用 Word/WPS 另存为 .docx，或删除它，系统会重新写出原始模板。\n")
    template.unlink()
    assert cycle.report_period(ledger_workspace, PERIOD).bulletin.is_file() and template.is_file()
    # A part damaged inside a sound zip (a comment never closed).
    with zipfile.ZipFile(template) as original:
        parts = [(info, original.read(info)) for info in original.infolist()]
    with zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as damaged:
        for info, data in parts:
            damaged.writestr(info, b'<?xml version="1.0"?><!-- ' if info.filename == "word/settings.xml" else data)
    result = CliRunner().invoke(cli, ["-w", str(ledger_workspace.root), "report", PERIOD])
    assert result.exit_code == 1 and result.stderr.startswith(f"错误：Word 模板 {template} 无法打开（文件已损坏")


def test_libreoffice_writer_prints_the_bulletin(ledger_workspace, tmp_path):
    pdf = convert(cycle.report_period(ledger_workspace, PERIOD).bulletin, "pdf", tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "一、报送情况" in text and "丁区政府" in text and re.search(r"—\s*1\s*—", text)


@pytest.mark.parametrize("text, expected", [
    ("短句。", "短句。"),
    ("甲" * 30 + "。" + "乙" * 20 + "，" + "丙" * 30, "甲" * 30 + "。……"),  # the last sentence end
    ("甲" * 30 + "，" + "乙" * 50, "甲" * 30 + "，……"),  # else the last clause
    ("丙" * 100, "丙" * 60 + "……"),  # else at the limit
    ("换行\n  和空格。", "换行 和空格。"),
])
def test_problems_are_shortened_at_a_sentence_end(text, expected):
    assert shorten(text) == expected


def test_a_pinned_date_makes_every_zip_member_the_same(tmp_path):
    created = dt.datetime(2018, 1, 1)
    document = gongwen.new_document(created)
    document.add_paragraph("正文")
    gongwen.save_document(document, tmp_path / "a.docx", created)
    gongwen.save_document(document, tmp_path / "b.docx", created)
    assert (tmp_path / "a.docx").read_bytes() == (tmp_path / "b.docx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.docx") as written:
        assert written.testzip() is None
        assert {info.date_time for info in written.infolist()} == {(2018, 1, 1, 0, 0, 0)}


def stored_members(path) -> dict[str, bytes]:
    """Each member of a zip as it is stored (compressed), by name."""
    return {info.filename: bytes(raw) for info, raw in zips.members(path.read_bytes())}


def test_a_template_saved_by_an_office_program_is_its_own_in_every_part_rendering_leaves(ledger_workspace, tmp_path):
    """LibreOffice saves the template in its own way (styles, settings, fonts, theme); those parts
    go into the 通报 exactly as the template stores them, and Writer prints the result."""
    cycle.report_period(ledger_workspace, PERIOD)
    template = ledger_workspace.templates_dir / BULLETIN_TEMPLATE
    template.write_bytes(convert(template, "docx:MS Word 2007 XML", tmp_path).read_bytes())
    bulletin = cycle.report_period(ledger_workspace, PERIOD).bulletin
    ours, theirs = stored_members(bulletin), stored_members(template)
    left = {"word/styles.xml", "word/settings.xml", "word/fontTable.xml"}
    assert left <= theirs.keys() and all(ours[name] == theirs[name] for name in left)
    assert ours["word/document.xml"] != theirs["word/document.xml"]
    assert "丁区政府" in " ".join(paragraphs(bulletin))
    pdf = convert(bulletin, "pdf", tmp_path / "print")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "一、报送情况" in text and "丁区政府" in text


def test_a_part_that_cannot_be_emptied_is_rendered_with_the_rest(ledger_workspace, tmp_path):
    """A styles part in UTF-16 (its root element not found as UTF-8), and a theme python-docx does
    not parse that holds comments and no element, are loaded and written as the document's other
    parts are; the 通报 comes out the same."""
    first = paragraphs(cycle.report_period(ledger_workspace, PERIOD).bulletin)
    template = ledger_workspace.templates_dir / BULLETIN_TEMPLATE
    with zipfile.ZipFile(template) as original:
        parts = [(info, original.read(info)) for info in original.infolist()]
    styles = next(data for info, data in parts if info.filename == "word/styles.xml")
    utf16 = styles.decode("utf-8").replace("encoding='UTF-8'", "encoding='UTF-16'").encode("utf-16")
    changed_parts = {"word/styles.xml": utf16, "word/theme/theme1.xml": b"<?xml version='1.0'?>" + b"<!-- -->" * 40}
    with zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as changed:
        for info, data in parts:
            changed.writestr(info.filename, changed_parts.get(info.filename, data))
    word = gongwen.WordTemplate(template, DocxTemplate(str(template)).get_undeclared_template_variables())
    assert not changed_parts.keys() & word.slim[1].keys() and "word/settings.xml" in word.slim[1]
    second = cycle.report_period(ledger_workspace, PERIOD).bulletin
    assert paragraphs(second) == first
    with zipfile.ZipFile(second) as written:
        assert written.read("word/theme/theme1.xml") == changed_parts["word/theme/theme1.xml"]
    assert docx.Document(str(second)).styles[gongwen.STYLE_TITLE].font.size == gongwen.TITLE_SIZE


@pytest.mark.parametrize("period, today, expected", [
    ("2018-06", dt.date(2026, 11, 30), dt.date(2018, 7, 31)),  # long past: the end of the next month
    ("2026-11", dt.date(2026, 11, 30), dt.date(2026, 11, 30)),  # this month: today
    ("2026-10", dt.date(2026, 11, 5), dt.date(2026, 11, 5)),  # last month, early in this one: today
    ("2025-12", dt.date(2026, 3, 1), dt.date(2026, 1, 31)),  # across the new year
])
def test_documents_are_dated_today_or_for_a_month_long_past_the_end_of_the_next(period, today, expected):
    assert issue_date(period, today) == expected


def test_notice_names_are_safe_and_short_whatever_the_unit_is_called():
    name = notice_name("S/9", "长" * 300 + "局<>", "退回修改通知")
    assert not set('\\/:*?"<>|') & set(name) and name.startswith("S_9_") and name.endswith("_退回修改通知.docx")
    assert len(name) < 100


def png(width: int = 4, height: int = 2) -> bytes:
    """A small valid PNG, all red."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_a_picture_the_office_put_in_the_header_is_in_every_document_as_the_template_stores_it(
        ledger_workspace, tmp_path):
    cycle.report_period(ledger_workspace, PERIOD)
    template = ledger_workspace.templates_dir / BULLETIN_TEMPLATE
    document = docx.Document(str(template))
    (tmp_path / "徽标.png").write_bytes(png())
    document.sections[0].header.paragraphs[0].add_run().add_picture(str(tmp_path / "徽标.png"), width=Mm(20))
    document.save(str(template))
    bulletin = cycle.report_period(ledger_workspace, PERIOD).bulletin
    ours, theirs = stored_members(bulletin), stored_members(template)
    [picture] = [name for name in theirs if name.startswith("word/media/")]
    assert ours[picture] == theirs[picture]
    with zipfile.ZipFile(bulletin) as written:
        [embedded] = [re.search(rb'r:embed="([^"]+)"', written.read(name)) for name in written.namelist()
                      if name.startswith("word/header") and b"r:embed" in written.read(name)]
    header = docx.Document(str(bulletin)).sections[0].header
    assert header.part.related_parts[embedded.group(1).decode()].blob == png()
    assert "丁区政府" in " ".join(paragraphs(bulletin))
