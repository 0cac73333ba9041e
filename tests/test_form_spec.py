"""The form spec is the one source of every column: an office that renames every key and label
and adds a column of its own still gets every answer through templates, collect, report and
feedback, under its own labels."""

from __future__ import annotations

import random
import re
import tomllib

import openpyxl
import pytest

from pipeline import cycle
from pipeline.form import BUNDLED_SPEC
from pipeline.fill import Filling, fill_template, sample_answer, sample_header
from pipeline.identity import IDENTITY_SHEET
from pipeline.ledger import answers_of
from pipeline.readers import Limits, read_workbook
from pipeline.submissions import parse_submission
from pipeline.templates import CHECK_LABEL
from pipeline.workspace import SAMPLE_PLAN, Workspace

PERIOD = "2018-06"
EXTRA_LABEL = "牵头科室"
UNITS = ("市财政局", "市政管办")


def renamed_spec(text: str) -> str:
    """The bundled spec with every column and header key and label changed, one column added
    (no role), and the conditions still naming the status column by its role."""
    text = re.sub(r'^key = "(\w+)"', r'key = "office_\1"', text, flags=re.M)
    text = re.sub(r'^label = "(.+)"', r'label = "本期\1"', text, flags=re.M)
    extra = (f'\n[[columns]]\nkey = "office_section"\nlabel = "{EXTRA_LABEL}"\nkind = "input"\n'
             'type = "text"\nwidth = 12\n')
    return text.replace("\n[instructions]", extra + "\n[instructions]")


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    """A month run through templates → fill → collect → report under the renamed spec."""
    workspace = Workspace.init(tmp_path_factory.mktemp("renamed") / "ws")
    workspace.spec_path.write_text(renamed_spec(workspace.spec_path.read_text(encoding="utf-8")),
                                   encoding="utf-8")
    spec = workspace.spec()
    plan = cycle.load_plan(workspace, workspace.input_dir / SAMPLE_PLAN.name).plan
    issue = cycle.issue_templates(workspace, PERIOD)
    rng, sent = random.Random(7), {}
    for number, unit in enumerate(UNITS, start=1):
        code = next(a.code for t in plan.tasks for a in t.units if a.name == unit)
        answers = {}
        for index, (task, _role) in enumerate(plan.tasks_of(code)):
            answer = sample_answer(rng, spec, spec.lagging if index == 0 else spec.on_track)
            answer[EXTRA_LABEL] = f"{unit}第{index + 1}科"
            answers[task.id] = answer
        template = next(path for path in issue.files if unit in path.name)
        fill_template(template, workspace.input_dir / PERIOD / f"{unit}.xlsx", spec,
                      Filling(sample_header(spec, number, f"{PERIOD}-20"), answers))
        sent[unit] = answers
    merged = cycle.merge_period(workspace, PERIOD)
    return workspace, spec, sent, merged


def table(sheet, first_label: str) -> list[dict[str, object]]:
    """The rows of a sheet's table as dicts by header label; the header is the row starting with ``first_label``."""
    rows = list(sheet.iter_rows(values_only=True))
    top = next(i for i, row in enumerate(rows) if row and row[0] == first_label)
    labels = rows[top]
    return [dict(zip(labels, row)) for row in rows[top + 1:]]


def test_the_renamed_spec_loads_with_every_role_found(reported):
    _workspace, spec, _sent, _merged = reported
    assert spec.status_column == "office_status"
    assert spec.role("problems").label == "本期存在问题及困难"
    assert spec.role("progress").required_unless.column == "office_status"
    assert [c.key for c in spec.input_columns if c.role is None] == ["office_section"]


def test_every_answer_is_collected_under_the_new_keys(reported):
    _workspace, spec, sent, merged = reported
    files = {f.file: f for f in merged.collect.result.files}
    assert {name: f.status for name, f in files.items()} == {f"{u}.xlsx": "accepted" for u in UNITS}
    for unit, answers in sent.items():
        stored = answers_of(files[f"{unit}.xlsx"].answers)
        for task_id, answer in answers.items():
            for column in spec.input_columns:
                if column.label in answer:
                    assert stored[task_id][column.key] == str(answer[column.label])


