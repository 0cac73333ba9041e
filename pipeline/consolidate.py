"""Consolidation with pandas: per task × unit, per task, per unit, per category, across periods.

Pure functions of the plan, the registry, the form spec and the ledger's rows; no I/O.
Every figure is computed from the 明细 frame, whose rows name the file they came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .findings import STANDING, FileStatus, Worded
from .form import FormSpec
from .lazy import lazy
from .periods import chinese_date, months_between, period_end, previous_period
from .plan import ROLES, Plan
from .text import excerpt, short_title
from .units import Unit

# Loaded when a frame is first made: collect writes 校验结果 and notices with this module's
# rules and words, and does not wait for pandas.
pd = lazy("pandas")

NOT_REPORTED = "未报送"
LEAD = ROLES[0]  # 牵头
DETAIL_SHEET = "明细"  # the report's long-form sheet, where texts cut short here are found whole
TASK_REPLACED = "任务已调整"  # last month the plan had other work under this task ID


class Change(Worded):
    """How a status moved since last month (较上月变化)."""

    FORWARD = "forward", "前进"
    BACK = "back", "后退"
    SAME = "same", "未变"
    MOVED = "moved", "变化"  # between two choices of the same rank
    NOW_REPORTED = "now_reported", "本期新报送"
    NOW_MISSING = "now_missing", "本期未报送"
    STILL_MISSING = "still_missing", "连续未报送"
    REPLACED = "replaced", TASK_REPLACED
# 任务进展 shows every unit's texts up to about this many characters (lagging units first);
# beyond it the rest is counted and left to 明细, so that the row (Excel: at most 409 pt)
# still shows the whole cell.
PROGRESS_BUDGET = 800
TEXT_BUDGET = 350
URGENT_TASKS = 8  # tasks named on page 1; the others are counted and left to their sheet
QUOTE_LIMIT = 40  # characters of a unit's words quoted on page 1


def rules(spec: FormSpec) -> tuple[str, ...]:
    """The rules, stated in the report's notes exactly as applied here, in the form's words."""
    rank = status_rank(spec)
    ladder = "、".join(sorted(spec.choices, key=rank.__getitem__))
    behind = f"“{spec.lagging}”或“{spec.not_started}”"
    return (
        "任务总体状态：有牵头单位的，取已报送牵头单位的状态（多个牵头单位取最落后者）；"
        f"没有牵头单位或牵头单位均未报送的，取已报送责任单位中最落后的状态；都未报送的为“{NOT_REPORTED}”。",
        f"状态由落后到领先依次为：{ladder}。",
        f"逾期：完成时限已过（早于本期最后一天）且总体状态不是“{spec.done}”。",
        f"按时报送：填报表“{spec.role('report_date').label}”不晚于本月报送截止日；未填报送日期的，按系统首次收到文件的日期。",
        "已报送：本期有通过或退回修改的填报表；退回修改的填报表数据不计入进展统计。",
        f"连续滞后/{spec.not_started}：按台账中逐月的任务总体状态，截至本期连续两个月及以上为{behind}；"
        f"较上月变化与上一个自然月比较，上月没有数据的按“{NOT_REPORTED}”；计划更换后同一编号下内容不同的任务记为"
        f"“{TASK_REPLACED}”，不作比较，也不计入以前各期的趋势和连续情况。",
    )


@dataclass
class Consolidation:
    """Everything the consolidated report shows, as frames with documented columns."""

    period: str
    detail: pd.DataFrame  # task × unit: task_id, category, requirement, unit, role, input keys, file
    tasks: pd.DataFrame  # per task: overall status, progress texts, overdue, lagging units
    units: pd.DataFrame  # per expected unit: reported, on time, returned, status counts, findings
    categories: pd.DataFrame  # category × overall status counts
    status_counts: pd.Series  # overall status -> number of tasks, in the form's order
    trend: pd.DataFrame  # collected period × overall status counts of tasks
    changes: pd.DataFrame  # task × unit: status last calendar month and now, and the change
    task_changes: pd.DataFrame  # per task: overall status last calendar month and now, and the Change
    streaks: pd.DataFrame  # tasks lagging or not started for two or more months running
    lagging: pd.DataFrame  # tasks whose overall status is lagging, or overdue
    urgent: list[str]  # the most urgent tasks, in words
    named: list[tuple[str, list[str]]]  # page 1's lists of units by name: (what, names with notes)
    findings: pd.DataFrame
    summary: dict[str, int]

    @property
    def missing(self) -> pd.DataFrame:
        return self.units[~self.units["reported"]]


class UnitState(Worded):
    """How a unit stands for a period: each expected unit is in exactly one state."""

    ON_TIME = "on_time", "按时报送"  # its standing file passed and is dated by the deadline
    LATE = "late", "逾期报送"  # its standing file passed and is dated after the deadline
    RETURNED = "returned", "退回修改"  # its standing file was returned and not yet corrected
    MISSING = "missing", "未报送"  # nothing usable from it this period


def status_order(spec: FormSpec) -> list[str]:
    return [*spec.choices, NOT_REPORTED]


def status_rank(spec: FormSpec) -> dict[str, int]:
    """How advanced a status is: 未启动 0, 进度滞后 1, other choices 2, 已完成 3."""
    rank = {choice: 2 for choice in spec.choices}
    rank.update({spec.not_started: 0, spec.lagging: 1, spec.done: 3})
    return rank


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
    """Per task: the lead's status, else the least advanced reported status (see ``rules``)."""
    rank = status_rank(spec)
    reported = detail[detail[spec.status_column].isin(rank)].copy()
    reported["rank"] = reported[spec.status_column].map(rank)
    reported["is_lead"] = reported["role"] == LEAD
    leads = reported[reported["is_lead"]]
    chosen = pd.concat([leads, reported[~reported["task_id"].isin(leads["task_id"])]])
    least = chosen.sort_values(["task_id", "rank"], kind="stable").groupby("task_id")[spec.status_column].first()
    task_ids = detail["task_id"].drop_duplicates()
    return least.reindex(task_ids).astype(object).fillna(NOT_REPORTED)


