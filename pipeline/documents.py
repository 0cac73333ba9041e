"""The month's Word documents: the 工作通报, from an office-editable template.

The facts come from the consolidation that also feeds 汇总报告.xlsx, so the numbers in both
are the same; the wording is the office's, in ``templates/通报模板.docx`` of the workspace.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import gongwen
from .gongwen import SIGNATURE, Loop, Para, head, heading, subheading
from .form import FormSpec
from .parallel import nothing, run_jobs
from .consolidate import Change, Consolidation, Reminder, UnitState
from .plan import Plan
from .periods import chinese_date, short_date, split_period
from .workspace import unit_file_name

if TYPE_CHECKING:
    import pandas as pd

BULLETIN_TEMPLATE = "通报模板.docx"
BULLETIN_NAME = "工作通报.docx"
SENTENCE_ENDS = "。！？；"
CLAUSE_ENDS = "，、："
ELLIPSIS = "……"
PROBLEM_CHARS = 60  # a unit's problem text in the 通报, cut at a sentence end before this
PROBLEM_UNITS = 3  # units quoted per task; the rest are counted (all are in 汇总报告's 问题清单)
NONE = "无"


def shorten(text: str, limit: int = PROBLEM_CHARS) -> str:
    """``text`` on one line, cut after the last sentence end within ``limit`` characters (else the
    last clause, else at ``limit``), with 「……」 where something was left out."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    for marks in (SENTENCE_ENDS, CLAUSE_ENDS):
        end = max(text.rfind(mark, 0, limit) for mark in marks)
        if end > limit // 3:
            return text[:end + 1] + ELLIPSIS
    return text[:limit] + ELLIPSIS


def as_quote(text: str) -> str:
    """A task's requirement shortened to be quoted in a sentence: no closing punctuation of its own."""
    return shorten(text).rstrip(SENTENCE_ENDS + CLAUSE_ENDS)


def names(units: pd.DataFrame) -> str:
    """Every unit named, in registry order; 「无」 when there are none."""
    return "、".join(units["unit_name"]) or NONE


@dataclass(frozen=True)
class Letterhead:
    """What every notice says of the office and the month (placeholders of every template)."""

    office: str
    contact: str
    phone: str
    email: str
    plan_title: str
    period: str
    deadline: dt.date
    issued: dt.date

    def context(self) -> dict:
        year, month = split_period(self.period)
        return {"office": self.office, "contact": self.contact, "phone": self.phone, "email": self.email,
                "plan_title": self.plan_title, "year": year, "month": month,
                "deadline": chinese_date(self.deadline), "date": chinese_date(self.issued)}

    @property
    def month_words(self) -> str:
        """The month after the plan's title: ``7月份`` when the title gives the year, else ``2018年7月``."""
        year, month = split_period(self.period)
        return f"{month}月份" if str(year) in self.plan_title else f"{year}年{month}月"

    @property
    def created(self) -> dt.datetime:
        """What a document made today records as its creation time (pinned within the day)."""
        return dt.datetime.combine(self.issued, dt.time())


def bulletin_context(c: Consolidation, spec: FormSpec, head: Letterhead) -> dict:
    """Every placeholder of the 通报 template, computed from the consolidation."""
    s = c.summary
    units = {task_id: rows for task_id, rows in c.detail.groupby("task_id", sort=False)}  # each task's units
    return {
        **head.context(), "title": f"关于{head.plan_title}{head.month_words}落实情况的通报",
        "expected": s["expected"], "reported": s["reported"],
        **{state.value: s[state.value] for state in UnitState},
        **{f"{state.value}_units": names(c.units[c.units["state"] == state]) for state in UnitState},
        "tasks": s["tasks"], "overdue": s["overdue"], "lagging": s["lagging"],
        "status_line": "，".join(f"{word}{int(count)}项" for word, count in c.status_counts.items() if count),
        "categories": _categories(c),
        "lagging_tasks": _lagging_tasks(c, spec, units),
        "change_line": _change_line(c),
        "streaks": _streaks(c, units),
        "units": _unit_rows(c, spec),
    }


