"""A draft unit registry drawn from a plan, for an office that has a plan but no 单位名录 yet.

Every name and group reference the plan's responsibility texts give (read by ``read_raw`` and
``parse_roles``, no registry needed) becomes a row of the registry's own workbook: shorter
spellings that abbreviate a longer name (``市发改委`` ~ ``市发展改革委``) on the longer name's row
as its aliases, a suggested code, the groups each unit seems to belong to, the plan rows that
name it, and on every row what the clerk should check. Checked and completed, it is the
registry ``plan load --units`` reads.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .plan import RawPlan, parse_roles
from .units import GROUP_COLUMNS, GROUP_SHEET, UNIT_COLUMNS, UNIT_SHEET, abbreviates, reference_key
from .xlsxout import Column, Styles, atomic_workbook, write_table

# Codes as the sample registry has them: S001… for the city's bodies, X001… for county governments.
CITY_CODE, COUNTY_CODE = "S", "X"

# A reference to several units rather than one (folded text): 各区县政府, 市有关单位, 重点领域相关单位,
# 各科室, 市规范性文件起草单位; a bracketed note (见附件1) marks one too.
_GROUP_REFERENCE = re.compile(r"各|有关|相关|(?:单位|部门|科室|处室|机构)$")
# A county-level government or zone: 东湖区人民政府, 清溪市人民政府, 高新区管委会 (never the city's own).
_COUNTY_UNIT = re.compile(r"(?!市).+(?:[县区市旗](?:人民)?政府|管委会)")
# A reference to county-level governments: 各县(市、区)人民政府(管委会), 各区县政府, 各镇街.
_COUNTY_REFERENCE = re.compile(r"[县区镇乡]|街道|管委会")
# A reference to the sections of one body (各科室, 各处室), and the names of sections: 办公室, 财务科.
_SECTION_REFERENCE = re.compile(r"科室|处室|股室")
_SECTION_UNIT = re.compile(r".+(?:[科室处股队所]|中心)")

ROWS_COLUMN = Column("计划中的行", 14, "wrap")
CHECK_COLUMN = Column("核对提示", 48, "wrap")
UNIT_WIDTHS = {"code": 10, "name": 20, "aliases": 18, "groups": 36, "contact": 10, "phone": 14, "email": 20}
GROUP_WIDTHS = {"name": 24, "refs": 36}


@dataclass(frozen=True)
class DraftUnit:
    """A row of the draft's 单位名录: a unit the plan names and what to check about it."""

    code: str  # suggested
    name: str  # the longest spelling the plan uses
    aliases: tuple[str, ...]  # the plan's shorter spellings taken for abbreviations of ``name``
    groups: tuple[str, ...]  # the draft's groups it seems to belong to
    rows: tuple[int, ...]  # the plan rows naming it
    check: str


@dataclass(frozen=True)
class DraftGroup:
    """A row of the draft's 分组: a group reference of the plan, and what to check about it."""

    name: str
    refs: tuple[str, ...]  # as the plan writes it, notes kept
    members: int
    rows: tuple[int, ...]
    check: str


@dataclass(frozen=True)
class Draft:
    """A draft registry and the plan it was drawn from (its title, layout and problems)."""

    plan: RawPlan
    units: list[DraftUnit]
    groups: list[DraftGroup]

    @property
    def paired(self) -> int:
        """How many shorter spellings were put on a longer name's row."""
        return sum(len(unit.aliases) for unit in self.units)


def draft_registry(plan: RawPlan) -> Draft:
    """The units and group references ``plan`` names, in the order it first names them, with
    abbreviations paired, codes and groups suggested."""
    rows: dict[str, list[int]] = {}  # every name as written (folded) -> the plan rows naming it
    for task in plan.tasks:
        for text, role in task.responsibility:
            for name, _ in parse_roles(text, role):
                named = rows.setdefault(name, [])
                if task.row not in named:
                    named.append(task.row)
    group_refs: dict[str, list[str]] = {}  # a group (its reference's key) -> its references as written
    names = []
    for name in rows:
        if reference_key(name) != name or _GROUP_REFERENCE.search(name):
            group_refs.setdefault(reference_key(name), []).append(name)
        else:
            names.append(name)
    spellings = _spellings(names)
    groups_of = {name: tuple(group for group in group_refs if _belongs(name, group)) for name in spellings}
    members = Counter(group for groups in groups_of.values() for group in groups)
    numbers = {CITY_CODE: 0, COUNTY_CODE: 0}
    units = []
    for name, shorter in spellings.items():
        prefix = COUNTY_CODE if _COUNTY_UNIT.fullmatch(name) else CITY_CODE
        numbers[prefix] += 1
        units.append(DraftUnit(
            code=f"{prefix}{numbers[prefix]:03d}", name=name, aliases=tuple(shorter),
            groups=groups_of[name],
            rows=tuple(sorted({row for spelling in (name, *shorter) for row in rows[spelling]})),
            check=_unit_check(name, shorter)))
    groups = [DraftGroup(name=group, refs=tuple(refs), members=members[group],
                         rows=tuple(sorted({row for ref in refs for row in rows[ref]})),
                         check=_group_check(group, refs, members[group]))
              for group, refs in group_refs.items()]
    return Draft(plan, units, groups)


