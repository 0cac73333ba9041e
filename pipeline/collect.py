"""Collecting a period's returned files: archive, read safely, identify, judge, decide, record.

Re-runnable: every file ever received for the period is considered again (from the
archive), so a late file is picked up by running again and the result does not depend on
what is left in the folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

from . import content_hash, program_version
from .containers import SEPARATOR, Unopened, is_container, unpack
from .containers import kind as container_kind
from .errors import InputError, PeriodError
from .findings import DUPLICATE, STANDING, FileStatus, Finding, Recorded, finding
from .form import FormSpec
from .identity import IDENTITY_SHEET
from .ledger import Ledger, Receipt, packed, packed_answers, unpacked_text
from .periods import period_start
from .plan import Plan
from .parallel import nothing
from .progress import SILENT, Progress
from .readers import Limits, ReadResult, read_files, too_large
from .submissions import parse_submission
from .units import Unit
from .validate import Verdict, judge
from .workspace import UnreadableFile, Workspace, check_period

# What lies in a folder of received files without being one: Office/WPS lock files, files the
# system keeps (hidden ones, Thumbs.db, desktop.ini). Skipped, not counted.
_NOT_RECEIVED = re.compile(r"~\$.*|\..*|thumbs\.db|desktop\.ini", re.IGNORECASE)


@dataclass(frozen=True)
class Judged:
    """A file's verdict as a collect handles it: its answers as the ledger keeps them
    (``ledger.packed_answers``) beside the verdict, which holds none. Thousands of answers then
    travel from the worker that judged the file as a few packed bytes, which the ledger takes as
    they are."""

    verdict: Verdict
    answers: bytes = b""

    @classmethod
    def of(cls, verdict: Verdict) -> "Judged":
        """The tasks with no answer are left out, as the ledger never kept them."""
        answered = {task_id: values for task_id, values in verdict.answers.items() if values}
        return cls(replace(verdict, answers={}), packed_answers(answered))


@dataclass
class FileOutcome:
    """What happened to one distinct received file."""

    file: str
    sha256: str
    status: FileStatus
    unit_code: str | None = None
    findings: list[Finding] = field(default_factory=list)
    answers: bytes = b""  # see Judged.answers
    report_date: str | None = None
    report_date_text: str = ""  # see Verdict.report_date_text
    mtime: str = ""
    first_seen: str = ""
    period: str | None = None  # the period the file claims to be for
    written_unit: str | None = None  # see Verdict.written_unit: for people to read, never decides

    @classmethod
    def judged(cls, name: str, sha256: str, judged: Judged, mtime: str = "",
               first_seen: str = "") -> "FileOutcome":
        """A file's verdict, under the name and hash the worker that judged it never knew."""
        verdict = judged.verdict
        return cls(name, sha256, verdict.status, verdict.unit_code, verdict.findings, judged.answers,
                   verdict.report_date, verdict.report_date_text, mtime, first_seen, verdict.period,
                   verdict.written_unit)

    @property
    def copies(self) -> list[str]:
        """The other names the same file was received under (each a file-duplicate finding)."""
        return [f.fields["other"] for f in self.findings if f.code == DUPLICATE]

    def to_json(self) -> dict:
        return {"file": self.file, "sha256": self.sha256, "unit_code": self.unit_code,
                "status": self.status, "findings": [f.to_json() for f in self.findings]}


@dataclass(frozen=True)
class Unread:
    """A file of the folder the system would not let be read this run: not archived, not recorded,
    so the next run takes it. ``message`` names it and says why; ``fix``, what to do."""

    file: str
    message: str
    fix: str

    @classmethod
    def of(cls, error: UnreadableFile, name: str, period: str) -> "Unread":
        """Why the file ``name`` (as the folder holds it) was not read, and what to do."""
        again = f"重新运行 pipeline collect {period}（或 merge）"
        if error.link:
            return cls(name, f"{name} 是快捷方式（链接），不是文件本身，没有读取。",
                       f"请把文件本身放进文件夹后{again}。")
        if error.gone:
            return cls(name, f"{name} 在读取前被移走或删除了，本次没有收取。",
                       f"如仍要收取，请把它放回 {error.path.parent} 后{again}。")
        return cls(name, f"{name} 无法读取：文件正被其他程序（如邮件程序、Excel/WPS）打开，或没有读取权限；本次没有收取。",
                   f"请关闭该文件后{again}。")

    def to_json(self) -> dict:
        return {"file": self.file, "message": self.message, "fix": self.fix}


