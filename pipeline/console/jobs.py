"""The console's work: one operation at a time, run beside the pages, its progress readable
while it runs. The operations are the commands' own (``cycle``), holding the workspace as the
commands do, so the console and a command typed in a terminal never work on it at once."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from dataclasses import dataclass, field
from typing import Callable

from .. import cycle, faults
from ..errors import PipelineError, WorkspaceError
from ..progress import COLLECT_STAGE, REPORT_STAGE, TEMPLATES_STAGE, Progress
from ..workspace import Workspace


@dataclass
class Job:
    """One operation of the console: what it is, how far it has got, how it ended."""

    id: int
    word: str  # 合并汇总
    period: str
    labels: tuple[str, ...]  # its stages, in the order they start
    state: str = "running"  # running, done, failed
    stage: int = -1
    label: str = "准备中"
    done: int = 0
    total: int = 0
    message: str = ""
    started: str = field(default_factory=lambda: dt.datetime.now().strftime("%H:%M:%S"))

    def to_json(self) -> dict:
        return {"id": self.id, "action": self.word, "period": self.period, "state": self.state,
                "label": self.label, "done": self.done, "total": self.total, "message": self.message}


class JobProgress(Progress):
    """A Progress that a page reads: each ``start`` begins the job's next stage."""

    def __init__(self, job: Job):
        self.job = job

    def start(self, total: int) -> None:
        job = self.job
        job.stage += 1
        job.label = job.labels[min(job.stage, len(job.labels) - 1)]
        job.done, job.total = 0, total

    def step(self, name: str) -> None:
        self.job.done += 1


@dataclass(frozen=True)
class Action:
    word: str
    labels: tuple[str, ...]
    run: Callable[[Workspace, str, Progress], str]  # the operation; what it did, in a sentence


def _templates(workspace: Workspace, period: str, progress: Progress) -> str:
    issue = cycle.issue_templates(workspace, period, progress)
    return f"已生成 {issue.period} 填报表：{issue.units} 个单位，共 {issue.rows} 行任务；另有下发通知和邮件草稿。"


def _merge(workspace: Workspace, period: str, progress: Progress) -> str:
    merged = cycle.merge_period(workspace, period, None, progress)
    return f"已合并汇总 {merged.collect.result.summary()}汇总报告、工作通报和各单位反馈已生成。"


def _remind(workspace: Workspace, period: str, progress: Progress) -> str:
    run = cycle.remind_period(workspace, period)
    return f"已生成催报通知：{len(run.reminders)} 个单位需要催报；另有催报名单和邮件草稿。"


ACTIONS = {
    "templates": Action("生成填报表", (TEMPLATES_STAGE,), _templates),
    "merge": Action("合并汇总", (COLLECT_STAGE, REPORT_STAGE), _merge),
    "remind": Action("生成催报通知", ("生成催报通知",), _remind),
}


class Busy(WorkspaceError):
    """The console is already running an operation."""


KEEP_JOBS = 20  # finished operations a page can still ask about


class Jobs:
    """The console's operations, one at a time."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.jobs: dict[int, Job] = {}
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._running: Job | None = None
        self._idle = threading.Event()
        self._idle.set()

    @property
    def running(self) -> Job | None:
        return self._running

    def _take(self, word: str, period: str, labels: tuple[str, ...]) -> Job:
        with self._lock:
            if self._running is not None:
                running = self._running
                raise Busy(f"控制台正在{running.word}（{running.period}，{running.started} 开始），请等它完成后再操作。")
            job = self._running = Job(next(self._numbers), word, period, labels)
            self.jobs[job.id] = job
            for old in sorted(self.jobs)[:-KEEP_JOBS]:
                del self.jobs[old]
            self._idle.clear()
            return job

    def _end(self, job: Job, state: str, message: str | None = None) -> None:
        job.state = state
        if message is not None:
            job.message = message
        with self._lock:
            self._running = None
            self._idle.set()

    def _run(self, job: Job, work: Callable[[Progress], str]) -> None:
        try:
            self._end(job, "done", work(JobProgress(job)))
        except PipelineError as exc:
            self._end(job, "failed", str(exc))
        except Exception as exc:  # a fault of the machine, explained as the commands explain it
            self._end(job, "failed", faults.explain(exc, self.workspace.root))
        except BaseException:  # Ctrl-C reaches the workers too: the operation stops, undone
            self._end(job, "failed", f"“{job.word}”被中断（控制台正在停止），工作区保持操作之前的样子。")

    def start(self, name: str, period: str) -> Job:
        """Start the action ``name`` for ``period`` beside the pages; Busy while one runs."""
        action = ACTIONS[name]
        job = self._take(action.word, period, action.labels)
        threading.Thread(target=self._run, args=(job, lambda progress: action.run(self.workspace, period, progress)),
                         name=f"console-{name}", daemon=True).start()
        return job

    def now(self, word: str, period: str, work: Callable[[Progress], object]):
        """Run ``work`` at once, in the caller's thread, as the console's one operation; its
        errors are the caller's."""
        job = self._take(word, period, (COLLECT_STAGE,))
        try:
            result = work(JobProgress(job))
        except BaseException:
            self._end(job, "failed")
            raise
        self._end(job, "done")
        return result

    def wait(self) -> None:
        """Wait for the running operation, if any, to end."""
        self._idle.wait()

