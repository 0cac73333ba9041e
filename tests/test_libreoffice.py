"""Issued templates in a real application: headless LibreOffice prints them, whole when filled,
and re-saves them readably.

LibreOffice must be installed (``.ci/run`` installs it): without it these tests fail, never skip.
Each conversion takes seconds, so there are only three.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from pipeline import cycle
from pipeline.fill import (NEXT_PHRASES, PROBLEM_PHRASES, PROGRESS_PHRASES, Filling, fill_template, sample_header,
                           sample_text)
from pipeline.identity import IDENTITY_SHEET, Identity, defined_name
from pipeline.ledger import Ledger, packed_answers
from pipeline.templates import CHECK_LABEL
from pipeline.workspace import SAMPLE_PLAN, Workspace
from pipeline.xlsxout import formula_text

PERIOD = "2018-06"
UNIT = "S009"
# Forces recalculation on load, so that the self-check formula is checked against its cached value.
RECALCULATE_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str:
    path = shutil.which("soffice")
    if path is None:
        pytest.fail("LibreOffice (soffice) is not installed; .ci/run installs it.")
    return path


def convert(source: Path, target_format: str, tmp_path: Path, recalculate: bool = False) -> Path:
    """Convert with headless LibreOffice in a profile of its own (parallel runs clash on a shared one)."""
    profile = tmp_path / "profile"
    if recalculate:
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(RECALCULATE_ON_LOAD, encoding="utf-8")
    out = tmp_path / "out"
    result = subprocess.run(
        [soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", target_format, "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=180,
    )
    converted = out / f"{source.stem}.{target_format.split(':')[0]}"
    assert result.returncode == 0 and converted.is_file(), result.stdout + result.stderr
    return converted


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> tuple[Workspace, Path]:
    """A unit's template prefilled from last month's answers: a lagging row, a not-started row."""
    workspace = Workspace.init(tmp_path_factory.mktemp("lo") / "ws")
    cycle.load_plan(workspace, workspace.input_dir / SAMPLE_PLAN.name)
    ids = [task.id for task, _ in cycle.current_plan(workspace).tasks_of(UNIT)]
    answers = {
        ids[0]: {"status": "序时推进", "percent": "80", "progress": "=已公开 12 条"},
        ids[1]: {"status": "进度滞后", "percent": "30", "progress": "正在梳理"},
        ids[2]: {"status": "未启动", "percent": "0"},
    }
    with Ledger(workspace.ledger_path) as ledger:
        ledger.record_answers("2018-05", UNIT, None, packed_answers(answers))
    issue = cycle.issue_templates(workspace, PERIOD)
    return workspace, next(path for path in issue.files if path.name.startswith(UNIT))


def pdf_text(pdf: Path) -> str:
    """The PDF's text in drawing order (cell by cell), without spaces and line breaks."""
    result = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True)
    return re.sub(r"\s+", "", result.stdout)


def pdf_pages(pdf: Path) -> int:
    result = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", result.stdout, re.M).group(1))


def with_stale_check_value(source: Path, target: Path) -> Path:
    """A copy whose self-check caches a wrong count, so that only a recalculation puts it right."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb"(</f><v>)\d+(</v>)", rb"\g<1>9999\2", data)
                assert count == 1
            copy.writestr(item, data)
    return target


def check_value(path: Path, spec) -> object:
    """The self-check cell's value as last calculated (cached)."""
    sheet = openpyxl.load_workbook(path, data_only=True)[spec.data_sheet]
    label = next(c for row in sheet.iter_rows() for c in row if c.value == CHECK_LABEL)
    return sheet.cell(label.row, label.column + 1).value


def test_libreoffice_converts_a_template_to_pdf(issued, tmp_path):
    _, template = issued
    pdf = convert(template, "pdf", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000


def test_a_template_filled_with_long_answers_prints_every_word(issued, tmp_path):
    """Five tasks answered at length (500, 300 and 350 characters), the others not at all: every
    answer and every task's requirement is in the print-out, the long rows a page or less each."""
    workspace, template = issued
    spec = workspace.spec()
    tasks = cycle.current_plan(workspace).tasks_of(UNIT)
    rng = random.Random(5)
    lengths = {"progress": (PROGRESS_PHRASES, 500), "problems": (PROBLEM_PHRASES, 300),
               "next_steps": (NEXT_PHRASES, 350)}
    answers = {
        task.id: {spec.role("status").label: spec.lagging, spec.role("percent").label: 60,
                  spec.role("evidence").label: f"https://www.example.gov.cn/zwgk/{task.id}/index.html",
                  **{spec.role(role).label: sample_text(rng, phrases, length)
                     for role, (phrases, length) in lengths.items()}}
        for task, _role in tasks[:5]
    }
    filled = tmp_path / template.name
    fill_template(template, filled, spec, Filling(sample_header(spec, 9, f"{PERIOD}-25"), answers))
    pdf = convert(filled, "pdf", tmp_path)

    printed = pdf_text(pdf)
    long_texts = [answer[spec.role(role).label] for answer in answers.values() for role in lengths]
    assert min(map(len, long_texts)) >= 299
    urls = [answer[spec.role("evidence").label] for answer in answers.values()]
    missing = [text[:20] for text in [*long_texts, *urls, *(task.requirement for task, _role in tasks)]
               if re.sub(r"\s+", "", text) not in printed]
    assert not missing
    # A page or less for each long row, one for the other rows, one for the 填报说明 sheet.
    assert 3 <= pdf_pages(pdf) <= len(answers) + 2, pdf_pages(pdf)


def test_a_libreoffice_resave_keeps_identity_names_values_and_the_self_check(issued, tmp_path):
    workspace, template = issued
    spec = workspace.spec()
    stale = with_stale_check_value(template, tmp_path / template.name)
    resaved = convert(stale, "xlsx", tmp_path, recalculate=True)
    workbook = openpyxl.load_workbook(resaved)

    sheet = workbook[IDENTITY_SHEET]
    assert sheet.sheet_state in ("hidden", "veryHidden")  # LibreOffice keeps only "hidden"
    identity = Identity.from_rows({a: b for a, b in sheet.iter_rows(values_only=True)})
    assert identity is not None and identity.verify(workspace.secret_key())
    assert identity.unit_code == UNIT and identity.period == PERIOD
    for name, text in identity.rows():
        assert workbook.defined_names[defined_name(name)].attr_text == formula_text(text)

    data = workbook[spec.data_sheet]
    labels = [c.label for c in spec.columns]
    header = next(row[0].row for row in data.iter_rows() if [c.value for c in row[: len(labels)]] == labels)
    cells = {c.key: index + 1 for index, c in enumerate(spec.columns)}
    first, second, third = (header + 1, header + 2, header + 3)
    assert data.cell(first, cells["status"]).value == "序时推进"
    assert data.cell(first, cells["percent"]).value == 80
    assert data.cell(first, cells["progress"]).value == "=已公开 12 条"
    assert data.cell(second, cells["status"]).value == "进度滞后"
    assert data.cell(third, cells["percent"]).value == 0
    assert data.cell(first, cells["status"]).protection.locked is False

    # LibreOffice recalculated the self-check: the formula agrees with the value Python cached.
    assert check_value(stale, spec) == 9999
    assert check_value(resaved, spec) == check_value(template, spec) > 0