@dataclass
class CollectResult:
    period: str
    expected: list[str]
    missing: list[str]
    files: list[FileOutcome]
    unread: list[Unread] = field(default_factory=list)

    def sent_back(self, known: set[str]) -> dict[str, FileOutcome]:
        """Per unit, the file a 退回通知 is about: its standing returned file, else a rejected file
        it can be named for (a unit in ``known``); none for a unit with an accepted file."""
        accepted = {o.unit_code for o in self.files if o.status == FileStatus.ACCEPTED}
        back = {o.unit_code: o for o in self.files if o.status == FileStatus.REJECTED and o.unit_code in known}
        back.update({o.unit_code: o for o in self.files if o.status == FileStatus.RETURNED})
        return {code: o for code, o in sorted(back.items()) if code not in accepted}

    def to_json(self) -> dict:
        """The ``collect --json`` document; ``unread`` only when a file could not be read."""
        document = {"period": self.period, "expected": self.expected, "missing": self.missing,
                    "files": [f.to_json() for f in self.files]}
        if self.unread:
            document["unread"] = [u.to_json() for u in self.unread]
        return document

    def count(self, status: FileStatus) -> int:
        return sum(f.status == status for f in self.files)

    def summary(self) -> str:
        """The result in one sentence, as the clerk reads it after a collect."""
        counts = "，".join(f"{status.word} {self.count(status)}" for status in FileStatus)
        return (f"{self.period}：收到文件 {len(self.files)} 份（{counts}）；"
                f"应报 {len(self.expected)} 个单位，未报送 {len(self.missing)} 个。")


def judging_context(spec_source: bytes, key: bytes, plan: Plan, units: dict[str, Unit]) -> str:
    """All a verdict depends on besides the file and the period, as a hash: the program, the form
    spec (``spec_source``, the text it was read from), the plan, the registry and the signing key.
    A file judged before in the same context is not read again."""
    return content_hash(program_version().encode(), spec_source, plan.version.encode(),
                        repr(sorted(units.items())).encode(), key)


def stored(judged: Judged) -> tuple[bytes, bytes]:
    """A verdict as the ledger keeps it (``Ledger.verdicts``): its JSON packed, and its answers."""
    verdict = judged.verdict
    return packed(json.dumps({
        "status": verdict.status, "unit_code": verdict.unit_code, "period": verdict.period,
        "report_date": verdict.report_date, "report_date_text": verdict.report_date_text,
        "written_unit": verdict.written_unit,
        "findings": [[f.code, f.location, f.fields] for f in verdict.findings],
    }, ensure_ascii=False)), judged.answers


def restored(kept: tuple[bytes, bytes]) -> Judged:
    blob, answers = kept
    data = json.loads(unpacked_text(blob))
    return Judged(Verdict(FileStatus(data["status"]), data["unit_code"], data["period"],
                          [Finding(code, location, fields) for code, location, fields in data["findings"]],
                          report_date=data["report_date"], report_date_text=data.get("report_date_text", ""),
                          written_unit=data["written_unit"]),
                  answers)


def verdict_of(read: ReadResult, spec: FormSpec, key: bytes, period: str | None, plan: Plan,
               units: dict[str, Unit]) -> Verdict:
    """Judge one read file. ``period`` None means: the period the file itself claims."""
    if read.refusal:
        return Verdict(FileStatus.REJECTED, findings=[read.refusal])
    submission = parse_submission(read.workbook, spec)
    claimed = submission.identity.period if submission.identity else ""
    verdict = judge(submission, spec, key, period or claimed, plan, units)
    verdict.findings[:0] = read.notes
    return verdict


def verdict_kept(read: ReadResult, spec: FormSpec, key: bytes, period: str, plan: Plan,
                 units: dict[str, Unit]) -> tuple[Judged, tuple[bytes, bytes]]:
    """``verdict_of`` a read file, as a collect handles it and as the ledger keeps it (``stored``):
    both are made in the worker that read the file, so the command only gathers them."""
    judged = Judged.of(verdict_of(read, spec, key, period, plan, units))
    return judged, stored(judged)