def _joined(rows: pd.DataFrame, column: str, spec: FormSpec, budget: int | None = None) -> str:
    """``【单位】text`` lines for the units that wrote in ``column``, lagging and not started
    units first; past ``budget`` characters the rest are counted and left to 明细."""
    if column not in rows:
        return ""
    behind = rows[spec.status_column].isin((spec.lagging, spec.not_started))
    written = pd.concat([rows[behind], rows[~behind]]) if budget else rows
    written = written[written[column] != ""]
    lines, used = [], 0
    for shown, (name, text) in enumerate(zip(written["unit_name"], written[column])):
        if budget and used > budget:
            lines.append(f"……其余 {len(written) - shown} 个单位的内容见“{DETAIL_SHEET}”表")
            break
        lines.append(f"【{name}】{text}")
        used += len(lines[-1])
    return "\n".join(lines)


def _spread(rows: pd.DataFrame, spec: FormSpec) -> str:
    """How a task's units' statuses spread: ``共47个单位：已完成3、序时推进40…``."""
    counts = rows[spec.status_column].value_counts()
    parts = "、".join(f"{word}{counts[word]}" for word in status_order(spec) if word in counts)
    return f"共{len(rows)}个单位：{parts}"


def tasks_frame(detail: pd.DataFrame, spec: FormSpec, status: pd.Series, period: str) -> pd.DataFrame:
    end = period_end(period).isoformat()
    progress = spec.role("progress").key
    records = []
    for task_id, rows in detail.groupby("task_id", sort=False):
        first = rows.iloc[0]
        leads = rows[rows["role"] == LEAD]
        spread = _spread(rows, spec)
        deadline_date = first["deadline_date"]
        overdue = bool(deadline_date) and deadline_date < end and status[task_id] != spec.done
        records.append({
            "task_id": task_id, "category_no": first["category_no"], "category": first["category"],
            "requirement": first["requirement"], "lead": "、".join(leads["unit_name"]),
            "status": status[task_id], "lead_progress": _joined(leads, progress, spec),
            "spread": spread,
            # A task with several units: their progress headed by the spread of their statuses.
            "progress": (spread + "\n" if len(rows) > 1 else "") + _joined(rows, progress, spec, PROGRESS_BUDGET),
            "problems": _joined(rows, spec.role("problems").key, spec, TEXT_BUDGET),
            "next_steps": _joined(rows, spec.role("next_steps").key, spec, TEXT_BUDGET), "deadline": first["deadline"],
            "deadline_date": deadline_date, "overdue": overdue, "units": len(rows),
            "reported": int((rows[spec.status_column] != NOT_REPORTED).sum()),
            "lagging_units": "、".join(rows.loc[rows[spec.status_column] == spec.lagging, "unit_name"]),
        })
    return pd.DataFrame(records)


