"""The SQLite ledger inside the workspace: registry, plans, tasks and assignments.

Later stages add submissions, findings and answers; each table is created on first use so an
older ledger grows with the product.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import PlanError, WorkspaceError
from .findings import Severity
from .plan import Assignment, Plan, Task
from .units import Group, Registry, Unit

if TYPE_CHECKING:
    import pandas as pd

# A unit's accepted answers for a month (as packed_answers gives them), and the file they are from.
UNIT_ANSWERS = (
    "CREATE TABLE IF NOT EXISTS unit_answers (period TEXT NOT NULL, unit_code TEXT NOT NULL, sha256 TEXT, "
    "answers BLOB NOT NULL, PRIMARY KEY (period, unit_code))",
    "CREATE INDEX IF NOT EXISTS unit_answers_by_unit ON unit_answers (unit_code, period)",
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS units (
    code TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT NOT NULL, aliases TEXT NOT NULL,
    groups_json TEXT NOT NULL, contact TEXT, phone TEXT, email TEXT
);
CREATE TABLE IF NOT EXISTS unit_groups (
    name TEXT PRIMARY KEY, seq INTEGER NOT NULL, refs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS plans (
    version TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL,
    loaded_at TEXT NOT NULL, is_current INTEGER NOT NULL DEFAULT 0, layout TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS tasks (
    plan_version TEXT NOT NULL REFERENCES plans(version), task_id TEXT NOT NULL,
    seq INTEGER NOT NULL, category_no INTEGER NOT NULL, category TEXT NOT NULL,
    item_no INTEGER NOT NULL, requirement TEXT NOT NULL, responsibility TEXT NOT NULL,
    deadline TEXT, deadline_date TEXT, source_row INTEGER NOT NULL,
    PRIMARY KEY (plan_version, task_id)
);
CREATE TABLE IF NOT EXISTS assignments (
    plan_version TEXT NOT NULL, task_id TEXT NOT NULL, seq INTEGER NOT NULL,
    unit_code TEXT NOT NULL, unit_name TEXT NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (plan_version, task_id, unit_code)
);
{unit_answers};
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, archived_as TEXT NOT NULL, first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS receipts (
    sha256 TEXT NOT NULL REFERENCES files(sha256), period TEXT NOT NULL, file_name TEXT NOT NULL,
    mtime TEXT NOT NULL, seen_at TEXT NOT NULL, PRIMARY KEY (sha256, period, file_name)
);
CREATE TABLE IF NOT EXISTS submissions (
    period TEXT NOT NULL, sha256 TEXT NOT NULL REFERENCES files(sha256), file_name TEXT NOT NULL,
    unit_code TEXT, status TEXT NOT NULL, report_date TEXT, errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL, decided_at TEXT NOT NULL, claimed_period TEXT,
    PRIMARY KEY (period, sha256)
);
CREATE TABLE IF NOT EXISTS collections (
    period TEXT PRIMARY KEY, collected_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS verdicts (
    period TEXT NOT NULL, sha256 TEXT NOT NULL, context TEXT NOT NULL, verdict BLOB NOT NULL,
    answers BLOB NOT NULL DEFAULT x'', PRIMARY KEY (period, sha256)
);
CREATE TABLE IF NOT EXISTS findings (
    period TEXT NOT NULL, sha256 TEXT NOT NULL, seq INTEGER NOT NULL, code TEXT NOT NULL,
    severity TEXT NOT NULL, location TEXT NOT NULL, message TEXT NOT NULL, fix TEXT NOT NULL,
    fields_json TEXT, PRIMARY KEY (period, sha256, seq)
);
""".replace("{unit_answers}", ";\n".join(UNIT_ANSWERS))


# (table, column, type, how to fill it in for the rows already there) added since the first
# schema; older ledgers get them on opening.
ADDED_COLUMNS = (
    ("answers", "sha256", "TEXT", None),  # the table of answers one row per field, until unit_answers
    ("submissions", "claimed_period", "TEXT", None),
    # The plan a period was collected under: the one loaded last before that collection.
    ("collections", "plan_version", "TEXT",
     "UPDATE collections SET plan_version = (SELECT version FROM plans WHERE loaded_at <= collected_at "
     "ORDER BY loaded_at DESC LIMIT 1)"),
    # A finding's fields (task, column label, value, …) as JSON, besides its message and fix.
    ("findings", "fields_json", "TEXT", None),
    # How the plan file was read (Plan.layout); '' for a plan loaded before it was recorded.
    ("plans", "layout", "TEXT NOT NULL DEFAULT ''", None),
    # A file's answers as packed, beside its verdict.
    ("verdicts", "answers", "BLOB NOT NULL DEFAULT x''", None),
)