def _refused(refusal: Finding) -> Judged:
    """A file rejected without being read, for ``refusal``."""
    return Judged(Verdict(FileStatus.REJECTED, findings=[refusal]))


def received(name: str) -> bool:
    """Whether a file of that name (the last part of its path) is one a unit sent."""
    return not _NOT_RECEIVED.fullmatch(name)


class Intake:
    """What was received for a period: the folder's files, each archived as it is listed, and
    the files received earlier (read again from the archive, so a run never depends on what is
    left in the folder)."""

    def __init__(self, workspace: Workspace, ledger: Ledger, period: str, folder: Path, named: bool = False):
        """``named``: the folder was named on the command line, so it must exist."""
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{folder} 是一个文件，不是文件夹。请写收到的文件所在的文件夹。")
        if named and not folder.exists():
            raise InputError(f"找不到文件夹 {folder}。请确认文件夹名和所在位置。")
        self.workspace, self.ledger, self.period, self.folder = workspace, ledger, period, folder
        # Each distinct file received earlier once.
        self.earlier: dict[str, Receipt] = {}
        for receipt in ledger.receipts(period):
            if received(Path(receipt.file_name).name):
                self.earlier.setdefault(receipt.sha256, receipt)
        if not folder.is_dir() and not self.earlier:
            raise PeriodError(f"找不到报送期 {period} 的文件夹 {folder}。请把收到的文件放进该文件夹，或在命令后写明文件夹。")
        self.arrived: list[Receipt] = []
        self.unread: list[Unread] = []
        self.paths = self._listed() if folder.is_dir() else []
        # Containers (a .zip, a mail saved as .eml): the files taken out of each, by its hash, named
        # as inside it; files judged without being read (what a container could not give), by hash;
        # and the hashes of the files that came out of containers.
        self.opened: dict[str, list[Receipt]] = {}
        self.preset: dict[str, Judged] = {}
        self.within: set[str] = set()

    def _listed(self) -> list[tuple[str, str]]:
        """The files of the folder and of its sub-folders (offices keep each mail's files in one):
        each one's path, and its name as the results show it (its path within the folder). A link
        (or a Windows shortcut) is never followed: it is noted in ``unread``."""
        paths: list[tuple[str, str]] = []

        def visit(folder: str, within: str) -> None:
            try:
                with os.scandir(folder) as listing:  # what each entry is comes with the listing
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError:  # a sub-folder that cannot be listed is stepped past
                return
            for entry in entries:
                plain = entry.is_file(follow_symlinks=False)
                if entry.is_symlink() or (plain and entry.name.lower().endswith(".lnk")):  # .lnk: a Windows shortcut
                    self.unread.append(Unread.of(UnreadableFile(entry.path, link=True), within + entry.name,
                                                 self.period))
                elif plain and received(entry.name):
                    paths.append((entry.path, within + entry.name))
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and received(entry.name):
                    visit(entry.path, f"{within}{entry.name}/")

        visit(str(self.folder), "")
        return paths

    @property
    def count(self) -> int:
        """How many receipts ``receive`` gives."""
        return len(self.paths) + len(self.earlier)

    def receive(self, progress: Progress = SILENT) -> Iterator[Receipt]:
        """Each file of the folder, archived before it is given; then each file received earlier.

        A file the system will not let be read is noted in ``unread`` and stepped past; the others go on.
        """
        now = dt.datetime.now().isoformat(timespec="seconds")
        for path, name in self.paths:
            try:
                archived = self.workspace.archive(path)
            except UnreadableFile as error:
                self.unread.append(Unread.of(error, name, self.period))
                progress.step(os.path.basename(path))
                continue
            mtime = dt.datetime.fromtimestamp(archived.mtime).isoformat(timespec="seconds")
            receipt = Receipt(archived.sha256, name, mtime, now, archived.stored_as, archived.size)
            self.arrived.append(receipt)
            yield from self._opened(receipt, progress)
        for receipt in self.earlier.values():
            yield from self._opened(receipt, progress)

    def _opened(self, receipt: Receipt, progress: Progress, limits: Limits = Limits()) -> Iterator[Receipt]:
        """A received file; or when it is a container, each file in it (archived as it is taken
        out), the container counted as one step of ``progress``. What a container cannot give is
        judged at once (``preset``): the container itself when it cannot be opened or holds
        nothing, or a member (under an ID made from the container's hash and its name)."""
        if not is_container(receipt.file_name):
            yield receipt
            return
        if refusal := too_large(receipt.size, limits.max_container_bytes):
            self.preset[receipt.sha256] = _refused(refusal)
            yield receipt
            return
        try:
            inner = unpack(receipt.file_name, Path(self.archived(receipt)).read_bytes(), limits)
        except Unopened as problem:
            inner, self.preset[receipt.sha256] = [], _refused(problem.finding)
        if inner is None:  # a workbook named .zip
            yield receipt
            return
        files = []
        for item in inner:
            if item.refusal:
                sha256 = hashlib.sha256(f"{receipt.sha256}{SEPARATOR}{item.name}".encode()).hexdigest()
                file = Receipt(sha256, item.name, item.mtime or receipt.mtime, receipt.first_seen,
                               receipt.archived_as, 0)
                self.preset[sha256] = _refused(item.refusal)
            else:
                archived = self.workspace.archive_bytes(item.data, Path(item.name).suffix, 0)
                file = Receipt(archived.sha256, item.name, item.mtime or receipt.mtime, receipt.first_seen,
                               archived.stored_as, archived.size)
            self.within.add(file.sha256)
            files.append(file)
            yield file
        if files:
            self.opened[receipt.sha256] = files
        else:
            self.preset.setdefault(receipt.sha256, _refused(
                finding("container-empty", kind=container_kind(receipt.file_name))))
            yield receipt
        progress.step(receipt.file_name)

    def archived(self, receipt: Receipt) -> str:
        """The path of a receipt's archived copy."""
        return os.path.join(self.workspace.root, receipt.archived_as)

    def record(self) -> list[Receipt]:
        """Note the files that arrived in the ledger; every receipt of the period, by name (but
        for lock files an earlier version took as received), a container's by the files in it
        (``outer › inner``)."""
        self.ledger.record_files(self.period, self.arrived)
        self.ledger.note_files([file for files in self.opened.values() for file in files])
        receipts = []
        for receipt in self.ledger.receipts(self.period):
            if received(Path(receipt.file_name).name):
                inner = self.opened.get(receipt.sha256, [receipt])
                receipts += [replace(file, file_name=f"{receipt.file_name}{SEPARATOR}{file.file_name}")
                             if file is not receipt else receipt for file in inner]
        return receipts