def _categories(c: Consolidation) -> list[dict]:
    order = list(c.status_counts.index)
    rows = []
    for number, name, *counts in c.categories[["category_no", "category", *order]].itertuples(index=False):
        parts = "，".join(f"{word}{int(n)}项" for word, n in zip(order, counts) if n)
        rows.append({"number": int(number), "name": name, "total": int(sum(counts)), "line": parts})
    return rows


def _lagging_tasks(c: Consolidation, spec: FormSpec, units_of: dict[str, pd.DataFrame]) -> list[dict]:
    """Every lagging or overdue task with its lead units and, in their words, the problems units gave."""
    problems = spec.role("problems").key
    rows = []
    for task in c.lagging.itertuples():
        units = units_of[task.task_id]
        said = units[units[problems] != ""]
        quoted = [f"{unit}反映：{shorten(text)}" for unit, text in
                  zip(said["unit_name"][:PROBLEM_UNITS], said[problems][:PROBLEM_UNITS])]
        if len(said) > PROBLEM_UNITS:
            quoted.append(f"另有{len(said) - PROBLEM_UNITS}个单位反映了问题，详见汇总报告“问题清单”")
        rows.append({
            "id": task.task_id, "units": responsible(task.lead, units["unit_name"]),
            "requirement": as_quote(task.requirement), "status": task.status, "deadline": task.deadline or "",
            "overdue": f"，已过完成时限（{task.deadline}）" if task.overdue else "",
            "problems": "；".join(quoted) + ("。" if quoted else ""),
        })
    return rows


def responsible(lead: str, units: pd.Series) -> str:
    """``牵头单位：市财政局``, or without a lead ``责任单位：市教育局、市民政局等5个单位``."""
    if lead:
        return f"牵头单位：{lead}"
    shown = "、".join(units[:2])
    return f"责任单位：{shown}" + (f"等{len(units)}个单位" if len(units) > 2 else "")


def _change_line(c: Consolidation) -> str:
    """How the tasks' overall statuses moved since last month, in one sentence naming the tasks that moved."""
    changes = c.task_changes
    compared = changes[changes["change"].isin((Change.FORWARD, Change.BACK, Change.SAME, Change.MOVED))]
    if compared.empty:
        return "上月没有可比较的数据。"
    parts = []
    for kind in (Change.FORWARD, Change.BACK, Change.MOVED, Change.SAME):
        rows = compared[compared["change"] == kind]
        if rows.empty:
            continue
        named = "" if kind == Change.SAME else "（" + "、".join(
            f"任务{t}由“{b}”到“{n}”" for t, b, n in zip(rows["task_id"], rows["previous"], rows["current"])) + "）"
        parts.append(f"{kind.word}{len(rows)}项{named}")
    return f"与上月相比，{len(compared)}项可比较的任务中，总体状态" + "，".join(parts) + "。"


def _streaks(c: Consolidation, units_of: dict[str, pd.DataFrame]) -> list[dict]:
    lead = dict(zip(c.tasks["task_id"], c.tasks["lead"]))
    return [{"id": task_id, "units": responsible(lead.get(task_id, ""), units_of[task_id]["unit_name"]),
             "status": status, "months": int(months)}
            for task_id, status, months in c.streaks[["task_id", "status", "months"]].itertuples(index=False)]


def _unit_rows(c: Consolidation, spec: FormSpec) -> list[dict]:
    """附件 各单位报送情况一览表: one row per unit that had tasks."""
    rows = []
    for number, u in enumerate(c.units.to_dict("records"), start=1):
        rows.append({"number": number, "name": u["unit_name"], "state": u["state"].word,
                     "date": short_date(u["report_date"]) if u["report_date"] else "",
                     "tasks": u["tasks"], "done": u.get(spec.done, 0), "lagging": u.get(spec.lagging, 0)})
    return rows


