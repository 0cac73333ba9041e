"""Consolidation with pandas: per task × unit, per task, per unit, per category, across periods.

Pure functions of the plan, the registry, the form spec and the ledger's rows; no I/O.
Every figure is computed from the 明细 frame, whose rows name the file they came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from .form import FormSpec
from .plan import Plan
from .units import Unit

NOT_REPORTED = "未报送"
STANDING = ("accepted", "returned")

# The rules, stated in the report's notes exactly as applied here.
RULES = (
    "任务总体状态：有牵头单位的，取已报送牵头单位的状态（多个牵头单位取最落后者）；"
    "没有牵头单位或牵头单位均未报送的，取已报送责任单位中最落后的状态；都未报送的为“未报送”。",
    "状态由落后到领先依次为：未启动、进度滞后、序时推进、已完成。",
    "逾期：完成时限已过（早于本期最后一天）且总体状态不是“已完成”。",
    "按时报送：填报表“报送日期”不晚于本月报送截止日；未填报送日期的，按系统首次收到文件的日期。",
    "已报送：本期有通过或退回修改的填报表；退回修改的填报表数据不计入进展统计。",
    "连续滞后/未变：按台账中各期总体状态，截至本期连续两个月及以上为“进度滞后”或状态未变（已完成除外）。",
)


@dataclass
class Consolidation:
    """Everything the consolidated report shows, as frames with documented columns."""

    period: str
    periods: list[str]
    detail: pd.DataFrame  # task × unit: task_id, category, requirement, unit, role, input keys, file
    tasks: pd.DataFrame  # per task: overall status, lead's progress, everyone's progress, overdue
    units: pd.DataFrame  # per expected unit: reported, on time, returned, status counts, findings
    categories: pd.DataFrame  # category × overall status counts
    trend: pd.DataFrame  # period × overall status counts of tasks
    changes: pd.DataFrame  # task × unit: previous and current status
    streaks: pd.DataFrame  # tasks lagging or unchanged for two or more periods running
    lagging: pd.DataFrame  # tasks whose overall status is lagging, or overdue
    findings: pd.DataFrame
    summary: dict[str, int]

    @property
    def missing(self) -> pd.DataFrame:
        return self.units[~self.units["reported"]]


def status_rank(spec: FormSpec) -> dict[str, int]:
    """How advanced a status is: 未启动 0, 进度滞后 1, other choices 2, 已完成 3."""
    rank = {choice: 2 for choice in spec.choices}
    rank.update({spec.not_started: 0, spec.lagging: 1, spec.done: 3})
    return rank


def period_end(period: str) -> dt.date:
    year, month = map(int, period.split("-"))
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def assignments_frame(plan: Plan) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (t.id, t.category_no, t.item_no, t.category, t.requirement, t.deadline or "", t.deadline_date or "",
             a.code, a.name, a.role, seq)
            for t in plan.tasks
            for seq, a in enumerate(t.units)
        ],
        columns=["task_id", "category_no", "item_no", "category", "requirement", "deadline",
                 "deadline_date", "unit_code", "unit_name", "role", "unit_seq"],
    )


def detail_frame(plan: Plan, spec: FormSpec, answers: pd.DataFrame, period: str) -> pd.DataFrame:
    """One row per task × responsible unit with the unit's accepted answer for ``period``."""
    keys = [c.key for c in spec.input_columns]
    own = answers[answers["period"] == period]
    wide = own.pivot_table(index=["unit_code", "task_id"], columns="field", values="value",
                           aggfunc="first").reindex(columns=keys)
    source = own.groupby(["unit_code", "task_id"])[["file_name", "sha256"]].first()
    detail = assignments_frame(plan).join(wide, on=["unit_code", "task_id"]).join(source, on=["unit_code", "task_id"])
    detail[spec.status_column] = detail[spec.status_column].astype(object).fillna(NOT_REPORTED)
    text = [*keys, "file_name", "sha256"]
    detail[text] = detail[text].astype(object).fillna("")  # a column nobody filled is all-NaN float
    for column in spec.input_columns:
        if column.type == "percent":
            detail[column.key] = pd.to_numeric(detail[column.key], errors="coerce")
    return detail.sort_values(["category_no", "item_no", "unit_seq"], kind="stable").reset_index(drop=True)