class StandingAnswers:
    """Accepted answers go into the ledger as each file is judged, while the workers still read
    the others: a unit's first accepted file is written. When superseding decides for another
    of its files, the ledger's answers for the unit are replaced by that file's.

    Answers the ledger already holds from a file whose verdict was kept (``kept``: judged in the
    same context, so the same answers) are left as they are rather than written again.
    """

    def __init__(self, ledger: Ledger, period: str, kept: set[str] = frozenset()):
        self.ledger, self.period, self.kept = ledger, period, kept
        self.held = ledger.answer_sources(period)  # unit code -> the file its answers in the ledger are from
        self.written: dict[str, str] = {}  # unit code -> the file whose answers are in the ledger now

    def add(self, unit_code: str, sha256: str, answers: bytes) -> None:
        """The answers (as Judged.answers) of an accepted file of the unit."""
        if unit_code not in self.written:
            self._put(unit_code, sha256, answers)

    def _put(self, unit_code: str, sha256: str, answers: bytes) -> None:
        if self.held.get(unit_code) != sha256 or sha256 not in self.kept:
            self.ledger.record_answers(self.period, unit_code, sha256, answers)
            self.held[unit_code] = sha256
        self.written[unit_code] = sha256

    def settle(self, files: list[FileOutcome]) -> None:
        standing = {o.unit_code: o for o in files if o.status == FileStatus.ACCEPTED}
        for unit_code in sorted(self.held.keys() - standing.keys()):
            self.ledger.forget_answers(self.period, unit_code)
        for unit_code, kept in standing.items():
            if self.written.get(unit_code) != kept.sha256:
                self._put(unit_code, kept.sha256, kept.answers)


