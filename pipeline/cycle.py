"""The office's operations, each composed from the stage modules; the CLI calls one per command."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, NamedTuple

from .containers import is_container
from .atomic import Staging, replacing
from .collect import CollectResult, FileOutcome, Judged, collect, verdict_of
from .errors import InputError, OutputError, PeriodError, PlanError, WorkspaceError
from .guard import check_ledger, holding
from .findings import Severity, describe
from .identity import IDENTITY_SHEET
from .lazy import lazy, load
from .ledger import Ledger
from .parallel import nothing, run_jobs
from .periods import chinese_date, issue_date, split_period
from .plan import Plan, read_raw, resolve_plan
from .progress import SILENT, Progress
from .readers import read_files
from .submissions import read_identity
from .units import Registry, Unit, read_registry
from .workspace import SAMPLE_PLAN, Workspace, check_period, file_hash

# The stages that write workbooks and documents, loaded when an operation first uses them:
# checking a file or showing the plan does not wait for pandas, XlsxWriter and python-docx.
consolidate, demo, documents, draft, gongwen, mail, report, templates = (lazy(f"pipeline.{name}") for name in (
    "consolidate", "demo", "documents", "draft", "gongwen", "mail", "report", "templates"))

DEMO_MARKER = ".demo-workspace"
DEMO_PERIODS = ("2018-06", "2018-07")  # the sample months the demo runs
# How each demo month goes: units that send nothing, that make mistakes, that are late.
DEMO_MONTH_SHAPES = ({"skip": 2, "mistakes": 2, "late": 2}, {"skip": 1, "mistakes": 1, "late": 1})


def init_workspace(root: Path, city: str = "示例市") -> Workspace:
    """A new workspace with the office's Word templates beside its form spec, ready to edit.

    One that cannot be made whole (a full disk) leaves nothing behind, so the same command can
    simply be run again.
    """
    root = Path(root)
    new = not root.exists()
    empty = new or (root.is_dir() and not any(root.iterdir()))
    try:
        workspace = Workspace.init(root, city=city)
        created = dt.datetime(workspace.config().year, 1, 1)
        for name in documents.DEFAULT_TEMPLATES:
            documents.document_template(workspace.templates_dir, name, created)
    except BaseException:
        if empty and root.is_dir():  # what was made here, only
            for made in [root] if new else list(root.iterdir()):
                if made.is_dir():
                    shutil.rmtree(made, ignore_errors=True)
                else:
                    made.unlink(missing_ok=True)
        raise
    return workspace


@dataclass(frozen=True)
class PlanLoad:
    """What ``plan load`` did."""

    plan: Plan
    registry: Registry
    changed: bool
    breakdown: Path
    titled_by_config: bool  # the plan file has no title row: its name is the configuration's
    warnings: list[str]  # what loaded but should be checked (a list of units ending in 等), by line


def load_plan(workspace: Workspace, plan_file: Path, units_file: Path | None = None,
              replace: bool = False) -> PlanLoad:
    """Read the registry and the plan, store both in the ledger, write the 任务分解表.

    A plan without a title row is named by the configuration. The ledger keeps what it had
    unless all of it is done.
    """
    config = workspace.config()
    registry = read_registry(units_file or workspace.registry_path)
    raw = read_raw(Path(plan_file))
    plan = resolve_plan(raw, Path(plan_file).name, registry, year=config.year)
    titled_by_config = not plan.title
    if titled_by_config:
        plan = dataclasses.replace(plan, title=config.plan_name)
    breakdown = workspace.output_dir / report.BREAKDOWN_NAME
    with holding(workspace, "plan load", writes_ledger=True), Ledger(workspace.ledger_path) as ledger:
        changed = ledger.save_plan(plan, replace=replace)
        ledger.save_registry(registry)
        if units_file and Path(units_file).resolve() != workspace.registry_path.resolve():
            with replacing(workspace.registry_path, "Excel/WPS") as temp:
                shutil.copyfile(units_file, temp)
        report.write_plan_breakdown(plan, registry, breakdown, dt.datetime(config.year, 1, 1))
    return PlanLoad(plan, registry, changed, breakdown, titled_by_config, raw.warnings)


@dataclass(frozen=True)
class RegistryDraft:
    """What ``units draft`` did: the draft, and where it was written."""

    draft: draft.Draft
    path: Path


def draft_units(workspace: Workspace, plan_file: Path, output: Path | None = None) -> RegistryDraft:
    """Write a draft 单位名录 from a plan (default: 单位名录（草稿）.xlsx in the workspace), never over
    an existing file: the clerk may have begun to complete it."""
    plan_file = Path(plan_file)
    path = Path(output) if output else workspace.draft_registry_path
    if path.suffix.lower() != ".xlsx":
        raise OutputError(f"单位名录草稿要保存为 .xlsx 文件，{path.name} 不是。请用 -o 指定以 .xlsx 结尾的文件名。")
    if path.exists():
        raise OutputError(f"{path} 已存在，为免覆盖其中已做的修改，没有重新起草。要重新起草，请先删除或改名该文件，"
                          "或用 -o 指定另一个文件名。")
    with holding(workspace, "units draft"):
        drafted = draft.draft_registry(read_raw(plan_file))
        if not drafted.units and not drafted.groups:
            raise PlanError(f"计划表 {plan_file.name} 中没有读到任何责任单位，没有起草单位名录。", drafted.plan.problems)
        draft.write_draft(drafted, path, dt.datetime(workspace.config().year, 1, 1))
    return RegistryDraft(drafted, path)


def current_plan(workspace: Workspace) -> Plan:
    """The plan in force, or a PlanError telling the clerk to load one."""
    check_ledger(workspace)
    with Ledger(workspace.ledger_path) as ledger:
        return plan_in_force(ledger)


def plan_in_force(ledger: Ledger) -> Plan:
    """``current_plan`` within a command's ledger transaction."""
    plan = ledger.plan()
    if plan is None:
        raise PlanError("工作区还没有加载计划。请先运行 pipeline plan load 计划表文件。")
    return plan


