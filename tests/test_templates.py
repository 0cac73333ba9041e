"""The monthly fill-in workbooks: one per unit, protected, validated, self-checking, signed, print-ready."""

from __future__ import annotations

import math
import tomllib
import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from click.testing import CliRunner

from pipeline import cycle
from pipeline.cli import cli
from pipeline.errors import OutputError, SpecError
from pipeline.form import BUNDLED_SPEC, load_spec, parse_spec
from pipeline.identity import IDENTITY_SHEET, Identity, defined_name
from pipeline.ledger import Ledger, packed_answers
from pipeline.templates import (
    CHECK_LABEL,
    LIST_SHEET,
    TemplateContext,
    TemplateJob,
    template_name,
    units_with_tasks,
    write_template,
    write_templates,
)
from pipeline.units import Unit
from pipeline.workspace import SAMPLE_PLAN, Workspace
from pipeline.xlsxout import FORMULA_TEXT_LIMIT, LINE_HEIGHT, formula_text, lines_needed

from helpers import Counting

PERIOD = "2018-06"
UNIT = "S009"  # 市财政局: lead, responsible and 分别负责 tasks
# Excel: a column width counts digits of the workbook's default font, Calibri 11 pt, 7 pixels
# each (the stored width includes the cell's padding); a pixel is 3/4 pt.
DIGIT_PIXELS = 7
A4_LONG_SIDE = 841.89  # pt
FORBIDDEN_IN_FILE_NAMES = set('\\/:*?"<>|')


def new_workspace(root: Path) -> Workspace:
    workspace = Workspace.init(root)
    cycle.load_plan(workspace, workspace.input_dir / SAMPLE_PLAN.name)
    return workspace


def add_answers(workspace: Workspace, period: str, unit: str, answers: dict[str, dict[str, str]]) -> None:
    """Accepted answers as the collect stage records them: task ID -> input column key -> text."""
    with Ledger(workspace.ledger_path) as ledger:
        ledger.record_answers(period, unit, None, packed_answers(answers))


@pytest.fixture(scope="module")
def issued(tmp_path_factory) -> tuple[Workspace, cycle.TemplateIssue]:
    """The sample plan and registry with the templates for PERIOD issued."""
    workspace = new_workspace(tmp_path_factory.mktemp("templates") / "ws")
    return workspace, cycle.issue_templates(workspace, PERIOD)


def file_of(issue: cycle.TemplateIssue, code: str) -> Path:
    return next(path for path in issue.files if path.name.startswith(code + "_"))


class Layout:
    """A template's data sheet read back by the labels, the way the reader finds things."""

    def __init__(self, path: Path, spec=None, data_only: bool = False):
        self.spec = spec or load_spec()
        self.workbook = openpyxl.load_workbook(path, data_only=data_only)
        self.sheet = self.workbook[self.spec.data_sheet]
        labels = [c.label for c in self.spec.columns]
        self.table_row = next(
            row[0].row for row in self.sheet.iter_rows()
            if [cell.value for cell in row[: len(labels)]] == labels
        )
        self.col = {c.key: index + 1 for index, c in enumerate(self.spec.columns)}
        self.task_rows = list(range(self.table_row + 1, self.sheet.max_row + 1))

    def label(self, text: str):
        """The cell holding a header-block label."""
        return next(cell for row in self.sheet.iter_rows(max_row=self.table_row - 1) for cell in row
                    if cell.value == text)

    def right_of(self, text: str):
        cell = self.label(text)
        return self.sheet.cell(cell.row, cell.column + 1)

    def cell(self, row: int, key: str):
        return self.sheet.cell(row, self.col[key])

    def task_ids(self) -> list[str]:
        return [self.cell(row, "task_id").value for row in self.task_rows]

    def identity(self) -> Identity:
        sheet = self.workbook[IDENTITY_SHEET]
        return Identity.from_rows({a: b for a, b in sheet.iter_rows(values_only=True)})

    def validation(self, key: str):
        column = get_column_letter(self.col[key])
        ref = f"{column}{self.task_rows[0]}:{column}{self.task_rows[-1]}"
        return next(v for v in self.sheet.data_validations.dataValidation if str(v.sqref) == ref)