def judge_received(intake: Intake, sheets: tuple[str, ...],
                   judge_file: Callable[[ReadResult], tuple[Judged, tuple[bytes, bytes]]],
                   answers: StandingAnswers, progress: Progress, known: dict[str, tuple[bytes, bytes]] | None = None,
                   meanwhile: Callable[[], object] = nothing) -> tuple[dict[str, Judged], dict[str, tuple[bytes, bytes]]]:
    """Each distinct readable file received, judged, by sha256; and the files judged in this run,
    their verdicts as stored. Files are read while the rest are still being archived, and judged
    in the reading workers (``judge_file``: a verdict and its stored form), so only verdicts come
    back, never the workbooks. A file not read (a copy, a file judged before: its verdict in
    ``known``, as stored) is done with at once. ``meanwhile()``: as for ``read_files``."""
    known = known or {}
    hashes: dict[str, str] = {}  # archived path -> sha256, of the files handed to the workers
    chosen: set[str] = set()  # their hashes

    verdicts: dict[str, Judged] = {}
    fresh: dict[str, tuple[bytes, bytes]] = {}

    def step(sha256: str, name: str) -> None:  # a container's files count as the container
        if sha256 not in intake.within:
            progress.step(name)

    def to_read() -> Iterator[str]:
        for receipt in intake.receive(progress):
            archived = intake.archived(receipt)
            if receipt.sha256 in intake.preset:
                verdicts[receipt.sha256] = intake.preset[receipt.sha256]
            elif receipt.sha256 in known and receipt.sha256 not in verdicts:
                verdicts[receipt.sha256] = judged = restored(known[receipt.sha256])
                if judged.verdict.status == FileStatus.ACCEPTED:
                    answers.add(judged.verdict.unit_code, receipt.sha256, judged.answers)
            if receipt.sha256 in chosen or receipt.sha256 in verdicts:
                step(receipt.sha256, os.path.basename(archived))
                continue
            chosen.add(receipt.sha256)
            hashes[archived] = receipt.sha256
            yield archived

    for path, (judged, kept) in read_files(to_read(), sheets, then=judge_file, expected=intake.count,
                                            scratch=intake.workspace.scratch_dir, meanwhile=meanwhile):
        sha256 = hashes[path]
        verdicts[sha256], fresh[sha256] = judged, kept
        if judged.verdict.status == FileStatus.ACCEPTED:
            answers.add(judged.verdict.unit_code, sha256, judged.answers)
        step(sha256, path)
    return verdicts, fresh


def decide(receipts: list[Receipt], verdicts: dict[str, Judged], period: str, date_label: str) -> list[FileOutcome]:
    """One outcome per distinct file, by name, then the newest of each unit's files standing.

    A file's first name names its outcome; each of its other names is a duplicate, named in a
    finding of the outcome.
    """
    outcomes: dict[str, FileOutcome] = {}
    for receipt in receipts:
        known = outcomes.get(receipt.sha256)
        if known:
            known.findings.append(finding(DUPLICATE, other=receipt.file_name))
            continue
        outcomes[receipt.sha256] = FileOutcome.judged(receipt.file_name, receipt.sha256, verdicts[receipt.sha256],
                                                      receipt.mtime, receipt.first_seen)
    files = sorted(outcomes.values(), key=lambda o: (o.file, o.sha256))
    _supersede(files, period, date_label)
    return files