@dataclass(frozen=True)
class Sent:
    """Notices of one kind written for units, and the mail drafts carrying them."""

    folder: Path
    count: int
    mails: Path
    no_address: tuple[str, ...]  # units with no 邮箱 in the registry: no mail draft


@dataclass(frozen=True)
class CollectRun:
    """What ``collect`` did: every file's outcome, 校验结果.xlsx, and the 退回通知 sent back."""

    result: CollectResult
    validation: Path
    returned: Sent


def collect_period(workspace: Workspace, period: str, folder: Path | None = None,
                   progress: Progress = SILENT) -> CollectRun:
    """Collect a period's returned files; write 校验结果.xlsx and a notice per returned unit.

    One ledger transaction: a run that fails or is killed leaves the ledger as it was, and its
    outputs are put in place only when all are written.
    """
    period = check_period(period)
    with (holding(workspace, f"collect {period}", writes_ledger=True),
          Staging(workspace.period_output(period), "collect") as stage, Ledger(workspace.ledger_path) as ledger):
        return collect_in(workspace, ledger, stage, period, folder, progress)


def collect_in(workspace: Workspace, ledger: Ledger, stage: Staging, period: str, folder: Path | None,
               progress: Progress) -> CollectRun:
    """``collect`` within a command's ledger transaction, its outputs written to ``stage``."""
    plan = plan_for(ledger, period)
    units = ledger.registry().by_code()
    result = collect(workspace, ledger, period, folder, plan, units, progress,
                     meanwhile=partial(outputs_ready, workspace, period))
    created = dt.datetime.strptime(period + "-01", "%Y-%m-%d")
    head = letterhead(workspace, plan, period)
    # 校验结果 is written here while the workers write the notices.
    returned = send_back(workspace, stage, head, result, units, meanwhile=partial(
        report.write_validation, result, units, head.deadline, stage.file(report.VALIDATION_NAME), created,
        stage.target / report.VALIDATION_NAME))
    return CollectRun(result, stage.target / report.VALIDATION_NAME, returned)