# ------------------------------------------------------------------------- one per unit


def test_one_workbook_per_unit_holding_exactly_its_tasks(issued):
    workspace, issue = issued
    plan = cycle.current_plan(workspace).to_json()
    expected: dict[str, list[str]] = {}
    for task in plan["tasks"]:
        for unit in task["units"]:
            expected.setdefault(unit["code"], []).append(task["id"])
    names = {u["code"]: u["name"] for t in plan["tasks"] for u in t["units"]}

    assert issue.folder == workspace.root / "output" / PERIOD / "填报模板"
    assert sorted(p.name for p in issue.folder.iterdir()) == sorted(p.name for p in issue.files)
    assert issue.units == len(expected) and issue.rows == sum(map(len, expected.values()))
    assert issue.without_tasks == len(Ledger(workspace.ledger_path).registry().units) - len(expected)
    for code, ids in expected.items():
        path = file_of(issue, code)
        assert path.name == f"{code}_{names[code]}_{PERIOD}.xlsx"
        layout = Layout(path)
        assert layout.task_ids() == ids
        assert layout.identity().task_ids == tuple(ids)
        assert layout.right_of("填报单位").value == names[code]


def test_layout_follows_the_contract(issued):
    workspace, issue = issued
    spec, config = workspace.spec(), workspace.config()
    plan = cycle.current_plan(workspace)
    layout = Layout(file_of(issue, UNIT), spec)
    sheet = layout.sheet

    assert layout.workbook.sheetnames[0] == spec.data_sheet
    assert sheet["A1"].value == spec.format_title(city=config.city, plan_title=plan.title, year=2018,
                                                  month=6, unit="市财政局")
    merged = [str(r) for r in sheet.merged_cells.ranges]
    for label in [*(f.label for f in spec.header), CHECK_LABEL]:
        cell = layout.label(label)
        assert 1 < cell.row < layout.table_row - 1  # below the title, a blank row before the table
        assert all(cell.coordinate not in CellRange(r) for r in merged)
    assert all(cell.value is None for cell in sheet[layout.table_row - 1])
    tasks = plan.tasks_of(UNIT)
    assert len(layout.task_rows) == len(tasks)
    for row, (task, role) in zip(layout.task_rows, tasks):
        assert layout.cell(row, "requirement").value == task.requirement
        assert layout.cell(row, "role").value == role
        assert layout.cell(row, "deadline").value == (task.deadline or None)
        assert layout.cell(row, "task_id").data_type == "s"


def test_task_cells_locked_input_cells_open_sheet_and_structure_protected(issued):
    workspace, issue = issued
    spec = workspace.spec()
    layout = Layout(file_of(issue, UNIT), spec)
    assert layout.sheet.protection.sheet and not layout.sheet.protection.password
    assert layout.workbook.security.lockStructure
    for row in layout.task_rows:
        for column in spec.columns:
            assert layout.cell(row, column.key).protection.locked == (column.kind == "task")
    for field in spec.header:
        assert layout.right_of(field.label).protection.locked == bool(field.prefill)
    assert layout.right_of(CHECK_LABEL).protection.locked
    for name in (spec.instructions_sheet, LIST_SHEET, IDENTITY_SHEET):
        assert layout.workbook[name].protection.sheet


def test_drop_down_from_the_list_sheet_number_check_and_input_hints(issued):
    workspace, issue = issued
    spec = workspace.spec()
    layout = Layout(file_of(issue, UNIT), spec)
    lists = layout.workbook[LIST_SHEET]
    assert lists.sheet_state == "hidden"
    assert [row[0] for row in lists.iter_rows(values_only=True)] == list(spec.choices)

    status = layout.validation(spec.status_column)
    assert status.type == "list" and status.formula1 == f"{LIST_SHEET}!$A$1:$A${len(spec.choices)}"
    for column in spec.input_columns:
        if column.type == "percent":
            number = layout.validation(column.key)
            assert (number.type, number.formula1, number.formula2) == ("decimal", "0", "100")
            assert number.operator in (None, "between")  # OOXML: between is the default
        if column.hint:
            validation = layout.validation(column.key)
            assert (validation.promptTitle, validation.prompt) == (column.label, column.hint)
            assert validation.showInputMessage
    # Hints are validation input messages, never comments.
    assert all(cell.comment is None for row in layout.sheet.iter_rows() for cell in row)
    dated = next(f for f in spec.header if f.hint)
    cell = layout.right_of(dated.label).coordinate
    assert any(str(v.sqref) == cell and v.prompt == dated.hint for v in layout.sheet.data_validations.dataValidation)