def _spellings(names: list[str]) -> dict[str, list[str]]:
    """Each unit's name (its longest spelling) -> its shorter spellings, in the order the plan
    first uses any of them. A spelling that abbreviates several names goes with the closest."""
    longer: dict[str, str] = {}
    for name in names:
        candidates = [other for other in names if abbreviates(name, other)]
        if candidates:
            longer[name] = max(candidates, key=lambda other: difflib.SequenceMatcher(None, name, other).ratio())
    by_name: dict[str, list[str]] = {}
    for name in names:
        full = name
        while full in longer:
            full = longer[full]
        by_name.setdefault(full, [])
        if full != name:
            by_name[full].append(name)
    return by_name


def _belongs(name: str, group: str) -> bool:
    """Whether a unit seems to be of a group, by their names: a county government of a reference to
    the counties, a section of a reference to the sections, any other body of any other reference
    (only the city's, 市…, when the reference is the city's)."""
    if _COUNTY_REFERENCE.search(group):
        return bool(_COUNTY_UNIT.fullmatch(name))
    if _COUNTY_UNIT.fullmatch(name):
        return False
    if _SECTION_REFERENCE.search(group):
        return bool(_SECTION_UNIT.fullmatch(name))
    return name.startswith("市") or not group.removeprefix("各").startswith("市")


def _unit_check(name: str, shorter: list[str]) -> str:
    if not shorter:
        return ""
    spelled = "、".join(f"“{alias}”" for alias in shorter)
    return (f"计划中的{spelled}看作“{name}”的简称，已写作别名。请确认是同一单位；不是的，把它移到新的一行，"
            "填上单位编码。")


def _group_check(group: str, refs: list[str], members: int) -> str:
    if not members:
        return (f"计划中没有点名属于该分组的单位。请在“{UNIT_SHEET}”表末尾为它留出的行中逐个添加它的成员单位，"
                f"在其“分组”列写上“{group}”。")
    annex = "，计划写明见附件的，按附件核对" if any(reference_key(ref) != ref for ref in refs) else ""
    return (f"成员是按单位名称推测的 {members} 个单位（见“{UNIT_SHEET}”的“分组”列）。请核对{annex}："
            f"删去不属于该分组的，补上计划中没有点名的成员单位。")


def write_draft(draft: Draft, path: Path, created: dt.datetime) -> None:
    """The draft as a registry workbook: the reader's sheets and columns, then the plan rows and
    what to check. Under the units, a row to begin the members of each group the plan names none
    of: its 分组 filled in, its code and name left for the clerk (the reader passes over a row
    without either)."""
    unit_columns = [Column(UNIT_COLUMNS[key], width, "wrap") for key, width in UNIT_WIDTHS.items()]
    group_columns = [Column(GROUP_COLUMNS[key], width, "wrap") for key, width in GROUP_WIDTHS.items()]
    units = [[unit.code, unit.name, "、".join(unit.aliases), "、".join(unit.groups), "", "", "", _rows(unit.rows),
              unit.check] for unit in draft.units]
    units += [["", "", "", group.name, "", "", "", "", f"在这里填写分组“{group.name}”的成员单位，一行一个，"
               "写上单位编码和单位名称，“分组”列照此填写；行不够时插入新行。"]
              for group in draft.groups if not group.members]
    with atomic_workbook(path, created) as workbook:
        styles = Styles(workbook)
        write_table(workbook.add_worksheet(UNIT_SHEET), styles, [*unit_columns, ROWS_COLUMN, CHECK_COLUMN], units)
        write_table(workbook.add_worksheet(GROUP_SHEET), styles, [*group_columns, ROWS_COLUMN, CHECK_COLUMN], [
            [group.name, "、".join(group.refs), _rows(group.rows), group.check] for group in draft.groups])


def _rows(rows: tuple[int, ...]) -> str:
    return "、".join(map(str, rows))
