"""Notices to units and the mails that carry them: 下发通知 with templates, 退回通知 with collect,
催报通知 and the office's 催报名单 with remind; each mail draft parsed back as a mail program would."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import multiprocessing
import os
import random
import re
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from pipeline import cycle, documents, gongwen
from pipeline.atomic import Staging
from pipeline.cli import cli
from pipeline.collect import CollectResult, FileOutcome
from pipeline.errors import TemplateError
from pipeline.fill import Filling, fill_template, sample_answer
from pipeline.findings import FileStatus, finding
from pipeline.ledger import Ledger
from pipeline.periods import issue_date
from pipeline.templates import template_name
from pipeline.workspace import SAMPLE_PLAN, Workspace

from test_libreoffice import soffice

PERIOD = "2018-06"
NO_MAIL = "S010"  # a unit whose 邮箱 the test blanks in the registry
TWO_ADDRESSES = ("s011@example.gov.cn", "s011-office@example.gov.cn")  # S011's, both written
HEADER = {"填报人": "张三", "联系电话": "0000-5550009", "审核人": "李四", "报送日期": "2018-06-20"}


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    """A workspace with the sample plan, one unit without an address, templates issued for June."""
    workspace = cycle.init_workspace(tmp_path_factory.mktemp("notices") / "ws")
    cycle.load_plan(workspace, workspace.input_dir / SAMPLE_PLAN.name)
    db = sqlite3.connect(workspace.ledger_path)
    db.execute("UPDATE units SET email = '' WHERE code = ?", (NO_MAIL,))
    db.execute("UPDATE units SET email = ? WHERE code = ?", ("; ".join(TWO_ADDRESSES), "S011"))
    db.commit()
    db.close()
    return workspace, cycle.issue_templates(workspace, PERIOD)


@pytest.fixture
def workspace(issued, tmp_path) -> Workspace:
    copy = tmp_path / "ws"
    shutil.copytree(issued[0].root, copy)
    return Workspace.open(copy)


def units(workspace: Workspace) -> dict:
    with Ledger(workspace.ledger_path) as ledger:
        return ledger.registry().by_code()


def read_mail(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def text_of(path: Path) -> str:
    return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)


def send(workspace: Workspace, code: str, name: str, mistake: bool = False) -> None:
    """A unit's filled workbook dropped into the period's folder; with ``mistake``, a status mistyped."""
    spec, plan = workspace.spec(), cycle.current_plan(workspace)
    rng = random.Random(code)
    answers = {task.id: sample_answer(rng, spec, spec.on_track) for task, _ in plan.tasks_of(code)}
    if mistake:
        next(iter(answers.values()))[spec.role("status").label] = "完成"
    unit = units(workspace)[code]
    fill_template(workspace.period_output(PERIOD) / "填报模板" / template_name(unit, PERIOD),
                  workspace.input_dir / PERIOD / name, spec, Filling(dict(HEADER), answers))


def test_templates_come_with_a_cover_note_and_a_mail_per_unit(issued):
    workspace, issue = issued
    registry = units(workspace)
    cover = text_of(issue.cover)
    assert "请于2018年6月25日前报送。" in cover and "“完成状态”、“完成进度(%)”" in cover
    assert f"共{issue.units}个单位" in cover and "office@example.gov.cn" in cover
    mails = sorted(issue.mails.glob("*.eml"))
    assert len(mails) == issue.units - 1 and issue.no_address == (registry[NO_MAIL].name,)
    for path, template in zip(mails, sorted(p for p in issue.files if NO_MAIL not in p.name)):
        mail = read_mail(path)
        code = path.name.split("_")[0]
        assert tuple(a.addr_spec for a in mail["To"].addresses) == registry[code].addresses
        assert mail["To"].addresses[0].display_name == registry[code].name
        assert mail["Subject"] == f"2018年政务公开工作要点6月份进展填报表（{registry[code].name}）"
        attached = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
        assert attached == {template.name: template.read_bytes(), "下发通知.docx": issue.cover.read_bytes()}
    assert registry["S011"].addresses == TWO_ADDRESSES
    first = (issue.mails / f"S011_{registry['S011'].name}_下发.eml").read_bytes()
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "templates", PERIOD])
    assert (issue.mails / f"S011_{registry['S011'].name}_下发.eml").read_bytes() == first  # the same draft again
    assert f"单位名录中没有邮箱、未生成邮件的单位（1 个）：{registry[NO_MAIL].name}" in result.stdout


def test_a_returned_file_gets_a_word_notice_and_a_mail_until_it_is_corrected(workspace):
    send(workspace, "S009", "财政局.xlsx", mistake=True)
    run = cycle.collect_period(workspace, PERIOD)
    [outcome] = [f for f in run.result.files if f.status == FileStatus.RETURNED]
    assert run.returned.count == 1
    notice = run.returned.folder / "S009_市财政局_退回修改通知.docx"
    text = text_of(notice)
    mistake = next(f for f in outcome.findings if f.code == "status-invalid")
    assert f"1. 【错误】{mistake.location}：{mistake.message}处理建议：{mistake.fix}" in text
    issued = issue_date(PERIOD)
    assert issued == min(dt.date.today(), dt.date(2018, 7, 31))
    resubmit = max(dt.date(2018, 6, 25), issued) + dt.timedelta(days=3)
    assert f"于{resubmit.year}年{resubmit.month}月{resubmit.day}日前重新报送" in text
    assert "（文件：财政局.xlsx）" in text and "联系人：示例联系人" in text
    mail = read_mail(run.returned.mails / "S009_市财政局_退回.eml")
    assert mail["Subject"].startswith("【退回修改】") and "财政局.xlsx" in mail.get_body().get_content()
    assert [part.get_filename() for part in mail.iter_attachments()] == [notice.name]
    send(workspace, "S009", "财政局更正.xlsx")
    again = cycle.collect_period(workspace, PERIOD)
    assert again.returned.count == 0 and not list(again.returned.folder.glob("*.docx"))
    assert not list(again.returned.mails.glob("*.eml"))


def test_a_notice_written_before_from_the_same_contents_is_kept_unless_someone_saved_it(workspace, monkeypatch):
    send(workspace, "S009", "财政局.xlsx", mistake=True)
    send(workspace, "S010", "审计局.xlsx", mistake=True)
    first = cycle.collect_period(workspace, PERIOD).returned.folder
    written = {path.name: path.read_bytes() for path in first.glob("*.docx")}
    assert len(written) == 2
    rendered = []
    real = gongwen.WordTemplate.render
    monkeypatch.setattr(gongwen.WordTemplate, "render",
                        lambda self, context, path, created: (rendered.append(path.name), real(self, context, path, created)))
    folder = cycle.collect_period(workspace, PERIOD).returned.folder
    assert rendered == [] and {p.name: p.read_bytes() for p in folder.glob("*.docx")} == written
    # Saved again in Word or WPS (which record when): written anew, as it was first.
    edited = next(p for p in folder.glob("S010_*.docx"))
    with zipfile.ZipFile(edited) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    parts["docProps/core.xml"] = re.sub(rb"[^>]*</dcterms:modified>", b"2026-06-27T09:15:00Z</dcterms:modified>",
                                        parts["docProps/core.xml"])
    parts["word/document.xml"] = parts["word/document.xml"].replace("重新报送".encode(), "尽快报送".encode())
    with zipfile.ZipFile(edited, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    cycle.collect_period(workspace, PERIOD)
    assert rendered == [edited.name] and edited.read_bytes() == written[edited.name]


def test_a_rejected_file_a_unit_can_be_named_for_gets_a_notice_too(workspace):
    plan = cycle.current_plan(workspace)
    registry = units(workspace)
    encrypted = FileOutcome("加密.xlsx", "a" * 64, FileStatus.REJECTED, "S009", [finding("file-encrypted")])
    unknown = FileOutcome("图片.png", "b" * 64, FileStatus.REJECTED, None, [finding("file-not-workbook", kind="图片")])
    with Staging(workspace.period_output(PERIOD), "collect") as stage:
        sent = cycle.send_back(workspace, stage, cycle.letterhead(workspace, plan, PERIOD),
                               CollectResult(PERIOD, [], [], [encrypted, unknown]), registry)
    assert sent.count == 1
    text = text_of(sent.folder / "S009_市财政局_退回修改通知.docx")
    assert "文件设置了打开密码，无法读取。" in text and "（文件：加密.xlsx）" in text


@pytest.mark.parametrize("count", [0, 2, documents.PARALLEL_FROM])
def test_the_commands_own_work_is_done_once_while_the_notices_are_written(workspace, count):
    """collect writes 校验结果 while the notices are written: with none, a few (written in the
    command's process) or many (on every CPU), that work is done once, in the command's process."""
    registry = units(workspace)
    files = [FileOutcome(f"{code}.xlsx", f"{n:064x}", FileStatus.REJECTED, code, [finding("file-encrypted")])
             for n, code in enumerate(sorted(registry)[:count])]
    done = []
    with Staging(workspace.period_output(PERIOD), "collect") as stage:
        sent = cycle.send_back(workspace, stage, cycle.letterhead(workspace, cycle.current_plan(workspace), PERIOD),
                               CollectResult(PERIOD, [], [], files), registry, meanwhile=lambda: done.append(os.getpid()))
    assert done == [os.getpid()]
    assert sent.count == count and len(list(sent.folder.glob("*.docx"))) == count


def test_a_collect_prepares_its_notice_template_once_and_the_workers_forked_from_it_find_it_ready(
        workspace, in_workers, monkeypatch, tmp_path):
    """The notice template is prepared while the readers work, in the command's process; the
    workers that write the notices, forked from it, do not prepare it again (started by spawn,
    as on Windows, each inherits nothing and prepares it for itself)."""
    notes = tmp_path / "prepared.txt"
    monkeypatch.setenv("PIPELINE_TEST_NOTES", str(notes))
    in_workers("pipeline.gongwen", "_slim", "noted_slim")
    for code in sorted(units(workspace))[:documents.PARALLEL_FROM]:
        send(workspace, code, f"{code}.xlsx", mistake=True)
    run = cycle.collect_period(workspace, PERIOD)
    assert run.returned.count == documents.PARALLEL_FROM
    assert len(list(run.returned.folder.glob("*.docx"))) == documents.PARALLEL_FROM
    prepared = notes.read_text(encoding="utf-8").split()
    assert prepared[0] == str(os.getpid())
    if multiprocessing.get_start_method() == "fork":
        assert prepared == [str(os.getpid())]
    else:
        assert str(os.getpid()) not in prepared[1:] and len(prepared) <= 1 + (os.cpu_count() or 1)


def test_a_damaged_notice_template_stops_a_collect_only_when_a_notice_is_to_be_written(workspace):
    template = cycle.document(workspace, documents.RETURN_TEMPLATE, PERIOD)
    template.write_bytes(b"not a document")
    send(workspace, "S009", "财政局.xlsx")
    run = cycle.collect_period(workspace, PERIOD)
    assert [f.status for f in run.result.files] == [FileStatus.ACCEPTED] and run.returned.count == 0
    send(workspace, "S010", "审计局.xlsx", mistake=True)
    with pytest.raises(TemplateError, match=f"Word 模板 {re.escape(str(template))} 无法打开"):
        cycle.collect_period(workspace, PERIOD)


def test_remind_writes_a_notice_for_every_unit_not_yet_through_and_the_offices_list(workspace):
    send(workspace, "S009", "财政局.xlsx", mistake=True)
    send(workspace, "S001", "办公室.xlsx")
    cycle.collect_period(workspace, PERIOD)
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "remind", "2018-6"])
    assert result.exit_code == 0, result.output
    registry = units(workspace)
    expected = sorted({a.code for t in cycle.current_plan(workspace).tasks for a in t.units} - {"S001"})
    assert result.stdout.startswith(f"2018-06：需要催报 {len(expected)} 个单位。\n")
    assert f"  市财政局：退回修改（{registry['S009'].contact} {registry['S009'].phone}）" in result.stdout
    folder = workspace.period_output(PERIOD) / "催报通知"
    assert sorted(p.name.split("_")[0] for p in folder.glob("*.docx")) == expected
    text = text_of(folder / f"{NO_MAIL}_{registry[NO_MAIL].name}_催报通知.docx")
    assert "截至" in text and "贵单位尚未报送。" in text and "前报送2018年6月任务进展" in text
    table = docx.Document(str(workspace.period_output(PERIOD) / "催报名单.docx")).tables[0]
    rows = [[cell.text for cell in row.cells] for row in table.rows[1:]]
    assert [r[1] for r in rows] == [registry[code].name for code in registry if code in expected]
    assert rows[[r[1] for r in rows].index("市财政局")][2:5] == ["退回修改", registry["S009"].contact,
                                                               registry["S009"].phone]
    mails = workspace.period_output(PERIOD) / "邮件" / "催报"
    assert sorted(p.name.split("_")[0] for p in mails.glob("*.eml")) == [c for c in expected if c != NO_MAIL]
    mail = read_mail(mails / "S009_市财政局_催报.eml")
    assert [part.get_filename() for part in mail.iter_attachments()] == ["S009_市财政局_催报通知.docx",
                                                                        template_name(registry["S009"], PERIOD)]
    assert f"未生成邮件的单位（1 个）：{registry[NO_MAIL].name}" in result.stdout


def test_remind_refuses_a_month_whose_templates_were_never_issued(workspace):
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "remind", "2018-12"])
    folder = workspace.period_output("2018-12") / "填报模板"
    assert result.exit_code == 1
    assert result.stderr == (f"错误：还没有下发报送期 2018-12 的填报表（{folder} 不存在），无从催报。"
                             "请先运行 pipeline templates 2018-12。\n")


def test_libreoffice_writer_prints_every_notice(workspace, tmp_path):
    send(workspace, "S009", "财政局.xlsx", mistake=True)
    cycle.collect_period(workspace, PERIOD)
    cycle.remind_period(workspace, PERIOD)
    out = workspace.period_output(PERIOD)
    documents = [out / "下发通知.docx", out / "催报名单.docx", next((out / "退回通知").glob("*.docx")),
                 next((out / "催报通知").glob("*.docx"))]
    result = subprocess.run([soffice(), f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                             "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), *map(str, documents)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for path in documents:
        pdf = tmp_path / "pdf" / f"{path.stem}.pdf"
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "示例市人民政府办公室" in text or "未报送单位名单" in text, path.name