def test_self_check_counts_empty_required_cells_with_a_cached_value(issued):
    workspace, issue = issued
    spec = workspace.spec()
    path = file_of(issue, UNIT)
    formula = Layout(path, spec).right_of(CHECK_LABEL).value
    assert formula.startswith("=SUMPRODUCT(")
    layout = Layout(path, spec, data_only=True)
    required_header = sum(f.required for f in spec.header)
    # Nothing answered: every row misses its status and (status not 未启动) its progress.
    assert layout.right_of(CHECK_LABEL).value == required_header + 2 * len(layout.task_rows)
    rules = [rule for cf in layout.sheet.conditional_formatting for rule in cf.rules if rule.type == "expression"]
    marked = {str(cf.sqref) for cf in layout.sheet.conditional_formatting
              for rule in cf.rules if rule.type == "expression"}
    for key in ("status", "progress", "problems"):
        column = get_column_letter(layout.col[key])
        assert f"{column}{layout.task_rows[0]}:{column}{layout.task_rows[-1]}" in marked
    assert any('"未启动"' in r.formula[0] for r in rules) and any('"进度滞后"' in r.formula[0] for r in rules)
    for field in spec.header:
        assert (layout.right_of(field.label).coordinate in marked) == field.required


def test_print_ready(issued):
    workspace, issue = issued
    spec = workspace.spec()
    layout = Layout(file_of(issue, UNIT), spec)
    sheet = layout.sheet
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToHeight == 0 and sheet.page_setup.fitToWidth in (None, 1)  # None: 1
    assert sheet.print_title_rows == f"${layout.table_row}:${layout.table_row}"
    assert "&P" in sheet.oddFooter.center.text
    notes = layout.workbook[spec.instructions_sheet]
    text = "\n".join(str(row[0]) for row in notes.iter_rows(values_only=True) if row[0])
    assert spec.instructions.splitlines()[0] in text
    assert "2018年6月25日前" in text and workspace.config().phone in text


def printed_size(sheet, font_size: float) -> float:
    """The size ``font_size`` prints at on A4 landscape, the sheet fitted to the page width as
    Excel does it: scaled down by a whole percentage until every column fits between the margins."""
    widths = {col: dimension.width for dimension in sheet.column_dimensions.values()
              for col in range(dimension.min, dimension.max + 1)}
    content = sum(round(widths[col] * DIGIT_PIXELS) for col in range(1, sheet.max_column + 1)) * 0.75
    page = A4_LONG_SIDE - (sheet.page_margins.left + sheet.page_margins.right) * 72
    return font_size * min(100, math.floor(100 * page / content)) / 100


def test_body_text_prints_at_9_pt_or_more(issued):
    workspace, issue = issued
    spec = workspace.spec()
    layout = Layout(file_of(issue, UNIT), spec)
    sheet = layout.sheet
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToHeight == 0
    sizes = {layout.cell(row, column.key).font.sz for row in [layout.table_row, *layout.task_rows]
             for column in spec.columns}
    assert printed_size(sheet, min(sizes)) >= 9


