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
from typing import Callable

from .errors import PeriodError
from .findings import Finding, finding
from .form import FormSpec
from .identity import IDENTITY_SHEET
from .ledger import Ledger
from .plan import Plan
from .readers import ReadResult, read_files
from .submissions import parse_submission
from .units import Unit
from .validate import ACCEPTED, REJECTED, RETURNED, SUPERSEDED, Verdict, judge
from .workspace import Workspace, check_period

TEMP_PREFIX = "~$"


@dataclass
class FileOutcome:
    """What happened to one distinct received file."""

    file: str
    sha256: str
    status: str
    unit_code: str | None = None
    findings: list[Finding] = field(default_factory=list)
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    report_date: str | None = None
    mtime: str = ""
    first_seen: str = ""
    period: str | None = None  # the period the file claims to be for
    archived: Path | None = None

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

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)


def outcome_from(read: ReadResult, spec: FormSpec, key: bytes, period: str | None, plan: Plan,
                 units: dict[str, Unit], name: str, sha256: str) -> FileOutcome:
    """Judge one read file. ``period`` None means: the period the file itself claims."""
    if read.refusal:
        return FileOutcome(name, sha256, REJECTED, findings=[read.refusal])
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
        if o.status in (ACCEPTED, RETURNED) and o.unit_code and o.period == period:
            by_unit.setdefault(o.unit_code, []).append(o)
    for files in by_unit.values():
        files.sort(key=lambda o: (o.report_date or "", o.mtime, o.first_seen, o.file))
        newest = files[-1]
        for older in files[:-1]:
            basis = ("报送日期" if (older.report_date or "") != (newest.report_date or "")
                     else "文件修改时间" if older.mtime != newest.mtime else "收到时间")
            older.status = SUPERSEDED
            older.findings.append(finding("superseded", newer=newest.file, basis=basis))


def collect(workspace: Workspace, period: str, folder: Path | None, plan: Plan, units: dict[str, Unit],
            progress: Callable[[str], None] | None = None,
            on_start: Callable[[int], None] | None = None) -> CollectResult:
    """Archive, read, judge and record every file received for ``period``."""
    check_period(period)
    folder = Path(folder) if folder else workspace.input_dir / period
    spec, key = workspace.spec(), workspace.secret_key()
    with Ledger(workspace.ledger_path) as ledger:
        if not folder.is_dir() and not ledger.receipts(period):
            raise PeriodError(f"找不到报送期 {period} 的文件夹 {folder}。请把收到的文件放进该文件夹，或在命令后写明文件夹。")
        received = []
        for path in sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []:
            sha256, archived = workspace.archive(path)
            stat = path.stat()
            received.append((sha256, stat.st_size, str(archived.relative_to(workspace.root)), path.name,
                             dt.datetime.fromtimestamp(stat.st_mtime).isoformat(timespec="seconds")))
        ledger.record_files(period, received)
        outcomes: dict[str, FileOutcome] = {}
        for sha256, name, mtime, first_seen, archived in ledger.receipts(period):
            if sha256 in outcomes:
                outcomes[sha256].findings.append(finding("file-duplicate", other=outcomes[sha256].file))
                continue
            outcomes[sha256] = FileOutcome(name, sha256, "", mtime=mtime, first_seen=first_seen,
                                           archived=workspace.root / archived)
        to_read = {o.sha256: o for o in outcomes.values() if not o.file.startswith(TEMP_PREFIX)}
        if on_start:
            on_start(len(to_read))
        # Judged in the reading workers, so only verdicts come back, never the workbooks; the
        # workers know neither the file's name nor its hash, which the outcome here keeps.
        verdicts = read_files([o.archived for o in to_read.values()], (spec.data_sheet, IDENTITY_SHEET),
                              progress=progress, then=partial(outcome_from, spec=spec, key=key, period=period,
                                                              plan=plan, units=units, name="", sha256=""))
        for sha256, outcome in outcomes.items():
            if sha256 not in to_read:
                outcome.status, outcome.findings = REJECTED, [finding("file-temp")]
                continue
            judged = verdicts[str(outcome.archived)]
            outcome.status, outcome.unit_code, outcome.period = judged.status, judged.unit_code, judged.period
            outcome.findings = judged.findings + outcome.findings
            outcome.answers, outcome.report_date = judged.answers, judged.report_date
        files = sorted(outcomes.values(), key=lambda o: (o.file, o.sha256))
        _supersede(files, period)
        ledger.record_outcomes(period, files)
    expected = sorted({a.code for t in plan.tasks for a in t.units})
    reported = {o.unit_code for o in files if o.status in (ACCEPTED, RETURNED) and o.period == period}
    return CollectResult(period, expected, [c for c in expected if c not in reported], files)