def write_bulletin(c: Consolidation, spec: FormSpec, head: Letterhead, template: Path, path: Path) -> None:
    """工作通报.docx from the office's template."""
    gongwen.render_template(template, bulletin_context(c, spec, head), path, head.created)


# ---------------------------------------------------------------------------- notices to units

RETURN_TEMPLATE, REMIND_TEMPLATE = "退回通知模板.docx", "催报通知模板.docx"
COVER_TEMPLATE, REMIND_LIST_TEMPLATE = "下发通知模板.docx", "催报名单模板.docx"
RETURN_FOLDER, REMIND_FOLDER = "退回通知", "催报通知"
COVER_NAME, REMIND_LIST_NAME = "下发通知.docx", "催报名单.docx"


def notice_name(unit_code: str, unit_name: str, kind: str) -> str:
    """``S009_市财政局_退回修改通知.docx``."""
    return unit_file_name(unit_code, unit_name, f"{kind}.docx")


def return_context(head: Letterhead, unit_name: str, file_name: str, findings: list[dict],
                   resubmit_by: dt.date) -> dict:
    """退回通知: ``findings`` as ``{severity, place, message, fix}`` in the words people read."""
    return {**head.context(), "unit": unit_name, "file": file_name, "findings": findings,
            "resubmit_by": chinese_date(resubmit_by)}


def remind_state(reminder: Reminder) -> str:
    """What a reminded unit has not done, as the notice says it."""
    if reminder.returned_file:
        return f"报送的文件（{reminder.returned_file}）经检查需要修改，尚未重新报送"
    return "尚未报送"


def remind_context(head: Letterhead, reminder: Reminder, template: str) -> dict:
    """催报通知 to one unit: what is missing (nothing sent, or a returned file), its tasks, its workbook."""
    return {**head.context(), "unit": reminder.unit.name, "state": remind_state(reminder), "tasks": reminder.tasks,
            "template": template}


def roster_context(head: Letterhead, plan: Plan, reminders: tuple[Reminder, ...]) -> dict:
    """催报名单: every unit still to report with its contacts."""
    expected = len({a.code for task in plan.tasks for a in task.units})
    return {**head.context(), "expected": expected,
            "units": [{"number": n, "name": r.unit.name, "state": r.state.word, "contact": r.unit.contact,
                       "phone": r.unit.phone, "email": r.unit.email} for n, r in enumerate(reminders, start=1)]}


# Below this many documents they are written here; from it on, on every CPU (starting the
# workers costs about as much as writing a few documents).
PARALLEL_FROM = 8


@dataclass(frozen=True)
class DocumentBatch:
    """Documents from one template, sent once to each worker (``parallel.run_jobs``)."""

    template: Path
    items: tuple[tuple[Path, dict], ...]  # (where, placeholders), in order
    created: dt.datetime

    @functools.cached_property
    def word(self) -> gongwen.WordTemplate:
        """The template, checked once in each process that writes from it."""
        return gongwen.WordTemplate(self.template, self.items[0][1].keys())


def write_document_job(batch: DocumentBatch, number: int) -> str:
    """Write the batch's ``number``-th document (a parallel.run_jobs job)."""
    path, context = batch.items[number]
    batch.word.render(context, path, batch.created)
    return path.name