def overall_status(detail: pd.DataFrame, spec: FormSpec) -> pd.Series:
    """Per task: the lead's status, else the least advanced reported status (see RULES)."""
    rank = status_rank(spec)
    reported = detail[detail[spec.status_column].isin(rank)].copy()
    reported["rank"] = reported[spec.status_column].map(rank)
    reported["is_lead"] = reported["role"] == "牵头"
    leads = reported[reported["is_lead"]]
    chosen = pd.concat([leads, reported[~reported["task_id"].isin(leads["task_id"])]])
    least = chosen.sort_values(["task_id", "rank"], kind="stable").groupby("task_id")[spec.status_column].first()
    task_ids = detail["task_id"].drop_duplicates()
    return least.reindex(task_ids).astype(object).fillna(NOT_REPORTED)


def _joined(rows: pd.DataFrame, column: str) -> str:
    """``【单位】text`` lines for the units that wrote something in ``column``."""
    if column not in rows:
        return ""
    return "\n".join(f"【{name}】{text}" for name, text in zip(rows["unit_name"], rows[column]) if text)


def _status_line(rows: pd.DataFrame, spec: FormSpec) -> str:
    """``共47个单位：已完成3、序时推进40…`` heading a task's many progress texts."""
    counts = rows[spec.status_column].value_counts()
    parts = "、".join(f"{word}{counts[word]}" for word in (*spec.choices, NOT_REPORTED) if word in counts)
    return f"共{len(rows)}个单位：{parts}\n" if len(rows) > 1 else ""


def tasks_frame(detail: pd.DataFrame, spec: FormSpec, period: str) -> pd.DataFrame:
    status = overall_status(detail, spec)
    end = period_end(period).isoformat()
    records = []
    for task_id, rows in detail.groupby("task_id", sort=False):
        first = rows.iloc[0]
        leads = rows[rows["role"] == "牵头"]
        deadline_date = first["deadline_date"]
        overdue = bool(deadline_date) and deadline_date < end and status[task_id] != spec.done
        records.append({
            "task_id": task_id, "category_no": first["category_no"], "category": first["category"],
            "requirement": first["requirement"], "lead": "、".join(leads["unit_name"]),
            "status": status[task_id], "lead_progress": _joined(leads, "progress"),
            "progress": _status_line(rows, spec) + _joined(rows, "progress"), "problems": _joined(rows, "problems"),
            "next_steps": _joined(rows, "next_steps"), "deadline": first["deadline"],
            "deadline_date": deadline_date or "", "overdue": overdue, "units": len(rows),
            "reported": int((rows[spec.status_column] != NOT_REPORTED).sum()),
        })
    return pd.DataFrame(records)


def units_frame(detail: pd.DataFrame, spec: FormSpec, units: list[Unit], submissions: pd.DataFrame,
                findings: pd.DataFrame, period: str, deadline: dt.date) -> pd.DataFrame:
    """One row per unit with tasks: reported, on time, returned, status counts, findings, contact."""
    standing = submissions[submissions["status"].isin(STANDING) & (submissions["claimed_period"] == period)]
    standing = standing.drop_duplicates("unit_code", keep="last").set_index("unit_code")
    counts = detail.pivot_table(index="unit_code", columns=spec.status_column, values="task_id",
                                aggfunc="count", fill_value=0)
    finding_counts = findings.groupby(["unit_code", "severity"]).size().unstack(fill_value=0)
    expected = set(detail["unit_code"])
    records = []
    for unit in units:
        if unit.code not in expected:
            continue
        sub = standing.loc[unit.code] if unit.code in standing.index else None
        reported = sub is not None
        date = ""
        if reported:
            date = sub["report_date"] if isinstance(sub["report_date"], str) else sub["first_seen"][:10]
        record = {
            "unit_code": unit.code, "unit_name": unit.name,
            "tasks": int(counts.loc[unit.code].sum()) if unit.code in counts.index else 0,
            "reported": reported, "on_time": reported and date <= deadline.isoformat(),
            "report_date": date, "returned": reported and sub["status"] == "returned",
            "file_name": sub["file_name"] if reported else "",
            "errors": int(finding_counts.get("error", {}).get(unit.code, 0)),
            "warnings": int(finding_counts.get("warning", {}).get(unit.code, 0)),
            "contact": unit.contact, "phone": unit.phone, "email": unit.email,
        }
        for choice in (*spec.choices, NOT_REPORTED):
            record[choice] = int(counts.loc[unit.code].get(choice, 0)) if unit.code in counts.index else 0
        records.append(record)
    return pd.DataFrame(records)


