"""Judging a parsed submission: identity, layout and values, as findings. Pure functions."""

from __future__ import annotations

import datetime as dt
import functools
import difflib
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .findings import FileStatus, Finding, finding, has_errors
from .form import FormSpec
from .plan import Plan, Task
from .submissions import Cell, DataRow, Submission
from .text import fold
from .units import Unit

COMPARED_SOURCES = ("category", "requirement", "role", "deadline")

_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?(?:[/?#]\S*)?", re.I)
_URLISH = re.compile(r"https?|www\.|://", re.I)
_URL_SEPARATORS = re.compile(r"[\s,，;；、]+")
_PHONE = re.compile(r"(?:\+?86-?)?(?:1\d{10}|0?\d{2,4}-?\d{7,8}|\d{7,8})(?:(?:转|-|ext\.?)\d{1,6})?", re.I)
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


@dataclass
class Verdict:
    """What the checks concluded for one file."""

    status: FileStatus
    unit_code: str | None = None
    period: str | None = None
    findings: list[Finding] = field(default_factory=list)
    answers: dict[str, dict[str, str]] = field(default_factory=dict)
    report_date: str | None = None  # as a date (2018-06-25), when it can be read as one
    report_date_text: str = ""  # as the unit typed it
    # A file no valid identity names a known unit of: the unit its own text names (its 填报单位,
    # else its identity's unit name), unverified, for people to read; never decides anything.
    written_unit: str | None = None


def judge(submission: Submission, spec: FormSpec, key: bytes, period: str, plan: Plan,
          units: dict[str, Unit]) -> Verdict:
    """Identify the file, then check its layout and values against the spec and the plan."""
    identity = submission.identity

    def claimed() -> str | None:
        """For a file whose identity names no unit of ours: the unit its own text names."""
        return written_unit(submission, spec, units).name or (identity.unit_name if identity else "") or None

    if identity is None:
        return Verdict(FileStatus.REJECTED, findings=[finding("not-template")], written_unit=claimed())
    if not identity.verify(key):
        return Verdict(FileStatus.REJECTED, findings=[finding("signature-invalid", unit=identity.unit_name, period=identity.period)],
                       written_unit=claimed())
    verdict = Verdict(FileStatus.RETURNED, identity.unit_code, identity.period)
    if identity.unit_code not in units:
        verdict.status = FileStatus.REJECTED
        verdict.findings.append(finding("unknown-unit", unit_code=identity.unit_code))
        verdict.written_unit = claimed()
        return verdict
    mismatches = [
        finding(code, found=found, expected=expected)
        for code, found, expected in (
            ("wrong-period", identity.period, period),
            ("wrong-plan", identity.plan_version, plan.version),
            ("wrong-form", identity.form_version, spec.form_version),
        )
        if found != expected
    ]
    if mismatches:
        verdict.findings += mismatches
        return verdict
    if submission.sheet is None:
        verdict.findings.append(finding("sheet-missing", sheet=spec.data_sheet))
        return verdict
    if not any(row.texts[c.key] for row in submission.rows for c in spec.input_columns if c.key in row.texts):
        verdict.findings.append(finding("template-blank", submission.sheet))  # one finding, not one per cell
        return verdict
    verdict.findings += check_unit(submission, spec, units[identity.unit_code], units)
    verdict.findings += [finding("column-missing", f"{submission.sheet}!第{submission.header_row}行", label=label)
                         for label in submission.missing_columns]
    verdict.findings += check_header(submission, spec)
    tasks = {task.id: (task, role) for task, role in plan.tasks_of(identity.unit_code)}
    row_findings, verdict.answers = check_rows(submission, spec, identity.task_ids, tasks)
    verdict.findings += row_findings
    report_date = submission.header.get(spec.role("report_date").key)
    if report_date:
        verdict.report_date, verdict.report_date_text = parse_date(report_date.text), report_date.text
    verdict.status = FileStatus.RETURNED if has_errors(verdict.findings) else FileStatus.ACCEPTED
    return verdict


class WrittenUnit(NamedTuple):
    """The 填报单位 as a file has it: the cell (None when the form has no such field, or it is
    blank) and the registry unit it names most exactly (None when none)."""

    cell: Cell | None
    named: Unit | None

    @property
    def name(self) -> str | None:
        """The unit named, as the registry calls it, else the text as written; None when blank."""
        return self.named.name if self.named else self.cell.text if self.cell else None


def written_unit(submission: Submission, spec: FormSpec, units: dict[str, Unit],
                 expected: Unit | None = None) -> WrittenUnit:
    """The 填报单位 a file's header block gives, and the registry unit it names. The ``expected``
    unit's own name or alias (as prefilled) names it without a look at every other unit: none
    can be named more exactly."""
    cell = submission.header.get(spec.role("unit").key) if spec.has_role("unit") else None
    if cell is None or not fold(cell.text):
        return WrittenUnit(None, None)
    if expected is not None and fold(cell.text) in _names(expected):
        return WrittenUnit(cell, expected)
    return WrittenUnit(cell, _named(fold(cell.text), units))


def check_unit(submission: Submission, spec: FormSpec, unit: Unit, units: dict[str, Unit]) -> list[Finding]:
    """The 填报单位 a unit wrote must be the unit the template was issued to: the registry unit it
    names most exactly (its name or an alias, also shortened or within a longer text, as
    ``东湖区人民政府`` for 东湖区; ``东湖区教育局`` is 东湖区教育局, not 东湖区) must be that one."""
    cell, named = written_unit(submission, spec, units, expected=unit)
    if cell is None or named is unit or (named is None and _closeness(unit, fold(cell.text))):
        return []
    other = f"（即单位名录中的{named.name}）" if named and named.name != cell.text else ""
    return [finding("unit-mismatch", cell.location, label=spec.role("unit").label, written=cell.text,
                    other=other, unit=unit.name)]


def _named(written: str, units: dict[str, Unit]) -> Unit | None:
    """The unit whose name or alias matches ``written`` most exactly, if any."""
    best = max(units.values(), key=lambda u: _closeness(u, written))
    return best if _closeness(best, written) else None


def _closeness(unit: Unit, written: str) -> int:
    """How exactly ``written`` (folded) names the unit, 0 when not at all: a name or alias found in
    it counts by its length; one it shortens counts less the more it leaves out."""
    def score(name: str) -> int:
        if name in written:
            return 2 * len(name)
        if len(written) >= 2 and written in name:
            return max(2 * len(written) - len(name), 0)
        return 0
    return max((score(name) for name in _names(unit)), default=0)


@functools.lru_cache(maxsize=None)
def _names(unit: Unit) -> tuple[str, ...]:
    """The unit's name and aliases, folded (width, spaces)."""
    return tuple(name for name in map(fold, (unit.name, *unit.aliases)) if name)


def parse_date(text: str) -> str | None:
    match = _DATE.search(text or "")
    if not match:
        return None
    try:
        return dt.date(*map(int, match.groups())).isoformat()
    except ValueError:
        return None


def check_header(submission: Submission, spec: FormSpec) -> list[Finding]:
    findings = []
    for spec_field in spec.header:
        cell = submission.header.get(spec_field.key)
        if cell is None or not cell.text:
            # A field the spec does not require may be left empty, or be missing from a template
            # issued before the office added it.
            if spec_field.required:
                location = (submission.sheet or "") if cell is None else cell.location
                findings.append(finding("header-field-missing", location, label=spec_field.label))
            continue
        if spec_field.type == "phone" and not _phone_ok(cell.text):
            findings.append(finding("phone-invalid", cell.location, label=spec_field.label, value=cell.text))
        if spec_field.type == "date" and parse_date(cell.text) is None:
            findings.append(finding("date-invalid", cell.location, label=spec_field.label, value=cell.text))
    return findings


def _phone_ok(text: str) -> bool:
    parts = re.split(r"[,;、/]|或", fold(text))
    return all(_PHONE.fullmatch(part) for part in parts if part)


def check_rows(submission: Submission, spec: FormSpec, expected: tuple[str, ...],
               tasks: dict[str, tuple[Task, str]]) -> tuple[list[Finding], dict[str, dict[str, str]]]:
    """Map rows to tasks by ID, keep inserted rows' text under the task above, check values."""
    findings: list[Finding] = []
    answers: dict[str, dict[str, str]] = {}
    seen: dict[str, DataRow] = {}
    inserted: list[tuple[str, DataRow]] = []
    current: str | None = None
    sheet = submission.sheet
    for row in submission.rows:
        if row.task_id in seen:
            findings.append(finding("task-row-duplicate", f"{sheet}!第{row.row}行", task_id=row.task_id,
                                    other_row=seen[row.task_id].row))
            continue
        if not row.task_id:
            target = current or (expected[0] if expected else None)
            if target is None:
                continue
            findings.append(finding("row-inserted", f"{sheet}!第{row.row}行", row=row.row, task_id=target,
                                    remarks=spec.role("remarks").label))
            inserted.append((target, row))
            continue
        if row.task_id not in expected or row.task_id not in tasks:
            findings.append(finding("task-row-unknown", row.cell(spec.column_of_source("id").key).location,
                                    task_id=row.task_id))
            continue
        seen[row.task_id] = row
        current = row.task_id
        task, role = tasks[row.task_id]
        findings += _check_task_text(row, spec, task, role)
        values, row_findings = check_values(row, spec, submission.formulas)
        findings += row_findings
        answers[row.task_id] = values
    for target, row in inserted:
        _append_inserted(answers.setdefault(target, {}), row, spec)
    for task_id in expected:
        if task_id not in seen:
            findings.append(finding("task-row-missing", sheet or "", task_id=task_id))
    return findings, answers


def _append_inserted(values: dict[str, str], row: DataRow, spec: FormSpec) -> None:
    """Text from an inserted row joins the same columns of its task, marked as inserted."""
    for column in spec.input_columns:
        text = row.texts.get(column.key)
        if text:
            values[column.key] = "\n".join(filter(None, [values.get(column.key), f"【插入行{row.row}】{text}"]))
    extra = [text for key, text in row.texts.items() if text and spec.column(key).kind == "task"]
    extra += [c.text for c in row.other]
    if extra:
        remarks = spec.role("remarks").key
        values[remarks] = "\n".join(filter(None, [values.get(remarks), f"【插入行{row.row}】" + " ".join(extra)]))


def _check_task_text(row: DataRow, spec: FormSpec, task: Task, role: str) -> list[Finding]:
    originals = {"category": task.category, "requirement": task.requirement, "role": role,
                 "deadline": task.deadline or ""}
    findings = []
    for column in spec.task_columns:
        if column.source not in COMPARED_SOURCES or column.key not in row.texts:
            continue
        text, original = row.texts[column.key], originals[column.source]
        if text != original and fold(text) != fold(original):
            findings.append(finding("task-text-changed", row.cell(column.key).location, label=column.label,
                                    original=original))
    return findings


def check_values(row: DataRow, spec: FormSpec,
                 formulas: dict[tuple[int, int], tuple[str, bool]] | None = None) -> tuple[dict[str, str], list[Finding]]:
    """The input values of a task row (normalised) and the findings on them. ``formulas``: the
    data sheet's formula cells (their text, and whether a calculated value was saved)."""
    texts = row.texts
    present = [column for column in spec.input_columns if column.key in texts]
    values = {column.key: texts[column.key] for column in present}
    findings: list[Finding] = []
    status = values.get(spec.status_column, "")
    task_id = row.task_id
    for column in present:
        key = column.key
        text = values[key]
        place = row.row - 1, row.columns[key]
        if formulas and place in formulas:
            formula, calculated = formulas[place]
            code = "formula-value" if calculated else "formula-no-value"
            findings.append(finding(code, row.cell(key).location, task_id=task_id, label=column.label,
                                    formula=formula, value=text))
            if not calculated:
                continue
        if not text:
            if column.is_required(values):
                code = "conditional-missing" if column.conditional else "required-missing"
                findings.append(finding(code, row.cell(key).location, task_id=task_id, label=column.label,
                                        status=status))
            continue
        if column.type == "choice" and text not in spec.choices:
            findings.append(finding("status-invalid", row.cell(key).location, task_id=task_id, label=column.label,
                                    value=text, suggestion=_suggest(text, spec.choices),
                                    choices="、".join(spec.choices)))
        elif column.type == "percent":
            number = parse_percent(text)
            if number is None:
                findings.append(finding("percent-invalid", row.cell(key).location, task_id=task_id,
                                        label=column.label, value=text))
            elif not 0 <= number <= 100:
                findings.append(finding("percent-out-of-range", row.cell(key).location, task_id=task_id,
                                        label=column.label, value=text))
            else:
                values[key] = f"{number:g}"
                if status == spec.done and number < 100:
                    findings.append(finding("done-not-100", row.cell(key).location, task_id=task_id,
                                            label=column.label, status=status, value=f"{number:g}"))
        elif column.type == "url" and not _urls_ok(text):
            findings.append(finding("url-invalid", row.cell(key).location, task_id=task_id, label=column.label,
                                    value=text))
    return {k: v for k, v in values.items() if v}, findings


def parse_percent(text: str) -> float | None:
    """``80``, ``80%``, ``80.5`` -> the number; a stored fraction such as 0.8 (typed as 80%) -> 80."""
    folded = fold(text)
    has_sign = folded.endswith("%")
    try:
        number = float(folded.rstrip("%"))
    except ValueError:
        return None
    if not has_sign and 0 < number < 1:
        number *= 100
    return round(number, 2)


def _urls_ok(text: str) -> bool:
    """Every part of ``text`` that looks like an address is a whole one (text with none is fine)."""
    if not _URLISH.search(text):
        return True
    if not _URL_SEPARATORS.search(text):  # one part, as most are: checked without splitting
        return _URL.fullmatch(text) is not None
    return all(_URL.fullmatch(token) for token in _URL_SEPARATORS.split(text) if _URLISH.search(token))


def _suggest(value: str, choices: tuple[str, ...]) -> str:
    folded = fold(value)
    near = [c for c in choices if folded and (folded in c or c in folded)]
    near = near or difflib.get_close_matches(folded, choices, n=1, cutoff=0.3)
    return f"是否应为“{near[0]}”？" if near else ""