def test_task_rows_have_no_set_height_and_grow_with_their_text(issued):
    """Excel and WPS fit a row without a set height to its wrapped text and grow it as a unit
    types; a set (custom) height would stay fixed and cut the text off, on screen and on paper."""
    workspace, issue = issued
    spec = workspace.spec()
    layout = Layout(file_of(issue, UNIT), spec)
    sheet = layout.sheet
    for row in layout.task_rows:
        assert sheet.row_dimensions[row].height is None and not sheet.row_dimensions[row].customHeight
        for column in spec.columns:
            if column.source == "requirement" or column.type == "text":
                assert layout.cell(row, column.key).alignment.wrap_text
    # The labels above stay as tall as their text needs.
    width = {c.label: c.width for c in spec.columns}
    assert sheet.row_dimensions[layout.table_row].height >= max(
        lines_needed(label, width[label]) for label in width) * LINE_HEIGHT
    assert sheet.protection.formatRows is False  # False: allowed


# ------------------------------------------------------------------------- identity


def test_identity_very_hidden_mirrored_in_names_and_signed(issued):
    workspace, issue = issued
    key = workspace.secret_key()
    path = file_of(issue, UNIT)
    layout = Layout(path)
    sheet = layout.workbook[IDENTITY_SHEET]
    assert sheet.sheet_state == "veryHidden"
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row)
    identity = layout.identity()
    assert identity.verify(key)
    assert (identity.unit_code, identity.unit_name, identity.period) == (UNIT, "市财政局", PERIOD)
    assert identity.plan_version == cycle.current_plan(workspace).version
    assert identity.form_version == workspace.spec().form_version
    assert identity.generated_at == f"{PERIOD}-01T00:00:00"
    names = layout.workbook.defined_names
    for field_name, text in identity.rows():
        assert names[defined_name(field_name)].attr_text == formula_text(text)

    last = identity.signature[-1]
    for forged in (replace(identity, unit_code="S010"), replace(identity, period="2018-07"),
                   replace(identity, task_ids=identity.task_ids[:-1]),
                   replace(identity, signature=identity.signature[:-1] + ("1" if last == "0" else "0"))):
        assert not forged.verify(key)
    assert not identity.verify(b"another key")
    with zipfile.ZipFile(path) as archive:
        content = b"".join(archive.read(name) for name in archive.namelist())
    assert key.hex().encode() not in content and key not in content


def test_one_changed_byte_in_the_identity_sheet_breaks_the_signature(issued, tmp_path):
    workspace, issue = issued
    edited = tmp_path / "edited.xlsx"
    with zipfile.ZipFile(file_of(issue, UNIT)) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/sharedStrings.xml":
                assert data.count(b">S009<") == 1
                data = data.replace(b">S009<", b">S008<")
            target.writestr(item, data)
    identity = Layout(edited).identity()
    assert identity.unit_code == "S008" and not identity.verify(workspace.secret_key())


def test_long_identity_texts_stay_valid_formula_constants():
    text = 'a"b' * 200
    constant = formula_text(text)
    pieces = constant.split("&")
    assert len(pieces) == 3
    assert all(len(p[1:-1].replace('""', '"')) <= FORMULA_TEXT_LIMIT for p in pieces)
    assert "".join(p[1:-1].replace('""', '"') for p in pieces) == text
    assert formula_text("") == '""'


# ------------------------------------------------------------------------- behaviour


def test_rerun_gives_byte_identical_files(issued):
    workspace, issue = issued
    before = {path: path.read_bytes() for path in issue.files}
    again = cycle.issue_templates(workspace, PERIOD)
    assert again.files == issue.files
    assert all(path.read_bytes() == content for path, content in before.items())


def test_workbooks_written_by_worker_processes_are_the_same_files(issued, tmp_path):
    """write_templates (both CPUs) gives what issue_templates wrote, file for file, byte for byte."""
    workspace, issue = issued
    plan = cycle.current_plan(workspace)
    context = TemplateContext(workspace.spec(), workspace.config(), plan.title, plan.version, PERIOD,
                              workspace.secret_key())
    with Ledger(workspace.ledger_path) as ledger:
        units = units_with_tasks(plan, ledger.registry())
    jobs = [TemplateJob(tmp_path / template_name(unit, PERIOD), unit, tasks, {}) for unit, tasks in units]
    done = Counting()
    write_templates(context, jobs, done, workers=2)
    assert sorted(done.steps) == sorted(path.name for path in issue.files)
    assert all((tmp_path / path.name).read_bytes() == path.read_bytes() for path in issue.files)