def consolidate(plan: Plan, spec: FormSpec, units: list[Unit], period: str, deadline: dt.date,
                submissions: pd.DataFrame, answers: pd.DataFrame, findings: pd.DataFrame) -> Consolidation:
    """The whole consolidation for ``period`` from the ledger's rows (see ``Ledger.report_inputs``)."""
    periods = sorted({*answers["period"], period})
    detail = detail_frame(plan, spec, answers, period)
    tasks = tasks_frame(detail, spec, period)
    unit_rows = units_frame(detail, spec, units, submissions, findings, period, deadline)
    order = [*spec.choices, NOT_REPORTED]
    categories = (tasks.pivot_table(index=["category_no", "category"], columns="status", values="task_id",
                                    aggfunc="count", fill_value=0)
                  .reindex(columns=order, fill_value=0).reset_index())
    history = {p: overall_status(detail_frame(plan, spec, answers, p), spec) for p in periods}
    trend = pd.DataFrame({p: s.value_counts().reindex(order, fill_value=0) for p, s in history.items()}).T
    trend.index.name = "period"
    changes = _changes(detail, answers, plan, spec, periods, period)
    streaks = _streaks(history, tasks, spec, periods)
    summary = {
        "expected": len(unit_rows), "reported": int(unit_rows["reported"].sum()),
        "on_time": int(unit_rows["on_time"].sum()), "returned": int(unit_rows["returned"].sum()),
        "missing": int((~unit_rows["reported"]).sum()), "tasks": len(tasks),
        "overdue": int(tasks["overdue"].sum()), "lagging": int((tasks["status"] == spec.lagging).sum()),
        "done": int((tasks["status"] == spec.done).sum()),
    }
    lagging = tasks[(tasks["status"] == spec.lagging) | tasks["overdue"]]
    return Consolidation(period, periods, detail, tasks, unit_rows, categories, trend.reset_index(),
                         changes, streaks, lagging, findings, summary)


def _changes(detail: pd.DataFrame, answers: pd.DataFrame, plan: Plan, spec: FormSpec,
             periods: list[str], period: str) -> pd.DataFrame:
    """Per task × unit: status last period and now, and what changed."""
    earlier = [p for p in periods if p < period]
    if not earlier:
        return pd.DataFrame(columns=["task_id", "unit_name", "previous", "current", "change"])
    previous = detail_frame(plan, spec, answers, earlier[-1]).set_index(["task_id", "unit_code"])[spec.status_column]
    frame = detail[["task_id", "unit_code", "unit_name", spec.status_column]].rename(
        columns={spec.status_column: "current"})
    frame["previous"] = [previous.get((t, u), NOT_REPORTED) for t, u in zip(frame["task_id"], frame["unit_code"])]
    rank = status_rank(spec)

    def change(before: str, now: str) -> str:
        if before == now:
            return "未变"
        if before not in rank or now not in rank:
            return "本期未报送" if now not in rank else "本期新报送"
        return "前进" if rank[now] > rank[before] else "后退" if rank[now] < rank[before] else "变化"

    frame["change"] = [change(b, n) for b, n in zip(frame["previous"], frame["current"])]
    frame["previous_period"] = earlier[-1]
    return frame


def _streaks(history: dict[str, pd.Series], tasks: pd.DataFrame, spec: FormSpec,
             periods: list[str]) -> pd.DataFrame:
    """Tasks whose overall status is lagging, or unchanged and not done, two or more periods running."""
    records = []
    for task_id, now in zip(tasks["task_id"], tasks["status"]):
        if now in (spec.done, NOT_REPORTED):
            continue
        run = 0
        for p in reversed(periods):
            if history[p].get(task_id) != now:
                break
            run += 1
        if run >= 2:
            kind = "连续进度滞后" if now == spec.lagging else "状态连续未变"
            records.append({"task_id": task_id, "status": now, "months": run, "kind": kind})
    return pd.DataFrame(records, columns=["task_id", "status", "months", "kind"])