def reporting_day(report_date: object, first_seen: str, deadline: dt.date) -> tuple[str, bool]:
    """The day a file counts as sent, ISO (its 报送日期, else the day the system first received it),
    and whether that is by ``deadline``: the 按时 rule of ``rules``. ``report_date`` may be missing
    (None, or NaN from the ledger)."""
    day = report_date if isinstance(report_date, str) and report_date else first_seen[:10]
    return day, day <= deadline.isoformat()


def units_frame(detail: pd.DataFrame, spec: FormSpec, units: list[Unit], submissions: pd.DataFrame,
                period: str, deadline: dt.date) -> pd.DataFrame:
    """One row per unit with tasks: reported, on time, returned, status counts, its file's findings."""
    standing = submissions[submissions["status"].isin(STANDING) & (submissions["claimed_period"] == period)]
    standing = standing.drop_duplicates("unit_code", keep="last").set_index("unit_code")
    counts = detail.pivot_table(index="unit_code", columns=spec.status_column, values="task_id",
                                aggfunc="count", fill_value=0).reindex(columns=status_order(spec), fill_value=0)
    records = []
    for unit in units:
        if unit.code not in counts.index:
            continue
        sub = standing.loc[unit.code] if unit.code in standing.index else None
        reported = sub is not None
        date, on_time = reporting_day(sub["report_date"], sub["first_seen"], deadline) if reported else ("", False)
        returned = reported and sub["status"] == FileStatus.RETURNED
        state = (UnitState.MISSING if not reported else UnitState.RETURNED if returned
                 else UnitState.ON_TIME if on_time else UnitState.LATE)
        records.append({
            "unit_code": unit.code, "unit_name": unit.name, "tasks": int(counts.loc[unit.code].sum()),
            "state": state, "reported": reported, "on_time": on_time,
            "report_date": date,
            "file_name": sub["file_name"] if reported else "",
            "errors": int(sub["errors"]) if reported else 0, "warnings": int(sub["warnings"]) if reported else 0,
            "contact": unit.contact, "phone": unit.phone, "email": unit.email,
            **{word: int(n) for word, n in counts.loc[unit.code].items()},
        })
    return pd.DataFrame(records)