def write_documents(folder: Path, template: Path, contexts: dict[str, dict], created: dt.datetime,
                    earlier: Path | None = None, meanwhile: Callable[[], object] = nothing) -> list[Path]:
    """One document per ``contexts`` entry (file name -> placeholders) into ``folder``.

    A document in ``earlier`` (the folder these replace) written from the same template and
    placeholders, and not saved by anyone since, is copied rather than written again.
    ``meanwhile()``: the command's own work, done while the documents are written (``run_jobs``).
    """
    items = []
    if contexts:
        # A damaged template or an unknown placeholder is told before any worker starts.
        word = gongwen.WordTemplate(template, contexts[min(contexts)].keys())
        for name in sorted(contexts):
            if earlier is not None and gongwen.written_as(earlier / name, word.stamp(contexts[name], created), created):
                shutil.copyfile(earlier / name, folder / name)
            else:
                items.append((folder / name, contexts[name]))
    if len(items) >= PARALLEL_FROM:
        run_jobs(write_document_job, DocumentBatch(template, tuple(items), created), len(items), meanwhile=meanwhile)
    else:
        for path, context in items:
            word.render(context, path, created)
        meanwhile()
    return [folder / name for name in sorted(contexts)]


# ---------------------------------------------------------------------------- the bundled templates
# Each is written into a workspace's templates/ once; from then on the wording is the office's.

CONTACT = Para("联系人：{{ contact }}，联系电话：{{ phone }}，邮箱：{{ email }}。")

BULLETIN_PARTS = (
    *head("{{ title }}", "各有关单位："),
    Para("根据《{{ plan_title }}》和每月报送工作安排，现将{{ year }}年{{ month }}月各单位工作进展报送情况通报如下。"),
    heading("一、报送情况"),
    Para("本期应报送单位{{ expected }}个，已报送{{ reported }}个，其中按时报送{{ on_time }}个、逾期报送{{ late }}个，"
         "退回修改{{ returned }}个；未报送{{ missing }}个。报送截止日为{{ deadline }}。"),
    subheading("（一）按时报送的单位（{{ on_time }}个）"), Para("{{ on_time_units }}。"),
    subheading("（二）逾期报送的单位（{{ late }}个）"), Para("{{ late_units }}。"),
    subheading("（三）退回修改的单位（{{ returned }}个）"), Para("{{ returned_units }}。"),
    subheading("（四）未报送的单位（{{ missing }}个）"), Para("{{ missing_units }}。"),
    heading("二、任务推进情况"),
    Para("计划共{{ tasks }}项任务，按总体状态：{{ status_line }}。其中进度滞后{{ lagging }}项，"
         "已过完成时限尚未完成{{ overdue }}项。"),
    subheading("（一）分类别情况"),
    Loop("c", "categories", ("{{ c.number }}. {{ c.name }}：共{{ c.total }}项，{{ c.line }}。",)),
    subheading("（二）滞后及逾期任务"),
    Loop("t", "lagging_tasks", ("{{ loop.index }}. 任务{{ t.id }}“{{ t.requirement }}”（{{ t.units }}），"
                                "总体状态为“{{ t.status }}”{{ t.overdue }}。{{ t.problems }}",)),
    Para("{%p if not lagging_tasks %}"), Para("本期没有进度滞后或逾期的任务。"), Para("{%p endif %}"),
    heading("三、较上月变化"),
    Para("{{ change_line }}"),
    Loop("s", "streaks", ("任务{{ s.id }}（{{ s.units }}）已连续{{ s.months }}个月“{{ s.status }}”，请重点督促。",)),
    heading("四、下一步工作要求"),
    Para("（一）未报送和逾期报送的单位要高度重视，明确专人负责，按时报送本单位任务进展。"),
    Para("（二）被退回修改的单位要按照退回通知逐项改正，尽快重新报送。"),
    Para("（三）进度滞后和已过完成时限的任务，牵头单位要会同配合单位分析原因，制定措施，确保按期完成。", keep=True),
    Para("", keep=True),
    Para("附件：各单位报送情况一览表", keep=True),  # GB/T 9704: one line below the text, two characters in
    *SIGNATURE,
    Para("附件", gongwen.STYLE_HEADING, flush=True, new_page=True),  # top left of a new page
    Para(""),
    Para("各单位报送情况一览表", gongwen.STYLE_TITLE),  # centred on the third line
    Loop("u", "units", columns=(("序号", "number", 12), ("单位名称", "name", 48), ("报送情况", "state", 24),
                                ("报送日期", "date", 26), ("承担任务", "tasks", 16), ("已完成", "done", 15),
                                ("进度滞后", "lagging", 15))),
)