# zlib's fastest level: answers are packed for every file read, and their text shrinks almost as
# much as at the default level (about 8 times) in half the time.
PACK_LEVEL = 1


def packed(text: str) -> bytes:
    """Text as the ledger keeps what is large (a file's verdict, a unit's answers): compressed
    UTF-8; no bytes for no text."""
    return zlib.compress(text.encode("utf-8"), PACK_LEVEL) if text else b""


def unpacked_text(blob: bytes) -> str:
    """Text kept by ``packed``."""
    return zlib.decompress(blob).decode("utf-8") if blob else ""


def packed_answers(answers: dict[str, dict[str, str]]) -> bytes:
    """Answers (task ID -> input column key -> text) as the ledger keeps them; no bytes for none."""
    return packed(json.dumps(answers, ensure_ascii=False)) if answers else b""


def answers_of(blob: bytes) -> dict[str, dict[str, str]]:
    """Answers kept by ``packed_answers``."""
    return json.loads(unpacked_text(blob)) if blob else {}


@dataclass(frozen=True)
class Receipt:
    """A file received for a period under a name: the same bytes are one file, archived once."""

    sha256: str
    file_name: str
    mtime: str  # the file's modification time, ISO, to the second
    first_seen: str  # when these bytes were first received, for any period
    archived_as: str  # relative to the workspace
    size: int


def _busy(exc: BaseException | None) -> bool:
    """Whether ``exc`` is another command holding the ledger past BUSY_SECONDS."""
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


BUSY = "工作区正被另一个 pipeline 命令使用（台账已锁定）。请等那个命令结束后再运行。"


# Tables added to SCHEMA since the first one, and tables remade since; older ledgers get them on opening.
ADDED_TABLES = ("verdicts", "unit_answers", "unit_answers packed")
# The ledger's schema version (PRAGMA user_version): grows with every column and table added or remade.
SCHEMA_VERSION = 1 + len(ADDED_COLUMNS) + len(ADDED_TABLES)
# How long a command waits for another one to finish with the ledger before it gives up.
BUSY_SECONDS = 30