def _supersede(outcomes: list[FileOutcome], period: str, date_label: str) -> None:
    """Of a unit's files for this period, the newest stands; the older ones are superseded.

    Newer is decided by the report date (the header field ``date_label``) when every one of the
    unit's files has a plausible one (from the period's first day to the day the file arrived),
    else by when the files arrived, then by their modification time: a mistyped date never
    decides. A file's implausible date is a warning.
    """
    by_unit: dict[str, list[FileOutcome]] = {}
    for o in outcomes:
        # A file not the unit's own report (another unit named on it, nothing filled in) never
        # stands in for the unit's accepted one.
        if (o.status in STANDING and o.unit_code and o.period == period
                and not any(f.code in NOT_A_REPORT for f in o.findings)):
            by_unit.setdefault(o.unit_code, []).append(o)
    trusted = {}
    for o in (o for files in by_unit.values() for o in files):
        why = _implausible(o.report_date, period, o.first_seen)
        trusted[o.sha256] = bool(o.report_date) and not why
        if why:
            o.findings.append(finding("report-date-implausible", label=date_label,
                                      value=o.report_date_text or o.report_date, why=why))
    arrival = (("first_seen", "收到时间"), ("mtime", "文件修改时间"))
    for files in by_unit.values():
        dated = all(trusted[o.sha256] for o in files)
        keys = (("report_date", date_label), *arrival) if dated else arrival
        files.sort(key=lambda o: (*(getattr(o, name) for name, _ in keys), o.file))
        newest = files[-1]
        for older in files[:-1]:
            basis = "按" + next((word for name, word in keys if getattr(older, name) != getattr(newest, name)),
                               "文件名（收到时间和修改时间相同）") + "判断先后"
            if not dated:
                basis += f"；有的文件{date_label}空白或不可信，未用{date_label}"
            older.status = FileStatus.SUPERSEDED
            older.findings.append(finding("superseded", newer=newest.file, basis=basis))


NOT_A_REPORT = ("unit-mismatch", "template-blank")


def _implausible(report_date: str | None, period: str, arrived: str) -> str:
    """Why a report date cannot be right ("" when it can, or is not given)."""
    if not report_date:
        return ""
    if report_date < period_start(period).isoformat():
        return f"早于本报送期开始的日期（{period_start(period).isoformat()}）"
    if arrived and report_date > arrived[:10]:
        return f"晚于收到文件的日期（{arrived[:10]}）"
    return ""


def collect(workspace: Workspace, ledger: Ledger, period: str, folder: Path | None, plan: Plan,
            units: dict[str, Unit], progress: Progress = SILENT, meanwhile: Callable[[], object] = nothing) -> CollectResult:
    """Archive, read, judge and record every file received for ``period``, in ``ledger``.

    ``progress`` starts with the number of files in the folder plus those received earlier, and
    steps as each is done with. ``meanwhile()``: the command's own work, done while the workers read.
    """
    period = check_period(period)
    intake = Intake(workspace, ledger, period, Path(folder) if folder else workspace.input_dir / period,
                    named=folder is not None)
    progress.start(intake.count)
    ledger.clear_outcomes(period, plan.version)
    spec, key = workspace.spec(), workspace.secret_key()
    context = judging_context(workspace.spec_source(), key, plan, units)
    known = ledger.verdicts(period, context)
    answers = StandingAnswers(ledger, period, set(known))
    judge_file = partial(verdict_kept, spec=spec, key=key, period=period, plan=plan, units=units)
    verdicts, fresh = judge_received(intake, (spec.data_sheet, IDENTITY_SHEET), judge_file, answers, progress, known,
                                     meanwhile)
    ledger.keep_verdicts(period, context, fresh)
    files = decide(intake.record(), verdicts, period, spec.role("report_date").label)
    answers.settle(files)
    ledger.record_outcomes(period, files)
    return result_of(period, plan, files, intake.unread)


def result_of(period: str, plan: Plan, files: list[FileOutcome], unread: list[Unread] | None = None) -> CollectResult:
    """The period's result: the units ``plan`` expects, and those of them with no standing file."""
    expected = sorted({a.code for t in plan.tasks for a in t.units})
    reported = {o.unit_code for o in files
                if o.status in STANDING and o.period == period}
    return CollectResult(period, expected, [c for c in expected if c not in reported], files, unread or [])


def recorded(ledger: Ledger, period: str, plan: Plan) -> CollectResult:
    """The result of the period's last collect as the ledger holds it (what ``collect --json``
    then printed, but for files it could not read, which it never recorded)."""
    files = [FileOutcome(name, sha256, FileStatus(status), unit_code,
                         [Recorded(code, location, fields, (message, fix))
                          for code, location, fields, message, fix in findings],
                         report_date=report_date, period=claimed)
             for name, sha256, unit_code, status, report_date, claimed, findings in ledger.decisions(period)]
    return result_of(period, plan, files)
