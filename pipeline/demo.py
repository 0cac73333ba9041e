"""The demo's simulated month: units filling their templates, late, wrong, twice or not at all."""

from __future__ import annotations

import random
from pathlib import Path

from .fill import Filling, fill_template, make_mistake, sample_answer, sample_header
from .form import FormSpec
from .workspace import fitted_file_name


def sent_name(unit_name: str, period: str, note: str = "") -> str:
    """What a unit calls the file it sends back: its name and the month, not the template's name."""
    return fitted_file_name("", unit_name, f"{period}进展报送{note}.xlsx")


def simulate_returns(template_folder: Path, target: Path, spec: FormSpec, plan, units, period: str,
                     deadline_day: int, seed: int = 2018, previous: dict | None = None,
                     skip: int = 2, mistakes: int = 2, late: int = 1) -> list[Path]:
    """Fill a month's issued templates as units would and drop them into ``target``.

    Most units answer correctly and on time; ``mistakes`` units make typical mistakes (a
    mistyped status; a lagging task without its reason and no 填报人), ``skip`` units send
    nothing, ``late`` units send after the deadline day, one unit sends a corrected file
    a day later, one sends the same file twice, and an Office temp file lands in the folder. ``units`` are (code, name, file name)
    triples. With ``previous`` (unit code -> task ID -> status), statuses move on from last
    month's. Statuses mostly agree across the units of a task, as they do in practice.
    """
    rng = random.Random(seed)
    order = [spec.not_started, spec.lagging, spec.on_track, spec.done]
    base = {task.id: rng.choice([*order, spec.on_track, spec.on_track]) for task in plan.tasks}
    picked = rng.sample(range(len(units)), skip + mistakes + late + 2)
    skipped, wrong, late_units = set(picked[:skip]), picked[skip:skip + mistakes], set(picked[skip + mistakes:-2])
    resend, duplicate = picked[-2:]
    sent = []
    for index, (code, name, file_name) in enumerate(units):
        if index in skipped:
            continue
        day = deadline_day + 3 if index in late_units else rng.randint(10, deadline_day - 1)
        answers = {}
        for task, _role in plan.tasks_of(code):
            status = (previous or {}).get(code, {}).get(task.id) or base[task.id]
            if previous and status in order[:3] and rng.random() < 0.4:
                status = order[order.index(status) + 1]
            elif rng.random() < 0.02:
                status = order[max(order.index(status) - 1, 0)]
            answers[task.id] = sample_answer(rng, spec, status)
        filling = Filling(sample_header(spec, index + 1, f"{period}-{day:02d}"), answers)
        if index in wrong:  # the first mistypes a status; the others leave out a reason and 填报人
            for mistake in ["status-typo"] if index == wrong[0] else ["lagging-without-reason", "no-reporter"]:
                make_mistake(filling, spec, mistake)
        path = target / sent_name(name, period)
        fill_template(template_folder / file_name, path, spec, filling)
        sent.append(path)
        if index in (resend, duplicate):
            again = target / sent_name(name, period, "（再次发送）")
            if index == resend:
                filling.header[spec.role("report_date").label] = f"{period}-{day + 1:02d}"
                next(iter(answers.values()))[spec.role("remarks").label] = "更正：补充了本月的公开网址。"
                fill_template(template_folder / file_name, again, spec, filling)
            else:
                again.write_bytes(path.read_bytes())
            sent.append(again)
    (target / f"~${sent_name(units[0][1], period)}").write_bytes(b"\x00" * 165)
    return sent