def outputs_ready(workspace: Workspace, period: str) -> None:
    """What a collect's outputs are written with, made ready while its workers read: the office's
    notice template in place and prepared to render from (``gongwen.prepare``: the workers
    writing the notices find it so), python-docx and XlsxWriter loaded (a tenth of a second the
    clerk would otherwise wait for after the reading). A template that cannot be prepared is
    left as it is: a month with notices to write tells why then, as it would without this."""
    template = document(workspace, documents.RETURN_TEMPLATE, period)
    load(report)
    try:
        gongwen.prepare(template).slim  # noqa: B018 - made now, while the readers work
    except Exception:  # noqa: BLE001 - told when a notice is written, if one is
        pass


def send_back(workspace: Workspace, stage: Staging, head: documents.Letterhead, result: CollectResult,
              units: dict[str, Unit], meanwhile: Callable[[], object] = nothing) -> Sent:
    """退回通知 and its mail for every unit whose standing file was returned, and for every rejected
    file a unit can be named for, unless the unit has an accepted file; they replace the earlier ones.
    ``meanwhile()``: the command's own work, done while the notices are written."""
    back = result.sent_back(set(units))
    folder = stage.folder_for(documents.RETURN_FOLDER)
    names = {code: documents.notice_name(code, units[code].name, "退回修改通知") for code in back}
    resubmit_by = max(head.deadline, head.issued) + dt.timedelta(days=workspace.config().resubmit_days)
    contexts = {names[code]: documents.return_context(head, units[code].name, o.file, [
        describe(f)._asdict() for f in sorted(o.findings, key=lambda f: f.severity != Severity.ERROR)], resubmit_by)
        for code, o in back.items()}
    documents.write_documents(folder, document(workspace, documents.RETURN_TEMPLATE, head.period), contexts,
                              head.created, earlier=stage.target / documents.RETURN_FOLDER, meanwhile=meanwhile)
    mails, no_address = send_drafts(stage, head, "退回", [
        mail.return_mail(head, units[code], o.file, (folder / names[code],)) for code, o in back.items()])
    return Sent(stage.target / documents.RETURN_FOLDER, len(back), mails, no_address)


def plan_for(ledger: Ledger, period: str | None) -> Plan:
    """The plan a period's files are checked against: the plan in force, except for a month
    before the latest one collected, which keeps the plan it was collected under (a late file
    for it is judged as its template was made; a replaced plan never returns its accepted files)."""
    latest = ledger.latest_period()
    if period and latest and latest > period:
        kept = ledger.period_plan(period)
        if kept is not None:
            return kept
    return plan_in_force(ledger)


def check_file(workspace: Workspace, path: Path) -> FileOutcome:
    """The collect checks for one file, against the period it claims; nothing is recorded."""
    if not path.is_file():
        raise InputError(f"找不到要检查的文件：{path}。请确认文件名和所在文件夹。")
    if is_container(path.name):
        raise InputError(f"{path.name} 是压缩包或邮件，pipeline check 只检查单个填报表。请取出其中的填报表再检查；"
                         f"放进报送期文件夹后运行 pipeline collect 时，其中的每个文件都会被取出并检查。")
    spec = workspace.spec()
    [(_, read)] = read_files([path], (spec.data_sheet, IDENTITY_SHEET))
    identity = read_identity(read.workbook) if read.workbook else None
    check_ledger(workspace)
    with Ledger(workspace.ledger_path) as ledger:
        units = ledger.registry().by_code()
        plan = plan_for(ledger, identity.period if identity else None)
    sha256, _ = file_hash(path)
    verdict = verdict_of(read, spec, workspace.secret_key(), None, plan, units)
    return FileOutcome.judged(path.name, sha256, Judged.of(verdict))


@dataclass(frozen=True)
class TemplateIssue:
    """What ``templates`` wrote: one workbook per unit with tasks."""

    period: str
    folder: Path
    files: tuple[Path, ...]
    rows: int
    without_tasks: int  # registry units that got no workbook
    cover: Path  # 下发通知.docx
    mails: Path  # the folder of mail drafts
    no_address: tuple[str, ...]  # units with no 邮箱 in the registry: no mail draft

    @property
    def units(self) -> int:
        return len(self.files)


