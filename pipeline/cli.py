"""The ``pipeline`` command line: parse options, call one operation, print, set the exit code."""

from __future__ import annotations

import gc
import json
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from .errors import PeriodError, PipelineError
from .findings import FileStatus, describe
from .lazy import lazy
from .periods import check_period, split_period
from .progress import COLLECT_STAGE, REPORT_STAGE, TEMPLATES_STAGE, Progress


cycle, faults, guard, workspaces = (lazy(f"pipeline.{name}") for name in ("cycle", "faults", "guard", "workspace"))


class UserError(click.ClickException):
    """A PipelineError as the clerk sees it: a Chinese message on stderr, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


DEBUG_VARIABLE = "PIPELINE_DEBUG"


class PipelineCommand(click.Command):
    """A command whose command-line mistakes name it, also those Click's parser raises without
    saying where (an option without its value, a flag given one)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.ctx = exc.ctx or ctx
            raise


class PipelineGroup(PipelineCommand, click.Group):
    """The one place where an error becomes a Chinese message for the clerk: a PipelineError as
    it says, a fault of the machine (full disk, read-only folder, damaged ledger) explained, a
    mistyped command line in plain words. No traceback, unless asked for with ``--debug``."""

    command_class = PipelineCommand

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PipelineError as exc:
            raise UserError(str(exc)) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except Exception as exc:
            if ctx.meta.get("debug") or os.environ.get(DEBUG_VARIABLE):
                raise
            raise UserError(faults.explain(exc, ctx.meta.get("workspace", Path(".")))) from exc

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # a bare group: its help, as Click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            path = exc.ctx.command_path if exc.ctx else "pipeline"
            click.echo(f"错误：{usage_message(exc)}\n请运行 {path} --help 查看用法。", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("已中止。", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)  # --help and --version end with their code


# What each argument and option is, in the clerk's words, for telling a mistyped command line.
PARAM_WORDS = {
    "workspace": "工作区目录",
    "debug": "显示调用栈",
    "version": "显示版本",
    "directory": "工作区目录",
    "city": "城市名称",
    "plan_file": "计划表文件",
    "units_file": "单位名录文件",
    "draft_file": "单位名录草稿文件",
    "replace": "替换已加载的计划",
    "as_json": "以 JSON 输出",
    "source_text": "附上计划原文",
    "period": "月份",
    "folder": "报回文件所在的文件夹",
    "file": "要检查的文件",
    "backup": "台账备份文件",
    "port": "端口",
    "host": "监听地址",
    "no_browser": "不打开浏览器",
}
_KIND_WORDS = {"argument": "参数", "option": "选项"}
# Click's words for the mistakes it finds without a structured exception.
_EXTRA_ARGUMENTS = re.compile(r"Got unexpected extra arguments? \((.+)\)")
_MISSING_COMMAND = "Missing command."
_FLAG_WITH_VALUE = re.compile(r"Option '.+' does not take a value\.")


def named(param: click.Parameter, typed: str | None = None) -> str:
    """An argument as ``月份（PERIOD）``, an option as ``-w（工作区目录）``, by the name ``typed``."""
    if isinstance(param, click.Argument):
        return f"{PARAM_WORDS[param.name]}（{param.human_readable_name}）"
    return f"{typed or param.opts[-1]}（{PARAM_WORDS[param.name]}）"


def example(command: click.Command) -> str:
    """The example in a command's help (every command has one, after ``例：``)."""
    return re.search(r"例：(.+)", command.help).group(1).strip()


def did_you_mean(names) -> str:
    names = list(names)
    return f"您是不是要找 {' 或 '.join(names)}？" if names else ""


def usage_message(exc: click.UsageError) -> str:
    """A mistyped command line in the clerk's language: arguments and options named in Chinese,
    the nearest command or option offered for a misspelt one, an example for a missing argument."""
    ctx = exc.ctx
    if isinstance(exc, click.NoSuchCommand):
        near = (f"{ctx.command_path} {name}" for name in exc.possibilities or ())
        return f"没有“{exc.command_name}”这个命令。{did_you_mean(near)}"
    if isinstance(exc, click.NoSuchOption):
        return f"没有 {exc.option_name} 这个选项。{did_you_mean(exc.possibilities or ())}"
    if isinstance(exc, click.MissingParameter):
        return f"缺少{_KIND_WORDS[exc.param.param_type_name]}：{named(exc.param)}，例如 {example(ctx.command)}"
    if isinstance(exc, click.BadParameter):
        return f"{named(exc.param)}：{exc.message}"
    if isinstance(exc, click.BadOptionUsage):
        # Click's own --help is not among the command's parameters: it goes by its name alone.
        option = next((named(param, exc.option_name) for param in ctx.command.params
                       if exc.option_name in param.opts), f"{exc.option_name} ")
        if _FLAG_WITH_VALUE.fullmatch(exc.message):
            return f"选项 {option}后面不用写值。"
        return f"选项 {option}后面要写一个值。"
    if exc.message == _MISSING_COMMAND:
        return f"缺少命令。可用的命令有 {'、'.join(ctx.command.list_commands(ctx))}。"
    extra = _EXTRA_ARGUMENTS.fullmatch(exc.message)
    if extra:
        return f"多余的参数：{extra.group(1)}。"
    return exc.message


def _remember_workspace(ctx: click.Context, _param, value: Path | None) -> None:
    if value is not None:
        ctx.meta["workspace"] = value


def _remember_debug(ctx: click.Context, _param, value: bool) -> None:
    if value:
        ctx.meta["debug"] = True


def workspace_option(command):
    """``-w/--workspace DIR``, accepted before or after the subcommand."""
    return click.option(
        "-w",
        "--workspace",
        type=click.Path(path_type=Path),
        callback=_remember_workspace,
        expose_value=False,
        is_eager=True,
        help="工作区目录（默认：当前目录）。",
    )(command)


class Period(click.ParamType):
    """A month as the clerk writes it (``2018-06``, ``2018-6``, ``2018年6月``), passed on as ``2018-06``."""

    name = "period"

    def convert(self, value, param, ctx) -> str:
        try:
            return check_period(value)
        except PeriodError as exc:
            self.fail(str(exc), param, ctx)


def period_argument(command):
    """``PERIOD``: a month, told as a mistyped command line when it is none."""
    return click.argument("period", type=Period())(command)


def json_option(command):
    """``--json``: exactly one JSON document on stdout; messages and progress go to stderr."""
    return click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供其他程序读取）。")(command)


def echo_json(document: dict) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def open_workspace(period: str | None = None) -> "workspaces.Workspace":
    """The workspace of ``-w`` (default: the current directory). A ``period`` outside the plan
    year is most likely a slip: the clerk is told, and the command goes on."""
    workspace = workspaces.Workspace.open(click.get_current_context().meta.get("workspace", Path(".")))
    if period is not None:
        year = workspace.config().year
        if split_period(period)[0] != year:
            click.echo(f"提醒：{period} 不在计划年度（{year} 年）内，仍按 {period} 运行。如果月份写错了，请改正后"
                       f"重新运行；如果已换成新一年的计划，请修改 {workspace.config_path.name} 中的 year。", err=True)
    return workspace


@click.group(cls=PipelineGroup, name="pipeline")
@workspace_option
@click.option("--debug", is_flag=True, callback=_remember_debug, expose_value=False, is_eager=True,
              help=f"出错时显示程序的调用栈（供维护人员排查；也可设环境变量 {DEBUG_VARIABLE}=1）。")
@click.version_option(package_name="baosong-pipeline")
def cli() -> None:
    """政务公开任务进展报送：按计划分解任务、下发填报模板、收集校验、汇总报告。

    例：pipeline demo 在示例数据上跑完整流程。
    """


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--city", default="示例市", show_default=True, help="城市名称，用于模板和报告标题。")
@workspace_option
def init(directory: Path, city: str) -> None:
    """新建工作区：示例单位名录、配置文件、签名密钥和示例计划表。

    例：pipeline init 报送工作区 --city 示例市
    """
    workspace = cycle.init_workspace(directory, city=city)
    sample_plan = Path(workspace.input_dir.name, workspaces.SAMPLE_PLAN.name)
    click.echo(f"已创建工作区：{workspace.root}")
    click.echo(f"  配置：{workspace.config_path.name}（城市、计划年度和名称、报送截止日，可编辑）")
    click.echo(f"  单位名录：{workspace.registry_path.name}（示例数据，请换成本地单位）")
    click.echo(f"  计划表：{sample_plan}（示例，本地计划表也放在 {workspace.input_dir.name} 中）")
    click.echo(f"  模板：{workspace.templates_dir.name}/ 中的填报表配置和 Word 文书模板（可按本单位习惯修改）")
    click.echo(f"  控制台：运行 pipeline serve，或在 Windows 中双击 {workspaces.CONSOLE_SHORTCUT}，在浏览器中完成每月的工作")
    click.echo("下一步，先用示例数据试一遍：")
    if workspace.root.resolve() != Path.cwd().resolve():
        click.echo(f"  cd {command_word(workspace.root)}")
    click.echo(f"  pipeline plan load {command_word(sample_plan)}")
    click.echo("  pipeline plan show")
    click.echo(f"  pipeline templates {cycle.DEMO_PERIODS[0]}")


def command_word(path: Path) -> str:
    """A path as typed on a command line: in double quotes when it has a space or a character
    the shell would take (PowerShell, cmd and the Linux shells all read double quotes)."""
    text = str(path)
    return text if re.fullmatch(r"[\w./\\:~+-]+", text) else f'"{text}"'


@cli.group(cls=PipelineGroup)
@workspace_option
def plan() -> None:
    """计划表：加载和查看任务分工。"""


@plan.command("load")
@click.argument("plan_file", type=click.Path(path_type=Path))
@click.option("--units", "units_file", type=click.Path(path_type=Path),
              help="单位名录 .xlsx（默认：工作区中的 单位名录.xlsx）。")
@click.option("--replace", is_flag=True, help="用内容不同的新计划替换已加载的计划。")
@workspace_option
def plan_load(plan_file: Path, units_file: Path | None, replace: bool) -> None:
    """读取计划表（.xlsx/.xls/.docx/.doc/.csv/.txt，表格或文字）和单位名录，存入工作区。

    例：pipeline plan load input/2018年政务公开工作要点.txt
    """
    workspace = open_workspace()
    result = cycle.load_plan(workspace, plan_file, units_file, replace)
    plan_ = result.plan
    state = "已加载" if result.changed else "计划内容未变，沿用"
    click.echo(f"{state}计划“{plan_.title}”（版本 {plan_.version}）：{len(plan_.tasks)} 项任务，"
               f"涉及 {len({a.code for t in plan_.tasks for a in t.units})} 个单位。")
    for warning in result.warnings:
        click.echo(f"提醒：{warning}")
    if result.titled_by_config:
        click.echo(f"计划表的表格上方没有标题行，计划名称按 {workspace.config_path.name} 确定；要改名称，"
                   "请修改其中 [plan] 下的 title，或在计划表的表格上方加一行标题。")
    click.echo(f"任务分解表：{result.breakdown}")


@plan.command("show")
@json_option
@click.option("--source-text", is_flag=True,
              help="JSON 中另附计划名称、计划表文件、读取方式和每项任务的责任单位原文。")
@workspace_option
def plan_show(as_json: bool, source_text: bool) -> None:
    """列出当前计划的任务、每项任务的责任单位和职责，以及计划表中责任单位的原文。

    例：pipeline plan show --json
    """
    plan_ = cycle.current_plan(open_workspace())
    if as_json:
        echo_json(plan_.to_json(source_text))
        return
    click.echo(f"{plan_.title}（版本 {plan_.version}，{len(plan_.tasks)} 项任务）")
    click.echo(f"计划表：{plan_.source}" + (f"（{plan_.layout}）" if plan_.layout else ""))
    category = None
    for task in plan_.tasks:
        if task.category != category:
            category = task.category
            click.echo(f"\n{task.category_no}. {category}")
        click.echo(f"  [{task.id}] {task.requirement[:60]}{'…' if len(task.requirement) > 60 else ''}")
        if task.deadline:
            click.echo(f"        完成时限：{task.deadline}")
        by_role: dict[str, list[str]] = {}
        for a in task.units:
            by_role.setdefault(a.role, []).append(a.name)
        for role, names in by_role.items():
            click.echo(f"        {role}（{len(names)}）：{'、'.join(names)}")
        click.echo(f"        原文：{task.responsibility}")


@cli.group(cls=PipelineGroup)
@workspace_option
def units() -> None:
    """单位名录：还没有单位名录时，从计划表起草。"""


@units.command("draft")
@click.argument("plan_file", type=click.Path(path_type=Path))
@click.option("-o", "--output", "draft_file", type=click.Path(path_type=Path),
              help="草稿保存为哪个 .xlsx 文件（默认：工作区中的单位名录草稿；已有的文件不会被覆盖）。")
@workspace_option
def units_draft(plan_file: Path, draft_file: Path | None) -> None:
    """从计划表起草单位名录：计划写到的每个单位和分组、建议的编码和分组、可能是同一单位的简称，供核对补全。

    例：pipeline units draft input/2018年政务公开工作要点.txt
    """
    made = cycle.draft_units(open_workspace(), plan_file, draft_file)
    drafted = made.draft
    click.echo(f"已起草单位名录：{made.path}（{len(drafted.units)} 个单位，{len(drafted.groups)} 个分组；"
               f"{drafted.paired} 个简称已写作全称的别名）。")
    if drafted.plan.problems:
        click.echo(f"计划表中另有 {len(drafted.plan.problems)} 处问题，加载计划前须改正：")
        for problem in drafted.plan.problems:
            click.echo(f"  - {problem}")
    click.echo("请打开草稿，按“核对提示”列核对简称和分组的成员，补上联系人、联系电话和邮箱；"
               "单位编码是建议的，可改为本单位惯用的编码。核对后加载计划：")
    click.echo(f"  pipeline plan load {command_word(plan_file)} --units {command_word(made.path)}")


class ProgressBar(Progress):
    """A bar on stderr for each stage started; nothing when quiet (``--json``) or when stderr is
    not a terminal. ``labels`` name the stages in the order they start."""

    def __init__(self, *labels: str, quiet: bool = False):
        self.labels, self.quiet = list(labels), quiet
        self.bar = None

    def start(self, total: int) -> None:
        self.close()
        label = self.labels.pop(0) if self.labels else ""
        if not self.quiet and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()

    def step(self, name: str) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextmanager
def progress_bar(*labels: str, quiet: bool = False):
    """A ProgressBar whose last bar is finished when the block ends, however it ends."""
    bar = ProgressBar(*labels, quiet=quiet)
    try:
        yield bar
    finally:
        bar.close()


@cli.command()
@period_argument
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@json_option
@workspace_option
def collect(period: str, folder: Path | None, as_json: bool) -> None:
    """收集、归档并检查各单位报回的文件（默认读取 input/PERIOD/），结果记入台账。

    可反复运行：迟到的文件放进文件夹后再运行一次即可。

    例：pipeline collect 2018-06
    """
    with progress_bar(COLLECT_STAGE, quiet=as_json) as progress:
        run = cycle.collect_period(open_workspace(period), period, folder, progress)
    if as_json:
        echo_json(run.result.to_json())
        return
    click.echo(run.result.summary())
    _echo_collect(run)


def _echo_collect(run) -> None:
    if run.result.unread:
        click.echo(f"有 {len(run.result.unread)} 份文件未能读取，本次没有收取：")
        for unread in run.result.unread:
            click.echo(f"  {unread.message}{unread.fix}")
    click.echo(f"校验结果：{run.validation.resolve()}")
    if run.returned.count:
        click.echo(f"退回通知（{run.returned.count} 份）：{run.returned.folder.resolve()}")
        _echo_mails(run.returned.mails, run.returned.no_address)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@json_option
@workspace_option
def check(file: Path, as_json: bool) -> None:
    """检查一份填报表，不记入台账。会被退回时退出码为 1。

    例：pipeline check 市财政局_2018-06.xlsx
    """
    outcome = cycle.check_file(open_workspace(), file)
    if as_json:
        echo_json(outcome.to_json())
    else:
        click.echo(f"{file.name}：{outcome.status.word}")
        for item in outcome.findings:
            click.echo(f"  {describe(item)}")
    if outcome.status != FileStatus.ACCEPTED:
        raise SystemExit(1)


@cli.command()
@period_argument
@workspace_option
def templates(period: str) -> None:
    """为每个有任务的单位生成 PERIOD（年-月）的填报模板，放在 output/PERIOD/填报模板/。

    上月已报送的内容会预先填入，单位只需更新。

    例：pipeline templates 2018-06
    """
    with progress_bar(TEMPLATES_STAGE) as progress:
        issue = cycle.issue_templates(open_workspace(period), period, progress)
    click.echo(f"已生成 {issue.period} 填报模板：{issue.units} 个单位，{len(issue.files)} 个文件，"
               f"共 {issue.rows} 行任务。")
    if issue.without_tasks:
        click.echo(f"单位名录中另有 {issue.without_tasks} 个单位在计划中没有任务，未生成模板。")
    click.echo(f"文件夹：{issue.folder.resolve()}")
    click.echo(f"下发通知：{issue.cover.resolve()}")
    _echo_mails(issue.mails, issue.no_address)


@cli.command()
@period_argument
@workspace_option
def remind(period: str) -> None:
    """为 PERIOD 还没有通过的单位写催报通知、催报名单和催报邮件草稿。

    未报送的单位和报送后被退回、尚未重新报送的单位都会收到催报。

    例：pipeline remind 2018-06
    """
    run = cycle.remind_period(open_workspace(period), period)
    click.echo(f"{run.period}：需要催报 {len(run.reminders)} 个单位。")
    for reminder in run.reminders:
        click.echo(f"  {reminder.unit.name}：{reminder.state.word}（{reminder.unit.contact} {reminder.unit.phone}）")
    click.echo(f"催报通知：{run.folder.resolve()}")
    click.echo(f"催报名单：{run.roster.resolve()}")
    _echo_mails(run.mails, run.no_address)


def _echo_mails(folder: Path, no_address: tuple[str, ...]) -> None:
    click.echo(f"邮件草稿：{folder.resolve()}（用 Outlook、Foxmail 等打开即可发送）")
    if no_address:
        click.echo(f"单位名录中没有邮箱、未生成邮件的单位（{len(no_address)} 个）：{'、'.join(no_address)}")


@cli.command()
@click.argument("directory", required=False, default="示例工作区",
                type=click.Path(path_type=Path))
@workspace_option
def demo(directory: Path) -> None:
    """在示例数据上运行完整流程，结果放在 DIRECTORY（默认：./示例工作区）。

    例：pipeline demo
    """
    run = cycle.run_demo(directory)
    plan_ = run.plan_load.plan
    click.echo(f"示例工作区：{run.workspace.root.resolve()}")
    click.echo(f"计划：{plan_.title}，{len(plan_.tasks)} 项任务，单位名录 {len(run.plan_load.registry.units)} 个单位")
    click.echo(f"任务分解表：{run.plan_load.breakdown.resolve()}")
    for month in run.months:
        click.echo(f"\n{month.templates.period} 填报模板：{month.templates.units} 个单位，"
                   f"{month.templates.rows} 行任务，在 {month.templates.folder.resolve()}")
        click.echo(f"下发通知和邮件草稿：{month.templates.cover.resolve()}，{month.templates.mails.resolve()}")
        click.echo("模拟各单位报回，" + month.merge.collect.result.summary())
        _echo_collect(month.merge.collect)
        _echo_report(month.merge.report)
        click.echo(f"催报 {len(month.remind.reminders)} 个单位：{month.remind.folder.resolve()}，"
                   f"催报名单 {month.remind.roster.resolve()}")


def _echo_report(report) -> None:
    click.echo(f"汇总报告：{report.report.resolve()}")
    click.echo(f"汇总明细（供筛选和透视）：{report.details.resolve()}")
    click.echo(f"各单位反馈（{report.feedback_files} 份）：{report.feedback.resolve()}")
    click.echo(f"工作通报：{report.bulletin.resolve()}")


@cli.command()
@period_argument
@workspace_option
def report(period: str) -> None:
    """按台账中 PERIOD 的收集结果生成汇总报告和各单位反馈表。

    例：pipeline report 2018-06
    """
    with progress_bar(REPORT_STAGE) as progress:
        run = cycle.report_period(open_workspace(period), period, progress)
    summary, statuses = run.consolidation.summary, run.consolidation.status_counts
    counts = "，".join(f"{word} {int(count)}" for word, count in statuses.items() if count)
    click.echo(f"{period}：任务 {summary['tasks']} 项（{counts}；逾期 {summary['overdue']}）；"
               f"应报 {summary['expected']} 个单位，已报 {summary['reported']}，未报 {summary['missing']}。")
    _echo_report(run)


@cli.command()
@period_argument
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@workspace_option
def merge(period: str, folder: Path | None) -> None:
    """每月合并：收集检查报回的文件（默认 input/PERIOD/），再生成汇总报告。

    例：pipeline merge 2018-06
    """
    with progress_bar(COLLECT_STAGE, REPORT_STAGE) as progress:
        merged = cycle.merge_period(open_workspace(period), period, folder, progress)
    click.echo(merged.collect.result.summary())
    _echo_collect(merged.collect)
    _echo_report(merged.report)


@cli.group(cls=PipelineGroup)
@workspace_option
def ledger() -> None:
    """台账：检查是否完好，从备份恢复。"""


@ledger.command("check")
@workspace_option
def ledger_check() -> None:
    """检查台账是否完好，列出台账备份。台账损坏时退出码为 1。

    例：pipeline ledger check
    """
    workspace = open_workspace()
    problem = guard.ledger_problem(workspace.ledger_path)
    click.echo(f"台账 {workspace.ledger_path}：{problem or '完好'}")
    kept = guard.backups(workspace)
    click.echo(f"台账备份（{len(kept)} 份，在 {workspace.root / guard.BACKUP_FOLDER}）：")
    for backup in reversed(kept):
        click.echo(f"  {backup.path.name}　{backup.taken:%Y-%m-%d %H:%M:%S}　{backup.path.stat().st_size / 1024:.0f} KB")
    if problem:
        raise SystemExit(1)


@ledger.command("restore")
@click.argument("backup", required=False, type=click.Path(path_type=Path))
@workspace_option
def ledger_restore(backup: Path | None) -> None:
    """用台账备份（默认：最新的一份）恢复台账；原台账改名保留，不会删除。

    例：pipeline ledger restore
    """
    restored = guard.restore(open_workspace(), backup)
    click.echo(f"已用备份 {restored.backup.path.name}（{restored.backup.taken:%Y-%m-%d %H:%M}）恢复台账。")
    if restored.kept:
        click.echo(f"原来的台账已改名保留为 {restored.kept.name}。")
    click.echo("该备份之后收集过的报送期，请重新运行 pipeline collect 报送期（收到的文件仍在 input/ 和 archive/ 中）。")


@cli.command()
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="控制台使用的端口。")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="监听的地址。默认只允许本机访问；填其他地址（如 0.0.0.0）时，访问须带启动时显示的令牌。")
@click.option("--no-browser", is_flag=True, help="启动后不自动打开浏览器。")
@workspace_option
def serve(port: int, host: str, no_browser: bool) -> None:
    """在浏览器中打开报送控制台：月度看板、接收文件、生成填报表、合并汇总、催报和下载。

    控制台只在本机运行，使用与命令相同的工作区。按 Ctrl+C 停止。

    例：pipeline serve
    """
    from .console.server import serve as run_console

    run_console(open_workspace(), host, port, not no_browser, click.echo)


def main() -> None:
    """The ``pipeline`` program."""
    if not os.environ.get(DEBUG_VARIABLE) and "--debug" not in sys.argv[1:]:
        # After a fault (a full disk), a half-written file that Python closes later must not print
        # its traceback on the clerk's screen: the command has already said what happened.
        sys.unraisablehook = lambda _unraisable: None
    try:
        cli(prog_name="pipeline")
    except BrokenPipeError:  # what reads the output stopped reading (``| more``): nothing to tell
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    finally:
        # The command is done and the process ends: what it still holds goes with it. Without this,
        # Python's garbage collector looks through every object once more while it shuts down
        # (a fifth of a second after a collect of 2,000 files).
        gc.freeze()