RETURN_PARTS = (
    *head("关于{{ unit }}{{ year }}年{{ month }}月进展报送表退回修改的通知", "{{ unit }}："),
    Para("贵单位报送的《{{ plan_title }}》{{ year }}年{{ month }}月进展报送表（文件：{{ file }}）经检查，"
         "有以下问题需要修改："),
    Loop("f", "findings", ("{{ loop.index }}. 【{{ f.level }}】{{ f.place }}：{{ f.message }}处理建议：{{ f.fix }}",)),
    Para("请在原文件上直接改正（不要新建表格），确认表格上方“自查”格为0后，于{{ resubmit_by }}前重新报送。"),
    CONTACT,
    *SIGNATURE,
)

REMIND_PARTS = (
    *head("关于催报{{ year }}年{{ month }}月任务进展的通知", "{{ unit }}："),
    Para("按照《{{ plan_title }}》落实情况月度报送安排，各单位应于{{ deadline }}前报送{{ year }}年{{ month }}月"
         "任务进展。截至{{ date }}，贵单位{{ state }}。"),
    Para("贵单位承担{{ tasks }}项任务。请使用下发的填报表（{{ template }}）填写，尽快报送。"),
    CONTACT,
    *SIGNATURE,
)

REMIND_LIST_PARTS = (
    Para("{{ year }}年{{ month }}月未报送单位名单", gongwen.STYLE_TITLE),
    Para(""),
    Para("截至{{ date }}，应报送{{ expected }}个单位，尚有{{ units|length }}个单位未报送或退回修改后未重新报送"
         "（报送截止日为{{ deadline }}）："),
    Loop("u", "units", columns=(("序号", "number", 11), ("单位名称", "name", 43), ("情况", "state", 25),
                             ("联系人", "contact", 23), ("联系电话", "phone", 25), ("邮箱", "email", 29))),
)

COVER_PARTS = (
    *head("关于报送{{ year }}年{{ month }}月任务进展的通知", "各有关单位："),
    Para("为做好《{{ plan_title }}》落实情况跟踪督办，现将{{ year }}年{{ month }}月进展填报表下发给你们"
         "（共{{ units }}个单位，每个单位一份，只列本单位承担的任务）。请按以下要求填报："),
    heading("一、填报内容"),
    Para("请在填报表的白色单元格中逐项填写{{ columns }}，并填写表头的{{ header }}。上月已报送的内容已预先填入，"
         "只需更新。灰色的任务内容请勿修改，请勿增删行和工作表。"),
    heading("二、报送时间"),
    Para("请于{{ deadline }}前报送。"),
    heading("三、报送方式"),
    Para("填报完成后，确认表格上方“自查”格为0，保存为 .xlsx 格式，通过电子邮件发送至{{ email }}。"),
    Para("联系人：{{ contact }}，联系电话：{{ phone }}。"),
    *SIGNATURE,
)

DEFAULT_TEMPLATES = {BULLETIN_TEMPLATE: BULLETIN_PARTS, RETURN_TEMPLATE: RETURN_PARTS, REMIND_TEMPLATE: REMIND_PARTS,
                     REMIND_LIST_TEMPLATE: REMIND_LIST_PARTS, COVER_TEMPLATE: COVER_PARTS}


def document_template(folder: Path, name: str, created: dt.datetime) -> Path:
    """The workspace's template ``name`` (in ``folder``); the bundled one is written there first
    when the office has none yet."""
    path = Path(folder) / name
    if not path.is_file():
        gongwen.write_template(path, created, DEFAULT_TEMPLATES[name])
    return path