def test_the_report_shows_every_answer_under_the_new_labels(reported):
    _workspace, spec, sent, merged = reported
    book = openpyxl.load_workbook(merged.report.details)  # every unit's every text: 汇总明细
    detail = [row for row in table(book["明细"], "任务编号") if row["单位名称"] in UNITS]
    assert len(detail) == sum(len(answers) for answers in sent.values())
    for row in detail:
        answer = sent[row["单位名称"]][row["任务编号"]]
        for column in spec.input_columns:
            if column.label in answer and column.role != "percent":
                assert row[column.label] == answer[column.label], column.label
    problems = spec.role("problems")
    raised = table(book["问题清单"], "任务编号")
    expected = {(unit, text) for unit, answers in sent.items() for answer in answers.values()
                if (text := answer.get(problems.label))}
    assert expected and {(r["单位"], r[problems.label]) for r in raised if r["单位"] in UNITS} == expected
    progress = {r["任务编号"]: r["各单位进展"] or "" for r in table(book["各单位进展"], "任务编号")}
    for unit, answers in sent.items():
        for task_id, answer in answers.items():
            assert f"【{unit}】{answer[spec.role('progress').label]}" in progress[task_id]


def test_the_feedback_carries_the_added_column(reported):
    _workspace, _spec, sent, merged = reported
    for unit, answers in sent.items():
        path = next(merged.report.feedback.glob(f"*{unit}*.xlsx"))
        rows = table(openpyxl.load_workbook(path)["任务进展"], "任务编号")
        assert {r["任务编号"]: r[EXTRA_LABEL] for r in rows} == {t: a[EXTRA_LABEL] for t, a in answers.items()}


def test_the_bundled_spec_still_parses_as_the_contract_names_it():
    from pipeline.form import BUNDLED_SPEC, parse_spec

    spec = parse_spec(tomllib.loads(BUNDLED_SPEC.read_text(encoding="utf-8")))
    assert [c.label for c in spec.input_columns] == ["完成状态", "完成进度(%)", "工作进展情况", "存在问题及困难",
                                                     "下一步工作计划", "公开网址或佐证材料", "备注"]
    assert (spec.done, spec.on_track, spec.lagging, spec.not_started) == spec.choices


def test_findings_name_the_columns_by_the_offices_labels(reported, tmp_path):
    """A mistake in a file made on the renamed form is told with the renamed labels."""
    workspace, spec, sent, _merged = reported
    unit, answers = next(iter(sent.items()))
    task_id, answer = next(iter(answers.items()))
    template = next((workspace.period_output(PERIOD) / "填报模板").glob(f"*{unit}*.xlsx"))
    wrong = {**answer, spec.role("status").label: "完成", spec.role("percent").label: "八十"}
    path = tmp_path / "错.xlsx"
    fill_template(template, path, spec, Filling(sample_header(spec, 1, f"{PERIOD}-20"), {**answers, task_id: wrong}))
    outcome = cycle.check_file(workspace, path)
    messages = {f.code: f.message for f in outcome.findings}
    assert messages["status-invalid"] == f"任务 {task_id} 的“本期完成状态”填的“完成”不在可选项中。"
    assert messages["percent-invalid"] == f"任务 {task_id} 的“本期完成进度(%)”填的“八十”不是数字。"


# ------------------------------------------------------------------------- optional header fields

SIGNING = {"leader": "单位负责人", "seal": "填报单位（盖章）"}  # the bundled spec's optional header fields


def issued_under(root, edit=lambda text: text) -> tuple[Workspace, object]:
    """A workspace whose spec is the bundled one edited by ``edit``, with PERIOD's templates issued;
    returns it and 市财政局's template."""
    workspace = Workspace.init(root)
    workspace.spec_path.write_text(edit(workspace.spec_path.read_text(encoding="utf-8")), encoding="utf-8")
    cycle.load_plan(workspace, workspace.input_dir / SAMPLE_PLAN.name)
    issue = cycle.issue_templates(workspace, PERIOD)
    return workspace, next(path for path in issue.files if UNITS[0] in path.name)