def letterhead(workspace: Workspace, plan: Plan, period: str) -> documents.Letterhead:
    """The office, the plan and the month as every notice names them, dated by ``issue_date``."""
    config = workspace.config()
    year, month = split_period(period)
    return documents.Letterhead(config.office, config.contact, config.phone, config.email, plan.title, period,
                                dt.date(year, month, config.deadline_day), issue_date(period))


def document(workspace: Workspace, name: str, period: str) -> Path:
    """The office's Word template ``name``, the bundled one written first when it has none."""
    return documents.document_template(workspace.templates_dir, name, dt.datetime(split_period(period)[0], 1, 1))


def send_drafts(stage: Staging, head: documents.Letterhead, kind: str,
                drafts: list[mail.Draft]) -> tuple[Path, tuple[str, ...]]:
    """Mail drafts of one kind (下发, 催报, 退回) for the period: where they go, and the units
    without an address."""
    name = f"{mail.MAIL_FOLDER}/{kind}"
    missing = mail.write_drafts(stage.folder_for(name), kind, drafts, head.email, head.office, head.created)
    return stage.target / name, tuple(draft.unit_name for draft in missing)


def issue_templates(workspace: Workspace, period: str, progress: Progress = SILENT) -> TemplateIssue:
    """Write every unit's fill-in workbook for ``period``, prefilled with its latest earlier answers.

    ``progress`` counts the workbooks.
    """
    period = check_period(period)
    with holding(workspace, f"templates {period}"), Staging(workspace.period_output(period), "templates") as stage:
        return write_issue(workspace, stage, period, progress)


def write_issue(workspace: Workspace, stage: Staging, period: str, progress: Progress) -> TemplateIssue:
    """``templates`` with the workspace held, its outputs written to ``stage``."""
    folder = stage.folder_for(templates.TEMPLATE_FOLDER)
    with Ledger(workspace.ledger_path) as ledger:
        plan = plan_in_force(ledger)
        registry = ledger.registry()
        units = templates.units_with_tasks(plan, registry)
        replaced = consolidate.replaced_tasks(plan, ledger.period_tasks(period))
        jobs = []
        for unit, tasks in units:
            # The latest answers, for the tasks that named the same work then.
            then, answers = ledger.latest_answers_before(unit.code, period)
            prefill = {task_id: values for task_id, values in answers.items()
                       if task_id not in replaced.get(then, ())}
            jobs.append(templates.TemplateJob(folder / templates.template_name(unit, period), unit, tasks, prefill))
    context = templates.TemplateContext(spec=workspace.spec(), config=workspace.config(), plan_title=plan.title,
                                        plan_version=plan.version, period=period, key=workspace.secret_key())
    progress.start(len(jobs))
    templates.write_templates(context, jobs, progress)
    issued = {unit.code for unit, _tasks in units}
    head, spec = letterhead(workspace, plan, period), context.spec
    cover = stage.file(documents.COVER_NAME)
    gongwen.render_template(document(workspace, documents.COVER_TEMPLATE, period),
                            {**head.context(), "units": len(jobs),
                             "columns": "、".join(f"“{c.label}”" for c in spec.input_columns),
                             "header": "、".join(f"“{f.label}”" for f in spec.header if not f.prefill)},
                            cover, head.created)
    mails, no_address = send_drafts(stage, head, "下发",
                                    [mail.cover_mail(head, job.unit, (job.path, cover)) for job in jobs])
    placed = stage.target / templates.TEMPLATE_FOLDER
    return TemplateIssue(period, placed, tuple(placed / job.path.name for job in jobs),
                         rows=sum(len(tasks) for _unit, tasks in units),
                         without_tasks=sum(unit.code not in issued for unit in registry.units),
                         cover=stage.target / documents.COVER_NAME, mails=mails, no_address=no_address)


@dataclass(frozen=True)
class ReportRun:
    """What ``report`` wrote."""

    consolidation: consolidate.Consolidation
    report: Path
    details: Path
    feedback: Path
    feedback_files: int
    bulletin: Path