def test_last_periods_answers_are_prefilled(tmp_path):
    workspace = new_workspace(tmp_path / "ws")
    ids = [task.id for task, _ in cycle.current_plan(workspace).tasks_of(UNIT)]
    add_answers(workspace, "2018-04", UNIT, {ids[0]: {"status": "未启动", "progress": "四月的旧话"}})
    add_answers(workspace, "2018-05", UNIT, {
        ids[0]: {"status": "序时推进", "percent": "80", "progress": "=HYPERLINK(\"x\")", "next_steps": "继续"},
        ids[1]: {"status": "进度滞后", "percent": "三成", "progress": "已启动"},
        ids[2]: {"status": "未启动"},
    })
    add_answers(workspace, "2018-07", UNIT, {ids[0]: {"status": "已完成"}})  # later: not used
    issue = cycle.issue_templates(workspace, PERIOD)

    layout = Layout(file_of(issue, UNIT), data_only=True)
    first, second, third = layout.task_rows[:3]
    assert layout.cell(first, "status").value == "序时推进"
    assert layout.cell(first, "percent").value == 80 and layout.cell(first, "percent").data_type == "n"
    assert layout.cell(first, "progress").value == '=HYPERLINK("x")'
    assert layout.cell(first, "progress").data_type == "s"
    assert layout.cell(first, "next_steps").value == "继续"
    assert layout.cell(second, "percent").value == "三成"
    assert layout.cell(third, "progress").value is None
    # Required still empty: 2 header fields, row 2's problems (lagging), and for the rows not
    # prefilled their status and progress; row 3 (未启动) needs no progress.
    assert layout.right_of(CHECK_LABEL).value == 2 + 1 + 2 * (len(ids) - 3)
    other = Layout(file_of(issue, "S010"))
    assert all(other.cell(row, "status").value is None for row in other.task_rows)


def test_unsafe_unit_names_give_safe_file_names_and_stay_text(issued, tmp_path):
    workspace, _ = issued
    plan = cycle.current_plan(workspace)
    unit = Unit("X01", '=cmd|"/c"!A1 [局]:*?<办>')
    tasks = [(task, "负责") for task in plan.tasks[:2]]
    name = template_name(unit, PERIOD)
    assert not FORBIDDEN_IN_FILE_NAMES & set(name) and name.startswith("X01_") and name.endswith(f"_{PERIOD}.xlsx")
    assert len(template_name(Unit("X02", "长" * 300), PERIOD)) < 100
    context = TemplateContext(workspace.spec(), workspace.config(), plan.title, plan.version, PERIOD,
                              workspace.secret_key())
    write_template(tmp_path / name, context, unit, tasks, {})
    layout = Layout(tmp_path / name)
    assert layout.right_of("填报单位").value == unit.name and layout.right_of("填报单位").data_type == "s"
    assert layout.identity().unit_name == unit.name and layout.identity().verify(workspace.secret_key())
    assert layout.task_ids() == [plan.tasks[0].id, plan.tasks[1].id]


def test_sheet_names_from_the_spec_must_be_valid_in_excel():
    data = tomllib.loads(BUNDLED_SPEC.read_text(encoding="utf-8"))
    for bad in ("进展/填报", "[进展]", "进" * 32, "'进展"):
        with pytest.raises(SpecError, match="data_sheet"):
            parse_spec({**data, "data_sheet": bad})
    with pytest.raises(SpecError, match="不能同名"):
        parse_spec({**data, "instructions_sheet": data["data_sheet"]})


@pytest.mark.parametrize("edit, key", [
    (lambda d: d["columns"][7].update(type="number"), r"columns\[8\]（percent）.type"),
    (lambda d: d["columns"][2].pop("label"), "label"),
    (lambda d: d.pop("title"), "title"),
    (lambda d: d["columns"][8].update(required_unless={"state": ["未启动"]}), "state"),
    (lambda d: d["status"].update(done="完成"), "status.done"),
    (lambda d: d.update(columns=[c for c in d["columns"] if c["kind"] == "task"]), "status"),
    (lambda d: d["status"].update(on_track="已完成"), "各是不同的选项"),
    (lambda d: d["columns"][8].update(role="progres"), r"columns\[9\]（progress）.role"),
])
def test_a_malformed_spec_names_the_key(tmp_path, edit, key):
    data = tomllib.loads(BUNDLED_SPEC.read_text(encoding="utf-8"))
    edit(data)
    with pytest.raises(SpecError, match=key):
        parse_spec(data)


