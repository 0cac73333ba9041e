"""Collecting a period's returned files: archive, read safely, identify, judge, decide, record.

Re-runnable: every file ever received for the period is considered again (from the
archive), so a late file is picked up by running again and the result does not depend on
what is left in the folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Iterator

from .errors import InputError, PeriodError
from .findings import FileStatus, Finding, finding
from .form import FormSpec
from .identity import IDENTITY_SHEET
from .ledger import Ledger
from .plan import Plan
from .progress import SILENT, Progress
from .readers import ReadResult, read_files
from .submissions import parse_submission
from .units import Unit
from .validate import Verdict, judge
from .workspace import Workspace, check_period

TEMP_PREFIX = "~$"


@dataclass
class FileOutcome:
    """What happened to one distinct received file."""

    file: str
    sha256: str
    status: FileStatus
    unit_code: str | None = None
    findings: list[Finding] = field(default_factory=list)
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    report_date: str | None = None
    mtime: str = ""
    first_seen: str = ""
    period: str | None = None  # the period the file claims to be for

    def to_json(self) -> dict:
        return {"file": self.file, "sha256": self.sha256, "unit_code": self.unit_code,
                "status": self.status, "findings": [f.to_json() for f in self.findings]}


@dataclass
class CollectResult:
    period: str
    expected: list[str]
    missing: list[str]
    files: list[FileOutcome]

    def to_json(self) -> dict:
        return {"period": self.period, "expected": self.expected, "missing": self.missing,
                "files": [f.to_json() for f in self.files]}

    def count(self, status: FileStatus) -> int:
        return sum(f.status == status for f in self.files)


def outcome_from(read: ReadResult, spec: FormSpec, key: bytes, period: str | None, plan: Plan,
                 units: dict[str, Unit], name: str, sha256: str) -> FileOutcome:
    """Judge one read file. ``period`` None means: the period the file itself claims."""
    if read.refusal:
        return FileOutcome(name, sha256, FileStatus.REJECTED, findings=[read.refusal])
    submission = parse_submission(read.workbook, spec)
    claimed = submission.identity.period if submission.identity else ""
    verdict: Verdict = judge(submission, spec, key, period or claimed, plan, units)
    return FileOutcome(name, sha256, verdict.status, verdict.unit_code, read.notes + verdict.findings,
                       verdict.answers, verdict.report_date, period=verdict.period)


def _supersede(outcomes: list[FileOutcome], period: str) -> None:
    """Of a unit's files for this period, the newest stands; the older ones are superseded.

    Newer is decided by 报送日期, then the file's modification time, then when it was first seen.
    """
    by_unit: dict[str, list[FileOutcome]] = {}
    for o in outcomes:
        if o.status in (FileStatus.ACCEPTED, FileStatus.RETURNED) and o.unit_code and o.period == period:
            by_unit.setdefault(o.unit_code, []).append(o)
    for files in by_unit.values():
        files.sort(key=lambda o: (o.report_date or "", o.mtime, o.first_seen, o.file))
        newest = files[-1]
        for older in files[:-1]:
            basis = ("报送日期" if (older.report_date or "") != (newest.report_date or "")
                     else "文件修改时间" if older.mtime != newest.mtime else "收到时间")
            older.status = FileStatus.SUPERSEDED
            older.findings.append(finding("superseded", newer=newest.file, basis=basis))


class StandingAnswers:
    """Accepted answers go into the ledger as each file is judged, while the workers still read
    the others: a unit's first accepted file is written. When superseding decides for another
    of its files, the ledger's answers for the unit are replaced by that file's."""

    def __init__(self, ledger: Ledger, period: str):
        self.ledger, self.period = ledger, period
        self.written: dict[str, str] = {}  # unit code -> the file whose answers are in the ledger

    def add(self, unit_code: str, sha256: str, answers: dict[str, dict[str, str]]) -> None:
        if unit_code not in self.written:
            self.ledger.record_answers(self.period, unit_code, sha256, answers)
            self.written[unit_code] = sha256

    def settle(self, files: list[FileOutcome]) -> None:
        standing = {o.unit_code: o for o in files if o.status == FileStatus.ACCEPTED}
        for unit_code, sha256 in self.written.items():
            kept = standing.get(unit_code)
            if kept is None or kept.sha256 != sha256:
                self.ledger.forget_answers(self.period, unit_code)
                if kept is not None:
                    self.ledger.record_answers(self.period, unit_code, kept.sha256, kept.answers)


def collect(workspace: Workspace, period: str, folder: Path | None, plan: Plan, units: dict[str, Unit],
            progress: Progress = SILENT) -> CollectResult:
    """Archive, read, judge and record every file received for ``period``.

    ``progress`` starts with the number of files in the folder plus those received earlier, and
    steps as each is done with.
    """
    check_period(period)
    folder = Path(folder) if folder else workspace.input_dir / period
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} 是一个文件，不是文件夹。请写收到的文件所在的文件夹。")
    spec, key = workspace.spec(), workspace.secret_key()
    step = progress.step
    with Ledger(workspace.ledger_path) as ledger:
        earlier: dict[str, tuple[Path, bool]] = {}  # sha256 -> (archived, received under a name to read)
        for sha256, name, _mtime, _first_seen, archived in ledger.receipts(period):
            readable = earlier.get(sha256, (None, False))[1] or not name.startswith(TEMP_PREFIX)
            earlier[sha256] = workspace.root / archived, readable
        if not folder.is_dir() and not earlier:
            raise PeriodError(f"找不到报送期 {period} 的文件夹 {folder}。请把收到的文件放进该文件夹，或在命令后写明文件夹。")
        arrived = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
        progress.start(len(arrived) + len(earlier))
        received: list[tuple[str, int, str, str, str]] = []
        hashes: dict[str, str] = {}  # archived path -> sha256, of the files being read
        chosen: set[str] = set()  # their hashes

        def received_files() -> Iterator[tuple[str, Path, bool]]:
            """(sha256, archived, whether to read it) of the folder's files, each archived as it
            comes, then of the files received earlier."""
            for path in arrived:
                sha256, archived = workspace.archive(path)
                stat = path.stat()
                received.append((sha256, stat.st_size, str(archived.relative_to(workspace.root)), path.name,
                                 dt.datetime.fromtimestamp(stat.st_mtime).isoformat(timespec="seconds")))
                yield sha256, archived, not path.name.startswith(TEMP_PREFIX)
            for sha256, (archived, readable) in earlier.items():
                yield sha256, archived, readable

        def to_read() -> Iterator[Path]:
            """Each distinct file once, archived before anything reads it; what is not read is done at once."""
            for sha256, archived, readable in received_files():
                if sha256 in chosen or not readable:
                    step(archived.name)
                    continue
                chosen.add(sha256)
                hashes[str(archived)] = sha256
                yield archived

        ledger.clear_outcomes(period, plan.version)
        answers = StandingAnswers(ledger, period)
        verdicts: dict[str, FileOutcome] = {}
        # Judged in the reading workers, so only verdicts come back, never the workbooks; the
        # workers know neither the file's name nor its hash, which the outcome here keeps.
        judge_file = partial(outcome_from, spec=spec, key=key, period=period, plan=plan, units=units, name="",
                             sha256="")
        for path, verdict in read_files(to_read(), (spec.data_sheet, IDENTITY_SHEET), then=judge_file,
                                        expected=len(arrived) + len(earlier)):
            verdicts[hashes[path]] = verdict
            if verdict.status == FileStatus.ACCEPTED:
                answers.add(verdict.unit_code, hashes[path], verdict.answers)
            step(path)
        ledger.record_files(period, received)
        outcomes: dict[str, FileOutcome] = {}
        # A file's first name names its outcome, a name not of a temporary file when it has one.
        for sha256, name, mtime, first_seen, _archived in sorted(ledger.receipts(period),
                                                                key=lambda r: r[1].startswith(TEMP_PREFIX)):
            if sha256 in outcomes:
                outcomes[sha256].findings.append(finding("file-duplicate", other=outcomes[sha256].file))
                continue
            outcome = outcomes[sha256] = FileOutcome(name, sha256, FileStatus.REJECTED, mtime=mtime, first_seen=first_seen)
            judged = verdicts.get(sha256)
            if judged is None:  # only ever received as a temporary file (~$…), never read
                outcome.findings = [finding("file-temp")]
                continue
            outcome.status, outcome.unit_code, outcome.period = judged.status, judged.unit_code, judged.period
            outcome.findings, outcome.answers, outcome.report_date = judged.findings, judged.answers, judged.report_date
        files = sorted(outcomes.values(), key=lambda o: (o.file, o.sha256))
        _supersede(files, period)
        answers.settle(files)
        ledger.record_outcomes(period, files)
    expected = sorted({a.code for t in plan.tasks for a in t.units})
    reported = {o.unit_code for o in files if o.status in (FileStatus.ACCEPTED, FileStatus.RETURNED) and o.period == period}
    return CollectResult(period, expected, [c for c in expected if c not in reported], files)