def consolidate(plan: Plan, spec: FormSpec, units: list[Unit], period: str, deadline: dt.date,
                submissions: pd.DataFrame, answers: pd.DataFrame, findings: pd.DataFrame,
                collected: list[str], period_tasks: pd.DataFrame | None = None) -> Consolidation:
    """The whole consolidation for ``period`` from the ledger's rows (see ``Ledger.report_inputs``).

    ``collected`` are the periods collect has run for, up to ``period``; ``period_tasks`` the
    tasks of the plan each was collected under (``Ledger.period_tasks``), where known.
    """
    months = months_between(min([*answers["period"], *collected, period]), period)
    replaced = replaced_tasks(plan, period_tasks)
    answers = answers.loc[[t not in replaced.get(p, ()) for p, t in zip(answers["period"], answers["task_id"])]]
    details = {month: detail_frame(plan, spec, answers, month) for month in months}
    history = {month: overall_status(frame, spec).drop(list(replaced.get(month, ())))
               for month, frame in details.items()}
    detail, status = details[period], history[period]
    tasks = tasks_frame(detail, spec, status, period)
    unit_rows = units_frame(detail, spec, units, submissions, period, deadline)
    order = status_order(spec)
    categories = (tasks.pivot_table(index=["category_no", "category"], columns="status", values="task_id",
                                    aggfunc="count", fill_value=0)
                  .reindex(columns=order, fill_value=0).reset_index())
    shown = sorted({*collected, period})
    trend = pd.DataFrame({p: history[p].value_counts().reindex(order, fill_value=0) for p in shown}).T
    trend.index.name = "period"
    previous = previous_period(period)
    changes = _changes(detail, details.get(previous), spec, previous, replaced.get(previous, set()))
    task_changes = _task_changes(history.get(previous), status, spec, replaced.get(previous, set()))
    streaks = _streaks(history, tasks, spec, months)
    lagging = tasks[(tasks["status"] == spec.lagging) | tasks["overdue"]]
    states = unit_rows["state"].value_counts()
    summary = {
        "expected": len(unit_rows), "reported": int(unit_rows["reported"].sum()),
        **{state.value: int(states.get(state, 0)) for state in UnitState}, "tasks": len(tasks),
        "overdue": int(tasks["overdue"].sum()), "lagging": int((tasks["status"] == spec.lagging).sum()),
        "done": int((tasks["status"] == spec.done).sum()),
    }
    result = Consolidation(period, detail, tasks, unit_rows, categories,
                           tasks["status"].value_counts().reindex(order, fill_value=0), trend.reset_index(),
                           changes, task_changes, streaks, lagging, [], named_units(unit_rows, submissions, period),
                           findings, summary)
    result.urgent = urgent_items(result, spec)
    return result


def named_units(units: pd.DataFrame, submissions: pd.DataFrame, period: str) -> list[tuple[str, list[str]]]:
    """Every unit late, returned, rejected or not reporting, by name in registry order, however
    many: a returned unit that sent a corrected file is named 已改正, one that did not 退回未改; a
    unit with only rejected files is named under 拒收, not 未报送."""
    own = submissions[submissions["claimed_period"] == period]
    returned_once = set(own.loc[(own["errors"] > 0) & own["status"].isin((FileStatus.RETURNED, FileStatus.SUPERSEDED)),
                                "unit_code"])
    rejected = set(submissions.loc[submissions["status"] == FileStatus.REJECTED, "unit_code"].dropna())
    by_state = {state: units[units["state"] == state] for state in UnitState}
    late = [f"{u.unit_name}（{chinese_date(u.report_date)}）" for u in by_state[UnitState.LATE].itertuples()]
    sent_back = [f"{u.unit_name}（退回未改）" if u.state == UnitState.RETURNED else f"{u.unit_name}（已改正）"
                 for u in units.itertuples() if u.unit_code in returned_once or u.state == UnitState.RETURNED]
    missing = by_state[UnitState.MISSING]
    refused = missing[missing["unit_code"].isin(rejected)]
    return [(UnitState.LATE.word, late), (UnitState.RETURNED.word, sent_back),
            (FileStatus.REJECTED.word, list(refused["unit_name"])),
            (UnitState.MISSING.word, list(missing.loc[~missing["unit_code"].isin(rejected), "unit_name"]))]


def replaced_tasks(plan: Plan, period_tasks: pd.DataFrame | None) -> dict[str, set[str]]:
    """Per period, the task IDs of ``plan`` under which the plan then had other work: a replaced
    plan may number different work the same, which is never compared (``Ledger.period_tasks``)."""
    if period_tasks is None or period_tasks.empty:
        return {}
    now = period_tasks["task_id"].map({task.id: task.requirement for task in plan.tasks})
    other = period_tasks[now.notna() & (period_tasks["requirement"] != now)]
    return other.groupby("period")["task_id"].agg(set).to_dict()