def report_period(workspace: Workspace, period: str, progress: Progress = SILENT) -> ReportRun:
    """Consolidate a collected period from the ledger; write 汇总报告.xlsx and the feedback workbooks.

    ``progress`` counts the workbooks (the report and one per unit). They are written on every
    CPU, the report alongside the first units'.
    """
    period = check_period(period)
    with (holding(workspace, f"report {period}"), Staging(workspace.period_output(period), "report") as stage,
          Ledger(workspace.ledger_path) as ledger):
        return report_in(workspace, ledger, stage, period, progress)


def report_in(workspace: Workspace, ledger: Ledger, stage: Staging, period: str, progress: Progress) -> ReportRun:
    """``report`` within a command's ledger transaction (it only reads the ledger), its outputs
    written to ``stage``: 汇总报告, 工作通报 and 反馈/ change together or not at all."""
    config, spec = workspace.config(), workspace.spec()
    registry = ledger.registry()
    collected = ledger.collected_periods(period)
    submissions, answers, findings = ledger.report_inputs(period)
    period_tasks = ledger.period_tasks(period)
    if period not in collected:
        raise PeriodError(f"台账中没有报送期 {period} 的收集记录。请先运行 pipeline collect {period}。")
    # The plan the period was collected under: a month reported again after the plan was
    # replaced keeps its own tasks.
    plan = ledger.period_plan(period) or plan_in_force(ledger)
    year, month = split_period(period)
    deadline = dt.date(year, month, config.deadline_day)
    consolidation = consolidate.consolidate(plan, spec, registry.units, period, deadline, submissions, answers,
                                            findings, collected, period_tasks)
    batch = report.ReportBatch(consolidation, spec, f"{config.city}{plan.title}",
                               f"{config.city}{plan.title}落实情况汇总报告（{year}年{month}月）", chinese_date(deadline),
                               stage.file(report.REPORT_NAME), stage.file(report.DETAILS_NAME),
                               stage.folder_for(report.FEEDBACK_FOLDER), dt.datetime(year, month, 1))
    progress.start(batch.jobs)
    run_jobs(report.write_report_job, batch, batch.jobs, progress)
    documents.write_bulletin(consolidation, spec, letterhead(workspace, plan, period),
                             document(workspace, documents.BULLETIN_TEMPLATE, period),
                             stage.file(documents.BULLETIN_NAME))
    out = stage.target
    return ReportRun(consolidation, out / report.REPORT_NAME, out / report.DETAILS_NAME, out / report.FEEDBACK_FOLDER,
                     len(consolidation.units), out / documents.BULLETIN_NAME)


@dataclass(frozen=True)
class RemindRun:
    """What ``remind`` wrote: a 催报通知 per unit still to report, the office's list, mail drafts."""

    period: str
    reminders: tuple[consolidate.Reminder, ...]
    folder: Path
    roster: Path
    mails: Path
    no_address: tuple[str, ...]


def remind_period(workspace: Workspace, period: str) -> RemindRun:
    """催报: a notice for every unit with no accepted file for ``period``, the list for the office,
    and a mail draft (the notice and the unit's workbook) to each unit with an address."""
    period = check_period(period)
    out = workspace.period_output(period)
    with holding(workspace, f"remind {period}"), Staging(out, "remind") as stage:
        issued = out / templates.TEMPLATE_FOLDER
        if not issued.is_dir():
            raise PeriodError(f"还没有下发报送期 {period} 的填报表（{issued} 不存在），无从催报。"
                              f"请先运行 pipeline templates {period}。")
        with Ledger(workspace.ledger_path) as ledger:
            plan = plan_for(ledger, period)
            registry = ledger.registry()
            submissions = ledger.submissions(period)
        reminders = tuple(consolidate.reminders(plan, registry.units, submissions, period))
        head = letterhead(workspace, plan, period)
        folder = stage.folder_for(documents.REMIND_FOLDER)
        names = {r.unit.code: documents.notice_name(r.unit.code, r.unit.name, "催报通知") for r in reminders}
        documents.write_documents(
            folder, document(workspace, documents.REMIND_TEMPLATE, period),
            {names[r.unit.code]: documents.remind_context(head, r, templates.template_name(r.unit, period))
             for r in reminders},
            head.created, earlier=out / documents.REMIND_FOLDER)
        gongwen.render_template(document(workspace, documents.REMIND_LIST_TEMPLATE, period),
                                documents.roster_context(head, plan, reminders),
                                stage.file(documents.REMIND_LIST_NAME), head.created)
        drafts = [mail.remind_mail(head, r.unit, documents.remind_state(r),
                                   existing(folder / names[r.unit.code], issued / templates.template_name(r.unit, period)))
                  for r in reminders]
        mails, no_address = send_drafts(stage, head, "催报", drafts)
    return RemindRun(period, reminders, out / documents.REMIND_FOLDER, out / documents.REMIND_LIST_NAME, mails,
                     no_address)