def filled(workspace: Workspace, template, target, header: dict[str, object]):
    """The template with every task answered and ``header`` over the sample header, by label."""
    spec, rng = workspace.spec(), random.Random(3)
    code = template.name.split("_")[0]
    answers = {task.id: sample_answer(rng, spec, spec.on_track)
               for task, _role in cycle.current_plan(workspace).tasks_of(code)}
    header = {**sample_header(spec, 1, f"{PERIOD}-20"), **header}
    fill_template(template, target, spec, Filling(header, answers))
    return target


def header_cells(workspace: Workspace, path) -> dict[str, str]:
    spec = workspace.spec()
    read = read_workbook(str(path), (spec.data_sheet, IDENTITY_SHEET), False, Limits())
    return {key: cell.text for key, cell in parse_submission(read.workbook, spec).header.items()}


def test_optional_header_fields_are_written_read_back_and_may_stay_empty(tmp_path):
    workspace, template = issued_under(tmp_path / "ws")
    spec = workspace.spec()
    fields = {f.key: f for f in spec.header}
    assert {key: fields[key].label for key in SIGNING} == SIGNING
    assert not any(fields[key].required for key in SIGNING)
    sheet = openpyxl.load_workbook(template)[spec.data_sheet]
    labels = {cell.value: cell for row in sheet.iter_rows(max_row=8) for cell in row if cell.value}
    for key, label in SIGNING.items():
        entry = sheet.cell(labels[label].row, labels[label].column + 1)
        assert entry.value is None and entry.protection.locked is False
        assert any(v.prompt == fields[key].hint and entry.coordinate in str(v.sqref)
                   for v in sheet.data_validations.dataValidation)

    signed = filled(workspace, template, tmp_path / "签.xlsx", {"单位负责人": "王五"})
    assert {key: header_cells(workspace, signed)[key] for key in SIGNING} == {"leader": "王五", "seal": ""}
    outcome = cycle.check_file(workspace, signed)
    assert (outcome.status, outcome.findings) == ("accepted", [])


def test_a_header_field_the_spec_requires_is_counted_by_the_self_check_and_checked(tmp_path):
    required = lambda text: text.replace('label = "单位负责人"', 'label = "单位负责人"\nrequired = true')
    workspace, template = issued_under(tmp_path / "ws", required)
    sheet = openpyxl.load_workbook(template, data_only=True)[workspace.spec().data_sheet]
    check = next(cell for row in sheet.iter_rows(max_row=8) for cell in row if cell.value == CHECK_LABEL)
    tasks = len(cycle.current_plan(workspace).tasks_of(template.name.split("_")[0]))
    assert sheet.cell(check.row, check.column + 1).value == 3 + 2 * tasks  # 填报人, 联系电话, 单位负责人

    outcome = cycle.check_file(workspace, filled(workspace, template, tmp_path / "未签.xlsx", {}))
    assert outcome.status == "returned"
    assert [(f.code, f.message) for f in outcome.findings] == [("header-field-missing", "表头“单位负责人”未填写。")]


def test_an_optional_field_added_after_the_templates_were_issued_is_not_missed(tmp_path):
    """The office adds 单位负责人 to the spec after issuing (same form version): files on the
    issued templates lack the label, and are accepted."""
    without = lambda text: re.sub(r'\[\[header\]\]\nkey = "leader"\n(?:[^\n]+\n)*\n', "", text)
    workspace, template = issued_under(tmp_path / "ws", without)
    path = filled(workspace, template, tmp_path / "旧.xlsx", {})
    workspace.spec_path.write_text(BUNDLED_SPEC.read_text(encoding="utf-8"), encoding="utf-8")
    assert "leader" in {f.key for f in workspace.spec().header}
    assert "leader" not in header_cells(workspace, path)
    outcome = cycle.check_file(workspace, path)
    assert (outcome.status, outcome.findings) == ("accepted", [])