def _changes(detail: pd.DataFrame, before: pd.DataFrame | None, spec: FormSpec, previous: str,
             replaced: set[str]) -> pd.DataFrame:
    """Per task × unit: status last calendar month (未报送 without data, 任务已调整 when the plan then
    had other work under the task's ID) and now, and the change."""
    frame = detail[["task_id", "unit_code", "unit_name", spec.status_column]].rename(
        columns={spec.status_column: "current"})
    earlier = {} if before is None else dict(zip(zip(before["task_id"], before["unit_code"]),
                                                 before[spec.status_column]))
    frame["previous"] = [TASK_REPLACED if key[0] in replaced else earlier.get(key, NOT_REPORTED)
                         for key in zip(frame["task_id"], frame["unit_code"])]
    rank = status_rank(spec)
    frame["change"] = [change(b, n, rank).word for b, n in zip(frame["previous"], frame["current"])]
    frame["previous_period"] = previous
    return frame.drop(columns="unit_code")


def change(before: str, now: str, rank: dict[str, int]) -> "Change":
    """How a status moved from ``before`` (last month) to ``now``."""
    if before == TASK_REPLACED:
        return Change.REPLACED
    if before == now:
        return Change.STILL_MISSING if now == NOT_REPORTED else Change.SAME
    if before not in rank or now not in rank:
        return Change.NOW_MISSING if now not in rank else Change.NOW_REPORTED
    return Change.FORWARD if rank[now] > rank[before] else Change.BACK if rank[now] < rank[before] else Change.MOVED


def _task_changes(before: pd.Series | None, now: pd.Series, spec: FormSpec, replaced: set[str]) -> pd.DataFrame:
    """Per task: its overall status last calendar month and now, and the change."""
    earlier = {} if before is None else before.to_dict()
    frame = pd.DataFrame({"task_id": now.index, "current": now.values})
    frame["previous"] = [TASK_REPLACED if t in replaced else earlier.get(t, NOT_REPORTED) for t in frame["task_id"]]
    rank = status_rank(spec)
    frame["change"] = [change(b, n, rank) for b, n in zip(frame["previous"], frame["current"])]
    return frame


def _streaks(history: dict[str, pd.Series], tasks: pd.DataFrame, spec: FormSpec,
             months: list[str]) -> pd.DataFrame:
    """Tasks whose overall status is lagging or not started, two or more calendar months running."""
    records = []
    for task_id, now in zip(tasks["task_id"], tasks["status"]):
        if now not in (spec.lagging, spec.not_started):
            continue
        run = 0
        for month in reversed(months):
            if history[month].get(task_id) != now:
                break
            run += 1
        if run >= 2:
            records.append({"task_id": task_id, "status": now, "months": run, "kind": f"连续{now}"})
    return pd.DataFrame(records, columns=["task_id", "status", "months", "kind"])


def urgent_items(c: Consolidation, spec: FormSpec) -> list[str]:
    """The most urgent tasks, in words: overdue, then lagging (longest first); each by a short
    title, its lead unit (or 各责任单位) and the spread of its units' statuses, with the first
    problem a unit gave, shortened at a sentence end. Past URGENT_TASKS the rest are counted."""
    streak = dict(zip(c.streaks["task_id"], c.streaks["months"]))
    overdue = c.tasks[c.tasks["overdue"]].sort_values(["deadline_date", "task_id"], kind="stable")
    lagging = c.tasks[(c.tasks["status"] == spec.lagging) & ~c.tasks["overdue"]].copy()
    lagging["months"] = lagging["task_id"].map(streak).fillna(1)
    lagging = lagging.sort_values(["months", "task_id"], ascending=[False, True], kind="stable")
    items = []
    for t in pd.concat([overdue, lagging]).itertuples():
        what = (f"已过完成时限（{t.deadline}），总体状态为“{t.status}”" if t.overdue else
                f"{'已连续 %d 个月' % t.months if t.months >= 2 else '本月'}{spec.lagging}")
        units = f"；{t.spread.removeprefix('共')}" if t.units > 1 else ""
        problem = t.problems.split("\n")[0] if t.problems else ""
        items.append(f"任务 {t.task_id}“{short_title(t.requirement)}”{what}（牵头：{t.lead or '各责任单位'}{units}）。"
                     + (excerpt(problem, QUOTE_LIMIT) if problem else ""))
    if len(items) > URGENT_TASKS:
        items[URGENT_TASKS:] = [f"另有 {len(items) - URGENT_TASKS} 项逾期或滞后任务，见“滞后及逾期任务”表。"]
    return items