def roles_removed(data: dict, role: str) -> dict:
    for item in (*data["columns"], *data["header"]):
        if item.get("role") == role:
            del item["role"]
    return data


@pytest.mark.parametrize("role, word", [("problems", "存在问题及困难"), ("report_date", "报送日期"),
                                        ("status", "完成状态")])
def test_a_spec_missing_a_needed_role_names_it(role, word):
    data = roles_removed(tomllib.loads(BUNDLED_SPEC.read_text(encoding="utf-8")), role)
    part = "header" if role == "report_date" else "columns"
    with pytest.raises(SpecError) as caught:
        parse_spec(data)
    assert str(caught.value) == (f'表单配置 表单.toml：{part} 中缺少 role = "{role}" 的一项（{word}）。'
                                 f'请给相应的一项加上 role = "{role}"。')


def test_a_role_given_twice_is_refused():
    data = tomllib.loads(BUNDLED_SPEC.read_text(encoding="utf-8"))
    next(c for c in data["columns"] if c.get("role") == "remarks")["role"] = "progress"
    with pytest.raises(SpecError, match="columns 中有 2 项的 role 都是“progress”（工作进展情况），只能有一项"):
        parse_spec(data)


def test_the_reviewer_role_is_optional_and_conditions_name_columns_by_role():
    data = roles_removed(tomllib.loads(BUNDLED_SPEC.read_text(encoding="utf-8")), "reviewer")
    for column in data["columns"]:
        column["key"] = "k_" + column["key"]
    spec = parse_spec(data)
    assert not spec.has_role("reviewer") and spec.status_column == "k_status"
    assert spec.role("progress").required_unless.column == "k_status"


def test_templates_stop_on_a_malformed_workspace_spec(tmp_path):
    workspace = new_workspace(tmp_path / "ws")
    text = workspace.spec_path.read_text(encoding="utf-8")
    workspace.spec_path.write_text(text.replace('type = "percent"', 'type = "percentage"'), encoding="utf-8")
    with pytest.raises(SpecError, match=r"percent.*type.*percentage"):
        cycle.issue_templates(workspace, PERIOD)
    assert not workspace.period_output(PERIOD).exists()


def test_cli_templates_prints_the_summary_and_refuses_a_bad_period(tmp_path):
    workspace = new_workspace(tmp_path / "ws")
    runner = CliRunner()
    result = runner.invoke(cli, ["-w", str(workspace.root), "templates", PERIOD])
    assert result.exit_code == 0, result.output
    assert f"已生成 {PERIOD} 填报模板：48 个单位，48 个文件，共 629 行任务。" in result.output
    assert f"文件夹：{workspace.period_output(PERIOD) / '填报模板'}" in result.output.splitlines()
    assert f"下发通知：{workspace.period_output(PERIOD) / '下发通知.docx'}" in result.output.splitlines()
    bad = runner.invoke(cli, ["-w", str(workspace.root), "templates", "2018-13"])
    assert bad.exit_code == 2
    assert "错误：月份（PERIOD）：“2018-13”不是一个月份。请写成 年-月，例如 2018-06" in bad.output


def test_a_writer_killed_halfway_leaves_no_half_written_template(tmp_path, in_workers):
    workspace = new_workspace(tmp_path / "ws")
    first = cycle.issue_templates(workspace, PERIOD)
    before = {path.name: path.read_bytes() for path in first.files}
    in_workers("pipeline.templates", "_write_instructions", "die")
    with pytest.raises(OutputError, match="写文件的工作进程异常终止"):
        cycle.issue_templates(workspace, PERIOD)
    assert {path.name: path.read_bytes() for path in first.folder.iterdir()} == before  # nothing half-written
