"""The demo: two months of the whole cycle on the bundled sample data."""

from __future__ import annotations

import openpyxl
import pytest

from pipeline import cycle
from pipeline.consolidate import DETAIL_SHEET
from pipeline.ledger import Ledger
from pipeline.templates import template_name


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return cycle.run_demo(tmp_path_factory.mktemp("demo") / "示例工作区")


def test_each_month_issues_collects_and_reports(demo):
    first, second = demo.months
    assert [m.templates.period for m in demo.months] == list(cycle.DEMO_PERIODS)
    for month in demo.months:
        assert month.templates.units == len(list(month.templates.folder.glob("*.xlsx"))) == 48
        assert month.merge.report.report.is_file() and month.merge.collect.validation.is_file()
        assert len(list(month.merge.report.feedback.glob("*.xlsx"))) == month.merge.report.feedback_files == 48
        rejected = [f.findings[0].code for f in month.merge.collect.result.files if f.status == "rejected"]
        assert rejected == []  # the Office lock file among the returns is not taken for one
        superseded = [f for f in month.merge.collect.result.files if f.status == "superseded"]
        assert len(superseded) == 1 and "报送日期" in superseded[0].findings[-1].message
        assert any(f.code == "file-duplicate" for o in month.merge.collect.result.files for f in o.findings)
    assert (first.merge.collect.result.count("returned"), len(first.merge.collect.result.missing)) == (2, 2)
    assert first.merge.collect.result.count("accepted") == 48 - 4
    assert (second.merge.collect.result.count("returned"), len(second.merge.collect.result.missing)) == (1, 1)
    summary = second.merge.report.consolidation.summary
    # In July one unit is late and one returned; the returned one counts as reported, not on time.
    assert (summary["reported"], summary["on_time"], summary["late"], summary["returned"]) == (47, 45, 1, 1)


def test_each_month_ends_in_documents_and_mail_drafts(demo):
    for month in demo.months:
        collected = month.merge.collect.result
        returned = collected.count("returned")
        assert month.merge.report.bulletin.is_file() and month.templates.cover.is_file()
        assert len(list(month.templates.mails.glob("*.eml"))) == 48  # every sample unit has an address
        assert month.merge.collect.returned.count == returned == len(list(month.merge.collect.returned.folder.glob(
            "*.docx")))
        assert len(month.remind.reminders) == len(collected.missing) + returned
        assert len(list(month.remind.folder.glob("*.docx"))) == len(list(month.remind.mails.glob("*.eml")))
        assert month.remind.roster.is_file()


def test_the_second_month_is_prefilled_from_the_first_and_moves_on(demo):
    workspace, second = demo.workspace, demo.months[1]
    unit = next(u for u in demo.plan_load.registry.units if u.name == "市财政局")
    with Ledger(workspace.ledger_path) as ledger:
        june = ledger.answers(unit.code, "2018-06")
    book = openpyxl.load_workbook(second.templates.folder / template_name(unit, "2018-07"))
    sheet = book["进展填报"]
    texts = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert june and all(values["progress"] in texts for values in june.values() if "progress" in values)
    changes = second.merge.report.consolidation.changes
    assert len(changes) and "前进" in set(changes["change"]) and set(changes["previous_period"]) == {"2018-06"}
    assert list(second.merge.report.consolidation.trend["period"]) == ["2018-06", "2018-07"]


def test_a_task_with_many_units_shows_laggards_first_and_points_to_the_detail(demo):
    c = demo.months[-1].merge.report.consolidation
    spec = demo.workspace.spec()
    task = c.tasks.set_index("task_id").loc["1-1"]
    rows = c.detail[c.detail["task_id"] == "1-1"]
    assert task["progress"].startswith(f"共{len(rows)}个单位：")
    assert f"个单位的内容见“{DETAIL_SHEET}”表" in task["progress"] and len(task["progress"]) < 1500
    behind = rows[rows[spec.status_column].isin((spec.lagging, spec.not_started)) & (rows[spec.role("progress").key] != "")]
    if len(behind):
        assert task["progress"].split("\n")[1].startswith(f"【{behind['unit_name'].iloc[0]}】")