@dataclass(frozen=True)
class UnitFeedback:
    """What one unit's feedback workbook shows. Its figures are of its data used this period (its
    accepted file's); a unit none of whose data is used has none (empty, None), never zeros."""

    unit: dict  # its row of Consolidation.units
    rows: list[dict]  # its 明细 rows
    findings: list[dict]  # the findings on every file it sent this period
    # Per status choice: its tasks and their share of its tasks (None when none of its data is
    # used), and the share among the tasks of every unit whose data is used.
    statuses: list[tuple[str, int | None, float | None, float]]
    progress: float | None  # the mean 完成进度 of its tasks, to one decimal
    average: float | None  # the mean of ``progress`` over the units that have one
    rank: int | None  # its place by ``progress`` among them: 1 the most advanced, equal figures equal places
    ranked: int  # how many units have a place


def feedback_by_unit(c: Consolidation, spec: FormSpec) -> dict[str, UnitFeedback]:
    """Every expected unit's feedback, grouped in one pass over the frames."""
    counts = (c.detail.groupby(["unit_code", spec.status_column]).size().unstack(fill_value=0)
              .reindex(columns=spec.choices, fill_value=0))
    used = counts.sum(axis=1)  # per unit, its tasks with data used
    everyone = counts.sum() / max(int(used.sum()), 1)
    progress = c.detail.groupby("unit_code")[spec.role("percent").key].mean().round(1).dropna()
    places = progress.rank(method="min", ascending=False)
    average = round(float(progress.mean()), 1) if len(progress) else None
    rows = {code: frame.to_dict("records") for code, frame in c.detail.groupby("unit_code", sort=False)}
    findings = {code: frame.to_dict("records") for code, frame in c.findings.groupby("unit_code", sort=False)}
    result = {}
    for unit in c.units.to_dict("records"):
        code = unit["unit_code"]
        mine = int(used.get(code, 0))
        statuses = [(word, int(counts.loc[code, word]) if mine else None,
                     float(counts.loc[code, word] / mine) if mine else None, float(everyone[word]))
                    for word in spec.choices]
        result[code] = UnitFeedback(unit, rows.get(code, []), findings.get(code, []), statuses,
                                    float(progress[code]) if code in progress else None, average,
                                    int(places[code]) if code in places else None, len(places))
    return result


@dataclass(frozen=True)
class Reminder:
    """A unit with tasks and no accepted file for the period: to be reminded (催报)."""

    unit: Unit
    tasks: int
    returned_file: str | None  # its standing file, returned and not yet corrected; None: nothing sent

    @property
    def state(self) -> UnitState:
        return UnitState.RETURNED if self.returned_file else UnitState.MISSING


def reminders(plan: Plan, units: list[Unit], submissions: pd.DataFrame, period: str) -> list[Reminder]:
    """Every unit of the plan (in registry order) whose standing file for ``period`` is not accepted,
    from the ledger's submissions (``Ledger.report_inputs``)."""
    standing = submissions[(submissions["claimed_period"] == period) & submissions["status"].isin(STANDING)]
    accepted = set(standing.loc[standing["status"] == FileStatus.ACCEPTED, "unit_code"])
    returned = dict(zip(standing["unit_code"], standing["file_name"]))
    return [Reminder(unit, len(plan.tasks_of(unit.code)), returned.get(unit.code)) for unit in units
            if plan.tasks_of(unit.code) and unit.code not in accepted]