class Ledger:
    """The workspace's history. Use as a context manager; each ``with`` block is one transaction:
    a command opens the ledger once, and what it wrote is committed only when it succeeds."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=BUSY_SECONDS)
        self.db.execute("PRAGMA foreign_keys = ON")
        # Schema and migration are a step of their own, committed before the command's work
        # (executescript commits anyway): the command's transaction starts with its first write.
        # A ledger already of this version is only read here, so that reading commands run
        # while another command writes.
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:  # this program would lose what a newer one keeps
                raise WorkspaceError(f"台账 {self.path} 已由更新版本的 pipeline 使用过（台账版本 {version}，本程序为 "
                                     f"{SCHEMA_VERSION}）。请继续使用新版本的 pipeline，不要用旧版本打开。")
            if version != SCHEMA_VERSION:
                self.db.executescript(SCHEMA)
                self._add_new_columns()
                self._answers_packed()  # first: the per-field answers below are moved in packed
                self._answers_by_unit()
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self.db.commit()
        except (sqlite3.OperationalError, WorkspaceError) as exc:
            self.db.close()
            if _busy(exc):
                raise WorkspaceError(BUSY) from exc
            raise

    def _add_new_columns(self) -> None:
        """Columns added after a ledger was first made; they are added to older ledgers here
        (to the tables they still have)."""
        for table, column, kind, fill in ADDED_COLUMNS:
            present = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            if present and column not in present:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                if fill:
                    self.db.execute(fill)

    def _answers_by_unit(self) -> None:
        """Answers were once kept one row per task and field (table ``answers``); an older
        ledger's are moved into ``unit_answers``, one row per unit and period."""
        if not self.db.execute("PRAGMA table_info(answers)").fetchall():
            return
        kept: dict[tuple[str, str], tuple[str | None, dict]] = {}
        for period, unit_code, sha256, task_id, field, value in self.db.execute(
                "SELECT period, unit_code, sha256, task_id, field, value FROM answers "
                "ORDER BY period, unit_code, task_id, field"):
            kept.setdefault((period, unit_code), (sha256, {}))[1].setdefault(task_id, {})[field] = value
        self.db.executemany("INSERT OR REPLACE INTO unit_answers VALUES (?, ?, ?, ?)",
                            [(period, unit_code, sha256, packed_answers(answers))
                             for (period, unit_code), (sha256, answers) in kept.items()])
        self.db.execute("DROP TABLE answers")

    def _answers_packed(self) -> None:
        """A unit's answers were once kept as JSON text (column ``answers_json``), eight times the
        bytes; an older ledger's are packed, in a table made anew. Verdicts kept then are dropped:
        they hold their answers in the old way (and no later program would take them anyway)."""
        self.db.commit()  # the steps before, so that this one is a transaction of its own:
        self.db.execute("BEGIN IMMEDIATE")  # a run killed meanwhile leaves the table as it was
        if "answers_json" not in {row[1] for row in self.db.execute("PRAGMA table_info(unit_answers)")}:
            self.db.commit()  # another command has just done it
            return
        self.db.create_function("packed", 1, packed, deterministic=True)
        self.db.execute("DELETE FROM verdicts")
        self.db.execute("ALTER TABLE unit_answers RENAME TO unit_answers_text")
        self.db.execute("DROP INDEX IF EXISTS unit_answers_by_unit")
        for statement in UNIT_ANSWERS:
            self.db.execute(statement)
        self.db.execute("INSERT INTO unit_answers SELECT period, unit_code, sha256, packed(answers_json) "
                        "FROM unit_answers_text")
        self.db.execute("DROP TABLE unit_answers_text")
        self.db.commit()

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self.db.commit()
            else:
                self.db.rollback()
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise WorkspaceError(BUSY) from exc
            raise
        finally:
            self.db.close()
        if _busy(value):
            raise WorkspaceError(BUSY) from value

    # -- registry
    def save_registry(self, registry: Registry) -> None:
        self.db.execute("DELETE FROM units")
        self.db.execute("DELETE FROM unit_groups")
        self.db.executemany(
            "INSERT INTO units (code, seq, name, aliases, groups_json, contact, phone, email) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (u.code, seq, u.name, json.dumps(u.aliases, ensure_ascii=False),
                 json.dumps(u.groups, ensure_ascii=False), u.contact, u.phone, u.email)
                for seq, u in enumerate(registry.units)
            ],
        )
        self.db.executemany(
            "INSERT INTO unit_groups (name, seq, refs) VALUES (?, ?, ?)",
            [(g.name, seq, json.dumps(g.refs, ensure_ascii=False)) for seq, g in enumerate(registry.groups)],
        )

    def registry(self) -> Registry:
        units = [
            Unit(code, name, tuple(json.loads(aliases)), tuple(json.loads(groups)), contact or "",
                 phone or "", email or "")
            for code, name, aliases, groups, contact, phone, email in self.db.execute(
                "SELECT code, name, aliases, groups_json, contact, phone, email FROM units ORDER BY seq"
            )
        ]
        groups = [
            Group(name, tuple(json.loads(refs)))
            for name, refs in self.db.execute("SELECT name, refs FROM unit_groups ORDER BY seq")
        ]
        return Registry(units, groups)

    # -- plans
    def save_plan(self, plan: Plan, replace: bool = False) -> bool:
        """Store ``plan`` as the current plan; False when it is already the current one.

        A different plan replaces the current one only when ``replace`` is set; the old one
        stays in the ledger so that templates issued from it are still recognised.
        """
        current = self.current_version()
        if current == plan.version:
            # Same tasks and roles; the plan's title and layout as now given, and a unit renamed in
            # the registry keeps its code.
            self.db.execute("UPDATE plans SET title = ?, layout = ? WHERE version = ?",
                            (plan.title, plan.layout, plan.version))
            self.db.executemany(
                "UPDATE assignments SET unit_name = ? WHERE plan_version = ? AND unit_code = ?",
                sorted({(a.name, plan.version, a.code) for t in plan.tasks for a in t.units}),
            )
            return False
        if current and not replace:
            count = self.db.execute(
                "SELECT COUNT(*) FROM tasks WHERE plan_version = ?", (current,)
            ).fetchone()[0]
            raise PlanError(
                f"工作区已加载计划（版本 {current}，{count} 项任务），新计划内容不同（版本 {plan.version}）。"
                "如确需换成新计划，请加 --replace 重新加载。"
            )
        self.db.execute("UPDATE plans SET is_current = 0")
        self.db.execute(
            "INSERT OR REPLACE INTO plans (version, title, source, layout, loaded_at, is_current) "
            "VALUES (?, ?, ?, ?, ?, 1)",
            (plan.version, plan.title, plan.source, plan.layout, dt.datetime.now().isoformat(timespec="seconds")),
        )
        self.db.execute("DELETE FROM tasks WHERE plan_version = ?", (plan.version,))
        self.db.execute("DELETE FROM assignments WHERE plan_version = ?", (plan.version,))
        self.db.executemany(
            "INSERT INTO tasks (plan_version, task_id, seq, category_no, category, item_no, requirement, "
            "responsibility, deadline, deadline_date, source_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (plan.version, t.id, seq, t.category_no, t.category, t.item_no, t.requirement,
                 t.responsibility, t.deadline, t.deadline_date, t.source_row)
                for seq, t in enumerate(plan.tasks)
            ],
        )
        self.db.executemany(
            "INSERT INTO assignments (plan_version, task_id, seq, unit_code, unit_name, role) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (plan.version, t.id, seq, a.code, a.name, a.role)
                for t in plan.tasks
                for seq, a in enumerate(t.units)
            ],
        )
        return True

    def current_version(self) -> str | None:
        row = self.db.execute("SELECT version FROM plans WHERE is_current = 1").fetchone()
        return row[0] if row else None

    def plan(self, version: str | None = None) -> Plan | None:
        """A stored plan (the current one by default), or None when none is loaded."""
        version = version or self.current_version()
        row = self.db.execute("SELECT title, source, layout FROM plans WHERE version = ?", (version,)).fetchone()
        if row is None:
            return None
        units: dict[str, list[Assignment]] = {}
        # A unit's part is the same in most of its tasks: one object each (tens of thousands of
        # assignments are read at the start of every collect).
        parts: dict[tuple[str, str, str], Assignment] = {}
        for task_id, code, name, role in self.db.execute(
            "SELECT task_id, unit_code, unit_name, role FROM assignments WHERE plan_version = ? "
            "ORDER BY task_id, seq",
            (version,),
        ):
            assignment = parts.get((code, name, role))
            if assignment is None:
                assignment = parts[code, name, role] = Assignment(code, name, role)
            units.setdefault(task_id, []).append(assignment)
        tasks = tuple(
            Task(id=task_id, category_no=cno, category=category, item_no=ino, requirement=req,
                 responsibility=resp, deadline=deadline, deadline_date=ddate, source_row=src,
                 units=tuple(units.get(task_id, ())))
            for task_id, cno, category, ino, req, resp, deadline, ddate, src in self.db.execute(
                "SELECT task_id, category_no, category, item_no, requirement, responsibility, "
                "deadline, deadline_date, source_row FROM tasks WHERE plan_version = ? ORDER BY seq",
                (version,),
            )
        )
        title, source, layout = row
        return Plan.stored(version, title=title, source=source, tasks=tasks, layout=layout)

    # -- answers
    def answers(self, unit_code: str, period: str) -> dict[str, dict[str, str]]:
        """A unit's accepted answers for a period: task ID -> input column key -> text."""
        row = self.db.execute("SELECT answers FROM unit_answers WHERE period = ? AND unit_code = ?",
                              (period, unit_code)).fetchone()
        return answers_of(row[0]) if row else {}

    def latest_answers_before(self, unit_code: str, period: str) -> tuple[str | None, dict[str, dict[str, str]]]:
        """The latest period before ``period`` with answers of the unit, and those answers."""
        row = self.db.execute("SELECT period, answers FROM unit_answers WHERE unit_code = ? AND period < ? "
                              "ORDER BY period DESC LIMIT 1", (unit_code, period)).fetchone()
        return (row[0], answers_of(row[1])) if row else (None, {})

    # -- received files
    def record_files(self, period: str, received: list[Receipt]) -> None:
        """Note files received for a period; bytes received before keep their first sighting."""
        self.note_files(received)
        self.db.executemany(
            "INSERT OR IGNORE INTO receipts (sha256, period, file_name, mtime, seen_at) VALUES (?, ?, ?, ?, ?)",
            [(r.sha256, period, r.file_name, r.mtime, r.first_seen) for r in received])

    def note_files(self, files: list[Receipt]) -> None:
        """Note files taken out of received ones (a zip's members, a mail's attachments): archived,
        not received under a name of their own."""
        self.db.executemany(
            "INSERT OR IGNORE INTO files (sha256, size, archived_as, first_seen) VALUES (?, ?, ?, ?)",
            [(r.sha256, r.size, r.archived_as, r.first_seen) for r in files])

    def verdicts(self, period: str, context: str) -> dict[str, tuple[bytes, bytes]]:
        """What was concluded for each file judged for ``period`` in ``context`` (see
        ``collect.judging_context``), by hash: its verdict as stored and its answers as packed."""
        return {sha256: (verdict, answers) for sha256, verdict, answers in self.db.execute(
            "SELECT sha256, verdict, answers FROM verdicts WHERE period = ? AND context = ?", (period, context))}

    def keep_verdicts(self, period: str, context: str, verdicts: dict[str, tuple[bytes, bytes]]) -> None:
        """Keep what was concluded for files judged for ``period`` in ``context`` (as ``verdicts``
        gives it), replacing what was kept for them in another."""
        self.db.executemany(
            "INSERT OR REPLACE INTO verdicts (period, sha256, context, verdict, answers) VALUES (?, ?, ?, ?, ?)",
            [(period, sha256, context, verdict, answers) for sha256, (verdict, answers) in sorted(verdicts.items())])

    def receipts(self, period: str) -> list[Receipt]:
        """Every file received for a period, under each name it came with, by name."""
        return [Receipt(*row) for row in self.db.execute(
            "SELECT r.sha256, r.file_name, r.mtime, f.first_seen, f.archived_as, f.size FROM receipts r "
            "JOIN files f USING (sha256) WHERE r.period = ? ORDER BY r.file_name, r.sha256",
            (period,),
        )]

    def clear_outcomes(self, period: str, plan_version: str) -> None:
        """Forget the period's earlier decisions' findings: a collection run redoes them (and puts
        the answers of each unit's standing file in place: ``collect.StandingAnswers``).

        The plan in force is noted: every answer accepted for the period is to one of its tasks.
        """
        self.db.execute("INSERT OR REPLACE INTO collections (period, collected_at, plan_version) VALUES (?, ?, ?)",
                        (period, dt.datetime.now().isoformat(timespec="seconds"), plan_version))
        self.db.execute("DELETE FROM findings WHERE period = ?", (period,))

    def answer_sources(self, period: str) -> dict[str, str]:
        """For each unit with answers for ``period``, the file they are from."""
        return dict(self.db.execute("SELECT unit_code, sha256 FROM unit_answers WHERE period = ?", (period,)))

    def record_answers(self, period: str, unit_code: str, sha256: str | None, answers: bytes) -> None:
        """A unit's accepted answers (as ``packed_answers`` gives them) from the file ``sha256``, in
        place of those it had."""
        if answers:
            self.db.execute("INSERT OR REPLACE INTO unit_answers VALUES (?, ?, ?, ?)",
                            (period, unit_code, sha256, answers))
        else:
            self.forget_answers(period, unit_code)

    def forget_answers(self, period: str, unit_code: str) -> None:
        self.db.execute("DELETE FROM unit_answers WHERE period = ? AND unit_code = ?", (period, unit_code))

    def record_outcomes(self, period: str, outcomes) -> None:
        """This run's decision on every file of the period and its findings (after ``clear_outcomes``).

        A finding is stored with its fields as JSON, and its message and fix as they read today.
        """
        now = dt.datetime.now().isoformat(timespec="seconds")
        submissions, findings = [], []
        for o in outcomes:
            errors = sum(f.severity == Severity.ERROR for f in o.findings)
            submissions.append((period, o.sha256, o.file, o.unit_code, o.status, o.report_date, errors,
                                len(o.findings) - errors, now, o.period))
            findings += [(period, o.sha256, seq, f.code, f.severity, f.location, f.message, f.fix,
                          json.dumps(f.fields, ensure_ascii=False)) for seq, f in enumerate(o.findings)]
        self.db.executemany(
            "INSERT OR REPLACE INTO submissions (period, sha256, file_name, unit_code, status, report_date, "
            "errors, warnings, decided_at, claimed_period) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", submissions)
        self.db.executemany(
            "INSERT INTO findings (period, sha256, seq, code, severity, location, message, fix, fields_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", findings)

    def decided(self, period: str) -> list[tuple]:
        """The last decision on every file of a period, by name: (file name, hash, unit code,
        status, report date, claimed period)."""
        return self.db.execute(
            "SELECT file_name, sha256, unit_code, status, report_date, claimed_period FROM submissions "
            "WHERE period = ? ORDER BY file_name, sha256", (period,)).fetchall()

    def unit_decisions(self, unit_code: str) -> list[tuple]:
        """The last decision on every file a unit was named for, month by month, by name:
        (period, file name, status, claimed period)."""
        return self.db.execute(
            "SELECT period, file_name, status, claimed_period FROM submissions WHERE unit_code = ? "
            "ORDER BY period, file_name, sha256", (unit_code,)).fetchall()

    def decisions(self, period: str) -> list[tuple]:
        """``decided`` with [(code, location, fields, message, fix) of each finding] added."""
        findings: dict[str, list] = {}
        for sha256, code, location, fields, message, fix in self.db.execute(
                "SELECT sha256, code, location, fields_json, message, fix FROM findings WHERE period = ? "
                "ORDER BY sha256, seq", (period,)):
            findings.setdefault(sha256, []).append((code, location, json.loads(fields) if fields else {}, message, fix))
        return [(*row, findings.get(row[1], [])) for row in self.decided(period)]

    # -- what the reports are built from
    def frame(self, sql: str, params: tuple = ()) -> pd.DataFrame:
        """A query's rows as a DataFrame (the reports' input)."""
        import pandas as pd  # only the reports need it: checking a file does not wait for it

        return pd.read_sql_query(sql, self.db, params=params)

    def period_plan(self, period: str) -> Plan | None:
        """The plan a period was last collected under, when the ledger knows it."""
        row = self.db.execute("SELECT plan_version FROM collections WHERE period = ?", (period,)).fetchone()
        return self.plan(row[0]) if row and row[0] else None

    def period_tasks(self, until: str) -> pd.DataFrame:
        """(period, task_id, requirement): the tasks of the plan each period up to ``until`` was collected under."""
        return self.frame(
            "SELECT c.period, t.task_id, t.requirement FROM collections c JOIN tasks t "
            "ON t.plan_version = c.plan_version WHERE c.period <= ? ORDER BY c.period, t.seq", (until,))

    def latest_period(self) -> str | None:
        """The latest period ``collect`` has run for."""
        return self.db.execute("SELECT MAX(period) FROM collections").fetchone()[0]

    def collected_periods(self, until: str | None = None) -> list[str]:
        """The periods ``collect`` has run for (even with nothing received), up to ``until``."""
        return [row[0] for row in self.db.execute(
            "SELECT period FROM collections WHERE period <= ? ORDER BY period", (until or "9999-99",))]

    def submissions(self, period: str) -> pd.DataFrame:
        """The decision on every file of a period, with when the file was first seen."""
        return self.frame(
            "SELECT s.period, s.sha256, s.file_name, s.unit_code, s.status, s.report_date, s.errors, "
            "s.warnings, s.claimed_period, f.first_seen FROM submissions s JOIN files f USING (sha256) "
            "WHERE s.period = ? ORDER BY s.file_name, s.sha256", (period,))

    def report_inputs(self, period: str):
        """(submissions, answers up to ``period``, findings) of a period as DataFrames.

        Submissions carry when their file was first seen; answers carry the file they came from.
        """
        import pandas as pd

        submissions = self.submissions(period)
        answers = pd.DataFrame([
            (month, unit_code, task_id, field, value, sha256, file_name)
            for month, unit_code, blob, sha256, file_name in self.db.execute(
                "SELECT a.period, a.unit_code, a.answers, a.sha256, s.file_name FROM unit_answers a "
                "LEFT JOIN submissions s ON s.period = a.period AND s.sha256 = a.sha256 "
                "WHERE a.period <= ? ORDER BY a.period, a.unit_code", (period,))
            for task_id, values in sorted(answers_of(blob).items()) for field, value in sorted(values.items())
        ], columns=["period", "unit_code", "task_id", "field", "value", "sha256", "file_name"])
        findings = self.frame(
            "SELECT s.unit_code, s.file_name, f.code, f.severity, f.location, f.message, f.fix "
            "FROM findings f JOIN submissions s USING (period, sha256) WHERE f.period = ? "
            "ORDER BY s.file_name, f.seq", (period,))
        return submissions, answers, findings