def existing(*paths: Path) -> tuple[Path, ...]:
    """The paths that are files (what can be attached)."""
    return tuple(path for path in paths if path.is_file())


@dataclass(frozen=True)
class MergeRun:
    """What ``merge`` did: the period collected, then reported."""

    collect: CollectRun
    report: ReportRun


def merge_period(workspace: Workspace, period: str, folder: Path | None = None,
                 progress: Progress = SILENT) -> MergeRun:
    """The monthly merge: collect the period's returned files, then write its report, in one
    ledger transaction (a merge whose report fails leaves the ledger as it was)."""
    period = check_period(period)
    with (holding(workspace, f"merge {period}", writes_ledger=True),
          Staging(workspace.period_output(period), "merge") as stage, Ledger(workspace.ledger_path) as ledger):
        collected = collect_in(workspace, ledger, stage, period, folder, progress)
        return MergeRun(collected, report_in(workspace, ledger, stage, period, progress))


class DemoMonth(NamedTuple):
    """One month of the demo: templates issued, the merge of the returns, reminders for the rest."""

    templates: TemplateIssue
    merge: MergeRun
    remind: RemindRun


@dataclass(frozen=True)
class DemoRun:
    """Where the demo put its workspace and what it produced."""

    workspace: Workspace
    plan_load: PlanLoad
    months: tuple[DemoMonth, ...]


def run_demo(root: Path) -> DemoRun:
    """The whole monthly cycle, twice, on the bundled sample data in a fresh workspace.

    The second month's templates are prefilled from the first, statuses move on, one unit is
    late and one is returned. A folder left by an earlier demo is replaced; any other
    non-empty folder is refused.
    """
    root = Path(root)
    if root.joinpath(DEMO_MARKER).is_file():
        shutil.rmtree(root)
    elif root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise WorkspaceError(f"{root} 已存在且不是示例工作区，为避免覆盖，未运行示例。请换一个目录。")
    workspace = init_workspace(root)
    root.joinpath(DEMO_MARKER).write_text("pipeline demo\n", encoding="utf-8")
    plan_load = load_plan(workspace, workspace.input_dir / SAMPLE_PLAN.name)
    plan, spec, config = plan_load.plan, workspace.spec(), workspace.config()
    months, previous = [], None
    for number, (period, shape) in enumerate(zip(DEMO_PERIODS, DEMO_MONTH_SHAPES)):
        issued = issue_templates(workspace, period)
        units = [(u.code, u.name, templates.template_name(u, period))
                 for u, _ in templates.units_with_tasks(plan, plan_load.registry)]
        demo.simulate_returns(issued.folder, workspace.input_dir / period, spec, plan, units, period,
                         config.deadline_day, seed=2018 + number, previous=previous, **shape)
        merged = merge_period(workspace, period)
        months.append(DemoMonth(issued, merged, remind_period(workspace, period)))
        with Ledger(workspace.ledger_path) as ledger:
            previous = {code: {task: values.get(spec.status_column) for task, values in
                               ledger.answers(code, period).items()} for code, _, _ in units}
    return DemoRun(workspace, plan_load, tuple(months))
